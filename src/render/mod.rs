//! One renderer per output format behind one trait, over the plain report
//! models. Adding a format: a file here and a line in [`Format`] /
//! [`renderer`].

mod json;
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

pub trait Render {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned human table (default).
    Table,
    /// The JSON report (a superset of the platform scripts' keys).
    Json,
}

/// The registry.
pub fn renderer(f: Format) -> Box<dyn Render> {
    match f {
        Format::Table => Box::new(table::Table),
        Format::Json => Box::new(json::Json),
    }
}
