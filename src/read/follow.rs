//! Following logs as they are written (`aggmetrics serve`): every plain
//! log file found under the paths is read from its start, then from where
//! the last read stopped whenever it grows, into one accumulator that
//! holds everything read since the follower began.
//!
//! - A file is known by its identity (device and inode), not its name: a
//!   file renamed by logrotate (`x.jsonl` to `x.jsonl.1`) is the same file
//!   and is not read twice. When the name points to another file, or to
//!   none, the old one is read to its end and its unfinished last line, if
//!   any, is counted as unfinished; the new file is read from its start.
//! - A file that shrank below what was read (`copytruncate`, `truncate -s
//!   0`) is read again from its start; `truncations` counts how often.
//! - Lines are cut as the batch reader cuts them ([`super::lines`]): a
//!   line is counted once its `\n` is written, so a line being written
//!   is never counted half.
//! - Compressed files (rotated history) are not followed: what they hold
//!   was read while it was the live file.
//!
//! - Where each file was read to can be saved ([`Follower::positions`])
//!   with the figures, and a new follower goes on from there
//!   ([`Follower::restore`]): a file is found again by its identity and
//!   its first bytes, or, renamed away while the follower was stopped, by
//!   its first bytes alone (logrotate's copy; a file compressed since is
//!   read from its offset to its end).
//!
//! Reads are positioned (`pread`), never mapped (see the module above).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::lines::{Lines, Within};
use super::{InputInfo, ReadResult};
use crate::agg::{Acc, Config};
use crate::input::Compression;
use crate::kinds::jsonl::JsonlOptions;
use crate::kinds::{LogKind, Options};

/// Bytes read from a file at once.
const CHUNK: usize = 1 << 20;

/// One followed file.
struct Tracked {
    /// The input's number in the accumulator.
    index: u32,
    path: PathBuf,
    kind: LogKind,
    file: File,
    /// (device, inode).
    id: (u64, u64),
    lines: Lines,
    /// The file's first bytes as read (up to [`HEAD`]): when they change,
    /// the file was truncated and written again, even to a larger size
    /// than was read.
    head: Vec<u8>,
}

/// How far a record may be stamped after its file was looked at before
/// it counts as ahead of this host's clock (clock steps, a writer's
/// clock read late): a second.
pub const AHEAD_US: i64 = 1_000_000;

/// Bytes of a file's start compared at each read.
const HEAD: usize = 256;

/// Where a followed file was read to: every token before `offset` is in
/// the figures saved with it, none after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Its input's number (in the saved figures' inputs).
    pub input: u32,
    pub dev: u64,
    pub ino: u64,
    /// Its first bytes as read (up to 256), base64.
    pub head: String,
    pub offset: u64,
    /// Lines before `offset` (line numbers of damaged lines go on from it).
    pub line: u64,
    /// Whether `offset` falls inside a too-long line or a hole already
    /// counted.
    pub within: Within,
}

/// Where every followed file was read to, and what the follower keeps to
/// recognise files rotated since.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Positions {
    pub files: Vec<Position>,
    /// Files truncated in place whose copy was not seen yet: their first
    /// bytes (base64) and how much of them was read.
    pub truncated: Vec<(String, u64)>,
    pub retired: u64,
    pub truncations: u64,
}

/// What a follower restored from [`Positions`] found of the files.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Restored {
    /// Found again (device, inode and first bytes): read on from their
    /// offset.
    pub resumed: usize,
    /// Found under another identity with the same first bytes (the copy
    /// logrotate's `copytruncate` made while the follower was stopped):
    /// read on from their offset.
    pub copies: usize,
    /// Compressed while the follower was stopped: read from their offset
    /// to their end.
    pub compressed: usize,
    /// Not found (deleted, or moved out of the paths): what was written
    /// to them after the positions were saved is not counted. Their paths.
    pub lost: Vec<String>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .ok()
        .filter(|h| h.len() <= HEAD)
}

/// Whether `file` starts with `head`.
fn starts_with(file: &File, head: &[u8]) -> bool {
    let mut now = vec![0u8; head.len()];
    file.read_at(&mut now, 0).is_ok_and(|n| n == head.len()) && now == head
}

/// Whether the opened `file` is the regular file `id` (the one found, not
/// one put in its place since), holds at least `offset` bytes and starts
/// with `head`: a followed file, found again.
fn holds(file: &File, id: (u64, u64), offset: u64, head: &[u8]) -> bool {
    file.metadata().is_ok_and(|m| {
        m.is_file() && (m.dev(), m.ino()) == id && m.len() >= offset && starts_with(file, head)
    })
}

/// How a follower with sub-windows keeps within the memory budget
/// (`aggmetrics serve`, [`Follower::fold_when_short`]).
///
/// A batch read makes no new bucket, group or key once its figures fill
/// a sixteenth of `--max-memory` (`crate::budget::tight`). A follower
/// cannot do that: its minutes start with empty maps, so a key refused in
/// a new minute would be lost from the whole run's figures, where the
/// batch read over the same records holds it. Here, from that share on,
/// the oldest minutes are folded into the whole run's figures instead
/// (exact: they lose only their place in `/report`'s windows); only when
/// no closed minute is left to fold are new keys refused, and then
/// `crate::budget::held_back` counts what each refusal kept out.
#[derive(Debug, Default)]
pub struct Room {
    /// On for serve; off, the budget's own rule stands.
    on: bool,
    /// Minutes folded into the whole for memory (not by the cap).
    pub folded: u64,
    /// Whether new keys are refused now (nothing left to fold).
    pub refusing: bool,
    /// Times refusing began.
    pub refusals: u64,
}

impl Room {
    /// After a chunk is read: fold minutes while the share is in use, and
    /// refuse new keys while it is still in use after that.
    fn make(&mut self, acc: &mut Acc) {
        if !self.on {
            return;
        }
        if crate::budget::over_share() {
            self.folded += acc.shed(crate::budget::over_share);
        }
        let short = crate::budget::over_share();
        if short != self.refusing {
            crate::budget::refuse_new(short);
            self.refusing = short;
            self.refusals += short as u64;
        }
    }
}

/// Everything read from the followed files so far.
pub struct Follower {
    paths: Vec<PathBuf>,
    cfg: Config,
    opts: Arc<Options>,
    /// The figures restored from a checkpoint ([`Follower::restore`]).
    base: Option<Acc>,
    acc: Acc,
    infos: Vec<InputInfo>,
    tracked: Vec<Tracked>,
    /// Files read to their end after being rotated away or deleted.
    pub retired: u64,
    /// Times a followed file shrank below what was read of it.
    pub truncations: u64,
    /// Files truncated in place (copytruncate): their first bytes and how
    /// much of them was read. A new file that starts with those bytes is
    /// the copy logrotate made, read on from there (the newest few).
    truncated: Vec<(Vec<u8>, u64)>,
    /// Line numbers of damaged lines, by (input, offset): those the
    /// report's examples name are looked up here.
    skip_lines: std::collections::HashMap<(u32, u64), u64>,
    buf: Vec<u8>,
    /// Folding minutes when memory is short.
    pub room: Room,
    /// Count records stamped after they were read ([`Follower::count_future`]).
    clock: bool,
}

impl Follower {
    pub fn new(paths: Vec<PathBuf>, cfg: Config) -> Follower {
        Follower::with_options(paths, cfg, Options::default())
    }

    /// With the kinds' options (`serve`: the risk kind's busy minutes,
    /// kinds files).
    pub fn with_options(paths: Vec<PathBuf>, cfg: Config, opts: Options) -> Follower {
        let opts = Arc::new(opts);
        Follower {
            paths,
            cfg,
            acc: Acc::with_options(cfg, opts.clone(), 0),
            base: None,
            opts,
            infos: Vec::new(),
            tracked: Vec::new(),
            retired: 0,
            truncations: 0,
            truncated: Vec::new(),
            skip_lines: Default::default(),
            buf: vec![0; CHUNK],
            room: Room::default(),
            clock: false,
        }
    }

    /// Count the records stamped more than [`AHEAD_US`] after the moment
    /// their file was looked at (`Acc::future`): a writer whose clock is
    /// ahead of this host's. A record is written before the file's size
    /// that takes it in is read, so one stamped later than that was not
    /// stamped by this host's clock.
    pub fn count_future(&mut self) {
        self.clock = true;
    }

    /// Before a file's size is read: records stamped after now (and the
    /// slack) are ahead of this host's clock.
    fn stamp(&mut self) {
        if self.clock {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(i64::MAX, |d| d.as_micros() as i64);
            self.acc.cfg.future_after = now.saturating_add(AHEAD_US);
        }
    }

    /// Records stamped ahead of when they were read
    /// ([`Follower::count_future`]).
    pub fn future(&self) -> u64 {
        self.acc.future
    }

    /// Keep within the memory budget by folding the oldest sub-windows
    /// into the whole run's figures rather than refusing new keys (see
    /// [`Room`]). For a follower that keeps sub-windows and is the only
    /// reader in its process: it turns the budget's own refusal off.
    pub fn fold_when_short(&mut self) {
        self.room.on = true;
        crate::budget::refuse_new(false);
        self.room.make(&mut self.acc);
    }

    /// Look for new files, retire those whose name now points elsewhere,
    /// and read what every followed file gained. Returns the bytes read.
    pub fn poll(&mut self) -> u64 {
        self.scan();
        let mut read = 0;
        for i in 0..self.tracked.len() {
            read += self.read_new(i);
        }
        read
    }

    /// Files found under the paths that are not followed yet are
    /// followed; a followed file no longer found under any name (deleted,
    /// or rotated out of the folder or into a compressed file) is read to
    /// its end and dropped.
    fn scan(&mut self) {
        let found = crate::input::discover_with(&self.paths, None, false, &self.stems())
            .map(|f| f.sources)
            .unwrap_or_default();
        let found: Vec<(crate::input::Source, (u64, u64))> = found
            .into_iter()
            .filter(|s| !s.stdin && s.compression == Compression::None)
            .filter_map(|s| identity(&s.path).map(|id| (s, id)))
            .collect();
        let mut i = 0;
        while i < self.tracked.len() {
            if let Some((s, _)) = found.iter().find(|(_, id)| *id == self.tracked[i].id) {
                // Still there, perhaps under its rotated name.
                self.tracked[i].path = s.path.clone();
                i += 1;
                continue;
            }
            self.read_new(i);
            let mut t = self.tracked.remove(i);
            t.lines.finish(&mut self.acc);
            let skips = std::mem::take(&mut t.lines.skips);
            self.note_skips(t.index, skips);
            self.retired += 1;
        }
        for (s, id) in found {
            if self.tracked.iter().any(|t| t.id == id) {
                continue;
            }
            let Ok(file) = File::open(&s.path) else {
                continue;
            };
            // The file opened is the one identified (not one put in its
            // place meanwhile), and a regular file.
            match file.metadata() {
                Ok(m) if m.is_file() && (m.dev(), m.ino()) == id => {}
                _ => continue,
            }
            // The copy of a file truncated in place holds what was read
            // of it: read on from where that stopped.
            let start = self.copy_of(&file);
            let index = self.infos.len() as u32;
            self.note_kinds(index as usize, std::slice::from_ref(&s.path));
            self.infos.push(InputInfo {
                path: crate::escape::path(&s.path),
                kind: s.kind,
                read_as: "followed",
                bytes: 0,
                lines: 0,
                records: 0,
                skipped: 0,
                unfinished_line_bytes: 0,
                error: None,
            });
            self.acc.files.push(Default::default());
            let lines = Lines::new(s.kind, index, start.as_ref().map_or(0, |(_, p)| *p)).tracking();
            let head = start.map_or_else(Vec::new, |(h, _)| h);
            self.track(&s.path, file, id, lines, head);
        }
    }

    /// The kinds files' file globs: their logs are followed too.
    fn stems(&self) -> Vec<String> {
        match &self.opts.jsonl {
            JsonlOptions::User(u) => u.kinds.iter().map(|k| k.files.clone()).collect(),
            _ => Vec::new(),
        }
    }

    /// The inputs numbered from `from` on, named `paths`: which kinds
    /// file's kind each is, in the options every read of them shares
    /// (inputs are numbered as they are found, so the options are made
    /// again; once a file).
    fn note_kinds(&mut self, from: usize, paths: &[PathBuf]) {
        let JsonlOptions::User(u) = &self.opts.jsonl else {
            return;
        };
        let stems = self.stems();
        let mut u = u.clone();
        u.file_kind.resize(from, 0);
        for p in paths {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            u.file_kind
                .push(crate::input::user_kind_of(name, &stems).unwrap_or(0));
        }
        let mut o = (*self.opts).clone();
        o.jsonl = JsonlOptions::User(u);
        self.opts = Arc::new(o);
        self.acc.opts = self.opts.clone();
        if let Some(b) = &mut self.base {
            b.opts = self.opts.clone();
        }
    }

    fn track(&mut self, path: &Path, file: File, id: (u64, u64), lines: Lines, head: Vec<u8>) {
        let lines = lines.tracking();
        self.tracked.push(Tracked {
            index: lines.file(),
            path: path.to_path_buf(),
            kind: lines.kind(),
            file,
            id,
            lines,
            head,
        });
    }

    /// Where every followed file was read to, for a checkpoint saved with
    /// [`Follower::result`] taken at the same time.
    pub fn positions(&self) -> Positions {
        Positions {
            files: self
                .tracked
                .iter()
                .map(|t| {
                    let (offset, within) = t.lines.resume_point();
                    Position {
                        input: t.index,
                        dev: t.id.0,
                        ino: t.id.1,
                        head: b64(&t.head),
                        offset,
                        line: t.lines.newlines(),
                        within,
                    }
                })
                .collect(),
            truncated: self.truncated.iter().map(|(h, n)| (b64(h), *n)).collect(),
            retired: self.retired,
            truncations: self.truncations,
        }
    }

    /// Go on from a checkpoint: `base`, the figures saved (its inputs are
    /// the followed files' inputs), and `at`, where each file was read to
    /// when they were. Call before the first [`Follower::poll`]. Each file
    /// is looked for by its identity and first bytes, then, if it was
    /// renamed or compressed away meanwhile, by its first bytes alone
    /// (`max_decompressed` caps what a compressed file gives). Errors
    /// when the positions do not fit the figures.
    pub fn restore(
        &mut self,
        base: ReadResult,
        at: &Positions,
        max_decompressed: u64,
    ) -> Result<Restored, String> {
        let n = base.inputs.len();
        let bad = |what: &str| format!("the checkpoint's positions do not fit its figures: {what}");
        let mut heads = Vec::with_capacity(at.files.len());
        let mut seen = std::collections::BTreeSet::new();
        for p in &at.files {
            if p.input as usize >= n || !seen.insert(p.input) {
                return Err(bad("an input numbered twice or past the inputs"));
            }
            heads.push(unb64(&p.head).ok_or_else(|| bad("a file's first bytes"))?);
        }
        self.truncated = at
            .truncated
            .iter()
            .map(|(h, n)| unb64(h).map(|h| (h, *n)))
            .collect::<Option<_>>()
            .ok_or_else(|| bad("a truncated file's first bytes"))?;
        self.retired = at.retired;
        self.truncations = at.truncations;
        self.acc = Acc::with_options(self.cfg, self.opts.clone(), n);
        self.infos = base.inputs;
        for i in &mut self.infos {
            i.read_as = "followed";
        }
        self.base = Some(base.acc);
        let names: Vec<PathBuf> = self.infos.iter().map(|i| PathBuf::from(&i.path)).collect();
        self.note_kinds(0, &names);
        let found = crate::input::discover_with(&self.paths, None, false, &self.stems())
            .map(|f| f.sources)
            .unwrap_or_default();
        let found: Vec<_> = found
            .into_iter()
            .filter(|s| !s.stdin)
            .filter_map(|s| identity(&s.path).map(|id| (s, id)))
            .collect();
        let mut out = Restored::default();
        let mut left = Vec::new();
        // The same file, where it was or renamed: same identity, same
        // first bytes, no shorter than what was read.
        for (p, head) in at.files.iter().zip(heads) {
            let same = found
                .iter()
                .find(|(s, id)| *id == (p.dev, p.ino) && s.compression == Compression::None);
            let opened = same.and_then(|(s, id)| {
                let f = File::open(&s.path).ok()?;
                holds(&f, *id, p.offset, &head).then(|| (s.path.clone(), f, *id))
            });
            match opened {
                Some((path, f, id)) => {
                    let kind = self.infos[p.input as usize].kind;
                    let lines = Lines::resume(kind, p.input, p.offset, p.within, p.line);
                    self.track(&path, f, id, lines, head);
                    out.resumed += 1;
                }
                None => left.push((p, head)),
            }
        }
        // Renamed away meanwhile: a copy, or compressed.
        for (p, head) in left {
            let kind = self.infos[p.input as usize].kind;
            let lines = Lines::resume(kind, p.input, p.offset, p.within, p.line);
            if p.offset == 0 && p.within == Within::Start {
                // Nothing was read of it: if it is still here, the scan
                // finds it and reads it from its start.
                continue;
            }
            let copy = found.iter().find_map(|(s, id)| {
                if self.tracked.iter().any(|t| t.id == *id) || head.is_empty() {
                    return None;
                }
                let f = File::open(&s.path).ok()?;
                match s.compression {
                    Compression::None => {
                        holds(&f, *id, p.offset, &head).then(|| (s.path.clone(), Ok(f), *id))
                    }
                    how => {
                        let mut r = super::decompressing(f, how, max_decompressed).ok()?;
                        let mut now = vec![0u8; head.len()];
                        std::io::Read::read_exact(&mut r, &mut now).ok()?;
                        (now == head).then(|| (s.path.clone(), Err((r, now)), *id))
                    }
                }
            });
            match copy {
                Some((path, Ok(f), id)) => {
                    self.track(&path, f, id, lines, head);
                    out.copies += 1;
                }
                Some((_, Err((r, read)), _)) => {
                    self.read_rest(r, &read, lines);
                    out.compressed += 1;
                }
                None => out.lost.push(self.infos[p.input as usize].path.clone()),
            }
        }
        Ok(out)
    }

    /// Read a stream whose first bytes, `read`, were read already, from
    /// where `lines` starts to its end, then retire it.
    fn read_rest(&mut self, mut r: Box<dyn std::io::Read + Send>, read: &[u8], mut lines: Lines) {
        self.stamp();
        let at = read.len() as u64;
        if lines.pos() < at {
            // The offset falls inside the bytes compared (a line begun in
            // the file's first bytes): they are read on from there.
            let from = lines.pos() as usize;
            lines.push(&mut self.acc, &read[from..], u64::MAX);
        }
        let skip = lines.pos().saturating_sub(at);
        if std::io::copy(&mut std::io::Read::take(&mut r, skip), &mut std::io::sink()).ok()
            != Some(skip)
        {
            return;
        }
        loop {
            match r.read(&mut self.buf) {
                Ok(0) => break,
                Ok(k) => {
                    lines.push(&mut self.acc, &self.buf[..k], u64::MAX);
                    self.room.make(&mut self.acc);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let i = lines.file() as usize;
        self.infos[i].bytes = self.infos[i].bytes.max(lines.pos());
        lines.finish(&mut self.acc);
        let skips = std::mem::take(&mut lines.skips);
        self.note_skips(i as u32, skips);
        self.retired += 1;
    }

    /// Whether `file` is the copy of a file truncated in place: its head
    /// and how far it was read. A followed file whose first bytes changed
    /// is found truncated here first (the copy is often made, and seen,
    /// before the truncation is).
    fn copy_of(&mut self, file: &File) -> Option<(Vec<u8>, u64)> {
        for i in 0..self.tracked.len() {
            if !self.tracked[i].head.is_empty() && !self.same_start(i) {
                self.truncate(i);
            }
        }
        let mut head = [0u8; HEAD];
        let n = file.read_at(&mut head, 0).ok()?;
        let at = self.truncated.iter().position(|(h, pos)| {
            !h.is_empty() && n >= h.len() && head[..h.len()] == h[..] && *pos >= h.len() as u64
        })?;
        Some(self.truncated.remove(at))
    }

    /// Whether followed file `i` still starts with the bytes read at its
    /// start, and is no shorter than what was read.
    fn same_start(&self, i: usize) -> bool {
        let t = &self.tracked[i];
        let Ok(size) = t.file.metadata().map(|m| m.len()) else {
            return true;
        };
        let mut head = [0u8; HEAD];
        let now = &mut head[..t.head.len().min(size as usize)];
        size >= t.lines.pos()
            && t.file.read_at(now, 0).is_ok_and(|n| n == now.len())
            && *now == t.head[..]
    }

    /// Followed file `i` was truncated in place: remember what was read of
    /// it (for its copy), and read it again from its start.
    fn truncate(&mut self, i: usize) {
        self.truncations += 1;
        let t = &mut self.tracked[i];
        let was = (std::mem::take(&mut t.head), t.lines.pos());
        t.lines = Lines::new(t.kind, t.index, 0).tracking();
        self.truncated.push(was);
        if self.truncated.len() > 16 {
            self.truncated.remove(0);
        }
    }

    /// Read what file `i` gained since the last read.
    fn read_new(&mut self, i: usize) -> u64 {
        self.stamp();
        let t = &mut self.tracked[i];
        let Ok(size) = t.file.metadata().map(|m| m.len()) else {
            return 0;
        };
        if !self.same_start(i) {
            // Truncated (copytruncate): what is there now starts at 0. A
            // line left unfinished before is not a line.
            self.truncate(i);
        }
        let t = &mut self.tracked[i];
        let mut read = 0;
        while t.lines.pos() < size {
            let want = ((size - t.lines.pos()) as usize).min(self.buf.len());
            let n = match t.file.read_at(&mut self.buf[..want], t.lines.pos()) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if t.head.len() < HEAD && t.lines.pos() == t.head.len() as u64 {
                let k = n.min(HEAD - t.head.len());
                t.head.extend_from_slice(&self.buf[..k]);
            }
            t.lines.push(&mut self.acc, &self.buf[..n], u64::MAX);
            self.room.make(&mut self.acc);
            read += n as u64;
        }
        self.infos[t.index as usize].bytes = t.lines.pos();
        let skips = std::mem::take(&mut t.lines.skips);
        let index = t.index;
        self.note_skips(index, skips);
        read
    }

    /// Keep the line numbers of damaged lines the report may name: at
    /// most those of its examples once there are many.
    fn note_skips(&mut self, file: u32, skips: Vec<(u64, u64)>) {
        for (off, line) in skips {
            self.skip_lines.insert((file, off), line);
        }
        if self.skip_lines.len() > 4 * crate::agg::MAX_EXAMPLES {
            let keep: std::collections::HashSet<(u32, u64)> = self
                .acc
                .total
                .skipped
                .examples
                .iter()
                .chain(
                    self.acc
                        .buckets
                        .iter()
                        .flat_map(|(_, m)| m.skipped.examples.iter()),
                )
                .map(|&(f, o, _)| (f, o))
                .collect();
            self.skip_lines.retain(|k, _| keep.contains(k));
        }
    }

    /// The line number of each of `acc`'s examples of damaged lines (0
    /// where unknown). A checkpoint's examples carry theirs as offsets.
    fn example_lines(&self, acc: &Acc) -> Vec<u64> {
        let from_base: std::collections::HashSet<(u32, u64)> = self
            .base
            .iter()
            .flat_map(|b| b.total.skipped.examples.iter())
            .map(|&(f, o, _)| (f, o))
            .collect();
        acc.total
            .skipped
            .examples
            .iter()
            .map(|&(f, o, _)| match self.skip_lines.get(&(f, o)) {
                Some(&l) => l,
                None if from_base.contains(&(f, o)) => o,
                None => 0,
            })
            .collect()
    }

    /// A finished read of `acc`; with [`Follower::fold_when_short`], what
    /// the budget held back since the process began (the follower is its
    /// only reader).
    fn finished(&self, acc: Acc, infos: Vec<InputInfo>, lines: Vec<u64>) -> ReadResult {
        let mut r = ReadResult::new(acc, infos, lines);
        if self.room.on {
            r.held_back = crate::budget::held_back();
        }
        r
    }

    /// How many files are followed now.
    pub fn following(&self) -> usize {
        self.tracked.len()
    }

    /// The compressed logs under the paths (escaped for a message), which
    /// are not followed.
    pub fn compressed_beside(&self) -> Vec<String> {
        crate::input::discover_with(&self.paths, None, false, &self.stems())
            .map(|f| f.sources)
            .unwrap_or_default()
            .into_iter()
            .filter(|s| !s.stdin && s.compression != Compression::None)
            .map(|s| crate::escape::path(&s.path))
            .collect()
    }

    /// Sub-windows (buckets) kept for [`Follower::window`].
    pub fn buckets_kept(&self) -> usize {
        self.acc.buckets.len()
    }

    /// The figures so far, as a finished read: what a report is built from.
    /// The whole of it: sub-windows kept in buckets are folded in.
    pub fn result(&mut self) -> ReadResult {
        let mut acc = self.acc.whole();
        // The checkpoint's figures.
        if let Some(base) = &self.base {
            acc.merge(base);
            acc.total.finish();
        }
        let mut infos = self.infos.clone();
        super::count(&mut infos, &acc);
        let lines = self.example_lines(&acc);
        self.finished(acc, infos, lines)
    }

    /// The figures of the window `[since, until)` (on the bounds of the
    /// follower's buckets), as a read of the same files with that window
    /// counts them; or, when its records are not all in the kept buckets
    /// (read before a restart from a checkpoint, or folded out past the
    /// cap), the earliest `since` that can be answered.
    pub fn window(&self, since: i64, until: i64) -> Result<ReadResult, i64> {
        let width = self.cfg.bucket.map_or(60_000_000, |b| b.width_us());
        let next = |t: i64| t - t.rem_euclid(width) + width;
        // Records read before the restart are in the checkpoint's whole
        // figures only.
        let restart = self.base.as_ref().and_then(|b| b.newest).map(next);
        let earliest = restart.max(self.acc.folded_before());
        if let Some(e) = earliest.filter(|&e| since < e) {
            return Err(e);
        }
        let mut acc = self.acc.window_of(since, until);
        if let Some(base) = &self.base {
            // All of it before the window.
            acc.outside_window += base.files.iter().map(|f| f.records).sum::<u64>();
            acc.outside_skipped += base.total.skipped.total();
            for (a, b) in acc.files.iter_mut().zip(&base.files) {
                a.merge(b);
            }
            acc.newest = acc.newest.max(base.newest);
        }
        acc.finish();
        let mut infos = self.infos.clone();
        super::count(&mut infos, &acc);
        let lines = self.example_lines(&acc);
        Ok(self.finished(acc, infos, lines))
    }
}

fn identity(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agg::Mode;
    use std::io::Write;

    fn line(i: u64) -> String {
        format!(
            "{{\"timestamp\": \"2026-02-10T12:00:{:02}Z\", \"command_id\": \"c{i}\", \"total_ms\": {i}, \"steps\": {{}}, \"llm_enabled\": false}}\n",
            i % 60
        )
    }

    fn records(f: &mut Follower) -> u64 {
        f.result().acc.files.iter().map(|s| s.records).sum()
    }

    /// What `result` gave before the running whole: every kept bucket
    /// copied, the copy finished, its buckets folded into its total.
    fn copied_and_finished(f: &Follower) -> ReadResult {
        let mut acc = Acc::with_options(f.cfg, f.opts.clone(), f.infos.len());
        acc.merge(&f.acc);
        acc.finish();
        acc.cfg.bucket = None;
        acc.buckets.clear();
        acc.capped = Default::default();
        let mut infos = f.infos.clone();
        super::super::count(&mut infos, &acc);
        let lines = f.example_lines(&acc);
        ReadResult::new(acc, infos, lines)
    }

    /// The whole served at every poll (closed minutes folded once, the
    /// open ones merged) is the report the copy of every minute gives,
    /// byte for byte: with two files written in turn, records late by up
    /// to 8 minutes, damaged lines with and without a time, and a cap of
    /// 5 minutes that pushes the oldest out (and takes records older than
    /// every kept minute straight into the overflow); for odd seeds, minutes
    /// also folded out for memory ([`Acc::shed`]) between polls.
    #[test]
    fn the_running_whole_is_the_whole() {
        let ps = [50.0, 95.0, 99.0];
        let json =
            |r: &ReadResult| serde_json::to_string(&crate::report::Report::build(r, &ps)).unwrap();
        for seed in 0..40u64 {
            let d = tempfile::tempdir().unwrap();
            let mut cfg = Config::new(Mode::Hdr { sigfig: 3 }, 1 << 20);
            cfg.bucket = Some(crate::agg::Bucket::Minute);
            cfg.max_buckets = 5;
            let mut f = Follower::new(vec![d.path().to_path_buf()], cfg);
            let mut ws: Vec<std::fs::File> = ["pipeline_latency.jsonl", "pipeline_latency-b.jsonl"]
                .iter()
                .map(|n| std::fs::File::create(d.path().join(n)).unwrap())
                .collect();
            let mut x = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let mut rnd = |n: u64| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % n
            };
            let mut t = 1_770_724_800i64; // 2026-02-10T12:00:00Z
            let (mut compared, mut folded, mut shed) = (0, 0, 0);
            let mut written: Vec<i64> = Vec::new();
            for _ in 0..400 {
                let w = rnd(2) as usize;
                let line = match rnd(20) {
                    0 => "{\"timestamp\": \"2026-02-10T12:00:00Z\", \"total_ms\": \n".to_string(),
                    1 => "not json at all\n".to_string(),
                    k => {
                        let at = if k == 2 { t - rnd(480) as i64 } else { t };
                        written.push(at);
                        let when = jiff::Timestamp::from_second(at).unwrap();
                        format!(
                            "{{\"timestamp\": \"{when}\", \"command_id\": \"c\", \"total_ms\": {}, \"steps\": {{\"s{}\": {}}}, \"llm_enabled\": false}}\n",
                            rnd(5000) as f64 / 7.0,
                            rnd(3),
                            rnd(900),
                        )
                    }
                };
                ws[w].write_all(line.as_bytes()).unwrap();
                t += rnd(30) as i64;
                if rnd(8) == 0 {
                    f.poll();
                    if seed % 2 == 1 {
                        // Memory short (serve): up to 2 oldest minutes
                        // folded; late records for them follow them.
                        let mut k = rnd(3);
                        shed += f.acc.shed(|| {
                            k = k.saturating_sub(1);
                            k > 0
                        });
                    }
                    let want = json(&copied_and_finished(&f));
                    assert_eq!(json(&f.result()), want, "seed {seed}");
                    // From the oldest minute kept on, a window holds every
                    // record of its minutes: none went where it cannot see.
                    if let Some(from) = f.acc.folded_before() {
                        let r = f.window(from, i64::MAX).unwrap();
                        let doc =
                            serde_json::to_value(crate::report::Report::build(&r, &ps)).unwrap();
                        let n = doc["latency"]["all"]["total_ms"]["count"].as_u64();
                        let want = written.iter().filter(|&&a| a * 1_000_000 >= from).count();
                        assert_eq!(n.unwrap_or(0), want as u64, "seed {seed}");
                    }
                    compared += 1;
                    folded += f.acc.capped.records;
                }
            }
            assert!(
                compared > 10 && folded > 0 && (shed > 0) == (seed % 2 == 1),
                "seed {seed}: {compared} compared, {folded} folded, {shed} shed"
            );
        }
    }

    /// Fed in time order, with the cap folding the oldest minutes out, the
    /// running sum is built once: each later call folds the newly closed
    /// minutes into it and merges only the open ones (the work a call
    /// saves). Still the whole, byte for byte.
    #[test]
    fn in_order_the_running_whole_is_built_once() {
        let ps = [50.0, 95.0, 99.0];
        let json =
            |r: &ReadResult| serde_json::to_string(&crate::report::Report::build(r, &ps)).unwrap();
        let d = tempfile::tempdir().unwrap();
        let mut cfg = Config::new(Mode::Hdr { sigfig: 3 }, 1 << 20);
        cfg.bucket = Some(crate::agg::Bucket::Minute);
        cfg.max_buckets = 5;
        let mut f = Follower::new(vec![d.path().to_path_buf()], cfg);
        let mut w = std::fs::File::create(d.path().join("pipeline_latency.jsonl")).unwrap();
        for i in 0..600i64 {
            let when = jiff::Timestamp::from_second(1_770_724_800 + i * 7).unwrap();
            let line = format!(
                "{{\"timestamp\": \"{when}\", \"command_id\": \"c\", \"total_ms\": {}, \"steps\": {{}}, \"llm_enabled\": false}}\n",
                i % 97
            );
            w.write_all(line.as_bytes()).unwrap();
            if i % 10 == 9 {
                f.poll();
                let got = json(&f.result());
                if i % 50 == 49 {
                    assert_eq!(got, json(&copied_and_finished(&f)), "after {i}");
                }
            }
        }
        assert!(f.acc.capped.records > 0, "minutes were folded out");
        assert_eq!(f.acc.whole_rebuilds(), 1);
    }

    #[test]
    fn appends_rotation_and_truncation_are_each_read_once() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pipeline_latency.jsonl");
        let mut f = Follower::new(
            vec![d.path().to_path_buf()],
            Config::new(Mode::Exact, 1 << 20),
        );
        let mut w = std::fs::File::create(&p).unwrap();
        for i in 0..10 {
            w.write_all(line(i).as_bytes()).unwrap();
        }
        // Half a line: not counted until its newline comes.
        let next = line(10);
        w.write_all(&next.as_bytes()[..20]).unwrap();
        f.poll();
        assert_eq!(records(&mut f), 10);
        w.write_all(&next.as_bytes()[20..]).unwrap();
        f.poll();
        f.poll();
        assert_eq!(records(&mut f), 11);
        // Rotated by rename, more written to the old file before the
        // writer reopens, then a new file.
        std::fs::rename(&p, d.path().join("pipeline_latency.jsonl.1")).unwrap();
        w.write_all(line(11).as_bytes()).unwrap();
        let mut w2 = std::fs::File::create(&p).unwrap();
        w2.write_all(line(12).as_bytes()).unwrap();
        f.poll();
        assert_eq!(records(&mut f), 13, "the renamed file is the same file");
        assert_eq!(f.following(), 2);
        f.poll();
        assert_eq!(records(&mut f), 13);
        // copytruncate: the live file emptied and written again.
        w2.set_len(0).unwrap();
        let mut w2 = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        w2.write_all(line(13).as_bytes()).unwrap();
        f.poll();
        assert_eq!(f.truncations, 1);
        assert_eq!(records(&mut f), 14);
        // Deleted: read to its end, no longer followed.
        std::fs::remove_file(d.path().join("pipeline_latency.jsonl.1")).unwrap();
        f.poll();
        assert_eq!(f.following(), 1);
        assert_eq!(f.retired, 1);
        assert_eq!(records(&mut f), 14);
    }

    #[test]
    fn logrotate_copy_of_a_truncated_file_is_read_on_not_again() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pipeline_latency.jsonl");
        let mut f = Follower::new(
            vec![d.path().to_path_buf()],
            Config::new(Mode::Exact, 1 << 20),
        );
        let body: String = (0..10).map(line).collect();
        std::fs::write(&p, &body).unwrap();
        f.poll();
        assert_eq!(records(&mut f), 10);
        // Two more lines written before logrotate copies the file, then
        // the file emptied and written on.
        let more: String = (10..12).map(line).collect();
        std::fs::write(&p, format!("{body}{more}")).unwrap();
        std::fs::copy(&p, d.path().join("pipeline_latency.jsonl.1")).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(0)
            .unwrap();
        std::fs::write(&p, line(12)).unwrap();
        f.poll();
        f.poll();
        // Each line once: the 10 read, the 2 only the copy holds, the new one.
        assert_eq!(records(&mut f), 13);
        assert_eq!(f.truncations, 1);
        // A copy of a file that was not truncated is a file of its own, as
        // summarize counts it.
        std::fs::copy(&p, d.path().join("pipeline_latency-copy.jsonl")).unwrap();
        f.poll();
        assert_eq!(records(&mut f), 14);
    }

    /// A checkpoint taken with a line begun in the file's first bytes,
    /// the file then finished, rotated and compressed before the restart:
    /// the restart reads that line and the rest, once.
    #[test]
    fn a_restart_reads_a_file_compressed_meanwhile_from_inside_its_first_bytes() {
        use std::io::Write as _;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("pipeline_latency.jsonl");
        let cfg = Config::new(Mode::Exact, 1 << 20);
        let (one, two) = (line(1), line(2));
        assert!(one.len() + 40 < HEAD);
        std::fs::write(&p, format!("{one}{}", &two[..40])).unwrap();
        let mut f = Follower::new(vec![d.path().to_path_buf()], cfg);
        f.poll();
        assert_eq!(records(&mut f), 1);
        let (read, at) = (f.result(), f.positions());
        assert_eq!(at.files[0].offset, one.len() as u64);
        // Finished and written on, then rotated and compressed.
        let rest: String = (3..6).map(line).collect();
        std::fs::write(&p, format!("{one}{two}{rest}")).unwrap();
        let mut z = flate2::write::GzEncoder::new(
            std::fs::File::create(d.path().join("pipeline_latency.jsonl.1.gz")).unwrap(),
            flate2::Compression::default(),
        );
        z.write_all(&std::fs::read(&p).unwrap()).unwrap();
        z.finish().unwrap();
        std::fs::remove_file(&p).unwrap();
        let mut g = Follower::new(vec![d.path().to_path_buf()], cfg);
        let got = g.restore(read, &at, 1 << 30).unwrap();
        assert_eq!(got.compressed, 1, "{got:?}");
        g.poll();
        assert_eq!(records(&mut g), 5);
    }
}
