//! `aggmetrics summarize`: one pass over every kind of log the registry
//! knows (see `crate::kinds`).

use anyhow::Result;

use super::{emit, warn_read};
use crate::agg::{Config, Mode};
use crate::cli::SummarizeArgs;
use crate::render::{Doc, DocKind};
use crate::report::Report;

pub fn run(args: &SummarizeArgs) -> Result<i32> {
    super::check_percentiles(&args.summary.percentiles)?;
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    let kind = if args.by.is_some() {
        DocKind::Buckets
    } else {
        DocKind::Summary
    };
    super::check_format(args.fmt.format, kind)?;
    // The kinds file before the logs: a mistake in it should not cost a read.
    let user = super::loading::user_kinds(&args.kinds)?;
    check_conditions(args, &user)?;
    // Held until the report is in place (dropped when run() returns).
    let kinds_files = super::loading::kinds_paths(&args.kinds);
    let settings: Vec<(&str, &std::path::Path)> = kinds_files
        .iter()
        .map(|p| ("--kinds", p.as_path()))
        .collect();
    let outs = super::Outputs::claim(&args.out, args.summary.state_out.as_deref(), &settings)?;
    let mut cfg = Config::new(mode, args.read.max_line_bytes);
    cfg.max_buckets = args.read.max_buckets;
    cfg.window = super::window::window(&args.window, super::window::now()?)?;
    cfg.tz = super::window::zone(&args.window)?;
    cfg.bucket = args.by;

    let mut result = super::read_logs_with(
        &args.paths,
        args.kind,
        &args.read,
        cfg,
        Default::default(),
        user.clone(),
        &outs,
    )?;
    // A kinds file's kind with more groups than it kept while reading,
    // a heavier one among those not kept: the logs are read again with
    // each such kind keeping its heaviest groups from the start (as
    // `stats` does), so their figures are whole. Standard input is read
    // once.
    if let Some(user) = second_read(&result, &args.paths, user) {
        let mut quiet = args.read.clone();
        quiet.quiet = true;
        result = super::read_logs_with(
            &args.paths,
            args.kind,
            &quiet,
            cfg,
            Default::default(),
            user,
            &outs,
        )?;
    }
    let mut report = Report::build(&result, &args.summary.percentiles);
    note_unmatched(&mut report);
    outs.write_state(|| {
        let part = crate::state::cover_of_run(&args.paths, &result);
        crate::state::encode(&result, &[part])
    })?;
    // --fail-on judges the whole run; the report is written either way.
    let schema = crate::check::schema::summary(&args.summary.percentiles);
    let checks = super::fail_on(&args.summary.fail_on, &report, Some(&schema))?;
    if args.by.is_some() {
        let b = crate::report::BucketReport::build(&result, &args.summary.percentiles, &report);
        emit(args.fmt.format, Doc::Buckets(&b), &outs)?;
    } else {
        report.meta.finished_us = Some(super::window::now()?.as_microsecond());
        emit(args.fmt.format, Doc::Summary(&report), &outs)?;
    }

    warn_read(&args.read, &result);
    for (name, sec) in &report.kinds.jsonl.parts {
        super::stats::warn_unmatched(sec, Some(name));
    }
    if !args.read.quiet && report.meta.keys_dropped > 0 {
        super::output::warn(&format!(
            "more than {} distinct keys in a breakdown; {} observations folded out (see meta.keys_dropped)",
            crate::agg::MAX_KEYS,
            report.meta.keys_dropped
        ));
    }
    Ok(super::checks::exit_code(
        &checks,
        args.strict.strict,
        &report.skipped,
        &report.meta,
        &result,
        args.read.quiet,
    ))
}

/// A kinds file's path that matched nothing (a typo, or a dotted key
/// without quotes), in `meta.unmatched_paths`.
pub(crate) fn note_unmatched(report: &mut Report) {
    let unmatched: Vec<String> = report
        .kinds
        .jsonl
        .parts
        .iter()
        .flat_map(|(name, sec)| {
            sec.unmatched()
                .into_iter()
                .map(move |(flag, path)| format!("{name}: {} {path}", flag.trim_start_matches('-')))
        })
        .collect();
    report.meta.unmatched_paths = (!unmatched.is_empty()).then_some(unmatched);
}

/// `--fail-on` before anything is read: a key of the built-in sections
/// against their schema, a key of a user kind's section against its
/// kinds file's paths (its other keys are judged on the report as it
/// comes).
fn check_conditions(args: &SummarizeArgs, user: &[crate::kinds::jsonl::UserKind]) -> Result<()> {
    let built_in: Vec<_> = args
        .summary
        .fail_on
        .iter()
        .filter(|c| {
            let first = c.path.split('.').next().unwrap_or("");
            !user.iter().any(|k| k.name == first)
        })
        .cloned()
        .collect();
    super::check_fail_on(&built_in, &args.summary.percentiles)?;
    for k in user {
        super::checks::check_spec_paths(
            &args.summary.fail_on,
            Some(&k.name),
            &k.spec.values,
            &k.spec.count,
        )?;
    }
    Ok(())
}

/// The user kinds again, each that kept other groups than its heaviest
/// keeping those; `None` when none did, or when standard input is read.
fn second_read(
    result: &crate::read::ReadResult,
    paths: &[std::path::PathBuf],
    mut user: Vec<crate::kinds::jsonl::UserKind>,
) -> Option<Vec<crate::kinds::jsonl::UserKind>> {
    if paths.iter().any(|p| p.as_os_str() == "-") {
        return None;
    }
    let mut any = false;
    for (name, part) in &result.acc.total.kinds.jsonl.parts {
        if part.heaviest_unkept().is_empty() {
            continue;
        }
        if let Some(k) = user.iter_mut().find(|k| k.name == *name) {
            k.spec = k.spec.clone().keeping(part.heaviest_keys());
            any = true;
        }
    }
    any.then_some(user)
}
