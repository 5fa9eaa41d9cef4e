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

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use crate::agg::dist::DistParts;
use crate::agg::{
    Acc, Activity, Config, Dist, FallbackAcc, Keyed, LatencyGroup, Metrics, Mode, RiskAcc,
    TimeRange,
};
use crate::parse::{LogKind, Skip};
use crate::read::{InputInfo, ReadResult};

pub const FORMAT: &str = "aggmetrics-state";
/// Version 2 adds what a state covers (`covers`), damaged lines per kind,
/// outside the window and undated; version 1 files are still read.
pub const VERSION: u32 = 2;
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
    covers: Vec<Part>,
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
    /// Damaged lines that could not be dated, by reason (version 2).
    #[serde(default)]
    undated: BTreeMap<String, u64>,
    /// The newest record read, in the window or not (version 2).
    #[serde(default)]
    newest: Option<i64>,
    metrics: MetricsState,
}

/// One run a state adds up: where it ran, what it read, its window, and a
/// digest of its figures. Two states holding the same part are the same
/// run given twice; parts of one host and paths whose windows overlap
/// would count records twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
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

impl Part {
    /// Where the window starts (the beginning of time when open).
    pub fn start(&self) -> i64 {
        self.since.unwrap_or(i64::MIN)
    }
    /// Where the window ends (the end of time when open).
    pub fn end(&self) -> i64 {
        self.until.unwrap_or(i64::MAX)
    }

    /// Same host and paths, windows that share an instant.
    pub fn overlaps(&self, o: &Part) -> bool {
        self.host == o.host
            && self.paths == o.paths
            && self.paths != ["-"]
            && self.start() < o.end()
            && o.start() < self.end()
    }
}

/// FNV-1a, 64 bits: a stable digest (std's hashers may change between
/// Rust releases, and states outlive builds).
fn fnv1a(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// This machine's name, for [`Part::host`].
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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DistState {
    n: u64,
    /// u128 as decimal text (JSON numbers stop at u64 in many readers).
    sum_us: String,
    min: f64,
    max: f64,
    /// base64 of the V2 + DEFLATE histogram (HDR mode).
    hdr: Option<String>,
    /// Every value (exact mode).
    values: Option<Vec<f64>>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyedState<T> {
    cap: usize,
    threshold: u64,
    overflow: u64,
    entries: Vec<(String, T)>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupState {
    count: u64,
    total: DistState,
    steps: KeyedState<DistState>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FallbackState {
    count: u64,
    outcomes: KeyedState<u64>,
    reasons: KeyedState<u64>,
    llm_latency: DistState,
    deterministic_used: u64,
    by_intent: KeyedState<u64>,
    components: KeyedState<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskState {
    total: u64,
    sampled: u64,
    status: KeyedState<u64>,
    reason_codes: KeyedState<u64>,
    with_diff: u64,
    intent_mismatch: u64,
    decision_type_mismatch: u64,
    action_count_mismatch: u64,
    entity_key_mismatch: u64,
    latency: DistState,
    sample_rates: KeyedState<u64>,
    activity: Vec<(i64, i64, i64)>,
    /// The earliest and latest risk record (version 2; version 1's
    /// `first`/`last` covered every kind).
    #[serde(default)]
    first: Stamp,
    #[serde(default)]
    last: Stamp,
}

type Stamp = Option<(i64, u32, String)>;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetricsState {
    with_llm: GroupState,
    without_llm: GroupState,
    fallback: FallbackState,
    risk: RiskState,
    first: Stamp,
    last: Stamp,
}

// ---- encoding ----

fn dist(d: &Dist) -> DistState {
    let p = d.parts();
    DistState {
        n: p.n,
        sum_us: p.sum_us.to_string(),
        min: if p.n == 0 { 0.0 } else { p.min },
        max: if p.n == 0 { 0.0 } else { p.max },
        hdr: p.hdr.map(|h| {
            let mut buf = Vec::new();
            // Serializing a histogram into memory cannot fail.
            let _ = V2DeflateSerializer::new().serialize(&h, &mut buf);
            base64::engine::general_purpose::STANDARD.encode(buf)
        }),
        values: p.values,
    }
}

fn keyed<T: crate::agg::Merge + Clone, S>(k: &Keyed<T>, f: impl Fn(&T) -> S) -> KeyedState<S> {
    let (cap, threshold, overflow, entries) = k.parts();
    KeyedState {
        cap,
        threshold,
        overflow,
        entries: entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), f(v)))
            .collect(),
    }
}

fn group(g: &LatencyGroup) -> GroupState {
    GroupState {
        count: g.count,
        total: dist(&g.total),
        steps: keyed(&g.steps, dist),
    }
}

/// What a fresh run covers: `paths` as given on the command line.
pub fn part_of_run(paths: &[std::path::PathBuf], read: &ReadResult) -> Part {
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
    Part {
        host: host_name(),
        paths,
        since,
        until,
        digest: String::new(),
    }
}

/// The state of a finished read. `covers`: the parts it adds up (one for a
/// fresh run, see [`part_of_run`]; a fresh part's digest is filled in
/// here).
pub fn encode(read: &ReadResult, covers: &[Part]) -> Vec<u8> {
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

fn reason_counts(sk: &crate::agg::Skipped) -> BTreeMap<String, u64> {
    Skip::ALL
        .iter()
        .filter(|s| sk.by_reason[s.index()] > 0)
        .map(|s| (s.name().to_string(), sk.by_reason[s.index()]))
        .collect()
}

fn to_file(read: &ReadResult, covers: Vec<Part>) -> File {
    let acc = &read.acc;
    let m = &acc.total;
    let (mode, sigfig) = match acc.cfg.mode {
        Mode::Hdr { sigfig } => ("hdr", Some(sigfig)),
        Mode::Exact => ("exact", None),
    };
    let f = &m.fallback;
    let r = &m.risk;
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
        undated: reason_counts(&acc.undated),
        newest: acc.newest,
        metrics: MetricsState {
            with_llm: group(&m.with_llm),
            without_llm: group(&m.without_llm),
            fallback: FallbackState {
                count: f.count,
                outcomes: keyed(&f.outcomes, |n| *n),
                reasons: keyed(&f.reasons, |n| *n),
                llm_latency: dist(&f.llm_latency),
                deterministic_used: f.deterministic_used,
                by_intent: keyed(&f.by_intent, |n| *n),
                components: keyed(&f.components, |n| *n),
            },
            risk: RiskState {
                total: r.total,
                sampled: r.sampled,
                status: keyed(&r.status, |n| *n),
                reason_codes: keyed(&r.reason_codes, |n| *n),
                with_diff: r.with_diff,
                intent_mismatch: r.intent_mismatch,
                decision_type_mismatch: r.decision_type_mismatch,
                action_count_mismatch: r.action_count_mismatch,
                entity_key_mismatch: r.entity_key_mismatch,
                latency: dist(&r.latency),
                sample_rates: keyed(&r.sample_rates, |n| *n),
                activity: r.activity.parts(),
                first: r.time.first.clone(),
                last: r.time.last.clone(),
            },
            first: m.time.first.clone(),
            last: m.time.last.clone(),
        },
    }
}

// ---- decoding ----

/// Check a V2 + DEFLATE histogram's header before the decoder allocates
/// for it (it sizes a buffer from the header's payload length).
fn check_histogram(bytes: &[u8], sigfig: u8) -> Result<(), StateError> {
    const V2_COMPRESSED: u32 = 0x1c84_9314;
    const V2: u32 = 0x1c84_9313;
    if bytes.len() < 8
        || u32::from_be_bytes(bytes[0..4].try_into().unwrap_or_default()) != V2_COMPRESSED
    {
        return Err(corrupt("a histogram without the V2 + DEFLATE cookie"));
    }
    let len = u32::from_be_bytes(bytes[4..8].try_into().unwrap_or_default());
    if len as usize > bytes.len() - 8 {
        return Err(corrupt("a histogram longer than its bytes"));
    }
    let mut head = [0u8; 40];
    flate2::read::ZlibDecoder::new(&bytes[8..])
        .read_exact(&mut head)
        .map_err(|_| corrupt("a histogram whose header does not inflate"))?;
    let be32 = |i: usize| u32::from_be_bytes(head[i..i + 4].try_into().unwrap_or_default());
    let be64 = |i: usize| u64::from_be_bytes(head[i..i + 8].try_into().unwrap_or_default());
    if be32(0) != V2 {
        return Err(corrupt("a histogram with a bad inner cookie"));
    }
    if be32(4) > MAX_PAYLOAD {
        return Err(corrupt(
            "a histogram payload larger than any aggmetrics writes",
        ));
    }
    if be32(12) != sigfig as u32 {
        return Err(StateError::Precision(
            format!("{} digits", be32(12)),
            format!("{sigfig} digits"),
        ));
    }
    if be64(16) != 1 || be64(24) < 2 || be64(24) > 1 << 62 {
        return Err(corrupt("a histogram range aggmetrics does not write"));
    }
    Ok(())
}

fn undist(s: DistState, mode: Mode) -> Result<Dist, StateError> {
    let sum_us: u128 = s
        .sum_us
        .parse()
        .map_err(|_| corrupt("a sum that is not a number"))?;
    if s.n > 0 && !(s.min.is_finite() && s.max.is_finite() && 0.0 <= s.min && s.min <= s.max) {
        return Err(corrupt("a minimum above its maximum"));
    }
    let hdr = match (s.hdr, mode) {
        (Some(b64), Mode::Hdr { sigfig }) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| corrupt("a histogram that is not base64"))?;
            check_histogram(&bytes, sigfig)?;
            let h: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| corrupt(format!("a histogram that does not decode ({e:?})")))?;
            Some(h)
        }
        (Some(_), Mode::Exact) => return Err(StateError::Precision("hdr".into(), "exact".into())),
        (None, _) => None,
    };
    if s.values.is_some() && matches!(mode, Mode::Hdr { .. }) {
        return Err(StateError::Precision("exact".into(), "hdr".into()));
    }
    Dist::restore(
        mode,
        DistParts {
            n: s.n,
            sum_us,
            min: s.min,
            max: s.max,
            hdr,
            values: s.values,
        },
    )
    .map_err(corrupt)
}

fn unkeyed<S, T: crate::agg::Merge + Clone>(
    s: KeyedState<S>,
    f: impl Fn(S) -> Result<T, StateError>,
) -> Result<Keyed<T>, StateError> {
    if s.cap > 100_000 {
        return Err(corrupt("a key limit larger than any aggmetrics uses"));
    }
    let entries = s
        .entries
        .into_iter()
        .map(|(k, v)| Ok((k, f(v)?)))
        .collect::<Result<Vec<_>, StateError>>()?;
    Keyed::restore(s.cap, s.threshold, s.overflow, entries).map_err(corrupt)
}

fn ungroup(g: GroupState, mode: Mode) -> Result<LatencyGroup, StateError> {
    Ok(LatencyGroup {
        count: g.count,
        total: undist(g.total, mode)?,
        steps: unkeyed(g.steps, |d| undist(d, mode))?,
    })
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn ok(n: u64) -> Result<u64, StateError> {
    Ok(n)
}

/// A decoded state: its contents as a finished read (one input per input
/// the state was made from), and what it covers (empty for version 1).
pub struct Decoded {
    pub read: ReadResult,
    pub covers: Vec<Part>,
}

fn skip_named(reason: &str) -> Result<Skip, StateError> {
    Skip::ALL
        .iter()
        .find(|s| s.name() == reason)
        .copied()
        .ok_or_else(|| corrupt("an unknown skip reason"))
}

/// A state file's contents.
pub fn decode(bytes: &[u8]) -> Result<Decoded, StateError> {
    if bytes.len() as u64 > MAX_STATE_BYTES {
        return Err(StateError::TooLarge);
    }
    let magic = format!("{{\"format\":\"{FORMAT}\"");
    if !bytes.starts_with(magic.as_bytes()) {
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
    let m = f.metrics;
    let fb = m.fallback;
    let rk = m.risk;
    acc.total = Metrics {
        with_llm: ungroup(m.with_llm, mode)?,
        without_llm: ungroup(m.without_llm, mode)?,
        fallback: FallbackAcc {
            count: fb.count,
            outcomes: unkeyed(fb.outcomes, ok)?,
            reasons: unkeyed(fb.reasons, ok)?,
            llm_latency: undist(fb.llm_latency, mode)?,
            deterministic_used: fb.deterministic_used,
            by_intent: unkeyed(fb.by_intent, ok)?,
            components: unkeyed(fb.components, ok)?,
        },
        risk: RiskAcc {
            total: rk.total,
            sampled: rk.sampled,
            status: unkeyed(rk.status, ok)?,
            reason_codes: unkeyed(rk.reason_codes, ok)?,
            with_diff: rk.with_diff,
            intent_mismatch: rk.intent_mismatch,
            decision_type_mismatch: rk.decision_type_mismatch,
            action_count_mismatch: rk.action_count_mismatch,
            entity_key_mismatch: rk.entity_key_mismatch,
            latency: undist(rk.latency, mode)?,
            sample_rates: unkeyed(rk.sample_rates, ok)?,
            activity: Activity::restore(&rk.activity).map_err(corrupt)?,
            // Version 1 kept one range for every kind: the risk records
            // lie within it.
            time: if f.version == 1 {
                TimeRange {
                    first: m.first.clone(),
                    last: m.last.clone(),
                }
            } else {
                TimeRange {
                    first: rk.first,
                    last: rk.last,
                }
            },
        },
        time: TimeRange {
            first: m.first,
            last: m.last,
        },
        skipped: Default::default(),
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
    acc.newest = f.newest.or_else(|| {
        [&acc.total.time, &acc.total.risk.time]
            .iter()
            .filter_map(|r| r.last.as_ref().map(|l| l.0))
            .max()
    });
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
    Ok(Decoded {
        read: ReadResult::new(acc, inputs, lines),
        covers: f.covers,
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
        },
        covers,
    })
}
