//! Paths on the command line -> the log sources to read.
//!
//! A folder contributes the files whose names announce a log kind
//! (`pipeline_latency*.jsonl`, `fallback_metrics*.jsonl`,
//! `partial_trust_risk*.jsonl`); other files in it are left alone. A file
//! named by hand is read as the kind its name announces or as `--kind`
//! says. `-` is standard input and needs `--kind`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::parse::LogKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// As the user will recognise it (`-` for standard input).
    pub path: PathBuf,
    pub kind: LogKind,
    #[serde(skip)]
    pub stdin: bool,
}

pub fn discover(paths: &[PathBuf], kind: Option<LogKind>) -> Result<Vec<Source>> {
    let mut out: Vec<Source> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push = |s: Source, out: &mut Vec<Source>| {
        // The same file named twice (or by two spellings) is read once.
        let id = if s.stdin {
            PathBuf::from("-")
        } else {
            fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone())
        };
        if seen.insert(id) {
            out.push(s);
        }
    };
    for p in paths {
        if p.as_os_str() == "-" {
            let kind = kind.ok_or(Error::StdinNeedsKind)?;
            push(
                Source {
                    path: p.clone(),
                    kind,
                    stdin: true,
                },
                &mut out,
            );
            continue;
        }
        let meta = fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(p.clone()),
            _ => Error::io(p, e),
        })?;
        if meta.is_dir() {
            for s in scan_dir(p, kind)? {
                push(s, &mut out);
            }
        } else {
            let k = match kind {
                Some(k) => k,
                None => file_kind(p).ok_or_else(|| Error::UnknownKind(p.clone()))?,
            };
            push(
                Source {
                    path: p.clone(),
                    kind: k,
                    stdin: false,
                },
                &mut out,
            );
        }
    }
    Ok(out)
}

fn file_kind(p: &Path) -> Option<LogKind> {
    LogKind::from_file_name(p.file_name()?.to_str()?)
}

/// The log files directly inside `dir`, sorted by name.
fn scan_dir(dir: &Path, only: Option<LogKind>) -> Result<Vec<Source>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut found = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let Some(kind) = file_kind(&path) else {
            continue;
        };
        if only.is_some_and(|k| k != kind) {
            continue;
        }
        // Follows symlinks: a link to a log file is read like the file.
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {}
            Err(_) => continue,
        }
        found.push(Source {
            path,
            kind,
            stdin: false,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}
