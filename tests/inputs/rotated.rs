//! Logs as logrotate leaves them: rotated siblings, gzip (several members),
//! zstd, dateext names; caps on decompression; symlinks and hard links.

use crate::common;

use std::io::Write;
use std::path::Path;

use common::*;
use serde_json::Value;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Generated latency lines, several hundred, with varied totals.
fn lines(n: usize) -> Vec<String> {
    let totals: Vec<f64> = (0..n).map(|i| ((i * 7919) % 1000) as f64 / 3.0).collect();
    latency_lines(&totals)
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

fn report(args: &[&str]) -> Value {
    let (v, out) = summarize_json(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

/// A rotated set of 1000 lines in `d`: plain, .1, a two-member .gz, a
/// .zst, a dateext .gz, and a .bak that is not read. Returns all lines.
fn rotated_set(d: &Path) -> Vec<String> {
    let all = lines(1000);
    let part = |i: usize| all[i * 200..(i + 1) * 200].concat();
    let p = |n: &str| d.join(n);
    std::fs::write(p("pipeline_latency.jsonl"), part(0)).unwrap();
    std::fs::write(p("pipeline_latency.jsonl.1"), part(1)).unwrap();
    // Two gzip members in one file, as `cat a.gz b.gz` makes.
    let half = all[400..500].concat();
    let rest = all[500..600].concat();
    let mut two = gzip(half.as_bytes());
    two.extend(gzip(rest.as_bytes()));
    std::fs::write(p("pipeline_latency.jsonl.2.gz"), two).unwrap();
    std::fs::write(
        p("pipeline_latency.jsonl.3.zst"),
        zstd::encode_all(part(3).as_bytes(), 3).unwrap(),
    )
    .unwrap();
    std::fs::write(
        p("pipeline_latency.jsonl-20260217.gz"),
        gzip(part(4).as_bytes()),
    )
    .unwrap();
    // Not logs: left alone.
    std::fs::write(p("pipeline_latency.jsonl.bak"), part(0)).unwrap();
    all
}

#[test]
fn a_rotated_set_is_counted_exactly_once() {
    let d = tempfile::tempdir().unwrap();
    let all = rotated_set(d.path());

    let whole = d.path().join("whole");
    std::fs::create_dir(&whole).unwrap();
    std::fs::write(whole.join("pipeline_latency.jsonl"), all.concat()).unwrap();

    let v = report(&[d.path().to_str().unwrap()]);
    let w = report(&[whole.to_str().unwrap()]);
    assert_eq!(at(&v, "latency.all.count"), 1000);
    assert_eq!(without_meta(v.clone()), without_meta(w));
    let how: Vec<&str> = v["meta"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["read_as"].as_str().unwrap())
        .collect();
    assert_eq!(how.len(), 5);
    assert_eq!(how.iter().filter(|h| **h == "gzip").count(), 2);
    assert_eq!(how.iter().filter(|h| **h == "zstd").count(), 1);
    assert_eq!(v["meta"]["incomplete"], false);
    // Byte-identical on a second run and with one thread.
    let again = bin()
        .args([
            "summarize",
            d.path().to_str().unwrap(),
            "-f",
            "json",
            "-j",
            "1",
        ])
        .output()
        .unwrap();
    let first = bin()
        .args(["summarize", d.path().to_str().unwrap(), "-f", "json"])
        .output()
        .unwrap();
    assert_eq!(again.stdout, first.stdout);
}

#[test]
fn a_gzip_bomb_is_capped_and_the_other_files_still_count() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), lines(100).concat()).unwrap();
    // 256 MiB of spaces and newlines compress to a few hundred KiB.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = [b' '; 1 << 20];
    for _ in 0..256 {
        e.write_all(&block).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 2 << 20);
    std::fs::write(d.path().join("pipeline_latency.jsonl.1.gz"), bomb).unwrap();

    let out = bin()
        .args([
            "summarize",
            d.path().to_str().unwrap(),
            "-f",
            "json",
            "--max-decompressed-bytes",
            "8M",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(at(&v, "latency.all.count"), 100);
    assert_eq!(v["meta"]["incomplete"], true);
    let err = v["meta"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|i| i["error"].as_str())
        .unwrap()
        .to_string();
    assert!(err.contains("more than 8388608 bytes"), "{err}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pipeline_latency.jsonl.1.gz") && stderr.contains("incomplete"),
        "{stderr}"
    );
    // The table says so too.
    let out = bin()
        .args([
            "summarize",
            d.path().to_str().unwrap(),
            "-q",
            "--max-decompressed-bytes",
            "8M",
        ])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(
        t.contains("INCOMPLETE: ") && t.contains("pipeline_latency.jsonl.1.gz"),
        "{t}"
    );
    // --strict turns an incomplete read into a failed check.
    bin()
        .args([
            "summarize",
            d.path().to_str().unwrap(),
            "-q",
            "--strict",
            "--max-decompressed-bytes",
            "8M",
        ])
        .assert()
        .code(1);
}

#[test]
fn a_truncated_gzip_keeps_what_came_before() {
    let d = tempfile::tempdir().unwrap();
    let all = lines(400);
    let gz = gzip(all.concat().as_bytes());
    std::fs::write(
        d.path().join("pipeline_latency.jsonl.2.gz"),
        &gz[..gz.len() / 2],
    )
    .unwrap();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), all[..50].concat()).unwrap();
    let v = report(&[d.path().to_str().unwrap(), "-q"]);
    let n = at(&v, "latency.all.count").as_u64().unwrap();
    assert!(n > 50 && n < 450, "{n}");
    assert_eq!(
        v["skipped"]["total"], 0,
        "the cut line is not counted as damaged"
    );
    assert_eq!(v["meta"]["incomplete"], true);
}

#[cfg(unix)]
#[test]
fn symlinks_and_hard_links() {
    let d = tempfile::tempdir().unwrap();
    let logs = d.path().join("logs");
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir(&logs).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    let write = |p: &Path, n: usize| std::fs::write(p, lines(n).concat()).unwrap();
    write(&logs.join("pipeline_latency.jsonl"), 10);
    // A hard link and an inside symlink to it: the same file, read once.
    std::fs::hard_link(
        logs.join("pipeline_latency.jsonl"),
        logs.join("pipeline_latency.jsonl.1"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "pipeline_latency.jsonl",
        logs.join("pipeline_latency.jsonl.2"),
    )
    .unwrap();
    // A symlink pointing outside: skipped unless --follow.
    write(&elsewhere.join("other.jsonl"), 7);
    std::os::unix::fs::symlink(
        elsewhere.join("other.jsonl"),
        logs.join("pipeline_latency.jsonl.3"),
    )
    .unwrap();

    let out = bin()
        .args(["summarize", logs.to_str().unwrap(), "-f", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(at(&v, "latency.all.count"), 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pointing outside") && stderr.contains("--follow"),
        "{stderr}"
    );
    let v = report(&[logs.to_str().unwrap(), "--follow", "-q"]);
    assert_eq!(at(&v, "latency.all.count"), 17);
}

/// Guarantee 3 of docs/reliability.md: two runs over the same rotated set
/// give byte-identical output in every format, with any thread count, and
/// byte-identical state files.
#[test]
fn reruns_are_byte_identical_in_every_format() {
    let d = tempfile::tempdir().unwrap();
    rotated_set(d.path());
    let dir = d.path().to_str().unwrap();
    for fmt in ["json", "table", "csv", "prometheus", "markdown"] {
        let run = |j: &str| {
            let out = bin()
                .args(["summarize", dir, "-f", fmt, "-j", j])
                .output()
                .unwrap();
            assert!(out.status.success());
            // The one line that says when the run finished differs.
            let text = String::from_utf8(out.stdout).unwrap();
            text.lines()
                .filter(|l| !l.starts_with("aggmetrics_run_finished_timestamp_seconds"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let first = run("2");
        assert!(!first.is_empty());
        assert_eq!(first, run("2"), "{fmt}: second run");
        assert_eq!(first, run("1"), "{fmt}: one thread");
    }
    let state = |name: &str| {
        let p = d.path().join(name);
        bin()
            .args(["summarize", dir, "-q", "-o", "/dev/null", "--state-out"])
            .arg(&p)
            .assert()
            .success();
        std::fs::read(p).unwrap()
    };
    assert_eq!(state("a.state"), state("b.state"));
}

/// Guarantee 8: a corrupt .zst and a truncated .gz (logrotate still
/// compressing) are errors of their own inputs; the other files count.
#[test]
fn a_corrupt_zstd_is_an_error_of_its_own() {
    let d = tempfile::tempdir().unwrap();
    let all = lines(600);
    let mut z = zstd::encode_all(all[..300].concat().as_bytes(), 3).unwrap();
    let mid = z.len() / 2;
    for b in &mut z[mid..mid + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(d.path().join("pipeline_latency.jsonl.2.zst"), z).unwrap();
    let gz = gzip(all[300..500].concat().as_bytes());
    std::fs::write(
        d.path().join("pipeline_latency.jsonl.1.gz"),
        &gz[..gz.len() - 20],
    )
    .unwrap();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), all[500..].concat()).unwrap();
    let (v, out) = summarize_json(&[d.path().to_str().unwrap()]);
    assert!(out.status.success());
    let n = at(&v, "latency.all.count").as_u64().unwrap();
    assert!((100..600).contains(&n), "{n}");
    assert_eq!(v["skipped"]["total"], 0, "cut lines are not damage");
    assert_eq!(v["meta"]["incomplete"], true);
    let inputs = v["meta"]["inputs"].as_array().unwrap();
    let err = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap()["error"]
            .clone()
    };
    assert!(err(".2.zst").is_string(), "{inputs:?}");
    assert!(err(".1.gz").is_string(), "{inputs:?}");
    assert!(err("latency.jsonl").is_null());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pipeline_latency.jsonl.2.zst"), "{stderr}");
    bin()
        .args(["summarize", d.path().to_str().unwrap(), "--strict", "-q"])
        .assert()
        .code(1);
}

/// Compression is known by the first bytes, not the name: gzip and zstd
/// on standard input, a `.log` that is gzip, and a `.gz` that is plain
/// text give the figures of the plain log (before, gzip on standard input
/// was 21,547 damaged lines with exit 0).
#[test]
fn compression_is_known_by_content_not_by_name() {
    let text = lines(300).concat();
    let plain = {
        let d = disk_dir();
        std::fs::write(d.path().join("a.log"), &text).unwrap();
        let (v, out) = run_json(
            "stats",
            &[
                d.path().join("a.log").to_str().unwrap(),
                "--value",
                "total_ms",
                "--strict",
            ],
        );
        assert!(out.status.success());
        v["total"].clone()
    };
    assert_eq!(plain["records"], 300);
    let d = disk_dir();
    for (name, bytes) in [
        ("gzip-named.log", gzip(text.as_bytes())),
        (
            "zstd-named.log",
            zstd::encode_all(text.as_bytes(), 3).unwrap(),
        ),
        ("plain-named.log.gz", text.clone().into_bytes()),
    ] {
        let p = d.path().join(name);
        std::fs::write(&p, &bytes).unwrap();
        let (v, out) = run_json(
            "stats",
            &[p.to_str().unwrap(), "--value", "total_ms", "--strict"],
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(v["total"], plain, "{name}");
        // On standard input too.
        let out = bin()
            .args([
                "stats", "-", "--value", "total_ms", "--strict", "-f", "json",
            ])
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} on stdin: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["total"], plain, "{name} on stdin");
    }
}

/// A latency line at `time` (RFC 3339).
fn latency_at(time: &str, total: f64) -> String {
    format!(
        "{{\"timestamp\": \"{time}\", \"command_id\": \"c\", \"total_ms\": {total}, \"steps\": {{\"core_logic_ms\": {total}}}, \"llm_enabled\": true}}\n"
    )
}

fn set_mtime(p: &Path, rfc3339: &str) {
    let t: jiff::Timestamp = rfc3339.parse().unwrap();
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(std::time::SystemTime::from(t)).unwrap();
}

#[test]
fn a_window_passes_over_files_last_changed_before_it() {
    let d = tempfile::tempdir().unwrap();
    // Two rotated days and the live file, each last changed when its last
    // record was written.
    let days = [
        ("pipeline_latency.jsonl.2.gz", "2026-02-08"),
        ("pipeline_latency.jsonl.1.gz", "2026-02-09"),
    ];
    for (name, day) in days {
        let body: String = (0..10)
            .map(|h| latency_at(&format!("{day}T{:02}:00:00Z", 10 + h), 100.0 + h as f64))
            .collect();
        std::fs::write(d.path().join(name), gzip(body.as_bytes())).unwrap();
        set_mtime(&d.path().join(name), &format!("{day}T19:00:01Z"));
    }
    // A rotated file changed 2 minutes before the window: within the
    // slack, read.
    let body = latency_at("2026-02-09T23:57:30Z", 7.0);
    std::fs::write(d.path().join("pipeline_latency.jsonl.3"), &body).unwrap();
    set_mtime(
        &d.path().join("pipeline_latency.jsonl.3"),
        "2026-02-09T23:58:00Z",
    );
    let live: String = (0..5)
        .map(|m| latency_at(&format!("2026-02-10T00:0{m}:00Z"), 10.0 + m as f64))
        .collect();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), live).unwrap();
    let dir = d.path().to_str().unwrap();
    let since = ["--since", "2026-02-10T00:00:00Z"];
    let (v, out) = summarize_json(&[&[dir][..], &since].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passed: Vec<&str> = v["meta"]["passed_over"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["path"].as_str().unwrap())
        .collect();
    assert_eq!(passed.len(), 2, "{passed:?}");
    assert!(
        passed.iter().all(|p| p.contains("pipeline_latency.jsonl.")),
        "{passed:?}"
    );
    assert_eq!(
        v["meta"]["passed_over"][0]["modified"]
            .as_str()
            .unwrap()
            .len(),
        20
    );
    // The same figures as reading every file: their records are all
    // before the window.
    let (all, _) = summarize_json(&[&[dir][..], &since, &["--all-files"]].concat());
    assert!(all["meta"].get("passed_over").is_none());
    assert_eq!(figures(&v), figures(&all));
    assert_eq!(v["latency"], all["latency"]);
    // The live file's 5 records; the late file's one is before the window.
    assert_eq!(v["latency"]["all"]["count"], 5);
    // Read, they were outside the window; passed over, not read at all.
    assert_eq!(all["meta"]["window"]["outside"], 21);
    assert_eq!(v["meta"]["window"]["outside"], 1);
    assert_eq!(v["meta"]["inputs"].as_array().unwrap().len(), 2);
    // A window past every file (a clock ahead of the logs): the live
    // file is still read, so the report knows when the log was written.
    let (ahead, out) = summarize_json(&[dir, "--since", "2030-01-01", "--strict"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(ahead["meta"]["newest_record"], "2026-02-10T00:04:00Z");
    assert_eq!(ahead["meta"]["passed_over"].as_array().unwrap().len(), 3);
    // Named on the command line, a file is read whatever its age; and
    // without a window nothing is passed over.
    let old = d.path().join("pipeline_latency.jsonl.1.gz");
    let (named, _) = summarize_json(&[old.to_str().unwrap(), "--since", "2026-02-10T00:00:00Z"]);
    assert!(named["meta"].get("passed_over").is_none());
    assert_eq!(named["meta"]["window"]["outside"], 10);
    let (whole, _) = summarize_json(&[dir]);
    assert!(whole["meta"].get("passed_over").is_none());
    // The table says so.
    let out = bin().args(["summarize", dir]).args(since).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let words = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Passed over: 2 files last changed before the window (meta.passed_over); --all-files reads them"),
        "{table}"
    );
}
