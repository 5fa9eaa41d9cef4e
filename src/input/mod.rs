//! Paths on the command line -> the log sources to read.
//!
//! A folder contributes the files whose names announce a log kind, as
//! logrotate leaves them: `pipeline_latency.jsonl`, `.1`, `.2.gz`,
//! `.3.zst`, dateext names such as `pipeline_latency.jsonl-20260217.gz`
//! (any `<stem>*.jsonl`, then an optional `.N` or `-DATE`, then an optional
//! `.gz` or `.zst`). Other files are left alone. A file named by hand is
//! read as the kind its name announces or as `--kind` says; `-` is
//! standard input and needs `--kind`.
//!
//! Symlinks inside a folder are read when they point inside it; one
//! pointing elsewhere is skipped with a warning unless `--follow`. The same
//! file reached twice (two names, a symlink, a hard link) is read once.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::kinds::LogKind;

/// How a file's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// As the user will recognise it (`-` for standard input).
    pub path: PathBuf,
    pub kind: LogKind,
    pub compression: Compression,
    #[serde(skip)]
    pub stdin: bool,
    /// Named on the command line (not found in a folder): a FIFO or device
    /// named is read as a stream; one found in a folder is not read.
    #[serde(skip)]
    pub named: bool,
}

/// Sources, and what was passed over (for warnings).
#[derive(Debug, Default)]
pub struct Found {
    pub sources: Vec<Source>,
    pub warnings: Vec<String>,
    /// Files in a folder whose names nearly match a log's (a `.json`
    /// instead of `.jsonl`, other case, an unknown suffix): not read, named
    /// when nothing was found.
    pub near_misses: Vec<PathBuf>,
}

/// A name that looks meant for a log but is not recognised.
fn near_miss(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    LogKind::ALL
        .iter()
        .any(|(_, s)| lower.contains(s) || lower.contains(&s.replace('_', "-")))
        || [".jsonl", ".json", ".ndjson", ".log"]
            .iter()
            .any(|e| compression_of(&lower).0.ends_with(e))
}

/// `name` without a `.gz` / `.zst` suffix, and which it was.
pub fn compression_of(name: &str) -> (&str, Compression) {
    if let Some(base) = name.strip_suffix(".gz") {
        (base, Compression::Gzip)
    } else if let Some(base) = name.strip_suffix(".zst") {
        (base, Compression::Zstd)
    } else {
        (name, Compression::None)
    }
}

/// The kind and compression a (possibly rotated) file name announces.
pub fn classify(name: &str) -> Option<(LogKind, Compression)> {
    let (head, comp) = jsonl_file(name)?;
    LogKind::from_file_name(head).map(|k| (k, comp))
}

/// A `*.jsonl` file name, possibly rotated (`.1`, `-20260217`) and
/// compressed: the name up to `.jsonl`, and the compression.
pub fn jsonl_file(name: &str) -> Option<(&str, Compression)> {
    let (base, comp) = compression_of(name);
    let at = base.rfind(".jsonl")?;
    let (head, rot) = (&base[..at + ".jsonl".len()], &base[at + ".jsonl".len()..]);
    let rotation_ok = match rot.as_bytes() {
        [] => true,
        [b'.', rest @ ..] => !rest.is_empty() && rest.iter().all(u8::is_ascii_digit),
        [b'-', first, rest @ ..] => {
            first.is_ascii_digit()
                && rest
                    .iter()
                    .all(|c| c.is_ascii_digit() || *c == b'-' || *c == b'_')
        }
        _ => false,
    };
    rotation_ok.then_some((head, comp))
}

/// One identity per file, whatever name reached it.
fn identity(path: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = fs::metadata(path).ok()?;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

pub fn discover(paths: &[PathBuf], kind: Option<LogKind>, follow: bool) -> Result<Found> {
    discover_with(paths, kind, follow, &[])
}

/// The user kind (index into `patterns`, the kinds file's `files`) of a
/// file name: the first whose glob matches the name as it is, without its
/// `.gz` / `.zst`, or without that and a rotation suffix (`.1`,
/// `-20260217`), so `eve*.json` reads `eve.json`, `eve.json.1` and
/// `eve.json-20260217.gz`. A built-in kind's name is never a user kind.
pub fn user_kind_of(name: &str, patterns: &[String]) -> Option<u16> {
    if patterns.is_empty() || classify(name).is_some() {
        return None;
    }
    let (base, _) = compression_of(name);
    let plain = without_rotation(base);
    patterns
        .iter()
        .position(|p| [name, base, plain].iter().any(|f| glob(p, f)))
        .map(|i| i as u16)
}

/// `name` without a logrotate suffix: `.N`, or `-` and a date.
pub fn without_rotation(name: &str) -> &str {
    if let Some((head, n)) = name.rsplit_once('.') {
        if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) {
            return head;
        }
    }
    if let Some((head, d)) = name.rsplit_once('-') {
        if d.len() >= 8 && d.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return head;
        }
    }
    name
}

/// Whether `name` matches `pattern`: `*` is any run of characters
/// (none too), `?` one character, anything else itself.
pub fn glob(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // The classic backtracking match: on a mismatch, the last `*` takes
    // one more character.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < n.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == '?' || c == n[j] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

/// [`discover`], also recognising the files of user-defined kinds
/// (`stems`: `assist` for `assist*.jsonl`), read as [`LogKind::Jsonl`].
pub fn discover_with(
    paths: &[PathBuf],
    kind: Option<LogKind>,
    follow: bool,
    stems: &[String],
) -> Result<Found> {
    let mut found = Found::default();
    let mut seen_ids = std::collections::HashSet::new();
    let mut seen_paths = std::collections::HashSet::new();
    let mut stdin_seen = false;
    let mut push = |s: Source, out: &mut Vec<Source>| {
        let fresh = if s.stdin {
            !std::mem::replace(&mut stdin_seen, true)
        } else {
            match identity(&s.path) {
                Some(id) => seen_ids.insert(id),
                None => {
                    seen_paths.insert(fs::canonicalize(&s.path).unwrap_or_else(|_| s.path.clone()))
                }
            }
        };
        if fresh {
            out.push(s);
        }
    };
    for p in paths {
        if p.as_os_str() == "-" {
            let kind = kind.ok_or(Error::StdinNeedsKind)?;
            let s = Source {
                path: p.clone(),
                kind,
                compression: Compression::None,
                stdin: true,
                named: true,
            };
            push(s, &mut found.sources);
            continue;
        }
        let meta = fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::NotFound(p.clone()),
            _ => Error::io(p, e),
        })?;
        if meta.is_dir() {
            for s in scan_dir(
                p,
                kind,
                follow,
                stems,
                &mut found.warnings,
                &mut found.near_misses,
            )? {
                push(s, &mut found.sources);
            }
        } else {
            // A file named on the command line that cannot be opened is
            // the command's error (exit 4), not an incomplete report: the
            // user asked for it by name. (One found in a folder is an
            // error of that input alone.) Only a regular file is tried: a
            // FIFO's open would wait for, and then cut off, its writer.
            if meta.is_file() {
                fs::File::open(p).map_err(|e| Error::io(p, e))?;
            }
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let by_name = classify(name);
            let (_, comp) = compression_of(name);
            let k = match (kind, by_name) {
                (Some(k), _) => k,
                (None, Some((k, _))) => k,
                (None, None) if user_kind_of(name, stems).is_some() => LogKind::Jsonl,
                (None, None) => return Err(Error::UnknownKind(p.clone())),
            };
            let s = Source {
                path: p.clone(),
                kind: k,
                compression: comp,
                stdin: false,
                named: true,
            };
            push(s, &mut found.sources);
        }
    }
    Ok(found)
}

/// The log files directly inside `dir`, sorted by name.
fn scan_dir(
    dir: &Path,
    only: Option<LogKind>,
    follow: bool,
    stems: &[String],
    warnings: &mut Vec<String>,
    near: &mut Vec<PathBuf>,
) -> Result<Vec<Source>> {
    let rd = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let real_dir = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    let mut found = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        // A name that is not UTF-8 is recognised by what it says in
        // UTF-8 (`pipeline_latency\xff.jsonl` is a latency log), read,
        // and named escaped in a warning.
        let lossy = entry.file_name().to_string_lossy().into_owned();
        let name = lossy.as_str();
        // A kind without a file name of its own (`stats`) reads every
        // `*.jsonl` file of the folder.
        let classified = match only {
            Some(k) if !k.by_name() => jsonl_file(name).map(|(_, c)| (k, c)),
            _ => classify(name).or_else(|| {
                // A user-defined kind's file (not when --kind asks for one
                // built-in kind).
                let k = user_kind_of(name, stems).filter(|_| only.is_none())?;
                let also: Vec<&String> = stems[k as usize + 1..]
                    .iter()
                    .filter(|p| user_kind_of(name, std::slice::from_ref(p)).is_some())
                    .collect();
                if !also.is_empty() {
                    warnings.push(format!(
                        "{}: matches the kinds file's files = \"{}\" and {}; read as the first kind",
                        crate::escape::path(&path),
                        crate::escape::text(&stems[k as usize]),
                        also.iter()
                            .map(|p| format!("\"{}\"", crate::escape::text(p)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                Some((LogKind::Jsonl, compression_of(name).1))
            }),
        };
        let Some((kind, compression)) = classified else {
            if near_miss(name) {
                near.push(path.clone());
            }
            continue;
        };
        if only.is_some_and(|k| k != kind) {
            continue;
        }
        let is_link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => {}
            Err(_) => {
                warnings.push(format!(
                    "{}: a broken symlink or an unreadable entry; skipped",
                    crate::escape::path(&path)
                ));
                continue;
            }
        }
        if is_link && !follow {
            let inside = fs::canonicalize(&path).is_ok_and(|t| t.starts_with(&real_dir));
            if !inside {
                warnings.push(format!(
                    "{}: a symlink pointing outside {}; not followed (use --follow)",
                    crate::escape::path(&path),
                    crate::escape::path(dir)
                ));
                continue;
            }
        }
        if crate::escape::not_utf8(&path) {
            warnings.push(format!(
                "{}: a file name that is not UTF-8; read as {} by the name it shows",
                crate::escape::path(&path),
                kind.name()
            ));
        }
        found.push(Source {
            path,
            kind,
            compression,
            stdin: false,
            named: false,
        });
    }
    // Oldest rotation first, then the live file: the order only shows in
    // `meta.inputs`; the figures do not depend on it.
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        use Compression::*;
        use LogKind::*;
        for (name, want) in [
            ("pipeline_latency.jsonl", Some((Latency, None))),
            ("pipeline_latency.jsonl.1", Some((Latency, None))),
            ("pipeline_latency.jsonl.2.gz", Some((Latency, Gzip))),
            ("fallback_metrics.jsonl.3.zst", Some((Fallback, Zstd))),
            ("partial_trust_risk.jsonl-20260217.gz", Some((Risk, Gzip))),
            ("partial_trust_risk.jsonl-2026-02-17", Some((Risk, None))),
            ("pipeline_latency-host2.jsonl", Some((Latency, None))),
            ("pipeline_latency.jsonl.gz", Some((Latency, Gzip))),
            ("pipeline_latency.jsonl.bak", Option::None),
            ("pipeline_latency.jsonl.1.tmp", Option::None),
            ("pipeline_latency.jsonl.", Option::None),
            ("pipeline_latency.json", Option::None),
            ("assist.jsonl", Option::None),
        ] {
            assert_eq!(classify(name), want, "{name}");
        }
    }

    #[test]
    fn kinds_file_patterns() {
        let pats = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let k = pats(&["eve*.json", "conn.*.log", "*.log.gz", "assist*.jsonl"]);
        for (name, want) in [
            ("eve.json", Some(0)),
            ("eve.json.1", Some(0)),
            ("eve.json-20260217.gz", Some(0)),
            ("eve-2.json.zst", Some(0)),
            ("evejson", None),
            ("conn.2024-01-01.log", Some(1)),
            ("conn.log", None),
            ("dns.log.gz", Some(2)),
            ("dns.log", None),
            ("assist.jsonl", Some(3)),
            ("assist-v2.jsonl.3.gz", Some(3)),
            // A built-in kind's name is its own.
            ("pipeline_latency.jsonl", None),
        ] {
            assert_eq!(user_kind_of(name, &k), want, "{name}");
        }
        assert!(glob("a?c*", "abcdef"));
        assert!(glob("*a*b", "xaybzb"));
        assert!(!glob("*a*b", "xaybz"));
        assert!(glob("**", ""));
        assert!(!glob("?", ""));
    }

    #[test]
    fn near_misses() {
        for name in [
            "pipeline_latency.json",
            "Pipeline_Latency.JSONL",
            "fallback-metrics.jsonl",
            "partial_trust_risk.jsonl.bak",
            "assist.jsonl",
            "today.ndjson.gz",
        ] {
            assert!(near_miss(name), "{name}");
        }
        for name in ["README.md", "notes.txt", "core"] {
            assert!(!near_miss(name), "{name}");
        }
    }
}
