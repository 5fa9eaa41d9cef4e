//! Helpers shared by the integration tests: run the binary, read its JSON.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The binary under test; `AGGMETRICS_TEST_BIN=PATH` runs the suite
/// against another build (to show a test failing on an older one).
pub fn bin() -> Command {
    match std::env::var_os("AGGMETRICS_TEST_BIN") {
        Some(p) => Command::new(p),
        None => Command::cargo_bin("aggmetrics").expect("binary built"),
    }
}

/// Path of the binary under test, for `std::process::Command`.
pub fn bin_path() -> PathBuf {
    match std::env::var_os("AGGMETRICS_TEST_BIN") {
        Some(p) => PathBuf::from(p),
        None => assert_cmd::cargo::cargo_bin("aggmetrics"),
    }
}

/// A temporary folder on the disk under `target/` (not /tmp, which may be
/// tmpfs): truncation and sparse-file tests need a real filesystem.
pub fn disk_dir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A gzip fixture's text (tests/fixtures/<name>).
pub fn gunzip_fixture(name: &str) -> String {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture(name)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text
}

pub fn sample_logs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs")
}

/// Run `summarize ARGS --format json`; return the report and the output.
pub fn summarize_json(args: &[&str]) -> (Value, Output) {
    run_json("summarize", args)
}

/// Run `CMD ARGS --format json`; return the report and the output.
pub fn run_json(cmd: &str, args: &[&str]) -> (Value, Output) {
    let out = bin()
        .arg(cmd)
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

/// A small deterministic generator (xorshift64*), so tests need no crate.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in 0..n.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// RFC 3339 for `secs` seconds after 2026-02-10T00:00:00Z.
pub fn ts(secs: u64) -> String {
    let day = secs / 86_400;
    let rem = secs % 86_400;
    format!(
        "2026-02-{:02}T{:02}:{:02}:{:02}+00:00",
        10 + day,
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// One risk record.
pub struct Risk<'a> {
    pub secs: u64,
    pub status: &'a str,
    pub sampled: bool,
    pub latency_ms: Option<f64>,
    pub intent_mismatch: bool,
    pub sample_rate: f64,
}

impl Risk<'_> {
    pub fn line(&self) -> String {
        let reason = match self.status {
            "accepted_llm" => "accepted",
            "fallback_deterministic" => "low_confidence",
            "error" => "RuntimeError",
            s => s,
        };
        let lat = self
            .latency_ms
            .map_or("null".to_string(), |x| x.to_string());
        let diff = if self.sampled {
            format!(
                "{{\"intent_mismatch\": {}, \"decision_type_mismatch\": false, \"action_count_mismatch\": false, \"entity_key_mismatch\": false}}",
                self.intent_mismatch
            )
        } else {
            "null".into()
        };
        format!(
            "{{\"timestamp\": \"{}\", \"trace_id\": \"t\", \"corridor_intent\": \"add_shopping_item\", \"sample_rate\": {}, \"sampled\": {}, \"status\": \"{}\", \"reason_code\": \"{reason}\", \"latency_ms\": {lat}, \"diff_summary\": {diff}}}\n",
            ts(self.secs),
            self.sample_rate,
            self.sampled,
            self.status
        )
    }
}

/// Write `partial_trust_risk.jsonl` into a fresh folder.
pub fn risk_dir(text: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    std::fs::write(d.path().join("partial_trust_risk.jsonl"), text).expect("write");
    d
}

/// Run `risk ARGS --format json`: (report, exit code, stderr).
pub fn risk_json(args: &[&str]) -> (Value, i32, String) {
    let (v, out) = run_json("risk", args);
    (
        v,
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `n` sampled risk records a minute apart, the first `errors` of them
/// errors, the rest accepted, all with latency 100 ms.
pub fn risk_lines(n: u64, errors: u64) -> String {
    (0..n)
        .map(|i| {
            Risk {
                secs: i * 60,
                status: if i < errors { "error" } else { "accepted_llm" },
                sampled: true,
                latency_ms: Some(100.0),
                intent_mismatch: false,
                sample_rate: 0.01,
            }
            .line()
        })
        .collect()
}

/// A state file's histogram (`[cookie u32][length u32][zlib]`) with its
/// zlib stream replaced by `payload`, compressed.
pub fn with_payload(raw: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut z, payload).unwrap();
    let z = z.finish().unwrap();
    let mut out = raw[..4].to_vec();
    out.extend_from_slice(&(z.len() as u32).to_be_bytes());
    out.extend_from_slice(&z);
    out
}

/// The same histogram, intact but for its inner header, which claims a
/// payload of `claim` bytes.
pub fn claiming_payload(raw: &[u8], claim: u32) -> Vec<u8> {
    let mut inner = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::ZlibDecoder::new(&raw[8..]), &mut inner).unwrap();
    inner[4..8].copy_from_slice(&claim.to_be_bytes());
    with_payload(raw, &inner)
}

/// `days` days of latency and risk logs from 2026-02-10, a record every 20
/// minutes in each, with damaged lines on some days (one with a time of
/// its own, one without, a NUL hole), in a fresh folder.
pub fn days_logs(days: u64) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    let mut lat = String::new();
    let mut risk = String::new();
    for i in 0..days * 72 {
        let secs = i * 1200;
        lat.push_str(&format!(
            "{{\"timestamp\": \"{}\", \"total_ms\": {}.25, \"steps\": {{\"core_logic_ms\": {}}}, \"llm_enabled\": {}}}\n",
            ts(secs),
            (i * 37) % 500,
            (i * 11) % 90,
            i % 3 == 0
        ));
        risk.push_str(
            &Risk {
                secs,
                status: [
                    "accepted_llm",
                    "fallback_deterministic",
                    "error",
                    "not_sampled",
                ][(i % 4) as usize],
                sampled: i % 4 != 3,
                latency_ms: Some(((i * 13) % 400) as f64),
                intent_mismatch: i % 7 == 0,
                sample_rate: 0.01,
            }
            .line(),
        );
        match i % 50 {
            7 => lat.push_str(&format!(
                "{{\"timestamp\": \"{}\", \"total_ms\": \n",
                ts(secs + 5)
            )),
            19 => risk.push_str("{\"status\": \"error\", trailing\n"),
            33 => lat.push_str("\0\0\0"),
            _ => {}
        }
    }
    std::fs::write(d.path().join("pipeline_latency.jsonl"), lat).expect("write");
    std::fs::write(d.path().join("partial_trust_risk.jsonl"), risk).expect("write");
    d
}

/// The parts of a summary report that are the figures: what states merged
/// must reproduce of a one-pass run (not how inputs were listed).
pub fn figures(v: &Value) -> Value {
    serde_json::json!({
        "latency": v["latency"],
        "fallback": v["fallback"],
        "risk": v["risk"],
        "time_range": v["time_range"],
        "skipped_total": v["skipped"]["total"],
        "skipped_by_reason": v["skipped"]["by_reason"],
        "since": v["meta"]["window"]["since"],
        "until": v["meta"]["window"]["until"],
    })
}

/// Write an executable script `dir/name` (a stand-in command on a test's
/// PATH).
pub fn executable(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write script");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p
}

/// The generator, built beside the tests (`cargo test` builds examples);
/// built here when a single test target was asked for.
pub fn gen_logs() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let debug = exe.parent().unwrap().parent().unwrap();
    let p = debug.join("examples/gen_logs");
    if !p.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let st = std::process::Command::new(cargo)
            .args(["build", "--example", "gen_logs"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .unwrap();
        assert!(st.success());
    }
    p
}

/// `aggmetrics merge STATES -f json`: the merged report (the merge must
/// succeed).
pub fn merge_ok<P: AsRef<Path>>(states: &[P]) -> Value {
    let out = bin()
        .arg("merge")
        .args(states.iter().map(|p| p.as_ref()))
        .args(["-f", "json", "-q"])
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

/// Raw field values of the sample logs (ids, user text) that no output
/// may carry: only the categorical keys aggregated by appear.
pub const RAW_VALUES: &[&str] = &[
    "cmd-0",
    "trace-",
    "купи",
    "remind me",
    "Zürich",
    "oat milk",
    "user_text",
];

/// An external tool the tests drive (promtool, Prometheus, Chromium): the
/// first of `names` on the PATH, or `None`, and the test says it was
/// skipped, unless `AGGMETRICS_REQUIRE_TOOLS` is set (`.ci/run` sets it
/// after installing them), where a missing tool fails.
pub fn tool(names: &[&str], package: &str) -> Option<PathBuf> {
    let found = names.iter().find_map(|n| {
        std::env::split_paths(&std::env::var_os("PATH")?)
            .map(|d| d.join(n))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none(),
            "{} is not installed (apt-get install {package})",
            names[0]
        );
        eprintln!("skipped: {} is not installed", names[0]);
    }
    found
}

/// `promtool check metrics` on an exposition: it passes, with nothing said
/// (no lint either).
pub fn promtool_check_metrics(promtool: &Path, text: &[u8], what: &str) {
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text).unwrap();
    let out = child.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "{what}: promtool check metrics says:\n{said}"
    );
}

// ---- servers driven by tests: Prometheus, node_exporter, serve ----

/// Children killed when the test ends, however it ends.
pub struct Servers(pub Vec<std::process::Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// GET over loopback; the body, or `None` while the server is not up.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    std::io::Write::write_fmt(
        &mut s,
        format_args!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"),
    )
    .ok()?;
    let mut buf = String::new();
    std::io::Read::read_to_string(&mut s, &mut buf).ok()?;
    let (head, body) = buf.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.0 200")
        .then_some(())
        .or_else(|| head.starts_with("HTTP/1.1 200").then_some(()))?;
    Some(body.to_string())
}

pub fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An instant query's single value, or `None` while it has none.
pub fn query(port: u16, q: &str) -> Option<f64> {
    let body = http_get(port, &format!("/api/v1/query?query={}", encode(q)))?;
    let v: Value = serde_json::from_str(&body).ok()?;
    let r = v["data"]["result"].as_array()?;
    if r.len() != 1 {
        return None;
    }
    r[0]["value"][1].as_str()?.parse().ok()
}

pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let start = std::time::Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(secs),
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
