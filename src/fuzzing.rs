//! The properties the fuzz targets (fuzz/) check, as functions, so that
//! tests/inputs/fuzz_regressions.rs replays every input the fuzzers ever found
//! against exactly the same checks. Each panics if a property fails.

use std::sync::{Arc, OnceLock};

use crate::agg::{Acc, Config, Mode};
use crate::kinds::jsonl::{JsonlOptions, Spec};
use crate::kinds::{LogKind, Options};
use crate::read::{self, lines, ReadResult};
use crate::report::Report;
use crate::state;

fn report(acc: Acc, kind: LogKind, n: u64) -> String {
    let r = ReadResult::of_memory(acc, &[(kind, n)]);
    let st = r.acc.files[0];
    assert_eq!(
        st.lines,
        st.records + st.skipped + st.blank,
        "every token is counted once"
    );
    let mut out = serde_json::to_string(&Report::build(&r, &[50.0, 99.0, 99.9]))
        .expect("a report serialises");
    // Where damaged lines were charged: each bucket, outside, undated.
    for (start, m) in &r.acc.buckets {
        out.push_str(&format!(
            "\nbucket {start}: {} records, skipped {:?}",
            m.kinds.records(),
            m.skipped.by_reason
        ));
    }
    out.push_str(&format!(
        "\noutside {} + {} damaged; undated {:?}",
        r.acc.outside_window, r.acc.outside_skipped, r.acc.undated.by_reason
    ));
    out
}

/// The tokenizer and line parsers on any bytes: no panic, and whole,
/// streamed and ranged reads give one report. The first two bytes choose
/// the kind, the mode, the line cap and the cut sizes.
pub fn lines(input: &[u8]) {
    if input.len() < 2 {
        return;
    }
    let (a, b) = (input[0], input[1]);
    let data = &input[2..];
    let kind = LogKind::ALL[a as usize % LogKind::ALL.len()].0;
    let mode = if a & 4 == 0 {
        Mode::Hdr { sigfig: 3 }
    } else {
        Mode::Exact
    };
    let max = [16, 200, 4 << 20][((a >> 3) % 3) as usize];
    let mut cfg = Config::new(mode, max);
    let activity = a & 64 != 0;
    let opts = |jsonl| {
        let mut o = Options {
            jsonl,
            ..Default::default()
        };
        o.risk.activity = activity;
        Arc::new(o)
    };
    // Buckets date damaged lines by the records around them.
    if a & 128 != 0 {
        cfg.bucket = Some(crate::agg::Bucket::Hour);
    }
    let chunk = (b % 32) as u64 + 1;
    let piece = (b / 32) as usize + 1;
    every_read_path_agrees_with(cfg, &opts(JsonlOptions::None), kind, data, chunk, piece);
    // Any JSONL log (`stats`, user kinds): without a spec the lines are
    // only validated; read them through each spec too, so the path walk,
    // `*` names, repeated keys and the groups are fuzzed as well.
    if kind == LogKind::Jsonl {
        for spec in specs() {
            let o = opts(JsonlOptions::Stats(Box::new(spec.clone())));
            every_read_path_agrees_with(cfg, &o, kind, data, chunk, piece);
        }
    }
}

/// The specs `lines` reads the generic kind with: nested paths, `*` at
/// every depth up to the most allowed, one field in several roles, a
/// nested time field and one that is also counted.
fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        [
            (v(&["a", "b.c"]), v(&["k"]), v(&["c"]), "timestamp"),
            (v(&["*", "a.*.b"]), v(&["a", "x.y"]), v(&["a", "k"]), "t.ts"),
            (v(&["*.*.*.*", "a"]), v(&[]), v(&["b"]), "b"),
        ]
        .iter()
        .map(|(values, by, count, time)| Spec::new(values, by, count, time).expect("a valid spec"))
        .collect()
    })
}

/// Whole, by the plain reference rule, streamed in `piece`-byte pieces,
/// and cut into `chunk`-byte ranges read `piece` bytes at a time: one
/// report, with every token counted once. Panics otherwise.
pub fn every_read_path_agrees(cfg: Config, kind: LogKind, data: &[u8], chunk: u64, piece: usize) {
    every_read_path_agrees_with(cfg, &Default::default(), kind, data, chunk, piece)
}

/// [`every_read_path_agrees`] with the kinds reading `opts`.
pub fn every_read_path_agrees_with(
    cfg: Config,
    opts: &Arc<Options>,
    kind: LogKind,
    data: &[u8],
    chunk: u64,
    piece: usize,
) {
    let n = data.len() as u64;
    let new = || Acc::with_options(cfg, opts.clone(), 1);
    let mut whole = new();
    lines::feed(&mut whole, kind, 0, 0, data);
    let whole = report(whole, kind, n);

    let mut plain = new();
    lines::feed_reference(&mut plain, kind, 0, data);
    assert_eq!(whole, report(plain, kind, n), "the plain token rule");

    let mut streamed = new();
    let mut l = lines::Lines::new(kind, 0, 0);
    for p in data.chunks(piece.max(1)) {
        l.push(&mut streamed, p, u64::MAX);
    }
    l.finish(&mut streamed);
    assert_eq!(
        whole,
        report(streamed, kind, n),
        "streamed in {piece}-byte pieces"
    );

    let mut ranged = new();
    read::feed_ranges(&mut ranged, kind, 0, Arc::from(data), chunk, piece);
    assert_eq!(
        whole,
        report(ranged, kind, n),
        "ranges of {chunk}, pieces of {piece}"
    );
}

/// The state decoder on any bytes: a typed error or a state. A state that
/// decodes reports, survives encode/decode unchanged, and merges with
/// itself.
pub fn state(data: &[u8]) {
    let Ok(one) = state::decode(data) else {
        return;
    };
    let ps = [50.0, 99.0];
    let before = serde_json::to_string(&Report::build(&one.read, &ps)).expect("serialises");
    let again =
        state::decode(&state::encode(&one.read, &one.covers)).expect("an encoded state decodes");
    let after = serde_json::to_string(&Report::build(&again.read, &ps)).expect("serialises");
    assert_eq!(before, after, "encode/decode round trip");
    let two = state::decode(data).expect("decoded once already");
    if let Ok(m) = state::merge(vec![one, two]) {
        let _ = Report::build(&m.read, &ps);
        let _ = state::encode(&m.read, &m.covers);
    }
}

/// Two states read through `merge`, as `aggmetrics merge a b` reads them:
/// the first two bytes say where the first state ends. Each must decode
/// to a typed error or a state (its figures checked on the way in); two
/// states merge into a typed error or a report, the same figures in
/// either order, and the merged state encodes and decodes unchanged.
pub fn merge(data: &[u8]) {
    let Some((cut, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let cut = (u16::from_le_bytes(*cut) as usize).min(rest.len());
    let (a, b) = rest.split_at(cut);
    let (Ok(x), Ok(y)) = (state::decode(a), state::decode(b)) else {
        return;
    };
    let ps = [50.0, 99.0];
    let figures = |r: &ReadResult| {
        let mut v = serde_json::to_value(Report::build(r, &ps)).expect("serialises");
        // What names inputs follows their order: the inputs themselves
        // and the first damaged lines' locations.
        if let Some(o) = v.as_object_mut() {
            o.remove("meta");
            if let Some(s) = o.get_mut("skipped").and_then(|s| s.as_object_mut()) {
                s.remove("locations");
            }
        }
        v
    };
    let (x2, y2) = (
        state::decode(a).expect("decoded once"),
        state::decode(b).expect("decoded once"),
    );
    let one = state::merge(vec![x, y]);
    let other = state::merge(vec![y2, x2]);
    match (one, other) {
        (Ok(m), Ok(n)) => {
            assert_eq!(figures(&m.read), figures(&n.read), "merge order");
            let again =
                state::decode(&state::encode(&m.read, &m.covers)).expect("a merged state decodes");
            assert_eq!(
                serde_json::to_string(&Report::build(&m.read, &ps)).expect("serialises"),
                serde_json::to_string(&Report::build(&again.read, &ps)).expect("serialises"),
                "encode/decode of a merge"
            );
        }
        (Err(_), Err(_)) => {}
        (one, other) => panic!(
            "one order merges, the other does not: {:?} / {:?}",
            one.err(),
            other.err()
        ),
    }
}
