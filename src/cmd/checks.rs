//! Judging a finished report for the exit code: `--fail-on` conditions
//! (their keys checked before reading) and `--strict`.

use crate::error::Error;
use crate::read::ReadResult;

/// A usage error for any `--fail-on` key that no summary report with these
/// percentiles can hold: checked before reading, so a typo fails at once
/// instead of turning an alert off.
pub fn check_fail_on(conds: &[crate::check::expr::Cond], ps: &[f64]) -> Result<(), Error> {
    if conds.is_empty() {
        return Ok(());
    }
    let schema = crate::check::schema::summary(ps);
    let bad: Vec<String> = conds
        .iter()
        .filter_map(|c| {
            crate::check::schema::check(&schema, &c.path)
                .map(|why| format!("--fail-on '{c}': {why}"))
        })
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(bad.join("\n  ")))
    }
}

/// What `--fail-on` found: conditions that hold (breaches, each named with
/// its value), and conditions with no data in this run (a step absent from
/// a quiet window, a rate over no records): neither breached nor met.
#[derive(Debug, Default)]
pub struct Checks {
    pub breaches: Vec<String>,
    pub no_data: Vec<String>,
}

impl Checks {
    /// Print them on standard error (breaches always; no data unless
    /// `--quiet`).
    pub fn print(&self, quiet: bool) {
        for b in &self.breaches {
            eprintln!("aggmetrics: threshold breached: {b}");
        }
        if !quiet {
            for n in &self.no_data {
                eprintln!("aggmetrics: no data: {n}");
            }
        }
    }
}

/// Judge `--fail-on` conditions (their keys already checked by
/// [`check_fail_on`]) on the report. The report is turned into JSON only
/// when there is a condition.
pub fn fail_on(
    conds: &[crate::check::expr::Cond],
    report: &impl serde::Serialize,
) -> anyhow::Result<Checks> {
    let mut out = Checks::default();
    if conds.is_empty() {
        return Ok(out);
    }
    let report = serde_json::to_value(report)?;
    for c in conds {
        let value = crate::check::expr::number(&report, &c.path);
        let support = crate::check::expr::support(&report, &c.path);
        match value {
            Some(v) if support != Some(0) => {
                if c.op.holds(v, c.bound) {
                    out.breaches.push(format!("{} = {v} ({c})", c.path));
                }
            }
            _ => out.no_data.push(format!(
                "--fail-on '{c}' not judged: {} has no records in this run",
                c.path
            )),
        }
    }
    Ok(out)
}

/// The exit code of a run that wrote its report: 1 if a `--fail-on`
/// condition holds (each printed), or with `--strict` if the figures hold
/// less than the logs; else 0.
pub fn exit_code(
    checks: &Checks,
    strict: bool,
    skipped: &crate::report::Skipped,
    meta: &crate::report::Meta,
    read: &ReadResult,
    quiet: bool,
) -> i32 {
    checks.print(quiet);
    if !checks.breaches.is_empty() || (strict && strict_fails(skipped, meta, read)) {
        crate::exit::CHECK_FAILED
    } else {
        crate::exit::OK
    }
}

/// `--strict`: anything that makes the figures less than the logs hold
/// fails: damaged lines charged to them, damaged lines that could not be
/// dated (they may belong to the window), an input not read to its end,
/// records stamped after now (a clock ahead), or no log found at all.
pub fn strict_fails(
    skipped: &crate::report::Skipped,
    meta: &crate::report::Meta,
    read: &ReadResult,
) -> bool {
    skipped.total > 0
        || meta.incomplete
        || read.inputs.is_empty()
        || meta.window.as_ref().is_some_and(|w| w.undated_skipped > 0)
        || meta.future_records.as_ref().is_some_and(|f| f.count > 0)
}
