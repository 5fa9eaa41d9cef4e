//! `--exact` reproduces the platform's scripts to the last digit.

use crate::common;
use common::*;
use serde_json::Value;

#[test]
fn documented_examples() {
    // p50/p95/p99 of [10,20,30,40,50] are 30.0/48.0/49.6; p50 of [10,20] is 15.0.
    let dir = fixture("documented");
    let (v, out) = summarize_json(&[dir.to_str().unwrap(), "--exact"]);
    assert!(out.status.success());
    let t = at(&v, "latency.all.total_ms");
    assert_eq!(t["p50"], 30.0);
    assert_eq!(t["p95"], 48.0);
    assert_eq!(t["p99"], 49.6);
    assert_eq!(at(&v, "latency.all.count"), 5);
    assert_eq!(at(&v, "latency.all.steps.core_logic_ms.p50"), 15.0);
    // llm_enabled: only JSON true counts; null and missing are without_llm.
    assert_eq!(at(&v, "latency.with_llm.count"), 2);
    assert_eq!(at(&v, "latency.with_llm.total_ms.p50"), 45.0);
    assert_eq!(at(&v, "latency.without_llm.count"), 3);
    assert_eq!(at(&v, "time_range.first"), "2026-02-10T12:00:00+00:00");
    assert_eq!(at(&v, "time_range.last"), "2026-02-10T12:00:04.5+00:00");
    assert_eq!(at(&v, "meta.precision.mode"), "exact");
}

/// Every number the reference script prints must match exactly.
fn assert_same(expected: &Value, actual: &Value, path: &str) {
    match expected {
        Value::Object(m) => {
            for (k, e) in m {
                let a = actual
                    .get(k)
                    .unwrap_or_else(|| panic!("missing {path}.{k}"));
                assert_same(e, a, &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(expected, actual, "at {path}"),
    }
}

#[test]
fn matches_platform_script_on_generated_logs() {
    let dir = fixture("exact");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let (v, out) = summarize_json(&[dir.to_str().unwrap(), "--exact"]);
    assert!(out.status.success());
    assert_same(&expected["latency"], &v["latency"], "latency");
    assert_same(&expected["fallback"], &v["fallback"], "fallback");
    // The platform script's range: latency and fallback records only.
    assert_same(&expected["time_range"], &v["time_range"], "time_range");
    // The risk section has its own, over the risk log.
    let stamps: Vec<String> = std::fs::read_to_string(dir.join("partial_trust_risk.jsonl"))
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|r| r.get("timestamp")?.as_str().map(String::from))
        .collect();
    assert_eq!(
        v["risk"]["time_range"]["first"],
        *stamps.iter().min().unwrap()
    );
    assert_eq!(
        v["risk"]["time_range"]["last"],
        *stamps.iter().max().unwrap()
    );
    // The risk analyzer's figures (its rates were not rounded; ours are
    // rounded to 4 decimals like the latency report's).
    let r = &expected["risk"];
    for k in [
        "total_records",
        "sampled_records",
        "status_breakdown",
        "reason_code_breakdown",
        "latency_p50",
        "latency_p95",
        "parse_errors",
    ] {
        let e = &r[k];
        let a = &v["risk"][k];
        if let (Some(x), Some(y)) = (e.as_f64(), a.as_f64()) {
            assert_eq!(x, y, "risk.{k}");
        } else {
            assert_eq!(e, a, "risk.{k}");
        }
    }
    for k in [
        "acceptance_rate",
        "intent_mismatch_rate",
        "entity_key_mismatch_rate",
        "error_rate",
    ] {
        let e = r[k].as_f64().unwrap();
        let a = v["risk"][k].as_f64().unwrap();
        assert_eq!(format!("{e:.4}").parse::<f64>().unwrap(), a, "risk.{k}");
    }
}

/// When python3 is present, the committed expectation is still what the
/// reference script computes from the committed fixture.
#[test]
fn expectation_is_current() {
    let dir = fixture("exact");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference/platform_scripts.py");
    let Ok(out) = std::process::Command::new("python3")
        .arg(&script)
        .arg(&dir)
        .output()
    else {
        // Under AGGMETRICS_REQUIRE_TOOLS (.ci/run) the link to the
        // reference must hold, not be skipped.
        assert!(
            std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none(),
            "python3 is required here (AGGMETRICS_REQUIRE_TOOLS)"
        );
        eprintln!("python3 not found; skipping");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let now: Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    assert_eq!(now, committed);
}

/// Counts, maxima and rates do not depend on the mode. (Percentiles are
/// the same quantity within the stated precision: see below, and
/// tests/figures/hdr_precision.rs.)
#[test]
fn exact_and_hdr_agree_on_counts_maxima_and_rates() {
    let dir = fixture("exact");
    let (e, _) = summarize_json(&[dir.to_str().unwrap(), "--exact"]);
    let (h, _) = summarize_json(&[dir.to_str().unwrap()]);
    assert_eq!(at(&h, "meta.precision.mode"), "hdr");
    assert_eq!(at(&h, "meta.precision.significant_digits"), 3);
    for g in ["all", "with_llm", "without_llm"] {
        assert_eq!(
            at(&e, &format!("latency.{g}.count")),
            at(&h, &format!("latency.{g}.count"))
        );
        let x = at(&e, &format!("latency.{g}.total_ms.max"))
            .as_f64()
            .unwrap();
        let y = at(&h, &format!("latency.{g}.total_ms.max"))
            .as_f64()
            .unwrap();
        assert_eq!(x, y, "max is exact in both modes");
    }
    // Counts and rates never depend on the mode.
    assert_eq!(
        e["fallback"],
        h["fallback"]
            .clone()
            .as_object()
            .map(|m| {
                let mut m = m.clone();
                m.insert(
                    "llm_latency_ms".into(),
                    e["fallback"]["llm_latency_ms"].clone(),
                );
                Value::Object(m)
            })
            .unwrap()
    );
}

/// The summary's time_range is the platform script's: latency and fallback
/// records only; a risk record outside it shows in the risk section's own.
#[test]
fn time_range_covers_latency_and_fallback_only() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        latency_lines(&[1.0, 2.0]),
    )
    .unwrap();
    std::fs::write(
        d.path().join("partial_trust_risk.jsonl"),
        "{\"timestamp\": \"2026-02-09T08:00:00+00:00\", \"status\": \"error\"}\n",
    )
    .unwrap();
    let (v, _) = summarize_json(&[d.path().to_str().unwrap()]);
    assert_eq!(v["time_range"]["first"], "2026-02-10T12:00:00+00:00");
    assert_eq!(v["time_range"]["last"], "2026-02-10T12:00:01+00:00");
    assert_eq!(
        v["risk"]["time_range"]["first"],
        "2026-02-09T08:00:00+00:00"
    );
    // The newest record read is over every log.
    assert_eq!(v["meta"]["newest_record"], "2026-02-10T12:00:01Z");
}

/// Every percentile of the default report estimates what `--exact` gives,
/// within the stated precision (never below it, at most 10^-3 relative
/// above plus half a microsecond), on a small log and on a large one: a
/// user adding `--exact` sees a refinement, not another number.
#[test]
fn default_percentiles_are_exact_ones_within_precision() {
    fn walk(e: &Value, h: &Value, path: &str, n: &mut usize) {
        match (e, h) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, x) in a {
                    walk(x, &b[k], &format!("{path}.{k}"), n);
                }
            }
            (Value::Number(x), Value::Number(y)) => {
                let key = path.rsplit('.').next().unwrap();
                let is_pct = key.starts_with('p') && key[1..].parse::<f64>().is_ok()
                    || key.starts_with("latency_p");
                if is_pct && !path.contains("rates") {
                    let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                    assert!(
                        y >= x - 0.0005 && y <= x * 1.001 + 0.0005,
                        "{path}: default {y} vs exact {x}"
                    );
                    *n += 1;
                }
            }
            _ => {}
        }
    }
    let big = tempfile::tempdir().unwrap();
    let st = std::process::Command::new(gen_logs())
        .arg(big.path())
        .args(["--records", "60000", "--seed", "5"])
        .status()
        .unwrap();
    assert!(st.success());
    for dir in [sample_logs(), fixture("exact"), big.path().to_path_buf()] {
        let d = dir.to_str().unwrap();
        let (e, _) = summarize_json(&[
            d,
            "--exact",
            "-q",
            "--percentiles",
            "0,50,90,95,99,99.9,100",
        ]);
        let (h, _) = summarize_json(&[d, "-q", "--percentiles", "0,50,90,95,99,99.9,100"]);
        let mut n = 0;
        for k in ["latency", "fallback", "risk"] {
            walk(&e[k], &h[k], k, &mut n);
        }
        assert!(n > 50, "{d}: {n} percentiles compared");
        let (e, _, _) = risk_json(&[d, "--exact", "-q"]);
        let (h, _, _) = risk_json(&[d, "-q"]);
        walk(&e, &h, "risk", &mut n);
    }
}
