//! Text helpers shared by the table renderers: escaping keys from the
//! logs, numbers, aligned grids, and the lines every table ends with.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::report::Skipped;

/// Categorical keys come from the logs: escape anything that could move
/// the cursor or colour a terminal, and keep them short.
pub fn clean(s: &str) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == 48 {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if out.is_empty() {
        "\"\"".into()
    } else {
        out
    }
}

pub use crate::report::view::thousands;

pub fn ms(x: f64) -> String {
    format!("{x:.3}")
}

pub fn pct(x: f64) -> String {
    format!("{:.2}%", x * 100.0)
}

/// A p-value: three decimals, or scientific below 0.001 (`2.3e-45`, not
/// `0.000`).
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Lay out rows: the first `left` columns left-aligned, the rest right.
pub fn grid(rows: &[Vec<String>], left: usize, indent: &str) -> String {
    grid_text_last(rows, left, indent, false)
}

/// [`grid`], with the last column left-aligned when `text_last` (a note).
pub fn grid_text_last(rows: &[Vec<String>], left: usize, indent: &str, text_last: bool) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut w = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in rows {
        let mut line = String::from(indent);
        for (i, c) in r.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i > 0 {
                line.push_str("  ");
            }
            if i < left || (text_last && i + 1 == cols) {
                line.push_str(c);
                line.extend(std::iter::repeat_n(' ', pad));
            } else {
                line.extend(std::iter::repeat_n(' ', pad));
                line.push_str(c);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

pub fn breakdown(m: &BTreeMap<String, u64>) -> String {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    v.iter()
        .map(|(k, n)| format!("{} {}", clean(k), thousands(**n)))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `Incomplete:` lines for inputs that could not be read to the end.
pub fn incomplete_lines(meta: &crate::report::Meta) -> String {
    let mut s = String::new();
    for i in &meta.inputs {
        if let Some(e) = &i.error {
            let _ = writeln!(s, "INCOMPLETE: {}: {e}", i.path);
        }
    }
    s
}

/// The `Skipped:` line: how many lines, why, and the first location.
pub fn skipped_line(sk: &Skipped) -> String {
    if sk.total == 0 {
        return "Skipped: none\n".into();
    }
    let why: Vec<String> = sk
        .by_reason
        .iter()
        .map(|(k, n)| format!("{k} {}", thousands(*n)))
        .collect();
    let mut s = format!(
        "Skipped: {} line{} ({})",
        thousands(sk.total),
        if sk.total == 1 { "" } else { "s" },
        why.join(", ")
    );
    if let Some(l) = sk.locations.first() {
        let _ = write!(s, "; first at {}:{} ({})", l.path, l.line, l.reason);
    }
    s.push('\n');
    s
}
