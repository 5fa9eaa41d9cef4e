//! One expectation, every way of reading: 1 thread and N threads,
//! positioned reads cut at any size, and a stream give the same report
//! byte for byte.

mod common;
use common::*;

/// A latency log large enough to span several parallel chunks (> 4 MiB).
fn big_log(dir: &std::path::Path) -> std::path::PathBuf {
    let totals: Vec<f64> = (0..40_000)
        .map(|i| ((i * 7919) % 100_000) as f64 / 1000.0 + 0.5)
        .collect();
    let mut text = latency_lines(&totals);
    // Some damage in the middle, so skip locations are compared too.
    text.insert_str(text.len() / 2, "not json\n{\"truncated\": \n");
    let p = dir.join("pipeline_latency.jsonl");
    std::fs::write(&p, text).unwrap();
    assert!(std::fs::metadata(&p).unwrap().len() > 4 << 20);
    p
}

#[test]
fn thread_count_does_not_change_the_report() {
    let dir = tempfile::tempdir().unwrap();
    big_log(dir.path());
    for extra in [&[][..], &["--exact"][..]] {
        let mut outs = Vec::new();
        for t in ["1", "2", "3", "8"] {
            let out = bin()
                .args([
                    "summarize",
                    dir.path().to_str().unwrap(),
                    "--format",
                    "json",
                    "--threads",
                    t,
                ])
                .args(extra)
                .output()
                .unwrap();
            assert!(out.status.success());
            outs.push(out.stdout);
        }
        for o in &outs[1..] {
            assert_eq!(
                o, &outs[0],
                "byte-identical for any thread count ({extra:?})"
            );
        }
    }
    // On the bundled sample logs too, table and JSON.
    for fmt in ["json", "table"] {
        let run = |t: &str| {
            bin()
                .args([
                    "summarize",
                    sample_logs().to_str().unwrap(),
                    "-f",
                    fmt,
                    "-j",
                    t,
                ])
                .output()
                .unwrap()
                .stdout
        };
        assert_eq!(run("1"), run("2"));
    }
}

#[test]
fn positioned_reads_and_stream_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = big_log(dir.path());
    let (positioned, _) = summarize_json(&[p.to_str().unwrap()]);
    let out = bin()
        .args(["summarize", "-", "--kind", "latency", "--format", "json"])
        .write_stdin(std::fs::read(&p).unwrap())
        .output()
        .unwrap();
    let streamed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(positioned["meta"]["inputs"][0]["read_as"], "read");
    assert_eq!(streamed["meta"]["inputs"][0]["read_as"], "stream");
    assert_eq!(
        positioned["meta"]["inputs"][0]["lines"],
        streamed["meta"]["inputs"][0]["lines"]
    );
    // Skip locations name the input; compare them by line and reason.
    let strip = |mut v: serde_json::Value| {
        for l in v["skipped"]["locations"].as_array_mut().unwrap() {
            l.as_object_mut().unwrap().remove("path");
        }
        without_meta(v)
    };
    assert_eq!(strip(positioned), strip(streamed));
}

#[test]
fn a_file_named_twice_is_read_once() {
    let s = sample_logs();
    let f = s.join("pipeline_latency.jsonl");
    let (v, _) = summarize_json(&[s.to_str().unwrap(), f.to_str().unwrap()]);
    let (w, _) = summarize_json(&[s.to_str().unwrap()]);
    assert_eq!(without_meta(v), without_meta(w));
}
