//! How many observations each key had that a capped map ([`super::Keyed`])
//! did not keep: what lets a report show the heaviest keys, not the ones
//! a hash happened to keep, and say exactly what it folded.
//!
//! The counts are exact while the keys fit ([`Tally::new`]'s cap, and a
//! byte budget for their names). Past that the tally becomes a
//! Misra–Gries summary (the batched "Frequent" algorithm): when full, the
//! median count is subtracted from every key and the keys at zero are
//! dropped. A key's count is then at most [`Tally::error`] below its true
//! count, never above; the error is at most `2 n / cap` for `n`
//! observations (each prune removes its amount from at least half the
//! keys). Summaries merge by adding counts and errors, then pruning, as
//! Agarwal et al. show for mergeable summaries. While exact, a tally is a
//! function of the multiset of keys: one thread and N threads agree.
//! Once pruned, which small keys survive depends on the order, and the
//! report says the counts are approximate and by how much.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use serde::{Deserialize, Serialize};

use super::keyed::Fx;

/// Keys a tally counts exactly before it prunes.
pub const TALLY_KEYS: usize = 100_000;
/// Bytes of key names a tally holds before it prunes.
pub const TALLY_BYTES: usize = 8 << 20;

#[derive(Debug, Clone, Default)]
pub struct Tally {
    counts: HashMap<Box<str>, u64, BuildHasherDefault<Fx>>,
    bytes: usize,
    /// Observations added (counted or pruned away).
    n: u64,
    /// Most any count is below the truth (0: exact).
    err: u64,
}

impl Tally {
    pub fn add(&mut self, key: &str, n: u64) {
        self.n += n;
        if let Some(c) = self.counts.get_mut(key) {
            *c += n;
            return;
        }
        let full = self.counts.len() >= TALLY_KEYS
            || self.bytes + key.len() > TALLY_BYTES
            || (!self.counts.is_empty() && crate::budget::tight());
        if full {
            self.prune();
        }
        self.bytes += key.len();
        self.counts.insert(key.into(), n);
    }

    /// Subtract the median count from every key and drop the keys it
    /// empties: at least half go.
    fn prune(&mut self) {
        let mut c: Vec<u64> = self.counts.values().copied().collect();
        if c.is_empty() {
            return;
        }
        let mid = c.len() / 2;
        let d = *c.select_nth_unstable(mid).1;
        self.err += d;
        let mut bytes = 0;
        self.counts.retain(|k, v| {
            *v -= d.min(*v);
            let keep = *v > 0;
            if keep {
                bytes += k.len();
            }
            keep
        });
        self.bytes = bytes;
    }

    pub fn merge(&mut self, o: &Tally) {
        self.n += o.n;
        self.err += o.err;
        for (k, &c) in &o.counts {
            match self.counts.get_mut(k) {
                Some(x) => *x += c,
                None => {
                    self.bytes += k.len();
                    self.counts.insert(k.clone(), c);
                }
            }
        }
        while self.counts.len() > TALLY_KEYS || self.bytes > TALLY_BYTES {
            self.prune();
        }
    }

    /// The count of `key` (a lower bound, within [`Tally::error`]).
    pub fn get(&self, key: &str) -> u64 {
        self.counts.get(key).copied().unwrap_or(0)
    }

    /// Observations added.
    pub fn total(&self) -> u64 {
        self.n
    }

    /// Keys counted (all of them while exact).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Most a count is below the truth: 0 while every count is exact.
    pub fn error(&self) -> u64 {
        self.err
    }

    /// Every key with its count, largest first (ties by key).
    pub fn by_count(&self) -> Vec<(&str, u64)> {
        let mut v: Vec<(&str, u64)> = self.counts.iter().map(|(k, &c)| (&**k, c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v
    }

    fn state(&self) -> TallyState {
        let mut counts: Vec<(String, u64)> = self
            .counts
            .iter()
            .map(|(k, &c)| (k.to_string(), c))
            .collect();
        counts.sort();
        TallyState {
            n: self.n,
            error: self.err,
            counts,
        }
    }
}

/// A tally in a state file: its counts sorted by key.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TallyState {
    n: u64,
    error: u64,
    counts: Vec<(String, u64)>,
}

impl Serialize for Tally {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.state().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Tally {
    /// Checked as a state file could get it wrong: more keys or bytes than
    /// a tally holds, a repeated key, counts above the total.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Tally, D::Error> {
        use serde::de::Error as _;
        let s = TallyState::deserialize(d)?;
        if s.counts.len() > TALLY_KEYS {
            return Err(D::Error::custom(super::Invalid::TooManyKeys {
                entries: s.counts.len(),
                cap: TALLY_KEYS,
            }));
        }
        let mut t = Tally {
            n: s.n,
            err: s.error,
            ..Tally::default()
        };
        let mut sum = 0u64;
        for (k, c) in s.counts {
            sum = sum.saturating_add(c);
            t.bytes += k.len();
            if c == 0 || t.counts.insert(k.into(), c).is_some() {
                return Err(D::Error::custom(super::Invalid::RepeatedKey));
            }
        }
        if sum > t.n || t.bytes > TALLY_BYTES {
            return Err(D::Error::custom(super::Invalid::TallyCounts));
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_while_it_fits() {
        let mut t = Tally::default();
        for i in 0..1000u64 {
            t.add(&format!("k{}", i % 10), 1);
        }
        assert_eq!(t.error(), 0);
        assert_eq!(t.get("k3"), 100);
        assert_eq!(t.total(), 1000);
        assert_eq!(t.by_count()[0], ("k0", 100));
    }

    #[test]
    fn pruned_counts_stay_within_the_stated_error() {
        // One key in three records, a long tail of keys seen once: the
        // heavy key survives pruning, at most `error` below its count.
        let mut t = Tally::default();
        let n = 3 * TALLY_KEYS as u64;
        for i in 0..n {
            if i % 3 == 0 {
                t.add("heavy", 1);
            } else {
                t.add(&format!("tail{i}"), 1);
            }
        }
        let truth = n / 3;
        assert!(t.error() > 0);
        assert!(t.error() <= 2 * n / TALLY_KEYS as u64, "{}", t.error());
        assert!(t.get("heavy") <= truth);
        assert!(t.get("heavy") + t.error() >= truth);
        assert_eq!(t.by_count()[0].0, "heavy");
    }

    #[test]
    fn merging_exact_tallies_is_exact_and_order_free() {
        let mut a = Tally::default();
        let mut b = Tally::default();
        a.add("x", 2);
        a.add("y", 1);
        b.add("y", 5);
        b.add("z", 1);
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.by_count(), vec![("y", 6), ("x", 2), ("z", 1)]);
        assert_eq!(ab.by_count(), ba.by_count());
        assert_eq!(ab.total(), 9);
    }

    #[test]
    fn a_state_round_trips_and_bad_ones_are_refused() {
        let mut t = Tally::default();
        t.add("a", 3);
        t.add("b", 1);
        let s = serde_json::to_string(&t).unwrap();
        let back: Tally = serde_json::from_str(&s).unwrap();
        assert_eq!(back.by_count(), t.by_count());
        assert_eq!(back.total(), 4);
        for bad in [
            r#"{"n":1,"error":0,"counts":[["a",3]]}"#,
            r#"{"n":9,"error":0,"counts":[["a",3],["a",1]]}"#,
            r#"{"n":9,"error":0,"counts":[["a",0]]}"#,
        ] {
            assert!(serde_json::from_str::<Tally>(bad).is_err(), "{bad}");
        }
    }
}
