//! `pipeline_latency*.jsonl`: one record per processed command, reported
//! as latency percentiles per group (`all`, `with_llm`, `without_llm`) and
//! per step.
//!
//! Needs `timestamp` (RFC 3339) and `total_ms` (a duration, or null: the
//! record then counts but adds no total). `steps` is an open map of step
//! name -> duration (null values ignored). Only `llm_enabled: true` puts a
//! record in the `with_llm` group; every other value, or none, is
//! `without_llm`, as the platform's script did.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cx, Kind, Parsed};
use crate::measure::dist::{Dist, Mode};
use crate::measure::figures::Stats;
use crate::measure::keyed::{entry_span, Keyed, MAX_KEYS};
use crate::measure::view::{self, Block, GridRow, View};
use crate::parse::{
    begin, duration, good_entries, key_name, open_map, optional, required, timestamp_value, Line,
    Parser, Skip, Slot, Span, Timestamp,
};

#[derive(Debug, Clone, Copy)]
pub struct LatencyRecord {
    pub ts: Timestamp,
    pub total_ms: Option<f64>,
    pub llm_enabled: bool,
}

/// Step values of the line being parsed; reused from line to line so a
/// worker allocates nothing per line.
#[derive(Debug, Default)]
pub struct Steps {
    raw: Vec<(Span, Slot<f64>)>,
    tpl: crate::parse::Template,
}

impl Steps {
    /// The steps of the line with a good value, in first-seen order.
    #[inline]
    pub fn items(&self) -> impl Iterator<Item = (Span, f64)> + '_ {
        good_entries(&self.raw)
    }
}

/// One line. Inlined into the read loop's hot path with the kind's `add`:
/// a call per line costs more than the parse of a short record (measured
/// in docs/performance.md, "the newline search, and what the run loop
/// holds").
#[inline(always)]
pub fn parse(line: &[u8], steps: &mut Steps) -> Result<Line<LatencyRecord>, Skip> {
    steps.raw.clear();
    let mut p = Parser::with_template(line, &mut steps.tpl);
    if !begin(&mut p)? {
        return Ok(Line::Blank);
    }
    let mut ts = Slot::Missing;
    let mut total = Slot::Missing;
    let mut llm = false;
    let classify = |k: Span, line: &[u8]| field(&key_name(k, line));
    let mut key = p.first_field(classify)?;
    while let Some((_, f)) = key {
        match f {
            1 /* total_ms */ => total = duration(p.value_mostly_number()?),
            2 /* timestamp */ => ts = timestamp_value(&mut p, line)?,
            3 /* llm_enabled */ => llm = p.is_true()?,
            // Not the core: a step with a bad value, or a `steps` that is
            // not an object, is left out and the record counts.
            4 /* steps */ => open_map(&mut p, line, &mut steps.raw, |p| p.value_mostly_number(), duration)?,
            _ => p.skip_field()?,
        }
        key = p.next_field(classify)?;
    }
    p.finish()?;
    let ts = required(ts)?;
    let total_ms = match total {
        Slot::Missing => return Err(Skip::MissingField),
        other => optional(other)?,
    };
    Ok(Line::Record(LatencyRecord {
        ts,
        total_ms,
        llm_enabled: llm,
    }))
}

/// Which field a top-level key names (0 = none we read).
#[inline(always)]
fn field(name: &[u8]) -> u8 {
    if crate::parse::bytes_eq(name, b"total_ms") {
        1
    } else if crate::parse::bytes_eq(name, b"timestamp") {
        2
    } else if crate::parse::bytes_eq(name, b"llm_enabled") {
        3
    } else if crate::parse::bytes_eq(name, b"steps") {
        4
    } else {
        0
    }
}

// ---- accumulator ----

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyGroup {
    pub count: u64,
    pub total: Dist,
    pub steps: Keyed<Dist>,
}

impl LatencyGroup {
    pub fn new(mode: Mode) -> Self {
        LatencyGroup {
            count: 0,
            total: Dist::new(mode),
            steps: Keyed::new(MAX_KEYS),
        }
    }
    pub fn merge(&mut self, o: &LatencyGroup) {
        self.count += o.count;
        self.total.merge(&o.total);
        self.steps.merge(&o.steps);
    }
    pub fn finish(&mut self) {
        self.total.finish();
        for (_, d) in self.steps.sorted_mut() {
            d.finish();
        }
    }
}

/// The two groups records are split into; `all` is merged from them when
/// the section is built, so each value is recorded once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyAcc {
    pub with_llm: LatencyGroup,
    pub without_llm: LatencyGroup,
}

impl LatencyAcc {
    /// The `all` group.
    pub fn all(&self) -> LatencyGroup {
        let mut all = self.with_llm.clone();
        all.merge(&self.without_llm);
        all.finish();
        all
    }
}

/// The last parsed record and its steps.
#[derive(Debug, Default)]
pub struct Scratch {
    steps: Steps,
    total_ms: Option<f64>,
    llm_enabled: bool,
}

// ---- report section ----

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Records in the group.
    pub count: u64,
    pub total_ms: Stats,
    /// Step name -> stats over the records that have that step.
    pub steps: BTreeMap<String, Stats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatencySection {
    pub all: Group,
    pub with_llm: Group,
    pub without_llm: Group,
}

fn group(g: &LatencyGroup, ps: &[f64]) -> Group {
    Group {
        count: g.count,
        total_ms: Stats::of(&g.total, ps),
        steps: g
            .steps
            .sorted()
            .into_iter()
            .map(|(k, d)| (k.to_string(), Stats::of(d, ps)))
            .collect(),
    }
}

// ---- the kind ----

pub struct Latency;

impl Kind for Latency {
    const STEM: &'static str = "pipeline_latency";
    const IN_TIME_RANGE: bool = true;
    type Scratch = Scratch;
    type Options = ();

    fn open_maps() -> &'static [super::OpenMap] {
        use super::{OpenEntry::LikeSibling, OpenMap};
        &[
            OpenMap {
                path: &["all", "steps"],
                entry: LikeSibling("total_ms"),
            },
            OpenMap {
                path: &["with_llm", "steps"],
                entry: LikeSibling("total_ms"),
            },
            OpenMap {
                path: &["without_llm", "steps"],
                entry: LikeSibling("total_ms"),
            },
        ]
    }
    type Acc = LatencyAcc;
    type Section = LatencySection;

    fn new(mode: Mode) -> LatencyAcc {
        LatencyAcc {
            with_llm: LatencyGroup::new(mode),
            without_llm: LatencyGroup::new(mode),
        }
    }

    fn merge(acc: &mut LatencyAcc, o: &LatencyAcc) {
        acc.with_llm.merge(&o.with_llm);
        acc.without_llm.merge(&o.without_llm);
    }

    fn finish(acc: &mut LatencyAcc) {
        acc.with_llm.finish();
        acc.without_llm.finish();
    }

    #[inline(always)]
    fn parse(s: &mut Scratch, line: &[u8], _cfg: &Cx) -> Result<Parsed, Skip> {
        match parse(line, &mut s.steps)? {
            Line::Blank => Ok(Parsed::Blank),
            Line::Record(r) => {
                s.total_ms = r.total_ms;
                s.llm_enabled = r.llm_enabled;
                Ok(Parsed::Record(r.ts))
            }
        }
    }

    #[inline(always)]
    fn add(acc: &mut LatencyAcc, s: &mut Scratch, _ts: Option<&Timestamp>, line: &[u8], cfg: &Cx) {
        let g = if s.llm_enabled {
            &mut acc.with_llm
        } else {
            &mut acc.without_llm
        };
        g.count += 1;
        if let Some(ms) = s.total_ms {
            g.total.record(ms);
        }
        for (name, ms) in s.steps.items() {
            match entry_span(&mut g.steps, name, line, || Dist::new(cfg.mode)) {
                Some(d) => d.record(ms),
                None => g.steps.miss(&name.text(line), 1),
            }
        }
    }

    fn records(acc: &LatencyAcc) -> u64 {
        acc.with_llm.count + acc.without_llm.count
    }

    fn keys_dropped(acc: &LatencyAcc) -> u64 {
        acc.with_llm.steps.overflow + acc.without_llm.steps.overflow
    }

    fn section(acc: &LatencyAcc, ps: &[f64], _parse_errors: u64) -> LatencySection {
        LatencySection {
            all: group(&acc.all(), ps),
            with_llm: group(&acc.with_llm, ps),
            without_llm: group(&acc.without_llm, ps),
        }
    }

    /// Groups side by side: `total_ms` with its mean and max, then each
    /// step seen in any group.
    fn view(l: &LatencySection) -> View {
        let groups = [&l.all, &l.with_llm, &l.without_llm];
        let mut rows = vec![GridRow {
            name: "total_ms".into(),
            series: "total_ms",
            label: None,
            cells: groups.iter().map(|g| Some(g.total_ms.clone())).collect(),
            detail: true,
        }];
        for name in l.all.steps.keys() {
            rows.push(GridRow {
                name: name.clone(),
                series: "step_ms",
                label: Some("step"),
                cells: groups.iter().map(|g| g.steps.get(name).cloned()).collect(),
                detail: false,
            });
        }
        View {
            key: "latency".into(),
            title: "Latency (ms)".into(),
            records: l.all.count,
            counts: Vec::new(),
            blocks: vec![Block::Grid(view::Grid {
                label: "group",
                columns: ["all", "with_llm", "without_llm"]
                    .map(String::from)
                    .to_vec(),
                records: groups.iter().map(|g| g.count).collect(),
                rows,
                union_first: true,
            })],
            trend: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(s: &str) -> Result<(LatencyRecord, Vec<(String, f64)>), Skip> {
        let mut st = Steps::default();
        match parse(s.as_bytes(), &mut st)? {
            Line::Record(r) => Ok((
                r,
                st.items()
                    .map(|(n, v)| (n.text(s.as_bytes()).into_owned(), v))
                    .collect(),
            )),
            Line::Blank => Err(Skip::MissingField),
        }
    }

    const TS: &str = r#""timestamp": "2026-02-10T12:00:00.000000+00:00""#;

    #[test]
    fn documented_example() {
        let l = r#"{"command_id": "cmd-001", "trace_id": "trace-abc", "total_ms": 15.4, "steps": {"validate_command_ms": 0.3, "detect_intent_ms": 1.2, "registry_ms": 0.1, "core_logic_ms": 13.5, "validate_decision_ms": 0.3}, "llm_enabled": false, "timestamp": "2026-02-10T12:00:00.000000+00:00"}"#;
        let (r, steps) = rec(l).unwrap();
        assert_eq!(r.total_ms, Some(15.4));
        assert!(!r.llm_enabled);
        assert_eq!(steps.len(), 5);
        assert_eq!(steps[3], ("core_logic_ms".to_string(), 13.5));
    }

    #[test]
    fn field_rules() {
        assert_eq!(rec(&format!("{{{TS}}}")).unwrap_err(), Skip::MissingField);
        assert_eq!(
            rec(&format!(r#"{{{TS}, "total_ms": "5"}}"#)).unwrap_err(),
            Skip::WrongType
        );
        assert_eq!(
            rec(&format!(r#"{{{TS}, "total_ms": -1}}"#)).unwrap_err(),
            Skip::NegativeValue
        );
        assert_eq!(
            rec(&format!(r#"{{{TS}, "total_ms": 1e13}}"#)).unwrap_err(),
            Skip::OutOfRange
        );
        assert_eq!(
            rec(&format!(r#"{{{TS}, "total_ms": NaN}}"#)).unwrap_err(),
            Skip::NonFinite
        );
        assert_eq!(
            rec(&format!(r#"{{{TS}, "total_ms": Infinity}}"#)).unwrap_err(),
            Skip::NonFinite
        );
        // Steps are not the core: a bad one, or a `steps` that is not an
        // object, is left out and the record counts.
        let (r, s) = rec(&format!(
            r#"{{{TS}, "total_ms": 1, "steps": {{"a": NaN, "b": "x", "c": -1, "d": 2}}}}"#
        ))
        .unwrap();
        assert_eq!((r.total_ms, s.len()), (Some(1.0), 1));
        let (_, s) = rec(&format!(r#"{{{TS}, "total_ms": 1, "steps": 3}}"#)).unwrap();
        assert!(s.is_empty());
        assert_eq!(rec(r#"{"total_ms": 1}"#).unwrap_err(), Skip::MissingField);
        assert_eq!(
            rec(r#"{"total_ms": 1, "timestamp": "noon"}"#).unwrap_err(),
            Skip::BadTimestamp
        );
        let (r, s) = rec(&format!(
            r#"{{{TS}, "total_ms": null, "steps": null, "llm_enabled": "true"}}"#
        ))
        .unwrap();
        assert_eq!(r.total_ms, None);
        assert!(!r.llm_enabled, "only JSON true counts");
        assert!(s.is_empty());
        // Duplicates: the last one wins, including over a bad earlier value.
        let (r, s) = rec(&format!(r#"{{{TS}, "total_ms": "x", "total_ms": 2, "steps": {{"a": 1, "a": 3, "b": null}}, "llm_enabled": true}}"#)).unwrap();
        assert_eq!(r.total_ms, Some(2.0));
        assert!(r.llm_enabled);
        assert_eq!(s, vec![("a".to_string(), 3.0)]);
        // Escaped key spelling.
        let (r, _) = rec(&format!(r#"{{{TS}, "total\u005fms": 7}}"#)).unwrap();
        assert_eq!(r.total_ms, Some(7.0));
    }

    /// The template never lets a key learned in one context stand for the
    /// same bytes in another.
    #[test]
    fn template_keeps_contexts_apart() {
        let mut st = Steps::default();
        let mut parse_total = |s: &str| match parse(s.as_bytes(), &mut st) {
            Ok(Line::Record(r)) => Ok(r.total_ms),
            Ok(Line::Blank) => Err(Skip::MissingField),
            Err(e) => Err(e),
        };
        // `, "total_ms": ` learned inside `steps` (a nested, templated
        // object), then met at the top level at the same turn: it must be
        // read as the record's total, not as an unknown key.
        assert_eq!(
            parse_total(&format!(
                r#"{{{TS}, "steps": {{"b_ms": 1, "total_ms": 2}}, "total_ms": 3}}"#
            )),
            Ok(Some(3.0))
        );
        assert_eq!(
            parse_total(&format!(
                r#"{{{TS}, "steps": {{"b_ms": 1}}, "total_ms": 5}}"#
            )),
            Ok(Some(5.0))
        );
        // Learned with a comma, then met without one: rejected.
        assert_eq!(
            parse_total(&format!(r#"{{{TS}, "total_ms": 4}}"#)),
            Ok(Some(4.0))
        );
        assert_eq!(
            parse_total(&format!(r#"{{{TS} "total_ms": 4}}"#)),
            Err(Skip::InvalidJson)
        );
        // Learned as a first key, then met as a later one (and back).
        assert_eq!(
            parse_total(&format!(r#"{{"total_ms": 6, {TS}}}"#)),
            Ok(Some(6.0))
        );
        assert_eq!(
            parse_total(&format!(r#"{{{TS}, "total_ms": 8}}"#)),
            Ok(Some(8.0))
        );
        assert_eq!(
            parse_total(&format!(r#"{{"total_ms": 9, {TS}}}"#)),
            Ok(Some(9.0))
        );
    }

    #[test]
    fn escaped_keys_after_a_template() {
        let (r, _) = rec(&format!(r#"{{{TS}, "total_ms": 1}}"#)).unwrap();
        assert_eq!(r.total_ms, Some(1.0));
        let (r, _) = rec(&format!(r#"{{{TS}, "total\u005fms": 7}}"#)).unwrap();
        assert_eq!(r.total_ms, Some(7.0));
    }
}
