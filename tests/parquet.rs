//! `-f parquet` (cargo feature `parquet`): the file read back with the
//! parquet crate's own reader and compared with the JSON report of the
//! same run, value by value; the histogram rows with the Prometheus
//! buckets. Without the feature, `-f parquet` is a usage error that says
//! how to get it.

mod common;

use common::*;

#[cfg(not(feature = "parquet"))]
#[test]
fn without_the_feature_parquet_is_a_usage_error_before_reading() {
    let out = bin()
        .args([
            "summarize",
            "/nonexistent",
            "-f",
            "parquet",
            "-o",
            "/tmp/x.parquet",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--features parquet"), "{err}");
}

#[cfg(feature = "parquet")]
mod with_feature {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    use serde_json::{Map, Value};
    use std::path::Path;

    /// Every row as a JSON object, nulls as `null`, timestamps as
    /// microseconds.
    fn read(p: &Path) -> Vec<Map<String, Value>> {
        let r = SerializedFileReader::new(std::fs::File::open(p).unwrap()).unwrap();
        let cols: Vec<String> = r
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        assert_eq!(
            cols,
            [
                "bucket_start",
                "bucket_end",
                "log",
                "group",
                "metric",
                "kind",
                "count",
                "p50",
                "p95",
                "p99",
                "min",
                "max",
                "mean",
                "numerator",
                "denominator",
                "value",
                "lower_ms",
                "upper_ms"
            ]
        );
        r.get_row_iter(None)
            .unwrap()
            .map(|row| {
                row.unwrap()
                    .get_column_iter()
                    .map(|(k, f)| {
                        let v = match f {
                            Field::Null => Value::Null,
                            Field::Long(x) | Field::TimestampMicros(x) => Value::from(*x),
                            Field::Double(x) => Value::from(*x),
                            Field::Str(s) => Value::from(s.as_str()),
                            other => panic!("{k}: {other:?}"),
                        };
                        (k.clone(), v)
                    })
                    .collect()
            })
            .collect()
    }

    fn run(args: &[&str]) -> (Vec<Map<String, Value>>, Value) {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("out.parquet");
        let out = bin()
            .args(args)
            .args(["-q", "-f", "parquet", "-o"])
            .arg(&f)
            .output()
            .unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1 | 3)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (v, _) = run_json(args[0], &[&args[1..], &["-q"]].concat());
        (read(&f), v)
    }

    /// The one row of (log, group, metric, kind) within a bucket start.
    fn row<'a>(
        rows: &'a [Map<String, Value>],
        start: &Value,
        log: &str,
        group: Option<&str>,
        metric: &str,
        kind: &str,
    ) -> &'a Map<String, Value> {
        let found: Vec<_> = rows
            .iter()
            .filter(|r| {
                r["bucket_start"] == *start
                    && r["log"] == log
                    && r["group"] == group.map_or(Value::Null, Value::from)
                    && r["metric"] == metric
                    && r["kind"] == kind
            })
            .collect();
        assert_eq!(found.len(), 1, "{log} {group:?} {metric} {kind}: {found:?}");
        found[0]
    }

    /// A distribution row equals the JSON report's figures.
    fn same_dist(r: &Map<String, Value>, json: &Value) {
        assert_eq!(r["count"], json["count"], "{r:?} {json}");
        for k in ["p50", "p95", "p99", "min", "max", "mean"] {
            if json.get(k).is_some() && json["count"].as_u64() > Some(0) {
                assert_eq!(r[k].as_f64(), json[k].as_f64(), "{k}: {r:?} {json}");
            }
        }
    }

    fn same_rates(rows: &[Map<String, Value>], start: &Value, log: &str, rates: &Value) {
        for (name, f) in rates.as_object().unwrap() {
            let r = row(rows, start, log, None, name, "rate");
            assert_eq!(r["numerator"], f["numerator"], "{name}");
            assert_eq!(r["denominator"], f["denominator"], "{name}");
            if f["denominator"].as_u64() > Some(0) {
                assert_eq!(r["value"].as_f64(), f["value"].as_f64(), "{name}");
            } else {
                assert!(r["value"].is_null());
            }
        }
    }

    fn micros(t: &Value) -> Value {
        let s = t.as_str().unwrap();
        let ts = jiff::Timestamp::from_str(s).unwrap();
        Value::from(ts.as_microsecond())
    }

    use std::str::FromStr;

    /// Every latency distribution, rate and count of one report.
    fn same_report(rows: &[Map<String, Value>], start: &Value, v: &Value) {
        for g in ["all", "with_llm", "without_llm"] {
            let grp = &v["latency"][g];
            same_dist(
                row(rows, start, "latency", Some(g), "total_ms", "distribution"),
                &grp["total_ms"],
            );
            for (step, st) in grp["steps"].as_object().unwrap() {
                same_dist(
                    row(rows, start, "latency", Some(g), step, "distribution"),
                    st,
                );
            }
            // The histogram rows add up to the distribution's count.
            let n: u64 = rows
                .iter()
                .filter(|r| {
                    r["bucket_start"] == *start
                        && r["log"] == "latency"
                        && r["group"] == g
                        && r["metric"] == "total_ms"
                        && r["kind"] == "histogram"
                })
                .map(|r| r["count"].as_u64().unwrap())
                .sum();
            assert_eq!(Some(n), grp["total_ms"]["count"].as_u64());
        }
        same_rates(rows, start, "fallback", &v["fallback"]["rates"]);
        same_rates(rows, start, "risk", &v["risk"]["rates"]);
        assert_eq!(
            row(rows, start, "fallback", None, "records", "count")["count"],
            v["fallback"]["count"]
        );
        for (k, n) in v["fallback"]["outcome_counts"].as_object().unwrap() {
            assert_eq!(
                &row(rows, start, "fallback", Some(k), "outcome_records", "count")["count"],
                n
            );
        }
        assert_eq!(
            row(rows, start, "meta", None, "skipped_lines", "count")["count"],
            v["skipped"]["total"]
        );
    }

    #[test]
    fn summarize_matches_the_json_report_value_by_value() {
        let s = sample_logs();
        let s = s.to_str().unwrap();
        let (rows, v) = run(&["summarize", s]);
        same_report(&rows, &Value::Null, &v);
        // Percentiles not asked for are null; the ones asked are there.
        let (rows, v) = run(&["summarize", s, "--percentiles", "50,90"]);
        let r = row(
            &rows,
            &Value::Null,
            "latency",
            Some("all"),
            "total_ms",
            "distribution",
        );
        assert!(r["p95"].is_null() && r["p99"].is_null());
        assert_eq!(
            r["p50"].as_f64(),
            v["latency"]["all"]["total_ms"]["p50"].as_f64()
        );
    }

    #[test]
    fn buckets_carry_their_span_and_their_own_figures() {
        let s = sample_logs();
        let (rows, v) = run(&["summarize", s.to_str().unwrap(), "--by", "hour"]);
        let buckets = v["buckets"].as_array().unwrap();
        assert!(buckets.len() > 2);
        for b in buckets {
            let start = micros(&b["start"]);
            let r = row(&rows, &start, "fallback", None, "records", "count");
            assert_eq!(r["bucket_end"], micros(&b["end"]));
            same_report(&rows, &start, b);
        }
        // No row outside a bucket.
        assert!(rows.iter().all(|r| !r["bucket_start"].is_null()));
    }

    #[test]
    fn histogram_rows_equal_the_prometheus_buckets() {
        let s = sample_logs();
        let s = s.to_str().unwrap();
        let (rows, _) = run(&["summarize", s]);
        let prom = bin()
            .args(["summarize", s, "-q", "-f", "prometheus"])
            .output()
            .unwrap();
        let prom = String::from_utf8(prom.stdout).unwrap();
        let mut cum = 0u64;
        for r in rows.iter().filter(|r| {
            r["log"] == "latency"
                && r["group"] == "with_llm"
                && r["metric"] == "total_ms"
                && r["kind"] == "histogram"
        }) {
            cum += r["count"].as_u64().unwrap();
            let le = match r["upper_ms"].as_f64() {
                Some(ms) => format!("{}", ms / 1000.0),
                None => "+Inf".into(),
            };
            // Written to standard output: run="" (no -o file to name it).
            let line = format!(
                "aggmetrics_latency_total_seconds_bucket{{command=\"summarize\",run=\"\",group=\"with_llm\",le=\"{le}\"}} {cum}\n"
            );
            assert!(prom.contains(&line), "{line}");
        }
        assert!(cum > 0);
    }

    #[test]
    fn risk_with_days_and_a_verdict() {
        let s = sample_logs();
        let (rows, v) = run(&["risk", s.to_str().unwrap(), "--by", "day", "--stage", "1"]);
        same_rates(&rows, &Value::Null, "risk", &v["rates"]);
        let r = row(
            &rows,
            &Value::Null,
            "risk",
            None,
            "latency_ms",
            "distribution",
        );
        assert_eq!(r["count"], v["latency_count"]);
        assert_eq!(r["p95"].as_f64(), v["latency_p95"].as_f64());
        for d in v["by_day"].as_array().unwrap() {
            same_rates(&rows, &micros(&d["start"]), "risk", &d["rates"]);
        }
        let r = row(
            &rows,
            &Value::Null,
            "risk",
            Some("stage 1"),
            "verdict_exit_code",
            "count",
        );
        assert_eq!(r["value"].as_f64(), v["verdict"]["exit_code"].as_f64());
    }

    /// The daily cron of docs/operations.md on two hosts over three days:
    /// one file per host and day. Summed over the six files, every
    /// histogram bucket, every rate's numerator and denominator and every
    /// count (records per key, damaged lines per reason) equals the same
    /// row of one run over both hosts' whole logs, so `SUM(count)` in a SQL
    /// engine gives the fleet's figures over any span of days, and no
    /// record or damaged line is lost or counted twice at a day's edge.
    #[test]
    fn daily_host_files_sum_to_one_run_over_the_fleet() {
        let a = days_logs(3);
        let b = tempfile::tempdir().unwrap();
        // The second host: every other line of the first (so other totals,
        // other rates, and some of the damaged lines).
        for name in ["pipeline_latency.jsonl", "partial_trust_risk.jsonl"] {
            let text = std::fs::read(a.path().join(name)).unwrap();
            let half: Vec<u8> = text
                .split_inclusive(|&c| c == b'\n')
                .step_by(2)
                .flatten()
                .copied()
                .collect();
            std::fs::write(b.path().join(name), half).unwrap();
        }
        let out = tempfile::tempdir().unwrap();
        let write = |args: &[&str], file: &Path| {
            let o = bin()
                .args(args)
                .args(["-q", "-f", "parquet", "-o"])
                .arg(file)
                .output()
                .unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            read(file)
        };
        let mut daily = Vec::new();
        for (host, dir) in [("a", a.path()), ("b", b.path())] {
            for day in ["2026-02-10", "2026-02-11", "2026-02-12"] {
                let f = out.path().join(format!("{host}-{day}.parquet"));
                let dir = dir.to_str().unwrap();
                daily.extend(write(&["summarize", dir, "--day", day], &f));
            }
        }
        let fleet = write(
            &[
                "summarize",
                a.path().to_str().unwrap(),
                b.path().to_str().unwrap(),
            ],
            &out.path().join("fleet.parquet"),
        );
        // (log, group, metric, kind, bucket) -> (count, numerator,
        // denominator), summed; distributions are not additive.
        type Sums = std::collections::BTreeMap<String, [i64; 3]>;
        let sums = |rows: &[Map<String, Value>]| {
            let mut s = Sums::new();
            for r in rows.iter().filter(|r| r["kind"] != "distribution") {
                let key = format!(
                    "{} {} {} {} {} {}",
                    r["log"], r["group"], r["metric"], r["kind"], r["lower_ms"], r["upper_ms"]
                );
                let e = s.entry(key).or_default();
                for (i, col) in ["count", "numerator", "denominator"].iter().enumerate() {
                    e[i] += r[*col].as_i64().unwrap_or(0);
                }
            }
            s
        };
        let (days, one) = (sums(&daily), sums(&fleet));
        let keys: std::collections::BTreeSet<_> = days.keys().chain(one.keys()).collect();
        let differ: Vec<_> = keys
            .into_iter()
            .filter(|k| days.get(*k) != one.get(*k))
            .map(|k| format!("{k}: days {:?}, one run {:?}", days.get(k), one.get(k)))
            .collect();
        assert!(differ.is_empty(), "{differ:#?}");
        // What the sums cover: both logs' histograms, the risk rates, and
        // damaged lines, of which there are some.
        let has = |what: &str| one.keys().any(|k| k.contains(what));
        assert!(
            has("\"latency\" \"all\" \"total_ms\" \"histogram\""),
            "{one:?}"
        );
        assert!(has("\"risk\" null \"latency_ms\" \"histogram\""), "{one:?}");
        assert!(has("\"risk\" null \"error_rate\" \"rate\""), "{one:?}");
        let skipped = one["\"meta\" null \"skipped_lines\" \"count\" null null"][0];
        assert!(skipped > 4, "{skipped}");
    }

    #[test]
    fn stats_groups_with_and_without_buckets() {
        let access = format!("{}/docs/examples/access.jsonl", env!("CARGO_MANIFEST_DIR"));
        for by in [
            &["--by", "route"][..],
            &["--by", "route", "--by", "hour"][..],
        ] {
            let mut args = vec!["stats", &access, "--value", "timing.total_ms"];
            args.extend_from_slice(by);
            let (rows, v) = run(&args);
            let parts: Vec<(Value, &Value)> = match v["buckets"].as_array() {
                Some(b) => b.iter().map(|b| (micros(&b["start"]), b)).collect(),
                None => vec![(Value::Null, &v)],
            };
            for (start, part) in parts {
                for g in part["groups"].as_array().unwrap() {
                    let label = format!("route={}", g["key"]["route"].as_str().unwrap());
                    let r = row(
                        &rows,
                        &start,
                        "jsonl",
                        Some(&label),
                        "timing.total_ms",
                        "distribution",
                    );
                    same_dist(r, &g["values"]["timing.total_ms"]);
                }
            }
        }
    }
}
