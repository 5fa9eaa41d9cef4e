//! `partial_trust_risk*.jsonl`: the partial-trust corridor's decisions.
//!
//! Needs `timestamp`. Follows the platform's analyzer: `sampled` counts only
//! when JSON `true`; `status` is counted as written, except that a missing
//! one is `unknown` (`rec.get("status", "unknown")`: `""` stays `""`, and
//! `null` is the analyzer's `None`, written `null` in its JSON); only non-empty
//! string `reason_code`s are broken down; `latency_ms` counts only when it
//! is a number within the duration range (a negative, out-of-range or
//! non-finite one is voided: the record counts without it, as
//! docs/semantics.md says for every field outside the core);
//! mismatch flags count only inside a `diff_summary` object and only when
//! JSON `true`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cx, Kind, Parsed};
use crate::measure::dist::{Dist, Mode};
use crate::measure::figures::{self, counts, round_to, RateFig, Rates};
use crate::measure::keyed::{count_span, Keyed, MAX_KEYS};
use crate::measure::time::{Activity, TimeRange};
use crate::measure::view::{self, thousands, Block, View};
use crate::parse::{
    begin, category, check_duration, key_name, required, timestamp_value, Line, Parser, Skip, Slot,
    Span, Timestamp, Val,
};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Diff {
    pub intent_mismatch: bool,
    pub decision_type_mismatch: bool,
    pub action_count_mismatch: bool,
    pub entity_key_mismatch: bool,
}

/// A record's `status`, as the analyzer tells them apart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Status {
    /// No `status` key: the analyzer's default, `unknown`.
    Missing,
    /// `"status": null`: the analyzer's `None`.
    Null,
    /// A string, empty or not.
    Text(Span),
}

#[derive(Debug, Clone, Copy)]
pub struct RiskRecord {
    pub ts: Timestamp,
    pub sampled: bool,
    pub status: Status,
    pub reason_code: Option<Span>,
    pub latency_ms: Option<f64>,
    pub diff: Option<Diff>,
    pub sample_rate: Option<f64>,
}

/// One line. Inlined into the read loop's hot path with the kind's `add`:
/// a call per line costs more than the parse of a short record (measured
/// in docs/performance.md, "the newline search, and what the run loop
/// holds").
#[inline(always)]
pub fn parse(line: &[u8], tpl: &mut crate::parse::Template) -> Result<Line<RiskRecord>, Skip> {
    let mut p = Parser::with_template(line, tpl);
    if !begin(&mut p)? {
        return Ok(Line::Blank);
    }
    let mut ts = Slot::Missing;
    let mut status = Slot::Missing;
    let mut reason = None;
    let mut sampled = false;
    let mut lat: Slot<f64> = Slot::Missing;
    let mut diff = None;
    let mut rate = None;
    let classify = |k: Span, line: &[u8]| field(&key_name(k, line));
    let mut key = p.first_field(classify)?;
    while let Some((_, f)) = key {
        match f {
            1 /* timestamp */ => ts = timestamp_value(&mut p, line)?,
            // An integer status is counted under its text, as the analyzer did.
            2 /* status */ => status = category(p.category_value()?),
            3 /* reason_code */ => {
                reason = match p.value_mostly_string()? {
                    Val::Str(s) if !s.is_empty() => Some(s),
                    _ => None,
                }
            }
            4 /* sampled */ => sampled = p.is_true()?,
            5 /* sample_rate */ => {
                rate = match p.value_mostly_number()? {
                    Val::Num(x) if x.is_finite() => Some(x),
                    _ => None,
                }
            }
            6 /* latency_ms */ => {
                lat = match p.value()? {
                    Val::Num(x) => match check_duration(x) {
                        Ok(x) => Slot::Val(x),
                        Err(e) => Slot::Bad(e),
                    },
                    _ => Slot::Missing,
                }
            }
            7 /* diff_summary */ => {
                let mut d = Diff::default();
                let is_obj = p.object(|p, flag| {
                    let t = p.is_true()?;
                    // By the name's text: an escaped spelling is the same key.
                    let slot = match &*key_name(flag, line) {
                        b"intent_mismatch" => &mut d.intent_mismatch,
                        b"decision_type_mismatch" => &mut d.decision_type_mismatch,
                        b"action_count_mismatch" => &mut d.action_count_mismatch,
                        b"entity_key_mismatch" => &mut d.entity_key_mismatch,
                        _ => return Ok(()),
                    };
                    *slot = t;
                    Ok(())
                })?;
                diff = is_obj.then_some(d);
            }
            _ => p.skip_field()?,
        }
        key = p.next_field(classify)?;
    }
    p.finish()?;
    Ok(Line::Record(RiskRecord {
        ts: required(ts)?,
        sampled,
        // Only the timestamp is the core: a status that is not a string or
        // null is voided (`unknown`).
        status: match status {
            Slot::Missing | Slot::Bad(_) => Status::Missing,
            Slot::Null => Status::Null,
            Slot::Val(s) => Status::Text(s),
        },
        reason_code: reason,
        // A latency_ms that is negative, too large or non-finite is voided:
        // the record counts, without a latency.
        latency_ms: crate::parse::void(lat),
        diff,
        sample_rate: rate,
    }))
}

/// Which field a top-level key names (0 = none we read).
#[inline(always)]
fn field(name: &[u8]) -> u8 {
    if crate::parse::bytes_eq(name, b"timestamp") {
        1
    } else if crate::parse::bytes_eq(name, b"status") {
        2
    } else if crate::parse::bytes_eq(name, b"reason_code") {
        3
    } else if crate::parse::bytes_eq(name, b"sampled") {
        4
    } else if crate::parse::bytes_eq(name, b"sample_rate") {
        5
    } else if crate::parse::bytes_eq(name, b"latency_ms") {
        6
    } else if crate::parse::bytes_eq(name, b"diff_summary") {
        7
    } else {
        0
    }
}

// ---- accumulator ----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskAcc {
    pub total: u64,
    pub sampled: u64,
    pub status: Keyed<u64>,
    pub reason_codes: Keyed<u64>,
    pub with_diff: u64,
    pub intent_mismatch: u64,
    pub decision_type_mismatch: u64,
    pub action_count_mismatch: u64,
    pub entity_key_mismatch: u64,
    pub latency: Dist,
    /// Configured sample rates seen (as text, e.g. `0.01`).
    pub sample_rates: Keyed<u64>,
    /// When records were written, for the silence alarm.
    pub activity: Activity,
    /// The earliest and latest risk record (the summary's `time_range`
    /// covers the latency and fallback logs only, as the platform's script
    /// did).
    pub time: TimeRange,
}

impl RiskAcc {
    pub fn new(mode: Mode) -> RiskAcc {
        RiskAcc {
            total: 0,
            sampled: 0,
            status: Keyed::new(MAX_KEYS),
            reason_codes: Keyed::new(MAX_KEYS),
            with_diff: 0,
            intent_mismatch: 0,
            decision_type_mismatch: 0,
            action_count_mismatch: 0,
            entity_key_mismatch: 0,
            latency: Dist::new(mode),
            sample_rates: Keyed::new(64),
            activity: Activity::default(),
            time: TimeRange::default(),
        }
    }

    pub fn merge(&mut self, s: &RiskAcc) {
        self.total += s.total;
        self.sampled += s.sampled;
        self.status.merge(&s.status);
        self.reason_codes.merge(&s.reason_codes);
        self.with_diff += s.with_diff;
        self.intent_mismatch += s.intent_mismatch;
        self.decision_type_mismatch += s.decision_type_mismatch;
        self.action_count_mismatch += s.action_count_mismatch;
        self.entity_key_mismatch += s.entity_key_mismatch;
        self.latency.merge(&s.latency);
        self.sample_rates.merge(&s.sample_rates);
        self.activity.merge(&s.activity);
        self.time.merge(&s.time);
    }
}

/// The last parsed record, and the `sample_rate` values already formatted
/// (bit pattern -> text): a log holds a handful of configured rates, so
/// formatting an f64 on every record is wasted work.
#[derive(Debug, Default)]
pub struct Scratch {
    tpl: crate::parse::Template,
    rec: Option<RiskRecord>,
    rate_text: Vec<(u64, String)>,
}

// ---- report section ----

/// The risk log's rates, as the analyzer defined them.
pub fn rates(r: &RiskAcc) -> Rates {
    let status = |k: &str| r.status.get(k).copied().unwrap_or(0);
    let accepted = status("accepted_llm");
    Rates(vec![
        (
            "acceptance_rate",
            RateFig::new(accepted, accepted + status("fallback_deterministic")),
        ),
        ("error_rate", RateFig::new(status("error"), r.total)),
        (
            "intent_mismatch_rate",
            RateFig::new(r.intent_mismatch, r.with_diff),
        ),
        (
            "entity_key_mismatch_rate",
            RateFig::new(r.entity_key_mismatch, r.with_diff),
        ),
        (
            "decision_type_mismatch_rate",
            RateFig::new(r.decision_type_mismatch, r.with_diff),
        ),
        (
            "action_count_mismatch_rate",
            RateFig::new(r.action_count_mismatch, r.with_diff),
        ),
    ])
}

/// The risk log's figures over one set of records, unrounded: one model
/// for the `risk` section of a summary ([`RiskSection`]) and for the
/// `aggmetrics risk` report (`report::risk`), each of which rounds, or
/// not, as it writes.
#[derive(Debug, Clone)]
pub struct RiskFigures {
    pub total_records: u64,
    pub sampled_records: u64,
    pub status_breakdown: BTreeMap<String, u64>,
    pub reason_code_breakdown: BTreeMap<String, u64>,
    /// Records with a `diff_summary` object: the mismatch rates'
    /// denominator.
    pub diff_records: u64,
    /// By the analyzer's lower nearest rank, over every value under
    /// `--exact`, else read from the HDR histogram (within its precision).
    pub latency_p50: f64,
    pub latency_p95: f64,
    pub latency_p99: f64,
    /// Records whose `latency_ms` is a number (the percentiles' count).
    pub latency_count: u64,
    /// The latencies in the export layout (in no JSON report).
    pub latency_hist: figures::Histo,
    /// Damaged lines in risk logs charged to these figures (the
    /// analyzer's name for them).
    pub parse_errors: u64,
    /// Configured `sample_rate` values seen -> records.
    pub sample_rates: BTreeMap<String, u64>,
    /// Every rate with numerator, denominator and 95% Wilson interval:
    /// acceptance (accepted_llm / (accepted_llm + fallback_deterministic)),
    /// the four mismatch rates (flag true among `diff_records`), errors
    /// (status `error` / total_records).
    pub rates: Rates,
    /// The earliest and latest risk record.
    pub time_range: figures::FirstLast,
}

impl RiskFigures {
    pub fn of(r: &RiskAcc, parse_errors: u64) -> RiskFigures {
        RiskFigures {
            total_records: r.total,
            sampled_records: r.sampled,
            status_breakdown: counts(&r.status),
            reason_code_breakdown: counts(&r.reason_codes),
            diff_records: r.with_diff,
            latency_p50: r.latency.lower_rank(50.0),
            latency_p95: r.latency.lower_rank(95.0),
            latency_p99: r.latency.lower_rank(99.0),
            latency_count: r.latency.n,
            latency_hist: r.latency.histo(),
            parse_errors,
            sample_rates: counts(&r.sample_rates),
            rates: rates(r),
            time_range: figures::FirstLast::of(&r.time),
        }
    }

    /// A rate's value, unrounded: 0 over no records, as the analyzer
    /// prints it.
    pub fn rate(&self, name: &str) -> f64 {
        self.rates.get(name).map_or(0.0, |f| f.value)
    }
}

/// The `risk` section of a summary: the figures, with the analyzer's
/// top-level rates rounded to 4 decimals and latencies to 3, as its
/// consumers read them (the `rates` beside them are unrounded).
#[derive(Debug, Clone)]
pub struct RiskSection(pub RiskFigures);

impl Serialize for RiskSection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let f = &self.0;
        let rate = |name: &str| round_to(f.rate(name), 4);
        let mut m = s.serialize_struct("RiskSection", 21)?;
        m.serialize_field("total_records", &f.total_records)?;
        m.serialize_field("sampled_records", &f.sampled_records)?;
        m.serialize_field("status_breakdown", &f.status_breakdown)?;
        m.serialize_field("reason_code_breakdown", &f.reason_code_breakdown)?;
        m.serialize_field("acceptance_rate", &rate("acceptance_rate"))?;
        m.serialize_field(
            "acceptance_denominator",
            &f.rates.get("acceptance_rate").map_or(0, |x| x.denominator),
        )?;
        for name in [
            "intent_mismatch_rate",
            "entity_key_mismatch_rate",
            "decision_type_mismatch_rate",
            "action_count_mismatch_rate",
        ] {
            m.serialize_field(name, &rate(name))?;
        }
        m.serialize_field("diff_records", &f.diff_records)?;
        m.serialize_field("error_rate", &rate("error_rate"))?;
        m.serialize_field("latency_p50", &round_to(f.latency_p50, 3))?;
        m.serialize_field("latency_p95", &round_to(f.latency_p95, 3))?;
        m.serialize_field("latency_p99", &round_to(f.latency_p99, 3))?;
        m.serialize_field("latency_count", &f.latency_count)?;
        m.serialize_field("parse_errors", &f.parse_errors)?;
        m.serialize_field("sample_rates", &f.sample_rates)?;
        m.serialize_field("rates", &f.rates)?;
        m.serialize_field("time_range", &f.time_range)?;
        m.end()
    }
}

// ---- the kind ----

/// What `aggmetrics risk` asks of the risk kind.
#[derive(Debug, Default, Clone)]
pub struct RiskOptions {
    /// Track when records were written (per-minute first and last, for
    /// the silence alarm); only `aggmetrics risk` needs it.
    pub activity: bool,
}

pub struct Risk;

impl Kind for Risk {
    const STEM: &'static str = "partial_trust_risk";
    const IN_TIME_RANGE: bool = false;
    type Scratch = Scratch;
    type Options = RiskOptions;

    fn open_maps() -> &'static [super::OpenMap] {
        use super::{OpenEntry, OpenMap};
        &[
            OpenMap {
                path: &["status_breakdown"],
                entry: OpenEntry::Count,
            },
            OpenMap {
                path: &["reason_code_breakdown"],
                entry: OpenEntry::Count,
            },
            OpenMap {
                path: &["sample_rates"],
                entry: OpenEntry::Count,
            },
        ]
    }
    type Acc = RiskAcc;
    type Section = RiskSection;

    fn new(mode: Mode) -> RiskAcc {
        RiskAcc::new(mode)
    }

    fn merge(acc: &mut RiskAcc, o: &RiskAcc) {
        acc.merge(o)
    }

    fn finish(acc: &mut RiskAcc) {
        acc.latency.finish();
    }

    #[inline(always)]
    fn parse(s: &mut Scratch, line: &[u8], _cfg: &Cx) -> Result<Parsed, Skip> {
        match parse(line, &mut s.tpl)? {
            Line::Blank => Ok(Parsed::Blank),
            Line::Record(r) => {
                s.rec = Some(r);
                Ok(Parsed::Record(r.ts))
            }
        }
    }

    #[inline(always)]
    fn add(k: &mut RiskAcc, s: &mut Scratch, ts: Option<&Timestamp>, line: &[u8], cfg: &Cx) {
        let Some(r) = &s.rec else { return };
        if let Some(ts) = ts {
            k.time.see(ts, line);
            if cfg.opts.risk.activity {
                k.activity.see(ts.micros);
            }
        }
        k.total += 1;
        k.sampled += r.sampled as u64;
        // The analyzer's `rec.get("status", "unknown")`.
        match r.status {
            Status::Text(st) => count_span(&mut k.status, st, line),
            Status::Null => k.status.count("null", 1),
            Status::Missing => k.status.count("unknown", 1),
        }
        if let Some(rc) = r.reason_code {
            count_span(&mut k.reason_codes, rc, line);
        }
        if let Some(d) = r.diff {
            k.with_diff += 1;
            k.intent_mismatch += d.intent_mismatch as u64;
            k.decision_type_mismatch += d.decision_type_mismatch as u64;
            k.action_count_mismatch += d.action_count_mismatch as u64;
            k.entity_key_mismatch += d.entity_key_mismatch as u64;
        }
        if let Some(ms) = r.latency_ms {
            k.latency.record(ms);
        }
        if let Some(rate) = r.sample_rate {
            let bits = rate.to_bits();
            match s.rate_text.iter().find(|(b, _)| *b == bits) {
                Some((_, text)) => k.sample_rates.count(text, 1),
                None => {
                    let text = format!("{rate}");
                    k.sample_rates.count(&text, 1);
                    if s.rate_text.len() < 16 {
                        s.rate_text.push((bits, text));
                    }
                }
            }
        }
    }

    fn records(acc: &RiskAcc) -> u64 {
        acc.total
    }

    /// The acceptance rate falls worse; the error and mismatch rates and
    /// the latency grow worse.
    fn direction(figure: &str) -> crate::measure::figures::Direction {
        match figure {
            "acceptance_rate" => crate::measure::figures::Direction::Down,
            _ => crate::measure::figures::Direction::Up,
        }
    }

    fn keys_dropped(r: &RiskAcc) -> u64 {
        [&r.status, &r.reason_codes, &r.sample_rates]
            .iter()
            .map(|k| k.overflow)
            .sum()
    }

    fn newest(acc: &RiskAcc) -> Option<i64> {
        acc.time.last.as_ref().map(|l| l.0)
    }

    fn looks_wrong(r: &RiskAcc) -> Option<String> {
        (r.total > 0 && r.status.get("unknown").copied() == Some(r.total)).then(|| {
            format!(
                "none of the {} risk records has a status: is this a partial-trust risk log (--kind risk)?",
                r.total
            )
        })
    }

    fn section(r: &RiskAcc, _ps: &[f64], parse_errors: u64) -> RiskSection {
        RiskSection(RiskFigures::of(r, parse_errors))
    }

    fn view(k: &RiskSection) -> View {
        let k = &k.0;
        View {
            key: "risk".into(),
            title: format!(
                "Partial-trust risk ({} records, {} sampled)",
                thousands(k.total_records),
                thousands(k.sampled_records)
            ),
            records: k.total_records,
            counts: vec![(
                "sampled_records",
                "Risk records with sampled: true.",
                k.sampled_records,
            )],
            blocks: vec![
                Block::RateRows(k.rates.0.clone()),
                Block::Dist(view::DistLine {
                    name: "latency_ms",
                    points: vec![
                        ("p50".into(), round_to(k.latency_p50, 3)),
                        ("p95".into(), round_to(k.latency_p95, 3)),
                        ("p99".into(), round_to(k.latency_p99, 3)),
                    ],
                    count: k.latency_count,
                    hist: Some(k.latency_hist.clone()),
                }),
                Block::Breakdown(view::Breakdown {
                    title: "status",
                    series: Some(("status_records", "status")),
                    counts: k.status_breakdown.clone(),
                }),
                Block::Breakdown(view::Breakdown {
                    title: "reasons",
                    series: None,
                    counts: k.reason_code_breakdown.clone(),
                }),
            ],
            trend: vec![("risk error", "error_rate")],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_name_spelled_with_escapes_is_the_same_flag() {
        let diff = |flags: &str| {
            let l = format!(
                r#"{{"timestamp": "2026-02-10T12:00:00+00:00", "diff_summary": {{{flags}}}}}"#
            );
            match parse(l.as_bytes(), &mut Default::default()).unwrap() {
                Line::Record(r) => r.diff.unwrap(),
                Line::Blank => unreachable!(),
            }
        };
        let plain = diff(
            r#""intent_mismatch": true, "entity_key_mismatch": true, "decision_type_mismatch": true, "action_count_mismatch": true"#,
        );
        assert_eq!(
            plain,
            Diff {
                intent_mismatch: true,
                entity_key_mismatch: true,
                decision_type_mismatch: true,
                action_count_mismatch: true
            }
        );
        let escaped = diff(
            r#""intent\u005fmismatch": true, "\u0065ntity_key_mismatch": true, "decision_type_mismatc\u0068": true, "action\u005Fcount_mismatch": true"#,
        );
        assert_eq!(escaped, plain);
    }

    #[test]
    fn analyzer_rules() {
        let l = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "trace_id": "t", "corridor_intent": "add_shopping_item", "sample_rate": 0.01, "sampled": true, "status": "accepted_llm", "reason_code": "", "latency_ms": 120, "model_meta": {"provider": "x", "nested": [1, {"a": null}]}, "baseline_summary": null, "llm_summary": {"intent": "add_shopping_item"}, "diff_summary": {"intent_mismatch": true, "entity_key_mismatch": "yes"}}"#;
        let Line::Record(r) = parse(l, &mut Default::default()).unwrap() else {
            panic!()
        };
        assert!(r.sampled);
        assert!(matches!(r.status, Status::Text(s) if s.text(l) == "accepted_llm"));
        assert!(
            r.reason_code.is_none(),
            "empty reason codes are not counted"
        );
        assert_eq!(r.latency_ms, Some(120.0));
        assert_eq!(r.sample_rate, Some(0.01));
        assert_eq!(
            r.diff,
            Some(Diff {
                intent_mismatch: true,
                ..Diff::default()
            })
        );
        let l = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "latency_ms": "slow", "diff_summary": null}"#;
        let Line::Record(r) = parse(l, &mut Default::default()).unwrap() else {
            panic!()
        };
        assert_eq!(r.latency_ms, None);
        assert_eq!(r.diff, None);
    }
}
