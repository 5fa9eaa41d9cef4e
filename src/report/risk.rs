//! The `aggmetrics risk` report: the platform analyzer's keys at the top
//! level (a superset, so its consumers keep working), each rate with its
//! counts and 95% Wilson interval, the days the records cover, the longest
//! silence, optional per-day figures and the rollout verdict.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{counts, FirstLast, Meta, Rates, Skipped};
use crate::agg::{Acc, Metrics, Mode};
use crate::kinds::{risk, LogKind};
use crate::read::ReadResult;

/// The analyzer's figures (and ours) over one set of records.
#[derive(Debug, Clone, Serialize)]
pub struct RiskMetrics {
    pub total_records: u64,
    pub sampled_records: u64,
    pub status_breakdown: BTreeMap<String, u64>,
    pub reason_code_breakdown: BTreeMap<String, u64>,
    pub acceptance_rate: f64,
    pub intent_mismatch_rate: f64,
    pub entity_key_mismatch_rate: f64,
    pub error_rate: f64,
    pub latency_p50: f64,
    pub latency_p95: f64,
    /// Damaged lines charged to these figures (see docs/semantics.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_errors: Option<u64>,
    pub decision_type_mismatch_rate: f64,
    pub action_count_mismatch_rate: f64,
    pub latency_p99: f64,
    /// Records whose `latency_ms` is a number (the percentiles' count).
    pub latency_count: u64,
    /// The latencies in the export layout (not in the JSON report).
    #[serde(skip)]
    pub latency_hist: super::figures::Histo,
    /// Every rate with numerator, denominator and 95% Wilson interval.
    pub rates: Rates,
    /// Configured `sample_rate` values seen -> records.
    pub sample_rates: BTreeMap<String, u64>,
    pub time_range: FirstLast,
}

impl RiskMetrics {
    /// Rates unrounded, as the analyzer printed them; latency by the
    /// analyzer's lower nearest rank, over every value under `--exact`,
    /// else read from the HDR histogram (within its precision).
    pub fn of(m: &Metrics) -> RiskMetrics {
        let r = &m.kinds.risk;
        let rates = risk::rates(r);
        let v = |name: &str| rates.get(name).map_or(0.0, |f| f.value);
        RiskMetrics {
            total_records: r.total,
            sampled_records: r.sampled,
            status_breakdown: counts(&r.status),
            reason_code_breakdown: counts(&r.reason_codes),
            acceptance_rate: v("acceptance_rate"),
            intent_mismatch_rate: v("intent_mismatch_rate"),
            entity_key_mismatch_rate: v("entity_key_mismatch_rate"),
            error_rate: v("error_rate"),
            latency_p50: r.latency.lower_rank(50.0),
            latency_p95: r.latency.lower_rank(95.0),
            parse_errors: None,
            decision_type_mismatch_rate: v("decision_type_mismatch_rate"),
            action_count_mismatch_rate: v("action_count_mismatch_rate"),
            latency_p99: r.latency.lower_rank(99.0),
            latency_count: r.latency.n,
            latency_hist: r.latency.histo(),
            rates,
            sample_rates: counts(&r.sample_rates),
            time_range: FirstLast::of(&m.kinds.risk.time),
        }
    }
}

/// One UTC day's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Day {
    /// `2026-02-17`
    pub day: String,
    /// RFC 3339, half-open: [start, end).
    pub start: String,
    pub end: String,
    #[serde(flatten)]
    pub metrics: RiskMetrics,
}

/// The longest time between two consecutive risk records.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Gap {
    pub minutes: f64,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RiskReport {
    #[serde(flatten)]
    pub metrics: RiskMetrics,
    /// Distinct UTC days holding at least one record.
    pub days_covered: u64,
    pub days: Vec<String>,
    /// The longest silence between records (`null` if no silence was
    /// longer than a minute).
    pub longest_gap: Option<Gap>,
    /// Present with `--by day`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_day: Option<Vec<Day>>,
    /// Present with `--stage N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<super::verdict::Verdict>,
    pub skipped: Skipped,
    pub meta: Meta,
}

impl RiskReport {
    /// The verdict, when there is one, as renderers draw it: one block.
    pub fn verdict_view(&self) -> Option<super::View> {
        let v = self.verdict.as_ref()?;
        Some(super::View {
            key: "risk".into(),
            title: format!("Gates of stage {} ({})", v.stage, v.gates),
            records: 0,
            counts: Vec::new(),
            blocks: vec![super::Block::Verdict(v.clone())],
            trend: Vec::new(),
        })
    }
}

/// Damaged lines in risk logs charged to these figures: the analyzer's
/// `parse_errors`.
fn parse_errors(m: &Metrics) -> u64 {
    m.skipped.by_kind[LogKind::Risk.index()]
}

/// RFC 3339 (UTC, `Z`) for microseconds since the epoch.
pub fn rfc3339(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(t) => t.to_string(),
        // jiff's instants stop at 9999-12-30T22:00Z (to leave room for
        // offsets); the logs' times go to 9999-12-31T23:59:59Z: as a
        // civil time in UTC.
        Err(_) => jiff::civil::DateTime::constant(1970, 1, 1, 0, 0, 0, 0)
            .checked_add(jiff::SignedDuration::from_micros(micros))
            .map(|d| format!("{d}Z"))
            .unwrap_or_else(|_| micros.to_string()),
    }
}

fn date(micros: i64) -> String {
    match jiff::Timestamp::from_microsecond(micros) {
        Ok(t) => t.to_zoned(jiff::tz::TimeZone::UTC).date().to_string(),
        Err(_) => micros.to_string(),
    }
}

impl RiskReport {
    /// From a read made with day buckets (`Bucket::Day`); `by_day` keeps
    /// the per-day figures in the report.
    pub fn build(read: &ReadResult, by_day: bool) -> RiskReport {
        let acc: &Acc = &read.acc;
        let mut metrics = RiskMetrics::of(&acc.total);
        metrics.parse_errors = Some(parse_errors(&acc.total));
        let width = crate::agg::Bucket::Day.width_us();
        let busy: Vec<&(i64, Metrics)> = acc
            .buckets
            .iter()
            .filter(|(_, m)| m.kinds.risk.total > 0)
            .collect();
        let longest_gap = acc
            .total
            .kinds
            .risk
            .activity
            .longest_gap()
            .filter(|(a, b)| b - a > 60_000_000)
            .map(|(a, b)| Gap {
                minutes: super::round_to((b - a) as f64 / 60e6, 3),
                from: rfc3339(a),
                to: rfc3339(b),
            });
        let r = &acc.total.kinds.risk;
        let keys_dropped = r.status.overflow + r.reason_codes.overflow;
        let ps = [50.0, 95.0, 99.0];
        let mut meta = Meta::of(read, &ps, keys_dropped);
        meta.command = "risk";
        if matches!(acc.cfg.mode, Mode::Hdr { .. }) {
            meta.precision.risk_quantile_rule = "the analyzer's lower nearest rank, sorted[int((n-1)*q)], the rank read from the HDR histogram (the upper edge of its bucket): within 10^-significant_digits above what --exact gives";
        }
        RiskReport {
            metrics,
            days_covered: busy.len() as u64,
            days: busy.iter().map(|(s, _)| date(*s)).collect(),
            longest_gap,
            by_day: by_day.then(|| {
                busy.iter()
                    .map(|(s, m)| Day {
                        day: date(*s),
                        start: rfc3339(*s),
                        end: rfc3339(s + width),
                        metrics: RiskMetrics {
                            parse_errors: Some(parse_errors(m)),
                            ..RiskMetrics::of(m)
                        },
                    })
                    .collect()
            }),
            verdict: None,
            skipped: Skipped::of(&acc.total.skipped, read),
            meta,
        }
    }
}
