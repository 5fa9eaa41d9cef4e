//! Every row of the exit-code table in docs/cli.md, each reached the way a
//! user reaches it, and the messages those paths print.

use crate::common;

use common::{bin, risk_dir, risk_lines, sample_logs};

fn run(args: &[&str]) -> (i32, String) {
    let out = bin().args(args).output().expect("runs");
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn logs() -> String {
    sample_logs().display().to_string()
}

#[test]
fn zero_success() {
    assert_eq!(run(&["summarize", &logs(), "-q", "-f", "json"]).0, 0);
}

#[test]
fn one_check_failed() {
    let (code, err) = run(&[
        "summarize",
        &logs(),
        "-q",
        "--fail-on",
        "fallback.error_rate>0.01",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("threshold breached"), "{err}");
    // The sample logs hold damaged lines.
    assert_eq!(run(&["summarize", &logs(), "-q", "--strict"]).0, 1);
}

#[test]
fn two_usage_errors() {
    assert_eq!(run(&["summarize", "--no-such-flag"]).0, 2);
    assert_eq!(run(&["summarize", &logs(), "--fail-on", "x=1"]).0, 2);
    assert_eq!(run(&["summarize", &logs(), "--day", "someday"]).0, 2);
}

#[test]
fn a_missing_baseline_or_gates_file_is_a_usage_error_said_once() {
    let d = risk_dir(&risk_lines(60, 0));
    let dir = d.path().to_str().unwrap();
    for flag in ["--baseline", "--gates"] {
        let (code, err) = run(&["risk", dir, "--stage", "1", flag, "/no/such/file.json"]);
        assert_eq!(code, 2, "{flag}: {err}");
        assert!(
            err.contains(flag) && err.contains("/no/such/file.json"),
            "{err}"
        );
        // The OS error once, not repeated by the error chain.
        assert_eq!(
            err.matches("No such file").count() + err.matches("no such file").count(),
            1,
            "{err}"
        );
    }
}

#[test]
fn three_hold() {
    let d = risk_dir(&risk_lines(10, 0));
    let (code, err) = run(&[
        "risk",
        d.path().to_str().unwrap(),
        "--stage",
        "1",
        "--as-of",
        "2026-02-10T00:10:00Z",
    ]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn four_missing_input() {
    let (code, err) = run(&["summarize", "/no/such/logs"]);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("/no/such/logs"), "{err}");
    let (code, _) = run(&["compare", "/no/such/a.json", "/no/such/b.json"]);
    assert_eq!(code, 4);
}

#[cfg(target_os = "linux")]
#[test]
fn five_standard_output_full() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(common::bin_path())
        .args(["summarize", &logs(), "-q", "-f", "json"])
        .stdout(full)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{err}");
    assert!(err.contains("standard output"), "{err}");
}

#[test]
fn five_missing_output_folder_is_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("daily/2026-02-17.json");
    let (code, err) = run(&["summarize", &logs(), "-q", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("does not exist")
            && err.contains(&d.path().join("daily").display().to_string()),
        "{err}"
    );
    assert!(
        !err.contains(".lock"),
        "the message names the folder, not the lock: {err}"
    );
    // The same for --state-out, before any log is read.
    let st = d.path().join("state/x.state");
    let (code, err) = run(&[
        "summarize",
        &logs(),
        "-q",
        "-f",
        "json",
        "--state-out",
        st.to_str().unwrap(),
    ]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn six_locked_and_no_lock_file_left_behind() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("today.json");
    let lock_path = d.path().join("today.json.lock");
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock().unwrap();
    let (code, err) = run(&["summarize", &logs(), "-q", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 6, "{err}");
    drop(lock);
    std::fs::remove_file(&lock_path).unwrap();
    // Dated outputs, as cron writes them: no .lock file piles up.
    for day in ["2026-02-10", "2026-02-11"] {
        let out = d.path().join(format!("{day}.json"));
        let (code, err) = run(&[
            "summarize",
            &logs(),
            "-q",
            "-f",
            "json",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let mut names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["2026-02-10.json", "2026-02-11.json"]);
}

/// `aggmetrics shadow` keeps the same table: 0, 1 (--strict), 2 (usage),
/// 4 (no input), 5 (output).
#[test]
fn shadow_follows_the_table() {
    let (code, err) = run(&["shadow", &logs(), "-q", "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    // The sample shadow log holds a damaged line.
    assert_eq!(run(&["shadow", &logs(), "-q", "--strict"]).0, 1);
    assert_eq!(run(&["shadow", &logs(), "--golden"]).0, 2);
    assert_eq!(run(&["shadow", &logs(), "--since", "someday"]).0, 2);
    let (code, err) = run(&["shadow", "/no/such/logs"]);
    assert_eq!(code, 4, "{err}");
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("no/such/folder/shadow.json");
    let (code, err) = run(&["shadow", &logs(), "-q", "-o", out.to_str().unwrap()]);
    assert_eq!(code, 5, "{err}");
}

/// `aggmetrics ARGS` as an unprivileged user (uid and gid 65534) when the
/// tests run as root, who reads any file; as the test's own user otherwise.
fn run_unprivileged(args: &[&str]) -> (i32, String) {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    let mut c = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(common::bin_path());
        c
    } else {
        std::process::Command::new(common::bin_path())
    };
    let out = c.args(args).output().expect("setpriv (util-linux) runs");
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn four_an_existing_input_that_cannot_be_read() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = d.path().join("pipeline_latency.jsonl");
    std::fs::copy(common::sample_logs().join("pipeline_latency.jsonl"), &f).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Named on the command line: the command's error, naming the file
    // (was exit 0 with an incomplete report, and -q said nothing).
    let (code, err) = run_unprivileged(&["summarize", f.to_str().unwrap(), "-q"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(f.to_str().unwrap()) && err.contains("Permission denied"),
        "{err}"
    );
    // Found in a folder: an error of that input alone, the report is
    // written and says it is incomplete; --strict exits 1.
    let dir = d.path().to_str().unwrap();
    let (code, err) = run_unprivileged(&["summarize", dir, "-f", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the report is incomplete"), "{err}");
    let (code, _) = run_unprivileged(&["summarize", dir, "-q", "-f", "json", "--strict"]);
    assert_eq!(code, 1);
}

#[test]
fn five_a_failed_write_keeps_the_existing_file() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("today.json");
    let old = b"{\"the\": \"report of yesterday\"}\n";
    std::fs::write(&out, old).unwrap();
    // Files may not grow past 1 KiB (RLIMIT_FSIZE; SIGXFSZ ignored, so
    // the write fails with EFBIG): the report, larger, cannot be written.
    let script = format!(
        "trap '' XFSZ; ulimit -f 1; exec '{}' summarize '{}' -q -f json -o '{}'",
        common::bin_path().display(),
        logs(),
        out.display()
    );
    let o = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(5), "{err}");
    assert!(
        err.contains("today.json"),
        "the message names the output: {err}"
    );
    // The old file is as it was, and no temporary file is left.
    assert_eq!(std::fs::read(&out).unwrap(), old);
    let left: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "today.json")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Without the limit the same command replaces it.
    let (code, _) = run(&[
        "summarize",
        &logs(),
        "-q",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_ne!(std::fs::read(&out).unwrap(), old);
}

#[test]
fn seventy_an_internal_error() {
    // A panic (a bug) is exit 70 with its message, not 101 or an abort's
    // 134. The fault is injected through a hook of debug builds only.
    let out = common::bin()
        .args(["summarize", &logs(), "-q"])
        .env("AGGMETRICS_TEST_PANIC", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(70), "{err}");
    assert!(
        err.contains("internal error (please report it)") && err.contains("AGGMETRICS_TEST_PANIC"),
        "{err}"
    );
}

#[test]
fn seven_the_memory_budget_is_not_enough() {
    // A budget the run cannot fit in: a message naming the flag, exit 7,
    // not an abort (tests/inputs/memory.rs has the realistic cases).
    let (code, err) = run(&["summarize", &logs(), "-q", "--exact", "--max-memory", "64K"]);
    assert_eq!(code, 7, "{err}");
    assert!(
        err.starts_with(
            "aggmetrics: error: the run needs more memory than --max-memory allows (65536 bytes)"
        ),
        "{err}"
    );
    // A budget of nothing is a usage error.
    let (code, err) = run(&["summarize", &logs(), "--max-memory", "0"]);
    assert_eq!(code, 2, "{err}");
}
