//! The hand-written scanner against serde_json: on valid and damaged lines
//! it must give the same verdict (JSON or not), and on records the same
//! field values. Nesting stays below the shared depth limit of 128 here;
//! depth is tested on its own in the unit tests.

use aggmetrics::kinds::{latency, risk};
use aggmetrics::parse::{json, Line, Skip};
use proptest::prelude::*;
use serde_json::Value;

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(|f| serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null)),
        "[ -~]{0,12}".prop_map(Value::String),
        "\\PC{0,8}".prop_map(Value::String),
        prop::sample::select(vec![
            "\u{0}", "\"", "\\", "\u{1f}", "é", "😀", "\u{2028}", "\n\t"
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{0,10}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Ways a line gets damaged: cut, a byte replaced, a byte inserted,
/// garbage appended, whitespace added.
fn mutate(mut b: Vec<u8>, op: u8, pos: usize, byte: u8) -> Vec<u8> {
    let at = if b.is_empty() { 0 } else { pos % (b.len() + 1) };
    match op % 6 {
        0 => b.truncate(at),
        1 if !b.is_empty() => {
            let i = at.min(b.len() - 1);
            b[i] = byte;
        }
        2 => b.insert(at, byte),
        3 => b.extend_from_slice(&[b' ', byte]),
        4 => {
            b.insert(0, b' ');
            b.push(b'\t');
        }
        _ => b.insert(at, b'\\'),
    }
    b
}

fn serde_ok(b: &[u8]) -> bool {
    serde_json::from_slice::<Value>(b).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn valid_json_is_accepted(v in arb_json()) {
        let s = serde_json::to_vec(&v).unwrap();
        prop_assert_eq!(json::validate(&s), Ok(()));
        let pretty = serde_json::to_vec_pretty(&v).unwrap();
        prop_assert_eq!(json::validate(&pretty), Ok(()));
    }

    #[test]
    fn same_verdict_as_serde_on_damaged_lines(v in arb_json(), op in any::<u8>(), pos in any::<usize>(), byte in any::<u8>()) {
        let line = mutate(serde_json::to_vec(&v).unwrap(), op, pos, byte);
        let ours = json::validate(&line);
        let theirs = serde_ok(&line);
        prop_assert_eq!(ours.is_ok(), theirs, "line {:?}: ours {:?}", String::from_utf8_lossy(&line), ours);
    }

    #[test]
    fn same_verdict_on_random_bytes(line in prop::collection::vec(prop::sample::select(b"{}[]:,\"\\ 0123456789.eE+-truefalsnu\xc3\xa9\xff\x00".to_vec()), 0..40)) {
        prop_assert_eq!(json::validate(&line).is_ok(), serde_ok(&line), "{:?}", String::from_utf8_lossy(&line));
    }

    #[test]
    fn latency_fields_match_serde(
        total in prop::option::of(0.0f64..1e7),
        steps in prop::collection::vec(("[a-z_]{1,12}", 0.0f64..1e6), 0..6),
        llm in prop::option::of(any::<bool>()),
        extra in arb_json(),
        shuffle in any::<u64>(),
    ) {
        let mut fields: Vec<(String, Value)> = vec![
            ("timestamp".into(), Value::from("2026-02-10T12:00:00.123456+00:00")),
            ("command_id".into(), Value::from("cmd-1")),
            ("extra".into(), extra),
            ("steps".into(), Value::Object(steps.iter().map(|(k, v)| (k.clone(), Value::from(*v))).collect())),
        ];
        if let Some(t) = total { fields.push(("total_ms".into(), Value::from(t))); }
        if let Some(l) = llm { fields.push(("llm_enabled".into(), Value::from(l))); }
        let n = fields.len();
        fields.rotate_left((shuffle as usize) % n);
        let obj: serde_json::Map<String, Value> = fields.into_iter().collect();
        let line = serde_json::to_vec(&Value::Object(obj.clone())).unwrap();
        let mut st = latency::Steps::default();
        let got = latency::parse(&line, &mut st);
        match total {
            None => prop_assert_eq!(got.unwrap_err(), Skip::MissingField),
            Some(t) => {
                let Ok(Line::Record(r)) = got else { panic!("{got:?}") };
                prop_assert_eq!(r.total_ms, Some(obj["total_ms"].as_f64().unwrap()));
                prop_assert_eq!(r.total_ms, Some(t));
                prop_assert_eq!(r.llm_enabled, llm == Some(true));
                let theirs: Vec<(String, f64)> = obj["steps"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_f64().unwrap())).collect();
                let mut ours: Vec<(String, f64)> = st.items().map(|(k, v)| (k.text(&line).into_owned(), v)).collect();
                let mut theirs = theirs;
                ours.sort_by(|a, b| a.0.cmp(&b.0));
                theirs.sort_by(|a, b| a.0.cmp(&b.0));
                prop_assert_eq!(ours, theirs);
            }
        }
    }

    /// The key template primed by a good line must not let any damage in
    /// the next line through, nor change what is read from a good one.
    #[test]
    fn primed_template_agrees_with_serde(
        v in arb_json(),
        total in 0.0f64..1e6,
        op in any::<u8>(),
        pos in any::<usize>(),
        byte in any::<u8>(),
        damage in any::<bool>(),
    ) {
        let mut obj = serde_json::Map::new();
        obj.insert("timestamp".into(), "2026-02-10T12:00:00+00:00".into());
        obj.insert("command_id".into(), "cmd-1".into());
        obj.insert("steps".into(), serde_json::json!({"a_ms": 1.5, "b_ms": 2}));
        obj.insert("extra".into(), v);
        obj.insert("total_ms".into(), Value::from(total));
        let good = serde_json::to_vec(&Value::Object(obj)).unwrap();
        let line = if damage { mutate(good.clone(), op, pos, byte) } else { good.clone() };
        let mut st = latency::Steps::default();
        let _ = latency::parse(&good, &mut st);
        let _ = latency::parse(&good, &mut st);
        let primed = latency::parse(&line, &mut st).map(|l| match l {
            Line::Record(r) => Some((r.total_ms, st.items().count())),
            Line::Blank => None,
        });
        let mut fresh_st = latency::Steps::default();
        let fresh = latency::parse(&line, &mut fresh_st).map(|l| match l {
            Line::Record(r) => Some((r.total_ms, fresh_st.items().count())),
            Line::Blank => None,
        });
        prop_assert_eq!(&primed, &fresh, "line {:?}", String::from_utf8_lossy(&line));
        if let Ok(Some(_)) = primed {
            prop_assert!(serde_ok(&line), "accepted invalid JSON: {:?}", String::from_utf8_lossy(&line));
        }
    }

    /// A step named twice keeps its first place and its last value,
    /// whatever the names' lengths (the duplicate search is skipped for a
    /// length no earlier name had, counted modulo 64: names 1 and 65 bytes
    /// long share a bit and must still be told apart). Written by hand, as
    /// serde_json would drop the repeats. A name spelled with an escape
    /// (`\u0061` for `a`) is the name its text spells. Every line goes
    /// through a primed template too.
    #[test]
    fn repeated_step_names_keep_the_last_value(
        steps in prop::collection::vec((0usize..8, 0u32..1000), 0..12),
    ) {
        let (x, y) = ("x".repeat(65), "y".repeat(65));
        // (as written, the name it spells)
        let pool = [
            ("a", "a"), ("b", "b"), ("ab", "ab"), ("ba", "ba"), (&x[..], &x[..]), (&y[..], &y[..]),
            ("\\u0061", "a"), ("a\\u0062", "ab"),
        ];
        let body: Vec<String> = steps.iter().map(|(n, v)| format!("\"{}\": {}", pool[*n].0, v)).collect();
        let line = format!(
            "{{\"timestamp\": \"2026-02-10T12:00:00+00:00\", \"total_ms\": 1, \"steps\": {{{}}}}}",
            body.join(", ")
        );
        let mut model: Vec<(String, f64)> = Vec::new();
        for (n, v) in &steps {
            match model.iter_mut().find(|(k, _)| k == pool[*n].1) {
                Some(e) => e.1 = f64::from(*v),
                None => model.push((pool[*n].1.to_string(), f64::from(*v))),
            }
        }
        let mut st = latency::Steps::default();
        for _ in 0..2 {
            let got = latency::parse(line.as_bytes(), &mut st);
            prop_assert!(matches!(got, Ok(Line::Record(_))), "{:?}", got);
            let ours: Vec<(String, f64)> = st.items().map(|(k, v)| (k.text(line.as_bytes()).into_owned(), v)).collect();
            prop_assert_eq!(&ours, &model);
        }
    }

    #[test]
    fn damaged_records_are_never_half_counted(v in arb_json(), op in any::<u8>(), pos in any::<usize>(), byte in any::<u8>()) {
        // Whatever the damage, a risk line is either a record of valid JSON
        // or skipped; the parser never accepts what serde rejects.
        let mut obj = serde_json::Map::new();
        obj.insert("timestamp".into(), "2026-02-10T12:00:00+00:00".into());
        obj.insert("status".into(), "accepted_llm".into());
        obj.insert("model_meta".into(), v);
        let good = serde_json::to_vec(&Value::Object(obj)).unwrap();
        let line = mutate(good.clone(), op, pos, byte);
        let mut tpl = aggmetrics::parse::Template::default();
        // Primed with the good line, as in a log where damage follows good lines.
        let _ = risk::parse(&good, &mut tpl);
        if let Ok(Line::Record(_)) = risk::parse(&line, &mut tpl) {
            prop_assert!(serde_ok(&line), "accepted invalid JSON: {:?}", String::from_utf8_lossy(&line));
        }
    }
}

#[test]
fn the_one_disagreement_with_serde_is_pythons_non_finite_literals() {
    // (line, valid for aggmetrics, valid for serde_json)
    for (line, ours, serde) in [
        (&b"1e400"[..], false, false),
        (b"-0", true, true),
        (b"01", false, false),
        (b"123456789012345678901234567890", true, true),
        (b"\"\\ud800\"", false, false),
        (b"\"\\udc00\"", false, false),
        (b"\"\\ud83d\\ude00\"", true, true),
        (b"\"\\u00e9\"", true, true),
        // Python's json writes and reads these; the platform's logs hold
        // them, so they are values here (the kinds decide what they mean).
        (b"NaN", true, false),
        (b"[Infinity, -Infinity]", true, false),
        (b"{\"a\": NaN}", true, false),
        (b"Nan", false, false),
        (b"-Inf", false, false),
        (b"[1,]", false, false),
        (b"{\"a\":1}  \r\n", true, true),
        (b"\xef\xbb\xbf{}", false, false),
    ] {
        assert_eq!(
            json::validate(line).is_ok(),
            ours,
            "{:?}",
            String::from_utf8_lossy(line)
        );
        assert_eq!(
            serde_ok(line),
            serde,
            "serde on {:?}",
            String::from_utf8_lossy(line)
        );
    }
}

/// A risk line's outcome as the tests below compare it.
fn risk_outcome(
    l: &[u8],
    tpl: &mut aggmetrics::parse::Template,
) -> Result<Option<(i64, Option<f64>)>, Skip> {
    match risk::parse(l, tpl) {
        Ok(Line::Record(r)) => Ok(Some((r.ts.micros, r.latency_ms))),
        Ok(Line::Blank) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every byte of `good[span]` replaced in turn by each of `bytes`: the
/// `primed` template gives the outcome a fresh one gives, accepts no
/// invalid JSON, and still reads the good line `next(i)` after the `i`th
/// damaged one. Returns how many damaged lines were checked.
fn damage_is_judged_as_by_a_fresh_parser(
    good: &[u8],
    span: std::ops::RangeInclusive<usize>,
    bytes: &[u8],
    primed: &mut aggmetrics::parse::Template,
    next: impl Fn(usize) -> Vec<u8>,
) -> usize {
    let mut checked = 0;
    for pos in span {
        for &byte in bytes {
            if good[pos] == byte {
                continue;
            }
            let mut line = good.to_vec();
            line[pos] = byte;
            let want = risk_outcome(&line, &mut aggmetrics::parse::Template::default());
            let got = risk_outcome(&line, primed);
            assert_eq!(
                got,
                want,
                "byte {pos} -> {byte:#x}: {}",
                String::from_utf8_lossy(&line)
            );
            if let Ok(Some(_)) = got {
                assert!(
                    serde_ok(&line),
                    "accepted invalid JSON: {}",
                    String::from_utf8_lossy(&line)
                );
            }
            // Whatever the damaged line taught the template, the next good
            // line is still read.
            assert!(risk_outcome(&next(checked), primed).unwrap().is_some());
            checked += 1;
        }
    }
    checked
}

/// A skipped object learned from earlier lines (the value template) must
/// not let any damage inside it, or in the byte after it, through: every
/// byte of `model_meta` and its delimiter, replaced by each of a set of
/// bytes (structural, quote, digit, letter, space, control, non-ASCII),
/// gives the same outcome with a primed template as with a fresh parser,
/// and no accepted line is invalid JSON.
#[test]
fn a_learned_skipped_value_lets_no_damage_through() {
    let good = br#"{"timestamp": "2026-02-10T12:00:00.000000+00:00", "status": "accepted_llm", "model_meta": {"provider": "local", "params": {"t": 0.2, "max": [1, 2, null]}, "ok": true}, "latency_ms": 12}"#;
    let start = good
        .windows(14)
        .position(|w| w == b"\"model_meta\": ")
        .unwrap()
        + 14;
    let end = start + good[start..].iter().position(|&c| c == b'}').unwrap();
    // The object's own end: after its last `}` (two nested closes).
    let end = end + good[end..].windows(3).position(|w| w == b"}, ").unwrap() + 1;
    let mut primed = aggmetrics::parse::Template::default();
    for _ in 0..3 {
        assert!(risk_outcome(good, &mut primed).unwrap().is_some());
    }
    let checked = damage_is_judged_as_by_a_fresh_parser(
        good,
        start..=end,
        b"}],:\"\\7x \x01\xc3{",
        &mut primed,
        |_| good.to_vec(),
    );
    assert!(checked > 500, "{checked}");
}

/// Keys of a skipped object whose values change from line to line (risk's
/// sampled summaries: the value template misses, and the keys are read
/// through the key template) must not let any damage through either:
/// every byte of `baseline_summary` and the byte after it, replaced by
/// each of a set of bytes, gives the same outcome with a template primed on
/// lines whose summaries differ as with a fresh parser, and no accepted
/// line is invalid JSON.
#[test]
fn keys_learned_inside_a_changing_skipped_value_let_no_damage_through() {
    let line = |n: usize| {
        format!(
            r#"{{"timestamp": "2026-02-10T12:00:00.000000+00:00", "status": "accepted_llm", "baseline_summary": {{"intent": "x", "counts": {{"a": {n}, "b": [{n}, "y"]}}, "has": true}}, "latency_ms": 12}}"#
        )
        .into_bytes()
    };
    let mut primed = aggmetrics::parse::Template::default();
    for n in 0..8 {
        assert!(risk_outcome(&line(n), &mut primed).unwrap().is_some());
    }
    let good = line(9);
    let key = b"\"baseline_summary\": ";
    let start = good.windows(key.len()).position(|w| w == key).unwrap() + key.len();
    let end = start + good[start..].windows(3).position(|w| w == b"}, ").unwrap() + 2;
    let checked = damage_is_judged_as_by_a_fresh_parser(
        &good,
        start..=end,
        b"}],:\"\\7x \x01\xc3{[",
        &mut primed,
        |i| line(i % 5),
    );
    assert!(checked > 500, "{checked}");
}

/// A line with non-ASCII text has its UTF-8 checked once, whole, and then
/// no string is checked alone; a line that fails that check has each
/// string checked alone. Either way the verdict must be the one a string's
/// own bytes give: every byte inside every string of a shadow line, set in
/// turn to bytes that can break UTF-8, gives `InvalidUtf8` exactly when
/// that string is no longer valid UTF-8, and otherwise the same record, on
/// a fresh template and on one primed with good lines.
#[test]
fn utf8_is_judged_string_by_string_whatever_the_line_holds() {
    use aggmetrics::kinds::shadow;
    let good = "{\"timestamp\": \"2026-02-10T12:00:00.526432+00:00\", \"command_id\": \"cmd-é\", \
        \"status\": \"ok\", \"latency_ms\": 194, \"suggested_intent\": \"add_shopping_item\", \
        \"clarify_question\": \"SECRET Какой список? 🎵\", \"missing_fields\": [\"дата\"], \
        \"baseline_action\": \"ask: купить молоко\", \"baseline_intent\": \"play\"}"
        .as_bytes();
    // Where each string's bytes are (between its quotes; no escapes here).
    let mut strings = Vec::new();
    let mut open = None;
    for (i, &c) in good.iter().enumerate() {
        if c == b'"' {
            match open.take() {
                None => open = Some(i + 1),
                Some(s) => strings.push(s..i),
            }
        }
    }
    let outcome = |l: &[u8], tpl: &mut aggmetrics::parse::Template| {
        let mut keys = Vec::new();
        match shadow::parse(l, tpl, &mut keys) {
            Ok(Line::Record((ts, r))) => Ok(format!("{} {r:?} {keys:?}", ts.micros)),
            Ok(Line::Blank) => Ok(String::new()),
            Err(e) => Err(e),
        }
    };
    let mut primed = aggmetrics::parse::Template::default();
    let want_good = outcome(good, &mut primed).unwrap();
    let (mut invalid, mut valid) = (0, 0);
    for s in &strings {
        for pos in s.clone() {
            for byte in [0x80, 0xBF, 0xC3, 0xD0, 0xE2, 0xF0, 0xF8, 0xFF] {
                let mut line = good.to_vec();
                line[pos] = byte;
                let want = if std::str::from_utf8(&line[s.clone()]).is_ok() {
                    valid += 1;
                    let mut fresh = aggmetrics::parse::Template::default();
                    Ok(outcome(&line, &mut fresh).expect("a valid line"))
                } else {
                    invalid += 1;
                    Err(Skip::InvalidUtf8)
                };
                for tpl in [&mut aggmetrics::parse::Template::default(), &mut primed] {
                    assert_eq!(
                        outcome(&line, tpl),
                        want,
                        "byte {pos} -> {byte:#x}: {}",
                        String::from_utf8_lossy(&line)
                    );
                }
                assert_eq!(outcome(good, &mut primed).unwrap(), want_good);
            }
        }
    }
    // Both sides of the check are exercised: bytes that break a string,
    // and bytes that replace a continuation byte with another one.
    assert!(invalid > 500 && valid > 20, "{invalid} {valid}");
}

/// The logger's own timestamp layout is read straight from the line, with
/// no string scan first (`timestamp_value`). With every byte of the value
/// and its quotes set in turn to every byte value, a line must get the
/// same verdict and the same instant as when a space before the value
/// sends it down the general path (string scan, then the timestamp
/// parser), and nothing serde_json rejects may be a record.
#[test]
fn the_fixed_timestamp_path_agrees_with_the_general_one() {
    let ts = "2026-02-10T12:00:04.194883+00:00";
    let line = |sep: &str, ts: &[u8]| {
        let mut l = br#"{"total_ms": 1.5, "timestamp":"#.to_vec();
        l.extend_from_slice(sep.as_bytes());
        l.extend_from_slice(ts);
        l.extend_from_slice(br#", "llm_enabled": true}"#);
        l
    };
    let parse = |l: &[u8], st: &mut latency::Steps| match latency::parse(l, st) {
        Ok(Line::Record(r)) => Ok((r.ts.micros, r.ts.nanos)),
        Ok(Line::Blank) => Err(None),
        Err(e) => Err(Some(e)),
    };
    let quoted = format!("\"{ts}\"").into_bytes();
    let (mut fast_st, mut slow_st) = (latency::Steps::default(), latency::Steps::default());
    let mut records = 0;
    for pos in 0..quoted.len() {
        for byte in 0..=255u8 {
            let mut v = quoted.clone();
            v[pos] = byte;
            // A good line between, so the date caches hold a valid date.
            let _ = parse(&line(" ", &quoted), &mut fast_st);
            let fast = parse(&line(" ", &v), &mut fast_st);
            let slow = parse(&line("  ", &v), &mut slow_st);
            assert_eq!(fast, slow, "byte {byte:#04x} at {pos}");
            if fast.is_ok() {
                records += 1;
                assert!(serde_ok(&line(" ", &v)), "byte {byte:#04x} at {pos}");
            }
        }
    }
    // Every position has the original byte, and digits can change.
    assert!(records > quoted.len(), "{records}");
    // A first line whose date is ten NUL bytes: in a new thread the date
    // cache has seen no line yet, and must not match them.
    std::thread::spawn(move || {
        let mut v = quoted.clone();
        v[1..11].fill(0);
        let got = parse(&line(" ", &v), &mut latency::Steps::default());
        assert_eq!(got, Err(Some(Skip::InvalidJson)));
    })
    .join()
    .unwrap();
}

// ---- any JSONL log (`stats`): paths read as Python's json reads them ----

/// A JSON value written out as text, objects with their members as
/// written: a key may repeat, and may be spelled with an escape.
#[derive(Debug, Clone)]
enum Raw {
    Lit(&'static str),
    Arr(Vec<Raw>),
    Obj(Vec<(&'static str, bool, Raw)>),
}

impl Raw {
    fn text(&self) -> String {
        match self {
            Raw::Lit(s) => s.to_string(),
            Raw::Arr(v) => format!(
                "[{}]",
                v.iter().map(Raw::text).collect::<Vec<_>>().join(", ")
            ),
            Raw::Obj(m) => {
                let member = |(k, esc, v): &(&str, bool, Raw)| {
                    let key = if *esc {
                        format!("\\u{:04x}{}", k.as_bytes()[0], &k[1..])
                    } else {
                        k.to_string()
                    };
                    format!("\"{key}\": {}", v.text())
                };
                format!(
                    "{{{}}}",
                    m.iter().map(member).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
}

/// Objects over a few key names, so that paths of the spec below are
/// hit, missed and repeated, at every depth.
fn arb_raw_object() -> impl Strategy<Value = Raw> {
    let leaf = prop::sample::select(vec![
        "null",
        "true",
        "false",
        "0",
        "3",
        "3.0",
        "-1",
        "2.5",
        "0.125",
        "1e13",
        "-0.5",
        "\"p\"",
        "\"\\u0070\"",
        "\"q\"",
        "\"é\"",
        "\"\\u00e9\"",
        "[]",
    ])
    .prop_map(Raw::Lit);
    let key = prop::sample::select(vec!["a", "b", "c", "k", "s", "x", "d", "v"]);
    let member = move |inner: BoxedStrategy<Raw>| (key.clone(), prop::bool::weighted(0.1), inner);
    let tree = leaf.prop_recursive(3, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Raw::Arr),
            prop::collection::vec(member(inner.boxed()), 0..6).prop_map(Raw::Obj),
        ]
    });
    let key = prop::sample::select(vec!["a", "b", "c", "k", "s", "x", "d", "v"]);
    prop::collection::vec((key, prop::bool::weighted(0.1), tree), 0..8).prop_map(Raw::Obj)
}

/// How `stats` judges a `--value` (docs/any-log.md): a number in
/// [0, 10^12] counts, `null` or absent is missing, anything else invalid.
#[derive(Debug, PartialEq)]
enum Judged {
    Value(f64),
    Missing,
    Invalid,
}

fn judge(v: Option<&Value>) -> Judged {
    match v {
        None | Some(Value::Null) => Judged::Missing,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if (0.0..=1e12).contains(&x) => Judged::Value(x),
            _ => Judged::Invalid,
        },
        Some(_) => Judged::Invalid,
    }
}

/// The figure `stats` reports for one record at one value path.
fn reported(values: &Value, path: &str) -> Judged {
    let Some(v) = values.get(path) else {
        return Judged::Missing;
    };
    match (v["count"].as_u64(), v["invalid"].as_u64()) {
        (Some(1), Some(0)) => Judged::Value(v["min"].as_f64().unwrap()),
        (Some(0), Some(1)) => Judged::Invalid,
        (Some(0), Some(0)) => Judged::Missing,
        _ => panic!("one record gave {v}"),
    }
}

/// One line through `stats`' reader with the spec of the test below: its
/// section's total, and its one group's key.
fn stats_record(line: &str) -> (Value, Value) {
    use aggmetrics::agg::{Acc, Config, Mode};
    use aggmetrics::kinds::{jsonl::JsonlOptions, jsonl::Spec, LogKind, Options};
    use std::sync::{Arc, OnceLock};
    static OPTS: OnceLock<Arc<Options>> = OnceLock::new();
    let opts = OPTS.get_or_init(|| {
        let v = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let spec = Spec::new(
            &v(&["a", "b.c", "s.x", "s.*", "d.*.v"]),
            &v(&["k", "b.k"]),
            &v(&["c"]),
            "timestamp",
        )
        .unwrap();
        Arc::new(Options {
            jsonl: JsonlOptions::Stats(Box::new(spec)),
            ..Default::default()
        })
    });
    let cfg = Config::new(Mode::Exact, 1 << 20);
    let mut acc = Acc::with_options(cfg, opts.clone(), 1);
    let data = format!("{line}\n");
    aggmetrics::read::lines::feed(&mut acc, LogKind::Jsonl, 0, 0, data.as_bytes());
    let r = aggmetrics::read::ReadResult::of_memory(acc, &[(LogKind::Jsonl, data.len() as u64)]);
    let report = serde_json::to_value(aggmetrics::report::Report::build(&r, &[50.0])).unwrap();
    let section = &report["jsonl"];
    assert_eq!(section["records"], 1, "{line}: {section}");
    (
        section["total"].clone(),
        section["groups"][0]["key"].clone(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    /// Every path of a spec (nested, `*` at two depths, a named key beside
    /// `*`, `--by`, `--count`) reads what serde_json (last key wins, as
    /// Python's json) reads, on objects with repeated and escaped keys.
    #[test]
    fn any_log_paths_read_as_python_reads_them(obj in arb_raw_object()) {
        let line = obj.text();
        let v: Value = serde_json::from_str(&line).unwrap();
        let (total, key) = stats_record(&line);
        let values = &total["values"];
        let at = |path: &[&str]| path.iter().try_fold(&v, |o, k| o.as_object()?.get(*k));

        for (path, want) in [
            ("a", judge(at(&["a"]))),
            ("b.c", judge(at(&["b", "c"]))),
            ("s.x", judge(at(&["s", "x"]))),
        ] {
            prop_assert_eq!(reported(values, path), want, "{} in {}", path, line);
        }
        // `*`: every other key, each its own value; null ones are not there.
        let mut want = std::collections::BTreeMap::new();
        if let Some(s) = at(&["s"]).and_then(Value::as_object) {
            for (k, x) in s.iter().filter(|(k, _)| *k != "x") {
                want.insert(format!("s.{k}"), judge(Some(x)));
            }
        }
        if let Some(d) = at(&["d"]).and_then(Value::as_object) {
            for (k, x) in d {
                if let Some(x) = x.as_object() {
                    want.insert(format!("d.{k}.v"), judge(x.get("v")));
                }
            }
        }
        want.retain(|_, j| *j != Judged::Missing);
        let got: std::collections::BTreeMap<String, Judged> = values
            .as_object()
            .unwrap()
            .keys()
            .filter(|p| !["a", "b.c", "s.x"].contains(&p.as_str()))
            .map(|p| (p.clone(), reported(values, p)))
            .collect();
        prop_assert_eq!(got, want, "{}", line);

        // --by: the JSON value; null for absent, null, object or array.
        // Numbers as numbers (1e13 may be written 10000000000000).
        let by = |x: Option<&Value>| match x {
            Some(Value::Number(n)) => serde_json::json!(n.as_f64()),
            Some(x @ (Value::String(_) | Value::Bool(_))) => x.clone(),
            _ => Value::Null,
        };
        let shown = |x: &Value| match x {
            Value::Number(n) => serde_json::json!(n.as_f64()),
            x => x.clone(),
        };
        prop_assert_eq!(shown(&key["k"]), by(at(&["k"])), "{}", line);
        prop_assert_eq!(shown(&key["b.k"]), by(at(&["b", "k"])), "{}", line);
        // --count: strings as written, numbers and booleans as JSON.
        // (A number by its value: 1e13 may be written 10000000000000.)
        let counts = total["counts"]["c"].as_object().unwrap();
        let got: Vec<(String, u64)> = counts.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect();
        match at(&["c"]) {
            Some(Value::String(s)) => prop_assert_eq!(got, vec![(s.clone(), 1)], "{}", line),
            Some(Value::Bool(b)) => prop_assert_eq!(got, vec![(b.to_string(), 1)], "{}", line),
            Some(Value::Number(n)) => {
                prop_assert_eq!(got.len(), 1, "{}", line);
                prop_assert_eq!(got[0].0.parse::<f64>().ok(), n.as_f64(), "{}", line);
                prop_assert_eq!(got[0].1, 1, "{}", line);
            }
            _ => prop_assert!(got.is_empty(), "{}: {:?}", line, got),
        }
    }
}
