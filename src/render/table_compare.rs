//! The changes block of the human table (`aggmetrics compare`):
//! regressions first.

use std::fmt::Write as _;

use super::text::{clean, grid_text_last, p_value};
use crate::check::compare::Row;
use crate::measure::view::Changes;

fn num(kind: &str, x: f64) -> String {
    if kind == "rate" {
        format!("{:.2}%", x * 100.0)
    } else {
        format!("{x:.3}")
    }
}

fn row(r: &Row) -> Vec<String> {
    let change = if r.kind == "rate" {
        format!("{:+.2} pt", r.change * 100.0)
    } else {
        format!("{:+.3}", r.change)
    };
    vec![
        clean_path(&r.path),
        num(r.kind, r.base),
        num(r.kind, r.candidate),
        change,
        r.relative_change
            .map(|x| format!("{:+.1}%", x * 100.0))
            .unwrap_or_else(|| "-".into()),
        r.p_value.map(p_value).unwrap_or_default(),
        r.note.clone(),
    ]
}

/// Step names and other keys in a path come from the logs.
fn clean_path(p: &str) -> String {
    p.split('.').map(clean).collect::<Vec<_>>().join(".")
}

/// The changes block: the regressions, every other figure, and the key
/// paths only one side has.
pub(super) fn changes(s: &mut String, c: &Changes, w: usize) {
    let head = || {
        ["metric", "base", "candidate", "change", "relative", "p", ""]
            .map(String::from)
            .to_vec()
    };
    let regs: Vec<&Row> = c.rows.iter().filter(|r| r.regression).collect();
    if regs.is_empty() {
        let _ = writeln!(s, "\nNo regression ({} figures compared)", c.rows.len());
    } else {
        let _ = writeln!(s, "\nREGRESSIONS ({})", regs.len());
        let mut rows = vec![head()];
        rows.extend(regs.iter().map(|r| row(r)));
        s.push_str(&grid_text_last(&rows, 1, "  ", true, w));
    }
    let rest: Vec<&Row> = c.rows.iter().filter(|r| !r.regression).collect();
    if !rest.is_empty() {
        let _ = writeln!(s, "\nAll other figures");
        let mut rows = vec![head()];
        rows.extend(rest.iter().map(|r| row(r)));
        s.push_str(&grid_text_last(&rows, 1, "  ", true, w));
    }
    for (label, keys) in [
        ("only in base", &c.only_in_base),
        ("only in candidate", &c.only_in_candidate),
    ] {
        if !keys.is_empty() {
            let shown: Vec<String> = keys.iter().take(10).map(|k| clean_path(k)).collect();
            let more = keys.len().saturating_sub(10);
            let _ = writeln!(
                s,
                "\n{label}: {}{}",
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
        }
    }
}
