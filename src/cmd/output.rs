//! Writing what a command produces: the lock on `-o FILE`, atomic writes,
//! standard output, and rendering a document in the format asked for.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crate::error::Error;
use crate::render::{renderer, Format};

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
        crate::budget::keep_on_stop(&self.path);
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

/// Take the lock `FILE.lock` beside the resolved output `path` (`given`
/// as the user wrote it), or fail at once. The lock file is opened without
/// following a symlink and without blocking (a FIFO planted there would
/// hang the open), and must be a regular file.
pub fn lock_file(path: &Path, given: &Path) -> anyhow::Result<OutputLock> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = std::path::PathBuf::from(name);
    let fail = |why: String| Error::Output(format!("cannot lock {}: {why}", lock_path.display()));
    // A few tries: each retry means another run removed the lock file
    // between our open and our lock, i.e. it just finished.
    for _ in 0..16 {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .mode(0o644)
            .open(&lock_path)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => fail("it is a symlink (planted?); remove it".into()),
                _ => fail(e.to_string()),
            })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(fail("it is not a regular file (planted?); remove it".into()).into());
        }
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Locked(format!(
                    "another aggmetrics run is writing {} (it holds {}); not starting a second one",
                    given.display(),
                    lock_path.display()
                ))
                .into())
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(fail(e.to_string()).into()),
        }
        if same_file(&file, &lock_path) {
            // A run stopped by the memory budget removes it too.
            crate::budget::remove_on_stop(&lock_path);
            return Ok(OutputLock {
                file,
                path: lock_path,
            });
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
        match (file.metadata(), std::fs::symlink_metadata(path)) {
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

/// Write `bytes` into a FIFO, device or socket (`-o /dev/null`, `-o
/// /dev/stdout`, a named pipe): renaming over it would replace the node.
pub fn write_in_place(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let fail = |e: std::io::Error| Error::Output(format!("cannot write {}: {e}", path.display()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(fail)?;
    f.write_all(bytes)
        .and_then(|_| f.flush())
        .map_err(|e| fail(e).into())
}

/// Write `bytes` to the regular file `path` atomically: a temporary file
/// in the same folder, flushed and synced, then renamed over the target.
/// On failure the old file is left as it was. Whatever is at `path` now (a
/// link planted since the run resolved it included) is replaced, never
/// followed. The report keeps the old file's permission bits, without
/// setuid, setgid or sticky bits, or gets 0644.
pub fn replace_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path)
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.permissions().mode() & 0o777)
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

/// A usage error if `format` cannot show this kind of document: checked
/// before reading, so a long run does not end in it.
pub fn check_format(format: Format, kind: crate::render::DocKind) -> Result<(), Error> {
    let r = renderer(format);
    r.built()
        .and_then(|_| r.supports(kind))
        .map_err(|why| Error::Usage(why.to_string()))
}

static COLOR_CHOICE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// `--color`, as the command line gave it.
pub fn set_color_choice(c: crate::cli::ColorChoice) {
    COLOR_CHOICE.store(c as u8, std::sync::atomic::Ordering::Relaxed);
}

/// Whether to colour a stream that `is_terminal` or not: `--color always`
/// always, `never` never, `auto` on a terminal when `NO_COLOR` is unset
/// (or empty) and `TERM` is not `dumb`.
pub fn use_color(is_terminal: bool) -> bool {
    use crate::cli::ColorChoice;
    match COLOR_CHOICE.load(std::sync::atomic::Ordering::Relaxed) {
        x if x == ColorChoice::Always as u8 => true,
        x if x == ColorChoice::Never as u8 => false,
        _ => {
            is_terminal
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    }
}

/// The terminal's columns, when standard output is one.
pub(super) fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ fills a `winsize` we own; a failure leaves the
    // zeroed value, which is ignored.
    let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_col > 0).then_some(ws.ws_col as usize)
}

/// `aggmetrics: warning: MSG` on standard error, `warning` in colour on a
/// terminal.
pub fn warn(msg: &str) {
    let w = if use_color(std::io::stderr().is_terminal()) {
        format!(
            "{}warning{}",
            crate::render::term::YELLOW,
            crate::render::term::RESET
        )
    } else {
        "warning".to_string()
    };
    // A closed or full standard error loses the warning, not the run
    // (`eprintln!` would panic; a daemon's stderr may go away).
    let _ = writeln!(
        std::io::stderr(),
        "aggmetrics: {w}: {}",
        crate::escape::message(msg)
    );
}
