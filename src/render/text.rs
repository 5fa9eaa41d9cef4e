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

/// A sentence that may quote keys from the logs: escaped as [`clean`]
/// does, not shortened, and wrapped at `width` under `indent`.
pub fn wrapped(s: &str, indent: &str, width: usize) -> String {
    let mut text = String::new();
    for c in s.chars() {
        if c.is_control() {
            text.extend(c.escape_default());
        } else {
            text.push(c);
        }
    }
    let width = width.saturating_sub(indent.len()).max(20);
    let mut out = String::new();
    let mut line = 0;
    for w in text.split(' ') {
        let n = w.chars().count();
        if line > 0 && line + 1 + n > width {
            out.push('\n');
            out.push_str(indent);
            line = 0;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(w);
        line += n;
    }
    out
}

pub use crate::report::view::thousands;

pub fn ms(x: f64) -> String {
    format!("{x:.3}")
}

/// A figure of a distribution: `-` over no values, a whole number of a
/// field of integers without decimals, else to 3 decimals.
pub fn figure(st: &crate::measure::figures::Stats, x: f64) -> String {
    if st.count == 0 {
        "-".into()
    } else if st.whole && x.fract() == 0.0 && x.abs() < 9e15 {
        format!("{}", x as i64)
    } else {
        ms(x)
    }
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
pub fn grid(rows: &[Vec<String>], left: usize, indent: &str, width: usize) -> String {
    grid_text_last(rows, left, indent, false, width)
}

/// [`grid`], with the last column a note when `text_last`: left-aligned,
/// and on a line of its own under its row when the row would not fit.
///
/// Rows fit `width` columns: when they are too wide, each row's
/// label goes on a line of its own above its figures; when the figures
/// alone are still too wide, the columns are split into blocks that each
/// repeat the labels.
pub fn grid_text_last(
    rows: &[Vec<String>],
    left: usize,
    indent: &str,
    text_last: bool,
    width: usize,
) -> String {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let mut w = vec![0; cols];
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let figures = cols - (text_last as usize).min(cols);
    let span = |cs: &[usize]| -> usize {
        cs.iter().map(|&i| w[i]).sum::<usize>() + 2 * cs.len().saturating_sub(1)
    };
    let all: Vec<usize> = (0..figures).collect();
    let values: Vec<usize> = (left.min(figures)..figures).collect();
    let cell = |line: &mut String, r: &[String], i: usize, first: bool| {
        let c = r.get(i).map(String::as_str).unwrap_or("");
        let pad = w[i] - c.chars().count();
        if !first {
            line.push_str("  ");
        }
        if i < left {
            line.push_str(c);
            line.extend(std::iter::repeat_n(' ', pad));
        } else {
            line.extend(std::iter::repeat_n(' ', pad));
            line.push_str(c);
        }
    };
    let note = |out: &mut String, line: String, r: &[String], col: usize| {
        let n = if text_last {
            r.get(cols - 1).map(String::as_str).unwrap_or("")
        } else {
            ""
        };
        let line = line.trim_end().to_string();
        let pad = col.saturating_sub(line.chars().count()).max(2);
        if n.is_empty() {
            out.push_str(&line);
        } else if line.chars().count() + pad + n.chars().count() <= width {
            // Notes side by side start in one column.
            out.push_str(&line);
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(n);
        } else if col <= width / 2 {
            // Wrapped within its own column.
            out.push_str(&line);
            out.extend(std::iter::repeat_n(' ', pad));
            let mut used = col;
            for (k, word) in n.split(' ').enumerate() {
                let wl = word.chars().count();
                if k > 0 && used + 1 + wl > width {
                    out.push('\n');
                    out.extend(std::iter::repeat_n(' ', col));
                    used = col;
                } else if k > 0 {
                    out.push(' ');
                    used += 1;
                }
                out.push_str(word);
                used += wl;
            }
        } else {
            out.push_str(&line);
            out.push('\n');
            out.push_str(indent);
            out.push_str("    ");
            out.push_str(n);
        }
        out.push('\n');
    };
    let mut out = String::new();
    if indent.len() + span(&all) <= width || left == 0 || values.is_empty() {
        for r in rows {
            let mut line = String::from(indent);
            for &i in &all {
                cell(&mut line, r, i, i == 0);
            }
            note(&mut out, line, r, indent.len() + span(&all) + 2);
        }
    } else if indent.len() + 2 + span(&values) <= width
        && span(&(0..left).collect::<Vec<_>>()) > width * 2 / 5
    {
        // Labels above their figures.
        for r in rows {
            let label: Vec<&str> = (0..left)
                .filter_map(|i| r.get(i).map(String::as_str))
                .collect();
            let _ = writeln!(out, "{indent}{}", label.join("  ").trim_end());
            let mut line = format!("{indent}  ");
            for (k, &i) in values.iter().enumerate() {
                cell(&mut line, r, i, k == 0);
            }
            note(&mut out, line, r, indent.len() + 2 + span(&values) + 2);
        }
    } else {
        // Blocks of columns, each with the labels.
        let mut blocks: Vec<Vec<usize>> = Vec::new();
        let mut cur: Vec<usize> = (0..left).collect();
        for &i in &values {
            let mut next = cur.clone();
            next.push(i);
            if indent.len() + span(&next) > width && cur.len() > left {
                blocks.push(std::mem::replace(&mut cur, (0..left).chain([i]).collect()));
            } else {
                cur = next;
            }
        }
        blocks.push(cur);
        for (b, cs) in blocks.iter().enumerate() {
            if b > 0 {
                out.push('\n');
            }
            for r in rows {
                let mut line = String::from(indent);
                for (k, &i) in cs.iter().enumerate() {
                    cell(&mut line, r, i, k == 0);
                }
                if b + 1 == blocks.len() {
                    note(&mut out, line, r, indent.len() + span(cs) + 2);
                } else {
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
            }
        }
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
