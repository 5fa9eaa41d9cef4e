//! Command-line interface. The doc comments here are the `--help` text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::render::Format;

/// Turn the LLM platform's JSONL logs into latency percentiles, fallback and
/// error rates, and the partial-trust corridor's risk figures.
///
/// Exit codes: 0 ok (or verdict `go`); 1 a check failed (--strict and lines
/// were skipped, verdict `rollback`, or a regression); 2 usage error;
/// 3 verdict `hold`; 4 an input path does not exist or cannot be read;
/// 5 the output could not be written; 6 another run holds the lock on
/// the same -o FILE; 7 the run needed more memory than --max-memory.
#[derive(Debug, Parser)]
#[command(name = "aggmetrics", version = VERSION, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Colour verdicts, breached criteria, regressions and warnings: auto
    /// (only on a terminal, and not when NO_COLOR is set), always or
    /// never.
    ///
    /// Example: --color never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// The memory budget of the whole run. Once the figures being counted
    /// fill a sixteenth of it (the rest is for the report), no new time
    /// bucket, group or key is made: their records still count in the
    /// whole run's figures, meta.memory_budget says how many, a warning
    /// says so even with -q, and --strict exits 1. Past the budget (values
    /// kept by --exact, say) the run stops with exit 7 and writes nothing.
    /// Suffixes K, M, G, T (powers of 1024). Default: 4G, or less where
    /// the machine has less: three quarters of its memory or of its
    /// cgroup's limit, half of an address-space ulimit.
    ///
    /// Example: --max-memory 8G
    #[arg(long, global = true, value_name = "BYTES", value_parser = parse_size)]
    pub max_memory: Option<u64>,
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `0.1.0 (commit 1a2b3c4d5e6f, features: parquet)`: what `--version`
/// says, so a report can be traced to the build that wrote it.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("AGGMETRICS_COMMIT"),
    ", features: ",
    env!("AGGMETRICS_FEATURES"),
    ")"
);

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Summarize latency, fallback, risk and shadow-router logs in one pass.
    ///
    /// Example: aggmetrics summarize logs/ --format json -o summary.json
    Summarize(SummarizeArgs),

    /// The partial-trust risk log: the analyzer's figures with 95% Wilson
    /// intervals, per day, and the rollout gates' verdict with --stage.
    ///
    /// Example: aggmetrics risk logs/ --stage 1
    Risk(RiskArgs),

    /// Compare two reports (or two log folders): every percentile and rate,
    /// regressions first; exit 1 if any.
    ///
    /// Example: aggmetrics compare monday.json tuesday.json
    Compare(CompareArgs),

    /// Any JSONL log: percentiles of numeric fields by dotted path, grouped
    /// by other fields' values, with counts of categorical fields.
    ///
    /// Example: aggmetrics stats access.jsonl --value timing.total_ms --by route --by status
    Stats(StatsArgs),

    /// The shadow router's log: the platform analyzer's figures (intent
    /// match and entity hit rates against a golden dataset, latency,
    /// errors) with counts and 95% Wilson intervals, and the agreement
    /// with the deterministic router.
    ///
    /// Example: aggmetrics shadow logs/ --golden golden.json --exact
    Shadow(ShadowArgs),

    /// Add up state files (from summarize --state-out) into the report of
    /// all their logs at once: weekly from daily states, fleet-wide from
    /// per-host states.
    ///
    /// Example: aggmetrics merge states/2026-02-1*.state -f json -o week.json
    Merge(MergeArgs),

    /// Follow the platform's logs as they are written and serve their
    /// figures over HTTP: GET /metrics (Prometheus exposition of
    /// everything read since it started), GET /healthz. A first slice of
    /// the live mode (docs/operations.md, "Serving /metrics").
    ///
    /// Example: aggmetrics serve /var/log/assistant --listen 127.0.0.1:9184
    Serve(ServeArgs),

    /// Print a shell completion script to standard output.
    ///
    /// Example: aggmetrics completions bash > ~/.local/share/bash-completion/completions/aggmetrics
    Completions(CompletionsArgs),

    /// Print the manual page (roff) to standard output: the whole tool, or
    /// one subcommand.
    ///
    /// Example: aggmetrics man | man -l -
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Log files or folders to follow (the names summarize recognises).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// Where to listen: loopback by default. Any other address must be
    /// given here; put TLS and authentication in front of it (a reverse
    /// proxy), as Prometheus' exporter guidance says.
    ///
    /// Example: --listen 127.0.0.1:9184
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9184")]
    pub listen: std::net::SocketAddr,

    /// How often the files are checked for new lines, in milliseconds.
    ///
    /// Example: --interval-ms 250
    #[arg(long, value_name = "MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub interval_ms: u64,

    /// Keep the figures and where each file was read to in FILE, written
    /// atomically every --checkpoint-every seconds and when stopped
    /// (SIGTERM, SIGINT); a restart goes on from it (after kill -9 too:
    /// lines after the last write are read again, once). A FILE that is
    /// not there yet starts afresh; one that cannot be read is exit 2.
    ///
    /// Example: --checkpoint /var/lib/aggmetrics/serve.checkpoint
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,

    /// Seconds between checkpoint writes.
    ///
    /// Example: --checkpoint-every 5
    #[arg(long, value_name = "SECS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub checkpoint_every: u64,

    /// Count only records stamped at or after T (the forms --since of
    /// summarize takes; a relative one is taken at start): a rollout
    /// stage's start, so that /risk judges the stage's records as
    /// `risk --stage N --since T` does. A checkpoint written with another
    /// --since is refused.
    ///
    /// Example: --since 2026-02-14T09:00:00Z
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// A kinds file (TOML) naming more JSONL logs to follow, each in
    /// /metrics and /report as its own section, as summarize reads them
    /// (repeatable; docs/any-log.md). Read once, at start. Default:
    /// $XDG_CONFIG_HOME/aggmetrics/kinds.toml (or
    /// ~/.config/aggmetrics/kinds.toml) when it exists.
    ///
    /// Example: --kinds /etc/aggmetrics/kinds.toml
    #[arg(long, value_name = "FILE")]
    pub kinds: Vec<PathBuf>,

    /// `--stage N`: GET /risk gives the `risk --stage N` report of the
    /// records read, with its verdict as of the request, and /metrics the
    /// verdict's exit code (`aggmetrics_risk_verdict_exit_code`). The
    /// gates and baseline are read once, at start.
    #[command(flatten)]
    pub stage: StageOpts,

    #[command(flatten)]
    pub regression: RegressionOpts,

    /// Percentiles /metrics and /report give, comma-separated, each in
    /// 0..=100.
    ///
    /// Example: --percentiles 50,90,99,99.9
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "50,95,99"
    )]
    pub percentiles: Vec<f64>,

    #[command(flatten)]
    pub precision: PrecisionOpts,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell or elvish.
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's own page (`aggmetrics man summarize`).
    pub command: Option<String>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// State files written by `summarize --state-out`.
    ///
    /// Example: aggmetrics merge host1.state host2.state
    #[arg(value_name = "STATE", required = true)]
    pub states: Vec<PathBuf>,

    #[command(flatten)]
    pub out: OutputOpts,

    #[command(flatten)]
    pub summary: SummaryOpts,

    #[command(flatten)]
    pub strict: StrictOpts,

    #[command(flatten)]
    pub fmt: FormatOpts,

    /// Do not print warnings (missing, unreadable or repeated states,
    /// incomplete inputs recorded in the states, days no state covers).
    ///
    /// Example: -q
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Where the report goes (every subcommand).
#[derive(Debug, Args)]
pub struct OutputOpts {
    /// Write to FILE instead of standard output, atomically (a temporary
    /// file beside it, synced, renamed over it: a reader never sees a
    /// partial file, and a failed run leaves the old one). The folder must
    /// exist; FILE.lock keeps two runs from writing FILE at once.
    ///
    /// Example: -o /var/lib/aggmetrics/daily.json
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// The `run` label of every `-f prometheus` series, which keeps the
    /// files of several cron lines in one textfile folder apart. Default:
    /// the -o file's name without `.prom` (`aggmetrics_risk` for
    /// `-o .../aggmetrics_risk.prom`), empty on standard output.
    ///
    /// Example: --run-name hourly
    #[arg(long, value_name = "NAME")]
    pub run_name: Option<String>,
}

/// How the report is written (every subcommand but compare, which has
/// no Prometheus or Parquet form).
#[derive(Debug, Args)]
pub struct FormatOpts {
    /// Output format: table, json, prometheus, csv, markdown, html or parquet.
    ///
    /// Example: --format json
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// How latencies are kept (summarize, risk, shadow).
#[derive(Debug, Args)]
pub struct PrecisionOpts {
    /// Keep every value and reproduce the platform scripts' numbers to the
    /// last digit (summarize: linear interpolation, 3 decimals, rates 4;
    /// risk and shadow: the analyzers' lower nearest rank,
    /// sorted[int((n-1)*q)]).
    /// Memory grows with the input.
    ///
    /// Example: aggmetrics summarize logs/ --exact --format json
    #[arg(long)]
    pub exact: bool,

    /// Significant decimal digits the HDR histograms keep (1..=5); more
    /// digits, more memory. Ignored with --exact.
    ///
    /// Example: --sigfig 4
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub sigfig: u8,
}

impl Cli {
    /// `--percentiles 50,50` or `99.9,99.90`: each percentile once, in
    /// the order first given (duplicates wrote duplicate JSON keys and
    /// Prometheus series).
    pub fn dedupe(&mut self) {
        let summary = match &mut self.command {
            Command::Summarize(a) => &mut a.summary,
            Command::Stats(a) => &mut a.summary,
            Command::Merge(a) => &mut a.summary,
            _ => return,
        };
        let mut seen: Vec<f64> = Vec::new();
        summary.percentiles.retain(|p| {
            let fresh = !seen.contains(p);
            seen.push(*p);
            fresh
        });
    }
}

/// The figures a summary report holds and what is checked on them
/// (summarize, merge, stats).
#[derive(Debug, Args)]
pub struct SummaryOpts {
    /// Percentiles to report, comma-separated, each in 0..=100.
    ///
    /// Example: --percentiles 50,90,99,99.9
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "50,95,99"
    )]
    pub percentiles: Vec<f64>,

    /// Exit 1 when a figure of the JSON report crosses a bound: KEY OP
    /// NUMBER with OP one of > >= < <= (repeatable). Each breach is named;
    /// a key no report has is a usage error, a key without data here is
    /// "no data".
    ///
    /// Example: --fail-on 'fallback.error_rate>0.05' --fail-on 'latency.with_llm.total_ms.p95>250'
    #[arg(long, value_name = "EXPR", value_parser = parse_cond)]
    pub fail_on: Vec<crate::check::expr::Cond>,

    /// Also save every histogram and counter to FILE (HDR V2 + DEFLATE,
    /// versioned, saying what it covers), for `aggmetrics merge` (with
    /// --by: the whole run).
    ///
    /// Example: --state-out /var/lib/aggmetrics/2026-02-17.state
    #[arg(long, value_name = "FILE")]
    pub state_out: Option<PathBuf>,
}

/// `--strict` (summarize, risk, shadow, merge).
#[derive(Debug, Args)]
pub struct StrictOpts {
    /// Exit with code 1 if the figures hold less than the logs: a line was
    /// skipped as damaged (or could not be dated), an input could not be
    /// read to its end, no log file was found, or (merge) a state was
    /// missing or a day has no state. A rollback verdict keeps its code.
    ///
    /// Example: aggmetrics summarize logs/ --strict
    #[arg(long)]
    pub strict: bool,
}

/// Reading options shared by the subcommands that read logs.
#[derive(Debug, Clone, Args)]
pub struct ReadOpts {
    /// With --since, --day or a window: read every file found, also those
    /// last modified before the window began (by default they are passed
    /// over, as they hold no record of it, and listed in
    /// meta.passed_over). For logs whose records are stamped later than
    /// they were written.
    ///
    /// Example: --all-files
    #[arg(long)]
    pub all_files: bool,

    /// Worker threads (default: all cores). The report is identical for any
    /// number.
    ///
    /// Example: --threads 1
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Lines longer than this are skipped as `line_too_long` (memory stays
    /// bounded on standard input whatever the line length).
    ///
    /// Example: --max-line-bytes 1048576
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub max_line_bytes: usize,

    /// Do not print warnings (skipped lines, no log files found) to
    /// standard error; the report still counts them.
    ///
    /// Example: -q
    #[arg(long, short = 'q')]
    pub quiet: bool,

    /// Follow symlinks in a folder that point outside it (by default they
    /// are skipped with a warning).
    ///
    /// Example: --follow
    #[arg(long)]
    pub follow: bool,

    /// Stop reading a .gz or .zst file once it has decompressed to this
    /// many bytes (a per-file error; other files still count). Suffixes
    /// K, M, G, T (powers of 1024).
    ///
    /// Example: --max-decompressed-bytes 64G
    #[arg(long, value_name = "BYTES", default_value = "256G", value_parser = parse_size)]
    pub max_decompressed_bytes: u64,

    /// With --by hour|day (and risk's days): keep at most this many time
    /// buckets, the newest. Records of older ones still count in the whole
    /// run's figures; the report says how many (meta.buckets_capped), a
    /// warning names it and --strict exits 1. Bounds memory whatever
    /// times the records carry (1970 to 2038 by the hour is 600,000).
    ///
    /// Example: --max-buckets 50000
    #[arg(long, value_name = "N", default_value_t = crate::agg::config::DEFAULT_MAX_BUCKETS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_buckets: usize,
}

/// `1048576`, `512K`, `64M`, `256G`, `1T`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return Err(format!("'{s}': the suffix must be K, M, G or T")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a size such as 1048576, 64M or 2G"))?;
    n.checked_mul(mul)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("'{s}' must be above 0 and below 16 EiB"))
}

/// Which records count, by their timestamp (UTC).
#[derive(Debug, Args, Clone, Default)]
pub struct WindowOpts {
    /// Count only records at or after T: RFC 3339, a date (its 00:00 UTC),
    /// `today`, `yesterday`, `now`, or a time ago (`90m ago`, `1h ago`,
    /// `2 days ago`).
    ///
    /// Example: --since 2026-02-17T06:00:00Z
    #[arg(long, value_name = "T")]
    pub since: Option<String>,

    /// Count only records before T (same forms as --since).
    ///
    /// Example: --until 2026-02-18
    #[arg(long, value_name = "T")]
    pub until: Option<String>,

    /// Count only records of one UTC day: a date, `today` or `yesterday`.
    ///
    /// Example: --day yesterday
    #[arg(long, value_name = "DATE", conflicts_with_all = ["since", "until"])]
    pub day: Option<String>,

    /// Days and hours in this time zone (IANA name) instead of UTC: --day,
    /// a bare date, today and yesterday start at its local midnight, and
    /// --by day|hour buckets follow its days (23 or 25 hours across a
    /// daylight-saving change) and local hours. Times in the report stay
    /// instants in UTC.
    ///
    /// Example: --tz Europe/Berlin --day yesterday
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

/// The rollout stage judged (`risk`, `serve`).
#[derive(Debug, Args)]
pub struct StageOpts {
    /// Judge the rollout gates of this stage: verdict go (0), hold (3) or
    /// rollback (1), with the reason for each criterion; risk exits with
    /// it, serve gives it at GET /risk and in /metrics
    /// (`aggmetrics_risk_verdict_exit_code`).
    ///
    /// Example: aggmetrics risk logs/ --stage 2 --baseline stage1.json
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=99))]
    pub stage: Option<u8>,

    /// Gates file (TOML) replacing the runbook's built-in gates; see
    /// docs/gates.toml.
    ///
    /// Example: --gates /etc/aggmetrics/gates.toml
    #[arg(long, value_name = "FILE", requires = "stage")]
    pub gates: Option<PathBuf>,

    /// An earlier `aggmetrics risk --format json` report (the previous
    /// stage; a saved `serve` /risk too): needed for "stable acceptance
    /// rate", the acceptance-drop alarm and "regression against the
    /// previous stage".
    ///
    /// Example: --baseline stage1-final.json
    #[arg(long, value_name = "FILE", requires = "stage")]
    pub baseline: Option<PathBuf>,
}

/// What counts as a regression (`compare`, and `risk --stage` against a
/// `--baseline`).
#[derive(Debug, Args, Clone, Copy)]
pub struct RegressionOpts {
    /// A latency percentile that grew by more than this fraction regresses.
    ///
    /// Example: --max-latency-regression 0.2
    #[arg(long, value_name = "FRACTION", default_value_t = 0.10)]
    pub max_latency_regression: f64,

    /// A rate that moved the bad way by more than this (absolute) regresses,
    /// if the move is also significant at --alpha.
    ///
    /// Example: --max-rate-increase 0.005
    #[arg(long, value_name = "FRACTION", default_value_t = 0.01)]
    pub max_rate_increase: f64,

    /// Significance level of the two-proportion z-test on rates.
    ///
    /// Example: --alpha 0.01
    #[arg(long, value_name = "P", default_value_t = 0.05)]
    pub alpha: f64,
}

#[derive(Debug, Args)]
pub struct RiskArgs {
    #[command(flatten)]
    pub out: OutputOpts,

    #[command(flatten)]
    pub precision: PrecisionOpts,

    #[command(flatten)]
    pub strict: StrictOpts,

    /// Folders or files to read. In a folder, partial_trust_risk*.jsonl;
    /// files named here are read as risk logs whatever their name.
    ///
    /// Example: aggmetrics risk logs/ old/partial_trust_risk-0217.jsonl
    #[arg(value_name = "PATH", default_value = "logs")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub fmt: FormatOpts,

    /// Also show the figures per UTC day, to see a trend across a stage.
    ///
    /// Example: --by day
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub by: Option<RiskBy>,

    #[command(flatten)]
    pub stage: StageOpts,

    /// The time the verdict is judged at: the silence alarm measures "since
    /// the last record" to it, and relative window times (today, 1h ago)
    /// count from it. Same forms as --since; default: now. Before the
    /// newest record is a usage error.
    ///
    /// Example: --as-of 2026-02-20T00:00:00Z
    #[arg(long, value_name = "TIME", requires = "stage")]
    pub as_of: Option<String>,

    #[command(flatten)]
    pub regression: RegressionOpts,

    #[command(flatten)]
    pub window: WindowOpts,

    #[command(flatten)]
    pub read: ReadOpts,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub out: OutputOpts,

    #[command(flatten)]
    pub precision: PrecisionOpts,

    #[command(flatten)]
    pub summary: SummaryOpts,

    #[command(flatten)]
    pub strict: StrictOpts,

    /// JSONL files or folders (every *.jsonl file in them, rotated and
    /// compressed ones too); `-` reads standard input.
    ///
    /// Example: aggmetrics stats logs/assist*.jsonl --value latency_ms --by step
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,

    /// A numeric field by dotted path (repeatable); a `*` segment takes
    /// every key of an object, each as its own value. Only JSON numbers
    /// from 0 to 10^12 count; a missing or null value is `missing`, any
    /// other is `invalid`, never a damaged line.
    ///
    /// Example: --value timing.total_ms --value 'steps.*'
    #[arg(long = "value", value_name = "PATH")]
    pub values: Vec<String>,

    /// Group by this field's value (repeatable; strings, numbers,
    /// booleans; missing is null). `hour` and `day` split the report into
    /// UTC time buckets instead; write `.hour` for a field named hour.
    ///
    /// Example: --by route --by status
    #[arg(long = "by", value_name = "PATH")]
    pub by: Vec<String>,

    /// Count the values of a categorical field per group (repeatable).
    ///
    /// Example: --count model
    #[arg(long = "count", value_name = "PATH")]
    pub count: Vec<String>,

    /// Count how many distinct values a field takes, per group
    /// (repeatable): exact up to 512, then a HyperLogLog++ estimate
    /// (relative standard error 1.6%, stated in the report). `[*]`
    /// counts each element of an array.
    ///
    /// Example: --distinct client_ip
    #[arg(long = "distinct", value_name = "PATH")]
    pub distinct: Vec<String>,

    /// Count only the records that pass this condition (repeatable; all
    /// must pass): PATH=VALUE, PATH!=VALUE, PATH>N (>=, <, <=; numbers,
    /// and strings that read as one), 'PATH in A,B,C', PATH (present, not
    /// null) or !PATH (missing or null). Left-out records are counted in
    /// filtered_out; a condition no record passes is said and fails
    /// --strict.
    ///
    /// Example: --where status=500 --where 'method in GET,HEAD' --where 'duration>0.5'
    #[arg(long = "where", value_name = "COND")]
    pub wheres: Vec<String>,

    /// Show at most this many --by groups: the ones with the most
    /// records. The others are folded into an `(other)` row with their
    /// figures, so shares add up to 100%, and the report says so. When a
    /// file holds more groups than this, it is read a second time for
    /// the figures of the heaviest; stdin is read once (see
    /// docs/any-log.md, "Many groups").
    ///
    /// Example: --by query --max-groups 50
    #[arg(long, value_name = "N", default_value_t = crate::kinds::jsonl::MAX_GROUPS as u64,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_groups: u64,

    /// Show at most this many values of each --count field: the most
    /// frequent. The rest are one `(other)` with what they counted, so a
    /// table adds up, and the report says so (JSON: counts_other,
    /// values_folded). At most 1000, the values kept while reading.
    ///
    /// Example: --count query --top 10
    #[arg(long, value_name = "N", default_value_t = crate::measure::MAX_KEYS as u64,
          value_parser = clap::value_parser!(u64).range(1..=crate::measure::MAX_KEYS as u64))]
    pub top: u64,

    /// The field holding each record's time, for --since, --until, --day
    /// and --by hour|day: RFC 3339, ISO 8601 without a zone (read as UTC),
    /// `2024-03-14 10:30:00.123 UTC`, RFC 1123, common log format
    /// (`10/Oct/2000:13:55:36 -0700`), or an epoch number (see
    /// --time-unit). Records without a time count when no window and no
    /// buckets are asked for; a time field that reads as no time is
    /// reported (meta.unreadable_times) and fails --strict.
    ///
    /// Example: --time ts
    #[arg(long, value_name = "PATH", default_value = "timestamp")]
    pub time: String,

    /// What an epoch number in the time field counts: auto (by its
    /// magnitude: seconds below 10^11, milliseconds below 10^14,
    /// microseconds below 10^17, nanoseconds above), s, ms, us or ns.
    ///
    /// Example: --time ts --time-unit ms
    #[arg(long, value_name = "UNIT", default_value = "auto")]
    pub time_unit: crate::parse::timestamp::TimeUnit,

    #[command(flatten)]
    pub fmt: FormatOpts,

    #[command(flatten)]
    pub window: WindowOpts,

    #[command(flatten)]
    pub read: ReadOpts,
}

#[derive(Debug, Args)]
pub struct ShadowArgs {
    #[command(flatten)]
    pub out: OutputOpts,

    #[command(flatten)]
    pub precision: PrecisionOpts,

    #[command(flatten)]
    pub strict: StrictOpts,

    /// Folders or files to read. In a folder, shadow_router*.jsonl; files
    /// named here are read as shadow logs whatever their name.
    ///
    /// Example: aggmetrics shadow logs/ old/shadow_router-0217.jsonl
    #[arg(value_name = "PATH", default_value = "logs")]
    pub paths: Vec<PathBuf>,

    /// The golden dataset: a JSON array of {"command_id", "expected_intent",
    /// "expected_entity_keys", ...}. Records whose command_id is in it are
    /// matched; intent_match_rate and entity_hit_rate are over them.
    ///
    /// Example: --golden datasets/golden_commands.json
    #[arg(long, value_name = "FILE")]
    pub golden: Option<PathBuf>,

    #[command(flatten)]
    pub fmt: FormatOpts,

    #[command(flatten)]
    pub window: WindowOpts,

    #[command(flatten)]
    pub read: ReadOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RiskBy {
    Day,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub out: OutputOpts,

    /// The base: a JSON report (`summarize` or `risk --format json`) or a
    /// log folder, which is summarized.
    ///
    /// Example: aggmetrics compare last-week.json this-week.json
    #[arg(value_name = "BASE")]
    pub base: PathBuf,

    /// The candidate, of the same kind as BASE.
    ///
    /// Example: aggmetrics compare logs-before/ logs-after/
    #[arg(value_name = "CANDIDATE")]
    pub candidate: PathBuf,

    /// Output format: table, json, csv, markdown or html.
    ///
    /// Example: --format json
    #[arg(long, short = 'f', default_value = "table", value_parser = compare_format())]
    pub format: Format,

    #[command(flatten)]
    pub regression: RegressionOpts,

    #[command(flatten)]
    pub read: ReadOpts,
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    #[command(flatten)]
    pub out: OutputOpts,

    #[command(flatten)]
    pub precision: PrecisionOpts,

    #[command(flatten)]
    pub summary: SummaryOpts,

    #[command(flatten)]
    pub strict: StrictOpts,

    /// Folders or files to read; `-` reads standard input (with --kind).
    /// In a folder, files are recognised by name: pipeline_latency*.jsonl,
    /// fallback_metrics*.jsonl, partial_trust_risk*.jsonl,
    /// shadow_router*.jsonl.
    ///
    /// Example: aggmetrics summarize logs/ archive/pipeline_latency-old.jsonl
    #[arg(value_name = "PATH", default_value = "logs")]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub fmt: FormatOpts,

    /// The log kind of files whose names do not say it, and of `-`:
    /// latency, fallback, risk or shadow. With a folder, reads only that
    /// kind.
    ///
    /// Example: cat today.jsonl | aggmetrics summarize - --kind latency
    #[arg(long, value_name = "KIND", value_parser = parse_kind)]
    pub kind: Option<crate::kinds::LogKind>,

    /// Split the report into UTC hours or days, in the same single pass.
    ///
    /// Example: --by hour
    #[arg(long, value_enum, value_name = "PERIOD")]
    pub by: Option<crate::agg::Bucket>,

    /// A kinds file (TOML) naming more JSONL logs to recognise in folders,
    /// each reported as its own section (repeatable; docs/any-log.md).
    /// Default: $XDG_CONFIG_HOME/aggmetrics/kinds.toml (or
    /// ~/.config/aggmetrics/kinds.toml) when it exists.
    ///
    /// Example: --kinds docs/kinds/assist.toml --kinds docs/kinds/access.toml
    #[arg(long, value_name = "FILE")]
    pub kinds: Vec<PathBuf>,

    #[command(flatten)]
    pub window: WindowOpts,

    #[command(flatten)]
    pub read: ReadOpts,
}

/// The formats a comparison can be shown in (not a Prometheus textfile).
fn compare_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    use clap::ValueEnum as _;
    clap::builder::PossibleValuesParser::new(["table", "json", "csv", "markdown", "html"])
        .map(|s| Format::from_str(&s, true).unwrap_or(Format::Table))
}

fn parse_cond(s: &str) -> Result<crate::check::expr::Cond, String> {
    s.parse()
        .map_err(|e: crate::check::expr::CondError| e.to_string())
}

fn parse_kind(s: &str) -> Result<crate::kinds::LogKind, String> {
    crate::kinds::LogKind::from_name(s).ok_or_else(|| {
        format!(
            "unknown kind '{s}': use one of {}",
            crate::kinds::LogKind::names()
        )
    })
}
