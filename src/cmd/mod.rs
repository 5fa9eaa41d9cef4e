//! One module per subcommand, each a thin `run()`.

pub mod compare;
pub mod merge;
pub mod risk;
pub mod summarize;
pub mod window;

use std::io::Write;
use std::path::Path;

use crate::cli::{ReadOpts, RegressionOpts};
use crate::error::Error;
use crate::read::ReadResult;
use crate::render::{renderer, Doc, Format};

pub use crate::exit;

/// A lock on `FILE.lock`, held while one run reads and writes `-o FILE`,
/// so two runs (a slow cron job and the next one) never interleave. The
/// lock file is removed when the run ends (still holding the lock), so
/// dated outputs leave nothing behind; a run that opened the file just
/// before it was removed sees that the path no longer names its file and
/// starts again on a new one (see [`lock_output`]).
pub struct OutputLock {
    file: std::fs::File,
    path: std::path::PathBuf,
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Unlink first, unlock (close) second: a run waiting on the old
        // inode then finds the path gone and retries.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The folder an output file goes in, which must exist: aggmetrics
/// creates files, never folders (a typo in a path should fail, not
/// scatter folders).
pub fn check_output_dir(path: &Path) -> Result<(), Error> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => return Ok(()),
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Error::Output(format!(
            "cannot write {}: {} is not a folder",
            path.display(),
            dir.display()
        ))),
        Err(_) => Err(Error::Output(format!(
            "cannot write {}: the folder {} does not exist (create it first: mkdir -p {})",
            path.display(),
            dir.display(),
            dir.display()
        ))),
    }
}

/// Take the lock for `-o FILE` (none without `-o`), or fail at once.
pub fn lock_output(output: Option<&Path>) -> anyhow::Result<Option<OutputLock>> {
    let Some(path) = output else {
        return Ok(None);
    };
    check_output_dir(path)?;
    // `/dev/null`, `/dev/stdout`, a FIFO: nothing to tear, and no lock
    // file belongs beside them.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Ok(None);
    }
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = std::path::PathBuf::from(name);
    // A few tries: each retry means another run removed the lock file
    // between our open and our lock, i.e. it just finished.
    for _ in 0..16 {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| {
                Error::Output(format!(
                    "cannot create the lock file {}: {e}",
                    lock_path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked(format!(
                    "another aggmetrics run is writing {} (it holds {}); not starting a second one",
                    path.display(),
                    lock_path.display()
                ))
                .into())
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(
                    Error::Output(format!("cannot lock {}: {e}", lock_path.display())).into(),
                )
            }
        }
        if same_file(&file, &lock_path) {
            return Ok(Some(OutputLock {
                file,
                path: lock_path,
            }));
        }
    }
    Err(Error::Locked(format!(
        "{} keeps being replaced by other runs; not starting",
        lock_path.display()
    ))
    .into())
}

/// Whether `path` still names the open `file`.
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed and synced, then renamed over the target. On failure the old
/// file is left as it was.
///
/// Only regular files are replaced that way. A device, FIFO or socket
/// (`-o /dev/null`, `-o /dev/stdout`, a named pipe) is written in place:
/// renaming over it would replace the device node itself. A symlink is
/// followed, so the file it points to is replaced and the link stays.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            let fail =
                |e: std::io::Error| Error::Output(format!("cannot write {}: {e}", path.display()));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(fail)?;
            return f
                .write_all(bytes)
                .and_then(|_| f.flush())
                .map_err(|e| fail(e).into());
        }
        if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            if let Ok(real) = std::fs::canonicalize(path) {
                return replace_file(&real, bytes);
            }
        }
    }
    replace_file(path, bytes)
}

fn replace_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    check_output_dir(path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Error::Output(format!("cannot write {}: {what}: {e}", path.display()))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".aggmetrics-")
        .tempfile_in(dir)
        .map_err(|e| fail("creating a temporary file beside it", &e))?;
    tmp.write_all(bytes).map_err(|e| fail("writing", &e))?;
    // The temporary file is private (0600); give the report the old
    // file's permissions, or 0644 for a new one, so other readers (a
    // node_exporter textfile collector) can read it.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o644);
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| fail("setting permissions", &e))?;
    }
    tmp.as_file().sync_all().map_err(|e| fail("syncing", &e))?;
    tmp.persist(path)
        .map_err(|e| fail("renaming into place", &e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
pub fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::Output(format!("cannot write to standard output: {e}")).into()),
    }
}

/// Check the shared reading options; the number of worker threads.
pub fn read_threads(o: &ReadOpts) -> Result<usize, Error> {
    if o.max_line_bytes == 0 || o.max_line_bytes > crate::parse::json::MAX_LINE {
        return Err(Error::Usage(format!(
            "--max-line-bytes must be from 1 to {}",
            crate::parse::json::MAX_LINE
        )));
    }
    let threads = o.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if threads == 0 {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    Ok(threads)
}

pub fn thresholds(o: &RegressionOpts) -> Result<crate::check::compare::Thresholds, Error> {
    let frac = |name: &str, x: f64, hi: f64| {
        if x.is_finite() && x >= 0.0 && x <= hi {
            Ok(x)
        } else {
            Err(Error::Usage(format!(
                "{name} must be between 0 and {hi}, not {x}"
            )))
        }
    };
    Ok(crate::check::compare::Thresholds {
        max_latency_regression: frac("--max-latency-regression", o.max_latency_regression, 1e6)?,
        max_rate_increase: frac("--max-rate-increase", o.max_rate_increase, 1.0)?,
        alpha: frac("--alpha", o.alpha, 1.0)?,
    })
}

/// Find the logs under `paths` and read them: discovery warnings (unless
/// `--quiet`), then one pass.
pub fn read_logs(
    paths: &[std::path::PathBuf],
    kind: Option<crate::parse::LogKind>,
    o: &ReadOpts,
    cfg: crate::agg::Config,
) -> anyhow::Result<ReadResult> {
    let threads = read_threads(o)?;
    let found = crate::input::discover(paths, kind, o.follow)?;
    if !o.quiet {
        for w in &found.warnings {
            eprintln!("aggmetrics: warning: {w}");
        }
        if found.sources.is_empty() {
            no_logs_warning(paths, &found.near_misses);
        }
    }
    let bar = progress_bar(&found.sources, o.quiet);
    let result = crate::read::Reader::new(threads, o.max_decompressed_bytes).read_with(
        &found.sources,
        cfg,
        &|n| bar.inc(n),
    );
    bar.finish_and_clear();
    Ok(result?)
}

/// A progress bar on standard error when it is a terminal and the input is
/// large enough to wait for; hidden in pipes, cron and with `--quiet`.
fn progress_bar(sources: &[crate::input::Source], quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let total: u64 = sources
        .iter()
        .filter(|s| !s.stdin)
        .filter_map(|s| std::fs::metadata(&s.path).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    if quiet || !std::io::stderr().is_terminal() || total < 256 << 20 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_bar}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// No log file in `paths`: say which names are recognised, and which
/// files nearly matched.
fn no_logs_warning(paths: &[std::path::PathBuf], near: &[std::path::PathBuf]) {
    let p: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let mut msg = format!(
        "no log files found in {} (recognised names: pipeline_latency*.jsonl, fallback_metrics*.jsonl, partial_trust_risk*.jsonl, with rotation suffixes); the report is empty and --strict exits 1",
        p.join(", ")
    );
    if !near.is_empty() {
        let names: Vec<String> = near
            .iter()
            .take(5)
            .map(|p| p.display().to_string())
            .collect();
        msg.push_str(&format!(
            "; not read, as their names do not say which log they are: {}{} (rename them, or name each with --kind)",
            names.join(", "),
            if near.len() > 5 { ", ..." } else { "" }
        ));
    }
    eprintln!("aggmetrics: warning: {msg}");
}

/// Inputs read as a kind their records do not look like: every line
/// damaged, or no record carrying the field that defines the kind.
fn kind_looks_wrong(result: &ReadResult) {
    use crate::parse::LogKind;
    for i in &result.inputs {
        if i.records == 0 && i.skipped > 0 {
            eprintln!(
                "aggmetrics: warning: {}: none of its {} lines is a {} record: is it that kind of log (--kind)?",
                i.path,
                i.skipped,
                i.kind.name()
            );
        }
    }
    let m = &result.acc.total;
    let read = |k: LogKind| result.inputs.iter().any(|i| i.kind == k);
    let all_unknown =
        |k: &crate::agg::Keyed<u64>, n: u64| n > 0 && k.get("unknown").copied() == Some(n);
    if read(LogKind::Fallback) && all_unknown(&m.fallback.outcomes, m.fallback.count) {
        eprintln!(
            "aggmetrics: warning: none of the {} fallback records has an llm_outcome: is this a fallback log (--kind fallback)?",
            m.fallback.count
        );
    }
    if read(LogKind::Risk) && all_unknown(&m.risk.status, m.risk.total) {
        eprintln!(
            "aggmetrics: warning: none of the {} risk records has a status: is this a partial-trust risk log (--kind risk)?",
            m.risk.total
        );
    }
}

/// Warnings about what a read could not use (unless `--quiet`).
pub fn warn_read(o: &ReadOpts, result: &ReadResult) {
    if o.quiet {
        return;
    }
    kind_looks_wrong(result);
    for i in &result.inputs {
        if let Some(e) = &i.error {
            eprintln!(
                "aggmetrics: warning: {}: {e}; the report is incomplete",
                i.path
            );
        }
    }
    let undated = result.acc.undated.total();
    if undated > 0 && result.acc.cfg.window.is_some() {
        eprintln!(
            "aggmetrics: warning: {undated} damaged line(s) could not be dated (no time in them, no record in their input): not charged to the window; --strict exits 1 (see meta.window.undated_skipped)"
        );
    }
    let sk = &result.acc.total.skipped;
    if sk.total() > 0 {
        let why: Vec<String> = crate::parse::Skip::ALL
            .iter()
            .filter(|s| sk.by_reason[s.index()] > 0)
            .map(|s| format!("{} {}", s.name(), sk.by_reason[s.index()]))
            .collect();
        eprintln!(
            "aggmetrics: warning: skipped {} damaged line(s): {}",
            sk.total(),
            why.join(", ")
        );
    }
}

/// A usage error if `format` cannot show this kind of document: checked
/// before reading, so a long run does not end in it.
pub fn check_format(format: Format, kind: crate::render::DocKind) -> Result<(), Error> {
    renderer(format)
        .supports(kind)
        .map_err(|why| Error::Usage(why.to_string()))
}

/// Render a document and write it to `-o FILE` (atomically) or stdout.
pub fn emit(format: Format, doc: Doc<'_>, output: Option<&Path>) -> anyhow::Result<()> {
    check_format(format, doc.kind())?;
    let mut buf = Vec::new();
    renderer(format).render(&doc, &mut buf)?;
    match output {
        Some(path) => write_atomic(path, &buf),
        None => write_stdout(&buf),
    }
}

/// A usage error for any `--fail-on` key that no summary report with these
/// percentiles can hold: checked before reading, so a typo fails at once
/// instead of turning an alert off.
pub fn check_fail_on(conds: &[crate::check::expr::Cond], ps: &[f64]) -> Result<(), Error> {
    if conds.is_empty() {
        return Ok(());
    }
    let schema = crate::check::schema::summary(ps);
    let bad: Vec<String> = conds
        .iter()
        .filter_map(|c| {
            crate::check::schema::check(&schema, &c.path)
                .map(|why| format!("--fail-on '{c}': {why}"))
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(bad.join("\n  ")))
    }
}

/// What `--fail-on` found: conditions that hold (breaches, each named with
/// its value), and conditions with no data in this run (a step absent from
/// a quiet window, a rate over no records): neither breached nor met.
#[derive(Debug, Default)]
pub struct Checks {
    pub breaches: Vec<String>,
    pub no_data: Vec<String>,
}

impl Checks {
    /// Print them on standard error (breaches always; no data unless
    /// `--quiet`).
    pub fn print(&self, quiet: bool) {
        for b in &self.breaches {
            eprintln!("aggmetrics: threshold breached: {b}");
        }
        if !quiet {
            for n in &self.no_data {
                eprintln!("aggmetrics: no data: {n}");
            }
        }
    }
}

/// Judge `--fail-on` conditions (their keys already checked by
/// [`check_fail_on`]) on the report. The report is turned into JSON only
/// when there is a condition.
pub fn fail_on(
    conds: &[crate::check::expr::Cond],
    report: &crate::report::Report,
) -> anyhow::Result<Checks> {
    let mut out = Checks::default();
    if conds.is_empty() {
        return Ok(out);
    }
    let report = serde_json::to_value(report)?;
    for c in conds {
        let value = crate::check::expr::number(&report, &c.path);
        let support = crate::check::expr::support(&report, &c.path);
        match value {
            Some(v) if support != Some(0) => {
                if c.op.holds(v, c.bound) {
                    out.breaches.push(format!("{} = {v} ({c})", c.path));
                }
            }
            _ => out.no_data.push(format!(
                "--fail-on '{c}' not judged: {} has no records in this run",
                c.path
            )),
        }
    }
    Ok(out)
}

/// `--strict`: anything that makes the figures less than the logs hold
/// fails: damaged lines charged to them, damaged lines that could not be
/// dated (they may belong to the window), an input not read to its end, or
/// no log found at all.
pub fn strict_fails(
    skipped: &crate::report::Skipped,
    meta: &crate::report::Meta,
    read: &ReadResult,
) -> bool {
    skipped.total > 0
        || meta.incomplete
        || read.inputs.is_empty()
        || meta.window.as_ref().is_some_and(|w| w.undated_skipped > 0)
}

pub fn check_percentiles(ps: &[f64]) -> Result<(), Error> {
    for &p in ps {
        if !(0.0..=100.0).contains(&p) || !p.is_finite() {
            return Err(Error::Usage(format!(
                "--percentiles: {p} is not in 0..=100"
            )));
        }
    }
    Ok(())
}

/// Read a file whole, at most `max` bytes: `None` if it is larger (gates
/// files, baselines, reports and states are documents, not logs).
pub fn read_capped(path: &Path, max: u64) -> Result<Option<Vec<u8>>, Error> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
        _ => Error::io(path, e),
    })?;
    let mut buf = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    Ok((buf.len() as u64 <= max).then_some(buf))
}

/// Largest gates file, baseline or report read.
const MAX_DOC: u64 = 64 << 20;

/// A setting given as a file (gates file, baseline): any failure to read
/// it is a usage error, named with its flag.
pub fn read_setting(path: &Path, flag: &str) -> Result<Vec<u8>, Error> {
    read_doc(path, flag).map_err(|e| match e {
        Error::NotFound(_) => Error::Usage(format!("{flag} {}: no such file", path.display())),
        Error::Io { err, .. } => Error::Usage(format!("{flag} {}: {err}", path.display())),
        other => other,
    })
}

/// A small document (gates file, baseline, report), refusing huge ones.
pub fn read_doc(path: &Path, what: &str) -> Result<Vec<u8>, Error> {
    read_capped(path, MAX_DOC)?.ok_or_else(|| {
        Error::Usage(format!(
            "{what} {} is larger than {} MiB: is it the right file?",
            path.display(),
            MAX_DOC >> 20
        ))
    })
}
