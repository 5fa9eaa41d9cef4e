#!/usr/bin/env bash
# Instructions a line of the parse alone: aggmetrics' kind parsers against
# serde_json, simd-json and sonic-rs deserialising the same fields into
# typed structs (benches/parser-peers). Counted by callgrind, as
# benches/instructions.sh counts the whole pipeline: a run over a quarter
# of the log and one over the whole log; the difference over the lines
# between them is the marginal cost of a line.
#   bash benches/parser_peers.sh
#   LINES=5000 KINDS="latency shadow" bash benches/parser_peers.sh
# Needs valgrind and the crates.io registry (the peers are not
# dependencies of aggmetrics; this crate has its own lockfile and target).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-20000}
OUT=target/callgrind
mkdir -p "$OUT"
cargo build --release --quiet --example gen_logs
DATA=$OUT/data-$LINES
[ -f "$DATA/.complete-shadow" ] || { ./target/release/examples/gen_logs "$DATA" --records "$LINES" --seed 42 --shadow; touch "$DATA/.complete-shadow"; }
(cd benches/parser-peers && cargo build --release --quiet)
BIN=benches/parser-peers/target/release/parser-peers
QUARTER=$((LINES / 4))
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$@" 2>&1 | awk '/refs:/ {gsub(",", "", $4); print $4}'; }
stem() { case $1 in latency) echo pipeline_latency ;; fallback) echo fallback_metrics ;; risk) echo partial_trust_risk ;; shadow) echo shadow_router ;; esac; }
printf '%-9s %8s %11s %10s %9s  (instructions a line)\n' kind ours serde_json simd_json sonic_rs
for k in ${KINDS:-latency fallback risk shadow}; do
  full=$DATA/$(stem "$k").jsonl
  short=$OUT/short-$QUARTER/$(stem "$k").jsonl
  mkdir -p "$(dirname "$short")"
  head -n "$QUARTER" "$full" > "$short"
  lines=$(wc -l < "$full")
  # The marginal cost of reading and splitting a line, taken off each.
  base=$(( $(count none "$k" "$full") - $(count none "$k" "$short") ))
  row=()
  for p in ours serde_json simd_json sonic_rs; do
    a=$(count "$p" "$k" "$short")
    b=$(count "$p" "$k" "$full")
    row+=("$(( (b - a - base) / (lines - QUARTER) ))")
  done
  printf '%-9s %8s %11s %10s %9s\n' "$k" "${row[@]}"
done
