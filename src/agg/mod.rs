//! Per-group accumulators. Each worker owns an [`Acc`], feeds it lines, and
//! the accumulators are merged at the end. Every part merges exactly
//! (integer counts, HDR histograms, min/max, order-free key sets), so the
//! result does not depend on how the input was split or on thread count.
//! No I/O and no formatting here.

// The primitives live below the kinds (`measure/`); their old paths here
// stay for the layers above.
pub use crate::measure::{config, dist, keyed, layout, time};

mod whole;

pub use crate::measure::{Activity, Bucket, Config, Dist, Keyed, Merge, Mode, TimeRange, MAX_KEYS};

use crate::kinds::{self, Accs, Cx, LogKind, Options, Parsed, Registered, Scratch, Visitor};
use crate::parse::{self, Skip};

/// How many skipped-line locations are kept for the report.
pub const MAX_EXAMPLES: usize = 5;

/// Counts for one input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    pub lines: u64,
    pub records: u64,
    pub skipped: u64,
    pub blank: u64,
    /// Bytes of an unfinished last line (no `\n`, not a whole record):
    /// neither counted nor damaged.
    pub unfinished: u64,
}

impl FileStats {
    pub fn merge(&mut self, o: &FileStats) {
        self.lines += o.lines;
        self.records += o.records;
        self.skipped += o.skipped;
        self.blank += o.blank;
        self.unfinished += o.unfinished;
    }
}

/// Damaged lines counted: per reason and per log kind, and the first few
/// locations.
#[derive(Debug, Clone, Default)]
pub struct SkipCounts {
    pub by_reason: [u64; Skip::ALL.len()],
    /// Per [`LogKind`] (by `LogKind::index`): a risk log's damaged lines are
    /// the analyzer's `parse_errors`.
    pub by_kind: [u64; LogKind::ALL.len()],
    /// (input index, byte offset of the line, reason), smallest first.
    pub examples: Vec<(u32, u64, Skip)>,
}

impl SkipCounts {
    pub fn total(&self) -> u64 {
        self.by_reason.iter().sum()
    }

    fn add(&mut self, kind: LogKind, file: u32, offset: u64, why: Skip) {
        self.by_reason[why.index()] += 1;
        self.by_kind[kind.index()] += 1;
        let e = (file, offset, why);
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(e);
            self.examples.sort();
        } else if e < self.examples[MAX_EXAMPLES - 1] {
            self.examples[MAX_EXAMPLES - 1] = e;
            self.examples.sort();
        }
    }

    pub fn merge(&mut self, o: &SkipCounts) {
        for (a, b) in self.by_reason.iter_mut().zip(o.by_reason.iter()) {
            *a += *b;
        }
        for (a, b) in self.by_kind.iter_mut().zip(o.by_kind.iter()) {
            *a += *b;
        }
        self.examples.extend_from_slice(&o.examples);
        self.examples.sort();
        self.examples.dedup();
        self.examples.truncate(MAX_EXAMPLES);
    }
}

/// The figures records add to: one set for the whole run, or one per
/// time bucket.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// One accumulator per log kind (see `crate::kinds`).
    pub kinds: Accs,
    /// The earliest and latest record of the kinds that count in the
    /// summary's `time_range` (latency and fallback: the platform
    /// script's); other kinds keep their own.
    pub time: TimeRange,
    /// Damaged lines charged to these figures (see [`Acc::damaged`]).
    pub skipped: SkipCounts,
}

impl Metrics {
    pub fn new(mode: Mode) -> Metrics {
        Metrics {
            kinds: Accs::new(mode),
            time: TimeRange::default(),
            skipped: SkipCounts::default(),
        }
    }

    pub fn merge(&mut self, o: &Metrics) {
        self.kinds.merge(&o.kinds);
        self.time.merge(&o.time);
        self.skipped.merge(&o.skipped);
    }

    /// Put kept values in a canonical order (exact mode); build histograms.
    pub fn finish(&mut self) {
        self.kinds.finish();
    }

    /// The same figures in the least memory: a copy, in which each
    /// histogram holds only the buckets it uses (see `Counts`' `Clone`).
    pub fn compacted(&self) -> Metrics {
        self.clone()
    }

    /// The newest record counted in these figures.
    pub fn newest(&self) -> Option<i64> {
        self.time
            .last
            .as_ref()
            .map(|l| l.0)
            .max(self.kinds.newest())
    }
}

/// The metrics a record with timestamp `ts` adds to: the run's, or its
/// time bucket's (found from `hint` first: logs are in time order); `None`
/// when it falls outside the time window.
#[inline(always)]
fn target<'m>(
    total: &'m mut Metrics,
    buckets: &'m mut Vec<(i64, Metrics)>,
    cap: &'m mut Capped,
    hint: &mut usize,
    cfg: &Config,
    micros: i64,
) -> Option<&'m mut Metrics> {
    if let Some((since, until)) = cfg.window {
        if micros < since || micros >= until {
            return None;
        }
    }
    let Some(b) = cfg.bucket else {
        return Some(total);
    };
    let start = b.start_of(micros, cfg.tz);
    cap.over = false;
    let i = match buckets.get(*hint) {
        Some((s, _)) if *s == start => *hint,
        _ => match cap.index.get(&start) {
            Some(&i) => i,
            // A minute folded for memory ([`Acc::shed`]), or older: its
            // records go where its figures went.
            None if cap.folded.is_some_and(|f| start <= f) => {
                cap.over = true;
                return Some(
                    cap.overflow
                        .get_or_insert_with(|| Box::new(Metrics::new(cfg.mode))),
                );
            }
            // Past half the memory budget no bucket is added but the first:
            // the newest are kept as when the cap is reached.
            None if buckets.len() < cfg.max_buckets.max(1)
                && (buckets.is_empty() || !crate::budget::tight()) =>
            {
                buckets.push((start, Metrics::new(cfg.mode)));
                cap.counts.push(0);
                cap.index.insert(start, buckets.len() - 1);
                compact_closed(buckets, cap, start);
                buckets.len() - 1
            }
            None => {
                // Full: the newest buckets are kept. Older than every
                // kept one, the record goes to the overflow; else the
                // oldest bucket is folded into it and its slot reused.
                let (&oldest, &slot) = cap.index.first_key_value()?;
                let new_over = || Box::new(Metrics::new(cfg.mode));
                if buckets.len() < cfg.max_buckets.max(1) {
                    crate::budget::hold_back();
                }
                if start < oldest {
                    cap.over = true;
                    return Some(cap.overflow.get_or_insert_with(new_over));
                }
                let old = std::mem::replace(&mut buckets[slot], (start, Metrics::new(cfg.mode)));
                cap.overflow.get_or_insert_with(new_over).merge(&old.1);
                cap.records += std::mem::take(&mut cap.counts[slot]);
                cap.index.remove(&oldest);
                cap.index.insert(start, slot);
                compact_closed(buckets, cap, start);
                slot
            }
        },
    };
    *hint = i;
    Some(&mut buckets[i].1)
}

/// A bucket was made at `start`: the one [`whole::OPEN`] buckets before
/// it is closed (logs come in time order), so its figures are laid out
/// again in the least memory ([`Metrics::compacted`]). A histogram grown
/// record by record holds the whole span between its extremes, with
/// spare capacity; a closed minute of a busy log used a few hundred of
/// those buckets. A record that still comes for it is counted as before.
#[cold]
fn compact_closed(buckets: &mut [(i64, Metrics)], cap: &Capped, start: i64) {
    if let Some((_, &i)) = cap.index.range(..start).rev().nth(whole::OPEN - 1) {
        let m = &mut buckets[i].1;
        *m = m.compacted();
    }
}

/// What keeps the number of buckets bounded: where each kept bucket is,
/// its record count, and the buckets beyond the cap folded together.
#[derive(Debug, Clone, Default)]
pub struct Capped {
    index: std::collections::BTreeMap<i64, usize>,
    counts: Vec<u64>,
    /// The figures of records in no kept bucket.
    overflow: Option<Box<Metrics>>,
    /// Records in no kept bucket (folded into the whole run's figures).
    pub records: u64,
    /// Whether the last record went to the overflow.
    over: bool,
    /// The newest bucket [`Acc::shed`] folded: no bucket at or before it
    /// is made again.
    folded: Option<i64>,
}

impl Capped {
    /// Count a record added where [`target`] put it.
    #[inline]
    fn count(&mut self, hint: usize) {
        if self.over {
            self.records += 1;
        } else if let Some(c) = self.counts.get_mut(hint) {
            *c += 1;
        }
    }
}

/// A stretch of one input read in order by one scanner (a range of a
/// regular file, or a whole stream): when its records were written, and
/// the damaged lines met before its first record, which only the
/// stretches before or after it can date.
#[derive(Debug, Clone)]
struct Segment {
    file: u32,
    start: u64,
    /// Times of its first and last record (inside the window or not).
    first: Option<i64>,
    last: Option<i64>,
    /// Damaged lines before its first record, without a time of their own.
    pending: SkipCounts,
}

impl Segment {
    fn new(file: u32, start: u64) -> Segment {
        Segment {
            file,
            start,
            first: None,
            last: None,
            pending: SkipCounts::default(),
        }
    }
}

/// The time written in a damaged line, if one can be read: the string
/// after its first `"timestamp":`. Only damaged lines are searched.
pub fn damaged_line_time(line: &[u8]) -> Option<i64> {
    const KEY: &[u8] = b"\"timestamp\"";
    let at = memchr::memmem::find(line, KEY)? + KEY.len();
    let rest = &line[at..];
    let ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r');
    let i = rest.iter().position(|b| !ws(b))?;
    let rest = rest[i..].strip_prefix(b":")?;
    let i = rest.iter().position(|b| !ws(b))?;
    let rest = rest[i..].strip_prefix(b"\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Some(parse::Timestamp::parse_bytes(&rest[..end])?.micros)
}

/// The damaged lines met before any record of their segment, with the
/// time each is dated by ([`Acc::date_pending`]'s rule), or `None` when
/// their input has no record at all.
fn pending_charges(mut segs: Vec<Segment>) -> Vec<(Option<i64>, SkipCounts)> {
    segs.sort_by_key(|s| (s.file, s.start));
    let mut out = Vec::new();
    for i in 0..segs.len() {
        if segs[i].pending.total() == 0 {
            continue;
        }
        let file = segs[i].file;
        let same = |s: &&Segment| s.file == file;
        let before = segs[..i].iter().rev().filter(same).find_map(|s| s.last);
        let when = before.or_else(|| segs[i..].iter().filter(same).find_map(|s| s.first));
        out.push((when, std::mem::take(&mut segs[i].pending)));
    }
    out
}

/// Everything one worker has seen.
#[derive(Debug)]
pub struct Acc {
    pub cfg: Config,
    /// Every kind's options for this run, shared by every worker's Acc.
    pub opts: std::sync::Arc<Options>,
    /// The whole run. With buckets, filled from them by [`Acc::finish`].
    pub total: Metrics,
    /// (bucket start in microseconds, its metrics); sorted by
    /// [`Acc::finish`]. Empty unless `cfg.bucket` is set.
    pub buckets: Vec<(i64, Metrics)>,
    pub files: Vec<FileStats>,
    /// Records without a time in a read with buckets and no window: in
    /// the run's figures, in no bucket (as undated damaged lines are),
    /// and outside every window `window_of` takes.
    loose: Option<Box<Metrics>>,
    loose_records: u64,
    /// Records outside `cfg.window`, not counted in the figures.
    pub outside_window: u64,
    /// Damaged lines dated outside `cfg.window`, not charged to it.
    pub outside_skipped: u64,
    /// Damaged lines that cannot be dated (no time in them, no record in
    /// their input): with a window, charged to no window; without one,
    /// charged to the run (but to no `--by` bucket).
    pub undated: SkipCounts,
    /// The newest record read, in the window or not (microseconds): when
    /// the logs were last written, even if the window is empty.
    pub newest: Option<i64>,
    /// Records read stamped after `cfg.future_after` (in the window or
    /// not).
    pub future: u64,
    /// Records whose time field held something that is no time
    /// ([`Parsed::UnreadableTime`]): counted as undated records are.
    pub unreadable_times: u64,
    /// Damaged lines are dated (a window or buckets): only then are
    /// segments tracked.
    dated: bool,
    seg: Option<Segment>,
    segs: Vec<Segment>,
    /// The time of the last record of the current segment.
    cur_ts: Option<i64>,
    /// The bucket the last record went to (logs are in time order).
    hint: usize,
    /// The cap on buckets, and what it folded away.
    pub capped: Capped,
    /// Closed buckets folded together, for [`Acc::whole`].
    running: whole::Running,
    /// Each kind's parse scratch, reused from line to line.
    scratch: Scratch,
}

impl Acc {
    /// An accumulator with no kind options (the built-in kinds' defaults).
    pub fn new(cfg: Config, n_files: usize) -> Acc {
        Acc::with_options(cfg, Default::default(), n_files)
    }

    /// An accumulator whose kinds read `opts` (a golden dataset, the spec
    /// any JSONL log is read with, ...).
    pub fn with_options(cfg: Config, opts: std::sync::Arc<Options>, n_files: usize) -> Acc {
        Acc {
            cfg,
            opts,
            total: Metrics::new(cfg.mode),
            buckets: Vec::new(),
            files: vec![FileStats::default(); n_files],
            loose: None,
            loose_records: 0,
            outside_window: 0,
            outside_skipped: 0,
            undated: SkipCounts::default(),
            newest: None,
            future: 0,
            unreadable_times: 0,
            dated: cfg.window.is_some() || cfg.bucket.is_some(),
            seg: None,
            segs: Vec::new(),
            cur_ts: None,
            hint: 0,
            capped: Capped::default(),
            running: Default::default(),
            scratch: Scratch::default(),
        }
    }

    /// Feed one line (without its `\n`, and holding no NUL byte: see
    /// [`crate::read::lines`]) found at byte `offset` of `file`.
    pub fn feed_line(&mut self, kind: LogKind, file: u32, offset: u64, line: &[u8]) {
        if self.too_big(line) {
            return self.damaged(kind, file, offset, Skip::LineTooLong, None);
        }
        if let Err(why) = self.take(kind, file, line) {
            self.damaged(kind, file, offset, why, Some(line));
        }
    }

    /// [`Acc::feed_line`] for a line of kind `K` cut at a newline that may
    /// still hold a NUL byte (the caller dispatches on the kind once for a
    /// run of lines, not once a line). Returns false, counting nothing,
    /// when it does (then the NUL ends a line and starts a hole: the caller
    /// splits it) or when it is too long (the caller may find a NUL before
    /// the limit). A line that parses holds no NUL (JSON allows none
    /// outside strings and no control byte inside), so good lines are
    /// never searched for one.
    #[inline(always)]
    pub fn feed_line_unless_nul<K: Registered>(
        &mut self,
        file: u32,
        offset: u64,
        line: &[u8],
    ) -> bool {
        if self.too_big(line) {
            return false;
        }
        match self.take_as::<K>(file, line) {
            Ok(()) => true,
            Err(_) if memchr::memchr(0, line).is_some() => false,
            Err(why) => {
                self.damaged(K::KIND, file, offset, why, Some(line));
                true
            }
        }
    }

    /// A line longer than `--max-line-bytes`, at `offset`: counted once,
    /// never kept.
    pub fn too_long(&mut self, kind: LogKind, file: u32, offset: u64) {
        self.damaged(kind, file, offset, Skip::LineTooLong, None);
    }

    /// A run of NUL bytes starting at `offset`: one damaged region.
    pub fn hole(&mut self, kind: LogKind, file: u32, offset: u64) {
        self.damaged(kind, file, offset, Skip::NulBytes, None);
    }

    /// A scanner starts reading `file` in order at `start` (a range, or a
    /// whole stream): the damaged lines it meets before its first record
    /// are dated from the records around it when the read is finished.
    pub fn begin_segment(&mut self, file: u32, start: u64) {
        if !self.dated {
            return;
        }
        if let Some(s) = self.seg.take() {
            self.segs.push(s);
        }
        self.seg = Some(Segment::new(file, start));
        self.cur_ts = None;
    }

    /// The segment `file`'s lines belong to (one is begun at offset 0 for
    /// callers that feed lines without [`Acc::begin_segment`]).
    fn segment(&mut self, file: u32) -> &mut Segment {
        if self.seg.as_ref().is_none_or(|s| s.file != file) {
            self.begin_segment(file, 0);
        }
        self.seg.get_or_insert_with(|| Segment::new(file, 0))
    }

    #[inline]
    fn saw_record(&mut self, file: u32, micros: i64) {
        let seg = self.segment(file);
        seg.first.get_or_insert(micros);
        seg.last = Some(micros);
        self.cur_ts = Some(micros);
        self.newest = self.newest.max(Some(micros));
        if micros > self.cfg.future_after {
            self.future += 1;
        }
    }

    /// Charge damaged lines to the figures of time `micros`: its window
    /// and bucket, or the count of those outside the window.
    fn charge(&mut self, micros: i64, lines: &SkipCounts) {
        let cfg = self.cfg;
        match target(
            &mut self.total,
            &mut self.buckets,
            &mut self.capped,
            &mut self.hint,
            &cfg,
            micros,
        ) {
            Some(m) => m.skipped.merge(lines),
            None => self.outside_skipped += lines.total(),
        }
    }

    /// The last line of an input, which has no `\n`: a whole record
    /// counts; anything else is the unfinished line of a file still being
    /// written, neither counted nor damaged, and its length is kept in
    /// [`FileStats::unfinished`].
    pub fn last_line(&mut self, kind: LogKind, file: u32, offset: u64, line: &[u8]) {
        if self.too_big(line) {
            return self.damaged(kind, file, offset, Skip::LineTooLong, None);
        }
        if self.take(kind, file, line).is_err() {
            self.files[file as usize].unfinished += line.len() as u64;
        }
    }

    #[inline(always)]
    pub(crate) fn too_big(&self, line: &[u8]) -> bool {
        line.len() > self.cfg.max_line_bytes || line.len() >= parse::json::MAX_LINE
    }

    /// Parse a line and count it as a record or a blank line; when it does
    /// not parse, nothing is counted and the reason is returned.
    #[inline(always)]
    fn take(&mut self, kind: LogKind, file: u32, line: &[u8]) -> Result<(), Skip> {
        kinds::visit(
            kind,
            Take {
                acc: self,
                file,
                line,
            },
        )
    }

    /// [`Acc::take`] for a line of kind `K`.
    #[inline(always)]
    fn take_as<K: Registered>(&mut self, file: u32, line: &[u8]) -> Result<(), Skip> {
        let record = self.add::<K>(file, line)?;
        let st = &mut self.files[file as usize];
        st.lines += 1;
        if record {
            st.records += 1;
        } else {
            st.blank += 1;
        }
        Ok(())
    }

    /// One damaged line (or region) at `offset`. With a window or
    /// buckets it is charged to the time written in it when one can be
    /// read (never for a line over `--max-line-bytes`, which a reader may
    /// not hold whole), else to the time of the nearest record before it in the same
    /// input (or, when none precedes it, the nearest after it): see
    /// docs/semantics.md.
    fn damaged(&mut self, kind: LogKind, file: u32, offset: u64, why: Skip, line: Option<&[u8]>) {
        let st = &mut self.files[file as usize];
        st.lines += 1;
        st.skipped += 1;
        if !self.dated {
            return self.total.skipped.add(kind, file, offset, why);
        }
        let mut one = SkipCounts::default();
        one.add(kind, file, offset, why);
        let own = line.and_then(damaged_line_time);
        // The segment is begun here too, so `cur_ts` is this input's.
        self.segment(file);
        match own.or(self.cur_ts) {
            Some(t) => self.charge(t, &one),
            None => self.segment(file).pending.merge(&one),
        }
    }

    /// A record without a readable time: counted in the run when there is
    /// no window and no buckets, outside them otherwise (it cannot be
    /// placed in either).
    #[inline(never)]
    fn add_undated<K: Registered>(&mut self, line: &[u8], file: u32) -> bool {
        let into = if self.cfg.window.is_some() {
            self.outside_window += 1;
            return true;
        } else if self.dated {
            // Buckets without a window: in the run, in no bucket.
            self.loose_records += 1;
            let mode = self.cfg.mode;
            &mut **self
                .loose
                .get_or_insert_with(|| Box::new(Metrics::new(mode)))
        } else {
            &mut self.total
        };
        K::add(
            K::acc_mut(&mut into.kinds),
            K::scratch(&mut self.scratch),
            None,
            line,
            &Cx {
                cfg: &self.cfg,
                opts: &self.opts,
                file,
            },
        );
        true
    }

    /// One record of kind `K`: parsed into its scratch, then added to the
    /// figures of its time (or counted outside the window). Ok(true): a
    /// record; Ok(false): a blank line.
    #[inline(always)]
    fn add<K: Registered>(&mut self, file: u32, line: &[u8]) -> Result<bool, Skip> {
        // The settings are borrowed beside the other fields, not copied
        // (a copy of `Config` was a dozen instructions a line).
        let cx = Cx {
            cfg: &self.cfg,
            opts: &self.opts,
            file,
        };
        match K::parse(K::scratch(&mut self.scratch), line, &cx)? {
            Parsed::Blank => Ok(false),
            Parsed::Record(ts) => {
                self.add_dated::<K>(file, line, ts);
                Ok(true)
            }
            Parsed::Undated => Ok(self.add_undated::<K>(line, file)),
            Parsed::UnreadableTime => {
                self.unreadable_times += 1;
                Ok(self.add_undated::<K>(line, file))
            }
        }
    }

    /// The read loop's hot path (`Lines::whole_lines`) for a line of kind
    /// `K` cut at a newline and within `--max-line-bytes`: a record is
    /// parsed and counted as [`Acc::feed_line`] counts it, and true
    /// returned; a damaged or blank line returns false with nothing
    /// counted, for the loop's cold path to feed again. So the loop holds
    /// the kind's parse and `add` once, and none of the rest.
    #[inline(always)]
    pub(crate) fn take_record<K: Registered>(&mut self, file: u32, line: &[u8]) -> bool {
        let cx = Cx {
            cfg: &self.cfg,
            opts: &self.opts,
            file,
        };
        match K::parse(K::scratch(&mut self.scratch), line, &cx) {
            Ok(Parsed::Record(ts)) => self.add_dated::<K>(file, line, ts),
            Ok(Parsed::Undated) => {
                self.add_undated::<K>(line, file);
            }
            Ok(Parsed::UnreadableTime) => {
                self.unreadable_times += 1;
                self.add_undated::<K>(line, file);
            }
            _ => return false,
        }
        let st = &mut self.files[file as usize];
        st.lines += 1;
        st.records += 1;
        true
    }

    /// A record of kind `K` with its time, parsed into the kind's scratch:
    /// added to the figures of its time, or counted outside the window.
    #[inline(always)]
    fn add_dated<K: Registered>(&mut self, file: u32, line: &[u8], ts: parse::Timestamp) {
        if self.dated {
            self.saw_record(file, ts.micros);
        }
        let cx = Cx {
            cfg: &self.cfg,
            opts: &self.opts,
            file,
        };
        let Some(m) = target(
            &mut self.total,
            &mut self.buckets,
            &mut self.capped,
            &mut self.hint,
            cx.cfg,
            ts.micros,
        ) else {
            // A good record, outside the time window.
            self.outside_window += 1;
            return;
        };
        if K::IN_TIME_RANGE {
            m.time.see(&ts, line);
        }
        K::add(
            K::acc_mut(&mut m.kinds),
            K::scratch(&mut self.scratch),
            Some(&ts),
            line,
            &cx,
        );
        if cx.cfg.bucket.is_some() {
            self.capped.count(self.hint);
        }
    }

    pub fn merge(&mut self, o: &Acc) {
        self.total.merge(&o.total);
        for (j, (start, m)) in o.buckets.iter().enumerate() {
            let n = o.capped.counts.get(j).copied().unwrap_or(0);
            match self.capped.index.get(start) {
                Some(&i) => {
                    self.buckets[i].1.merge(m);
                    self.capped.counts[i] += n;
                }
                None => {
                    self.buckets.push((*start, m.clone()));
                    self.capped.counts.push(n);
                    self.capped.index.insert(*start, self.buckets.len() - 1);
                }
            }
        }
        self.capped.records += o.capped.records;
        self.capped.folded = self.capped.folded.max(o.capped.folded);
        if let Some(l) = &o.loose {
            match &mut self.loose {
                Some(mine) => mine.merge(l),
                None => self.loose = Some(l.clone()),
            }
        }
        self.loose_records += o.loose_records;
        if let Some(ov) = &o.capped.overflow {
            match &mut self.capped.overflow {
                Some(mine) => mine.merge(ov),
                None => self.capped.overflow = Some(ov.clone()),
            }
        }
        self.trim_buckets();
        self.outside_window += o.outside_window;
        self.outside_skipped += o.outside_skipped;
        self.unreadable_times += o.unreadable_times;
        self.undated.merge(&o.undated);
        self.newest = self.newest.max(o.newest);
        self.future += o.future;
        self.segs.extend(o.segs.iter().cloned());
        self.segs.extend(o.seg.iter().cloned());
        for (a, b) in self.files.iter_mut().zip(o.files.iter()) {
            a.merge(b);
        }
    }

    /// The figures of the window `[since, until)` from a read kept in
    /// buckets (`aggmetrics serve`'s minutes), as a read with that window
    /// would have counted them: the buckets inside it are its figures,
    /// the records of the others are outside it, and damaged lines are
    /// charged as the windowed read charges them. `since` and `until`
    /// fall on bucket bounds; figures folded out of the kept buckets
    /// (`capped`) count as outside. Unfinished: call [`Acc::finish`].
    pub fn window_of(&self, since: i64, until: i64) -> Acc {
        let mut cfg = self.cfg;
        cfg.window = Some((since, until));
        cfg.bucket = None;
        let mut out = Acc::with_options(cfg, self.opts.clone(), self.files.len());
        for (i, (start, m)) in self.buckets.iter().enumerate() {
            let n = self.capped.counts.get(i).copied().unwrap_or(0);
            if *start >= since && *start < until {
                out.total.merge(m);
            } else {
                out.outside_window += n;
                out.outside_skipped += m.skipped.total();
            }
        }
        if let Some(over) = &self.capped.overflow {
            out.outside_skipped += over.skipped.total();
        }
        out.outside_window += self.capped.records + self.loose_records + self.outside_window;
        out.outside_skipped += self.outside_skipped;
        out.undated = self.undated.clone();
        if self.dated {
            // The damaged lines not yet dated, charged as a windowed read
            // charges them.
            let segs = self.segs.iter().chain(self.seg.iter()).cloned().collect();
            for (when, pending) in pending_charges(segs) {
                match when {
                    Some(t) if t >= since && t < until => out.total.skipped.merge(&pending),
                    Some(_) => out.outside_skipped += pending.total(),
                    None => out.undated.merge(&pending),
                }
            }
        }
        out.unreadable_times = self.unreadable_times;
        out.newest = self.newest;
        out.future = self.future;
        out.files = self.files.clone();
        out
    }

    /// The start of the oldest bucket whose figures are kept whole (none
    /// folded into `capped` at or after it), if any records were folded.
    pub fn folded_before(&self) -> Option<i64> {
        (self.capped.overflow.is_some() || self.capped.records > 0)
            .then(|| self.buckets.iter().map(|(s, _)| *s).min())
            .flatten()
    }

    /// Fold the oldest buckets into the overflow while `over()` says
    /// memory is short, keeping at least the newest [`whole::OPEN`] + 1
    /// (the minutes records still come for). Their figures stay in the
    /// whole run's, as when the cap folds them; windows that reach before
    /// the oldest kept bucket can no longer be told
    /// ([`Acc::folded_before`]). Returns how many were folded.
    pub fn shed(&mut self, mut over: impl FnMut() -> bool) -> u64 {
        let mut folded = 0;
        while self.buckets.len() > whole::OPEN + 1 && over() {
            let Some((oldest, slot)) = self.capped.index.pop_first() else {
                break;
            };
            let (_, m) = self.buckets.swap_remove(slot);
            let n = self.capped.counts.swap_remove(slot);
            if let Some((moved, _)) = self.buckets.get(slot) {
                self.capped.index.insert(*moved, slot);
            }
            self.capped.folded = self.capped.folded.max(Some(oldest));
            match &mut self.capped.overflow {
                Some(o) => o.merge(&m),
                None => self.capped.overflow = Some(Box::new(m)),
            }
            self.capped.records += n;
            self.hint = 0;
            folded += 1;
        }
        folded
    }

    /// Date the damaged lines met before any record of their segment: by
    /// the last record of the nearest earlier segment of the same input,
    /// else the first record of this or the nearest later one; lines of an
    /// input with no record at all are undated.
    fn date_pending(&mut self) {
        self.segs.extend(self.seg.take());
        for (when, pending) in pending_charges(std::mem::take(&mut self.segs)) {
            match when {
                Some(t) => self.charge(t, &pending),
                None => self.undated.merge(&pending),
            }
        }
    }

    /// Keep the newest `max_buckets` buckets; fold older ones into the
    /// overflow (after a merge of two workers' buckets).
    fn trim_buckets(&mut self) {
        let max = self.cfg.max_buckets.max(1);
        if self.buckets.len() <= max {
            return;
        }
        let mut order: Vec<usize> = (0..self.buckets.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(self.buckets[i].0));
        let drop: std::collections::BTreeSet<usize> = order[max..].iter().copied().collect();
        let over = self
            .capped
            .overflow
            .get_or_insert_with(|| Box::new(Metrics::new(self.cfg.mode)));
        let mut kept = Vec::with_capacity(max);
        let mut counts = Vec::with_capacity(max);
        for (i, b) in std::mem::take(&mut self.buckets).into_iter().enumerate() {
            let n = self.capped.counts.get(i).copied().unwrap_or(0);
            if drop.contains(&i) {
                over.merge(&b.1);
                self.capped.records += n;
            } else {
                kept.push(b);
                counts.push(n);
            }
        }
        self.buckets = kept;
        self.capped.counts = counts;
        self.capped.index = self
            .buckets
            .iter()
            .enumerate()
            .map(|(i, (s, _))| (*s, i))
            .collect();
        self.hint = 0;
    }

    /// Sort the buckets, fill the run's totals from them, and put kept
    /// values in a canonical order.
    pub fn finish(&mut self) {
        if self.dated {
            self.date_pending();
        }
        if self.cfg.bucket.is_some() {
            self.trim_buckets();
            self.buckets.sort_by_key(|(s, _)| *s);
            self.capped.index.clear();
            self.capped.counts.clear();
            self.hint = 0;
            let mut total = match self.capped.overflow.take() {
                Some(over) => *over,
                None => Metrics::new(self.cfg.mode),
            };
            for (_, m) in &mut self.buckets {
                total.merge(m);
                m.finish();
            }
            if let Some(l) = self.loose.take() {
                total.merge(&l);
                self.loose_records = 0;
            }
            self.total = total;
        }
        // Without a window every damaged line counts in the run, dated or
        // not (undated ones in no bucket).
        if self.cfg.window.is_none() {
            let undated = std::mem::take(&mut self.undated);
            self.total.skipped.merge(&undated);
        }
        if !self.dated {
            // Every record was counted: the newest is the last one.
            self.newest = self.total.newest();
        }
        self.total.finish();
    }
}

/// [`Acc::take_as`] for the kind chosen at run time.
struct Take<'a, 'l> {
    acc: &'a mut Acc,
    file: u32,
    line: &'l [u8],
}

impl Visitor for Take<'_, '_> {
    type Out = Result<(), Skip>;
    #[inline(always)]
    fn visit<K: Registered>(self) -> Self::Out {
        self.acc.take_as::<K>(self.file, self.line)
    }
}
