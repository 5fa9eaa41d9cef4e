//! No output carries raw field values other than the categorical keys
//! aggregated by: ids, user text and damaged content stay out.

use crate::common;
use common::*;

#[test]
fn no_ids_or_user_text_in_any_output() {
    let s = sample_logs();
    let mut outputs = Vec::new();
    for args in [
        vec!["-f", "table"],
        vec!["-f", "json"],
        vec!["-f", "json", "--exact"],
        vec!["-f", "html"],
        vec!["-f", "markdown"],
        vec!["-f", "csv"],
        vec!["-f", "prometheus"],
        vec!["--strict"],
    ] {
        let out = bin().arg("summarize").arg(&s).args(&args).output().unwrap();
        outputs.push(String::from_utf8_lossy(&out.stdout).to_string());
        outputs.push(String::from_utf8_lossy(&out.stderr).to_string());
    }
    let logs: String = [
        "pipeline_latency.jsonl",
        "fallback_metrics.jsonl",
        "partial_trust_risk.jsonl",
    ]
    .iter()
    .map(|f| String::from_utf8_lossy(&std::fs::read(s.join(f)).unwrap()).to_string())
    .collect();
    assert!(
        logs.contains("cmd-0000") && logs.contains("trace-") && logs.contains("user_text"),
        "the sample logs hold ids and user text"
    );
    for o in &outputs {
        for needle in RAW_VALUES {
            assert!(!o.contains(needle), "output contains {needle:?}");
        }
    }
}

#[test]
fn categorical_keys_cannot_inject_terminal_escapes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fallback_metrics.jsonl"),
        "{\"timestamp\": \"2026-02-10T12:00:00+00:00\", \"llm_outcome\": \"evil\\u001b[31mred\", \"intent\": \"x\"}\n",
    )
    .unwrap();
    let out = bin()
        .args(["summarize", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains('\u{1b}'), "escape byte reached the terminal");
    assert!(text.contains("evil\\u{1b}[31mred"));
}

/// `--gates` or `--kinds` pointed at a log by mistake: a usage error that
/// quotes nothing of the log (it printed the log's first line, user text
/// included, in the TOML error).
#[test]
fn a_log_given_as_a_settings_file_is_not_quoted() {
    let s = sample_logs();
    let log = s.join("fallback_metrics.jsonl");
    let bytes = std::fs::read(&log).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let first = text.lines().next().unwrap();
    let user_text: &str = first
        .split("\"user_text\": \"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    // The first lines of the log (the whole sample holds damaged bytes).
    let d = tempfile::tempdir().unwrap();
    let copy = d.path().join("fallback_metrics.jsonl");
    let head: Vec<&str> = text.lines().take(20).collect();
    std::fs::write(&copy, head.join("\n")).unwrap();
    let log = copy.to_str().unwrap();
    for args in [
        vec!["risk", s.to_str().unwrap(), "--stage", "1", "--gates", log],
        vec!["summarize", s.to_str().unwrap(), "--kinds", log],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("is not valid TOML at line 1, column 1"),
            "{err}"
        );
        assert!(
            !err.contains(user_text) && !err.contains("cmd-0000"),
            "{err}"
        );
    }
}
