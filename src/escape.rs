//! Text from outside (file names, keys from the logs) made safe to print:
//! control characters (ESC, BEL, NUL, CR, newline) escaped so they cannot
//! move a terminal's cursor, set its title or forge a line, and the bytes
//! of a non-UTF-8 file name shown as `\xNN`. Every message on standard
//! error goes through [`message`]; file names through [`path`].

use std::fmt::Write as _;
use std::path::Path;

/// One character as printed: itself, or escaped if it is a control
/// character (`\u{1b}`, `\n`, `\0`...).
fn push(out: &mut String, c: char) {
    if c.is_control() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    } else {
        out.push(c);
    }
}

/// `s` with every control character escaped.
pub fn text(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        push(&mut out, c);
    }
    out
}

/// A message for standard error: control characters escaped, except the
/// newlines that separate its own lines.
pub fn message(s: &str) -> String {
    s.split('\n').map(text).collect::<Vec<_>>().join("\n")
}

/// A file name as printed: control characters escaped, and each byte that
/// is not UTF-8 as `\xNN`.
pub fn path(p: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in p.as_os_str().as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            push(&mut out, c);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Whether a file name is not UTF-8.
pub fn not_utf8(p: &Path) -> bool {
    p.to_str().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn control_characters_and_bad_bytes_are_escaped() {
        assert_eq!(text("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(text("x\ny\rz\0"), "x\\ny\\rz\\0");
        assert_eq!(text("plain é"), "plain é");
        assert_eq!(message("one\u{1b}[2J\ntwo"), "one\\u{1b}[2J\ntwo");
        let p = Path::new(std::ffi::OsStr::from_bytes(b"logs/pipe\xffline\x1b.jsonl"));
        assert_eq!(path(p), "logs/pipe\\xffline\\u{1b}.jsonl");
        assert!(not_utf8(p));
        assert!(!not_utf8(Path::new("ok.jsonl")));
    }
}
