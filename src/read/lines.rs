//! Bytes -> tokens, the one rule every read path shares.
//!
//! The input is a sequence of tokens:
//! - a **line**: the bytes up to a `\n` (which it consumes) or up to a NUL
//!   byte (which it does not);
//! - a **hole**: a maximal run of NUL bytes. `copytruncate` leaves one when
//!   the writer goes on at its old offset: the file reads as zeros up to
//!   there, then the next record. A hole is one damaged region however long
//!   it is, and the record after it is read as a line.
//!
//! A token starts at offset 0, after a `\n`, at the first NUL after a
//! non-NUL byte, or at the first non-NUL after a NUL. That is decided by
//! the byte before and the byte at an offset alone, so a reader that cuts
//! a file into ranges finds the same tokens whatever the cuts: each range
//! owns the tokens that *start* inside it ([`first_start`]) and reads past
//! its end only to finish the last one.
//!
//! Memory is bounded: a line longer than `max_line_bytes` is counted as
//! too long once and the rest of it is passed over without being kept, and
//! a hole is never kept at all.
//!
//! The last line of an input may have no `\n`. If it is a whole record it
//! counts; if not it is the unfinished line of a file still being written
//! (or cut off), and it is neither counted nor called damaged: its length
//! goes to [`FileStats::unfinished`](crate::agg::FileStats).

use crate::agg::Acc;
use crate::kinds::{self, LogKind, Registered, Visitor};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    /// At the start of a token.
    Start,
    /// Inside a line that fits; its bytes so far are in `carry` when it
    /// spans pushes.
    Line,
    /// Inside a line already counted as too long.
    Long,
    /// Inside a hole, already counted.
    Hole,
}

/// Where a scanner can be resumed from ([`Lines::resume_point`]): at a
/// token's start, or inside a too-long line or a hole already counted (the
/// rest of it is passed over, not counted again).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Within {
    Start,
    LongLine,
    Hole,
}

/// How many `(offset, line number)` pairs a tracking scanner keeps: the
/// report shows the first few skipped lines; more than that are never
/// looked up.
const TRACKED: usize = 2 * crate::agg::MAX_EXAMPLES;

/// A resumable tokenizer over one input, fed piece by piece.
pub struct Lines {
    kind: crate::kinds::LogKind,
    file: u32,
    /// Offset of the next byte to be pushed.
    pos: u64,
    st: St,
    /// Offset where the current token started.
    at: u64,
    carry: Vec<u8>,
    /// `\n`-ended tokens consumed so far: with `track`, the line number of
    /// each of the first skipped tokens is kept in `skips`.
    newlines: u64,
    track: bool,
    pub skips: Vec<(u64, u64)>,
    /// Whether the accumulator was told this scanner's segment began.
    begun: bool,
}

impl Lines {
    /// A scanner whose first byte, at offset `pos`, starts a token.
    pub fn new(kind: LogKind, file: u32, pos: u64) -> Lines {
        Lines {
            kind,
            file,
            pos,
            st: St::Start,
            at: pos,
            carry: Vec::new(),
            newlines: 0,
            track: false,
            skips: Vec::new(),
            begun: false,
        }
    }

    /// A scanner that goes on from a [`Lines::resume_point`] of another:
    /// what it then counts is what that one would have counted from there.
    /// `newlines`: the lines before `pos` (line numbers of skipped lines
    /// go on from there).
    pub fn resume(kind: LogKind, file: u32, pos: u64, within: Within, newlines: u64) -> Lines {
        let mut l = Lines::new(kind, file, pos);
        l.newlines = newlines;
        l.st = match within {
            Within::Start => St::Start,
            Within::LongLine => St::Long,
            Within::Hole => St::Hole,
        };
        l
    }

    /// Where every token before is counted and none after: the offset of
    /// a line begun and not yet ended (its bytes so far are not kept by
    /// the caller), else the next byte to push and whether it falls inside
    /// a too-long line or a hole.
    pub fn resume_point(&self) -> (u64, Within) {
        // (`newlines` counts the lines before a line begun, too.)
        match self.st {
            St::Start => (self.pos, Within::Start),
            St::Line => (self.at, Within::Start),
            St::Long => (self.pos, Within::LongLine),
            St::Hole => (self.pos, Within::Hole),
        }
    }

    /// Also keep the line numbers (1-based, counted from where this
    /// scanner started) of the first skipped lines, in `skips`.
    pub fn tracking(mut self) -> Lines {
        self.track = true;
        self
    }

    /// Tell `acc` a segment starts (once, before the first token).
    #[inline]
    fn begin(&mut self, acc: &mut Acc) {
        if !self.begun {
            self.begun = true;
            acc.begin_segment(self.file, self.at);
        }
    }

    /// The input's number in the accumulator.
    pub fn file(&self) -> u32 {
        self.file
    }

    pub fn kind(&self) -> LogKind {
        self.kind
    }

    /// Newlines consumed so far (counted from where the scanner started,
    /// or from the `newlines` it was resumed with).
    pub fn newlines(&self) -> u64 {
        self.newlines
    }

    /// Offset of the next byte to push.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// True once nothing that starts before `end` is left unfinished: the
    /// owner of the range ending at `end` may stop reading.
    pub fn done(&self, end: u64) -> bool {
        self.pos >= end && self.st != St::Line
    }

    /// Feed the bytes at `self.pos()`. Only tokens that start before `end`
    /// are counted; returns true as soon as the next one would start at or
    /// after it (the rest of `data` is then left alone).
    pub fn push(&mut self, acc: &mut Acc, data: &[u8], end: u64) -> bool {
        self.begin(acc);
        let max = acc.cfg.max_line_bytes;
        let base = self.pos;
        let n = data.len();
        let mut i = 0;
        while i < n {
            let here = base + i as u64;
            match self.st {
                St::Line => {
                    if self.carry.is_empty() {
                        let (j, whole) = kinds::visit(
                            self.kind,
                            WholeLines {
                                lines: self,
                                acc,
                                data,
                                i,
                                end,
                                base,
                            },
                        );
                        i = j;
                        if whole {
                            continue;
                        }
                    }
                    self.split_line(acc, data, &mut i, max);
                }
                // Past `end`, only a line begun before it is finished: the
                // next token, or the rest of a hole or an over-long line, is
                // not ours.
                _ if here >= end => {
                    self.pos = here;
                    return true;
                }
                St::Start => {
                    self.at = here;
                    if data[i] == 0 {
                        self.emit(acc, Tok::Hole);
                        self.st = St::Hole;
                        i += 1;
                    } else {
                        self.st = St::Line;
                    }
                }
                St::Long => match memchr::memchr2(b'\n', 0, &data[i..]) {
                    Some(j) => i = self.past(data, i + j),
                    None => i = n,
                },
                St::Hole => match first_nonzero(&data[i..]) {
                    Some(j) => {
                        i += j;
                        self.st = St::Start;
                    }
                    None => i = n,
                },
            }
        }
        self.pos = base + n as u64;
        false
    }

    /// The NUL-aware path for the line at `data[*i]`: it ends at a newline
    /// or a NUL, or goes on past `data` (kept in `carry`, or counted as
    /// too long once it cannot fit).
    fn split_line(&mut self, acc: &mut Acc, data: &[u8], i: &mut usize, max: usize) {
        let n = data.len();
        match memchr::memchr2(b'\n', 0, &data[*i..]) {
            Some(j) => {
                let t = *i + j;
                if self.carry.is_empty() {
                    self.emit(acc, Tok::Line(&data[*i..t]));
                } else if self.carry.len() + j > max {
                    self.carry.clear();
                    self.emit(acc, Tok::TooLong);
                } else {
                    let mut line = std::mem::take(&mut self.carry);
                    line.extend_from_slice(&data[*i..t]);
                    self.emit(acc, Tok::Line(&line));
                    line.clear();
                    self.carry = line;
                }
                *i = self.past(data, t);
            }
            None => {
                if self.carry.len() + (n - *i) > max {
                    self.carry.clear();
                    self.emit(acc, Tok::TooLong);
                    self.st = St::Long;
                } else {
                    self.carry.extend_from_slice(&data[*i..]);
                }
                *i = n;
            }
        }
    }

    /// The hot path, for a run of lines of kind `K` from `data[i]` (a line
    /// begun there, nothing carried): each line that ends at a newline
    /// inside `data` and holds no NUL is fed as it stands, and the next
    /// token begun, while it is a line that starts before `end`. Returns
    /// where it stopped, and false when that is at a line the NUL-aware
    /// path must split (nothing of it was counted); true when the push
    /// loop takes over at a token start.
    #[inline(always)]
    fn whole_lines<K: Registered>(
        &mut self,
        acc: &mut Acc,
        data: &[u8],
        mut i: usize,
        end: u64,
        base: u64,
    ) -> (usize, bool) {
        // A record is counted in the loop; any other line (damaged, blank,
        // too long) goes to the cold path, which feeds it as `feed_line`
        // would.
        loop {
            let Some(j) = memchr::memchr(b'\n', &data[i..]) else {
                return (i, false);
            };
            let line = &data[i..i + j];
            let counted = !acc.too_big(line) && acc.take_record::<K>(self.file, line);
            if !counted && !self.other_line::<K>(acc, line) {
                return (i, false);
            }
            i = self.past(data, i + j);
            // The next token, as the push loop would begin it: a line
            // that starts before `end`, or the loop's business.
            let here = base + i as u64;
            match data.get(i) {
                Some(&c) if c != 0 && here < end => {
                    self.at = here;
                    self.st = St::Line;
                }
                _ => return (i, true),
            }
        }
    }

    /// A line the hot loop did not count (damaged, blank, too long), fed
    /// as `feed_line` would; false, with nothing counted, when it holds a
    /// NUL (the push loop splits it). Out of the loop, so that the loop
    /// holds one copy of the kind's parse and `add`.
    #[cold]
    #[inline(never)]
    fn other_line<K: Registered>(&mut self, acc: &mut Acc, line: &[u8]) -> bool {
        let before = self.skipped(acc);
        if !acc.feed_line_unless_nul::<K>(self.file, self.at, line) {
            return false;
        }
        self.note_skip(acc, before);
        true
    }

    fn skipped(&self, acc: &Acc) -> u64 {
        if self.track {
            acc.files[self.file as usize].skipped
        } else {
            0
        }
    }

    /// A line ended at `data[t]`: a newline is consumed, a NUL starts the
    /// hole that follows. Where the next token starts.
    fn past(&mut self, data: &[u8], t: usize) -> usize {
        self.st = St::Start;
        if data[t] == b'\n' {
            self.newlines += 1;
            t + 1
        } else {
            t
        }
    }

    /// The input ended: an unfinished line is counted if it is a whole
    /// record and otherwise set aside as unfinished.
    pub fn finish(&mut self, acc: &mut Acc) {
        self.begin(acc);
        if self.st == St::Line {
            let line = std::mem::take(&mut self.carry);
            acc.last_line(self.kind, self.file, self.at, &line);
            self.note_skip(acc, 0);
        }
        self.st = St::Start;
    }

    fn emit(&mut self, acc: &mut Acc, tok: Tok) {
        let before = self.skipped(acc);
        match tok {
            Tok::Line(line) => acc.feed_line(self.kind, self.file, self.at, line),
            Tok::TooLong => acc.too_long(self.kind, self.file, self.at),
            Tok::Hole => acc.hole(self.kind, self.file, self.at),
        }
        self.note_skip(acc, before);
    }

    fn note_skip(&mut self, acc: &Acc, before: u64) {
        if self.track
            && self.skips.len() < TRACKED
            && acc.files[self.file as usize].skipped > before
        {
            self.skips.push((self.at, self.newlines + 1));
        }
    }
}

/// [`Lines::whole_lines`] for the kind chosen at run time: one dispatch
/// for a run of lines.
struct WholeLines<'s, 'a, 'd> {
    lines: &'s mut Lines,
    acc: &'a mut Acc,
    data: &'d [u8],
    i: usize,
    end: u64,
    base: u64,
}

impl Visitor for WholeLines<'_, '_, '_> {
    type Out = (usize, bool);
    #[inline(always)]
    fn visit<K: Registered>(self) -> (usize, bool) {
        self.lines
            .whole_lines::<K>(self.acc, self.data, self.i, self.end, self.base)
    }
}

enum Tok<'a> {
    Line(&'a [u8]),
    TooLong,
    Hole,
}

/// Index of the first non-NUL byte.
fn first_nonzero(data: &[u8]) -> Option<usize> {
    // Holes can be gigabytes long: test 64 bytes at a time (the compiler
    // vectorises the OR), then find the byte.
    let mut i = 0;
    for block in data.chunks_exact(64) {
        if block.iter().fold(0u8, |a, &b| a | b) != 0 {
            break;
        }
        i += 64;
    }
    data[i..].iter().position(|&b| b != 0).map(|j| i + j)
}

/// Where the first token starting in `data` begins, given the byte just
/// before `data[0]` (see the module docs). `None`: no token starts in
/// `data`; call again on the next bytes with `data`'s last byte as `prev`.
pub fn first_start(prev: u8, data: &[u8]) -> Option<usize> {
    let first = *data.first()?;
    match prev {
        b'\n' => Some(0),
        0 => first_nonzero(data),
        _ => {
            if first == 0 {
                return Some(0);
            }
            let t = memchr::memchr2(b'\n', 0, data)?;
            if data[t] == 0 {
                Some(t)
            } else if t + 1 < data.len() {
                Some(t + 1)
            } else {
                None
            }
        }
    }
}

/// Feed bytes held in memory that start a token at offset `base` and run
/// to the end of an input (tests, benchmarks, the fuzzer).
pub fn feed(acc: &mut Acc, kind: LogKind, file: u32, base: u64, data: &[u8]) {
    let mut l = Lines::new(kind, file, base);
    l.push(acc, data, u64::MAX);
    l.finish(acc);
}

/// The token rule written as plainly as possible, over a whole input in
/// memory: the oracle [`Lines`] is held to (tests, the fuzzer).
pub fn feed_reference(acc: &mut Acc, kind: LogKind, file: u32, data: &[u8]) {
    let mut i = 0;
    while i < data.len() {
        if data[i] == 0 {
            acc.hole(kind, file, i as u64);
            while i < data.len() && data[i] == 0 {
                i += 1;
            }
            continue;
        }
        let t = (i..data.len())
            .find(|&k| data[k] == b'\n' || data[k] == 0)
            .unwrap_or(data.len());
        if t == data.len() {
            acc.last_line(kind, file, i as u64, &data[i..]);
            return;
        }
        acc.feed_line(kind, file, i as u64, &data[i..t]);
        i = if data[t] == b'\n' { t + 1 } else { t };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts() {
        assert_eq!(first_start(b'\n', b"abc"), Some(0));
        assert_eq!(first_start(b'x', b"abc\ndef"), Some(4));
        assert_eq!(first_start(b'x', b"abc\0\0d"), Some(3));
        assert_eq!(first_start(0, b"\0\0d"), Some(2));
        assert_eq!(first_start(0, b"\0\0\0"), None);
        assert_eq!(first_start(b'x', b"abc\n"), None);
        assert_eq!(first_start(b'x', b"\0"), Some(0));
        assert_eq!(first_start(b'x', b""), None);
        let long = vec![0u8; 200];
        assert_eq!(first_nonzero(&long), None);
        let mut l = long.clone();
        l[150] = 1;
        assert_eq!(first_nonzero(&l), Some(150));
    }

    /// Stopping anywhere, at a push boundary, and going on from the
    /// resume point with a new scanner counts what one scanner counts:
    /// every line once, a too-long line and a hole once.
    #[test]
    fn a_scanner_resumed_from_its_resume_point_counts_each_token_once() {
        use crate::agg::{Acc, Config, Mode};
        let line = |ms: u32| {
            format!("{{\"timestamp\": \"2026-02-10T12:00:00Z\", \"command_id\": \"c\", \"total_ms\": {ms}, \"steps\": {{}}, \"llm_enabled\": false}}\n")
        };
        let mut data = Vec::new();
        data.extend(line(1).bytes());
        data.extend(b"{\"broken\n");
        data.extend(std::iter::repeat_n(b'x', 300));
        data.push(b'\n');
        data.extend(line(2).bytes());
        data.extend([0u8; 40]);
        data.extend(line(3).bytes());
        data.extend(b"\n");
        data.extend(line(4).bytes());
        let kind = LogKind::ALL[0].0;
        let cfg = Config::new(Mode::Exact, 200);
        let counts = |acc: &Acc| {
            let f = &acc.files[0];
            (f.lines, f.records, f.skipped, f.blank)
        };
        let mut one = Acc::new(cfg, 1);
        let mut l = Lines::new(kind, 0, 0);
        l.push(&mut one, &data, u64::MAX);
        let want = counts(&one);
        assert_eq!(want.1, 4, "{want:?}");
        for cut in 0..=data.len() {
            for step in [1, 7, data.len()] {
                let mut acc = Acc::new(cfg, 1);
                let mut a = Lines::new(kind, 0, 0);
                let mut at = 0;
                while at < cut {
                    let to = (at + step).min(cut);
                    a.push(&mut acc, &data[at..to], u64::MAX);
                    at = to;
                }
                let (pos, within) = a.resume_point();
                assert!(pos as usize <= cut);
                let mut b = Lines::resume(kind, 0, pos, within, 0);
                b.push(&mut acc, &data[pos as usize..], u64::MAX);
                assert_eq!(counts(&acc), want, "cut at {cut}, pushes of {step}");
            }
        }
    }
}
