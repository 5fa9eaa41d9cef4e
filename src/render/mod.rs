//! One renderer per output format behind one trait, over the plain report
//! models. Adding a format: a file here and a line in [`Format`] /
//! [`renderer`].

mod csv;
mod html;
mod json;
mod markdown;
#[cfg(feature = "parquet")]
mod parquet;
pub mod prometheus;
mod svg;
mod table;
mod table_compare;
mod table_risk;
pub mod term;
mod text;

use std::io::{self, Write};

use crate::check::compare::Comparison;
use crate::measure::verdict::Verdict;
use crate::measure::view::{Block, Breakdown, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::figures::RateFig;
use crate::report::risk::RiskReport;
use crate::report::{BucketReport, Report};

/// A document to render: what each subcommand produces.
#[derive(Debug, Clone, Copy)]
pub enum Doc<'a> {
    Summary(&'a Report),
    Buckets(&'a BucketReport),
    Risk(&'a RiskReport),
    Compare(&'a Comparison),
    /// A log kind's own report (`aggmetrics shadow`).
    Kind(&'a KindDoc<'a>),
}

/// A log kind's own report, drawn without knowing the kind: its JSON body
/// (what `-f json` writes and CSV flattens), its section's view (what the
/// table, Markdown and Prometheus draw), and the run's skipped lines and
/// meta.
#[derive(Debug, Clone)]
pub struct KindDoc<'a> {
    /// The subcommand, for headings: `shadow`.
    pub command: &'static str,
    pub body: serde_json::Value,
    /// The section's views: one for the whole run (span `None`), or one
    /// per time bucket (with its span).
    pub views: Vec<(Option<crate::report::Interval>, crate::report::View)>,
    pub skipped: &'a crate::report::Skipped,
    pub meta: &'a crate::report::Meta,
}

/// What kind of document a [`Doc`] is, to ask a renderer before the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Summary,
    Buckets,
    Risk,
    Compare,
    Kind,
}

impl Doc<'_> {
    pub fn kind(&self) -> DocKind {
        match self {
            Doc::Summary(_) => DocKind::Summary,
            Doc::Buckets(_) => DocKind::Buckets,
            Doc::Risk(_) => DocKind::Risk,
            Doc::Compare(_) => DocKind::Compare,
            Doc::Kind(_) => DocKind::Kind,
        }
    }
}

pub trait Render {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()>;

    /// Whether this format can show that kind of document; `Err` says why
    /// not and what to use instead.
    fn supports(&self, _kind: DocKind) -> Result<(), &'static str> {
        Ok(())
    }

    /// Whether this build has the format (an optional cargo feature);
    /// `Err` says how to get it.
    fn built(&self) -> Result<(), &'static str> {
        Ok(())
    }
}

/// The documents Parquet shows (with or without the feature built in).
fn parquet_supports(kind: DocKind) -> Result<(), &'static str> {
    match kind {
        DocKind::Compare => {
            Err("--format parquet does not show comparisons: use table, json, csv or markdown")
        }
        _ => Ok(()),
    }
}

/// What a format draws for each kind of [`Block`], one method each, as
/// hyperfine's exporters give only their row syntax: [`draw`] walks a
/// view's blocks in order and calls these. A new block is one method in
/// each format; a new format is one implementation. A format that lays a
/// section out in another order collects here and arranges afterwards
/// (Markdown puts every distribution in one table first).
trait Blocks {
    fn grid(&mut self, g: &Grid);
    /// Drawn only when it holds values.
    fn dist(&mut self, d: &DistLine);
    fn shares(&mut self, s: &Shares);
    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]);
    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]);
    fn breakdown(&mut self, b: &Breakdown);
    fn rows(&mut self, r: &ValueRows);
    fn cross(&mut self, c: &Cross);
    /// Distinct values per group: a one-column table unless the format
    /// has a form of its own.
    fn distinct(&mut self, d: &crate::measure::view::DistinctRows) {
        if let Some(n) = d.note() {
            self.note(&n);
        }
        self.cross(&d.as_cross());
    }
    /// Two reports' figures side by side, regressions first.
    fn changes(&mut self, c: &Changes);
    /// A rollout verdict: the decision, its reasons, every criterion.
    fn verdict(&mut self, v: &Verdict);
    /// A line the reader must see (what the figures leave out).
    fn note(&mut self, text: &str);
    /// What the group rows' labels are made of (see
    /// [`Block::GroupFields`]); only a format that labels by field keeps it.
    fn group_fields(
        &mut self,
        _fields: &std::collections::BTreeMap<String, Vec<(String, String)>>,
    ) {
    }
}

/// Draws each block with the format's method for its kind: the one place
/// that tells blocks apart.
fn draw(blocks: &[Block], to: &mut impl Blocks) {
    for b in blocks {
        match b {
            Block::Grid(g) => to.grid(g),
            Block::Dist(d) => to.dist(d),
            Block::Shares(s) => to.shares(s),
            Block::RateLine(r) => to.rate_line(r),
            Block::RateRows(r) => to.rate_rows(r),
            Block::Breakdown(b) => to.breakdown(b),
            Block::Rows(r) => to.rows(r),
            Block::Cross(c) => to.cross(c),
            Block::Changes(c) => to.changes(c),
            Block::Verdict(v) => to.verdict(v),
            Block::Note(n) => to.note(n),
            Block::Distinct(d) => to.distinct(d),
            Block::GroupFields(f) => to.group_fields(f),
        }
    }
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned human table (default).
    Table,
    /// The JSON report (a superset of the platform scripts' keys).
    Json,
    /// A node_exporter textfile (`*.prom`): histograms and gauges prefixed
    /// `aggmetrics_`.
    Prometheus,
    /// One row per figure: `key,value`, keys as in the JSON report.
    Csv,
    /// Markdown tables, for reports and chats.
    Markdown,
    /// One self-contained HTML page with SVG charts and their tables.
    Html,
    /// A typed long table for SQL engines (needs `-o FILE`; builds with
    /// the `parquet` feature).
    Parquet,
}

/// The registry.
/// What a renderer is built with besides the document: where a table is
/// shown, and the `run` label of Prometheus series. The command layer
/// decides both for the output a document goes to.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub term: term::Term,
    /// `--run-name`, or the -o file's name (empty on standard output).
    pub run: String,
    /// Counts only grow (`aggmetrics serve`): Prometheus writes them as
    /// counters.
    pub cumulative: bool,
}

/// The renderer of a format, with default [`Settings`] (80 columns, no
/// colour, no run name): to ask what a format supports.
pub fn renderer(f: Format) -> Box<dyn Render> {
    renderer_with(f, &Settings::default())
}

/// The renderer of a format, built with its settings.
pub fn renderer_with(f: Format, settings: &Settings) -> Box<dyn Render> {
    match f {
        Format::Table => Box::new(table::Table {
            term: settings.term,
        }),
        Format::Json => Box::new(json::Json),
        Format::Prometheus => Box::new(prometheus::Prometheus {
            run: settings.run.clone(),
            cumulative: settings.cumulative,
        }),
        Format::Csv => Box::new(csv::Csv),
        Format::Markdown => Box::new(markdown::Markdown),
        Format::Html => Box::new(html::Html),
        #[cfg(feature = "parquet")]
        Format::Parquet => Box::new(parquet::Parquet),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => Box::new(NoParquet),
    }
}

/// `-f parquet` in a build without the `parquet` feature: a usage error
/// that says how to get it, before any log is read.
#[cfg(not(feature = "parquet"))]
struct NoParquet;

#[cfg(not(feature = "parquet"))]
impl Render for NoParquet {
    fn supports(&self, kind: DocKind) -> Result<(), &'static str> {
        parquet_supports(kind)
    }

    fn built(&self) -> Result<(), &'static str> {
        Err("this aggmetrics was built without Parquet: build it with `cargo install --features parquet` (or `cargo build --release --features parquet`)")
    }

    fn render(&self, _: &Doc<'_>, _: &mut dyn Write) -> io::Result<()> {
        let why = self.built().err().unwrap_or("unsupported");
        Err(io::Error::new(io::ErrorKind::Unsupported, why))
    }
}

/// One `--by` bucket as a row of the table and Markdown: the few figures
/// that show where a spike is (each kind's headline distribution and trend
/// rates, see [`crate::report::View`]); the detail is in JSON.
pub struct BucketRow {
    /// `2026-02-10 12:00` (to the second when the window starts inside
    /// the bucket).
    pub start: String,
    /// Records of every log in the bucket.
    pub records: u64,
    /// Values of the headline distribution (what its percentiles are
    /// over): `None` without one.
    pub headline_count: Option<u64>,
    /// The headline distribution's percentiles, as asked (`--percentiles`);
    /// `None` without values.
    pub total_ms: Vec<(String, Option<f64>)>,
    /// (column label, rate): `None` over no records.
    pub rates: Vec<(&'static str, Option<f64>)>,
    pub skipped: u64,
}

/// The rows of a `--by` report, in time order, and the note that says
/// what their columns are.
/// `hour` or `day`: the width of a `--by` report's buckets (the widest,
/// since the window may cut the first and last).
pub fn bucket_period(b: &crate::report::BucketReport) -> &'static str {
    let secs = |s: &str| crate::parse::Timestamp::parse(s).map(|t| t.micros / 1_000_000);
    let widest = b
        .buckets
        .iter()
        .filter_map(|e| Some(secs(&e.end)? - secs(&e.start)?))
        .max()
        .unwrap_or(0);
    if widest > 3600 {
        "day"
    } else {
        "hour"
    }
}

pub fn bucket_rows(b: &crate::report::BucketReport) -> (Vec<BucketRow>, String) {
    // The kinds the run read.
    let shown = |v: &crate::report::View| {
        b.meta
            .inputs
            .iter()
            .any(|i| i.kind.name() == v.key.as_str())
    };
    let mut note = String::new();
    let rows = b
        .buckets
        .iter()
        .map(|e| {
            let r = &e.report;
            let views: Vec<_> = r.kinds.views();
            let headline = views.iter().find_map(|v| v.headline());
            if note.is_empty() {
                let mut parts = vec!["records: every log's records in the bucket".to_string()];
                if let Some((what, _)) = &headline {
                    parts.push(format!("pNN: {what} (ms)"));
                }
                for v in views.iter().filter(|v| shown(v)) {
                    for (label, rate) in &v.trend {
                        parts.push(format!("{label}: the {} log's {rate}", v.key));
                    }
                }
                note = parts.join("; ");
            }
            let start = e.start.trim_end_matches('Z').replacen('T', " ", 1);
            BucketRow {
                start: start
                    .strip_suffix(":00")
                    .map(str::to_string)
                    .unwrap_or(start),
                records: r.records(),
                headline_count: headline.as_ref().map(|(_, t)| t.count),
                total_ms: headline
                    .map(|(_, t)| {
                        t.percentiles
                            .iter()
                            .map(|(k, v)| (k.clone(), (t.count > 0).then_some(*v)))
                            .collect()
                    })
                    .unwrap_or_default(),
                rates: views
                    .iter()
                    .filter(|v| shown(v))
                    .flat_map(|v| {
                        v.trend.iter().map(move |(label, name)| {
                            (
                                *label,
                                v.rate(name).filter(|x| x.denominator > 0).map(|x| x.value),
                            )
                        })
                    })
                    .collect(),
                skipped: r.skipped.total,
            }
        })
        .collect();
    (rows, note)
}
