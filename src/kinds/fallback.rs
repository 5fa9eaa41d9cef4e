//! `fallback_metrics*.jsonl`: one record per processed command.
//!
//! Needs `timestamp`. `llm_outcome` (string; missing or null is counted as
//! `unknown`, as the platform's script did), `intent` and `fallback_reason`
//! (string or null), `llm_latency_ms` (duration or null) and `components`
//! (name -> status string) are optional; any of them with another JSON type
//! makes the line `wrong_type`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cx, Kind, Parsed};
use crate::measure::dist::{Dist, Mode};
use crate::measure::figures::{counts, pairs, round_to, RateFig, Rates, Stats};
use crate::measure::keyed::{count_span, pair_key, Keyed, MAX_KEYS};
use crate::measure::view::{self, Block, View};
use crate::parse::{
    begin, category, duration, good_entries, key_name, open_map, required, timestamp_value, void,
    Line, Parser, Skip, Slot, Span, Timestamp,
};

#[derive(Debug, Clone, Copy)]
pub struct FallbackRecord {
    pub ts: Timestamp,
    pub outcome: Option<Span>,
    pub intent: Option<Span>,
    pub reason: Option<Span>,
    pub llm_latency_ms: Option<f64>,
    pub deterministic_used: bool,
}

/// Component statuses of the line being parsed, reused between lines.
#[derive(Debug, Default)]
pub struct Components {
    raw: Vec<(Span, Slot<Span>)>,
    tpl: crate::parse::Template,
}

impl Components {
    /// The components of the line with a good status, in first-seen order.
    #[inline]
    pub fn items(&self) -> impl Iterator<Item = (Span, Span)> + '_ {
        good_entries(&self.raw)
    }
}

/// One line. Inlined into the read loop's hot path with the kind's `add`:
/// a call per line costs more than the parse of a short record (measured
/// in docs/performance.md, "the newline search, and what the run loop
/// holds").
#[inline(always)]
pub fn parse(line: &[u8], comps: &mut Components) -> Result<Line<FallbackRecord>, Skip> {
    comps.raw.clear();
    let mut p = Parser::with_template(line, &mut comps.tpl);
    if !begin(&mut p)? {
        return Ok(Line::Blank);
    }
    let mut ts = Slot::Missing;
    let mut outcome = Slot::Missing;
    let mut intent = Slot::Missing;
    let mut reason = Slot::Missing;
    let mut lat = Slot::Missing;
    let mut det = false;
    let classify = |k: Span, line: &[u8]| field(&key_name(k, line));
    let mut key = p.first_field(classify)?;
    while let Some((_, f)) = key {
        match f {
            1 /* timestamp */ => ts = timestamp_value(&mut p, line)?,
            // An integer outcome is counted under its text, as the script did.
            2 /* llm_outcome */ => outcome = category(p.category_value()?),
            3 /* intent */ => intent = category(p.value_mostly_string()?),
            4 /* fallback_reason */ => reason = category(p.value_mostly_string()?),
            5 /* llm_latency_ms */ => lat = duration(p.value()?),
            6 /* deterministic_used */ => det = p.is_true()?,
            7 /* components */ => open_map(&mut p, line, &mut comps.raw, |p| p.value_mostly_string(), category)?,
            _ => p.skip_field()?,
        }
        key = p.next_field(classify)?;
    }
    p.finish()?;
    let ts = required(ts)?;
    // Only the timestamp is the core: any other field with a bad value
    // (components included) is voided alone, and the record counts (as
    // the platform's script did).
    Ok(Line::Record(FallbackRecord {
        ts,
        outcome: void(outcome),
        intent: void(intent),
        reason: void(reason),
        llm_latency_ms: void(lat),
        deterministic_used: det,
    }))
}

/// Which field a top-level key names (0 = none we read).
#[inline(always)]
fn field(name: &[u8]) -> u8 {
    if crate::parse::bytes_eq(name, b"timestamp") {
        1
    } else if crate::parse::bytes_eq(name, b"llm_outcome") {
        2
    } else if crate::parse::bytes_eq(name, b"intent") {
        3
    } else if crate::parse::bytes_eq(name, b"fallback_reason") {
        4
    } else if crate::parse::bytes_eq(name, b"llm_latency_ms") {
        5
    } else if crate::parse::bytes_eq(name, b"deterministic_used") {
        6
    } else if crate::parse::bytes_eq(name, b"components") {
        7
    } else {
        0
    }
}

// ---- accumulator ----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackAcc {
    pub count: u64,
    pub outcomes: Keyed<u64>,
    pub reasons: Keyed<u64>,
    pub llm_latency: Dist,
    pub deterministic_used: u64,
    /// `intent` x `outcome` (see [`pair_key`]).
    pub by_intent: Keyed<u64>,
    /// component name x status.
    pub components: Keyed<u64>,
}

impl FallbackAcc {
    fn new(mode: Mode) -> FallbackAcc {
        FallbackAcc {
            count: 0,
            outcomes: Keyed::new(MAX_KEYS),
            reasons: Keyed::new(MAX_KEYS),
            llm_latency: Dist::new(mode),
            deterministic_used: 0,
            by_intent: Keyed::new(MAX_KEYS),
            components: Keyed::new(MAX_KEYS),
        }
    }

    fn merge(&mut self, g: &FallbackAcc) {
        self.count += g.count;
        self.outcomes.merge(&g.outcomes);
        self.reasons.merge(&g.reasons);
        self.llm_latency.merge(&g.llm_latency);
        self.deterministic_used += g.deterministic_used;
        self.by_intent.merge(&g.by_intent);
        self.components.merge(&g.components);
    }
}

/// The last parsed record and its components.
#[derive(Debug, Default)]
pub struct Scratch {
    comps: Components,
    rec: Option<FallbackRecord>,
    key: Vec<u8>,
}

// ---- report section ----

#[derive(Debug, Clone, Serialize)]
pub struct FallbackSection {
    pub count: u64,
    /// `llm_outcome` -> records (missing or null outcome is `unknown`).
    pub outcome_counts: BTreeMap<String, u64>,
    pub fallback_rate: f64,
    pub error_rate: f64,
    pub success_rate: f64,
    /// Records with `deterministic_used: true`.
    pub deterministic_used: u64,
    /// `fallback_reason` -> records (null reasons not counted).
    pub fallback_reason_counts: BTreeMap<String, u64>,
    /// Over records whose `llm_latency_ms` is a number.
    pub llm_latency_ms: Stats,
    /// `intent` (null is `(none)`; an intent spelled `(none)` or starting
    /// with `"` is written as a JSON string) -> outcome -> records.
    pub by_intent: BTreeMap<String, BTreeMap<String, u64>>,
    /// component -> status -> records.
    pub components: BTreeMap<String, BTreeMap<String, u64>>,
    /// The three rates unrounded, with counts and Wilson intervals.
    pub rates: Rates,
}

/// The `by_intent` key of an intent: `(none)` for a null or missing one,
/// the name itself otherwise, except that a name reading `(none)` or
/// starting with `"` is written as a JSON string (`"(none)"`), so no
/// intent shares a key with the null ones or with another intent.
#[inline]
fn intent_key(intent: Option<&[u8]>) -> std::borrow::Cow<'_, [u8]> {
    match intent {
        None => std::borrow::Cow::Borrowed(NO_INTENT),
        Some(b) if b == NO_INTENT || b.first() == Some(&b'"') => std::borrow::Cow::Owned(
            serde_json::to_vec(&String::from_utf8_lossy(b)).unwrap_or_default(),
        ),
        Some(b) => std::borrow::Cow::Borrowed(b),
    }
}

/// The `by_intent` key of records with no intent.
const NO_INTENT: &[u8] = b"(none)";

// ---- the kind ----

pub struct Fallback;

impl Kind for Fallback {
    const STEM: &'static str = "fallback_metrics";
    const IN_TIME_RANGE: bool = true;
    type Scratch = Scratch;
    type Options = ();

    fn open_maps() -> &'static [super::OpenMap] {
        use super::{OpenEntry, OpenMap};
        &[
            OpenMap {
                path: &["outcome_counts"],
                entry: OpenEntry::Count,
            },
            OpenMap {
                path: &["fallback_reason_counts"],
                entry: OpenEntry::Count,
            },
            OpenMap {
                path: &["by_intent"],
                entry: OpenEntry::Counts,
            },
            OpenMap {
                path: &["components"],
                entry: OpenEntry::Counts,
            },
        ]
    }
    type Acc = FallbackAcc;
    type Section = FallbackSection;

    fn new(mode: Mode) -> FallbackAcc {
        FallbackAcc::new(mode)
    }

    fn merge(acc: &mut FallbackAcc, o: &FallbackAcc) {
        acc.merge(o)
    }

    fn finish(acc: &mut FallbackAcc) {
        acc.llm_latency.finish();
    }

    #[inline(always)]
    fn parse(s: &mut Scratch, line: &[u8], _cfg: &Cx) -> Result<Parsed, Skip> {
        match parse(line, &mut s.comps)? {
            Line::Blank => Ok(Parsed::Blank),
            Line::Record(r) => {
                s.rec = Some(r);
                Ok(Parsed::Record(r.ts))
            }
        }
    }

    #[inline(always)]
    fn add(f: &mut FallbackAcc, s: &mut Scratch, _ts: Option<&Timestamp>, line: &[u8], _cfg: &Cx) {
        let Some(r) = &s.rec else { return };
        f.count += 1;
        // Names straight from the line's bytes (decoded only when escaped).
        let outcome = r.outcome.map(|s| key_name(s, line));
        let outcome = outcome.as_deref().unwrap_or(b"unknown");
        f.outcomes.count_bytes(outcome, 1);
        if let Some(reason) = r.reason {
            count_span(&mut f.reasons, reason, line);
        }
        if let Some(ms) = r.llm_latency_ms {
            f.llm_latency.record(ms);
        }
        if r.deterministic_used {
            f.deterministic_used += 1;
        }
        let intent = r.intent.map(|s| key_name(s, line));
        let intent = intent_key(intent.as_deref());
        let pair = pair_key(&mut s.key, &intent, outcome);
        f.by_intent.count_bytes(pair, 1);
        for (name, status) in s.comps.items() {
            let pair = pair_key(&mut s.key, &key_name(name, line), &key_name(status, line));
            f.components.count_bytes(pair, 1);
        }
    }

    fn records(acc: &FallbackAcc) -> u64 {
        acc.count
    }

    /// A success rate falls worse; the error and fallback rates and the
    /// LLM latency grow worse.
    fn direction(figure: &str) -> crate::measure::figures::Direction {
        match figure {
            "success_rate" => crate::measure::figures::Direction::Down,
            _ => crate::measure::figures::Direction::Up,
        }
    }

    fn keys_dropped(f: &FallbackAcc) -> u64 {
        [&f.outcomes, &f.reasons, &f.by_intent, &f.components]
            .iter()
            .map(|k| k.overflow)
            .sum()
    }

    fn looks_wrong(f: &FallbackAcc) -> Option<String> {
        (f.count > 0 && f.outcomes.get("unknown").copied() == Some(f.count)).then(|| {
            format!(
                "none of the {} fallback records has an llm_outcome: is this a fallback log (--kind fallback)?",
                f.count
            )
        })
    }

    fn section(f: &FallbackAcc, ps: &[f64], _parse_errors: u64) -> FallbackSection {
        let rates = Rates(
            [
                ("fallback_rate", "fallback"),
                ("error_rate", "error"),
                ("success_rate", "success"),
            ]
            .into_iter()
            .map(|(name, o)| {
                let n = f.outcomes.get(o).copied().unwrap_or(0);
                (name, RateFig::new(n, f.count))
            })
            .collect(),
        );
        // The top-level rates: the same figures, rounded to 4 decimals as
        // the platform script printed them.
        let rounded = |name: &str| rates.get(name).map_or(0.0, |x| round_to(x.value, 4));
        FallbackSection {
            count: f.count,
            outcome_counts: counts(&f.outcomes),
            fallback_rate: rounded("fallback_rate"),
            error_rate: rounded("error_rate"),
            success_rate: rounded("success_rate"),
            deterministic_used: f.deterministic_used,
            fallback_reason_counts: counts(&f.reasons),
            llm_latency_ms: Stats::of(&f.llm_latency, ps),
            by_intent: pairs(&f.by_intent),
            components: pairs(&f.components),
            rates,
        }
    }

    fn view(f: &FallbackSection) -> View {
        View {
            key: "fallback".into(),
            title: format!(
                "Fallback ({} records)",
                crate::measure::view::thousands(f.count)
            ),
            records: f.count,
            counts: Vec::new(),
            blocks: vec![
                Block::Shares(view::Shares {
                    label: "outcome",
                    series: "outcome_records",
                    counts: f.outcome_counts.clone(),
                    total: f.count,
                }),
                Block::RateLine(f.rates.0.clone()),
                Block::Dist(view::DistLine {
                    name: "llm_latency_ms",
                    points: f.llm_latency_ms.percentiles.clone(),
                    count: f.llm_latency_ms.count,
                    hist: Some(f.llm_latency_ms.hist.clone()),
                }),
                Block::Breakdown(view::Breakdown {
                    title: "reasons",
                    series: None,
                    counts: f.fallback_reason_counts.clone(),
                }),
                Block::Cross(view::Cross {
                    title: "by intent".into(),
                    cells: f.by_intent.clone(),
                }),
                Block::Cross(view::Cross {
                    title: "components".into(),
                    cells: f.components.clone(),
                }),
            ],
            trend: vec![("error", "error_rate"), ("fallback", "fallback_rate")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields() {
        let l = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "command_id": "c", "intent": "create_task", "decision_action": "clarify", "llm_outcome": "fallback", "fallback_reason": "timeout", "deterministic_used": true, "llm_latency_ms": null, "components": {"llm": "error", "registry": "ok", "x": null}}"#;
        let mut c = Components::default();
        let Line::Record(r) = parse(l, &mut c).unwrap() else {
            panic!()
        };
        assert_eq!(r.outcome.unwrap().text(l), "fallback");
        assert_eq!(r.intent.unwrap().text(l), "create_task");
        assert_eq!(r.reason.unwrap().text(l), "timeout");
        assert_eq!(r.llm_latency_ms, None);
        assert!(r.deterministic_used);
        assert_eq!(c.items().count(), 2);
        // Bad values outside the timestamp void their field alone.
        let odd = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "llm_outcome": 5.5, "intent": [], "llm_latency_ms": NaN, "components": {"a": 1, "b": "ok"}}"#;
        let Line::Record(r) = parse(odd, &mut c).unwrap() else {
            panic!()
        };
        assert_eq!((r.outcome, r.intent, r.llm_latency_ms), (None, None, None));
        assert_eq!(c.items().count(), 1, "the good component stays");
        // An integer outcome is a category, counted under its text.
        let int = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "llm_outcome": -7}"#;
        let Line::Record(r) = parse(int, &mut c).unwrap() else {
            panic!()
        };
        assert_eq!(r.outcome.unwrap().text(int), "-7");
        let odd = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "components": [], "llm_latency_ms": -Infinity}"#;
        assert!(matches!(parse(odd, &mut c), Ok(Line::Record(_))));
        // The timestamp is the core.
        let bad = br#"{"timestamp": NaN, "llm_outcome": "success"}"#;
        assert_eq!(parse(bad, &mut c).unwrap_err(), Skip::WrongType);
    }
}
