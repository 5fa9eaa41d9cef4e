//! The human table: groups side by side, units in the headers, rates as
//! percentages, and a line saying what was skipped and why.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::text::{breakdown, clean, grid, incomplete_lines, ms, pct, skipped_line, thousands};
use super::{table_compare, table_risk, Doc, Render};
use crate::check::compare::Comparison;
use crate::measure::verdict::Verdict;
use crate::measure::view::largest_first;
use crate::measure::view::{Breakdown, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::risk::RiskReport;
use crate::report::{RateFig, Report, Skipped, Stats, View};

pub struct Table {
    /// Where the table is shown: its width and colour.
    pub term: super::term::Term,
}

fn stat_rows(rows: &mut Vec<Vec<String>>, name: &str, groups: &[Option<&Stats>], extra: bool) {
    let first = groups.iter().flatten().next();
    let Some(first) = first else { return };
    let mut labels: Vec<String> = first.percentiles.iter().map(|(k, _)| k.clone()).collect();
    if extra {
        labels.extend(["mean", "max"].map(String::from));
    }
    for (i, label) in labels.iter().enumerate() {
        let mut row = vec![
            if i == 0 { clean(name) } else { String::new() },
            label.clone(),
        ];
        for g in groups {
            row.push(match g {
                None => "-".into(),
                Some(s) if s.count == 0 => "-".into(),
                Some(s) => ms(match label.as_str() {
                    "mean" => s.mean,
                    "max" => s.max,
                    _ => s.get(label).unwrap_or(0.0),
                }),
            });
        }
        rows.push(row);
    }
}

fn cross(c: &Cross, w: usize) -> String {
    let g = c.grid();
    let mut rows = vec![g.head.iter().map(|h| clean(h)).collect::<Vec<_>>()];
    for (k, cells) in &g.rows {
        let mut row = vec![clean(k)];
        row.extend(cells.iter().map(|n| n.map_or("-".into(), thousands)));
        rows.push(row);
    }
    grid(&rows, 1, "  ", w)
}

impl Render for Table {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let w = self.term.width;
        let s = match doc {
            Doc::Summary(r) => summary(r, w),
            Doc::Buckets(b) => buckets(b, w),
            Doc::Risk(r) => risk(r, w),
            Doc::Compare(c) => compare(c, w),
            Doc::Kind(d) => kind_doc(d, w),
        };
        out.write_all(super::term::finish(&s, self.term).as_bytes())
    }
}

/// The risk report as a table: what the records show, per day if asked,
/// the verdict if judged, and what was skipped.
fn risk(r: &RiskReport, w: usize) -> String {
    let mut s = table_risk::header(r);
    s.push_str(&table_risk::figures(&r.metrics, r, w));
    if let Some(days) = &r.by_day {
        s.push_str(&table_risk::by_day(days, w));
    }
    if let Some(v) = r.verdict_view() {
        s = blocks(&v, w, s);
    }
    s.push_str(&table_risk::footer(r));
    s
}

/// The comparison: what a regression is, then its changes.
fn compare(c: &Comparison, w: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "aggmetrics compare: {} -> {}", c.base, c.candidate);
    let _ = writeln!(
        s,
        "  regression: a latency percentile up more than {}%, or a rate moved the bad way by more than {} with p < {}",
        c.thresholds.max_latency_regression * 100.0,
        c.thresholds.max_rate_increase,
        c.thresholds.alpha
    );
    blocks(&c.view(), w, s)
}

fn summary(r: &Report, w: usize) -> String {
    let mut s = header(r);
    s.push_str(&body(r, w));
    s.push_str(&footer(&r.skipped, &r.meta));
    s
}

/// A kind's own document (`aggmetrics shadow`): a header, its section,
/// the run's footer.
fn kind_doc(d: &super::KindDoc, w: usize) -> String {
    let mut s = format!(
        "aggmetrics {}: {} input{}, {} records{}\n",
        d.command,
        d.meta.inputs.len(),
        if d.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(d.views.iter().map(|(_, v)| v.records).sum()),
        window_note(d.meta),
    );
    for (heading, v) in &d.views {
        if let Some(h) = heading {
            let _ = writeln!(s, "\n== {h}");
        }
        s.push_str(&section(v, w));
    }
    s.push_str(&footer(d.skipped, d.meta));
    s
}

/// `--by hour|day`: the run's header, one row per bucket, the run's
/// skipped lines once.
fn buckets(b: &crate::report::BucketReport, w: usize) -> String {
    let (rows, note) = super::bucket_rows(b);
    let records: u64 = rows.iter().map(|r| r.records).sum();
    let mut s = format!(
        "aggmetrics summarize: {} input{}, {} records{}, {} bucket{}\n\n",
        b.meta.inputs.len(),
        if b.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(records),
        window_note(&b.meta),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
    );
    if rows.is_empty() {
        s.push_str("No records in any bucket.\n");
    } else {
        let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_else(|| "-".into());
        let mut head = vec!["start (UTC)".to_string(), "records".into()];
        head.extend(rows[0].total_ms.iter().map(|(k, _)| k.clone()));
        head.extend(rows[0].rates.iter().map(|(label, _)| label.to_string()));
        head.push("skipped".into());
        let mut grid_rows = vec![head];
        for r in &rows {
            let mut row = vec![r.start.clone(), thousands(r.records)];
            row.extend(r.total_ms.iter().map(|(_, v)| opt(*v, ms)));
            row.extend(r.rates.iter().map(|(_, v)| opt(*v, pct)));
            row.push(thousands(r.skipped));
            grid_rows.push(row);
        }
        s.push_str(&grid(&grid_rows, 1, "", w));
        let _ = writeln!(
            s,
            "\n{note}; -: no records. Every figure per bucket: --format json."
        );
    }
    s.push_str(&footer(&b.skipped, &b.meta));
    s
}

/// ` in SINCE .. UNTIL (N outside)` for a windowed report.
pub fn window_note(meta: &crate::report::Meta) -> String {
    let Some(w) = &meta.window else {
        return String::new();
    };
    let end =
        |t: &Option<String>, open: &str| t.as_deref().map(clean).unwrap_or_else(|| open.into());
    let mut s = format!(
        " in {} .. {}",
        end(&w.since, "the beginning"),
        end(&w.until, "the end")
    );
    if let Some(n) = w.outside {
        let _ = write!(s, " ({} outside)", thousands(n));
    }
    s
}

/// `aggmetrics summarize: N inputs, N records, first .. last`.
pub(super) fn header(r: &Report) -> String {
    let mut s = String::new();
    // The records the figures count (in the window, when there is one).
    let records = r.records();
    let _ = writeln!(
        s,
        "aggmetrics summarize: {} input{}, {} records{}, {} .. {}",
        r.meta.inputs.len(),
        if r.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(records),
        window_note(&r.meta),
        r.time_range
            .first
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
        r.time_range
            .last
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
    );
    s
}

/// Every section of one report (or bucket), drawn from its view.
fn body(r: &Report, w: usize) -> String {
    let inputs: Vec<&str> = r.meta.inputs.iter().map(|i| i.kind.name()).collect();
    r.kinds
        .views()
        .iter()
        // A kind with no records and no input is not news.
        .filter(|v| v.records > 0 || inputs.contains(&v.key.as_str()))
        .map(|v| section(v, w))
        .collect()
}

/// `error_rate` -> `error rate`.
fn rate_label(name: &str) -> String {
    name.replace('_', " ")
}

/// One section: its title, then each block.
pub fn section(v: &View, w: usize) -> String {
    blocks(v, w, format!("\n{}\n", v.title))
}

/// A view's blocks after `s` (a heading).
pub(super) fn blocks(v: &View, w: usize, s: String) -> String {
    let mut t = TableSection { s, w };
    super::draw(&v.blocks, &mut t);
    t.s
}

/// A section as the table draws it, `w` columns wide.
struct TableSection {
    s: String,
    w: usize,
}

impl super::Blocks for TableSection {
    fn grid(&mut self, g: &Grid) {
        let mut head = vec![String::new(), String::new()];
        head.extend(g.columns.iter().map(|c| clean(c)));
        let mut count = vec!["records".to_string(), String::new()];
        count.extend(g.records.iter().map(|n| thousands(*n)));
        let mut grid_rows = vec![head, count];
        for r in &g.rows {
            let cells: Vec<Option<&Stats>> = r.cells.iter().map(Option::as_ref).collect();
            stat_rows(&mut grid_rows, &r.name, &cells, r.detail);
        }
        self.s.push_str(&grid(&grid_rows, 2, "  ", self.w));
    }

    fn dist(&mut self, d: &DistLine) {
        if d.count > 0 {
            let ps: Vec<String> = d
                .points
                .iter()
                .map(|(k, v)| format!("{k} {}", ms(*v)))
                .collect();
            let _ = writeln!(
                self.s,
                "  {}  {}  (n={})",
                d.name,
                ps.join("  "),
                thousands(d.count)
            );
        }
    }

    fn shares(&mut self, sh: &Shares) {
        let mut rows = vec![vec![sh.label.to_string(), "records".into(), "share".into()]];
        for (k, n) in largest_first(&sh.counts) {
            let share = if sh.total == 0 {
                0.0
            } else {
                *n as f64 / sh.total as f64
            };
            rows.push(vec![clean(k), thousands(*n), pct(share)]);
        }
        self.s.push_str(&grid(&rows, 1, "  ", self.w));
    }

    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]) {
        let parts: Vec<String> = rates
            .iter()
            .map(|(k, f)| format!("{} {}", rate_label(k), pct(f.value)))
            .collect();
        let _ = writeln!(self.s, "  {}", parts.join("   "));
    }

    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]) {
        let rows: Vec<Vec<String>> = rates
            .iter()
            .map(|(k, f)| {
                vec![
                    rate_label(k),
                    pct(f.value),
                    format!("of {}", thousands(f.denominator)),
                ]
            })
            .collect();
        self.s.push_str(&grid(&rows, 1, "  ", self.w));
    }

    fn breakdown(&mut self, b: &Breakdown) {
        if !b.counts.is_empty() {
            let _ = writeln!(self.s, "  {}: {}", b.title, breakdown(&b.counts));
        }
    }

    fn note(&mut self, text: &str) {
        let _ = writeln!(
            self.s,
            "  note: {}",
            super::text::wrapped(text, "        ", self.w)
        );
    }

    fn rows(&mut self, r: &ValueRows) {
        let (name, rows) = r.for_people();
        let _ = writeln!(self.s, "\n  {}", clean(&name));
        let ps: Vec<String> = rows
            .first()
            .map(|r| r.1.percentiles.iter().map(|(k, _)| k.clone()).collect())
            .unwrap_or_default();
        let mut head = vec![r.label.to_string(), "n".into()];
        head.extend(ps.iter().cloned());
        head.extend(["mean", "max", "invalid"].map(String::from));
        let mut grid_rows = vec![head];
        for (row, st, invalid) in &rows {
            let mut cells = vec![clean(row), thousands(st.count)];
            let fig = |x: f64| super::text::figure(st, x);
            cells.extend(st.percentiles.iter().map(|(_, v)| fig(*v)));
            cells.push(fig(st.mean));
            cells.push(fig(st.max));
            cells.push(thousands(*invalid));
            grid_rows.push(cells);
        }
        self.s.push_str(&grid(&grid_rows, 1, "  ", self.w));
    }

    fn cross(&mut self, c: &Cross) {
        if !c.cells.is_empty() {
            self.s.push('\n');
            self.s.push_str(&cross(c, self.w));
        }
    }

    fn changes(&mut self, c: &Changes) {
        table_compare::changes(&mut self.s, c, self.w)
    }

    fn verdict(&mut self, v: &Verdict) {
        self.s.push_str(&table_risk::verdict(v, self.w))
    }
}

/// Skipped lines, incomplete inputs and precision: once per run.
pub fn footer(skipped: &Skipped, meta: &crate::report::Meta) -> String {
    let mut s = String::from("\n");
    s.push_str(&skipped_line(skipped));
    s.push_str(&incomplete_lines(meta));
    if !meta.passed_over.is_empty() {
        let _ = writeln!(
            s,
            "Passed over: {} last changed before the window (meta.passed_over); --all-files reads them",
            match meta.passed_over.len() {
                1 => "1 file".to_string(),
                n => format!("{} files", thousands(n as u64)),
            }
        );
    }
    match meta.precision.significant_digits {
        Some(d) => {
            let _ = writeln!(s, "Precision: HDR histograms, {d} significant digits, values to 0.001 (1 µs); percentiles as --exact computes them (interpolated, or the analyzers' lower rank), each at most 1e-{d} above");
        }
        None => {
            let _ = writeln!(s, "Precision: exact values; linear-interpolation percentiles as the platform script computed them");
        }
    }
    s
}
