#!/usr/bin/env bash
# Deterministic cost of the whole summarize pipeline: instructions per line
# for each log kind, counted by valgrind's callgrind (repeatable whatever
# else the machine does, unlike wall time on this host).
#   bash benches/instructions.sh            # 20,000 lines per kind
#   LINES=5000 bash benches/instructions.sh
#   BIN=/tmp/old/aggmetrics KINDS="pipeline_latency" bash benches/instructions.sh
# Needs valgrind (apt-get install valgrind). Profiles are left in
# target/callgrind/ for callgrind_annotate.
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-20000}
OUT=target/callgrind
mkdir -p "$OUT"
cargo build --release --quiet --bin aggmetrics --example gen_logs
DATA=$OUT/data-$LINES
# With --shadow the three older logs are byte for byte what they were.
[ -f "$DATA/.complete-shadow" ] || { ./target/release/examples/gen_logs "$DATA" --records "$LINES" --seed 42 --shadow; touch "$DATA/.complete-shadow"; }
BIN=${BIN:-./target/release/aggmetrics}
empty=$OUT/empty; mkdir -p "$empty"
base=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" summarize "$empty" -j1 -q -f json -o /dev/null 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
for k in ${KINDS:-pipeline_latency fallback_metrics partial_trust_risk shadow_router}; do
  ir=$(valgrind --tool=callgrind --callgrind-out-file="$OUT/$k.out" "$BIN" summarize "$DATA/$k.jsonl" -j1 -q -f json -o /dev/null 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}')
  echo "$k: $(( (ir - base) / LINES )) instructions/line"
done
