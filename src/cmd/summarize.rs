//! `aggmetrics summarize`: one pass over the latency, fallback and risk logs.

use anyhow::Result;

use super::{exit, write_atomic, write_stdout};
use crate::agg::{Config, Mode};
use crate::cli::SummarizeArgs;
use crate::error::Error;
use crate::input;
use crate::read;
use crate::render::renderer;
use crate::report::Report;

pub fn run(args: &SummarizeArgs) -> Result<i32> {
    for &p in &args.percentiles {
        if !(0.0..=100.0).contains(&p) || !p.is_finite() {
            return Err(Error::Usage(format!("--percentiles: {p} is not in 0..=100")).into());
        }
    }
    if args.max_line_bytes == 0 || args.max_line_bytes > crate::parse::json::MAX_LINE {
        return Err(Error::Usage(format!(
            "--max-line-bytes must be from 1 to {}",
            crate::parse::json::MAX_LINE
        ))
        .into());
    }
    let mode = if args.exact {
        Mode::Exact
    } else {
        Mode::Hdr {
            sigfig: args.sigfig,
        }
    };
    let cfg = Config {
        mode,
        max_line_bytes: args.max_line_bytes,
    };
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if threads == 0 {
        return Err(Error::Usage("--threads must be at least 1".into()).into());
    }

    let sources = input::discover(&args.paths, args.kind)?;
    let result = read::read_all(&sources, cfg, threads)?;
    let report = Report::build(&result, &args.percentiles);

    let mut buf = Vec::new();
    renderer(args.format).render(&report, &mut buf)?;
    match &args.output {
        Some(path) => write_atomic(path, &buf)?,
        None => write_stdout(&buf)?,
    }

    if !args.quiet {
        if sources.is_empty() {
            eprintln!("aggmetrics: warning: no log files found in {}", paths(args));
        }
        if report.skipped.total > 0 {
            let why: Vec<String> = report
                .skipped
                .by_reason
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            eprintln!(
                "aggmetrics: warning: skipped {} damaged line(s): {}",
                report.skipped.total,
                why.join(", ")
            );
        }
        if report.meta.keys_dropped > 0 {
            eprintln!(
                "aggmetrics: warning: more than {} distinct keys in a breakdown; {} observations folded out (see meta.keys_dropped)",
                crate::agg::MAX_KEYS,
                report.meta.keys_dropped
            );
        }
    }
    if args.strict && report.skipped.total > 0 {
        return Ok(exit::CHECK_FAILED);
    }
    Ok(exit::OK)
}

fn paths(args: &SummarizeArgs) -> String {
    args.paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
