//! Odd values the platform's own writers can emit, each row of
//! docs/semantics.md's "Odd values" table held against the reference
//! scripts (tests/reference/platform_scripts.py): the same figure where we
//! agree, the documented difference where we differ on purpose.

use crate::common;

use common::*;
use serde_json::Value;

fn reference(dir: &std::path::Path) -> Option<Value> {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/reference/platform_scripts.py");
    match std::process::Command::new("python3")
        .arg(&script)
        .arg(dir)
        .output()
    {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some(serde_json::from_slice(&out.stdout).unwrap())
        }
        Err(_) if std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none() => {
            eprintln!("python3 not found; skipping");
            None
        }
        Err(e) => panic!("python3 is required here (AGGMETRICS_REQUIRE_TOOLS): {e}"),
    }
}

fn t(i: u64) -> String {
    ts(i)
}

#[test]
fn each_odd_value_as_the_table_says() {
    let d = tempfile::tempdir().unwrap();
    let w = |name: &str, lines: Vec<String>| {
        std::fs::write(d.path().join(name), lines.join("\n") + "\n").unwrap()
    };
    // Latency: totals 10..=50 and one -1.5; one record with a step -0.001.
    let mut lat: Vec<String> = (1..=5)
        .map(|i| format!("{{\"timestamp\": \"{}\", \"total_ms\": {}, \"llm_enabled\": false, \"steps\": {{\"a_ms\": {i}}}}}", t(i), i * 10))
        .collect();
    lat.push(format!(
        "{{\"timestamp\": \"{}\", \"total_ms\": -1.5, \"llm_enabled\": false, \"steps\": {{}}}}",
        t(6)
    ));
    lat.push(format!("{{\"timestamp\": \"{}\", \"total_ms\": 60, \"llm_enabled\": false, \"steps\": {{\"a_ms\": -0.001}}}}", t(7)));
    w("pipeline_latency.jsonl", lat);
    // Fallback: an integer outcome beside strings.
    let fb = ["\"success\"", "7", "7", "\"error\""]
        .iter()
        .enumerate()
        .map(|(i, o)| {
            format!(
                "{{\"timestamp\": \"{}\", \"llm_outcome\": {o}}}",
                t(i as u64)
            )
        })
        .collect();
    w("fallback_metrics.jsonl", fb);
    // Risk: an integer status; latencies with negatives and two above
    // 10^12 among twenty.
    let mut lats: Vec<String> = (1..=16).map(|i| (i * 10).to_string()).collect();
    lats.extend(["-5", "-0.5", "1e13", "1e20"].map(String::from));
    let risk = lats
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let status = if i == 0 { "5".to_string() } else { "\"accepted_llm\"".into() };
            format!("{{\"timestamp\": \"{}\", \"sampled\": true, \"status\": {status}, \"latency_ms\": {l}}}", t(i as u64))
        })
        .collect();
    w("partial_trust_risk.jsonl", risk);

    let dir = d.path().to_str().unwrap();
    let (ours, _) = summarize_json(&[dir, "--exact", "-q"]);
    let (risk, _, _) = risk_json(&[dir, "--exact", "-q"]);
    let Some(r) = reference(d.path()) else { return };

    // Integer categories: the same counts, under their text.
    assert_eq!(
        ours["fallback"]["outcome_counts"],
        r["fallback"]["outcome_counts"]
    );
    assert_eq!(ours["fallback"]["outcome_counts"]["7"], 2);
    assert_eq!(
        risk["status_breakdown"]["5"],
        r["risk"]["status_breakdown"]["5"]
    );
    assert_eq!(risk["status_breakdown"]["5"], 1);
    assert_eq!(risk["total_records"], r["risk"]["total_records"]);

    // A negative total_ms: the scripts count the record, we count the
    // line as damaged.
    assert_eq!(r["latency"]["all"]["count"], 7);
    assert_eq!(ours["latency"]["all"]["count"], 6);
    assert_eq!(ours["skipped"]["by_reason"]["negative_value"], 1);
    // Its p50: the scripts' over 7 values with -1.5; ours over the 6 good.
    assert_eq!(r["latency"]["all"]["total_ms"]["p50"], 30.0);
    assert_eq!(ours["latency"]["all"]["total_ms"]["p50"], 35.0);
    // A negative step: left out of its step, the record counts.
    assert_eq!(ours["latency"]["all"]["steps"]["a_ms"]["count"], 5);
    assert_eq!(r["latency"]["all"]["steps"]["a_ms"]["p50"], 2.5);
    assert_eq!(ours["latency"]["all"]["steps"]["a_ms"]["p50"], 3.0);

    // Risk latencies: negatives and values above 10^12 are voided. The
    // scripts' p95 over all twenty is 1e13; ours over the sixteen good
    // ones (lower rank: sorted[int(15 * 0.95)] = 150).
    assert_eq!(r["risk"]["latency_p95"], 1e13);
    assert_eq!(risk["latency_count"], 16);
    assert_eq!(risk["latency_p95"], 150.0);
    // The two negatives and two huge values balance at the median.
    assert_eq!(r["risk"]["latency_p50"], 80);
    assert_eq!(risk["latency_p50"], 80.0);
}

/// An intent that is literally the text `(none)` is not a missing intent:
/// before, the two added up under one `(none)` key. A real intent reading
/// `(none)` or starting with `"` is written as a JSON string, so every
/// intent keeps a key of its own and the table still adds up.
#[test]
fn an_intent_spelled_none_is_not_a_missing_intent() {
    let dir = tempfile::tempdir().unwrap();
    let line = |i: u64, intent: &str| {
        format!(
            "{{\"timestamp\": \"{}\", \"command_id\": \"c{i}\", {intent}\"llm_outcome\": \"success\", \"fallback_reason\": null, \"deterministic_used\": false, \"llm_latency_ms\": 10, \"components\": {{}}}}\n",
            t(i)
        )
    };
    let text = [
        line(0, "\"intent\": null, "),
        line(1, ""),
        line(2, "\"intent\": \"(none)\", "),
        line(3, "\"intent\": \"(none)\", "),
        line(4, "\"intent\": \"\\\"(none)\\\"\", "),
        line(5, "\"intent\": \"play_music\", "),
    ]
    .concat();
    std::fs::write(dir.path().join("fallback_metrics.jsonl"), text).unwrap();
    let (v, out) = summarize_json(&[dir.path().to_str().unwrap()]);
    assert!(out.status.success());
    let by = &v["fallback"]["by_intent"];
    assert_eq!(by["(none)"]["success"], 2, "{by}");
    assert_eq!(by["\"(none)\""]["success"], 2, "{by}");
    assert_eq!(by["\"\\\"(none)\\\"\""]["success"], 1, "{by}");
    assert_eq!(by["play_music"]["success"], 1, "{by}");
    assert_eq!(by.as_object().unwrap().len(), 4, "{by}");
}
