//! How many distinct values a field took (`--distinct PATH`): exact up to
//! [`EXACT`] values, then a HyperLogLog++ sketch whose relative standard
//! error is [`REL_ERROR`]. Mergeable either way, so 1 and N threads, and
//! states merged later, give the same figure.
//!
//! Values are kept as 64-bit hashes of their text (wyhash, seed 0: the
//! same across builds, so states of different builds merge). Two
//! distinct values with one hash would count once: with 64 bits, among
//! [`EXACT`] values, that is a chance of about 10^-14.
//!
//! Chosen by measurement (benches/distinct, docs/performance.md):
//! `cardinality-estimator` inserts in 3 to 7 ns and keeps 4 KiB past
//! 128 values; its estimate's RMS error measured 1.0 to 1.7%.

use std::hash::Hasher;

use cardinality_estimator::CardinalityEstimator;
use serde::{Deserialize, Serialize};

use super::Invalid;

/// Most values counted exactly (a sorted list of hashes, 4 KiB).
pub const EXACT: usize = 512;
/// The sketch's relative standard error: 1.04 / sqrt(2^12 registers).
pub const REL_ERROR: f64 = 0.01625;

type Sketch = CardinalityEstimator<u64>;

/// The distinct values of one field. A state's is checked as it is read
/// ([`Distinct::check`]).
#[derive(Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields, try_from = "Raw")]
pub enum Distinct {
    /// The values' hashes, sorted, at most [`EXACT`].
    Hashes(Vec<u64>),
    /// Past [`EXACT`]: the sketch of every hash.
    Sketch(Box<Sketch>),
}

/// [`Distinct`] as a state file holds it, before its check.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Raw {
    Hashes(Vec<u64>),
    Sketch(Box<Sketch>),
}

impl TryFrom<Raw> for Distinct {
    type Error = Invalid;
    fn try_from(r: Raw) -> Result<Distinct, Invalid> {
        let d = match r {
            Raw::Hashes(v) => Distinct::Hashes(v),
            Raw::Sketch(s) => Distinct::Sketch(s),
        };
        d.check()?;
        Ok(d)
    }
}

impl Default for Distinct {
    fn default() -> Self {
        Distinct::Hashes(Vec::new())
    }
}

impl std::fmt::Debug for Distinct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (n, exact) = self.count();
        write!(f, "Distinct({n}, exact: {exact})")
    }
}

/// The hash a value is kept as.
pub fn hash(text: &[u8]) -> u64 {
    let mut h = wyhash::WyHash::with_seed(0);
    h.write(text);
    h.finish()
}

impl Distinct {
    #[inline]
    pub fn insert(&mut self, text: &[u8]) {
        self.insert_hash(hash(text));
    }

    pub fn insert_hash(&mut self, h: u64) {
        match self {
            Distinct::Hashes(v) => {
                if let Err(at) = v.binary_search(&h) {
                    if v.len() < EXACT {
                        v.insert(at, h);
                    } else {
                        let mut s = sketch_of(v);
                        s.insert_hash(h);
                        *self = Distinct::Sketch(s);
                    }
                }
            }
            Distinct::Sketch(s) => s.insert_hash(h),
        }
    }

    /// The number of distinct values, and whether it is exact.
    pub fn count(&self) -> (u64, bool) {
        match self {
            Distinct::Hashes(v) => (v.len() as u64, true),
            Distinct::Sketch(s) => (s.estimate() as u64, false),
        }
    }

    pub fn merge(&mut self, o: &Distinct) {
        match (&mut *self, o) {
            (_, Distinct::Hashes(b)) => {
                for &h in b {
                    self.insert_hash(h);
                }
            }
            (Distinct::Sketch(a), Distinct::Sketch(b)) => a.merge(b),
            (Distinct::Hashes(a), Distinct::Sketch(b)) => {
                let mut s = b.clone();
                for &h in a.iter() {
                    s.insert_hash(h);
                }
                *self = Distinct::Sketch(s);
            }
        }
    }

    /// Check figures read back from a state file.
    pub fn check(&self) -> Result<(), Invalid> {
        match self {
            Distinct::Hashes(v) if v.len() > EXACT || v.windows(2).any(|w| w[0] >= w[1]) => {
                Err(Invalid::DistinctHashes)
            }
            _ => Ok(()),
        }
    }
}

fn sketch_of(hashes: &[u64]) -> Box<Sketch> {
    let mut s = Box::new(Sketch::new());
    for &h in hashes {
        s.insert_hash(h);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(range: std::ops::Range<u64>) -> Distinct {
        let mut d = Distinct::default();
        for i in range {
            d.insert(format!("10.0.{}.{}", i / 256, i % 256).as_bytes());
        }
        d
    }

    #[test]
    fn exact_while_it_fits_then_within_the_error() {
        let mut d = of(0..EXACT as u64);
        // Repeats change nothing.
        d.merge(&of(0..100));
        d.insert(b"10.0.0.0");
        assert_eq!(d.count(), (EXACT as u64, true));
        for n in [EXACT as u64 + 1, 5_000, 200_000] {
            let (got, exact) = of(0..n).count();
            assert!(!exact);
            let err = (got as f64 / n as f64 - 1.0).abs();
            // Four standard errors: a failure here is not chance.
            assert!(err < 4.0 * REL_ERROR, "{n}: {got}");
        }
    }

    #[test]
    fn merges_in_any_order_give_one_figure() {
        let parts = [of(0..300), of(200..700), of(650..4_000), of(0..10)];
        let mut fwd = Distinct::default();
        for p in &parts {
            fwd.merge(p);
        }
        let mut back = Distinct::default();
        for p in parts.iter().rev() {
            back.merge(p);
        }
        let whole = of(0..4_000);
        assert_eq!(fwd.count(), whole.count());
        assert_eq!(back.count(), whole.count());
        // Two exact halves that fit stay exact.
        let mut a = of(0..300);
        a.merge(&of(250..400));
        assert_eq!(a.count(), (400, true));
    }

    #[test]
    fn states_round_trip_and_bad_ones_are_refused() {
        // Exactly the exact limit is a valid state too.
        for d in [of(0..3), of(0..EXACT as u64), of(0..2_000)] {
            let text = serde_json::to_string(&d).unwrap();
            let back: Distinct = serde_json::from_str(&text).unwrap();
            back.check().unwrap();
            assert_eq!(back.count(), d.count());
        }
        for bad in [r#"{"hashes": [3, 1]}"#, r#"{"hashes": [1, 1]}"#] {
            let e = serde_json::from_str::<Distinct>(bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("not sorted"), "{bad}: {e}");
        }
        assert_eq!(format!("{:?}", of(0..3)), "Distinct(3, exact: true)");
        let too_many = format!(
            "{{\"hashes\": {:?}}}",
            (0..=EXACT as u64).collect::<Vec<_>>()
        );
        assert!(serde_json::from_str::<Distinct>(&too_many).is_err());
        assert!(serde_json::from_str::<Distinct>(r#"{"sketch": [3, [1, 2]]}"#).is_err());
    }
}
