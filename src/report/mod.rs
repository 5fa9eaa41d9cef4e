//! The plain report model, built from merged accumulators. Key paths are a
//! superset of the platform script's JSON report (`latency.all.count`,
//! `latency.with_llm.total_ms.p95`, `fallback.fallback_rate`,
//! `time_range.first`, ...). No formatting here; see `render/`.
//! Every key is documented in docs/report.md.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::agg::keyed::split_pair;
use crate::agg::{Dist, Keyed, LatencyGroup, Mode};
use crate::parse::Skip;
use crate::read::{InputInfo, ReadResult};

pub mod risk;
pub mod verdict;

/// Round like Python's `round(x, digits)`: the exact binary value,
/// correctly rounded, ties to even.
pub fn round_to(x: f64, digits: usize) -> f64 {
    if !x.is_finite() {
        return 0.0;
    }
    format!("{x:.digits$}").parse().unwrap_or(x)
}

/// One rate with what it was computed from and its 95% Wilson score
/// interval (see docs/report.md): `value` is `numerator / denominator`
/// unrounded, 0 when the denominator is 0 (then the interval is [0, 1]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RateFig {
    pub value: f64,
    pub numerator: u64,
    pub denominator: u64,
    pub wilson_95: [f64; 2],
}

impl RateFig {
    pub fn new(numerator: u64, denominator: u64) -> RateFig {
        let (lo, hi) = crate::stats::wilson(numerator, denominator, crate::stats::Z95);
        RateFig {
            value: if denominator == 0 {
                0.0
            } else {
                numerator as f64 / denominator as f64
            },
            numerator,
            denominator,
            wilson_95: [lo, hi],
        }
    }
}

/// Named rates, serialized as a JSON object in a fixed order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates(pub Vec<(&'static str, RateFig)>);

impl Rates {
    pub fn get(&self, name: &str) -> Option<&RateFig> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, r)| r)
    }
}

impl Serialize for Rates {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// Damaged lines in risk logs charged to these figures: the analyzer's
/// `parse_errors`.
pub fn risk_parse_errors(m: &crate::agg::Metrics) -> u64 {
    m.skipped.by_kind[crate::parse::LogKind::Risk.index()]
}

/// The risk log's rates, as the analyzer defined them.
pub fn risk_rates(r: &crate::agg::RiskAcc) -> Rates {
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

/// `p50`, `p95`, `p99.9`, ...
pub fn percentile_key(p: f64) -> String {
    format!("p{p}")
}

/// Percentiles and summary figures of one distribution, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub percentiles: Vec<(String, f64)>,
    pub count: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
}

impl Stats {
    pub fn of(d: &Dist, ps: &[f64]) -> Stats {
        Stats {
            percentiles: ps
                .iter()
                .zip(d.percentiles(ps))
                .map(|(&p, v)| (percentile_key(p), round_to(v, 3)))
                .collect(),
            count: d.n,
            min: round_to(d.min(), 3),
            max: round_to(d.max(), 3),
            mean: round_to(d.mean(), 3),
        }
    }

    pub fn get(&self, key: &str) -> Option<f64> {
        self.percentiles
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| *v)
    }
}

impl Serialize for Stats {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.percentiles.len() + 4))?;
        for (k, v) in &self.percentiles {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("min", &self.min)?;
        m.serialize_entry("max", &self.max)?;
        m.serialize_entry("mean", &self.mean)?;
        m.serialize_entry("count", &self.count)?;
        m.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    /// Records in the group.
    pub count: u64,
    pub total_ms: Stats,
    /// Step name -> stats over the records that have that step.
    pub steps: BTreeMap<String, Stats>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub all: Group,
    pub with_llm: Group,
    pub without_llm: Group,
}

#[derive(Debug, Clone, Serialize)]
pub struct Fallback {
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
    /// `intent` (null is `(none)`) -> outcome -> records.
    pub by_intent: BTreeMap<String, BTreeMap<String, u64>>,
    /// component -> status -> records.
    pub components: BTreeMap<String, BTreeMap<String, u64>>,
    /// The three rates unrounded, with counts and Wilson intervals.
    pub rates: Rates,
}

#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub total_records: u64,
    pub sampled_records: u64,
    pub status_breakdown: BTreeMap<String, u64>,
    pub reason_code_breakdown: BTreeMap<String, u64>,
    /// accepted_llm / (accepted_llm + fallback_deterministic).
    pub acceptance_rate: f64,
    pub acceptance_denominator: u64,
    /// Share of records with a `diff_summary` object whose flag is true.
    pub intent_mismatch_rate: f64,
    pub entity_key_mismatch_rate: f64,
    pub decision_type_mismatch_rate: f64,
    pub action_count_mismatch_rate: f64,
    pub diff_records: u64,
    /// status `error` / total_records.
    pub error_rate: f64,
    pub latency_p50: f64,
    pub latency_p95: f64,
    pub latency_p99: f64,
    pub latency_count: u64,
    /// Damaged lines in risk logs (the analyzer's name for them).
    pub parse_errors: u64,
    /// Configured `sample_rate` values seen -> records.
    pub sample_rates: BTreeMap<String, u64>,
    /// Every rate unrounded, with counts and Wilson intervals.
    pub rates: Rates,
    /// The earliest and latest risk record.
    pub time_range: TimeRange,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub first: Option<String>,
    pub last: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SkipLocation {
    pub path: String,
    pub line: u64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub total: u64,
    /// Reason -> lines; only reasons that occurred.
    pub by_reason: BTreeMap<&'static str, u64>,
    /// The first few skipped lines (never their content).
    pub locations: Vec<SkipLocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Precision {
    /// `hdr` or `exact`.
    pub mode: &'static str,
    pub unit: &'static str,
    /// Values are recorded as whole microseconds (HDR mode).
    pub resolution_ms: Option<f64>,
    pub significant_digits: Option<u8>,
    pub quantile_rule: &'static str,
    pub risk_quantile_rule: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Good records outside the window, read and not counted (`null` for a
    /// merge of states: each state's runs saw other windows' records).
    pub outside: Option<u64>,
    /// Damaged lines dated outside the window, not charged to it (`null`
    /// for a merge).
    pub outside_skipped: Option<u64>,
    /// Damaged lines that could not be dated (no time in them and no
    /// record in their input): charged to no window.
    pub undated_skipped: u64,
    /// Stretches of the window that no merged state covers (a missed
    /// day); the report is then incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Span>,
}

/// A half-open stretch of time.
#[derive(Debug, Clone, Serialize)]
pub struct Span {
    pub since: String,
    pub until: String,
}

/// An input that could not be used at all.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub tool: String,
    pub precision: Precision,
    pub percentiles: Vec<f64>,
    /// Observations whose categorical key was not kept (more than the
    /// per-map key limit); 0 normally.
    pub keys_dropped: u64,
    /// Some input could not be read to its end (see `inputs[].error`):
    /// the figures cover only what was read.
    pub incomplete: bool,
    /// With --since/--until/--day: the window, and how many good records
    /// fell outside it (not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    pub inputs: Vec<InputInfo>,
    /// The newest record read, inside the window or not (RFC 3339, UTC):
    /// when the logs were last written, even when the window is empty.
    pub newest_record: Option<String>,
    /// When this run finished (microseconds since the epoch), set by the
    /// command for formats that show it (Prometheus); not in JSON, so
    /// reports of the same logs stay byte-identical.
    #[serde(skip)]
    pub finished_us: Option<i64>,
    /// Inputs that could not be used at all (a missing or corrupt state
    /// in a merge); the figures leave them out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub latency: Latency,
    pub fallback: Fallback,
    pub risk: Risk,
    pub time_range: TimeRange,
    pub skipped: Skipped,
    pub meta: Meta,
}

pub(crate) fn counts(k: &Keyed<u64>) -> BTreeMap<String, u64> {
    k.sorted()
        .into_iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect()
}

fn pairs(k: &Keyed<u64>) -> BTreeMap<String, BTreeMap<String, u64>> {
    let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for (key, n) in k.sorted() {
        let (a, b) = split_pair(key);
        *out.entry(a.to_string())
            .or_default()
            .entry(b.to_string())
            .or_default() += *n;
    }
    out
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

impl TimeRange {
    pub fn of(t: &crate::agg::TimeRange) -> TimeRange {
        TimeRange {
            first: t.first.as_ref().map(|t| t.2.clone()),
            last: t.last.as_ref().map(|t| t.2.clone()),
        }
    }
}

impl Report {
    pub fn build(read: &ReadResult, ps: &[f64]) -> Report {
        Report::of(&read.acc.total, read, ps)
    }

    /// The report of one set of metrics (the run's, or one time bucket's).
    pub fn of(m: &crate::agg::Metrics, read: &ReadResult, ps: &[f64]) -> Report {
        let all = m.all_group();
        let f = &m.fallback;
        let r = &m.risk;
        let fallback_rates = Rates(
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
        let risk_rates = risk_rates(r);
        // The top-level rates: the same figures, rounded to 4 decimals as
        // the platform script printed them.
        let rounded =
            |rates: &Rates, name: &str| rates.get(name).map_or(0.0, |x| round_to(x.value, 4));
        let keys_dropped = [&m.with_llm, &m.without_llm]
            .iter()
            .map(|g| g.steps.overflow)
            .sum::<u64>()
            + [
                &f.outcomes,
                &f.reasons,
                &f.by_intent,
                &f.components,
                &r.status,
                &r.reason_codes,
                &r.sample_rates,
            ]
            .iter()
            .map(|k| k.overflow)
            .sum::<u64>();
        Report {
            latency: Latency {
                all: group(&all, ps),
                with_llm: group(&m.with_llm, ps),
                without_llm: group(&m.without_llm, ps),
            },
            fallback: Fallback {
                count: f.count,
                outcome_counts: counts(&f.outcomes),
                fallback_rate: rounded(&fallback_rates, "fallback_rate"),
                error_rate: rounded(&fallback_rates, "error_rate"),
                success_rate: rounded(&fallback_rates, "success_rate"),
                deterministic_used: f.deterministic_used,
                fallback_reason_counts: counts(&f.reasons),
                llm_latency_ms: Stats::of(&f.llm_latency, ps),
                by_intent: pairs(&f.by_intent),
                components: pairs(&f.components),
                rates: fallback_rates,
            },
            risk: Risk {
                total_records: r.total,
                sampled_records: r.sampled,
                status_breakdown: counts(&r.status),
                reason_code_breakdown: counts(&r.reason_codes),
                acceptance_rate: rounded(&risk_rates, "acceptance_rate"),
                acceptance_denominator: risk_rates
                    .get("acceptance_rate")
                    .map_or(0, |x| x.denominator),
                intent_mismatch_rate: rounded(&risk_rates, "intent_mismatch_rate"),
                entity_key_mismatch_rate: rounded(&risk_rates, "entity_key_mismatch_rate"),
                decision_type_mismatch_rate: rounded(&risk_rates, "decision_type_mismatch_rate"),
                action_count_mismatch_rate: rounded(&risk_rates, "action_count_mismatch_rate"),
                diff_records: r.with_diff,
                error_rate: rounded(&risk_rates, "error_rate"),
                latency_p50: round_to(r.latency.lower_rank(50.0), 3),
                latency_p95: round_to(r.latency.lower_rank(95.0), 3),
                latency_p99: round_to(r.latency.lower_rank(99.0), 3),
                latency_count: r.latency.n,
                parse_errors: risk_parse_errors(m),
                sample_rates: counts(&r.sample_rates),
                rates: risk_rates,
                time_range: TimeRange::of(&r.time),
            },
            time_range: TimeRange::of(&m.time),
            skipped: Skipped::of(&m.skipped, read),
            meta: Meta::of(read, ps, keys_dropped),
        }
    }
}

impl Skipped {
    /// Damaged lines charged to some figures (the run's, a bucket's), with
    /// the locations among the run's first ones.
    pub fn of(sk: &crate::agg::Skipped, read: &ReadResult) -> Skipped {
        let run = &read.acc.total.skipped.examples;
        Skipped {
            total: sk.total(),
            by_reason: Skip::ALL
                .iter()
                .filter(|s| sk.by_reason[s.index()] > 0)
                .map(|s| (s.name(), sk.by_reason[s.index()]))
                .collect(),
            locations: sk
                .examples
                .iter()
                .filter_map(|e| {
                    let i = run.iter().position(|r| r == e)?;
                    Some(SkipLocation {
                        path: read.inputs[e.0 as usize].path.clone(),
                        line: read.example_lines.get(i).copied().unwrap_or(0),
                        reason: e.2.name(),
                    })
                })
                .collect(),
        }
    }
}

impl Meta {
    pub fn of(read: &ReadResult, ps: &[f64], keys_dropped: u64) -> Meta {
        let mode = read.acc.cfg.mode;
        let (quantile_rule, resolution_ms, significant_digits) = match mode {
            Mode::Hdr { sigfig } => (
                "linear interpolation between closest ranks as in exact mode, k=(n-1)*p/100, v[f]+(k-f)*(v[c]-v[f]), with v[f] and v[c] read from an HDR histogram (the upper edge of their bucket; the exact min and max for the first and last rank): never below the exact value, at most 10^-significant_digits relative above it",
                Some(0.001),
                Some(sigfig),
            ),
            Mode::Exact => (
                "linear interpolation between closest ranks: k=(n-1)*p/100, v[f]+(k-f)*(v[c]-v[f]), rounded to 3 decimals",
                None,
                None,
            ),
        };
        let risk_quantile_rule = match mode {
            Mode::Hdr { .. } => "lower nearest rank: sorted[int((n-1)*q)] (the risk analyzer's rule), the rank read from the HDR histogram as in quantile_rule",
            Mode::Exact => "lower nearest rank: sorted[int((n-1)*q)] (the risk analyzer's rule)",
        };
        Meta {
            tool: format!("aggmetrics {}", env!("CARGO_PKG_VERSION")),
            precision: Precision {
                mode: if matches!(mode, Mode::Exact) {
                    "exact"
                } else {
                    "hdr"
                },
                unit: "ms",
                resolution_ms,
                significant_digits,
                quantile_rule,
                risk_quantile_rule,
            },
            percentiles: ps.to_vec(),
            keys_dropped,
            incomplete: read.inputs.iter().any(|i| i.error.is_some())
                || !read.unread.is_empty()
                || !read.gaps.is_empty(),
            window: read.acc.cfg.window.map(|(since, until)| Window {
                since: (since != i64::MIN).then(|| risk::rfc3339(since)),
                until: (until != i64::MAX).then(|| risk::rfc3339(until)),
                outside: (!read.merged).then_some(read.acc.outside_window),
                outside_skipped: (!read.merged).then_some(read.acc.outside_skipped),
                undated_skipped: read.acc.undated.total(),
                gaps: read
                    .gaps
                    .iter()
                    .map(|(a, b)| Span {
                        since: risk::rfc3339(*a),
                        until: risk::rfc3339(*b),
                    })
                    .collect(),
            }),
            inputs: read.inputs.clone(),
            newest_record: read.acc.newest.map(risk::rfc3339),
            finished_us: None,
            unread: read
                .unread
                .iter()
                .map(|(path, error)| Unread {
                    path: path.clone(),
                    error: error.clone(),
                })
                .collect(),
        }
    }
}

/// `summarize --by hour|day`: one report per UTC bucket, from one pass.
#[derive(Debug, Clone, Serialize)]
pub struct BucketReport {
    pub buckets: Vec<BucketEntry>,
    /// The whole run's damaged lines: each bucket's, and those that could
    /// not be dated (in no bucket).
    pub skipped: Skipped,
    pub meta: Meta,
}

#[derive(Debug, Clone)]
pub struct BucketEntry {
    /// RFC 3339, half-open [start, end).
    pub start: String,
    pub end: String,
    pub report: Report,
}

impl Serialize for BucketEntry {
    /// `start`, `end`, then every section of the bucket's report in the
    /// report's own order, less `meta` (the run's, at the top): a section
    /// added to the report appears here without a second list to update.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let v = serde_json::to_value(&self.report).map_err(S::Error::custom)?;
        let serde_json::Value::Object(sections) = v else {
            return Err(S::Error::custom("a report is an object"));
        };
        let mut m = s.serialize_map(Some(sections.len() + 1))?;
        m.serialize_entry("start", &self.start)?;
        m.serialize_entry("end", &self.end)?;
        for (k, v) in sections.iter().filter(|(k, _)| *k != "meta") {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl BucketReport {
    /// The buckets of a read made with `cfg.bucket`, beside `whole`, the
    /// run's report (whose skipped lines and meta it shares).
    pub fn build(read: &ReadResult, ps: &[f64], whole: &Report) -> BucketReport {
        let width = read.acc.cfg.bucket.map_or(0, |b| b.width_us());
        // Buckets cut by the window are labelled by what they hold: the
        // first starts at the window's start, the last ends at its end.
        let (since, until) = read.acc.cfg.window.unwrap_or((i64::MIN, i64::MAX));
        BucketReport {
            buckets: read
                .acc
                .buckets
                .iter()
                .map(|(start, m)| BucketEntry {
                    start: risk::rfc3339((*start).max(since)),
                    end: risk::rfc3339((start + width).min(until)),
                    report: Report::of(m, read, ps),
                })
                .collect(),
            skipped: whole.skipped.clone(),
            meta: whole.meta.clone(),
        }
    }
}
