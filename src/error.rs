//! Library errors. Each variant is one class of failure; the binary maps
//! each class to one exit code (the table in `docs/cli.md`), in one place.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: no such file or directory", crate::escape::path(.0))]
    NotFound(PathBuf),
    #[error("{}: cannot tell which log this is from its name; name the kind with --kind latency|fallback|risk", crate::escape::path(.0))]
    UnknownKind(PathBuf),
    #[error("reading standard input needs --kind latency|fallback|risk")]
    StdinNeedsKind,
    /// An input that cannot be read. The OS error is part of the message
    /// and deliberately not a `source`, so it is printed once.
    #[error("{}: {err}", crate::escape::path(path))]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{0}")]
    Usage(String),
    /// An input that exists but cannot be used (a corrupt state file).
    #[error("{}: {message}", crate::escape::path(path))]
    BadInput { path: PathBuf, message: String },
    /// The output (`-o FILE`, `--state-out`, standard output) could not be
    /// written.
    #[error("{0}")]
    Output(String),
    /// Another run holds the lock on the same output file.
    #[error("{0}")]
    Locked(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, err: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
