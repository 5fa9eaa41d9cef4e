//! Empty input is zeros, not an error; a missing path is an error naming it.

use crate::common;
use common::*;
use predicates::prelude::*;
use serde_json::Value;

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

#[test]
fn a_folder_of_wrong_names_is_not_a_quiet_day_under_strict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline_latency.json"),
        latency_lines(&[1.0, 2.0]),
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "notes\n").unwrap();
    let d = dir.path().to_str().unwrap();
    // Without --strict: zeros and exit 0, with a warning naming the file
    // that nearly matched (and not README.md).
    let (v, out) = summarize_json(&[d]);
    assert_eq!(out.status.code(), Some(0));
    assert_zeros(&v);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pipeline_latency.json"), "{err}");
    assert!(!err.contains("README.md"), "{err}");
    // With --strict: exit 1, for summarize and risk.
    let (_, out) = summarize_json(&[d, "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let (_, code, _) = risk_json(&[d, "--strict"]);
    assert_eq!(code, 1);
    // Empty logs found are still a quiet day under --strict.
    std::fs::write(dir.path().join("pipeline_latency.jsonl"), "").unwrap();
    let (_, out) = summarize_json(&[d, "--strict"]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn stdin_of_another_kind_says_the_kind_looks_wrong() {
    // Latency records read as fallback: they parse (only timestamp is
    // required) but none has an llm_outcome.
    let out = bin()
        .args(["summarize", "-", "--kind", "fallback", "-f", "json"])
        .write_stdin(latency_lines(&[1.0, 2.0, 3.0]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("none of the 3 fallback records has an llm_outcome"),
        "{err}"
    );
    // Fallback records read as latency: every line damaged.
    let fb = "{\"timestamp\": \"2026-02-10T12:00:00+00:00\", \"llm_outcome\": \"success\"}\n";
    let out = bin()
        .args(["summarize", "-", "--kind", "latency", "-f", "json"])
        .write_stdin(fb.repeat(4))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("none of its 4 lines is a latency record"),
        "{err}"
    );
}

/// The shape of a report never depends on the data: on Suricata's EVE log,
/// a day without records keeps `spec`, every value with null figures, and
/// a kinds file's section; and a summarize of user-kind logs alone heads
/// its table with their time range, not `- .. -`.
#[test]
fn suricata_a_window_without_records_keeps_the_shape() {
    let log = fixture("realworld/suricata_eve_full.json");
    let log = log.to_str().unwrap();
    let args = |day: Option<&str>| {
        let mut a = vec![
            log,
            "--value",
            "flow.bytes_toserver",
            "--by",
            "event_type",
            "-q",
        ];
        if let Some(d) = day {
            a.extend(["--day", d]);
        }
        run_json("stats", &a).0
    };
    let (full, empty) = (args(None), args(Some("2020-01-01")));
    assert_eq!(empty["records"], 0);
    assert_eq!(empty["spec"], full["spec"]);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&empty["total"]["values"]),
        keys(&full["total"]["values"])
    );
    assert!(empty["total"]["values"]["flow.bytes_toserver"]["p95"].is_null());

    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixture("realworld/suricata_eve_full.json"),
        d.path().join("eve.json"),
    )
    .unwrap();
    let k = d.path().join("k.toml");
    std::fs::write(
        &k,
        "[[kind]]\nname = \"suricata\"\nfiles = \"eve*.json\"\nvalues = [\"flow.bytes_toserver\"]\n",
    )
    .unwrap();
    let dir = d.path().to_str().unwrap();
    let (v, _) = summarize_json(&[
        dir,
        "--kinds",
        k.to_str().unwrap(),
        "--day",
        "2020-01-01",
        "-q",
    ]);
    assert_eq!(v["suricata"]["records"], 0);
    assert_eq!(v["suricata"]["spec"]["values"][0], "flow.bytes_toserver");
    let out = bin()
        .args(["summarize", dir, "--kinds", k.to_str().unwrap()])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout);
    let first = head.lines().next().unwrap();
    assert!(first.contains("253 records, 2023-02-28T11:34:02"), "{head}");
    assert!(!first.contains("- .. -"), "{head}");
}
