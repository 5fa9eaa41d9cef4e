//! `fallback_metrics*.jsonl`: one record per processed command.
//!
//! Needs `timestamp`. `llm_outcome` (string; missing or null is counted as
//! `unknown`, as the platform's script did), `intent` and `fallback_reason`
//! (string or null), `llm_latency_ms` (duration or null) and `components`
//! (name -> status string) are optional; any of them with another JSON type
//! makes the line `wrong_type`.

use super::{
    begin, category, duration, good_entries, key_name, open_map, required, timestamp_field, void,
    Line, Parser, Skip, Slot, Span, Timestamp, Val,
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
    pub items: Vec<(Span, Span)>,
    raw: Vec<(Span, Slot<Span>)>,
    tpl: super::Template,
}

pub fn parse(line: &[u8], comps: &mut Components) -> Result<Line<FallbackRecord>, Skip> {
    comps.raw.clear();
    comps.items.clear();
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
    let mut comps_bad = None;
    let classify = |k: Span, line: &[u8]| field(&key_name(k, line));
    let mut key = p.first_field(classify)?;
    while let Some((_, f)) = key {
        match f {
            1 /* timestamp */ => ts = timestamp_field(line, p.value()?),
            2 /* llm_outcome */ => outcome = category(p.value()?),
            3 /* intent */ => intent = category(p.value()?),
            4 /* fallback_reason */ => reason = category(p.value()?),
            5 /* llm_latency_ms */ => lat = duration(p.value()?),
            6 /* deterministic_used */ => det = p.value()? == Val::Bool(true),
            7 /* components */ => comps_bad = open_map(&mut p, line, &mut comps.raw, category)?,
            _ => p.skip_value()?,
        }
        key = p.next_field(classify)?;
    }
    p.finish()?;
    let ts = required(ts)?;
    // Only the timestamp is the core: any other field with a bad value is
    // voided alone, and the record counts (as the platform's script did).
    let _ = comps_bad;
    good_entries(&comps.raw, &mut comps.items);
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
    if super::bytes_eq(name, b"timestamp") {
        1
    } else if super::bytes_eq(name, b"llm_outcome") {
        2
    } else if super::bytes_eq(name, b"intent") {
        3
    } else if super::bytes_eq(name, b"fallback_reason") {
        4
    } else if super::bytes_eq(name, b"llm_latency_ms") {
        5
    } else if super::bytes_eq(name, b"deterministic_used") {
        6
    } else if super::bytes_eq(name, b"components") {
        7
    } else {
        0
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
        assert_eq!(c.items.len(), 2);
        // Bad values outside the timestamp void their field alone.
        let odd = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "llm_outcome": 5, "intent": [], "llm_latency_ms": NaN, "components": {"a": 1, "b": "ok"}}"#;
        let Line::Record(r) = parse(odd, &mut c).unwrap() else {
            panic!()
        };
        assert_eq!((r.outcome, r.intent, r.llm_latency_ms), (None, None, None));
        assert_eq!(c.items.len(), 1, "the good component stays");
        let odd = br#"{"timestamp": "2026-02-10T12:00:00+00:00", "components": [], "llm_latency_ms": -Infinity}"#;
        assert!(matches!(parse(odd, &mut c), Ok(Line::Record(_))));
        // The timestamp is the core.
        let bad = br#"{"timestamp": NaN, "llm_outcome": "success"}"#;
        assert_eq!(parse(bad, &mut c).unwrap_err(), Skip::WrongType);
    }
}
