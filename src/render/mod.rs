//! One renderer per output format behind one trait, over the plain report
//! models. Adding a format: a file here and a line in [`Format`] /
//! [`renderer`].

mod csv;
mod json;
mod markdown;
mod prometheus;
mod table;
mod table_compare;
mod table_risk;

use std::io::{self, Write};

use crate::check::compare::Comparison;
use crate::report::risk::RiskReport;
use crate::report::{BucketReport, Report};

/// A document to render: what each subcommand produces.
#[derive(Debug, Clone, Copy)]
pub enum Doc<'a> {
    Summary(&'a Report),
    Buckets(&'a BucketReport),
    Risk(&'a RiskReport),
    Compare(&'a Comparison),
}

/// What kind of document a [`Doc`] is, to ask a renderer before the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Summary,
    Buckets,
    Risk,
    Compare,
}

impl Doc<'_> {
    pub fn kind(&self) -> DocKind {
        match self {
            Doc::Summary(_) => DocKind::Summary,
            Doc::Buckets(_) => DocKind::Buckets,
            Doc::Risk(_) => DocKind::Risk,
            Doc::Compare(_) => DocKind::Compare,
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
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned human table (default).
    Table,
    /// The JSON report (a superset of the platform scripts' keys).
    Json,
    /// A node_exporter textfile (`*.prom`): gauges prefixed `aggmetrics_`.
    Prometheus,
    /// One row per figure: `key,value`, keys as in the JSON report.
    Csv,
    /// Markdown tables, for reports and chats.
    Markdown,
}

/// The registry.
pub fn renderer(f: Format) -> Box<dyn Render> {
    match f {
        Format::Table => Box::new(table::Table),
        Format::Json => Box::new(json::Json),
        Format::Prometheus => Box::new(prometheus::Prometheus),
        Format::Csv => Box::new(csv::Csv),
        Format::Markdown => Box::new(markdown::Markdown),
    }
}
