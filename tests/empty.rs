//! Empty input is zeros, not an error; a missing path is an error naming it.

mod common;
use common::*;
use predicates::prelude::*;

fn assert_zeros(v: &serde_json::Value) {
    for g in ["all", "with_llm", "without_llm"] {
        assert_eq!(at(v, &format!("latency.{g}.count")), 0);
        for p in ["p50", "p95", "p99", "min", "max", "mean"] {
            assert_eq!(at(v, &format!("latency.{g}.total_ms.{p}")), 0.0);
        }
    }
    for k in ["fallback.count", "risk.total_records", "skipped.total"] {
        assert_eq!(at(v, k), 0, "{k}");
    }
    for k in [
        "fallback.fallback_rate",
        "fallback.error_rate",
        "fallback.success_rate",
        "risk.acceptance_rate",
        "risk.error_rate",
        "risk.latency_p95",
    ] {
        assert_eq!(at(v, k), 0.0, "{k}");
    }
    assert!(at(v, "time_range.first").is_null());
}

#[test]
fn empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (v, out) = summarize_json(&[dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert_zeros(&v);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no log files found"));
}

#[test]
fn empty_and_blank_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pipeline_latency.jsonl"), "").unwrap();
    std::fs::write(dir.path().join("fallback_metrics.jsonl"), "\n\n  \n\t\n").unwrap();
    // partial_trust_risk missing altogether
    let (v, out) = summarize_json(&[dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    assert_zeros(&v);
    assert_eq!(v["meta"]["inputs"].as_array().unwrap().len(), 2);
    // The table renders zeros too.
    bin()
        .args(["summarize", dir.path().to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("Skipped: none"));
}

#[test]
fn empty_stdin() {
    let out = bin()
        .args(["summarize", "-", "--kind", "risk", "--format", "json"])
        .write_stdin("")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_zeros(&serde_json::from_slice(&out.stdout).unwrap());
}

#[test]
fn missing_path_is_an_error_naming_it() {
    bin()
        .args(["summarize", "/nonexistent/logs-dir"])
        .assert()
        .code(4)
        .stderr(
            predicate::str::contains("/nonexistent/logs-dir")
                .and(predicate::str::contains("no such file")),
        );
}

#[test]
fn stdin_and_unknown_files_need_a_kind() {
    bin()
        .args(["summarize", "-"])
        .write_stdin("{}")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--kind"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("mystery.log");
    std::fs::write(&f, "").unwrap();
    bin()
        .args(["summarize", f.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--kind"));
    bin()
        .args(["summarize", f.to_str().unwrap(), "--kind", "fallback"])
        .assert()
        .success();
}
