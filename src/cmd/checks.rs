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

/// A usage error for any `--fail-on` key that names a value or count path
/// the spec does not define: in a user kind's section (`prefix` its name)
/// or a `stats` report (no prefix). The kinds file and `--value` name
/// their paths exactly, so a name not among them is a typo.
pub fn check_spec_paths(
    conds: &[crate::check::expr::Cond],
    prefix: Option<&str>,
    values: &[String],
    counts: &[String],
) -> Result<(), Error> {
    let mut bad = Vec::new();
    for c in conds {
        let path = match prefix {
            Some(p) => match c.path.strip_prefix(p).and_then(|r| r.strip_prefix('.')) {
                Some(r) => r,
                None => continue,
            },
            None => c.path.as_str(),
        };
        let segs: Vec<&str> = path.split('.').collect();
        let Some(at) = segs.iter().position(|s| *s == "values" || *s == "counts") else {
            continue;
        };
        let (what, defined) = if segs[at] == "values" {
            ("value", values)
        } else {
            ("count", counts)
        };
        let rest = &segs[at + 1..];
        if rest.is_empty() || defined.iter().any(|d| spec_path_matches(d, rest)) {
            continue;
        }
        // The name as given: the path less its last segment (the figure)
        // for a value; for a count, its first segment (count keys follow).
        let given = if what == "value" && rest.len() > 1 {
            rest[..rest.len() - 1].join(".")
        } else {
            rest[0].to_string()
        };
        let near = crate::check::schema::nearest(&given, defined.iter().map(|s| s.as_str()));
        bad.push(format!(
            "--fail-on '{c}': '{given}' is not a {what} path {} (named: {}){}",
            match prefix {
                Some(p) => format!("of the kinds file's kind '{p}'"),
                None => format!("given with --{what}"),
            },
            if defined.is_empty() {
                "none".to_string()
            } else {
                defined.join(", ")
            },
            near.map(|n| format!("; the nearest is '{n}'"))
                .unwrap_or_default()
        ));
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Error::Usage(bad.join("\n  ")))
    }
}

/// Whether the key path `rest` starts with the spec path `d` (a `*`
/// segment stands for any one name).
fn spec_path_matches(d: &str, rest: &[&str]) -> bool {
    let d = d.strip_prefix('.').unwrap_or(d);
    let ds: Vec<&str> = d.split('.').collect();
    ds.len() <= rest.len() && ds.iter().zip(rest).all(|(a, b)| *a == "*" || a == b)
}

/// What `--fail-on` found: conditions that hold (breaches, each named with
/// its value), conditions with no data in this run (a step absent from a
/// quiet window, a rate over no records): neither breached nor met; and
/// conditions naming a key of an open map that no record had while the
/// map has others: a typo is likely, so these are said even with
/// `--quiet`, and `--strict` fails on them.
#[derive(Debug, Default)]
pub struct Checks {
    pub breaches: Vec<String>,
    pub no_data: Vec<String>,
    pub unseen: Vec<String>,
}

impl Checks {
    /// Print them on standard error (breaches always; no data unless
    /// `--quiet`).
    pub fn print(&self, quiet: bool) {
        for b in &self.breaches {
            eprintln!(
                "aggmetrics: threshold breached: {}",
                crate::escape::message(&b.to_string())
            );
        }
        for u in &self.unseen {
            super::output::warn(u);
        }
        if !quiet {
            for n in &self.no_data {
                eprintln!(
                    "aggmetrics: no data: {}",
                    crate::escape::message(&n.to_string())
                );
            }
        }
    }
}

/// Judge `--fail-on` conditions (their keys already checked by
/// [`check_fail_on`]) on the report. The report is turned into JSON only
/// when there is a condition.
/// `schema`: the report's key paths, to tell an open map (names read from
/// the logs) from a fixed object; `None` for reports without one (`stats`,
/// user kinds), where `counts` maps and `values` are the open ones.
pub fn fail_on(
    conds: &[crate::check::expr::Cond],
    report: &impl serde::Serialize,
    schema: Option<&serde_json::Value>,
) -> anyhow::Result<Checks> {
    let mut out = Checks::default();
    if conds.is_empty() {
        return Ok(out);
    }
    let report = serde_json::to_value(report)?;
    for c in conds {
        if let Some(w) = unseen(&report, &c.path, schema) {
            out.unseen.push(format!("--fail-on '{c}' not judged: {w}"));
            continue;
        }
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

/// Why `path` has no value when it names a key of an open map that holds
/// other names (`latency.all.steps.core_logic_m.p95` beside
/// `core_logic_ms`): the nearest name seen. `None` when the path resolves,
/// or the map is empty or not open.
fn unseen(
    report: &serde_json::Value,
    path: &str,
    schema: Option<&serde_json::Value>,
) -> Option<String> {
    let segs: Vec<&str> = path.split('.').collect();
    let (i, stopped) = crate::check::expr::walk(report, &segs);
    let m = stopped.as_object().filter(|_| i < segs.len() && i > 0)?;
    let prefix = segs[..i].join(".");
    let open = match schema {
        // A built-in section: the schema knows.
        Some(s) if s.get(segs[0]).is_some() => crate::check::schema::is_open(s, &prefix),
        // A user kind's section, or a stats report.
        _ => segs[i - 1] == "values" || (i >= 2 && segs[i - 2] == "counts"),
    };
    if !open || m.is_empty() {
        return None;
    }
    let near = crate::check::schema::nearest(segs[i], m.keys().map(|k| k.as_str()))?;
    Some(format!(
        "no record had '{}' in {prefix} ({} other name(s) seen; the nearest is '{near}'): a typo? --strict exits 1",
        segs[i],
        m.len()
    ))
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
    if !checks.breaches.is_empty()
        || (strict && (strict_fails(skipped, meta, read) || !checks.unseen.is_empty()))
    {
        crate::exit::CHECK_FAILED
    } else {
        crate::exit::OK
    }
}

/// `--strict`: anything that makes the figures less than the logs hold
/// fails: damaged lines charged to them, damaged lines that could not be
/// dated (they may belong to the window), an input not read to its end,
/// records stamped after now (a clock ahead), records left out of their
/// bucket, group or key by a cap or the memory budget, or no log found.
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
        || meta.buckets_capped.is_some()
        || meta.memory_budget.is_some()
        || meta.unreadable_times.is_some()
        || meta.unmatched_paths.is_some()
}
