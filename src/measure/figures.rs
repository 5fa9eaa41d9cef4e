//! The figures every section is made of: rates with their counts and
//! interval, distribution statistics, breakdowns, time ranges. No
//! formatting beyond Python-compatible rounding.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::measure::dist::Dist;
use crate::measure::keyed::split_pair;
use crate::measure::keyed::Keyed;
pub use crate::measure::layout::Histo;

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

/// The HDR plot's points: value against `log10(1 / (1 - q))`, from q = 0
/// in steps of an eighth of a decade up to `1 - 1/n`.
fn curve(d: &Dist) -> Vec<(f64, f64)> {
    if d.n < 2 {
        return Vec::new();
    }
    let top = (d.n as f64).log10();
    let xs: Vec<f64> = (0..)
        .map(|k| k as f64 / 8.0)
        .take_while(|x| *x <= top)
        .chain([top])
        .collect();
    let ps: Vec<f64> = xs.iter().map(|x| 100.0 * (1.0 - 10f64.powf(-x))).collect();
    xs.into_iter().zip(d.percentiles(&ps)).collect()
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
    /// The distribution in the export layout (Prometheus buckets,
    /// Parquet bucket rows); not part of the JSON report.
    pub hist: Histo,
    /// The percentile curve for the HDR plot: `(x, value)` with `x =
    /// log10(1 / (1 - q))`, eight points a decade from the median... up to
    /// the highest percentile the count supports (`1 - 1/n`); not part of
    /// the JSON report.
    pub curve: Vec<(f64, f64)>,
    /// The values are whole numbers, kept exactly (`--exact`): a figure
    /// that is whole is shown as an integer. Set by the kind that reads
    /// any log (see `Dist::whole`); not part of the JSON report.
    pub whole: bool,
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
            hist: d.histo(),
            curve: curve(d),
            whole: false,
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

/// A section's `time_range`: its first and last record as the logs wrote
/// them (the text of a [`crate::measure::time::TimeRange`]).
#[derive(Debug, Clone, Serialize)]
pub struct FirstLast {
    pub first: Option<String>,
    pub last: Option<String>,
}

impl FirstLast {
    pub fn of(t: &crate::measure::time::TimeRange) -> FirstLast {
        FirstLast {
            first: t.first.as_ref().map(|t| t.2.clone()),
            last: t.last.as_ref().map(|t| t.2.clone()),
        }
    }
}

/// A count map's heaviest keys (as many as it keeps), kept or folded,
/// with their counts: a key past the cap with many observations is shown,
/// not one a hash happened to keep.
pub fn counts(k: &Keyed<u64>) -> BTreeMap<String, u64> {
    k.heaviest(k.cap())
        .into_iter()
        .map(|(key, n, _)| (key.to_string(), n))
        .collect()
}

pub fn pairs(k: &Keyed<u64>) -> BTreeMap<String, BTreeMap<String, u64>> {
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

/// Which way a figure gets worse: what `compare` and the gates'
/// regression check judge it by. Each kind describes its own figures
/// (`Kind::direction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Worse when it grows: a latency, an error or mismatch rate.
    Up,
    /// Worse when it falls: an acceptance, success or agreement rate.
    Down,
    /// Neither way is worse (a confidence): listed, not judged.
    Neither,
}
