//! node_exporter textfile (`*.prom`): every figure of the whole run as a
//! gauge prefixed `aggmetrics_`, with HELP and TYPE lines; latency as
//! quantile gauges by group and step. A figure over no values (a
//! percentile of an empty group, a rate over no records) is left out rather
//! than written as 0, so a quiet window never looks healthy; counts, the
//! newest record's time and the run's own state are always written. Label values (step names, outcomes,
//! statuses from the logs) are escaped as the exposition format requires.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Doc, DocKind, Render};
use crate::report::risk::RiskReport;
use crate::report::{Report, Stats};

pub struct Prometheus;

/// Metric families in the order they were first written, each with its
/// help text and samples.
#[derive(Default)]
struct Out {
    order: Vec<&'static str>,
    families: BTreeMap<&'static str, (&'static str, Vec<String>)>,
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn num(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{x}")
    }
}

impl Out {
    fn put(&mut self, name: &'static str, help: &'static str, labels: &[(&str, &str)], value: f64) {
        let fam = self.families.entry(name).or_insert_with(|| {
            self.order.push(name);
            (help, Vec::new())
        });
        let mut line = format!("aggmetrics_{name}");
        if !labels.is_empty() {
            line.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{k}=\"{}\"", escape(v));
            }
            line.push('}');
        }
        let _ = write!(line, " {}", num(value));
        fam.1.push(line);
    }

    fn stats(
        &mut self,
        name: &'static str,
        help: &'static str,
        labels: &[(&str, &str)],
        st: &Stats,
    ) {
        // A percentile of nothing is not 0: leave it out.
        if st.count == 0 {
            return;
        }
        for (k, v) in &st.percentiles {
            let q = k.trim_start_matches('p').parse::<f64>().unwrap_or(0.0) / 100.0;
            // p99.9 -> 0.999, not 0.9990000000000001.
            let q = format!("{}", crate::report::round_to(q, 9));
            let mut l = labels.to_vec();
            l.push(("quantile", &q));
            self.put(name, help, &l, *v);
        }
    }

    fn finish(self) -> String {
        let mut s = String::new();
        for name in &self.order {
            let (help, lines) = &self.families[name];
            let _ = writeln!(s, "# HELP aggmetrics_{name} {help}");
            let _ = writeln!(s, "# TYPE aggmetrics_{name} gauge");
            for l in lines {
                s.push_str(l);
                s.push('\n');
            }
        }
        s
    }
}

/// What every textfile ends with: skipped lines, the incomplete flag, the
/// newest record's time, and how and when this run ended.
fn run_state(o: &mut Out, skipped: &crate::report::Skipped, meta: &crate::report::Meta) {
    o.put(
        "skipped_lines_total",
        "Lines skipped as damaged.",
        &[],
        skipped.total as f64,
    );
    o.put(
        "incomplete",
        "1 if an input could not be read to its end.",
        &[],
        meta.incomplete as u8 as f64,
    );
    o.put(
        "inputs",
        "Log files (or states) this run read; 0 when none was found.",
        &[],
        meta.inputs.len() as f64,
    );
    if let Some(t) = meta
        .newest_record
        .as_deref()
        .and_then(crate::parse::Timestamp::parse)
    {
        o.put(
            "last_record_timestamp_seconds",
            "Unix time of the newest record read, inside the time window or before it: when the logs were last written, even when the window holds no record.",
            &[],
            t.micros as f64 / 1e6,
        );
    }
    o.put(
        "run_success",
        "1 if this run found its logs and read every one to its end; 0 if it found none or an input was incomplete.",
        &[],
        (!meta.incomplete && !meta.inputs.is_empty()) as u8 as f64,
    );
    if let Some(us) = meta.finished_us {
        o.put(
            "run_finished_timestamp_seconds",
            "Unix time this run finished: a stale value means the runs stopped.",
            &[],
            (us / 1_000_000) as f64,
        );
    }
}

fn summary(r: &Report) -> String {
    let mut o = Out::default();
    for (group, g) in [
        ("all", &r.latency.all),
        ("with_llm", &r.latency.with_llm),
        ("without_llm", &r.latency.without_llm),
    ] {
        o.put(
            "latency_records",
            "Pipeline latency records per group.",
            &[("group", group)],
            g.count as f64,
        );
        o.stats(
            "latency_total_ms",
            "Pipeline total_ms percentiles per group, milliseconds.",
            &[("group", group)],
            &g.total_ms,
        );
        for (step, st) in &g.steps {
            o.stats(
                "latency_step_ms",
                "Pipeline step percentiles per group and step, milliseconds.",
                &[("group", group), ("step", step)],
                st,
            );
        }
    }
    let f = &r.fallback;
    o.put("fallback_records", "Fallback records.", &[], f.count as f64);
    for (outcome, n) in &f.outcome_counts {
        o.put(
            "fallback_outcome_records",
            "Fallback records per llm_outcome.",
            &[("outcome", outcome)],
            *n as f64,
        );
    }
    for (name, rate) in f.rates.0.iter().filter(|(_, r)| r.denominator > 0) {
        o.put(
            "fallback_rate",
            "Fallback rates (fallback_rate, error_rate, success_rate), 0..1.",
            &[("rate", name)],
            rate.value,
        );
    }
    o.stats(
        "fallback_llm_latency_ms",
        "llm_latency_ms percentiles, milliseconds.",
        &[],
        &f.llm_latency_ms,
    );
    risk(
        &mut o,
        r.risk.total_records,
        r.risk.sampled_records,
        &r.risk.status_breakdown,
        &r.risk.rates,
        r.risk.latency_count,
        &[
            ("0.5", r.risk.latency_p50),
            ("0.95", r.risk.latency_p95),
            ("0.99", r.risk.latency_p99),
        ],
    );
    for (reason, n) in &r.skipped.by_reason {
        o.put(
            "skipped_lines",
            "Lines skipped as damaged, per reason.",
            &[("reason", reason)],
            *n as f64,
        );
    }
    run_state(&mut o, &r.skipped, &r.meta);
    o.finish()
}

fn risk(
    o: &mut Out,
    total: u64,
    sampled: u64,
    status: &BTreeMap<String, u64>,
    rates: &crate::report::Rates,
    latency_count: u64,
    latency: &[(&str, f64)],
) {
    o.put(
        "risk_records",
        "Partial-trust risk records.",
        &[],
        total as f64,
    );
    o.put(
        "risk_sampled_records",
        "Risk records with sampled: true.",
        &[],
        sampled as f64,
    );
    for (s, n) in status {
        o.put(
            "risk_status_records",
            "Risk records per status.",
            &[("status", s)],
            *n as f64,
        );
    }
    // A rate over no records is not 0: leave it out.
    for (name, f) in rates.0.iter().filter(|(_, r)| r.denominator > 0) {
        o.put("risk_rate", "Risk rates, 0..1.", &[("rate", name)], f.value);
        o.put(
            "risk_rate_wilson_low",
            "Lower end of the rate's 95% Wilson interval.",
            &[("rate", name)],
            f.wilson_95[0],
        );
        o.put(
            "risk_rate_wilson_high",
            "Upper end of the rate's 95% Wilson interval.",
            &[("rate", name)],
            f.wilson_95[1],
        );
    }
    for (q, v) in latency.iter().filter(|_| latency_count > 0) {
        o.put(
            "risk_latency_ms",
            "Risk latency_ms percentiles, milliseconds.",
            &[("quantile", q)],
            *v,
        );
    }
}

fn risk_report(r: &RiskReport) -> String {
    let m = &r.metrics;
    let mut o = Out::default();
    risk(
        &mut o,
        m.total_records,
        m.sampled_records,
        &m.status_breakdown,
        &m.rates,
        m.latency_count,
        &[
            ("0.5", m.latency_p50),
            ("0.95", m.latency_p95),
            ("0.99", m.latency_p99),
        ],
    );
    o.put(
        "risk_days_covered",
        "UTC days holding risk records.",
        &[],
        r.days_covered as f64,
    );
    if let Some(v) = &r.verdict {
        o.put(
            "risk_verdict_exit_code",
            "Rollout verdict: 0 go, 1 rollback, 3 hold.",
            &[("stage", &v.stage.to_string())],
            v.exit_code as f64,
        );
    }
    run_state(&mut o, &r.skipped, &r.meta);
    o.finish()
}

impl Render for Prometheus {
    fn supports(&self, kind: DocKind) -> Result<(), &'static str> {
        match kind {
            DocKind::Summary | DocKind::Risk => Ok(()),
            DocKind::Buckets => Err(
                "--format prometheus shows one whole run: drop --by, or use json, csv or markdown",
            ),
            DocKind::Compare => Err(
                "--format prometheus does not show comparisons: use table, json, csv or markdown",
            ),
        }
    }

    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let s = match doc {
            Doc::Summary(r) => summary(r),
            Doc::Risk(r) => risk_report(r),
            Doc::Buckets(_) | Doc::Compare(_) => {
                let why = self.supports(doc.kind()).err().unwrap_or("unsupported");
                return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
            }
        };
        out.write_all(s.as_bytes())
    }
}
