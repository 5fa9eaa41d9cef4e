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
}

impl FileStats {
    fn merge(&mut self, o: &FileStats) {
        self.lines += o.lines;
        self.records += o.records;
        self.skipped += o.skipped;
        self.blank += o.blank;
    }
}

/// Skipped lines: a count per reason and the first few locations.
#[derive(Debug, Clone, Default)]
pub struct Skipped {
    pub by_reason: [u64; Skip::ALL.len()],
    /// (input index, byte offset of the line, reason), smallest first.
    pub examples: Vec<(u32, u64, Skip)>,
}

impl Skipped {
    pub fn total(&self) -> u64 {
        self.by_reason.iter().sum()
    }

    fn add(&mut self, file: u32, offset: u64, why: Skip) {
        self.by_reason[why.index()] += 1;
        let e = (file, offset, why);
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(e);
            self.examples.sort();
        } else if e < self.examples[MAX_EXAMPLES - 1] {
            self.examples[MAX_EXAMPLES - 1] = e;
            self.examples.sort();
        }
    }

    fn merge(&mut self, o: &Skipped) {
        for (a, b) in self.by_reason.iter_mut().zip(o.by_reason.iter()) {
            *a += *b;
        }
        self.examples.extend_from_slice(&o.examples);
        self.examples.sort();
        self.examples.dedup();
        self.examples.truncate(MAX_EXAMPLES);
    }
}

/// Everything one worker has seen.
#[derive(Debug)]
pub struct Acc {
    pub cfg: Config,
    pub with_llm: LatencyGroup,
    pub without_llm: LatencyGroup,
    pub fallback: FallbackAcc,
    pub risk: RiskAcc,
    pub time: TimeRange,
    pub skipped: Skipped,
    pub files: Vec<FileStats>,
    // Scratch, reused from line to line.
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
        let mode = cfg.mode;
        Acc {
            cfg,
            with_llm: LatencyGroup::new(mode),
            without_llm: LatencyGroup::new(mode),
            fallback: FallbackAcc {
                count: 0,
                outcomes: Keyed::new(MAX_KEYS),
                reasons: Keyed::new(MAX_KEYS),
                llm_latency: Dist::new(mode),
                deterministic_used: 0,
                by_intent: Keyed::new(MAX_KEYS),
                components: Keyed::new(MAX_KEYS),
            },
            risk: RiskAcc {
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
            },
            time: TimeRange::default(),
            skipped: Skipped::default(),
            files: vec![FileStats::default(); n_files],
            steps: latency::Steps::default(),
            comps: fallback::Components::default(),
            risk_tpl: parse::Template::default(),
            key: String::new(),
            rate_text: Vec::new(),
        }
    }

    /// Feed a block of whole lines (each ending in `\n`, except perhaps the
    /// last one of a file) that starts at byte `base` of input `file`.
    pub fn feed_block(&mut self, kind: LogKind, file: u32, base: u64, block: &[u8]) {
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', block) {
            self.feed_line(kind, file, base + start as u64, &block[start..nl]);
            start = nl + 1;
        }
        if start < block.len() {
            self.feed_line(kind, file, base + start as u64, &block[start..]);
        }
    }

    /// Feed one line (without its `\n`) found at byte `offset` of `file`.
    pub fn feed_line(&mut self, kind: LogKind, file: u32, offset: u64, line: &[u8]) {
        self.files[file as usize].lines += 1;
        if line.len() > self.cfg.max_line_bytes || line.len() >= parse::json::MAX_LINE {
            self.skip(file, offset, Skip::LineTooLong);
            return;
        }
        match self.parse_and_add(kind, line) {
            Ok(true) => self.files[file as usize].records += 1,
            Ok(false) => self.files[file as usize].blank += 1,
            Err(why) => {
                // NUL bytes are never valid JSON, so this check costs
                // nothing on good lines.
                if let Some(first) = memchr::memchr(0, line) {
                    self.nul_line(kind, file, offset, line, first);
                } else {
                    self.skip(file, offset, why);
                }
            }
        }
    }

    /// A line holding a run of NUL bytes (the hole `copytruncate` leaves,
    /// often followed by a record the writer appended after it): the text
    /// before the hole is a damaged fragment, the hole is one damaged
    /// region, and the text after the last NUL is read as a line.
    fn nul_line(&mut self, kind: LogKind, file: u32, offset: u64, line: &[u8], first: usize) {
        let before = &line[..first];
        match self.parse_and_add(kind, before) {
            Ok(true) => self.files[file as usize].records += 1,
            Ok(false) => {}
            Err(why) => self.skip(file, offset, why),
        }
        self.skip(file, offset + first as u64, Skip::NulBytes);
        let last = memchr::memrchr(0, line).unwrap_or(first);
        let after = &line[last + 1..];
        match self.parse_and_add(kind, after) {
            Ok(true) => self.files[file as usize].records += 1,
            Ok(false) => {}
            Err(why) => self.skip(file, offset + last as u64 + 1, why),
        }
    }

    fn skip(&mut self, file: u32, offset: u64, why: Skip) {
        self.files[file as usize].skipped += 1;
        self.skipped.add(file, offset, why);
    }

    /// Ok(true): a record was added; Ok(false): blank line.
    #[inline]
    fn parse_and_add(&mut self, kind: LogKind, line: &[u8]) -> Result<bool, Skip> {
        match kind {
            LogKind::Latency => match latency::parse(line, &mut self.steps)? {
                Line::Blank => Ok(false),
                Line::Record(r) => {
                    self.time.see(&r.ts, line);
                    let g = if r.llm_enabled {
                        &mut self.with_llm
                    } else {
                        &mut self.without_llm
                    };
                    g.count += 1;
                    if let Some(ms) = r.total_ms {
                        g.total.record(ms);
                    }
                    let mode = self.cfg.mode;
                    for (name, ms) in &self.steps.items {
                        match entry_span(&mut g.steps, *name, line, || Dist::new(mode)) {
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
                    self.time.see(&r.ts, line);
                    let f = &mut self.fallback;
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
                    self.time.see(&r.ts, line);
                    let k = &mut self.risk;
                    k.total += 1;
                    k.sampled += r.sampled as u64;
                    match r.status {
                        Some(s) => count_span(&mut k.status, s, line),
                        None => k.status.count("unknown", 1),
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
        self.with_llm.merge(&o.with_llm);
        self.without_llm.merge(&o.without_llm);
        let (f, g) = (&mut self.fallback, &o.fallback);
        f.count += g.count;
        f.outcomes.merge(&g.outcomes);
        f.reasons.merge(&g.reasons);
        f.llm_latency.merge(&g.llm_latency);
        f.deterministic_used += g.deterministic_used;
        f.by_intent.merge(&g.by_intent);
        f.components.merge(&g.components);
        let (r, s) = (&mut self.risk, &o.risk);
        r.total += s.total;
        r.sampled += s.sampled;
        r.status.merge(&s.status);
        r.reason_codes.merge(&s.reason_codes);
        r.with_diff += s.with_diff;
        r.intent_mismatch += s.intent_mismatch;
        r.decision_type_mismatch += s.decision_type_mismatch;
        r.action_count_mismatch += s.action_count_mismatch;
        r.entity_key_mismatch += s.entity_key_mismatch;
        r.latency.merge(&s.latency);
        r.sample_rates.merge(&s.sample_rates);
        self.time.merge(&o.time);
        self.skipped.merge(&o.skipped);
        for (a, b) in self.files.iter_mut().zip(o.files.iter()) {
            a.merge(b);
        }
    }

    /// Put kept values in a canonical order (exact mode).
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
