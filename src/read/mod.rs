//! Sources -> newline-aligned blocks fed to accumulators.
//!
//! Regular files are memory-mapped and split into newline-aligned chunks
//! that rayon workers parse in parallel, each into its own accumulator;
//! the accumulators are merged at the end. Standard input, FIFOs and other
//! non-regular files are streamed through a fixed buffer.
//!
//! The mmap risk, as ripgrep documents it: if a mapped file is truncated
//! while it is being read (logrotate's `copytruncate`), touching the lost
//! pages raises SIGBUS and kills the process. Issue 5 (docs/reliability.md)
//! owns the strategy for live files; until then, avoid running over a file
//! that is being truncated at that moment.

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};
use rayon::prelude::*;
use serde::Serialize;

use crate::agg::{Acc, Config};
use crate::error::{Error, Result};
use crate::input::{Compression, Source};
use crate::parse::LogKind;

/// Target size of one parallel chunk.
const CHUNK: usize = 4 << 20;
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
    /// Why this input could not be read to its end (the figures hold what
    /// was read before); `null` when it was.
    pub error: Option<String>,
}

/// Everything the read produced: the merged accumulator, per-input
/// figures, and `file:line` locations of the first skipped lines.
pub struct ReadResult {
    pub acc: Acc,
    pub inputs: Vec<InputInfo>,
    /// Line number (1-based) for each of `acc.skipped.examples`.
    pub example_lines: Vec<u64>,
}

enum Opened {
    Mapped(Arc<Mmap>),
    Empty,
    Stream(Box<dyn Read + Send>),
}

struct Task {
    file: u32,
    kind: LogKind,
    map: Arc<Mmap>,
    start: usize,
    end: usize,
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

fn open(src: &Source, max_decompressed: u64) -> std::io::Result<(Opened, &'static str)> {
    if src.stdin {
        return Ok((Opened::Stream(Box::new(std::io::stdin())), "stream"));
    }
    let f = File::open(&src.path)?;
    let capped = |r: Box<dyn Read + Send>| {
        Opened::Stream(Box::new(Capped {
            inner: r,
            left: max_decompressed,
            cap: max_decompressed,
        }))
    };
    // Compressed files are streamed, never mapped.
    match src.compression {
        Compression::Gzip => {
            // Several gzip members in one file (appended or concatenated
            // rotations) are read as one stream.
            let d =
                flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 16, f));
            return Ok((capped(Box::new(d)), "gzip"));
        }
        Compression::Zstd => {
            let d = zstd::stream::read::Decoder::new(f)?;
            return Ok((capped(Box::new(d)), "zstd"));
        }
        Compression::None => {}
    }
    let meta = f.metadata()?;
    if !meta.is_file() {
        return Ok((Opened::Stream(Box::new(f)), "stream"));
    }
    if meta.len() == 0 {
        return Ok((Opened::Empty, "mmap"));
    }
    // SAFETY: the map is read-only and private to this process. Another
    // process truncating the file while it is mapped makes later reads of
    // the lost pages raise SIGBUS (see the module docs); nothing here
    // assumes the bytes stay constant, only that they are readable.
    let map = unsafe { MmapOptions::new().map(&f) }?;
    // No madvise: MADV_SEQUENTIAL and a per-chunk MADV_POPULATE_READ
    // were measured on the 2.1 GB benchmark (5 alternating runs each) and
    // neither beat plain faulting; MADV_SEQUENTIAL may also let the kernel
    // drop the logs from the page cache, which hurts the next cron run.
    Ok((Opened::Mapped(Arc::new(map)), "mmap"))
}

/// Split a mapped file into chunks that end just after a newline (or at
/// the end of the file).
fn chunks(file: u32, kind: LogKind, map: &Arc<Mmap>, out: &mut Vec<Task>) {
    let len = map.len();
    let mut start = 0;
    while start < len {
        let mut end = (start + CHUNK).min(len);
        if end < len {
            end = match memchr::memchr(b'\n', &map[end..]) {
                Some(i) => end + i + 1,
                None => len,
            };
        }
        out.push(Task {
            file,
            kind,
            map: Arc::clone(map),
            start,
            end,
        });
        start = end;
    }
}

/// Read every source into one merged accumulator, on `threads` threads.
/// A source that cannot be opened or read to its end is a per-input error
/// (`InputInfo::error`): what was read before still counts, and the other
/// inputs are read.
pub fn read_all(
    sources: &[Source],
    cfg: Config,
    threads: usize,
    max_decompressed: u64,
) -> Result<ReadResult> {
    read_all_with(
        sources,
        cfg,
        threads,
        max_decompressed,
        &indicatif::ProgressBar::hidden(),
    )
}

/// [`read_all`], advancing `progress` by the bytes of each input read
/// (mapped files chunk by chunk; a stream when it is done, by its size on
/// disk).
pub fn read_all_with(
    sources: &[Source],
    cfg: Config,
    threads: usize,
    max_decompressed: u64,
    progress: &indicatif::ProgressBar,
) -> Result<ReadResult> {
    let n = sources.len();
    let mut tasks = Vec::new();
    let mut streams = Vec::new();
    let mut maps: Vec<Option<Arc<Mmap>>> = vec![None; n];
    let mut infos = Vec::with_capacity(n);
    for (i, src) in sources.iter().enumerate() {
        let mut bytes = 0;
        let mut error = None;
        let mut how = "none";
        match open(src, max_decompressed) {
            Ok((Opened::Mapped(m), h)) => {
                how = h;
                bytes = m.len() as u64;
                chunks(i as u32, src.kind, &m, &mut tasks);
                maps[i] = Some(m);
            }
            Ok((Opened::Empty, h)) => how = h,
            Ok((Opened::Stream(r), h)) => {
                how = h;
                streams.push((i as u32, src.kind, r));
            }
            Err(e) => error = Some(format!("cannot open: {e}")),
        }
        infos.push(InputInfo {
            path: src.path.display().to_string(),
            kind: src.kind,
            read_as: how,
            bytes,
            lines: 0,
            records: 0,
            skipped: 0,
            error,
        });
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| Error::Usage(format!("cannot start {threads} threads: {e}")))?;

    let mut stream_lines = std::collections::HashMap::new();
    let mut acc = pool.install(|| {
        tasks
            .par_iter()
            .fold(
                || Acc::new(cfg, n),
                |mut acc, t| {
                    acc.feed_block(t.kind, t.file, t.start as u64, &t.map[t.start..t.end]);
                    progress.inc((t.end - t.start) as u64);
                    acc
                },
            )
            .reduce_with(|mut a, b| {
                a.merge(&b);
                a
            })
            .unwrap_or_else(|| Acc::new(cfg, n))
    });

    // Streams (compressed files, pipes) one per worker, each into its own
    // accumulator, merged in input order.
    let streamed: Vec<_> = pool.install(|| {
        streams
            .into_par_iter()
            .map(|(file, kind, mut r)| {
                let mut a = Acc::new(cfg, n);
                let mut lines = std::collections::HashMap::new();
                let (bytes, err) = stream(&mut a, file, kind, &mut *r, &mut lines);
                if !progress.is_hidden() {
                    let path = &sources[file as usize].path;
                    progress.inc(std::fs::metadata(path).map_or(0, |m| m.len()));
                }
                (file, a, lines, bytes, err)
            })
            .collect()
    });
    for (file, a, lines, bytes, err) in streamed {
        acc.merge(&a);
        stream_lines.extend(lines);
        let info = &mut infos[file as usize];
        info.bytes = bytes;
        if let Some(e) = err {
            info.error = Some(format!("read stopped after {bytes} bytes: {e}"));
        }
    }
    acc.finish();

    for (info, st) in infos.iter_mut().zip(acc.files.iter()) {
        info.lines = st.lines;
        info.records = st.records;
        info.skipped = st.skipped;
    }
    // Examples are sorted by (input, offset): count newlines onwards from
    // the previous example of the same mapped input, one pass per input.
    let mut counted: Option<(u32, usize, u64)> = None; // (input, offset, newlines before it)
    let example_lines = acc
        .skipped
        .examples
        .iter()
        .map(|&(file, off, _)| match &maps[file as usize] {
            Some(m) => {
                let upto = (off as usize).min(m.len());
                let (from, before) = match counted {
                    Some((f, o, n)) if f == file && o <= upto => (o, n),
                    _ => (0, 0),
                };
                let n = before + memchr::memchr_iter(b'\n', &m[from..upto]).count() as u64;
                counted = Some((file, upto, n));
                n + 1
            }
            None => stream_lines.get(&(file, off)).copied().unwrap_or(0),
        })
        .collect();
    Ok(ReadResult {
        acc,
        inputs: infos,
        example_lines,
    })
}

/// Stream one non-seekable source through a fixed buffer. A line longer
/// than `max_line_bytes` is counted once as too long and discarded up to
/// its newline, so memory stays bounded whatever the input. Returns the
/// bytes read and the error that stopped the read early, if any (then an
/// unfinished last line is dropped, not counted as damaged).
fn stream(
    acc: &mut Acc,
    file: u32,
    kind: LogKind,
    r: &mut dyn Read,
    lines_at: &mut std::collections::HashMap<(u32, u64), u64>,
) -> (u64, Option<std::io::Error>) {
    let max = acc.cfg.max_line_bytes;
    let mut buf: Vec<u8> = Vec::with_capacity(STREAM_BUF);
    let mut base: u64 = 0; // offset of buf[0] in the input
    let mut total: u64 = 0;
    let mut line_no: u64 = 0; // lines before buf[0]
    let mut discarding = false;
    let mut chunk = vec![0u8; STREAM_BUF];
    loop {
        let got = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return (total, Some(e)),
        };
        total += got as u64;
        let mut data = &chunk[..got];
        if discarding {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    discarding = false;
                    line_no += 1;
                    base += (buf.len() + i + 1) as u64;
                    buf.clear();
                    data = &data[i + 1..];
                }
                None => {
                    base += got as u64;
                    continue;
                }
            }
        }
        buf.extend_from_slice(data);
        if let Some(last) = memchr::memrchr(b'\n', &buf) {
            let block = &buf[..=last];
            acc.feed_block(kind, file, base, block);
            note_lines(acc, file, base, block, line_no, lines_at);
            line_no += memchr::memchr_iter(b'\n', block).count() as u64;
            base += (last + 1) as u64;
            buf.drain(..=last);
        }
        if buf.len() > max {
            // A runaway line: count it now, drop it through its newline.
            acc.feed_line(kind, file, base, &buf);
            note_lines(acc, file, base, &[], line_no, lines_at);
            base += buf.len() as u64;
            buf.clear();
            discarding = true;
        }
    }
    if !buf.is_empty() && !discarding {
        // A last line without a newline is still read.
        acc.feed_line(kind, file, base, &buf);
        note_lines(acc, file, base, &buf, line_no, lines_at);
    }
    (total, None)
}

/// Record line numbers of skipped-line examples that fall in a streamed
/// block while the block is still in memory.
fn note_lines(
    acc: &Acc,
    file: u32,
    base: u64,
    block: &[u8],
    line_no: u64,
    lines_at: &mut std::collections::HashMap<(u32, u64), u64>,
) {
    for &(f, off, _) in &acc.skipped.examples {
        if f != file
            || off < base
            || off > base + block.len() as u64
            || lines_at.contains_key(&(f, off))
        {
            continue;
        }
        let rel = (off - base) as usize;
        let n = memchr::memchr_iter(b'\n', &block[..rel.min(block.len())]).count() as u64;
        lines_at.insert((f, off), line_no + n + 1);
    }
}
