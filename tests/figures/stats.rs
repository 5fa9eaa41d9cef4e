//! `aggmetrics stats` on any JSONL log: nested paths, `*` segments,
//! grouping by strings, numbers, booleans and missing fields, counts;
//! `--exact` equal to a plain in-test reference, HDR within precision;
//! damaged lines with file:line, bad values counted per value; state merge
//! equal to one pass; windows and buckets; every format; threads.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::{json, Value};

/// A deterministic access log: routes, statuses, an `ok` flag that is
/// sometimes missing, nested timings, a secret in free text, and a few
/// bad values (a string, a negative, null, NaN).
fn access_log(n: usize, seed: u64) -> Vec<String> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut out = Vec::new();
    for i in 0..n {
        let route = ["/api/chat", "/api/search", "/health"][(next() % 3) as usize];
        let status = [200, 200, 200, 404, 500][(next() % 5) as usize];
        let total = (next() % 400_000) as f64 / 1000.0 + 1.0;
        let db = (next() % 50_000) as f64 / 1000.0;
        let model = ["m1", "m2"][(next() % 2) as usize];
        let mut r = json!({
            "ts": format!("2026-02-10T{:02}:{:02}:{:02}Z", 10 + i / 3600, (i / 60) % 60, i % 60),
            "route": route,
            "status": status,
            "timing": {"total_ms": total, "db_ms": db},
            "model": model,
            "user_text": format!("SECRET-{i} купи молоко"),
        });
        if i % 3 != 0 {
            r["ok"] = json!(status == 200);
        }
        match i % 101 {
            7 => r["timing"]["total_ms"] = json!("slow"),
            8 => r["timing"]["total_ms"] = json!(-4),
            9 => r["timing"]["total_ms"] = Value::Null,
            10 => {
                r["timing"].as_object_mut().unwrap().remove("total_ms");
            }
            _ => {}
        }
        let mut line = serde_json::to_string(&r).unwrap();
        if i % 101 == 11 {
            line = line.replace("\"db_ms\":", "\"db_ms\":NaN,\"x\":");
        }
        out.push(line);
    }
    out
}

fn write(dir: &Path, name: &str, lines: &[String]) {
    std::fs::write(dir.join(name), lines.join("\n") + "\n").unwrap();
}

fn stats(args: &[&str]) -> (Value, std::process::Output) {
    run_json("stats", args)
}

/// NumPy's default percentile.
fn linear(sorted: &[f64], p: f64) -> f64 {
    let k = (sorted.len() - 1) as f64 * p / 100.0;
    let f = k.floor() as usize;
    let c = (f + 1).min(sorted.len() - 1);
    sorted[f] + (k - f as f64) * (sorted[c] - sorted[f])
}

fn round3(x: f64) -> f64 {
    format!("{x:.3}").parse().unwrap()
}

/// Per group: the usable values, records, missing, invalid.
type Expected = BTreeMap<(String, i64), (Vec<f64>, u64, u64, u64)>;

/// The reference: values of `timing.total_ms` per (route, status),
/// counted the documented way.
fn reference(lines: &[String]) -> Expected {
    let mut out = Expected::new();
    for l in lines {
        let Ok(r) = serde_json::from_str::<Value>(&l.replace("NaN", "null")) else {
            continue;
        };
        let key = (
            r["route"].as_str().unwrap().to_string(),
            r["status"].as_i64().unwrap(),
        );
        let e = out.entry(key).or_default();
        e.1 += 1;
        match r["timing"].get("total_ms") {
            None | Some(Value::Null) => e.2 += 1,
            Some(Value::Number(n)) if n.as_f64().unwrap() >= 0.0 => e.0.push(n.as_f64().unwrap()),
            Some(_) => e.3 += 1,
        }
    }
    out
}

#[test]
fn exact_equals_a_plain_reference_and_hdr_stays_within_precision() {
    let d = tempfile::tempdir().unwrap();
    let lines = access_log(3000, 1);
    write(d.path(), "access.jsonl", &lines);
    let dir = d.path().to_str().unwrap();
    let args = [
        dir,
        "--value",
        "timing.total_ms",
        "--by",
        "route",
        "--by",
        "status",
        "--time",
        "ts",
        "--percentiles",
        "0,50,95,99,99.9,100",
    ];
    let (e, out) = stats(&[&args[..], &["--exact"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (h, _) = stats(&args);
    let want = reference(&lines);
    let groups = e["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.len());
    for (g, hg) in groups.iter().zip(h["groups"].as_array().unwrap()) {
        let key = (
            g["key"]["route"].as_str().unwrap().to_string(),
            g["key"]["status"].as_i64().unwrap(),
        );
        let (mut vals, records, missing, invalid) = want[&key].clone();
        vals.sort_by(f64::total_cmp);
        let v = &g["values"]["timing.total_ms"];
        assert_eq!(g["records"], records, "{key:?}");
        assert_eq!(v["count"], vals.len() as u64);
        assert_eq!(v["missing"], missing, "{key:?}");
        assert_eq!(v["invalid"], invalid, "{key:?}");
        for p in [0.0, 50.0, 95.0, 99.0, 99.9, 100.0] {
            let k = format!("p{p}");
            let exact = round3(linear(&vals, p));
            assert_eq!(v[&k].as_f64().unwrap(), exact, "{key:?} {k}");
            // HDR: the same quantity, at most 10^-3 above.
            let hdr = hg["values"]["timing.total_ms"][&k].as_f64().unwrap();
            assert!(
                hdr >= exact - 0.0005 && hdr <= exact * 1.001 + 0.001,
                "{key:?} {k}: hdr {hdr} exact {exact}"
            );
        }
        assert_eq!(v["max"].as_f64().unwrap(), *vals.last().unwrap());
    }
    // The total adds the groups up.
    assert_eq!(e["total"]["records"], 3000);
    assert_eq!(e["records"], 3000);
}

#[test]
fn stars_booleans_missing_keys_and_counts() {
    let d = tempfile::tempdir().unwrap();
    let lines = access_log(600, 2);
    write(d.path(), "a.jsonl", &lines);
    let (v, out) = stats(&[
        d.path().to_str().unwrap(),
        "--value",
        "timing.*",
        "--by",
        "ok",
        "--count",
        "model",
        "--count",
        "status",
        "--time",
        "ts",
    ]);
    assert!(out.status.success());
    let keys: Vec<Value> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"]["ok"].clone())
        .collect();
    // Grouped by a boolean, and by its absence (null).
    assert!(keys.contains(&json!(true)) && keys.contains(&json!(false)));
    assert!(keys.contains(&Value::Null));
    let absent = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"]["ok"].is_null())
        .unwrap();
    assert_eq!(absent["records"], 200, "every third record has no ok");
    // `*` makes each key its own value.
    let t = &v["total"]["values"];
    assert!(t.get("timing.total_ms").is_some() && t.get("timing.db_ms").is_some());
    assert!(
        t["timing.db_ms"]["invalid"].as_u64().unwrap() >= 5,
        "NaN is invalid"
    );
    // Counts of a string and of a number field.
    let c = &v["total"]["counts"];
    assert_eq!(
        c["model"]["m1"].as_u64().unwrap() + c["model"]["m2"].as_u64().unwrap(),
        600
    );
    assert_eq!(
        c["status"].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["200", "404", "500"]
    );
}

#[test]
fn damaged_lines_are_counted_with_their_place_and_bad_values_are_not() {
    let d = tempfile::tempdir().unwrap();
    let mut lines = access_log(300, 3);
    lines.insert(100, "{\"ts\": \"2026-02-10T10:01:40Z\", \"route\": ".into());
    lines.insert(200, "[1, 2, 3]".into());
    write(d.path(), "a.jsonl", &lines);
    let (v, out) = stats(&[
        d.path().to_str().unwrap(),
        "--value",
        "timing.total_ms",
        "--time",
        "ts",
    ]);
    assert!(out.status.success());
    assert_eq!(v["skipped"]["total"], 2);
    let locs = v["skipped"]["locations"].as_array().unwrap();
    assert_eq!(locs[0]["line"], 101);
    assert_eq!(locs[0]["reason"], "truncated");
    assert_eq!(locs[1]["line"], 201);
    assert_eq!(locs[1]["reason"], "not_object");
    // The bad values of the log are per-value counts, never damage.
    let tv = &v["total"]["values"]["timing.total_ms"];
    assert_eq!(v["records"], 300);
    assert_eq!(
        tv["count"].as_u64().unwrap()
            + tv["missing"].as_u64().unwrap()
            + tv["invalid"].as_u64().unwrap(),
        300
    );
    assert!(tv["missing"].as_u64().unwrap() >= 4 && tv["invalid"].as_u64().unwrap() >= 4);
    // --strict fails on the damaged lines.
    let out = bin()
        .args([
            "stats",
            d.path().to_str().unwrap(),
            "--value",
            "timing.total_ms",
            "-q",
            "--strict",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn states_of_two_halves_merge_to_one_pass_and_other_fields_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let lines = access_log(1000, 4);
    let (a, b, all) = (d.path().join("a"), d.path().join("b"), d.path().join("all"));
    for (p, part) in [(&a, &lines[..400]), (&b, &lines[400..]), (&all, &lines[..])] {
        std::fs::create_dir(p).unwrap();
        write(p, "access.jsonl", part);
    }
    let spec = [
        "--value",
        "timing.total_ms",
        "--by",
        "route",
        "--count",
        "model",
        "--time",
        "ts",
    ];
    for (p, s) in [(&a, "a.state"), (&b, "b.state")] {
        bin()
            .arg("stats")
            .arg(p)
            .args(spec)
            .args(["-q", "-o", "/dev/null", "--state-out"])
            .arg(d.path().join(s))
            .assert()
            .success();
    }
    let merged = merge_ok(&[d.path().join("a.state"), d.path().join("b.state")]);
    let (once, _) = stats(&[&[all.to_str().unwrap()][..], &spec].concat());
    for k in ["groups", "total", "records", "spec"] {
        assert_eq!(merged["jsonl"][k], once[k], "{k}");
    }
    // A state of other fields does not add up with these.
    bin()
        .arg("stats")
        .arg(&b)
        .args([
            "--value",
            "timing.db_ms",
            "--time",
            "ts",
            "-q",
            "-o",
            "/dev/null",
            "--state-out",
        ])
        .arg(d.path().join("c.state"))
        .assert()
        .success();
    let out = bin()
        .arg("merge")
        .arg(d.path().join("a.state"))
        .arg(d.path().join("c.state"))
        .args(["-q"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different fields"));
}

#[test]
fn windows_buckets_and_records_without_a_time() {
    let d = tempfile::tempdir().unwrap();
    let mut lines = access_log(7200, 5); // 10:00 to 12:00
    lines.push(r#"{"route": "/x", "timing": {"total_ms": 1}}"#.into());
    write(d.path(), "a.jsonl", &lines);
    let dir = d.path().to_str().unwrap();
    let base = [dir, "--value", "timing.total_ms", "--time", "ts", "-q"];
    // Without a window the undated record counts.
    let (v, _) = stats(&base);
    assert_eq!(v["records"], 7201);
    // In a window it is outside, with the records of the other hour.
    let (v, _) = stats(&[&base[..], &["--since", "2026-02-10T11:00:00Z"]].concat());
    assert_eq!(v["records"], 3600);
    assert_eq!(v["meta"]["window"]["outside"], 3601);
    // Hourly buckets add up to the run.
    let (v, _) = stats(&[&base[..], &["--by", "hour"]].concat());
    let buckets = v["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 2);
    assert_eq!(buckets[0]["start"], "2026-02-10T10:00:00Z");
    let sum: u64 = buckets.iter().map(|b| b["records"].as_u64().unwrap()).sum();
    assert_eq!(sum, 7200);
    // A field named hour is a field with a leading dot.
    let (v, out) = stats(&[dir, "--by", ".route", "--value", "timing.total_ms", "-q"]);
    assert!(out.status.success());
    assert!(v["groups"][0]["key"].get("route").is_some());
}

#[test]
fn every_format_shows_the_chosen_fields_and_nothing_else() {
    let d = tempfile::tempdir().unwrap();
    write(d.path(), "a.jsonl", &access_log(500, 6));
    let dir = d.path().to_str().unwrap();
    for f in ["table", "json", "csv", "markdown", "prometheus"] {
        let out = bin()
            .args([
                "stats",
                dir,
                "--value",
                "timing.total_ms",
                "--by",
                "route",
                "--count",
                "model",
            ])
            .args(["--time", "ts", "-f", f])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("/api/chat") && text.contains("m1"),
            "{f}: {text}"
        );
        assert!(text.contains("timing.total_ms"), "{f}");
        for never in ["SECRET", "молоко", "user_text"] {
            assert!(!text.contains(never), "{f} printed {never}");
        }
    }
    // A Prometheus textfile is one whole run.
    let out = bin()
        .args([
            "stats",
            dir,
            "--value",
            "timing.total_ms",
            "--by",
            "hour",
            "-f",
            "prometheus",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// A field with a value per record (an id) as --by: at most 1,000 groups,
/// each with its own records, the rest counted as dropped, in bounded
/// memory and time.
#[test]
fn a_group_per_record_is_capped_and_adds_up() {
    let d = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (0..5000)
        .map(|i| format!(r#"{{"id": "req-{i}", "ms": {}}}"#, i % 97))
        .collect();
    write(d.path(), "a.jsonl", &lines);
    let (v, out) = stats(&[
        d.path().to_str().unwrap(),
        "--value",
        "ms",
        "--by",
        "id",
        "-q",
    ]);
    assert!(out.status.success());
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1000);
    assert!(groups.iter().all(|g| g["records"] == 1));
    assert_eq!(v["groups_dropped"], 4000);
    assert_eq!(v["total"]["records"], 5000);
    assert_eq!(v["total"]["values"]["ms"]["count"], 5000);
    assert_eq!(v["meta"]["keys_dropped"], 4000);
}

/// Two states under the group limit each, over it together: the merge
/// drops groups, and its total still counts every record.
#[test]
fn a_merge_past_the_group_limit_keeps_the_total() {
    let d = tempfile::tempdir().unwrap();
    for (name, from) in [("a", 0), ("b", 750)] {
        let dir = d.path().join(name);
        std::fs::create_dir(&dir).unwrap();
        let lines: Vec<String> = (from..from + 750)
            .map(|i| format!(r#"{{"id": "u{i}", "ms": {}}}"#, i % 50))
            .collect();
        write(&dir, "a.jsonl", &lines);
        bin()
            .arg("stats")
            .arg(&dir)
            .args([
                "--value",
                "ms",
                "--by",
                "id",
                "-q",
                "-o",
                "/dev/null",
                "--state-out",
            ])
            .arg(d.path().join(format!("{name}.state")))
            .assert()
            .success();
    }
    let m = merge_ok(&[d.path().join("a.state"), d.path().join("b.state")]);
    let j = &m["jsonl"];
    assert_eq!(j["groups"].as_array().unwrap().len(), 1000);
    assert_eq!(j["groups_dropped"], 500);
    assert_eq!(j["total"]["records"], 1500);
    assert_eq!(j["total"]["values"]["ms"]["count"], 1500);
}

#[test]
fn threads_fail_on_and_usage_errors() {
    let d = tempfile::tempdir().unwrap();
    // Over 4 MiB: two threads read it as separate ranges.
    let lines = access_log(30_000, 7);
    assert!(lines.iter().map(|l| l.len() + 1).sum::<usize>() > 4 << 20);
    write(d.path(), "a.jsonl", &lines);
    let dir = d.path().to_str().unwrap();
    let run = |j: &str| {
        bin()
            .args([
                "stats", dir, "--value", "timing.*", "--by", "status", "-f", "json", "-q", "-j", j,
            ])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run("1"), run("2"));
    // --fail-on on the report's keys (value paths hold dots).
    let (code, err) = {
        let out = bin()
            .args(["stats", dir, "--value", "timing.total_ms", "-q"])
            .args(["--fail-on", "total.values.timing.total_ms.p95>100"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("total.values.timing.total_ms.p95"), "{err}");
    for bad in [
        vec!["stats", dir],
        vec!["stats", dir, "--value", "a..b"],
        vec!["stats", dir, "--by", "a.*"],
        vec!["stats", dir, "--value", "x", "--by", "hour", "--by", "day"],
    ] {
        let out = bin().args(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
    }
}

/// `1e400` in a value field is an invalid value of that field, as a string
/// there is; the line's other values and its group still count (it made
/// the whole line `out_of_range`).
#[test]
fn a_number_beyond_f64_in_a_value_is_invalid_not_damage() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("app.jsonl");
    std::fs::write(
        &f,
        "{\"route\":\"a\",\"ms\":1e400,\"other\":3}\n{\"route\":\"a\",\"ms\":5}\n{\"route\":\"b\",\"ms\":\"7\"}\n",
    )
    .unwrap();
    let (v, out) = run_json(
        "stats",
        &[
            f.to_str().unwrap(),
            "--by",
            "route",
            "--value",
            "ms",
            "--value",
            "other",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(v["records"], 3);
    assert_eq!(v["skipped"]["total"], 0);
    let a = &v["groups"][0];
    assert_eq!(a["key"]["route"], "a");
    assert_eq!(a["records"], 2);
    assert_eq!(a["values"]["ms"]["count"], 1);
    assert_eq!(a["values"]["ms"]["invalid"], 1);
    assert_eq!(a["values"]["other"]["count"], 1);
    // A string there: the same.
    assert_eq!(v["groups"][1]["values"]["ms"]["invalid"], 1);
}

/// A log that is not JSONL (Caddy's, as `docker compose logs` prefixes
/// it) gets a warning that says what is wrong, not a flag `stats` does not
/// take (`--kind`).
#[test]
fn a_log_that_is_not_jsonl_is_named_without_pointing_at_kind() {
    let log = fixture("realworld/caddy_compose.log");
    let out = bin()
        .args(["stats", log.to_str().unwrap(), "--value", "duration"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("none of its 5 lines is a JSON object"),
        "{err}"
    );
    assert!(!err.contains("--kind"), "{err}");
}

/// A group whose records hold no usable value has no percentiles: null
/// in JSON, empty in CSV, `-` in Markdown (as the table and Prometheus
/// already showed), never 0.000.
#[test]
fn a_group_without_values_has_no_figures_in_any_format() {
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("a.jsonl");
    std::fs::write(
        &log,
        "{\"g\":\"a\",\"v\":1}\n{\"g\":\"b\"}\n{\"g\":\"b\",\"v\":\"x\"}\n",
    )
    .unwrap();
    let log = log.to_str().unwrap();
    let (v, _) = run_json("stats", &[log, "--value", "v", "--by", "g"]);
    let b = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"]["g"] == "b")
        .unwrap();
    for k in ["p50", "p95", "p99", "min", "max", "mean"] {
        assert!(b["values"]["v"][k].is_null(), "{k}: {}", b["values"]["v"]);
    }
    assert_eq!(b["values"]["v"]["count"], 0);
    assert_eq!(b["values"]["v"]["invalid"], 1);
    let run = |f: &str| {
        let out = bin()
            .args(["stats", log, "--value", "v", "--by", "g", "-q", "-f", f])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let csv = run("csv");
    let row = csv
        .lines()
        .find(|l| l.starts_with("groups.0.values.v.p50,"))
        .unwrap();
    assert_eq!(row, "groups.0.values.v.p50,");
    let md = run("markdown");
    assert!(
        md.lines()
            .any(|l| l == "| g=b | 0 | - | - | - | - | - | 1 |"),
        "{md}"
    );
}

/// A folder `stats` reads: its `*.jsonl` files; other files that look
/// like logs (Suricata's `eve.json`, Caddy's `access.log`) are named as
/// not read, and no message points at `--kind`, which `stats` does not
/// take.
#[test]
fn a_folder_says_which_files_stats_did_not_read() {
    let d = disk_dir();
    std::fs::copy(
        fixture("realworld/suricata_eve.json"),
        d.path().join("eve.json"),
    )
    .unwrap();
    std::fs::copy(
        fixture("realworld/caddy_access.log"),
        d.path().join("access.log"),
    )
    .unwrap();
    let dir = d.path().to_str().unwrap();
    let err = |args: &[&str]| {
        let out = bin().arg("stats").arg(dir).args(args).output().unwrap();
        String::from_utf8(out.stderr).unwrap()
    };
    // No *.jsonl at all.
    let e = err(&["--count", "event_type"]);
    assert!(e.contains("recognised names: *.jsonl"), "{e}");
    assert!(e.contains("eve.json") && e.contains("access.log"), "{e}");
    assert!(!e.contains("--kind"), "{e}");
    // A *.jsonl beside them: it is read, and the others are named.
    std::fs::copy(
        fixture("realworld/zeek_ssh.json"),
        d.path().join("ssh.jsonl"),
    )
    .unwrap();
    let e = err(&["--count", "auth_success"]);
    assert!(
        e.contains("not read, as their names are not *.jsonl"),
        "{e}"
    );
    assert!(e.contains("eve.json") && e.contains("access.log"), "{e}");
    assert!(!e.contains("--kind"), "{e}");
}

/// `--by hour` alone counts the records of each hour (no dummy
/// `--count`): Suricata's EVE log (253 records in one hour) beside the
/// same records stamped two hours later.
#[test]
fn suricata_by_hour_alone_counts_records_per_hour() {
    let text = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let later: String = text
        .lines()
        .map(|l| l.replacen("2023-02-28T11:", "2023-02-28T13:", 1) + "\n")
        .collect();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("a.jsonl"), &text).unwrap();
    std::fs::write(d.path().join("b.jsonl"), later).unwrap();
    let (v, out) = run_json("stats", &[d.path().to_str().unwrap(), "--by", "hour"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hours: Vec<(String, u64)> = v["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap().to_string(),
                b["records"].as_u64().unwrap(),
            )
        })
        .filter(|b| b.1 > 0)
        .collect();
    assert_eq!(
        hours,
        [
            ("2023-02-28T11:00:00Z".to_string(), 253),
            ("2023-02-28T13:00:00Z".to_string(), 253)
        ]
    );
    assert_eq!(v["records"], 506);
}

/// A value's unit: Caddy writes `duration` in seconds; `duration:s`
/// keeps it in milliseconds (so three decimals are microseconds, not
/// milliseconds) and says so; `size:bytes` says bytes. A string holding a
/// number, with or without a unit, is read when the unit asks for it:
/// the same records with `duration` as `"17.557019ms"`-style strings and
/// as quoted seconds give the same figures. Expected values are the log's
/// own, times 1000 (serde_json).
#[test]
fn caddy_durations_in_seconds_are_kept_in_milliseconds() {
    let text = std::fs::read_to_string(fixture("realworld/caddy_access.log")).unwrap();
    let recs: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ms: Vec<f64> = recs
        .iter()
        .map(|r| r["duration"].as_f64().unwrap() * 1000.0)
        .collect();
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, f: &dyn Fn(f64) -> Value| {
        let body: String = recs
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r["duration"] = f(r["duration"].as_f64().unwrap());
                r.to_string() + "\n"
            })
            .collect();
        let p = d.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let as_is = fixture("realworld/caddy_access.log");
    let ms_text = write("ms.log", &|s| Value::from(format!("{}ms", s * 1000.0)));
    let quoted = write("quoted.log", &|s| Value::from(format!("{s}")));
    for (log, value) in [
        (&as_is, "duration:s"),
        (&ms_text, "duration:s"),
        (&quoted, "duration:s"),
    ] {
        let (v, out) = run_json(
            "stats",
            &[
                log.to_str().unwrap(),
                "--time",
                "ts",
                "--value",
                value,
                "--value",
                "size:bytes",
                "--exact",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let f = &v["total"]["values"]["duration"];
        assert_eq!(f["unit"], "ms", "{log:?}");
        assert_eq!(f["count"], ms.len() as u64, "{log:?}: {f}");
        let max = ms.iter().cloned().fold(0.0, f64::max);
        let min = ms.iter().cloned().fold(f64::MAX, f64::min);
        assert!(
            (f["max"].as_f64().unwrap() - max).abs() <= 5e-4,
            "{log:?}: {f}"
        );
        assert!(
            (f["min"].as_f64().unwrap() - min).abs() <= 5e-4,
            "{log:?}: {f}"
        );
        assert_eq!(v["total"]["values"]["size"]["unit"], "bytes");
        // The run's precision does not call every value milliseconds.
        let unit = v["meta"]["precision"]["unit"].as_str().unwrap();
        assert!(unit.starts_with("each value's own"), "{unit}");
    }
    // The sum, and a histogram in seconds for Prometheus: each bucket
    // counts the durations at or below its bound.
    let (v, _) = run_json(
        "stats",
        &[
            as_is.to_str().unwrap(),
            "--time",
            "ts",
            "--value",
            "duration:s",
            "--exact",
        ],
    );
    let sum: f64 = ms.iter().sum();
    assert!((v["total"]["values"]["duration"]["sum"].as_f64().unwrap() - sum).abs() <= 5e-3);
    let prom = bin()
        .args([
            "stats",
            as_is.to_str().unwrap(),
            "--time",
            "ts",
            "--value",
            "duration:s",
        ])
        .args(["--exact", "-q", "-f", "prometheus"])
        .output()
        .unwrap();
    let prom = String::from_utf8(prom.stdout).unwrap();
    for (le, bound_ms) in [("0.001", 1.0), ("0.02", 20.0), ("0.03", 30.0)] {
        let want = ms.iter().filter(|&&x| x <= bound_ms).count();
        let line = prom
            .lines()
            .find(|l| {
                l.starts_with("aggmetrics_jsonl_value_seconds_bucket{")
                    && l.contains(&format!("le=\"{le}\""))
            })
            .unwrap_or_else(|| panic!("{prom}"));
        assert!(line.ends_with(&format!(" {want}")), "{line}");
    }
    // Without a unit, a string is not a number: invalid, as before.
    let (v, _) = run_json(
        "stats",
        &[
            quoted.to_str().unwrap(),
            "--time",
            "ts",
            "--value",
            "duration",
        ],
    );
    assert_eq!(v["total"]["values"]["duration"]["invalid"], ms.len() as u64);
    // :number reads the quoted seconds as they are.
    let (v, _) = run_json(
        "stats",
        &[
            quoted.to_str().unwrap(),
            "--time",
            "ts",
            "--value",
            "duration:number",
            "--exact",
        ],
    );
    let f = &v["total"]["values"]["duration"];
    assert_eq!(f["count"], ms.len() as u64);
    assert!(f["unit"].is_null());
}

#[test]
fn suricata_integer_fields_are_integers_under_exact() {
    let log = fixture("realworld/suricata_eve_full.json");
    let text = std::fs::read_to_string(&log).unwrap();
    let mut pkts: Vec<f64> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|r| r["flow"]["pkts_toserver"].as_f64())
        .collect();
    pkts.sort_by(f64::total_cmp);
    let args = [
        log.to_str().unwrap(),
        "--value",
        "flow.pkts_toserver",
        "--value",
        "flow.age",
    ];
    let (v, out) = stats(&[&args[..], &["--exact"]].concat());
    assert!(out.status.success());
    let p = &v["total"]["values"]["flow.pkts_toserver"];
    // Whole figures are JSON integers, as the log wrote them.
    for k in ["p50", "p95", "min", "max", "sum"] {
        assert!(p[k].is_u64(), "{k}: {}", p[k]);
    }
    assert_eq!(p["p50"].as_f64(), Some(linear(&pkts, 50.0)));
    assert_eq!(p["max"].as_u64(), Some(*pkts.last().unwrap() as u64));
    // An interpolated percentile between two integers stays a fraction.
    assert_eq!(
        round3(p["p99"].as_f64().unwrap()),
        round3(linear(&pkts, 99.0))
    );
    assert!(linear(&pkts, 99.0).fract() != 0.0 && p["p99"].is_f64());
    // HDR's figures are approximate: floats, as before.
    let (h, _) = stats(&args);
    assert!(h["total"]["values"]["flow.pkts_toserver"]["p50"].is_f64());
    // Tables write them without decimals.
    for fmt in ["table", "markdown", "html"] {
        let out = bin()
            .args(["stats"])
            .args(args)
            .args(["--exact", "-f", fmt])
            .output()
            .unwrap();
        let doc = String::from_utf8_lossy(&out.stdout);
        let max = format!("{}", *pkts.last().unwrap() as u64);
        assert!(!doc.contains(&format!("{max}.000")), "{fmt}");
        assert!(doc.contains(&max), "{fmt}");
    }
}

#[test]
fn zeek_seconds_without_a_unit_are_said_to_be_coarse() {
    let log = fixture("realworld/zeek_dns.json.gz");
    let run = |value: &str| {
        let (v, out) = stats(&[log.to_str().unwrap(), "--time", "ts", "--value", value]);
        assert!(out.status.success());
        v
    };
    // Zeek's rtt is seconds: most below 0.1, shown to 0.001.
    let v = run("rtt");
    assert_eq!(v["coarse_values"], serde_json::json!(["rtt"]));
    assert!(v["total"]["values"]["rtt"]["p50"].as_f64().unwrap() < 0.1);
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--time",
            "ts",
            "--value",
            "rtt",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("note: rtt: values below 0.1 are kept and shown to 0.001"),
        "{table}"
    );
    // TTLs of seconds to hours are not.
    let v = run("TTLs[0]");
    assert!(v.get("coarse_values").is_none(), "{v}");
}
