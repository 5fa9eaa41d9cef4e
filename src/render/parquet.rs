//! Parquet (cargo feature `parquet`): one long, typed table for analysis
//! engines (DuckDB, Spark, Trino, pandas), one row per bucket x log x
//! group x metric, written with arrow-rs's `parquet` crate through its
//! low-level column writers (no Arrow arrays: the schema is fixed).
//!
//! Rows are made from the sections' views, so every kind, user kinds
//! included, is in the table without an edit here. `kind` says what a row
//! holds:
//! - `distribution`: `count`, `p50`, `p95`, `p99` (null when not asked
//!   with `--percentiles`), `min`, `max`, `mean`, milliseconds for
//!   latencies (a value's own unit for `stats`);
//! - `histogram`: a duration's values in one bucket of the fixed layout
//!   (`lower_ms` exclusive, `upper_ms` inclusive, null for +Inf) in
//!   `count`, not cumulative, so hosts merge with `SUM(count)`;
//! - `rate`: `numerator`, `denominator`, `value` (null over no records),
//!   and `count` = the denominator;
//! - `count`: records, and categorical counts (`group` is the key).
//!
//! Never a raw field value: groups are the categorical keys the report
//! aggregates by, as in every format.

use std::io::{self, Write};
use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::{Doc, DocKind, Render};
use crate::agg::layout;
use crate::measure::verdict::Verdict;
use crate::measure::view::{Breakdown, Changes, Cross, DistLine, Grid, Shares, ValueRows};
use crate::report::figures::{Histo, RateFig, Stats};
use crate::report::{Interval, View};

pub struct Parquet;

/// The table's schema, in column order (documented in docs/report.md).
pub const SCHEMA: &str = "message aggmetrics {
    OPTIONAL INT64 bucket_start (TIMESTAMP(MICROS,true));
    OPTIONAL INT64 bucket_end (TIMESTAMP(MICROS,true));
    REQUIRED BYTE_ARRAY log (UTF8);
    OPTIONAL BYTE_ARRAY group (UTF8);
    REQUIRED BYTE_ARRAY metric (UTF8);
    REQUIRED BYTE_ARRAY kind (UTF8);
    REQUIRED INT64 count;
    OPTIONAL DOUBLE p50;
    OPTIONAL DOUBLE p95;
    OPTIONAL DOUBLE p99;
    OPTIONAL DOUBLE min;
    OPTIONAL DOUBLE max;
    OPTIONAL DOUBLE mean;
    OPTIONAL INT64 numerator;
    OPTIONAL INT64 denominator;
    OPTIONAL DOUBLE value;
    OPTIONAL DOUBLE lower_ms;
    OPTIONAL DOUBLE upper_ms;
}";

/// One row of the table.
#[derive(Debug, Clone, Default)]
struct Row {
    start: Option<i64>,
    end: Option<i64>,
    log: String,
    group: Option<String>,
    metric: String,
    kind: &'static str,
    count: i64,
    /// p50, p95, p99, min, max, mean.
    dist: [Option<f64>; 6],
    numerator: Option<i64>,
    denominator: Option<i64>,
    value: Option<f64>,
    lower_ms: Option<f64>,
    upper_ms: Option<f64>,
}

/// The rows of one bucket (or the whole run) and one log.
struct Rows<'a> {
    out: &'a mut Vec<Row>,
    start: Option<i64>,
    end: Option<i64>,
    log: &'a str,
}

fn micros(t: &str) -> Option<i64> {
    crate::parse::Timestamp::parse(t).map(|t| t.micros)
}

fn span(s: Option<&Interval>) -> (Option<i64>, Option<i64>) {
    s.map_or((None, None), |s| (micros(&s.since), micros(&s.until)))
}

impl<'a> Rows<'a> {
    /// The rows of `log` in the bucket `at` (start, end), added to `out`.
    fn new(out: &'a mut Vec<Row>, at: (Option<i64>, Option<i64>), log: &'a str) -> Rows<'a> {
        Rows {
            out,
            start: at.0,
            end: at.1,
            log,
        }
    }

    fn push(
        &mut self,
        group: Option<&str>,
        metric: &str,
        kind: &'static str,
        count: u64,
    ) -> &mut Row {
        self.out.push(Row {
            start: self.start,
            end: self.end,
            log: self.log.to_string(),
            group: group.map(str::to_string),
            metric: metric.to_string(),
            kind,
            count: count as i64,
            ..Row::default()
        });
        self.out.last_mut().expect("just pushed")
    }

    fn count(&mut self, group: Option<&str>, metric: &str, n: u64) {
        self.push(group, metric, "count", n);
    }

    /// A distribution from its percentiles (`p50`...) and, when known,
    /// min, max and mean; figures over no values are null.
    fn percentiles(
        &mut self,
        group: Option<&str>,
        metric: &str,
        points: &[(String, f64)],
        count: u64,
        extremes: Option<[f64; 3]>,
    ) {
        let r = self.push(group, metric, "distribution", count);
        if count == 0 {
            return;
        }
        let at = |k: &str| points.iter().find(|(p, _)| p == k).map(|(_, v)| *v);
        let [lo, hi, mean] = extremes.map_or([None; 3], |e| e.map(Some));
        r.dist = [at("p50"), at("p95"), at("p99"), lo, hi, mean];
    }

    fn stats(&mut self, group: Option<&str>, metric: &str, st: &Stats) {
        self.percentiles(
            group,
            metric,
            &st.percentiles,
            st.count,
            Some([st.min, st.max, st.mean]),
        );
    }

    /// A duration's buckets in the fixed layout, one row per bucket that
    /// holds values.
    fn histogram(&mut self, group: Option<&str>, metric: &str, h: &Histo) {
        let mut below = 0;
        for i in 0..=layout::N {
            let le = h.le.get(i).copied().unwrap_or(h.count);
            let n = le - below;
            below = le;
            if n == 0 {
                continue;
            }
            let r = self.push(group, metric, "histogram", n);
            r.lower_ms = Some(if i == 0 {
                0.0
            } else {
                layout::BOUNDS_US[i - 1] as f64 / 1000.0
            });
            r.upper_ms = layout::BOUNDS_US.get(i).map(|&b| b as f64 / 1000.0);
        }
    }

    fn rates(&mut self, rates: &[(&str, RateFig)]) {
        for (name, f) in rates {
            let r = self.push(None, name, "rate", f.denominator);
            r.numerator = Some(f.numerator as i64);
            r.denominator = Some(f.denominator as i64);
            r.value = (f.denominator > 0).then_some(f.value);
        }
    }

    /// A section, from its view.
    fn view(&mut self, v: &View) {
        self.count(None, "records", v.records);
        for (name, _, n) in &v.counts {
            self.count(None, name, *n);
        }
        super::draw(&v.blocks, self);
    }
}

/// A section's rows: one per count and figure, named by metric and group.
impl super::Blocks for Rows<'_> {
    fn grid(&mut self, g: &Grid) {
        for (i, c) in g.columns.iter().enumerate() {
            self.count(Some(c), "group_records", g.records[i]);
            for r in &g.rows {
                if let Some(Some(st)) = r.cells.get(i) {
                    self.stats(Some(c), &r.name, st);
                    self.histogram(Some(c), &r.name, &st.hist);
                }
            }
        }
    }

    fn dist(&mut self, d: &DistLine) {
        self.percentiles(None, d.name, &d.points, d.count, None);
        if let Some(h) = &d.hist {
            self.histogram(None, d.name, h);
        }
    }

    fn shares(&mut self, sh: &Shares) {
        for (k, n) in &sh.counts {
            self.count(Some(k), sh.series, *n);
        }
    }

    fn breakdown(&mut self, b: &Breakdown) {
        let metric = b.series.map_or(b.title, |(series, _)| series);
        for (k, n) in &b.counts {
            self.count(Some(k), metric, *n);
        }
    }

    fn rate_line(&mut self, rates: &[(&'static str, RateFig)]) {
        self.rates(rates)
    }

    fn rate_rows(&mut self, rates: &[(&'static str, RateFig)]) {
        self.rates(rates)
    }

    fn rows(&mut self, r: &ValueRows) {
        for (g, st, invalid) in &r.rows {
            self.stats(Some(g), &r.name, st);
            self.count(Some(g), &format!("{}.invalid", r.name), *invalid);
        }
    }

    fn cross(&mut self, c: &Cross) {
        for (row, inner) in &c.cells {
            for (col, n) in inner {
                self.count(Some(&format!("{row} / {col}")), &c.title, *n);
            }
        }
    }
    /// Not drawn: this format refuses a comparison before any work
    /// (`Render::supports`).
    fn changes(&mut self, _: &Changes) {}

    /// Rows hold figures; the note's figures are rows already
    /// (`groups_dropped`, the `(other)` group).
    fn note(&mut self, _: &str) {}

    fn verdict(&mut self, v: &Verdict) {
        let row = self.push(
            Some(&format!("stage {}", v.stage)),
            "verdict_exit_code",
            "count",
            1,
        );
        row.value = Some(v.exit_code as f64);
    }
}

fn skipped(out: &mut Vec<Row>, s: &crate::report::Skipped, at: (Option<i64>, Option<i64>)) {
    let mut r = Rows::new(out, at, "meta");
    r.count(None, "skipped_lines", s.total);
    for (reason, n) in &s.by_reason {
        r.count(Some(reason), "skipped_lines", *n);
    }
}

fn views<'v>(
    out: &mut Vec<Row>,
    at: (Option<i64>, Option<i64>),
    views: impl Iterator<Item = &'v View>,
) {
    for v in views {
        Rows::new(&mut *out, at, &v.key).view(v);
    }
}

fn window(meta: &crate::report::Meta) -> (Option<i64>, Option<i64>) {
    meta.window.as_ref().map_or((None, None), |w| {
        (
            w.since.as_deref().and_then(micros),
            w.until.as_deref().and_then(micros),
        )
    })
}

fn risk_rows(
    out: &mut Vec<Row>,
    at: (Option<i64>, Option<i64>),
    m: &crate::report::risk::RiskMetrics,
) {
    let mut r = Rows::new(out, at, "risk");
    r.count(None, "records", m.total_records);
    r.count(None, "sampled_records", m.sampled_records);
    for (k, n) in &m.status_breakdown {
        r.count(Some(k), "status_records", *n);
    }
    r.rates(&m.rates.0);
    r.percentiles(
        None,
        "latency_ms",
        &[
            ("p50".into(), m.latency_p50),
            ("p95".into(), m.latency_p95),
            ("p99".into(), m.latency_p99),
        ],
        m.latency_count,
        None,
    );
    r.histogram(None, "latency_ms", &m.latency_hist);
}

fn rows(doc: &Doc<'_>) -> Vec<Row> {
    let mut out = Vec::new();
    match doc {
        Doc::Summary(r) => {
            let at = window(&r.meta);
            views(&mut out, at, r.kinds.views().iter());
            skipped(&mut out, &r.skipped, at);
        }
        Doc::Buckets(b) => {
            for e in &b.buckets {
                let at = (micros(&e.start), micros(&e.end));
                views(&mut out, at, e.report.kinds.views().iter());
                skipped(&mut out, &e.report.skipped, at);
            }
        }
        Doc::Risk(r) => {
            let at = window(&r.meta);
            risk_rows(&mut out, at, &r.metrics);
            for d in r.by_day.iter().flatten() {
                risk_rows(&mut out, (micros(&d.start), micros(&d.end)), &d.metrics);
            }
            if let Some(v) = r.verdict_view() {
                super::draw(&v.blocks, &mut Rows::new(&mut out, at, "risk"));
            }
            skipped(&mut out, &r.skipped, at);
        }
        Doc::Kind(d) => {
            let whole = window(d.meta);
            for (s, v) in &d.views {
                let at = if s.is_some() { span(s.as_ref()) } else { whole };
                views(&mut out, at, std::iter::once(v));
            }
            skipped(&mut out, d.skipped, whole);
        }
        Doc::Compare(_) => {}
    }
    out
}

fn err(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

/// Write `rows` as one row group.
fn write(rows: &[Row], out: &mut dyn Write) -> io::Result<()> {
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(err)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_created_by(format!("aggmetrics {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut buf = Vec::new();
    let mut w = SerializedFileWriter::new(&mut buf, schema, props).map_err(err)?;
    let mut rg = w.next_row_group().map_err(err)?;
    let mut i = 0;
    // Definition levels of an optional column: 1 where a value is.
    fn levels<T>(v: &[Option<T>]) -> Vec<i16> {
        v.iter().map(|x| x.is_some() as i16).collect()
    }
    while let Some(mut col) = rg.next_column().map_err(err)? {
        let opt_i64 = |f: &dyn Fn(&Row) -> Option<i64>| rows.iter().map(f).collect::<Vec<_>>();
        let opt_f64 = |f: &dyn Fn(&Row) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
        let strs = |f: &dyn Fn(&Row) -> Option<&str>| rows.iter().map(f).collect::<Vec<_>>();
        enum C<'r> {
            I(Vec<Option<i64>>, bool),
            F(Vec<Option<f64>>),
            S(Vec<Option<&'r str>>, bool),
        }
        let c = match i {
            0 => C::I(opt_i64(&|r| r.start), true),
            1 => C::I(opt_i64(&|r| r.end), true),
            2 => C::S(strs(&|r| Some(r.log.as_str())), false),
            3 => C::S(strs(&|r| r.group.as_deref()), true),
            4 => C::S(strs(&|r| Some(r.metric.as_str())), false),
            5 => C::S(strs(&|r| Some(r.kind)), false),
            6 => C::I(opt_i64(&|r| Some(r.count)), false),
            7..=12 => C::F(opt_f64(&|r| r.dist[i - 7])),
            13 => C::I(opt_i64(&|r| r.numerator), true),
            14 => C::I(opt_i64(&|r| r.denominator), true),
            15 => C::F(opt_f64(&|r| r.value)),
            16 => C::F(opt_f64(&|r| r.lower_ms)),
            _ => C::F(opt_f64(&|r| r.upper_ms)),
        };
        match c {
            C::I(v, optional) => {
                let vals: Vec<i64> = v.iter().flatten().copied().collect();
                let def = optional.then(|| levels(&v));
                col.typed::<Int64Type>()
                    .write_batch(&vals, def.as_deref(), None)
                    .map_err(err)?;
            }
            C::F(v) => {
                let vals: Vec<f64> = v.iter().flatten().copied().collect();
                col.typed::<DoubleType>()
                    .write_batch(&vals, Some(&levels(&v)), None)
                    .map_err(err)?;
            }
            C::S(v, optional) => {
                let vals: Vec<ByteArray> =
                    v.iter().flatten().map(|s| ByteArray::from(*s)).collect();
                let def = optional.then(|| levels(&v));
                col.typed::<ByteArrayType>()
                    .write_batch(&vals, def.as_deref(), None)
                    .map_err(err)?;
            }
        }
        col.close().map_err(err)?;
        i += 1;
    }
    rg.close().map_err(err)?;
    w.close().map_err(err)?;
    out.write_all(&buf)
}

impl Render for Parquet {
    fn supports(&self, kind: DocKind) -> Result<(), &'static str> {
        super::parquet_supports(kind)
    }

    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        write(&rows(doc), out)
    }
}
