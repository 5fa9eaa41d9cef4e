//! User-defined kinds: a kinds file (TOML) makes `summarize` recognise
//! more JSONL logs in a folder and report each as its own section, in
//! every format, through windows, states and merges. Uses the kinds files
//! shipped in docs/kinds/ and the example logs of docs/examples/.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn kinds(name: &str) -> String {
    root().join("docs/kinds").join(name).display().to_string()
}

/// A folder with the platform's sample logs, an assist log and an access
/// log (its name rotated, to show rotation suffixes work).
fn folder() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(sample_logs()).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, d.path().join(p.file_name().unwrap())).unwrap();
    }
    let ex = root().join("docs/examples");
    std::fs::copy(ex.join("assist.jsonl"), d.path().join("assist.jsonl")).unwrap();
    std::fs::copy(ex.join("access.jsonl"), d.path().join("access.jsonl.1")).unwrap();
    d
}

fn with_kinds(dir: &Path, extra: &[&str]) -> (Value, std::process::Output) {
    let a = kinds("assist.toml");
    let b = kinds("access.toml");
    let mut args = vec![dir.to_str().unwrap(), "--kinds", &a, "--kinds", &b, "-q"];
    args.extend_from_slice(extra);
    summarize_json(&args)
}

#[test]
fn summarize_reports_each_user_kind_as_stats_would() {
    let d = folder();
    let (v, out) = with_kinds(d.path(), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The built-in sections are unchanged by the extra logs.
    let (plain, _) = summarize_json(&[sample_logs().to_str().unwrap(), "-q"]);
    for k in ["latency", "fallback", "risk", "shadow", "time_range"] {
        assert_eq!(v[k], plain[k], "{k}");
    }
    // Each user kind's section is what `stats` computes with its spec.
    let ex = root().join("docs/examples");
    let (assist, _) = run_json(
        "stats",
        &[
            ex.join("assist.jsonl").to_str().unwrap(),
            "--value",
            "latency_ms",
            "--value",
            "agent_hint_latency_ms",
            "--by",
            "step",
            "--count",
            "status",
            "--count",
            "error_type",
            "--count",
            "accepted",
            "-q",
        ],
    );
    let (access, _) = run_json(
        "stats",
        &[
            ex.join("access.jsonl").to_str().unwrap(),
            "--value",
            "timing.*",
            "--by",
            "route",
            "--count",
            "status",
            "--count",
            "model",
            "-q",
        ],
    );
    for k in ["groups", "total", "records", "spec", "time_range"] {
        assert_eq!(v["assist"][k], assist[k], "assist {k}");
        assert_eq!(v["access"][k], access[k], "access {k}");
    }
    assert_eq!(v["assist"]["records"], 300);
    // The access log's damaged last line is counted with the run's.
    assert_eq!(
        v["skipped"]["total"].as_u64().unwrap(),
        plain["skipped"]["total"].as_u64().unwrap() + 1
    );
    // Without the kinds file those logs are not read.
    let (bare, _) = summarize_json(&[d.path().to_str().unwrap(), "-q"]);
    assert!(bare.get("assist").is_none() && bare.get("access").is_none());
    assert_eq!(bare["meta"]["inputs"].as_array().unwrap().len(), 4);
}

#[test]
fn every_format_shows_user_sections() {
    let d = folder();
    let a = kinds("assist.toml");
    for (f, want) in [
        ("table", "assist (300 records)"),
        ("markdown", "**assist (300 records)**"),
        ("csv", "assist.total.values.latency_ms.p95,"),
        (
            "prometheus",
            // A kinds file's kind under `kind_`, never in a built-in family.
            "aggmetrics_kind_assist_value_percentile{command=\"summarize\",run=\"\",value=\"latency_ms\",group=\"(all)\",percentile=\"95\"}",
        ),
    ] {
        let out = bin()
            .args([
                "summarize",
                d.path().to_str().unwrap(),
                "--kinds",
                &a,
                "-q",
                "-f",
                f,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{f}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(want), "{f}: no {want:?} in\n{text}");
        assert!(!text.contains("private question"), "{f}");
    }
}

#[test]
fn the_default_kinds_file_is_read_from_the_config_dir() {
    let d = folder();
    let cfg = tempfile::tempdir().unwrap();
    std::fs::create_dir(cfg.path().join("aggmetrics")).unwrap();
    std::fs::copy(
        kinds("assist.toml"),
        cfg.path().join("aggmetrics/kinds.toml"),
    )
    .unwrap();
    let out = bin()
        .args(["summarize", d.path().to_str().unwrap(), "-q", "-f", "json"])
        .env("XDG_CONFIG_HOME", cfg.path())
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["assist"]["records"], 300);
    // A wrong kinds file is a usage error that names it, before reading.
    std::fs::write(
        cfg.path().join("aggmetrics/kinds.toml"),
        "[[kind]]\nname = \"latency\"\nfiles = \"x*.jsonl\"\nvalues = [\"a\"]\n",
    )
    .unwrap();
    let out = bin()
        .args(["summarize", d.path().to_str().unwrap(), "-q"])
        .env("XDG_CONFIG_HOME", cfg.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("kinds.toml") && err.contains("taken"), "{err}");
    for bad in [
        "[[kind]]\nname = \"a\"\nfiles = \"*\"\nvalues = [\"x\"]\n",
        "[[kind]]\nname = \"a\"\nfiles = \"logs/a*.json\"\nvalues = [\"x\"]\n",
        "[[kind]]\nname = \"a\"\nfiles = \"a*.jsonl\"\n",
        "[[kind]]\nname = \"a\"\nfiles = \"a*.jsonl\"\nvalue = [\"x\"]\n",
        "[[kind]]\nname = \"a\"\nfiles = \"a*.jsonl\"\nvalues = [\"x\"]\n[[kind]]\nname = \"b\"\nfiles = \"a*.jsonl\"\nvalues = [\"x\"]\n",
    ] {
        let f = cfg.path().join("bad.toml");
        std::fs::write(&f, bad).unwrap();
        let out = bin()
            .args(["summarize", d.path().to_str().unwrap(), "-q", "--kinds"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
    }
}

#[test]
fn daily_states_with_user_kinds_merge_to_one_pass_and_fail_on_reads_them() {
    let d = folder();
    let dir = d.path().to_str().unwrap();
    let st = tempfile::tempdir().unwrap();
    let a = kinds("assist.toml");
    let b = kinds("access.toml");
    let mut states: Vec<PathBuf> = Vec::new();
    for (day, f) in [("2026-02-10", "a.state"), ("2026-02-11", "b.state")] {
        let p = st.path().join(f);
        bin()
            .args([
                "summarize",
                dir,
                "--kinds",
                &a,
                "--kinds",
                &b,
                "-q",
                "-o",
                "/dev/null",
            ])
            .args(["--day", day, "--state-out"])
            .arg(&p)
            .assert()
            .success();
        states.push(p);
    }
    let merged = merge_ok(&states);
    let (once, _) = with_kinds(
        d.path(),
        &["--since", "2026-02-10", "--until", "2026-02-12"],
    );
    for k in ["assist", "access", "latency", "fallback"] {
        assert_eq!(merged[k]["groups"], once[k]["groups"], "{k}");
    }
    // --fail-on on a user kind's key, judged on the report.
    let (_, out) = with_kinds(
        d.path(),
        &["--fail-on", "assist.total.values.latency_ms.p95>200"],
    );
    assert_eq!(out.status.code(), Some(1));
    let (_, out) = with_kinds(
        d.path(),
        &["--fail-on", "assist.total.values.latency_ms.p95>2000"],
    );
    assert_eq!(out.status.code(), Some(0));
}

/// A kinds file whose files can never match (inside a built-in kind's
/// names, which are read as that kind) is a usage error, not a kind that
/// quietly reads nothing.
#[test]
fn a_kind_inside_a_built_in_kinds_names_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let k = d.path().join("k.toml");
    std::fs::write(
        &k,
        "[[kind]]\nname = \"mine\"\nfiles = \"fallback_metrics_eu*.jsonl\"\nvalues = [\"x\"]\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "--kinds",
            k.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("can never match") && err.contains("built-in fallback"),
        "{err}"
    );
}

/// A kinds file names logs as their programs write them: Suricata's
/// `eve.json` (and logrotate's `eve.json.1`), Caddy's `access.log`, Zeek's
/// gzipped `ssh.json.gz`, by globs; a file two patterns match is said.
/// Expected counts are the files' own line counts.
#[test]
fn kinds_file_globs_read_real_logs_under_their_own_names() {
    let d = tempfile::tempdir().unwrap();
    let eve = std::fs::read_to_string(fixture("realworld/suricata_eve_full.json")).unwrap();
    let (a, b) = eve.split_at(eve.match_indices('\n').nth(99).unwrap().0 + 1);
    std::fs::write(d.path().join("eve.json"), b).unwrap();
    std::fs::write(d.path().join("eve.json.1"), a).unwrap();
    std::fs::copy(
        fixture("realworld/caddy_access.log"),
        d.path().join("access.log"),
    )
    .unwrap();
    std::fs::copy(
        fixture("realworld/zeek_ssh.json.gz"),
        d.path().join("ssh.json.gz"),
    )
    .unwrap();
    let caddy_lines = std::fs::read_to_string(fixture("realworld/caddy_access.log"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count() as u64;
    let toml = d.path().join("kinds.toml");
    std::fs::write(
        &toml,
        r#"
[[kind]]
name = "suricata"
files = "eve*.json"
by = ["event_type"]
values = ["flow.bytes_toserver"]

[[kind]]
name = "caddy"
files = "*access.log"
time = "ts"
values = ["duration"]

[[kind]]
name = "ssh"
files = "ssh.json"
time = "ts"
count = ["auth_success"]
"#,
    )
    .unwrap();
    let (v, out) = summarize_json(&[
        d.path().to_str().unwrap(),
        "--kinds",
        toml.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["suricata"]["records"], 253);
    assert_eq!(v["caddy"]["records"], caddy_lines);
    assert_eq!(v["ssh"]["records"], 22);
    assert_eq!(v["meta"]["inputs"].as_array().unwrap().len(), 4);
    // A second kind whose pattern also takes eve.json: said, and the
    // file is read once, as the first kind.
    let mut t = std::fs::read_to_string(&toml).unwrap();
    t.push_str("\n[[kind]]\nname = \"any_json\"\nfiles = \"*.json\"\ncount = [\"event_type\"]\n");
    std::fs::write(&toml, t).unwrap();
    let (v, out) = summarize_json(&[
        d.path().to_str().unwrap(),
        "--kinds",
        toml.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("eve.json: matches the kinds file's files = \"eve*.json\" and \"*.json\""),
        "{err}"
    );
    assert_eq!(v["suricata"]["records"], 253);
}
