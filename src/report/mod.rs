//! The plain report model, built from merged accumulators. Key paths are a
//! superset of the platform script's JSON report (`latency.all.count`,
//! `latency.with_llm.total_ms.p95`, `fallback.fallback_rate`,
//! `time_range.first`, ...). No formatting here; see `render/`.
//! Every key is documented in docs/report.md.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::agg::Mode;
use crate::kinds::Sections;
use crate::parse::Skip;
use crate::read::{InputInfo, ReadResult};

pub mod risk;

// The figures, the view and the verdict live below the kinds (`measure/`); their old
// paths here stay for the layers above.
pub use crate::measure::{figures, verdict, view};

pub use figures::{
    counts, pairs, percentile_key, round_to, Direction, FirstLast, RateFig, Rates, Stats,
};
pub use view::{Block, GridRow, View};

#[derive(Debug, Clone, Serialize)]
pub struct SkipLocation {
    pub path: String,
    pub line: u64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub total: u64,
    /// Reason -> lines; only reasons that occurred.
    pub by_reason: BTreeMap<&'static str, u64>,
    /// The first few skipped lines (never their content).
    pub locations: Vec<SkipLocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Precision {
    /// `hdr` or `exact`.
    pub mode: &'static str,
    pub unit: &'static str,
    /// Values are recorded as whole microseconds (HDR mode).
    pub resolution_ms: Option<f64>,
    pub significant_digits: Option<u8>,
    pub quantile_rule: &'static str,
    pub risk_quantile_rule: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub since: Option<String>,
    pub until: Option<String>,
    /// Good records outside the window, read and not counted (`null` for a
    /// merge of states: each state's runs saw other windows' records).
    pub outside: Option<u64>,
    /// Damaged lines dated outside the window, not charged to it (`null`
    /// for a merge).
    pub outside_skipped: Option<u64>,
    /// Damaged lines that could not be dated (no time in them and no
    /// record in their input): charged to no window.
    pub undated_skipped: u64,
    /// Stretches of the window that no merged state covers (a missed
    /// day); the report is then incomplete.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Interval>,
}

/// A half-open stretch of time.
#[derive(Debug, Clone, Serialize)]
pub struct Interval {
    pub since: String,
    pub until: String,
}

impl std::fmt::Display for Interval {
    /// `2026-02-10T12:00:00Z .. 2026-02-10T13:00:00Z`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} .. {}", self.since, self.until)
    }
}

/// Records stamped after the run's "now": counted as they are, and
/// reported, since a clock ahead of the data is itself a finding.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FutureRecords {
    /// Records read (in the window or not) stamped after now.
    pub count: u64,
    /// The newest of them (RFC 3339), `null` when there is none.
    pub newest: Option<String>,
    /// How far the newest is ahead of now, in seconds.
    pub ahead_seconds: Option<f64>,
}

/// What the cap on buckets left out of the buckets.
#[derive(Debug, Clone, Serialize)]
pub struct BucketsCapped {
    /// `--max-buckets`: the newest this many buckets are kept.
    pub max_buckets: usize,
    /// Records in no bucket kept (counted in the whole run's figures).
    pub records_in_no_bucket: u64,
}

/// What the memory budget held back.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryBudget {
    /// `--max-memory`, in bytes: from a sixteenth of it on nothing new is
    /// made.
    pub max_bytes: u64,
    /// Observations (a record into a new time bucket or group, a value
    /// into a new key) that would have made something new: counted in the
    /// whole run's figures, the overflow of their map (`keys_dropped`) or
    /// `buckets_capped.records_in_no_bucket` instead.
    pub held_back: u64,
}

/// An input that could not be used at all.
#[derive(Debug, Clone, Serialize)]
pub struct Unread {
    pub path: String,
    pub error: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Meta {
    pub tool: String,
    /// The command whose report this is: `summarize` (also `merge`, whose
    /// report is a summarize report, equal to one pass), `risk`, `shadow`
    /// or `stats`: what `compare` and `--baseline` check.
    pub command: &'static str,
    pub precision: Precision,
    pub percentiles: Vec<f64>,
    /// Observations whose categorical key was not kept (more than the
    /// per-map key limit); 0 normally.
    pub keys_dropped: u64,
    /// Some input could not be read to its end (see `inputs[].error`):
    /// the figures cover only what was read.
    pub incomplete: bool,
    /// With --since/--until/--day: the window, and how many good records
    /// fell outside it (not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    pub inputs: Vec<InputInfo>,
    /// The newest record read, inside the window or not (RFC 3339, UTC):
    /// when the logs were last written, even when the window is empty.
    pub newest_record: Option<String>,
    /// `risk`: records stamped after the run's "now" (a writer's clock
    /// ahead of this host's, or records judged as of a past time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub future_records: Option<FutureRecords>,
    /// With `--by` (and in `risk`'s days): records whose bucket was beyond
    /// `--max-buckets` (older than every bucket kept). They count in the
    /// whole run's figures, in no bucket. Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub buckets_capped: Option<BucketsCapped>,
    /// Observations kept out of a new time bucket, group or key because the
    /// figures filled their share (1/16) of `--max-memory`. Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_budget: Option<MemoryBudget>,
    /// Records whose time field (`stats --time`, a kinds file's `time`)
    /// held something that is no time: counted as records without a time
    /// are (in the run without a window or buckets, outside them
    /// otherwise). Absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unreadable_times: Option<u64>,
    /// `stats`: the paths (with their flag, `--by id.resp_p`) that matched
    /// nothing in any record: a typo, or a key with dots not written in
    /// quotes. Absent when none (or no record was read).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unmatched_paths: Option<Vec<String>>,
    /// When this run finished (microseconds since the epoch), set by the
    /// command for formats that show it (Prometheus); not in JSON, so
    /// reports of the same logs stay byte-identical.
    #[serde(skip)]
    pub finished_us: Option<i64>,
    /// Inputs that could not be used at all (a missing or corrupt state
    /// in a merge); the figures leave them out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<Unread>,
    /// Files found in a folder and not read, as their last change came
    /// before the window (more than 5 minutes before its start): they hold
    /// no record of it. `--all-files` reads them. Absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub passed_over: Vec<PassedOver>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PassedOver {
    pub path: String,
    /// Its last modification (RFC 3339, UTC).
    pub modified: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// One section per log kind, in the registry's order (`latency`,
    /// `fallback`, `risk`, ...), at the top level of the JSON.
    #[serde(flatten)]
    pub kinds: Sections,
    /// The first and last latency and fallback record (the platform
    /// script's `time_range`); other kinds state their own.
    pub time_range: FirstLast,
    pub skipped: Skipped,
    pub meta: Meta,
}

impl Report {
    pub fn build(read: &ReadResult, ps: &[f64]) -> Report {
        Report::of(&read.acc.total, read, ps)
    }

    /// The report of one set of metrics (the run's, or one time bucket's).
    pub fn of(m: &crate::agg::Metrics, read: &ReadResult, ps: &[f64]) -> Report {
        let mut kinds = Sections::of(&m.kinds, ps, &m.skipped.by_kind);
        kinds.jsonl.ensure(&read.acc.opts.jsonl, ps);
        // The run's first and last record, over the kinds a kinds file
        // defines too.
        let mut time = m.time.clone();
        for (_, p) in &m.kinds.jsonl.parts {
            time.merge(&p.time);
        }
        Report {
            kinds,
            time_range: FirstLast::of(&time),
            skipped: Skipped::of(&m.skipped, read),
            meta: Meta::of(read, ps, m.kinds.keys_dropped()),
        }
    }

    /// Records the figures count, over every kind.
    pub fn records(&self) -> u64 {
        self.kinds.views().iter().map(|v| v.records).sum()
    }
}

impl Skipped {
    /// Damaged lines charged to some figures (the run's, a bucket's), with
    /// the locations among the run's first ones.
    pub fn of(sk: &crate::agg::SkipCounts, read: &ReadResult) -> Skipped {
        let run = &read.acc.total.skipped.examples;
        Skipped {
            total: sk.total(),
            by_reason: Skip::ALL
                .iter()
                .filter(|s| sk.by_reason[s.index()] > 0)
                .map(|s| (s.name(), sk.by_reason[s.index()]))
                .collect(),
            locations: sk
                .examples
                .iter()
                .filter_map(|e| {
                    let i = run.iter().position(|r| r == e)?;
                    Some(SkipLocation {
                        path: read.inputs[e.0 as usize].path.clone(),
                        line: read.example_lines.get(i).copied().unwrap_or(0),
                        reason: e.2.name(),
                    })
                })
                .collect(),
        }
    }
}

impl Meta {
    pub fn of(read: &ReadResult, ps: &[f64], keys_dropped: u64) -> Meta {
        let mode = read.acc.cfg.mode;
        let (quantile_rule, resolution_ms, significant_digits) = match mode {
            Mode::Hdr { sigfig } => (
                "linear interpolation between closest ranks as in exact mode, k=(n-1)*p/100, v[f]+(k-f)*(v[c]-v[f]), with v[f] and v[c] read from an HDR histogram (the upper edge of their bucket; the exact min and max for the first and last rank): never below the exact value, at most 10^-significant_digits relative above it",
                Some(0.001),
                Some(sigfig),
            ),
            Mode::Exact => (
                "linear interpolation between closest ranks: k=(n-1)*p/100, v[f]+(k-f)*(v[c]-v[f]), rounded to 3 decimals",
                None,
                None,
            ),
        };
        let risk_quantile_rule = match mode {
            Mode::Hdr { .. } => "lower nearest rank: sorted[int((n-1)*q)] (the risk analyzer's rule), the rank read from the HDR histogram as in quantile_rule",
            Mode::Exact => "lower nearest rank: sorted[int((n-1)*q)] (the risk analyzer's rule)",
        };
        Meta {
            tool: format!("aggmetrics {}", env!("CARGO_PKG_VERSION")),
            command: "summarize",
            precision: Precision {
                mode: if matches!(mode, Mode::Exact) {
                    "exact"
                } else {
                    "hdr"
                },
                unit: "ms",
                resolution_ms,
                significant_digits,
                quantile_rule,
                risk_quantile_rule,
            },
            percentiles: ps.to_vec(),
            keys_dropped,
            incomplete: read.inputs.iter().any(|i| i.error.is_some())
                || !read.unread.is_empty()
                || !read.gaps.is_empty(),
            window: read.acc.cfg.window.map(|(since, until)| Window {
                since: (since != i64::MIN).then(|| risk::rfc3339(since)),
                until: (until != i64::MAX).then(|| risk::rfc3339(until)),
                outside: (!read.merged).then_some(read.acc.outside_window),
                outside_skipped: (!read.merged).then_some(read.acc.outside_skipped),
                undated_skipped: read.acc.undated.total(),
                gaps: read
                    .gaps
                    .iter()
                    .map(|(a, b)| Interval {
                        since: risk::rfc3339(*a),
                        until: risk::rfc3339(*b),
                    })
                    .collect(),
            }),
            inputs: read.inputs.clone(),
            newest_record: read.acc.newest.map(risk::rfc3339),
            future_records: None,
            buckets_capped: (read.acc.capped.records > 0).then_some(BucketsCapped {
                max_buckets: read.acc.cfg.max_buckets,
                records_in_no_bucket: read.acc.capped.records,
            }),
            unreadable_times: (read.acc.unreadable_times > 0).then_some(read.acc.unreadable_times),
            unmatched_paths: None,
            memory_budget: (read.held_back > 0).then(|| MemoryBudget {
                max_bytes: crate::budget::limit().unwrap_or(u64::MAX),
                held_back: read.held_back,
            }),
            finished_us: None,
            unread: read
                .unread
                .iter()
                .map(|(path, error)| Unread {
                    path: path.clone(),
                    error: error.clone(),
                })
                .collect(),
            passed_over: read
                .passed_over
                .iter()
                .map(|(path, m)| PassedOver {
                    path: path.clone(),
                    modified: risk::rfc3339(*m),
                })
                .collect(),
        }
    }
}

/// `summarize --by hour|day`: one report per UTC bucket, from one pass.
#[derive(Debug, Clone, Serialize)]
pub struct BucketReport {
    pub buckets: Vec<BucketEntry>,
    /// The whole run's damaged lines: each bucket's, and those that could
    /// not be dated (in no bucket).
    pub skipped: Skipped,
    pub meta: Meta,
}

#[derive(Debug, Clone)]
pub struct BucketEntry {
    /// RFC 3339, half-open [start, end).
    pub start: String,
    pub end: String,
    pub report: Report,
}

impl Serialize for BucketEntry {
    /// `start`, `end`, then every section of the bucket's report in the
    /// report's own order, less `meta` (the run's, at the top): a section
    /// added to the report appears here without a second list to update.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let v = serde_json::to_value(&self.report).map_err(S::Error::custom)?;
        let serde_json::Value::Object(sections) = v else {
            return Err(S::Error::custom("a report is an object"));
        };
        let mut m = s.serialize_map(Some(sections.len() + 1))?;
        m.serialize_entry("start", &self.start)?;
        m.serialize_entry("end", &self.end)?;
        for (k, v) in sections.iter().filter(|(k, _)| *k != "meta") {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl BucketReport {
    /// The buckets of a read made with `cfg.bucket`, beside `whole`, the
    /// run's report (whose skipped lines and meta it shares).
    pub fn build(read: &ReadResult, ps: &[f64], whole: &Report) -> BucketReport {
        let cfg = &read.acc.cfg;
        let end_of = |start: i64| cfg.bucket.map_or(start, |b| b.end_of(start, cfg.tz));
        // Buckets cut by the window are labelled by what they hold: the
        // first starts at the window's start, the last ends at its end.
        let (since, until) = read.acc.cfg.window.unwrap_or((i64::MIN, i64::MAX));
        BucketReport {
            buckets: read
                .acc
                .buckets
                .iter()
                .map(|(start, m)| BucketEntry {
                    start: risk::rfc3339((*start).max(since)),
                    end: risk::rfc3339(end_of(*start).min(until)),
                    report: Report::of(m, read, ps),
                })
                .collect(),
            skipped: whole.skipped.clone(),
            meta: whole.meta.clone(),
        }
    }
}
