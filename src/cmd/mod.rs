//! One module per subcommand, each a thin `run()`.

pub mod summarize;

use std::io::Write;
use std::path::Path;

use anyhow::Context;

/// Exit codes, one table for every subcommand (docs/cli.md).
pub mod exit {
    pub const OK: i32 = 0;
    /// A check failed: `--strict` with skipped lines.
    pub const CHECK_FAILED: i32 = 1;
    pub const USAGE: i32 = 2;
    /// An input path does not exist or cannot be read.
    pub const NO_INPUT: i32 = 4;
    /// The output could not be written.
    pub const OUTPUT: i32 = 5;
}

/// An output failure, so `main` can pick its exit code.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OutputError(pub String);

/// Write `bytes` to `path` atomically: a temporary file in the same folder,
/// flushed and synced, then renamed over the target. On failure the old
/// file is left as it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        OutputError(format!("cannot write {}: {what}: {e}", path.display()))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".aggmetrics-")
        .tempfile_in(dir)
        .map_err(|e| fail("creating a temporary file beside it", &e))?;
    tmp.write_all(bytes).map_err(|e| fail("writing", &e))?;
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
        r => r.context("writing to standard output"),
    }
}
