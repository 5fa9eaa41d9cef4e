#!/usr/bin/env bash
# Deterministic cost of the whole summarize pipeline: instructions per line
# for each log kind, counted by valgrind's callgrind (repeatable whatever
# else the machine does, unlike wall time on this host).
#   bash benches/instructions.sh            # 20,000 lines per kind
#   LINES=5000 bash benches/instructions.sh
#   BIN=/tmp/old/aggmetrics KINDS="pipeline_latency" bash benches/instructions.sh
#
# Two runs per kind: the first quarter of the log and the whole log. The
# difference over the lines between them is the marginal cost of a line,
# the figure that governs a run over gigabytes; the rest of the short run
# is the fixed cost of the run (start-up, building the report from the
# histograms), which does not grow with the log. Both are printed.
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
QUARTER=$((LINES / 4))
count() { valgrind --tool=callgrind --callgrind-out-file="$1" "$BIN" summarize "${@:2}" -j1 -q -f json -o /dev/null 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}'; }
empty=$OUT/empty; mkdir -p "$empty"
base=$(count /dev/null "$empty")
for k in ${KINDS:-pipeline_latency fallback_metrics partial_trust_risk shadow_router}; do
  short=$OUT/short-$QUARTER/$k.jsonl
  mkdir -p "$(dirname "$short")"
  head -n "$QUARTER" "$DATA/$k.jsonl" > "$short"
  lines=$(wc -l < "$DATA/$k.jsonl")
  ir_short=$(count /dev/null "$short")
  ir=$(count "$OUT/$k.out" "$DATA/$k.jsonl")
  per=$(( (ir - ir_short) / (lines - QUARTER) ))
  echo "$k: $per instructions/line (fixed cost of the run $(( (ir_short - base - per * QUARTER) / 1000 ))k; whole-run average $(( (ir - base) / lines )))"
done
