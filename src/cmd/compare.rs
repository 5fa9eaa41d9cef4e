//! `aggmetrics compare BASE CANDIDATE`: report-to-report regressions.

use std::path::Path;

use anyhow::{Context as _, Result};
use serde_json::Value;

use super::{emit, exit, thresholds};
use crate::agg::{Config, Mode};
use crate::check::compare::{compare, Document};
use crate::cli::{CompareArgs, ReadOpts};
use crate::error::Error;
use crate::render::Doc;
use crate::report::Report;

/// A JSON report file, or a log folder summarized with the defaults.
fn load(path: &Path, opts: &ReadOpts, outs: &super::Outputs) -> Result<Value> {
    if path.is_dir() {
        let cfg = Config::new(Mode::Hdr { sigfig: 3 }, opts.max_line_bytes);
        let result = super::read_logs(
            &[path.to_path_buf()],
            None,
            opts,
            cfg,
            Default::default(),
            outs,
        )?;
        super::warn_read(opts, &result);
        let report = Report::build(&result, &[50.0, 95.0, 99.0]);
        return serde_json::to_value(&report).context("serializing the report");
    }
    if !path.exists() {
        return Err(Error::NotFound(path.to_path_buf()).into());
    }
    let bytes = super::read_doc(path, "report")?;
    if crate::state::looks_like_state(&bytes) {
        return Err(Error::Usage(format!(
            "{} is a state file: compare takes reports; make one with `aggmetrics merge {} -f json -o report.json` and compare that",
            path.display(),
            path.display()
        ))
        .into());
    }
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Error::Usage(format!(
            "{} is not a JSON report ({e}): compare takes `summarize`, `merge`, `risk` and `shadow` reports (--format json) or log folders",
            path.display()
        ))
    })?;
    let doc = Document::of(&v);
    if let Some(why) = doc.refused() {
        return Err(Error::Usage(format!(
            "{} is {}: {why}",
            path.display(),
            match doc {
                Document::Unknown => "not a report compare takes".to_string(),
                d => format!("a `{}` document", d.name()),
            }
        ))
        .into());
    }
    Ok(v)
}

pub fn run(args: &CompareArgs) -> Result<i32> {
    let t = thresholds(&args.regression)?;
    super::check_format(args.format, crate::render::DocKind::Compare)?;
    // Held until the report is in place (dropped when run() returns).
    let outs = super::Outputs::claim(&args.out, None, &[])?;
    let docs = [args.base.as_path(), args.candidate.as_path()];
    outs.check_inputs(docs.iter().copied().filter(|p| !p.is_dir()), "the report")?;
    let base = load(&args.base, &args.read, &outs)?;
    let cand = load(&args.candidate, &args.read, &outs)?;
    let doc = Document::of(&base);
    if doc != Document::of(&cand) {
        return Err(Error::Usage(format!(
            "cannot compare a `{}` report ({}) with a `{}` report ({}): compare like with like",
            doc.name(),
            args.base.display(),
            Document::of(&cand).name(),
            args.candidate.display()
        ))
        .into());
    }
    let c = compare(
        &base,
        &cand,
        &args.base.display().to_string(),
        &args.candidate.display().to_string(),
        doc,
        &t,
    );
    emit(args.format, Doc::Compare(&c), &outs)?;
    Ok(if c.regressions.is_empty() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}
