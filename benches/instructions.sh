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
# The same lines followed by `aggmetrics serve` (issue 33): it reads what
# is in the folder at start in its first poll (the follower's Lines, minute
# buckets), answers, and on SIGTERM reads once more and exits. Per line,
# the difference between the whole log and its first quarter, as above.
follow() {
  local err=$OUT/serve.err
  : > "$err"
  valgrind --tool=callgrind --callgrind-out-file="$1" "$BIN" serve "$2" --listen 127.0.0.1:0 --interval-ms 60000 2> "$err" &
  local pid=$!
  until grep -q "listening on" "$err"; do sleep 0.2; done
  kill -TERM "$pid"
  wait "$pid" || true
  awk '/refs:/ {gsub(",", "", $4); print $4}' "$err"
}
if [ "${FOLLOW:-1}" = 1 ] && [[ " ${KINDS:-pipeline_latency} " == *" pipeline_latency "* ]]; then
  k=pipeline_latency
  mkdir -p "$OUT/follow-short" "$OUT/follow-whole"
  head -n "$QUARTER" "$DATA/$k.jsonl" > "$OUT/follow-short/$k.jsonl"
  cp "$DATA/$k.jsonl" "$OUT/follow-whole/$k.jsonl"
  lines=$(wc -l < "$DATA/$k.jsonl")
  ir_short=$(follow /dev/null "$OUT/follow-short")
  ir=$(follow "$OUT/serve-$k.out" "$OUT/follow-whole")
  echo "$k followed by serve: $(( (ir - ir_short) / (lines - QUARTER) )) instructions/line (the generated log's $(( lines * 60 / ( $(date -d "$(tail -n1 "$DATA/$k.jsonl" | grep -o '"timestamp": "[^"]*' | cut -d'"' -f4)" +%s) - $(date -d "$(head -n1 "$DATA/$k.jsonl" | grep -o '"timestamp": "[^"]*' | cut -d'"' -f4)" +%s) + 1) )) records a minute)"
  # The same lines closer together: 60 ms apart (1,000 a minute, a busy
  # service: a new minute's figures are made once per 1,000 lines) and
  # 0.2 ms apart (5,000 lines a second, the rate issue 33 states its cost
  # at: per-minute work vanishes, what is left is the dated path).
  for gap in 60000 200; do
    for part in short whole; do
      python3 - "$OUT/follow-$part/$k.jsonl" "$DATA/$k.jsonl" "$gap" <<'PY'
import re, sys, datetime
path, source, gap = sys.argv[1], sys.argv[2], int(sys.argv[3])
base = datetime.datetime(2026, 2, 10, 12, tzinfo=datetime.timezone.utc)
with open(path) as f:
    n = sum(1 for _ in f)
with open(source) as f:
    lines = f.readlines()[:n]
with open(path, "w") as f:
    for i, line in enumerate(lines):
        t = (base + datetime.timedelta(microseconds=gap * i)).isoformat()
        f.write(re.sub(r'"timestamp": "[^"]*"', '"timestamp": "%s"' % t, line, count=1))
PY
    done
    ir_short=$(follow /dev/null "$OUT/follow-short")
    ir=$(follow "$OUT/serve-$gap-$k.out" "$OUT/follow-whole")
    echo "$k followed by serve, $(( 60000000 / gap )) records a minute: $(( (ir - ir_short) / (lines - QUARTER) )) instructions/line"
  done
fi
