//! One renderer per output format behind one trait, over the plain report
//! model. Adding a format: a file here and a line in [`Format`] /
//! [`renderer`].

mod json;
mod table;

use std::io::{self, Write};

use crate::report::Report;

pub trait Render {
    fn render(&self, report: &Report, out: &mut dyn Write) -> io::Result<()>;
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned human table (default).
    Table,
    /// The JSON report (a superset of the platform script's keys).
    Json,
}

/// The registry.
pub fn renderer(f: Format) -> Box<dyn Render> {
    match f {
        Format::Table => Box::new(table::Table),
        Format::Json => Box::new(json::Json),
    }
}
