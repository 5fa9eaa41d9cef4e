//! `-f html`: one self-contained page per document, checked as text (no
//! script, no network reference, a strict CSP whose style hash matches,
//! every chart titled, no raw field value) and in a real browser: Debian's
//! Chromium renders each page headless; its DOM holds the SVG charts and
//! its screenshot is not blank and shows the charts' colours. `.ci/run`
//! installs Chromium and sets `AGGMETRICS_REQUIRE_TOOLS=1`; elsewhere a
//! missing browser skips the browser half.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn chromium() -> Option<PathBuf> {
    tool(
        &["chromium", "chromium-browser", "google-chrome"],
        "chromium",
    )
}

/// Chromium, headless, with nothing that reaches the network.
fn browser(exe: &Path, profile: &Path) -> Command {
    let mut c = Command::new(exe);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1000,1600",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Every document type, as (name, arguments), from the sample logs.
fn documents(w: &Path) -> Vec<(&'static str, Vec<String>)> {
    let s = sample_logs().display().to_string();
    let st = |name: &str| w.join(name).display().to_string();
    // Two reports for compare, two states for merge.
    for (args, out) in [
        (
            vec![
                "summarize",
                &s,
                "--until",
                "2026-02-11T00:00:00Z",
                "-f",
                "json",
            ],
            "a.json",
        ),
        (
            vec![
                "summarize",
                &s,
                "--since",
                "2026-02-11T00:00:00Z",
                "-f",
                "json",
            ],
            "b.json",
        ),
    ] {
        let o = bin()
            .args(&args)
            .arg("-q")
            .arg("-o")
            .arg(st(out))
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    for (w_, out) in [("--until", "a.state"), ("--since", "b.state")] {
        let o = bin()
            .args([
                "summarize",
                &s,
                w_,
                "2026-02-11T00:00:00Z",
                "-q",
                "-o",
                "/dev/null",
                "--state-out",
            ])
            .arg(st(out))
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    let access = format!("{}/docs/examples/access.jsonl", env!("CARGO_MANIFEST_DIR"));
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        ("summarize", v(&["summarize", &s])),
        ("buckets", v(&["summarize", &s, "--by", "hour"])),
        ("risk", v(&["risk", &s, "--stage", "1", "--by", "day"])),
        ("compare", v(&["compare", &st("a.json"), &st("b.json")])),
        ("merge", v(&["merge", &st("a.state"), &st("b.state")])),
        (
            "stats",
            v(&[
                "stats", &access, "--value", "timing.*", "--by", "route", "--count", "status",
            ]),
        ),
        ("shadow", v(&["shadow", &s])),
    ]
}

fn render(args: &[String], out: &Path) -> String {
    let o = bin()
        .args(args)
        .args(["-q", "-f", "html", "-o"])
        .arg(out)
        .env("AGGMETRICS_NOW", "2026-02-11T13:00:00Z")
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    std::fs::read_to_string(out).unwrap()
}

/// The page stands alone and runs nothing.
fn check_text(name: &str, html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
    let csp = "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#x27;none&#x27;; style-src &#x27;sha256-";
    assert!(html.contains(csp), "{name}: no strict CSP");
    for banned in [
        "<script", "src=", "href=", "@import", "url(", "<link", "<iframe", "<img",
    ] {
        assert!(!html.contains(banned), "{name}: {banned}");
    }
    // No network reference: the SVG namespace is a name, not a fetch.
    let rest = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(
        !rest.contains("http://") && !rest.contains("https://"),
        "{name}"
    );
    // Every chart has an accessible title, and the numbers in a table.
    let svgs = html.matches("<svg ").count();
    assert!(svgs >= 1, "{name}: no chart");
    assert_eq!(
        html.matches("<svg ").count(),
        html.matches("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\"")
            .count()
    );
    assert_eq!(html.matches("</svg>").count(), svgs, "{name}");
    let titled = html
        .split("<svg ")
        .skip(1)
        .filter(|s| s.contains("<title>"))
        .count();
    assert_eq!(titled, svgs, "{name}");
    assert!(html.contains("<table"), "{name}: no table");
    // The style's hash is the one the CSP allows.
    let style = html
        .split("<style>")
        .nth(1)
        .unwrap()
        .split("</style>")
        .next()
        .unwrap();
    let hash = sha256_base64(style.as_bytes());
    assert!(
        html.contains(&format!("sha256-{}", hash.replace('/', "&#x2f;")))
            || html.contains(&format!("sha256-{hash}")),
        "{name}: CSP hash"
    );
    // Raw values of the logs stay out (as in every format).
    for needle in RAW_VALUES {
        assert!(!html.contains(needle), "{name}: {needle}");
    }
}

/// SHA-256 by `sha256sum`, base64 by hand: the test checks the page's
/// CSP against an independent hash.
fn sha256_base64(data: &[u8]) -> String {
    use std::io::Write;
    let mut c = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(data).unwrap();
    let out = String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap();
    let hex = out.split_whitespace().next().unwrap();
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for ch in bytes.chunks(3) {
        let n = (ch[0] as u32) << 16
            | (*ch.get(1).unwrap_or(&0) as u32) << 8
            | *ch.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= ch.len() {
                s.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Pixels of a PNG: (all, not white, near the chart palette's blue).
fn pixels(png_path: &Path) -> (usize, usize, usize) {
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let (mut ink, mut blue) = (0, 0);
    for p in px.chunks(ch) {
        let (r, g, b) = (p[0] as i32, p[1] as i32, p[2] as i32);
        if r < 245 || g < 245 || b < 245 {
            ink += 1;
        }
        // #0072b2, the first series colour.
        if r < 30 && (g - 0x72).abs() < 30 && (b - 0xb2).abs() < 30 {
            blue += 1;
        }
    }
    (px.len() / ch, ink, blue)
}

#[test]
fn every_document_is_a_self_contained_page_with_charts() {
    let w = tempfile::tempdir().unwrap();
    let browser_exe = chromium();
    for (name, args) in documents(w.path()) {
        let out = w.path().join(format!("{name}.html"));
        let html = render(&args, &out);
        check_text(name, &html);
        let Some(exe) = &browser_exe else { continue };
        let profile = w.path().join(format!("profile-{name}"));
        // The DOM the browser built holds the SVG charts.
        let dom = browser(exe, &profile)
            .arg("--dump-dom")
            .arg(format!("file://{}", out.display()))
            .output()
            .unwrap();
        let dom = String::from_utf8_lossy(&dom.stdout);
        assert_eq!(
            dom.matches("<svg").count(),
            html.matches("<svg ").count(),
            "{name}: the browser's DOM"
        );
        assert!(dom.contains("<polyline") || dom.contains("<rect"), "{name}");
        // The screenshot is not blank: ink, and the charts' blue.
        let shot = w.path().join(format!("{name}.png"));
        let st = browser(exe, &profile)
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", out.display()))
            .output()
            .unwrap();
        assert!(
            st.status.success() && shot.exists(),
            "{name}: no screenshot"
        );
        let (all, ink, blue) = pixels(&shot);
        assert!(ink * 50 > all, "{name}: {ink} of {all} pixels drawn");
        assert!(blue > 500, "{name}: {blue} pixels of chart blue");
        if let Ok(dir) = std::env::var("AGGMETRICS_SCREENSHOTS") {
            std::fs::copy(&shot, Path::new(&dir).join(format!("{name}.png"))).unwrap();
        }
    }
}

#[test]
fn html_snapshots() {
    let w = tempfile::tempdir().unwrap();
    let docs = documents(w.path());
    for (name, args) in docs
        .iter()
        .filter(|(n, _)| ["summarize", "risk"].contains(n))
    {
        let html = render(args, &w.path().join("x.html"))
            .replace(env!("CARGO_MANIFEST_DIR"), "<repo>")
            // The page escapes `/` in text.
            .replace(&env!("CARGO_MANIFEST_DIR").replace('/', "&#x2f;"), "<repo>");
        insta::assert_snapshot!(format!("html_{name}"), html);
    }
}

/// A quiet window and an empty folder say so, and draw nothing that could
/// read as a healthy zero.
#[test]
fn quiet_and_empty_pages_say_so() {
    let w = tempfile::tempdir().unwrap();
    let s = sample_logs().display().to_string();
    let quiet = render(
        &["summarize", &s, "--since", "2030-01-01T00:00:00Z"].map(String::from),
        &w.path().join("q.html"),
    );
    assert_eq!(quiet.matches("<svg").count(), 0);
    assert!(quiet.contains("No records here"), "{quiet}");
    let empty_dir = tempfile::tempdir().unwrap();
    let empty = render(
        &[
            "summarize".to_string(),
            empty_dir.path().display().to_string(),
        ],
        &w.path().join("e.html"),
    );
    assert!(empty.contains("No log file was found"), "{empty}");
}
