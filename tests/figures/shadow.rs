//! The shadow-router log: `aggmetrics shadow` reproduces the platform's
//! analyzer under --exact (tests/reference/platform_scripts.py computed
//! the expectation from the committed fixture), agrees with it within the
//! stated precision by default, never prints the log's free text, and
//! its section in `summarize` adds up across states like every kind's.

use crate::common;

use common::*;
use serde_json::Value;

fn exact_dir() -> std::path::PathBuf {
    fixture("exact")
}

fn golden() -> String {
    exact_dir()
        .join("shadow_golden.json")
        .to_str()
        .unwrap()
        .to_string()
}

fn shadow(args: &[&str]) -> (Value, std::process::Output) {
    run_json("shadow", args)
}

#[test]
fn exact_reproduces_the_platform_analyzer() {
    let dir = exact_dir();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected = &expected["shadow"];
    let (v, out) = shadow(&[dir.to_str().unwrap(), "--golden", &golden(), "--exact"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys = expected.as_object().unwrap();
    assert_eq!(keys.len(), 8, "the analyzer's eight keys");
    for (k, e) in keys {
        // The same JSON value: integers stay integers (int() latency),
        // rates are unrounded floats, null stays null.
        assert_eq!(&v[k], e, "{k}");
    }
    // Besides the analyzer's keys: every rate with what it is made of.
    let r = &v["rates"]["intent_match_rate"];
    assert_eq!(r["denominator"], v["matched_records"]);
    assert_eq!(
        r["numerator"].as_f64().unwrap() / r["denominator"].as_f64().unwrap(),
        v["intent_match_rate"].as_f64().unwrap()
    );
    let lo = r["wilson_95"][0].as_f64().unwrap();
    let hi = r["wilson_95"][1].as_f64().unwrap();
    assert!(lo < v["intent_match_rate"].as_f64().unwrap() && hi > lo);
    let a = &v["rates"]["agreement_rate"];
    assert_eq!(a["denominator"], v["status_breakdown"]["ok"]);
    assert_eq!(v["golden_entries"], 200);
}

#[test]
fn without_a_golden_dataset_the_match_rates_are_null() {
    let (v, out) = shadow(&[exact_dir().to_str().unwrap(), "--exact"]);
    assert!(out.status.success());
    assert_eq!(v["matched_records"], 0);
    assert_eq!(v["intent_match_rate"], Value::Null);
    assert_eq!(v["entity_hit_rate"], Value::Null);
    assert!(v["rates"].get("intent_match_rate").is_none());
    assert_eq!(v["golden_entries"], Value::Null);
}

#[test]
fn hdr_agrees_with_exact_within_its_precision() {
    let dir = exact_dir();
    let g = golden();
    let (e, _) = shadow(&[dir.to_str().unwrap(), "--golden", &g, "--exact"]);
    let (h, _) = shadow(&[dir.to_str().unwrap(), "--golden", &g]);
    for k in [
        "total_records",
        "matched_records",
        "intent_match_rate",
        "entity_hit_rate",
        "error_breakdown",
        "status_breakdown",
        "parse_errors",
        "latency_count",
        "rates",
    ] {
        assert_eq!(e[k], h[k], "{k}");
    }
    // The same rank, read from the histogram: never below, at most 10^-3
    // relative above.
    for k in ["latency_p50", "latency_p95", "latency_p99"] {
        let x = e[k].as_f64().unwrap();
        let y = h[k].as_f64().unwrap();
        assert!(x <= y && y <= x * 1.001 + 0.001, "{k}: exact {x}, hdr {y}");
    }
    for k in ["p50", "p95", "p99"] {
        let x = e["confidence"][k].as_f64().unwrap();
        let y = h["confidence"][k].as_f64().unwrap();
        assert!(
            (x - y).abs() <= x * 0.001 + 0.001,
            "confidence {k}: {x} vs {y}"
        );
    }
}

#[test]
fn summarize_has_the_same_shadow_figures() {
    let dir = exact_dir();
    let (s, out) = summarize_json(&[dir.to_str().unwrap(), "--exact"]);
    assert!(out.status.success());
    let (v, _) = shadow(&[dir.to_str().unwrap(), "--exact"]);
    for k in [
        "total_records",
        "latency_p50",
        "latency_p95",
        "latency_p99",
        "error_breakdown",
        "status_breakdown",
        "parse_errors",
        "agreement_rate",
        "error_rate",
        "confidence",
        "rates",
        "time_range",
    ] {
        assert_eq!(s["shadow"][k], v[k], "{k}");
    }
    // Its damaged lines are in the run's and charged to the shadow log.
    assert_eq!(s["shadow"]["parse_errors"], 4);
    // The shadow log is not in the platform script's time range.
    assert_ne!(s["time_range"], s["shadow"]["time_range"]);
}

/// Secrets the generator put in free-text fields, the golden dataset's
/// text, ids and intents (compared, never printed by `shadow`).
const NEVER: &[&str] = &[
    "SECRET",
    "GOLDEN",
    "Какой",
    "купи",
    "trace-",
    "cmd-wp",
    "shadow-router-0.1",
    "add_shopping_item",
    "get_weather",
];

#[test]
fn no_raw_text_reaches_any_format() {
    let dir = exact_dir();
    let g = golden();
    for format in ["table", "json", "csv", "markdown", "prometheus"] {
        let out = bin()
            .args([
                "shadow",
                dir.to_str().unwrap(),
                "--golden",
                &g,
                "-f",
                format,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            text.contains("shadow") || text.contains("Shadow"),
            "{format}: {text}"
        );
        for s in NEVER {
            assert!(!text.contains(s), "{format} printed {s:?}:\n{text}");
        }
    }
    // summarize: only the shadow log, so intents from other logs' own
    // breakdowns are not in the way.
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.join("shadow_router.jsonl"),
        d.path().join("shadow_router.jsonl"),
    )
    .unwrap();
    for format in ["table", "json", "csv", "markdown", "prometheus"] {
        let out = bin()
            .args(["summarize", d.path().to_str().unwrap(), "-f", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        for s in NEVER {
            assert!(!text.contains(s), "summarize {format} printed {s:?}");
        }
    }
}

#[test]
fn a_bad_golden_dataset_is_a_usage_error_that_quotes_nothing() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("golden.json");
    std::fs::write(&bad, r#"[{"expected_intent": "SECRET-INTENT"}]"#).unwrap();
    let out = bin()
        .args(["shadow", exact_dir().to_str().unwrap(), "--golden"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--golden") && err.contains("command_id"),
        "{err}"
    );
    assert!(!err.contains("SECRET"), "{err}");
    let out = bin()
        .args(["shadow", exact_dir().to_str().unwrap(), "--golden"])
        .arg(d.path().join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // --strict: the fixture's damaged lines fail it.
    let out = bin()
        .args(["shadow", exact_dir().to_str().unwrap(), "--strict", "-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn shadow_states_add_up_to_one_pass() {
    let dir = exact_dir();
    let lines: Vec<String> = std::fs::read_to_string(dir.join("shadow_router.jsonl"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let d = tempfile::tempdir().unwrap();
    let (a, b, all) = (d.path().join("a"), d.path().join("b"), d.path().join("all"));
    for (p, part) in [(&a, &lines[..450]), (&b, &lines[450..]), (&all, &lines[..])] {
        std::fs::create_dir(p).unwrap();
        std::fs::write(p.join("shadow_router.jsonl"), part.join("\n") + "\n").unwrap();
    }
    for (p, s) in [(&a, "a.state"), (&b, "b.state")] {
        bin()
            .arg("summarize")
            .arg(p)
            .args(["-q", "-f", "json", "-o"])
            .arg(d.path().join(format!("{s}.json")))
            .arg("--state-out")
            .arg(d.path().join(s))
            .assert()
            .success();
    }
    let merged = merge_ok(&[d.path().join("a.state"), d.path().join("b.state")]);
    let (once, _) = summarize_json(&[all.to_str().unwrap(), "-q"]);
    assert_eq!(merged["shadow"], once["shadow"]);
    assert_eq!(at(&merged, "shadow.total_records"), 900);
}

#[test]
fn one_and_two_threads_give_the_same_bytes() {
    // Ten copies of the fixture's log: over 4 MiB, so two threads read it
    // as separate ranges.
    let d = tempfile::tempdir().unwrap();
    let log = std::fs::read(exact_dir().join("shadow_router.jsonl")).unwrap();
    std::fs::write(d.path().join("shadow_router.jsonl"), log.repeat(10)).unwrap();
    assert!(log.len() * 10 > 4 << 20);
    let run = |j: &str| {
        bin()
            .args([
                "shadow",
                d.path().to_str().unwrap(),
                "--golden",
                &golden(),
                "-j",
                j,
            ])
            .args(["-f", "json", "-q"])
            .output()
            .unwrap()
            .stdout
    };
    let one = run("1");
    assert!(!one.is_empty());
    assert_eq!(one, run("2"));
}
