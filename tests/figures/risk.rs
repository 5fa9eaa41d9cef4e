//! `aggmetrics risk`: analyzer parity under --exact, Wilson intervals, per-day
//! figures, and empty logs.

use crate::common;

use common::*;
use serde_json::{json, Value};

/// The platform's risk analyzer, re-created from ../shared/log-schemas.md
/// (as tests/reference/platform_scripts.py does in Python): every record in
/// memory, rates unrounded, latency by the lower nearest rank.
fn analyzer(text: &str) -> Value {
    let mut records = Vec::new();
    let mut parse_errors = 0u64;
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(m)) => records.push(m),
            _ => parse_errors += 1,
        }
    }
    let mut status = serde_json::Map::new();
    let mut reasons = serde_json::Map::new();
    let bump = |m: &mut serde_json::Map<String, Value>, k: &str| {
        let n = m.get(k).and_then(Value::as_u64).unwrap_or(0);
        m.insert(k.to_string(), json!(n + 1));
    };
    for r in &records {
        // `rec.get("status", "unknown")`: only a missing key is unknown;
        // `None` is written `null` in the analyzer's JSON.
        let s = match r.get("status") {
            Some(Value::String(s)) => s.as_str(),
            Some(Value::Null) => "null",
            Some(_) => unreachable!("the generator writes strings or null"),
            None => "unknown",
        };
        bump(&mut status, s);
        if let Some(Value::String(rc)) = r.get("reason_code") {
            if !rc.is_empty() {
                bump(&mut reasons, rc);
            }
        }
    }
    let st = |k: &str| status.get(k).and_then(Value::as_u64).unwrap_or(0) as f64;
    let (acc, fbd) = (st("accepted_llm"), st("fallback_deterministic"));
    let diffs: Vec<&serde_json::Map<String, Value>> = records
        .iter()
        .filter_map(|r| r.get("diff_summary").and_then(Value::as_object))
        .collect();
    let share = |flag: &str| {
        if diffs.is_empty() {
            0.0
        } else {
            diffs
                .iter()
                .filter(|d| d.get(flag) == Some(&json!(true)))
                .count() as f64
                / diffs.len() as f64
        }
    };
    let mut lat: Vec<f64> = records
        .iter()
        .filter_map(|r| r.get("latency_ms").and_then(Value::as_f64))
        .collect();
    lat.sort_by(f64::total_cmp);
    let q = |x: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat[((lat.len() - 1) as f64 * x) as usize]
        }
    };
    let total = records.len() as f64;
    json!({
        "total_records": records.len(),
        "sampled_records": records.iter().filter(|r| r.get("sampled") == Some(&json!(true))).count(),
        "status_breakdown": status,
        "reason_code_breakdown": reasons,
        "acceptance_rate": if acc + fbd > 0.0 { acc / (acc + fbd) } else { 0.0 },
        "intent_mismatch_rate": share("intent_mismatch"),
        "entity_key_mismatch_rate": share("entity_key_mismatch"),
        "error_rate": if total > 0.0 { st("error") / total } else { 0.0 },
        "latency_p50": q(0.5),
        "latency_p95": q(0.95),
        "parse_errors": parse_errors,
    })
}

/// Varied risk records, including what the analyzer is lenient about:
/// missing and empty statuses and reason codes, null and string
/// latencies, `sampled` that is not `true`, diff flags that are not `true`.
fn generated(seed: u64, n: usize) -> String {
    let mut rng = Rng(seed | 1);
    let statuses = [
        "accepted_llm",
        "accepted_llm",
        "fallback_deterministic",
        "not_sampled",
        "not_sampled",
        "skipped",
        "error",
        "",
    ];
    let reasons = [
        "accepted",
        "low_confidence",
        "corridor_mismatch",
        "RuntimeError",
        "",
    ];
    let flag = |rng: &mut Rng| match rng.below(5) {
        0 => "true",
        1 => "\"true\"",
        2 => "null",
        _ => "false",
    };
    let mut out = String::new();
    for i in 0..n {
        let mut fields = vec![format!("\"timestamp\": \"{}\"", ts(i as u64 * 37))];
        match rng.below(12) {
            0 => {}
            1 => fields.push("\"status\": null".into()),
            k => fields.push(format!(
                "\"status\": \"{}\"",
                statuses[k as usize % statuses.len()]
            )),
        }
        if rng.below(6) > 0 {
            fields.push(format!(
                "\"reason_code\": \"{}\"",
                reasons[rng.below(5) as usize]
            ));
        }
        fields.push(format!(
            "\"sampled\": {}",
            match rng.below(4) {
                0 => "false",
                1 => "\"yes\"",
                _ => "true",
            }
        ));
        fields.push(match rng.below(8) {
            0 => "\"latency_ms\": null".into(),
            1 => "\"latency_ms\": \"slow\"".into(),
            2 => "\"latency_ms\": true".into(),
            3 => format!("\"latency_ms\": {}.{}", rng.below(900), rng.below(1000)),
            _ => format!("\"latency_ms\": {}", 20 + rng.below(1500)),
        });
        fields.push(match rng.below(5) {
            0 => "\"diff_summary\": null".into(),
            1 => "\"diff_summary\": \"none\"".into(),
            _ => format!(
                "\"diff_summary\": {{\"intent_mismatch\": {}, \"entity_key_mismatch\": {}, \"decision_type_mismatch\": {}}}",
                flag(&mut rng),
                flag(&mut rng),
                flag(&mut rng)
            ),
        });
        fields.push(
            "\"model_meta\": {\"provider\": \"p\", \"profile\": [1, 2, {\"x\": null}]}".into(),
        );
        // Shuffle the field order a little: the analyzer does not care.
        let k = rng.below(fields.len() as u64) as usize;
        fields.swap(0, k);
        out.push('{');
        out.push_str(&fields.join(", "));
        out.push_str("}\n");
        if rng.below(40) == 0 {
            out.push_str("{\"timestamp\": \"2026-02-10T00:00:00+00:00\", \"status\": \n");
        }
        if rng.below(60) == 0 {
            out.push('\n');
        }
    }
    out
}

#[test]
fn exact_matches_the_analyzer_on_generated_logs() {
    for (seed, n) in [(1, 1), (2, 7), (3, 500), (4, 3000), (99, 20_000)] {
        let text = generated(seed, n);
        let d = risk_dir(&text);
        let (v, code, _) = risk_json(&[d.path().to_str().unwrap(), "--exact", "-q"]);
        assert_eq!(code, 0);
        let want = analyzer(&text);
        for (k, w) in want.as_object().unwrap() {
            assert_eq!(&v[k], w, "seed {seed}: key {k}");
        }
    }
}

#[test]
fn default_hdr_mode_keeps_counts_and_rates_exact_and_latency_within_precision() {
    let text = generated(5, 5000);
    let d = risk_dir(&text);
    let (hdr, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q"]);
    let want = analyzer(&text);
    for k in [
        "total_records",
        "sampled_records",
        "status_breakdown",
        "acceptance_rate",
        "error_rate",
        "intent_mismatch_rate",
        "parse_errors",
    ] {
        assert_eq!(hdr[k], want[k], "{k}");
    }
    // Nearest rank from a 3-digit histogram: at most 0.1% above the exact
    // nearest rank (which is at or above the lower nearest rank).
    let (exact, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q", "--exact"]);
    for k in ["latency_p50", "latency_p95"] {
        let (h, e) = (hdr[k].as_f64().unwrap(), exact[k].as_f64().unwrap());
        assert!(h >= e && h <= e * 1.002 + 1.0, "{k}: hdr {h} exact {e}");
    }
}

#[test]
fn wilson_intervals_match_known_values() {
    // Newcombe (1998), Table I, method 3 (score), and 3 in 40 vs 300 in 4000.
    for (k, n, lo, hi) in [
        (3u64, 40u64, 0.0258, 0.1986),
        (300, 4000, 0.0672, 0.0836),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
        (15, 148, 0.0624, 0.1605),
    ] {
        let d = risk_dir(&risk_lines(n, k));
        let (v, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q"]);
        let r = at(&v, "rates.error_rate");
        assert_eq!(r["numerator"], k);
        assert_eq!(r["denominator"], n);
        let w = r["wilson_95"].as_array().unwrap();
        let (a, b) = (w[0].as_f64().unwrap(), w[1].as_f64().unwrap());
        assert!(
            (a - lo).abs() < 5e-5 && (b - hi).abs() < 5e-5,
            "{k}/{n}: [{a}, {b}]"
        );
    }
}

#[test]
fn by_day_splits_one_pass_into_utc_days() {
    // 3 days and a bit, one record a minute: 1440 a day, 100 on day 4.
    let text = risk_lines(3 * 1440 + 100, 50);
    let d = risk_dir(&text);
    let (v, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q", "--by", "day"]);
    let days = v["by_day"].as_array().unwrap();
    let names: Vec<&str> = days.iter().map(|d| d["day"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13"]
    );
    let counts: Vec<u64> = days
        .iter()
        .map(|d| d["total_records"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1440, 1440, 1440, 100]);
    // The 50 errors are the first 50 records: all on day one.
    assert_eq!(days[0]["status_breakdown"]["error"], 50);
    assert_eq!(days[1]["error_rate"], 0.0);
    assert_eq!(days[0]["start"], "2026-02-10T00:00:00Z");
    assert_eq!(days[0]["end"], "2026-02-11T00:00:00Z");
    assert_eq!(v["days_covered"], 4);
    assert_eq!(v["total_records"], 3 * 1440 + 100);
    // Without --by day the totals are the same and no days are listed.
    let (w, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q"]);
    assert!(w.get("by_day").is_none());
    let strip = |mut x: Value| {
        x.as_object_mut().unwrap().remove("by_day");
        x.as_object_mut().unwrap().remove("meta");
        x
    };
    assert_eq!(strip(v), strip(w));
}

#[test]
fn empty_risk_logs_give_zeros_and_hold() {
    for text in ["", "\n\n", "{\"timestamp\": \"nope\"}\n"] {
        let d = risk_dir(text);
        let (v, code, _) = risk_json(&[d.path().to_str().unwrap(), "-q", "--stage", "1"]);
        assert_eq!(code, 3, "{text:?}");
        assert_eq!(v["total_records"], 0);
        assert_eq!(v["error_rate"], 0.0);
        assert_eq!(v["latency_p95"], 0.0);
        assert_eq!(v["rates"]["error_rate"]["wilson_95"], json!([0.0, 1.0]));
        assert_eq!(v["verdict"]["decision"], "hold");
    }
    // No risk log at all.
    let d = tempfile::tempdir().unwrap();
    let (v, code, _) = risk_json(&[d.path().to_str().unwrap(), "-q", "--stage", "2"]);
    assert_eq!((code, &v["verdict"]["decision"]), (3, &json!("hold")));
    // And the table renders.
    bin()
        .args(["risk", d.path().to_str().unwrap(), "-q"])
        .assert()
        .success();
}

#[test]
fn longest_gap_is_exact() {
    let mut text = risk_lines(10, 0); // minutes 0..9
    text.push_str(
        &Risk {
            secs: 9 * 60 + 95 * 60 + 17,
            status: "accepted_llm",
            sampled: true,
            latency_ms: None,
            intent_mismatch: false,
            sample_rate: 0.01,
        }
        .line(),
    );
    let d = risk_dir(&text);
    let (v, _, _) = risk_json(&[d.path().to_str().unwrap(), "-q"]);
    assert_eq!(v["longest_gap"]["minutes"], 95.283);
    assert_eq!(v["longest_gap"]["from"], "2026-02-10T00:09:00Z");
}

/// sample_rates keeps at most 64 distinct rates; what it folds out is
/// reported in meta.keys_dropped like every other breakdown's.
#[test]
fn sample_rates_past_the_key_limit_are_reported_as_dropped() {
    let text: String = (0..100u64)
        .map(|i| {
            Risk {
                secs: i,
                status: "not_sampled",
                sampled: false,
                latency_ms: None,
                intent_mismatch: false,
                sample_rate: 0.001 * (i + 1) as f64,
            }
            .line()
        })
        .collect();
    let d = risk_dir(&text);
    let (v, out) = summarize_json(&[d.path().to_str().unwrap()]);
    assert!(out.status.success());
    let kept = v["risk"]["sample_rates"].as_object().unwrap().len() as u64;
    assert!(kept <= 64, "{kept}");
    assert_eq!(v["meta"]["keys_dropped"], 100 - kept);
}
