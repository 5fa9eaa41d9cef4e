//! Guarantee 4 of docs/reliability.md: lines of any size and NUL holes of
//! any length keep memory bounded. Peak memory is the child's own
//! `ru_maxrss` from wait4(2).

mod common;
use common::*;

use std::io::Write;
use std::process::{Child, Command, Stdio};

/// Wait for `child`; its exit code and peak resident memory in MiB.
fn wait_rss(child: Child) -> (i32, f64) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid);
    std::mem::forget(child); // reaped here, not by Child's drop
    assert!(libc::WIFEXITED(status), "died: status {status}");
    (libc::WEXITSTATUS(status), ru.ru_maxrss as f64 / 1024.0)
}

fn record(ms: u32) -> String {
    latency_lines(&[ms as f64])
}

fn summarize(args: &[&str]) -> Command {
    let mut c = Command::new(bin_path());
    c.arg("summarize")
        .args(args)
        .args(["-f", "json", "-o"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// A 1 GiB line with no newline on standard input, then a record: one
/// line_too_long, the record counted, and the process stays under 64 MiB.
#[test]
fn a_gigabyte_line_keeps_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut child = summarize(&["-", "--kind", "latency"])
        .arg(&out)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..1024 {
        stdin.write_all(&block).unwrap();
    }
    stdin.write_all(b"\n").unwrap();
    stdin.write_all(record(7).as_bytes()).unwrap();
    drop(stdin);
    let (code, mib) = wait_rss(child);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["skipped"]["by_reason"]["line_too_long"], 1);
    assert_eq!(v["skipped"]["total"], 1);
    assert_eq!(at(&v, "latency.all.count"), 1);
    assert!(mib < 64.0, "peak RSS {mib:.1} MiB for a 1 GiB line");
}

/// The same in a regular file read by ranges: a 256 MiB line in the
/// middle (it spans 64 ranges), records on both sides.
#[test]
fn a_long_line_in_a_file_spans_ranges_and_memory_stays_bounded() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    f.write_all(record(1).as_bytes()).unwrap();
    let block = vec![b'y'; 1 << 20];
    for _ in 0..256 {
        f.write_all(&block).unwrap();
    }
    f.write_all(b"\n").unwrap();
    f.write_all(record(2).as_bytes()).unwrap();
    drop(f);
    let out = dir.path().join("r.json");
    let child = summarize(&[p.to_str().unwrap(), "-j", "2"])
        .arg(&out)
        .spawn()
        .unwrap();
    let (code, mib) = wait_rss(child);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["skipped"]["by_reason"]["line_too_long"], 1);
    assert_eq!(at(&v, "latency.all.count"), 2);
    assert_eq!(v["skipped"]["locations"][0]["line"], 2);
    assert!(mib < 64.0, "peak RSS {mib:.1} MiB");
}

/// A 1 GiB run of NUL bytes (a sparse file: what copytruncate leaves when
/// the writer goes on at its old offset), then a record: one nul_bytes
/// region, not a giant line, and the record after it counts.
#[test]
fn a_gigabyte_nul_hole_is_one_damaged_region() {
    let dir = disk_dir();
    let p = dir.path().join("pipeline_latency.jsonl");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(record(3).as_bytes()).unwrap();
    // The writer was cut mid-line before the truncation.
    f.write_all(b"{\"timestamp\": \"2026-02").unwrap();
    f.set_len(1 << 30).unwrap();
    use std::io::Seek;
    f.seek(std::io::SeekFrom::End(0)).unwrap();
    f.write_all(record(4).as_bytes()).unwrap();
    drop(f);
    let out = dir.path().join("r.json");
    let child = summarize(&[p.to_str().unwrap()]).arg(&out).spawn().unwrap();
    let (code, mib) = wait_rss(child);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let by = &v["skipped"]["by_reason"];
    assert_eq!(by["nul_bytes"], 1, "{by}");
    assert_eq!(by["truncated"], 1, "the cut line before the hole: {by}");
    assert_eq!(v["skipped"]["total"], 2);
    assert_eq!(at(&v, "latency.all.count"), 2);
    assert!(mib < 64.0, "peak RSS {mib:.1} MiB");
}

/// 60,000 records five hours apart from 1970 on: without a cap each was a
/// bucket (813 MiB peak here; 1970 to 2038 by the hour took 4.7 GB). The
/// newest 10,000 (--max-buckets' default) are kept, the rest counted in no
/// bucket and said; the peak was 166 MiB.
#[test]
fn buckets_over_decades_keep_memory_bounded() {
    let dir = disk_dir();
    let mut text = String::new();
    let n = 60_000i64;
    for i in 0..n {
        let t = jiff::Timestamp::from_second(i * 3600 * 5 + 60).unwrap();
        text.push_str(&format!(
            "{{\"timestamp\":\"{t}\",\"command_id\":\"c{i}\",\"total_ms\":{},\"steps\":{{}},\"llm_enabled\":false}}\n",
            1 + i % 100
        ));
    }
    std::fs::write(dir.path().join("pipeline_latency.jsonl"), text).unwrap();
    let out = dir.path().join("r.json");
    let child = summarize(&[dir.path().to_str().unwrap(), "--by", "hour", "-j", "2"])
        .arg(&out)
        .spawn()
        .unwrap();
    let (code, mib) = wait_rss(child);
    assert_eq!(code, 0);
    assert!(mib < 400.0, "peak {mib:.0} MiB");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["buckets"].as_array().unwrap().len(), 10_000);
    assert_eq!(
        v["meta"]["buckets_capped"]["records_in_no_bucket"],
        n - 10_000
    );
}
