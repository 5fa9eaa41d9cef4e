//! Guarantees 1, 2 and 7 of docs/reliability.md: logs that are truncated,
//! appended to, replaced or are not files at all while aggmetrics runs.
//! Files live under target/ (disk-backed): tmpfs behaves differently.

use crate::common;
use common::*;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use aggmetrics::agg::{Config, Mode};
use aggmetrics::input::discover;
use aggmetrics::read::{ReadResult, Reader};

/// `n` latency records (~190 bytes each).
fn records(n: usize) -> String {
    latency_lines(&(0..n).map(|i| (i % 997) as f64 + 0.5).collect::<Vec<_>>())
}

fn cfg() -> Config {
    Config::new(Mode::Hdr { sigfig: 3 }, 1 << 20)
}

/// Read `paths` on one thread in 64 KiB ranges, calling `hook` after each
/// range.
fn read_with_hook(paths: &[&Path], hook: &(dyn Fn(u64) + Sync)) -> ReadResult {
    let paths: Vec<_> = paths.iter().map(|p| p.to_path_buf()).collect();
    let found = discover(&paths, None, false).unwrap();
    let mut r = Reader::new(1, u64::MAX);
    r.chunk = 64 << 10;
    r.piece = 16 << 10;
    r.read_with(&found.sources, cfg(), hook).unwrap()
}

/// `truncate -s 0`, as logrotate's copytruncate does.
fn truncate(p: &Path) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_len(0)
        .unwrap();
}

fn total(r: &ReadResult) -> u64 {
    r.acc.files.iter().map(|f| f.records).sum()
}

/// Guarantee 1. With a memory map this test dies of SIGBUS: the file is
/// truncated to 0 after the first 64 KiB range, while 15 more remain.
#[test]
fn a_file_truncated_while_read_finishes_with_a_warning() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    std::fs::write(&p, records(5000)).unwrap();
    let size = std::fs::metadata(&p).unwrap().len();
    assert!(size > 10 * (64 << 10));
    let done = AtomicBool::new(false);
    let r = read_with_hook(&[&p], &|_| {
        if !done.swap(true, Ordering::SeqCst) {
            truncate(&p);
        }
    });
    let info = &r.inputs[0];
    let err = info
        .error
        .as_deref()
        .expect("marked as not read to its end");
    assert!(err.contains("truncated while being read"), "{err}");
    assert!(err.contains(&format!("{size} bytes")), "{err}");
    // The first range was counted, and nothing was called damaged.
    let n = total(&r);
    assert!(n > 300 && n < 5000, "{n}");
    assert_eq!(info.skipped, 0);
}

/// Guarantee 1, the harder case: truncated and at once written again past
/// the old size, so no read comes back short. Either way the writer goes
/// on (at offset 0 with O_APPEND, or at its old offset, leaving zeros),
/// the changed first bytes give it away.
#[test]
fn a_file_truncated_and_refilled_while_read_is_flagged() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    let text = records(5000);
    for append in [true, false] {
        std::fs::write(&p, &text).unwrap();
        let size = text.len() as u64;
        let done = AtomicBool::new(false);
        let r = read_with_hook(&[&p], &|_| {
            if !done.swap(true, Ordering::SeqCst) {
                truncate(&p);
                let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
                use std::os::unix::fs::FileExt;
                // New records, not a copy of the old ones.
                let fresh = latency_lines(&[7.25; 6000]);
                if append {
                    f.write_all_at(fresh.as_bytes(), 0).unwrap();
                } else {
                    f.write_all_at(&fresh.as_bytes()[..300], size + 100)
                        .unwrap();
                }
            }
        });
        let err = r.inputs[0].error.as_deref().unwrap_or("");
        assert!(err.contains("written again"), "append={append}: {err:?}");
    }
    // Untouched, the same check stays quiet.
    std::fs::write(&p, &text).unwrap();
    let r = read_with_hook(&[&p], &|_| {});
    assert_eq!(r.inputs[0].error, None);
    assert_eq!(total(&r), 5000);
}

/// Guarantee 1, through the binary: a file truncated after the run read it
/// is still reported (the figures may mix old and new data), and a run
/// racing a truncation is never killed by a signal.
#[test]
fn the_binary_survives_truncation_at_any_moment() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    let text = records(200_000); // ~38 MB
    let mut read_some = 0;
    for delay_ms in [0u64, 2, 5, 10, 20, 40, 80] {
        std::fs::write(&p, &text).unwrap();
        let child = std::process::Command::new(bin_path())
            .args(["summarize", "-f", "json", "-j", "2"])
            .arg(&p)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        truncate(&p);
        let out = child.wait_with_output().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            None,
            "killed by a signal after {delay_ms} ms"
        );
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = at(&v, "latency.all.count").as_u64().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Every outcome is checked: truncated before it was opened, an
        // empty file and nothing missing; after, all of it and a complete
        // report, or a part with `incomplete` and the warning.
        let incomplete = v["meta"]["incomplete"] == true;
        let warned = stderr.contains("truncated");
        match n {
            // All of it; truncated after the last read but before the end
            // check, it is still called incomplete (a truncation then
            // cannot be told from one that mixed old and new records).
            200_000 => assert_eq!(incomplete, warned, "{delay_ms} ms: {stderr}"),
            0 => assert_eq!(incomplete, warned, "{delay_ms} ms: {stderr}"),
            _ => assert!(incomplete && warned, "{delay_ms} ms: {n}: {stderr}"),
        }
        read_some += usize::from(n > 0);
    }
    // The last runs start long before the truncation: they read records.
    assert!(read_some > 0, "every run found the file already empty");
}

/// Guarantee 2: lines appended during the run are left for the next run;
/// the line being written when the file was opened is neither counted nor
/// called damaged.
#[test]
fn a_file_appended_to_is_read_up_to_its_size_at_open() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    let body = records(3000);
    let last = records(3001).lines().last().unwrap().to_string();
    let half = &last[..last.len() / 2];
    std::fs::write(&p, format!("{body}{half}")).unwrap();
    let appended = AtomicU64::new(0);
    let r = read_with_hook(&[&p], &|_| {
        if appended.fetch_add(1, Ordering::SeqCst) == 0 {
            let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
            // The writer finishes its line, then writes 500 more.
            write!(f, "{}\n{}", &last[last.len() / 2..], records(500)).unwrap();
        }
    });
    assert!(appended.load(Ordering::SeqCst) > 1, "the hook ran mid-read");
    let info = &r.inputs[0];
    assert_eq!(total(&r), 3000);
    assert_eq!(info.skipped, 0);
    assert_eq!(info.unfinished_line_bytes, half.len() as u64);
    assert_eq!(info.error, None);
    assert_eq!(info.bytes, (body.len() + half.len()) as u64);

    // The next run sees the finished line and the appended ones.
    let (v, _) = summarize_json(&[p.to_str().unwrap()]);
    assert_eq!(at(&v, "latency.all.count"), 3501);
    assert_eq!(v["meta"]["inputs"][0]["unfinished_line_bytes"], 0);
    assert_eq!(v["skipped"]["total"], 0);
}

/// Guarantee 2 for every read path: a last line without a newline counts
/// if it is a whole record, and is set aside (not damaged) if it is not.
#[test]
fn an_unfinished_last_line_is_not_damage_on_any_path() {
    let dir = disk_dir();
    let body = records(100);
    let last = records(101).lines().last().unwrap().to_string();
    for (name, tail, count, unfinished) in [
        ("whole", last.as_str(), 101, 0),
        ("half", &last[..last.len() - 7], 100, last.len() - 7),
    ] {
        let text = format!("{body}{tail}");
        let p = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&p, &text).unwrap();
        let file = summarize_json(&[p.to_str().unwrap(), "--kind", "latency"]).0;
        let out = bin()
            .args(["summarize", "-", "--kind", "latency", "-f", "json"])
            .write_stdin(text.clone())
            .output()
            .unwrap();
        let piped: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for v in [&file, &piped] {
            assert_eq!(at(v, "latency.all.count"), count, "{name}");
            assert_eq!(v["skipped"]["total"], 0, "{name}");
            assert_eq!(
                v["meta"]["inputs"][0]["unfinished_line_bytes"], unfinished as u64,
                "{name}"
            );
            assert_eq!(v["meta"]["incomplete"], false);
        }
    }
}

/// Guarantee 7: a file deleted between discovery and reading, and one
/// replaced by a folder, are errors of their own inputs; the rest counts.
#[test]
fn files_that_vanish_or_turn_unreadable_after_discovery() {
    let dir = disk_dir();
    let d = dir.path();
    std::fs::write(d.join("pipeline_latency.jsonl"), records(10)).unwrap();
    std::fs::write(d.join("pipeline_latency.jsonl.1"), records(20)).unwrap();
    std::fs::write(d.join("pipeline_latency.jsonl.2"), records(40)).unwrap();
    let found = discover(&[d.to_path_buf()], None, false).unwrap();
    assert_eq!(found.sources.len(), 3);
    std::fs::remove_file(d.join("pipeline_latency.jsonl.1")).unwrap();
    std::fs::remove_file(d.join("pipeline_latency.jsonl.2")).unwrap();
    std::fs::create_dir(d.join("pipeline_latency.jsonl.2")).unwrap();
    let r = Reader::new(2, u64::MAX)
        .read(&found.sources, cfg())
        .unwrap();
    assert_eq!(total(&r), 10);
    let errs: Vec<_> = r.inputs.iter().map(|i| i.error.clone()).collect();
    assert_eq!(errs[0], None);
    assert!(
        errs[1].as_deref().unwrap().contains("No such file"),
        "{errs:?}"
    );
    assert!(
        errs[2].as_deref().unwrap().contains("directory"),
        "{errs:?}"
    );
}

/// Guarantee 7: a FIFO, a socket and a device found in a log folder are
/// not read (a FIFO would block the run for ever): each is a warning, the
/// report is incomplete, and --strict exits 1.
#[test]
fn special_files_in_a_folder_are_refused_not_read() {
    let dir = disk_dir();
    let d = dir.path();
    std::fs::write(d.join("pipeline_latency.jsonl"), records(10)).unwrap();
    let fifo = d.join("pipeline_latency.jsonl.1");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let _sock = std::os::unix::net::UnixListener::bind(d.join("pipeline_latency.jsonl.2")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.join("pipeline_latency.jsonl.3")).unwrap();

    for strict in [false, true] {
        let mut cmd = std::process::Command::new(bin_path());
        cmd.args(["summarize", "-f", "json", "--follow"]).arg(d);
        if strict {
            cmd.arg("--strict");
        }
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Never block: give it ten seconds, then fail the test.
        let t0 = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if t0.elapsed() > std::time::Duration::from_secs(10) {
                child.kill().unwrap();
                panic!("blocked on a special file");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(if strict { 1 } else { 0 }));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(at(&v, "latency.all.count"), 10);
        assert_eq!(v["meta"]["incomplete"], true);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for what in ["a FIFO", "a socket", "a character device"] {
            assert!(stderr.contains(what), "{what}: {stderr}");
        }
    }
}

/// A FIFO named on the command line is what `<(zcat old.gz)` passes: it is
/// read as a stream.
#[test]
fn a_named_fifo_is_read_as_a_stream() {
    let dir = disk_dir();
    let fifo = dir.path().join("in.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let text = records(25);
    let f2 = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(f2, text).unwrap());
    let (v, _) = summarize_json(&[fifo.to_str().unwrap(), "--kind", "latency"]);
    writer.join().unwrap();
    assert_eq!(at(&v, "latency.all.count"), 25);
    assert_eq!(v["meta"]["inputs"][0]["read_as"], "stream");
    assert_eq!(v["meta"]["incomplete"], false);
}

/// A file whose size says 0 but that has content (`/proc`) is streamed,
/// not taken for empty.
#[test]
fn a_zero_size_proc_file_is_streamed() {
    assert_eq!(std::fs::metadata("/proc/self/status").unwrap().len(), 0);
    let (v, out) = summarize_json(&["/proc/self/status", "--kind", "latency", "-q"]);
    assert!(out.status.success());
    let input = &v["meta"]["inputs"][0];
    assert_eq!(input["read_as"], "stream");
    assert!(input["lines"].as_u64().unwrap() > 10, "{input}");
    assert_eq!(input["lines"], input["skipped"], "no record in it");
    // Never its text in the report.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("VmRSS"));
}
