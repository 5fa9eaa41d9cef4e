//! The files a run will write (`-o FILE`, `--state-out FILE`), resolved,
//! checked and locked before anything is read.
//!
//! aggmetrics runs from root's crontab and writes into folders other users
//! can write (node_exporter's textfile folder, a shared reports folder).
//! What another user can plant there must not turn the run against the
//! machine or against the user's own files:
//!
//! - A symlink at an output is followed only when the running user or root
//!   owns it (another user's link could point at `/etc/shadow`). The link
//!   is resolved once, here; the report is then written by rename into the
//!   folder of the file it named, and a link planted there later is
//!   replaced, not followed.
//! - A FIFO, device or socket at an output is written in place (`-o
//!   /dev/stdout`, a named pipe) only when the running user or root owns
//!   it: another user's FIFO would hang the run, their device be written.
//! - One lock per file however it is spelled: the lock sits beside the
//!   resolved file (`FILE.lock`), is opened without following a link and
//!   without blocking, and must be a regular file.
//! - An output that is (by device and inode) one of the run's inputs, a
//!   settings file or the other output is a usage error before reading:
//!   `-o logs/pipeline_latency.jsonl` would replace the log with the report.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::render::{Doc, Format};

/// What is at an output path now.
#[derive(Debug, Clone, PartialEq, Eq)]
enum At {
    /// Nothing: a regular file will be created.
    New,
    /// A regular file, to be replaced by rename.
    Regular,
    /// A FIFO, device or socket, written in place.
    Special,
}

/// One file a run will write.
#[derive(Debug, Clone)]
pub struct Target {
    /// The flag, for messages (`-o`, `--state-out`).
    flag: &'static str,
    /// As the user wrote it.
    given: PathBuf,
    /// Where the bytes go: the link resolved for a regular or new file,
    /// the given path for a special one (`/dev/stdout` must stay a name).
    pub path: PathBuf,
    at: At,
    /// Device and inode when the file exists.
    id: Option<(u64, u64)>,
}

/// Every output of one run, and the locks held on them until the run ends.
#[derive(Default)]
pub struct Outputs {
    pub report: Option<Target>,
    pub state: Option<Target>,
    /// The `run` label of Prometheus series (`--run-name`, else the -o
    /// file's name without `.prom`).
    pub run_name: String,
    _locks: Vec<super::output::OutputLock>,
}

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Device and inode of what `path` names, following links.
fn id_of(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// A user other than the running one and root.
fn foreign(uid: u32) -> bool {
    uid != 0 && uid != euid()
}

fn refuse(flag: &str, given: &Path, why: String) -> Error {
    Error::Output(format!("not writing {flag} {}: {why}", given.display()))
}

/// Resolve one output: follow links the running user or root owns, to at
/// most 40 levels, and say what is there.
fn resolve(flag: &'static str, given: &Path) -> Result<Target, Error> {
    use std::os::unix::fs::MetadataExt;
    super::output::check_output_dir(given)?;
    let mut cur = given.to_path_buf();
    for _ in 0..40 {
        let meta = match std::fs::symlink_metadata(&cur) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return new_file(flag, given, &cur);
            }
            Err(e) => return Err(refuse(flag, given, format!("{}: {e}", cur.display()))),
        };
        let ft = meta.file_type();
        if ft.is_symlink() {
            if foreign(meta.uid()) {
                return Err(refuse(
                    flag,
                    given,
                    format!(
                        "{} is a symlink owned by another user (uid {}); a run as uid {} follows only its own or root's links (name the file it points to instead)",
                        cur.display(),
                        meta.uid(),
                        euid()
                    ),
                ));
            }
            let to = std::fs::read_link(&cur)
                .map_err(|e| refuse(flag, given, format!("{}: {e}", cur.display())))?;
            cur = match cur.parent() {
                Some(dir) if to.is_relative() => dir.join(to),
                _ => to,
            };
            continue;
        }
        if ft.is_dir() {
            return Err(refuse(flag, given, "it is a folder".into()));
        }
        if ft.is_file() {
            let path = std::fs::canonicalize(&cur)
                .map_err(|e| refuse(flag, given, format!("{}: {e}", cur.display())))?;
            return Ok(Target {
                flag,
                given: given.to_path_buf(),
                path,
                at: At::Regular,
                id: Some((meta.dev(), meta.ino())),
            });
        }
        // A FIFO, device or socket.
        if foreign(meta.uid()) {
            return Err(refuse(
                flag,
                given,
                format!(
                    "{} is a FIFO, device or socket owned by another user (uid {})",
                    cur.display(),
                    meta.uid()
                ),
            ));
        }
        return Ok(Target {
            flag,
            given: given.to_path_buf(),
            path: given.to_path_buf(),
            at: At::Special,
            id: Some((meta.dev(), meta.ino())),
        });
    }
    Err(refuse(flag, given, "too many levels of symlinks".into()))
}

/// A file to be created at `cur` (the end of `given`'s links): its folder
/// must exist.
fn new_file(flag: &'static str, given: &Path, cur: &Path) -> Result<Target, Error> {
    super::output::check_output_dir(cur)?;
    let name = cur
        .file_name()
        .ok_or_else(|| refuse(flag, given, "it names no file".into()))?;
    let dir = match cur.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir)
        .map_err(|e| refuse(flag, given, format!("{}: {e}", dir.display())))?;
    Ok(Target {
        flag,
        given: given.to_path_buf(),
        path: dir.join(name),
        at: At::New,
        id: None,
    })
}

impl Target {
    /// Whether the two name one file (existing: by inode; new: by path).
    fn same(&self, o: &Target) -> bool {
        match (self.id, o.id) {
            (Some(a), Some(b)) => a == b,
            _ => self.path == o.path,
        }
    }

    /// Whether this output is the file at `path` (by inode).
    fn is(&self, path: &Path) -> bool {
        self.id.is_some() && self.id == id_of(path)
    }

    /// Write `bytes`: a regular file atomically (rename into place), a
    /// special file in place.
    pub fn write(&self, bytes: &[u8]) -> anyhow::Result<()> {
        match self.at {
            At::Special => super::output::write_in_place(&self.path, bytes),
            At::New | At::Regular => super::output::replace_file(&self.path, bytes),
        }
    }
}

impl Outputs {
    /// Resolve and lock `-o` and `--state-out`; refuse (exit 2) an output
    /// that is a settings file (`settings`: flag and path) or the other
    /// output. Inputs are checked with [`Outputs::check_inputs`] once they
    /// are found.
    pub fn claim(
        out: &crate::cli::OutputOpts,
        state: Option<&Path>,
        settings: &[(&str, &Path)],
    ) -> anyhow::Result<Outputs> {
        let report = out.output.as_deref();
        let report = report.map(|p| resolve("-o", p)).transpose()?;
        let state = state.map(|p| resolve("--state-out", p)).transpose()?;
        if let (Some(r), Some(s)) = (&report, &state) {
            if r.same(s) {
                return Err(Error::Usage(format!(
                    "-o {} and --state-out {} are the same file: the state would be replaced by the report",
                    r.given.display(),
                    s.given.display()
                ))
                .into());
            }
        }
        for t in report.iter().chain(state.iter()) {
            for (flag, p) in settings {
                if t.is(p) {
                    return Err(Error::Usage(format!(
                        "{} {} is the {flag} file {}: writing it would replace your settings",
                        t.flag,
                        t.given.display(),
                        p.display()
                    ))
                    .into());
                }
            }
        }
        let mut locks = Vec::new();
        for t in report.iter().chain(state.iter()) {
            if t.at != At::Special {
                locks.push(super::output::lock_file(&t.path, &t.given)?);
            }
        }
        let run_name = out.run_name.clone().unwrap_or_else(|| {
            let name = report.as_ref().and_then(|t| t.given.file_name());
            let name = name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.strip_suffix(".prom").unwrap_or(&name).to_string()
        });
        Ok(Outputs {
            report,
            state,
            run_name,
            _locks: locks,
        })
    }

    /// Refuse (exit 2) an output that is one of the inputs found.
    pub fn check_inputs<'a>(
        &self,
        inputs: impl IntoIterator<Item = &'a Path>,
        what: &str,
    ) -> Result<(), Error> {
        let outs: Vec<&Target> = self.report.iter().chain(self.state.iter()).collect();
        if outs.iter().all(|t| t.id.is_none()) {
            return Ok(());
        }
        for p in inputs {
            if let Some(t) = outs.iter().find(|t| t.is(p)) {
                return Err(Error::Usage(format!(
                    "{} {} is {what} {}, read by this run: writing it would replace it (name another file)",
                    t.flag,
                    t.given.display(),
                    p.display()
                )));
            }
        }
        Ok(())
    }

    /// Write the report to `-o` (resolved), or standard output.
    pub fn write_report(&self, bytes: &[u8]) -> anyhow::Result<()> {
        match &self.report {
            Some(t) => t.write(bytes),
            None => super::output::write_stdout(bytes),
        }
    }

    /// Write the state to `--state-out`, when given.
    pub fn write_state(&self, bytes: impl FnOnce() -> Vec<u8>) -> anyhow::Result<()> {
        match &self.state {
            Some(t) => t.write(&bytes()),
            None => Ok(()),
        }
    }

    /// Whether `-o` was given.
    pub fn to_file(&self) -> bool {
        self.report.is_some()
    }
}

/// Render a document and write it to `-o FILE` (atomically) or stdout.
pub fn emit(format: Format, doc: Doc<'_>, outs: &Outputs) -> anyhow::Result<()> {
    let to_file = outs.to_file();
    super::output::check_format(format, doc.kind())?;
    if format == Format::Parquet && !to_file && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        return Err(Error::Usage(
            "--format parquet writes a binary file: give -o FILE (or pipe it)".into(),
        )
        .into());
    }
    // The table fits the terminal it is shown on, else 80 columns, and is
    // coloured only on a terminal (or with --color always).
    let to_terminal = !to_file && std::io::IsTerminal::is_terminal(&std::io::stdout());
    let settings = crate::render::Settings {
        term: crate::render::term::Term::new(
            super::output::terminal_width()
                .filter(|_| !to_file)
                .unwrap_or(80),
            super::output::use_color(to_terminal),
        ),
        run: outs.run_name.clone(),
        cumulative: false,
    };
    let mut buf = Vec::new();
    crate::render::renderer_with(format, &settings).render(&doc, &mut buf)?;
    outs.write_report(&buf)
}
