//! What reads aggmetrics' output must not be turned against its user by
//! keys and file names from the logs: a spreadsheet opening the CSV, a
//! Markdown processor, a terminal showing any output or message.

use crate::common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Keys a client controls, each in a `route` field.
const KEYS: &[&str] = &[
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\tx=1",
    "\rx=1",
    "\u{1b}]0;pwned\u{7}",
    "nul\u{0}byte",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "`code` [link](javascript:alert(1))",
    "a|b",
];

fn hostile_log() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (i, k) in KEYS.iter().enumerate() {
        let line = serde_json::json!({"route": k, "ms": i + 1, "kind": k});
        text.push_str(&line.to_string());
        text.push('\n');
    }
    std::fs::write(d.path().join("app.jsonl"), text).unwrap();
    d
}

fn stats(dir: &Path, format: &str) -> Vec<u8> {
    let out = common::bin()
        .args([
            "stats",
            dir.to_str().unwrap(),
            "--by",
            "route",
            "--value",
            "ms",
        ])
        .args(["--count", "kind", "--value", "*", "-q", "-f", format])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// No byte that moves a terminal: ESC, BEL, NUL, CR, backspace...
fn assert_no_control(what: &str, bytes: &[u8]) {
    let bad: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f)
        .collect();
    assert!(bad.is_empty(), "{what}: control bytes {bad:?}");
}

#[test]
fn csv_cells_never_start_a_formula() {
    let d = hostile_log();
    let csv = stats(d.path(), "csv");
    assert_no_control("csv", &csv);
    // Parsed as a spreadsheet would (Python's csv module, RFC 4180).
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import csv,sys,json; print(json.dumps([c for r in csv.reader(sys.stdin) for c in r]))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&csv)?;
            c.wait_with_output()
        });
    let cells: Vec<String> = match out {
        Ok(o) if o.status.success() => serde_json::from_slice(&o.stdout).unwrap(),
        _ if std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none() => {
            eprintln!("skipped: python3 is not installed");
            return;
        }
        _ => panic!("python3 could not parse the CSV"),
    };
    let mut keys_seen = 0;
    for c in &cells {
        let formula = c.starts_with(['=', '+', '-', '@', '\t', '\r']);
        assert!(
            !formula || c.parse::<f64>().is_ok(),
            "a cell a spreadsheet runs: {c:?}"
        );
        if c.starts_with("'=cmd") || c.starts_with("'@SUM") || c.starts_with("'-2+3") {
            keys_seen += 1;
        }
    }
    // The keys are there, neutralised (as group keys and count values).
    assert!(keys_seen >= 3, "{cells:?}");
}

#[test]
fn markdown_passes_no_html_or_link_from_a_key() {
    let d = hostile_log();
    let md = stats(d.path(), "markdown");
    assert_no_control("markdown", &md);
    let text = String::from_utf8(md.clone()).unwrap();
    assert!(!text.contains('<'), "{text}");
    // A Markdown processor that passes raw HTML through (cmark --unsafe,
    // as python-markdown and many wikis do): no tag and no link from a key.
    let out = std::process::Command::new("cmark")
        .arg("--unsafe")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(&md)?;
            c.wait_with_output()
        });
    let html = match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap(),
        _ if std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none() => {
            eprintln!("skipped: cmark is not installed");
            return;
        }
        _ => panic!("cmark failed"),
    };
    for bad in ["<script", "<img", "<a ", "<code>"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    // The keys are shown as text.
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(html.contains("[link](javascript:alert(1))"), "{html}");
}

#[test]
fn no_output_format_writes_a_control_character_from_a_key() {
    let d = hostile_log();
    for f in ["table", "csv", "markdown", "prometheus", "html", "json"] {
        assert_no_control(f, &stats(d.path(), f));
    }
    // Prometheus: the label value shows the escape as text.
    let prom = String::from_utf8(stats(d.path(), "prometheus")).unwrap();
    assert!(prom.contains(r#"route=\\u{1b}]0;pwned\\u{7}"#), "{prom}");
}

fn name(bytes: &[u8]) -> PathBuf {
    PathBuf::from(OsStr::from_bytes(bytes))
}

#[test]
fn a_file_name_with_escapes_is_printed_escaped() {
    let d = tempfile::tempdir().unwrap();
    let f = d
        .path()
        .join(name(b"pipeline_latency\x1b]0;pwned\x07.jsonl"));
    let mut text = std::fs::read_to_string(common::sample_logs().join("pipeline_latency.jsonl"))
        .unwrap()
        .lines()
        .take(5)
        .collect::<Vec<_>>()
        .join("\n");
    text.push_str("\n{damaged\n");
    std::fs::write(&f, text).unwrap();
    for args in [vec!["-f", "table"], vec!["-f", "csv"], vec!["-f", "json"]] {
        let out = common::bin()
            .arg("summarize")
            .arg(d.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_no_control("stdout", &out.stdout);
        assert_no_control("stderr", &out.stderr);
        // The table's "first at" line and the JSON's meta.inputs name it.
        let all = String::from_utf8_lossy(&out.stdout);
        let want = match args[1] {
            "table" => r"pipeline_latency\u{1b}]0;pwned\u{7}.jsonl:6",
            "json" => r"pipeline_latency\\u{1b}]0;pwned\\u{7}.jsonl",
            _ => "",
        };
        assert!(all.contains(want), "{}: {all}", args[1]);
    }
    // Named on the command line, missing: the error names it escaped.
    let missing = d.path().join(name(b"gone\x1b[2J.jsonl"));
    let out = common::bin()
        .arg("summarize")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_no_control("stderr", &out.stderr);
    assert!(String::from_utf8_lossy(&out.stderr).contains(r"gone\u{1b}[2J.jsonl"));
}

#[test]
fn a_non_utf8_file_name_is_read_and_named() {
    let d = tempfile::tempdir().unwrap();
    let sample =
        std::fs::read_to_string(common::sample_logs().join("pipeline_latency.jsonl")).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        lines[..10].join("\n") + "\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join(name(b"pipeline_latency-h\xff\xfe.jsonl")),
        lines[10..25].join("\n") + "\n",
    )
    .unwrap();
    let (v, out) = common::summarize_json(&[d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    // Both files read (was: the second passed over without a word).
    assert_eq!(v["latency"]["all"]["count"], 25, "{}", v["meta"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r"pipeline_latency-h\xff\xfe.jsonl: a file name that is not UTF-8"),
        "{err}"
    );
    let paths: Vec<&str> = v["meta"]["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert!(
        paths
            .iter()
            .any(|p| p.ends_with(r"pipeline_latency-h\xff\xfe.jsonl")),
        "{paths:?}"
    );
}
