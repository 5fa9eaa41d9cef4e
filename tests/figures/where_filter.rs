//! `--where` on Suricata's EVE log: each kind of condition against the
//! same condition evaluated here with serde_json over the file, and a
//! condition nothing passes is said and fails --strict.

use crate::common;

use common::*;
use serde_json::Value;

fn records() -> Vec<Value> {
    std::fs::read_to_string(fixture("realworld/suricata_eve_full.json"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count(conds: &[&str], want: impl Fn(&Value) -> bool) {
    let log = fixture("realworld/suricata_eve_full.json");
    let mut args = vec![log.to_str().unwrap(), "--by", "event_type", "--strict"];
    for c in conds {
        args.extend(["--where", c]);
    }
    let (v, out) = run_json("stats", &args);
    assert!(
        out.status.success(),
        "{conds:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = records();
    let kept = all.iter().filter(|r| want(r)).count() as u64;
    assert!(
        kept > 0 && kept < all.len() as u64,
        "{conds:?} should keep some: {kept}"
    );
    assert_eq!(v["records"], kept, "{conds:?}");
    assert_eq!(v["filtered_out"], all.len() as u64 - kept, "{conds:?}");
    let by_groups: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["records"].as_u64().unwrap())
        .sum();
    assert_eq!(by_groups, kept);
    assert_eq!(v["spec"]["where"].as_array().unwrap().len(), conds.len());
}

#[test]
fn suricata_where_equality_comparison_membership_and_presence() {
    let bytes = |r: &Value| r["flow"]["bytes_toserver"].as_f64();
    count(&["event_type=flow"], |r| r["event_type"] == "flow");
    count(&["event_type!=flow"], |r| r["event_type"] != "flow");
    count(&["event_type=flow", "flow.bytes_toserver>1000"], |r| {
        r["event_type"] == "flow" && bytes(r).is_some_and(|b| b > 1000.0)
    });
    count(&["flow.bytes_toserver<=258"], |r| {
        bytes(r).is_some_and(|b| b <= 258.0)
    });
    count(&["dest_port in 22,23,5678"], |r| {
        [22, 23, 5678].iter().any(|p| r["dest_port"] == *p)
    });
    count(&["src_ip"], |r| !r["src_ip"].is_null());
    count(&["!src_ip"], |r| r["src_ip"].is_null());
    count(&["dest_port=443", "tls.sni"], |r| {
        r["dest_port"] == 443 && !r["tls"]["sni"].is_null()
    });
}

#[test]
fn a_condition_no_record_passes_is_said_and_fails_strict() {
    let log = fixture("realworld/suricata_eve_full.json");
    let out = bin()
        .args(["stats", log.to_str().unwrap(), "--count", "src_ip"])
        .args(["--where", "event_type=flow", "--where", "event_type=ssh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--where event_type=flow and event_type=ssh: no record passed, 253 left out"),
        "{err}"
    );
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--count",
            "src_ip",
            "-q",
            "--strict",
        ])
        .args(["--where", "event_type=nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // A condition that is not one is a usage error before reading.
    let out = bin()
        .args(["stats", log.to_str().unwrap(), "--where", "bytes>lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("compares numbers, and 'lots' is not one")
    );
}
