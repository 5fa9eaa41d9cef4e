//! The `aggmetrics risk` report: the platform analyzer's keys at the top
//! level (a superset, so its consumers keep working), each rate with its
//! counts and 95% Wilson interval, the days the records cover, the longest
//! silence, optional per-day figures and the rollout verdict.

use serde::Serialize;

use super::{Meta, Skipped};
use crate::agg::{Acc, Metrics, Mode};
use crate::kinds::risk::RiskFigures;
use crate::kinds::LogKind;
use crate::read::ReadResult;

/// The analyzer's figures (and ours) over one set of records: the risk
/// kind's one model, written in the analyzer's key order with its rates
/// and latencies unrounded, as the analyzer printed them.
#[derive(Debug, Clone)]
pub struct RiskMetrics(pub RiskFigures);

impl std::ops::Deref for RiskMetrics {
    type Target = RiskFigures;
    fn deref(&self) -> &RiskFigures {
        &self.0
    }
}

impl RiskMetrics {
    /// With the damaged risk lines charged to these figures.
    pub fn of(m: &Metrics) -> RiskMetrics {
        RiskMetrics(RiskFigures::of(&m.kinds.risk, parse_errors(m)))
    }
}

impl Serialize for RiskMetrics {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let f = &self.0;
        let mut m = s.serialize_struct("RiskMetrics", 18)?;
        m.serialize_field("total_records", &f.total_records)?;
        m.serialize_field("sampled_records", &f.sampled_records)?;
        m.serialize_field("status_breakdown", &f.status_breakdown)?;
        m.serialize_field("reason_code_breakdown", &f.reason_code_breakdown)?;
        for name in [
            "acceptance_rate",
            "intent_mismatch_rate",
            "entity_key_mismatch_rate",
            "error_rate",
        ] {
            m.serialize_field(name, &f.rate(name))?;
        }
        m.serialize_field("latency_p50", &f.latency_p50)?;
        m.serialize_field("latency_p95", &f.latency_p95)?;
        m.serialize_field("parse_errors", &f.parse_errors)?;
        for name in ["decision_type_mismatch_rate", "action_count_mismatch_rate"] {
            m.serialize_field(name, &f.rate(name))?;
        }
        m.serialize_field("latency_p99", &f.latency_p99)?;
        m.serialize_field("latency_count", &f.latency_count)?;
        m.serialize_field("rates", &f.rates)?;
        m.serialize_field("sample_rates", &f.sample_rates)?;
        m.serialize_field("time_range", &f.time_range)?;
        m.end()
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
        let metrics = RiskMetrics::of(&acc.total);
        let end_of = |s: i64| crate::agg::Bucket::Day.end_of(s, acc.cfg.tz);
        let busy: Vec<&(i64, Metrics)> = acc
            .buckets
            .iter()
            .filter(|(_, m)| m.kinds.risk.total > 0)
            .collect();
        // Without day buckets (serve's whole), the days are those of the
        // busy minutes.
        let dates: Vec<i64> = if acc.cfg.bucket == Some(crate::agg::Bucket::Day) {
            busy.iter().map(|(s, _)| *s).collect()
        } else {
            acc.total.kinds.risk.activity.days()
        };
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
            days_covered: dates.len() as u64,
            days: dates.iter().map(|s| date(*s)).collect(),
            longest_gap,
            by_day: by_day.then(|| {
                busy.iter()
                    .map(|(s, m)| Day {
                        day: date(*s),
                        start: rfc3339(*s),
                        end: rfc3339(end_of(*s)),
                        metrics: RiskMetrics::of(m),
                    })
                    .collect()
            }),
            verdict: None,
            skipped: Skipped::of(&acc.total.skipped, read),
            meta,
        }
    }
}
