//! Command-line interface. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::Format;

/// Turn the LLM platform's JSONL logs into latency percentiles, fallback and
/// error rates, and the partial-trust corridor's risk figures.
///
/// Exit codes: 0 ok; 1 a check failed (--strict and lines were skipped);
/// 2 usage error; 4 an input path does not exist or cannot be read;
/// 5 the output could not be written.
#[derive(Debug, Parser)]
#[command(name = "aggmetrics", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarize latency, fallback and risk logs in one pass.
    ///
    /// Example: aggmetrics summarize logs/ --format json -o summary.json
    Summarize(SummarizeArgs),
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    /// Folders or files to read; `-` reads standard input (with --kind).
    /// In a folder, files are recognised by name: pipeline_latency*.jsonl,
    /// fallback_metrics*.jsonl, partial_trust_risk*.jsonl.
    ///
    /// Example: aggmetrics summarize logs/ archive/pipeline_latency-old.jsonl
    #[arg(value_name = "PATH", default_value = "logs")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    ///
    /// Example: --format json
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,

    /// Write the report to FILE (atomically: a reader never sees a partial
    /// file) instead of standard output.
    ///
    /// Example: -o /var/lib/aggmetrics/daily.json
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Keep every value and reproduce the platform script's numbers to the
    /// last digit (linear interpolation, 3 decimals; rates 4 decimals).
    /// Memory grows with the input.
    ///
    /// Example: aggmetrics summarize logs/ --exact --format json
    #[arg(long)]
    pub exact: bool,

    /// Percentiles to report, comma-separated, each in 0..=100.
    ///
    /// Example: --percentiles 50,90,99,99.9
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "50,95,99"
    )]
    pub percentiles: Vec<f64>,

    /// Significant decimal digits the HDR histograms keep (1..=5); more
    /// digits, more memory. Ignored with --exact.
    ///
    /// Example: --sigfig 4
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub sigfig: u8,

    /// The log kind of files whose names do not say it, and of `-`:
    /// latency, fallback or risk. With a folder, reads only that kind.
    ///
    /// Example: cat today.jsonl | aggmetrics summarize - --kind latency
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<crate::parse::LogKind>,

    /// Worker threads (default: all cores). The report is identical for any
    /// number.
    ///
    /// Example: --threads 1
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Exit with code 1 if any line was skipped as damaged.
    ///
    /// Example: aggmetrics summarize logs/ --strict
    #[arg(long)]
    pub strict: bool,

    /// Lines longer than this are skipped as `line_too_long` (memory stays
    /// bounded on standard input whatever the line length).
    ///
    /// Example: --max-line-bytes 1048576
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub max_line_bytes: usize,

    /// Do not print warnings (skipped lines, no log files found) to
    /// standard error; the report still counts them.
    ///
    /// Example: aggmetrics summarize logs/ -q -f json -o daily.json
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

fn parse_kind(s: &str) -> Result<crate::parse::LogKind, String> {
    crate::parse::LogKind::from_name(s)
        .ok_or_else(|| format!("unknown kind '{s}': use latency, fallback or risk"))
}
