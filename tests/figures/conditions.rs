//! Conditions that never silently turn off: a key no report can hold is a
//! usage error before any log is read (with the nearest key); a key with no
//! value in this run is "no data", shown, and the report is still written.

use crate::common;

use common::{bin, risk_dir, risk_lines};

/// A gates file with one alarm rule and a stage 1 that needs no days.
fn gates_file(dir: &std::path::Path, alarm: &str) -> std::path::PathBuf {
    let p = dir.join("g.toml");
    std::fs::write(
        &p,
        format!("[alarms]\nrules = [\"{alarm}\"]\n[stage.1]\nmin_days = 0\ngo = [\"error_rate < 0.05\"]\n"),
    )
    .unwrap();
    p
}

#[test]
fn a_typo_in_a_gates_file_is_a_usage_error_before_reading() {
    let d = tempfile::tempdir().unwrap();
    let gates = gates_file(d.path(), "error_rate_ > 0.05");
    // The logs do not even exist: the gates are checked first.
    let out = bin()
        .args(["risk", "/no/such/logs", "--stage", "1", "--gates"])
        .arg(&gates)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("error_rate_ > 0.05"), "{err}");
    assert!(err.contains("nearest key is 'error_rate'"), "{err}");
    // And with logs that would otherwise give GO.
    let logs = risk_dir(&risk_lines(60, 0));
    let out = bin()
        .arg("risk")
        .arg(logs.path())
        .args(["--stage", "1", "--as-of", "2026-02-10T01:00:00Z", "--gates"])
        .arg(&gates)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // Fixed, the same file judges.
    gates_file(d.path(), "error_rate > 0.05");
    let out = bin()
        .arg("risk")
        .arg(logs.path())
        .args(["--stage", "1", "--as-of", "2026-02-10T01:00:00Z", "--gates"])
        .arg(&gates)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn a_gates_rule_on_a_breakdown_key_that_never_occurred_is_no_data() {
    let d = tempfile::tempdir().unwrap();
    let gates = gates_file(d.path(), "status_breakdown.timeout > 3");
    let logs = risk_dir(&risk_lines(60, 0));
    let out = bin()
        .arg("risk")
        .arg(logs.path())
        .args([
            "--stage",
            "1",
            "--as-of",
            "2026-02-10T01:00:00Z",
            "-f",
            "json",
            "--gates",
        ])
        .arg(&gates)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "status_breakdown.timeout")
        .unwrap()
        .clone();
    assert!(c["reason"].as_str().unwrap().contains("no data"), "{c}");
}

#[test]
fn fail_on_typo_is_a_usage_error_before_reading_with_the_nearest_key() {
    let out = bin()
        .args([
            "summarize",
            "/no/such/logs",
            "--fail-on",
            "fallback.eror_rate>0.05",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("nearest key is 'fallback.error_rate'"),
        "{err}"
    );
}

/// A quiet window: a step that did not occur, rates over no records.
#[test]
fn fail_on_a_figure_with_no_data_still_writes_the_report() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("pipeline_latency.jsonl"),
        common::latency_lines(&[10.0, 20.0, 30.0]),
    )
    .unwrap();
    let prom = d.path().join("aggmetrics.prom");
    let out = bin()
        .arg("summarize")
        .arg(&logs)
        .args([
            "--since",
            "2026-02-10T12:00:00Z",
            "-f",
            "prometheus",
            "--fail-on",
            "latency.all.steps.rerank_ms.p95>20",
            "--fail-on",
            "fallback.success_rate<0.5",
            "--fail-on",
            "latency.all.total_ms.p95>25",
            "-o",
        ])
        .arg(&prom)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    // p95 of total_ms (30) is a real breach; the other two are not
    // judged: no record had the step rerank_ms while others had steps
    // (said, since it may be a typo), and no fallback record.
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("threshold breached: latency.all.total_ms.p95"),
        "{err}"
    );
    assert!(
        err.contains("--fail-on 'latency.all.steps.rerank_ms.p95 > 20' not judged: no record had 'rerank_ms' in latency.all.steps"),
        "{err}"
    );
    assert!(
        err.contains("no data: --fail-on 'fallback.success_rate < 0.5'"),
        "{err}"
    );
    assert!(!err.contains("breached: fallback"), "{err}");
    assert!(std::fs::read_to_string(&prom)
        .unwrap()
        .contains("aggmetrics_"));
    // Without the real breach: exit 0.
    let out = bin()
        .arg("summarize")
        .arg(&logs)
        .args([
            "-q",
            "--fail-on",
            "latency.all.steps.rerank_ms.p95>20",
            "--fail-on",
            "fallback.success_rate<0.5",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

/// `summarize DIR --exact --fail-on COND ...`: the exit code.
fn fail_on(dir: &std::path::Path, extra: &[&str], cond: &str) -> i32 {
    let out = bin()
        .arg("summarize")
        .arg(dir)
        .args(["-q", "--exact", "-f", "json", "--fail-on", cond])
        .args(extra)
        .output()
        .unwrap();
    out.status.code().unwrap()
}

#[test]
fn every_operator_at_just_below_and_just_above_its_bound() {
    // Totals 10..50: p50 is 30 exactly, p99.9 is 49.96 (k = 3.996), the
    // platform script's interpolation (docs/semantics.md).
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        common::latency_lines(&[10.0, 20.0, 30.0, 40.0, 50.0]),
    )
    .unwrap();
    for (key, extra, v) in [
        ("latency.all.total_ms.p50", &[][..], 30.0),
        // A fractional percentile is a key like any other (was exit 2,
        // "the nearest key is" the very key given).
        (
            "latency.all.total_ms.p99.9",
            &["--percentiles", "50,99.9"][..],
            49.96,
        ),
    ] {
        for (op, below, at, above) in [
            // Whether `value OP bound` holds with the bound just below the
            // value, at it, and just above it.
            (">", true, false, false),
            (">=", true, true, false),
            ("<", false, false, true),
            ("<=", false, true, true),
        ] {
            for (bound, holds) in [(v - 0.001, below), (v, at), (v + 0.001, above)] {
                let cond = format!("{key}{op}{bound}");
                let code = fail_on(d.path(), extra, &cond);
                assert_eq!(code, if holds { 1 } else { 0 }, "{cond}");
            }
        }
    }
}

/// (exit code, stderr) of `aggmetrics ARGS`.
fn run(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_typo_of_a_seen_name_is_said_even_quietly_and_fails_strict() {
    let logs = common::sample_logs();
    let logs = logs.to_str().unwrap();
    for (cond, name, near) in [
        (
            "latency.all.steps.core_logic_m.p95>1",
            "core_logic_m",
            "core_logic_ms",
        ),
        ("fallback.outcome_counts.eror>1", "eror", "error"),
    ] {
        let (code, err) = run(&["summarize", logs, "-q", "-f", "json", "--fail-on", cond]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains(&format!("no record had '{name}'"))
                && err.contains(&format!("the nearest is '{near}'")),
            "{cond}: {err}"
        );
        let (code, _) = run(&[
            "summarize",
            logs,
            "-q",
            "-f",
            "json",
            "--strict",
            "--fail-on",
            cond,
        ]);
        assert_eq!(code, 1, "{cond}");
    }
    // The name as seen: judged, no warning.
    let (code, err) = run(&[
        "summarize",
        logs,
        "-q",
        "-f",
        "json",
        "--fail-on",
        "fallback.outcome_counts.error>100",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
    // A step absent from a quiet window is no data; an open map with no
    // name at all is no typo: neither warns.
    let (code, err) = run(&[
        "summarize",
        logs,
        "-q",
        "-f",
        "json",
        "--strict",
        "--since",
        "2030-01-01",
        "--fail-on",
        "latency.all.steps.core_logic_m.p95>1",
    ]);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn a_value_path_the_spec_does_not_name_is_a_usage_error() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("assist.jsonl"),
        "{\"timestamp\": \"2026-02-10T00:00:00Z\", \"step\": \"normalizer\", \"status\": \"ok\", \"latency_ms\": 12}\n\
         {\"timestamp\": \"2026-02-10T00:01:00Z\", \"step\": \"entities\", \"status\": \"error\", \"latency_ms\": 30}\n",
    )
    .unwrap();
    let dir = d.path().to_str().unwrap();
    let kinds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/kinds/assist.toml");
    let kinds = kinds.to_str().unwrap();
    // A user kind's value path, and stats' --value path: exit 2, before
    // reading, naming the nearest.
    let (code, err) = run(&[
        "summarize",
        dir,
        "-q",
        "--kinds",
        kinds,
        "--fail-on",
        "assist.total.values.latncy_ms.p95>1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("'latncy_ms' is not a value path of the kinds file's kind 'assist'")
            && err.contains("the nearest is 'latency_ms'"),
        "{err}"
    );
    let file = d.path().join("assist.jsonl");
    let file = file.to_str().unwrap();
    let (code, err) = run(&[
        "stats",
        file,
        "-q",
        "--value",
        "latency_ms",
        "--count",
        "status",
        "--fail-on",
        "total.values.latncy_ms.p95>1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("given with --value (named: latency_ms); the nearest is 'latency_ms'"),
        "{err}"
    );
    let (code, err) = run(&[
        "stats",
        file,
        "-q",
        "--value",
        "latency_ms",
        "--count",
        "status",
        "--fail-on",
        "total.counts.statsu.ok>1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the nearest is 'status'"), "{err}");
    // Spelled right: judged (p95 of 12 and 30 is 29.1).
    let (code, err) = run(&[
        "stats",
        file,
        "-q",
        "--exact",
        "--value",
        "latency_ms",
        "--fail-on",
        "total.values.latency_ms.p95>29",
    ]);
    assert_eq!(code, 1, "{err}");
    let (code, err) = run(&[
        "summarize",
        dir,
        "-q",
        "--exact",
        "--kinds",
        kinds,
        "--fail-on",
        "assist.total.values.latency_ms.p95>29.2",
    ]);
    assert_eq!(code, 0, "{err}");
    // A count value never seen beside others: said, --strict fails.
    let (code, err) = run(&[
        "stats",
        file,
        "-q",
        "--value",
        "latency_ms",
        "--count",
        "status",
        "--strict",
        "--fail-on",
        "total.counts.status.okk>0",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no record had 'okk'") && err.contains("the nearest is 'ok'"),
        "{err}"
    );
}

/// `merge` judges its report as `summarize` does: a name of an open map
/// that no record had fails `--strict` (merge used to skip that check).
#[test]
fn merge_fails_strict_on_a_typo_of_a_seen_name_as_summarize_does() {
    let d = tempfile::tempdir().unwrap();
    let state = d.path().join("a.state");
    // Clean logs: --strict fails on nothing else.
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("pipeline_latency.jsonl"),
        common::latency_lines(&[5.0, 7.0, 9.0]),
    )
    .unwrap();
    let (code, err) = run(&[
        "summarize",
        logs.to_str().unwrap(),
        "-q",
        "-f",
        "json",
        "-o",
        d.path().join("a.json").to_str().unwrap(),
        "--state-out",
        state.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let merge = |strict: bool| {
        let mut args = vec![
            "merge",
            state.to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "--fail-on",
            "latency.all.steps.core_logic_m.p95>1",
        ];
        if strict {
            args.push("--strict");
        }
        run(&args)
    };
    let (code, err) = merge(false);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the nearest is 'core_logic_ms'"), "{err}");
    assert_eq!(merge(true).0, 1);
    // Without the typo, the clean merge passes --strict.
    let (code, err) = run(&[
        "merge",
        state.to_str().unwrap(),
        "-q",
        "-f",
        "json",
        "--strict",
    ]);
    assert_eq!(code, 0, "{err}");
}
