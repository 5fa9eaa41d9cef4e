//! Library errors. The binary adds context with `anyhow` and maps each kind
//! to an exit code (see `docs/cli.md`).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: no such file or directory", .0.display())]
    NotFound(PathBuf),
    #[error("{}: cannot tell which log this is from its name; name the kind with --kind latency|fallback|risk", .0.display())]
    UnknownKind(PathBuf),
    #[error("reading standard input needs --kind latency|fallback|risk")]
    StdinNeedsKind,
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    /// An input that exists but cannot be used (a corrupt state file).
    #[error("{}: {message}", path.display())]
    BadInput { path: PathBuf, message: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
