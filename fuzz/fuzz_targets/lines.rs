//! The line parser and tokenizer on any bytes: never a panic, and every
//! read path (whole, streamed in pieces, positioned ranges) gives the same
//! figures. The first two bytes choose the log kind, the mode, the line
//! cap and the cut sizes.
#![no_main]

use std::sync::Arc;

use aggmetrics::agg::{Acc, Config, Mode};
use aggmetrics::parse::LogKind;
use aggmetrics::read::{self, lines, ReadResult};
use aggmetrics::report::Report;
use libfuzzer_sys::fuzz_target;

fn report(acc: Acc, kind: LogKind, n: u64) -> String {
    let r = ReadResult::of_memory(acc, &[(kind, n)]);
    let st = r.acc.files[0];
    assert_eq!(st.lines, st.records + st.skipped + st.blank, "every token is counted once");
    serde_json::to_string(&Report::build(&r, &[50.0, 99.0, 99.9])).unwrap()
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 2 {
        return;
    }
    let (a, b) = (input[0], input[1]);
    let data = &input[2..];
    let kind = [LogKind::Latency, LogKind::Fallback, LogKind::Risk][(a % 3) as usize];
    let mode = if a & 4 == 0 { Mode::Hdr { sigfig: 3 } } else { Mode::Exact };
    let max = [16, 200, 4 << 20][((a >> 3) % 3) as usize];
    let cfg = Config::new(mode, max);
    let chunk = (b % 32) as u64 + 1;
    let piece = (b / 32) as usize + 1;

    let mut whole = Acc::new(cfg, 1);
    lines::feed(&mut whole, kind, 0, 0, data);
    let whole = report(whole, kind, data.len() as u64);

    let mut streamed = Acc::new(cfg, 1);
    let mut l = lines::Lines::new(kind, 0, 0);
    for p in data.chunks(piece) {
        l.push(&mut streamed, p, u64::MAX);
    }
    l.finish(&mut streamed);
    assert_eq!(whole, report(streamed, kind, data.len() as u64));

    let mut ranged = Acc::new(cfg, 1);
    read::feed_ranges(&mut ranged, kind, 0, Arc::from(data), chunk, piece);
    assert_eq!(whole, report(ranged, kind, data.len() as u64));
});
