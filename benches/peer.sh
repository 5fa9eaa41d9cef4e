#!/usr/bin/env bash
# End-to-end peer benchmark: aggmetrics summarize vs DuckDB on the same logs.
#   bash benches/peer.sh            # 2,000,000 records per log, 5 runs
#   RECORDS=500000 RUNS=3 bash benches/peer.sh
# Installs duckdb from PyPI into a virtualenv under target/ (never used by tests).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-2000000}
RUNS=${RUNS:-5}
DATA=${DATA:-bench-data/r$RECORDS}
SMALL=bench-data/r$((RECORDS / 4))

cargo build --release --quiet --bin aggmetrics --example gen_logs
for d in "$DATA:$RECORDS" "$SMALL:$((RECORDS / 4))"; do
  dir=${d%%:*}; n=${d##*:}
  if [ ! -f "$dir/.complete" ]; then
    ./target/release/examples/gen_logs "$dir" --records "$n" --seed 42
    touch "$dir/.complete"
  fi
done

VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$VENV/bin/python" benches/peer.py --data "$DATA" --small "$SMALL" --bin target/release/aggmetrics --runs "$RUNS" --json target/peer-bench.json
