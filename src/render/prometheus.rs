//! node_exporter textfile (`*.prom`): every figure of the whole run,
//! prefixed `aggmetrics_`, with HELP and TYPE lines, that passes
//! `promtool check metrics`.
//!
//! Durations are classic histograms in seconds (`_bucket{le=...}`, `_sum`,
//! `_count`) in the one fixed layout of `agg::layout`, so hosts add up:
//! the fleet's p95 is `histogram_quantile(0.95, sum by (le) (...))`.
//! Series that add up across hosts never include a union of others (the
//! latency group `all` is `sum` over `with_llm` and `without_llm`). Rates
//! come with their numerator and denominator as their own series, so a
//! fleet rate is a ratio of sums. This run's own percentiles are gauges
//! with a `percentile` label (they do not add up; the histograms do).
//! Counts over the run's window are gauges (they are not monotonic);
//! `aggmetrics serve`'s counts only grow, and are counters (`_total`).
//!
//! A figure over no values (a percentile of an empty group, a rate over no
//! records) is left out rather than written as 0, so a quiet window never
//! looks healthy; counts, the newest record's time and the run's own state
//! are always written. Label values (step names, outcomes, statuses from
//! the logs) are escaped as the exposition format requires.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{Doc, DocKind, KindDoc, Render};
use crate::agg::layout;
use crate::kinds::LogKind;
use crate::measure::verdict::Verdict;
use crate::measure::view::{Breakdown, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::figures::Histo;
use crate::report::risk::RiskReport;
use crate::report::{Block, RateFig, Report, View};

pub struct Prometheus {
    /// The `run` label of every series (`--run-name`, or the -o file's
    /// name).
    pub run: String,
    /// Counts are of everything read since a start (`aggmetrics serve`),
    /// never fewer: written as counters named `..._total`, for `rate()`
    /// and `increase()`.
    pub cumulative: bool,
}

/// Metric families in the order they were first written, each with its
/// type, help text and samples.
#[derive(Default)]
struct Out {
    order: Vec<String>,
    families: BTreeMap<String, Family>,
    /// Labels every series starts with: `command` and `run`, so the files
    /// of several commands and cron lines in one textfile folder never
    /// hold the same series (node_exporter drops both).
    base: Vec<(&'static str, String)>,
    /// Counts as counters ([`Prometheus::cumulative`]).
    cumulative: bool,
}

impl Out {
    fn new(command: &str, run: &str, cumulative: bool) -> Out {
        Out {
            base: vec![("command", command.to_string()), ("run", run.to_string())],
            cumulative,
            ..Out::default()
        }
    }
}

struct Family {
    kind: &'static str,
    help: String,
    lines: Vec<String>,
}

/// A label value: `\`, `"` and newline escaped as the text format says,
/// and other control characters (ESC, BEL, NUL from a log key) written
/// escaped (`\u{1b}`), never raw, so `curl` of the file to a terminal is
/// harmless.
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            // Shown as the text `\u{1b}` (its backslash escaped).
            c if c.is_control() => {
                s.push_str(&crate::escape::text(&c.to_string()).replace('\\', "\\\\"))
            }
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

/// A series name part from a JSON key: `llm_latency_ms` -> `llm_latency`
/// (its unit goes to the end as `_seconds`), `timing.total ms` ->
/// `timing_total_ms`.
fn name_part(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `p99.9` -> `99.9`.
fn percentile_label(k: &str) -> &str {
    k.trim_start_matches('p')
}

impl Out {
    /// One sample of family `family` (its TYPE `kind`), named
    /// `aggmetrics_<family><suffix>`.
    fn sample(
        &mut self,
        family: &str,
        kind: &'static str,
        help: &str,
        suffix: &str,
        labels: &[(&str, &str)],
        value: f64,
    ) {
        let fam = self.families.entry(family.to_string()).or_insert_with(|| {
            self.order.push(family.to_string());
            Family {
                kind,
                help: help.to_string(),
                lines: Vec::new(),
            }
        });
        let mut line = format!("aggmetrics_{family}{suffix}");
        let base = self.base.iter().map(|(k, v)| (*k, v.as_str()));
        let labels: Vec<(&str, &str)> = base.chain(labels.iter().copied()).collect();
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
        fam.lines.push(line);
    }

    /// A gauge sample.
    fn put(&mut self, name: &str, help: &str, labels: &[(&str, &str)], value: f64) {
        self.sample(name, "gauge", help, "", labels, value);
    }

    /// A count of records, lines or values: a gauge over a run's window
    /// (it may be lower in the next run), a counter `<name>_total` when
    /// the counts only grow ([`Prometheus::cumulative`]).
    fn count(&mut self, name: &str, help: &str, labels: &[(&str, &str)], n: u64) {
        if self.cumulative {
            self.sample(
                &format!("{name}_total"),
                "counter",
                help,
                "",
                labels,
                n as f64,
            );
        } else {
            self.put(name, help, labels, n as f64);
        }
    }

    /// A classic histogram in seconds: cumulative `_bucket`s at every
    /// bound of the layout and `+Inf`, `_sum` and `_count`. Written also
    /// over no values (all zero), so every host has the same series.
    fn histogram(&mut self, name: &str, help: &str, labels: &[(&str, &str)], h: &Histo) {
        let bounds: Vec<String> = (0..layout::N)
            .map(|i| num(layout::bound_seconds(i)))
            .chain(["+Inf".to_string()])
            .collect();
        let counts = h.le.iter().chain([&h.count]);
        for (le, n) in bounds.iter().zip(counts) {
            let mut l = labels.to_vec();
            l.push(("le", le));
            self.sample(name, "histogram", help, "_bucket", &l, *n as f64);
        }
        self.sample(name, "histogram", help, "_sum", labels, h.sum_seconds());
        self.sample(name, "histogram", help, "_count", labels, h.count as f64);
    }

    /// This run's percentiles (`p50`, `p99.9`) as gauges with a
    /// `percentile` label, scaled by `scale` (1e-3: milliseconds to
    /// seconds); none over no values (a percentile of nothing is not 0).
    fn percentiles(
        &mut self,
        name: &str,
        help: &str,
        labels: &[(&str, &str)],
        points: &[(String, f64)],
        count: u64,
        scale: f64,
    ) {
        if count == 0 {
            return;
        }
        for (k, v) in points {
            let mut l = labels.to_vec();
            l.push(("percentile", percentile_label(k)));
            self.put(name, help, &l, crate::report::round_to(v * scale, 9));
        }
    }

    /// A duration in milliseconds: its histogram in seconds and this
    /// run's percentiles.
    fn duration(
        &mut self,
        stem: &str,
        what: &str,
        labels: &[(&str, &str)],
        points: &[(String, f64)],
        count: u64,
        hist: &Histo,
    ) {
        self.histogram(
            &format!("{stem}_seconds"),
            &format!("{what}, seconds, in the fixed buckets of docs/operations.md (adds up across hosts)."),
            labels,
            hist,
        );
        self.percentiles(
            &format!("{stem}_percentile_seconds"),
            &format!("{what}: this run's percentiles, seconds (do not add up across hosts; use the histogram)."),
            labels,
            points,
            count,
            1e-3,
        );
    }

    fn finish(self) -> String {
        let mut s = String::new();
        for name in &self.order {
            let f = &self.families[name];
            let _ = writeln!(s, "# HELP aggmetrics_{name} {}", f.help);
            let _ = writeln!(s, "# TYPE aggmetrics_{name} {}", f.kind);
            for l in &f.lines {
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
    o.count(
        "skipped_lines",
        "Lines skipped as damaged in this run.",
        &[],
        skipped.total,
    );
    for (reason, n) in &skipped.by_reason {
        o.count(
            "skipped_lines_by_reason",
            "Lines skipped as damaged, per reason.",
            &[("reason", reason)],
            *n,
        );
    }
    o.count(
        "memory_held_back",
        "Observations --max-memory kept out of a new time bucket, group or key (counted in the whole run's figures, or their map's dropped keys instead): above 0, a figure of one group or key may be short.",
        &[],
        meta.memory_budget.as_ref().map_or(0, |m| m.held_back),
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
/// counts, durations, shares, rates with their counts and Wilson
/// intervals, and the breakdowns a view exports. Series are
/// `aggmetrics_<section>_<name>`.
fn section(o: &mut Out, v: &View) {
    // A kinds file's kinds live under `kind_`: one named
    // `fallback_outcome` must not write inside a built-in family.
    let user;
    let built_in = LogKind::ALL
        .iter()
        .any(|(kind, _)| kind.by_name() && kind.name() == v.key);
    let k = if built_in || v.key == "jsonl" {
        v.key.as_str()
    } else {
        user = format!("kind_{}", name_part(&v.key));
        user.as_str()
    };
    let title = v.name().to_string();
    let grid = v.blocks.iter().find_map(|b| match b {
        Block::Grid(g) => Some(g),
        _ => None,
    });
    match grid {
        Some(g) => {
            for (c, n) in g
                .columns
                .iter()
                .zip(&g.records)
                .skip(g.union_first as usize)
            {
                o.count(
                    &format!("{k}_records"),
                    &format!(
                        "{title} records per {} (their sum is every record).",
                        g.label
                    ),
                    &[(g.label, c)],
                    *n,
                );
            }
        }
        None => o.count(
            &format!("{k}_records"),
            &format!("{title} records."),
            &[],
            v.records,
        ),
    }
    for (name, help, n) in &v.counts {
        o.count(&format!("{k}_{name}"), help, &[], *n);
    }
    super::draw(
        &v.blocks,
        &mut PromSection {
            o,
            k,
            title: &title,
            built_in,
            fields: BTreeMap::new(),
        },
    );
}

/// A section's series: `<k>_<name>`, with help texts that begin with the
/// section's title.
struct PromSection<'a> {
    o: &'a mut Out,
    /// The prefix: the section's key, or `kind_<key>` for a kinds file's kind.
    k: &'a str,
    title: &'a str,
    /// A built-in kind (whose tables have families of their own).
    built_in: bool,
    /// Group row label -> its fields as labels ([`Block::GroupFields`]).
    fields: BTreeMap<String, Vec<(String, String)>>,
}

fn pairs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

impl PromSection<'_> {
    /// Records per key of a categorical field, as `<k>_<series>{<label>=key}`.
    fn per_key(&mut self, series: &str, label: &str, counts: &BTreeMap<String, u64>) {
        let (k, title) = (self.k, self.title);
        for (key, n) in counts {
            let labels = self.labels(&[], label, key);
            self.o.count(
                &format!("{k}_{series}"),
                &format!("{title} records per {label}."),
                &pairs(&labels),
                *n,
            );
        }
    }

    /// `fixed`, then `label="row"`, then the row's group fields (a
    /// `--by` field each, when the view gave them).
    fn labels(&self, fixed: &[(&str, &str)], label: &str, row: &str) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = fixed
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        v.push((label.to_string(), row.to_string()));
        if let Some(f) = self.fields.get(row) {
            v.extend(f.iter().cloned());
        }
        v
    }
}

impl super::Blocks for PromSection<'_> {
    /// A note is for a reader: the series it explains carry its figures
    /// (`groups_dropped`, the `(other)` group's records).
    fn note(&mut self, _text: &str) {}

    fn group_fields(&mut self, f: &BTreeMap<String, Vec<(String, String)>>) {
        self.fields.clone_from(f);
    }

    fn grid(&mut self, g: &Grid) {
        let (k, title, label) = (self.k, self.title, g.label);
        // Column by column, as a group's figures belong together.
        for (i, c) in g.columns.iter().enumerate() {
            for r in &g.rows {
                let Some(st) = r.cells.get(i).and_then(Option::as_ref) else {
                    continue;
                };
                let mut labels = vec![(label, c.as_str())];
                let stem = r.series.trim_end_matches("_ms");
                let what = match r.label {
                    Some(l) => {
                        labels.push((l, r.name.as_str()));
                        format!("{title} {l} durations per {label} and {l}")
                    }
                    None => format!("{title} {stem} durations per {label}"),
                };
                let stem = format!("{k}_{stem}");
                if g.union_first && i == 0 {
                    // The union's own percentiles; its buckets are the sum
                    // of the other columns'.
                    self.o.percentiles(
                        &format!("{stem}_percentile_seconds"),
                        &format!("{what}: this run's percentiles, seconds (do not add up across hosts; use the histogram)."),
                        &labels,
                        &st.percentiles,
                        st.count,
                        1e-3,
                    );
                    continue;
                }
                self.o
                    .duration(&stem, &what, &labels, &st.percentiles, st.count, &st.hist);
            }
        }
    }

    fn dist(&mut self, d: &DistLine) {
        let (k, title, name) = (self.k, self.title, d.name);
        match &d.hist {
            Some(h) => self.o.duration(
                &format!("{k}_{}", name.trim_end_matches("_ms")),
                &format!("{title} {name}"),
                &[],
                &d.points,
                d.count,
                h,
            ),
            None => {
                self.o.percentiles(
                    &format!("{k}_{name}_percentile"),
                    &format!("{title} {name}: this run's percentiles."),
                    &[],
                    &d.points,
                    d.count,
                    1.0,
                );
                self.o.count(
                    &format!("{k}_{name}_values"),
                    &format!("{title} records with a {name}."),
                    &[],
                    d.count,
                );
            }
        }
    }

    fn shares(&mut self, sh: &Shares) {
        self.per_key(sh.series, sh.label, &sh.counts);
    }

    fn breakdown(&mut self, b: &Breakdown) {
        if let Some((series, label)) = b.series {
            self.per_key(series, label, &b.counts);
        }
    }

    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]) {
        rate_series(self.o, self.k, self.title, rates)
    }

    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]) {
        rate_series(self.o, self.k, self.title, rates)
    }

    fn rows(&mut self, r: &ValueRows) {
        let (k, title, label) = (self.k, self.title, r.label);
        for (i, (row, st, invalid)) in r.rows.iter().enumerate() {
            let labels = self.labels(&[("value", r.name.as_str())], label, row);
            let labels = pairs(&labels);
            self.o.percentiles(
                &format!("{k}_value_percentile"),
                &format!("{title}: this run's percentiles per value and {label}, in the value's own unit."),
                &labels,
                &st.percentiles,
                st.count,
                1.0,
            );
            if r.union_first && i == 0 {
                continue;
            }
            if r.duration {
                self.o.histogram(
                    &format!("{k}_value_seconds"),
                    &format!("{title}: durations per value and {label}, in seconds."),
                    &labels,
                    &st.hist,
                );
            }
            self.o.count(
                &format!("{k}_value_usable"),
                &format!("{title} usable values per value and {label}."),
                &labels,
                st.count,
            );
            self.o.count(
                &format!("{k}_value_invalid"),
                &format!("{title} values that were not usable numbers."),
                &labels,
                *invalid,
            );
        }
    }

    // A built-in kind's table has a family of its own
    // (`fallback_by_intent_records`); a counted field of `stats` or a kinds
    // file is a label of one family, so no name from a command line or a
    // log lands in a metric name (`--count size_kb` made
    // `..._size_kb_records`, which promtool refuses).
    fn cross(&mut self, c: &Cross) {
        let (k, title, t) = (self.k, self.title, &c.title);
        let name = name_part(t);
        for (row, inner) in &c.cells {
            for (col, n) in inner {
                if self.built_in {
                    self.o.count(
                        &format!("{k}_{name}_records"),
                        &format!("{title} records per {t} row and column."),
                        &[("row", row), ("column", col)],
                        *n,
                    );
                } else {
                    let mut labels = self.labels(&[("count", t)], "row", row);
                    labels.insert(2, ("column".into(), col.clone()));
                    self.o.count(
                        &format!("{k}_count_records"),
                        &format!(
                            "{title} records per counted field, group (row) and value (column)."
                        ),
                        &pairs(&labels),
                        *n,
                    );
                }
            }
        }
    }
    /// A gauge per field and group row, `(all)` included: distinct counts
    /// do not add up across groups or hosts (a value seen in two counts
    /// once), so no row is left out for `sum()`. The estimate's relative
    /// standard error beside it (0: exact).
    fn distinct(&mut self, d: &crate::measure::view::DistinctRows) {
        let (k, title) = (self.k, self.title);
        for (row, n, exact) in &d.rows {
            let labels = self.labels(&[("field", d.field.as_str())], "group", row);
            self.o.put(
                &format!("{k}_distinct"),
                &format!("{title}: distinct values per field and group (not additive)."),
                &pairs(&labels),
                *n as f64,
            );
            self.o.put(
                &format!("{k}_distinct_rel_error"),
                &format!("{title}: relative standard error of the distinct count (0: exact)."),
                &pairs(&labels),
                if *exact { 0.0 } else { d.rel_error },
            );
        }
    }

    /// Not drawn: this format refuses a comparison before any work
    /// (`Render::supports`).
    fn changes(&mut self, _: &Changes) {}

    fn verdict(&mut self, v: &Verdict) {
        self.o.put(
            &format!("{}_verdict_exit_code", self.k),
            "Rollout verdict: 0 go, 1 rollback, 3 hold.",
            &[("stage", &v.stage.to_string())],
            v.exit_code as f64,
        );
    }
}

/// Rates, 0..1, with their 95% Wilson interval, and the numerator and
/// denominator as their own series (a fleet rate is
/// `sum(numerator) / sum(denominator)`). The counts are always written;
/// a rate over no records is not 0: left out.
fn rate_series(o: &mut Out, k: &str, title: &str, rates: &[(&str, RateFig)]) {
    for (name, f) in rates {
        o.count(
            &format!("{k}_rate_numerator"),
            &format!("{title} records counted by each rate's numerator."),
            &[("rate", name)],
            f.numerator,
        );
        o.count(
            &format!("{k}_rate_denominator"),
            &format!("{title} records each rate is taken over."),
            &[("rate", name)],
            f.denominator,
        );
    }
    for (name, f) in rates.iter().filter(|(_, r)| r.denominator > 0) {
        o.put(
            &format!("{k}_rate"),
            &format!("{title} rates, 0..1 (this run's; across hosts divide the sums of numerator and denominator)."),
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

fn summary(r: &Report, p: &Prometheus) -> String {
    let mut o = Out::new(r.meta.command, &p.run, p.cumulative);
    for v in r.kinds.views() {
        section(&mut o, &v);
    }
    run_state(&mut o, &r.skipped, &r.meta);
    o.finish()
}

/// A kind's own document (`aggmetrics shadow`): its section and the run.
fn kind_doc(d: &KindDoc, p: &Prometheus) -> String {
    let mut o = Out::new(d.meta.command, &p.run, p.cumulative);
    // The whole run (a bucketed document is refused before it is made).
    for (_, v) in d.views.iter().filter(|(h, _)| h.is_none()) {
        section(&mut o, v);
    }
    run_state(&mut o, d.skipped, d.meta);
    o.finish()
}

/// `aggmetrics risk`: the analyzer's figures as the risk section's series,
/// the days covered and the verdict.
fn risk_report(r: &RiskReport, p: &Prometheus) -> String {
    let m = &r.metrics;
    let mut o = Out::new(r.meta.command, &p.run, p.cumulative);
    o.count(
        "risk_records",
        "Partial-trust risk records.",
        &[],
        m.total_records,
    );
    o.count(
        "risk_sampled_records",
        "Risk records with sampled: true.",
        &[],
        m.sampled_records,
    );
    for (s, n) in &m.status_breakdown {
        o.count(
            "risk_status_records",
            "Partial-trust risk records per status.",
            &[("status", s)],
            *n,
        );
    }
    rate_series(&mut o, "risk", "Partial-trust risk", &m.rates.0);
    o.duration(
        "risk_latency",
        "Partial-trust risk latency_ms",
        &[],
        &[
            ("p50".into(), m.latency_p50),
            ("p95".into(), m.latency_p95),
            ("p99".into(), m.latency_p99),
        ],
        m.latency_count,
        &m.latency_hist,
    );
    o.put(
        "risk_dates_covered",
        "UTC calendar dates holding risk records.",
        &[],
        r.days_covered as f64,
    );
    if let Some(v) = r.verdict_view() {
        super::draw(
            &v.blocks,
            &mut PromSection {
                o: &mut o,
                k: "risk",
                title: "Partial-trust risk",
                built_in: true,
                fields: BTreeMap::new(),
            },
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
            Doc::Summary(r) => summary(r, self),
            Doc::Risk(r) => risk_report(r, self),
            Doc::Kind(d) => kind_doc(d, self),
            Doc::Buckets(_) | Doc::Compare(_) => {
                let why = self.supports(doc.kind()).err().unwrap_or("unsupported");
                return Err(io::Error::new(io::ErrorKind::InvalidInput, why));
            }
        };
        out.write_all(s.as_bytes())
    }
}
