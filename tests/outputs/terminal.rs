//! The human table's terminal conventions: it fits 80 columns when not on
//! a terminal (and the terminal's width on one), and it is coloured only
//! on a terminal, or with `--color always`; never with `NO_COLOR` or
//! `--color never`, in pipes or in files.

use crate::common;

use std::process::Command;

use common::*;

fn docs() -> Vec<Vec<String>> {
    let s = sample_logs().display().to_string();
    let access = format!("{}/docs/examples/access.jsonl", env!("CARGO_MANIFEST_DIR"));
    [
        vec!["summarize", &s],
        vec!["summarize", &s, "--by", "hour"],
        vec![
            "summarize",
            &s,
            "--exact",
            "--percentiles",
            "50,90,95,99,99.9",
        ],
        vec!["risk", &s, "--stage", "1", "--by", "day"],
        vec!["risk", &s, "--stage", "2"],
        vec!["shadow", &s],
        vec!["compare", &s, &s],
        vec![
            "stats", &access, "--value", "timing.*", "--by", "route", "--by", "status", "--count",
            "status",
        ],
    ]
    .iter()
    .map(|a| a.iter().map(|x| x.to_string()).collect())
    .collect()
}

#[test]
fn every_default_table_fits_80_columns() {
    for args in docs() {
        let out = bin().args(&args).output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.lines().count() > 5, "{args:?}");
        for l in text.lines() {
            assert!(
                l.chars().count() <= 80,
                "{args:?}: {} columns: {l}",
                l.chars().count()
            );
        }
        assert!(!text.contains('\x1b'), "{args:?}: colour in a pipe");
    }
}

#[test]
fn colour_only_where_asked_or_on_a_terminal() {
    let s = sample_logs().display().to_string();
    let risk = ["risk", &s, "--stage", "1"];
    let run = |extra: &[&str], no_color: bool| {
        let mut c = bin();
        c.args(risk)
            .args(extra)
            .env("AGGMETRICS_NOW", "2026-02-11T13:00:00Z");
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let o = c.output().unwrap();
        (
            String::from_utf8(o.stdout).unwrap(),
            String::from_utf8(o.stderr).unwrap(),
        )
    };
    // --color always: the verdict (HOLD, yellow) and the unmet criterion.
    let (out, _) = run(&["--color", "always"], false);
    assert!(out.contains("\x1b[33mVerdict for stage 1: HOLD"), "{out}");
    assert!(out.contains("\x1b[33m  evidence  NOT MET"), "{out}");
    assert!(out.contains("\x1b[33mSkipped: 6 lines"), "{out}");
    // In a pipe, with NO_COLOR, or never: none.
    for (extra, nc) in [
        (&[][..], false),
        (&["--color", "auto"][..], true),
        (&["--color", "never"][..], false),
    ] {
        let (out, err) = run(extra, nc);
        assert!(!out.contains('\x1b') && !err.contains('\x1b'), "{extra:?}");
    }
    // -o FILE is never coloured by auto.
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("t.txt");
    bin().args(risk).arg("-o").arg(&f).output().unwrap();
    assert!(!std::fs::read_to_string(&f).unwrap().contains('\x1b'));
}

/// On a terminal (a pseudo-terminal from `script`): colour by default,
/// none with NO_COLOR, and the table fits the terminal's own width.
#[test]
fn on_a_terminal_colour_and_its_width() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("AGGMETRICS_REQUIRE_TOOLS").is_none(),
            "script (util-linux) is missing"
        );
        eprintln!("skipped: no script(1)");
        return;
    }
    let s = sample_logs().display().to_string();
    let tty = |cmd: &str, env: &[(&str, &str)]| {
        let mut c = Command::new("script");
        c.args(["-qec", cmd, "/dev/null"])
            .env_remove("NO_COLOR")
            .env("TERM", "xterm");
        for (k, v) in env {
            c.env(k, v);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).replace('\r', "")
    };
    let bin = bin_path().display().to_string();
    let risk = format!("{bin} risk {s} --stage 1");
    let out = tty(&risk, &[("AGGMETRICS_NOW", "2026-02-11T13:00:00Z")]);
    assert!(out.contains("\x1b[33mVerdict for stage 1: HOLD"), "{out}");
    let out = tty(
        &risk,
        &[
            ("AGGMETRICS_NOW", "2026-02-11T13:00:00Z"),
            ("NO_COLOR", "1"),
        ],
    );
    assert!(
        out.contains("Verdict for stage 1: HOLD") && !out.contains('\x1b'),
        "{out}"
    );
    // A 60-column terminal.
    let out = tty(
        &format!("stty cols 60; {bin} summarize {s} -q"),
        &[("NO_COLOR", "1")],
    );
    assert!(out.contains("Latency (ms)"), "{out}");
    for l in out.lines() {
        assert!(
            l.chars().count() <= 60,
            "{} columns: {l}",
            l.chars().count()
        );
    }
    // The damaged-lines warning on a terminal's standard error.
    let out = tty(&format!("{bin} summarize {s} -o /dev/null"), &[]);
    assert!(
        out.contains("aggmetrics: \x1b[33mwarning\x1b[0m: skipped 16"),
        "{out}"
    );
}
