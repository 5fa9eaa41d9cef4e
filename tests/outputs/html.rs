//! `-f html`: one self-contained page per document, checked as text (no
//! script, no network reference, a strict CSP whose style hash matches,
//! every chart titled, no raw field value) and in a real browser: Debian's
//! Chromium renders each page headless; its DOM holds the SVG charts and
//! its screenshot is not blank and shows the charts' colours. `.ci/run`
//! installs Chromium and sets `AGGMETRICS_REQUIRE_TOOLS=1`; elsewhere a
//! missing browser skips the browser half.

use crate::common;

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

/// The rightmost column of a screenshot with ink in it.
fn rightmost_ink(png_path: &Path) -> usize {
    let dec = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(png_path).unwrap(),
    ));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    let ch = info.color_type.samples();
    let w = info.width as usize;
    let mut right = 0;
    for (i, p) in buf[..info.buffer_size()].chunks(ch).enumerate() {
        if p[0] < 245 || p[1] < 245 || p[2] < 245 {
            right = right.max(i % w);
        }
    }
    right
}

/// The SVG chart of `html` whose title is `title`.
fn chart<'h>(html: &'h str, title: &str) -> &'h str {
    html.split("<svg ")
        .find(|s| s.contains(&format!("<title>{title}</title>")))
        .unwrap_or_else(|| panic!("no chart '{title}'"))
        .split("</svg>")
        .next()
        .unwrap()
}

#[test]
fn the_rollout_compare_and_by_pages_say_what_they_show_and_fit_the_window() {
    let w = tempfile::tempdir().unwrap();
    let s = sample_logs().display().to_string();
    let v = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();

    // The rollout page.
    let risk = render(
        &v(&["risk", &s, "--stage", "1", "--by", "day"]),
        &w.path().join("risk.html"),
    );
    // Each rate's gates are written under its bar, not only in a tooltip.
    let rates = chart(&risk, "Partial-trust risk: rates with 95% Wilson intervals");
    assert!(
        rates.contains("gates: go &lt; 5.00% · alarm &gt; 5.00% | rollback &gt; 10.00%"),
        "{rates}"
    );
    assert!(
        rates.contains("gates: go &lt; 10.00% · alarm &gt; 10.00%"),
        "{rates}"
    );
    // Each per-day rate against its own thresholds: the intent-mismatch
    // chart has the 10% lines, not the error rate's 5%.
    let intent = chart(
        &risk,
        "Intent mismatch rate per UTC day (intent_mismatch_rate)",
    );
    assert!(
        intent.contains("alarm &gt; 10.00%") && !intent.contains("5.00%"),
        "{intent}"
    );
    let errors = chart(&risk, "Error rate per UTC day (error_rate)");
    assert!(
        errors.contains("go &lt; 5.00% · alarm &gt; 5.00%"),
        "{errors}"
    );
    // The per-day table has entity mismatch and acceptance; the criteria
    // table every value in its unit, the whole criterion and why.
    for h in [
        "<th>entity mismatch</th>",
        "<th>acceptance</th>",
        "<th>why</th>",
        "<th>bound</th>",
    ] {
        assert!(risk.contains(h), "{h}");
    }
    let criteria = &risk[risk.find("<caption>Criteria</caption>").unwrap()..];
    let criteria = &criteria[..criteria.find("</table>").unwrap()];
    assert!(
        !criteria.contains('…') && !criteria.contains("-0.0000"),
        "{criteria}"
    );
    assert!(
        !criteria.contains(".0000<"),
        "four decimals of a count: {criteria}"
    );
    for unit in [
        "113 records",
        "days</td>",
        " ms</td>",
        " min</td>",
        "%</td>",
    ] {
        assert!(criteria.contains(unit), "{unit}: {criteria}");
    }

    // The compare page: long step names that share their first 48
    // characters stay apart; unchanged figures are not charted.
    let long = "a_step_with_a_name_long_enough_to_be_cut_when_shown";
    let step_line = |i: u64, total: f64, a: f64, b: f64| {
        format!(
            "{{\"timestamp\": \"{}\", \"total_ms\": {total}, \"llm_enabled\": false, \"steps\": {{\"{long}_one\": {a}, \"{long}_two\": {b}}}}}\n",
            ts(i)
        )
    };
    for (name, scale) in [("a", 1.0), ("b", 1.5)] {
        let d = w.path().join(name);
        std::fs::create_dir(&d).unwrap();
        let text: String = (0..400)
            .map(|i| step_line(i, 100.0, (i % 50) as f64 * scale, (i % 40) as f64 * scale))
            .collect();
        std::fs::write(d.join("pipeline_latency.jsonl"), text).unwrap();
        let o = bin()
            .arg("summarize")
            .arg(&d)
            .args(["-q", "-f", "json", "-o"])
            .arg(w.path().join(format!("{name}.json")))
            .output()
            .unwrap();
        assert!(o.status.success());
    }
    let a = w.path().join("a.json").display().to_string();
    let b = w.path().join("b.json").display().to_string();
    let cmp = render(&v(&["compare", &a, &b]), &w.path().join("compare.html"));
    let dumbbells = chart(&cmp, "Regressions and the largest changes");
    // Each row's label as drawn, and its full text (a tooltip when cut).
    let rows: Vec<(&str, &str)> = dumbbells
        .split("text-anchor=\"end\"")
        .skip(1)
        .filter_map(|t| {
            let drawn = t.split('>').nth(1)?.split('<').next()?;
            let full = t
                .split("<title>")
                .nth(1)
                .filter(|_| drawn.contains('…'))
                .and_then(|x| x.split('<').next())
                .unwrap_or(drawn);
            Some((drawn, full))
        })
        .collect();
    let labels: Vec<&str> = rows.iter().map(|r| r.1).collect();
    let mut drawn: Vec<&str> = rows.iter().map(|r| r.0).collect();
    drawn.sort();
    drawn.dedup();
    assert_eq!(drawn.len(), rows.len(), "two labels drawn alike: {rows:?}");
    let mut unique = labels.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), labels.len(), "two labels alike: {labels:?}");
    // total_ms did not move (100 on both sides): not charted.
    assert!(!labels.iter().any(|l| l.contains("total_ms")), "{labels:?}");
    for step in ["one", "two"] {
        let want = format!("latency.all.steps.{long}_{step}.p95");
        assert!(labels.contains(&want.as_str()), "{want} in {labels:?}");
    }

    // The --by page names its period and what each column counts.
    let by = render(
        &v(&["summarize", &s, "--by", "hour"]),
        &w.path().join("by.html"),
    );
    assert!(by.contains("<title>aggmetrics summarize --by hour</title>"));
    assert!(by.contains("<th>records (all logs)</th>") && by.contains("<th>n (percentiles)</th>"));

    // Each page fits a 1280 px window: nothing drawn right of the body.
    let Some(exe) = chromium() else { return };
    for (name, page) in [
        ("risk", "risk.html"),
        ("compare", "compare.html"),
        ("by", "by.html"),
    ] {
        let shot = w.path().join(format!("{name}.png"));
        let st = browser(exe.as_path(), &w.path().join(format!("p-{name}")))
            .arg("--window-size=1280,3000")
            .arg(format!("--screenshot={}", shot.display()))
            .arg(format!("file://{}", w.path().join(page).display()))
            .output()
            .unwrap();
        assert!(st.status.success(), "{name}");
        // The body is 980 px wide, centred: it ends at 1130.
        let right = rightmost_ink(&shot);
        assert!(right <= 1135, "{name}: ink at x = {right}");
        if let Ok(dir) = std::env::var("AGGMETRICS_SCREENSHOTS") {
            std::fs::copy(&shot, Path::new(&dir).join(format!("{name}-1280.png"))).unwrap();
        }
    }
}
