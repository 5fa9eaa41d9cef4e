//! `aggmetrics shadow`: the shadow router's log, as the platform's
//! shadow-router analyzer reported it (its keys at the top level), joined
//! with a golden dataset when one is given.

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::{emit, exit, read_logs, warn_read};
use crate::agg::{Config, Mode};
use crate::cli::ShadowArgs;
use crate::error::Error;
use crate::kinds::shadow::{Golden, Shadow, ShadowSection};
use crate::kinds::{Kind, LogKind};
use crate::render::{Doc, KindDoc};
use crate::report::{Meta, Skipped};

/// The report: the analyzer's keys and ours at the top level, then the
/// golden dataset's size, the damaged lines and the run.
#[derive(Debug, Serialize)]
struct ShadowReport {
    #[serde(flatten)]
    section: ShadowSection,
    /// Entries in the golden dataset (`null` without `--golden`).
    golden_entries: Option<usize>,
    skipped: Skipped,
    meta: Meta,
}

/// Percentiles of `confidence` (latency has the analyzer's p50 and p95,
/// and p99).
const PERCENTILES: [f64; 3] = [50.0, 95.0, 99.0];

pub fn run(args: &ShadowArgs) -> Result<i32> {
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    // Held until the report is in place (dropped when run() returns).
    let settings: Vec<(&str, &std::path::Path)> = args
        .golden
        .as_deref()
        .map(|p| ("--golden", p))
        .into_iter()
        .collect();
    let outs = super::Outputs::claim(&args.out, None, &settings)?;
    let mut cfg = Config::new(mode, args.read.max_line_bytes);
    cfg.max_buckets = args.read.max_buckets;
    cfg.window = super::window::window(&args.window, super::window::now()?)?;
    cfg.tz = super::window::zone(&args.window)?;
    // The golden dataset before the logs: a wrong file should not cost a
    // long read. Every worker's accumulator reads it.
    let mut opts = crate::kinds::Options::default();
    let golden = match &args.golden {
        None => None,
        Some(p) => {
            let bytes = super::read_setting(p, "--golden")?;
            let g = Golden::from_json(&bytes)
                .map_err(|e| Error::Usage(format!("--golden {}: {e}", p.display())))?;
            let n = g.len();
            opts.shadow.golden = Some(g);
            Some(n)
        }
    };

    let result = read_logs(
        &args.paths,
        Some(LogKind::Shadow),
        &args.read,
        cfg,
        opts,
        &outs,
    )?;
    let m = &result.acc.total;
    let acc = &m.kinds.shadow;
    let section = Shadow::section(
        acc,
        &PERCENTILES,
        m.skipped.by_kind[LogKind::Shadow.index()],
    );
    let view = Shadow::view(&section);
    let skipped = Skipped::of(&m.skipped, &result);
    let mut meta = Meta::of(&result, &PERCENTILES, Shadow::keys_dropped(acc));
    meta.command = "shadow";
    meta.finished_us = Some(super::window::now()?.as_microsecond());
    let report = ShadowReport {
        section,
        golden_entries: golden,
        skipped,
        meta,
    };
    let body = serde_json::to_value(&report).context("serializing the report")?;
    let doc = KindDoc {
        command: "shadow",
        body,
        views: vec![(None, view)],
        skipped: &report.skipped,
        meta: &report.meta,
    };
    emit(args.fmt.format, Doc::Kind(&doc), &outs)?;
    warn_read(&args.read, &result);
    if args.strict.strict && super::strict_fails(&report.skipped, &report.meta, &result) {
        return Ok(exit::CHECK_FAILED);
    }
    Ok(exit::OK)
}
