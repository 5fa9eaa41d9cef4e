//! `--distinct` on Zeek's dns.log (real, 537 records): exact counts
//! against sets built here with serde_json, the estimate past 512 values
//! within its stated error, and the same figures from 1 and 2 threads and
//! from the states of two halves merged.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use serde_json::Value;

fn text() -> String {
    gunzip_fixture("realworld/zeek_dns.json.gz")
}

const SPEC: [&str; 10] = [
    "--time",
    "ts",
    "--by",
    "qtype_name",
    "--distinct",
    "\"id.orig_h\"",
    "--distinct",
    "answers[*]",
    "--distinct",
    "ts",
];

/// Each field's distinct texts per qtype_name, and over all records.
fn reference(text: &str) -> BTreeMap<String, [BTreeSet<String>; 3]> {
    let mut out: BTreeMap<String, [BTreeSet<String>; 3]> = BTreeMap::new();
    for l in text.lines() {
        let r: Value = serde_json::from_str(l).unwrap();
        for g in [r["qtype_name"].as_str().unwrap(), "(all)"] {
            let sets = out.entry(g.to_string()).or_default();
            sets[0].insert(r["id.orig_h"].as_str().unwrap().to_string());
            for a in r["answers"].as_array().into_iter().flatten() {
                sets[1].insert(a.as_str().unwrap().to_string());
            }
            sets[2].insert(r["ts"].as_str().unwrap().to_string());
        }
    }
    out
}

fn distinct_of(g: &Value, field: &str) -> (u64, bool) {
    let d = &g["distinct"][field];
    (d["count"].as_u64().unwrap(), d["exact"].as_bool().unwrap())
}

#[test]
fn zeek_dns_distinct_counts_exact_and_estimated() {
    let want = reference(&text());
    let log = fixture("realworld/zeek_dns.json.gz");
    let (v, out) = run_json(
        "stats",
        &[&[log.to_str().unwrap()][..], &SPEC, &["--strict"]].concat(),
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
        .map(|g| (g["key"]["qtype_name"].as_str().unwrap().to_string(), g))
        .chain([("(all)".to_string(), &v["total"])]);
    let mut estimated = 0;
    for (name, g) in rows {
        let sets = &want[&name];
        for (i, field) in ["\"id.orig_h\"", "answers[*]", "ts"]
            .into_iter()
            .enumerate()
        {
            let n = sets[i].len() as u64;
            let (got, exact) = distinct_of(g, field);
            if n <= 512 {
                assert_eq!((got, exact), (n, true), "{name} {field}");
                assert!(g["distinct"][field].get("rel_error").is_none());
            } else {
                // Past 512: an estimate, said, within four standard errors.
                estimated += 1;
                assert!(!exact, "{name} {field}");
                let e = g["distinct"][field]["rel_error"].as_f64().unwrap();
                assert!(
                    (got as f64 / n as f64 - 1.0).abs() < 4.0 * e,
                    "{name} {field}: {got} of {n}"
                );
            }
        }
    }
    assert_eq!(
        estimated, 1,
        "the excerpt's 537 times are past the exact limit"
    );
    // The table says which count is an estimate.
    let out = bin()
        .args(["stats", log.to_str().unwrap()])
        .args(SPEC)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains(
            "note: distinct ts: past 512 values a count is a HyperLogLog estimate, with a"
        ),
        "{table}"
    );
    assert!(table.contains("distinct ts  "), "{table}");
    assert!(table.contains("distinct answers[*]  distinct"), "{table}");
}

#[test]
fn distinct_counts_agree_across_threads_and_merged_halves() {
    let text = text();
    let lines: Vec<&str> = text.lines().collect();
    let d = tempfile::tempdir().unwrap();
    let (a, b, all) = (
        d.path().join("a.json"),
        d.path().join("b.json"),
        d.path().join("all.json"),
    );
    std::fs::write(&a, lines[..300].join("\n") + "\n").unwrap();
    std::fs::write(&b, lines[300..].join("\n") + "\n").unwrap();
    std::fs::write(&all, text.clone()).unwrap();
    let run = |args: &[&str]| {
        let (v, out) = run_json("stats", &[args, &SPEC].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        v
    };
    let one = run(&[all.to_str().unwrap(), "--threads", "1"]);
    let two = run(&[a.to_str().unwrap(), b.to_str().unwrap(), "--threads", "2"]);
    assert_eq!(one["groups"], two["groups"]);
    assert_eq!(one["total"], two["total"]);
    for (p, s) in [(&a, "a.state"), (&b, "b.state")] {
        bin()
            .arg("stats")
            .arg(p)
            .args(SPEC)
            .args(["-q", "-o", "/dev/null", "--state-out"])
            .arg(d.path().join(s))
            .assert()
            .success();
    }
    let merged = merge_ok(&[d.path().join("a.state"), d.path().join("b.state")]);
    assert_eq!(merged["jsonl"]["groups"], one["groups"]);
    assert_eq!(merged["jsonl"]["total"], one["total"]);
    assert_eq!(
        distinct_of(&merged["jsonl"]["total"], "answers[*]"),
        (238, true)
    );
}
