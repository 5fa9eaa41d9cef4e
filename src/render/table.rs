//! The human table: groups side by side, units in the headers, rates as
//! percentages, and a line saying what was skipped and why.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::text::{breakdown, clean, grid, incomplete_lines, ms, pct, skipped_line, thousands};
use super::{Doc, Render};
use crate::report::{Report, Skipped, Stats};

pub struct Table;

fn stat_rows(rows: &mut Vec<Vec<String>>, name: &str, groups: &[Option<&Stats>], extra: bool) {
    let first = groups.iter().flatten().next();
    let Some(first) = first else { return };
    let mut labels: Vec<String> = first.percentiles.iter().map(|(k, _)| k.clone()).collect();
    if extra {
        labels.extend(["mean", "max"].map(String::from));
    }
    for (i, label) in labels.iter().enumerate() {
        let mut row = vec![
            if i == 0 { clean(name) } else { String::new() },
            label.clone(),
        ];
        for g in groups {
            row.push(match g {
                None => "-".into(),
                Some(s) if s.count == 0 => "-".into(),
                Some(s) => ms(match label.as_str() {
                    "mean" => s.mean,
                    "max" => s.max,
                    _ => s.get(label).unwrap_or(0.0),
                }),
            });
        }
        rows.push(row);
    }
}

fn cross(title: &str, m: &BTreeMap<String, BTreeMap<String, u64>>) -> String {
    let mut cols: Vec<&String> = m.values().flat_map(|x| x.keys()).collect();
    cols.sort();
    cols.dedup();
    let mut rows = vec![std::iter::once(title.to_string())
        .chain(cols.iter().map(|c| clean(c)))
        .collect::<Vec<_>>()];
    for (k, inner) in m {
        let mut row = vec![clean(k)];
        for c in &cols {
            row.push(
                inner
                    .get(*c)
                    .map(|n| thousands(*n))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        rows.push(row);
    }
    grid(&rows, 1, "  ")
}

impl Render for Table {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let s = match doc {
            Doc::Summary(r) => summary(r),
            Doc::Buckets(b) => buckets(b),
            Doc::Risk(r) => super::table_risk::render(r),
            Doc::Compare(c) => super::table_compare::render(c),
        };
        out.write_all(s.as_bytes())
    }
}

fn summary(r: &Report) -> String {
    let mut s = header(r);
    s.push_str(&body(r));
    s.push_str(&footer(&r.skipped, &r.meta));
    s
}

/// `--by hour|day`: the run's header, one row per bucket, the run's
/// skipped lines once.
fn buckets(b: &crate::report::BucketReport) -> String {
    let rows = super::bucket_rows(b);
    let records: u64 = rows.iter().map(|r| r.records).sum();
    let mut s = format!(
        "aggmetrics summarize: {} input{}, {} records{}, {} bucket{}\n\n",
        b.meta.inputs.len(),
        if b.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(records),
        window_note(&b.meta),
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
    );
    if rows.is_empty() {
        s.push_str("No records in any bucket.\n");
    } else {
        let opt = |x: Option<f64>, f: fn(f64) -> String| x.map(f).unwrap_or_else(|| "-".into());
        let mut head = vec!["start (UTC)".to_string(), "records".into()];
        head.extend(rows[0].total_ms.iter().map(|(k, _)| k.clone()));
        head.extend([
            "error".into(),
            "fallback".into(),
            "risk error".into(),
            "skipped".into(),
        ]);
        let mut grid_rows = vec![head];
        for r in &rows {
            let mut row = vec![r.start.clone(), thousands(r.records)];
            row.extend(r.total_ms.iter().map(|(_, v)| opt(*v, ms)));
            row.push(opt(r.error_rate, pct));
            row.push(opt(r.fallback_rate, pct));
            row.push(opt(r.risk_error_rate, pct));
            row.push(thousands(r.skipped));
            grid_rows.push(row);
        }
        s.push_str(&grid(&grid_rows, 1, ""));
        s.push_str("\npNN: total_ms of all latency records (ms); error, fallback: the fallback log's rates; risk error: the risk log's error rate; -: no records. Every figure per bucket: --format json.\n");
    }
    s.push_str(&footer(&b.skipped, &b.meta));
    s
}

/// ` in SINCE .. UNTIL (N outside)` for a windowed report.
pub fn window_note(meta: &crate::report::Meta) -> String {
    let Some(w) = &meta.window else {
        return String::new();
    };
    let end =
        |t: &Option<String>, open: &str| t.as_deref().map(clean).unwrap_or_else(|| open.into());
    let mut s = format!(
        " in {} .. {}",
        end(&w.since, "the beginning"),
        end(&w.until, "the end")
    );
    if let Some(n) = w.outside {
        let _ = write!(s, " ({} outside)", thousands(n));
    }
    s
}

/// `aggmetrics summarize: N inputs, N records, first .. last`.
fn header(r: &Report) -> String {
    let mut s = String::new();
    // The records the figures count (in the window, when there is one).
    let records = r.latency.all.count + r.fallback.count + r.risk.total_records;
    let _ = writeln!(
        s,
        "aggmetrics summarize: {} input{}, {} records{}, {} .. {}",
        r.meta.inputs.len(),
        if r.meta.inputs.len() == 1 { "" } else { "s" },
        thousands(records),
        window_note(&r.meta),
        r.time_range
            .first
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
        r.time_range
            .last
            .as_deref()
            .map(clean)
            .unwrap_or_else(|| "-".into()),
    );
    s
}

/// Latency, fallback and risk figures of one report (or bucket).
fn body(r: &Report) -> String {
    let mut s = String::new();
    // Latency: groups side by side.
    let l = &r.latency;
    let _ = writeln!(s, "\nLatency (ms)");
    let mut rows = vec![
        vec![
            "".into(),
            "".into(),
            "all".into(),
            "with_llm".into(),
            "without_llm".into(),
        ],
        vec![
            "records".into(),
            "".into(),
            thousands(l.all.count),
            thousands(l.with_llm.count),
            thousands(l.without_llm.count),
        ],
    ];
    stat_rows(
        &mut rows,
        "total_ms",
        &[
            Some(&l.all.total_ms),
            Some(&l.with_llm.total_ms),
            Some(&l.without_llm.total_ms),
        ],
        true,
    );
    for (name, st) in &l.all.steps {
        stat_rows(
            &mut rows,
            name,
            &[
                Some(st),
                l.with_llm.steps.get(name),
                l.without_llm.steps.get(name),
            ],
            false,
        );
    }
    s.push_str(&grid(&rows, 2, "  "));

    // Fallback.
    let f = &r.fallback;
    let _ = writeln!(s, "\nFallback ({} records)", thousands(f.count));
    let mut rows = vec![vec!["outcome".into(), "records".into(), "share".into()]];
    let mut oc: Vec<_> = f.outcome_counts.iter().collect();
    oc.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (k, n) in oc {
        let share = if f.count == 0 {
            0.0
        } else {
            *n as f64 / f.count as f64
        };
        rows.push(vec![clean(k), thousands(*n), pct(share)]);
    }
    s.push_str(&grid(&rows, 1, "  "));
    let _ = writeln!(
        s,
        "  fallback rate {}   error rate {}   success rate {}",
        pct(f.fallback_rate),
        pct(f.error_rate),
        pct(f.success_rate)
    );
    if f.llm_latency_ms.count > 0 {
        let ps: Vec<String> = f
            .llm_latency_ms
            .percentiles
            .iter()
            .map(|(k, v)| format!("{k} {}", ms(*v)))
            .collect();
        let _ = writeln!(
            s,
            "  llm_latency_ms  {}  (n={})",
            ps.join("  "),
            thousands(f.llm_latency_ms.count)
        );
    }
    if !f.fallback_reason_counts.is_empty() {
        let _ = writeln!(s, "  reasons: {}", breakdown(&f.fallback_reason_counts));
    }
    if !f.by_intent.is_empty() {
        s.push('\n');
        s.push_str(&cross("by intent", &f.by_intent));
    }
    if !f.components.is_empty() {
        s.push('\n');
        s.push_str(&cross("components", &f.components));
    }

    // Risk.
    let k = &r.risk;
    let _ = writeln!(
        s,
        "\nPartial-trust risk ({} records, {} sampled)",
        thousands(k.total_records),
        thousands(k.sampled_records)
    );
    let rows = vec![
        vec![
            "acceptance rate".into(),
            pct(k.acceptance_rate),
            format!("of {}", thousands(k.acceptance_denominator)),
        ],
        vec![
            "error rate".into(),
            pct(k.error_rate),
            format!("of {}", thousands(k.total_records)),
        ],
        vec![
            "intent mismatch".into(),
            pct(k.intent_mismatch_rate),
            format!("of {}", thousands(k.diff_records)),
        ],
        vec![
            "entity key mismatch".into(),
            pct(k.entity_key_mismatch_rate),
            format!("of {}", thousands(k.diff_records)),
        ],
    ];
    s.push_str(&grid(&rows, 1, "  "));
    let _ = writeln!(
        s,
        "  latency_ms  p50 {}  p95 {}  p99 {}  (n={})",
        ms(k.latency_p50),
        ms(k.latency_p95),
        ms(k.latency_p99),
        thousands(k.latency_count)
    );
    if !k.status_breakdown.is_empty() {
        let _ = writeln!(s, "  status: {}", breakdown(&k.status_breakdown));
    }
    if !k.reason_code_breakdown.is_empty() {
        let _ = writeln!(s, "  reasons: {}", breakdown(&k.reason_code_breakdown));
    }
    s
}

/// Skipped lines, incomplete inputs and precision: once per run.
fn footer(skipped: &Skipped, meta: &crate::report::Meta) -> String {
    let mut s = String::from("\n");
    s.push_str(&skipped_line(skipped));
    s.push_str(&incomplete_lines(meta));
    match meta.precision.significant_digits {
        Some(d) => {
            let _ = writeln!(s, "Precision: HDR histograms, {d} significant digits, 1 µs resolution; percentiles interpolated as the platform script did, each at most 1e-{d} above --exact's");
        }
        None => {
            let _ = writeln!(s, "Precision: exact values; linear-interpolation percentiles as the platform script computed them");
        }
    }
    s
}
