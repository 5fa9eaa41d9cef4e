//! The terminal conventions of the human table: its width (the terminal's,
//! or 80 when not a terminal) and colour (only on a terminal, never with
//! `NO_COLOR` or `--color never`). The command layer decides both for the
//! stream a document goes to and hands them to the renderer as a [`Term`];
//! the table lays out to its width and [`finish`] colours whole lines,
//! then wraps long ones with a hanging indent.

/// The narrowest layout honoured (a narrower terminal gets 40 columns).
pub const MIN_WIDTH: usize = 40;

/// Where a table is shown: its width in columns, and whether it is
/// coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub width: usize,
    pub color: bool,
}

impl Term {
    /// `width` columns (at least [`MIN_WIDTH`]), with or without colour.
    pub fn new(width: usize, color: bool) -> Term {
        Term {
            width: width.max(MIN_WIDTH),
            color,
        }
    }
}

/// 80 columns, no colour: a file or a pipe.
impl Default for Term {
    fn default() -> Term {
        Term::new(80, false)
    }
}

/// The columns a line takes on screen: characters, less colour escapes.
pub fn display_width(s: &str) -> usize {
    let mut n = 0;
    let mut esc = false;
    for c in s.chars() {
        match (esc, c) {
            (false, '\x1b') => esc = true,
            (true, 'm') => esc = false,
            (true, _) => {}
            (false, _) => n += 1,
        }
    }
    n
}

pub const RED: &str = "\x1b[1;31m";
pub const GREEN: &str = "\x1b[1;32m";
pub const YELLOW: &str = "\x1b[33m";
pub const RESET: &str = "\x1b[0m";

/// The colour of a whole line of a table, by what it says: verdicts,
/// breached and unmet criteria, regressions, damaged lines, incomplete
/// inputs. `in_regressions`: the line is in compare's REGRESSIONS block.
fn line_colour(line: &str, in_regressions: bool) -> Option<&'static str> {
    let t = line.trim_start();
    if let Some(rest) = t.strip_prefix("Verdict for stage") {
        return Some(if rest.contains(": GO") {
            GREEN
        } else if rest.contains(": HOLD") {
            YELLOW
        } else {
            RED
        });
    }
    if t.starts_with("REGRESSIONS") || (in_regressions && !t.is_empty()) {
        return Some(RED);
    }
    if line.contains("  BREACHED  ") || t.starts_with("INCOMPLETE") {
        return Some(RED);
    }
    if line.contains("  NOT MET  ")
        || (t.starts_with("Skipped: ") && !t.starts_with("Skipped: none"))
    {
        return Some(YELLOW);
    }
    None
}

/// Colour (when on) and wrap a table to [`width`].
pub fn finish(s: &str, term: Term) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_regressions = false;
    for line in s.split_inclusive('\n') {
        let body = line.strip_suffix('\n').unwrap_or(line);
        let t = body.trim_start();
        if t.starts_with("REGRESSIONS") {
            in_regressions = true;
        } else if t.is_empty() {
            in_regressions = false;
        }
        let painted = match line_colour(body, in_regressions && !t.starts_with("REGRESSIONS")) {
            Some(code) if term.color => format!("{code}{body}{RESET}"),
            _ => body.to_string(),
        };
        out.push_str(&wrap(&painted, term.width));
        if line.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// One line wrapped at spaces to `width`, continuation lines indented
/// under the text after a short `label: ` (or two more than the line's
/// own indent).
pub fn wrap(line: &str, width: usize) -> String {
    if display_width(line) <= width {
        return line.to_string();
    }
    let lead = line.len() - line.trim_start_matches(' ').len();
    let rest = &line[lead..];
    let hang = rest
        .find(": ")
        .filter(|&i| i <= 24 && rest[..i].split(' ').count() <= 3)
        .map(|i| lead + display_width(&rest[..i]) + 2)
        .unwrap_or(lead + 2)
        .min(width / 2);
    // A count stays with its name (`error 6`, `not_object 2,`) and a `·`
    // with what it follows: a break never comes before either.
    let mut units: Vec<String> = Vec::new();
    for word in rest.split(' ') {
        let bare = word.trim_end_matches([',', ')', ';', '%']);
        let glued = word == "·"
            || (!bare.is_empty()
                && bare
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == ','));
        match units.last_mut() {
            Some(u) if glued => {
                u.push(' ');
                u.push_str(word);
            }
            _ => units.push(word.to_string()),
        }
    }
    let mut out = String::new();
    let mut cur = " ".repeat(lead);
    let mut cur_w = lead;
    let mut first = true;
    for word in &units {
        let w = display_width(word);
        let start = if first { lead } else { hang };
        if cur_w > start && cur_w + 1 + w > width {
            out.push_str(cur.trim_end());
            out.push('\n');
            cur = " ".repeat(hang);
            cur_w = hang;
            first = false;
        }
        if cur_w > (if first { lead } else { hang }) {
            cur.push(' ');
            cur_w += 1;
        }
        // A word wider than the room left (a long path) is cut at the
        // edge and goes on under the hanging indent.
        let mut rest: Vec<char> = word.chars().collect();
        // (Only plain text is cut: a colour escape must stay whole.)
        let plain = w == rest.len();
        while plain && cur_w + rest.len() > width && width > cur_w {
            let room = width - cur_w;
            cur.extend(&rest[..room]);
            out.push_str(cur.trim_end());
            out.push('\n');
            rest.drain(..room);
            cur = " ".repeat(hang);
            cur_w = hang;
            first = false;
        }
        cur.extend(rest.iter());
        cur_w += display_width(&rest.iter().collect::<String>());
    }
    out.push_str(cur.trim_end());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_under_their_label() {
        let s = "  reasons: policy_disabled 155 · not_in_corridor 82 · timeout 36 · low_confidence 16 · llm_unavailable 15";
        let w = wrap(s, 60);
        assert!(w.lines().all(|l| display_width(l) <= 60), "{w}");
        assert_eq!(
            w.lines().nth(1).unwrap().find(|c| c != ' '),
            Some(11),
            "{w}"
        );
        // Every word kept, in order.
        let words = |x: &str| x.split_whitespace().map(String::from).collect::<Vec<_>>();
        assert_eq!(words(&w), words(s));
        assert_eq!(wrap("short", 60), "short");
        // A path longer than the line is cut, not left sticking out.
        let s = "Skipped: 16 lines; first at /a/very/long/path/that/does/not/fit/in/forty/columns/x.jsonl:100";
        let w = wrap(s, 40);
        assert!(w.lines().all(|l| display_width(l) <= 40), "{w}");
        assert_eq!(w.replace(['\n', ' '], ""), s.replace(' ', ""));
    }

    #[test]
    fn colour_escapes_take_no_columns() {
        assert_eq!(display_width("\x1b[1;31mabc\x1b[0m"), 3);
    }
}
