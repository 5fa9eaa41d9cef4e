//! One distribution of durations: an HDR histogram at microsecond
//! resolution (default), or every value kept (`--exact`).

use hdrhistogram::Histogram;

/// How distributions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HDR histogram with this many significant decimal digits (1..=5).
    Hdr { sigfig: u8 },
    /// Every value kept; percentiles computed the platform scripts' way.
    Exact,
}

#[derive(Debug, Clone)]
enum Values {
    Hdr(Histogram<u64>),
    Exact(Vec<f64>),
}

/// Exact count, min, max and integer-microsecond sum, plus the values.
/// All of it merges exactly, so merge order never changes a result.
#[derive(Debug, Clone)]
pub struct Dist {
    pub n: u64,
    pub sum_us: u128,
    pub min: f64,
    pub max: f64,
    /// Values the histogram refused (none are expected: durations are
    /// range-checked before they get here).
    pub rejected: u64,
    values: Values,
}

/// Milliseconds to whole microseconds (the HDR unit).
#[inline]
pub fn to_us(ms: f64) -> u64 {
    // Round half away from zero, like `f64::round`, without its libm call
    // (x86_64's baseline has no rounding instruction). Exact: `x` is
    // non-negative and below 2^53, so `x - trunc(x)` is computed exactly.
    let x = ms * 1000.0;
    let t = x as u64;
    t + ((x - t as f64) >= 0.5) as u64
}

impl Dist {
    pub fn new(mode: Mode) -> Dist {
        let values = match mode {
            // Auto-resizing: the range grows with the largest value seen.
            Mode::Hdr { sigfig } => Values::Hdr(Histogram::new(sigfig).expect("sigfig is validated to 1..=5")),
            Mode::Exact => Values::Exact(Vec::new()),
        };
        Dist { n: 0, sum_us: 0, min: f64::INFINITY, max: f64::NEG_INFINITY, rejected: 0, values }
    }

    /// Record one duration in milliseconds (already checked to be finite,
    /// non-negative and within range).
    #[inline]
    pub fn record(&mut self, ms: f64) {
        let us = to_us(ms);
        match &mut self.values {
            Values::Hdr(h) => {
                // `record` resizes; never `saturating_record` (it clamps)
                // or `+=` (it panics).
                if h.record(us).is_err() {
                    self.rejected += 1;
                    return;
                }
            }
            Values::Exact(v) => v.push(ms),
        }
        self.n += 1;
        self.sum_us += us as u128;
        self.min = self.min.min(ms);
        self.max = self.max.max(ms);
    }

    pub fn merge(&mut self, o: &Dist) {
        match (&mut self.values, &o.values) {
            (Values::Hdr(a), Values::Hdr(b)) => {
                if a.add(b).is_err() {
                    // Cannot happen for auto-resizing histograms of one
                    // precision; count rather than lose silently.
                    self.rejected += b.len();
                    return;
                }
            }
            (Values::Exact(a), Values::Exact(b)) => a.extend_from_slice(b),
            _ => unreachable!("one run uses one mode"),
        }
        self.n += o.n;
        self.sum_us += o.sum_us;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
        self.rejected += o.rejected;
    }

    /// Sort kept values (exact mode) so that quantiles and sums are
    /// computed in one order whatever the merge order was.
    pub fn finish(&mut self) {
        if let Values::Exact(v) = &mut self.values {
            v.sort_by(f64::total_cmp);
        }
    }

    pub fn is_exact(&self) -> bool {
        matches!(self.values, Values::Exact(_))
    }

    /// Percentile `p` in [0, 100].
    ///
    /// HDR: the nearest-rank value (rank `ceil(p/100 * n)`), reported as
    /// the highest value equivalent to it at the histogram's precision,
    /// clamped to the exact minimum and maximum; within 10^-sigfig relative of the
    /// exact nearest-rank value (plus half a microsecond of rounding).
    ///
    /// Exact: linear interpolation between closest ranks as the platform's
    /// script did: k = (n-1)*p/100, f = floor(k), c = min(f+1, n-1),
    /// v[f] + (k-f)*(v[c]-v[f]).
    pub fn percentile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.values {
            Values::Hdr(h) => {
                // Clamped to the exact extremes, which are tracked anyway.
                let us = h.value_at_quantile(p / 100.0).clamp(to_us(self.min), to_us(self.max));
                us as f64 / 1000.0
            }
            Values::Exact(v) => linear(v, p),
        }
    }

    /// The risk analyzer's rule: the lower nearest rank,
    /// `sorted[int((n-1)*q)]`. HDR mode falls back to [`Dist::percentile`].
    pub fn lower_rank(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.values {
            Values::Exact(v) => {
                let k = ((v.len() - 1) as f64 * (p / 100.0)) as usize;
                v[k.min(v.len() - 1)]
            }
            Values::Hdr(_) => self.percentile(p),
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.values {
            Values::Exact(v) => v.iter().sum::<f64>() / v.len() as f64,
            Values::Hdr(_) => self.sum_us as f64 / 1000.0 / self.n as f64,
        }
    }

    pub fn min(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.min }
    }

    pub fn max(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.max }
    }
}

/// Linear interpolation between closest ranks over sorted values, with the
/// platform script's arithmetic (so results match it to the last bit).
pub fn linear(v: &[f64], p: f64) -> f64 {
    let n = v.len();
    if n == 0 {
        return 0.0;
    }
    let k = (n - 1) as f64 * p / 100.0;
    let f = k.floor();
    let fi = (f as usize).min(n - 1);
    let c = (fi + 1).min(n - 1);
    v[fi] + (k - f) * (v[c] - v[fi])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_examples() {
        let v = [10.0, 20.0, 30.0, 40.0, 50.0];
        assert_eq!(linear(&v, 50.0), 30.0);
        assert_eq!(linear(&v, 95.0), 48.0);
        assert!((linear(&v, 99.0) - 49.6).abs() < 1e-9);
        assert_eq!(linear(&[10.0, 20.0], 50.0), 15.0);
    }

    #[test]
    fn hdr_and_exact_agree_on_small_sets() {
        let mut h = Dist::new(Mode::Hdr { sigfig: 3 });
        let mut e = Dist::new(Mode::Exact);
        for x in [10.0, 20.0, 30.0, 40.0, 50.0] {
            h.record(x);
            e.record(x);
        }
        e.finish();
        assert_eq!(h.percentile(50.0), 30.0 + 0.015, "upper edge of the 30 ms bucket");
        assert_eq!(h.percentile(100.0), 50.0, "never above the max");
        assert_eq!(e.lower_rank(95.0), 40.0);
        assert_eq!(h.mean(), 30.0);
        let mut m = Dist::new(Mode::Hdr { sigfig: 3 });
        m.merge(&h);
        m.merge(&h);
        assert_eq!(m.n, 10);
        assert_eq!(m.percentile(50.0), h.percentile(50.0));
    }
}
