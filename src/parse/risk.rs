//! `partial_trust_risk*.jsonl`: the partial-trust corridor's decisions.
//!
//! Needs `timestamp`. Follows the platform's analyzer: `sampled` counts only
//! when JSON `true`; `status` is counted as written, except that a missing
//! one is `unknown` (`rec.get("status", "unknown")`: `""` stays `""`, and
//! `null` is the analyzer's `None`, written `null` in its JSON); only non-empty
//! string `reason_code`s are broken down; `latency_ms` counts only when it
//! is a number (a negative or out-of-range one makes the line damaged);
//! mismatch flags count only inside a `diff_summary` object and only when
//! JSON `true`.

use super::{
    begin, category, check_duration, key_name, required, timestamp_field, Line, Parser, Skip, Slot,
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

pub fn parse(line: &[u8], tpl: &mut super::Template) -> Result<Line<RiskRecord>, Skip> {
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
            1 /* timestamp */ => ts = timestamp_field(line, p.value()?),
            2 /* status */ => status = category(p.value()?),
            3 /* reason_code */ => {
                reason = match p.value()? {
                    Val::Str(s) if !s.is_empty() => Some(s),
                    _ => None,
                }
            }
            4 /* sampled */ => sampled = p.value()? == Val::Bool(true),
            5 /* sample_rate */ => {
                rate = match p.value()? {
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
                    let t = p.value()? == Val::Bool(true);
                    let slot = match flag.raw(line) {
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
            _ => p.skip_value()?,
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
        latency_ms: super::void(lat),
        diff,
        sample_rate: rate,
    }))
}

/// Which field a top-level key names (0 = none we read).
#[inline(always)]
fn field(name: &[u8]) -> u8 {
    if super::bytes_eq(name, b"timestamp") {
        1
    } else if super::bytes_eq(name, b"status") {
        2
    } else if super::bytes_eq(name, b"reason_code") {
        3
    } else if super::bytes_eq(name, b"sampled") {
        4
    } else if super::bytes_eq(name, b"sample_rate") {
        5
    } else if super::bytes_eq(name, b"latency_ms") {
        6
    } else if super::bytes_eq(name, b"diff_summary") {
        7
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
