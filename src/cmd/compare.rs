//! `aggmetrics compare BASE CANDIDATE`: report-to-report regressions.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::{emit, exit, thresholds};
use crate::agg::{Config, Mode};
use crate::check::compare::compare;
use crate::cli::{CompareArgs, ReadOpts};
use crate::error::Error;
use crate::render::Doc;
use crate::report::Report;

/// What a report is, by its keys.
fn kind(v: &Value) -> &'static str {
    if v.get("total_records").is_some() {
        "risk"
    } else if v.get("latency").is_some() {
        "summary"
    } else {
        "unknown"
    }
}

/// A JSON report file, or a log folder summarized with the defaults.
fn load(path: &Path, opts: &ReadOpts) -> Result<Value> {
    if path.is_dir() {
        let cfg = Config::new(Mode::Hdr { sigfig: 3 }, opts.max_line_bytes);
        let result = super::read_logs(&[path.to_path_buf()], None, opts, cfg)?;
        super::warn_read(opts, &result);
        let report = Report::build(&result, &[50.0, 95.0, 99.0]);
        return serde_json::to_value(&report).context("serializing the report");
    }
    if !path.exists() {
        return Err(Error::NotFound(path.to_path_buf()).into());
    }
    let bytes = super::read_doc(path, "report")?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{} is not a JSON report ({e}): pass files written by `summarize --format json` or `risk --format json`, or log folders",
            path.display()
        ))
    })?;
    if kind(&v) == "unknown" {
        return Err(Error::Usage(format!(
            "{} is JSON but not an aggmetrics report (no `latency` or `total_records` key)",
            path.display()
        ))
        .into());
    }
    Ok(v)
}

pub fn run(args: &CompareArgs) -> Result<i32> {
    let t = thresholds(&args.regression)?;
    // Held until the report is in place (dropped when run() returns).
    let _lock = super::lock_output(args.out.output.as_deref())?;
    super::check_format(args.format, crate::render::DocKind::Compare)?;
    let base = load(&args.base, &args.read)?;
    let cand = load(&args.candidate, &args.read)?;
    if kind(&base) != kind(&cand) {
        return Err(Error::Usage(format!(
            "cannot compare a {} report ({}) with a {} report ({}): compare like with like",
            kind(&base),
            args.base.display(),
            kind(&cand),
            args.candidate.display()
        ))
        .into());
    }
    let c = compare(
        &base,
        &cand,
        &args.base.display().to_string(),
        &args.candidate.display().to_string(),
        &t,
    );
    emit(args.format, Doc::Compare(&c), args.out.output.as_deref())?;
    Ok(if c.regressions.is_empty() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}
