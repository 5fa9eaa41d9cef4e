//! Every kind of damaged line is skipped and counted by reason, with its
//! location but never its content; the rest of the file still counts.

use crate::common;
use common::*;

const TS: &str = r#""timestamp": "2026-02-10T12:00:00+00:00""#;

fn good(ms: u32) -> String {
    format!(
        "{{{TS}, \"command_id\": \"cmd-good-{ms}\", \"total_ms\": {ms}, \"llm_enabled\": false}}\n"
    )
}

#[test]
fn each_damage_kind_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut f: Vec<u8> = Vec::new();
    let mut add = |s: &[u8]| f.extend_from_slice(s);
    add(good(10).as_bytes());
    add(b"this is not json\n"); // invalid_json
    add(format!("{{{TS}, \"total_ms\": 1").as_bytes()); // truncated (partial write) ...
    add(b"\n");
    add(&[
        format!("{{{TS}, \"total_ms\": 1, \"note\": \"").as_bytes(),
        b"\xff\xfe\"}\n",
    ]
    .concat()); // invalid_utf8
    add(b"[1, 2, 3]\n"); // not_object
    add(b"{\"total_ms\": 5}\n"); // missing_field (timestamp)
    add(format!("{{{TS}}}\n").as_bytes()); // missing_field (total_ms)
    add(format!("{{{TS}, \"total_ms\": \"5\"}}\n").as_bytes()); // wrong_type
    add(format!("{{{TS}, \"total_ms\": -3}}\n").as_bytes()); // negative_value
    add(format!("{{{TS}, \"total_ms\": NaN}}\n").as_bytes()); // non_finite
    add(format!("{{{TS}, \"total_ms\": 1e400}}\n").as_bytes()); // out_of_range (beyond f64)
    add(format!("{{{TS}, \"total_ms\": 2e12}}\n").as_bytes()); // out_of_range (beyond the trackable range)
    add(format!("{{{TS}, \"total_ms\": 1}} trailing\n").as_bytes()); // trailing_garbage
    add(format!(
        "{{{TS}, \"total_ms\": 1, \"x\": {}1{}}}\n",
        "[".repeat(500),
        "]".repeat(500)
    )
    .as_bytes()); // too_deep
    add(format!(
        "{{{TS}, \"total_ms\": 1, \"pad\": \"{}\"}}\n",
        "x".repeat(5000)
    )
    .as_bytes()); // line_too_long
    add(b"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"); // nul_bytes, then a record right after the hole
    add(good(20).as_bytes());
    add(b"{\"timestamp\": \"yesterday\", \"total_ms\": 1}\n"); // bad_timestamp
    add(b"\n   \n"); // blank lines: not records, not damage
    add(good(30).trim_end().as_bytes()); // last line without a newline is still read
    std::fs::write(dir.path().join("pipeline_latency.jsonl"), &f).unwrap();

    let (v, out) = summarize_json(&[
        dir.path().to_str().unwrap(),
        "--max-line-bytes",
        "4096",
        "--exact",
    ]);
    assert!(out.status.success());
    let by = &v["skipped"]["by_reason"];
    let expect = [
        ("invalid_json", 1),
        ("truncated", 1),
        ("invalid_utf8", 1),
        ("not_object", 1),
        ("missing_field", 2),
        ("wrong_type", 1),
        ("negative_value", 1),
        ("non_finite", 1),
        ("out_of_range", 2),
        ("trailing_garbage", 1),
        ("too_deep", 1),
        ("line_too_long", 1),
        ("nul_bytes", 1),
        ("bad_timestamp", 1),
    ];
    for (k, n) in expect {
        assert_eq!(by[k], n, "{k}: {by}");
    }
    assert_eq!(v["skipped"]["total"], 16);
    assert_eq!(
        at(&v, "latency.all.count"),
        3,
        "good lines around the damage still count"
    );
    assert_eq!(at(&v, "latency.all.total_ms.max"), 30.0);
    // Locations are file:line, first ones first, without content.
    let locs = v["skipped"]["locations"].as_array().unwrap();
    assert_eq!(locs.len(), 5);
    assert_eq!(locs[0]["line"], 2);
    assert_eq!(locs[0]["reason"], "invalid_json");
    assert_eq!(locs[1]["line"], 3);
    assert_eq!(locs[1]["reason"], "truncated");
    let all =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!all.contains("cmd-good"), "no ids in the output");
    assert!(
        !all.contains("this is not json"),
        "no damaged content in the output"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 16 damaged line(s)"));

    // --strict turns skipped lines into a failing exit code.
    bin()
        .args(["summarize", dir.path().to_str().unwrap(), "--strict", "-q"])
        .assert()
        .code(1);
}

#[test]
fn stdin_keeps_memory_bounded_on_a_huge_line() {
    // 64 MiB without a newline, then a good record: counted once as too
    // long, the record after it still read.
    let mut input = vec![b'x'; 64 << 20];
    input.push(b'\n');
    input.extend_from_slice(good(7).as_bytes());
    let out = bin()
        .args([
            "summarize",
            "-",
            "--kind",
            "latency",
            "--format",
            "json",
            "--max-line-bytes",
            "65536",
        ])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["skipped"]["by_reason"]["line_too_long"], 1);
    assert_eq!(at(&v, "latency.all.count"), 1);
    assert_eq!(v["skipped"]["locations"][0]["line"], 1);
}

#[test]
fn outside_the_core_a_bad_value_voids_its_field_and_the_record_counts() {
    // As the platform's scripts read them (Python's json reads NaN and
    // Infinity): only the timestamp (and a latency record's total_ms) can
    // make a record damaged; any other bad value voids its field alone.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fallback_metrics.jsonl"),
        format!("{{{TS}, \"llm_outcome\": 5.5}}\n{{{TS}, \"llm_outcome\": \"error\", \"llm_latency_ms\": -1}}\n{{{TS}, \"llm_outcome\": \"error\", \"llm_latency_ms\": NaN}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("partial_trust_risk.jsonl"),
        format!("{{{TS}, \"status\": \"error\", \"sample_rate\": NaN, \"latency_ms\": Infinity}}\nnot json\n{{{TS}, \"status\": 3}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("pipeline_latency.jsonl"),
        format!("{{{TS}, \"total_ms\": NaN}}\n{{{TS}, \"total_ms\": 4, \"steps\": {{\"a\": NaN, \"b\": 2}}}}\n"),
    )
    .unwrap();
    let (v, _) = summarize_json(&[dir.path().to_str().unwrap()]);
    assert_eq!(v["fallback"]["count"], 3);
    assert_eq!(v["fallback"]["outcome_counts"]["unknown"], 1);
    assert_eq!(v["fallback"]["llm_latency_ms"]["count"], 0);
    assert_eq!(v["risk"]["total_records"], 2);
    // An integer status is counted under its text, as the analyzer did.
    assert_eq!(v["risk"]["status_breakdown"]["3"], 1);
    assert_eq!(v["risk"]["latency_count"], 0);
    assert!(v["risk"]["sample_rates"].as_object().unwrap().is_empty());
    assert_eq!(
        v["risk"]["parse_errors"], 1,
        "the analyzer's name for damaged risk lines"
    );
    // total_ms is a latency record's core: NaN there is damage.
    assert_eq!(v["latency"]["all"]["count"], 1);
    assert_eq!(v["latency"]["all"]["steps"]["b"]["count"], 1);
    assert!(v["latency"]["all"]["steps"].get("a").is_none());
    assert_eq!(v["skipped"]["by_reason"]["non_finite"], 1);
    assert_eq!(v["skipped"]["by_reason"]["invalid_json"], 1);
    assert_eq!(v["skipped"]["total"], 2);
}
