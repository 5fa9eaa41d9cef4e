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

use super::{Doc, DocKind, KindDoc, Render};
use crate::report::risk::RiskReport;
use crate::report::{Block, RateFig, Report, Stats, View};

pub struct Prometheus;

/// Metric families in the order they were first written, each with its
/// help text and samples.
#[derive(Default)]
struct Out {
    order: Vec<String>,
    families: BTreeMap<String, (String, Vec<String>)>,
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
    fn put(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        let fam = self.families.entry(name.to_string()).or_insert_with(|| {
            self.order.push(name.to_string());
            (help.to_string(), Vec::new())
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

    fn stats(&mut self, name: &str, help: &str, labels: &[(&str, &str)], st: &Stats) {
        self.points(name, help, labels, &st.percentiles, st.count);
    }

    /// Percentiles (`p50`, `p99.9`) as `quantile` gauges; none over no
    /// values (a percentile of nothing is not 0).
    fn points(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        points: &[(String, f64)],
        count: u64,
    ) {
        if count == 0 {
            return;
        }
        for (k, v) in points {
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

/// One report section, from its view: records (per group for a grid),
/// counts, percentiles, shares, rates with their Wilson intervals, and the
/// breakdowns a view exports. Series are `aggmetrics_<section>_<name>`.
fn section(o: &mut Out, v: &View) {
    let k = v.key.as_str();
    let title = v.name().to_string();
    let grid_records = v.blocks.iter().find_map(|b| match b {
        Block::Grid {
            label,
            columns,
            records,
            ..
        } => Some((label, columns, records)),
        _ => None,
    });
    match grid_records {
        Some((label, columns, records)) => {
            for (c, n) in columns.iter().zip(records) {
                o.put(
                    &format!("{k}_records"),
                    &format!("{title} records per {label}."),
                    &[(label, c)],
                    *n as f64,
                );
            }
        }
        None => o.put(
            &format!("{k}_records"),
            &format!("{title} records."),
            &[],
            v.records as f64,
        ),
    }
    for (name, help, n) in &v.counts {
        o.put(&format!("{k}_{name}"), help, &[], *n as f64);
    }
    for b in &v.blocks {
        match b {
            Block::Grid {
                label,
                columns,
                rows,
                ..
            } => {
                // Column by column, as a group's figures belong together.
                for (i, c) in columns.iter().enumerate() {
                    for r in rows {
                        let Some(st) = r.cells.get(i).and_then(Option::as_ref) else {
                            continue;
                        };
                        let mut labels = vec![(*label, c.as_str())];
                        let help = match r.label {
                            Some(l) => {
                                labels.push((l, r.name.as_str()));
                                format!(
                                    "{title} {l} percentiles per {label} and {l}, milliseconds."
                                )
                            }
                            None => {
                                format!("{title} {} percentiles per {label}, milliseconds.", r.name)
                            }
                        };
                        o.stats(&format!("{k}_{}", r.series), &help, &labels, st);
                    }
                }
            }
            Block::Dist {
                name,
                points,
                count,
            } => o.points(
                &format!("{k}_{name}"),
                &format!("{title} {name} percentiles."),
                &[],
                points,
                *count,
            ),
            Block::Shares {
                label,
                series,
                counts,
                ..
            }
            | Block::Breakdown {
                series: Some((series, label)),
                counts,
                ..
            } => {
                for (key, n) in counts {
                    o.put(
                        &format!("{k}_{series}"),
                        &format!("{title} records per {label}."),
                        &[(label, key)],
                        *n as f64,
                    );
                }
            }
            Block::RateLine(rates) | Block::RateRows(rates) => rate_series(o, k, &title, rates),
            Block::Rows { name, label, rows } => {
                for (row, st, invalid) in rows {
                    let labels = [("value", name.as_str()), (*label, row.as_str())];
                    o.stats(
                        &format!("{k}_value"),
                        &format!("{title} value percentiles per value and {label}."),
                        &labels,
                        st,
                    );
                    o.put(
                        &format!("{k}_value_count"),
                        &format!("{title} usable values per value and {label}."),
                        &labels,
                        st.count as f64,
                    );
                    o.put(
                        &format!("{k}_value_invalid"),
                        &format!("{title} values that were not usable numbers."),
                        &labels,
                        *invalid as f64,
                    );
                }
            }
            Block::Cross { title: t, cells } => {
                let name: String = t
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                for (row, inner) in cells {
                    for (col, n) in inner {
                        o.put(
                            &format!("{k}_{name}_records"),
                            &format!("{title} records per {t} row and column."),
                            &[("row", row), ("column", col)],
                            *n as f64,
                        );
                    }
                }
            }
            Block::Breakdown { series: None, .. } => {}
        }
    }
}

/// Rates, 0..1, with their 95% Wilson interval; a rate over no records is
/// not 0: left out.
fn rate_series(o: &mut Out, k: &str, title: &str, rates: &[(&str, RateFig)]) {
    for (name, f) in rates.iter().filter(|(_, r)| r.denominator > 0) {
        o.put(
            &format!("{k}_rate"),
            &format!("{title} rates, 0..1."),
            &[("rate", name)],
            f.value,
        );
        o.put(
            &format!("{k}_rate_wilson_low"),
            "Lower end of the rate's 95% Wilson interval.",
            &[("rate", name)],
            f.wilson_95[0],
        );
        o.put(
            &format!("{k}_rate_wilson_high"),
            "Upper end of the rate's 95% Wilson interval.",
            &[("rate", name)],
            f.wilson_95[1],
        );
    }
}

fn summary(r: &Report) -> String {
    let mut o = Out::default();
    for v in r.kinds.views() {
        section(&mut o, &v);
    }
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

/// A kind's own document (`aggmetrics shadow`): its section and the run.
fn kind_doc(d: &KindDoc) -> String {
    let mut o = Out::default();
    // The whole run (a bucketed document is refused before it is made).
    for (_, v) in d.views.iter().filter(|(h, _)| h.is_none()) {
        section(&mut o, v);
    }
    run_state(&mut o, d.skipped, d.meta);
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
    rate_series(o, "risk", "Partial-trust risk", &rates.0);
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
            DocKind::Summary | DocKind::Risk | DocKind::Kind => Ok(()),
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
            Doc::Kind(d) => kind_doc(d),
            Doc::Buckets(_) | Doc::Compare(_) => {
                let why = self.supports(doc.kind()).err().unwrap_or("unsupported");
                return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
            }
        };
        out.write_all(s.as_bytes())
    }
}
