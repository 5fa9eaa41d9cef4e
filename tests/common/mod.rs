//! Helpers shared by the integration tests: run the binary, read its JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub fn bin() -> Command {
    Command::cargo_bin("aggmetrics").expect("binary built")
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn sample_logs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

/// Run `summarize ARGS --format json`; return the report and the output.
pub fn summarize_json(args: &[&str]) -> (Value, Output) {
    let out = bin()
        .arg("summarize")
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("runs");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (v, out)
}

/// The value at a dotted key path (`latency.all.total_ms.p95`).
pub fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for k in path.split('.') {
        cur = cur
            .get(k)
            .unwrap_or_else(|| panic!("no key {k} in path {path}"));
    }
    cur
}

/// A report without `meta` (which names the inputs and how they were read).
pub fn without_meta(mut v: Value) -> Value {
    v.as_object_mut().expect("object").remove("meta");
    v
}

/// Lines of a latency log with the given totals, one second apart.
pub fn latency_lines(totals: &[f64]) -> String {
    totals
        .iter()
        .enumerate()
        .map(|(i, t)| {
            format!(
                "{{\"timestamp\": \"2026-02-10T12:{:02}:{:02}+00:00\", \"command_id\": \"cmd-{i}\", \"total_ms\": {t}, \"steps\": {{\"core_logic_ms\": {t}}}, \"llm_enabled\": {}}}\n",
                (i / 60) % 60,
                i % 60,
                i % 3 == 0
            )
        })
        .collect()
}
