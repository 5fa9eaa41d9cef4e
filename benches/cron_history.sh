#!/usr/bin/env bash
# The `*/5` cron run over 14 days of rotated, gzipped history (issue 33):
# `summarize DIR --since TODAY` with the rotated files passed over (the
# default) against `--all-files` (every file read, as before), and against
# a folder of the live files alone. Medians of RUNS runs.
#   bash benches/cron_history.sh            # 100,000 records a kind a day
#   RECORDS=20000 RUNS=3 bash benches/cron_history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-100000}
RUNS=${RUNS:-5}
DAYS=14
cargo build --release --quiet --bin aggmetrics --example gen_logs
BIN=target/release/aggmetrics
GEN=target/release/examples/gen_logs
W=bench-data/cron-history-$RECORDS
TODAY=2026-03-01
if [ ! -f "$W/done" ]; then
  rm -rf "$W" && mkdir -p "$W/logs" "$W/live"
  for d in $(seq 1 $DAYS); do
    day=$(date -u -d "$TODAY - $d days" +%F)
    stamp=$(date -u -d "$day" +%Y%m%d)
    "$GEN" "$W/day" --records "$RECORDS" --seed "$d" --start "$day" --days 1 >/dev/null
    for f in "$W"/day/*.jsonl; do
      b=$(basename "$f")
      gzip -c "$f" > "$W/logs/$b-$stamp.gz"
      touch -d "$day 23:59:59 UTC" "$W/logs/$b-$stamp.gz"
    done
    rm -rf "$W/day"
  done
  "$GEN" "$W/live" --records "$RECORDS" --seed 99 --start "$TODAY" --days 1 >/dev/null
  cp "$W"/live/*.jsonl "$W/logs/"
  touch "$W/done"
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "history: $(ls "$W/logs" | wc -l) files, $(du -sh "$W/logs" | cut -f1) on disk, $(zcat -f "$W"/logs/* | wc -c) bytes unpacked"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {
  for _ in $(seq "$RUNS"); do
    s=$(date +%s.%N); "$BIN" summarize "$@" -q -f json -o /dev/null; e=$(date +%s.%N)
    echo "$e - $s" | bc
  done | median
}
# A window an hour long at midday, as `--since 1h` at 13:00 asks.
since=(--since "${TODAY}T12:00:00Z" --until "${TODAY}T13:00:00Z")
a=$(run "$W/logs" "${since[@]}" --all-files)
p=$(run "$W/logs" "${since[@]}")
l=$(run "$W/live" "${since[@]}")
echo "every file read (--all-files): $a s"
echo "rotated files passed over:     $p s"
echo "the live files alone:          $l s"
echo "--all-files / passed over: $(echo "scale=1; $a / $p" | bc)x"
# The two reports' figures are the same.
"$BIN" summarize "$W/logs" "${since[@]}" -q -f json | python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("meta"); print(json.dumps(d, sort_keys=True))' > "$W/p.json"
"$BIN" summarize "$W/logs" "${since[@]}" --all-files -q -f json | python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("meta"); print(json.dumps(d, sort_keys=True))' > "$W/a.json"
cmp -s "$W/p.json" "$W/a.json" && echo "figures: identical" || { echo "figures differ"; exit 1; }
