//! Guarantee 10 of docs/reliability.md: kill -9 at any moment of a run
//! with `-o FILE` leaves the old file or the whole new one, never a part,
//! and never a lock that blocks the next run.

use crate::common;
use common::*;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn kill_9_leaves_the_old_report_or_the_whole_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let totals: Vec<f64> = (0..60_000).map(|i| (i % 4999) as f64 / 7.0).collect();
    std::fs::write(logs.join("pipeline_latency.jsonl"), latency_lines(&totals)).unwrap();
    let out = dir.path().join("report.json");
    let run = |out: &std::path::Path| {
        Command::new(bin_path())
            .args([
                "summarize",
                "-q",
                "-f",
                "json",
                "--by",
                "hour",
                "-j",
                "1",
                "-o",
            ])
            .arg(out)
            .arg(&logs)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // The whole new report, and how long a run takes.
    let t0 = Instant::now();
    assert!(run(&out).wait().unwrap().success());
    let full = t0.elapsed();
    let new = std::fs::read(&out).unwrap();
    let old = b"{\"the\": \"report of yesterday\"}\n".to_vec();

    let mut rng = Rng(0x9e3779b97f4a7c15);
    let (mut kept_old, mut got_new, mut mid_write) = (0, 0, 0);
    let temps = || -> Vec<std::path::PathBuf> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(".aggmetrics-")
            })
            .collect()
    };
    for i in 0..40 {
        std::fs::write(&out, &old).unwrap();
        let mut child = run(&out);
        let us = if i % 2 == 0 {
            // Kill times spread over the whole run, the write at its end
            // included, and a little past it.
            let us = rng.below(full.as_micros() as u64 * 6 / 5 + 1);
            std::thread::sleep(Duration::from_micros(us));
            us
        } else {
            // Kill the moment the output starts to change: a temporary
            // file appears, or the report itself changes.
            let t = Instant::now();
            let ino = |p: &std::path::Path| {
                use std::os::unix::fs::MetadataExt;
                std::fs::metadata(p).map(|m| (m.ino(), m.len())).ok()
            };
            let before = ino(&out);
            while t.elapsed() < full * 3 {
                let changed = ino(&out) != before
                    || std::fs::read_dir(dir.path()).unwrap().any(|e| {
                        e.unwrap()
                            .file_name()
                            .to_string_lossy()
                            .starts_with(".aggmetrics-")
                    });
                if changed {
                    break;
                }
            }
            t.elapsed().as_micros() as u64
        };
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // A temporary file left behind: the kill landed after the new
        // report began to be written and before it was renamed in place.
        let left = temps();
        if !left.is_empty() {
            mid_write += 1;
            for t in left {
                std::fs::remove_file(t).unwrap();
            }
        }
        let now = std::fs::read(&out).unwrap();
        if now == old {
            kept_old += 1;
        } else {
            assert_eq!(now, new, "kill {i} after {us} us left a partial report");
            got_new += 1;
        }
    }
    eprintln!("kills: old {kept_old}, new {got_new}, mid-write {mid_write}");
    // Kills landed during the write: a temporary file was left behind
    // (about half of the 40 here), and still the old report was in place,
    // whole. (Before, `kept_old + got_new == 40` held whatever happened.)
    assert!(
        mid_write > 0 && kept_old >= mid_write,
        "old {kept_old}, new {got_new}, mid-write {mid_write}: no kill landed mid-write"
    );
    // Only the report, its lock, and temporary files that never carry its
    // name are left; the next run is not blocked by the dead one's lock.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            ["logs", "report.json", "report.json.lock"].contains(&name.as_str())
                || name.starts_with(".aggmetrics-"),
            "{name}"
        );
    }
    assert!(run(&out).wait().unwrap().success());
    assert_eq!(std::fs::read(&out).unwrap(), new);
}
