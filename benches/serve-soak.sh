#!/usr/bin/env bash
# Soak of `aggmetrics serve`: a writer appends LINES latency lines as fast
# as it can (RATE records a second of log time, so that the lines span more
# minutes than the day serve keeps), serve follows, and every 2 s the
# records it counted, its heap (aggmetrics_serve_heap_bytes, counted by its
# allocator), its sub-windows and its resident memory are printed, until it
# has counted every line. Heap flat once the day of minutes is full is the
# claim this checks (docs/performance.md).
#   bash benches/serve-soak.sh                  # 10,000,000 lines
#   LINES=2000000 RATE=20 bash benches/serve-soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-10000000}
RATE=${RATE:-50}
PORT=${PORT:-19299}
cargo build --release --quiet --bin aggmetrics
BIN=./target/release/aggmetrics
DIR=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$DIR"' EXIT
mkdir "$DIR/logs"
: > "$DIR/logs/pipeline_latency.jsonl"
"$BIN" serve "$DIR/logs" --listen "127.0.0.1:$PORT" 2> "$DIR/serve.err" &
serve=$!
until curl -sf "http://127.0.0.1:$PORT/healthz" > /dev/null; do sleep 0.2; done
python3 - "$DIR/logs/pipeline_latency.jsonl" "$LINES" "$RATE" <<'PY' &
import sys, datetime
path, n, rate = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base = datetime.datetime(2026, 2, 10, tzinfo=datetime.timezone.utc)
step = datetime.timedelta(microseconds=1_000_000 // rate)
with open(path, "a", buffering=1 << 20) as f:
    t = base
    for i in range(n):
        f.write('{"timestamp": "%s", "command_id": "c%d", "total_ms": %.3f, "steps": {"llm": %.3f}, "llm_enabled": true}\n'
                % (t.isoformat(), i, 20 + (i * 7919) % 4000 / 3.0, 5 + (i * 104729) % 2000 / 7.0))
        t += step
PY
start=$(date +%s.%N)
printf '%8s %12s %12s %8s %10s\n' seconds records heap_MB minutes rss_MB
while :; do
  sleep 2
  page=$(curl -sf "http://127.0.0.1:$PORT/metrics" || true)
  get() { awk -v n="$1" '$1 == n {print $2}' <<< "$page"; }
  records=$(awk '$1 ~ /^aggmetrics_latency_records_total[{]/ {s += $2} END {print s + 0}' <<< "$page")
  heap=$(get aggmetrics_serve_heap_bytes)
  minutes=$(get aggmetrics_serve_sub_windows)
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve/status")
  printf '%8.1f %12s %12.1f %8s %10.1f\n' "$(echo "$(date +%s.%N) - $start" | bc)" "${records:-0}" "$(echo "${heap:-0} / 1000000" | bc -l)" "${minutes:-0}" "$(echo "$rss / 1024" | bc -l)"
  [ "${records:-0}" -ge "$LINES" ] && break
done
echo "serve's CPU: $(awk '{print ($14 + $15) / 100}' "/proc/$serve/stat") s (ps: $(ps -o cputime= -p "$serve"))"
kill -TERM "$serve"
wait "$serve" || true
