//! Sources -> tokens fed to accumulators.
//!
//! # How files are read, and why not with mmap
//!
//! Logs are read while the service writes them and while logrotate works
//! on them. A memory-mapped file that another process truncates
//! (`copytruncate`, `truncate -s 0`) raises SIGBUS on the next touch of a
//! lost page and kills the process (ripgrep documents the same risk for its
//! `--mmap`). Catching SIGBUS soundly is not possible from safe Rust, and
//! no check before mapping can rule out a truncation during the read. So
//! aggmetrics never maps a log: regular files are read with positioned
//! reads (`pread`), which return fewer bytes instead of a signal when the
//! file shrinks (and an I/O error, instead of SIGBUS). It costs the copy
//! out of the page cache: on the 2.1 GB benchmark about 8% more wall time
//! than the mapping it replaced (docs/performance.md); the resident memory
//! is a few MiB instead of the whole mapped file.
//!
//! - A regular file is read up to its size when it was opened: lines
//!   appended during the run are left to the next run, and the line that
//!   crosses that size is the unfinished last line ([`lines`]).
//! - It is cut into ranges of `chunk` bytes read in parallel; each range
//!   owns the tokens that start in it ([`lines::first_start`]) and reads
//!   past its end only to finish its last line. The tokens, and so the
//!   report, do not depend on the cuts or on the thread count.
//! - A read that comes back short (the file shrank), a size at the end
//!   below the size at open, or first 4 KiB that changed during the run
//!   (truncated and written again) mark the input as incomplete with a
//!   reason naming the truncation; what was read still counts.
//! - Compressed files, pipes, standard input and files that report size 0
//!   (`/proc`) are streamed through a fixed buffer, one worker each.
//! - A FIFO, device or socket found in a folder is not read (it may never
//!   end): it is listed with an error. Named on the command line it is
//!   streamed (`<(zcat old.gz)` is a pipe).

pub mod follow;
pub mod lines;

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use serde::Serialize;

use crate::agg::{Acc, Config};
use crate::error::{Error, Result};
use crate::input::{Compression, Source};
use crate::kinds::LogKind;
use lines::Lines;

/// Read size for streamed input.
const STREAM_BUF: usize = 1 << 20;

/// What was read from one source.
#[derive(Debug, Clone, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub kind: LogKind,
    pub read_as: &'static str,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub skipped: u64,
    /// Bytes of an unfinished last line (no newline, not a whole record):
    /// a file still being written. Neither counted nor damaged.
    pub unfinished_line_bytes: u64,
    /// Why this input could not be read to its end (the figures hold what
    /// was read before); `null` when it was.
    pub error: Option<String>,
}

/// Everything the read produced: the merged accumulator, per-input
/// figures, and `file:line` locations of the first skipped lines.
pub struct ReadResult {
    pub acc: Acc,
    pub inputs: Vec<InputInfo>,
    /// Line number (1-based) for each of `acc.total.skipped.examples`.
    pub example_lines: Vec<u64>,
    /// Added up from state files (`aggmetrics merge`) rather than read.
    pub merged: bool,
    /// Stretches of the window no merged state covers (microseconds,
    /// half-open).
    pub gaps: Vec<(i64, i64)>,
    /// Inputs that could not be used at all (a missing or corrupt state
    /// file): (path, why). The figures leave them out.
    pub unread: Vec<(String, String)>,
    /// Files found in a folder and not read: last modified before the
    /// window began, so they hold no record of it (path, modification
    /// time in microseconds).
    pub passed_over: Vec<(String, i64)>,
    /// Observations the memory budget kept out of new buckets, groups and
    /// keys while reading ([`crate::budget::held_back`]).
    pub held_back: u64,
}

enum Opened {
    /// A regular file and its size at open.
    Positioned(Arc<File>, u64),
    /// A stream and its size on disk (0 for standard input), for progress.
    Stream(Box<dyn Read + Send>, u64),
}

struct Task<R: ?Sized> {
    file: u32,
    kind: LogKind,
    handle: Arc<R>,
    start: u64,
    end: u64,
    size: u64,
}

/// A reader that fails once more than `left` bytes came through it: the
/// cap on what one compressed file may decompress to.
struct Capped<R> {
    inner: R,
    left: u64,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "decompresses to more than {} bytes (--max-decompressed-bytes); the records before that point were counted",
                self.cap
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Compression by a stream's first bytes, whatever the file is named:
/// gzip `1f 8b`, zstd `28 b5 2f fd`.
fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// A stream (standard input, a pipe) read through a buffer that shows its
/// first bytes, decompressed when they say gzip or zstd.
fn sniffed_stream(
    r: Box<dyn Read + Send>,
    on_disk: u64,
    max_decompressed: u64,
) -> std::io::Result<(Opened, &'static str)> {
    use std::io::BufRead as _;
    let mut b = std::io::BufReader::with_capacity(1 << 16, r);
    let how = sniff(b.fill_buf()?);
    decompressed(Box::new(b), how, on_disk, max_decompressed)
}

/// `r` through its decompressor, capped at `max_decompressed` (as it is,
/// when it is not compressed).
fn decompressed(
    r: Box<dyn Read + Send>,
    how: Compression,
    on_disk: u64,
    max_decompressed: u64,
) -> std::io::Result<(Opened, &'static str)> {
    let capped = |r: Box<dyn Read + Send>| {
        Opened::Stream(
            Box::new(Capped {
                inner: r,
                left: max_decompressed,
                cap: max_decompressed,
            }),
            on_disk,
        )
    };
    Ok(match how {
        // Several gzip members in one file (appended or concatenated
        // rotations) are read as one stream.
        Compression::Gzip => (
            capped(Box::new(flate2::read::MultiGzDecoder::new(
                std::io::BufReader::with_capacity(1 << 16, r),
            ))),
            "gzip",
        ),
        Compression::Zstd => (
            capped(Box::new(zstd::stream::read::Decoder::new(r)?)),
            "zstd",
        ),
        Compression::None => (Opened::Stream(r, on_disk), "stream"),
    })
}

/// A compressed file's content as a stream (at most `max_decompressed`
/// bytes of it): what a follower restarting from a checkpoint reads of a
/// file that was compressed while it was stopped.
pub(crate) fn decompressing(
    file: File,
    how: Compression,
    max_decompressed: u64,
) -> std::io::Result<Box<dyn Read + Send>> {
    match decompressed(Box::new(file), how, 0, max_decompressed)?.0 {
        Opened::Stream(r, _) => Ok(r),
        Opened::Positioned(..) => Err(std::io::Error::other("not a stream")),
    }
}

fn open(src: &Source, max_decompressed: u64) -> std::io::Result<(Opened, &'static str)> {
    if src.stdin {
        return sniffed_stream(Box::new(std::io::stdin()), 0, max_decompressed);
    }
    let special = |meta: &std::fs::Metadata| {
        std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            format!(
                "not read: {}, not a regular file (name it on the command line to read it as a stream)",
                file_type(meta)
            ),
        )
    };
    if !src.named {
        // Sockets cannot be opened at all; say what it is instead.
        let meta = std::fs::metadata(&src.path)?;
        if !meta.is_file() {
            return Err(special(&meta));
        }
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    if !src.named {
        // A FIFO found in a folder must not block the open: it is
        // refused below without being read.
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let f = opts.open(&src.path)?;
    let meta = f.metadata()?;
    if !meta.is_file() && !src.named {
        return Err(special(&meta));
    }
    if !meta.is_file() {
        // A pipe or device named on the command line: its first bytes say
        // whether it is compressed.
        return sniffed_stream(Box::new(f), meta.len(), max_decompressed);
    }
    // Compressed files are streamed (their positions are not the text's),
    // known by their first bytes: a `.log` that is gzip is read as gzip,
    // a `.gz` that is plain text as text.
    let mut head = [0u8; 4];
    let got = read_full_at(&f, &mut head, 0)?;
    let how = sniff(&head[..got]);
    if how != Compression::None {
        return decompressed(Box::new(f), how, meta.len(), max_decompressed);
    }
    if meta.len() == 0 {
        // Files whose size says nothing (`/proc`).
        return Ok((Opened::Stream(Box::new(f), meta.len()), "stream"));
    }
    Ok((Opened::Positioned(Arc::new(f), meta.len()), "read"))
}

fn file_type(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// How reads are done: the thread count, the decompression cap, and the
/// sizes the parallel reader cuts files into (small values in tests put
/// range edges everywhere).
#[derive(Debug, Clone)]
pub struct Reader {
    pub threads: usize,
    pub max_decompressed: u64,
    /// Bytes per parallel range of a regular file.
    pub chunk: u64,
    /// Bytes per read inside a range.
    pub piece: usize,
    /// Inputs open at once; `None`: as many as the descriptors left allow.
    pub max_open: Option<usize>,
    /// What the kinds read besides the lines (a golden dataset, the spec
    /// of any JSONL log), shared by every worker.
    pub options: Arc<crate::kinds::Options>,
}

impl Reader {
    pub fn new(threads: usize, max_decompressed: u64) -> Reader {
        Reader {
            threads,
            max_decompressed,
            // 4 MiB ranges keep both cores busy to the end of a file;
            // 64 KiB reads stay in L2 while they are parsed (measured:
            // 32, 64, 128, 256 KiB, 1 and 4 MiB; 64 was fastest).
            chunk: 4 << 20,
            piece: 64 << 10,
            max_open: None,
            options: Default::default(),
        }
    }

    /// The kinds read with `options` (see [`crate::kinds::Kind::Options`]).
    pub fn with_options(mut self, options: crate::kinds::Options) -> Reader {
        self.options = Arc::new(options);
        self
    }
}

/// Something read by position: a file, or bytes in memory (tests, the
/// fuzzer).
pub trait ReadAt {
    fn read_at(&self, buf: &mut [u8], off: u64) -> std::io::Result<usize>;
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
        FileExt::read_at(self, buf, off)
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
        let from = (off as usize).min(self.len());
        let n = buf.len().min(self.len() - from);
        buf[..n].copy_from_slice(&self[from..from + n]);
        Ok(n)
    }
}

/// Read `buf.len()` bytes at `off`, fewer only at the end of the file.
fn read_full_at<R: ReadAt + ?Sized>(f: &R, buf: &mut [u8], off: u64) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match f.read_at(&mut buf[got..], off + got as u64) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// How many first bytes of a file are read again at the end of the run.
const HEAD: u64 = 4096;

/// Whether a file read from `size` bytes at open changed under the run in
/// a way that makes its figures unsure: it is smaller now, or its first
/// bytes differ from `head` (truncated and written again; a writer going
/// on at its old offset leaves zeros there).
fn changed(f: &File, size: u64, head: &[u8]) -> Option<String> {
    let now = f.metadata().map(|m| m.len()).unwrap_or(0);
    if now < size {
        return Some(format!(
            "truncated during the run (from {size} to {now} bytes; copytruncate or truncate -s 0?); the figures may miss records"
        ));
    }
    let mut again = vec![0; head.len()];
    let same = read_full_at(f, &mut again, 0).is_ok_and(|k| k == head.len()) && again == head;
    (!same).then(|| {
        "truncated and written again during the run (its first bytes changed; copytruncate?); the figures may mix old and new records".to_string()
    })
}

/// A regular file being read: the open file, its size at open, and its
/// first bytes (to tell at the end whether it was truncated and written
/// again meanwhile).
type Handle = (Arc<File>, u64, Vec<u8>);

/// Why a range could not be read to its end.
/// Why a range of a file could not be read to its end (what was read
/// before still counts). Kept as text in the input's `error`.
#[derive(Debug, thiserror::Error)]
enum RangeError {
    #[error("read failed at byte {pos}: {err}; the records read before were counted")]
    Failed { pos: u64, err: std::io::Error },
    #[error("truncated while being read (it had {size} bytes when opened; copytruncate or truncate -s 0?); the records read before were counted")]
    Shrank { size: u64 },
}

/// A file of `size` bytes cut into ranges of `chunk` bytes (`chunk > 0`).
fn ranges<R: ?Sized>(
    file: u32,
    kind: LogKind,
    handle: &Arc<R>,
    size: u64,
    chunk: u64,
) -> impl Iterator<Item = Task<R>> + '_ {
    (0..size.div_ceil(chunk)).map(move |k| Task {
        file,
        kind,
        handle: Arc::clone(handle),
        start: k * chunk,
        end: size.min((k + 1) * chunk),
        size,
    })
}

/// Read one range of a regular file: find the first token that starts in
/// it, feed tokens until the next would start at or after its end, and
/// read on past the end only to finish the last one.
fn run_task<R: ReadAt + ?Sized>(
    acc: &mut Acc,
    t: &Task<R>,
    buf: &mut Vec<u8>,
    piece: usize,
) -> std::result::Result<(), RangeError> {
    if buf.len() < piece {
        buf.resize(piece, 0);
    }
    let (a, b, size) = (t.start, t.end, t.size);
    // From the byte before the range: it says whether a token starts at a.
    let mut pos = a.saturating_sub(1);
    let mut prev: Option<u8> = (a == 0).then_some(b'\n');
    let mut lines: Option<Lines> = None;
    // Reads past the end of the range finish one line: start small.
    let mut past = 8 << 10;
    loop {
        match &lines {
            Some(l) if l.done(b) => return Ok(()),
            None if pos >= b => return Ok(()),
            _ => {}
        }
        if pos >= size {
            if let Some(l) = &mut lines {
                l.finish(acc);
            }
            return Ok(());
        }
        let mut want = piece.min((size - pos) as usize);
        if pos < b {
            want = want.min((b - pos) as usize);
        } else {
            want = want.min(past);
            past = (past * 2).min(piece);
        }
        let got = read_full_at(&*t.handle, &mut buf[..want], pos)
            .map_err(|err| RangeError::Failed { pos, err })?;
        if got < want {
            return Err(RangeError::Shrank { size });
        }
        let data = &buf[..got];
        match &mut lines {
            Some(l) => {
                l.push(acc, data, b);
            }
            None => {
                let (p, rest, rest_at) = match prev {
                    Some(p) => (p, data, pos),
                    None => (data[0], &data[1..], pos + 1),
                };
                match lines::first_start(p, rest) {
                    Some(k) => {
                        let s = rest_at + k as u64;
                        if s >= b {
                            return Ok(());
                        }
                        let mut l = Lines::new(t.kind, t.file, s);
                        l.push(acc, &rest[k..], b);
                        lines = Some(l);
                    }
                    None => prev = Some(rest.last().copied().unwrap_or(p)),
                }
            }
        }
        pos += got as u64;
    }
}

impl Reader {
    /// Read every source into one merged accumulator. A source that
    /// cannot be opened or read to its end is a per-input error
    /// (`InputInfo::error`): what was read before still counts, and the
    /// other inputs are read.
    pub fn read(&self, sources: &[Source], cfg: Config) -> Result<ReadResult> {
        self.read_with(sources, cfg, &|_| {})
    }

    /// [`Reader::read`], calling `progress` with the bytes of each range
    /// read (a stream's when it is done, by its size on disk).
    pub fn read_with(
        &self,
        sources: &[Source],
        cfg: Config,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ReadResult> {
        let held_before = crate::budget::held_back();
        let n = sources.len();
        let piece = self.piece.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.threads.max(1))
            .build()
            .map_err(|e| Error::Usage(format!("cannot start {} threads: {e}", self.threads)))?;
        // Each open input holds one descriptor until its batch is read: the
        // inputs are read in batches that fit the descriptors left, so none
        // is left out for lack of them (10,000 files under `ulimit -n 1024`).
        let batch = self.max_open.unwrap_or_else(open_files_left).max(1);
        let mut acc = Acc::with_options(cfg, self.options.clone(), n);
        let mut infos = Vec::with_capacity(n);
        let mut handles: Vec<Option<Handle>> = Vec::with_capacity(n);
        let mut stream_lines = std::collections::HashMap::new();
        for from in (0..n).step_by(batch) {
            let to = (from + batch).min(n);
            let mut opened = self.open_all(sources, from..to);
            let (a, errors) = read_ranges(
                &pool,
                &opened.tasks,
                (cfg, &self.options),
                n,
                piece,
                progress,
            );
            acc.merge(&a);
            // Streams (compressed files, pipes) one per worker, each into
            // its own accumulator, merged in input order.
            let streamed: Vec<_> = pool.install(|| {
                std::mem::take(&mut opened.streams)
                    .into_par_iter()
                    .map(|(file, kind, mut r, on_disk)| {
                        let mut a = Acc::with_options(cfg, self.options.clone(), n);
                        let (bytes, err, skips) = stream(&mut a, file, kind, &mut *r);
                        progress(on_disk);
                        (file, a, bytes, err, skips)
                    })
                    .collect()
            });
            for (file, a, bytes, err, skips) in streamed {
                acc.merge(&a);
                for (off, line) in skips {
                    stream_lines.insert((file, off), line);
                }
                let info = &mut opened.infos[file as usize - from];
                info.bytes = bytes;
                if let Some(e) = err {
                    info.error = Some(format!("read stopped after {bytes} bytes: {e}"));
                }
            }
            settle(&mut opened.infos, &opened.handles, &errors[from..to]);
            drop(opened.tasks);
            infos.append(&mut opened.infos);
            // The last batch keeps its files open for the examples' line
            // numbers; earlier ones are closed (and opened again if needed).
            let keep = to == n;
            handles.extend(opened.handles.into_iter().map(|h| h.filter(|_| keep)));
        }
        acc.finish();
        count(&mut infos, &acc);
        let example_lines = example_lines(&acc, sources, &infos, &handles, &stream_lines, piece);
        let mut r = ReadResult::new(acc, infos, example_lines);
        r.held_back = crate::budget::held_back() - held_before;
        Ok(r)
    }

    /// Open every source: regular files are cut into ranges (tasks) and
    /// keep their handle, size and first bytes; the rest are streams. An
    /// input that cannot be opened gets its error here.
    fn open_all(&self, sources: &[Source], which: std::ops::Range<usize>) -> OpenedAll {
        let from = which.start;
        let chunk = self.chunk.max(1);
        let mut out = OpenedAll {
            tasks: Vec::new(),
            streams: Vec::new(),
            handles: vec![None; which.len()],
            infos: Vec::with_capacity(which.len()),
        };
        for (i, src) in sources.iter().enumerate().take(which.end).skip(from) {
            let mut bytes = 0;
            let mut error = None;
            let mut how = "none";
            match open(src, self.max_decompressed) {
                Ok((Opened::Positioned(f, size), h)) => {
                    how = h;
                    bytes = size;
                    out.tasks
                        .extend(ranges(i as u32, src.kind, &f, size, chunk));
                    // The first bytes, to tell at the end whether the file
                    // was truncated and written again meanwhile.
                    let mut head = vec![0; size.min(HEAD) as usize];
                    let head_ok = read_full_at(&*f, &mut head, 0).is_ok_and(|k| k == head.len());
                    if !head_ok {
                        error = Some(RangeError::Shrank { size }.to_string());
                    }
                    out.handles[i - from] = Some((f, size, head));
                }
                Ok((Opened::Stream(r, on_disk), h)) => {
                    how = h;
                    out.streams.push((i as u32, src.kind, r, on_disk));
                }
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    error = Some(e.to_string())
                }
                Err(e) => error = Some(format!("cannot open: {e}")),
            }
            out.infos.push(InputInfo {
                path: crate::escape::path(&src.path),
                kind: src.kind,
                read_as: how,
                bytes,
                lines: 0,
                records: 0,
                skipped: 0,
                unfinished_line_bytes: 0,
                error,
            });
        }
        out
    }
}

/// How many more files this process may open, less a margin for what the
/// run opens besides its inputs (the output, its lock, the thread pool):
/// the soft `RLIMIT_NOFILE` less the descriptors open now.
fn open_files_left() -> usize {
    // SAFETY: getrlimit fills the struct we own.
    let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
    let soft = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        usize::try_from(lim.rlim_cur).unwrap_or(usize::MAX)
    } else {
        1024
    };
    let open = std::fs::read_dir("/proc/self/fd").map_or(16, |d| d.count());
    soft.saturating_sub(open).saturating_sub(32).max(8)
}

/// Raise the soft limit on open files to the hard one (as far as 1 << 20):
/// a folder of thousands of rotated files is then read in few batches.
pub fn raise_open_files_limit() {
    // SAFETY: getrlimit/setrlimit read and write a struct we own.
    unsafe {
        let mut lim: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            let want = lim.rlim_max.min(1 << 20);
            if lim.rlim_cur < want {
                lim.rlim_cur = want;
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
            }
        }
    }
}

/// A batch of sources opened: the ranges of regular files, the streams,
/// each regular file's handle, and what is known of each input so far
/// (`handles` and `infos` from the batch's first input).
struct OpenedAll {
    tasks: Vec<Task<File>>,
    streams: Vec<(u32, LogKind, Box<dyn Read + Send>, u64)>,
    handles: Vec<Option<Handle>>,
    infos: Vec<InputInfo>,
}

/// Read every range on the pool, each worker into its own accumulator,
/// merged; the first error of each input.
fn read_ranges(
    pool: &rayon::ThreadPool,
    tasks: &[Task<File>],
    (cfg, opts): (Config, &Arc<crate::kinds::Options>),
    n: usize,
    piece: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> (Acc, Vec<Option<String>>) {
    let errors: Mutex<Vec<Option<String>>> = Mutex::new(vec![None; n]);
    thread_local! {
        static BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let acc = pool.install(|| {
        tasks
            .par_iter()
            .fold(
                || Acc::with_options(cfg, opts.clone(), n),
                |mut acc, t| {
                    let r = BUF.with(|b| run_task(&mut acc, t, &mut b.borrow_mut(), piece));
                    if let Err(e) = r {
                        let mut errs = errors.lock().unwrap_or_else(|p| p.into_inner());
                        errs[t.file as usize].get_or_insert(e.to_string());
                    }
                    progress(t.end - t.start);
                    acc
                },
            )
            .reduce_with(|mut a, b| {
                a.merge(&b);
                a
            })
            .unwrap_or_else(|| Acc::with_options(cfg, opts.clone(), n))
    });
    (acc, errors.into_inner().unwrap_or_else(|p| p.into_inner()))
}

/// A batch's inputs after their read: their read errors, and a file that
/// shrank or was written again during the run.
fn settle(infos: &mut [InputInfo], handles: &[Option<Handle>], errors: &[Option<String>]) {
    for (info, e) in infos.iter_mut().zip(errors) {
        if let Some(e) = e {
            info.error.get_or_insert(e.clone());
        }
    }
    // A file that shrank after its ranges were read, or whose first
    // bytes changed (truncated, then written again past where the
    // reads looked), may have been read partly before and partly
    // after the truncation.
    for (info, h) in infos.iter_mut().zip(handles) {
        if let Some((f, size, head)) = h {
            if info.error.is_none() {
                info.error = changed(f, *size, head);
            }
        }
    }
}

/// Each input's counts, from the merged accumulator.
pub(crate) fn count(infos: &mut [InputInfo], acc: &Acc) {
    for (info, st) in infos.iter_mut().zip(acc.files.iter()) {
        info.lines = st.lines;
        info.records = st.records;
        info.skipped = st.skipped;
        info.unfinished_line_bytes = st.unfinished;
    }
}

/// Line numbers of the skipped-line examples. Streams noted them while
/// they were read; regular files are read again up to the last example
/// (only when something was skipped), counting newlines.
fn example_lines(
    acc: &Acc,
    sources: &[Source],
    infos: &[InputInfo],
    handles: &[Option<Handle>],
    stream_lines: &std::collections::HashMap<(u32, u64), u64>,
    piece: usize,
) -> Vec<u64> {
    let mut buf = Vec::new();
    // Examples are sorted by (input, offset): count on from the previous
    // example of the same input.
    let mut counted: Option<(u32, u64, u64)> = None; // (input, offset, newlines before it)
                                                     // A file of an earlier batch, closed since, opened again.
    let mut again: Option<(u32, Option<File>)> = None;
    let mut lines = Vec::with_capacity(acc.total.skipped.examples.len());
    for &(file, off, _) in &acc.total.skipped.examples {
        let i = file as usize;
        let h: Option<(&File, u64)> = match &handles[i] {
            Some((f, size, _)) => Some((&**f, *size)),
            None if infos[i].read_as == "read" => {
                if again.as_ref().is_none_or(|(j, _)| *j != file) {
                    again = Some((file, File::open(&sources[i].path).ok()));
                }
                again
                    .as_ref()
                    .and_then(|(_, f)| f.as_ref())
                    .map(|f| (f, infos[i].bytes))
            }
            None => None,
        };
        let line = match h {
            Some((f, size)) => {
                let upto = off.min(size);
                let (mut from, mut nl) = match counted {
                    Some((c, o, k)) if c == file && o <= upto => (o, k),
                    _ => (0, 0),
                };
                buf.resize(piece.max(64 << 10), 0);
                let mut known = true;
                while from < upto {
                    let want = buf.len().min((upto - from) as usize);
                    match read_full_at(f, &mut buf[..want], from) {
                        Ok(k) if k > 0 => {
                            nl += memchr::memchr_iter(b'\n', &buf[..k]).count() as u64;
                            from += k as u64;
                        }
                        // The file shrank since: the line is unknown.
                        _ => {
                            known = false;
                            break;
                        }
                    }
                }
                if known {
                    counted = Some((file, upto, nl));
                    nl + 1
                } else {
                    0
                }
            }
            None => stream_lines.get(&(file, off)).copied().unwrap_or(0),
        };
        lines.push(line);
    }
    lines
}

/// Read bytes held in memory the way a regular file is read: cut into
/// ranges of `chunk` bytes, each read `piece` bytes at a time, in order on
/// this thread. Tests and the fuzzer hold it to [`lines::feed`].
pub fn feed_ranges(
    acc: &mut Acc,
    kind: LogKind,
    file: u32,
    data: Arc<[u8]>,
    chunk: u64,
    piece: usize,
) {
    let mut buf = Vec::new();
    for t in ranges(file, kind, &data, data.len() as u64, chunk.max(1)) {
        // Memory does not shrink: the reads cannot fail.
        let _ = run_task(acc, &t, &mut buf, piece.max(1));
    }
}

/// Stream one source through a fixed buffer. Returns the bytes read, the
/// error that stopped the read early, if any, and the line numbers of the
/// first skipped lines. Whether it ended or broke off, the last line
/// without a newline is judged by [`Lines::finish`].
fn stream(
    acc: &mut Acc,
    file: u32,
    kind: LogKind,
    r: &mut dyn Read,
) -> (u64, Option<std::io::Error>, Vec<(u64, u64)>) {
    let mut lines = Lines::new(kind, file, 0).tracking();
    let mut chunk = vec![0u8; STREAM_BUF];
    let mut err = None;
    loop {
        match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(k) => {
                lines.push(acc, &chunk[..k], u64::MAX);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    lines.finish(acc);
    (lines.pos(), err, std::mem::take(&mut lines.skips))
}

impl ReadResult {
    /// What a read produced (not a merge of states: no gaps, nothing
    /// unread).
    pub fn new(acc: Acc, inputs: Vec<InputInfo>, example_lines: Vec<u64>) -> ReadResult {
        ReadResult {
            acc,
            inputs,
            example_lines,
            merged: false,
            gaps: Vec::new(),
            unread: Vec::new(),
            passed_over: Vec::new(),
            held_back: 0,
        }
    }

    /// The result of inputs held in memory (tests, the fuzzer): one per
    /// `(kind, bytes)`, named `input0`, `input1`, ...; example line numbers
    /// unknown (0). Calls [`Acc::finish`].
    pub fn of_memory(mut acc: Acc, inputs: &[(LogKind, u64)]) -> ReadResult {
        acc.finish();
        let inputs = inputs
            .iter()
            .enumerate()
            .map(|(i, &(kind, bytes))| {
                let st = acc.files.get(i).copied().unwrap_or_default();
                InputInfo {
                    path: format!("input{i}"),
                    kind,
                    read_as: "memory",
                    bytes,
                    lines: st.lines,
                    records: st.records,
                    skipped: st.skipped,
                    unfinished_line_bytes: st.unfinished,
                    error: None,
                }
            })
            .collect();
        let example_lines = vec![0; acc.total.skipped.examples.len()];
        ReadResult::new(acc, inputs, example_lines)
    }
}
