//! `aggmetrics risk`: the partial-trust risk log, per day, and the
//! rollout gates' verdict.

use anyhow::{Context as _, Result};

use super::{emit, exit, read_logs, thresholds, warn_read};
use crate::agg::{Bucket, Config, Mode};
use crate::check::gates::{self, Context, Gates};
use crate::cli::RiskArgs;
use crate::error::Error;
use crate::kinds::LogKind;
use crate::render::Doc;
use crate::report::risk::RiskReport;

pub fn run(args: &RiskArgs) -> Result<i32> {
    let t = thresholds(&args.regression)?;
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    // Held until the report is in place (dropped when run() returns).
    let mut settings: Vec<(&str, &std::path::Path)> = Vec::new();
    settings.extend(args.stage.gates.as_deref().map(|p| ("--gates", p)));
    settings.extend(args.stage.baseline.as_deref().map(|p| ("--baseline", p)));
    let outs = super::Outputs::claim(&args.out, None, &settings)?;
    let mut cfg = Config::new(mode, args.read.max_line_bytes);
    cfg.max_buckets = args.read.max_buckets;
    // Always by day: the gates count the days covered.
    cfg.bucket = Some(Bucket::Day);
    let now = as_of(args)?;
    // Records stamped after now are counted as written, and reported.
    cfg.future_after = now.as_microsecond();
    cfg.window = super::window::window(&args.window, now)?;
    cfg.tz = super::window::zone(&args.window)?;
    // The gates and baseline before the logs: a typo should not cost a
    // long read.
    let judge = super::risk::Judge::of(&args.stage)?;

    // The silence alarm needs when records were written.
    let mut opts = crate::kinds::Options::default();
    opts.risk.activity = true;
    let result = read_logs(
        &args.paths,
        Some(LogKind::Risk),
        &args.read,
        cfg,
        opts,
        &outs,
    )?;
    let mut report = RiskReport::build(&result, args.by.is_some());
    report.meta.future_records = Some(future_records(&result, now, args.as_of.is_some())?);
    if let Some(judge) = &judge {
        let span = stage_span(&result, cfg.window, now.as_microsecond());
        report.verdict =
            Some(judge.verdict(&report, &result, now, args.as_of.is_some(), span, t)?);
    }
    report.meta.finished_us = Some(super::window::now()?.as_microsecond());
    emit(args.fmt.format, Doc::Risk(&report), &outs)?;
    warn_read(&args.read, &result);
    warn_future(&report, now);

    let verdict = report.verdict.as_ref().map_or(exit::OK, |v| v.exit_code);
    if verdict == exit::CHECK_FAILED {
        return Ok(verdict);
    }
    if args.strict.strict && super::strict_fails(&report.skipped, &report.meta, &result) {
        return Ok(exit::CHECK_FAILED);
    }
    Ok(verdict)
}

/// "Now" for the silence alarm, the stage's elapsed time and relative
/// times (`today`, `1h ago`) in the window: --as-of, so a past day can be
/// judged as it was; else the time the run started.
fn as_of(args: &RiskArgs) -> Result<jiff::Timestamp> {
    Ok(match &args.as_of {
        Some(s) => {
            let us = super::window::instant(s, super::window::now()?)
                .map_err(|e| Error::Usage(format!("--as-of: {e}")))?;
            jiff::Timestamp::from_microsecond(us)
                .map_err(|e| Error::Usage(format!("--as-of '{s}': {e}")))?
        }
        None => super::window::now()?,
    })
}

/// What `--stage` judges with: the stage, its gates (and where they come
/// from), and the baseline report of `--baseline` (`risk` and `serve`).
pub(crate) struct Judge {
    pub(crate) stage: u8,
    gates: Gates,
    label: String,
    baseline: Option<(serde_json::Value, String)>,
}

impl Judge {
    /// The judge `--stage N` asks for, if it does.
    pub(crate) fn of(o: &crate::cli::StageOpts) -> Result<Option<Judge>> {
        o.stage
            .map(|stage| Judge::load(o.gates.as_deref(), o.baseline.as_deref(), stage))
            .transpose()
    }

    /// The gates of `--gates FILE` (the runbook's without one) and the
    /// `--baseline` report, checked: a typo is a usage error at start.
    pub(crate) fn load(
        gates: Option<&std::path::Path>,
        baseline: Option<&std::path::Path>,
        stage: u8,
    ) -> Result<Judge> {
        let (gates, label) = match gates {
            None => (Gates::builtin(), "built-in runbook gates".to_string()),
            Some(p) => {
                let text = super::read_setting(p, "--gates")?;
                let text = String::from_utf8(text).map_err(|_| {
                    Error::Usage(format!("gates file {} is not UTF-8 text", p.display()))
                })?;
                super::loading::check_toml(p, "gates file", &text)?;
                let g = Gates::from_toml(&text)
                    .map_err(|e| Error::Usage(format!("gates file {}: {e}", p.display())))?;
                (g, format!("gates from {}", p.display()))
            }
        };
        if gates.stage(stage).is_none() {
            let known: Vec<&str> = gates.stage.keys().map(|s| s.as_str()).collect();
            return Err(Error::Usage(format!(
                "--stage {stage}: the {label} define stage {}",
                known.join(", ")
            ))
            .into());
        }
        let baseline = match baseline {
            None => None,
            Some(p) => Some((self::baseline(p)?, p.display().to_string())),
        };
        Ok(Judge {
            stage,
            gates,
            label,
            baseline,
        })
    }

    /// The verdict on `report`, judged as of `now` (`explicit`: a time
    /// the user gave, `--as-of`, rather than the run's start).
    pub(crate) fn verdict(
        &self,
        report: &RiskReport,
        result: &crate::read::ReadResult,
        now: jiff::Timestamp,
        explicit: bool,
        stage_span: Option<(i64, i64)>,
        t: crate::check::compare::Thresholds,
    ) -> Result<crate::report::verdict::Verdict> {
        // An explicit --as-of before the newest record would measure
        // silence backwards and call any gap fine: a usage error. The
        // default now never fails on the data (see future_records).
        if let (true, Some((last_us, _, _))) = (explicit, &result.acc.total.kinds.risk.time.last) {
            if now.as_microsecond() < *last_us {
                return Err(Error::Usage(format!(
                    "--as-of {} is before the newest record read ({}): judge as of a time after the logs end, or window the stage with --until",
                    super::window::show(now.as_microsecond()),
                    super::window::show(*last_us)
                ))
                .into());
            }
        }
        let value = serde_json::to_value(report).context("serializing the report")?;
        let cx = Context {
            stage: self.stage,
            baseline: self.baseline.as_ref().map(|(v, _)| v),
            baseline_label: self.baseline.as_ref().map(|(_, l)| l.clone()),
            as_of_us: now.as_microsecond(),
            as_of: super::window::show(now.as_microsecond()),
            stage_span,
            gates_label: self.label.clone(),
            thresholds: t,
        };
        Ok(gates::evaluate(&self.gates, &value, &cx).map_err(|e| Error::Usage(e.to_string()))?)
    }
}

/// The report of `--baseline`, which must be an `aggmetrics risk` one.
fn baseline(p: &std::path::Path) -> Result<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(&super::read_setting(p, "--baseline")?)
        .map_err(|e| {
            Error::Usage(format!(
                "--baseline {} is not JSON ({e}): pass an `aggmetrics risk --format json` report",
                p.display()
            ))
        })?;
    let doc = crate::check::compare::Document::of(&v);
    if doc != crate::check::compare::Document::Risk {
        return Err(Error::Usage(format!(
            "--baseline {} is {}, not an `aggmetrics risk --format json` report",
            p.display(),
            match doc {
                crate::check::compare::Document::Unknown => "not an aggmetrics report".to_string(),
                d => format!("a `{}` report", d.name()),
            }
        ))
        .into());
    }
    Ok(v)
}

/// Records stamped after now: said even with -q (a clock ahead of the
/// data is a finding).
pub(crate) fn warn_future(report: &RiskReport, now: jiff::Timestamp) {
    if let Some(f) = report.meta.future_records.as_ref().filter(|f| f.count > 0) {
        super::output::warn(&format!(
            "{} record(s) stamped after now ({}), the newest {} ahead ({}): is a writer's clock ahead? They are counted as written (meta.future_records); --strict exits 1",
            f.count,
            super::window::show(now.as_microsecond()),
            crate::check::gates::seconds_text(f.ahead_seconds.unwrap_or(0.0)),
            f.newest.as_deref().unwrap_or("?"),
        ));
    }
}

/// The records stamped after `now`. With the default now (the run's
/// start), records stamped before the read ended were appended while it
/// read, not sent from the future: then none is reported.
pub(crate) fn future_records(
    result: &crate::read::ReadResult,
    now: jiff::Timestamp,
    explicit: bool,
) -> Result<crate::report::FutureRecords> {
    let newest = result.acc.newest.filter(|&n| n > now.as_microsecond());
    let ended = super::window::now()?.as_microsecond();
    let appended = !explicit && newest.is_some_and(|n| n <= ended);
    Ok(match newest {
        Some(n) if !appended => crate::report::FutureRecords {
            count: result.acc.future,
            newest: Some(crate::report::risk::rfc3339(n)),
            ahead_seconds: Some(crate::report::round_to(
                (n - now.as_microsecond()) as f64 / 1e6,
                3,
            )),
        },
        _ => crate::report::FutureRecords {
            count: 0,
            newest: None,
            ahead_seconds: None,
        },
    })
}

/// What a stage's elapsed time is measured over: from the first risk
/// record in the window (at or after `--since`) to the verdict time (now,
/// or `--until` when it is earlier). `None` without a record.
pub(crate) fn stage_span(
    result: &crate::read::ReadResult,
    window: Option<(i64, i64)>,
    now_us: i64,
) -> Option<(i64, i64)> {
    let first = result.acc.total.kinds.risk.time.first.as_ref()?.0;
    let until = window.map_or(i64::MAX, |(_, u)| u);
    Some((first, now_us.min(until)))
}
