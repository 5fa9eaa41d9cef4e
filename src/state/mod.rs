//! Mergeable state files (`--state-out`, `aggmetrics merge`): every
//! histogram and counter of a run, so that states of days or hosts add up
//! to the report of all their logs at once.
//!
//! The file is JSON (versioned, first key `format`), with each histogram in
//! the HdrHistogram interchange encoding: V2 + DEFLATE, base64, as
//! HdrHistogram's own tools read it. Decoding checks what a corrupt or
//! hostile file could get wrong before allocating for it: the size, the
//! format and version, the precision, every histogram header (digits,
//! range, payload length), counts against totals. No I/O here.

pub mod checkpoint;
mod codec;
mod legacy;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::agg::{Acc, Config, Metrics, Mode, TimeRange};
use crate::kinds::{Accs, AccsState, LogKind};
use crate::parse::Skip;
use crate::read::{InputInfo, ReadResult};

pub const FORMAT: &str = "aggmetrics-state";
/// Version 2 added what a state covers (`covers`), damaged lines per kind,
/// outside the window and undated. Version 3 writes each kind's
/// accumulator under its name (`metrics.kinds.<kind>`), so a kind added
/// later reads as empty from older states. Versions 1 and 2 are still
/// read (see `legacy`).
pub const VERSION: u32 = 3;
/// Largest state file read.
pub const MAX_STATE_BYTES: u64 = 1 << 30;
/// Largest decoded histogram payload accepted (a 5-digit histogram over
/// the whole u64 range needs about 56 MiB; ours are far smaller).
const MAX_PAYLOAD: u32 = 64 << 20;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum StateError {
    #[error("not an aggmetrics state file (it should start with {{\"format\": \"{FORMAT}\"); was it written by --state-out?")]
    NotAState,
    #[error("state file version {0}; this aggmetrics reads versions 1 to {VERSION}: write the states again with this version")]
    Version(u32),
    #[error("states of different precision cannot be merged ({0} vs {1}): write them with the same --sigfig (or all with --exact)")]
    Precision(String, String),
    #[error("the state file is larger than {} MiB", MAX_STATE_BYTES >> 20)]
    TooLarge,
    #[error("corrupt state file: {0}")]
    Corrupt(String),
    #[error("the states' counts add up beyond 2^53, more than any logs hold: a state is wrong, or merge fewer at once")]
    Overflow,
}

fn corrupt(what: impl std::fmt::Display) -> StateError {
    StateError::Corrupt(what.to_string())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    tool: String,
    /// `hdr` or `exact`.
    mode: String,
    sigfig: Option<u8>,
    /// What the state covers: one part per run it adds up (version 2).
    #[serde(default)]
    covers: Vec<Cover>,
    inputs: Vec<InputState>,
    skipped: BTreeMap<String, u64>,
    /// Damaged lines per log kind (version 2; for version 1, the inputs'
    /// counts).
    #[serde(default)]
    skipped_by_kind: BTreeMap<LogKind, u64>,
    /// (input, line, reason) of the first skipped lines.
    skipped_examples: Vec<(u32, u64, String)>,
    outside_window: u64,
    /// Damaged lines dated outside the window (version 2).
    #[serde(default)]
    outside_skipped: u64,
    /// Records whose time field held no time.
    #[serde(default)]
    unreadable_times: u64,
    /// Damaged lines that could not be dated, by reason (version 2).
    #[serde(default)]
    undated: BTreeMap<String, u64>,
    /// The newest record read, in the window or not (version 2).
    #[serde(default)]
    newest: Option<i64>,
    /// The figures: [`Metrics3`] from version 3, `legacy::MetricsState`
    /// before (decoded once the version is known).
    metrics: serde_json::Value,
}

/// The figures of a version 3 state.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Metrics3 {
    /// The first and last latency and fallback record (the summary's
    /// `time_range`).
    first: Stamp,
    last: Stamp,
    /// Each kind's accumulator, by name.
    kinds: AccsState,
}

type Stamp = Option<(i64, u32, String)>;

/// One run a state adds up: where it ran, what it read, its window, and a
/// digest of its figures. Two states holding the same part are the same
/// run given twice; parts of one host and paths whose windows overlap
/// would count records twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cover {
    pub host: String,
    /// The paths the run was given, made absolute (`-` for standard input).
    pub paths: Vec<String>,
    /// The window, microseconds since the epoch, half-open; `null` for an
    /// open end.
    pub since: Option<i64>,
    pub until: Option<i64>,
    /// FNV-1a of the figures' JSON (hex).
    pub digest: String,
}

impl Cover {
    /// Where the window starts (the beginning of time when open).
    pub fn start(&self) -> i64 {
        self.since.unwrap_or(i64::MIN)
    }
    /// Where the window ends (the end of time when open).
    pub fn end(&self) -> i64 {
        self.until.unwrap_or(i64::MAX)
    }

    /// Same host and paths, windows that share an instant.
    pub fn overlaps(&self, o: &Cover) -> bool {
        self.host == o.host
            && self.paths == o.paths
            && self.paths != ["-"]
            && self.start() < o.end()
            && o.start() < self.end()
    }
}

/// FNV-1a, 64 bits: a stable digest (std's hashers may change between
/// Rust releases, and states outlive builds).
pub fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// This machine's name, for [`Cover::host`].
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at
    // most that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputState {
    path: String,
    kind: LogKind,
    read_as: String,
    bytes: u64,
    lines: u64,
    records: u64,
    skipped: u64,
    blank: u64,
    /// Added after version 1 was first written: absent means 0, and 0 is
    /// not written, so earlier readers still read those states.
    #[serde(default, skip_serializing_if = "is_zero")]
    unfinished: u64,
    error: Option<String>,
}

// ---- encoding ----

/// What a fresh run covers: `paths` as given on the command line.
pub fn cover_of_run(paths: &[std::path::PathBuf], read: &ReadResult) -> Cover {
    let paths = paths
        .iter()
        .map(|p| {
            if p.as_os_str() == "-" {
                "-".to_string()
            } else {
                std::fs::canonicalize(p)
                    .unwrap_or_else(|_| p.clone())
                    .display()
                    .to_string()
            }
        })
        .collect();
    let (since, until) = match read.acc.cfg.window {
        Some((a, b)) => ((a != i64::MIN).then_some(a), (b != i64::MAX).then_some(b)),
        None => (None, None),
    };
    Cover {
        host: host_name(),
        paths,
        since,
        until,
        digest: String::new(),
    }
}

/// The state of a finished read. `covers`: the parts it adds up (one for a
/// fresh run, see [`cover_of_run`]; a fresh part's digest is filled in
/// here).
pub fn encode(read: &ReadResult, covers: &[Cover]) -> Vec<u8> {
    let mut file = to_file(read, covers.to_vec());
    if let [only] = file.covers.as_mut_slice() {
        if only.digest.is_empty() {
            only.digest = fnv1a(&serde_json::to_vec(&file.metrics).unwrap_or_default());
        }
    }
    let mut out = serde_json::to_vec(&file).unwrap_or_default();
    out.push(b'\n');
    out
}

fn reason_counts(sk: &crate::agg::SkipCounts) -> BTreeMap<String, u64> {
    Skip::ALL
        .iter()
        .filter(|s| sk.by_reason[s.index()] > 0)
        .map(|s| (s.name().to_string(), sk.by_reason[s.index()]))
        .collect()
}

fn to_file(read: &ReadResult, covers: Vec<Cover>) -> File {
    let acc = &read.acc;
    let m = &acc.total;
    let (mode, sigfig) = match acc.cfg.mode {
        Mode::Hdr { sigfig } => ("hdr", Some(sigfig)),
        Mode::Exact => ("exact", None),
    };
    File {
        format: FORMAT.into(),
        version: VERSION,
        tool: format!("aggmetrics {}", env!("CARGO_PKG_VERSION")),
        mode: mode.into(),
        sigfig,
        covers,
        inputs: read
            .inputs
            .iter()
            .zip(&acc.files)
            .map(|(i, st)| InputState {
                path: i.path.clone(),
                kind: i.kind,
                read_as: i.read_as.into(),
                bytes: i.bytes,
                lines: st.lines,
                records: st.records,
                skipped: st.skipped,
                blank: st.blank,
                unfinished: st.unfinished,
                error: i.error.clone(),
            })
            .collect(),
        skipped: reason_counts(&m.skipped),
        skipped_by_kind: LogKind::ALL
            .iter()
            .map(|(k, _)| (*k, m.skipped.by_kind[k.index()]))
            .filter(|(_, n)| *n > 0)
            .collect(),
        skipped_examples: m
            .skipped
            .examples
            .iter()
            .zip(&read.example_lines)
            .map(|(&(file, _, why), &line)| (file, line, why.name().to_string()))
            .collect(),
        outside_window: acc.outside_window,
        outside_skipped: acc.outside_skipped,
        unreadable_times: acc.unreadable_times,
        undated: reason_counts(&acc.undated),
        newest: acc.newest,
        metrics: serde_json::to_value(Metrics3 {
            first: m.time.first.clone(),
            last: m.time.last.clone(),
            kinds: m.kinds.to_state(),
        })
        .unwrap_or_default(),
    }
}

// ---- decoding ----

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A decoded state: its contents as a finished read (one input per input
/// the state was made from), and what it covers (empty for version 1).
pub struct Decoded {
    pub read: ReadResult,
    pub covers: Vec<Cover>,
    /// The largest count in the state's figures: merging checks that the
    /// counts of all states added up stay below [`MAX_COUNT`].
    pub max_count: u64,
}

/// Largest count a state may hold, and states merged may add up to: 2^53,
/// where counts stop being exact in JSON readers (and far beyond any log).
pub const MAX_COUNT: u64 = 1 << 53;

/// Check what the figures of a decoded state must hold, on the report they
/// make: every rate's numerator at most its denominator, every count at
/// most [`MAX_COUNT`]. Returns the largest count.
fn check_figures(read: &ReadResult) -> Result<u64, StateError> {
    let report = crate::report::Report::build(read, &[50.0]);
    let v = serde_json::to_value(&report).map_err(corrupt)?;
    let mut max = 0u64;
    let mut stack = vec![&v];
    while let Some(x) = stack.pop() {
        match x {
            serde_json::Value::Object(m) => {
                if let (Some(k), Some(n)) = (
                    m.get("numerator").and_then(serde_json::Value::as_u64),
                    m.get("denominator").and_then(serde_json::Value::as_u64),
                ) {
                    if k > n {
                        return Err(corrupt(
                            "a rate whose parts add up to more than its whole (outcomes or statuses that do not sum to the count)",
                        ));
                    }
                }
                stack.extend(m.iter().filter(|(k, _)| *k != "meta").map(|(_, x)| x));
            }
            serde_json::Value::Array(a) => stack.extend(a.iter()),
            serde_json::Value::Number(n) => {
                if let Some(k) = n.as_u64() {
                    if k > MAX_COUNT {
                        return Err(corrupt("a count beyond any log (over 2^53)"));
                    }
                    max = max.max(k);
                }
            }
            _ => {}
        }
    }
    Ok(max)
}

fn skip_named(reason: &str) -> Result<Skip, StateError> {
    Skip::ALL
        .iter()
        .find(|s| s.name() == reason)
        .copied()
        .ok_or_else(|| corrupt("an unknown skip reason"))
}

/// Whether `bytes` start as a state file does: `{"format": "aggmetrics-state"`,
/// with any JSON whitespace (a state reformatted by Python's `json.dump`
/// or `jq` is still one).
pub fn looks_like_state(bytes: &[u8]) -> bool {
    let mut rest = bytes;
    for want in [
        &b"{"[..],
        b"\"format\"",
        b":",
        format!("\"{FORMAT}\"").as_bytes(),
    ] {
        let at = rest
            .iter()
            .position(|b| !b" \t\r\n".contains(b))
            .unwrap_or(rest.len());
        rest = &rest[at..];
        match rest.strip_prefix(want) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    true
}

/// A state file's contents.
pub fn decode(bytes: &[u8]) -> Result<Decoded, StateError> {
    if bytes.len() as u64 > MAX_STATE_BYTES {
        return Err(StateError::TooLarge);
    }
    if !looks_like_state(bytes) {
        return Err(StateError::NotAState);
    }
    let f: File = match serde_json::from_slice(bytes) {
        Ok(f) => f,
        Err(e) => {
            // A newer writer's file fails on its new fields: say it is
            // newer rather than corrupt (the second parse only on failure).
            #[derive(Deserialize)]
            struct Head {
                version: u32,
            }
            return Err(match serde_json::from_slice::<Head>(bytes) {
                Ok(h) if !(1..=VERSION).contains(&h.version) => StateError::Version(h.version),
                _ => corrupt(e),
            });
        }
    };
    if !(1..=VERSION).contains(&f.version) {
        return Err(StateError::Version(f.version));
    }
    let mode = match (f.mode.as_str(), f.sigfig) {
        ("hdr", Some(s @ 1..=5)) => Mode::Hdr { sigfig: s },
        ("exact", None) => Mode::Exact,
        _ => return Err(corrupt("an unknown precision")),
    };
    let n = f.inputs.len();
    let mut acc = Acc::new(Config::new(mode, 1), n);
    acc.total = if f.version >= 3 {
        let m: Metrics3 = codec::with_mode(mode, || serde_json::from_value(f.metrics))?;
        let mut out = Metrics::new(mode);
        out.kinds = Accs::from_state(m.kinds, mode);
        out.time = TimeRange::checked(m.first, m.last).map_err(corrupt)?;
        out
    } else {
        let m: legacy::MetricsState = codec::with_mode(mode, || serde_json::from_value(f.metrics))?;
        legacy::metrics(m, f.version, mode)?
    };
    let sk = &mut acc.total.skipped;
    for (reason, count) in f.skipped {
        sk.by_reason[skip_named(&reason)?.index()] = count;
    }
    if f.version == 1 {
        // Version 1 charged every damaged line of every input to the run.
        for i in &f.inputs {
            sk.by_kind[i.kind.index()] += i.skipped;
        }
    } else {
        for (kind, count) in f.skipped_by_kind {
            sk.by_kind[kind.index()] = count;
        }
    }
    if sk.by_kind.iter().sum::<u64>() != sk.total() {
        return Err(corrupt("damaged lines per kind that do not add up"));
    }
    for (reason, count) in f.undated {
        acc.undated.by_reason[skip_named(&reason)?.index()] = count;
    }
    acc.outside_skipped = f.outside_skipped;
    acc.unreadable_times = f.unreadable_times;
    acc.newest = f.newest.or_else(|| acc.total.newest());
    let mut lines = Vec::new();
    for (file, line, reason) in f
        .skipped_examples
        .into_iter()
        .take(crate::agg::MAX_EXAMPLES)
    {
        let s = skip_named(&reason)?;
        if file as usize >= n {
            return Err(corrupt(
                "a skipped line in an input the state does not list",
            ));
        }
        // Lines stand in for offsets: they order the same way.
        acc.total.skipped.examples.push((file, line, s));
        lines.push(line);
    }
    acc.outside_window = f.outside_window;
    let mut inputs = Vec::with_capacity(n);
    for (i, st) in f.inputs.into_iter().enumerate() {
        acc.files[i] = crate::agg::FileStats {
            lines: st.lines,
            records: st.records,
            skipped: st.skipped,
            blank: st.blank,
            unfinished: st.unfinished,
        };
        inputs.push(InputInfo {
            path: st.path,
            kind: st.kind,
            read_as: "state",
            bytes: st.bytes,
            lines: st.lines,
            records: st.records,
            skipped: st.skipped,
            unfinished_line_bytes: st.unfinished,
            error: st.error,
        });
    }
    let read = ReadResult::new(acc, inputs, lines);
    let mut max_count = check_figures(&read)?;
    for i in &read.inputs {
        let most = i.lines.max(i.records).max(i.skipped);
        if most > MAX_COUNT || i.records + i.skipped > i.lines.saturating_add(1) {
            return Err(corrupt(
                "an input whose records and damaged lines are more than its lines",
            ));
        }
        max_count = max_count.max(most);
    }
    Ok(Decoded {
        read,
        covers: f.covers,
        max_count,
    })
}

/// `3 significant digits`, `exact`.
pub fn precision_name(m: Mode) -> String {
    match m {
        Mode::Hdr { sigfig } => format!("{sigfig} significant digits"),
        Mode::Exact => "exact".to_string(),
    }
}

/// Add up decoded states, in order: the inputs are listed one state after
/// the other, as if all their logs had been named on one command line.
/// The merged state covers every part of every state; its window is the
/// hull of theirs (when every part has one), and the stretches of that
/// hull no part covers are in `gaps`.
pub fn merge(states: Vec<Decoded>) -> Result<Decoded, StateError> {
    let Some(first) = states.first() else {
        return Err(corrupt("no state to merge"));
    };
    let mode = first.read.acc.cfg.mode;
    let name = precision_name;
    // Every count of the merge is at most the sum of the states' largest
    // counts: below 2^53, no addition of the merge can wrap.
    let max_count = states
        .iter()
        .try_fold(0u64, |sum, s| sum.checked_add(s.max_count))
        .filter(|&m| m <= MAX_COUNT)
        .ok_or(StateError::Overflow)?;
    let n: usize = states.iter().map(|s| s.read.inputs.len()).sum();
    let mut acc = Acc::new(Config::new(mode, 1), n);
    let mut inputs = Vec::with_capacity(n);
    let mut examples: Vec<((u32, u64, Skip), u64)> = Vec::new();
    let mut covers = Vec::new();
    let mut all_windowed = true;
    for d in states {
        let s = d.read;
        if s.acc.cfg.mode != mode {
            return Err(StateError::Precision(name(mode), name(s.acc.cfg.mode)));
        }
        all_windowed &= !d.covers.is_empty()
            && d.covers
                .iter()
                .all(|p| p.since.is_some() && p.until.is_some());
        covers.extend(d.covers);
        let base = inputs.len();
        acc.total.merge(&s.acc.total);
        acc.outside_window += s.acc.outside_window;
        acc.outside_skipped += s.acc.outside_skipped;
        acc.unreadable_times += s.acc.unreadable_times;
        acc.undated.merge(&s.acc.undated);
        acc.newest = acc.newest.max(s.acc.newest);
        for (&(file, off, why), &line) in s.acc.total.skipped.examples.iter().zip(&s.example_lines)
        {
            examples.push(((file + base as u32, off, why), line));
        }
        for (i, st) in s.acc.files.iter().enumerate() {
            acc.files[base + i] = *st;
        }
        inputs.extend(s.inputs);
    }
    examples.sort();
    examples.truncate(crate::agg::MAX_EXAMPLES);
    acc.total.skipped.examples = examples.iter().map(|(e, _)| *e).collect();
    let mut gaps = Vec::new();
    if all_windowed {
        let mut spans: Vec<(i64, i64)> = covers.iter().map(|p| (p.start(), p.end())).collect();
        spans.sort();
        let hull = (
            spans[0].0,
            spans.iter().map(|s| s.1).max().unwrap_or(i64::MAX),
        );
        let mut reach = hull.0;
        for (a, b) in spans {
            if a > reach {
                gaps.push((reach, a));
            }
            reach = reach.max(b);
        }
        acc.cfg.window = Some(hull);
    }
    acc.total.finish();
    Ok(Decoded {
        read: ReadResult {
            acc,
            inputs,
            example_lines: examples.iter().map(|(_, l)| *l).collect(),
            merged: true,
            gaps,
            unread: Vec::new(),
            passed_over: Vec::new(),
            held_back: 0,
        },
        covers,
        max_count,
    })
}
