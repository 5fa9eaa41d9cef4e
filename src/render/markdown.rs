//! Markdown for reports and chats: the main figures as pipe tables.
//! Keys from the logs are escaped so they cannot break a table.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Doc, Render};
use crate::measure::verdict::Verdict;
use crate::measure::view::{Breakdown, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::{RateFig, Report, Stats, View};

pub struct Markdown;

/// Text from the logs in Markdown: `< > &` as entities (a Markdown
/// processor passes raw HTML through: `<script>` would run), backticks too,
/// and `| [ ] \\` backslash-escaped so a key cannot break a table, open a
/// link or swallow the next character.
fn md(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '`' => o.push_str("&#96;"),
            '|' | '[' | ']' | '\\' => {
                o.push('\\');
                o.push(c);
            }
            c => o.push(c),
        }
    }
    o
}

fn cell(s: &str) -> String {
    md(&super::text::clean(s))
}

fn table(s: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", head.iter().map(|_| "---|").collect::<String>());
    for r in rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    s.push('\n');
}

fn stat_row(name: &str, st: &Stats) -> Vec<String> {
    let mut r = vec![cell(name), st.count.to_string()];
    r.extend(st.percentiles.iter().map(|(_, v)| figure(st, *v)));
    r
}

/// A figure of a distribution ([`super::text::figure`]).
fn figure(st: &Stats, x: f64) -> String {
    super::text::figure(st, x)
}

fn rates(s: &mut String, rates: &[(&str, RateFig)]) {
    let rows: Vec<Vec<String>> = rates
        .iter()
        .map(|(k, f)| {
            vec![
                k.to_string(),
                format!("{:.2}%", f.value * 100.0),
                format!(
                    "{:.2}% – {:.2}%",
                    f.wilson_95[0] * 100.0,
                    f.wilson_95[1] * 100.0
                ),
                format!("{} / {}", f.numerator, f.denominator),
            ]
        })
        .collect();
    table(s, &["rate", "value", "95% interval", "count"], &rows);
}

fn summary(s: &mut String, r: &Report) {
    figures(s, r);
    skipped(s, &r.skipped, &r.meta);
}

/// Latency, fallback and risk tables of one report (or bucket).
fn figures(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "Records from {} to {}.\n",
        r.time_range
            .first
            .as_deref()
            .map(cell)
            .unwrap_or_else(|| "-".into()),
        r.time_range
            .last
            .as_deref()
            .map(cell)
            .unwrap_or_else(|| "-".into())
    );
    let inputs: Vec<&str> = r.meta.inputs.iter().map(|i| i.kind.name()).collect();
    for v in r.kinds.views() {
        if v.records > 0 || inputs.contains(&v.key.as_str()) {
            section(s, &v);
        }
    }
}

/// One section from its view: distributions as a table (a grid's detailed
/// row for every column, its other rows for the first), then the rates,
/// then the counts in the order of the view.
pub(super) fn section(s: &mut String, v: &View) {
    let _ = writeln!(s, "**{}**\n", cell(&v.title));
    blocks(s, v);
}

/// A view's blocks, as [`section`] lays them out.
fn blocks(s: &mut String, v: &View) {
    let mut m = MdSection::default();
    super::draw(&v.blocks, &mut m);
    s.push_str(&m.notes);
    if !m.rows.is_empty() {
        // Rows as wide as the heading (a kind's rank percentiles may be
        // fewer than --percentiles).
        let width = m.head.len();
        for r in &mut m.rows {
            r.resize(width, "-".into());
        }
        let head: Vec<&str> = m.head.iter().map(String::as_str).collect();
        table(s, &head, &m.rows);
    }
    if !m.rates.is_empty() {
        rates(s, &m.rates);
    }
    s.push_str(&m.counts);
}

/// A section as Markdown lays it out: its distributions gathered into one
/// table, its rates into another, its counts as they come.
#[derive(Default)]
struct MdSection {
    /// The distribution table's heading, set by the first distribution.
    head: Vec<String>,
    rows: Vec<Vec<String>>,
    rates: Vec<(&'static str, RateFig)>,
    counts: String,
    /// Lines the reader must see, above the tables.
    notes: String,
}

impl MdSection {
    fn heading(&mut self, ps: &[(String, f64)]) {
        if self.head.is_empty() {
            self.head
                .extend(["distribution".to_string(), "n".to_string()]);
            self.head.extend(ps.iter().map(|(k, _)| k.clone()));
        }
    }
}

impl super::Blocks for MdSection {
    fn grid(&mut self, g: &Grid) {
        for r in &g.rows {
            for (c, st) in g.columns.iter().zip(&r.cells) {
                if let Some(st) = st.as_ref().filter(|st| st.count > 0) {
                    self.heading(&st.percentiles);
                    self.rows.push(stat_row(&format!("{c} {}", r.name), st));
                }
                if !r.detail {
                    break;
                }
            }
        }
    }

    fn dist(&mut self, d: &DistLine) {
        if d.count > 0 {
            self.heading(&d.points);
            let mut row = vec![cell(d.name), d.count.to_string()];
            row.extend(d.points.iter().map(|(_, v)| format!("{v:.3}")));
            self.rows.push(row);
        }
    }

    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]) {
        self.rates.extend_from_slice(rates);
    }

    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]) {
        self.rates.extend_from_slice(rates);
    }

    fn shares(&mut self, sh: &Shares) {
        if sh.counts.is_empty() {
            return;
        }
        let sorted = crate::measure::view::largest_first(&sh.counts);
        let rows: Vec<Vec<String>> = sorted
            .iter()
            .map(|(k, n)| {
                let share = if sh.total == 0 {
                    0.0
                } else {
                    **n as f64 / sh.total as f64
                };
                vec![cell(k), n.to_string(), format!("{:.2}%", share * 100.0)]
            })
            .collect();
        table(&mut self.counts, &[sh.label, "records", "share"], &rows);
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(self.notes, "> **Note:** {}\n", md(text));
    }

    fn breakdown(&mut self, b: &Breakdown) {
        if !b.counts.is_empty() {
            let line = md(&super::text::breakdown(&b.counts));
            let _ = writeln!(self.counts, "{}: {line}\n", b.title);
        }
    }

    fn cross(&mut self, c: &Cross) {
        if c.cells.is_empty() {
            return;
        }
        let g = c.grid();
        let head: Vec<String> = g.head.iter().map(|h| cell(h)).collect();
        let rows: Vec<Vec<String>> = g
            .rows
            .iter()
            .map(|(k, cells)| {
                let mut r = vec![cell(k)];
                r.extend(
                    cells
                        .iter()
                        .map(|n| n.map_or("-".into(), |n| n.to_string())),
                );
                r
            })
            .collect();
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        table(&mut self.counts, &head, &rows);
    }

    fn rows(&mut self, r: &ValueRows) {
        let (name, rows) = r.for_people();
        let _ = writeln!(self.counts, "**{}**\n", cell(&name));
        let mut head = vec![r.label.to_string(), "n".to_string()];
        if let Some((_, st, _)) = rows.first() {
            head.extend(st.percentiles.iter().map(|(k, _)| k.clone()));
        }
        head.extend(["mean", "max", "invalid"].map(String::from));
        let body: Vec<Vec<String>> = rows
            .iter()
            .map(|(row, st, invalid)| {
                let mut cells = stat_row(row, st);
                cells.push(figure(st, st.mean));
                cells.push(figure(st, st.max));
                cells.push(invalid.to_string());
                cells
            })
            .collect();
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        table(&mut self.counts, &head, &body);
    }

    fn changes(&mut self, c: &Changes) {
        let rows: Vec<Vec<String>> = c
            .rows
            .iter()
            .map(|r| {
                vec![
                    cell(&r.path),
                    format!("{}", r.base),
                    format!("{}", r.candidate),
                    r.relative_change
                        .map(|x| format!("{:+.1}%", x * 100.0))
                        .unwrap_or_else(|| "-".into()),
                    if r.regression {
                        "**regression**".into()
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        table(
            &mut self.counts,
            &["metric", "base", "candidate", "change", ""],
            &rows,
        );
    }

    fn verdict(&mut self, v: &Verdict) {
        let s = &mut self.counts;
        let _ = writeln!(
            s,
            "**Verdict for stage {}: {}** (exit {})\n",
            v.stage,
            v.decision.name().to_uppercase(),
            v.exit_code
        );
        for l in &v.summary {
            let _ = writeln!(s, "- {}", cell(l));
        }
        s.push('\n');
    }
}

/// Skipped lines and the incomplete flag: once per run.
fn skipped(s: &mut String, sk: &crate::report::Skipped, meta: &crate::report::Meta) {
    let _ = writeln!(
        s,
        "Skipped lines: {}{}",
        sk.total,
        if meta.incomplete {
            "; **incomplete: an input could not be read to its end**"
        } else {
            ""
        }
    );
}

impl Render for Markdown {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        match doc {
            Doc::Summary(r) => {
                s.push_str("## aggmetrics summary\n\n");
                summary(&mut s, r);
            }
            Doc::Buckets(b) => {
                s.push_str("## aggmetrics summary by period\n\n");
                let (rows, note) = super::bucket_rows(b);
                if let Some(first) = rows.first() {
                    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| {
                        x.map(f).unwrap_or_else(|| "-".into())
                    };
                    let mut head = vec!["start (UTC)".to_string(), "records".to_string()];
                    head.extend(first.total_ms.iter().map(|(k, _)| format!("{k} ms")));
                    head.extend(first.rates.iter().map(|(l, _)| l.to_string()));
                    head.push("skipped".into());
                    let _ = writeln!(s, "| {} |", head.join(" | "));
                    let _ = writeln!(s, "|---|{}", "---:|".repeat(head.len() - 1));
                    let p = |x: f64| format!("{:.2}%", x * 100.0);
                    for r in &rows {
                        let mut row = vec![r.start.clone(), r.records.to_string()];
                        row.extend(
                            r.total_ms
                                .iter()
                                .map(|(_, v)| opt(*v, &|x| format!("{x:.3}"))),
                        );
                        row.extend(r.rates.iter().map(|(_, v)| opt(*v, &p)));
                        row.push(r.skipped.to_string());
                        let _ = writeln!(s, "| {} |", row.join(" | "));
                    }
                    let _ = writeln!(s, "\n{note}. Every figure per period: `--format json`.\n");
                } else {
                    s.push_str("No records in any period.\n\n");
                }
                skipped(&mut s, &b.skipped, &b.meta);
            }
            Doc::Risk(r) => {
                let m = &r.metrics;
                let _ = writeln!(
                    s,
                    "## aggmetrics risk\n\n{} records ({} sampled) over {} UTC days.\n",
                    m.total_records, m.sampled_records, r.days_covered
                );
                rates(&mut s, &m.rates.0);
                let _ = writeln!(
                    s,
                    "latency_ms p50 {:.3}, p95 {:.3}, p99 {:.3} (n={})\n",
                    m.latency_p50, m.latency_p95, m.latency_p99, m.latency_count
                );
                if let Some(v) = r.verdict_view() {
                    blocks(&mut s, &v);
                }
            }
            Doc::Kind(d) => {
                let _ = writeln!(s, "## aggmetrics {}\n", d.command);
                for (heading, v) in &d.views {
                    if let Some(h) = heading {
                        let _ = writeln!(s, "### {}\n", cell(&h.to_string()));
                    }
                    section(&mut s, v);
                }
                skipped(&mut s, d.skipped, d.meta);
            }
            Doc::Compare(c) => {
                let _ = writeln!(
                    s,
                    "## aggmetrics compare\n\n`{}` → `{}`: {} regression(s)\n",
                    cell(&c.base),
                    cell(&c.candidate),
                    c.regressions.len()
                );
                blocks(&mut s, &c.view());
            }
        }
        out.write_all(s.as_bytes())
    }
}
