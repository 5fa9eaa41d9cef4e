//! Flags, formats and output files.

use crate::common;
use common::*;
use predicates::prelude::*;

#[test]
fn help_documents_every_flag_with_an_example() {
    let out = bin().args(["summarize", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--format",
        "--output",
        "--exact",
        "--percentiles",
        "--sigfig",
        "--kind",
        "--threads",
        "--strict",
        "--max-line-bytes",
        "--quiet",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    // Every option (and the PATH argument) carries an example.
    assert!(
        help.matches("Example:").count() >= 11,
        "examples in --help: {}",
        help.matches("Example:").count()
    );
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Exit codes"));
}

#[test]
fn every_subcommand_gives_every_option_an_example() {
    for cmd in ["summarize", "risk", "compare", "merge"] {
        let out = bin().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        // Option and argument headings: `  -x, --name`, `      --name`, `  [PATH]...`.
        let items = help
            .lines()
            .filter(|l| {
                let t = l.trim_start();
                let indent = l.len() - t.len();
                (2..=6).contains(&indent)
                    && (t.starts_with('-') || t.starts_with('[') || t.starts_with('<'))
                    && !t.starts_with("-h, --help")
                    && !t.starts_with("-V, --version")
            })
            .count();
        let examples = help.matches("Example:").count();
        assert!(items >= 3, "{cmd}: parsed {items} options");
        // One example per option and argument, plus the command's own.
        assert_eq!(examples, items + 1, "{cmd} --help:\n{help}");
    }
}

#[test]
fn custom_percentiles_and_sigfig() {
    let s = sample_logs();
    let (v, _) = summarize_json(&[
        s.to_str().unwrap(),
        "--percentiles",
        "50,90,99,99.9",
        "--sigfig",
        "4",
    ]);
    let t = at(&v, "latency.all.total_ms");
    for k in ["p50", "p90", "p99", "p99.9", "min", "max", "mean", "count"] {
        assert!(t.get(k).is_some(), "{k}");
    }
    assert!(t.get("p95").is_none());
    assert_eq!(at(&v, "meta.precision.significant_digits"), 4);
    assert!(t["p50"].as_f64().unwrap() <= t["p90"].as_f64().unwrap());
    bin()
        .args(["summarize", s.to_str().unwrap(), "--percentiles", "101"])
        .assert()
        .code(2);
    bin()
        .args(["summarize", s.to_str().unwrap(), "--sigfig", "6"])
        .assert()
        .code(2);
}

#[test]
fn output_file_is_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("summary.json");
    std::fs::write(&target, "old").unwrap();
    bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-f",
            "json",
            "-o",
            target.to_str().unwrap(),
            "-q",
        ])
        .assert()
        .success()
        .stdout("");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&target).unwrap()).unwrap();
    assert!(v["latency"]["all"]["count"].as_u64().unwrap() > 0);
    let mut left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    // The report alone: no temporary file, and the lock file is removed.
    assert_eq!(left, ["summary.json"], "nothing left behind");
}

#[test]
fn output_failure_keeps_the_old_file_and_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("no-such-dir").join("summary.json");
    bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-o",
            target.to_str().unwrap(),
            "-q",
        ])
        .assert()
        .code(5)
        .stderr(predicate::str::contains("summary.json"));
}

#[test]
fn table_shows_groups_side_by_side_and_skips() {
    let out = bin()
        .args(["summarize", sample_logs().to_str().unwrap()])
        .output()
        .unwrap();
    let t = String::from_utf8_lossy(&out.stdout);
    let header = t
        .lines()
        .find(|l| l.contains("with_llm"))
        .expect("group header");
    assert!(
        header.find("all") < header.find("with_llm")
            && header.find("with_llm") < header.find("without_llm")
    );
    assert!(t.contains("Latency (ms)"));
    assert!(t.contains("fallback rate") && t.contains('%'));
    // The Skipped paragraph (wrapped to 80 columns) names the first one.
    let skipped = &t[t.find("\nSkipped: ").expect("a Skipped line")..];
    let para = &skipped[..skipped.find("\nPrecision").unwrap_or(skipped.len())];
    assert!(para.contains("first at"), "{para}");
    // Numeric columns are right-aligned: every total_ms row ends at the same column.
    let rows: Vec<&str> = t
        .lines()
        .skip_while(|l| !l.contains("total_ms"))
        .take(5)
        .collect();
    let ends: Vec<usize> = rows.iter().map(|l| l.len()).collect();
    assert!(ends.windows(2).all(|w| w[0] == w[1]), "{rows:#?}");
}

#[test]
fn closed_pipe_exits_quietly() {
    // `aggmetrics ... | head -1`: stdout closes early; no panic, no error text.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("aggmetrics"))
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-f",
            "json",
            "-q",
            "--percentiles",
            &(0..=100)
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(","),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert!(out.status.code() == Some(0), "{:?}", out.status);
}

#[test]
fn a_second_run_on_the_same_output_waits_for_no_one() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("daily.json");
    std::fs::write(&out, "old report\n").unwrap();
    // Another run (here: this test) holds the lock.
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(d.path().join("daily.json.lock"))
        .unwrap();
    lock.lock().unwrap();
    let res = bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(6));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(
        err.contains("another aggmetrics run is writing") && err.contains("daily.json.lock"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "old report\n");
    // Released: the run goes through.
    lock.unlock().unwrap();
    bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&out)
        .assert()
        .success();
    assert!(std::fs::read_to_string(&out).unwrap().starts_with('{'));
}

#[cfg(unix)]
#[test]
fn output_to_a_device_fifo_or_symlink_writes_through_it() {
    use std::os::unix::fs::FileTypeExt;
    let d = tempfile::tempdir().unwrap();
    // A symlink: the file it points to gets the report, the link stays.
    let real = d.path().join("real.json");
    std::fs::write(&real, "old\n").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&link)
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().starts_with('{'));
    // A named pipe: written through, not replaced by a regular file.
    let fifo = d.path().join("pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    bin()
        .args([
            "summarize",
            sample_logs().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&fifo)
        .assert()
        .success();
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "the FIFO was replaced"
    );
    assert!(reader.join().unwrap().starts_with('{'));
}

/// The formats each command's help offers are exactly those its documents
/// can be rendered in, and the one-line help names them all.
#[test]
fn help_lists_the_formats_each_command_accepts() {
    use aggmetrics::render::{renderer, DocKind, Format};
    use clap::ValueEnum;
    for (cmd, kinds) in [
        ("summarize", &[DocKind::Summary][..]),
        ("risk", &[DocKind::Risk][..]),
        ("compare", &[DocKind::Compare][..]),
        ("merge", &[DocKind::Summary][..]),
    ] {
        let out = bin().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        let at = help.find("--format <FORMAT>").expect("a --format flag");
        // This option's block: up to the next option.
        let section: String = help[at..]
            .lines()
            .enumerate()
            .take_while(|(i, l)| {
                *i == 0 || !l.trim_start().starts_with('-') || l.trim_start().starts_with("- ")
            })
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        // Either "[possible values: a, b]" or a "- a: ..." list.
        let offered: Vec<String> = match section.split("[possible values: ").nth(1) {
            Some(v) => v
                .split(']')
                .next()
                .unwrap()
                .split(", ")
                .map(String::from)
                .collect(),
            None => section
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("- "))
                .map(|l| l.split(':').next().unwrap().to_string())
                .collect(),
        };
        let accepted: Vec<String> = Format::value_variants()
            .iter()
            .filter(|f| kinds.iter().all(|k| renderer(**f).supports(*k).is_ok()))
            .map(|f| f.to_possible_value().unwrap().get_name().to_string())
            .collect();
        assert_eq!(offered, accepted, "{cmd}");
        let first_line = section.lines().nth(1).unwrap();
        for f in &accepted {
            assert!(
                first_line.contains(f.as_str()),
                "{cmd}: '{first_line}' lacks {f}"
            );
        }
    }
}

/// Completion scripts for every shell, from the same clap model as
/// `--help`; bash loads its script and registers the completion.
#[test]
fn completions_for_every_shell() {
    for (shell, mark) in [
        ("bash", "complete -F _aggmetrics"),
        ("zsh", "#compdef aggmetrics"),
        ("fish", "complete -c aggmetrics"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = bin().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(s.contains(mark), "{shell}: {mark}");
        for sub in ["summarize", "risk", "compare", "stats", "shadow", "merge"] {
            assert!(s.contains(sub), "{shell}: {sub}");
        }
        assert!(s.contains("--since") && s.contains("prometheus"), "{shell}");
    }
    let out = bin().args(["completions", "bash"]).output().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("aggmetrics.bash");
    std::fs::write(&f, out.stdout).unwrap();
    let st = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("source {} && complete -p aggmetrics", f.display()))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    assert!(String::from_utf8_lossy(&st.stdout).contains("_aggmetrics"));
    let out = bin().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// The manual page in roff, for the tool and for each subcommand.
#[test]
fn man_pages_in_roff() {
    let out = bin().arg("man").output().unwrap();
    assert!(out.status.success());
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains(".TH aggmetrics 1"), "{s}");
    assert!(
        s.contains(".SH SUBCOMMANDS") && s.contains("summarize"),
        "{s}"
    );
    let out = bin().args(["man", "summarize"]).output().unwrap();
    let s = String::from_utf8(out.stdout).unwrap();
    assert!(s.contains(".TH aggmetrics-summarize 1"), "{s}");
    assert!(
        s.contains("\\-\\-since") && s.contains("\\-\\-format"),
        "{s}"
    );
    let out = bin().args(["man", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use one of summarize"));
}

/// `--version` names the commit the binary was built from and its
/// features, so a report can be traced to its build.
#[test]
fn version_names_commit_and_features() {
    let out = bin().arg("--version").output().unwrap();
    let v = String::from_utf8(out.stdout).unwrap();
    let features = if cfg!(feature = "parquet") {
        "parquet"
    } else {
        "none"
    };
    assert!(v.contains(&format!("features: {features})")), "{v}");
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(h) if h.status.success() && std::env::var_os("AGGMETRICS_TEST_BIN").is_none() => {
            let h = String::from_utf8(h.stdout).unwrap();
            assert!(v.contains(&format!("(commit {}", h.trim())), "{v} vs {h}");
        }
        _ => assert!(v.contains("(commit "), "{v}"),
    }
}

/// `--percentiles 50,50` or `99.9,99.90`: each once (they wrote duplicate
/// JSON keys and duplicate Prometheus series, which promtool refuses).
#[test]
fn duplicate_percentiles_are_given_once() {
    let s = sample_logs();
    let (v, _) = summarize_json(&[
        s.to_str().unwrap(),
        "-q",
        "--percentiles",
        "50,99.9,50,99.90",
    ]);
    assert_eq!(v["meta"]["percentiles"], serde_json::json!([50.0, 99.9]));
    // As many "p50" keys in the text as with --percentiles 50.
    let p50s = |list: &str| {
        let out = bin()
            .args([
                "summarize",
                s.to_str().unwrap(),
                "-q",
                "-f",
                "json",
                "--percentiles",
                list,
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .matches("\"p50\"")
            .count()
    };
    assert!(p50s("50") > 0);
    assert_eq!(p50s("50,50"), p50s("50"));
    let out = bin()
        .args([
            "summarize",
            s.to_str().unwrap(),
            "-q",
            "-f",
            "prometheus",
            "--percentiles",
            "50,50",
        ])
        .output()
        .unwrap();
    let prom = String::from_utf8(out.stdout).unwrap();
    let mut lines: Vec<&str> = prom.lines().filter(|l| !l.starts_with('#')).collect();
    let n = lines.len();
    lines.sort();
    lines.dedup();
    assert_eq!(lines.len(), n, "duplicate series");
}
