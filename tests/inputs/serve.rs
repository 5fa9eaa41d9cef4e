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
    /// What it said on standard error before it listened.
    said: String,
}

/// Stop serve as systemd does (SIGTERM): its exit code.
fn terminate(mut s: Served) -> Option<i32> {
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(s.child.id() as i32, libc::SIGTERM) }, 0);
    s.child.wait().unwrap().code()
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(dir: &std::path::Path) -> Served {
    start_with(dir, &[])
}

fn start_with(dir: &std::path::Path, more: &[&str]) -> Served {
    start_at(dir, 0, more)
}

/// serve on `port` (0: any), following `dir`.
fn start_at(dir: &std::path::Path, port: u16, more: &[&str]) -> Served {
    let mut child = std::process::Command::new(bin_path())
        .args([
            "serve",
            dir.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--interval-ms",
            "50",
        ])
        .args(more)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    let mut line = String::new();
    while err.read_line(&mut line).unwrap() > 0 && !line.contains("listening on") {
        said.push_str(&line);
        line.clear();
    }
    let port = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches("/metrics\n").parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Served { child, port, said }
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
    series_of(text, &["aggmetrics_latency", "aggmetrics_skipped"])
}

/// [`series`] of the families whose names start with one of `prefixes`.
fn series_of(text: &str, prefixes: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| prefixes.iter().any(|p| l.starts_with(p)))
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
    settles_with(port, dir, &[]);
}

/// Wait until /metrics equals what `summarize ... more` says of `dir`.
fn settles_with(port: u16, dir: &std::path::Path, more: &[&str]) {
    let out = bin()
        .args(["summarize", dir.to_str().unwrap(), "-f", "prometheus", "-q"])
        .args(more)
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
    // serve's own state: the files it follows, the minutes kept for
    // /report (each minute with a record or a damaged line), its heap.
    let own = |name: &str| {
        page.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in {page}"))
    };
    assert_eq!(own("aggmetrics_serve_files_followed"), 3);
    let minutes: std::collections::BTreeSet<String> = lines
        .iter()
        .map(|l| l.split('"').nth(3).unwrap()[..16].to_string())
        .chain(["2026-02-10T12:00".to_string()])
        .collect();
    assert_eq!(own("aggmetrics_serve_sub_windows"), minutes.len() as u64);
    let heap = own("aggmetrics_serve_heap_bytes");
    assert!(heap > 100_000 && heap < 256 << 20, "{heap} bytes");
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

/// Started afresh beside history logrotate compressed, serve says that
/// it does not read it (its records would be in no figure, silently);
/// beside plain files only, it says nothing of the kind.
#[test]
fn compressed_history_it_does_not_read_is_said() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let d = disk_dir();
    std::fs::write(
        d.path().join("pipeline_latency.jsonl"),
        records_text(3).concat(),
    )
    .unwrap();
    let run = || {
        let out = bin()
            .args(["serve", d.path().to_str().unwrap(), "--listen", &addr])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(5), "the address is taken");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    assert!(!run().contains("compressed"));
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(d.path().join("pipeline_latency.jsonl.1.gz")).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(records_text(5).concat().as_bytes()).unwrap();
    gz.finish().unwrap();
    let said = run();
    assert!(
        said.contains("1 compressed file under the paths is not read")
            && said.contains("pipeline_latency.jsonl.1.gz")
            && said.contains("summarize reads them"),
        "{said}"
    );
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

/// Append `text` to `path`.
fn append(path: &std::path::Path, text: &str) {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
}

/// gzip `from` into `to` and remove `from`, as logrotate's compress does.
fn gzip(from: &std::path::Path, to: &std::path::Path) {
    let mut z = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::default(),
    );
    z.write_all(&std::fs::read(from).unwrap()).unwrap();
    z.finish().unwrap();
    std::fs::remove_file(from).unwrap();
}

/// The checkpoint: killed with -9 long after it was written, the restart
/// reads again exactly what came after it; stopped with SIGTERM, it is
/// written then; and the files rotated, copied and truncated, and
/// compressed while it was stopped are each found and read on from where
/// they were. After every restart /metrics is what summarize says of
/// the folder: no line twice, none missed.
#[test]
fn a_restart_from_the_checkpoint_counts_every_line_once() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let cp = d.path().join("serve.checkpoint");
    let log = logs.join("pipeline_latency.jsonl");
    let lines = records_text(400);
    // Half a line at the end when the first checkpoint is written.
    std::fs::write(
        &log,
        format!("{}{}", lines[..50].concat(), &lines[50][..25]),
    )
    .unwrap();
    let cp_arg = cp.to_str().unwrap();
    // The checkpoint is written at start and then not for an hour: what
    // is read after the start is read again after the kill.
    let every = ["--checkpoint", cp_arg, "--checkpoint-every", "3600"];
    let s = start_with(&logs, &every);
    settles(s.port, &logs);
    assert!(cp.is_file());
    append(
        &log,
        &format!("{}{}", &lines[50][25..], lines[51..100].concat()),
    );
    append(
        &log,
        "{\"timestamp\": \"2026-02-10T12:00:00Z\", \"total_ms\": \n",
    );
    settles(s.port, &logs);
    let mut s = s;
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    drop(s);
    append(&log, &lines[100..150].concat());
    let s = start_with(&logs, &every);
    settles(s.port, &logs);
    // Stopped by SIGTERM: it writes the checkpoint and exits 0.
    append(&log, &lines[150..200].concat());
    settles(s.port, &logs);
    assert_eq!(terminate(s), Some(0));
    // While it is stopped: more lines, a rename rotation, more lines to
    // the renamed file, a new live file.
    append(&log, &lines[200..220].concat());
    let one = logs.join("pipeline_latency.jsonl.1");
    std::fs::rename(&log, &one).unwrap();
    append(&one, &lines[220..230].concat());
    append(&log, &lines[230..260].concat());
    let s = start_with(&logs, &["--checkpoint", cp_arg]);
    settles(s.port, &logs);
    assert!(s.said.contains("where they were: 1;"), "{}", s.said);
    let mut s = s;
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    drop(s);
    // While it is stopped again: .1 written to, then compressed to .2.gz;
    // the live file written to, copied to .1 and truncated
    // (copytruncate), then written again.
    append(&one, &lines[260..270].concat());
    gzip(&one, &logs.join("pipeline_latency.jsonl.2.gz"));
    append(&log, &lines[270..300].concat());
    std::fs::copy(&log, &one).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &lines[300..400].concat());
    let s = start_with(&logs, &["--checkpoint", cp_arg]);
    settles(s.port, &logs);
    assert!(
        s.said.contains(
            "where they were: 0; copies made meanwhile (copytruncate): 1; compressed meanwhile: 1"
        ),
        "{}",
        s.said
    );
}

/// A folder `logs` under `dir` holding a latency log of 10 records.
fn logs_of_ten(dir: &std::path::Path) -> std::path::PathBuf {
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(
        logs.join("pipeline_latency.jsonl"),
        records_text(10).concat(),
    )
    .unwrap();
    logs
}

/// A checkpoint serve cannot go on from is a usage error (2) that says
/// why and how to start afresh; one it cannot write is exit 5, at start.
#[test]
fn a_checkpoint_it_cannot_use_is_refused_at_start() {
    let d = disk_dir();
    let logs = logs_of_ten(d.path());
    let other = d.path().join("other");
    std::fs::create_dir(&other).unwrap();
    let cp = d.path().join("serve.checkpoint");
    let run = |dir: &std::path::Path, cp: &std::path::Path, more: &[&str]| {
        let out = bin()
            .args(["serve", dir.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(["--checkpoint", cp.to_str().unwrap()])
            .args(more)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // A good one, written and stopped.
    let s = start_with(&logs, &["--checkpoint", cp.to_str().unwrap()]);
    settles(s.port, &logs);
    assert_eq!(terminate(s), Some(0));
    let good = std::fs::read(&cp).unwrap();
    // Other paths, other precision.
    let (code, err) = run(&other, &cp, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("give the same paths"), "{err}");
    let (code, err) = run(&logs, &cp, &["--exact"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("precision"), "{err}");
    // Another --since: records it counted would not be the ones asked for.
    let (code, err) = run(&logs, &cp, &["--since", "2026-02-10T12:00:00Z"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("written with no --since, this run asks for --since 2026-02-10T12:00:00"),
        "{err}"
    );
    // Damaged: cut short, or not a checkpoint at all.
    std::fs::write(&cp, &good[..good.len() / 2]).unwrap();
    let (code, err) = run(&logs, &cp, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("move it away to start afresh"), "{err}");
    std::fs::write(&cp, b"{\"format\": \"aggmetrics-state\"}").unwrap();
    assert_eq!(run(&logs, &cp, &[]).0, Some(2));
    // A link where the checkpoint should be is not followed.
    std::fs::remove_file(&cp).unwrap();
    std::os::unix::fs::symlink(d.path().join("elsewhere"), &cp).unwrap();
    let (code, err) = run(&logs, &cp, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    // A folder that is not there: it cannot be written, said at start.
    let (code, err) = run(&logs, &d.path().join("no/such/dir/cp"), &[]);
    assert_eq!(code, Some(5), "{err}");
}

/// A query's vector: each result's labels (without the ones Prometheus
/// adds) and value.
fn query_vector(port: u16, q: &str) -> Option<Vec<(String, f64)>> {
    let body = http_get(port, &format!("/api/v1/query?query={}", encode(q)))?;
    let v: serde_json::Value = serde_json::from_str(&body).ok()?;
    let mut out = Vec::new();
    for r in v["data"]["result"].as_array()? {
        let mut labels: Vec<String> = r["metric"]
            .as_object()?
            .iter()
            .filter(|(k, _)| {
                !["__name__", "instance", "job", "command", "run"].contains(&k.as_str())
            })
            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
            .collect();
        labels.sort();
        out.push((labels.join(","), r["value"][1].as_str()?.parse().ok()?));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

/// The bucket samples of an exposition's latency histograms, labelled as
/// [`query_vector`] labels them.
fn exposition_buckets(text: &str) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = text
        .lines()
        .filter_map(|l| l.strip_prefix("aggmetrics_latency_total_seconds_bucket{"))
        .map(|l| {
            let (labels, value) = l.rsplit_once("} ").unwrap();
            let mut labels: Vec<String> = labels
                .split(',')
                .map(|kv| kv.replace('"', ""))
                .filter(|kv| !kv.starts_with("command=") && !kv.starts_with("run="))
                .collect();
            labels.sort();
            (labels.join(","), value.parse().unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Issue 33's proof. A writer appends about 3,000 lines a second (one in
/// 500 damaged) while logrotate rotates the log by date and compresses
/// the rotation before (dateext, compress, delaycompress), then once with
/// copytruncate; serve is killed with -9 in the middle and a rotation
/// happens while it is down; it is started again from its checkpoint;
/// and a real Prometheus scrapes it every second throughout. Then: serve's
/// records and damaged lines are the writer's own counts (nothing twice,
/// nothing missed); its page is `summarize`'s of the same files; what
/// Prometheus scraped last is `summarize --exact`'s buckets, bucket by
/// bucket, and no counter it saw ever went down (`resets` is 0), so
/// `increase()` over the run is that count.
#[test]
fn live_with_logrotate_kill_9_and_prometheus_counts_what_batch_counts() {
    let (Some(prometheus), Some(logrotate)) = (
        tool(&["prometheus"], "prometheus"),
        tool(&["logrotate"], "logrotate"),
    ) else {
        return;
    };
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("pipeline_latency.jsonl");
    let cp = d.path().join("serve.checkpoint");
    let conf = |copy: bool| {
        let c = d.path().join(format!("logrotate-{copy}.conf"));
        std::fs::write(
            &c,
            format!(
                "{} {{\n  rotate 20\n  dateext\n  dateformat -%Y%m%d%H%M%S\n  compress\n  delaycompress\n  missingok\n  notifempty\n{}}}\n",
                log.display(),
                if copy { "  copytruncate\n" } else { "" }
            ),
        )
        .unwrap();
        c
    };
    let rotate = |copy: bool| {
        let out = std::process::Command::new(&logrotate)
            .arg("-f")
            .arg("-s")
            .arg(d.path().join("logrotate.state"))
            .arg(conf(copy))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // dateext names rotations by the second.
        std::thread::sleep(Duration::from_millis(1100));
    };
    let port = free_port();
    let args = [
        "--checkpoint",
        cp.to_str().unwrap(),
        "--checkpoint-every",
        "1",
    ];
    let mut servers = Servers(Vec::new());
    let mut serve = start_at(&logs, port, &args);
    let prom_port = free_port();
    let config = d.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: aggmetrics\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
        ),
    )
    .unwrap();
    servers.0.push(
        std::process::Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                d.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("Prometheus to scrape serve", 60, || {
        query(prom_port, "up{job=\"aggmetrics\"} == 1")
    });
    // The writer: batches of 30 lines every 10 ms, the file opened for
    // each (so it writes to the new file after a rename).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // copytruncate loses what is written between its copy and its
    // truncation (logrotate's manual says so): the writer holds off then,
    // so that its own counts stay the expectation.
    let pause = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (stop, pause, log) = (stop.clone(), pause.clone(), log.clone());
        std::thread::spawn(move || {
            let (mut records, mut damaged, mut i) = (0u64, 0u64, 0u64);
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                if pause.load(std::sync::atomic::Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let mut values = Vec::new();
                let mut broken = String::new();
                for _ in 0..30 {
                    i += 1;
                    if i % 500 == 0 {
                        broken
                            .push_str("{\"timestamp\": \"2026-02-10T12:00:00Z\", \"total_ms\": \n");
                        damaged += 1;
                    } else {
                        values.push((i * 7919 % 4000) as f64 / 4.0 + 0.125);
                        records += 1;
                    }
                }
                let batch = latency_lines(&values) + &broken;
                append(&log, &batch);
                std::thread::sleep(Duration::from_millis(10));
            }
            (records, damaged)
        })
    };
    std::thread::sleep(Duration::from_secs(2));
    rotate(false);
    std::thread::sleep(Duration::from_secs(1));
    serve.child.kill().unwrap();
    serve.child.wait().unwrap();
    // Down: the log rotated again, its last rotation compressed.
    rotate(false);
    let serve = start_at(&logs, port, &args);
    assert!(
        serve.said.contains("compressed meanwhile: 1"),
        "{}",
        serve.said
    );
    std::thread::sleep(Duration::from_secs(2));
    pause.store(true, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(50));
    rotate(true);
    pause.store(false, std::sync::atomic::Ordering::SeqCst);
    std::thread::sleep(Duration::from_secs(1));
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (records, damaged) = writer.join().unwrap();
    let names: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().filter(|n| n.ends_with(".gz")).count() >= 2,
        "{names:?}"
    );
    // serve counts what summarize counts over the same files...
    settles(serve.port, &logs);
    // ...which is what the writer wrote.
    let page = get(serve.port, "/metrics").1;
    let total = |name: &str| -> f64 {
        page.lines()
            .filter(|l| l.starts_with(name))
            .map(|l| l.rsplit_once(' ').unwrap().1.parse::<f64>().unwrap())
            .sum()
    };
    assert_eq!(total("aggmetrics_latency_records_total{"), records as f64);
    assert_eq!(total("aggmetrics_skipped_lines_total{"), damaged as f64);
    // Prometheus' last scrape holds summarize --exact's buckets.
    let exact = bin()
        .args([
            "summarize",
            logs.to_str().unwrap(),
            "--exact",
            "-f",
            "prometheus",
            "-q",
        ])
        .output()
        .unwrap();
    let want = exposition_buckets(&String::from_utf8_lossy(&exact.stdout));
    assert!(want.len() > 20);
    let got = wait_for("Prometheus to scrape the last figures", 30, || {
        query_vector(prom_port, "aggmetrics_latency_total_seconds_bucket").filter(|g| *g == want)
    });
    assert_eq!(got, want);
    // No counter it scraped went down: increase() over the run is the
    // count (serve answers only once it has read on from the checkpoint).
    let resets = query_vector(
        prom_port,
        "resets(aggmetrics_latency_total_seconds_bucket[10m]) > 0 or resets(aggmetrics_latency_records_total[10m]) > 0 or resets(aggmetrics_skipped_lines_total[10m]) > 0",
    )
    .unwrap();
    assert!(resets.is_empty(), "{resets:?}");
    let scraped = query(prom_port, "sum(aggmetrics_latency_records_total)").unwrap();
    assert_eq!(scraped, records as f64);
    drop(servers);
}

/// `n` latency lines a minute apart from 2026-02-11T13:00:00Z.
fn minutes_text(n: u64) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\": \"{}\", \"command_id\": \"c{i}\", \"total_ms\": {}, \"steps\": {{}}, \"llm_enabled\": {}}}\n",
                ts(86_400 + 18 * 3600 - (n - i) * 60 + i % 50),
                (i * 37 % 1000) as f64 / 8.0,
                i % 4 == 0
            )
        })
        .collect()
}

/// `/report?since=SINCE`, before the minutes kept: a 422 naming the
/// earliest since it can answer, which is returned.
fn refused_from(port: u16, since: &str) -> String {
    let (status, body) = get(port, &format!("/report?since={since}"));
    assert!(status.contains("422"), "{status}");
    body.split_once("Ask for since=")
        .and_then(|(_, r)| r.split_once(' '))
        .map(|(t, _)| t.to_string())
        .unwrap_or_else(|| panic!("{body}"))
}

/// /report?since=&until= is summarize --since --until's document (figures
/// and window) from the minutes kept, without reading the files again;
/// before what is kept, or a request it cannot read, is a 4xx that says
/// why.
#[test]
fn report_of_a_window_is_summarize_of_that_window() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // A record a minute for 1,500 minutes (to 2026-02-11T17:59), with the
    // fallback log's over the first day: more than the 1,440 minutes (a
    // day) kept.
    std::fs::write(logs.join("pipeline_latency.jsonl"), minutes_text(1500)).unwrap();
    std::fs::copy(
        sample_logs().join("fallback_metrics.jsonl"),
        logs.join("fallback_metrics.jsonl"),
    )
    .unwrap();
    let s = start(&logs);
    let json = |q: &str| -> (String, serde_json::Value) {
        let (status, body) = get(s.port, q);
        (status, serde_json::from_str(&body).unwrap_or_default())
    };
    for (since, until) in [
        ("2026-02-11T16:00:00Z", "2026-02-11T17:00:00Z"),
        ("2026-02-11T17:59:00Z", "2026-02-11T18:00:00Z"),
        // Not on minutes: widened to them, as meta.window says.
        ("2026-02-11T16:10:30Z", "2026-02-11T16:20:10Z"),
    ] {
        let (status, got) = json(&format!("/report?since={since}&until={until}"));
        assert!(status.contains("200"), "{status}");
        let window = &got["meta"]["window"];
        let (a, b) = (
            window["since"].as_str().unwrap().to_string(),
            window["until"].as_str().unwrap().to_string(),
        );
        assert!(a.as_str() <= since && b.as_str() >= until, "{window}");
        let (want, _) = summarize_json(&[logs.to_str().unwrap(), "--since", &a, "--until", &b]);
        assert_eq!(
            without_meta(got.clone()),
            without_meta(want.clone()),
            "{since}..{until}"
        );
        assert_eq!(got["meta"]["window"], want["meta"]["window"]);
        assert!(
            got["latency"]["all"]["total_ms"]["count"].as_u64().unwrap() > 0
                || since > "2026-02-11T18"
        );
    }
    // A served report is a summarize report to `compare`: against the
    // batch one of its window, no change.
    let (_, served) = get(
        s.port,
        "/report?since=2026-02-11T16:00:00Z&until=2026-02-11T17:00:00Z",
    );
    let batch = bin()
        .args(["summarize", logs.to_str().unwrap(), "-q", "-f", "json"])
        .args([
            "--since",
            "2026-02-11T16:00:00Z",
            "--until",
            "2026-02-11T17:00:00Z",
        ])
        .output()
        .unwrap();
    std::fs::write(d.path().join("served.json"), &served).unwrap();
    std::fs::write(d.path().join("batch.json"), &batch.stdout).unwrap();
    let compared = bin()
        .current_dir(d.path())
        .args(["compare", "batch.json", "served.json", "-q"])
        .output()
        .unwrap();
    assert_eq!(
        compared.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&compared.stdout),
        String::from_utf8_lossy(&compared.stderr)
    );
    // In other formats: the same document.
    let (status, page) = get(
        s.port,
        "/report?since=2026-02-11T16:00:00Z&until=2026-02-11T17:00:00Z&format=html",
    );
    assert!(status.contains("200"));
    // The page -f html writes, byte for byte (tests/outputs/html.rs shows
    // that page in Chromium).
    let html = bin()
        .args(["summarize", logs.to_str().unwrap(), "-q", "-f", "html"])
        .args([
            "--since",
            "2026-02-11T16:00:00Z",
            "--until",
            "2026-02-11T17:00:00Z",
        ])
        .output()
        .unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert_eq!(page, String::from_utf8_lossy(&html.stdout));
    // The first minutes were folded out of those kept: refused, naming
    // from when it can answer.
    let from = refused_from(s.port, "2026-02-10T17:00:00Z");
    assert_eq!(from, "2026-02-10T18:00:00Z");
    // From there on it answers.
    let (status, _) = get(s.port, &format!("/report?since={from}"));
    assert!(status.contains("200"), "{status}");
    for (q, says) in [
        ("/report?since=yesterdayish", "not a time"),
        ("/report", "since is needed"),
        ("/report?since=1h&format=xml", "not one of"),
        ("/report?since=1h&by=hour", "not a parameter"),
        (
            "/report?since=2026-02-11T00:00:00Z&until=2026-02-10T00:00:00Z",
            "before until",
        ),
    ] {
        let (status, body) = get(s.port, q);
        assert!(status.contains("400"), "{q}: {status}");
        assert!(body.contains(says), "{q}: {body}");
    }
}

/// A checkpoint that cannot be written while it runs: a warning, /healthz
/// 503 until a write succeeds again, and exit 5 if it still cannot write
/// it when stopped.
#[test]
fn a_checkpoint_that_cannot_be_written_is_said_on_healthz() {
    let d = disk_dir();
    let logs = logs_of_ten(d.path());
    let state = d.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let cp = state.join("serve.checkpoint");
    let s = start_with(
        &logs,
        &[
            "--checkpoint",
            cp.to_str().unwrap(),
            "--checkpoint-every",
            "1",
        ],
    );
    let healthz = |want: &str| {
        let t = Instant::now();
        loop {
            let (status, body) = get(s.port, "/healthz");
            if status.contains(want) {
                return body;
            }
            assert!(t.elapsed() < Duration::from_secs(10), "{status} {body}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    healthz("200");
    std::fs::remove_dir_all(&state).unwrap();
    let body = healthz("503");
    assert!(body.contains("checkpoint not written"), "{body}");
    std::fs::create_dir(&state).unwrap();
    healthz("200");
    assert!(cp.is_file());
    std::fs::remove_dir_all(&state).unwrap();
    healthz("503");
    assert_eq!(terminate(s), Some(5));
}

/// `serve --stage N --since T`: GET /risk is the report and verdict that
/// `risk --stage N --since T --as-of` (the verdict's time) gives over the
/// same files, read in batch by day; /metrics carries the verdict's exit
/// code. A stage its gates do not define is exit 2 before any read.
#[test]
fn risk_is_judged_as_the_risk_command_judges_it() {
    let d = disk_dir();
    let root = env!("CARGO_MANIFEST_DIR");
    for name in ["partial_trust_risk.jsonl", "pipeline_latency.jsonl"] {
        std::fs::copy(format!("{root}/sample-logs/{name}"), d.path().join(name)).unwrap();
    }
    let gates = format!("{root}/docs/gates.toml");
    let since = "2026-02-10T18:00:00Z";
    let s = start_with(
        d.path(),
        &["--stage", "1", "--gates", &gates, "--since", since],
    );
    settles_with(s.port, d.path(), &["--since", since]);
    assert!(!s.said.contains("is after now"), "{}", s.said);
    let (status, body) = get(s.port, "/risk");
    assert!(status.contains("200"), "{status} {body}");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    let as_of = served["verdict"]["as_of"].as_str().unwrap().to_string();
    let out = bin()
        .args([
            "risk",
            d.path().to_str().unwrap(),
            "--stage",
            "1",
            "--gates",
            &gates,
        ])
        .args(["--since", since, "--as-of", &as_of, "-f", "json", "-q"])
        .output()
        .unwrap();
    let batch: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        batch["verdict"]["exit_code"].as_i64().map(|c| c as i32)
    );
    // The figures, the days, the silence and the verdict, all of them.
    // (`skipped` and `meta` are of every file serve follows, not only the
    // risk log.)
    let keys: Vec<&String> = batch.as_object().unwrap().keys().collect();
    assert!(keys.len() > 20, "{keys:?}");
    for k in keys {
        if k == "skipped" || k == "meta" {
            continue;
        }
        assert_eq!(served[k], batch[k], "{k}");
    }
    // The window counted: records before --since are not in it.
    let all = bin()
        .args(["risk", d.path().to_str().unwrap(), "-f", "json", "-q"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&all.stdout).unwrap();
    assert!(served["total_records"].as_u64() < all["total_records"].as_u64());
    assert!(served["verdict"]["criteria"].as_array().unwrap().len() > 5);
    // The same verdict and dates in /metrics.
    let (_, page) = get(s.port, "/metrics");
    let code = served["verdict"]["exit_code"].as_i64().unwrap();
    assert!(
        page.contains(&format!(
            "aggmetrics_risk_verdict_exit_code{{command=\"serve\",run=\"serve\",stage=\"1\"}} {code}\n"
        )),
        "{page}"
    );
    let dates = served["days_covered"].as_u64().unwrap();
    assert!(page.contains(&format!(
        "aggmetrics_risk_dates_covered{{command=\"serve\",run=\"serve\"}} {dates}\n"
    )));
    if let Some(promtool) = tool(&["promtool"], "prometheus") {
        promtool_check_metrics(&promtool, page.as_bytes(), "/metrics with a verdict");
    }
    // Other formats; a bad parameter is a 400 that names the good ones.
    let (status, md) = get(s.port, "/risk?format=markdown");
    assert!(
        status.contains("200") && md.contains("stage 1"),
        "{status} {md}"
    );
    let (status, text) = get(s.port, "/risk?since=1h");
    assert!(
        status.contains("400") && text.contains("--since"),
        "{status} {text}"
    );
    // A --since after now (a mistyped year) counts nothing: said at start.
    let later = start_with(d.path(), &["--since", "2099-02-10T18:00:00Z"]);
    assert!(
        later
            .said
            .contains("--since 2099-02-10T18:00:00Z is after now"),
        "{}",
        later.said
    );
    drop(later);
    // A stage its gates do not define, gates that are not there, a time
    // that is not one; summarize's options serve has no use for are
    // refused, not ignored.
    for more in [
        vec!["--stage", "9"],
        vec!["--stage", "1", "--gates", "/nonexistent/gates.toml"],
        vec!["--since", "not a time"],
        vec!["--state-out", "x.state"],
        vec!["--fail-on", "latency.all.total_ms.p95 > 1"],
    ] {
        let out = bin()
            .args([
                "serve",
                d.path().to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
            ])
            .args(&more)
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{more:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Lines of an assist log (docs/kinds/assist.toml): a step a second from
/// 2026-02-10T12:00:00Z, every seventh without a time (a record all the
/// same: in the run, in no window).
fn assist_text(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| {
            let when = if i % 7 == 3 {
                String::new()
            } else {
                format!(
                    "\"timestamp\": \"2026-02-10T12:{:02}:{:02}Z\", ",
                    i / 60 % 60,
                    i % 60
                )
            };
            format!(
                "{{{when}\"step\": \"{}\", \"latency_ms\": {}, \"status\": \"{}\"}}\n",
                ["normalizer", "entities", "clarify"][i % 3],
                10 + i * 7 % 90,
                if i % 5 == 0 { "error" } else { "ok" }
            )
        })
        .collect()
}

/// `serve --kinds`: the logs kinds files name (a real Caddy access log,
/// an assist log with records that carry no time) are followed, and
/// their sections in /metrics are what `summarize --kinds` gives, through
/// appends and a log that appears later; /report leaves the undated
/// records out of its window as `summarize --since --until` does.
#[test]
fn kinds_files_logs_are_followed_as_summarize_reads_them() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::copy(
        format!("{root}/tests/fixtures/realworld/caddy_access.log"),
        logs.join("caddy_access.log"),
    )
    .unwrap();
    std::fs::write(logs.join("assist.jsonl"), assist_text(0, 100)).unwrap();
    std::fs::write(
        logs.join("pipeline_latency.jsonl"),
        records_text(50).concat(),
    )
    .unwrap();
    let caddy = format!("{root}/docs/kinds/caddy.toml");
    let assist = format!("{root}/docs/kinds/assist.toml");
    let cp = d.path().join("serve.checkpoint");
    let kinds = ["--kinds", caddy.as_str(), "--kinds", assist.as_str()];
    let with_cp = [&kinds[..], &["--checkpoint", cp.to_str().unwrap()]].concat();
    let s = start_with(&logs, &with_cp);
    let families = [
        "aggmetrics_kind_",
        "aggmetrics_latency",
        "aggmetrics_skipped",
    ];
    let settled = |port: u16, what: &str| {
        let out = bin()
            .args([
                "summarize",
                logs.to_str().unwrap(),
                "-f",
                "prometheus",
                "-q",
            ])
            .args(kinds)
            .output()
            .unwrap();
        let want = series_of(&String::from_utf8_lossy(&out.stdout), &families);
        for kind in [
            "aggmetrics_kind_caddy_records",
            "aggmetrics_kind_assist_records",
        ] {
            assert!(
                want.iter().any(|l| l.starts_with(kind)),
                "{kind} in {want:?}"
            );
        }
        let t = Instant::now();
        loop {
            let got = series_of(&get(port, "/metrics").1, &families);
            if got == want {
                return;
            }
            if t.elapsed() > Duration::from_secs(10) {
                assert_eq!(got, want, "{what}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    settled(s.port, "at start");
    // Appends (a damaged line among them), and a log that comes later.
    append(&logs.join("assist.jsonl"), &assist_text(100, 60));
    append(
        &logs.join("assist.jsonl"),
        "{\"timestamp\": \"2026-02-10T12:02:41Z\", \"step\": \n",
    );
    std::fs::write(logs.join("assist_batch.jsonl"), assist_text(160, 40)).unwrap();
    settled(s.port, "after appends and a new log");
    // A window: the dated records in it; the undated ones outside, as
    // summarize --since --until counts them.
    let (since, until) = ("2026-02-10T12:01:00Z", "2026-02-10T12:03:00Z");
    let (status, body) = get(s.port, &format!("/report?since={since}&until={until}"));
    assert!(status.contains("200"), "{status} {body}");
    let got: serde_json::Value = serde_json::from_str(&body).unwrap();
    let mut args = vec![logs.to_str().unwrap(), "--since", since, "--until", until];
    args.extend(kinds);
    let (want, _) = summarize_json(&args);
    assert_eq!(without_meta(got.clone()), without_meta(want.clone()));
    assert_eq!(got["meta"]["window"], want["meta"]["window"]);
    assert!(
        want["meta"]["window"]["outside"].as_u64().unwrap() > 200 - 120,
        "{want}"
    );
    assert!(want["assist"]["records"].as_u64().unwrap() > 0, "{want}");
    // The kinds file's paths no record held, named as summarize names them.
    assert_eq!(
        got["meta"]["unmatched_paths"],
        want["meta"]["unmatched_paths"]
    );
    assert!(
        got["meta"]["unmatched_paths"]
            .as_array()
            .is_some_and(|a| a.len() == 3),
        "{}",
        got["meta"]
    );
    // Stopped and started again from its checkpoint, with lines written
    // meanwhile: each kind's file read on from where it was.
    assert_eq!(terminate(s), Some(0));
    append(&logs.join("assist_batch.jsonl"), &assist_text(200, 30));
    let s = start_with(&logs, &with_cp);
    assert!(
        s.said.contains("files read on from where they were: 4"),
        "{}",
        s.said
    );
    settled(s.port, "after a restart");
    drop(s);
    // Without the kinds files, or with other ones, it is not the same
    // read: refused.
    for other in [vec![], vec!["--kinds", caddy.as_str()]] {
        let out = bin()
            .args(["serve", logs.to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .args(["--checkpoint", cp.to_str().unwrap()])
            .args(&other)
            .env("XDG_CONFIG_HOME", d.path())
            .env("HOME", d.path())
            .timeout(Duration::from_secs(20))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{other:?}: {err}");
        assert!(
            err.contains("it was written with kinds caddy, assist"),
            "{err}"
        );
    }
}

/// `n` minutes of `k` latency records each from 2026-02-10T00:00Z, with
/// one to six steps a record and both groups: every minute fills maps of
/// its own (groups, steps), as a busy log's minutes do.
fn busy_minutes_text(n: u64, k: u64) -> String {
    const STEPS: [&str; 6] = ["parse", "retrieve", "rerank", "generate", "format", "guard"];
    let mut out = String::new();
    for i in 0..n * k {
        let steps: Vec<String> = STEPS[..(i % 6) as usize + 1]
            .iter()
            .map(|s| format!("\"{s}\": {}", (i * 13 + s.len() as u64 * 7) % 400))
            .collect();
        out.push_str(&format!(
            "{{\"timestamp\": \"{}\", \"command_id\": \"c{i}\", \"total_ms\": {}, \"steps\": {{{}}}, \"llm_enabled\": {}}}\n",
            ts(i / k * 60 + i % k * 60 / k),
            (i * 37 % 1000) as f64 / 8.0,
            steps.join(", "),
            i % 3 == 0
        ));
    }
    out
}

/// The number after `name ` in an exposition.
fn value_of(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// When a day of minutes fills the figures' share of --max-memory, serve
/// folds its oldest minutes into the whole run's figures: /metrics stays
/// what summarize counts (a minute refusing new keys had lost them from
/// the whole), /report answers the minutes kept, and the fold is said.
/// Under a budget the whole alone fills, the keys refused are said too.
#[test]
fn under_a_small_memory_budget_old_minutes_are_folded_and_the_whole_stays_exact() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // 1,500 minutes of 6 records: about 12 MB of minutes kept whole,
    // past the 8 MiB share of 128 MiB; the whole run's figures are
    // about 1.3 MB (measured with the counting allocator).
    std::fs::write(
        logs.join("pipeline_latency.jsonl"),
        busy_minutes_text(1500, 6),
    )
    .unwrap();
    let s = start_with(&logs, &["--max-memory", "128M"]);
    assert!(s.said.contains("oldest minutes are folded"), "{}", s.said);
    settles(s.port, &logs);
    let text = get(s.port, "/metrics").1;
    let folded = value_of(&text, "aggmetrics_serve_sub_windows_folded_total").unwrap();
    let kept = value_of(&text, "aggmetrics_serve_sub_windows").unwrap();
    assert!(folded > 0.0 && kept < 1440.0, "{folded} {kept}");
    assert_eq!(
        value_of(
            &text,
            "aggmetrics_memory_held_back_total{command=\"serve\",run=\"serve\"}"
        ),
        Some(0.0)
    );
    // The minutes kept answer /report as summarize --since does; before
    // them is a 422 that names from when.
    let from = refused_from(s.port, "2026-02-10T00:00:00Z");
    assert!(from.as_str() > "2026-02-10T00:00:00Z", "{from}");
    let (status, got) = get(s.port, &format!("/report?since={from}"));
    assert!(status.contains("200"), "{status}");
    let got: serde_json::Value = serde_json::from_str(&got).unwrap();
    let (want, _) = summarize_json(&[logs.to_str().unwrap(), "--since", &from]);
    assert_eq!(without_meta(got.clone()), without_meta(want));
    assert!(got["latency"]["all"]["total_ms"]["count"].as_u64().unwrap() > 0);
    assert!(
        got["meta"].get("memory_budget").is_none(),
        "{}",
        got["meta"]
    );
    drop(s);

    // 16 MiB: the whole run's figures alone fill its 1 MiB share, so new
    // keys are refused; that is said, counted and in the report's meta.
    let s = start_with(&logs, &["--max-memory", "16M"]);
    assert!(
        s.said.contains("new groups and keys are refused"),
        "{}",
        s.said
    );
    let text = get(s.port, "/metrics").1;
    let held = value_of(
        &text,
        "aggmetrics_memory_held_back_total{command=\"serve\",run=\"serve\"}",
    )
    .unwrap();
    assert!(held > 0.0, "{text}");
    let (_, body) = get(s.port, "/report?since=1h");
    let got: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        got["meta"]["memory_budget"]["held_back"].as_u64().unwrap() > 0,
        "{}",
        got["meta"]
    );
}

/// A risk line stamped `ahead` seconds from now (negative: ago).
fn risk_line_at(ahead: i64) -> String {
    let t = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(ahead);
    risk_lines(1, 0).replace(
        &ts(0),
        &t.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
    )
}

/// A writer whose clock is ahead of this host's: records stamped after
/// serve read them are counted as written and said (a warning, a counter,
/// /risk's meta.future_records, as `risk` says it); records stamped by
/// this host's clock as they are written are not.
#[test]
fn records_stamped_ahead_of_the_clock_are_said() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log = logs.join("partial_trust_risk.jsonl");
    let text = risk_lines(3, 0) + &risk_line_at(3600) + &risk_line_at(7200);
    std::fs::write(&log, text).unwrap();
    let s = start(&logs);
    assert!(
        s.said
            .contains("2 record(s) stamped more than 1 s after serve read them"),
        "{}",
        s.said
    );
    let records = "aggmetrics_risk_records_total{command=\"serve\",run=\"serve\"}";
    let text = get(s.port, "/metrics").1;
    assert_eq!(value_of(&text, records), Some(5.0), "{text}");
    assert_eq!(
        value_of(&text, "aggmetrics_serve_future_records_total"),
        Some(2.0)
    );
    let (_, body) = get(s.port, "/risk?format=json");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let future = &v["meta"]["future_records"];
    assert_eq!(future["count"], 2, "{future}");
    let ahead = future["ahead_seconds"].as_f64().unwrap();
    assert!(ahead > 7000.0 && ahead <= 7200.0, "{future}");
    // Lines stamped as they are written, and one of the past: not ahead.
    for _ in 0..3 {
        append(&log, &risk_line_at(0));
        std::thread::sleep(Duration::from_millis(100));
    }
    append(&log, &risk_line_at(-86_400));
    let t = Instant::now();
    while value_of(&get(s.port, "/metrics").1, records) != Some(9.0) {
        assert!(t.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = get(s.port, "/metrics").1;
    assert_eq!(
        value_of(&text, "aggmetrics_serve_future_records_total"),
        Some(2.0)
    );
}
