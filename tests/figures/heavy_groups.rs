//! More groups than shown, on Suricata's EVE log (253 records, 128
//! `src_ip` values): the groups kept are the ones with the most records,
//! the rest are one `(other)` row with its figures, shares add up to the
//! whole, and every format says groups were folded. Expected figures are
//! computed here from serde_json over the same file, not from our output.

use std::collections::BTreeMap;

use crate::common;

use common::*;
use serde_json::Value;

/// Records and `flow.bytes_toserver` values per `src_ip` (the JSON text
/// of the value, `null` when absent), from the log itself.
fn truth() -> BTreeMap<String, (u64, Vec<f64>)> {
    let text = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let mut m: BTreeMap<String, (u64, Vec<f64>)> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: Value = serde_json::from_str(line).unwrap();
        let e = m.entry(r["src_ip"].to_string()).or_default();
        e.0 += 1;
        if let Some(x) = r["flow"]["bytes_toserver"].as_f64() {
            e.1.push(x);
        }
    }
    m
}

/// The `n` heaviest keys, largest first, ties by key.
fn heaviest(t: &BTreeMap<String, (u64, Vec<f64>)>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = t.iter().map(|(k, e)| (k.clone(), e.0)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

fn args(log: &str) -> Vec<&str> {
    vec![
        log,
        "--by",
        "src_ip",
        "--value",
        "flow.bytes_toserver",
        "--time",
        "timestamp",
        "--max-groups",
        "5",
        "--exact",
    ]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn suricata_the_heaviest_groups_are_kept_and_the_rest_is_one_row() {
    let t = truth();
    let top = heaviest(&t, 5);
    let log = fixture("realworld/suricata_eve_full.json");
    let (v, out) = run_json("stats", &args(log.to_str().unwrap()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let groups = v["groups"].as_array().unwrap();
    let shown: Vec<(String, u64)> = groups
        .iter()
        .map(|g| {
            (
                g["key"]["src_ip"].to_string(),
                g["records"].as_u64().unwrap(),
            )
        })
        .collect();
    // The largest first: 21, 21, 13 (no src_ip), 10, 9.
    assert_eq!(shown, top);
    for g in groups {
        let (_, vals) = &t[&g["key"]["src_ip"].to_string()];
        let f = &g["values"]["flow.bytes_toserver"];
        assert_eq!(f["count"], vals.len() as u64);
        if !vals.is_empty() {
            // Figures are printed to three decimals.
            assert!((f["mean"].as_f64().unwrap() - mean(vals)).abs() <= 5e-4);
        }
    }
    // (other): every record and value of the other 123 groups.
    let kept: Vec<&String> = top.iter().map(|(k, _)| k).collect();
    let rest: Vec<f64> = t
        .iter()
        .filter(|(k, _)| !kept.contains(k))
        .flat_map(|(_, e)| e.1.clone())
        .collect();
    let rest_records: u64 = t
        .iter()
        .filter(|(k, _)| !kept.contains(k))
        .map(|(_, e)| e.0)
        .sum();
    let other = &v["other"];
    assert_eq!(other["records"], rest_records);
    assert_eq!(
        other["values"]["flow.bytes_toserver"]["count"],
        rest.len() as u64
    );
    let max = rest.iter().cloned().fold(0.0, f64::max);
    assert_eq!(other["values"]["flow.bytes_toserver"]["max"], max);
    assert!(
        (other["values"]["flow.bytes_toserver"]["mean"]
            .as_f64()
            .unwrap()
            - mean(&rest))
        .abs()
            <= 5e-4
    );
    // Shares add up to the whole.
    let sum: u64 = shown.iter().map(|x| x.1).sum::<u64>() + rest_records;
    assert_eq!(sum, v["records"].as_u64().unwrap());
    assert_eq!(v["records"], 253);
    let f = &v["groups_folded"];
    assert_eq!(f["groups"], t.len() as u64 - 5);
    assert_eq!(f["records"], rest_records);
    assert_eq!(f["heaviest"], true);
    assert_eq!(f["max_error"], 0);
}

#[test]
fn suricata_on_stdin_keeps_the_heaviest_while_they_fit() {
    let t = truth();
    let log = std::fs::read(fixture("realworld/suricata_eve_full.json")).unwrap();
    let out = bin()
        .arg("stats")
        .args(args("-"))
        .args(["-f", "json"])
        .write_stdin(log)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 128 groups fit the 1,000 kept while reading: the five shown are
    // the heaviest, as from a file.
    assert_eq!(v["groups_folded"]["heaviest"], true);
    let shown: Vec<(String, u64)> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"]["src_ip"].to_string(),
                g["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown, heaviest(&t, 5));
}

/// Past 1,000 groups on stdin (read once), the groups kept on the way are
/// shown and the heavier folded ones are named with their exact counts.
/// Suricata flow records with the source port rewritten: 1,500 ports once
/// each, and ports 0 to 99 with 50 + port records each (the 20 heaviest
/// are 80 to 99).
#[test]
fn stdin_past_the_kept_groups_names_the_heavier_ones_it_folded() {
    let text = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let flow: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event_type"] == "flow")
        .unwrap();
    let mut lines = String::new();
    let mut put = |port: u64| {
        let mut r = flow.clone();
        r["src_port"] = port.into();
        lines.push_str(&r.to_string());
        lines.push('\n');
    };
    for p in 0..1500 {
        put(10_000 + p);
        if p % 15 == 0 {
            for _ in 0..50 + p / 15 {
                put(p / 15);
            }
        }
    }
    let out = bin()
        .args([
            "stats",
            "-",
            "--by",
            "src_port",
            "--max-groups",
            "20",
            "-f",
            "json",
        ])
        .write_stdin(lines)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v["groups_folded"];
    assert_eq!(f["heaviest"], false, "{f}");
    assert_eq!(f["max_error"], 0);
    let named = f["heavier"].as_array().unwrap();
    assert!(!named.is_empty());
    for g in named {
        let port = g["key"]["src_port"].as_u64().unwrap();
        assert!(port < 100, "{g}");
        assert_eq!(g["records"], 50 + port, "{g}");
    }
    let rows: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["records"].as_u64().unwrap())
        .sum::<u64>()
        + v["other"]["records"].as_u64().unwrap();
    assert_eq!(rows, 1500 + (50..150).sum::<u64>());
    // The same log from a file is read twice and shows the 20 heavy ports.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("eve.json");
    let mut body = String::new();
    for p in 0..1500u64 {
        let mut r = flow.clone();
        r["src_port"] = (10_000 + p).into();
        body.push_str(&r.to_string());
        body.push('\n');
        if p % 15 == 0 {
            for _ in 0..50 + p / 15 {
                let mut r = flow.clone();
                r["src_port"] = (p / 15).into();
                body.push_str(&r.to_string());
                body.push('\n');
            }
        }
    }
    std::fs::write(&file, body).unwrap();
    let (v, out) = run_json(
        "stats",
        &[
            file.to_str().unwrap(),
            "--by",
            "src_port",
            "--max-groups",
            "20",
        ],
    );
    assert!(out.status.success());
    assert_eq!(v["groups_folded"]["heaviest"], true);
    let shown = v["groups"].as_array().unwrap();
    assert_eq!(shown.len(), 20);
    let ports: Vec<u64> = shown
        .iter()
        .map(|g| g["key"]["src_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, (80..100).rev().collect::<Vec<u64>>());
    assert!(shown
        .iter()
        .all(|g| g["records"] == 50 + g["key"]["src_port"].as_u64().unwrap()));
}

/// A visible line in every format people read, and the `(other)` row
/// where figures are exported.
#[test]
fn every_format_says_groups_were_folded() {
    let log = fixture("realworld/suricata_eve_full.json");
    let run = |f: &str| {
        let out = bin()
            .arg("stats")
            .args(args(log.to_str().unwrap()))
            .args(["-f", f])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("table");
    assert!(
        table.contains("note: 123 groups with 179 records are folded into (other)"),
        "{table}"
    );
    // (other) is the last row of the shares, after the smallest group shown.
    let rows: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("  src_ip=") || l.starts_with("  (other)"))
        .collect();
    assert!(rows[4].starts_with("  src_ip=193.112.60.144 "), "{table}");
    assert!(rows[5].starts_with("  (other) "), "{table}");
    let md = run("markdown");
    assert!(
        md.contains("> **Note:** 123 groups with 179 records are folded into (other)"),
        "{md}"
    );
    assert!(md.contains("| (other) | 179 |"), "{md}");
    let html = run("html");
    assert!(
        html.contains("<p class=\"warning\">123 groups with 179 records are folded into (other)"),
        "{html}"
    );
    let csv = run("csv");
    assert!(
        csv.lines().any(|l| l == "groups_folded.records,179"),
        "{csv}"
    );
    let prom = run("prometheus");
    assert!(
        prom.lines()
            .any(|l| l.starts_with("aggmetrics_jsonl_group_records{")
                && l.contains("group=\"(other)\"")
                && l.ends_with(" 179")),
        "{prom}"
    );
}

/// The file split among workers gives the same report as one worker:
/// the groups kept do not depend on how the input was divided.
#[test]
fn one_and_several_threads_fold_the_same_groups() {
    let dir = tempfile::tempdir().unwrap();
    let one = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let log = dir.path().join("eve.json");
    std::fs::write(&log, one.repeat(40)).unwrap();
    let log = log.to_str().unwrap();
    let run = |threads: &str| {
        let mut a = args(log);
        a.extend(["--threads", threads]);
        let (v, out) = run_json("stats", &a);
        assert!(out.status.success());
        without_meta(v)
    };
    let a = run("1");
    assert_eq!(a["groups_folded"]["heaviest"], true);
    assert_eq!(a["records"], 253 * 40);
    assert_eq!(a, run("2"));
    assert_eq!(a, run("3"));
}

/// Records per `src_ip` in each `event_type`, from the log itself.
fn per_event_type() -> BTreeMap<String, BTreeMap<String, u64>> {
    let text = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let mut m: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let r: Value = serde_json::from_str(line).unwrap();
        let Some(ip) = r["src_ip"].as_str() else {
            continue;
        };
        for g in [r["event_type"].as_str().unwrap(), "(all)"] {
            *m.entry(g.to_string())
                .or_default()
                .entry(ip.to_string())
                .or_default() += 1;
        }
    }
    m
}

#[test]
fn suricata_top_values_of_a_count_and_the_rest_as_other() {
    let want = per_event_type();
    let log = fixture("realworld/suricata_eve_full.json");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--by",
            "event_type",
            "--count",
            "src_ip",
            "--top",
            "3",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"]["event_type"].as_str().unwrap().to_string(), g))
        .chain([("(all)".to_string(), &v["total"])]);
    let mut folded_rows = 0;
    let none = BTreeMap::new();
    for (name, g) in rows {
        // Suricata's `stats` records have no src_ip.
        let counts = want.get(&name).unwrap_or(&none);
        let mut by_count: Vec<(&String, &u64)> = counts.iter().collect();
        by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let top: BTreeMap<String, u64> = by_count
            .iter()
            .take(3)
            .map(|(k, n)| ((*k).clone(), **n))
            .collect();
        let got: BTreeMap<String, u64> =
            serde_json::from_value(g["counts"]["src_ip"].clone()).unwrap();
        assert_eq!(got, top, "{name}");
        let rest: u64 = by_count.iter().skip(3).map(|(_, n)| **n).sum();
        if rest > 0 {
            folded_rows += 1;
            assert_eq!(g["counts_other"]["src_ip"], rest, "{name}");
        } else {
            assert!(g.get("counts_other").is_none(), "{name}");
        }
    }
    assert!(folded_rows >= 2);
    let all = &want["(all)"];
    let f = &v["values_folded"]["src_ip"];
    assert_eq!(f["values"], all.len() as u64 - 3);
    assert_eq!(f["shown"], 3);
    assert_eq!(f["max_error"], 0);
    // Every format says so and the table's (other) row adds up.
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--count",
            "src_ip",
            "--top",
            "3",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(&format!("note: src_ip: {} values counted", all.len() - 3)),
        "{table}"
    );
    let rest: u64 = all.values().sum::<u64>() - f["records"].as_u64().unwrap();
    let other_line = table
        .lines()
        .find(|l| l.trim_start().starts_with("(other)"))
        .unwrap();
    assert!(
        other_line.contains(&f["records"].to_string()),
        "{other_line}"
    );
    assert!(rest > 0);
    for fmt in ["markdown", "html"] {
        let out = bin()
            .args([
                "stats",
                log.to_str().unwrap(),
                "--count",
                "src_ip",
                "--top",
                "3",
                "-f",
                fmt,
            ])
            .output()
            .unwrap();
        let doc = String::from_utf8_lossy(&out.stdout);
        assert!(doc.contains("folded into (other)"), "{fmt}");
    }
}

#[test]
fn a_count_past_the_values_kept_is_folded_and_said() {
    // 5 values half the records; 10,000 values once each.
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("many.jsonl");
    let body: String = (0..20_000)
        .map(|i| {
            let u = if i % 2 == 0 {
                format!("hot{}", i % 5)
            } else {
                format!("cold{i}")
            };
            format!("{{\"u\": \"{u}\"}}\n")
        })
        .collect();
    std::fs::write(&log, body).unwrap();
    let (v, out) = run_json("stats", &[log.to_str().unwrap(), "--count", "u"]);
    assert!(out.status.success());
    let counts = v["total"]["counts"]["u"].as_object().unwrap();
    assert_eq!(counts.len(), 1000);
    for h in 0..5 {
        assert_eq!(counts[&format!("hot{h}")], 2000);
    }
    let shown: u64 = counts.values().map(|n| n.as_u64().unwrap()).sum();
    assert_eq!(
        shown + v["total"]["counts_other"]["u"].as_u64().unwrap(),
        20_000
    );
    assert_eq!(v["values_folded"]["u"]["values"], 10_005 - 1000);
}

#[test]
fn summarize_reads_a_kinds_file_log_again_for_its_heaviest_groups() {
    // Suricata flows: 1,500 ports of one record, and ports 0 to 99 with
    // 50 to 149 records each, arriving after the kept groups are full.
    let text = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let flow: Value = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event_type"] == "flow")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::new();
    let mut put = |port: u64, bytes: u64| {
        let mut r = flow.clone();
        r["src_port"] = port.into();
        r["flow"]["bytes_toserver"] = bytes.into();
        body.push_str(&r.to_string());
        body.push('\n');
    };
    for p in 0..1500u64 {
        put(10_000 + p, 1);
        if p % 15 == 0 {
            for i in 0..50 + p / 15 {
                put(p / 15, 1000 + i);
            }
        }
    }
    std::fs::write(dir.path().join("eve.json"), body).unwrap();
    let kinds = dir.path().join("kinds.toml");
    std::fs::write(
        &kinds,
        "[[kind]]\nname = \"eve\"\nfiles = \"eve*.json\"\nby = [\"src_port\"]\nvalues = [\"flow.bytes_toserver\"]\nmax_groups = 20\n",
    )
    .unwrap();
    let (v, out) = summarize_json(&[
        dir.path().join("eve.json").to_str().unwrap(),
        "--kinds",
        kinds.to_str().unwrap(),
        "--exact",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let eve = &v["eve"];
    assert_eq!(
        eve["groups_folded"]["heaviest"], true,
        "{}",
        eve["groups_folded"]
    );
    let shown = eve["groups"].as_array().unwrap();
    let ports: Vec<u64> = shown
        .iter()
        .map(|g| g["key"]["src_port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, (80..100).rev().collect::<Vec<u64>>());
    // Each heavy port's figures are whole: all its records, its max.
    for g in shown {
        let port = g["key"]["src_port"].as_u64().unwrap();
        let b = &g["values"]["flow.bytes_toserver"];
        assert_eq!(g["records"], 50 + port);
        assert_eq!(b["count"], 50 + port);
        assert_eq!(b["max"], 1000 + 49 + port);
    }
}

#[test]
fn a_count_past_the_exact_tally_states_its_error() {
    // 150,000 values once each, and 3 values 20,000 times each: past the
    // 100,000 the tally names exactly.
    let d = tempfile::tempdir().unwrap();
    let log = d.path().join("ids.jsonl");
    let mut body = String::new();
    for i in 0..210_000u64 {
        let u = if i % 70 < 20 {
            format!("hot{}", i % 3)
        } else {
            format!("id{i}")
        };
        body.push_str(&format!("{{\"u\": \"{u}\"}}\n"));
    }
    std::fs::write(&log, body).unwrap();
    let hot = (0..210_000u64).filter(|i| i % 70 < 20).count() as u64;
    let (v, out) = run_json(
        "stats",
        &[log.to_str().unwrap(), "--count", "u", "--top", "3"],
    );
    assert!(out.status.success());
    let f = &v["values_folded"]["u"];
    let err = f["max_error"].as_u64().unwrap();
    assert!(err > 0, "{f}");
    assert!(f["values"].is_null(), "{f}");
    // Each hot value is shown, low by at most the stated error.
    let counts = v["total"]["counts"]["u"].as_object().unwrap();
    for h in 0..3 {
        let want = (0..210_000u64)
            .filter(|i| i % 70 < 20 && i % 3 == h)
            .count() as u64;
        let got = counts[&format!("hot{h}")].as_u64().unwrap();
        assert!(
            got <= want && want - got <= err,
            "hot{h}: {got} of {want}, error {err}"
        );
    }
    assert_eq!(
        counts.values().map(|n| n.as_u64().unwrap()).sum::<u64>()
            + v["total"]["counts_other"]["u"].as_u64().unwrap(),
        210_000
    );
    assert!(hot > 0);
    let out = bin()
        .args(["stats", log.to_str().unwrap(), "--count", "u", "--top", "3"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let words = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("note: u: over 100,000 values counted"),
        "{table}"
    );
    assert!(
        words.contains(&format!("a count may be up to {err} low")),
        "{table}"
    );
}
