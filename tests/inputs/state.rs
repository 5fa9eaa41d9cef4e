//! State files and `aggmetrics merge`: two halves merge to exactly the
//! whole's report; mismatched and hostile states are rejected with a
//! clear error.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const LOGS: [&str; 3] = ["pipeline_latency", "fallback_metrics", "partial_trust_risk"];

/// Split the sample logs line by line into two folders.
fn halves() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    std::fs::create_dir(&a).unwrap();
    std::fs::create_dir(&b).unwrap();
    for name in LOGS {
        let text = std::fs::read(sample_logs().join(format!("{name}.jsonl"))).unwrap();
        let lines: Vec<&[u8]> = text.split_inclusive(|&c| c == b'\n').collect();
        let h = lines.len() / 2;
        std::fs::write(a.join(format!("{name}.jsonl")), lines[..h].concat()).unwrap();
        std::fs::write(b.join(format!("{name}.jsonl")), lines[h..].concat()).unwrap();
    }
    (d, a, b)
}

fn state_of(dir: &Path, out: &Path, extra: &[&str]) {
    bin()
        .args(["summarize", "-q", "-o", "/dev/null", "--state-out"])
        .arg(out)
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn merge_json(states: &[&Path], extra: &[&str]) -> (Value, i32, String) {
    let out = bin()
        .arg("merge")
        .args(states)
        .args(["-f", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        v,
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report without what says how it was read (`read_as`).
fn comparable(mut v: Value) -> Value {
    for i in v["meta"]["inputs"].as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("read_as");
    }
    v
}

#[test]
fn two_halves_merge_to_exactly_the_whole() {
    for extra in [&[][..], &["--exact"][..], &["--sigfig", "4"][..]] {
        let (d, a, b) = halves();
        let (sa, sb) = (d.path().join("a.state"), d.path().join("b.state"));
        state_of(&a, &sa, extra);
        state_of(&b, &sb, extra);
        let (merged, code, err) = merge_json(&[&sa, &sb], &[]);
        assert_eq!(code, 0, "{err}");
        let mut args = vec![a.to_str().unwrap(), b.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        let (whole, _) = summarize_json(&args);
        assert_eq!(comparable(merged), comparable(whole), "{extra:?}");
    }
}

#[test]
fn a_merged_state_merges_again() {
    let (d, a, b) = halves();
    let (sa, sb, sab) = (
        d.path().join("a.state"),
        d.path().join("b.state"),
        d.path().join("ab.state"),
    );
    state_of(&a, &sa, &[]);
    state_of(&b, &sb, &[]);
    bin()
        .arg("merge")
        .arg(&sa)
        .arg(&sb)
        .args(["-q", "-o", "/dev/null", "--state-out"])
        .arg(&sab)
        .assert()
        .success();
    let (once, _, _) = merge_json(&[&sa, &sb], &[]);
    let (again, _, _) = merge_json(&[&sab], &[]);
    assert_eq!(once, again);
    // --fail-on works on merged reports too.
    let (_, code, err) = merge_json(&[&sab], &["--fail-on", "latency.all.count>10"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn states_of_different_precision_do_not_merge() {
    let (d, a, b) = halves();
    let (sa, sb) = (d.path().join("a.state"), d.path().join("b.state"));
    state_of(&a, &sa, &[]);
    state_of(&b, &sb, &["--sigfig", "2"]);
    // A usage error (2): the set of states is wrong, not one of them.
    let (_, code, err) = merge_json(&[&sa, &sb], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("different precision")
            && err.contains("--sigfig")
            && err.contains("3 significant digits"),
        "{err}"
    );
    state_of(&b, &sb, &["--exact"]);
    let (_, code, err) = merge_json(&[&sa, &sb], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("different precision"), "{err}");
}

#[test]
fn hostile_state_files_are_rejected_with_a_reason() {
    let (d, a, _) = halves();
    let good = d.path().join("good.state");
    state_of(&a, &good, &[]);
    let text = std::fs::read_to_string(&good).unwrap();
    let bad = d.path().join("bad.state");
    let check = |bytes: &[u8], why: &str| {
        std::fs::write(&bad, bytes).unwrap();
        let (_, code, err) = merge_json(&[&bad], &[]);
        assert_eq!(code, 4, "{why}: {err}");
        assert!(err.contains(why), "want {why:?}: {err}");
    };
    check(b"PK\x03\x04 not a state", "not an aggmetrics state file");
    check(b"", "not an aggmetrics state file");
    check(
        text.replace("\"version\":3", "\"version\":9").as_bytes(),
        "version 9",
    );
    check(&text.as_bytes()[..text.len() / 2], "corrupt state file");
    // A histogram whose header claims a 4 GiB payload: refused before
    // anything is allocated for it.
    let v: Value = serde_json::from_str(&text).unwrap();
    let h64 = v["metrics"]["kinds"]["latency"]["with_llm"]["total"]["hdr"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&h64)
        .unwrap();
    let evil = base64::engine::general_purpose::STANDARD.encode(claiming_payload(&raw, u32::MAX));
    check(
        text.replace(&h64, &evil).as_bytes(),
        "payload larger than any aggmetrics writes",
    );
    // A histogram length beyond its bytes.
    let mut short = base64::engine::general_purpose::STANDARD
        .decode(&h64)
        .unwrap();
    short[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    let short = base64::engine::general_purpose::STANDARD.encode(&short);
    check(
        text.replace(&h64, &short).as_bytes(),
        "longer than its bytes",
    );
    // Counts that disagree with the total.
    let n = v["metrics"]["kinds"]["latency"]["with_llm"]["total"]["n"]
        .as_u64()
        .unwrap();
    check(
        text.replacen(
            &format!("\"total\":{{\"n\":{n},"),
            &format!("\"total\":{{\"n\":{},", n + 1),
            1,
        )
        .as_bytes(),
        "for a count of",
    );
    // An unknown field (a newer writer, or tampering).
    check(
        text.replacen("\"outside_window\"", "\"surprise\":1,\"outside_window\"", 1)
            .as_bytes(),
        "unknown field",
    );
}

fn daily_state(logs: &Path, day: &str, out: &Path) {
    bin()
        .arg("summarize")
        .arg(logs)
        .args([
            "-q",
            "-f",
            "json",
            "-o",
            "/dev/null",
            "--day",
            day,
            "--state-out",
        ])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn daily_states_merge_to_one_pass_over_their_days() {
    let logs = days_logs(4);
    let d = tempfile::tempdir().unwrap();
    let days = ["2026-02-10", "2026-02-11", "2026-02-12", "2026-02-13"];
    let states: Vec<PathBuf> = days
        .iter()
        .map(|day| d.path().join(format!("{day}.state")))
        .collect();
    for (day, st) in days.iter().zip(&states) {
        daily_state(logs.path(), day, st);
    }
    let refs: Vec<&Path> = states.iter().map(|p| p.as_path()).collect();
    let (merged, code, err) = merge_json(&refs, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("warning"), "{err}");
    let (whole, _) = summarize_json(&[
        logs.path().to_str().unwrap(),
        "--since",
        "2026-02-10",
        "--until",
        "2026-02-14",
    ]);
    assert!(whole["skipped"]["total"].as_u64().unwrap() > 0);
    assert_eq!(figures(&merged), figures(&whole));
    assert_eq!(merged["meta"]["incomplete"], false);
    // The same state twice: counted once, with a warning.
    let mut twice = refs.clone();
    twice.push(refs[1]);
    let (again, code, err) = merge_json(&twice, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the same run as"), "{err}");
    assert_eq!(figures(&again), figures(&merged));
    // A copy under another name is the same run too.
    let copy = d.path().join("copy.state");
    std::fs::copy(&states[2], &copy).unwrap();
    let mut with_copy = refs.clone();
    with_copy.push(&copy);
    let (again, _, err) = merge_json(&with_copy, &[]);
    assert!(err.contains("copy.state: the same run as"), "{err}");
    assert_eq!(figures(&again), figures(&merged));
}

#[test]
fn a_missing_daily_state_is_a_warning_and_an_incomplete_report() {
    let logs = days_logs(3);
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a.state");
    let c = d.path().join("c.state");
    daily_state(logs.path(), "2026-02-10", &a);
    daily_state(logs.path(), "2026-02-12", &c);
    let missing = d.path().join("b.state");
    let corrupt = d.path().join("corrupt.state");
    std::fs::write(&corrupt, "{\"format\":\"aggmetrics-state\", oops").unwrap();
    let (v, code, err) = merge_json(&[&a, &missing, &corrupt, &c], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("b.state: no such file"), "{err}");
    assert!(err.contains("corrupt.state: corrupt state file"), "{err}");
    // The day between the two states is named as not covered.
    assert!(
        err.contains("no state covers 2026-02-11T00:00:00Z to 2026-02-12T00:00:00Z"),
        "{err}"
    );
    assert_eq!(v["meta"]["incomplete"], true);
    assert_eq!(v["meta"]["unread"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["meta"]["window"]["gaps"][0]["since"],
        "2026-02-11T00:00:00Z"
    );
    let one_day = at(
        &summarize_json(&[logs.path().to_str().unwrap(), "--day", "2026-02-10"]).0,
        "latency.all.count",
    )
    .as_u64()
    .unwrap();
    assert_eq!(at(&v, "latency.all.count").as_u64().unwrap(), 2 * one_day);
    let (_, code, _) = merge_json(&[&a, &missing, &c], &["--strict"]);
    assert_eq!(code, 1);
    // Nothing readable at all: exit 4.
    let (_, code, err) = merge_json(&[&missing], &[]);
    assert_eq!(code, 4, "{err}");
}

#[test]
fn overlapping_states_are_refused() {
    let logs = days_logs(2);
    let d = tempfile::tempdir().unwrap();
    let day = d.path().join("day.state");
    let both = d.path().join("both.state");
    daily_state(logs.path(), "2026-02-10", &day);
    bin()
        .arg("summarize")
        .arg(logs.path())
        .args([
            "-q",
            "-o",
            "/dev/null",
            "--since",
            "2026-02-10",
            "--state-out",
        ])
        .arg(&both)
        .assert()
        .success();
    let (_, code, err) = merge_json(&[&day, &both], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("count those records twice"), "{err}");
}

#[test]
fn version_1_states_are_still_read() {
    // A state written by the last version 1 build (063487b) from
    // sample-logs/, and the report that build printed from the same logs.
    let v1 = fixture("state/v1-sample-logs.state");
    let then: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("state/v1-sample-logs.report.json")).unwrap(),
    )
    .unwrap();
    let (merged, code, err) = merge_json(&[&v1], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("version 1"), "{err}");
    // Counts, breakdowns and rates are what that build reported (its
    // percentiles were read by another rule: see docs/semantics.md).
    for k in [
        "latency.all.count",
        "latency.with_llm.total_ms.count",
        "latency.all.total_ms.max",
        "fallback.outcome_counts",
        "fallback.rates",
        "fallback.by_intent",
        "risk.status_breakdown",
        "risk.rates",
        "risk.sampled_records",
        "skipped.total",
        "skipped.by_reason",
        "time_range",
    ] {
        assert_eq!(at(&merged, k), at(&then, k), "{k}");
    }
    // Version 1 kept one time range for all kinds: the risk section's own
    // range is that one.
    assert_eq!(merged["risk"]["time_range"], merged["time_range"]);
}

#[test]
fn version_2_states_are_still_read() {
    // A state written by the last version 2 build (71b05a1) from the three
    // logs sample-logs/ then held, and the report that build printed from
    // the same logs: every figure of every section it knew comes back.
    let v2 = fixture("state/v2-sample-logs.state");
    let then: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("state/v2-sample-logs.report.json")).unwrap(),
    )
    .unwrap();
    let (merged, code, err) = merge_json(&[&v2], &[]);
    assert_eq!(code, 0, "{err}");
    for k in ["latency", "fallback", "risk", "time_range", "skipped"] {
        assert_eq!(merged[k], then[k], "{k}");
    }
    assert_eq!(
        merged["meta"]["newest_record"],
        then["meta"]["newest_record"]
    );
    // A kind the version 2 state did not know is there, empty.
    assert_eq!(at(&merged, "shadow.total_records"), 0);
    // Written again, it is a version 3 state that reads back the same.
    let d = tempfile::tempdir().unwrap();
    let v3 = d.path().join("v3.state");
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for f in [
        "pipeline_latency.jsonl",
        "fallback_metrics.jsonl",
        "partial_trust_risk.jsonl",
    ] {
        std::fs::copy(sample_logs().join(f), logs.join(f)).unwrap();
    }
    state_of(&logs, &v3, &[]);
    assert!(std::fs::read_to_string(&v3)
        .unwrap()
        .starts_with(r#"{"format":"aggmetrics-state","version":3,"#));
    let (again, code, err) = merge_json(&[&v3], &[]);
    assert_eq!(code, 0, "{err}");
    for k in ["latency", "risk", "time_range"] {
        assert_eq!(again[k], then[k], "{k}");
    }
    // The version 2 report counted the sample logs' one integer outcome
    // (7) as unknown; integer categories now count under their text, as
    // the platform's script did (docs/semantics.md).
    let mut fb = then["fallback"].clone();
    let oc = &mut fb["outcome_counts"];
    oc["unknown"] = (oc["unknown"].as_u64().unwrap() - 1).into();
    oc["7"] = 1.into();
    for k in fb.as_object().unwrap().keys() {
        if k != "by_intent" {
            assert_eq!(again["fallback"][k], fb[k], "fallback.{k}");
        }
    }
    assert_eq!(again["skipped"]["by_reason"], then["skipped"]["by_reason"]);
}

/// Fleet-wide: two hosts' states for the same day, paths and window are
/// two runs, not one run twice and not an overlap: both count. (The second
/// host's state is the first's with its host renamed, as a state from
/// another machine would say.)
#[test]
fn states_of_two_hosts_for_the_same_day_add_up() {
    let logs = days_logs(2);
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("host-a.state");
    let b = d.path().join("host-b.state");
    daily_state(logs.path(), "2026-02-10", &a);
    let text = std::fs::read_to_string(&a).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let host = v["covers"][0]["host"].as_str().unwrap().to_string();
    std::fs::write(
        &b,
        text.replacen(&format!("\"host\":\"{host}\""), "\"host\":\"host-b\"", 1),
    )
    .unwrap();
    let (one, _, _) = merge_json(&[&a], &[]);
    let (both, code, err) = merge_json(&[&a, &b], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("same run") && !err.contains("twice"), "{err}");
    for k in [
        "latency.all.count",
        "fallback.count",
        "risk.total_records",
        "skipped.total",
    ] {
        assert_eq!(
            at(&both, k).as_u64().unwrap(),
            2 * at(&one, k).as_u64().unwrap(),
            "{k}"
        );
    }
    assert_eq!(both["meta"]["incomplete"], false);
}

/// A state whose figures break what they must hold is refused (exit 4)
/// with the reason: it was accepted and gave absurd figures (an error rate
/// of 14, a count of 4.68e16), and merging wrapped u64.
#[test]
fn a_state_whose_figures_cannot_be_is_refused() {
    let (d, a, _) = halves();
    let good = d.path().join("good.state");
    state_of(&a, &good, &[]);
    let text = std::fs::read_to_string(&good).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["metrics"]["kinds"]["fallback"]["count"].as_u64().unwrap() > 20);
    let bad = d.path().join("bad.state");
    let edited = |f: &dyn Fn(&mut Value)| {
        let mut v = v.clone();
        f(&mut v);
        serde_json::to_string(&v).unwrap()
    };
    let check = |text: String, why: &str| {
        std::fs::write(&bad, text).unwrap();
        let (_, code, err) = merge_json(&[&bad], &[]);
        assert_eq!(code, 4, "{why}: {err}");
        assert!(err.contains(why), "want {why:?}: {err}");
    };
    // Outcomes that add up to more than the count.
    check(
        edited(&|v| v["metrics"]["kinds"]["fallback"]["count"] = 1.into()),
        "a rate whose parts add up to more than its whole",
    );
    check(
        edited(&|v| v["metrics"]["kinds"]["fallback"]["count"] = u64::MAX.into()),
        "a count beyond any log",
    );
    check(
        edited(&|v| v["metrics"]["kinds"]["fallback"]["llm_latency"]["max"] = 1e300.into()),
        "a value beyond the largest accepted",
    );
    check(
        edited(&|v| v["metrics"]["first"][2] = "2030-01-01T00:00:00Z".into()),
        "text is not the time of its value",
    );
    // Two states (of two halves) each within bounds whose counts add up
    // beyond 2^53.
    let (_, _, b) = (0, 0, d.path().join("b"));
    let second = d.path().join("second.state");
    state_of(&b, &second, &[]);
    let big = (1u64 << 52) + 1;
    let huge = |v: &mut Value| {
        let f = &mut v["metrics"]["kinds"]["fallback"];
        f["count"] = (big + 1000).into();
        for e in f["outcomes"]["entries"].as_array_mut().unwrap() {
            if e[0] == "error" {
                e[1] = big.into();
            }
        }
    };
    let mut w: Value = serde_json::from_str(&std::fs::read_to_string(&second).unwrap()).unwrap();
    huge(&mut w);
    std::fs::write(&second, serde_json::to_string(&w).unwrap()).unwrap();
    std::fs::write(&bad, edited(&huge)).unwrap();
    let (_, code, err) = merge_json(&[&bad], &[]);
    assert_eq!(code, 0, "one is within bounds: {err}");
    let (_, code, err) = merge_json(&[&bad, &second], &[]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("add up beyond 2^53"), "{err}");
}

/// A state reformatted by Python's `json.dump(indent=2)` (or jq) is still
/// a state: it was refused as "not an aggmetrics state file".
#[test]
fn a_state_reformatted_by_python_is_read() {
    let (d, a, _) = halves();
    let st = d.path().join("a.state");
    state_of(&a, &st, &[]);
    let pretty = d.path().join("pretty.state");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&st).unwrap()).unwrap();
    std::fs::write(&pretty, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let (one, code, err) = merge_json(&[&st], &[]);
    assert_eq!(code, 0, "{err}");
    let (two, code, err) = merge_json(&[&pretty], &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(without_meta(one), without_meta(two));
}
