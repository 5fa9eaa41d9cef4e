//! `aggmetrics serve`: follow the logs ([`crate::read::follow`]) and
//! serve their figures over HTTP/1 (hyper on a current-thread tokio
//! runtime; docs/performance.md says why these crates).
//!
//! - `GET /metrics`: the Prometheus exposition of everything read since
//!   the process started, built as `summarize -f prometheus` builds it.
//! - `GET /healthz`: `ok`, and how many files are followed.
//!
//! Reading never waits on a client: the follower runs on a thread of its
//! own and holds its lock only to read a batch, a request only to build
//! its report. At most [`MAX_CONNECTIONS`] connections are served at once
//! (more are closed at once), and a client has [`HEADER_TIMEOUT`] to send
//! its request's headers.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};

use crate::agg::{Config, Mode};
use crate::cli::ServeArgs;
use crate::read::follow::Follower;
use crate::render::{Doc, Format, Settings};
use crate::report::Report;

/// Connections served at once; more are closed when they come.
pub const MAX_CONNECTIONS: usize = 64;
/// Time a client has to send its request's headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(args: &ServeArgs) -> Result<i32> {
    super::check_percentiles(&args.summary.percentiles)?;
    let mode = Mode::of(args.precision.exact, args.precision.sigfig);
    let cfg = Config::new(mode, 4 << 20);
    let follower = Arc::new(Mutex::new(Follower::new(args.paths.clone(), cfg)));
    {
        // The files as they are now, before the first request.
        let mut f = follower
            .lock()
            .map_err(|_| anyhow::anyhow!("follower lock"))?;
        f.poll();
    }
    let every = Duration::from_millis(args.interval_ms);
    let reader = follower.clone();
    std::thread::Builder::new()
        .name("follow".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            match reader.lock() {
                Ok(mut f) => {
                    f.poll();
                }
                Err(_) => return,
            }
        })
        .context("starting the follower")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the server")?;
    let ps = args.summary.percentiles.clone();
    rt.block_on(serve(args.listen, follower, ps))
}

async fn serve(
    addr: std::net::SocketAddr,
    follower: Arc<Mutex<Follower>>,
    ps: Vec<f64>,
) -> Result<i32> {
    // Where the figures go out: an address taken or not this host's is
    // an output that cannot be written (exit 5).
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| crate::error::Error::Output(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr()?;
    // The address actually bound (port 0 picks one): tests and scripts
    // read it here.
    eprintln!("aggmetrics serve: listening on http://{local}/metrics");
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
        let follower = follower.clone();
        let ps = ps.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |rq| {
                let f = follower.clone();
                let ps = ps.clone();
                async move { Ok::<_, std::convert::Infallible>(answer(&rq, &f, &ps)) }
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

fn answer(
    rq: &Request<hyper::body::Incoming>,
    follower: &Mutex<Follower>,
    ps: &[f64],
) -> Response<Full<Bytes>> {
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
            let read = match follower.lock() {
                Ok(f) => f.result(),
                Err(_) => {
                    return reply(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "text/plain",
                        b"follower stopped\n".to_vec(),
                    )
                }
            };
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
                    body,
                ),
                Err(e) => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("{e}\n").into_bytes(),
                ),
            }
        }
        "/healthz" => {
            let n = follower.lock().map(|f| f.following()).unwrap_or(0);
            reply(
                StatusCode::OK,
                "text/plain",
                format!("ok: following {n} files\n").into_bytes(),
            )
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not found: GET /metrics or /healthz\n".to_vec(),
        ),
    }
}
