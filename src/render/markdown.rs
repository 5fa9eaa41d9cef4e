//! Markdown for reports and chats: the main figures as pipe tables.
//! Keys from the logs are escaped so they cannot break a table.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Doc, Render};
use crate::report::{Rates, Report, Stats};

pub struct Markdown;

fn cell(s: &str) -> String {
    super::text::clean(s).replace('|', "\\|")
}

fn table(s: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(s, "| {} |", head.join(" | "));
    let _ = writeln!(s, "|{}", head.iter().map(|_| "---|").collect::<String>());
    for r in rows {
        let _ = writeln!(s, "| {} |", r.join(" | "));
    }
    s.push('\n');
}

fn stat_row(name: &str, st: &Stats) -> Vec<String> {
    let mut r = vec![cell(name), st.count.to_string()];
    r.extend(st.percentiles.iter().map(|(_, v)| format!("{v:.3}")));
    r
}

fn rates(s: &mut String, rates: &Rates) {
    let rows: Vec<Vec<String>> = rates
        .0
        .iter()
        .map(|(k, f)| {
            vec![
                k.to_string(),
                format!("{:.2}%", f.value * 100.0),
                format!(
                    "{:.2}% – {:.2}%",
                    f.wilson_95[0] * 100.0,
                    f.wilson_95[1] * 100.0
                ),
                format!("{} / {}", f.numerator, f.denominator),
            ]
        })
        .collect();
    table(s, &["rate", "value", "95% interval", "count"], &rows);
}

fn summary(s: &mut String, r: &Report) {
    figures(s, r);
    skipped(s, &r.skipped, &r.meta);
}

/// Latency, fallback and risk tables of one report (or bucket).
fn figures(s: &mut String, r: &Report) {
    let _ = writeln!(
        s,
        "Records from {} to {}.\n",
        r.time_range
            .first
            .as_deref()
            .map(cell)
            .unwrap_or_else(|| "-".into()),
        r.time_range
            .last
            .as_deref()
            .map(cell)
            .unwrap_or_else(|| "-".into())
    );
    let ps: Vec<String> = r
        .latency
        .all
        .total_ms
        .percentiles
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    let mut head = vec!["latency (ms)", "n"];
    head.extend(ps.iter().map(|p| p.as_str()));
    let mut rows = Vec::new();
    for (g, grp) in [
        ("all", &r.latency.all),
        ("with_llm", &r.latency.with_llm),
        ("without_llm", &r.latency.without_llm),
    ] {
        rows.push(stat_row(&format!("{g} total_ms"), &grp.total_ms));
    }
    for (step, st) in &r.latency.all.steps {
        rows.push(stat_row(&format!("all {step}"), st));
    }
    table(s, &head, &rows);
    let _ = writeln!(s, "**Fallback** ({} records)\n", r.fallback.count);
    rates(s, &r.fallback.rates);
    let _ = writeln!(
        s,
        "**Partial-trust risk** ({} records, {} sampled)\n",
        r.risk.total_records, r.risk.sampled_records
    );
    rates(s, &r.risk.rates);
}

/// Skipped lines and the incomplete flag: once per run.
fn skipped(s: &mut String, sk: &crate::report::Skipped, meta: &crate::report::Meta) {
    let _ = writeln!(
        s,
        "Skipped lines: {}{}",
        sk.total,
        if meta.incomplete {
            "; **incomplete: an input could not be read to its end**"
        } else {
            ""
        }
    );
}

impl Render for Markdown {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut s = String::new();
        match doc {
            Doc::Summary(r) => {
                s.push_str("## aggmetrics summary\n\n");
                summary(&mut s, r);
            }
            Doc::Buckets(b) => {
                s.push_str("## aggmetrics summary by period\n\n");
                let rows = super::bucket_rows(b);
                if let Some(first) = rows.first() {
                    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| {
                        x.map(f).unwrap_or_else(|| "-".into())
                    };
                    let pcs: Vec<String> = first
                        .total_ms
                        .iter()
                        .map(|(k, _)| format!("{k} ms"))
                        .collect();
                    let _ = writeln!(
                        s,
                        "| start (UTC) | records | {} | error | fallback | risk error | skipped |",
                        pcs.join(" | ")
                    );
                    let _ = writeln!(s, "|---|{}", "---:|".repeat(pcs.len() + 5));
                    for r in &rows {
                        let vals: Vec<String> = r
                            .total_ms
                            .iter()
                            .map(|(_, v)| opt(*v, &|x| format!("{x:.3}")))
                            .collect();
                        let p = |x: f64| format!("{:.2}%", x * 100.0);
                        let _ = writeln!(
                            s,
                            "| {} | {} | {} | {} | {} | {} | {} |",
                            r.start,
                            r.records,
                            vals.join(" | "),
                            opt(r.error_rate, &p),
                            opt(r.fallback_rate, &p),
                            opt(r.risk_error_rate, &p),
                            r.skipped
                        );
                    }
                    s.push_str("\nPercentiles: `total_ms` of all latency records. Error and fallback: the fallback log's rates; risk error: the risk log's error rate. Every figure per period: `--format json`.\n\n");
                } else {
                    s.push_str("No records in any period.\n\n");
                }
                skipped(&mut s, &b.skipped, &b.meta);
            }
            Doc::Risk(r) => {
                let m = &r.metrics;
                let _ = writeln!(
                    s,
                    "## aggmetrics risk\n\n{} records ({} sampled) over {} UTC days.\n",
                    m.total_records, m.sampled_records, r.days_covered
                );
                rates(&mut s, &m.rates);
                let _ = writeln!(
                    s,
                    "latency_ms p50 {:.3}, p95 {:.3}, p99 {:.3} (n={})\n",
                    m.latency_p50, m.latency_p95, m.latency_p99, m.latency_count
                );
                if let Some(v) = &r.verdict {
                    let _ = writeln!(
                        s,
                        "**Verdict for stage {}: {}** (exit {})\n",
                        v.stage,
                        v.decision.name().to_uppercase(),
                        v.exit_code
                    );
                    for l in &v.summary {
                        let _ = writeln!(s, "- {}", cell(l));
                    }
                    s.push('\n');
                }
            }
            Doc::Compare(c) => {
                let _ = writeln!(
                    s,
                    "## aggmetrics compare\n\n`{}` → `{}`: {} regression(s)\n",
                    cell(&c.base),
                    cell(&c.candidate),
                    c.regressions.len()
                );
                let rows: Vec<Vec<String>> = c
                    .metrics
                    .iter()
                    .map(|r| {
                        vec![
                            cell(&r.path),
                            format!("{}", r.base),
                            format!("{}", r.candidate),
                            r.relative_change
                                .map(|x| format!("{:+.1}%", x * 100.0))
                                .unwrap_or_else(|| "-".into()),
                            if r.regression {
                                "**regression**".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect();
                table(
                    &mut s,
                    &["metric", "base", "candidate", "change", ""],
                    &rows,
                );
            }
        }
        out.write_all(s.as_bytes())
    }
}
