//! The key paths a report can ever hold, so a condition (`--fail-on`, a
//! gates file) naming a key that no report has is caught before any log is
//! read, with the nearest key that exists.
//!
//! The schema is the report itself, serialized from an empty run with one
//! placeholder entry (`<name>`) in each open map (step names, outcomes,
//! intents, ...) and in each list: the report's own serializer decides the
//! keys, so the schema cannot drift from it.

use serde_json::{json, Map, Value};

use crate::agg::{Acc, Config, Mode};
use crate::kinds::{LogKind, OpenEntry};
use crate::parse::Skip;
use crate::read::ReadResult;
use crate::report::risk::RiskReport;
use crate::report::Report;

/// The placeholder for any key of an open map, and any index of a list.
pub const ANY: &str = "<name>";

fn empty_read(window: bool) -> ReadResult {
    let mut cfg = Config::new(Mode::Hdr { sigfig: 3 }, 1);
    if window {
        cfg.window = Some((0, 1));
    }
    ReadResult::of_memory(Acc::new(cfg, 1), &[(LogKind::Latency, 0)])
}

fn obj<'v>(v: &'v mut Value, path: &[&str]) -> Option<&'v mut Map<String, Value>> {
    let mut cur = v;
    for k in path {
        cur = cur.get_mut(*k)?;
    }
    cur.as_object_mut()
}

/// Put one `<name>` entry holding `entry` into the map at `path`.
fn open(v: &mut Value, path: &[&str], entry: Value) {
    if let Some(m) = obj(v, path) {
        m.insert(ANY.to_string(), entry);
    }
}

/// The parts every report shares: skipped lines, inputs.
fn common(v: &mut Value) {
    if let Some(m) = obj(v, &["skipped", "by_reason"]) {
        for s in Skip::ALL {
            m.insert(s.name().to_string(), json!(0));
        }
    }
    if let Some(m) = obj(v, &["skipped"]) {
        m.insert(
            "locations".into(),
            json!([{"path": "", "line": 0, "reason": ""}]),
        );
    }
}

/// The key paths of a `summarize` report with these percentiles.
pub fn summary(ps: &[f64]) -> Value {
    let read = empty_read(true);
    let mut v = serde_json::to_value(Report::build(&read, ps)).unwrap_or_default();
    for (section, m) in crate::kinds::open_maps() {
        let mut path = vec![section];
        path.extend_from_slice(m.path);
        open_map(&mut v, &path, m.entry);
    }
    common(&mut v);
    v
}

/// Put one `<name>` entry into the open map at `path` (a section's name,
/// then the map's path in it), shaped as the kind says its entries are.
fn open_map(v: &mut Value, path: &[&str], entry: OpenEntry) {
    let entry = match entry {
        OpenEntry::Count => json!(0),
        OpenEntry::Counts => json!({ ANY: 0 }),
        OpenEntry::LikeSibling(name) => {
            let parent = &path[..path.len() - 1];
            obj(v, parent)
                .and_then(|m| m.get(name).cloned())
                .unwrap_or(Value::Null)
        }
    };
    open(v, path, entry);
}

/// The key paths of an `aggmetrics risk` report.
pub fn risk() -> Value {
    let read = empty_read(true);
    let report = RiskReport::build(&read, true);
    let mut v = serde_json::to_value(&report).unwrap_or_default();
    let mut day = serde_json::to_value(crate::report::risk::RiskMetrics::of(&read.acc.total))
        .unwrap_or_default();
    // The risk section's open maps, at the top of the document and of
    // each day.
    for d in [&mut v, &mut day] {
        for m in <crate::kinds::risk::Risk as crate::kinds::Kind>::open_maps() {
            open_map(d, m.path, m.entry);
        }
    }
    if let Some(m) = v.as_object_mut() {
        m.insert(
            "longest_gap".into(),
            json!({"minutes": 0.0, "from": "", "to": ""}),
        );
        let mut d = json!({"day": "", "start": "", "end": ""});
        if let (Some(a), Some(b)) = (d.as_object_mut(), day.as_object()) {
            a.extend(b.clone());
        }
        m.insert("by_day".into(), json!([d]));
    }
    common(&mut v);
    v
}

/// Why `path` can never name a number in reports shaped like `schema`,
/// with the nearest key that can; `None` when it can.
pub fn check(schema: &Value, path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('.').collect();
    let mut cur = schema;
    let mut i = 0;
    while i < segs.len() {
        let next = match cur {
            // Keys may hold dots (`p99.9`): the longest key that matches
            // wins, as when the condition is evaluated; else any name of an
            // open map.
            Value::Object(m) => (i + 1..=segs.len())
                .rev()
                .find_map(|j| m.get(&segs[i..j].join(".")).map(|x| (x, j)))
                .or_else(|| m.get(ANY).map(|x| (x, i + 1))),
            Value::Array(a) => segs[i]
                .parse::<usize>()
                .ok()
                .and_then(|_| a.first())
                .map(|x| (x, i + 1)),
            _ => None,
        };
        match next {
            Some((n, j)) => {
                cur = n;
                i = j;
            }
            None => return Some(unknown(schema, path)),
        }
    }
    match cur {
        Value::Number(_) => None,
        Value::Object(m) => {
            let keys: Vec<&str> = m.keys().map(|k| k.as_str()).take(8).collect();
            Some(format!(
                "'{path}' is a group of figures, not a number: name one of its keys ({}{})",
                keys.join(", "),
                if m.len() > 8 { ", ..." } else { "" }
            ))
        }
        _ => Some(format!("'{path}' is not a number in any report")),
    }
}

fn unknown(schema: &Value, path: &str) -> String {
    let mut leaves = Vec::new();
    numeric_leaves(schema, String::new(), &mut leaves);
    // Compare with the placeholders standing for the path's own names.
    let best = leaves
        .iter()
        .map(|l| (distance(&fill(l, path), path), l))
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let mut msg = format!("'{path}' is not a key of the report");
    if let Some((_, l)) = best {
        msg.push_str(&format!("; the nearest key is '{l}'"));
    }
    let last = path.rsplit('.').next().unwrap_or("");
    if last.starts_with('p') && last[1..].parse::<f64>().is_ok() {
        msg.push_str(&format!(
            " (percentile keys are those of --percentiles; add {} to it to judge {last})",
            &last[1..]
        ));
    }
    msg.push_str(" (docs/report.md lists every key)");
    msg
}

/// `leaf` with each `<name>` replaced by the path's segment at that place.
fn fill(leaf: &str, path: &str) -> String {
    let segs: Vec<&str> = path.split('.').collect();
    leaf.split('.')
        .enumerate()
        .map(|(i, s)| match (s, segs.get(i)) {
            (ANY, Some(p)) => p,
            _ => s,
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn numeric_leaves(v: &Value, prefix: String, out: &mut Vec<String>) {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                numeric_leaves(x, join(k), out);
            }
        }
        Value::Array(a) => {
            if let Some(x) = a.first() {
                numeric_leaves(x, join(ANY), out);
            }
        }
        Value::Number(_) => out.push(prefix),
        _ => {}
    }
}

/// The name among `names` nearest to `name` (fewest character edits;
/// the first of equals), if any.
pub fn nearest<'a>(name: &str, names: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    names
        .into_iter()
        .map(|n| (distance(n, name), n))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Whether the object at `prefix` (a key path into a report shaped like
/// `schema`) is an open map: its keys are names read from the logs.
pub fn is_open(schema: &Value, prefix: &str) -> bool {
    if prefix.is_empty() {
        return false;
    }
    let mut cur = schema;
    for key in prefix.split('.') {
        cur = match cur {
            Value::Object(m) => match m.get(key).or_else(|| m.get(ANY)) {
                Some(n) => n,
                None => return false,
            },
            Value::Array(a) => match a.first() {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
    }
    cur.as_object().is_some_and(|m| m.contains_key(ANY))
}

/// Levenshtein distance, by characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_keys() {
        let s = summary(&[50.0, 95.0, 99.0]);
        for ok in [
            "fallback.error_rate",
            "latency.with_llm.total_ms.p95",
            "latency.all.steps.rerank_ms.p95",
            "latency.all.steps.any_new_step.max",
            "fallback.outcome_counts.timeout",
            "fallback.by_intent.create_task.error",
            "fallback.rates.error_rate.denominator",
            "fallback.rates.error_rate.wilson_95.1",
            "risk.status_breakdown.error",
            "skipped.total",
            "skipped.by_reason.truncated",
            "meta.window.outside",
        ] {
            assert_eq!(check(&s, ok), None, "{ok}");
        }
        let e = check(&s, "fallback.eror_rate").unwrap();
        assert!(e.contains("nearest key is 'fallback.error_rate'"), "{e}");
        let e = check(&s, "latency.all.step.rerank_ms.p95").unwrap();
        assert!(e.contains("'latency.all.steps.<name>.p95'"), "{e}");
        // A fractional percentile of --percentiles is a key like any other.
        let s9 = summary(&[50.0, 99.9]);
        assert_eq!(check(&s9, "latency.with_llm.total_ms.p99.9"), None);
        assert_eq!(check(&s9, "latency.all.steps.rerank_ms.p99.9"), None);
        assert!(check(&s9, "latency.all.total_ms.p99.5").is_some());
        let e = check(&s, "latency.all.total_ms.p90").unwrap();
        assert!(e.contains("--percentiles"), "{e}");
        assert!(check(&s, "latency.all.total_ms").unwrap().contains("group"));
        assert!(check(&s, "time_range.first")
            .unwrap()
            .contains("not a number"));
        assert!(check(&s, "skipped.by_reason.no_such_reason").is_some());
    }

    #[test]
    fn risk_keys() {
        let s = risk();
        for ok in [
            "error_rate",
            "latency_p95",
            "rates.intent_mismatch_rate.value",
            "status_breakdown.error",
            "days_covered",
            "longest_gap.minutes",
            "by_day.3.error_rate",
            "parse_errors",
        ] {
            assert_eq!(check(&s, ok), None, "{ok}");
        }
        let e = check(&s, "error_rate_").unwrap();
        assert!(e.contains("nearest key is 'error_rate'"), "{e}");
    }

    #[test]
    fn open_maps_are_the_maps_of_names_from_the_logs() {
        let s = summary(&[50.0]);
        assert!(is_open(&s, "latency.all.steps"));
        assert!(is_open(&s, "fallback.outcome_counts"));
        assert!(!is_open(&s, "latency.all"));
        assert!(!is_open(&s, "latency.all.total_ms"));
        assert!(!is_open(&s, ""));
        assert!(!is_open(&s, "no_such_section"));
        // Through an array: each element is shaped like the first.
        let r = risk();
        assert!(!is_open(&r, "by_day.3"));
        let arr = serde_json::json!({"groups": [{ANY: 1}], "fixed": [{"a": 1}]});
        assert!(is_open(&arr, "groups.0"));
        assert!(!is_open(&arr, "fixed.0"));
        assert!(!is_open(&serde_json::json!({"groups": []}), "groups.0"));
    }

    /// Every open map a kind declares is open in the schemas, and named
    /// keys beside it are not: the kinds, not this file, list them.
    #[test]
    fn every_open_map_a_kind_declares_is_open() {
        let s = summary(&[50.0]);
        let maps = crate::kinds::open_maps();
        assert_eq!(maps.len(), 10);
        for (section, m) in &maps {
            let path = format!("{section}.{}", m.path.join("."));
            assert!(is_open(&s, &path), "{path}");
        }
        assert_eq!(check(&s, "latency.without_llm.steps.x.p50"), None);
        assert_eq!(check(&s, "fallback.components.llm_client.error"), None);
        assert_eq!(check(&s, "risk.reason_code_breakdown.accepted"), None);
        let r = risk();
        for m in <crate::kinds::risk::Risk as crate::kinds::Kind>::open_maps() {
            let path = m.path.join(".");
            assert!(is_open(&r, &path), "{path}");
            assert!(is_open(&r, &format!("by_day.0.{path}")), "by_day.0.{path}");
        }
    }
}
