//! Outputs in folders other users can write, and outputs that would
//! replace what the run reads (issue: safe as root in shared folders).
//!
//! The tests that plant another user's file need root (to give a file to
//! uid 65534); CI runs them as root. Run as another user they say so and
//! check only what that user can set up.

use crate::common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn run(args: &[&str]) -> (i32, String) {
    let out = common::bin().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// A folder holding a copy of the sample logs.
fn logs_copy() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(common::sample_logs()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), d.path().join(e.file_name())).unwrap();
    }
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_output_that_is_an_input_is_refused_before_reading() {
    let d = logs_copy();
    let logs = d.path();
    let log = logs.join("pipeline_latency.jsonl");
    let before = std::fs::read(&log).unwrap();
    // -o onto a log in the folder read (was: the log replaced, exit 0).
    let (code, err) = run(&["summarize", s(logs), "-f", "json", "-o", s(&log)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pipeline_latency.jsonl") && err.contains("read by this run"),
        "{err}"
    );
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // --state-out onto a log, named by hand.
    let fb = logs.join("fallback_metrics.jsonl");
    let fb_before = std::fs::read(&fb).unwrap();
    let (code, err) = run(&["summarize", s(&fb), "--state-out", s(&fb), "-q"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&fb).unwrap(), fb_before);
    // Through a symlink spelled differently, and through a hard link.
    let other = tempfile::tempdir().unwrap();
    let link = other.path().join("report.json");
    std::os::unix::fs::symlink(&log, &link).unwrap();
    let (code, err) = run(&["summarize", s(logs), "-f", "json", "-o", s(&link)]);
    assert_eq!(code, 2, "{err}");
    let hard = other.path().join("hard.json");
    std::fs::hard_link(&log, &hard).unwrap();
    let (code, err) = run(&["stats", s(logs), "--value", "total_ms", "-o", s(&hard)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&log).unwrap(), before);
    // Each command: risk and shadow read their own kind.
    for (cmd, name) in [
        ("risk", "partial_trust_risk.jsonl"),
        ("shadow", "shadow_router.jsonl"),
    ] {
        let f = logs.join(name);
        if !f.exists() {
            continue;
        }
        let b = std::fs::read(&f).unwrap();
        let (code, err) = run(&[cmd, s(logs), "-o", s(&f)]);
        assert_eq!(code, 2, "{cmd}: {err}");
        assert_eq!(std::fs::read(&f).unwrap(), b, "{cmd}");
    }
}

#[test]
fn two_outputs_or_a_settings_file_are_refused() {
    let d = logs_copy();
    let logs = d.path();
    let out = tempfile::tempdir().unwrap();
    let a = out.path().join("a.json");
    std::fs::write(&a, "old").unwrap();
    // -o and --state-out on one file, spelled the same or through a link.
    let (code, err) = run(&["summarize", s(logs), "-o", s(&a), "--state-out", s(&a)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("the same file"), "{err}");
    let link = out.path().join("link.json");
    std::os::unix::fs::symlink("a.json", &link).unwrap();
    let (code, err) = run(&["summarize", s(logs), "-o", s(&a), "--state-out", s(&link)]);
    assert_eq!(code, 2, "{err}");
    // A new file named twice is one file too.
    let n = out.path().join("new.json");
    let (code, err) = run(&["summarize", s(logs), "-o", s(&n), "--state-out", s(&n)]);
    assert_eq!(code, 2, "{err}");
    assert!(!n.exists());
    assert_eq!(std::fs::read(&a).unwrap(), b"old");
    // The kinds file and the gates file.
    let kinds = out.path().join("kinds.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/kinds/assist.toml"),
        &kinds,
    )
    .unwrap();
    let k_before = std::fs::read(&kinds).unwrap();
    let (code, err) = run(&["summarize", s(logs), "--kinds", s(&kinds), "-o", s(&kinds)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--kinds"), "{err}");
    assert_eq!(std::fs::read(&kinds).unwrap(), k_before);
    let gates = out.path().join("gates.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/gates.toml"),
        &gates,
    )
    .unwrap();
    let g_before = std::fs::read(&gates).unwrap();
    let (code, err) = run(&[
        "risk",
        s(logs),
        "--stage",
        "1",
        "--gates",
        s(&gates),
        "-o",
        s(&gates),
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&gates).unwrap(), g_before);
}

#[test]
fn merge_and_compare_do_not_replace_what_they_read() {
    let d = logs_copy();
    let out = tempfile::tempdir().unwrap();
    let st = out.path().join("day.state");
    let (code, err) = run(&[
        "summarize",
        s(d.path()),
        "-q",
        "--state-out",
        s(&st),
        "-o",
        "/dev/null",
    ]);
    assert_eq!(code, 0, "{err}");
    let before = std::fs::read(&st).unwrap();
    let (code, err) = run(&["merge", s(&st), "--state-out", s(&st)]);
    assert_eq!(code, 2, "{err}");
    let (code, err) = run(&["merge", s(&st), "-f", "json", "-o", s(&st)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&st).unwrap(), before);
    let rep = out.path().join("r.json");
    let (code, err) = run(&["summarize", s(d.path()), "-q", "-f", "json", "-o", s(&rep)]);
    assert_eq!(code, 0, "{err}");
    let rb = std::fs::read(&rep).unwrap();
    let (code, err) = run(&["compare", s(&rep), s(&rep), "-o", s(&rep)]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read(&rep).unwrap(), rb);
}

/// A folder any user can write, as node_exporter's textfile folder often is.
fn shared_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

fn lchown(p: &Path, uid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(uid)).unwrap();
}

#[test]
fn another_users_symlink_or_fifo_at_the_output_is_not_followed() {
    if !is_root() {
        eprintln!("skipped: planting another user's link needs root");
        return;
    }
    let logs = common::sample_logs();
    let shared = shared_dir();
    let victim_dir = tempfile::tempdir().unwrap();
    let victim = victim_dir.path().join("passwd");
    std::fs::write(&victim, "root:x:0:0\n").unwrap();
    // uid 65534 plants report.json -> a root-owned file.
    let out = shared.path().join("report.json");
    std::os::unix::fs::symlink(&victim, &out).unwrap();
    lchown(&out, 65534);
    let (code, err) = run(&["summarize", s(&logs), "-q", "-f", "json", "-o", s(&out)]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("symlink owned by another user"), "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"root:x:0:0\n");
    // The same for --state-out.
    let (code, err) = run(&[
        "summarize",
        s(&logs),
        "-q",
        "--state-out",
        s(&out),
        "-o",
        "/dev/null",
    ]);
    assert_eq!(code, 5, "{err}");
    assert_eq!(std::fs::read(&victim).unwrap(), b"root:x:0:0\n");
    // A link of root's own is followed: the file it names is replaced.
    let mine = shared.path().join("mine.json");
    std::os::unix::fs::symlink(&victim, &mine).unwrap();
    let (code, err) = run(&["summarize", s(&logs), "-q", "-f", "json", "-o", s(&mine)]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read_to_string(&victim).unwrap().starts_with('{'));
    assert!(std::fs::symlink_metadata(&mine)
        .unwrap()
        .file_type()
        .is_symlink());
    // Another user's FIFO at -o would hang the run: refused at once.
    let fifo = shared.path().join("pipe.json");
    let c = std::ffi::CString::new(s(&fifo)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
    lchown(&fifo, 65534);
    let (code, err) = run(&["summarize", s(&logs), "-q", "-o", s(&fifo)]);
    assert_eq!(code, 5, "{err}");
}

#[test]
fn a_planted_lock_file_is_refused_not_followed_or_waited_on() {
    let logs = common::sample_logs();
    let shared = shared_dir();
    let elsewhere = tempfile::tempdir().unwrap();
    let target = elsewhere.path().join("created-by-root");
    // report.json.lock -> a path elsewhere: the old code created it.
    let out = shared.path().join("report.json");
    let lock = shared.path().join("report.json.lock");
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let (code, err) = run(&["summarize", s(&logs), "-q", "-o", s(&out)]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("symlink"), "{err}");
    assert!(!target.exists(), "the lock followed the link");
    assert!(!out.exists());
    // A FIFO there: the old code hung for ever in open(2). The child is
    // killed after a while, so a hang fails the test instead of the suite.
    std::fs::remove_file(&lock).unwrap();
    let c = std::ffi::CString::new(s(&lock)).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o666) }, 0);
    let mut child = std::process::Command::new(common::bin_path())
        .args(["summarize", s(&logs), "-q", "-o", s(&out)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut code = None;
    for _ in 0..300 {
        if let Some(st) = child.try_wait().unwrap() {
            code = st.code();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if code.is_none() {
        child.kill().unwrap();
        let _ = child.wait();
    }
    assert_eq!(code, Some(5), "hung on a FIFO lock file, or another code");
}

#[test]
fn one_output_has_one_lock_however_it_is_spelled() {
    let logs = common::sample_logs();
    let d = tempfile::tempdir().unwrap();
    let real = d.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = d.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    // Another run holds the lock of real.json.
    let lockf = std::fs::File::create(d.path().join("real.json.lock")).unwrap();
    lockf.lock().unwrap();
    let (code, err) = run(&["summarize", s(&logs), "-q", "-o", s(&link)]);
    assert_eq!(code, 6, "{err}");
    assert_eq!(std::fs::read(&real).unwrap(), b"old");
    // And through the folder spelled another way.
    let other = d.path().join(".").join("real.json");
    let (code, err) = run(&["summarize", s(&logs), "-q", "-o", s(&other)]);
    assert_eq!(code, 6, "{err}");
    lockf.unlock().unwrap();
}

#[test]
fn the_old_mode_is_kept_without_setuid_or_setgid() {
    let logs = common::sample_logs();
    let d = shared_dir();
    let out = d.path().join("report.json");
    std::fs::write(&out, "old").unwrap();
    // Given to nobody first: chown clears setuid and setgid bits.
    if is_root() {
        lchown(&out, 65534);
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o6777)).unwrap();
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777,
        0o6777
    );
    let (code, err) = run(&["summarize", s(&logs), "-q", "-f", "json", "-o", s(&out)]);
    assert_eq!(code, 0, "{err}");
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o777, "mode {mode:o}");
    // A new file gets 0644 (and no lock file stays behind).
    let new = d.path().join("new.json");
    let (code, err) = run(&["summarize", s(&logs), "-q", "-f", "json", "-o", s(&new)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::metadata(&new).unwrap().permissions().mode() & 0o7777,
        0o644
    );
    assert!(!d.path().join("new.json.lock").exists());
}
