//! Time windows (--since, --until, --day), --by hour|day buckets, and
//! --fail-on thresholds.

use crate::common;

use common::*;
use serde_json::Value;

/// A latency log with one record every 10 minutes over three days
/// (2026-02-10 .. 2026-02-12), total_ms = minute of the day.
fn three_days() -> tempfile::TempDir {
    let mut text = String::new();
    for i in 0..3 * 144u64 {
        let secs = i * 600;
        text.push_str(&format!(
            "{{\"timestamp\": \"{}\", \"total_ms\": {}, \"steps\": {{}}, \"llm_enabled\": {}}}\n",
            ts(secs),
            (secs % 86_400) / 60,
            i % 2 == 0
        ));
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), text).unwrap();
    d
}

fn count(v: &Value) -> u64 {
    at(v, "latency.all.count").as_u64().unwrap()
}

#[test]
fn day_and_by_day_count_what_the_log_holds() {
    let d = three_days();
    let dir = d.path().to_str().unwrap();
    let (v, _) = summarize_json(&[dir, "--day", "2026-02-11"]);
    assert_eq!(count(&v), 144);
    assert_eq!(v["meta"]["window"]["outside"], 288);
    assert_eq!(v["meta"]["window"]["since"], "2026-02-11T00:00:00Z");
    assert_eq!(at(&v, "time_range.first"), "2026-02-11T00:00:00+00:00");
    assert_eq!(at(&v, "time_range.last"), "2026-02-11T23:50:00+00:00");

    let (b, _) = summarize_json(&[dir, "--by", "day"]);
    let buckets = b["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 3);
    for (i, e) in buckets.iter().enumerate() {
        assert_eq!(count(e), 144);
        assert_eq!(e["start"], format!("2026-02-{}T00:00:00Z", 10 + i));
        assert_eq!(e["end"], format!("2026-02-{}T00:00:00Z", 11 + i));
    }
    // The second day's bucket is the --day report's figures.
    assert_eq!(buckets[1]["latency"], v["latency"]);

    // The table and Markdown: one row per bucket (with its p95, from the
    // JSON), the run's skipped lines once.
    for fmt in ["table", "markdown"] {
        let out = bin()
            .args(["summarize", dir, "-q", "--by", "day", "-f", fmt])
            .output()
            .unwrap();
        let t = String::from_utf8(out.stdout).unwrap();
        let rows: Vec<&str> = t.lines().filter(|l| l.contains("2026-02-1")).collect();
        assert_eq!(rows.len(), 3, "{fmt}: {t}");
        for (row, e) in rows.iter().zip(buckets) {
            let p95 = format!(
                "{:.3}",
                e["latency"]["all"]["total_ms"]["p95"].as_f64().unwrap()
            );
            assert!(
                row.contains(&p95) && row.contains("144"),
                "{fmt}: {row} lacks {p95}"
            );
        }
        assert!(rows[1].contains("2026-02-11"), "{fmt}: {t}");
        assert_eq!(t.matches("Skipped").count(), 1, "{fmt}: {t}");
        assert!(
            t.lines().count() < 20,
            "{fmt}: one row per bucket, not a report each:\n{t}"
        );
    }
    // --by hour over a window starting mid-hour: the first bucket is
    // labelled from the window's start, in JSON and in the table.
    let (h, _) = summarize_json(&[
        dir,
        "--by",
        "hour",
        "--since",
        "2026-02-12T05:30:00Z",
        "--until",
        "2026-02-12T08:00:00Z",
    ]);
    assert_eq!(h["buckets"][0]["start"], "2026-02-12T05:30:00Z");
    assert_eq!(h["buckets"][0]["end"], "2026-02-12T06:00:00Z");
    assert_eq!(count(&h["buckets"][0]), 3);
    let out = bin()
        .args([
            "summarize",
            dir,
            "-q",
            "--by",
            "hour",
            "--since",
            "2026-02-12T05:30:00Z",
            "--until",
            "2026-02-12T08:00:00Z",
        ])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("\n2026-02-12 05:30 "), "{t}");

    let (h, _) = summarize_json(&[dir, "--by", "hour", "--day", "2026-02-12"]);
    let hours = h["buckets"].as_array().unwrap();
    assert_eq!(hours.len(), 24);
    assert!(hours.iter().all(|e| count(e) == 6));
    assert_eq!(hours[23]["start"], "2026-02-12T23:00:00Z");
}

#[test]
fn since_until_is_half_open() {
    let d = three_days();
    let dir = d.path().to_str().unwrap();
    // 00:00 is counted, 01:00 is not: 00:00, 00:10, ... 00:50.
    let (v, _) = summarize_json(&[
        dir,
        "--since",
        "2026-02-10T00:00:00Z",
        "--until",
        "2026-02-10T01:00:00Z",
    ]);
    assert_eq!(count(&v), 6);
    assert_eq!(at(&v, "latency.all.total_ms.max"), 50.0);
    // Offsets are honoured: 02:00+02:00 is 00:00Z.
    let (v, _) = summarize_json(&[dir, "--since", "2026-02-12T02:00:00+02:00"]);
    assert_eq!(count(&v), 144);
    let (v, _) = summarize_json(&[dir, "--until", "2026-02-11"]);
    assert_eq!(count(&v), 144);
    // Nothing in the window: zeros, not an error.
    let (v, out) = summarize_json(&[dir, "--day", "2025-01-01"]);
    assert!(out.status.success());
    assert_eq!(count(&v), 0);
    // Bad windows are usage errors that say why.
    for args in [
        vec!["--since", "last week"],
        vec!["--since", "2026-02-12", "--until", "2026-02-11"],
        vec!["--day", "2026-02-11T05:00:00Z"],
    ] {
        let out = bin()
            .arg("summarize")
            .arg(dir)
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn fail_on_both_ways() {
    let d = three_days();
    let dir = d.path().to_str().unwrap();
    // p95 of minute-of-day is about 1368: breached at 1000, not at 2000.
    let out = bin()
        .args([
            "summarize",
            dir,
            "-q",
            "-f",
            "json",
            "--fail-on",
            "latency.all.total_ms.p95>1000",
            "--fail-on",
            "latency.all.count < 10",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("threshold breached: latency.all.total_ms.p95 = "),
        "{err}"
    );
    assert!(err.contains("(latency.all.total_ms.p95 > 1000)"), "{err}");
    assert!(!err.contains("latency.all.count"), "{err}");
    // The report is still written.
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(count(&v), 432);
    bin()
        .args([
            "summarize",
            dir,
            "-q",
            "--fail-on",
            "latency.all.total_ms.p95>=2000",
        ])
        .assert()
        .success();
    // Mistakes are usage errors that say why.
    for (expr, why) in [
        ("latency.all.total_ms.p95 = 3", "no comparison"),
        ("latency.all.total_ms.p95 > fast", "not a number"),
        ("latency.all.total_ms.p42 > 3", "add 42 to it"),
    ] {
        let out = bin()
            .args(["summarize", dir, "-q", "--fail-on", expr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{expr}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(why), "{expr}");
    }
}

#[test]
fn as_of_takes_every_time_form_and_refuses_a_time_before_the_data() {
    // 60 records a minute apart from 2026-02-10T00:00Z.
    let d = risk_dir(&risk_lines(60, 0));
    let dir = d.path().to_str().unwrap();
    // A plain date, as --since takes it: the day after is 23 hours after
    // the last record, so the silence alarm fires (rollback), named to the
    // second, without nanoseconds.
    let (v, code, err) = risk_json(&[dir, "--stage", "1", "--as-of", "2026-02-11"]);
    assert_eq!(code, 1, "{err}");
    let as_of = v["verdict"]["as_of"].as_str().unwrap();
    assert_eq!(as_of, "2026-02-11T00:00:00Z");
    // A time before the newest record: usage error, no verdict.
    let (code, err) = {
        let out = bin()
            .args([
                "risk",
                dir,
                "--stage",
                "1",
                "--as-of",
                "2026-02-10T00:30:00Z",
            ])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("before the newest record read (2026-02-10T00:59:00Z)"),
        "{err}"
    );
    // Relative forms count from --as-of.
    let (v, code, err) = risk_json(&[
        dir,
        "--stage",
        "1",
        "--as-of",
        "2026-02-10T01:00:00Z",
        "--since",
        "30m ago",
    ]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(v["total_records"], 30);
}

/// Three days of records, damage on two of them, and a rotated file of
/// nothing but damage.
fn damaged_days() -> tempfile::TempDir {
    let rec = |secs: u64| {
        format!(
            "{{\"timestamp\": \"{}\", \"total_ms\": 5, \"steps\": {{}}, \"llm_enabled\": false}}\n",
            ts(secs)
        )
    };
    let mut text = String::new();
    // Before any record: dated by the first record after it (day 1).
    text.push_str("not json at all\n");
    for i in 0..3 * 24u64 {
        let secs = i * 3600;
        text.push_str(&rec(secs));
        if i == 5 {
            // Cut off, with a time of its own on day 3.
            text.push_str(&format!(
                "{{\"timestamp\": \"{}\", \"total_ms\": \n",
                ts(2 * 86_400 + 60)
            ));
        }
        if i == 30 {
            // Day 2: a hole and garbage after a day-2 record.
            text.push_str("\0\0\0\0{\"x\": tru\n");
        }
    }
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("pipeline_latency.jsonl"), text).unwrap();
    d
}

#[test]
fn damaged_lines_are_charged_to_their_own_window() {
    let d = damaged_days();
    let dir = d.path().to_str().unwrap();
    let skipped = |v: &Value| v["skipped"]["total"].as_u64().unwrap();
    let (all, _) = summarize_json(&[dir]);
    assert_eq!(skipped(&all), 4);
    let mut sum = 0;
    for (day, want, outside) in [
        ("2026-02-10", 1, 3),
        ("2026-02-11", 2, 2),
        ("2026-02-12", 1, 3),
    ] {
        let (v, out) = summarize_json(&[dir, "--day", day, "--strict"]);
        assert_eq!(skipped(&v), want, "{day}");
        assert_eq!(v["meta"]["window"]["outside_skipped"], outside, "{day}");
        assert_eq!(out.status.code(), Some(1), "{day}");
        sum += skipped(&v);
    }
    assert_eq!(sum, skipped(&all));
    // A day with records and no damage passes --strict.
    let clean = {
        let mut text = std::fs::read_to_string(d.path().join("pipeline_latency.jsonl")).unwrap();
        text.push_str(&format!(
            "{{\"timestamp\": \"{}\", \"total_ms\": 5, \"steps\": {{}}, \"llm_enabled\": false}}\n",
            ts(3 * 86_400)
        ));
        std::fs::write(d.path().join("pipeline_latency.jsonl"), text).unwrap();
        "2026-02-13"
    };
    let (v, out) = summarize_json(&[dir, "--day", clean, "--strict"]);
    assert_eq!((skipped(&v), out.status.code()), (0, Some(0)));
    assert_eq!(count(&v), 1);
    // --by day: each bucket carries its own damage.
    let (b, _) = summarize_json(&[dir, "--by", "day"]);
    let per: Vec<u64> = b["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["skipped"]["total"].as_u64().unwrap())
        .collect();
    assert_eq!(per, [1, 2, 1, 0]);
    assert_eq!(b["skipped"]["total"], 4);
    // The table header counts the window's records and those outside it.
    let t = bin()
        .args(["summarize", dir, "--day", "2026-02-11", "-q"])
        .output()
        .unwrap();
    let t = String::from_utf8(t.stdout).unwrap();
    // The header, wrapped to 80 columns: its first paragraph.
    let head: Vec<&str> = t.split("\n\n").next().unwrap().split_whitespace().collect();
    assert!(
        head.join(" ")
            .contains("24 records in 2026-02-11T00:00:00Z .. 2026-02-12T00:00:00Z (49 outside)"),
        "{t}"
    );
}

#[test]
fn damage_that_cannot_be_dated_is_charged_to_no_window_but_fails_strict() {
    let d = damaged_days();
    let dir = d.path().to_str().unwrap();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl.1"),
        "garbage\n{\"also\": \n",
    )
    .unwrap();
    let (v, out) = summarize_json(&[dir, "--day", "2026-02-11", "--strict"]);
    assert_eq!(v["skipped"]["total"], 2);
    assert_eq!(v["meta"]["window"]["undated_skipped"], 2);
    assert_eq!(out.status.code(), Some(1));
    // Without a window every damaged line counts.
    let (v, _) = summarize_json(&[dir]);
    assert_eq!(v["skipped"]["total"], 6);
}

/// --max-buckets 3 over five hours: the three newest hours are kept with
/// their own figures, the two older ones counted in no bucket, said, and
/// --strict exits 1; one thread and two give the same report.
#[test]
fn the_bucket_cap_keeps_the_newest_and_says_what_it_left_out() {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::new();
    // Hour h (0..5) holds h + 1 records of h * 10 + k ms.
    for h in 0..5u32 {
        for k in 0..=h {
            text.push_str(&format!(
                "{{\"timestamp\":\"2026-02-10T{h:02}:{k:02}:00Z\",\"command_id\":\"c{h}{k}\",\"total_ms\":{},\"steps\":{{}},\"llm_enabled\":false}}\n",
                h * 10 + k
            ));
        }
    }
    // Written newest first, so the cap is met before the old hours come.
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    let dir = d.path().to_str().unwrap();
    let run = |j: &str, extra: &[&str]| {
        bin()
            .args([
                "summarize",
                dir,
                "--by",
                "hour",
                "--max-buckets",
                "3",
                "-f",
                "json",
                "-j",
                j,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run("1", &[]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let starts: Vec<&str> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2026-02-10T02:00:00Z",
            "2026-02-10T03:00:00Z",
            "2026-02-10T04:00:00Z"
        ]
    );
    let counts: Vec<u64> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["latency"]["all"]["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [3, 4, 5]);
    assert_eq!(v["buckets"][0]["latency"]["all"]["total_ms"]["max"], 22.0);
    // Hours 0 and 1: 1 + 2 records.
    assert_eq!(v["meta"]["buckets_capped"]["records_in_no_bucket"], 3);
    assert_eq!(v["meta"]["buckets_capped"]["max_buckets"], 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3 record(s) fell in buckets older than the newest 3 kept"),
        "{err}"
    );
    assert_eq!(run("2", &[]).stdout, out.stdout);
    assert_eq!(run("1", &["--strict", "-q"]).status.code(), Some(1));
    // Under the cap: nothing said, no key.
    let out = bin()
        .args(["summarize", dir, "--by", "hour", "-f", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["meta"].get("buckets_capped").is_none());
    assert_eq!(v["buckets"].as_array().unwrap().len(), 5);
}

/// The last day the logs' times reach: buckets print as times (they were
/// microsecond integers past 9999-12-30T22:00Z, where jiff's instants
/// stop); AGGMETRICS_NOW takes RFC 3339's offsets only (+25:00 passed) and
/// says why it refuses a "now" past jiff's range.
#[test]
fn the_last_days_of_9999_and_rfc_3339_offsets() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        "{\"timestamp\":\"9999-12-30T23:30:00Z\",\"command_id\":\"a\",\"total_ms\":5,\"steps\":{},\"llm_enabled\":false}\n\
         {\"timestamp\":\"9999-12-31T23:30:00.5Z\",\"command_id\":\"b\",\"total_ms\":5,\"steps\":{},\"llm_enabled\":false}\n",
    )
    .unwrap();
    let dir = d.path().to_str().unwrap();
    let (v, _) = summarize_json(&[dir, "--by", "hour", "-q"]);
    let starts: Vec<&str> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert_eq!(starts, ["9999-12-30T23:00:00Z", "9999-12-31T23:00:00Z"]);
    let code = |now: &str| {
        bin()
            .args(["summarize", dir, "-q", "-f", "json"])
            .env("AGGMETRICS_NOW", now)
            .output()
            .unwrap()
    };
    assert_eq!(code("2026-02-10T00:00:00+05:30").status.code(), Some(0));
    let out = code("2026-02-10T00:00:00+25:00");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an RFC 3339 time"));
    let out = code("9999-12-31T23:59:59Z");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("later than the latest"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
