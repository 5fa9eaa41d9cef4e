#!/usr/bin/env bash
# `aggmetrics stats` vs DuckDB (typed read_ndjson, GROUP BY, quantile_cont)
# and Miller 6 on a generic nested JSONL log (examples/gen_access.rs).
#   bash benches/stats_peer.sh                 # 1,600,000 records (~620 MB), 5 runs
#   RECORDS=400000 RUNS=3 bash benches/stats_peer.sh
#   FILTER=1 bash benches/stats_peer.sh        # with --where and --max-groups 5
#   MILLER=0 bash benches/stats_peer.sh        # DuckDB only
# Installs duckdb from PyPI into a virtualenv under target/ and, when
# missing and run as root, Debian's miller (never used by tests).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-1600000}
RUNS=${RUNS:-5}
DATA=bench-data/access-$RECORDS.jsonl
cargo build --release --quiet --bin aggmetrics --example gen_access
mkdir -p bench-data
[ -f "$DATA" ] || ./target/release/examples/gen_access "$DATA" --records "$RECORDS" --seed 42
VENV=target/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet duckdb
fi
if ! command -v mlr >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -q miller >/dev/null || echo "miller not installed: compared with DuckDB only"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$VENV/bin/python" benches/stats_peer.py --data "$DATA" --bin target/release/aggmetrics --runs "$RUNS" --json target/stats-peer-bench.json ${FILTER:+--filter}
