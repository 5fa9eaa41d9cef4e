//! `aggmetrics stats`: any JSONL log, through the same reader, histograms,
//! windows and state files as the platform's own kinds (see
//! `crate::kinds::jsonl`).

use anyhow::{Context as _, Result};
use serde::Serialize;

use super::{emit, read_logs, warn_read};
use crate::agg::{Bucket, Config, Metrics, Mode};
use crate::cli::StatsArgs;
use crate::error::Error;
use crate::kinds::jsonl::{view_of, Jsonl, JsonlSection, Spec};
use crate::kinds::{Kind, LogKind};
use crate::measure::view::thousands;
use crate::read::ReadResult;
use crate::render::{Doc, DocKind, Format, KindDoc};
use crate::report::{Meta, Skipped};

/// The report: the section's figures at the top level, then the damaged
/// lines and the run.
#[derive(Debug, Serialize)]
struct StatsReport {
    #[serde(flatten)]
    section: JsonlSection,
    /// With `--by hour|day`: the figures of each UTC bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    buckets: Option<Vec<StatsBucket>>,
    skipped: Skipped,
    meta: Meta,
}

#[derive(Debug, Serialize)]
struct StatsBucket {
    start: String,
    end: String,
    #[serde(flatten)]
    section: JsonlSection,
    skipped: Skipped,
}

/// `--by` values that split by time rather than name a field.
fn bucket_of(by: &[String]) -> Result<(Vec<String>, Option<Bucket>), Error> {
    let mut fields = Vec::new();
    let mut bucket = None;
    for b in by {
        let t = match b.as_str() {
            "hour" => Some(Bucket::Hour),
            "day" => Some(Bucket::Day),
            _ => None,
        };
        match (t, bucket) {
            (Some(_), Some(_)) => {
                return Err(Error::Usage(
                    "--by hour and --by day: one time bucket at a time".into(),
                ))
            }
            (Some(t), None) => bucket = Some(t),
            (None, _) => fields.push(b.clone()),
        }
    }
    Ok((fields, bucket))
}

fn section(m: &Metrics, opts: &crate::kinds::Options, ps: &[f64]) -> JsonlSection {
    let mut s = Jsonl::section(
        &m.kinds.jsonl,
        ps,
        m.skipped.by_kind[LogKind::Jsonl.index()],
    );
    // A window without records still states what it counted.
    s.ensure(&opts.jsonl, ps);
    s.unnamed()
}

pub fn run(args: &StatsArgs) -> Result<i32> {
    let ps = &args.summary.percentiles;
    super::check_percentiles(ps)?;
    let (by, bucket) = bucket_of(&args.by)?;
    // `--by hour` alone counts the records of each hour; `--day D`
    // alone, the day's records.
    let w = &args.window;
    let windowed = w.day.is_some() || w.since.is_some() || w.until.is_some();
    let spec = if bucket.is_some() || windowed {
        Spec::records_only
    } else {
        Spec::filtered
    };
    let spec = spec(&args.values, &by, &args.count, &args.wheres, &args.time)
        .and_then(|s| s.with_distinct(&args.distinct))
        .map_err(|e| Error::Usage(e.to_string()))?
        .with_time_unit(args.time_unit)
        .with_max_groups(args.max_groups as usize)
        .with_top(args.top as usize);
    if bucket.is_some() && args.fmt.format == Format::Prometheus {
        return Err(Error::Usage(
            "--format prometheus shows one whole run: drop --by hour|day, or use json, csv or markdown"
                .into(),
        )
        .into());
    }
    super::check_format(args.fmt.format, DocKind::Kind)?;
    // --fail-on over the --value and --count paths: a typo is a usage
    // error before reading.
    super::checks::check_spec_paths(&args.summary.fail_on, None, &spec.values, &spec.count)?;
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    // Held until the report is in place (dropped when run() returns).
    let outs = super::Outputs::claim(&args.out, args.summary.state_out.as_deref(), &[])?;
    let mut cfg = Config::new(mode, args.read.max_line_bytes);
    cfg.max_buckets = args.read.max_buckets;
    cfg.window = super::window::window(&args.window, super::window::now()?)?;
    cfg.tz = super::window::zone(&args.window)?;
    cfg.bucket = bucket;
    // Every worker's parser reads the spec.
    let opts = crate::kinds::Options {
        jsonl: crate::kinds::jsonl::JsonlOptions::Stats(Box::new(spec.clone())),
        ..Default::default()
    };

    let mut result = read_logs(
        &args.paths,
        Some(LogKind::Jsonl),
        &args.read,
        cfg,
        opts,
        &outs,
    )?;
    // More groups than shown, and the heaviest not all kept (they were
    // kept as they came): files are read again keeping the heaviest, so
    // their figures are whole. Standard input is read once; its report
    // names the heavier groups it folded.
    if let Some(keep) = second_read(&result, &args.paths) {
        let opts = crate::kinds::Options {
            jsonl: crate::kinds::jsonl::JsonlOptions::Stats(Box::new(spec.keeping(keep))),
            ..Default::default()
        };
        // The first read said what there was to say about the inputs.
        let mut quiet = args.read.clone();
        quiet.quiet = true;
        result = read_logs(&args.paths, Some(LogKind::Jsonl), &quiet, cfg, opts, &outs)?;
    }
    outs.write_state(|| {
        let part = crate::state::cover_of_run(&args.paths, &result);
        crate::state::encode(&result, &[part])
    })?;
    let report = build(&result, ps);
    let body = serde_json::to_value(&report).context("serializing the report")?;
    // --fail-on judges the whole run, on the report's own keys.
    let checks = super::fail_on(&args.summary.fail_on, &body, None)?;
    // With buckets, each bucket's view (the whole run's is in JSON and in
    // the header); else the run's.
    let views = match &report.buckets {
        Some(buckets) => buckets
            .iter()
            .map(|b| {
                (
                    Some(crate::report::Interval {
                        since: b.start.clone(),
                        until: b.end.clone(),
                    }),
                    view_of(&b.section, "jsonl", "JSONL"),
                )
            })
            .collect(),
        None => vec![(None, view_of(&report.section, "jsonl", "JSONL"))],
    };
    let doc = KindDoc {
        command: "stats",
        body,
        views,
        skipped: &report.skipped,
        meta: &report.meta,
    };
    emit(args.fmt.format, Doc::Kind(&doc), &outs)?;
    warn_read(&args.read, &result);
    warn_unmatched(&report.section, None);
    Ok(super::checks::exit_code(
        &checks,
        args.strict.strict,
        &report.skipped,
        &report.meta,
        &result,
        args.read.quiet,
    ))
}

/// The heaviest groups' keys, when a first read kept others and every
/// input can be read again.
fn second_read(
    result: &ReadResult,
    paths: &[std::path::PathBuf],
) -> Option<std::collections::HashSet<Box<str>>> {
    let part = result.acc.total.kinds.jsonl.parts.first().map(|(_, p)| p)?;
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    (!stdin && !part.heaviest_unkept().is_empty()).then(|| part.heaviest_keys())
}

/// A path that matched nothing is a typo or a key with dots written
/// without quotes: said even with -q, with the nearest key names the
/// first records had.
pub(super) fn warn_unmatched(section: &JsonlSection, kind: Option<&str>) {
    for (flag, path) in section.unmatched() {
        if flag == "--where" {
            super::output::warn(&format!(
                "{}{} {}: no record passed, {} left out; --strict exits 1 (see meta.unmatched_paths)",
                kind.map_or(String::new(), |k| format!("kind {}: ", crate::escape::text(k))),
                if kind.is_some() { "where" } else { "--where" },
                crate::escape::text(&path),
                thousands(section.filtered_out.unwrap_or(0))
            ));
            continue;
        }
        // A kinds file's kind names its key (`by`), stats its flag.
        let flag = match kind {
            Some(_) => flag.trim_start_matches('-'),
            None => flag,
        };
        let lead = kind.map_or(String::new(), |k| {
            format!("kind {}: ", crate::escape::text(k))
        });
        let bare = path.replace('"', "");
        let mut near: Vec<&String> = section.keys_seen.iter().collect();
        near.sort_by_key(|k| (**k != bare, crate::check::schema::distance(k, &bare)));
        let shown: Vec<String> = near
            .iter()
            .take(3)
            .map(|k| {
                let quoted = if k.contains(['.', '*', '[', '"', '\\']) {
                    format!("'\"{}\"'", k.replace('\\', "\\\\").replace('"', "\\\""))
                } else {
                    k.to_string()
                };
                crate::escape::text(&quoted)
            })
            .collect();
        let hint = match near.first() {
            Some(k) if **k == bare && k.contains('.') => format!(
                "; the records have a key named {}: a key with dots is written in quotes, {}",
                crate::escape::text(k),
                // The shell's single quotes are TOML's literal string.
                match kind {
                    Some(_) => format!("{flag} = [{}]", shown[0]),
                    None => format!("{flag} {}", shown[0]),
                }
            ),
            Some(_) => format!(
                "; the nearest keys at the top of the records: {}",
                shown.join(", ")
            ),
            None => String::new(),
        };
        super::output::warn(&format!(
            "{lead}{flag} {} matched nothing in any record{hint}; --strict exits 1 (see meta.unmatched_paths)",
            crate::escape::text(&path)
        ));
    }
}

fn build(read: &ReadResult, ps: &[f64]) -> StatsReport {
    let acc = &read.acc;
    let m = &acc.total;
    let cfg = &acc.cfg;
    let end_of = cfg
        .bucket
        .map(|b| move |start: i64| b.end_of(start, cfg.tz));
    let (since, until) = acc.cfg.window.unwrap_or((i64::MIN, i64::MAX));
    let rfc = crate::report::risk::rfc3339;
    let mut meta = Meta::of(read, ps, Jsonl::keys_dropped(&m.kinds.jsonl));
    meta.command = "stats";
    // A log's values are in units of their own (bytes, counts, seconds
    // given as ms): `ms` would be wrong for all but durations.
    meta.precision.unit = "each value's own: values.<name>.unit (ms for a duration given a unit, bytes for :bytes; absent: the log's numbers as written), kept to 0.001 of it";
    let whole = section(m, &read.acc.opts, ps);
    let unmatched: Vec<String> = whole
        .unmatched()
        .into_iter()
        .map(|(flag, path)| format!("{flag} {path}"))
        .collect();
    meta.unmatched_paths = (!unmatched.is_empty()).then_some(unmatched);
    StatsReport {
        section: whole,
        buckets: end_of.map(|end_of| {
            acc.buckets
                .iter()
                .map(|(start, b)| StatsBucket {
                    start: rfc((*start).max(since)),
                    end: rfc(end_of(*start).min(until)),
                    section: section(b, &read.acc.opts, ps),
                    skipped: Skipped::of(&b.skipped, read),
                })
                .collect()
        }),
        skipped: Skipped::of(&m.skipped, read),
        meta,
    }
}
