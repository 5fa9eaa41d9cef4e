//! The rollout runbook's gates and the verdict they give on a `risk`
//! report. The built-in gates are docs/gates.toml, compiled in;
//! `--gates FILE` replaces them.
//!
//! The verdict, in order:
//! 1. `rollback` if any roll-back criterion or alarm is breached;
//! 2. `hold` if evidence is missing (too few sampled records or days, a
//!    go criterion with no data or needing a baseline) or a go criterion is
//!    not met;
//! 3. `go` otherwise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compare::{self, Thresholds};
use super::expr::{lookup, number, Cond};
pub use crate::report::verdict::{Criterion, CriterionState, Decision, Kind, Verdict};

/// The runbook's gates, as shipped.
pub const BUILTIN: &str = include_str!("../../docs/gates.toml");

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gates {
    #[serde(default)]
    pub alarms: Alarms,
    /// Stage number -> its gates.
    #[serde(default)]
    pub stage: BTreeMap<String, Stage>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alarms {
    #[serde(default)]
    pub rules: Vec<Cond>,
    /// Largest allowed fall of acceptance_rate, as a fraction of the
    /// baseline's.
    pub acceptance_drop: Option<f64>,
    pub max_silence_minutes: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub sample_rate: Option<f64>,
    #[serde(default)]
    pub min_days: u64,
    #[serde(default)]
    pub min_sampled_records: u64,
    #[serde(default)]
    pub go: Vec<Cond>,
    pub stable_acceptance_max_drop: Option<f64>,
    #[serde(default)]
    pub rollback: Vec<Cond>,
    #[serde(default)]
    pub rollback_on_regression: bool,
    /// Records at a sample rate other than `sample_rate` in the window
    /// (two stages judged as one): `hold` (the default) or `allow`.
    #[serde(default)]
    pub other_sample_rates: OtherRates,
}

/// What records at another stage's sample rate mean for the verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtherRates {
    /// Evidence not met: the window mixes stages.
    #[default]
    Hold,
    /// Judged with the rest, and said.
    Allow,
}

/// What is wrong with a gates file, or a stage it does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatesError {
    /// Not TOML, or not the shape of a gates file (the TOML parser's
    /// message: line and column, and the key).
    #[error("{0}")]
    Toml(String),
    #[error("[stage.{0}]: stages are numbered, e.g. [stage.1]")]
    StageName(String),
    #[error("[stage.{0}] has no go criteria (go, stable_acceptance_max_drop) and no roll-back criteria (rollback, rollback_on_regression): a verdict on evidence alone would say go")]
    NoCriteria(String),
    #[error("[stage.{0}] has no go criteria (go = [...] or stable_acceptance_max_drop): a verdict on evidence alone would say go")]
    NoGo(String),
    #[error("{place} must be between 0 and 1")]
    Share { place: String },
    #[error("[alarms] max_silence_minutes must be above 0")]
    Silence,
    #[error("no stage: a gates file defines at least one [stage.N] (see docs/gates.toml)")]
    NoStage,
    /// Conditions whose key no risk report can hold, each with the
    /// nearest key that exists.
    #[error("{}", .0.join("\n  "))]
    Keys(Vec<String>),
    #[error("no gates for stage {stage} (the gates define stage {known})")]
    NoSuchStage { stage: u8, known: String },
}

impl Gates {
    pub fn builtin() -> Gates {
        Gates::from_toml(BUILTIN).expect("the built-in gates parse (tested)")
    }

    /// Parse and check a gates file's text.
    pub fn from_toml(text: &str) -> Result<Gates, GatesError> {
        let g: Gates = toml::from_str(text).map_err(|e| GatesError::Toml(e.to_string()))?;
        for (name, s) in &g.stage {
            let name = name.clone();
            if name.parse::<u8>().is_err() {
                return Err(GatesError::StageName(name));
            }
            // A stage that can neither go on its own criteria nor roll
            // back would say GO on evidence alone.
            if s.go.is_empty()
                && s.stable_acceptance_max_drop.is_none()
                && s.rollback.is_empty()
                && !s.rollback_on_regression
            {
                return Err(GatesError::NoCriteria(name));
            }
            if s.go.is_empty() && s.stable_acceptance_max_drop.is_none() {
                return Err(GatesError::NoGo(name));
            }
            for (what, x) in [
                ("sample_rate", s.sample_rate),
                ("stable_acceptance_max_drop", s.stable_acceptance_max_drop),
            ] {
                if x.is_some_and(|x| !(0.0..=1.0).contains(&x)) {
                    return Err(GatesError::Share {
                        place: format!("[stage.{name}] {what}"),
                    });
                }
            }
        }
        if g.alarms
            .acceptance_drop
            .is_some_and(|x| !(0.0..=1.0).contains(&x))
        {
            return Err(GatesError::Share {
                place: "[alarms] acceptance_drop".into(),
            });
        }
        // NaN is refused too.
        if g.alarms
            .max_silence_minutes
            .is_some_and(|x| x.is_nan() || x <= 0.0)
        {
            return Err(GatesError::Silence);
        }
        if g.stage.is_empty() {
            return Err(GatesError::NoStage);
        }
        g.check_keys()?;
        Ok(g)
    }

    /// Every condition of the file whose key no risk report can hold,
    /// each with the nearest key that exists: a typo must not turn a
    /// safety rule off.
    pub fn check_keys(&self) -> Result<(), GatesError> {
        let schema = super::schema::risk();
        let mut bad = Vec::new();
        let mut see = |place: String, c: &Cond| {
            if let Some(why) = super::schema::check(&schema, &c.path) {
                bad.push(format!("{place} '{c}': {why}"));
            }
        };
        for c in &self.alarms.rules {
            see("[alarms] rules".into(), c);
        }
        for (name, st) in &self.stage {
            for c in &st.go {
                see(format!("[stage.{name}] go"), c);
            }
            for c in &st.rollback {
                see(format!("[stage.{name}] rollback"), c);
            }
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(GatesError::Keys(bad))
        }
    }

    pub fn stage(&self, n: u8) -> Option<&Stage> {
        self.stage.get(&n.to_string())
    }
}

/// What the evaluation needs besides the gates and the report.
pub struct Context<'a> {
    pub stage: u8,
    pub baseline: Option<&'a Value>,
    pub baseline_label: Option<String>,
    /// Now, or `--as-of`, in microseconds since the epoch.
    pub as_of_us: i64,
    pub as_of: String,
    /// The stage's elapsed time: from its first record in the window to
    /// the verdict time (microseconds); `None` without a record.
    pub stage_span: Option<(i64, i64)>,
    pub gates_label: String,
    pub thresholds: Thresholds,
}

fn fmt(x: f64) -> String {
    let r = crate::report::round_to(x, 4);
    format!("{r}")
}

/// 0.3125 -> "31.2%".
fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// 30 -> "30.0 s", 400 -> "6.7 minutes", as [`minutes_text`] beyond.
pub fn seconds_text(s: f64) -> String {
    if s < 120.0 {
        format!("{s:.1} s")
    } else {
        minutes_text(s / 60.0)
    }
}

/// A duration in whole days, hours and minutes, cut (never rounded) up:
/// 2 days 23 h 59 min is not yet 3 days.
fn duration_text(us: i64) -> String {
    let m = us / 60_000_000;
    let d = m / 1440;
    let s = if d == 1 { "" } else { "s" };
    format!("{d} day{s} {} h {} min", (m / 60) % 24, m % 60)
}

/// 75 -> "75.0 minutes", 4000 -> "66.7 hours", 400000 -> "277.8 days".
fn minutes_text(m: f64) -> String {
    if m < 120.0 {
        format!("{m:.1} minutes")
    } else if m < 48.0 * 60.0 {
        format!("{:.1} hours", m / 60.0)
    } else {
        format!("{:.1} days", m / 1440.0)
    }
}

fn interval(report: &Value, metric: &str) -> Option<[f64; 2]> {
    let w = lookup(report, &format!("rates.{metric}.wilson_95"))?;
    Some([w.get(0)?.as_f64()?, w.get(1)?.as_f64()?])
}

fn cond(report: &Value, kind: Kind, c: &Cond) -> Criterion {
    let value = number(report, &c.path);
    let iv = interval(report, &c.path);
    let straddles = iv.is_some_and(|[lo, hi]| lo < c.bound && c.bound < hi);
    let mut out = Criterion {
        kind,
        metric: c.path.clone(),
        rule: c.to_string(),
        value,
        bound: Some(c.bound),
        status: CriterionState::NotEvaluated,
        interval: iv,
        straddles,
        reason: String::new(),
    };
    // The key is known (checked when the gates were read): no value here
    // means no data, e.g. a breakdown key that never occurred.
    let Some(v) = value else {
        out.reason = format!("{}: no data in this report", c.path);
        return out;
    };
    if super::expr::support(report, &c.path) == Some(0) {
        out.reason = format!("{}: no data (no records to compute it from)", c.path);
        return out;
    }
    let holds = c.op.holds(v, c.bound);
    // A go rule is met when it holds; a roll-back rule or alarm fires.
    let fine = match kind {
        Kind::Go | Kind::Evidence => holds,
        Kind::Rollback | Kind::Alarm => !holds,
    };
    out.status = judged(kind, fine);
    let verb = match out.status {
        CriterionState::Met => "met",
        CriterionState::NotMet => "not met",
        CriterionState::Breached => "BREACHED",
        _ => "clear",
    };
    out.reason = format!(
        "{} = {} ({} {} {}: {verb})",
        c.path,
        fmt(v),
        c.path,
        c.op.symbol(),
        fmt(c.bound)
    );
    if let (true, Some([lo, hi])) = (straddles, iv) {
        out.reason.push_str(&format!(
            "; its 95% interval [{}, {}] straddles {}: not yet certain",
            fmt(lo),
            fmt(hi),
            fmt(c.bound)
        ));
    }
    out
}

fn plain(
    kind: Kind,
    metric: &str,
    rule: String,
    value: Option<f64>,
    bound: Option<f64>,
    status: CriterionState,
    reason: String,
) -> Criterion {
    Criterion {
        kind,
        metric: metric.to_string(),
        rule,
        value,
        bound,
        status,
        interval: None,
        straddles: false,
        reason,
    }
}

/// The status of a judged criterion of `kind`: `fine` means a go or
/// evidence criterion is met, a roll-back criterion or alarm did not fire.
fn judged(kind: Kind, fine: bool) -> CriterionState {
    match (kind, fine) {
        (Kind::Go | Kind::Evidence, true) => CriterionState::Met,
        (Kind::Go | Kind::Evidence, false) => CriterionState::NotMet,
        (Kind::Rollback | Kind::Alarm, true) => CriterionState::Clear,
        (Kind::Rollback | Kind::Alarm, false) => CriterionState::Breached,
    }
}

/// acceptance_rate's fall relative to the baseline's: (base - now) / base.
fn acceptance_drop(report: &Value, baseline: &Value) -> Option<(f64, f64, f64)> {
    let den = |v: &Value| number(v, "rates.acceptance_rate.denominator").unwrap_or(0.0);
    if den(report) == 0.0 || den(baseline) == 0.0 {
        return None;
    }
    let now = number(report, "acceptance_rate")?;
    let base = number(baseline, "acceptance_rate")?;
    if base <= 0.0 {
        return None;
    }
    Some(((base - now) / base, base, now))
}

/// "Stable acceptance rate" (a go criterion) and the acceptance-drop alarm:
/// acceptance_rate at most `max` (a fraction of the baseline's) below the
/// baseline's.
fn acceptance(kind: Kind, report: &Value, baseline: Option<&Value>, max: f64) -> Criterion {
    let rule = format!(
        "acceptance_rate at most {} below the baseline's",
        percent(max)
    );
    let (value, status, reason) = match baseline.map(|b| acceptance_drop(report, b)) {
        None => (
            None,
            CriterionState::NotEvaluated,
            match kind {
                Kind::Go => "stable acceptance_rate needs a baseline: pass --baseline with the previous stage's `risk --format json` report".to_string(),
                _ => "the acceptance-drop alarm needs --baseline".to_string(),
            },
        ),
        Some(None) => (
            None,
            CriterionState::NotEvaluated,
            "acceptance_rate has no accepted or fallback records here or in the baseline".into(),
        ),
        Some(Some((drop, base, now))) => {
            let status = judged(kind, drop <= max);
            let verdict = match status {
                CriterionState::Breached => format!(" (BREACHED: more than {})", percent(max)),
                CriterionState::NotMet => format!(" (at most {} allowed: not met)", percent(max)),
                _ => format!(" (at most {} allowed)", percent(max)),
            };
            let dir = if drop >= 0.0 { "down" } else { "up" };
            (
                Some(drop),
                status,
                format!(
                    "acceptance_rate {} vs baseline {}: {dir} {}{verdict}",
                    fmt(now),
                    fmt(base),
                    percent(drop.abs())
                ),
            )
        }
    };
    plain(
        kind,
        "acceptance_rate",
        rule,
        value,
        Some(max),
        status,
        reason,
    )
}

pub fn evaluate(gates: &Gates, report: &Value, cx: &Context<'_>) -> Result<Verdict, GatesError> {
    let Some(stage) = gates.stage(cx.stage) else {
        let known: Vec<&str> = gates.stage.keys().map(|s| s.as_str()).collect();
        return Err(GatesError::NoSuchStage {
            stage: cx.stage,
            known: known.join(", "),
        });
    };
    let mut cs = evidence(stage, report, cx);

    // Go criteria.
    for c in &stage.go {
        cs.push(cond(report, Kind::Go, c));
    }
    if let Some(max_drop) = stage.stable_acceptance_max_drop {
        cs.push(acceptance(Kind::Go, report, cx.baseline, max_drop));
    }

    // Roll-back criteria.
    for c in &stage.rollback {
        cs.push(cond(report, Kind::Rollback, c));
    }
    if stage.rollback_on_regression {
        cs.push(regression(report, cx));
    }

    // Alarms.
    for c in &gates.alarms.rules {
        cs.push(cond(report, Kind::Alarm, c));
    }
    if let Some(max) = gates.alarms.acceptance_drop {
        cs.push(acceptance(Kind::Alarm, report, cx.baseline, max));
    }
    if let Some(max) = gates.alarms.max_silence_minutes {
        cs.push(silence(max, report, cx));
    }
    Ok(decide(cs, cx))
}

/// The evidence criteria: enough sampled records, days, and records at
/// the stage's sample rate.
fn evidence(stage: &Stage, report: &Value, cx: &Context<'_>) -> Vec<Criterion> {
    let mut out = Vec::new();
    let sampled = number(report, "sampled_records").unwrap_or(0.0);
    let need = stage.min_sampled_records as f64;
    out.push(plain(
        Kind::Evidence,
        "sampled_records",
        format!("sampled_records >= {}", stage.min_sampled_records),
        Some(sampled),
        Some(need),
        if sampled >= need {
            CriterionState::Met
        } else {
            CriterionState::NotMet
        },
        if sampled >= need {
            format!("{sampled} sampled records (at least {need} needed)")
        } else {
            format!(
                "only {sampled} sampled records; {} more needed (at least {need})",
                need - sampled
            )
        },
    ));
    out.push(elapsed(stage, report, cx));
    if let Some(rate) = stage.sample_rate {
        if let Some(Value::Object(rates)) = lookup(report, "sample_rates") {
            if !rates.is_empty() {
                let at: f64 = rates
                    .iter()
                    .filter(|(k, _)| k.parse::<f64>().is_ok_and(|x| (x - rate).abs() < 1e-9))
                    .filter_map(|(_, n)| n.as_f64())
                    .sum();
                let seen: Vec<&str> = rates.keys().map(|k| k.as_str()).collect();
                let others: Vec<(String, f64)> = rates
                    .iter()
                    .filter(|(k, _)| !k.parse::<f64>().is_ok_and(|x| (x - rate).abs() < 1e-9))
                    .filter_map(|(k, n)| Some((k.clone(), n.as_f64()?)))
                    .collect();
                out.push(plain(
                    Kind::Evidence,
                    "sample_rates",
                    format!("records at sample_rate {rate}"),
                    Some(at),
                    None,
                    if at > 0.0 { CriterionState::Met } else { CriterionState::NotMet },
                    if at > 0.0 {
                        format!("{at} records at stage {}'s sample rate {rate}", cx.stage)
                    } else {
                        format!(
                            "no record at stage {}'s sample rate {rate} (seen: {}): are these the right logs or stage?",
                            cx.stage,
                            seen.join(", ")
                        )
                    },
                ));
                if at > 0.0 {
                    out.push(other_rates(stage, rate, at, &others, cx));
                }
            }
        }
    }

    out
}

/// Records of another stage's sample rate beside the stage's own: two
/// stages judged as one. A hold unless the gates file allows it.
fn other_rates(
    stage: &Stage,
    rate: f64,
    at: f64,
    others: &[(String, f64)],
    cx: &Context<'_>,
) -> Criterion {
    let n: f64 = others.iter().map(|(_, n)| n).sum();
    let list: Vec<String> = others.iter().map(|(k, n)| format!("{k}: {n}")).collect();
    let rule = "no record at another sample rate".to_string();
    let (status, reason) = if n == 0.0 {
        (
            CriterionState::Met,
            format!(
                "every record with a sample rate is at stage {}'s {rate}",
                cx.stage
            ),
        )
    } else if stage.other_sample_rates == OtherRates::Allow {
        (
            CriterionState::Met,
            format!(
                "{n} records carry another stage's sample rate ({}) beside {at} at {rate}: judged with them, as the gates allow (other_sample_rates = \"allow\")",
                list.join(", ")
            ),
        )
    } else {
        (
            CriterionState::NotMet,
            format!(
                "{n} records carry another stage's sample rate ({}) beside {at} at stage {}'s {rate}: the window mixes stages; start it at the switch with --since (or set other_sample_rates = \"allow\" in a gates file)",
                list.join(", "),
                cx.stage
            ),
        )
    };
    plain(
        Kind::Evidence,
        "sample_rates.other",
        rule,
        Some(n),
        Some(0.0),
        status,
        reason,
    )
}

/// The stage's minimum duration: the time elapsed from its first record
/// to the verdict time, not the UTC dates its records touch (3 days and 10
/// minutes can touch 5 dates). Both are said.
fn elapsed(stage: &Stage, report: &Value, cx: &Context<'_>) -> Criterion {
    let need = stage.min_days as f64;
    let dates = number(report, "days_covered").unwrap_or(0.0);
    let rule = format!("elapsed_days >= {}", stage.min_days);
    let Some((from, to)) = cx.stage_span else {
        return plain(
            Kind::Evidence,
            "elapsed_days",
            rule,
            None,
            Some(need),
            if need <= 0.0 {
                CriterionState::Met
            } else {
                CriterionState::NotMet
            },
            format!(
                "no risk record: no time elapsed in stage {}; it needs {need} days",
                cx.stage
            ),
        );
    };
    let us = (to - from).max(0);
    let days = us as f64 / 86_400e6;
    let span = format!(
        "from the first record ({}) to {} ({}), over {dates} UTC date(s)",
        crate::report::risk::rfc3339(from),
        crate::report::risk::rfc3339(to),
        if to < cx.as_of_us {
            "--until"
        } else {
            "the verdict time"
        },
    );
    let met = days >= need;
    plain(
        Kind::Evidence,
        "elapsed_days",
        rule,
        Some(crate::report::round_to(days, 4)),
        Some(need),
        if met {
            CriterionState::Met
        } else {
            CriterionState::NotMet
        },
        if met {
            format!(
                "{} elapsed {span} (at least {need} days needed)",
                duration_text(us)
            )
        } else {
            format!(
                "only {} elapsed {span}; stage {} needs {need} days",
                duration_text(us),
                cx.stage
            )
        },
    )
}

/// "No regression against the previous stage": what `compare` finds
/// between the baseline and this report.
fn regression(report: &Value, cx: &Context<'_>) -> Criterion {
    let rule = "no regression against the baseline (aggmetrics compare)".to_string();
    match cx.baseline {
        None => plain(
            Kind::Rollback,
            "regression",
            rule,
            None,
            None,
            CriterionState::NotEvaluated,
            "regression against the previous stage needs --baseline".into(),
        ),
        Some(b) => {
            let cmp = compare::compare(
                b,
                report,
                "baseline",
                "current",
                compare::Document::Risk,
                &cx.thresholds,
            );
            let regs: Vec<String> = cmp
                .metrics
                .iter()
                .filter(|r| r.regression)
                .map(|r| {
                    format!(
                        "{} {} -> {} ({})",
                        r.path,
                        fmt(r.base),
                        fmt(r.candidate),
                        r.note
                    )
                })
                .collect();
            if regs.is_empty() {
                plain(
                    Kind::Rollback,
                    "regression",
                    rule,
                    None,
                    None,
                    CriterionState::Clear,
                    format!(
                        "no regression against the baseline ({} figures compared)",
                        cmp.metrics.len()
                    ),
                )
            } else {
                plain(
                    Kind::Rollback,
                    "regression",
                    rule,
                    Some(regs.len() as f64),
                    None,
                    CriterionState::Breached,
                    format!("regression against the baseline: {}", regs.join("; ")),
                )
            }
        }
    }
}

/// The silence alarm: the longest gap between records, and the time from
/// the last record to `--as-of`, against `max` minutes.
fn silence(max: f64, report: &Value, cx: &Context<'_>) -> Criterion {
    let rule = format!("no silence over {max} minutes");
    let last = lookup(report, "time_range.last")
        .and_then(Value::as_str)
        .and_then(crate::parse::Timestamp::parse);
    let gap = number(report, "longest_gap.minutes").unwrap_or(0.0);
    match last {
        None => plain(
            Kind::Alarm,
            "longest_gap.minutes",
            rule,
            None,
            Some(max),
            CriterionState::NotEvaluated,
            "no risk records: nothing to measure silence from".into(),
        ),
        Some(t) => {
            // A record stamped after as_of (a clock ahead: reported in
            // meta.future_records) is no silence.
            let since = ((cx.as_of_us - t.micros) as f64 / 60e6).max(0.0);
            let worst = gap.max(since);
            let fired = worst > max;
            let reason = if since >= gap {
                format!(
                    "last record {} before {}{}",
                    minutes_text(since),
                    cx.as_of,
                    if since > max {
                        " (judging archived logs? pass --as-of with the time they end)"
                    } else {
                        ""
                    }
                )
            } else {
                format!(
                    "longest silence between records {} (from {} to {})",
                    minutes_text(gap),
                    lookup(report, "longest_gap.from")
                        .and_then(Value::as_str)
                        .unwrap_or("?"),
                    lookup(report, "longest_gap.to")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                )
            };
            plain(
                Kind::Alarm,
                "longest_gap.minutes",
                rule,
                Some(worst),
                Some(max),
                if fired {
                    CriterionState::Breached
                } else {
                    CriterionState::Clear
                },
                if fired {
                    format!("risk log silent too long: {reason}; the alarm is {max} minutes")
                } else {
                    reason
                },
            )
        }
    }
}

/// The verdict from the criteria: any breach is rollback; else anything
/// missing or not met is hold; else go.
fn decide(cs: Vec<Criterion>, cx: &Context<'_>) -> Verdict {
    let breached: Vec<&Criterion> = cs
        .iter()
        .filter(|c| c.status == CriterionState::Breached)
        .collect();
    let missing: Vec<&Criterion> = cs
        .iter()
        .filter(|c| {
            matches!(c.kind, Kind::Evidence | Kind::Go)
                && matches!(
                    c.status,
                    CriterionState::NotMet | CriterionState::NotEvaluated
                )
        })
        .collect();
    let (decision, summary) = if !breached.is_empty() {
        (
            Decision::Rollback,
            breached
                .iter()
                .map(|c| c.reason.clone())
                .collect::<Vec<_>>(),
        )
    } else if !missing.is_empty() {
        (
            Decision::Hold,
            missing.iter().map(|c| c.reason.clone()).collect(),
        )
    } else {
        let mut s = vec![format!("every stage {} go criterion is met", cx.stage)];
        s.extend(
            cs.iter()
                .filter(|c| c.straddles)
                .map(|c| format!("but uncertain: {}", c.reason)),
        );
        (Decision::Go, s)
    };
    Verdict {
        stage: cx.stage,
        decision,
        exit_code: decision.exit_code(),
        summary,
        criteria: cs,
        gates: cx.gates_label.clone(),
        baseline: cx.baseline_label.clone(),
        as_of: cx.as_of.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_gates_parse_and_follow_the_runbook() {
        let g = Gates::builtin();
        let s1 = g.stage(1).unwrap();
        assert_eq!(
            (s1.min_days, s1.min_sampled_records, s1.sample_rate),
            (3, 50, Some(0.01))
        );
        assert_eq!(g.stage(2).unwrap().min_sampled_records, 200);
        assert!(g.stage(2).unwrap().rollback_on_regression);
        assert_eq!(g.stage(3).unwrap().min_days, 7);
        assert_eq!(g.alarms.rules.len(), 4);
        assert_eq!(g.alarms.max_silence_minutes, Some(60.0));
    }

    #[test]
    fn seconds_and_minutes() {
        assert_eq!(seconds_text(30.0), "30.0 s");
        assert_eq!(seconds_text(119.9), "119.9 s");
        assert_eq!(seconds_text(120.0), "2.0 minutes");
        assert_eq!(seconds_text(300.0), "5.0 minutes");
    }

    #[test]
    fn bad_gates_files_say_why() {
        let err = |text: &str| Gates::from_toml(text).unwrap_err();
        assert_eq!(
            err("[stage.one]\nmin_days = 1"),
            GatesError::StageName("one".into())
        );
        assert!(err("[stage.one]\nmin_days = 1")
            .to_string()
            .contains("numbered"));
        // What the TOML parser finds, with its own words: a condition
        // without a comparison, a misspelt key.
        for (text, says) in [
            ("[stage.1]\ngo = [\"error_rate = 1\"]", "no comparison"),
            ("[stage.1]\nmin_dayz = 1", "min_dayz"),
        ] {
            match err(text) {
                GatesError::Toml(m) => assert!(m.contains(says), "{m}"),
                e => panic!("{text}: {e:?}"),
            }
        }
        let e = err("[alarms]\nacceptance_drop = 2");
        assert!(matches!(e, GatesError::Share { .. }), "{e:?}");
        assert!(e.to_string().contains("between 0 and 1"));
        let stage = "[stage.1]\ngo = [\"error_rate < 0.05\"]\n";
        for silence in ["0", "-5", "nan"] {
            let e = err(&format!(
                "[alarms]\nmax_silence_minutes = {silence}\n{stage}"
            ));
            assert_eq!(e, GatesError::Silence, "{silence}");
            assert!(e.to_string().contains("above 0"));
        }
        assert!(Gates::from_toml(&format!("[alarms]\nmax_silence_minutes = 0.5\n{stage}")).is_ok());
        // A stage with nothing at all says both are missing; one with
        // roll-back rules but no go criteria says only that.
        let e = err("[stage.1]\nmin_days = 1\n");
        assert_eq!(e, GatesError::NoCriteria("1".into()));
        assert!(e.to_string().contains("and no roll-back criteria"), "{e}");
        for only in [
            "rollback = [\"error_rate > 0.1\"]",
            "rollback_on_regression = true",
        ] {
            let e = err(&format!("[stage.1]\n{only}\n"));
            assert_eq!(e, GatesError::NoGo("1".into()), "{only}");
            let m = e.to_string();
            assert!(
                m.contains("has no go criteria") && !m.contains("roll-back"),
                "{only}: {m}"
            );
        }
    }
}
