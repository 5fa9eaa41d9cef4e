//! Report-to-report regressions. Works on the JSON form of `summarize` and
//! `risk` reports: every percentile of every group and step, and every rate
//! that carries its counts (`rates.NAME.{numerator,denominator}`).
//!
//! A latency percentile regresses when it grew by more than
//! `max_latency_regression` (relative), judged only when both sides hold
//! enough values for it ([`min_values`]: 10 beyond the percentile). A rate regresses when it moved the
//! bad way by more than `max_rate_increase` (absolute) and the move is
//! significant by a two-sided pooled two-proportion z-test at `alpha`
//! divided by the number of rates compared (Bonferroni).
//! Which way is bad comes from the kind's own description of its figures
//! ([`crate::kinds::direction`]): up for latencies and error or mismatch
//! rates, down for success, acceptance and agreement rates; a figure with
//! no bad way (the shadow router's confidence) is listed, not judged.
//!
//! Only documents of one kind compare ([`Document`]): every report names
//! the command that wrote it (`meta.command`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::measure::view::{Block, Changes, View};
use crate::stats::two_proportion_p;

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    pub max_latency_regression: f64,
    pub max_rate_increase: f64,
    pub alpha: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            max_latency_regression: 0.10,
            max_rate_increase: 0.01,
            alpha: 0.05,
        }
    }
}

/// One number found in a report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency percentile in ms over `count` values.
    Latency {
        value: f64,
        count: u64,
    },
    Rate {
        numerator: u64,
        denominator: u64,
    },
}

pub use crate::report::Direction;

/// What a JSON document is, from the command that wrote it
/// (`meta.command`), or by its keys for reports written before it was
/// recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// `summarize` or `merge`.
    Summary,
    /// `summarize --by hour|day`.
    SummaryBy,
    Risk,
    Shadow,
    Stats,
    Comparison,
    Unknown,
}

impl Document {
    pub fn of(v: &Value) -> Document {
        let command = v
            .get("meta")
            .and_then(|m| m.get("command"))
            .and_then(Value::as_str);
        let has = |k: &str| v.get(k).is_some();
        match command {
            // `serve`'s /report is summarize's document of its window.
            Some("summarize" | "merge" | "serve") if has("buckets") => Document::SummaryBy,
            Some("summarize" | "merge" | "serve") => Document::Summary,
            Some("risk") => Document::Risk,
            Some("shadow") => Document::Shadow,
            Some("stats") => Document::Stats,
            Some(_) => Document::Unknown,
            None if has("buckets") => Document::SummaryBy,
            None if has("regressions") && has("metrics") => Document::Comparison,
            None if has("total_records") && has("agreement_rate") => Document::Shadow,
            None if has("total_records") => Document::Risk,
            None if has("latency") => Document::Summary,
            None if has("spec") && has("groups") => Document::Stats,
            None => Document::Unknown,
        }
    }

    /// `summarize`, `risk`, ...: as messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Document::Summary => "summarize",
            Document::SummaryBy => "summarize --by",
            Document::Risk => "risk",
            Document::Shadow => "shadow",
            Document::Stats => "stats",
            Document::Comparison => "compare",
            Document::Unknown => "unknown",
        }
    }

    /// Why `compare` does not take a document of this kind, and what it
    /// takes instead; `None` when it does.
    pub fn refused(self) -> Option<&'static str> {
        match self {
            Document::Summary | Document::Risk | Document::Shadow => None,
            Document::SummaryBy => Some(
                "a `summarize --by` report holds one report per hour or day; compare takes one report a side: summarize each period with --day or --since/--until",
            ),
            Document::Stats => Some(
                "`stats` reports are not compared (their groups and values are the user's own, with no direction to judge); compare takes `summarize`, `merge`, `risk` and `shadow` reports",
            ),
            Document::Comparison => Some("it is the output of `compare` itself"),
            Document::Unknown => Some(
                "it is JSON but not an aggmetrics report: compare takes `summarize`, `merge`, `risk` and `shadow` reports (--format json) or log folders",
            ),
        }
    }

    /// Which way the figure at `path` gets worse, as its kind describes
    /// it.
    pub fn direction(self, path: &str) -> Direction {
        match self {
            Document::Summary => match path.split_once('.') {
                Some((section, figure)) => crate::kinds::direction(section, figure),
                None => Direction::Up,
            },
            Document::Risk => crate::kinds::direction("risk", path),
            Document::Shadow => crate::kinds::direction("shadow", path),
            _ => Direction::Up,
        }
    }
}

/// Subtrees that hold no comparable figures (or repeat them per day).
const SKIP: &[&str] = &[
    "meta",
    "skipped",
    "by_day",
    "buckets",
    "verdict",
    "time_range",
];

/// Every comparable number of a report, by key path.
pub fn metrics(report: &Value) -> BTreeMap<String, Metric> {
    let mut out = BTreeMap::new();
    if let Value::Object(m) = report {
        walk(m, "", &mut out);
    }
    out
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn is_percentile_key(k: &str) -> bool {
    k.strip_prefix('p').is_some_and(|r| {
        !r.is_empty() && r.parse::<f64>().is_ok_and(|x| (0.0..=100.0).contains(&x))
    })
}

fn walk(m: &Map<String, Value>, prefix: &str, out: &mut BTreeMap<String, Metric>) {
    // A stats object: {"p50": .., "count": n}.
    let count = m.get("count").and_then(Value::as_u64);
    // A risk object: {"latency_p95": .., "latency_count": n}.
    let latency_count = m.get("latency_count").and_then(Value::as_u64);
    for (k, v) in m {
        if SKIP.contains(&k.as_str()) {
            continue;
        }
        match v {
            Value::Number(n) => {
                let Some(x) = n.as_f64() else { continue };
                if let (true, Some(c)) = (is_percentile_key(k), count) {
                    out.insert(join(prefix, k), Metric::Latency { value: x, count: c });
                } else if let (Some(p), Some(c)) = (k.strip_prefix("latency_"), latency_count) {
                    if is_percentile_key(p) {
                        out.insert(join(prefix, k), Metric::Latency { value: x, count: c });
                    }
                }
            }
            Value::Object(inner) if k == "rates" => {
                for (name, r) in inner {
                    let num = r.get("numerator").and_then(Value::as_u64);
                    let den = r.get("denominator").and_then(Value::as_u64);
                    if let (Some(numerator), Some(denominator)) = (num, den) {
                        out.insert(
                            join(prefix, name),
                            Metric::Rate {
                                numerator,
                                denominator,
                            },
                        );
                    }
                }
            }
            Value::Object(inner) => walk(inner, &join(prefix, k), out),
            _ => {}
        }
    }
}

/// One compared figure (the view's [`Change`], as the JSON report writes it).
pub use crate::measure::view::Change as Row;

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub base: String,
    pub candidate: String,
    pub thresholds: Thresholds,
    /// Key paths of the regressions, worst first.
    pub regressions: Vec<String>,
    /// Every compared figure, regressions first.
    pub metrics: Vec<Row>,
    pub only_in_base: Vec<String>,
    pub only_in_candidate: Vec<String>,
}

impl Comparison {
    /// The comparison as renderers draw it: one block of changes.
    pub fn view(&self) -> View {
        View {
            key: "compare".into(),
            title: "Base against candidate".into(),
            records: 0,
            counts: Vec::new(),
            blocks: vec![Block::Changes(Changes {
                rows: self.metrics.clone(),
                only_in_base: self.only_in_base.clone(),
                only_in_candidate: self.only_in_candidate.clone(),
            })],
            trend: Vec::new(),
        }
    }
}

pub fn compare(
    base: &Value,
    candidate: &Value,
    base_label: &str,
    candidate_label: &str,
    doc: Document,
    t: &Thresholds,
) -> Comparison {
    let a = metrics(base);
    let b = metrics(candidate);
    // Many rates are tested at once: each at alpha / m (Bonferroni), so
    // the chance that noise alone flags any of them stays at alpha. A
    // daily gate that compared six rates at 0.05 each would cry wolf about
    // one day in four.
    let has = |m: Option<&Metric>| matches!(m, Some(Metric::Rate { denominator, .. }) if *denominator > 0);
    let m = a
        .iter()
        .filter(|(p, ma)| has(Some(ma)) && has(b.get(*p)))
        .count();
    let per_test = Thresholds {
        alpha: t.alpha / m.max(1) as f64,
        ..*t
    };
    let mut rows = Vec::new();
    for (path, ma) in &a {
        let Some(mb) = b.get(path) else { continue };
        if let Some(row) = judge(path, ma, mb, &per_test, doc.direction(path)) {
            rows.push(row);
        }
    }
    // Regressions first, the most severe first; then by path. Severity is
    // one scale across kinds: how many times its allowance a figure moved
    // (a latency's relative growth over `max_latency_regression`, a rate's
    // move over `max_rate_increase`), so an error rate that went from 3.6%
    // to 29.4% (26 allowances) comes before a p99 up 40% (4).
    let severity = |r: &Row| match r.kind {
        "rate" => r.change.abs() / t.max_rate_increase.max(f64::MIN_POSITIVE),
        _ => {
            r.relative_change.unwrap_or(0.0).abs() / t.max_latency_regression.max(f64::MIN_POSITIVE)
        }
    };
    rows.sort_by(|x, y| {
        y.regression
            .cmp(&x.regression)
            .then_with(|| {
                if x.regression {
                    severity(y).total_cmp(&severity(x))
                } else {
                    std::cmp::Ordering::Equal
                }
            })
            .then_with(|| x.path.cmp(&y.path))
    });
    Comparison {
        base: base_label.to_string(),
        candidate: candidate_label.to_string(),
        thresholds: *t,
        regressions: rows
            .iter()
            .filter(|r| r.regression)
            .map(|r| r.path.clone())
            .collect(),
        metrics: rows,
        only_in_base: a.keys().filter(|k| !b.contains_key(*k)).cloned().collect(),
        only_in_candidate: b.keys().filter(|k| !a.contains_key(*k)).cloned().collect(),
    }
}

/// Values a percentile needs beyond it, on each side, before a change in
/// it is judged: p99 over 50 values is the largest of them, and a 10% move
/// in it is noise, not a regression.
pub const MIN_TAIL: u64 = 10;
/// And at least this many values in all: a median of 50 values moves
/// 10% from sample to sample.
pub const MIN_VALUES: u64 = 100;

/// How many values a percentile named by `path`'s last key (`p99`,
/// `latency_p95`, `p99.9`) needs: `MIN_TAIL / (1 - q)` and at least
/// `MIN_VALUES`, so p50 needs 100, p95 200, p99 1,000. 1 for anything
/// else.
pub fn min_values(path: &str) -> u64 {
    // The number after the last `p` that starts a key or follows `_`
    // (`...total_ms.p99.9`, `latency_p95`).
    let q = path
        .char_indices()
        .rfind(|&(i, c)| c == 'p' && (i == 0 || matches!(path.as_bytes()[i - 1], b'.' | b'_')))
        .and_then(|(i, _)| path[i + 1..].parse::<f64>().ok())
        .filter(|p| (0.0..100.0).contains(p));
    match q {
        // Less a hair, so 10 / 0.001 is 10,000 and not 10,001.
        Some(p) => MIN_VALUES.max((MIN_TAIL as f64 * 100.0 / (100.0 - p) - 1e-9).ceil() as u64),
        None => 1,
    }
}

/// Compare one figure; `None` when neither side has data for it.
pub fn judge(path: &str, a: &Metric, b: &Metric, t: &Thresholds, dir: Direction) -> Option<Row> {
    match (*a, *b) {
        (
            Metric::Latency {
                value: x,
                count: na,
            },
            Metric::Latency {
                value: y,
                count: nb,
            },
        ) => {
            if na == 0 && nb == 0 {
                return None;
            }
            let rel = (x > 0.0).then(|| (y - x) / x);
            let need = min_values(path);
            // The relative move the bad way.
            let worse = rel.map(|r| if dir == Direction::Down { -r } else { r });
            let (regression, note) = if dir == Direction::Neither {
                (
                    false,
                    "not judged: neither way is worse for this figure".to_string(),
                )
            } else if na == 0 || nb == 0 {
                (false, "no values on one side: not judged".to_string())
            } else if na.min(nb) < need {
                (
                    false,
                    format!(
                        "too few values to judge this percentile (n = {}; {need} needed on each side)",
                        na.min(nb)
                    ),
                )
            } else {
                match worse {
                    Some(r) if r > t.max_latency_regression => (
                        true,
                        format!(
                            "{} {:.1}% (> {:.1}% allowed)",
                            if dir == Direction::Down {
                                "fell"
                            } else {
                                "grew"
                            },
                            r * 100.0,
                            t.max_latency_regression * 100.0
                        ),
                    ),
                    Some(_) => (false, String::new()),
                    None if y > 0.0 => (false, "base is 0: no relative change".into()),
                    None => (false, String::new()),
                }
            };
            Some(Row {
                path: path.to_string(),
                kind: if dir == Direction::Neither {
                    "value"
                } else {
                    "latency_ms"
                },
                base: x,
                candidate: y,
                change: y - x,
                relative_change: rel,
                p_value: None,
                base_n: na,
                candidate_n: nb,
                regression,
                note,
            })
        }
        (
            Metric::Rate {
                numerator: ka,
                denominator: na,
            },
            Metric::Rate {
                numerator: kb,
                denominator: nb,
            },
        ) => {
            if na == 0 && nb == 0 {
                return None;
            }
            let x = if na == 0 { 0.0 } else { ka as f64 / na as f64 };
            let y = if nb == 0 { 0.0 } else { kb as f64 / nb as f64 };
            let p = two_proportion_p(ka, na, kb, nb);
            let worse = if dir == Direction::Down { x - y } else { y - x };
            let (regression, note) = if dir == Direction::Neither {
                (
                    false,
                    "not judged: neither way is worse for this figure".to_string(),
                )
            } else if na == 0 || nb == 0 {
                (false, "no records on one side: not judged".to_string())
            } else if worse > t.max_rate_increase {
                if p < t.alpha {
                    (
                        true,
                        format!(
                            "{} by {:.4} (> {} allowed), p = {:.2e} < {:.4} (alpha over the rates compared)",
                            if dir == Direction::Down {
                                "fell"
                            } else {
                                "rose"
                            },
                            worse,
                            t.max_rate_increase,
                            p,
                            t.alpha
                        ),
                    )
                } else {
                    (
                        false,
                        format!(
                            "moved {:.4} the bad way but p = {p:.3} >= {:.4} (alpha over the rates compared): may be noise",
                            worse, t.alpha
                        ),
                    )
                }
            } else {
                (false, String::new())
            };
            Some(Row {
                path: path.to_string(),
                kind: "rate",
                base: x,
                candidate: y,
                change: y - x,
                relative_change: (x > 0.0).then(|| (y - x) / x),
                p_value: Some(p),
                base_n: na,
                candidate_n: nb,
                regression,
                note,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_document_is_known_by_its_command_or_by_its_keys() {
        use Document::*;
        let cmd = |c: &str, extra: Value| {
            let mut v = json!({"meta": {"command": c}});
            if let (Value::Object(m), Value::Object(e)) = (&mut v, extra) {
                m.extend(e);
            }
            v
        };
        for (v, want) in [
            (cmd("summarize", json!({"latency": {}})), Summary),
            (cmd("merge", json!({"buckets": []})), SummaryBy),
            (cmd("risk", json!({"latency": {}})), Risk),
            (cmd("shadow", json!({})), Shadow),
            (cmd("stats", json!({"latency": {}})), Stats),
            (cmd("other", json!({"latency": {}})), Unknown),
            // Reports written before meta.command: by their keys.
            (json!({"buckets": [], "latency": {}}), SummaryBy),
            (json!({"regressions": [], "metrics": []}), Comparison),
            (json!({"regressions": []}), Unknown),
            (json!({"metrics": []}), Unknown),
            (json!({"total_records": 1, "agreement_rate": 0.5}), Shadow),
            (json!({"agreement_rate": 0.5}), Unknown),
            (json!({"total_records": 1}), Risk),
            (json!({"latency": {}}), Summary),
            (json!({"spec": {}, "groups": []}), Stats),
            (json!({"spec": {}}), Unknown),
            (json!({"groups": []}), Unknown),
            (json!({}), Unknown),
        ] {
            assert_eq!(Document::of(&v), want, "{v}");
        }
    }

    #[test]
    fn latency_judged_the_bad_way_and_not_on_one_empty_side() {
        let t = Thresholds::default();
        let m = |value: f64, count: u64| Metric::Latency { value, count };
        // Down: lower is worse. 100 -> 50 with 1,000 values is a regression;
        // 100 -> 200 is not.
        let down = judge(
            "x.p50",
            &m(100.0, 1000),
            &m(50.0, 1000),
            &t,
            Direction::Down,
        )
        .unwrap();
        assert!(down.regression, "{down:?}");
        let up = judge(
            "x.p50",
            &m(100.0, 1000),
            &m(200.0, 1000),
            &t,
            Direction::Down,
        )
        .unwrap();
        assert!(!up.regression, "{up:?}");
        let up = judge("x.p50", &m(100.0, 1000), &m(200.0, 1000), &t, Direction::Up).unwrap();
        assert!(up.regression, "{up:?}");
        // A rate with no records on one side is not judged, either side.
        let r = |numerator: u64, denominator: u64| Metric::Rate {
            numerator,
            denominator,
        };
        for (a, b) in [(r(0, 0), r(50, 100)), (r(50, 100), r(0, 0))] {
            let row = judge("x_rate", &a, &b, &t, Direction::Up).unwrap();
            assert!(!row.regression);
            assert_eq!(row.note, "no records on one side: not judged", "{row:?}");
        }
        // One side without values: said so, not called too few.
        for (a, b) in [(m(0.0, 0), m(5.0, 1000)), (m(5.0, 1000), m(0.0, 0))] {
            let r = judge("x.p50", &a, &b, &t, Direction::Up).unwrap();
            assert!(!r.regression);
            assert_eq!(r.note, "no values on one side: not judged", "{r:?}");
        }
    }

    #[test]
    fn finds_percentiles_and_rates() {
        let v = json!({
            "latency": {"all": {"count": 3, "total_ms": {"p50": 1.0, "p99.9": 2.0, "min": 0.5, "count": 3}}},
            "fallback": {"error_rate": 0.1, "rates": {"error_rate": {"value": 0.1, "numerator": 1, "denominator": 10}}},
            "latency_p95": 7.0, "latency_count": 4,
            "meta": {"x": {"p50": 1, "count": 1}}
        });
        let m = metrics(&v);
        let keys: Vec<&str> = m.keys().map(|s| s.as_str()).collect();
        assert_eq!(
            keys,
            [
                "fallback.error_rate",
                "latency.all.total_ms.p50",
                "latency.all.total_ms.p99.9",
                "latency_p95"
            ]
        );
        assert_eq!(
            m["fallback.error_rate"],
            Metric::Rate {
                numerator: 1,
                denominator: 10
            }
        );
    }

    #[test]
    fn many_rates_share_one_alpha() {
        let t = Thresholds::default();
        let rate = |k: u64, n: u64| json!({"value": k as f64 / n as f64, "numerator": k, "denominator": n});
        // error_rate 10/400 -> 23/400: p about 0.02.
        let report = |errors: u64, others: usize| {
            let mut rates = serde_json::Map::new();
            rates.insert("error_rate".into(), rate(errors, 400));
            for i in 0..others {
                rates.insert(format!("other_{i}_rate"), rate(40, 400));
            }
            json!({"rates": Value::Object(rates)})
        };
        let alone = compare(&report(10, 0), &report(23, 0), "a", "b", Document::Risk, &t);
        assert_eq!(alone.regressions, ["error_rate"], "{:?}", alone.metrics);
        // Among six rates the same move could be noise in one of six.
        let among = compare(&report(10, 5), &report(23, 5), "a", "b", Document::Risk, &t);
        assert!(among.regressions.is_empty(), "{:?}", among.metrics[0]);
        assert!(among
            .metrics
            .iter()
            .any(|r| r.note.contains("may be noise")));
    }

    #[test]
    fn percentiles_need_values_beyond_them() {
        assert_eq!(min_values("latency.all.total_ms.p50"), 100);
        assert_eq!(min_values("latency_p95"), 200);
        assert_eq!(min_values("latency.all.steps.rerank_ms.p99"), 1000);
        assert_eq!(min_values("latency.all.total_ms.p99.9"), 10000);
        assert_eq!(min_values("fallback.error_rate"), 1);
        let t = Thresholds::default();
        let lat = |v, n| Metric::Latency { value: v, count: n };
        // p99 up 40% over 57 values: noise, not judged.
        let r = judge(
            "latency_p99",
            &lat(560.0, 400),
            &lat(799.0, 57),
            &t,
            Direction::Up,
        )
        .unwrap();
        assert!(
            !r.regression && r.note.contains("too few values"),
            "{}",
            r.note
        );
        // The same move over enough values is a regression.
        let r = judge(
            "latency_p99",
            &lat(560.0, 4000),
            &lat(799.0, 1200),
            &t,
            Direction::Up,
        )
        .unwrap();
        assert!(r.regression, "{}", r.note);
    }

    #[test]
    fn direction_and_significance() {
        let t = Thresholds::default();
        let r = |ka, na, kb, nb, path: &str| {
            judge(
                path,
                &Metric::Rate {
                    numerator: ka,
                    denominator: na,
                },
                &Metric::Rate {
                    numerator: kb,
                    denominator: nb,
                },
                &t,
                Document::Summary.direction(path),
            )
            .unwrap()
        };
        assert!(r(100, 10_000, 300, 10_000, "error_rate").regression);
        // The same rise on 40 records is noise.
        assert!(!r(0, 40, 1, 40, "error_rate").regression);
        // Success rising is no regression; falling is.
        assert!(!r(5000, 10_000, 6000, 10_000, "fallback.success_rate").regression);
        assert!(r(6000, 10_000, 5000, 10_000, "fallback.success_rate").regression);
    }
}
