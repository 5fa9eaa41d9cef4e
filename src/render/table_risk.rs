//! The parts of the human table of `aggmetrics risk`: rates with their
//! intervals, the per-day trend, and the verdict block with the reason for
//! each criterion.

use std::fmt::Write as _;

use super::text::{breakdown, clean, grid, incomplete_lines, ms, pct, skipped_line, thousands};
use crate::report::risk::RiskReport;
use crate::report::verdict::CriterionState;

/// `aggmetrics risk: N inputs, N records (N sampled), first .. last, N UTC days`.
pub(super) fn header(r: &RiskReport) -> String {
    let m = &r.metrics;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "aggmetrics risk: {} input{}, {} records ({} sampled), {} .. {}, {} UTC day{}",
        r.meta.inputs.len(),
        if r.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(m.total_records),
        thousands(m.sampled_records),
        m.time_range
            .first
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
        m.time_range
            .last
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
        r.days_covered,
        if r.days_covered == 1 { "" } else { "s" },
    );
    s.push('\n');
    s
}

/// Every rate with its interval, the latency, the breakdowns, the longest
/// silence.
pub(super) fn figures(m: &crate::report::risk::RiskMetrics, r: &RiskReport, w: usize) -> String {
    let mut s = String::new();
    let mut rows = vec![vec![
        "rate".to_string(),
        "value".into(),
        "95% interval".into(),
        "count".into(),
        "of".into(),
    ]];
    for (name, f) in &m.rates.0 {
        rows.push(vec![
            name.to_string(),
            pct(f.value),
            format!("[{}, {}]", pct(f.wilson_95[0]), pct(f.wilson_95[1])),
            thousands(f.numerator),
            thousands(f.denominator),
        ]);
    }
    s.push_str(&grid(&rows, 1, "  ", w));
    let _ = writeln!(
        s,
        "  latency_ms  p50 {}  p95 {}  p99 {}  (n={})",
        ms(m.latency_p50),
        ms(m.latency_p95),
        ms(m.latency_p99),
        thousands(m.latency_count)
    );
    if !m.status_breakdown.is_empty() {
        let _ = writeln!(s, "  status: {}", breakdown(&m.status_breakdown));
    }
    if !m.reason_code_breakdown.is_empty() {
        let _ = writeln!(s, "  reasons: {}", breakdown(&m.reason_code_breakdown));
    }
    if !m.sample_rates.is_empty() {
        let _ = writeln!(s, "  sample rates: {}", breakdown(&m.sample_rates));
    }
    if let Some(g) = &r.longest_gap {
        let _ = writeln!(
            s,
            "  longest silence: {} min ({} .. {})",
            g.minutes, g.from, g.to
        );
    }

    s
}

pub(super) fn by_day(days: &[crate::report::risk::Day], w: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "\nBy day (UTC)");
    let mut rows = vec![[
        "day",
        "records",
        "sampled",
        "accept",
        "error",
        "intent mm",
        "entity mm",
        "p95 ms",
    ]
    .map(String::from)
    .to_vec()];
    for d in days {
        let m = &d.metrics;
        rows.push(vec![
            d.day.clone(),
            thousands(m.total_records),
            thousands(m.sampled_records),
            pct(m.rate("acceptance_rate")),
            pct(m.rate("error_rate")),
            pct(m.rate("intent_mismatch_rate")),
            pct(m.rate("entity_key_mismatch_rate")),
            ms(m.latency_p95),
        ]);
    }
    s.push_str(&grid(&rows, 1, "  ", w));
    s
}

/// The verdict block: the decision and its reasons, then every criterion.
pub(super) fn verdict(v: &crate::report::verdict::Verdict, w: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nVerdict for stage {}: {} (exit {})",
        v.stage,
        v.decision.name().to_uppercase(),
        v.exit_code
    );
    for line in &v.summary {
        let _ = writeln!(s, "  - {line}");
    }
    let _ = writeln!(s, "\nCriteria ({})", v.gates);
    let mut rows = Vec::new();
    for c in &v.criteria {
        let status = match c.status {
            CriterionState::Met => "met",
            CriterionState::NotMet => "NOT MET",
            CriterionState::Breached => "BREACHED",
            CriterionState::Clear => "clear",
            CriterionState::NotEvaluated => "n/a",
        };
        let kind = c.kind.name();
        rows.push(vec![
            kind.to_string(),
            status.into(),
            format!("{}{}", c.reason, if c.straddles { " (!)" } else { "" }),
        ]);
    }
    // The criterion's text is a note: wrapped under its own column.
    s.push_str(&super::text::grid_text_last(&rows, 2, "  ", true, w));
    s
}

pub(super) fn footer(r: &RiskReport) -> String {
    let mut s = String::new();
    s.push('\n');
    s.push_str(&skipped_line(&r.skipped));
    s.push_str(&incomplete_lines(&r.meta));
    match r.meta.precision.significant_digits {
        Some(d) => {
            let _ = writeln!(s, "Precision: latency from HDR histograms, {d} significant digits (--exact for the analyzer's numbers); rates are exact counts");
        }
        None => {
            let _ = writeln!(
                s,
                "Precision: exact; latency by the analyzer's lower nearest rank"
            );
        }
    }
    s
}
