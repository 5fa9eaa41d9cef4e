//! Prometheus textfile (checked by a strict exposition-format parser
//! written here), CSV (every row equals the JSON report's value at its
//! key) and Markdown.

use crate::common;

use std::collections::{HashMap, HashSet};

use common::*;
use serde_json::Value;

/// Parse the text exposition format strictly: every sample belongs to a
/// family announced by `# HELP` then `# TYPE` before its samples; names and
/// label names are valid; label values use only the allowed escapes; no
/// series repeats; values are floats. Returns series -> value.
fn parse_prom(text: &str) -> HashMap<String, f64> {
    let name_ok = |n: &str| {
        let mut c = n.chars();
        c.next()
            .is_some_and(|f| f.is_ascii_alphabetic() || f == '_' || f == ':')
            && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
    };
    let mut help = HashSet::new();
    let mut typed = HashMap::new();
    let mut out = HashMap::new();
    for (no, line) in text.lines().enumerate() {
        let ctx = || format!("line {}: {line}", no + 1);
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap();
            assert!(name_ok(name) && help.insert(name.to_string()), "{}", ctx());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, ty) = (it.next().unwrap(), it.next().unwrap());
            assert!(help.contains(name), "TYPE before HELP: {}", ctx());
            assert!(
                ["gauge", "counter", "histogram", "summary", "untyped"].contains(&ty),
                "{}",
                ctx()
            );
            assert!(
                typed.insert(name.to_string(), ty.to_string()).is_none(),
                "{}",
                ctx()
            );
            continue;
        }
        assert!(!line.starts_with('#') && !line.is_empty(), "{}", ctx());
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(
            name_ok(name) && name.starts_with("aggmetrics_"),
            "{}",
            ctx()
        );
        // A histogram's samples carry a suffix to their family's name.
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .filter_map(|x| name.strip_suffix(x))
            .find(|f| typed.get(*f).is_some_and(|t| t == "histogram"))
            .unwrap_or(name);
        assert!(typed.contains_key(family), "sample before TYPE: {}", ctx());
        let mut rest = &line[name_end..];
        let series;
        if rest.starts_with('{') {
            // Labels: k="v" separated by commas, v with \\ \" \n escapes only.
            let b = rest.as_bytes();
            let mut i = 1;
            let mut labels = Vec::new();
            let mut labels_seen = 0;
            loop {
                let k0 = i;
                while b[i] != b'=' {
                    i += 1;
                }
                let key = &rest[k0..i];
                assert!(name_ok(key), "label name {key}: {}", ctx());
                assert_eq!(b[i + 1], b'"', "{}", ctx());
                i += 2;
                let mut val = String::new();
                loop {
                    match b[i] {
                        b'\\' => {
                            val.push(match b[i + 1] {
                                b'\\' => '\\',
                                b'"' => '"',
                                b'n' => '\n',
                                _ => panic!("bad escape: {}", ctx()),
                            });
                            i += 2;
                        }
                        b'"' => break,
                        b'\n' => panic!("raw newline: {}", ctx()),
                        _ => {
                            let ch = rest[i..].chars().next().unwrap();
                            val.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                // Every series names its command and run first (checked
                // here, left out of the key the tests look series up by).
                match labels_seen {
                    0 => assert_eq!(key, "command", "{}", ctx()),
                    1 => assert_eq!(key, "run", "{}", ctx()),
                    _ => labels.push(format!("{key}={val:?}")),
                }
                labels_seen += 1;
                i += 1;
                match b[i] {
                    b',' => i += 1,
                    b'}' => {
                        i += 1;
                        break;
                    }
                    _ => panic!("{}", ctx()),
                }
            }
            assert!(labels_seen >= 2, "no command and run labels: {}", ctx());
            series = if labels.is_empty() {
                name.to_string()
            } else {
                format!("{name}{{{}}}", labels.join(","))
            };
            rest = &rest[i..];
        } else {
            panic!("no command and run labels: {}", ctx());
        }
        let value = rest
            .strip_prefix(' ')
            .unwrap_or_else(|| panic!("{}", ctx()));
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("value: {}", ctx())),
        };
        assert!(
            out.insert(series, v).is_none(),
            "repeated series: {}",
            ctx()
        );
    }
    out
}

#[test]
fn prometheus_textfile_parses_strictly_and_matches_the_report() {
    let dir = sample_logs();
    let out = bin()
        .args(["summarize", dir.to_str().unwrap(), "-q", "-f", "prometheus"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let m = parse_prom(&String::from_utf8(out.stdout).unwrap());
    let (v, _) = summarize_json(&[dir.to_str().unwrap(), "-q"]);
    // The groups add up to every record; `all` is not a series of its own.
    assert_eq!(
        m["aggmetrics_latency_records{group=\"with_llm\"}"]
            + m["aggmetrics_latency_records{group=\"without_llm\"}"],
        at(&v, "latency.all.count").as_f64().unwrap()
    );
    assert!(!m.contains_key("aggmetrics_latency_records{group=\"all\"}"));
    // This run's percentiles, in seconds.
    let p95 =
        m["aggmetrics_latency_total_percentile_seconds{group=\"with_llm\",percentile=\"95\"}"];
    let want = at(&v, "latency.with_llm.total_ms.p95").as_f64().unwrap() / 1000.0;
    assert!((p95 - want).abs() < 1e-12, "{p95} {want}");
    // The histogram counts every value of its group.
    assert_eq!(
        m["aggmetrics_latency_total_seconds_count{group=\"with_llm\"}"],
        at(&v, "latency.with_llm.total_ms.count").as_f64().unwrap()
    );
    assert_eq!(
        m["aggmetrics_latency_total_seconds_bucket{group=\"with_llm\",le=\"+Inf\"}"],
        at(&v, "latency.with_llm.total_ms.count").as_f64().unwrap()
    );
    assert_eq!(
        m["aggmetrics_fallback_rate{rate=\"error_rate\"}"],
        at(&v, "fallback.rates.error_rate.value").as_f64().unwrap()
    );
    assert_eq!(
        m["aggmetrics_skipped_lines"],
        at(&v, "skipped.total").as_f64().unwrap()
    );
    let last = m["aggmetrics_last_record_timestamp_seconds"];
    assert!((1.77e9..1.78e9).contains(&last), "{last}");
    // The risk report too.
    let out = bin()
        .args(["risk", dir.to_str().unwrap(), "-q", "-f", "prometheus"])
        .output()
        .unwrap();
    let m = parse_prom(&String::from_utf8(out.stdout).unwrap());
    assert!(m.contains_key("aggmetrics_risk_rate_wilson_high{rate=\"error_rate\"}"));
}

#[test]
fn prometheus_escapes_hostile_label_values() {
    let d = tempfile::tempdir().unwrap();
    let line = r#"{"timestamp": "2026-02-10T12:00:00+00:00", "total_ms": 5, "steps": {"a\"b\\c\nd} 1\n# x": 3}, "llm_enabled": true}"#;
    std::fs::write(d.path().join("pipeline_latency.jsonl"), format!("{line}\n")).unwrap();
    let out = bin()
        .args([
            "summarize",
            d.path().to_str().unwrap(),
            "-q",
            "-f",
            "prometheus",
            "--percentiles",
            "50,99.9",
        ])
        .output()
        .unwrap();
    let m = parse_prom(&String::from_utf8(out.stdout).unwrap());
    let key = "aggmetrics_latency_step_percentile_seconds{group=\"all\",step=\"a\\\"b\\\\c\\nd} 1\\n# x\",percentile=\"99.9\"}";
    assert_eq!(m[key], 0.003, "{:?}", m.keys().collect::<Vec<_>>());
    let key = "aggmetrics_latency_step_seconds_bucket{group=\"with_llm\",step=\"a\\\"b\\\\c\\nd} 1\\n# x\",le=\"0.003\"}";
    assert_eq!(m[key], 1.0, "{:?}", m.keys().collect::<Vec<_>>());
}

#[test]
fn prometheus_refuses_buckets_and_comparisons() {
    let dir = sample_logs();
    let out = bin()
        .args([
            "summarize",
            dir.to_str().unwrap(),
            "--by",
            "day",
            "-f",
            "prometheus",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("drop --by"));
    let out = bin()
        .args([
            "compare",
            dir.to_str().unwrap(),
            dir.to_str().unwrap(),
            "-q",
            "-f",
            "prometheus",
        ])
        .output()
        .unwrap();
    // Refused as a value of --format, with the formats that work.
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("possible values: table, json, csv, markdown"),
        "{err}"
    );
}

/// RFC 4180 rows.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut f = String::new();
    let mut q = false;
    let mut it = text.chars().peekable();
    while let Some(c) = it.next() {
        match (q, c) {
            (true, '"') if it.peek() == Some(&'"') => {
                it.next();
                f.push('"');
            }
            (true, '"') => q = false,
            (true, c) => f.push(c),
            (false, '"') if f.is_empty() => q = true,
            (false, ',') => row.push(std::mem::take(&mut f)),
            (false, '\n') => {
                row.push(std::mem::take(&mut f));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => f.push(c),
        }
    }
    rows
}

#[test]
fn csv_rows_are_the_json_reports_figures() {
    let d = tempfile::tempdir().unwrap();
    let line = r#"{"timestamp": "2026-02-10T12:00:00+00:00", "intent": "a,\"b\"", "llm_outcome": "error", "llm_latency_ms": 7, "components": {}}"#;
    std::fs::write(d.path().join("fallback_metrics.jsonl"), format!("{line}\n")).unwrap();
    std::fs::copy(
        sample_logs().join("pipeline_latency.jsonl"),
        d.path().join("pipeline_latency.jsonl"),
    )
    .unwrap();
    let out = bin()
        .args(["summarize", d.path().to_str().unwrap(), "-q", "-f", "csv"])
        .output()
        .unwrap();
    let rows = parse_csv(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows[0], ["key", "value"]);
    let (v, _) = summarize_json(&[d.path().to_str().unwrap(), "-q"]);
    let mut numbers = 0;
    for r in &rows[1..] {
        assert_eq!(r.len(), 2, "{r:?}");
        // Keys may hold dots from the logs; look up through the JSON.
        let want = lookup_loose(&v, &r[0]).unwrap_or_else(|| panic!("no {}", r[0]));
        match want {
            Value::Number(n) => {
                numbers += 1;
                assert_eq!(
                    r[1].parse::<f64>().unwrap(),
                    n.as_f64().unwrap(),
                    "{}",
                    r[0]
                );
            }
            Value::String(s) => assert_eq!(&r[1], s),
            _ => {}
        }
    }
    assert!(numbers > 50);
    assert!(rows
        .iter()
        .any(|r| r[0] == "fallback.by_intent.a,\"b\".error" && r[1] == "1"));
}

/// The value at a dotted path whose keys may themselves hold dots.
fn lookup_loose<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(v);
    }
    match v {
        Value::Object(m) => m.iter().find_map(|(k, x)| {
            if path == k {
                Some(x)
            } else {
                path.strip_prefix(k.as_str())?
                    .strip_prefix('.')
                    .and_then(|rest| lookup_loose(x, rest))
            }
        }),
        Value::Array(a) => {
            let (i, rest) = path.split_once('.').unwrap_or((path, ""));
            lookup_loose(a.get(i.parse::<usize>().ok()?)?, rest)
        }
        _ => None,
    }
}

#[test]
fn markdown_tables() {
    let out = bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-q",
            "-f",
            "markdown",
        ])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("| distribution | n | p50 | p95 | p99 |"), "{t}");
    assert!(t.contains("| error_rate |"), "{t}");
    // Every table row has as many cells as its header.
    let mut cols = 0;
    for l in t.lines() {
        if l.starts_with("| ") {
            let n = l.matches(" | ").count();
            if cols == 0 {
                cols = n;
            }
            assert_eq!(n, cols, "{l}");
        } else {
            cols = 0;
        }
    }
}

/// The staleness alert of docs/operations.md must be able to fire: a run
/// over an hour with no record still says when the logs were last
/// written, writes no healthy-looking zeros, and says when it ran.
#[test]
fn prometheus_over_a_quiet_window_is_honest() {
    let d = tempfile::tempdir().unwrap();
    // Records up to 2026-02-10T12:00:01Z, then silence.
    std::fs::write(d.path().join("partial_trust_risk.jsonl"), risk_lines(60, 3)).unwrap();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        latency_lines(&[1.0, 2.0]),
    )
    .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let out = bin()
        .arg("summarize")
        .arg(d.path())
        .args(["-q", "-f", "prometheus", "--since", "2026-02-10T14:00:00Z"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let m = parse_prom(&text);
    // The newest record read, though it lies before the window.
    let last = m["aggmetrics_last_record_timestamp_seconds"];
    assert_eq!(last, 1_770_681_600.0 + 12.0 * 3600.0 + 1.0, "{text}");
    // Counts are true zeros; figures over nothing are absent.
    assert_eq!(m["aggmetrics_latency_records{group=\"with_llm\"}"], 0.0);
    assert_eq!(m["aggmetrics_risk_records"], 0.0);
    for absent in [
        "aggmetrics_latency_total_percentile_seconds",
        "aggmetrics_fallback_rate{",
        "aggmetrics_risk_rate{",
        "aggmetrics_risk_latency_percentile_seconds",
        "aggmetrics_fallback_llm_latency_percentile_seconds",
    ] {
        assert!(
            !text.contains(&format!("\n{absent}")),
            "{absent} in:\n{text}"
        );
    }
    // The run itself: when it finished, and that it succeeded.
    let finished = m["aggmetrics_run_finished_timestamp_seconds"];
    assert!(
        finished >= before.floor() && finished < before + 120.0,
        "{finished}"
    );
    assert_eq!(m["aggmetrics_run_success"], 1.0);
    // The documented alert condition holds.
    assert!(finished - last > 3600.0);
    // A run that finds no log says so.
    let empty = tempfile::tempdir().unwrap();
    let out = bin()
        .arg("summarize")
        .arg(empty.path())
        .args(["-q", "-f", "prometheus"])
        .output()
        .unwrap();
    let m = parse_prom(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(m["aggmetrics_run_success"], 0.0);
    assert_eq!(m["aggmetrics_inputs"], 0.0);
}
