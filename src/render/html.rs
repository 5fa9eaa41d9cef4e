//! `-f html`: one self-contained page (no script, no network reference, a
//! strict Content-Security-Policy) with inline SVG charts and, under every
//! chart, the numbers as a table (its text alternative).
//!
//! The page is a minijinja template (`templates/report.html`, HTML
//! auto-escaped) over a small model built here from the same views every
//! renderer draws; charts come from `svg.rs`. Only categorical keys from
//! the logs appear, as in every format.

use std::io::{self, Write};

use minijinja::value::Value as J;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::svg::{self, Bar, Series};
use super::text::{clean, ms, pct, thousands};
use super::{Doc, KindDoc, Render};
use crate::check::compare::Comparison;
use crate::measure::verdict::Verdict;
use crate::measure::view::{Breakdown, Change, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::figures::{RateFig, Stats};
use crate::report::risk::{RiskMetrics, RiskReport};
use crate::report::verdict::{Criterion, CriterionState, Decision};
use crate::report::{BucketReport, Report, View};

pub struct Html;

const TEMPLATE: &str = include_str!("templates/report.html");

/// The page's only style: allowed by its hash in the CSP, nothing else.
const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0 auto;max-width:980px;padding:1rem 1.5rem;color:#1d1d1d;background:#fff}h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}.lead{margin:.2rem 0;color:#444}.warning{background:#fff4e5;border-left:4px solid #e69f00;padding:.4rem .6rem}.verdict{border-radius:6px;padding:.5rem 1rem;margin:.8rem 0;color:#fff}.verdict p{margin:.2rem 0}.verdict .decision{font-size:1.6rem;font-weight:bold;letter-spacing:.05em}.go{background:#1e7d4f}.hold{background:#b9770e}.rollback{background:#c0392b}figure{margin:1rem 0;overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.85rem}caption{text-align:left;font-weight:bold;padding:.2rem 0}th,td{border:1px solid #ddd;padding:.15rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}tr.alert td{color:#c0392b;font-weight:bold}.note{color:#555;font-size:.85rem}table.notes{width:100%}table.notes td:last-child,table.notes th:last-child{text-align:left;min-width:10rem}table.notes td:first-child{overflow-wrap:anywhere}footer{margin-top:2rem;color:#555;font-size:.8rem;border-top:1px solid #ddd}";

fn csp() -> String {
    use base64::Engine as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; base-uri 'none'; form-action 'none'"
    )
}

#[derive(Serialize, Default)]
struct Page {
    title: String,
    lead: Vec<String>,
    warnings: Vec<String>,
    verdict: Option<VerdictBox>,
    sections: Vec<Section>,
    footer: Vec<String>,
}

#[derive(Serialize)]
struct VerdictBox {
    class: &'static str,
    word: String,
    lines: Vec<String>,
}

#[derive(Serialize, Default)]
struct Section {
    title: String,
    items: Vec<Item>,
}

#[derive(Serialize, Default)]
struct Item {
    /// Inline SVG, written by `svg.rs` (which escapes its text).
    #[serde(skip_serializing_if = "Option::is_none")]
    svg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    table: Option<Table>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
    /// A line the reader must see (a view's note).
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<String>,
}

#[derive(Serialize)]
struct Table {
    /// `notes`: the last column is text (left-aligned, wide).
    class: &'static str,
    caption: String,
    head: Vec<String>,
    rows: Vec<TRow>,
}

#[derive(Serialize)]
struct TRow {
    cells: Vec<String>,
    alert: bool,
}

impl Section {
    fn chart(&mut self, svg: String) {
        self.items.push(Item {
            svg: Some(svg),
            ..Item::default()
        });
    }

    fn table(&mut self, caption: &str, head: &[&str], rows: Vec<(Vec<String>, bool)>) {
        self.items.push(Item {
            table: Some(Table {
                class: "",
                caption: caption.to_string(),
                head: head.iter().map(|h| h.to_string()).collect(),
                rows: rows
                    .into_iter()
                    .map(|(cells, alert)| TRow { cells, alert })
                    .collect(),
            }),
            ..Item::default()
        });
    }

    fn note(&mut self, text: String) {
        self.items.push(Item {
            note: Some(text),
            ..Item::default()
        });
    }
}

/// Gate thresholds to draw on a rate or latency chart: (label, bound).
type Marks = Vec<(String, f64)>;

fn marks_for(criteria: &[Criterion], metric: &str) -> Marks {
    marks_in(criteria, metric, &|b| super::svg::tick_label(b))
}

/// [`marks_for`], each bound written by `unit` (`5%` for a rate).
fn marks_in(criteria: &[Criterion], metric: &str, unit: &dyn Fn(f64) -> String) -> Marks {
    // One line per bound: `go < 500 · alarm > 500`.
    let mut out: Marks = Vec::new();
    for c in criteria.iter().filter(|c| c.metric == metric) {
        let Some(bound) = c.bound else {
            continue;
        };
        let kind = c.kind.name();
        // Only `metric OP bound`, not a drop relative to the baseline.
        let Some(rule) = c.rule.strip_prefix(metric).map(str::trim) else {
            continue;
        };
        if !rule.starts_with(['<', '>']) {
            continue;
        }
        let op: String = rule
            .chars()
            .take_while(|c| matches!(c, '<' | '>' | '='))
            .collect();
        let rule = format!("{op} {}", unit(bound));
        match out.iter_mut().find(|(_, b)| *b == bound) {
            Some((label, _)) => *label = format!("{label} · {kind} {rule}"),
            None => out.push((format!("{kind} {rule}"), bound)),
        }
    }
    out.sort_by(|a, b| a.1.total_cmp(&b.1));
    out
}

/// `p99.9` -> `99.9%`; x positions of the HDR plot's ticks.
fn hdr_ticks(top: f64) -> Vec<(f64, String)> {
    let labels = ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"];
    (0..labels.len())
        .filter(|&k| k as f64 <= top + 1e-9)
        .map(|k| (k as f64 / top.max(1.0), labels[k].to_string()))
        .collect()
}

/// A distribution's cells: its count, percentiles, mean and max (`-`
/// over no values).
fn stats_cells(st: &Stats) -> Vec<String> {
    let fig = |x: f64| super::text::figure(st, x);
    let mut c = vec![thousands(st.count)];
    c.extend(st.percentiles.iter().map(|(_, v)| fig(*v)));
    c.push(fig(st.mean));
    c.push(fig(st.max));
    c
}

fn rate_rows(rates: &[(&str, RateFig)]) -> Vec<(Vec<String>, bool)> {
    rates
        .iter()
        .map(|(name, f)| {
            let v = if f.denominator > 0 {
                pct(f.value)
            } else {
                "-".into()
            };
            (
                vec![
                    name.to_string(),
                    v,
                    thousands(f.numerator),
                    thousands(f.denominator),
                    format!("{} .. {}", pct(f.wilson_95[0]), pct(f.wilson_95[1])),
                ],
                false,
            )
        })
        .collect()
}

/// Rates as bars with their Wilson intervals, each with its own gate
/// thresholds; rates over no records are left out of the chart.
fn rate_chart(
    s: &mut Section,
    title: &str,
    rates: &[(&str, RateFig)],
    marks: &dyn Fn(&str) -> Marks,
) {
    let bars: Vec<Bar> = rates
        .iter()
        .filter(|(_, f)| f.denominator > 0)
        .map(|(name, f)| Bar {
            label: name.to_string(),
            values: vec![(
                f.value * 100.0,
                Some([f.wilson_95[0] * 100.0, f.wilson_95[1] * 100.0]),
            )],
            alert: false,
            marks: marks(name)
                .into_iter()
                .map(|(l, b)| (l, b * 100.0))
                .collect(),
        })
        .collect();
    if !bars.is_empty() {
        s.chart(svg::bars(
            &format!("{title}: rates with 95% Wilson intervals"),
            "Each bar is a rate in percent; the whisker is its 95% Wilson interval; dashed red lines are the rate's own gate thresholds, named under its bar. The numbers are in the table below.",
            "rate, % of records",
            &[],
            &bars,
            &[],
            &|v| format!("{v:.2}%"),
        ));
    }
    s.table(
        &format!("{title}: rates"),
        &["rate", "value", "numerator", "denominator", "95% interval"],
        rate_rows(rates),
    );
}

fn count_chart(
    s: &mut Section,
    title: &str,
    what: &str,
    counts: &std::collections::BTreeMap<String, u64>,
    total: u64,
) {
    if counts.is_empty() {
        return;
    }
    let v = crate::measure::view::largest_first(counts);
    let total = total.max(1) as f64;
    let bars: Vec<Bar> = v
        .iter()
        .take(20)
        .map(|(k, n)| Bar {
            label: clean(k),
            values: vec![(**n as f64, None)],
            alert: false,
            marks: Vec::new(),
        })
        .collect();
    s.chart(svg::bars(
        &format!("{title}: records per {what}"),
        &format!("Records per {what}, largest first; the numbers are in the table below."),
        "records",
        &[],
        &bars,
        &[],
        &|n| format!("{} ({:.1}%)", thousands(n as u64), n / total * 100.0),
    ));
    s.table(
        &format!("{title}: records per {what}"),
        &[what, "records", "share"],
        v.iter()
            .map(|(k, n)| {
                (
                    vec![
                        clean(k),
                        thousands(**n),
                        format!("{:.1}%", **n as f64 / total * 100.0),
                    ],
                    false,
                )
            })
            .collect(),
    );
}

/// Percentile bars of several distributions (p50/p95/p99 per step).
/// One row of a percentile chart: its label, its percentiles (`p50`...)
/// and how many values they are over.
type PRow<'a> = (String, &'a [(String, f64)], u64);

fn percentile_chart(s: &mut Section, title: &str, unit: &str, rows: &[PRow<'_>], marks: &Marks) {
    let rows: Vec<&PRow<'_>> = rows.iter().filter(|(_, _, n)| *n > 0).collect();
    let Some((_, first, _)) = rows.first() else {
        return;
    };
    let names: Vec<&str> = first.iter().map(|(k, _)| k.as_str()).take(3).collect();
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(label, points, _)| Bar {
            label: clean(label),
            values: points.iter().take(3).map(|(_, v)| (*v, None)).collect(),
            alert: false,
            marks: Vec::new(),
        })
        .collect();
    s.chart(svg::bars(
        title,
        "Percentiles per row as bars; the numbers are in the table below.",
        unit,
        &names,
        &bars,
        marks,
        &|v| ms(v),
    ));
}

/// One report section, from its view.
fn section(v: &View, criteria: &[Criterion]) -> Section {
    if v.records == 0 {
        // A quiet window is news, not an empty section.
        let mut s = Section {
            title: v.title.clone(),
            ..Section::default()
        };
        s.note(
            "No records here: no figure is shown, and a figure over no records is not 0.".into(),
        );
        return s;
    }
    blocks(v, criteria)
}

/// A view's blocks as one section of the page.
fn blocks(v: &View, criteria: &[Criterion]) -> Section {
    let mut h = HtmlSection {
        s: Section {
            title: v.title.clone(),
            ..Section::default()
        },
        title: v.name().to_string(),
        criteria,
    };
    super::draw(&v.blocks, &mut h);
    h.s
}

/// A section as the page draws it: a chart and its table per block, with
/// the gates' bounds marked on the charts of what they judge.
struct HtmlSection<'c> {
    s: Section,
    /// The section's plain title, to begin chart and table captions.
    title: String,
    criteria: &'c [Criterion],
}

impl super::Blocks for HtmlSection<'_> {
    fn grid(&mut self, g: &Grid) {
        let (s, title, label) = (&mut self.s, &self.title, g.label);
        // The HDR plot of the first row (total_ms) per column, on one axis
        // up to the highest percentile any count supports.
        if let Some(first) = g.rows.first() {
            let cells: Vec<(&String, &Stats)> = g
                .columns
                .iter()
                .zip(&first.cells)
                .filter_map(|(c, st)| Some((c, st.as_ref().filter(|st| st.curve.len() > 1)?)))
                .collect();
            let top = cells
                .iter()
                .filter_map(|(_, st)| st.curve.last().map(|p| p.0))
                .fold(1.0f64, f64::max);
            let series: Vec<Series> = cells
                .iter()
                .map(|(c, st)| Series {
                    name: format!("{c} (n={})", thousands(st.count)),
                    points: st.curve.iter().map(|(x, y)| (x / top, *y)).collect(),
                })
                .collect();
            if !series.is_empty() {
                s.chart(svg::lines(
                    &format!("{title} {}: percentile distribution per {label}", first.name),
                    "Value against percentile on a 1/(1-q) axis (HDR plot), up to the highest percentile each group's count supports.",
                    "percentile",
                    "milliseconds",
                    &hdr_ticks(top),
                    &series,
                    &[],
                ));
            }
        }
        for (i, c) in g.columns.iter().enumerate() {
            let dists: Vec<PRow> = g
                .rows
                .iter()
                .filter_map(|r| {
                    let st = r.cells.get(i)?.as_ref()?;
                    Some((r.name.clone(), &st.percentiles[..], st.count))
                })
                .collect();
            percentile_chart(
                s,
                &format!(
                    "{title}: percentiles per step, {label} {c} ({} records)",
                    thousands(g.records[i])
                ),
                "milliseconds",
                &dists,
                &Vec::new(),
            );
        }
        let mut head = vec!["metric".to_string(), label.to_string(), "n".into()];
        if let Some(st) = g.rows.iter().flat_map(|r| r.cells.iter().flatten()).next() {
            head.extend(st.percentiles.iter().map(|(k, _)| k.clone()));
        }
        head.extend(["mean".to_string(), "max".into()]);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        let mut t = Vec::new();
        for r in &g.rows {
            for (c, st) in g.columns.iter().zip(&r.cells) {
                if let Some(st) = st.as_ref().filter(|st| st.count > 0) {
                    let mut cells = vec![clean(&r.name), c.clone()];
                    cells.extend(stats_cells(st));
                    t.push((cells, false));
                }
            }
        }
        s.table(&format!("{title}: percentiles, milliseconds"), &head, t);
    }

    fn dist(&mut self, d: &DistLine) {
        if d.count == 0 {
            return;
        }
        let (title, name) = (&self.title, d.name);
        let unit = if name.ends_with("_ms") {
            "milliseconds"
        } else {
            "value"
        };
        let marks = if name.ends_with("_ms") {
            marks_for(self.criteria, "latency_p95")
        } else {
            Vec::new()
        };
        percentile_chart(
            &mut self.s,
            &format!("{title} {name} (n={})", thousands(d.count)),
            unit,
            &[(name.to_string(), &d.points[..], d.count)],
            &marks,
        );
        self.s.table(
            &format!("{title} {name}"),
            &["percentile", "value"],
            d.points
                .iter()
                .map(|(k, v)| (vec![k.clone(), ms(*v)], false))
                .collect(),
        );
    }

    fn shares(&mut self, sh: &Shares) {
        count_chart(&mut self.s, &self.title, sh.label, &sh.counts, sh.total)
    }

    fn note(&mut self, text: &str) {
        self.s.items.push(Item {
            warning: Some(text.to_string()),
            ..Item::default()
        });
    }

    fn breakdown(&mut self, b: &Breakdown) {
        let total = b.counts.values().sum();
        count_chart(&mut self.s, &self.title, b.title, &b.counts, total)
    }

    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]) {
        let criteria = self.criteria;
        rate_chart(&mut self.s, &self.title, rates, &|name| {
            marks_for(criteria, name)
        })
    }

    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]) {
        self.rate_line(rates)
    }

    fn rows(&mut self, r: &ValueRows) {
        let (shown, rows) = r.for_people();
        let (title, name, label) = (&self.title, &shown, r.label);
        let dists: Vec<PRow> = rows
            .iter()
            .map(|(g, st, _)| (g.clone(), &st.percentiles[..], st.count))
            .collect();
        percentile_chart(
            &mut self.s,
            &format!("{title} {name}: percentiles per {label}"),
            "value",
            &dists,
            &Vec::new(),
        );
        let mut head = vec![label.to_string(), "n".into()];
        if let Some((_, st, _)) = rows.first() {
            head.extend(st.percentiles.iter().map(|(k, _)| k.clone()));
        }
        head.extend(["mean".into(), "max".into(), "invalid".into()]);
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        self.s.table(
            &format!("{title} {name}"),
            &head,
            rows.iter()
                .map(|(g, st, inv)| {
                    let mut c = vec![clean(g)];
                    c.extend(stats_cells(st));
                    c.push(thousands(*inv));
                    (c, false)
                })
                .collect(),
        );
    }

    fn cross(&mut self, c: &Cross) {
        let t = &c.title;
        let g = c.grid();
        let head = &g.head;
        let rows = g
            .rows
            .iter()
            .map(|(r, cells)| {
                let mut c = vec![clean(r)];
                c.extend(cells.iter().map(|n| thousands(n.unwrap_or(0))));
                (c, false)
            })
            .collect();
        let head: Vec<String> = head.iter().map(|h| clean(h)).collect();
        let head: Vec<&str> = head.iter().map(String::as_str).collect();
        self.s.table(&format!("{}: {t}", self.title), &head, rows);
    }

    fn changes(&mut self, c: &Changes) {
        let s = &mut self.s;
        // Regressions first, then the largest relative changes.
        let mut shown: Vec<&Change> = c.rows.iter().collect();
        shown.sort_by(|a, b| {
            b.regression.cmp(&a.regression).then(
                b.relative_change
                    .unwrap_or(0.0)
                    .abs()
                    .total_cmp(&a.relative_change.unwrap_or(0.0).abs()),
            )
        });
        // Only figures that moved: an unchanged one would be a pair of dots at
        // 100%, row after row.
        let rows: Vec<(String, f64, f64, bool)> = shown
            .iter()
            .filter(|r| r.regression || r.base != r.candidate)
            .take(25)
            .map(|r| (clean_path(&r.path), r.base, r.candidate, r.regression))
            .collect();
        if rows.is_empty() {
            s.note("No figure changed between base and candidate.".into());
        } else {
            s.chart(svg::dumbbells(
                "Regressions and the largest changes",
                "Each row: the base (grey) and the candidate (blue, red when a regression), scaled to the larger of the two; the numbers are in the table below.",
                &rows,
            ));
        }
        let num = |kind: &str, x: f64| if kind == "rate" { pct(x) } else { ms(x) };
        s.table(
            "Every compared figure, regressions first",
            &[
                "figure",
                "kind",
                "base",
                "candidate",
                "change",
                "relative",
                "p-value",
                "note",
            ],
            c.rows
                .iter()
                .map(|r| {
                    (
                        vec![
                            clean_path(&r.path),
                            r.kind.to_string(),
                            num(r.kind, r.base),
                            num(r.kind, r.candidate),
                            num(r.kind, r.change),
                            r.relative_change
                                .map_or("-".into(), |x| format!("{:+.1}%", x * 100.0)),
                            r.p_value.map_or("-".into(), |x| {
                                if x < 0.001 {
                                    format!("{x:.1e}")
                                } else {
                                    format!("{x:.3}")
                                }
                            }),
                            r.note.clone(),
                        ],
                        r.regression,
                    )
                })
                .collect(),
        );
        if let Some(Item { table: Some(t), .. }) = s.items.last_mut() {
            t.class = "notes";
        }
    }

    /// The criteria table (the verdict's word and reasons are the page's
    /// verdict box, drawn above everything).
    fn verdict(&mut self, v: &Verdict) {
        self.s.table(
            "Criteria",
            &[
                "criterion",
                "kind",
                "value",
                "bound",
                "95% interval",
                "status",
                "why",
            ],
            v.criteria
                .iter()
                .map(|c| {
                    let kind = c.kind.name().to_string();
                    let status = serde_json::to_value(c.status)
                        .ok()
                        .and_then(|k| k.as_str().map(String::from))
                        .unwrap_or_default();
                    let unit = |x: f64| criterion_value(&c.metric, x);
                    // The acceptance criteria's value is its fall against
                    // the baseline.
                    let value = match c.value {
                        Some(x)
                            if c.metric == "acceptance_rate"
                                && c.rule.contains("below the baseline") =>
                        {
                            format!("{} {}", if x >= 0.0 { "down" } else { "up" }, pct(x.abs()))
                        }
                        Some(x) => unit(x),
                        None => "-".into(),
                    };
                    (
                        vec![
                            // The gates file's own text, whole (escaped
                            // by the template; no log value is in it).
                            c.rule.clone(),
                            kind,
                            value,
                            c.bound.map_or("-".into(), unit),
                            c.interval.map_or("-".into(), |i| {
                                format!("{} .. {}", unit(i[0]), unit(i[1]))
                            }),
                            status.replace('_', " "),
                            c.reason.clone(),
                        ],
                        matches!(c.status, CriterionState::Breached | CriterionState::NotMet),
                    )
                })
                .collect(),
        );
        if let Some(Item { table: Some(t), .. }) = self.s.items.last_mut() {
            t.class = "notes";
        }
    }
}

fn lead_and_footer(
    page: &mut Page,
    header: &str,
    skipped: &crate::report::Skipped,
    meta: &crate::report::Meta,
) {
    page.lead = header
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(String::from)
        .collect();
    if meta.inputs.is_empty() {
        page.warnings
            .push("No log file was found: this report is empty.".into());
    }
    if skipped.total > 0 {
        page.warnings
            .push(super::text::skipped_line(skipped).trim().to_string());
    }
    for l in super::text::incomplete_lines(meta).lines() {
        page.warnings.push(l.to_string());
    }
    page.footer = super::table::footer(skipped, meta)
        .lines()
        .filter(|l| {
            !l.trim().is_empty() && !l.starts_with("Skipped:") && !l.starts_with("INCOMPLETE")
        })
        .map(String::from)
        .collect();
}

fn shown(meta: &crate::report::Meta, v: &View) -> bool {
    v.records > 0 || meta.inputs.iter().any(|i| i.kind.name() == v.key.as_str())
}

fn summary(r: &Report) -> Page {
    let mut p = Page {
        title: "aggmetrics summarize".into(),
        ..Page::default()
    };
    lead_and_footer(&mut p, &super::table::header(r), &r.skipped, &r.meta);
    p.sections = r
        .kinds
        .views()
        .iter()
        .filter(|v| shown(&r.meta, v))
        .map(|v| section(v, &[]))
        .collect();
    p
}

fn kind_doc(d: &KindDoc) -> Page {
    let mut p = Page {
        title: format!("aggmetrics {}", d.command),
        ..Page::default()
    };
    let header = format!(
        "{} input{}, {} records{}",
        d.meta.inputs.len(),
        if d.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(d.views.iter().map(|(_, v)| v.records).sum()),
        super::table::window_note(d.meta)
    );
    lead_and_footer(&mut p, &header, d.skipped, d.meta);
    for (span, v) in &d.views {
        let mut s = section(v, &[]);
        if let Some(span) = span {
            s.title = format!("{} · {}", s.title, clean(&span.to_string()));
        }
        p.sections.push(s);
    }
    p
}

fn buckets(b: &BucketReport) -> Page {
    let (rows, note) = super::bucket_rows(b);
    let mut p = Page {
        title: format!("aggmetrics summarize --by {}", super::bucket_period(b)),
        ..Page::default()
    };
    let header = format!(
        "{} input{}, {} records{}, {} bucket{}",
        b.meta.inputs.len(),
        if b.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(rows.iter().map(|r| r.records).sum()),
        super::table::window_note(&b.meta),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
    );
    lead_and_footer(&mut p, &header, &b.skipped, &b.meta);
    let mut s = Section {
        title: "Trends per bucket".into(),
        ..Section::default()
    };
    if rows.is_empty() {
        s.note("No records in any bucket.".into());
        p.sections.push(s);
        return p;
    }
    let n = rows.len();
    let x = |i: usize| {
        if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.5
        }
    };
    let mut xt: Vec<(f64, String)> = vec![(x(0), rows[0].start.clone())];
    if n > 2 {
        xt.push((x(n / 2), rows[n / 2].start.clone()));
    }
    if n > 1 {
        xt.push((x(n - 1), rows[n - 1].start.clone()));
    }
    // The headline distribution's percentiles per bucket.
    let pnames: Vec<String> = rows[0].total_ms.iter().map(|(k, _)| k.clone()).collect();
    let series: Vec<Series> = pnames
        .iter()
        .enumerate()
        .map(|(j, k)| Series {
            name: k.clone(),
            points: rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((x(i), r.total_ms.get(j)?.1?)))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !series.is_empty() {
        s.chart(svg::lines(
            "Latency percentiles per bucket",
            &format!("{note}. Buckets without records have no point."),
            "bucket start (UTC)",
            "milliseconds",
            &xt,
            &series,
            &[],
        ));
    }
    let rate_series: Vec<Series> = rows[0]
        .rates
        .iter()
        .enumerate()
        .map(|(j, (label, _))| Series {
            name: format!("{label} rate"),
            points: rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| Some((x(i), r.rates.get(j)?.1? * 100.0)))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    if !rate_series.is_empty() {
        s.chart(svg::lines(
            "Error and fallback rates per bucket",
            &format!("{note}. Rates in percent."),
            "bucket start (UTC)",
            "% of records",
            &xt,
            &rate_series,
            &[],
        ));
    }
    bucket_table(&mut s, &rows, &pnames);
    s.note(format!("{note}; -: no records."));
    p.sections.push(s);
    p
}

/// The `--by` page's table: each column says what it counts, records of
/// every log, then the values the percentiles are over.
fn bucket_table(s: &mut Section, rows: &[super::BucketRow], pnames: &[String]) {
    let mut head = vec!["start (UTC)".to_string(), "records (all logs)".into()];
    let counted = rows.iter().any(|r| r.headline_count.is_some());
    if counted {
        head.push("n (percentiles)".into());
    }
    head.extend(pnames.iter().cloned());
    head.extend(rows[0].rates.iter().map(|(l, _)| l.to_string()));
    head.push("skipped".into());
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_else(|| "-".into());
    s.table(
        "Per bucket",
        &head,
        rows.iter()
            .map(|r| {
                let mut c = vec![r.start.clone(), thousands(r.records)];
                if counted {
                    c.push(r.headline_count.map_or("-".into(), thousands));
                }
                c.extend(r.total_ms.iter().map(|(_, v)| opt(*v, ms)));
                c.extend(r.rates.iter().map(|(_, v)| opt(*v, pct)));
                c.push(thousands(r.skipped));
                (c, false)
            })
            .collect(),
    );
}

fn risk_section(title: String, m: &RiskMetrics, criteria: &[Criterion]) -> Section {
    let mut s = Section {
        title,
        ..Section::default()
    };
    rate_chart(&mut s, "Partial-trust risk", &m.rates.0, &|name| {
        marks_in(criteria, name, &pct)
    });
    if m.latency_count > 0 {
        let points = [
            ("p50".to_string(), m.latency_p50),
            ("p95".to_string(), m.latency_p95),
            ("p99".to_string(), m.latency_p99),
        ];
        percentile_chart(
            &mut s,
            &format!(
                "Risk latency_ms, lower rank (n={})",
                thousands(m.latency_count)
            ),
            "milliseconds",
            &[("latency_ms".into(), &points[..], m.latency_count)],
            &marks_for(criteria, "latency_p95"),
        );
    }
    count_chart(
        &mut s,
        "Risk",
        "status",
        &m.status_breakdown,
        m.total_records,
    );
    s
}

/// A criterion's value or bound in the unit of its metric: a rate (or a
/// fall relative to the baseline) in percent, a latency in ms, records,
/// days, minutes, regressions.
fn criterion_value(metric: &str, x: f64) -> String {
    // No `-0.0`: a fall of nothing is 0.
    let x = if x == 0.0 { 0.0 } else { x };
    match metric {
        "sampled_records" | "sample_rates" | "sample_rates.other" => {
            format!("{} records", thousands(x.max(0.0) as u64))
        }
        // Cut, never rounded up: 2.999 days are not yet 3.
        "elapsed_days" => format!("{:.2} days", (x * 100.0).floor() / 100.0),
        "longest_gap.minutes" => format!("{x:.1} min"),
        "regression" => {
            let n = x.max(0.0) as u64;
            format!("{n} regression{}", if n == 1 { "" } else { "s" })
        }
        m if m.ends_with("_rate") || m.contains("_rate.") => pct(x),
        m if m.starts_with("latency") => format!("{} ms", ms(x)),
        _ => super::svg::tick_label(x),
    }
}

fn risk(r: &RiskReport) -> Page {
    let mut p = Page {
        title: "aggmetrics risk".into(),
        ..Page::default()
    };
    let header = super::table_risk::header(r);
    lead_and_footer(&mut p, &header, &r.skipped, &r.meta);
    let criteria = r.verdict.as_ref().map_or(&[][..], |v| &v.criteria[..]);
    if let Some(v) = &r.verdict {
        p.verdict = Some(VerdictBox {
            class: match v.decision {
                Decision::Go => "go",
                Decision::Hold => "hold",
                Decision::Rollback => "rollback",
            },
            word: format!("Stage {}: {}", v.stage, v.decision.name().to_uppercase()),
            lines: v.summary.clone(),
        });
    }
    p.sections.push(risk_section(
        format!(
            "Partial-trust risk ({} records, {} sampled)",
            thousands(r.metrics.total_records),
            thousands(r.metrics.sampled_records)
        ),
        &r.metrics,
        criteria,
    ));
    if let (Some(view), Some(v)) = (r.verdict_view(), &r.verdict) {
        let mut s = blocks(&view, criteria);
        // The gates file's path as the operator gave it, cleaned.
        s.title = format!("Gates of stage {} ({})", v.stage, clean(&v.gates));
        p.sections.push(s);
    }
    if let Some(days) = &r.by_day {
        p.sections.push(risk_days(days, criteria));
    }
    p
}

/// The risk report's days: each rate per day against its own gate
/// thresholds, and the days' table.
fn risk_days(days: &[crate::report::risk::Day], criteria: &[Criterion]) -> Section {
    let mut s = Section {
        title: "Per UTC day".into(),
        ..Section::default()
    };
    let n = days.len();
    let x = |i: usize| {
        if n > 1 {
            i as f64 / (n - 1) as f64
        } else {
            0.5
        }
    };
    let xt: Vec<(f64, String)> = days
        .iter()
        .enumerate()
        .map(|(i, d)| (x(i), d.day.clone()))
        .collect();
    // One chart per rate, each against its own gate thresholds (an
    // intent-mismatch rate drawn against the error rate's lines would
    // read as a breach).
    for (name, what) in [
        ("error_rate", "Error rate"),
        ("intent_mismatch_rate", "Intent mismatch rate"),
        ("entity_key_mismatch_rate", "Entity key mismatch rate"),
        ("acceptance_rate", "Acceptance rate"),
    ] {
        let series = [Series {
            name: name.to_string(),
            points: days
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let f = d.metrics.rates.get(name)?;
                    (f.denominator > 0).then(|| (x(i), f.value * 100.0))
                })
                .collect(),
        }];
        if series[0].points.is_empty() {
            continue;
        }
        let marks: Vec<(String, f64)> = marks_in(criteria, name, &pct)
            .into_iter()
            .map(|(l, b)| (l, b * 100.0))
            .collect();
        s.chart(svg::lines(
            &format!("{what} per UTC day ({name})"),
            &format!(
                "{what} per day, in percent{}.",
                if marks.is_empty() {
                    String::new()
                } else {
                    "; dashed red lines are its own gate thresholds".to_string()
                }
            ),
            "day (UTC)",
            "% of records",
            &xt,
            &series,
            &marks,
        ));
    }
    s.table(
        "Per UTC day",
        &[
            "day",
            "records",
            "sampled",
            "error rate",
            "intent mismatch",
            "entity mismatch",
            "acceptance",
            "latency p95",
        ],
        days.iter()
            .map(|d| {
                let m = &d.metrics;
                (
                    vec![
                        d.day.clone(),
                        thousands(m.total_records),
                        thousands(m.sampled_records),
                        pct(m.rate("error_rate")),
                        pct(m.rate("intent_mismatch_rate")),
                        pct(m.rate("entity_key_mismatch_rate")),
                        match m.rates.get("acceptance_rate") {
                            Some(f) if f.denominator > 0 => pct(f.value),
                            _ => "-".into(),
                        },
                        if m.latency_count > 0 {
                            ms(m.latency_p95)
                        } else {
                            "-".into()
                        },
                    ],
                    false,
                )
            })
            .collect(),
    );
    s
}

fn compare(c: &Comparison) -> Page {
    let mut p = Page {
        title: "aggmetrics compare".into(),
        ..Page::default()
    };
    p.lead = vec![
        format!("base: {}", clean(&c.base)),
        format!("candidate: {}", clean(&c.candidate)),
        format!(
            "{} regression{} among {} figures",
            c.regressions.len(),
            if c.regressions.len() == 1 { "" } else { "s" },
            c.metrics.len()
        ),
    ];
    if !c.regressions.is_empty() {
        p.warnings.push(format!(
            "Regressions: {}",
            c.regressions
                .iter()
                .map(|r| clean_path(r))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    p.sections.push(blocks(&c.view(), &[]));
    p
}

/// A key path with each name (a step, an outcome: from the logs) cleaned
/// on its own, so two long paths never cut to the same text.
fn clean_path(p: &str) -> String {
    p.split('.')
        .map(|seg| {
            // Whole up to 120 characters; beyond, its start and its end
            // (where names that share a prefix differ), escaped as clean()
            // escapes them.
            let esc = |s: &mut dyn Iterator<Item = char>| -> String {
                s.map(|c| {
                    if c.is_control() {
                        c.escape_default().collect()
                    } else {
                        c.to_string()
                    }
                })
                .collect()
            };
            let n = seg.chars().count();
            if n == 0 {
                clean(seg)
            } else if n <= 120 {
                esc(&mut seg.chars())
            } else {
                format!(
                    "{}…{}",
                    esc(&mut seg.chars().take(60)),
                    esc(&mut seg.chars().skip(n - 59))
                )
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The page for a document.
pub fn page(doc: &Doc<'_>) -> io::Result<String> {
    let p = match doc {
        Doc::Summary(r) => summary(r),
        Doc::Buckets(b) => buckets(b),
        Doc::Risk(r) => risk(r),
        Doc::Compare(c) => compare(c),
        Doc::Kind(d) => kind_doc(d),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)
        .map_err(io::Error::other)?;
    let tmpl = env.get_template("report.html").map_err(io::Error::other)?;
    // Charts are SVG the writer escaped: marked safe, everything else is
    // escaped by the template.
    let sections: Vec<J> = p
        .sections
        .iter()
        .map(|s| {
            let items: Vec<J> = s
                .items
                .iter()
                .map(|it| {
                    let mut m = std::collections::BTreeMap::new();
                    if let Some(svg) = &it.svg {
                        m.insert("svg", J::from_safe_string(svg.clone()));
                    }
                    if let Some(t) = &it.table {
                        m.insert("table", J::from_serialize(t));
                    }
                    if let Some(n) = &it.note {
                        m.insert("note", J::from(n.as_str()));
                    }
                    if let Some(w) = &it.warning {
                        m.insert("warning", J::from(w.as_str()));
                    }
                    J::from_iter(m)
                })
                .collect();
            minijinja::context! { title => s.title, items => items }
        })
        .collect();
    tmpl.render(minijinja::context! {
        title => p.title,
        lead => p.lead,
        warnings => p.warnings,
        verdict => p.verdict,
        sections => sections,
        footer => p.footer,
        style => J::from_safe_string(STYLE.to_string()),
        csp => csp(),
        version => env!("CARGO_PKG_VERSION"),
    })
    .map_err(io::Error::other)
}

impl Render for Html {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        out.write_all(page(doc)?.as_bytes())
    }
}
