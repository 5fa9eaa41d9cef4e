//! The one bucket layout every exported histogram uses (Prometheus
//! `_bucket{le=...}`, Parquet bucket rows): fixed, the same on every host
//! and every run, so hosts add up bucket by bucket.
//!
//! Bounds run log-linear from 1 ms to 2 min: 1, 2, 3, 4, 5 and 7.5 of each
//! decade from 1 ms to 75 s, then 100 s and 120 s (32 bounds, then +Inf).
//! They hold the built-in gates' latency thresholds (300, 400 and 500 ms)
//! as exact bounds. The count at a bound is exact: values are compared at
//! the microsecond resolution they are recorded at, and in HDR mode the
//! HDR bucket that holds a bound also keeps how many of its values are at
//! or below it (see [`Straddle`]).

use std::sync::OnceLock;

/// Upper bounds (inclusive), microseconds, ascending.
pub const BOUNDS_US: [u64; 32] = [
    1_000,
    2_000,
    3_000,
    4_000,
    5_000,
    7_500,
    10_000,
    20_000,
    30_000,
    40_000,
    50_000,
    75_000,
    100_000,
    200_000,
    300_000,
    400_000,
    500_000,
    750_000,
    1_000_000,
    2_000_000,
    3_000_000,
    4_000_000,
    5_000_000,
    7_500_000,
    10_000_000,
    20_000_000,
    30_000_000,
    40_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    120_000_000,
];

/// Number of finite bounds.
pub const N: usize = BOUNDS_US.len();

/// The bound `i` in seconds (exact decimal: `0.0075`, not `0.0075000001`).
pub fn bound_seconds(i: usize) -> f64 {
    BOUNDS_US[i] as f64 / 1e6
}

/// HDR buckets that hold a bound with values on both sides of it, for one
/// precision: a bit per HDR bucket index, and which bound each holds.
/// Recording tests the bit (one load and a test per value); only values
/// in these few buckets do more.
#[derive(Debug)]
pub struct Straddle {
    pub bits: Vec<u64>,
    /// (HDR bucket index, bound index), ascending.
    pub at: Vec<(usize, usize)>,
}

impl Straddle {
    /// The table for HDR buckets laid out by `index`/`lowest` (the bucket
    /// index of a value, and the lowest value of a bucket index).
    fn build(index: impl Fn(u64) -> usize, lowest: impl Fn(usize) -> u64) -> Straddle {
        let mut at = Vec::new();
        for (i, &b) in BOUNDS_US.iter().enumerate() {
            let idx = index(b);
            let hi = lowest(idx + 1) - 1;
            if b < hi {
                at.push((idx, i));
            }
        }
        let words = at.last().map_or(0, |&(idx, _)| idx / 64 + 1);
        let mut bits = vec![0u64; words];
        for &(idx, _) in &at {
            bits[idx / 64] |= 1 << (idx % 64);
        }
        Straddle { bits, at }
    }

    /// The table for `sigfig` significant digits (built once per process).
    pub fn of(
        sigfig: u8,
        index: impl Fn(u64) -> usize,
        lowest: impl Fn(usize) -> u64,
    ) -> &'static Straddle {
        static TABLES: [OnceLock<Straddle>; 6] = [const { OnceLock::new() }; 6];
        TABLES[(sigfig as usize).min(5)].get_or_init(|| Straddle::build(index, lowest))
    }
}

/// A distribution in the layout: how many values are at or below each
/// bound (cumulative, as Prometheus' `le` buckets), the count and the sum.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Histo {
    /// `le[i]`: values at or below `BOUNDS_US[i]`; `count` for `+Inf`.
    pub le: Vec<u64>,
    pub count: u64,
    /// Sum of the values, whole microseconds.
    pub sum_us: u128,
}

impl Histo {
    pub fn sum_seconds(&self) -> f64 {
        self.sum_us as f64 / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_ascend_and_hold_the_gate_thresholds() {
        assert!(BOUNDS_US.windows(2).all(|w| w[0] < w[1]));
        for ms in [300, 400, 500] {
            assert!(BOUNDS_US.contains(&(ms * 1000)), "{ms} ms");
        }
        assert_eq!(bound_seconds(5), 0.0075);
        assert_eq!(bound_seconds(N - 1), 120.0);
    }
}
