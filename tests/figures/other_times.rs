//! Times as other software writes them, read by `stats --time` and a
//! kinds file's `time`: Caddy's epoch seconds, Suricata's `+0000`
//! offsets, epoch milliseconds (pino), microseconds and nanoseconds,
//! ISO 8601 without a zone, PostgreSQL's `... UTC`, RFC 1123 and the
//! common log format. A time field that reads as no time is said, even
//! with -q, and fails --strict. Expected instants are from Python's
//! datetime, not from aggmetrics.

use crate::common;

use common::*;
use serde_json::Value;

fn write(dir: &std::path::Path, name: &str, lines: &[String]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p.display().to_string()
}

/// Each bucket's start and records.
fn buckets(v: &Value) -> Vec<(String, u64)> {
    v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap().to_string(),
                b["records"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn caddy_epoch_seconds_date_every_record() {
    // Caddy's access log: `"ts":1716723772.6014807`. 11:42:52, 11:43:50,
    // 11:44:00 and 14:16:03 UTC on 2024-05-26.
    let log = fixture("realworld/caddy_access.log");
    let log = log.to_str().unwrap();
    let (v, out) = run_json(
        "stats",
        &[
            log, "--time", "ts", "--value", "duration", "--by", "hour", "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        buckets(&v),
        [
            ("2024-05-26T11:00:00Z".to_string(), 3),
            ("2024-05-26T14:00:00Z".to_string(), 1)
        ]
    );
    // The range is written as RFC 3339, exact to the log's digits.
    assert_eq!(v["time_range"]["first"], "2024-05-26T11:42:52.6014807Z");
    assert_eq!(v["time_range"]["last"], "2024-05-26T14:16:03.4146512Z");
    // A day window holds them all; the next day none, each said.
    let (v, out) = run_json(
        "stats",
        &[
            log,
            "--time",
            "ts",
            "--value",
            "duration",
            "--day",
            "2024-05-26",
        ],
    );
    assert!(out.status.success());
    assert_eq!(v["records"], 4);
    let (v, _) = run_json(
        "stats",
        &[
            log,
            "--time",
            "ts",
            "--value",
            "duration",
            "--day",
            "2024-05-27",
        ],
    );
    assert_eq!(v["records"], 0);
    assert_eq!(v["meta"]["window"]["outside"], 4);
}

#[test]
fn suricata_offsets_without_a_colon_are_times() {
    // Suricata EVE: `"timestamp":"2023-02-28T11:34:02.133169+0000"`; all
    // 40 lines of the excerpt fall in 11:00-12:00 UTC.
    let log = fixture("realworld/suricata_eve.json");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--count",
            "event_type",
            "--by",
            "hour",
            "--strict",
            "-q",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(buckets(&v), [("2023-02-28T11:00:00Z".to_string(), 40)]);
    // Written as RFC 3339 (the offset without a colon is not).
    assert_eq!(v["time_range"]["first"], "2023-02-28T11:34:02.133169Z");
    assert!(v["meta"].get("unreadable_times").is_none());
}

#[test]
fn epoch_numbers_in_every_unit_are_one_instant() {
    // 2024-03-14T10:30:00.123Z as seconds, milliseconds (pino),
    // microseconds and nanoseconds, as numbers and as a string.
    let d = disk_dir();
    let lines: Vec<String> = [
        "1710412200.123",
        "1710412200123",
        "1710412200123000",
        "1710412200123000000",
        "\"1710412200.123\"",
    ]
    .iter()
    .map(|t| format!(r#"{{"time":{t},"v":1}}"#))
    .collect();
    let log = write(d.path(), "epochs.log", &lines);
    let (v, out) = run_json(
        "stats",
        &[
            &log, "--time", "time", "--value", "v", "--by", "hour", "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(buckets(&v), [("2024-03-14T10:00:00Z".to_string(), 5)]);
    assert_eq!(v["time_range"]["first"], "2024-03-14T10:30:00.123Z");
    assert_eq!(v["time_range"]["last"], "2024-03-14T10:30:00.123Z");
    // A number is what --time-unit says: 86,400,000 ms is one day, where
    // by its magnitude it would be seconds (1972-09-27).
    let log = write(
        d.path(),
        "ms.log",
        &[r#"{"time":86400000,"v":1}"#.to_string()],
    );
    let (v, _) = run_json(
        "stats",
        &[&log, "--time", "time", "--value", "v", "--time-unit", "ms"],
    );
    assert_eq!(v["time_range"]["first"], "1970-01-02T00:00:00Z");
    let (v, _) = run_json("stats", &[&log, "--time", "time", "--value", "v"]);
    assert_eq!(v["time_range"]["first"], "1972-09-27T00:00:00Z");
}

#[test]
fn iso_without_a_zone_postgres_rfc_1123_and_common_log_format() {
    let d = disk_dir();
    let lines: Vec<String> = [
        // ISO 8601 without a zone: UTC.
        "2024-03-14T10:30:00.123",
        // PostgreSQL's jsonlog.
        "2024-03-14 10:31:00.123 UTC",
        // RFC 1123 (HTTP dates).
        "Thu, 14 Mar 2024 10:32:00 GMT",
        // Common log format: 12:33 at -0200 is 14:33 UTC.
        "14/Mar/2024:08:33:00 -0200",
    ]
    .iter()
    .map(|t| format!(r#"{{"t":"{t}","v":1}}"#))
    .collect();
    let log = write(d.path(), "mixed.log", &lines);
    let (v, out) = run_json(
        "stats",
        &[
            &log, "--time", "t", "--value", "v", "--by", "hour", "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(buckets(&v), [("2024-03-14T10:00:00Z".to_string(), 4)]);
    assert_eq!(v["time_range"]["first"], "2024-03-14T10:30:00.123Z");
    assert_eq!(v["time_range"]["last"], "2024-03-14T10:33:00Z");
}

#[test]
fn a_time_field_that_is_no_time_is_said_and_fails_strict() {
    let d = disk_dir();
    let lines: Vec<String> = [
        r#"{"ts":"2024-03-14T10:30:00Z","v":1}"#,
        r#"{"ts":"last tuesday","v":2}"#,
        r#"{"ts":true,"v":3}"#,
        r#"{"ts":{"s":1},"v":4}"#,
        // null and a missing field are no time, not a bad one.
        r#"{"ts":null,"v":5}"#,
        r#"{"v":6}"#,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let log = write(d.path(), "bad.log", &lines);
    // Without a window every record counts; three are reported.
    let (v, out) = run_json("stats", &[&log, "--time", "ts", "--value", "v", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["records"], 6);
    assert_eq!(v["meta"]["unreadable_times"], 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("3 record(s) have a time field that reads as no time"),
        "{err}"
    );
    // --strict fails; with a window they are outside it, and said.
    let (_, out) = run_json("stats", &[&log, "--time", "ts", "--value", "v", "--strict"]);
    assert_eq!(out.status.code(), Some(1));
    let (v, out) = run_json(
        "stats",
        &[&log, "--time", "ts", "--value", "v", "--day", "2024-03-14"],
    );
    assert_eq!(v["records"], 1);
    assert_eq!(v["meta"]["window"]["outside"], 5);
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the window"));
    // By hour without a window: every record in the run (as without
    // buckets), the dated one alone in its hour. (They were dropped from
    // the run, said nowhere.)
    let (v, out) = run_json(
        "stats",
        &[&log, "--time", "ts", "--value", "v", "--by", "hour", "-q"],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["records"], 6);
    assert_eq!(buckets(&v), vec![("2024-03-14T10:00:00Z".to_string(), 1)]);
}

#[test]
fn a_kinds_file_reads_epoch_milliseconds() {
    // pino writes `"time":1710412200123` (milliseconds).
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let lines: Vec<String> = (0..3)
        .map(|i| {
            format!(
                r#"{{"level":30,"time":{},"responseTime":{}}}"#,
                1710412200123u64 + i * 3_600_000,
                10 + i
            )
        })
        .collect();
    write(&logs, "app.jsonl", &lines);
    let kinds = d.path().join("kinds.toml");
    std::fs::write(
        &kinds,
        "[[kind]]\nname = \"app\"\nfiles = \"app*.jsonl\"\ntime = \"time\"\ntime_unit = \"ms\"\nvalues = [\"responseTime\"]\n",
    )
    .unwrap();
    let (v, out) = summarize_json(&[
        logs.to_str().unwrap(),
        "--kinds",
        kinds.to_str().unwrap(),
        "--by",
        "hour",
        "--strict",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let starts: Vec<&str> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        [
            "2024-03-14T10:00:00Z",
            "2024-03-14T11:00:00Z",
            "2024-03-14T12:00:00Z"
        ]
    );
}

/// `--tz`: days follow a time zone's midnights, 23 hours on Berlin's
/// spring-forward day (2026-03-29) and 25 on its fall-back day
/// (2026-10-25). Caddy access records (the fixture's first line, its epoch
/// `ts` set every 30 minutes across both days): the records a day holds
/// are its hours times two.
#[test]
fn caddy_days_follow_a_time_zone_across_daylight_saving() {
    let text = std::fs::read_to_string(fixture("realworld/caddy_access.log")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let d = tempfile::tempdir().unwrap();
    let mut lines = String::new();
    // From 2026-03-28T00:00Z and from 2026-10-24T00:00Z, 3 days each.
    for start in [1_774_656_000i64, 1_792_800_000] {
        for i in 0..(3 * 48) {
            let mut r = first.clone();
            r["ts"] = (start + i * 1800).into();
            lines.push_str(&r.to_string());
            lines.push('\n');
        }
    }
    let log = d.path().join("access.log");
    std::fs::write(&log, lines).unwrap();
    let log = log.to_str().unwrap();
    let day = |date: &str, tz: Option<&str>| {
        let mut a = vec![log, "--time", "ts", "--day", date];
        if let Some(tz) = tz {
            a.extend(["--tz", tz]);
        }
        let (v, out) = run_json("stats", &a);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        v["records"].as_u64().unwrap()
    };
    assert_eq!(day("2026-03-29", Some("Europe/Berlin")), 46);
    assert_eq!(day("2026-10-25", Some("Europe/Berlin")), 50);
    assert_eq!(day("2026-03-29", None), 48);
    assert_eq!(day("2026-03-29", Some("UTC")), 48);
    // --by day: each bucket from local midnight to local midnight.
    let (v, out) = run_json(
        "stats",
        &[log, "--time", "ts", "--by", "day", "--tz", "Europe/Berlin"],
    );
    assert!(out.status.success());
    let days: Vec<(String, String, u64)> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap().to_string(),
                b["end"].as_str().unwrap().to_string(),
                b["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        days.contains(&(
            "2026-03-28T23:00:00Z".into(),
            "2026-03-29T22:00:00Z".into(),
            46
        )),
        "{days:?}"
    );
    assert!(
        days.contains(&(
            "2026-10-24T22:00:00Z".into(),
            "2026-10-25T23:00:00Z".into(),
            50
        )),
        "{days:?}"
    );
    // `yesterday` is the zone's yesterday.
    let out = bin()
        .args([
            "stats",
            log,
            "--time",
            "ts",
            "--day",
            "yesterday",
            "--tz",
            "Europe/Berlin",
            "-f",
            "json",
        ])
        .env("AGGMETRICS_NOW", "2026-10-25T23:30:00Z")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["records"], 50,
        "Berlin's 2026-10-26 00:30: yesterday is the 25-hour day"
    );
    // A zone that is not one is a usage error.
    let out = bin()
        .args([
            "stats",
            log,
            "--time",
            "ts",
            "--day",
            "today",
            "--tz",
            "Mars/Olympus",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a time zone"));
}
