//! The whole of a bucketed read, without copying or re-merging every
//! bucket each time it is asked for.
//!
//! `aggmetrics serve` keeps a minute's figures per bucket (for `/report`)
//! and answers `/metrics` and writes its checkpoint from the whole, every
//! few seconds. Merging every kept minute each time cost 39 ms with 180
//! minutes. Here the closed buckets (two widths or more older than the
//! newest) are folded once into a running sum; the whole is that sum plus
//! the few open buckets. Nothing on the per-record path changes: whether
//! the sum still holds is checked when the whole is asked for, from each
//! folded bucket's record and damaged-line counts and the overflow's, and
//! when anything was added where the sum cannot see it (a late record in a
//! folded minute, one older than every kept minute) the sum is built
//! again from the buckets, which is what every call cost before.

use super::{Acc, Metrics};
use std::collections::BTreeMap;

/// Buckets folded behind the newest by at least this many widths.
pub(super) const OPEN: usize = 2;

/// (records, damaged lines) of a bucket or of the overflow: any addition
/// changes one of them.
type Version = (u64, u64);

/// The closed buckets folded together (see the module's notes).
#[derive(Debug, Default)]
pub(super) struct Running {
    /// The overflow and every bucket in `at`, merged.
    sum: Option<Metrics>,
    /// Start and version of each bucket folded into `sum`, when folded.
    at: BTreeMap<i64, Version>,
    /// The overflow's version when `sum` last took it in.
    overflow: Version,
    /// Times `sum` was built from the minutes (the first call, then only
    /// when something was added where it cannot see).
    rebuilds: u64,
}

impl Acc {
    fn bucket_version(&self, i: usize) -> Version {
        let n = self.capped.counts.get(i).copied().unwrap_or(0);
        (n, self.buckets[i].1.skipped.total())
    }

    fn overflow_version(&self) -> Version {
        let damaged = self
            .capped
            .overflow
            .as_ref()
            .map_or(0, |o| o.skipped.total());
        (self.capped.records, damaged)
    }

    /// Whether `running.sum` is still the overflow plus the buckets in
    /// `running.at`: each kept one unchanged, and the overflow grown by
    /// exactly the folded buckets the cap pushed out of the kept ones.
    fn running_holds(&self) -> bool {
        let r = &self.running;
        if r.sum.is_none() {
            return false;
        }
        let mut expect = r.overflow;
        for (start, v) in &r.at {
            match self.capped.index.get(start) {
                Some(&i) if self.bucket_version(i) == *v => {}
                Some(_) => return false,
                None => {
                    expect.0 += v.0;
                    expect.1 += v.1;
                }
            }
        }
        expect == self.overflow_version()
    }

    /// The figures of every record read so far, and of the damaged lines
    /// dated into buckets: what [`Acc::finish`] puts in `total`, for an
    /// unfinished bucketed read, leaving it as it is.
    pub(super) fn running_total(&mut self) -> Metrics {
        let Some(width) = self.cfg.bucket.map(|b| b.width_us()) else {
            return self.total.clone();
        };
        if self.running_holds() {
            // Forget the folded buckets the cap has since moved into the
            // overflow (the sum holds them already).
            let index = &self.capped.index;
            self.running.at.retain(|s, _| index.contains_key(s));
        } else {
            self.running = Running {
                sum: Some(match &self.capped.overflow {
                    Some(o) => (**o).clone(),
                    None => Metrics::new(self.cfg.mode),
                }),
                at: BTreeMap::new(),
                overflow: (0, 0),
                rebuilds: self.running.rebuilds + 1,
            };
        }
        self.running.overflow = self.overflow_version();
        let newest = self.buckets.iter().map(|b| b.0).max().unwrap_or(i64::MIN);
        let closed = newest.saturating_sub(OPEN as i64 * width);
        let mut total = Metrics::new(self.cfg.mode);
        for i in 0..self.buckets.len() {
            let start = self.buckets[i].0;
            if self.running.at.contains_key(&start) {
                continue;
            }
            if start <= closed {
                let v = self.bucket_version(i);
                let sum = self
                    .running
                    .sum
                    .get_or_insert_with(|| Metrics::new(self.cfg.mode));
                sum.merge(&self.buckets[i].1);
                self.running.at.insert(start, v);
            } else {
                total.merge(&self.buckets[i].1);
            }
        }
        if let Some(sum) = &self.running.sum {
            total.merge(sum);
        }
        total
    }

    /// How often [`Acc::whole`] built its running sum from every bucket
    /// (what it saves is that work on every call).
    pub fn whole_rebuilds(&self) -> u64 {
        self.running.rebuilds
    }

    /// The read's figures as a finished read without buckets holds them,
    /// built from an unfinished bucketed read (`serve`'s minutes, no
    /// window) without copying its buckets; it goes on reading after.
    pub fn whole(&mut self) -> Acc {
        let mut cfg = self.cfg;
        cfg.bucket = None;
        let mut out = Acc::with_options(cfg, self.opts.clone(), self.files.len());
        out.total = self.running_total();
        // Records without a time: in the run, in no bucket.
        if let Some(l) = &self.loose {
            out.total.merge(l);
        }
        out.outside_window = self.outside_window;
        out.outside_skipped = self.outside_skipped;
        out.undated = self.undated.clone();
        out.newest = self.newest;
        out.future = self.future;
        out.unreadable_times = self.unreadable_times;
        out.files = self.files.clone();
        // The damaged lines not yet dated: in the figures if they fall in
        // the window (dated by the records around them) or without one.
        out.dated = self.dated;
        out.segs = self.segs.iter().chain(self.seg.iter()).cloned().collect();
        out.finish();
        out
    }
}
