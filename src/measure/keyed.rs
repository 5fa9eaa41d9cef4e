//! Values keyed by an open set of categorical names (step names, intents,
//! outcomes, components), with bounded memory that merges deterministically.
//!
//! At most `cap` keys are kept: when more appear, only the `cap` keys with
//! the smallest hash stay (a bottom-k sketch) and the others are folded
//! into an overflow count. Which keys stay depends only on the set of keys,
//! never on the order they arrived in or how the input was split, so one
//! thread and N threads still give identical reports.

use super::tally::Tally;
use crate::parse::bytes_eq;
use std::hash::Hasher;

/// FxHash: fast, fixed (no random seed), good enough for short keys.
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl Hasher for Fx {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ b as u64).wrapping_mul(K);
        }
        self.0 = h;
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A well-mixed, order-free hash of a key for the bottom-k rule.
pub fn key_hash(k: &str) -> u64 {
    hash_bytes(k.as_bytes())
}

#[inline]
fn hash_bytes(k: &[u8]) -> u64 {
    let mut h = Fx::default();
    h.write(k);
    h.write_u8(0xff);
    // SplitMix64 finalizer, so the low Fx quality does not bias selection.
    let mut z = h.finish().wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Where a key probes the index: a cheap multiply-xor over its words (the
/// last one overlapping), not the bottom-k hash. That one must stay as it
/// is (it decides which keys a full map keeps, and state files hold its
/// threshold) and cost 60 instructions on a 37-byte pair key, most of it a
/// byte at a time over the tail; this needs only to spread keys over the
/// index.
#[inline(always)]
fn probe_hash(k: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let n = k.len();
    let word = |i: usize| u64::from_le_bytes(k[i..i + 8].try_into().unwrap_or([0; 8]));
    let mut h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            h = (h ^ word(i)).wrapping_mul(K);
            i += 8;
        }
        h = (h ^ word(n - 8)).wrapping_mul(K);
    } else {
        let mut x = 0u64;
        for &b in k {
            x = x << 8 | b as u64;
        }
        h = (h ^ x).wrapping_mul(K);
    }
    h ^ (h >> 32)
}

pub trait Merge {
    fn merge(&mut self, other: &Self);
    /// How many observations this value holds (for the overflow count).
    fn weight(&self) -> u64;
}

impl Merge for u64 {
    fn merge(&mut self, o: &u64) {
        *self += *o;
    }
    fn weight(&self) -> u64 {
        *self
    }
}

/// A map as a state file holds it: (cap, threshold, overflow, entries by
/// key, the tally of what it did not keep).
pub type Parts<'a, T> = (usize, u64, u64, Vec<(&'a str, &'a T)>, Option<&'a Tally>);

/// Below this many keys a lookup is a scan; from it on, an index.
const LINEAR: usize = 8;

#[derive(Debug, Clone)]
pub struct Keyed<T> {
    /// (key, bottom-k hash, value)
    items: Vec<(Box<str>, u64, T)>,
    /// Open-addressed index (linear probing) of positions in `items`,
    /// placed by [`probe_hash`]. Empty while `items` is short; `EMPTY`
    /// marks a free slot.
    index: Vec<u32>,
    cap: usize,
    /// Keys with a hash at or above this are not kept.
    threshold: u64,
    /// Observations whose key was not kept.
    pub overflow: u64,
    /// Those observations by key (made at the first one): what lets a
    /// report show the heaviest keys ([`Keyed::heaviest`]).
    tally: Option<Box<Tally>>,
    /// Values evicted from the kept set, kept for the caller to fold
    /// somewhere ([`Keyed::spilling`]); `None`: dropped.
    spilled: Option<Vec<(Box<str>, T)>>,
    /// Where the next lookup probably lands: keys of one record often come
    /// in the same order on every line (step names), and items are kept
    /// in first-seen order, so the slot after the last hit is tried first.
    hint: std::cell::Cell<usize>,
}

const EMPTY: u32 = u32::MAX;

impl<T: Merge + Clone> Keyed<T> {
    pub fn new(cap: usize) -> Self {
        Keyed {
            items: Vec::new(),
            index: Vec::new(),
            cap: cap.max(1),
            threshold: u64::MAX,
            overflow: 0,
            tally: None,
            spilled: None,
            hint: Default::default(),
        }
    }

    /// A map whose evicted values are kept for [`Keyed::take_spilled`].
    pub fn spilling(mut self) -> Self {
        self.spilled = Some(Vec::new());
        self
    }

    /// Keep evicted values from now on (a map read from a state file).
    pub fn spill(&mut self) {
        self.spilled.get_or_insert_with(Vec::new);
    }

    #[inline]
    pub fn has_spilled(&self) -> bool {
        self.spilled.as_ref().is_some_and(|v| !v.is_empty())
    }

    /// The values evicted since the last call (with [`Keyed::spilling`]).
    pub fn take_spilled(&mut self) -> Vec<(Box<str>, T)> {
        self.spilled
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Count `n` observations of `key`, which the map did not keep.
    #[cold]
    pub fn miss(&mut self, key: &str, n: u64) {
        self.overflow += n;
        self.tally.get_or_insert_default().add(key, n);
    }

    /// [`Keyed::miss`] for a key given as bytes (not UTF-8: counted, not
    /// named).
    #[cold]
    pub fn miss_bytes(&mut self, key: &[u8], n: u64) {
        match std::str::from_utf8(key) {
            Ok(k) => self.miss(k, n),
            Err(_) => self.overflow += n,
        }
    }

    /// The keys not kept, with their observations.
    pub fn tally(&self) -> Option<&Tally> {
        self.tally.as_deref()
    }

    /// The `k` keys with the most observations, kept or not, largest
    /// first (ties by key): each with its weight and, if kept, its value.
    /// A kept key's weight adds what the tally holds of it (a merged map
    /// kept a key that another one had folded); the weights are exact
    /// while the tally is ([`Tally::error`]).
    pub fn heaviest(&self, k: usize) -> Vec<(&str, u64, Option<&T>)> {
        let tally = self.tally.as_deref();
        let mut v: Vec<(&str, u64, Option<&T>)> = self
            .items
            .iter()
            .map(|e| {
                (
                    &*e.0,
                    e.2.weight() + tally.map_or(0, |t| t.get(&e.0)),
                    Some(&e.2),
                )
            })
            .collect();
        if let Some(t) = tally {
            v.extend(
                t.by_count()
                    .into_iter()
                    .filter(|(key, _)| self.find(key).is_none())
                    .map(|(key, n)| (key, n, None)),
            );
        }
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        v.truncate(k);
        v
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    #[inline]
    fn find(&self, key: &str) -> Option<usize> {
        self.find_bytes(key.as_bytes())
    }

    /// The hint's guess inline at the caller (a step name in the order of
    /// the line before is one compare); anything else in [`Keyed::search`].
    #[inline(always)]
    fn find_bytes(&self, key: &[u8]) -> Option<usize> {
        let h = self.hint.get();
        if let Some(e) = self.items.get(h) {
            if bytes_eq(e.0.as_bytes(), key) {
                self.hint.set(h + 1);
                return Some(h);
            }
        }
        self.search(key)
    }

    #[inline(never)]
    fn search(&self, key: &[u8]) -> Option<usize> {
        let found = if self.index.is_empty() {
            self.items
                .iter()
                .position(|e| bytes_eq(e.0.as_bytes(), key))
        } else {
            self.find_hashed(key, probe_hash(key))
        };
        if let Some(i) = found {
            self.hint.set(i + 1);
        }
        found
    }

    /// Index slot where a hash starts its probe.
    #[inline]
    fn home(&self, h: u64) -> usize {
        // The high bits: a multiply mixes its input into the top ones.
        (h >> (64 - self.index.len().trailing_zeros())) as usize
    }

    #[inline]
    fn find_hashed(&self, key: &[u8], h: u64) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut s = self.home(h);
        loop {
            let i = *self.index.get(s)?;
            if i == EMPTY {
                return None;
            }
            let e = self.items.get(i as usize)?;
            if bytes_eq(e.0.as_bytes(), key) {
                return Some(i as usize);
            }
            s = (s + 1) & mask;
        }
    }

    /// Put item `i` into the index.
    fn index_insert(&mut self, i: usize) {
        let mask = self.index.len() - 1;
        let mut s = self.home(probe_hash(self.items[i].0.as_bytes()));
        while self.index[s] != EMPTY {
            s = (s + 1) & mask;
        }
        self.index[s] = i as u32;
    }

    /// The index slot holding item `i`.
    fn slot_of(&self, i: usize) -> Option<usize> {
        let mask = self.index.len() - 1;
        let mut s = self.home(probe_hash(self.items.get(i)?.0.as_bytes()));
        loop {
            match self.index[s] {
                EMPTY => return None,
                x if x as usize == i => return Some(s),
                _ => s = (s + 1) & mask,
            }
        }
    }

    /// Free slot `s`, moving later entries of its probe run back so that
    /// no lookup stops early (deletion without tombstones).
    fn index_remove(&mut self, mut s: usize) {
        let mask = self.index.len() - 1;
        self.index[s] = EMPTY;
        let mut j = s;
        loop {
            j = (j + 1) & mask;
            let x = self.index[j];
            if x == EMPTY {
                return;
            }
            let home = self.home(probe_hash(self.items[x as usize].0.as_bytes()));
            // Move x back to s unless its home lies cyclically in (s, j].
            let stays = if s <= j {
                s < home && home <= j
            } else {
                s < home || home <= j
            };
            if !stays {
                self.index[s] = x;
                self.index[j] = EMPTY;
                s = j;
            }
        }
    }

    /// As [`Keyed::entry`], for a key given as bytes; bytes that are not
    /// UTF-8 are never inserted (the callers pass validated strings).
    #[inline(always)]
    pub fn entry_bytes(&mut self, key: &[u8], make: impl FnOnce() -> T) -> Option<&mut T> {
        if let Some(i) = self.find_bytes(key) {
            return Some(&mut self.items[i].2);
        }
        self.insert_bytes(key, make)
    }

    /// [`Keyed::entry_bytes`] for a key it did not find: out of line, so
    /// the callers' hot path holds only the lookup.
    #[inline(never)]
    fn insert_bytes(&mut self, key: &[u8], make: impl FnOnce() -> T) -> Option<&mut T> {
        let k = std::str::from_utf8(key).ok()?;
        self.entry(k, make)
    }

    /// The value for `key`, created with `make` if the key may be kept;
    /// `None` if the key falls outside the kept set.
    #[inline]
    pub fn entry(&mut self, key: &str, make: impl FnOnce() -> T) -> Option<&mut T> {
        if let Some(i) = self.find(key) {
            return Some(&mut self.items[i].2);
        }
        let h = key_hash(key);
        if h >= self.threshold {
            return None;
        }
        // Past half the memory budget a map that has a key makes no new
        // one (its observations go to the overflow, as past the cap).
        if !self.items.is_empty() && crate::budget::tight() {
            crate::budget::hold_back();
            return None;
        }
        self.items.push((key.into(), h, make()));
        self.grew();
        if self.items.len() > self.cap {
            // The new key may be the one evicted.
            self.shrink();
            return self.find(key).map(|i| &mut self.items[i].2);
        }
        self.items.last_mut().map(|e| &mut e.2)
    }

    /// Add `n` to a counter key given as bytes; bytes that are not UTF-8
    /// are never inserted and count as overflow.
    #[inline]
    pub fn count_bytes(&mut self, key: &[u8], n: u64)
    where
        T: From<u64> + std::ops::AddAssign<u64>,
    {
        match self.entry_bytes(key, || T::from(0)) {
            Some(c) => *c += n,
            None => self.miss_bytes(key, n),
        }
    }

    /// Add `n` to a counter key (for `Keyed<u64>`).
    #[inline]
    pub fn count(&mut self, key: &str, n: u64)
    where
        T: From<u64> + std::ops::AddAssign<u64>,
    {
        self.count_bytes(key.as_bytes(), n);
    }

    /// After a push: index the new item, or build the index once the set
    /// outgrows a scan (kept at most half full).
    fn grew(&mut self) {
        let n = self.items.len();
        if n < LINEAR {
            return;
        }
        if n * 2 > self.index.len() {
            self.reindex();
        } else {
            self.index_insert(n - 1);
        }
    }

    /// Rebuild the index for the current items.
    fn reindex(&mut self) {
        let n = self.items.len();
        self.index.clear();
        if n < LINEAR {
            return;
        }
        self.index
            .resize((n * 2).next_power_of_two().max(16), EMPTY);
        for i in 0..n {
            self.index_insert(i);
        }
    }

    fn shrink(&mut self) {
        while self.items.len() > self.cap {
            let max = self.items.iter().map(|e| e.1).max().unwrap_or(0);
            self.threshold = self.threshold.min(max);
            self.evict();
        }
    }

    /// Drop every entry at or above the threshold. Entries are swapped out
    /// one by one and the index patched in place: evicting one key costs a
    /// scan, not a rebuilt index (a long tail of distinct keys evicts often).
    fn evict(&mut self) {
        let t = self.threshold;
        let mut i = 0;
        while i < self.items.len() {
            if self.items[i].1 < t {
                i += 1;
                continue;
            }
            if !self.index.is_empty() {
                let last = self.items.len() - 1;
                if let Some(s) = self.slot_of(i) {
                    self.index_remove(s);
                }
                if last != i {
                    if let Some(s) = self.slot_of(last) {
                        self.index[s] = i as u32;
                    }
                }
            }
            let (k, _, v) = self.items.swap_remove(i);
            self.miss(&k, v.weight());
            if let Some(sp) = &mut self.spilled {
                sp.push((k, v));
            }
        }
        self.hint.set(0);
        if self.items.len() < LINEAR && !self.index.is_empty() {
            self.index.clear();
        }
    }

    pub fn merge(&mut self, o: &Keyed<T>) {
        self.threshold = self.threshold.min(o.threshold);
        self.overflow += o.overflow;
        if let Some(t) = &o.tally {
            self.tally.get_or_insert_default().merge(t);
        }
        for (k, h, v) in &o.items {
            if *h >= self.threshold {
                self.miss(k, v.weight());
                if let Some(sp) = &mut self.spilled {
                    sp.push((k.clone(), v.clone()));
                }
                continue;
            }
            match self.find(k) {
                Some(i) => self.items[i].2.merge(v),
                None => {
                    self.items.push((k.clone(), *h, v.clone()));
                    self.grew();
                }
            }
        }
        self.evict();
        if self.items.len() > self.cap {
            self.shrink();
        }
    }

    /// The sketch's state: (cap, threshold, overflow, entries by key),
    /// and the tally of what it did not keep.
    pub fn parts(&self) -> Parts<'_, T> {
        (
            self.cap,
            self.threshold,
            self.overflow,
            self.sorted(),
            self.tally.as_deref(),
        )
    }

    /// Rebuild from [`Keyed::parts`], checking what a state file could get
    /// wrong: more entries than the cap, a repeated key, a key the
    /// threshold would have dropped.
    pub fn restore(
        cap: usize,
        threshold: u64,
        overflow: u64,
        entries: Vec<(String, T)>,
        tally: Option<Tally>,
    ) -> Result<Self, super::Invalid> {
        // A state before tallies has none; one with a tally counts every
        // observation that overflowed.
        if tally.as_ref().is_some_and(|t| t.total() != overflow) {
            return Err(super::Invalid::TallyCounts);
        }
        if cap == 0 || entries.len() > cap {
            return Err(super::Invalid::TooManyKeys {
                entries: entries.len(),
                cap,
            });
        }
        let mut k = Keyed::new(cap);
        k.threshold = threshold;
        k.overflow = overflow;
        k.tally = tally.map(Box::new);
        for (key, v) in entries {
            let h = key_hash(&key);
            if h >= threshold {
                return Err(super::Invalid::DroppedKey);
            }
            if k.find(&key).is_some() {
                return Err(super::Invalid::RepeatedKey);
            }
            k.items.push((key.into(), h, v));
            k.grew();
        }
        Ok(k)
    }

    /// Entries sorted by key.
    pub fn sorted(&self) -> Vec<(&str, &T)> {
        let mut v: Vec<_> = self.items.iter().map(|e| (&*e.0, &e.2)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    pub fn sorted_mut(&mut self) -> Vec<(&str, &mut T)> {
        let mut v: Vec<_> = self.items.iter_mut().map(|e| (&*e.0, &mut e.2)).collect();
        v.sort_by(|a, b| a.0.cmp(b.0));
        v
    }

    pub fn get(&self, key: &str) -> Option<&T> {
        self.find(key).map(|i| &self.items[i].2)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A pair key (`intent` x `outcome`) packed into one string without any
/// separator that a key could contain: `<len of a>:<a><b>`. Built from
/// bytes (spans straight from the line) in `buf`, and returned; two UTF-8
/// strings and an ASCII prefix make a UTF-8 key.
#[inline]
pub fn pair_key<'b>(buf: &'b mut Vec<u8>, a: &[u8], b: &[u8]) -> &'b [u8] {
    // Names up to 32 bytes (nearly all) are copied a word at a time into
    // a buffer kept at its full length, so neither a length change nor a
    // memcpy call is paid for each record; the key is the front of it.
    if a.len() <= SHORT && b.len() <= SHORT {
        if buf.len() < PAIR_BUF {
            buf.resize(PAIR_BUF, 0);
        }
        let n = a.len();
        let mut at = if n < 10 {
            buf[0] = b'0' + n as u8;
            1
        } else {
            buf[0] = b'0' + (n / 10) as u8;
            buf[1] = b'0' + (n % 10) as u8;
            2
        };
        buf[at] = b':';
        at += 1;
        copy_short(&mut buf[at..at + n], a);
        at += n;
        copy_short(&mut buf[at..at + b.len()], b);
        at += b.len();
        return &buf[..at];
    }
    buf.clear();
    buf.extend_from_slice(a.len().to_string().as_bytes());
    buf.push(b':');
    buf.extend_from_slice(a);
    buf.extend_from_slice(b);
    buf
}

/// Names [`pair_key`] copies a word at a time, and the buffer that holds
/// two of them with the length and the colon.
const SHORT: usize = 32;
const PAIR_BUF: usize = 2 + 1 + 2 * SHORT;

/// `dst.copy_from_slice(src)` for up to [`SHORT`] bytes, as overlapping
/// word copies (a copy of unknown length is otherwise a call to memcpy,
/// which costs more than the copy on a few dozen bytes).
#[inline(always)]
fn copy_short(dst: &mut [u8], src: &[u8]) {
    let n = src.len();
    debug_assert!(n == dst.len() && n <= SHORT);
    if n >= 8 {
        dst[..8].copy_from_slice(&src[..8]);
        if n > 16 {
            dst[8..16].copy_from_slice(&src[8..16]);
            dst[n - 16..n - 8].copy_from_slice(&src[n - 16..n - 8]);
        }
        dst[n - 8..].copy_from_slice(&src[n - 8..]);
    } else if n >= 4 {
        dst[..4].copy_from_slice(&src[..4]);
        dst[n - 4..].copy_from_slice(&src[n - 4..]);
    } else if n > 0 {
        // First, middle and last: every byte of one to three.
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

pub fn split_pair(k: &str) -> (&str, &str) {
    let Some((n, rest)) = k.split_once(':') else {
        return (k, "");
    };
    let n: usize = n.parse().unwrap_or(0);
    if n <= rest.len() && rest.is_char_boundary(n) {
        rest.split_at(n)
    } else {
        (rest, "")
    }
}

/// How many distinct step names, intents, outcomes, ... are kept per map.
pub const MAX_KEYS: usize = 1000;

/// The entry for a key read from the line: straight from its bytes when it
/// has no escapes (the scanner validated them as UTF-8), decoded otherwise.
#[inline(always)]
pub fn entry_span<'k, T: Merge + Clone>(
    k: &'k mut Keyed<T>,
    s: crate::parse::Span,
    line: &[u8],
    make: impl FnOnce() -> T,
) -> Option<&'k mut T> {
    if s.escaped() {
        k.entry(&s.text(line), make)
    } else {
        k.entry_bytes(s.raw(line), make)
    }
}

/// Count a categorical value read from the line.
#[inline]
pub fn count_span(k: &mut Keyed<u64>, s: crate::parse::Span, line: &[u8]) {
    match entry_span(k, s, line, || 0) {
        Some(c) => *c += 1,
        None => k.miss(&s.text(line), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bottom_k_is_order_free() {
        let keys: Vec<String> = (0..500).map(|i| format!("k{i}")).collect();
        let mut a: Keyed<u64> = Keyed::new(50);
        for k in &keys {
            a.count(k, 1);
        }
        let mut parts: Vec<Keyed<u64>> = (0..7).map(|_| Keyed::new(50)).collect();
        for (i, k) in keys.iter().rev().enumerate() {
            parts[i % 7].count(k, 1);
        }
        let mut b: Keyed<u64> = Keyed::new(50);
        for p in &parts {
            b.merge(p);
        }
        assert_eq!(a.len(), 50);
        assert_eq!(a.sorted(), b.sorted());
        assert_eq!(a.overflow, 450);
        assert_eq!(b.overflow, 450);
    }

    /// Past the cap, with the hash index in use: every kept key keeps all
    /// its counts, and what was dropped adds up (a key pushed past the cap
    /// used to be missing from the index, so its counts went to overflow
    /// while it stayed with 0).
    #[test]
    fn a_long_tail_keeps_exact_counts_for_the_kept_keys() {
        let mut k: Keyed<u64> = Keyed::new(200);
        for round in 0..2 {
            for i in 0..5000 {
                k.count(&format!("id-{i}-{}", i * 7919 % 13), 1);
            }
            assert_eq!(k.len(), 200, "round {round}");
        }
        let kept: u64 = k.sorted().iter().map(|(_, n)| **n).sum();
        assert!(k.sorted().iter().all(|(_, n)| **n == 2));
        assert_eq!(kept + k.overflow, 10_000);
    }

    /// The open-addressed index against a plain model, through growth,
    /// evictions (backward-shift deletion) and merges, at caps on both
    /// sides of the scan/index boundary.
    #[test]
    fn the_index_agrees_with_a_plain_count() {
        use std::collections::BTreeMap;
        for cap in [3, LINEAR - 1, LINEAR, 20, 300] {
            let mut k: Keyed<u64> = Keyed::new(cap);
            let mut other: Keyed<u64> = Keyed::new(cap);
            // Every key's true count, kept apart from the sketch.
            let mut model: BTreeMap<String, u64> = BTreeMap::new();
            let mut x: u64 = 0x2545_F491_4F6C_DD1D;
            for n in 0..20_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Skewed: a few keys often, a long tail rarely; 5 to 30
                // bytes long (both of the probe hash's paths).
                let v = (x % 1000) * (x % 7) / 6;
                let key = format!("key-{v}{}", "x".repeat((v % 24) as usize));
                *model.entry(key.clone()).or_default() += 1;
                if n % 3 == 0 {
                    other.count(&key, 1);
                } else {
                    k.count(&key, 1);
                }
            }
            k.merge(&other);
            assert!(k.len() <= cap);
            // A kept key was never evicted (bottom-k): its count is exact.
            for (i, e) in k.items.iter().enumerate() {
                assert_eq!(k.find(&e.0), Some(i), "cap {cap}: {} not found", e.0);
                assert_eq!(k.get(&e.0), model.get(&*e.0), "cap {cap}: {}", e.0);
            }
            if !k.index.is_empty() {
                let mut slots: Vec<u32> = k.index.iter().copied().filter(|&i| i != EMPTY).collect();
                slots.sort_unstable();
                assert_eq!(slots, (0..k.len() as u32).collect::<Vec<_>>(), "cap {cap}");
            }
            for absent in ["nope", "key-99999", ""] {
                assert_eq!(k.find(absent), None);
            }
            let kept: u64 = k.sorted().iter().map(|(_, n)| **n).sum();
            assert_eq!(kept + k.overflow, 20_000, "cap {cap}");
        }
    }

    /// Past the cap the keys shown are the heaviest, with exact counts,
    /// whichever the hash kept; the rest add up to the overflow.
    #[test]
    fn the_heaviest_keys_are_found_past_the_cap() {
        let mut k: Keyed<u64> = Keyed::new(10);
        for i in 0..1000 {
            k.count(&format!("once-{i}"), 1);
            if i % 10 == 0 {
                k.count(&format!("heavy-{}", i % 30), 1);
            }
        }
        let top = k.heaviest(3);
        assert_eq!(
            top.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
            vec![("heavy-0", 34), ("heavy-10", 33), ("heavy-20", 33)]
        );
        let tally = k.tally().unwrap();
        assert_eq!(tally.total(), k.overflow);
        assert_eq!(tally.error(), 0);
        // Split in two and merged: the same heaviest, the same counts.
        let mut a: Keyed<u64> = Keyed::new(10);
        let mut b: Keyed<u64> = Keyed::new(10);
        for i in 0..1000 {
            let p = if i % 2 == 0 { &mut a } else { &mut b };
            p.count(&format!("once-{i}"), 1);
            if i % 10 == 0 {
                p.count(&format!("heavy-{}", i % 30), 1);
            }
        }
        a.merge(&b);
        let merged: Vec<(&str, u64)> = a.heaviest(10).iter().map(|e| (e.0, e.1)).collect();
        let whole: Vec<(&str, u64)> = k.heaviest(10).iter().map(|e| (e.0, e.1)).collect();
        assert_eq!(merged, whole);
    }

    #[test]
    fn pairs_round_trip() {
        let mut s = Vec::new();
        let k = pair_key(&mut s, "a:b".as_bytes(), "c1:".as_bytes());
        assert_eq!(split_pair(std::str::from_utf8(k).unwrap()), ("a:b", "c1:"));
        let k = pair_key(&mut s, "é".repeat(7).as_bytes(), b"");
        assert_eq!(split_pair(std::str::from_utf8(k).unwrap()), ("ééééééé", ""));
        // One, two and three digits of length, and the edges between.
        for n in [0, 1, 9, 10, 11, 99, 100, 101, 1234] {
            let a = "a".repeat(n);
            let k = pair_key(&mut s, a.as_bytes(), b"b:1");
            assert!(k.starts_with(format!("{n}:").as_bytes()), "{n}");
            assert_eq!(split_pair(std::str::from_utf8(k).unwrap()), (&*a, "b:1"));
        }
    }

    /// Every length of either name up to past the word-copy limit, after
    /// keys of other lengths left their bytes in the buffer: the key is
    /// the one `format!` writes.
    #[test]
    fn pair_keys_are_exact_at_every_length() {
        let mut buf = Vec::new();
        let text = |n: usize, c: u8| (0..n).map(|i| c + (i % 23) as u8).collect::<Vec<u8>>();
        for la in (0..=40).chain([99, 100]) {
            for lb in 0..=40 {
                let (a, b) = (text(la, b'A'), text(lb, b'a'));
                let want = [format!("{la}:").as_bytes(), &a, &b].concat();
                // Other bytes at every place first, so a byte the copy
                // missed shows.
                pair_key(&mut buf, &[b'#'; SHORT], &[b'#'; SHORT]);
                assert_eq!(pair_key(&mut buf, &a, &b), &want[..], "{la} {lb}");
            }
        }
    }
}
