//! Reading the logs a command names, and telling the user (on standard
//! error) what could not be used: discovery warnings, a progress bar,
//! skipped lines, inputs that look like another kind.

use crate::cli::ReadOpts;
use crate::read::ReadResult;

use super::options::read_threads;

/// Find the logs under `paths` and read them: discovery warnings (unless
/// `--quiet`), then one pass.
pub fn read_logs(
    paths: &[std::path::PathBuf],
    kind: Option<crate::kinds::LogKind>,
    o: &ReadOpts,
    cfg: crate::agg::Config,
    opts: crate::kinds::Options,
    outs: &super::Outputs,
) -> anyhow::Result<ReadResult> {
    read_logs_with(paths, kind, o, cfg, opts, Vec::new(), outs)
}

/// [`read_logs`], also reading the files of user-defined kinds (a kinds
/// file), each with its own spec.
pub fn read_logs_with(
    paths: &[std::path::PathBuf],
    kind: Option<crate::kinds::LogKind>,
    o: &ReadOpts,
    cfg: crate::agg::Config,
    mut opts: crate::kinds::Options,
    user: Vec<crate::kinds::jsonl::UserKind>,
    outs: &super::Outputs,
) -> anyhow::Result<ReadResult> {
    let threads = read_threads(o)?;
    let stems: Vec<String> = user.iter().map(|k| k.files.clone()).collect();
    let mut found = crate::input::discover_with(paths, kind, o.follow, &stems)?;
    // Before inputs are numbered: a file passed over is no input.
    let passed_over = if o.all_files {
        Vec::new()
    } else {
        pass_over(&mut found.sources, cfg.window)
    };
    // An output that is one of the logs would replace it: refused before
    // anything is read.
    outs.check_inputs(
        found
            .sources
            .iter()
            .filter(|s| !s.stdin)
            .map(|s| s.path.as_path()),
        "the log",
    )?;
    if !user.is_empty() {
        // Which user kind each input is (inputs are numbered in the order
        // found); every worker's parser reads them.
        let file_kind = found
            .sources
            .iter()
            .map(|s| {
                let name = s.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                crate::input::user_kind_of(name, &stems).unwrap_or(0)
            })
            .collect();
        opts.jsonl = crate::kinds::jsonl::JsonlOptions::User(crate::kinds::jsonl::UserKinds {
            kinds: user,
            file_kind,
        });
    }
    if !o.quiet {
        for w in &found.warnings {
            super::output::warn(w);
        }
        let any_jsonl = kind.is_some_and(|k| !k.by_name());
        if found.sources.is_empty() {
            no_logs_warning(paths, &found.near_misses, any_jsonl);
        } else if any_jsonl && !found.near_misses.is_empty() {
            // `stats` found logs, and passed over files beside them that
            // look like logs: say which. (A folder of the platform's logs
            // holds other files, such as the golden dataset.)
            super::output::warn(&format!(
                "not read, as their names are not *.jsonl (with rotation suffixes): {} (name a file on the command line to read it whatever its name)",
                names(&found.near_misses)
            ));
        }
    }
    let bar = progress_bar(&found.sources, o.quiet);
    let result = crate::read::Reader::new(threads, o.max_decompressed_bytes)
        .with_options(opts)
        .read_with(&found.sources, cfg, &|n| bar.inc(n));
    bar.finish_and_clear();
    let mut result = result?;
    result.passed_over = passed_over;
    Ok(result)
}

/// How long before the window's start a file's last change may be and
/// still be read: records stamped by a writer whose clock is ahead of the
/// file system's by up to this much still count.
pub const PASS_OVER_SLACK_US: i64 = 5 * 60 * 1_000_000;

/// Take out of `sources` the rotated files found in a folder whose last
/// change was more than [`PASS_OVER_SLACK_US`] before the window began:
/// every record in them was written before it. The newest file of each
/// log (its live file, by name without rotation and compression
/// suffixes) is always read, so the report still knows when each log was
/// last written (`newest_record`, the staleness series); so are files
/// named on the command line and standard input. Returns (path,
/// modified) of each file passed over.
fn pass_over(
    sources: &mut Vec<crate::input::Source>,
    window: Option<(i64, i64)>,
) -> Vec<(String, i64)> {
    let Some((since, _)) = window.filter(|w| w.0 != i64::MIN) else {
        return Vec::new();
    };
    let modified = |s: &crate::input::Source| {
        std::fs::metadata(&s.path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_micros() as i64)
    };
    let log_of = |s: &crate::input::Source| {
        let name = s.path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let base = crate::input::without_rotation(crate::input::compression_of(name).0);
        (
            s.kind,
            s.path.parent().map(|p| p.to_path_buf()),
            base.to_string(),
        )
    };
    let times: Vec<Option<i64>> = sources.iter().map(modified).collect();
    // Each log's newest file.
    let mut newest: std::collections::HashMap<_, (i64, usize)> = std::collections::HashMap::new();
    for (i, s) in sources.iter().enumerate() {
        let t = times[i].unwrap_or(i64::MAX);
        let e = newest.entry(log_of(s)).or_insert((t, i));
        if t > e.0 {
            *e = (t, i);
        }
    }
    let keep_newest: std::collections::HashSet<usize> = newest.values().map(|e| e.1).collect();
    let mut out = Vec::new();
    let mut i = 0;
    sources.retain(|s| {
        let (at, t) = (i, times[i]);
        i += 1;
        if s.stdin || s.named || keep_newest.contains(&at) {
            return true;
        }
        match t {
            Some(m) if m < since.saturating_sub(PASS_OVER_SLACK_US) => {
                out.push((crate::escape::path(&s.path), m));
                false
            }
            _ => true,
        }
    });
    out
}

/// A progress bar on standard error when it is a terminal and the input is
/// large enough to wait for; hidden in pipes, cron and with `--quiet`.
fn progress_bar(sources: &[crate::input::Source], quiet: bool) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    let total: u64 = sources
        .iter()
        .filter(|s| !s.stdin)
        .filter_map(|s| std::fs::metadata(&s.path).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    if quiet || !std::io::stderr().is_terminal() || total < 256 << 20 {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} reading {bytes}/{total_bytes} ({bytes_per_sec}, {eta} left) {wide_bar}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Up to five paths, escaped, for a message.
fn names(paths: &[std::path::PathBuf]) -> String {
    let shown: Vec<String> = paths
        .iter()
        .take(5)
        .map(|p| crate::escape::path(p))
        .collect();
    format!(
        "{}{}",
        shown.join(", "),
        if paths.len() > 5 { ", ..." } else { "" }
    )
}

/// No log file in `paths`: say which names are recognised, and which
/// files nearly matched. `any_jsonl`: `stats`, which reads every `*.jsonl`
/// and takes no `--kind`.
fn no_logs_warning(paths: &[std::path::PathBuf], near: &[std::path::PathBuf], any_jsonl: bool) {
    let p: Vec<String> = paths.iter().map(|p| crate::escape::path(p)).collect();
    let recognised = if any_jsonl {
        "*.jsonl".to_string()
    } else {
        crate::kinds::LogKind::file_patterns()
    };
    let mut msg = format!(
        "no log files found in {} (recognised names: {recognised}, with rotation suffixes); the report is empty and --strict exits 1",
        p.join(", "),
    );
    if !near.is_empty() {
        msg.push_str(&format!(
            "; not read, as their names do not say which log they are: {} ({})",
            names(near),
            if any_jsonl {
                "name each on the command line to read it whatever its name"
            } else {
                "rename them, or name each with --kind"
            }
        ));
    }
    super::output::warn(&msg);
}

/// Inputs read as a kind their records do not look like: every line
/// damaged, or no record carrying the field that defines the kind.
fn kind_looks_wrong(result: &ReadResult) {
    for i in &result.inputs {
        if i.records == 0 && i.skipped > 0 {
            // `stats` and kinds files take any JSONL: no --kind to point at.
            let msg = if i.kind == crate::kinds::LogKind::Jsonl {
                format!(
                    "{}: none of its {} lines is a JSON object: is it a JSONL log (one object per line, nothing before it such as a container name)?",
                    i.path, i.skipped
                )
            } else {
                format!(
                    "{}: none of its {} lines is a {} record: is it that kind of log (--kind)?",
                    i.path,
                    i.skipped,
                    i.kind.name()
                )
            };
            super::output::warn(&msg);
        }
    }
    for (kind, why) in result.acc.total.kinds.looks_wrong() {
        // Only for kinds read (a kind's records come only from its inputs).
        if result.inputs.iter().any(|i| i.kind == kind) {
            super::output::warn(&why);
        }
    }
}

/// Warnings about what a read could not use (unless `--quiet`).
pub fn warn_read(o: &ReadOpts, result: &ReadResult) {
    // A cap that left records out of the buckets is said even with -q.
    let capped = result.acc.capped.records;
    if capped > 0 {
        super::output::warn(&format!(
            "{capped} record(s) fell in buckets older than the newest {} kept (--max-buckets): counted in the whole run, in no bucket; --strict exits 1 (see meta.buckets_capped)",
            result.acc.cfg.max_buckets
        ));
    }
    if result.held_back > 0 {
        super::output::warn(&format!(
            "the figures filled 1/{} of --max-memory ({}): {} observation(s) went into no new time bucket, group or key (counted in the whole run's figures and the maps' dropped keys); --strict exits 1 (see meta.memory_budget)",
            crate::budget::SOFT_SHARE,
            crate::budget::limit().map_or("no limit".into(), human_bytes),
            result.held_back
        ));
    }
    // Records that a window or --by would leave out for a time nobody can
    // read: said even with -q.
    let unreadable = result.acc.unreadable_times;
    if unreadable > 0 {
        let fate = if result.acc.cfg.window.is_some() || result.acc.cfg.bucket.is_some() {
            "outside the window and every bucket"
        } else {
            "counted, in no time range"
        };
        super::output::warn(&format!(
            "{unreadable} record(s) have a time field that reads as no time (not RFC 3339, ISO 8601, RFC 1123, common log format or an epoch number): {fate}; --strict exits 1 (see meta.unreadable_times; --time names the field, --time-unit says what its numbers count)"
        ));
    }
    if o.quiet {
        return;
    }
    kind_looks_wrong(result);
    for i in &result.inputs {
        if let Some(e) = &i.error {
            super::output::warn(&format!("{}: {e}; the report is incomplete", i.path));
        }
    }
    let undated = result.acc.undated.total();
    if undated > 0 && result.acc.cfg.window.is_some() {
        super::output::warn(&format!(
            "{undated} damaged line(s) could not be dated (no time in them, no record in their input): not charged to the window; --strict exits 1 (see meta.window.undated_skipped)"
        ));
    }
    let sk = &result.acc.total.skipped;
    if sk.total() > 0 {
        let why: Vec<String> = crate::parse::Skip::ALL
            .iter()
            .filter(|s| sk.by_reason[s.index()] > 0)
            .map(|s| format!("{} {}", s.name(), sk.by_reason[s.index()]))
            .collect();
        super::output::warn(&format!(
            "skipped {} damaged line(s): {}",
            sk.total(),
            why.join(", ")
        ));
    }
}

/// `2 GiB`, `512 MiB`, `1536 KiB`, `100 B`: a budget as the flag took it.
fn human_bytes(b: u64) -> String {
    for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if b >= 1 << shift && b.is_multiple_of(1 << shift) {
            return format!("{} {unit}", b >> shift);
        }
    }
    format!("{b} B")
}
