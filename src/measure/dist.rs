//! One distribution of durations: an HDR histogram at microsecond
//! resolution (default), or every value kept (`--exact`).

use hdrhistogram::Histogram;

use super::layout::{self, Histo, Straddle};

/// Buckets a distribution keeps as pairs before it lays them out densely.
const FEW: usize = 16;
/// Additions a distribution takes as pairs before it lays them out densely.
const FEW_CALLS: u32 = 64;

static EMPTY: Straddle = Straddle {
    bits: Vec::new(),
    at: Vec::new(),
};

/// How distributions are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// HDR histogram with this many significant decimal digits (1..=5).
    Hdr { sigfig: u8 },
    /// Every value kept; percentiles computed the platform scripts' way.
    Exact,
}

impl Mode {
    /// `--exact`, else HDR with `--sigfig` digits.
    pub fn of(exact: bool, sigfig: u8) -> Mode {
        if exact {
            Mode::Exact
        } else {
            Mode::Hdr { sigfig }
        }
    }
}

#[derive(Debug, Clone)]
enum Values {
    /// Counts in HDR's bucket layout; an `hdrhistogram` histogram is built
    /// from them only for a state file ([`Dist::parts`]). Percentiles and
    /// export buckets are read from the counts themselves.
    Hdr(Counts),
    Exact(Vec<f64>),
}

/// Counts laid out exactly as an `hdrhistogram` histogram with lowest
/// discernible value 1 lays out its buckets, kept in a plain growable array.
///
/// Recording is a leading-zero count, a shift and an increment (the
/// crate's `record` also resizes, tracks its own extremes and checks
/// ranges: about five times the instructions, on a path taken for every
/// duration). [`Counts::histogram`] records each bucket's lowest value with
/// its count into a real histogram, which is then identical to one that
/// recorded every value (tested in `tests/figures/hdr_precision.rs`).
#[derive(Debug)]
pub struct Counts {
    sigfig: u8,
    half_mag: u32,
    half_count: u64,
    mask: u64,
    lzc_base: u32,
    /// The bucket index of `counts[0]`: only the span between the lowest
    /// and highest bucket used is kept (a handful of values costs a
    /// handful of counters, not every bucket from zero).
    base: usize,
    /// Dense counters from `base` on; empty while the counts are few
    /// (`few`).
    counts: Vec<u64>,
    /// While `counts` is empty: (bucket index, count) of the few buckets
    /// used, in index order. A distribution with a handful of values (one
    /// minute of `serve`, one step of a rare intent) then costs a handful
    /// of pairs, not a dense span from its lowest to its highest bucket
    /// (thousands of counters, zeroed and copied as it grows: 57% of
    /// `serve`'s instructions on a quiet log). Made dense past [`FEW`]
    /// buckets or [`FEW_CALLS`] additions, so a long run pays the sparse
    /// path only at its start.
    few: Vec<(usize, u64)>,
    few_calls: u32,
    /// HDR buckets that hold a bound of the export layout (`layout`).
    straddle: &'static Straddle,
    /// Per layout bound: values of the HDR bucket holding it that are at
    /// or below it (empty until one is seen).
    near: Vec<u64>,
}

/// A copy in the least memory ([`Counts::copy_compact`]): what a closed
/// minute, a bucket merged into another read, or a group first met in a
/// merge is kept as.
impl Clone for Counts {
    fn clone(&self) -> Counts {
        let mut c = Counts {
            sigfig: self.sigfig,
            half_mag: self.half_mag,
            half_count: self.half_count,
            mask: self.mask,
            lzc_base: self.lzc_base,
            base: 0,
            counts: Vec::new(),
            few: self.few.clone(),
            few_calls: self.few_calls,
            straddle: self.straddle,
            near: self.near.clone(),
        };
        if !self.counts.is_empty() {
            c.copy_compact(self);
        }
        c
    }
}

impl Counts {
    pub fn new(sigfig: u8) -> Counts {
        // As hdrhistogram computes them for lowest discernible value 1.
        let largest = 2 * 10u64.pow(sigfig as u32);
        let mag = 64 - (largest - 1).leading_zeros(); // ceil(log2(largest))
        let sub_bucket_count = 1u64 << mag;
        let mut c = Counts {
            sigfig,
            half_mag: mag - 1,
            half_count: sub_bucket_count / 2,
            mask: sub_bucket_count - 1,
            lzc_base: 64 - mag,
            base: 0,
            counts: Vec::new(),
            few: Vec::new(),
            few_calls: 0,
            straddle: &EMPTY,
            near: Vec::new(),
        };
        c.straddle = Straddle::of(sigfig, |v| c.index(v), |idx| c.value_for(idx));
        c
    }

    /// The bucket index of value `v`.
    #[inline(always)]
    fn index(&self, v: u64) -> usize {
        let bucket = self.lzc_base - (v | self.mask).leading_zeros();
        let sub = v >> bucket;
        ((((bucket + 1) as u64) << self.half_mag) + sub - self.half_count) as usize
    }

    /// `v` fell in a bucket that holds a layout bound: note whether it is
    /// at or below that bound.
    #[cold]
    #[inline(never)]
    fn near_bound(&mut self, idx: usize, v: u64) {
        for &(_, b) in self.straddle.at.iter().filter(|(i, _)| *i == idx) {
            if v <= layout::BOUNDS_US[b] {
                self.near.resize(layout::N, 0);
                self.near[b] += 1;
            }
        }
    }

    /// The counter of bucket `idx`, the span grown to hold it.
    #[inline(always)]
    fn slot(&mut self, idx: usize) -> &mut u64 {
        // One comparison: below `base` wraps to a huge offset.
        let j = idx.wrapping_sub(self.base);
        if j >= self.counts.len() {
            return self.grow(idx);
        }
        &mut self.counts[j]
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, idx: usize) -> &mut u64 {
        if self.counts.is_empty() {
            self.few_calls += 1;
            if self.few_calls <= FEW_CALLS {
                match self.few.binary_search_by_key(&idx, |e| e.0) {
                    Ok(k) => return &mut self.few[k].1,
                    Err(k) if self.few.len() < FEW => {
                        self.few.insert(k, (idx, 0));
                        return &mut self.few[k].1;
                    }
                    Err(_) => {}
                }
            }
            self.densify(idx);
        } else if idx < self.base {
            let more = self.base - idx;
            self.counts.splice(0..0, std::iter::repeat_n(0, more));
            self.base = idx;
        } else {
            self.counts.resize(idx - self.base + 1, 0);
        }
        &mut self.counts[idx - self.base]
    }

    /// Lay the few buckets out densely, over a span that also holds `idx`.
    #[cold]
    #[inline(never)]
    fn densify(&mut self, idx: usize) {
        let lo = self.few.first().map_or(idx, |e| e.0.min(idx));
        let hi = self.few.last().map_or(idx, |e| e.0.max(idx));
        self.base = lo;
        self.counts = vec![0; hi - lo + 1];
        for (i, c) in std::mem::take(&mut self.few) {
            self.counts[i - lo] = c;
        }
    }

    /// The same counts laid out densely, for the readers below (which
    /// walk the dense span) when they are still pairs.
    fn dense(&self) -> Option<Counts> {
        let lo = self.few.first()?.0;
        let mut d = self.clone();
        d.densify(lo);
        Some(d)
    }

    #[inline(always)]
    pub fn record(&mut self, v: u64) {
        let idx = self.index(v);
        if let Some(w) = self.straddle.bits.get(idx >> 6) {
            if (w >> (idx & 63)) & 1 != 0 {
                self.near_bound(idx, v);
            }
        }
        *self.slot(idx) += 1;
    }

    /// Add `n` values equivalent to `v` (a value read back from a histogram).
    pub fn record_n(&mut self, v: u64, n: u64) {
        let idx = self.index(v);
        *self.slot(idx) += n;
    }

    /// Values at or below each layout bound (see [`layout`]): whole HDR
    /// buckets up to the bound, plus the noted values of the bucket that
    /// holds it.
    pub fn layout_le(&self) -> Vec<u64> {
        if let Some(d) = self.dense() {
            return d.layout_le();
        }
        let mut out = Vec::with_capacity(layout::N);
        // Values in buckets wholly below the current bound, and where they end.
        let (mut below, mut j) = (0u64, 0usize);
        for (i, &b) in layout::BOUNDS_US.iter().enumerate() {
            let idx = self.index(b);
            let stop = idx.saturating_sub(self.base).min(self.counts.len());
            if stop > j {
                below += self.counts[j..stop].iter().sum::<u64>();
                j = stop;
            }
            let own = idx
                .checked_sub(self.base)
                .and_then(|k| self.counts.get(k))
                .copied()
                .unwrap_or(0);
            // The bound ends its bucket, or the bucket kept its values at
            // or below the bound.
            let at = if self.value_for(idx + 1) - 1 == b {
                own
            } else {
                self.near.get(i).copied().unwrap_or(0)
            };
            out.push(below + at);
        }
        out
    }

    pub fn merge(&mut self, o: &Counts) {
        if o.counts.is_empty() {
            for &(idx, c) in &o.few {
                *self.slot(idx) += c;
            }
        } else if self.counts.is_empty() && self.few.is_empty() {
            self.copy_compact(o);
        } else {
            // Grow to hold the other's span, then add it in place.
            if self.counts.is_empty() {
                self.densify(o.base);
            }
            self.slot(o.base);
            self.slot(o.base + o.counts.len() - 1);
            let off = o.base - self.base;
            for (a, b) in self.counts[off..].iter_mut().zip(o.counts.iter()) {
                *a += *b;
            }
        }
        if !o.near.is_empty() {
            self.near.resize(layout::N, 0);
            for (a, b) in self.near.iter_mut().zip(&o.near) {
                *a += *b;
            }
        }
    }

    /// Take `o`'s counts into an empty `self` in the least memory: as
    /// pairs when few of its span's buckets are used (a closed minute of
    /// `serve`: a few hundred values over a span of thousands of buckets),
    /// else the span from its first to its last used bucket, without the
    /// spare capacity growing left. The pairs take no more additions
    /// (the next new bucket lays them out densely).
    fn copy_compact(&mut self, o: &Counts) {
        // Branch-free, so it runs many counters an instruction.
        let used: usize = o.counts.iter().map(|&c| (c != 0) as usize).sum();
        if used * 4 <= o.counts.len() {
            let mut few = Vec::with_capacity(used);
            for (i, &c) in o.counts.iter().enumerate() {
                if c != 0 {
                    few.push((o.base + i, c));
                }
            }
            self.few = few;
            self.few_calls = FEW_CALLS;
        } else {
            let lo = o.counts.iter().position(|&c| c > 0).unwrap_or(0);
            let hi = o.counts.iter().rposition(|&c| c > 0).unwrap_or(0);
            self.base = o.base + lo;
            self.counts = o.counts[lo..=hi].to_vec();
        }
    }

    /// The lowest value of the bucket at `idx` (hdrhistogram's `value_for`).
    fn value_for(&self, idx: usize) -> u64 {
        let mut bucket = (idx >> self.half_mag) as i64 - 1;
        let mut sub = (idx as u64 & (self.half_count - 1)) + self.half_count;
        if bucket < 0 {
            sub -= self.half_count;
            bucket = 0;
        }
        sub << bucket
    }

    /// For each 0-based rank in `ranks` (ascending), the highest value
    /// equivalent to that rank's value (hdrhistogram's
    /// `highest_equivalent`: the next bucket's lowest value less one,
    /// buckets being contiguous). One pass over the counts, no histogram
    /// built. Ranks past the count get `u64::MAX`.
    pub fn rank_values(&self, ranks: &[u64]) -> Vec<u64> {
        if let Some(d) = self.dense() {
            return d.rank_values(ranks);
        }
        let mut out = Vec::with_capacity(ranks.len());
        let mut want = ranks.iter().peekable();
        let mut seen = 0u64;
        for (i, &c) in self.counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let idx = self.base + i;
            seen += c;
            while let Some(&&r) = want.peek() {
                if r >= seen {
                    break;
                }
                out.push(self.value_for(idx + 1) - 1);
                want.next();
            }
            if want.peek().is_none() {
                break;
            }
        }
        out.resize(ranks.len(), u64::MAX);
        out
    }

    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = Histogram::new(self.sigfig).expect("sigfig is validated to 1..=5");
        for &(idx, c) in &self.few {
            let _ = h.record_n(self.value_for(idx), c);
        }
        for (i, &c) in self.counts.iter().enumerate() {
            if c > 0 {
                // Auto-resizing: cannot fail for values below 2^63.
                let _ = h.record_n(self.value_for(self.base + i), c);
            }
        }
        h
    }
}

/// Exact count, min, max and integer-microsecond sum, plus the values.
/// All of it merges exactly, so merge order never changes a result.
#[derive(Debug, Clone)]
pub struct Dist {
    pub n: u64,
    pub sum_us: u128,
    pub min: f64,
    pub max: f64,
    values: Values,
}

/// A distribution as a state file holds it.
#[derive(Debug, Clone)]
pub struct DistParts {
    pub n: u64,
    pub sum_us: u128,
    pub min: f64,
    pub max: f64,
    /// HDR mode: the histogram; exact mode: every value.
    pub hdr: Option<Histogram<u64>>,
    pub values: Option<Vec<f64>>,
    /// HDR mode: per layout bound, the values of the HDR bucket holding it
    /// that are at or below it (empty: none, or a state from before 0.2).
    pub near: Vec<u64>,
}

/// Milliseconds to whole microseconds (the HDR unit).
#[inline]
pub fn to_us(ms: f64) -> u64 {
    // Round half away from zero, like `f64::round`, without its libm call
    // (x86_64's baseline has no rounding instruction). Exact: `x` is
    // non-negative and below 2^53, so `x - trunc(x)` is computed exactly.
    let x = ms * 1000.0;
    // Through i64: one conversion instruction (x is in [0, 2^53)).
    let t = x as i64;
    (t + ((x - t as f64) >= 0.5) as i64) as u64
}

impl Dist {
    pub fn new(mode: Mode) -> Dist {
        let values = match mode {
            // Auto-resizing: the range grows with the largest value seen.
            Mode::Hdr { sigfig } => Values::Hdr(Counts::new(sigfig)),
            Mode::Exact => Values::Exact(Vec::new()),
        };
        Dist {
            n: 0,
            sum_us: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values,
        }
    }

    /// Record one duration in milliseconds (already checked to be finite,
    /// non-negative and within range).
    #[inline(always)]
    pub fn record(&mut self, ms: f64) {
        // `-0` as `0`, so min and max below do not depend on which of the
        // two a worker saw first.
        let ms = ms + 0.0;
        let us = to_us(ms);
        match &mut self.values {
            Values::Hdr(c) => c.record(us),
            Values::Exact(v) => v.push(ms),
        }
        self.n += 1;
        self.sum_us += us as u128;
        // Compare and select (values are never NaN here), not
        // `f64::min`'s NaN-aware sequence.
        self.min = if ms < self.min { ms } else { self.min };
        self.max = if ms > self.max { ms } else { self.max };
    }

    pub fn merge(&mut self, o: &Dist) {
        match (&mut self.values, &o.values) {
            (Values::Hdr(a), Values::Hdr(b)) => a.merge(b),
            (Values::Exact(a), Values::Exact(b)) => a.extend_from_slice(b),
            _ => unreachable!("one run uses one mode"),
        }
        self.n += o.n;
        self.sum_us += o.sum_us;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    /// Exact values, every one a whole number (a field of integers):
    /// its figures are shown without decimals where they are whole.
    pub fn whole(&self) -> bool {
        matches!(&self.values, Values::Exact(v) if !v.is_empty() && v.iter().all(|x| x.fract() == 0.0))
    }

    /// Sort kept values (exact mode) so that quantiles and sums are
    /// computed in one order whatever the merge order was. HDR counts
    /// are read as they are.
    pub fn finish(&mut self) {
        match &mut self.values {
            Values::Exact(v) => v.sort_by(f64::total_cmp),
            Values::Hdr(_) => {}
        }
    }

    pub fn parts(&self) -> DistParts {
        let (hdr, values, near) = match &self.values {
            Values::Hdr(c) => (Some(c.histogram()), None, c.near.clone()),
            Values::Exact(v) => (None, Some(v.clone()), Vec::new()),
        };
        DistParts {
            n: self.n,
            sum_us: self.sum_us,
            min: self.min,
            max: self.max,
            hdr,
            values,
            near,
        }
    }

    /// Rebuild from [`Dist::parts`]; the counts must agree with `n`.
    pub fn restore(mode: Mode, p: DistParts) -> Result<Dist, super::Invalid> {
        let values = match (mode, p.hdr, p.values) {
            (Mode::Hdr { sigfig }, Some(h), None) => {
                if h.sigfig() != sigfig {
                    return Err(super::Invalid::Digits {
                        got: h.sigfig(),
                        want: sigfig,
                    });
                }
                if h.len() != p.n {
                    return Err(super::Invalid::HistogramCount {
                        values: h.len(),
                        n: p.n,
                    });
                }
                let mut c = Counts::new(sigfig);
                for v in h.iter_recorded() {
                    c.record_n(v.value_iterated_to(), v.count_at_value());
                }
                if !p.near.is_empty() {
                    if p.near.len() != layout::N {
                        return Err(super::Invalid::NearLength);
                    }
                    c.near = p.near;
                }
                Values::Hdr(c)
            }
            (Mode::Exact, None, Some(v)) => {
                if v.len() as u64 != p.n || v.iter().any(|x| !x.is_finite() || *x < 0.0) {
                    return Err(super::Invalid::ExactValues);
                }
                Values::Exact(v)
            }
            _ => return Err(super::Invalid::WrongPrecision),
        };
        Ok(Dist {
            n: p.n,
            sum_us: p.sum_us,
            min: if p.n == 0 { f64::INFINITY } else { p.min },
            max: if p.n == 0 { f64::NEG_INFINITY } else { p.max },
            values,
        })
    }

    /// Percentile `p` in [0, 100], by the platform script's rule in both
    /// modes: linear interpolation between closest ranks, k = (n-1)*p/100,
    /// f = floor(k), c = min(f+1, n-1), v[f] + (k-f)*(v[c]-v[f]).
    ///
    /// Exact: over every value, as the script did (to the last bit).
    /// HDR: the same, with v[f] and v[c] read from the histogram as the
    /// highest value equivalent to the value of that rank, clamped to the
    /// exact minimum and maximum. Each is at most 10^-sigfig relative above
    /// the exact one (plus half a microsecond of rounding) and never below,
    /// so the result is too: `--exact` refines it, never contradicts it.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.values {
            Values::Hdr(..) => {
                let k = (self.n - 1) as f64 * p / 100.0;
                let f = k.floor();
                let fi = (f as u64).min(self.n - 1);
                let c = (fi + 1).min(self.n - 1);
                let ranks = self.hdr_ranks(&[fi, c]);
                ranks[0] + (k - f) * (ranks[1] - ranks[0])
            }
            Values::Exact(v) => linear(v, p),
        }
    }

    /// [`Dist::percentile`] for each of `ps`, reading the histogram once.
    pub fn percentiles(&self, ps: &[f64]) -> Vec<f64> {
        if self.n == 0 || !matches!(self.values, Values::Hdr(..)) {
            return ps.iter().map(|&p| self.percentile(p)).collect();
        }
        // Every rank any percentile needs, ascending and once.
        let last = self.n - 1;
        let at: Vec<(f64, u64, u64)> = ps
            .iter()
            .map(|&p| {
                let k = last as f64 * p / 100.0;
                let f = (k.floor() as u64).min(last);
                (k - k.floor(), f, (f + 1).min(last))
            })
            .collect();
        let mut ranks: Vec<u64> = at.iter().flat_map(|&(_, f, c)| [f, c]).collect();
        ranks.sort_unstable();
        ranks.dedup();
        let vals = self.hdr_ranks(&ranks);
        let of = |r: u64| vals[ranks.binary_search(&r).unwrap_or(0)];
        at.iter()
            .map(|&(w, f, c)| of(f) + w * (of(c) - of(f)))
            .collect()
    }

    /// The risk analyzer's rule: the lower nearest rank,
    /// `sorted[int((n-1)*q)]` (HDR: that rank read from the histogram, as in
    /// [`Dist::percentile`]).
    pub fn lower_rank(&self, p: f64) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let k = (((self.n - 1) as f64 * (p / 100.0)) as u64).min(self.n - 1);
        match &self.values {
            Values::Exact(v) => v[k as usize],
            Values::Hdr(..) => self.hdr_ranks(&[k])[0],
        }
    }

    /// The values of 0-based ranks `ranks` (ascending) in milliseconds:
    /// the highest value equivalent to the rank's bucket, clamped to the
    /// exact minimum and maximum; the first and last rank are those.
    fn hdr_ranks(&self, ranks: &[u64]) -> Vec<f64> {
        let Values::Hdr(c) = &self.values else {
            return Vec::new();
        };
        let (lo, hi) = (to_us(self.min), to_us(self.max));
        c.rank_values(ranks)
            .into_iter()
            .zip(ranks)
            .map(|(us, &r)| {
                // The first and last ranks are the exact extremes.
                if r == 0 {
                    self.min
                } else if r + 1 >= self.n {
                    self.max
                } else {
                    us.clamp(lo, hi) as f64 / 1000.0
                }
            })
            .collect()
    }

    /// The distribution in the export layout (see [`layout`]), in whole
    /// microseconds as recorded.
    pub fn histo(&self) -> Histo {
        let le = match &self.values {
            Values::Hdr(c) => c.layout_le(),
            Values::Exact(v) => {
                let mut v: Vec<u64> = v.iter().map(|&ms| to_us(ms)).collect();
                v.sort_unstable();
                layout::BOUNDS_US
                    .iter()
                    .map(|&b| v.partition_point(|&x| x <= b) as u64)
                    .collect()
            }
        };
        Histo {
            le,
            count: self.n,
            sum_us: self.sum_us,
        }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        match &self.values {
            Values::Exact(v) => v.iter().sum::<f64>() / v.len() as f64,
            Values::Hdr(..) => self.sum_us as f64 / 1000.0 / self.n as f64,
        }
    }

    pub fn min(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.min
        }
    }

    pub fn max(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.max
        }
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

impl super::keyed::Merge for Dist {
    fn merge(&mut self, o: &Dist) {
        Dist::merge(self, o)
    }
    fn weight(&self) -> u64 {
        self.n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_and_max_do_not_depend_on_the_order_of_zero_and_minus_zero() {
        for mode in [Mode::Hdr { sigfig: 3 }, Mode::Exact] {
            for order in [[0.0, -0.0], [-0.0, 0.0]] {
                let mut d = Dist::new(mode);
                order.iter().for_each(|&x| d.record(x));
                assert_eq!(d.min.to_bits(), 0.0f64.to_bits(), "{order:?}");
                assert_eq!(d.max.to_bits(), 0.0f64.to_bits(), "{order:?}");
            }
        }
    }

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
        assert_eq!(
            h.percentile(50.0),
            30.0 + 0.015,
            "upper edge of the 30 ms bucket"
        );
        assert_eq!(h.percentile(100.0), 50.0, "never above the max");
        // Interpolated like --exact: 40 and 50 ms, 80% of the way.
        assert!((h.percentile(95.0) - (40.031 + 0.8 * (50.0 - 40.031))).abs() < 1e-9);
        assert!((e.percentile(95.0) - 48.0).abs() < 1e-9);
        assert_eq!(e.lower_rank(95.0), 40.0);
        assert_eq!(h.lower_rank(95.0), 40.031, "upper edge of the 40 ms bucket");
        assert_eq!(h.percentile(0.0), 10.0, "never below the min");
        let ps = [0.0, 12.5, 50.0, 95.0, 99.0, 99.9, 100.0];
        let one_by_one: Vec<f64> = ps.iter().map(|&p| h.percentile(p)).collect();
        assert_eq!(h.percentiles(&ps), one_by_one, "one pass, the same numbers");
        assert_eq!(h.mean(), 30.0);
        let mut m = Dist::new(Mode::Hdr { sigfig: 3 });
        m.merge(&h);
        m.merge(&h);
        assert_eq!(m.n, 10);
        assert_eq!(m.percentile(50.0), h.percentile(50.0));
    }

    /// Values on, just below and just above every export bound, and
    /// spread between them (microsecond steps, as the logs write them).
    fn near_bounds() -> Vec<f64> {
        let mut v = Vec::new();
        for &b in &layout::BOUNDS_US {
            for d in [-300i64, -1, 0, 1, 2, 255] {
                v.push((b as i64 + d) as f64 / 1000.0);
            }
        }
        let mut x = 0.4f64;
        while x < 130_000.0 {
            v.push((x * 1000.0).round() / 1000.0);
            x *= 1.037;
        }
        v
    }

    #[test]
    fn layout_counts_are_exact_at_every_precision() {
        let vals = near_bounds();
        let mut exact = Dist::new(Mode::Exact);
        vals.iter().for_each(|&v| exact.record(v));
        exact.finish();
        let want = exact.histo();
        // Counted by hand: values whose microseconds are at most the bound.
        for (i, &b) in layout::BOUNDS_US.iter().enumerate() {
            let n = vals.iter().filter(|&&v| to_us(v) <= b).count() as u64;
            assert_eq!(want.le[i], n, "bound {b}");
        }
        for sigfig in 1..=5 {
            let mut h = Dist::new(Mode::Hdr { sigfig });
            vals.iter().for_each(|&v| h.record(v));
            assert_eq!(h.histo(), want, "sigfig {sigfig}");
            // Split, merged, and through a state's parts: still exact.
            let (mut a, mut b) = (
                Dist::new(Mode::Hdr { sigfig }),
                Dist::new(Mode::Hdr { sigfig }),
            );
            for (i, &v) in vals.iter().enumerate() {
                if i % 3 == 0 {
                    a.record(v)
                } else {
                    b.record(v)
                }
            }
            let a = Dist::restore(Mode::Hdr { sigfig }, a.parts()).unwrap();
            let mut b = Dist::restore(Mode::Hdr { sigfig }, b.parts()).unwrap();
            b.merge(&a);
            assert_eq!(b.histo(), want, "sigfig {sigfig}, merged");
        }
    }
}
