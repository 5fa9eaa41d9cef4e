//! `aggmetrics compare`: regressions flagged by key path, regressions
//! first, identical reports passing.

use crate::common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A fallback log: `n` records, the first `errors` with outcome error.
fn fallback_lines(n: usize, errors: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\": \"{}\", \"intent\": \"add_shopping_item\", \"llm_outcome\": \"{}\", \"fallback_reason\": null, \"llm_latency_ms\": 100, \"deterministic_used\": false, \"components\": {{}}}}\n",
                ts(i as u64),
                if i < errors { "error" } else { "success" }
            )
        })
        .collect()
}

/// A folder with latency totals 1..=n ms times `scale`, and a fallback log.
fn logs(scale: f64, n: usize, errors: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let totals: Vec<f64> = (1..=n).map(|i| i as f64 * scale).collect();
    write(d.path(), "pipeline_latency.jsonl", &latency_lines(&totals));
    write(
        d.path(),
        "fallback_metrics.jsonl",
        &fallback_lines(2000, errors),
    );
    d
}

fn report(dir: &Path, out: &Path) {
    bin()
        .args(["summarize", "-q", "-f", "json", "-o"])
        .arg(out)
        .arg(dir)
        .assert()
        .success();
}

fn compare(a: &Path, b: &Path, extra: &[&str]) -> (Value, i32) {
    let out = bin()
        .arg("compare")
        .arg(a)
        .arg(b)
        .args(["-f", "json", "-q"])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap())
}

#[test]
fn identical_reports_pass() {
    let d = logs(1.0, 1000, 20);
    let a = d.path().join("a.json");
    report(d.path(), &a);
    let (v, code) = compare(&a, &a, &[]);
    assert_eq!(code, 0);
    assert_eq!(v["regressions"].as_array().unwrap().len(), 0);
    assert!(v["metrics"].as_array().unwrap().len() > 20);
    // A folder against the report made from it: the same figures.
    let (v, code) = compare(d.path(), &a, &[]);
    assert_eq!(code, 0);
    assert!(v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["change"] == 0.0));
}

#[test]
fn a_30_percent_p95_regression_is_flagged_first() {
    let base = logs(1.0, 1000, 20);
    let cand = logs(1.3, 1000, 20);
    let (a, b) = (base.path().join("r.json"), cand.path().join("r.json"));
    report(base.path(), &a);
    report(cand.path(), &b);
    let (v, code) = compare(&a, &b, &[]);
    assert_eq!(code, 1);
    let regs: Vec<&str> = v["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(regs.contains(&"latency.all.total_ms.p95"), "{regs:?}");
    assert!(
        regs.contains(&"latency.with_llm.steps.core_logic_ms.p95"),
        "{regs:?}"
    );
    // Regressions come first, each with its numbers.
    let first = &v["metrics"][0];
    assert_eq!(first["regression"], true);
    let row = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "latency.all.total_ms.p95")
        .unwrap();
    let rel = row["relative_change"].as_f64().unwrap();
    assert!((rel - 0.3).abs() < 0.002, "{rel}");
    // The error rate did not move: not a regression.
    assert!(!regs.contains(&"fallback.error_rate"));
    // 40% allowed: no regression.
    let (_, code) = compare(&a, &b, &["--max-latency-regression", "0.4"]);
    assert_eq!(code, 0);
    // The table lists it under REGRESSIONS.
    let out = bin().arg("compare").arg(&a).arg(&b).output().unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    let reg = t.find("REGRESSIONS").expect("section");
    let row = t.find("latency.all.total_ms.p95").unwrap();
    assert!(
        reg < row && row < t.find("All other figures").unwrap(),
        "{t}"
    );
}

#[test]
fn an_error_rate_jump_is_flagged_and_noise_is_not() {
    let base = logs(1.0, 100, 20); // 1% errors of 2000
    let cand = logs(1.0, 100, 200); // 10%
    let (v, code) = compare(base.path(), cand.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        v["regressions"],
        serde_json::json!(["fallback.error_rate", "fallback.success_rate"])
    );
    let row = &v["metrics"][0];
    assert_eq!(row["path"], "fallback.error_rate");
    assert!(row["p_value"].as_f64().unwrap() < 1e-10);

    // 2 errors in 40 against none in 40: up 5 points, but p = 0.15.
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write(a.path(), "fallback_metrics.jsonl", &fallback_lines(40, 0));
    write(b.path(), "fallback_metrics.jsonl", &fallback_lines(40, 2));
    let (v, code) = compare(a.path(), b.path(), &[]);
    assert_eq!(code, 0, "{v}");
    let row = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "fallback.error_rate")
        .unwrap();
    assert!(row["note"].as_str().unwrap().contains("may be noise"));
}

#[test]
fn risk_reports_compare_and_kinds_must_match() {
    // 10 errors in 500 records, then 100.
    let base = risk_dir(&risk_lines(500, 10));
    let cand = risk_dir(&risk_lines(500, 100));
    let (a, b) = (base.path().join("r.json"), cand.path().join("r.json"));
    for (d, o) in [(&base, &a), (&cand, &b)] {
        bin()
            .args(["risk", "-q", "-f", "json", "-o"])
            .arg(o)
            .arg(d.path())
            .assert()
            .success();
    }
    let (v, code) = compare(&a, &b, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["regressions"][0], "error_rate");

    let s = base.path().join("s.json");
    report(base.path(), &s);
    let out = bin().arg("compare").arg(&a).arg(&s).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("compare like with like"));
    let out = bin()
        .arg("compare")
        .arg(&a)
        .arg(base.path().join("partial_trust_risk.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .arg("compare")
        .arg(&a)
        .arg(base.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
}

/// Regressions are ordered by one severity across kinds (how many times
/// its allowance each figure moved): an error rate from 3.6% to 29.4%
/// comes before latency percentiles up 40-60%. Tiny p-values are written
/// in scientific notation, and the table's notes are aligned.
#[test]
fn regressions_are_ordered_by_severity_across_kinds() {
    // Latencies 1.6x (p50, p95, p99 all up ~60%), errors 72 -> 588 of 2000.
    let base = logs(1.0, 3000, 72);
    let cand = logs(1.6, 3000, 588);
    let (v, code) = compare(base.path(), cand.path(), &[]);
    assert_eq!(code, 1);
    let regs: Vec<&str> = v["regressions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(regs.len() > 5, "{regs:?}");
    assert_eq!(regs[0], "fallback.error_rate", "{regs:?}");
    assert!(regs.iter().any(|r| r.starts_with("latency.")), "{regs:?}");
    // The table: the same order, p in scientific notation, notes aligned.
    let out = bin()
        .arg("compare")
        .arg(base.path())
        .arg(cand.path())
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = t.lines().collect();
    let regs_at = lines
        .iter()
        .position(|l| l.starts_with("REGRESSIONS"))
        .unwrap();
    let is_metric = |l: &&str| {
        let l = l.trim_start();
        l.starts_with("fallback.") || l.starts_with("latency.")
    };
    let first = regs_at + 1 + lines[regs_at + 1..].iter().position(is_metric).unwrap();
    assert!(lines[first].contains("fallback.error_rate"), "{t}");
    // Its p-value, on its row or the figures line under it.
    let row = format!("{} {}", lines[first], lines[first + 1]);
    assert!(row.contains("e-"), "{t}");
    assert!(!t.contains(" 0.000 ") && !t.contains(" 0.000\n"), "{t}");
    // Every note of the regressions starts in the same column.
    let cols: Vec<usize> = lines[regs_at..]
        .iter()
        .take_while(|l| !l.starts_with("All other"))
        .filter_map(|l| {
            let t = l.trim_start();
            ["grew", "rose", "fell"]
                .iter()
                .any(|w| t.starts_with(w))
                .then(|| l.len() - t.len())
        })
        .collect();
    assert!(cols.len() > 3 && cols.iter().all(|c| *c == cols[0]), "{t}");
}

/// A shadow log: `n` records, `agree` of the first ones agreeing with the
/// deterministic router, every one with `confidence`.
fn shadow_lines(n: usize, agree: usize, confidence: f64) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\": \"{}\", \"trace_id\": \"t\", \"command_id\": \"c{i}\", \"router_version\": \"v\", \"router_strategy\": \"s\", \"status\": \"ok\", \"latency_ms\": 100, \"error_type\": null, \"suggested_intent\": \"{}\", \"baseline_intent\": \"a\", \"entities_summary\": null, \"confidence\": {confidence}}}\n",
                ts(i as u64),
                if i < agree { "a" } else { "b" }
            )
        })
        .collect()
}

/// `CMD DIR -f json -o OUT` (the run must succeed or exit 1).
fn write_report(cmd: &str, dir: &Path, out: &Path, extra: &[&str]) {
    let o = bin()
        .arg(cmd)
        .arg(dir)
        .args(["-q", "-f", "json", "-o"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    assert!(out.exists(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn refused(args: &[&std::ffi::OsStr]) -> String {
    let out = bin().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn documents_that_do_not_compare_are_refused_naming_both() {
    let d = tempfile::tempdir().unwrap();
    let p = |n: &str| d.path().join(n);
    let logs = sample_logs();
    write_report("risk", &logs, &p("risk.json"), &[]);
    write_report("shadow", &logs, &p("shadow.json"), &[]);
    write_report("summarize", &logs, &p("by.json"), &["--by", "hour"]);
    write_report(
        "stats",
        &logs.join("pipeline_latency.jsonl"),
        &p("stats.json"),
        &["--value", "total_ms"],
    );
    bin()
        .arg("summarize")
        .arg(&logs)
        .args(["-q", "-f", "json", "--state-out"])
        .arg(p("day.state"))
        .assert()
        .success();
    let os = |s: &std::path::PathBuf| s.as_os_str().to_owned();
    let cmp =
        |a: &str, b: &str| refused(&[std::ffi::OsStr::new("compare"), &os(&p(a)), &os(&p(b))]);
    // A shadow report against a risk report: both named.
    let err = cmp("shadow.json", "risk.json");
    assert!(
        err.contains("cannot compare a `shadow` report (")
            && err.contains("shadow.json) with a `risk` report (")
            && err.contains("risk.json)"),
        "{err}"
    );
    // A --by report, a stats report and a state file: what compare takes.
    let err = cmp("by.json", "by.json");
    assert!(
        err.contains("is a `summarize --by` document") && err.contains("--day"),
        "{err}"
    );
    let err = cmp("stats.json", "stats.json");
    assert!(
        err.contains("is a `stats` document") && err.contains("compare takes"),
        "{err}"
    );
    let err = cmp("day.state", "day.state");
    assert!(
        err.contains("is a state file") && err.contains("aggmetrics merge"),
        "{err}"
    );
    // risk --baseline takes a risk report only.
    let err = refused(&[
        std::ffi::OsStr::new("risk"),
        logs.as_os_str(),
        std::ffi::OsStr::new("--stage"),
        std::ffi::OsStr::new("1"),
        std::ffi::OsStr::new("--baseline"),
        &os(&p("shadow.json")),
    ]);
    assert!(
        err.contains("is a `shadow` report, not an `aggmetrics risk --format json` report"),
        "{err}"
    );
    // Every document says which command wrote it.
    for (f, cmd) in [
        ("risk.json", "risk"),
        ("shadow.json", "shadow"),
        ("by.json", "summarize"),
        ("stats.json", "stats"),
    ] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(p(f)).unwrap()).unwrap();
        assert_eq!(v["meta"]["command"], cmd, "{f}");
    }
}

#[test]
fn each_figure_is_judged_in_its_own_direction() {
    // Confidence 0.5 -> 0.85 (up 70%): no direction, not judged. Agreement
    // 950/1000 -> 900/1000: falls the bad way, significantly.
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for (dir, agree, conf) in [(&a, 950, 0.5), (&b, 900, 0.85)] {
        std::fs::create_dir(dir).unwrap();
        write(dir, "shadow_router.jsonl", &shadow_lines(1000, agree, conf));
        write_report("shadow", dir, &dir.join("r.json"), &[]);
    }
    let out = bin()
        .args(["compare", "-f", "json"])
        .arg(a.join("r.json"))
        .arg(b.join("r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["regressions"],
        serde_json::json!(["agreement_rate"]),
        "{v}"
    );
    let row = |path: &str| {
        v["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("{path} in {v}"))
            .clone()
    };
    let c = row("confidence.p95");
    assert_eq!(c["regression"], false, "{c}");
    assert_eq!(c["kind"], "value", "{c}");
    assert!(c["note"].as_str().unwrap().contains("not judged"), "{c}");
    let r = row("agreement_rate");
    assert!(
        r["note"].as_str().unwrap().starts_with("fell by 0.0500"),
        "{r}"
    );
    // The other way round: agreement rose, which is no regression; the
    // confidence fell, which is not judged either.
    let out = bin()
        .args(["compare", "-f", "json"])
        .arg(b.join("r.json"))
        .arg(a.join("r.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // In a summarize report the shadow section's figures are judged the
    // same way.
    for dir in [&a, &b] {
        write_report("summarize", dir, &dir.join("s.json"), &[]);
    }
    let out = bin()
        .args(["compare", "-f", "json"])
        .arg(a.join("s.json"))
        .arg(b.join("s.json"))
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["regressions"],
        serde_json::json!(["shadow.agreement_rate"]),
        "{v}"
    );
}
