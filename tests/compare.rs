//! `aggmetrics compare`: regressions flagged by key path, regressions
//! first, identical reports passing.

mod common;

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
