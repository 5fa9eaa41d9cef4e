//! The Prometheus textfile as Prometheus' own tools see it: `promtool
//! check metrics` on every document, the rules file in docs/ checked and
//! unit-tested by promtool, the histogram buckets against counts taken by
//! hand, and a fleet of two hosts end to end (two node_exporters, one
//! Prometheus, queried over its HTTP API).
//!
//! promtool, prometheus and prometheus-node-exporter come from Debian's
//! packages; `.ci/run` installs them and sets `AGGMETRICS_REQUIRE_TOOLS=1`,
//! so there a missing tool fails the test. Elsewhere such a test says it
//! was skipped and passes.

use crate::common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

/// The export layout's bounds in milliseconds (docs/operations.md).
const BOUNDS_MS: [f64; 32] = [
    1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 10.0, 20.0, 30.0, 40.0, 50.0, 75.0, 100.0, 200.0, 300.0, 400.0,
    500.0, 750.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 7500.0, 10000.0, 20000.0, 30000.0,
    40000.0, 50000.0, 75000.0, 100000.0, 120000.0,
];

fn prom(args: &[&str]) -> Vec<u8> {
    let out = bin()
        .args(args)
        .args(["-q", "-f", "prometheus"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0) | Some(1) | Some(3)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "{args:?}");
    out.stdout
}

#[test]
fn every_textfile_passes_promtool_check_metrics() {
    let Some(promtool) = tool(&["promtool"], "prometheus") else {
        return;
    };
    let s = sample_logs();
    let s = s.to_str().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let access = format!("{root}/docs/examples/access.jsonl");
    let (k1, k2) = (
        format!("{root}/docs/kinds/access.toml"),
        format!("{root}/docs/kinds/assist.toml"),
    );
    let quiet = tempfile::tempdir().unwrap();
    for args in [
        vec!["summarize", s],
        vec!["summarize", s, "--exact", "--percentiles", "50,90,99.9"],
        vec!["summarize", quiet.path().to_str().unwrap()],
        vec!["summarize", s, "--kinds", &k1, "--kinds", &k2],
        vec!["risk", s],
        vec!["risk", s, "--stage", "1"],
        vec!["shadow", s],
        vec![
            "stats", &access, "--value", "bytes", "--value", "timing.*", "--by", "route",
            "--count", "status",
        ],
    ] {
        promtool_check_metrics(&promtool, &prom(&args), &format!("{args:?}"));
    }
}

/// Zeek's ssh.log grouped by two fields, one a key with dots: each field
/// is its own label (`id_resp_p="22"`), so `sum by (auth_success)` adds
/// up without parsing a packed `group` label; the sums are the log's own
/// counts (serde_json), and promtool accepts the file.
#[test]
fn zeek_group_fields_are_labels_of_their_own() {
    let log = fixture("realworld/zeek_ssh.json");
    let text = prom(&[
        "stats",
        log.to_str().unwrap(),
        "--by",
        "\"id.resp_p\"",
        "--by",
        "auth_success",
        "--by",
        "value",
        "--time",
        "ts",
    ]);
    let text = String::from_utf8(text).unwrap();
    let mut by_auth: std::collections::BTreeMap<String, u64> = Default::default();
    for l in text
        .lines()
        .filter(|l| l.starts_with("aggmetrics_jsonl_group_records{"))
    {
        assert!(l.contains("id_resp_p=\""), "{l}");
        // A field named like a label the series use gets `by_`.
        assert!(l.contains("by_value=\"\""), "{l}");
        let auth = l
            .split("auth_success=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or_else(|| panic!("{l}"));
        let n: u64 = l.rsplit(' ').next().unwrap().parse().unwrap();
        *by_auth.entry(auth.to_string()).or_default() += n;
    }
    let mut want: std::collections::BTreeMap<String, u64> = Default::default();
    for l in std::fs::read_to_string(&log).unwrap().lines() {
        let r: Value = serde_json::from_str(l).unwrap();
        let a = match &r["auth_success"] {
            Value::Null => String::new(),
            v => v.to_string(),
        };
        *want.entry(a).or_default() += 1;
    }
    assert_eq!(by_auth, want, "{text}");
    if let Some(promtool) = tool(&["promtool"], "prometheus") {
        promtool_check_metrics(&promtool, text.as_bytes(), "zeek groups");
    }
}

#[test]
fn the_rules_file_in_docs_passes_promtool_check_and_test() {
    let Some(promtool) = tool(&["promtool"], "prometheus") else {
        return;
    };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus");
    for (verb, file) in [
        ("check", "aggmetrics.rules.yml"),
        ("test", "aggmetrics.rules.test.yml"),
    ] {
        let out = Command::new(&promtool)
            .args([verb, "rules", file])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {verb} rules {file}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// One host's logs: latency records with totals spread over the layout
/// (some exactly on a bound, some a microsecond either side), and risk
/// records with `errors` of them errors. Returns the totals and latencies.
fn host_logs(dir: &Path, seed: u64, n: usize, errors: u64) -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng(seed);
    let mut totals = Vec::new();
    for i in 0..n {
        let t = match i % 10 {
            0 => [300.0, 400.0, 500.0, 299.999, 500.001][rng.below(5) as usize],
            _ => (rng.below(900_000) as f64 + rng.below(1000) as f64 / 1000.0).sqrt() * 0.9,
        };
        totals.push((t * 1000.0f64).round() / 1000.0);
    }
    std::fs::write(dir.join("pipeline_latency.jsonl"), latency_lines(&totals)).unwrap();
    let mut lat = Vec::new();
    let risk: String = (0..n as u64)
        .map(|i| {
            let ms = (50 + rng.below(700)) as f64;
            lat.push(ms);
            Risk {
                secs: i * 60,
                status: if i < errors { "error" } else { "accepted_llm" },
                sampled: true,
                latency_ms: Some(ms),
                intent_mismatch: false,
                sample_rate: 0.01,
            }
            .line()
        })
        .collect();
    std::fs::write(dir.join("partial_trust_risk.jsonl"), risk).unwrap();
    (totals, lat)
}

/// Samples of one family by their labels after `command` and `run`
/// (`group="with_llm",le="0.5"`).
fn samples(text: &str, name: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(name)?;
            let (labels, v) = rest.rsplit_once(' ')?;
            let labels = labels.strip_prefix('{')?.strip_suffix('}')?;
            // Every series starts with command="...",run="...".
            let labels = labels.strip_prefix("command=\"")?;
            let (_, labels) = labels.split_once("\",run=\"")?;
            let (_, labels) = labels.split_once('"')?;
            Some((
                labels.strip_prefix(',').unwrap_or(labels).to_string(),
                v.parse().unwrap(),
            ))
        })
        .collect()
}

fn le_label(ms: f64) -> String {
    format!("{}", ms / 1000.0)
}

#[test]
fn histogram_buckets_count_every_value_at_or_below_each_bound() {
    let d = tempfile::tempdir().unwrap();
    let (totals, lat) = host_logs(d.path(), 7, 2000, 30);
    for extra in [&[][..], &["--exact"][..], &["--sigfig", "2"][..]] {
        let mut args = vec!["summarize", d.path().to_str().unwrap()];
        args.extend_from_slice(extra);
        let text = String::from_utf8(prom(&args)).unwrap();
        // latency_lines: every third record has the LLM on.
        for (group, pick) in [("with_llm", 0usize), ("without_llm", 1)] {
            let vals: Vec<f64> = totals
                .iter()
                .enumerate()
                .filter(|(i, _)| (i % 3 == 0) as usize != pick)
                .map(|(_, v)| *v)
                .collect();
            let b = samples(&text, "aggmetrics_latency_total_seconds_bucket");
            for ms in BOUNDS_MS {
                let want = vals.iter().filter(|&&v| v <= ms).count() as f64;
                let key = format!("group=\"{group}\",le=\"{}\"", le_label(ms));
                let got = b.iter().find(|(l, _)| *l == key).map(|(_, v)| *v);
                assert_eq!(got, Some(want), "{extra:?} {key}");
            }
            let count = samples(&text, "aggmetrics_latency_total_seconds_count");
            let key = format!("group=\"{group}\"");
            assert!(
                count.contains(&(key.clone(), vals.len() as f64)),
                "{count:?}"
            );
            let sum = samples(&text, "aggmetrics_latency_total_seconds_sum");
            let got = sum.iter().find(|(l, _)| *l == key).unwrap().1;
            let want: f64 = vals.iter().sum::<f64>() / 1000.0;
            assert!((got - want).abs() < 1e-6, "{got} {want}");
        }
        // Integer risk latencies, with the 500 ms gate as a bound.
        let b = samples(&text, "aggmetrics_risk_latency_seconds_bucket");
        let want = lat.iter().filter(|&&v| v <= 500.0).count() as f64;
        assert!(b.contains(&("le=\"0.5\"".into(), want)), "{b:?}");
    }
}

// ---- end to end: two hosts, two node_exporters, one Prometheus ----

#[test]
fn two_hosts_add_up_in_a_real_prometheus() {
    let (Some(prometheus), Some(exporter)) = (
        tool(&["prometheus"], "prometheus"),
        tool(&["prometheus-node-exporter"], "prometheus-node-exporter"),
    ) else {
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let mut servers = Servers(Vec::new());
    let mut exporter_ports = Vec::new();
    let mut all_totals = Vec::new();
    let (mut errors, mut records) = (0u64, 0u64);
    for (host, n, err) in [("a", 1500usize, 20u64), ("b", 2600, 130)] {
        let logs = root.path().join(format!("logs-{host}"));
        let text = root.path().join(format!("textfile-{host}"));
        std::fs::create_dir_all(&logs).unwrap();
        std::fs::create_dir_all(&text).unwrap();
        let (totals, _) = host_logs(&logs, 100 + n as u64, n, err);
        all_totals.extend(totals);
        errors += err;
        records += n as u64;
        // The cron job's command, as docs/operations.md gives it.
        let out = bin()
            .arg("summarize")
            .arg(&logs)
            .args(["-q", "-f", "prometheus", "-o"])
            .arg(text.join("aggmetrics.prom"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        servers.0.push(
            Command::new(&exporter)
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg("--collector.disable-defaults")
                .arg("--collector.textfile")
                .arg(format!("--collector.textfile.directory={}", text.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        exporter_ports.push(port);
    }
    let targets: Vec<String> = exporter_ports
        .iter()
        .map(|p| format!("'127.0.0.1:{p}'"))
        .collect();
    let config = root.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  - job_name: aggmetrics\n    static_configs:\n      - targets: [{}]\n",
            // The rules file docs/ ships, over the real textfiles.
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("docs/prometheus/aggmetrics.rules.yml")
                .display(),
            targets.join(", ")
        ),
    )
    .unwrap();
    let port = free_port();
    servers.0.push(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                root.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Both hosts scraped.
    wait_for("both hosts in Prometheus", 60, || {
        query(port, "count(aggmetrics_run_success == 1)").filter(|&n| n == 2.0)
    });

    // The fleet's p95 from summed buckets falls in the bucket of the exact
    // p95 of both hosts' records together (nearest rank, as
    // histogram_quantile ranks).
    let p95 = wait_for("the fleet p95", 30, || {
        query(
            port,
            "histogram_quantile(0.95, sum by (le) (aggmetrics_latency_total_seconds_bucket))",
        )
    });
    all_totals.sort_by(f64::total_cmp);
    let n = all_totals.len();
    let exact = all_totals[(0.95 * n as f64).ceil() as usize - 1];
    let bucket = |ms: f64| BOUNDS_MS.iter().position(|&b| ms <= b);
    assert_eq!(
        bucket(p95 * 1000.0 - 1e-9),
        bucket(exact),
        "fleet p95 {p95} s, exact {exact} ms"
    );
    // Records at or below the 500 ms gate: exact, not interpolated.
    let le = query(
        port,
        "sum(aggmetrics_latency_total_seconds_bucket{le=\"0.5\"})",
    )
    .unwrap();
    assert_eq!(
        le,
        all_totals.iter().filter(|&&v| v <= 500.0).count() as f64
    );
    assert_eq!(
        query(port, "sum(aggmetrics_latency_total_seconds_count)"),
        Some(n as f64)
    );
    // The fleet error rate: the sum of numerators over the sum of
    // denominators, equal to the exact one.
    let rate = query(
        port,
        "sum(aggmetrics_risk_rate_numerator{rate=\"error_rate\"}) / sum(aggmetrics_risk_rate_denominator{rate=\"error_rate\"})",
    )
    .unwrap();
    let want = errors as f64 / records as f64;
    assert!((rate - want).abs() < 1e-15, "{rate} {want}");
    // Not the mean of the hosts' rates.
    let mean = query(port, "avg(aggmetrics_risk_rate{rate=\"error_rate\"})").unwrap();
    assert!((mean - want).abs() > 1e-3, "{mean} {want}");
    // The documented recording rules name series that exist: they record
    // the same fleet figures from the real output. A rule evaluated before
    // both hosts were scraped records a one-host figure, so wait for the
    // fleet's (a rule naming a missing series never gets there).
    let recorded = wait_for(
        "the recorded fleet error ratio to be the fleet's",
        30,
        || query(port, "aggmetrics:risk_error:ratio").filter(|r| (r - want).abs() < 1e-15),
    );
    assert!((recorded - want).abs() < 1e-15, "{recorded} {want}");
    let recorded_p95 = wait_for("the recorded fleet p95 to be the fleet's", 30, || {
        query(port, "aggmetrics:latency_total_seconds:p95")
            .filter(|p| bucket(p * 1000.0 - 1e-9) == bucket(exact))
    });
    assert_eq!(bucket(recorded_p95 * 1000.0 - 1e-9), bucket(exact));
    drop(servers);
}

/// The bucket lines of a textfile (what adds up across hosts).
fn bucket_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| {
            l.contains("_bucket{") || l.contains("_seconds_count") || l.contains("_seconds_sum")
        })
        .map(String::from)
        .collect()
}

#[test]
fn merged_daily_states_give_the_buckets_of_one_pass() {
    // Values on and around the bounds; two windows, as two daily runs.
    let d = tempfile::tempdir().unwrap();
    host_logs(d.path(), 11, 1500, 40);
    let p = d.path().to_str().unwrap();
    let one = String::from_utf8(prom(&["summarize", p])).unwrap();
    let mut states = Vec::new();
    for (i, w) in [
        ["--until", "2026-02-10T12:12:00Z"],
        ["--since", "2026-02-10T12:12:00Z"],
    ]
    .iter()
    .enumerate()
    {
        let st = d.path().join(format!("{i}.state"));
        let out = bin()
            .args(["summarize", p, "-q", "-o", "/dev/null"])
            .args(w)
            .arg("--state-out")
            .arg(&st)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        states.push(st);
    }
    let out = bin()
        .arg("merge")
        .args(&states)
        .args(["-q", "-f", "prometheus"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged = String::from_utf8(out.stdout).unwrap();
    let (a, b) = (bucket_lines(&one), bucket_lines(&merged));
    assert!(a.len() > 100, "{one}");
    assert_eq!(a, b);
}

/// Every documented cron line that writes into node_exporter's textfile
/// folder, run into one folder, and a real node_exporter over it: every
/// series written is served (a series in two files made it drop both,
/// with node_textfile_scrape_error still 0: 157 of 971 lines were lost
/// with summarize, risk and shadow side by side).
#[test]
fn node_exporter_serves_every_documented_textfile_in_one_folder() {
    let Some(exporter) = tool(&["prometheus-node-exporter"], "prometheus-node-exporter") else {
        return;
    };
    let ops =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md"))
            .unwrap();
    let w = tempfile::tempdir().unwrap();
    let folder = w.path().join("textfile");
    std::fs::create_dir(&folder).unwrap();
    let logs = w.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    for e in std::fs::read_dir(sample_logs()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), logs.join(e.file_name())).unwrap();
    }
    let mut lines = 0;
    for l in ops
        .lines()
        .filter(|l| l.contains("/var/lib/node_exporter/textfile/"))
    {
        let fields: Vec<&str> = l.split_whitespace().collect();
        if fields.len() < 6 || !fields[5].starts_with("aggmetrics") {
            continue;
        }
        let cmd = fields[5..]
            .join(" ")
            .replace("\\%", "%")
            .replace("/var/lib/node_exporter/textfile", folder.to_str().unwrap())
            .replace("/var/log/assistant", logs.to_str().unwrap())
            .replacen("aggmetrics ", &format!("{} ", bin_path().display()), 1);
        let out = Command::new("bash").arg("-c").arg(&cmd).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lines += 1;
    }
    assert!(lines >= 4, "the cron lines writing .prom files: {lines}");
    let mut written = 0;
    for e in std::fs::read_dir(&folder).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "prom") {
            let text = std::fs::read_to_string(&p).unwrap();
            written += text
                .lines()
                .filter(|l| l.starts_with("aggmetrics_"))
                .count();
        }
    }
    let port = free_port();
    let child = Command::new(exporter)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--collector.disable-defaults")
        .arg("--collector.textfile")
        .arg(format!(
            "--collector.textfile.directory={}",
            folder.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _servers = Servers(vec![child]);
    let body = wait_for("node_exporter", 30, || http_get(port, "/metrics"));
    let served = body
        .lines()
        .filter(|l| l.starts_with("aggmetrics_"))
        .count();
    assert!(body.contains("node_textfile_scrape_error 0"), "{body}");
    assert_eq!(served, written, "node_exporter dropped series");
}

/// Field names a user chose (`--count size_kb`, `--value latency_ms`,
/// units promtool's lint refuses in a metric name) and group keys of
/// every JSON type: the textfile still passes promtool, as the names are
/// labels (`--count size_kb` wrote `aggmetrics_jsonl_size_kb_records`).
#[test]
fn user_chosen_names_stay_out_of_metric_names() {
    let Some(promtool) = tool(&["promtool"], "prometheus") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("app.jsonl");
    std::fs::write(
        &f,
        "{\"size_kb\":3,\"took_ms\":1,\"t_us\":2,\"wait_s\":3,\"len_b\":4,\"route\":1}\n\
         {\"size_kb\":4,\"took_ms\":1,\"t_us\":2,\"wait_s\":3,\"len_b\":4,\"route\":\"1\"}\n",
    )
    .unwrap();
    let mut args = vec![
        "stats",
        f.to_str().unwrap(),
        "--by",
        "route",
        "-q",
        "-f",
        "prometheus",
    ];
    for n in ["size_kb", "took_ms", "t_us", "wait_s", "len_b"] {
        args.extend(["--count", n, "--value", n]);
    }
    let out = bin().args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    promtool_check_metrics(&promtool, &out.stdout, "stats --count size_kb ...");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("count=\"size_kb\""), "{text}");
    // The number 1 and the string "1": two groups, two labels.
    assert!(text.contains(r#"group="route=1",route="1"}"#), "{text}");
    assert!(text.contains(r#"group="route=\"1\"",route="1"}"#), "{text}");
}

/// serve's rules (counters over rate windows), its scrape configuration
/// and its systemd unit, as Prometheus' and systemd's own tools check
/// them.
#[test]
fn serve_rules_scrape_config_and_unit_pass_their_tools() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/prometheus");
    if let Some(promtool) = tool(&["promtool"], "prometheus") {
        for args in [
            ["check", "rules", "aggmetrics-serve.rules.yml"],
            ["test", "rules", "aggmetrics-serve.rules.test.yml"],
            ["check", "config", "serve-scrape.yml"],
        ] {
            let out = Command::new(&promtool)
                .args(args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "promtool {args:?}:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let Some(analyze) = tool(&["systemd-analyze"], "systemd") else {
        return;
    };
    // The unit as installed, with this build where it names the binary.
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/systemd/aggmetrics-serve.service"),
    )
    .unwrap();
    assert!(unit.contains("NoNewPrivileges=yes") && unit.contains("PrivateTmp=yes"));
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("aggmetrics-serve.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/aggmetrics", bin_path().to_str().unwrap()),
    )
    .unwrap();
    let out = Command::new(analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Only what a unit names and a container lacks may be said (the
    // group adm, the log folder).
    let unknown: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("Unknown") || l.contains("not executable") || l.contains("Invalid"))
        .collect();
    assert!(unknown.is_empty(), "systemd-analyze verify:\n{said}");
    // The command line it runs is one serve reads.
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=/usr/local/bin/aggmetrics "))
        .unwrap();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let args: Vec<String> = exec
        .split_whitespace()
        .map(|a| {
            a.replace("/var/log/assistant", logs.to_str().unwrap())
                .replace("/var/lib/aggmetrics", d.path().to_str().unwrap())
                .replace("127.0.0.1:9184", "127.0.0.1:0")
        })
        .collect();
    let mut child = Command::new(bin_path())
        .args(&args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut err = std::io::BufReader::new(child.stderr.as_mut().unwrap());
    std::io::BufRead::read_line(&mut err, &mut first).unwrap();
    // Once it listens, it stops on SIGTERM with its checkpoint written.
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut err, &mut line).unwrap() > 0
        && !line.contains("listening on")
    {
        line.clear();
    }
    drop(err);
    // SAFETY: kill(2) on our own child's pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    assert_eq!(child.wait().unwrap().code(), Some(0), "{first}");
    assert!(first.contains("no checkpoint at"), "{first}");
    assert!(d.path().join("serve.checkpoint").is_file());
}
