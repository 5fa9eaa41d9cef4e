//! Per-group accumulators. Each worker owns an [`Acc`], feeds it lines, and
//! the accumulators are merged at the end. Every part merges exactly
//! (integer counts, HDR histograms, min/max, order-free key sets), so the
//! result does not depend on how the input was split or on thread count.
//! No I/O and no formatting here.

pub mod dist;
pub mod keyed;

pub use dist::{Dist, Mode};
pub use keyed::{Keyed, Merge};

use crate::parse::{self, fallback, latency, risk, Line, LogKind, Skip, Timestamp};

/// How many distinct step names, intents, outcomes, ... are kept per map.
pub const MAX_KEYS: usize = 1000;
/// How many skipped-line locations are kept for the report.
pub const MAX_EXAMPLES: usize = 5;

impl Merge for Dist {
    fn merge(&mut self, o: &Dist) {
        Dist::merge(self, o)
    }
    fn weight(&self) -> u64 {
        self.n
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub mode: Mode,
    pub max_line_bytes: usize,
    /// Split the figures into UTC time buckets of this width.
    pub bucket: Option<Bucket>,
    /// Count only records with `since <= timestamp < until` (microseconds
    /// since the epoch).
    pub window: Option<(i64, i64)>,
    /// Track when risk records were written (per-minute first and last,
    /// for the silence alarm); only `aggmetrics risk` needs it.
    pub activity: bool,
}

impl Config {
    pub fn new(mode: Mode, max_line_bytes: usize) -> Config {
        Config {
            mode,
            max_line_bytes,
            bucket: None,
            window: None,
            activity: false,
        }
    }
}

/// A UTC time bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub const fn width_us(self) -> i64 {
        match self {
            Bucket::Hour => 3_600_000_000,
            Bucket::Day => 86_400_000_000,
        }
    }

    /// Start of the bucket holding `micros` (microseconds since the epoch).
    pub fn start_of(self, micros: i64) -> i64 {
        micros - micros.rem_euclid(self.width_us())
    }
}

#[derive(Debug, Clone)]
pub struct LatencyGroup {
    pub count: u64,
    pub total: Dist,
    pub steps: Keyed<Dist>,
}

impl LatencyGroup {
    fn new(mode: Mode) -> Self {
        LatencyGroup {
            count: 0,
            total: Dist::new(mode),
            steps: Keyed::new(MAX_KEYS),
        }
    }
    pub fn merge(&mut self, o: &LatencyGroup) {
        self.count += o.count;
        self.total.merge(&o.total);
        self.steps.merge(&o.steps);
    }
    pub fn finish(&mut self) {
        self.total.finish();
        for (_, d) in self.steps.sorted_mut() {
            d.finish();
        }
    }
}

#[derive(Debug, Clone)]
pub struct FallbackAcc {
    pub count: u64,
    pub outcomes: Keyed<u64>,
    pub reasons: Keyed<u64>,
    pub llm_latency: Dist,
    pub deterministic_used: u64,
    /// `intent` x `outcome` (see [`keyed::pair_key`]).
    pub by_intent: Keyed<u64>,
    /// component name x status.
    pub components: Keyed<u64>,
}

#[derive(Debug, Clone)]
pub struct RiskAcc {
    pub total: u64,
    pub sampled: u64,
    pub status: Keyed<u64>,
    pub reason_codes: Keyed<u64>,
    pub with_diff: u64,
    pub intent_mismatch: u64,
    pub decision_type_mismatch: u64,
    pub action_count_mismatch: u64,
    pub entity_key_mismatch: u64,
    pub latency: Dist,
    /// Configured sample rates seen (as text, e.g. `0.01`).
    pub sample_rates: Keyed<u64>,
    /// When records were written, for the silence alarm.
    pub activity: Activity,
    /// The earliest and latest risk record (the summary's `time_range`
    /// covers the latency and fallback logs only, as the platform's script
    /// did).
    pub time: TimeRange,
}

impl RiskAcc {
    fn new(mode: Mode) -> RiskAcc {
        RiskAcc {
            total: 0,
            sampled: 0,
            status: Keyed::new(MAX_KEYS),
            reason_codes: Keyed::new(MAX_KEYS),
            with_diff: 0,
            intent_mismatch: 0,
            decision_type_mismatch: 0,
            action_count_mismatch: 0,
            entity_key_mismatch: 0,
            latency: Dist::new(mode),
            sample_rates: Keyed::new(64),
            activity: Activity::default(),
            time: TimeRange::default(),
        }
    }

    fn merge(&mut self, s: &RiskAcc) {
        self.total += s.total;
        self.sampled += s.sampled;
        self.status.merge(&s.status);
        self.reason_codes.merge(&s.reason_codes);
        self.with_diff += s.with_diff;
        self.intent_mismatch += s.intent_mismatch;
        self.decision_type_mismatch += s.decision_type_mismatch;
        self.action_count_mismatch += s.action_count_mismatch;
        self.entity_key_mismatch += s.entity_key_mismatch;
        self.latency.merge(&s.latency);
        self.sample_rates.merge(&s.sample_rates);
        self.activity.merge(&s.activity);
        self.time.merge(&s.time);
    }
}

/// The earliest and latest record of each UTC minute that has any. Enough
/// to find, exactly, every silence longer than a minute (the gap between
/// one minute's last record and the next busy minute's first), at a few
/// kilobytes per day; merges in any order.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    minutes: std::collections::BTreeMap<i64, (i64, i64)>,
    /// The minute being filled (records come in time order, so most
    /// records only touch this).
    cur: Option<(i64, i64, i64)>,
}

impl Activity {
    const MINUTE: i64 = 60_000_000;

    #[inline]
    pub fn see(&mut self, micros: i64) {
        let m = micros.div_euclid(Self::MINUTE);
        match &mut self.cur {
            Some((cm, lo, hi)) if *cm == m => {
                *lo = (*lo).min(micros);
                *hi = (*hi).max(micros);
            }
            _ => {
                self.flush();
                self.cur = Some((m, micros, micros));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((m, lo, hi)) = self.cur.take() {
            let e = self.minutes.entry(m).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
        }
    }

    fn merge(&mut self, o: &Activity) {
        self.flush();
        let theirs = o.minutes.iter().map(|(m, r)| (*m, *r));
        for (m, (lo, hi)) in theirs.chain(o.cur.map(|(m, lo, hi)| (m, (lo, hi)))) {
            let e = self.minutes.entry(m).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
        }
    }

    /// (minute, first, last) for each busy minute, in order.
    pub fn parts(&self) -> Vec<(i64, i64, i64)> {
        let mut me = self.clone();
        me.flush();
        me.minutes.iter().map(|(m, (a, b))| (*m, *a, *b)).collect()
    }

    pub fn restore(parts: &[(i64, i64, i64)]) -> Result<Activity, String> {
        let mut a = Activity::default();
        for &(m, lo, hi) in parts {
            if lo > hi || lo.div_euclid(Self::MINUTE) != m || hi.div_euclid(Self::MINUTE) != m {
                return Err("an activity minute whose times are not in it".into());
            }
            if a.minutes.insert(m, (lo, hi)).is_some() {
                return Err("a repeated activity minute".into());
            }
        }
        Ok(a)
    }

    /// The longest time without a record between the first and the last
    /// one, in microseconds, with where it starts and ends; `None` with
    /// fewer than two busy minutes (then no gap exceeds a minute).
    pub fn longest_gap(&self) -> Option<(i64, i64)> {
        let mut me = self.clone();
        me.flush();
        let mut best: Option<(i64, i64)> = None;
        let mut prev_hi: Option<i64> = None;
        for (lo, hi) in me.minutes.values() {
            if let Some(p) = prev_hi {
                if best.is_none_or(|(a, b)| lo - p > b - a) {
                    best = Some((p, *lo));
                }
            }
            prev_hi = Some(*hi);
        }
        best
    }
}

impl FallbackAcc {
    fn new(mode: Mode) -> FallbackAcc {
        FallbackAcc {
            count: 0,
            outcomes: Keyed::new(MAX_KEYS),
            reasons: Keyed::new(MAX_KEYS),
            llm_latency: Dist::new(mode),
            deterministic_used: 0,
            by_intent: Keyed::new(MAX_KEYS),
            components: Keyed::new(MAX_KEYS),
        }
    }

    fn merge(&mut self, g: &FallbackAcc) {
        self.count += g.count;
        self.outcomes.merge(&g.outcomes);
        self.reasons.merge(&g.reasons);
        self.llm_latency.merge(&g.llm_latency);
        self.deterministic_used += g.deterministic_used;
        self.by_intent.merge(&g.by_intent);
        self.components.merge(&g.components);
    }
}

/// The earliest and latest record, with the timestamp text as written.
#[derive(Debug, Clone, Default)]
pub struct TimeRange {
    pub first: Option<(i64, u32, String)>,
    pub last: Option<(i64, u32, String)>,
}

impl TimeRange {
    #[inline]
    pub fn see(&mut self, ts: &Timestamp, line: &[u8]) {
        let key = (ts.micros, ts.nanos);
        let raw = ts.span.raw(line);
        let earlier = match &self.first {
            None => true,
            Some((m, n, s)) => key < (*m, *n) || (key == (*m, *n) && raw < s.as_bytes()),
        };
        if earlier {
            set(&mut self.first, ts, line);
        }
        let later = match &self.last {
            None => true,
            Some((m, n, s)) => key > (*m, *n) || (key == (*m, *n) && raw > s.as_bytes()),
        };
        if later {
            set(&mut self.last, ts, line);
        }
    }

    pub fn merge(&mut self, o: &TimeRange) {
        if let Some(f) = &o.first {
            if self
                .first
                .as_ref()
                .is_none_or(|s| (f.0, f.1, &f.2) < (s.0, s.1, &s.2))
            {
                self.first = Some(f.clone());
            }
        }
        if let Some(l) = &o.last {
            if self
                .last
                .as_ref()
                .is_none_or(|s| (l.0, l.1, &l.2) > (s.0, s.1, &s.2))
            {
                self.last = Some(l.clone());
            }
        }
    }
}

/// The entry for a key read from the line: straight from its bytes when it
/// has no escapes (the scanner validated them as UTF-8), decoded otherwise.
#[inline(always)]
fn entry_span<'k, T: Merge + Clone>(
    k: &'k mut Keyed<T>,
    s: parse::Span,
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
fn count_span(k: &mut Keyed<u64>, s: parse::Span, line: &[u8]) {
    match entry_span(k, s, line, || 0) {
        Some(c) => *c += 1,
        None => k.overflow += 1,
    }
}

/// Reuse the String's buffer: in time-ordered logs `last` changes on
/// nearly every line.
fn set(slot: &mut Option<(i64, u32, String)>, ts: &Timestamp, line: &[u8]) {
    let text = ts.span.text(line);
    match slot {
        Some((m, n, s)) => {
            *m = ts.micros;
            *n = ts.nanos;
            s.clear();
            s.push_str(&text);
        }
        None => *slot = Some((ts.micros, ts.nanos, text.into_owned())),
    }
}

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
    fn merge(&mut self, o: &FileStats) {
        self.lines += o.lines;
        self.records += o.records;
        self.skipped += o.skipped;
        self.blank += o.blank;
        self.unfinished += o.unfinished;
    }
}

/// Skipped lines: a count per reason and per log kind, and the first few
/// locations.
#[derive(Debug, Clone, Default)]
pub struct Skipped {
    pub by_reason: [u64; Skip::ALL.len()],
    /// Per [`LogKind`] (by `LogKind::index`): a risk log's damaged lines are
    /// the analyzer's `parse_errors`.
    pub by_kind: [u64; LogKind::ALL.len()],
    /// (input index, byte offset of the line, reason), smallest first.
    pub examples: Vec<(u32, u64, Skip)>,
}

impl Skipped {
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

    pub fn merge(&mut self, o: &Skipped) {
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
    pub with_llm: LatencyGroup,
    pub without_llm: LatencyGroup,
    pub fallback: FallbackAcc,
    pub risk: RiskAcc,
    /// The earliest and latest latency and fallback record (the platform
    /// script's `time_range`); risk records have their own.
    pub time: TimeRange,
    /// Damaged lines charged to these figures (see [`Acc::damaged`]).
    pub skipped: Skipped,
}

impl Metrics {
    pub fn new(mode: Mode) -> Metrics {
        Metrics {
            with_llm: LatencyGroup::new(mode),
            without_llm: LatencyGroup::new(mode),
            fallback: FallbackAcc::new(mode),
            risk: RiskAcc::new(mode),
            time: TimeRange::default(),
            skipped: Skipped::default(),
        }
    }

    pub fn merge(&mut self, o: &Metrics) {
        self.with_llm.merge(&o.with_llm);
        self.without_llm.merge(&o.without_llm);
        self.fallback.merge(&o.fallback);
        self.risk.merge(&o.risk);
        self.time.merge(&o.time);
        self.skipped.merge(&o.skipped);
    }

    /// Put kept values in a canonical order (exact mode); build histograms.
    pub fn finish(&mut self) {
        self.with_llm.finish();
        self.without_llm.finish();
        self.fallback.llm_latency.finish();
        self.risk.latency.finish();
    }

    /// The `all` group: merged from the two groups at the end, so each
    /// value is recorded once while reading.
    pub fn all_group(&self) -> LatencyGroup {
        let mut all = self.with_llm.clone();
        all.merge(&self.without_llm);
        all.finish();
        all
    }
}

/// The metrics a record with timestamp `ts` adds to: the run's, or its
/// time bucket's (found from `hint` first: logs are in time order); `None`
/// when it falls outside the time window.
#[inline]
fn target<'m>(
    total: &'m mut Metrics,
    buckets: &'m mut Vec<(i64, Metrics)>,
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
    let start = b.start_of(micros);
    let i = match buckets.get(*hint) {
        Some((s, _)) if *s == start => *hint,
        _ => match buckets.iter().position(|(s, _)| *s == start) {
            Some(i) => i,
            None => {
                buckets.push((start, Metrics::new(cfg.mode)));
                buckets.len() - 1
            }
        },
    };
    *hint = i;
    Some(&mut buckets[i].1)
}

/// [`target`] for a record, borrowing only the fields it needs (so the
/// parse scratch stays usable).
macro_rules! target {
    ($acc:ident, $cfg:ident, $file:ident, $ts:expr) => {{
        if $acc.dated {
            $acc.saw_record($file, $ts.micros);
        }
        match target(
            &mut $acc.total,
            &mut $acc.buckets,
            &mut $acc.hint,
            &$cfg,
            $ts.micros,
        ) {
            Some(m) => m,
            None => {
                // A good record, outside the time window.
                $acc.outside_window += 1;
                return Ok(true);
            }
        }
    }};
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
    pending: Skipped,
}

impl Segment {
    fn new(file: u32, start: u64) -> Segment {
        Segment {
            file,
            start,
            first: None,
            last: None,
            pending: Skipped::default(),
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
    Some(Timestamp::parse_bytes(&rest[..end])?.micros)
}

/// Everything one worker has seen.
#[derive(Debug)]
pub struct Acc {
    pub cfg: Config,
    /// The whole run. With buckets, filled from them by [`Acc::finish`].
    pub total: Metrics,
    /// (bucket start in microseconds, its metrics); sorted by
    /// [`Acc::finish`]. Empty unless `cfg.bucket` is set.
    pub buckets: Vec<(i64, Metrics)>,
    pub files: Vec<FileStats>,
    /// Records outside `cfg.window`, not counted in the figures.
    pub outside_window: u64,
    /// Damaged lines dated outside `cfg.window`, not charged to it.
    pub outside_skipped: u64,
    /// Damaged lines that cannot be dated (no time in them, no record in
    /// their input): with a window, charged to no window; without one,
    /// charged to the run (but to no `--by` bucket).
    pub undated: Skipped,
    /// The newest record read, in the window or not (microseconds): when
    /// the logs were last written, even if the window is empty.
    pub newest: Option<i64>,
    /// Damaged lines are dated (a window or buckets): only then are
    /// segments tracked.
    dated: bool,
    seg: Option<Segment>,
    segs: Vec<Segment>,
    /// The time of the last record of the current segment.
    cur_ts: Option<i64>,
    // Scratch, reused from line to line.
    hint: usize,
    steps: latency::Steps,
    comps: fallback::Components,
    risk_tpl: parse::Template,
    key: String,
    /// `sample_rate` values already formatted (bit pattern -> text): a log
    /// holds a handful of configured rates, so formatting an f64 on every
    /// record is wasted work.
    rate_text: Vec<(u64, String)>,
}

impl Acc {
    pub fn new(cfg: Config, n_files: usize) -> Acc {
        Acc {
            cfg,
            total: Metrics::new(cfg.mode),
            buckets: Vec::new(),
            files: vec![FileStats::default(); n_files],
            outside_window: 0,
            outside_skipped: 0,
            undated: Skipped::default(),
            newest: None,
            dated: cfg.window.is_some() || cfg.bucket.is_some(),
            seg: None,
            segs: Vec::new(),
            cur_ts: None,
            hint: 0,
            steps: latency::Steps::default(),
            comps: fallback::Components::default(),
            risk_tpl: parse::Template::default(),
            key: String::new(),
            rate_text: Vec::new(),
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

    /// [`Acc::feed_line`] for a line cut at a newline that may still hold a
    /// NUL byte: returns false, counting nothing, when it does (then the
    /// NUL ends a line and starts a hole: the caller splits it) or when it
    /// is too long (the caller may find a NUL before the limit). A line
    /// that parses holds no NUL (JSON allows none outside strings and no
    /// control byte inside), so good lines are never searched for one.
    #[inline]
    pub fn feed_line_unless_nul(
        &mut self,
        kind: LogKind,
        file: u32,
        offset: u64,
        line: &[u8],
    ) -> bool {
        if self.too_big(line) {
            return false;
        }
        match self.take(kind, file, line) {
            Ok(()) => true,
            Err(_) if memchr::memchr(0, line).is_some() => false,
            Err(why) => {
                self.damaged(kind, file, offset, why, Some(line));
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
    }

    /// Charge damaged lines to the figures of time `micros`: its window
    /// and bucket, or the count of those outside the window.
    fn charge(&mut self, micros: i64, lines: &Skipped) {
        let cfg = self.cfg;
        match target(
            &mut self.total,
            &mut self.buckets,
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
    fn too_big(&self, line: &[u8]) -> bool {
        line.len() > self.cfg.max_line_bytes || line.len() >= parse::json::MAX_LINE
    }

    /// Parse a line and count it as a record or a blank line; when it does
    /// not parse, nothing is counted and the reason is returned.
    #[inline(always)]
    fn take(&mut self, kind: LogKind, file: u32, line: &[u8]) -> Result<(), Skip> {
        let record = self.parse_and_add(kind, file, line)?;
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
        let mut one = Skipped::default();
        one.add(kind, file, offset, why);
        let own = line.and_then(damaged_line_time);
        // The segment is begun here too, so `cur_ts` is this input's.
        self.segment(file);
        match own.or(self.cur_ts) {
            Some(t) => self.charge(t, &one),
            None => self.segment(file).pending.merge(&one),
        }
    }

    /// Ok(true): a record was added; Ok(false): blank line.
    #[inline]
    fn parse_and_add(&mut self, kind: LogKind, file: u32, line: &[u8]) -> Result<bool, Skip> {
        let cfg = self.cfg;
        match kind {
            LogKind::Latency => match latency::parse(line, &mut self.steps)? {
                Line::Blank => Ok(false),
                Line::Record(r) => {
                    let m = target!(self, cfg, file, r.ts);
                    m.time.see(&r.ts, line);
                    let g = if r.llm_enabled {
                        &mut m.with_llm
                    } else {
                        &mut m.without_llm
                    };
                    g.count += 1;
                    if let Some(ms) = r.total_ms {
                        g.total.record(ms);
                    }
                    for (name, ms) in &self.steps.items {
                        match entry_span(&mut g.steps, *name, line, || Dist::new(cfg.mode)) {
                            Some(d) => d.record(*ms),
                            None => g.steps.overflow += 1,
                        }
                    }
                    Ok(true)
                }
            },
            LogKind::Fallback => match fallback::parse(line, &mut self.comps)? {
                Line::Blank => Ok(false),
                Line::Record(r) => {
                    let m = target!(self, cfg, file, r.ts);
                    m.time.see(&r.ts, line);
                    let f = &mut m.fallback;
                    f.count += 1;
                    let outcome = r.outcome.map(|s| s.text(line));
                    let outcome = outcome.as_deref().unwrap_or("unknown");
                    f.outcomes.count(outcome, 1);
                    if let Some(reason) = r.reason {
                        count_span(&mut f.reasons, reason, line);
                    }
                    if let Some(ms) = r.llm_latency_ms {
                        f.llm_latency.record(ms);
                    }
                    if r.deterministic_used {
                        f.deterministic_used += 1;
                    }
                    let intent = r.intent.map(|s| s.text(line));
                    keyed::pair_key(
                        &mut self.key,
                        intent.as_deref().unwrap_or("(none)"),
                        outcome,
                    );
                    f.by_intent.count(&self.key, 1);
                    for (name, status) in &self.comps.items {
                        keyed::pair_key(&mut self.key, &name.text(line), &status.text(line));
                        f.components.count(&self.key, 1);
                    }
                    Ok(true)
                }
            },
            LogKind::Risk => match risk::parse(line, &mut self.risk_tpl)? {
                Line::Blank => Ok(false),
                Line::Record(r) => {
                    let m = target!(self, cfg, file, r.ts);
                    let k = &mut m.risk;
                    k.time.see(&r.ts, line);
                    k.total += 1;
                    k.sampled += r.sampled as u64;
                    if cfg.activity {
                        k.activity.see(r.ts.micros);
                    }
                    // The analyzer's `rec.get("status", "unknown")`.
                    match r.status {
                        risk::Status::Text(s) => count_span(&mut k.status, s, line),
                        risk::Status::Null => k.status.count("null", 1),
                        risk::Status::Missing => k.status.count("unknown", 1),
                    }
                    if let Some(rc) = r.reason_code {
                        count_span(&mut k.reason_codes, rc, line);
                    }
                    if let Some(d) = r.diff {
                        k.with_diff += 1;
                        k.intent_mismatch += d.intent_mismatch as u64;
                        k.decision_type_mismatch += d.decision_type_mismatch as u64;
                        k.action_count_mismatch += d.action_count_mismatch as u64;
                        k.entity_key_mismatch += d.entity_key_mismatch as u64;
                    }
                    if let Some(ms) = r.latency_ms {
                        k.latency.record(ms);
                    }
                    if let Some(rate) = r.sample_rate {
                        let bits = rate.to_bits();
                        match self.rate_text.iter().find(|(b, _)| *b == bits) {
                            Some((_, text)) => k.sample_rates.count(text, 1),
                            None => {
                                let text = format!("{rate}");
                                k.sample_rates.count(&text, 1);
                                if self.rate_text.len() < 16 {
                                    self.rate_text.push((bits, text));
                                }
                            }
                        }
                    }
                    Ok(true)
                }
            },
        }
    }

    pub fn merge(&mut self, o: &Acc) {
        self.total.merge(&o.total);
        for (start, m) in &o.buckets {
            match self.buckets.iter_mut().find(|(s, _)| s == start) {
                Some((_, mine)) => mine.merge(m),
                None => self.buckets.push((*start, m.clone())),
            }
        }
        self.outside_window += o.outside_window;
        self.outside_skipped += o.outside_skipped;
        self.undated.merge(&o.undated);
        self.newest = self.newest.max(o.newest);
        self.segs.extend(o.segs.iter().cloned());
        self.segs.extend(o.seg.iter().cloned());
        for (a, b) in self.files.iter_mut().zip(o.files.iter()) {
            a.merge(b);
        }
    }

    /// Date the damaged lines met before any record of their segment: by
    /// the last record of the nearest earlier segment of the same input,
    /// else the first record of this or the nearest later one; lines of an
    /// input with no record at all are undated.
    fn date_pending(&mut self) {
        self.segs.extend(self.seg.take());
        let mut segs = std::mem::take(&mut self.segs);
        segs.sort_by_key(|s| (s.file, s.start));
        for i in 0..segs.len() {
            if segs[i].pending.total() == 0 {
                continue;
            }
            let file = segs[i].file;
            let same = |s: &&Segment| s.file == file;
            let before = segs[..i].iter().rev().filter(same).find_map(|s| s.last);
            let when = before.or_else(|| segs[i..].iter().filter(same).find_map(|s| s.first));
            let pending = std::mem::take(&mut segs[i].pending);
            match when {
                Some(t) => self.charge(t, &pending),
                None => self.undated.merge(&pending),
            }
        }
    }

    /// Sort the buckets, fill the run's totals from them, and put kept
    /// values in a canonical order.
    pub fn finish(&mut self) {
        if self.dated {
            self.date_pending();
        }
        if self.cfg.bucket.is_some() {
            self.buckets.sort_by_key(|(s, _)| *s);
            let mut total = Metrics::new(self.cfg.mode);
            for (_, m) in &mut self.buckets {
                total.merge(m);
                m.finish();
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
            let t = &self.total;
            self.newest = [&t.time, &t.risk.time]
                .iter()
                .filter_map(|r| r.last.as_ref().map(|l| l.0))
                .max();
        }
        self.total.finish();
    }
}
