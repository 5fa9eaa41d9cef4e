//! `aggmetrics serve` (issue 33, first slice): a process follows a folder
//! while lines are appended (a damaged one among them), the file is
//! rotated by rename and created again, and then copytruncated; /metrics
//! then holds the same figures as `summarize -f prometheus` over the same
//! files, and stalled clients do not keep it from answering.

use crate::common;
use common::*;

use std::io::{BufRead, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

struct Served {
    child: Child,
    port: u16,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Served {
    let mut child = std::process::Command::new(bin_path())
        .args([
            "serve",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--interval-ms",
            "50",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches("/metrics\n").parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Served { child, port }
}

/// A GET over a plain socket: (status line, body).
/// (Empty when the connection was refused or closed: past the bound on
/// connections.)
fn get(port: u16, path: &str) -> (String, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (String::new(), String::new());
    };
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// The series of an exposition, without the labels that name the run,
/// and with serve's counters (`x_total`) named as summarize's gauges (`x`).
fn series(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("aggmetrics_latency") || l.starts_with("aggmetrics_skipped"))
        .map(|l| {
            let cut = l.find(['{', ' ']).unwrap_or(l.len());
            let (name, rest) = l.split_at(cut);
            format!("{}{rest}", name.trim_end_matches("_total"))
                .replace("command=\"serve\",run=\"serve\",", "")
                .replace("command=\"summarize\",run=\"\",", "")
                .replace("{command=\"serve\",run=\"serve\"}", "")
                .replace("{command=\"summarize\",run=\"\"}", "")
        })
        .collect();
    v.sort();
    v
}

/// Wait until /metrics equals what `summarize` says of `dir`.
fn settles(port: u16, dir: &std::path::Path) {
    let out = bin()
        .args(["summarize", dir.to_str().unwrap(), "-f", "prometheus", "-q"])
        .output()
        .unwrap();
    let want = series(&String::from_utf8_lossy(&out.stdout));
    assert!(want
        .iter()
        .any(|l| l.starts_with("aggmetrics_latency_records")));
    let t = Instant::now();
    loop {
        let got = series(&get(port, "/metrics").1);
        if got == want {
            return;
        }
        if t.elapsed() > Duration::from_secs(10) {
            assert_eq!(got, want);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn serve_follows_appends_rotation_and_copytruncate_as_summarize_counts_them() {
    let d = disk_dir();
    let log = d.path().join("pipeline_latency.jsonl");
    let lines: Vec<String> = records_text(300);
    std::fs::write(&log, lines[..100].concat()).unwrap();
    let s = start(d.path());
    settles(s.port, d.path());
    // Appends, a damaged line among them, and half a line at the end.
    let mut w = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    w.write_all(lines[100..150].concat().as_bytes()).unwrap();
    w.write_all(b"{\"timestamp\": \"2026-02-10T12:00:00Z\", \"total_ms\": \n")
        .unwrap();
    w.write_all(&lines[150].as_bytes()[..30]).unwrap();
    settles(s.port, d.path());
    w.write_all(&lines[150].as_bytes()[30..]).unwrap();
    settles(s.port, d.path());
    // Rotated by rename; the writer writes on to the old file, then a new
    // one is created.
    std::fs::rename(&log, d.path().join("pipeline_latency.jsonl.1")).unwrap();
    w.write_all(lines[151..160].concat().as_bytes()).unwrap();
    std::fs::write(&log, lines[160..200].concat()).unwrap();
    settles(s.port, d.path());
    // copytruncate: .1's content copied to .2, .1 emptied and written on.
    let one = d.path().join("pipeline_latency.jsonl.1");
    std::fs::copy(&one, d.path().join("pipeline_latency.jsonl.2")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&one)
        .unwrap()
        .set_len(0)
        .unwrap();
    std::fs::write(&one, lines[200..300].concat()).unwrap();
    settles(s.port, d.path());
    let (status, body) = get(s.port, "/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(body.starts_with("ok: following 3 files"), "{body}");
    // What only grows is a counter, for rate() and increase(); what may
    // fall (a percentile) stays a gauge. promtool passes the page.
    let (_, page) = get(s.port, "/metrics");
    for typed in [
        "# TYPE aggmetrics_latency_records_total counter",
        "# TYPE aggmetrics_skipped_lines_total counter",
        "# TYPE aggmetrics_latency_total_seconds histogram",
        "# TYPE aggmetrics_latency_total_percentile_seconds gauge",
    ] {
        assert!(page.contains(typed), "{typed} in {page}");
    }
    assert!(!page.contains("# TYPE aggmetrics_latency_records gauge"));
    if let Some(promtool) = tool(&["promtool"], "prometheus") {
        promtool_check_metrics(&promtool, page.as_bytes(), "/metrics");
    }
}

#[test]
fn stalled_and_unknown_requests_do_not_stop_it() {
    let d = disk_dir();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        records_text(10).concat(),
    )
    .unwrap();
    let s = start(d.path());
    // Clients that connect and never finish their headers.
    let stalled: Vec<TcpStream> = (0..100)
        .map(|_| {
            let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
            let _ = c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n");
            c
        })
        .collect();
    let t = Instant::now();
    let (status, _) = get(s.port, "/healthz");
    // Past the bound of connections a new one may be closed at once: try
    // again once the header timeout frees the stalled ones.
    let status = if status.contains("200") {
        status
    } else {
        std::thread::sleep(Duration::from_secs(6));
        get(s.port, "/healthz").0
    };
    assert!(status.contains("200"), "{status}");
    assert!(t.elapsed() < Duration::from_secs(10));
    drop(stalled);
    assert!(get(s.port, "/nope").0.contains("404"));
    let (status, body) = get(s.port, "/metrics");
    assert!(status.contains("200"));
    assert!(body.contains("aggmetrics_latency_records"), "{body}");
}

/// `n` latency lines, each with its newline.
fn records_text(n: usize) -> Vec<String> {
    latency_lines(&(0..n).map(|i| (i % 97) as f64 + 0.25).collect::<Vec<_>>())
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn an_address_it_cannot_listen_on_is_exit_5() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let d = disk_dir();
    let out = bin()
        .args(["serve", d.path().to_str().unwrap(), "--listen", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot listen on"));
}
