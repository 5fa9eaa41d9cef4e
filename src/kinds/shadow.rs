//! `shadow_router*.jsonl`: the LLM router run in shadow beside the
//! deterministic one, one record per shadow run.
//!
//! Needs `timestamp` (the one core field: a record without a readable one
//! is a damaged line, as for every kind, so that windows and buckets can
//! place it; the platform's analyzer did not read timestamps). Every other
//! field voids itself alone when it has the wrong type or a non-finite or
//! negative value, and the record still counts:
//! - `status`: counted as written; a missing key is `unknown`, `null` is
//!   `null`, `""` stays `""`; another type is `unknown`;
//! - `error_type`: broken down when a non-empty string (the analyzer's
//!   `error_breakdown`);
//! - `latency_ms`: a JSON number, truncated toward zero (`int(x)`) as the
//!   analyzer did, then ranked by the analyzer's lower nearest rank;
//! - `confidence`: a JSON number, its percentiles as every distribution's;
//! - `suggested_intent`, `baseline_intent`: strings; an `ok` record whose
//!   two intents are both strings and equal agrees with the deterministic
//!   router (`agreement_rate` over `ok` records);
//! - `command_id` joins the golden dataset (`aggmetrics shadow --golden`),
//!   `entities_summary.keys` (strings in an array; anything else is no key)
//!   is compared with the golden entry's `expected_entity_keys`.
//!
//! The free-text fields (`clarify_question`, `missing_fields`,
//! `model_meta`, `baseline_action`, ...) are validated as JSON and never
//! read; intents and command ids are compared, never kept or printed.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize, Serializer};

use super::{Cx, Kind, Parsed};
use crate::measure::dist::{Dist, Mode};
use crate::measure::figures::{self, counts, round_to, RateFig, Rates, Stats};
use crate::measure::keyed::{count_span, Keyed, MAX_KEYS};
use crate::measure::time::TimeRange;
use crate::measure::view::{self, thousands, Block, View};
use crate::parse::{
    begin, key_name, required, timestamp_value, Line, Parser, Skip, Slot, Span, Template,
    Timestamp, Val,
};

/// A record's `status`, told apart as the analyzer's `rec.get("status",
/// "unknown")` does.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Status {
    #[default]
    Missing,
    Null,
    Text(Span),
}

/// The fields of one record that aggmetrics reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShadowRecord {
    pub status: Status,
    pub error_type: Option<Span>,
    /// `int(latency_ms)`.
    pub latency_ms: Option<f64>,
    pub confidence: Option<f64>,
    pub suggested_intent: Option<Span>,
    pub baseline_intent: Option<Span>,
    pub command_id: Option<Span>,
    /// `entities_summary` is an object (its `keys` are in the scratch).
    pub has_entities: bool,
}

/// Reused from line to line: the last record, its entity keys, the
/// parser's key template, and a buffer for the golden join.
#[derive(Debug, Default)]
pub struct Scratch {
    tpl: Template,
    rec: ShadowRecord,
    keys: Vec<Span>,
    key_text: Vec<String>,
}

/// Parse one line. Entity keys go to `keys` (cleared first).
pub fn parse(
    line: &[u8],
    tpl: &mut Template,
    keys: &mut Vec<Span>,
) -> Result<Line<(Timestamp, ShadowRecord)>, Skip> {
    keys.clear();
    let mut p = Parser::with_template(line, tpl);
    if !begin(&mut p)? {
        return Ok(Line::Blank);
    }
    let mut ts = Slot::Missing;
    let mut r = ShadowRecord::default();
    let string = |v: Val| match v {
        Val::Str(s) => Some(s),
        _ => None,
    };
    let number = |v: Val| match v {
        Val::Num(x) if x.is_finite() => Some(x),
        _ => None,
    };
    let classify = |k: Span, line: &[u8]| field(&key_name(k, line));
    let mut key = p.first_field(classify)?;
    while let Some((_, f)) = key {
        match f {
            1 /* timestamp */ => ts = timestamp_value(&mut p, line)?,
            2 /* status */ => {
                // An integer status is counted under its text, as the
                // analyzer did.
                r.status = match p.category_value()? {
                    Val::Str(s) => Status::Text(s),
                    Val::Null => Status::Null,
                    _ => Status::Missing,
                }
            }
            3 /* error_type */ => r.error_type = string(p.value()?).filter(|s| !s.is_empty()),
            4 /* latency_ms */ => {
                // `int(x)`; a negative or huge value is voided (a duration
                // cannot be below zero).
                r.latency_ms = number(p.value_mostly_number()?)
                    .map(f64::trunc)
                    .filter(|x| crate::parse::check_duration(*x).is_ok())
            }
            5 /* confidence */ => r.confidence = number(p.value_mostly_number()?).filter(|x| *x >= 0.0 && *x <= 1e6),
            6 /* suggested_intent */ => r.suggested_intent = string(p.value_mostly_string()?),
            7 /* baseline_intent */ => r.baseline_intent = string(p.value_mostly_string()?),
            8 /* command_id */ => r.command_id = string(p.value_mostly_string()?),
            9 /* entities_summary */ => {
                // A repeated field: the last one wins.
                keys.clear();
                r.has_entities = p.object(|p, name| {
                    // By the name's text: an escaped spelling is the same key.
                    if *key_name(name, line) != *b"keys" {
                        return p.skip_value();
                    }
                    keys.clear();
                    let is_array = p.array(|p| {
                        if let Val::Str(s) = p.value()? {
                            keys.push(s);
                        }
                        Ok(())
                    })?;
                    if !is_array {
                        keys.clear();
                    }
                    Ok(())
                })?;
            }
            _ => p.skip_field()?,
        }
        key = p.next_field(classify)?;
    }
    p.finish()?;
    Ok(Line::Record((required(ts)?, r)))
}

/// Which field a top-level key names (0 = none we read).
#[inline(always)]
fn field(name: &[u8]) -> u8 {
    match name {
        b"timestamp" => 1,
        b"status" => 2,
        b"error_type" => 3,
        b"latency_ms" => 4,
        b"confidence" => 5,
        b"suggested_intent" => 6,
        b"baseline_intent" => 7,
        b"command_id" => 8,
        b"entities_summary" => 9,
        _ => 0,
    }
}

// ---- the golden dataset ----

/// Why a golden dataset cannot be read; it says where, never a value
/// from the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoldenError {
    #[error("not a JSON array of objects (line {line}, column {column})")]
    NotAnArray { line: usize, column: usize },
    #[error("entry {0} has no string command_id")]
    NoCommandId(usize),
}

/// What `aggmetrics shadow` asks of the shadow kind.
#[derive(Debug, Default, Clone)]
pub struct ShadowOptions {
    /// The golden dataset (`--golden`): matched records are judged on it.
    pub golden: Option<Golden>,
}

/// Known commands: `command_id` -> the expected intent and the sorted
/// expected entity keys. Other keys of an entry are free text, ignored.
#[derive(Debug, Default, Clone)]
pub struct Golden {
    entries: HashMap<String, (Option<String>, Vec<String>)>,
    /// Identifies the dataset in reports (FNV-1a of its bytes).
    pub digest: String,
}

impl Golden {
    /// Read a golden dataset: a JSON array of objects with a string
    /// `command_id`. The error says what is wrong, never a value from it.
    pub fn from_json(bytes: &[u8]) -> Result<Golden, GoldenError> {
        #[derive(Deserialize)]
        struct Entry {
            command_id: Option<serde_json::Value>,
            expected_intent: Option<serde_json::Value>,
            expected_entity_keys: Option<serde_json::Value>,
        }
        let list: Vec<Entry> =
            serde_json::from_slice(bytes).map_err(|e| GoldenError::NotAnArray {
                line: e.line(),
                column: e.column(),
            })?;
        let mut entries = HashMap::with_capacity(list.len());
        for (i, e) in list.into_iter().enumerate() {
            let Some(serde_json::Value::String(id)) = e.command_id else {
                return Err(GoldenError::NoCommandId(i));
            };
            let intent = match e.expected_intent {
                Some(serde_json::Value::String(s)) => Some(s),
                _ => None,
            };
            let mut keys: Vec<String> = match e.expected_entity_keys {
                Some(serde_json::Value::Array(a)) => a
                    .into_iter()
                    .filter_map(|v| match v {
                        serde_json::Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            keys.sort();
            // A repeated command_id: the last entry wins, as a Python dict
            // built from the list would have it.
            entries.insert(id, (intent, keys));
        }
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Ok(Golden {
            entries,
            digest: format!("{h:016x}"),
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

// ---- accumulator ----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShadowAcc {
    pub total: u64,
    pub status: Keyed<u64>,
    pub error_types: Keyed<u64>,
    pub latency: Dist,
    pub confidence: Dist,
    /// `ok` records, and those whose two intents agree.
    pub ok: u64,
    pub agree: u64,
    /// With a golden dataset: records whose `command_id` is in it, and of
    /// those the intent matches and entity-key hits.
    pub matched: u64,
    pub intent_match: u64,
    pub entity_hit: u64,
    pub time: TimeRange,
}

// ---- report section ----

/// The shadow section of `summarize`, and the body of `aggmetrics shadow`.
#[derive(Debug, Clone, Serialize)]
pub struct ShadowSection {
    pub total_records: u64,
    /// `null` without a golden dataset or when nothing matched.
    pub matched_records: u64,
    #[serde(serialize_with = "opt_num")]
    pub intent_match_rate: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    pub entity_hit_rate: Option<f64>,
    /// The analyzer's lower nearest rank over `int(latency_ms)`; `null`
    /// without values.
    #[serde(serialize_with = "opt_num")]
    pub latency_p50: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    pub latency_p95: Option<f64>,
    #[serde(serialize_with = "opt_num")]
    pub latency_p99: Option<f64>,
    pub latency_count: u64,
    /// The latencies in the export layout (not in the JSON report).
    #[serde(skip)]
    pub latency_hist: figures::Histo,
    /// `error_type` -> records (non-empty strings only).
    pub error_breakdown: BTreeMap<String, u64>,
    /// Damaged lines in shadow logs charged to these figures.
    pub parse_errors: u64,
    pub status_breakdown: BTreeMap<String, u64>,
    /// status `error` / total_records, rounded to 4 decimals.
    pub error_rate: f64,
    /// Of `ok` records, the share whose `suggested_intent` equals
    /// `baseline_intent`, rounded to 4 decimals.
    pub agreement_rate: f64,
    /// Over records whose `confidence` is a number.
    pub confidence: Stats,
    /// Every rate unrounded, with counts and Wilson intervals
    /// (`intent_match_rate` and `entity_hit_rate` only with a golden
    /// dataset).
    pub rates: Rates,
    pub time_range: figures::FirstLast,
}

/// A whole number as a JSON integer (the analyzer's `int` percentiles),
/// anything else as a float; `None` as `null`.
fn opt_num<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        None => s.serialize_none(),
        Some(x) if x.fract() == 0.0 && x.abs() < 9e15 => s.serialize_i64(*x as i64),
        Some(x) => s.serialize_f64(*x),
    }
}

// ---- the kind ----

pub struct Shadow;

impl Kind for Shadow {
    const STEM: &'static str = "shadow_router";
    const IN_TIME_RANGE: bool = false;
    type Scratch = Scratch;
    type Options = ShadowOptions;
    type Acc = ShadowAcc;
    type Section = ShadowSection;

    fn new(mode: Mode) -> ShadowAcc {
        ShadowAcc {
            total: 0,
            status: Keyed::new(MAX_KEYS),
            error_types: Keyed::new(MAX_KEYS),
            latency: Dist::new(mode),
            confidence: Dist::new(mode),
            ok: 0,
            agree: 0,
            matched: 0,
            intent_match: 0,
            entity_hit: 0,
            time: TimeRange::default(),
        }
    }

    fn merge(a: &mut ShadowAcc, o: &ShadowAcc) {
        a.total += o.total;
        a.status.merge(&o.status);
        a.error_types.merge(&o.error_types);
        a.latency.merge(&o.latency);
        a.confidence.merge(&o.confidence);
        a.ok += o.ok;
        a.agree += o.agree;
        a.matched += o.matched;
        a.intent_match += o.intent_match;
        a.entity_hit += o.entity_hit;
        a.time.merge(&o.time);
    }

    fn finish(a: &mut ShadowAcc) {
        a.latency.finish();
        a.confidence.finish();
    }

    // Not forced inline as the other kinds' parse is: in the read loop
    // its larger body costs more in register spills than the call saves
    // (109 instructions a line, measured in docs/performance.md).
    #[inline]
    fn parse(s: &mut Scratch, line: &[u8], _cfg: &Cx) -> Result<Parsed, Skip> {
        match parse(line, &mut s.tpl, &mut s.keys)? {
            Line::Blank => Ok(Parsed::Blank),
            Line::Record((ts, r)) => {
                s.rec = r;
                Ok(Parsed::Record(ts))
            }
        }
    }

    fn add(a: &mut ShadowAcc, s: &mut Scratch, ts: Option<&Timestamp>, line: &[u8], cfg: &Cx) {
        let r = &s.rec;
        if let Some(ts) = ts {
            a.time.see(ts, line);
        }
        a.total += 1;
        let ok = match r.status {
            Status::Text(st) => {
                count_span(&mut a.status, st, line);
                st.text_is(line, "ok")
            }
            Status::Null => {
                a.status.count("null", 1);
                false
            }
            Status::Missing => {
                a.status.count("unknown", 1);
                false
            }
        };
        if let Some(e) = r.error_type {
            count_span(&mut a.error_types, e, line);
        }
        if let Some(ms) = r.latency_ms {
            a.latency.record(ms);
        }
        if let Some(c) = r.confidence {
            a.confidence.record(c);
        }
        if ok {
            a.ok += 1;
            if let (Some(x), Some(y)) = (r.suggested_intent, r.baseline_intent) {
                a.agree += x.same_text(&y, line) as u64;
            }
        }
        let golden = cfg.opts.shadow.golden.as_ref();
        if let (Some(g), Some(id)) = (golden, r.command_id) {
            if let Some((intent, keys)) = g.entries.get(id.text(line).as_ref()) {
                a.matched += 1;
                let suggested = r.suggested_intent.map(|s| s.text(line));
                // Python's `None == None`: a null suggestion matches a
                // null expectation.
                a.intent_match += (suggested.as_deref() == intent.as_deref()) as u64;
                s.key_text.clear();
                if r.has_entities {
                    s.key_text
                        .extend(s.keys.iter().map(|k| k.text(line).into_owned()));
                }
                s.key_text.sort();
                a.entity_hit += (s.key_text == *keys) as u64;
            }
        }
    }

    fn records(a: &ShadowAcc) -> u64 {
        a.total
    }

    /// Agreement with the deterministic router and the golden dataset's
    /// intent and entity rates fall worse; the error rate and the latency
    /// grow worse; the router's confidence is neither (a higher confidence
    /// is no better, and a lower one no worse, without its accuracy).
    fn direction(figure: &str) -> crate::measure::figures::Direction {
        use crate::measure::figures::Direction;
        match figure {
            "agreement_rate" | "intent_match_rate" | "entity_hit_rate" => Direction::Down,
            f if f == "confidence" || f.starts_with("confidence.") => Direction::Neither,
            _ => Direction::Up,
        }
    }

    fn keys_dropped(a: &ShadowAcc) -> u64 {
        a.status.overflow + a.error_types.overflow
    }

    fn newest(a: &ShadowAcc) -> Option<i64> {
        a.time.last.as_ref().map(|l| l.0)
    }

    fn looks_wrong(a: &ShadowAcc) -> Option<String> {
        (a.total > 0 && a.status.get("unknown").copied() == Some(a.total)).then(|| {
            format!(
                "none of the {} shadow records has a status: is this a shadow-router log (--kind shadow)?",
                a.total
            )
        })
    }

    fn section(a: &ShadowAcc, ps: &[f64], parse_errors: u64) -> ShadowSection {
        let errors = a.status.get("error").copied().unwrap_or(0);
        let mut rates = vec![
            ("error_rate", RateFig::new(errors, a.total)),
            ("agreement_rate", RateFig::new(a.agree, a.ok)),
        ];
        if a.matched > 0 {
            rates.push(("intent_match_rate", RateFig::new(a.intent_match, a.matched)));
            rates.push(("entity_hit_rate", RateFig::new(a.entity_hit, a.matched)));
        }
        let rates = Rates(rates);
        let rounded = |name: &str| rates.get(name).map_or(0.0, |x| round_to(x.value, 4));
        let matched = |n: u64| (a.matched > 0).then(|| n as f64 / a.matched as f64);
        let rank = |q: f64| (a.latency.n > 0).then(|| round_to(a.latency.lower_rank(q), 3));
        ShadowSection {
            total_records: a.total,
            matched_records: a.matched,
            intent_match_rate: matched(a.intent_match),
            entity_hit_rate: matched(a.entity_hit),
            latency_p50: rank(50.0),
            latency_p95: rank(95.0),
            latency_p99: rank(99.0),
            latency_count: a.latency.n,
            latency_hist: a.latency.histo(),
            error_breakdown: counts(&a.error_types),
            parse_errors,
            status_breakdown: counts(&a.status),
            error_rate: rounded("error_rate"),
            agreement_rate: rounded("agreement_rate"),
            confidence: Stats::of(&a.confidence, ps),
            rates,
            time_range: figures::FirstLast::of(&a.time),
        }
    }

    fn view(k: &ShadowSection) -> View {
        let mut latency = Vec::new();
        for (p, v) in [
            ("p50", k.latency_p50),
            ("p95", k.latency_p95),
            ("p99", k.latency_p99),
        ] {
            latency.extend(v.map(|v| (p.to_string(), v)));
        }
        View {
            key: "shadow".into(),
            title: format!("Shadow router ({} records)", thousands(k.total_records)),
            records: k.total_records,
            counts: vec![(
                "matched_records",
                "Shadow records whose command_id is in the golden dataset.",
                k.matched_records,
            )],
            blocks: vec![
                Block::RateRows(k.rates.0.clone()),
                Block::Dist(view::DistLine {
                    name: "latency_ms",
                    points: latency,
                    count: k.latency_count,
                    hist: Some(k.latency_hist.clone()),
                }),
                Block::Dist(view::DistLine {
                    name: "confidence",
                    points: k.confidence.percentiles.clone(),
                    count: k.confidence.count,
                    hist: None,
                }),
                Block::Breakdown(view::Breakdown {
                    title: "status",
                    series: Some(("status_records", "status")),
                    counts: k.status_breakdown.clone(),
                }),
                Block::Breakdown(view::Breakdown {
                    title: "errors",
                    series: Some(("error_records", "error_type")),
                    counts: k.error_breakdown.clone(),
                }),
            ],
            trend: vec![("shadow error", "error_rate")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_spelled_with_escapes_are_the_entity_keys() {
        let l = |name: &str| {
            format!(
                r#"{{"timestamp": "2026-02-10T12:00:00+00:00", "entities_summary": {{"{name}": ["date", "title"]}}}}"#
            )
        };
        let (_, plain) = rec(&l("keys")).unwrap();
        assert_eq!(plain, ["date", "title"]);
        let (_, escaped) = rec(&l("k\\u0065ys")).unwrap();
        assert_eq!(escaped, plain);
        let (_, other) = rec(&l("key")).unwrap();
        assert!(other.is_empty());
    }

    fn rec(s: &str) -> Result<(ShadowRecord, Vec<String>), Skip> {
        let mut tpl = Template::default();
        let mut keys = Vec::new();
        match parse(s.as_bytes(), &mut tpl, &mut keys)? {
            Line::Record((_, r)) => Ok((
                r,
                keys.iter()
                    .map(|k| k.text(s.as_bytes()).into_owned())
                    .collect(),
            )),
            Line::Blank => Err(Skip::MissingField),
        }
    }

    const TS: &str = r#""timestamp": "2026-02-10T12:00:00+00:00""#;

    #[test]
    fn reads_the_documented_record() {
        let l = format!(
            r#"{{{TS}, "trace_id": "t", "command_id": "cmd-1", "router_version": "shadow-router-0.1", "status": "ok", "latency_ms": 12.9, "error_type": null, "suggested_intent": "add_shopping_item", "baseline_intent": "add_shopping_item", "entities_summary": {{"keys": ["item", "amount"], "counts": {{"item": 1}}}}, "confidence": 0.82, "missing_fields": ["x"], "clarify_question": "secret?", "model_meta": {{"m": [1, {{"x": null}}]}}}}"#
        );
        let (r, keys) = rec(&l).unwrap();
        assert_eq!(r.latency_ms, Some(12.0), "int(12.9)");
        assert_eq!(r.confidence, Some(0.82));
        assert!(r.has_entities);
        assert_eq!(keys, ["item", "amount"]);
        assert_eq!(r.error_type, None);
    }

    #[test]
    fn only_the_timestamp_damages_a_record() {
        let (r, keys) = rec(&format!(
            r#"{{{TS}, "status": 5.5, "latency_ms": NaN, "confidence": "high", "error_type": "", "entities_summary": {{"keys": "item"}}, "suggested_intent": 3}}"#
        ))
        .unwrap();
        assert_eq!(r.status, Status::Missing);
        assert_eq!(
            (r.latency_ms, r.confidence, r.error_type),
            (None, None, None)
        );
        assert!(r.has_entities && keys.is_empty());
        assert_eq!(r.suggested_intent, None);
        let (r, _) = rec(&format!(r#"{{{TS}, "latency_ms": -3.5}}"#)).unwrap();
        assert_eq!(r.latency_ms, None, "a negative duration is voided");
        assert_eq!(rec(r#"{"status": "ok"}"#).unwrap_err(), Skip::MissingField);
        assert_eq!(
            rec(&format!(
                r#"{{{TS}, "entities_summary": {{"keys": [1, }}}}"#
            ))
            .unwrap_err(),
            Skip::InvalidJson
        );
        assert_eq!(
            rec(&format!(r#"{{{TS}, "entities_summary": {{"keys": ["a""#)).unwrap_err(),
            Skip::Truncated
        );
    }

    #[test]
    fn golden_entries_are_checked_without_quoting_them() {
        let g = Golden::from_json(br#"[{"command_id": "a", "expected_intent": "x", "expected_entity_keys": ["b", "a"], "text": "free"}]"#).unwrap();
        assert_eq!(g.entries["a"].1, ["a", "b"]);
        let e = Golden::from_json(br#"[{"expected_intent": "secret-intent"}]"#).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
        assert!(Golden::from_json(b"{}").is_err());
    }

    #[test]
    fn confidence_is_judged_neither_way() {
        use crate::measure::figures::Direction;
        assert_eq!(Shadow::direction("confidence"), Direction::Neither);
        assert_eq!(Shadow::direction("confidence.p50"), Direction::Neither);
        assert_eq!(Shadow::direction("confidence_x"), Direction::Up);
        assert_eq!(Shadow::direction("latency_ms.p95"), Direction::Up);
        assert_eq!(Shadow::direction("agreement_rate"), Direction::Down);
    }
}
