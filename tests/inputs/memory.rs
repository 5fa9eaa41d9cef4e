//! Guarantee 4 of docs/reliability.md: lines of any size and NUL holes of
//! any length keep memory bounded. Peak memory is the child's own
//! `ru_maxrss` from wait4(2).

use crate::common;
use common::*;

use std::io::Write;
use std::process::{Child, Command, Stdio};

/// A command whose peak resident memory can be read after it exits: it
/// runs under a small Python process that forks it and writes its
/// `ru_maxrss` from wait4(2) to the file `rss`. Measured from the test
/// process itself, a child's peak would include the test process's own
/// at the spawn (exec keeps the high-water mark of the memory it
/// replaces), and tests running beside it parse reports of 100 MB.
fn measured(rss: &std::path::Path, program: &std::path::Path) -> Command {
    let mut c = Command::new("python3");
    c.args([
        "-c",
        "import os, sys\n\
         pid = os.fork()\n\
         if pid == 0:\n    os.execv(sys.argv[2], sys.argv[2:])\n\
         _, st, ru = os.wait4(pid, 0)\n\
         open(sys.argv[1], 'w').write(str(ru.ru_maxrss))\n\
         sys.exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128)",
    ])
    .arg(rss)
    .arg(program);
    c
}

/// Wait for `child` (made by [`measured`] with `rss`); its exit code and
/// peak resident memory in MiB.
fn wait_rss_of(child: Child, rss: &std::path::Path) -> (i32, f64) {
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().expect("exited");
    let kib: f64 = std::fs::read_to_string(rss)
        .unwrap_or_else(|e| panic!("no peak written ({e}), exit {code}"))
        .trim()
        .parse()
        .unwrap();
    eprintln!("exit {code}, peak {:.1} MiB", kib / 1024.0);
    (code, kib / 1024.0)
}

fn record(ms: u32) -> String {
    latency_lines(&[ms as f64])
}

/// Where [`measured`] writes a peak (removed with the value).
fn rss_file() -> tempfile::TempPath {
    tempfile::NamedTempFile::new().unwrap().into_temp_path()
}

fn summarize(rss: &std::path::Path, args: &[&str]) -> Command {
    let mut c = measured(rss, &bin_path());
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
    let rss = rss_file();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let mut child = summarize(&rss, &["-", "--kind", "latency"])
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
    let (code, mib) = wait_rss_of(child, &rss);
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
    let rss = rss_file();
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
    let child = summarize(&rss, &[p.to_str().unwrap(), "-j", "2"])
        .arg(&out)
        .spawn()
        .unwrap();
    let (code, mib) = wait_rss_of(child, &rss);
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
    let rss = rss_file();
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
    let child = summarize(&rss, &[p.to_str().unwrap()])
        .arg(&out)
        .spawn()
        .unwrap();
    let (code, mib) = wait_rss_of(child, &rss);
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
    let rss = rss_file();
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
    let child = summarize(
        &rss,
        &[dir.path().to_str().unwrap(), "--by", "hour", "-j", "2"],
    )
    .arg(&out)
    .spawn()
    .unwrap();
    let (code, mib) = wait_rss_of(child, &rss);
    assert_eq!(code, 0);
    assert!(mib < 400.0, "peak {mib:.0} MiB");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v["buckets"].as_array().unwrap().len(), 10_000);
    assert_eq!(
        v["meta"]["buckets_capped"]["records_in_no_bucket"],
        n - 10_000
    );
}

/// A log of `n` records over `groups` groups, each record holding one of
/// `keys` keys under `v`: every (group, key) pair is a distribution of
/// its own, `groups x keys` of them.
fn wide_log(path: &std::path::Path, n: u64, groups: u64, keys: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..n {
        let (g, k) = (i % groups, (i / groups) % keys);
        writeln!(
            f,
            "{{\"g\":\"g{g}\",\"v\":{{\"k{k}\":{}}}}}",
            1 + i * 7919 % 100_000
        )
        .unwrap();
    }
}

fn stats(rss: &std::path::Path, args: &[&str]) -> Command {
    let mut c = measured(rss, &bin_path());
    c.arg("stats")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// `stats` over a [`wide_log`]: every `v.*` key per group `g`, a JSON
/// report at `out`, and `extra` flags.
fn wide_stats(
    rss: &std::path::Path,
    log: &std::path::Path,
    out: &std::path::Path,
    extra: &[&str],
) -> Command {
    let mut args = vec![
        log.to_str().unwrap(),
        "--value",
        "v.*",
        "--by",
        "g",
        "-f",
        "json",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    stats(rss, &args)
}

fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut s).unwrap();
    s
}

/// 1,000 groups x 1,000 keys under `*` (a million distributions, each a
/// group's key): before the budget, a 38 MB log of this shape took 4.7 GB
/// (4.4 GB here for 1,000,000 records). Under `--max-memory 256M` the
/// figures stop making new groups and keys at a sixteenth of it: the run
/// stays under the budget, every record still counts in the whole run,
/// the records of groups not kept are in `groups_dropped`, and the report
/// says what the budget held back (a warning even with -q; --strict 1).
#[test]
fn groups_times_keys_stay_within_the_memory_budget() {
    let rss = rss_file();
    let dir = disk_dir();
    let log = dir.path().join("wide.jsonl");
    let n = 1_000_000u64;
    wide_log(&log, n, 1000, 1000);
    let out = dir.path().join("r.json");
    let mut child = wide_stats(&rss, &log, &out, &["-j", "2", "-q", "--max-memory", "256M"])
        .spawn()
        .unwrap();
    let err = stderr_of(&mut child);
    let (code, mib) = wait_rss_of(child, &rss);
    assert_eq!(code, 0, "{err}");
    assert!(mib < 256.0, "peak {mib:.0} MiB over a 256 MiB budget");
    assert!(
        err.contains("--max-memory (256 MiB)") && err.contains("meta.memory_budget"),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let budget = &v["meta"]["memory_budget"];
    assert_eq!(budget["max_bytes"], 256u64 << 20);
    assert!(budget["held_back"].as_u64().unwrap() > 0, "{budget}");
    assert_eq!(v["records"], n);
    assert_eq!(v["total"]["records"], n);
    let in_groups: u64 = v["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["records"].as_u64().unwrap())
        .sum();
    let dropped = v["groups_dropped"].as_u64().unwrap();
    assert!(dropped > 0);
    assert_eq!(in_groups + dropped, n);

    // --strict fails on what the budget held back.
    let child = wide_stats(
        &rss,
        &log,
        &out,
        &["-q", "--strict", "--max-memory", "256M"],
    )
    .spawn()
    .unwrap();
    assert_eq!(wait_rss_of(child, &rss).0, 1);
}

/// A record per hour over 5,000 hours and 200 ids, `--by id --by hour`:
/// a million groups across buckets (before the budget: an abort on
/// allocation, exit 134, for 2M records). Under the budget, buckets and
/// groups stop growing, every record counts in the whole run.
#[test]
fn groups_across_buckets_stay_within_the_memory_budget() {
    let rss = rss_file();
    let dir = disk_dir();
    let log = dir.path().join("ids.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    let n = 1_000_000u64;
    for i in 0..n {
        let t = jiff::Timestamp::from_second(1_700_000_000 + (i / 200) as i64 * 18).unwrap();
        writeln!(
            f,
            "{{\"ts\":\"{t}\",\"id\":\"id{}\",\"ms\":{}}}",
            i % 200,
            1 + i % 977
        )
        .unwrap();
    }
    drop(f);
    let out = dir.path().join("r.json");
    let mut child = stats(
        &rss,
        &[
            log.to_str().unwrap(),
            "--value",
            "ms",
            "--time",
            "ts",
            "--by",
            "id",
            "--by",
            "hour",
            "--max-memory",
            "256M",
            "-f",
            "json",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .spawn()
    .unwrap();
    let err = stderr_of(&mut child);
    let (code, mib) = wait_rss_of(child, &rss);
    assert_eq!(code, 0, "{err}");
    assert!(mib < 256.0, "peak {mib:.0} MiB over a 256 MiB budget");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(v["meta"]["memory_budget"]["held_back"].as_u64().unwrap() > 0);
    assert_eq!(v["records"], n, "{}", v["meta"]);
}

/// Past the budget (every value kept by --exact), the run stops with the
/// documented exit 7 and a message naming the flag, and the old report
/// is left as it was: never an abort, never half a file.
#[test]
fn past_the_budget_the_run_stops_with_exit_7_and_writes_nothing() {
    let rss = rss_file();
    let dir = disk_dir();
    let log = dir.path().join("pipeline_latency.jsonl");
    // Written a chunk at a time: a child's peak RSS counts the parent's
    // at the spawn (wait4 reports the high-water mark exec inherits).
    let mut f = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    for chunk in 0..200 {
        let ms: Vec<f64> = (0..10_000)
            .map(|i| ((chunk * 10_000 + i) % 5000) as f64)
            .collect();
        f.write_all(latency_lines(&ms).as_bytes()).unwrap();
    }
    drop(f);
    let out = dir.path().join("r.json");
    std::fs::write(&out, "the old report").unwrap();
    let mut child = summarize(
        &rss,
        &[log.to_str().unwrap(), "--exact", "--max-memory", "32M"],
    )
    .arg(&out)
    .spawn()
    .unwrap();
    let err = stderr_of(&mut child);
    let (code, mib) = wait_rss_of(child, &rss);
    assert_eq!(code, 7, "{err}");
    assert!(
        err.contains("--max-memory") && err.contains("nothing was written"),
        "{err}"
    );
    assert!(mib < 64.0, "peak {mib:.0} MiB");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "the old report");
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

/// `stats` of a million (group, key) distributions under an address-space
/// limit of 400 MiB (as a ulimit, a cgroup or a small machine sets), with
/// `extra` flags: its exit code, standard error and report.
fn under_a_400_mib_ulimit(extra: &[&str]) -> (i32, String, Option<serde_json::Value>) {
    use std::os::unix::process::CommandExt;
    let rss = rss_file();
    let dir = disk_dir();
    let log = dir.path().join("wide.jsonl");
    wide_log(&log, 300_000, 1000, 300);
    let out = dir.path().join("r.json");
    let mut args = vec!["-j", "1"];
    args.extend_from_slice(extra);
    let mut c = wide_stats(&rss, &log, &out, &args);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs here.
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 400 << 20,
                rlim_max: 400 << 20,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = c.spawn().unwrap();
    let err = stderr_of(&mut child);
    let (code, _) = wait_rss_of(child, &rss);
    let report = std::fs::read(&out)
        .ok()
        .map(|b| serde_json::from_slice(&b).unwrap());
    (code, err, report)
}

/// Memory the system refuses below the budget given (a ulimit on the
/// address space, as a cgroup or a small machine would) is the same exit
/// 7 with its own message, not an abort (exit 134 before).
#[test]
fn memory_the_system_refuses_is_exit_7_not_an_abort() {
    let (code, err, report) = under_a_400_mib_ulimit(&["--max-memory", "1T"]);
    assert_eq!(code, 7, "{err}");
    assert!(err.contains("the system refused memory"), "{err}");
    assert!(report.is_none());
}

/// Without --max-memory the budget follows the machine: half of the
/// address-space limit here, so the same run finishes within it, says
/// what it held back, and reports the budget it used.
#[test]
fn the_default_budget_fits_the_machine() {
    let (code, err, report) = under_a_400_mib_ulimit(&[]);
    assert_eq!(code, 0, "{err}");
    let v = report.unwrap();
    assert_eq!(v["meta"]["memory_budget"]["max_bytes"], 200u64 << 20);
    assert!(v["meta"]["memory_budget"]["held_back"].as_u64().unwrap() > 0);
    assert_eq!(v["records"], 300_000);
}

/// The textfile says what the budget held back, as the warning does: a
/// cron job's alert can see it (before, only the JSON's meta and stderr
/// carried it), and 0 when nothing was.
#[test]
fn the_textfile_carries_what_the_budget_held_back() {
    let held = |budget: &str| -> (f64, String) {
        let out = bin()
            .args(["summarize", sample_logs().to_str().unwrap()])
            .args(["-f", "prometheus", "--max-memory", budget])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let v = text
            .lines()
            .find_map(|l| {
                l.strip_prefix("aggmetrics_memory_held_back{")?
                    .split_once("} ")?
                    .1
                    .parse()
                    .ok()
            })
            .unwrap_or_else(|| panic!("{text}"));
        (v, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (n, err) = held("2M");
    assert!(n > 0.0, "{err}");
    assert!(err.contains(&format!(": {n} observation(s)")), "{n} {err}");
    let (n, err) = held("1G");
    assert_eq!(n, 0.0, "{err}");
}
