//! `aggmetrics serve`: follow the logs ([`crate::read::follow`]) and
//! serve their figures over HTTP/1 (hyper on a current-thread tokio
//! runtime; docs/performance.md says why these crates).
//!
//! - `GET /metrics`: the Prometheus exposition of everything read since
//!   the process started, built as `summarize -f prometheus` builds it.
//! - `GET /report?since=1h`: the summarize document of a window, from the
//!   minutes kept.
//! - `GET /risk`: the `risk` report of the records read, with the
//!   verdict of `--stage N`'s gates as of the request.
//! - `GET /healthz`: `ok`, and how many files are followed; 503 when
//!   the checkpoint cannot be written.
//!
//! With `--checkpoint FILE`, the figures and where each file was read to
//! are written together (one atomic replace, `state::checkpoint`) every
//! `--checkpoint-every` seconds and when SIGTERM or SIGINT stops it, and a
//! start goes on from the file. Only the follower thread writes it.
//!
//! Reading never waits on a client: the follower runs on a thread of its
//! own and holds its lock only to read a batch, a request only to build
//! its report. At most [`MAX_CONNECTIONS`] connections are served at once
//! (more are closed at once), and a client has [`HEADER_TIMEOUT`] to send
//! its request's headers.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};

use crate::agg::{Config, Mode};
use crate::cli::ServeArgs;
use crate::read::follow::Follower;
use crate::render::{Doc, Format, Settings};
use crate::report::risk::RiskReport;
use crate::report::Report;
use crate::state::checkpoint;

/// A line on standard error; one that cannot be written is lost, the
/// process goes on (`eprintln!` would panic when stderr is closed).
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

/// Set by SIGTERM or SIGINT: the follower reads once more, writes the
/// checkpoint and ends the process.
static STOP: AtomicBool = AtomicBool::new(false);

/// Where the checkpoint goes, and what it is of.
struct Keeper {
    file: PathBuf,
    /// The followed paths, absolute.
    paths: Vec<String>,
    /// `--since`.
    since: Option<i64>,
    /// The kinds files' kinds, as the checkpoint names them.
    kinds: Vec<String>,
    every: Duration,
}

/// What the requests read: the follower, and how its figures are told.
struct Site {
    follower: Mutex<Follower>,
    /// `--percentiles`.
    ps: Vec<f64>,
    /// `--stage N` with its gates and baseline.
    judge: Option<super::risk::Judge>,
    thresholds: crate::check::compare::Thresholds,
}

/// The last checkpoint write that failed, for /healthz.
static CHECKPOINT_ERROR: Mutex<Option<String>> = Mutex::new(None);

fn absolute(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| {
            std::fs::canonicalize(p)
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string()
        })
        .collect()
}

/// Read the checkpoint at `file`, if there is one, into `f`; what it
/// found is said on standard error.
/// Resume from the checkpoint, if there is one: whether it did.
fn resume(f: &mut Follower, k: &Keeper, mode: Mode, max_decompressed: u64) -> Result<bool> {
    use crate::error::Error;
    let shown = crate::escape::path(&k.file);
    let bad = |why: String| {
        Error::Usage(format!(
            "--checkpoint {shown}: {why}; move it away to start afresh (every file read again from its start)"
        ))
    };
    let meta = match std::fs::symlink_metadata(&k.file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            say!(
                "aggmetrics serve: no checkpoint at {shown} yet: reading every file from its start"
            );
            return Ok(false);
        }
        Err(e) => return Err(bad(e.to_string()).into()),
    };
    // serve writes a regular file there (and replaces whatever is there
    // when it writes): a link, a FIFO or a device is not its checkpoint.
    if !meta.is_file() {
        return Err(bad("not a regular file (a link is not followed)".into()).into());
    }
    let bytes = std::fs::read(&k.file).map_err(|e| bad(e.to_string()))?;
    let cp = checkpoint::decode(&bytes).map_err(|e| bad(e.to_string()))?;
    if cp.since_us != k.since {
        let show = |t: Option<i64>| {
            t.map_or("no --since".to_string(), |t| {
                format!("--since {}", super::window::show(t))
            })
        };
        return Err(bad(format!(
            "it was written with {}, this run asks for {}: give the same, or another --checkpoint",
            show(cp.since_us),
            show(k.since)
        ))
        .into());
    }
    if cp.kinds != k.kinds {
        let show = |v: &[String]| {
            let names: Vec<&str> = v.iter().filter_map(|k| k.split(' ').next()).collect();
            if names.is_empty() {
                "no kinds file".to_string()
            } else {
                format!("kinds {}", crate::escape::text(&names.join(", ")))
            }
        };
        return Err(bad(format!(
            "it was written with {}, this run has {} (or their files or fields differ): give the same --kinds, or another --checkpoint",
            show(&cp.kinds),
            show(&k.kinds)
        ))
        .into());
    }
    if cp.paths != k.paths {
        return Err(bad(format!(
            "it was written following {}, not {}: give the same paths, or another --checkpoint",
            crate::escape::text(&cp.paths.join(" ")),
            crate::escape::text(&k.paths.join(" "))
        ))
        .into());
    }
    let had = cp.state.read.acc.cfg.mode;
    if had != mode {
        return Err(bad(format!(
            "it was written with precision {}, this run asks for {}",
            crate::state::precision_name(had),
            crate::state::precision_name(mode)
        ))
        .into());
    }
    let got = f
        .restore(cp.state.read, &cp.positions, max_decompressed)
        .map_err(bad)?;
    say!(
        "aggmetrics serve: going on from {shown}: files read on from where they were: {}; copies made meanwhile (copytruncate): {}; compressed meanwhile: {}",
        got.resumed, got.copies, got.compressed
    );
    for p in &got.lost {
        crate::cmd::output::warn(&format!(
            "{p} was followed and is gone: lines written to it after the checkpoint and before it went are not counted"
        ));
    }
    Ok(true)
}

/// Started afresh beside compressed logs (history logrotate compressed
/// before serve ran): they are not read, so their records are in none of
/// serve's figures. Said, with what reads them.
fn warn_compressed(f: &Follower) {
    let names = f.compressed_beside();
    if let Some(first) = names.first() {
        crate::cmd::output::warn(&format!(
            "{} compressed file{} under the paths {} not read ({first}{}): serve follows plain files from their start, so the records in them are in none of its figures; summarize reads them",
            names.len(),
            if names.len() == 1 { "" } else { "s" },
            if names.len() == 1 { "is" } else { "are" },
            if names.len() > 1 { ", ..." } else { "" },
        ));
    }
}

/// Write the checkpoint: the figures and positions taken together under
/// the follower's lock, written outside it.
fn save(follower: &Mutex<Follower>, k: &Keeper) -> Result<()> {
    let bytes = {
        let mut f = follower
            .lock()
            .map_err(|_| anyhow::anyhow!("follower lock"))?;
        let now = crate::cmd::window::now().map_or(0, |t| t.as_microsecond());
        checkpoint::encode(
            &k.paths,
            now,
            k.since,
            &k.kinds,
            &f.result(),
            &f.positions(),
        )
    };
    super::output::replace_file(&k.file, &bytes)
}

/// Minutes of records kept as sub-windows for `/report` (a day:
/// docs/performance.md gives what a minute costs).
pub const MINUTES: usize = 1440;
/// A minute, in microseconds.
const MINUTE_US: i64 = 60_000_000;

/// Connections served at once; more are closed when they come.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send its request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(args: &ServeArgs) -> Result<i32> {
    super::check_percentiles(&args.percentiles)?;
    let thresholds = super::thresholds(&args.regression)?;
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    let mut cfg = Config::new(mode, 4 << 20);
    // Sub-windows for /report: a minute each, the newest MINUTES kept.
    cfg.bucket = Some(crate::agg::Bucket::Minute);
    cfg.max_buckets = MINUTES;
    let since = match &args.since {
        None => None,
        Some(t) => Some(
            super::window::instant(t, super::window::now()?)
                .map_err(|e| crate::error::Error::Usage(format!("--since: {e}")))?,
        ),
    };
    cfg.window = since.map(|s| (s, i64::MAX));
    // A --since after now (a year mistyped) counts nothing yet: said.
    let now_us = super::window::now()?.as_microsecond();
    if let Some(s) = since.filter(|&s| s > now_us) {
        crate::cmd::output::warn(&format!(
            "--since {} is after now ({}): no record written before then is counted, /metrics stays at 0 until it",
            super::window::show(s),
            super::window::show(now_us)
        ));
    }
    // The gates and baseline before the logs: a typo is exit 2 at once.
    let judge = super::risk::Judge::of(&args.stage)?;
    // The risk records' busy minutes: /risk's days covered and longest
    // silence.
    let mut opts = crate::kinds::Options::default();
    opts.risk.activity = true;
    // The kinds files before the logs too. Which kind each file is, is
    // noted as the follower finds it.
    let user = super::loading::user_kinds(&args.kinds)?;
    let kinds: Vec<String> = user
        .iter()
        .map(|k| format!("{} {} {:?}", k.name, k.files, k.spec))
        .collect();
    if !user.is_empty() {
        opts.jsonl = crate::kinds::jsonl::JsonlOptions::User(crate::kinds::jsonl::UserKinds {
            kinds: user,
            file_kind: Vec::new(),
        });
    }
    let mut f = Follower::with_options(args.paths.clone(), cfg, opts);
    // Past the figures' share of --max-memory, the oldest minutes are
    // folded into the whole rather than new keys refused (which would
    // lose them from /metrics).
    f.fold_when_short();
    // A writer's clock ahead of this host's: its records are counted as
    // written, and said.
    f.count_future();
    let keeper = args.checkpoint.as_ref().map(|file| Keeper {
        file: file.clone(),
        paths: absolute(&args.paths),
        since,
        kinds,
        every: Duration::from_secs(args.checkpoint_every),
    });
    let resumed = match &keeper {
        Some(k) => resume(&mut f, k, mode, 256 << 30)?,
        None => false,
    };
    if !resumed {
        warn_compressed(&f);
    }
    // The files as they are now, before the first request.
    f.poll();
    let mut said = Said::default();
    said.memory(&f.room);
    said.future(&f);
    let site = Arc::new(Site {
        follower: Mutex::new(f),
        ps: args.percentiles.clone(),
        judge,
        thresholds,
    });
    if let Some(k) = &keeper {
        // A checkpoint that cannot be written is found now, not at the
        // first stop (exit 5).
        save(&site.follower, k)?;
    }
    let every = Duration::from_millis(args.interval_ms);
    let reader = site.clone();
    let thread = std::thread::Builder::new()
        .name("follow".into())
        .spawn(move || follow(&reader.follower, every, keeper.as_ref(), said))
        .context("starting the follower")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the server")?;
    rt.block_on(async move {
        // SIGTERM (systemd's stop) and SIGINT: the follower reads what is
        // there, writes the checkpoint and ends the process.
        for kind in [
            tokio::signal::unix::SignalKind::terminate(),
            tokio::signal::unix::SignalKind::interrupt(),
        ] {
            let mut sig = tokio::signal::unix::signal(kind).context("catching signals")?;
            let t = thread.thread().clone();
            tokio::spawn(async move {
                sig.recv().await;
                STOP.store(true, Ordering::SeqCst);
                t.unpark();
            });
        }
        serve(args.listen, site).await
    })
}

/// The follower thread: read what the files gained every `every`, write
/// the checkpoint when it is due, and when stopped.
fn follow(reader: &Mutex<Follower>, every: Duration, keeper: Option<&Keeper>, mut said: Said) {
    let mut saved = Instant::now();
    loop {
        std::thread::park_timeout(every);
        let stopping = STOP.load(Ordering::SeqCst);
        match reader.lock() {
            Ok(mut f) => {
                f.poll();
                said.memory(&f.room);
                said.future(&f);
            }
            Err(_) => std::process::exit(crate::exit::INTERNAL),
        }
        if let Some(k) = keeper {
            if stopping || saved.elapsed() >= k.every {
                saved = Instant::now();
                let result = save(reader, k);
                let mut last = CHECKPOINT_ERROR.lock().unwrap_or_else(|e| e.into_inner());
                match result {
                    Ok(()) => *last = None,
                    Err(e) => {
                        let e = format!("{e:#}");
                        if last.as_deref() != Some(&e) {
                            crate::cmd::output::warn(&format!("checkpoint not written: {e}"));
                        }
                        *last = Some(e);
                    }
                }
            }
        }
        if stopping {
            let failed = CHECKPOINT_ERROR.lock().map(|e| e.is_some()).unwrap_or(true);
            std::process::exit(if failed { crate::exit::OUTPUT } else { 0 });
        }
    }
}

/// What was said on standard error about memory, so it is said once.
#[derive(Default)]
struct Said {
    folded: bool,
    refusals: u64,
    future: bool,
}

impl Said {
    /// Say when the first record stamped ahead of when it was read is met.
    fn future(&mut self, f: &Follower) {
        let n = f.future();
        if n > 0 && !self.future {
            self.future = true;
            crate::cmd::output::warn(&format!(
                "{n} record(s) stamped more than {} s after serve read them: is a writer's clock ahead of this host's? They are counted as written (aggmetrics_serve_future_records_total; /risk's meta.future_records)",
                crate::read::follow::AHEAD_US / 1_000_000
            ));
        }
    }

    /// Say when minutes are first folded for memory, and when new keys
    /// are first refused.
    fn memory(&mut self, room: &crate::read::follow::Room) {
        let share = crate::budget::limit().unwrap_or(0) / crate::budget::SOFT_SHARE;
        if room.folded > 0 && !self.folded {
            self.folded = true;
            crate::cmd::output::warn(&format!(
                "the figures filled 1/{} of --max-memory ({} bytes): the oldest minutes are folded into the whole run's figures (exact in /metrics; /report answers only windows after them; aggmetrics_serve_sub_windows_folded_total counts them)",
                crate::budget::SOFT_SHARE,
                share
            ));
        }
        // Once: at the edge of the share refusing may stop and begin again
        // at every read; the counter follows it.
        if room.refusals > 0 && self.refusals == 0 {
            self.refusals = room.refusals;
            crate::cmd::output::warn(&format!(
                "the whole run's figures alone fill 1/{} of --max-memory ({} bytes): new groups and keys are refused, so a figure of one group or key may be short (aggmetrics_memory_held_back counts what was kept out); raise --max-memory",
                crate::budget::SOFT_SHARE,
                share
            ));
        }
    }
}

async fn serve(addr: std::net::SocketAddr, site: Arc<Site>) -> Result<i32> {
    // Where the figures go out: an address taken or not this host's is
    // an output that cannot be written (exit 5).
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| crate::error::Error::Output(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    // The address actually bound (port 0 picks one): tests and scripts
    // read it here.
    say!("aggmetrics serve: listening on http://{local}/metrics");
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            // Out of descriptors and the like: wait, do not spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let site = site.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |rq| {
                let site = site.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&rq, &site)) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

fn answer(rq: &Request<hyper::body::Incoming>, site: &Site) -> Response<Full<Bytes>> {
    let (follower, ps) = (&site.follower, &site.ps[..]);
    let reply = |code: StatusCode, kind: &str, body: Vec<u8>| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = code;
        if let Ok(v) = kind.parse() {
            r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
        }
        r
    };
    if rq.method() != hyper::Method::GET && rq.method() != hyper::Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            b"GET only\n".to_vec(),
        );
    }
    match rq.uri().path() {
        "/metrics" => {
            let (read, mut own) = match follower.lock() {
                Ok(mut f) => (f.result(), own_series(&f)),
                Err(_) => {
                    return reply(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain",
                        b"follower stopped\n".to_vec(),
                    )
                }
            };
            if let Some(judge) = &site.judge {
                own.push_str(&verdict_series(&read, site, judge.stage));
            }
            let mut report = Report::build(&read, ps);
            report.meta.command = "serve";
            let mut body = Vec::new();
            let r = crate::render::renderer_with(
                Format::Prometheus,
                &Settings {
                    run: "serve".into(),
                    cumulative: true,
                    ..Default::default()
                },
            );
            match r.render(&Doc::Summary(&report), &mut body) {
                Ok(()) => reply(
                    StatusCode::OK,
                    "text/plain; version=0.0.4; charset=utf-8",
                    [body, own.into_bytes()].concat(),
                ),
                Err(e) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("{e}\n").into_bytes(),
                ),
            }
        }
        "/report" => report(rq.uri().query().unwrap_or(""), follower, ps, reply),
        "/risk" => risk(rq.uri().query().unwrap_or(""), site, reply),
        "/healthz" => {
            let n = follower.lock().map(|f| f.following()).unwrap_or(0);
            let failing = CHECKPOINT_ERROR
                .lock()
                .map(|e| e.clone())
                .unwrap_or_else(|e| e.into_inner().clone());
            match failing {
                None => reply(
                    StatusCode::OK,
                    "text/plain",
                    format!("ok: following {n} files\n").into_bytes(),
                ),
                Some(e) => reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    format!("checkpoint not written: {e}\n").into_bytes(),
                ),
            }
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not found: GET /metrics, /report, /risk or /healthz\n".to_vec(),
        ),
    }
}

/// serve's own state, after the report's series: what it holds in
/// memory (the heap its allocator counts: figures, kept minutes, read
/// buffers), how many minutes `/report` can answer from, how many files
/// it follows.
fn own_series(f: &Follower) -> String {
    let mut out = String::new();
    for (name, help, v) in [
        (
            "aggmetrics_serve_heap_bytes",
            "Bytes of heap serve holds (figures, kept minutes, buffers), counted by its allocator.",
            crate::budget::live(),
        ),
        (
            "aggmetrics_serve_sub_windows",
            "Minute sub-windows kept in memory for /report.",
            f.buckets_kept() as u64,
        ),
        (
            "aggmetrics_serve_files_followed",
            "Log files serve follows now.",
            f.following() as u64,
        ),
    ] {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}\n"
        ));
    }
    let name = "aggmetrics_serve_future_records_total";
    out.push_str(&format!(
        "# HELP {name} Records stamped more than a second after serve read them: a writer's clock ahead of this host's (counted as written).\n# TYPE {name} counter\n{name} {}\n",
        f.future()
    ));
    let name = "aggmetrics_serve_sub_windows_folded_total";
    out.push_str(&format!(
        "# HELP {name} Minutes folded into the whole run's figures because the figures filled their share of --max-memory (the cap of {MINUTES} minutes not counted): /report cannot answer windows before the oldest minute kept.\n# TYPE {name} counter\n{name} {}\n",
        f.room.folded
    ));
    out
}

/// `a=1&b=x%20y` -> [("a", "1"), ("b", "x y")]; `+` is a space.
fn params(query: &str) -> Vec<(String, String)> {
    let decode = |s: &str| {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("x");
                    match u8::from_str_radix(hex, 16) {
                        Ok(v) => {
                            out.push(v);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// `since`/`until` of /report: any time `--since` reads, or a bare span
/// (`1h`: an hour ago).
fn when(v: &str, now: jiff::Timestamp) -> Result<i64, String> {
    super::window::instant(v, now)
        .or_else(|_| super::window::instant(&format!("{v} ago"), now))
        .map_err(|e| e.to_string())
}

/// `GET /report?since=1h[&until=...][&format=json|html|csv|markdown|table]`:
/// the summarize document of that window, from the minutes kept. The
/// window is widened to whole minutes (since rounded down, until up; the
/// report's `meta.window` says which), as the sub-windows are minutes.
fn report(
    query: &str,
    follower: &Mutex<Follower>,
    ps: &[f64],
    reply: impl Fn(StatusCode, &str, Vec<u8>) -> Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let bad = |msg: String| {
        reply(
            StatusCode::BAD_REQUEST,
            "text/plain",
            format!("{msg}\n").into_bytes(),
        )
    };
    let Ok(now) = super::window::now() else {
        return bad("no clock".into());
    };
    let (mut since, mut until, mut format) = (None, None, Format::Json);
    for (k, v) in params(query) {
        match k.as_str() {
            "since" => match when(&v, now) {
                Ok(t) => since = Some(t),
                Err(e) => return bad(format!("since: {e}")),
            },
            "until" => match when(&v, now) {
                Ok(t) => until = Some(t),
                Err(e) => return bad(format!("until: {e}")),
            },
            "format" => match format_of(&v) {
                Ok(f) => format = f,
                Err(e) => return bad(e),
            },
            _ => {
                return bad(format!(
                    "'{}' is not a parameter of /report: since, until, format",
                    crate::escape::text(&k)
                ))
            }
        }
    }
    let Some(since) = since else {
        return bad("since is needed: /report?since=1h (or a time, as --since takes)".into());
    };
    let until = until.unwrap_or(now.as_microsecond());
    let since = since - since.rem_euclid(MINUTE_US);
    let until = until - until.rem_euclid(MINUTE_US)
        + if until.rem_euclid(MINUTE_US) == 0 {
            0
        } else {
            MINUTE_US
        };
    if since >= until {
        return bad("since must come before until".into());
    }
    let read = match follower.lock() {
        Ok(f) => f.window(since, until),
        Err(_) => {
            return reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                b"follower stopped\n".to_vec(),
            )
        }
    };
    let read = match read {
        Ok(r) => r,
        Err(earliest) => {
            return reply(
                StatusCode::UNPROCESSABLE_ENTITY,
                "text/plain",
                format!(
                    "since {}: sub-windows are kept from {} on (a minute each, the last {} hours, of what this process read: records read before a restart from the checkpoint are in /metrics' totals only). Ask for since={} or later, or run summarize --since over the files\n",
                    super::window::show(since),
                    super::window::show(earliest),
                    MINUTES / 60,
                    super::window::show(earliest)
                )
                .into_bytes(),
            )
        }
    };
    let mut report = Report::build(&read, ps);
    super::summarize::note_unmatched(&mut report);
    report.meta.command = "serve";
    report.meta.finished_us = Some(now.as_microsecond());
    document(Doc::Summary(&report), format, reply)
}

/// `format=` of /report and /risk.
fn format_of(v: &str) -> Result<Format, String> {
    Ok(match v {
        "json" => Format::Json,
        "html" => Format::Html,
        "csv" => Format::Csv,
        "markdown" => Format::Markdown,
        "table" => Format::Table,
        _ => {
            return Err(format!(
                "format: '{}' is not one of json, html, csv, markdown, table",
                crate::escape::text(v)
            ))
        }
    })
}

/// A document drawn in `format`, with its media type.
fn document(
    doc: Doc,
    format: Format,
    reply: impl Fn(StatusCode, &str, Vec<u8>) -> Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let mut body = Vec::new();
    let r = crate::render::renderer_with(
        format,
        &Settings {
            run: "serve".into(),
            ..Default::default()
        },
    );
    let kind = match format {
        Format::Json => "application/json",
        Format::Html => "text/html; charset=utf-8",
        Format::Csv => "text/csv; charset=utf-8",
        Format::Markdown => "text/markdown; charset=utf-8",
        _ => "text/plain; charset=utf-8",
    };
    match r.render(&doc, &mut body) {
        Ok(()) => reply(StatusCode::OK, kind, body),
        Err(e) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            format!("{e}\n").into_bytes(),
        ),
    }
}

/// The `risk` report of everything read (since `--since`), with the
/// verdict of `--stage N` judged as of `now`: what `risk --stage N
/// [--since T] --as-of NOW` gives over the same records.
fn risk_report(
    read: &crate::read::ReadResult,
    site: &Site,
    now: jiff::Timestamp,
) -> Result<RiskReport> {
    // To the millisecond, as the verdict shows its time: `risk --as-of`
    // with the shown time judges the same instant.
    let now = jiff::Timestamp::from_millisecond(now.as_millisecond()).unwrap_or(now);
    let mut report = RiskReport::build(read, false);
    report.meta.future_records = Some(future_records(read, now));
    if let Some(judge) = &site.judge {
        let now_us = now.as_microsecond();
        let span = super::risk::stage_span(read, read.acc.cfg.window, now_us);
        report.verdict = Some(judge.verdict(&report, read, now, false, span, site.thresholds)?);
    }
    report.meta.finished_us = Some(now.as_microsecond());
    Ok(report)
}

/// What serve read stamped ahead of its clock: the records stamped more
/// than a second after they were read ([`Follower::count_future`]), and
/// the newest record when it is still after `now`. (The `risk` command
/// counts against its one `now`; serve's now moves, so each record is
/// judged when it is read.)
fn future_records(
    read: &crate::read::ReadResult,
    now: jiff::Timestamp,
) -> crate::report::FutureRecords {
    let newest = read.acc.newest.filter(|&n| n > now.as_microsecond());
    crate::report::FutureRecords {
        count: read.acc.future,
        newest: newest.map(crate::report::risk::rfc3339),
        ahead_seconds: newest
            .map(|n| crate::report::round_to((n - now.as_microsecond()) as f64 / 1e6, 3)),
    }
}

/// `GET /risk[?format=json|html|csv|markdown|table]`.
fn risk(
    query: &str,
    site: &Site,
    reply: impl Fn(StatusCode, &str, Vec<u8>) -> Response<Full<Bytes>>,
) -> Response<Full<Bytes>> {
    let text =
        |code: StatusCode, msg: String| reply(code, "text/plain", format!("{msg}\n").into_bytes());
    let mut format = Format::Json;
    for (k, v) in params(query) {
        match (k.as_str(), format_of(&v)) {
            ("format", Ok(f)) => format = f,
            ("format", Err(e)) => return text(StatusCode::BAD_REQUEST, e),
            _ => {
                return text(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "'{}' is not a parameter of /risk: format (the window is serve's --since)",
                        crate::escape::text(&k)
                    ),
                )
            }
        }
    }
    let Ok(now) = super::window::now() else {
        return text(StatusCode::INTERNAL_SERVER_ERROR, "no clock".into());
    };
    let read = match site.follower.lock() {
        Ok(mut f) => f.result(),
        Err(_) => return text(StatusCode::INTERNAL_SERVER_ERROR, "follower stopped".into()),
    };
    match risk_report(&read, site, now) {
        Ok(report) => document(Doc::Risk(&report), format, reply),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

/// The verdict of `--stage N` as of now, for /metrics: its exit code (2
/// when the gates cannot be judged: /risk says why) and the dates the
/// risk records cover.
fn verdict_series(read: &crate::read::ReadResult, site: &Site, stage: u8) -> String {
    let (code, dates) = match super::window::now()
        .map_err(anyhow::Error::from)
        .and_then(|now| risk_report(read, site, now))
    {
        Ok(r) => (
            r.verdict
                .as_ref()
                .map_or(crate::exit::USAGE, |v| v.exit_code),
            Some(r.days_covered),
        ),
        Err(_) => (crate::exit::USAGE, None),
    };
    let mut out = format!(
        "# HELP aggmetrics_risk_verdict_exit_code Rollout verdict of stage {stage}'s gates now: 0 go, 1 rollback, 3 hold, 2 not judged (GET /risk says why).\n# TYPE aggmetrics_risk_verdict_exit_code gauge\naggmetrics_risk_verdict_exit_code{{command=\"serve\",run=\"serve\",stage=\"{stage}\"}} {code}\n"
    );
    if let Some(d) = dates {
        out.push_str(&format!(
            "# HELP aggmetrics_risk_dates_covered UTC calendar dates holding risk records.\n# TYPE aggmetrics_risk_dates_covered gauge\naggmetrics_risk_dates_covered{{command=\"serve\",run=\"serve\"}} {d}\n"
        ));
    }
    out
}
