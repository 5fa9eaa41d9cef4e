//! Arrays in Zeek's dns.log (written as JSON by Zeek: `answers` and
//! `TTLs` are arrays, absent when there was no answer): `[*]` counts each
//! element, `[N]` one, in values, counts and conditions, against the same
//! figures computed here with serde_json over the file.

use crate::common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

fn records() -> Vec<Value> {
    gunzip_fixture("realworld/zeek_dns.json.gz")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// NumPy's default percentile.
fn linear(sorted: &[f64], p: f64) -> f64 {
    let k = (sorted.len() - 1) as f64 * p / 100.0;
    let f = k.floor() as usize;
    let c = (f + 1).min(sorted.len() - 1);
    sorted[f] + (k - f as f64) * (sorted[c] - sorted[f])
}

/// Records, every TTL in ms, the first TTLs, each answer's count.
type Group = (u64, Vec<f64>, Vec<f64>, BTreeMap<String, u64>);

fn close(a: &Value, b: f64, what: &str) {
    let a = a.as_f64().unwrap_or_else(|| panic!("{what}: {a}"));
    assert!(
        (a - b).abs() <= 1e-6 * b.abs().max(1.0),
        "{what}: {a} against {b}"
    );
}

#[test]
fn zeek_dns_each_ttl_and_answer_is_counted_and_the_first_by_index() {
    let recs = records();
    let log = fixture("realworld/zeek_dns.json.gz");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--time",
            "ts",
            "--by",
            "qtype_name",
            "--value",
            "TTLs[*]:s",
            "--value",
            "TTLs[0]:s",
            "--count",
            "answers[*]",
            "--exact",
            "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The reference, per qtype_name.
    let mut want: BTreeMap<String, Group> = BTreeMap::new();
    for r in &recs {
        let g = want
            .entry(r["qtype_name"].as_str().unwrap().to_string())
            .or_default();
        g.0 += 1;
        if let Some(ttls) = r["TTLs"].as_array() {
            g.1.extend(ttls.iter().map(|t| t.as_f64().unwrap() * 1000.0));
            if let Some(t) = ttls.first() {
                g.2.push(t.as_f64().unwrap() * 1000.0);
            }
        }
        for a in r["answers"].as_array().into_iter().flatten() {
            *g.3.entry(a.as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let several = recs
        .iter()
        .filter(|r| r["TTLs"].as_array().is_some_and(|a| a.len() > 1))
        .count();
    assert!(
        several > 100,
        "the excerpt has arrays of several: {several}"
    );
    let groups = v["groups"].as_array().unwrap();
    assert_eq!(groups.len(), want.len());
    for g in groups {
        let name = g["key"]["qtype_name"].as_str().unwrap();
        let (n, mut each, mut first, answers) = want[name].clone();
        assert_eq!(g["records"], n, "{name}");
        let e = &g["values"]["TTLs[*]"];
        assert_eq!(e["count"], each.len() as u64, "{name}");
        // A record gives several values or none: nothing is missing.
        assert!(e.get("missing").is_none(), "{name}: {e}");
        let f = &g["values"]["TTLs[0]"];
        assert_eq!(f["count"], first.len() as u64, "{name}");
        assert_eq!(f["missing"], n - first.len() as u64, "{name}");
        for (xs, got) in [(&mut each, e), (&mut first, f)] {
            if xs.is_empty() {
                assert!(got["p50"].is_null(), "{name}: {got}");
                continue;
            }
            xs.sort_by(f64::total_cmp);
            for p in [50.0, 95.0, 99.0] {
                close(
                    &got[format!("p{p}")],
                    linear(xs, p),
                    &format!("{name} p{p}"),
                );
            }
            close(&got["sum"], xs.iter().sum(), &format!("{name} sum"));
        }
        let counted: BTreeMap<String, u64> = g["counts"]["answers[*]"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(counted, answers, "{name}");
    }
}

#[test]
fn zeek_dns_an_index_in_a_condition_and_a_group() {
    let recs = records();
    let log = fixture("realworld/zeek_dns.json.gz");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--time",
            "ts",
            "--where",
            "answers[1]",
            "--by",
            "answers[0]",
            "--max-groups",
            "100000",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for r in &recs {
        if let Some(a) = r["answers"].as_array().filter(|a| a.len() > 1) {
            *want.entry(a[0].as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let kept: u64 = want.values().sum();
    assert_eq!(v["records"], kept);
    assert_eq!(v["filtered_out"], recs.len() as u64 - kept);
    let got: BTreeMap<String, u64> = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["key"]["answers[0]"].as_str().unwrap().to_string(),
                g["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn every_element_is_only_for_values_and_counts() {
    let log = fixture("realworld/zeek_dns.json.gz");
    for (args, named) in [
        (["--by", "answers[*]"], "answers[*]"),
        (["--where", "answers[*]=0.0.0.0"], "answers[*]"),
        (["--time", "TTLs[*]"], "TTLs[*]"),
        (["--value", "TTLs[x]"], "TTLs[x]"),
    ] {
        let out = bin()
            .args(["stats", log.to_str().unwrap(), "--count", "qtype_name"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(named), "{args:?}: {err}");
    }
}

#[test]
fn zeek_durations_are_shown_in_the_unit_they_read_best_in() {
    let recs = records();
    let mut ttl: Vec<f64> = recs
        .iter()
        .flat_map(|r| r["TTLs"].as_array().cloned().unwrap_or_default())
        .map(|t| t.as_f64().unwrap())
        .collect();
    ttl.sort_by(f64::total_cmp);
    let log = fixture("realworld/zeek_dns.json.gz");
    let args = [
        log.to_str().unwrap(),
        "--time",
        "ts",
        "--value",
        "TTLs[*]:s",
        "--value",
        "rtt:s",
        "--exact",
    ];
    // JSON stays in milliseconds, said by its unit.
    let (v, _) = run_json("stats", &args);
    let t = &v["total"]["values"]["TTLs[*]"];
    assert_eq!(t["unit"], "ms");
    close(&t["p50"], linear(&ttl, 50.0) * 1000.0, "json p50");
    // The tables: TTLs (minutes to a day) in seconds, rtt (under a
    // second) in milliseconds, each unit in the heading.
    let p50 = format!("{:.3}", linear(&ttl, 50.0));
    for (fmt, ttl_head, rtt_head) in [
        ("table", "TTLs[*] (s)", "rtt (ms)"),
        ("markdown", "**TTLs\\[*\\] (s)**", "**rtt (ms)**"),
        ("html", "TTLs[*] (s)", "rtt (ms)"),
    ] {
        let out = bin()
            .arg("stats")
            .args(args)
            .args(["-f", fmt])
            .output()
            .unwrap();
        let doc = String::from_utf8_lossy(&out.stdout);
        assert!(doc.contains(ttl_head), "{fmt}: {doc}");
        assert!(doc.contains(rtt_head), "{fmt}");
        assert!(doc.contains(&p50), "{fmt}: {p50}");
    }
}
