//! Guarantees 5 and 6 of docs/reliability.md: hostile JSON and values
//! beyond the histogram's range are counted, never fatal.

use crate::common;
use common::*;

const TS: &str = "\"timestamp\": \"2026-02-17T10:00:00Z\"";

fn line(rest: &str) -> String {
    format!("{{{TS}, \"command_id\": \"c\", \"llm_enabled\": true{rest}}}\n")
}

/// Every case below, in a file big enough that both worker threads parse
/// some (the cases repeat in every 64 KiB), under HDR and --exact.
#[test]
fn hostile_json_is_counted_and_never_fatal() {
    let deep = format!(
        ", \"total_ms\": 1, \"x\": {}{}",
        "[".repeat(1_000_000),
        "]".repeat(1_000_000)
    );
    let cases: Vec<(String, Option<&str>)> = vec![
        // (line, the reason it is skipped; None: it counts)
        (line(&deep), Some("too_deep")),
        (
            line(&format!(
                ", \"total_ms\": 1, \"x\": {}",
                "{\"a\":".repeat(200_000)
            )),
            Some("too_deep"),
        ),
        (
            line(", \"total_ms\": 1, \"s\": \"\\ud800\""),
            Some("invalid_json"),
        ),
        (
            line(", \"total_ms\": 1, \"s\": \"\\udc00\\ud800x\""),
            Some("invalid_json"),
        ),
        (line(", \"total_ms\": 1, \"s\": \"\\ud83d\\ude00\""), None),
        (line(", \"total_ms\": 1, \"s\": \"\u{7f}\\u0000\""), None),
        (line(", \"total_ms\": 1e400"), Some("out_of_range")),
        (line(", \"total_ms\": -1e400"), Some("out_of_range")),
        (
            line(", \"total_ms\": 18446744073709551616"),
            Some("out_of_range"),
        ),
        (
            line(", \"total_ms\": 1, \"big\": 1844674407370955161600000"),
            None,
        ),
        (line(", \"total_ms\": NaN"), Some("non_finite")),
        (line(", \"total_ms\": Infinity"), Some("non_finite")),
        (line(", \"total_ms\": -Infinity"), Some("non_finite")),
        (line(", \"total_ms\": 1e-400"), None),
        (line(", \"total_ms\": 5, \"total_ms\": 7"), None),
        (line(", \"total_ms\": \"x\", \"total_ms\": 9"), None),
        (line(", \"total_ms\": 9, \"total_ms\": null"), None),
        (
            format!("{{{TS}, \"total_ms\": 1, \"llm_enabled\": tru}}\n"),
            Some("invalid_json"),
        ),
        ("{\"\\u0000\": 1}\n".to_string(), Some("missing_field")),
    ];
    let mut block = String::new();
    for (l, _) in &cases {
        block.push_str(l);
    }
    // Invalid UTF-8 in a string.
    let mut bytes = block.into_bytes();
    bytes.extend_from_slice(
        &[
            b"{",
            TS.as_bytes(),
            b", \"total_ms\": 1, \"s\": \"\xc3\x28\"}\n",
        ]
        .concat(),
    );
    let reps = (4 << 20) / bytes.len() + 2;
    let data = bytes.repeat(reps);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("pipeline_latency.jsonl");
    std::fs::write(&p, &data).unwrap();

    let mut expect = std::collections::BTreeMap::new();
    let mut counted = 0;
    for (_, why) in &cases {
        match why {
            Some(w) => *expect.entry(w.to_string()).or_insert(0u64) += reps as u64,
            None => counted += reps as u64,
        }
    }
    *expect.entry("invalid_utf8".into()).or_insert(0) += reps as u64;
    for extra in [&[][..], &["--exact"][..]] {
        let mut args = vec![p.to_str().unwrap(), "-j", "2"];
        args.extend_from_slice(extra);
        let (v, out) = summarize_json(&args);
        assert!(out.status.success(), "{out:?}");
        for (k, n) in &expect {
            assert_eq!(v["skipped"]["by_reason"][k], *n, "{k} {extra:?}");
        }
        assert_eq!(at(&v, "latency.all.count"), counted);
        // Duplicate keys: the last one wins (Python's json does the same).
        assert_eq!(at(&v, "latency.all.total_ms.max"), 9.0);
    }
}

/// Guarantee 6: the trackable range is [0, 1e12] ms (about 31.7 years).
/// The edge counts, beyond it is `out_of_range`, in every log kind and
/// both modes, and nothing panics (hdrhistogram's `+=` would).
#[test]
fn values_beyond_the_trackable_range_are_rejected_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lat = [
        line(", \"total_ms\": 1000000000000"),
        line(", \"total_ms\": 1000000000000.5"),
        line(", \"total_ms\": 1e300"),
        line(", \"total_ms\": 1, \"steps\": {\"a\": 1e13}"),
        line(", \"total_ms\": 0"),
    ]
    .concat();
    std::fs::write(d.join("pipeline_latency.jsonl"), lat).unwrap();
    let fb = format!(
        "{{{TS}, \"outcome\": \"ok\", \"llm_latency_ms\": 1e15}}\n{{{TS}, \"outcome\": \"ok\", \"llm_latency_ms\": 1e12}}\n"
    );
    std::fs::write(d.join("fallback_metrics.jsonl"), fb).unwrap();
    for extra in [&[][..], &["--exact"][..], &["--sigfig", "5"][..]] {
        let mut args = vec![d.to_str().unwrap()];
        args.extend_from_slice(extra);
        let (v, out) = summarize_json(&args);
        assert!(out.status.success());
        // In total_ms (the core) an out-of-range value is damage; in a step
        // or llm_latency_ms it voids that value and the record counts.
        assert_eq!(v["skipped"]["by_reason"]["out_of_range"], 2, "{extra:?}");
        assert_eq!(at(&v, "latency.all.count"), 3);
        assert!(v["latency"]["all"]["steps"].get("a").is_none());
        let max = at(&v, "latency.all.total_ms.max").as_f64().unwrap();
        assert!((max - 1e12).abs() / 1e12 < 1e-3, "{max}");
        assert_eq!(at(&v, "fallback.count"), 2);
        assert_eq!(at(&v, "fallback.llm_latency_ms.count"), 1);
    }
}
