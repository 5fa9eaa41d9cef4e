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
//! Reads are positioned (`pread`), never mapped (see the module above).

use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::lines::Lines;
use super::{InputInfo, ReadResult};
use crate::agg::{Acc, Config};
use crate::input::Compression;
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

/// Bytes of a file's start compared at each read.
const HEAD: usize = 256;

/// Everything read from the followed files so far.
pub struct Follower {
    paths: Vec<PathBuf>,
    cfg: Config,
    opts: Arc<Options>,
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
    buf: Vec<u8>,
}

impl Follower {
    pub fn new(paths: Vec<PathBuf>, cfg: Config) -> Follower {
        let opts: Arc<Options> = Arc::default();
        Follower {
            paths,
            cfg,
            acc: Acc::with_options(cfg, opts.clone(), 0),
            opts,
            infos: Vec::new(),
            tracked: Vec::new(),
            retired: 0,
            truncations: 0,
            truncated: Vec::new(),
            buf: vec![0; CHUNK],
        }
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
        let found = crate::input::discover(&self.paths, None, false)
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
            self.tracked.push(Tracked {
                index,
                path: s.path.clone(),
                kind: s.kind,
                file,
                id,
                lines: Lines::new(s.kind, index, start.as_ref().map_or(0, |(_, p)| *p)),
                head: start.map_or_else(Vec::new, |(h, _)| h),
            });
        }
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
        t.lines = Lines::new(t.kind, t.index, 0);
        self.truncated.push(was);
        if self.truncated.len() > 16 {
            self.truncated.remove(0);
        }
    }

    /// Read what file `i` gained since the last read.
    fn read_new(&mut self, i: usize) -> u64 {
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
            read += n as u64;
        }
        self.infos[t.index as usize].bytes = t.lines.pos();
        read
    }

    /// How many files are followed now.
    pub fn following(&self) -> usize {
        self.tracked.len()
    }

    /// The figures so far, as a finished read: what a report is built from.
    pub fn result(&self) -> ReadResult {
        let mut acc = Acc::with_options(self.cfg, self.opts.clone(), self.infos.len());
        acc.merge(&self.acc);
        acc.finish();
        let mut infos = self.infos.clone();
        super::count(&mut infos, &acc);
        ReadResult::new(acc, infos, Vec::new())
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

    fn records(f: &Follower) -> u64 {
        f.result().acc.files.iter().map(|s| s.records).sum()
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
        assert_eq!(records(&f), 10);
        w.write_all(&next.as_bytes()[20..]).unwrap();
        f.poll();
        f.poll();
        assert_eq!(records(&f), 11);
        // Rotated by rename, more written to the old file before the
        // writer reopens, then a new file.
        std::fs::rename(&p, d.path().join("pipeline_latency.jsonl.1")).unwrap();
        w.write_all(line(11).as_bytes()).unwrap();
        let mut w2 = std::fs::File::create(&p).unwrap();
        w2.write_all(line(12).as_bytes()).unwrap();
        f.poll();
        assert_eq!(records(&f), 13, "the renamed file is the same file");
        assert_eq!(f.following(), 2);
        f.poll();
        assert_eq!(records(&f), 13);
        // copytruncate: the live file emptied and written again.
        w2.set_len(0).unwrap();
        let mut w2 = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        w2.write_all(line(13).as_bytes()).unwrap();
        f.poll();
        assert_eq!(f.truncations, 1);
        assert_eq!(records(&f), 14);
        // Deleted: read to its end, no longer followed.
        std::fs::remove_file(d.path().join("pipeline_latency.jsonl.1")).unwrap();
        f.poll();
        assert_eq!(f.following(), 1);
        assert_eq!(f.retired, 1);
        assert_eq!(records(&f), 14);
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
        assert_eq!(records(&f), 10);
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
        assert_eq!(records(&f), 13);
        assert_eq!(f.truncations, 1);
        // A copy of a file that was not truncated is a file of its own, as
        // summarize counts it.
        std::fs::copy(&p, d.path().join("pipeline_latency-copy.jsonl")).unwrap();
        f.poll();
        assert_eq!(records(&f), 14);
    }
}
