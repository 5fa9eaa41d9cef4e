//! Every aggmetrics command shown in a code block of README.md and docs/
//! runs as written: the documented paths are mapped into a prepared
//! folder (logs, reports, states, gates files), and no command may end in
//! a usage error (2), a missing input (4), an unwritable output (5), an
//! internal error (70) or a panic. Commands that judge (exit 1 or 3) may
//! judge either way. The crontab and rollout commands are also replayed
//! over a fortnight in tests/figures/fortnight.rs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin_path, executable, sample_logs};

/// (file, line number, command) for every command line in a code block.
fn documented_commands() -> Vec<(String, usize, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let name = f.strip_prefix(root).unwrap().display().to_string();
        let mut info: Option<String> = None;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("```") {
                info = match info {
                    Some(_) => None,
                    None => Some(rest.trim().to_string()),
                };
                continue;
            }
            let Some(kind) = &info else { continue };
            if t.starts_with('#') || !t.contains("aggmetrics ") {
                continue;
            }
            let mut cmd = t.to_string();
            if kind == "cron" {
                let fields: Vec<&str> = t.split_whitespace().collect();
                cmd = fields[5..].join(" ").replace("\\%", "%");
            }
            if let Some(c) = cmd.strip_prefix("$ ") {
                cmd = c.to_string();
            }
            // A command: aggmetrics first, or fed by a pipe.
            if !(cmd.starts_with("aggmetrics ") || cmd.contains("| aggmetrics ")) {
                continue;
            }
            // Output shown in a block (`aggmetrics summarize: 3 inputs`).
            let first = cmd.split_whitespace().nth(1).unwrap_or("");
            if cmd.starts_with("aggmetrics ") && first.ends_with(':') {
                continue;
            }
            // A trailing comment.
            if let Some(at) = cmd.find("  #") {
                cmd.truncate(at);
            }
            out.push((name.clone(), i + 1, cmd.trim().to_string()));
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn run_ok(dir: &Path, args: &[&str]) {
    let out = Command::new(bin_path())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1 | 3)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The folder the documented paths point into.
fn prepare(w: &Path) {
    let logs = sample_logs();
    copy_dir(&logs, &w.join("logs"));
    copy_dir(&logs, &w.join("sample-logs"));
    copy_dir(&logs, &w.join("archive/stage1"));
    for r in ["r1", "r2"] {
        std::fs::create_dir_all(w.join(r)).unwrap();
        std::fs::copy(
            logs.join("partial_trust_risk.jsonl"),
            w.join(r).join("partial_trust_risk.jsonl"),
        )
        .unwrap();
    }
    std::fs::copy(logs.join("pipeline_latency.jsonl"), w.join("today.jsonl")).unwrap();
    std::fs::copy(logs.join("shadow_golden.json"), w.join("golden.json")).unwrap();
    // docs/any-log.md's example logs.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples");
    std::fs::copy(examples.join("access.jsonl"), w.join("access.jsonl")).unwrap();
    std::fs::copy(examples.join("assist.jsonl"), w.join("logs/assist.jsonl")).unwrap();
    // Its logs of other software: Caddy's and Zeek's (real excerpts), pino's.
    for f in ["caddy-access.log", "pino.log", "zeek-ssh.log"] {
        std::fs::copy(examples.join(f), w.join(f)).unwrap();
    }
    // Suricata's EVE log (the tests' real excerpt).
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/realworld");
    std::fs::copy(real.join("suricata_eve_full.json"), w.join("eve.json")).unwrap();
    // docs/any-log.md's recipes: each program's log in a folder of its
    // own, under the name the program gives it.
    for (from, dir, name) in [
        (real.join("suricata_eve_full.json"), "suricata", "eve.json"),
        (examples.join("zeek-ssh.log"), "zeek", "ssh.log"),
        (real.join("zeek_dns.json.gz"), "zeek", "dns.log.gz"),
        (examples.join("caddy-access.log"), "caddy", "access.log"),
        (
            examples.join("gharchive.json"),
            "gharchive",
            "2015-01-01-15.json",
        ),
    ] {
        std::fs::create_dir_all(w.join(dir)).unwrap();
        std::fs::copy(from, w.join(dir).join(name)).unwrap();
    }
    for d in [
        "var/lib/aggmetrics/daily",
        "var/lib/aggmetrics/state",
        "var/lib/aggmetrics/weekly",
        "var/lib/node_exporter/textfile",
        "states",
        "etc/aggmetrics",
        // README's completion and man-page lines (HOME is this folder).
        ".local/share/bash-completion/completions",
        ".local/share/man/man1",
        ".zfunc",
        ".config/fish/completions",
    ] {
        std::fs::create_dir_all(w.join(d)).unwrap();
    }
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/kinds"),
        &w.join("docs/kinds"),
    );
    let gates = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/gates.toml");
    std::fs::copy(&gates, w.join("my-gates.toml")).unwrap();
    std::fs::copy(&gates, w.join("etc/aggmetrics/gates.toml")).unwrap();
    run_ok(
        w,
        &["summarize", "logs", "-q", "-f", "json", "-o", "monday.json"],
    );
    run_ok(
        w,
        &[
            "summarize",
            "logs",
            "-q",
            "-f",
            "json",
            "-o",
            "tuesday.json",
        ],
    );
    for (f, day) in [
        ("states/a.state", "2026-02-10"),
        ("states/b.state", "2026-02-11"),
    ] {
        run_ok(
            w,
            &[
                "summarize",
                "logs",
                "-q",
                "-o",
                "/dev/null",
                "--day",
                day,
                "--state-out",
                f,
            ],
        );
    }
    for f in [
        "stage1.json",
        "stage1-final.json",
        "var/lib/aggmetrics/stage1-final.json",
    ] {
        run_ok(w, &["risk", "logs", "-q", "-f", "json", "-o", f]);
    }
}

#[test]
fn every_documented_command_runs_as_written() {
    let cmds = documented_commands();
    // The README's "Use" lines, the crontab, the rollout routine.
    assert!(cmds.len() >= 20, "{cmds:#?}");
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    prepare(w);
    // aggmetrics on the PATH, through a shim that notes each exit code;
    // `mail` for the crontab's roll-back line.
    let bin = w.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let codes = w.join("codes.log");
    executable(
        &bin,
        "aggmetrics",
        &format!(
            "#!/bin/sh\n{} \"$@\"\nc=$?\necho $c >> {}\nexit $c\n",
            bin_path().display(),
            codes.display()
        ),
    );
    executable(&bin, "mail", "#!/bin/sh\ncat > /dev/null\n");
    for (file, line, cmd) in &cmds {
        // `-f parquet` needs the `parquet` feature: `.ci/run` runs this
        // test again with it.
        if !cfg!(feature = "parquet") && cmd.contains("-f parquet") {
            eprintln!("{file}:{line}: needs --features parquet: {cmd}");
            continue;
        }
        let mut c = cmd.clone();
        for (doc, here) in [
            (
                "/var/lib/node_exporter/textfile",
                "var/lib/node_exporter/textfile",
            ),
            ("/var/lib/aggmetrics", "var/lib/aggmetrics"),
            ("/var/log/assistant", "logs"),
            ("/etc/aggmetrics", "etc/aggmetrics"),
            ("/tmp/r1", "r1"),
            ("/tmp/r2", "r2"),
        ] {
            c = c.replace(doc, &w.join(here).display().to_string());
        }
        let _ = std::fs::remove_file(&codes);
        let out = Command::new("bash")
            .arg("-c")
            .arg(&c)
            .current_dir(w)
            .env("HOME", w)
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        let ran = std::fs::read_to_string(&codes).unwrap_or_default();
        assert!(
            !ran.is_empty(),
            "{file}:{line}: `{cmd}` did not run aggmetrics: {err}"
        );
        for code in ran.lines() {
            assert!(
                matches!(code, "0" | "1" | "3"),
                "{file}:{line}: `{cmd}` exited {code}: {err}"
            );
        }
        assert!(!err.contains("panicked"), "{file}:{line}: {err}");
    }
}

/// README's sample table is what `summarize sample-logs/` prints.
#[test]
fn the_readme_table_is_the_real_output() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("aggmetrics summarize: ").unwrap();
    let end = start + readme[start..].find("\n```").unwrap();
    let shown = &readme[start..end];
    let out = Command::new(bin_path())
        .args(["summarize", "sample-logs/"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim_end(),
        shown.trim_end()
    );
}

/// The example transcripts of docs/rollout.md are what the commands print
/// on the logs the doc says to make (`docs/examples/rollout_logs.py`; the
/// test needs python3, which CI machines have).
#[test]
fn rollout_examples_are_the_real_output() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/rollout.md")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    for args in [
        ["r1", "1", "4"].as_slice(),
        &["r2", "2", "3", "0.012", "0.55"],
    ] {
        let st = Command::new("python3")
            .arg(root.join("docs/examples/rollout_logs.py"))
            .arg(w.join(args[0]))
            .args(&args[1..])
            .status()
            .expect("python3 runs");
        assert!(st.success());
    }
    let run = |args: &[&str]| {
        let out = Command::new(bin_path())
            .args(args)
            .current_dir(w)
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["risk", "r1", "-f", "json", "-o", "stage1.json"]);
    for (cmd, from) in [
        (
            "aggmetrics risk /tmp/r1 --stage 1 --as-of 2026-02-14T00:00:00Z --by day",
            "",
        ),
        (
            "aggmetrics risk /tmp/r2 --stage 2 --baseline stage1.json --as-of 2026-02-13T00:00:00Z",
            "Verdict for stage 2",
        ),
    ] {
        let at = doc
            .find(&format!("$ {cmd}\n"))
            .expect("the example is in the doc");
        let start = at + cmd.len() + 3;
        let shown = &doc[start..start + doc[start..].find("```").unwrap()];
        let args: Vec<String> = cmd
            .split_whitespace()
            .skip(1)
            .map(|a| a.replace("/tmp/", ""))
            .collect();
        let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let out = run(&args);
        let out = &out[out.find(from).unwrap()..];
        assert_eq!(out.trim_end(), shown.trim_end(), "{cmd}");
    }
}
