//! One expectation, every way of reading: 1 thread and N threads,
//! positioned reads cut at any size, and a stream give the same report
//! byte for byte.

use crate::common;
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

mod cuts {
    use aggmetrics::agg::{Bucket, Config, Mode};
    use aggmetrics::fuzzing::every_read_path_agrees;
    use aggmetrics::kinds::LogKind;
    use proptest::prelude::*;

    /// Pieces of a damaged live log: records, blank lines, NUL holes,
    /// garbage, an unterminated record, long lines.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            4 => (0u32..5000, 8u32..15).prop_map(|(ms, h)| format!(
                "{{\"timestamp\": \"2026-02-17T{h:02}:00:00Z\", \"total_ms\": {ms}.5, \"llm_enabled\": true, \"steps\": {{\"a\": 1}}}}\n"
            ).into_bytes()),
            // Damaged, with a time of its own.
            1 => (8u32..15).prop_map(|h| format!(
                "{{\"timestamp\": \"2026-02-17T{h:02}:30:00Z\", \"total_ms\": \n"
            ).into_bytes()),
            1 => Just(b"\n".to_vec()),
            1 => (1usize..40).prop_map(|n| vec![0u8; n]),
            1 => proptest::collection::vec(any::<u8>(), 0..30),
            1 => Just(b"{\"total_ms\": 1".to_vec()),
            1 => (50usize..300).prop_map(|n| vec![b'x'; n]),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Read whole, by the plain reference rule, streamed in pieces of
        /// any size, or cut into ranges of any size read a piece at a
        /// time: the same report (the fuzz target's check, on log-shaped
        /// input).
        #[test]
        fn any_cut_gives_the_same_report(
            frags in proptest::collection::vec(fragment(), 0..40),
            chunk in 1u64..200,
            piece in 1usize..70,
            max in prop_oneof![Just(64usize), Just(4 << 20)],
            dated in 0u8..4,
        ) {
            let data: Vec<u8> = frags.concat();
            // Damaged lines are charged to windows and buckets by the
            // records around them: that too must not depend on the cuts.
            let mut cfg = Config::new(Mode::Exact, max);
            let hour = |h: i64| 1_771_286_400_000_000 + h * 3_600_000_000; // 2026-02-17Thh
            if dated & 1 != 0 {
                cfg.bucket = Some(Bucket::Hour);
            }
            if dated & 2 != 0 {
                cfg.window = Some((hour(10), hour(13)));
            }
            every_read_path_agrees(cfg, LogKind::Latency, &data, chunk, piece);
        }
    }
}

/// 10,000 log files under a limit of 256 open files (soft and hard): every
/// one is read, with one thread and with two (was: 1,019 of 10,000 under
/// 1024, the rest warned about, exit 0). Some are gzip, read as streams.
#[test]
fn ten_thousand_files_under_a_low_open_files_limit_are_all_read() {
    use std::io::Write;
    let d = common::disk_dir();
    let mut total = 0u64;
    for i in 0..10_000u64 {
        let ms = 100 + i % 997;
        total += ms;
        let line = format!(
            "{{\"timestamp\":\"2026-02-10T00:00:00Z\",\"command_id\":\"c{i}\",\"total_ms\":{ms},\"steps\":{{}},\"llm_enabled\":false}}\n"
        );
        if i % 500 == 0 {
            let f =
                std::fs::File::create(d.path().join(format!("pipeline_latency-{i:05}.jsonl.gz")))
                    .unwrap();
            let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
            gz.write_all(line.as_bytes()).unwrap();
            gz.finish().unwrap();
        } else {
            std::fs::write(
                d.path().join(format!("pipeline_latency-{i:05}.jsonl")),
                line,
            )
            .unwrap();
        }
    }
    let bin = common::bin_path();
    for threads in ["1", "2"] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(r#"ulimit -n 256 && exec "$0" summarize "$1" -f json --strict -j "$2""#)
            .arg(&bin)
            .arg(d.path())
            .arg(threads)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(0),
            "-j {threads}: {}",
            &err[..err.len().min(2000)]
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["latency"]["all"]["count"], 10_000, "-j {threads}");
        assert_eq!(v["meta"]["inputs"].as_array().unwrap().len(), 10_000);
        let mean = v["latency"]["all"]["total_ms"]["mean"].as_f64().unwrap();
        assert!((mean - total as f64 / 10_000.0).abs() <= 0.0005, "{mean}");
        assert!(err.is_empty(), "{}", &err[..err.len().min(2000)]);
    }
}

/// Inputs read in batches of 1, 2 or 3 open files give the report read
/// with all open at once, byte for byte: figures, per-input counts, and
/// the line numbers of damaged lines in files closed before the end.
#[test]
fn reading_in_batches_gives_the_same_report() {
    use aggmetrics::agg::{Config, Mode};
    use aggmetrics::read::Reader;
    let d = common::disk_dir();
    for (i, n) in [3usize, 40, 7, 1].iter().enumerate() {
        let mut text = String::new();
        for k in 0..*n {
            text.push_str(&format!(
                "{{\"timestamp\":\"2026-02-10T0{i}:00:00Z\",\"command_id\":\"c{k}\",\"total_ms\":{},\"steps\":{{\"a_ms\":1}},\"llm_enabled\":{}}}\n",
                k * 7 + i,
                k % 2 == 0
            ));
            if k % 5 == 4 {
                text.push_str("{damaged\n");
            }
        }
        std::fs::write(d.path().join(format!("pipeline_latency-{i}.jsonl")), text).unwrap();
    }
    let found = aggmetrics::input::discover(&[d.path().to_path_buf()], None, false).unwrap();
    assert_eq!(found.sources.len(), 4);
    let report = |max_open: Option<usize>| {
        let mut r = Reader::new(2, u64::MAX);
        r.max_open = max_open;
        r.chunk = 256;
        let res = r
            .read(
                &found.sources,
                Config::new(Mode::Hdr { sigfig: 3 }, 1 << 20),
            )
            .unwrap();
        let rep = aggmetrics::report::Report::build(&res, &[50.0, 99.0]);
        (
            serde_json::to_string(&rep).unwrap(),
            res.example_lines.clone(),
        )
    };
    let (all, lines) = report(None);
    assert!(
        lines.iter().all(|&l| l > 0) && !lines.is_empty(),
        "{lines:?}"
    );
    for b in [1, 2, 3] {
        assert_eq!(
            report(Some(b)),
            (all.clone(), lines.clone()),
            "batches of {b}"
        );
    }
}
