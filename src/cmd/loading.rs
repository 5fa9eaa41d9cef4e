//! Reading the small documents a command is given besides logs: gates
//! files, baselines, reports, states; capped, with errors that say which.

use std::path::Path;

use crate::error::Error;

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

/// A settings file (`what`: "gates file") that is not valid TOML: a usage
/// error giving the line, column and what was expected, quoting nothing
/// from the file (pointed at a log by mistake, it would print the log's
/// first line, free user text).
pub fn check_toml(path: &std::path::Path, what: &str, text: &str) -> Result<(), Error> {
    let Err(e) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    let at = e.span().map_or(0, |s| s.start).min(text.len());
    let before = text.as_bytes()[..at].iter();
    let line = 1 + before.clone().filter(|&&b| b == b'\n').count();
    let col = 1 + before.rev().take_while(|&&b| b != b'\n').count();
    let hint = if text.trim_start().starts_with('{') {
        " (it looks like JSON: a log or a report, not settings)"
    } else {
        ""
    };
    Err(Error::Usage(format!(
        "{what} {} is not valid TOML at line {line}, column {col}: {}{hint}",
        crate::escape::path(path),
        e.message().trim_end()
    )))
}

/// Where the kinds file is looked for when `--kinds` is not given.
pub fn default_kinds_path() -> Option<std::path::PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => std::path::PathBuf::from(x),
        None => std::path::PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("aggmetrics").join("kinds.toml"))
}

/// The kinds files a run reads: each `--kinds FILE`, else the default one
/// when it is there.
pub fn kinds_paths(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    if paths.is_empty() {
        default_kinds_path()
            .filter(|p| p.is_file())
            .into_iter()
            .collect()
    } else {
        paths.to_vec()
    }
}

/// The user-defined kinds: from each `--kinds FILE`, else from the
/// default location when a file is there, else none. A file that cannot
/// be read or is wrong is a usage error naming it.
pub fn user_kinds(
    paths: &[std::path::PathBuf],
) -> Result<Vec<crate::kinds::jsonl::UserKind>, Error> {
    let paths = kinds_paths(paths);
    let mut text = String::new();
    for path in &paths {
        let bytes = read_setting(path, "--kinds")?;
        let t = String::from_utf8(bytes).map_err(|_| {
            Error::Usage(format!("kinds file {} is not UTF-8 text", path.display()))
        })?;
        check_toml(path, "kinds file", &t)?;
        // Each file alone first, so an error names its file.
        crate::kinds::jsonl::UserKind::parse_file(&t)
            .map_err(|e| Error::Usage(format!("kinds file {}: {e}", path.display())))?;
        text.push_str(&t);
        text.push('\n');
    }
    // Then together: names and file patterns must not clash across files.
    crate::kinds::jsonl::UserKind::parse_file(&text).map_err(|e| {
        let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        Error::Usage(format!("kinds files {}: {e}", names.join(", ")))
    })
}
