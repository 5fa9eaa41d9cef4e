//! Deterministic generator of a generic nested JSONL log (a web service's
//! access log), for `aggmetrics stats` benchmarks:
//!
//!     cargo run --release --example gen_access -- OUT.jsonl --records N [--seed S]
//!
//! Each line (about 300 bytes) holds a timestamp, method, route, status,
//! nested timings (`timing.total_ms`, `timing.db_ms`, `timing.render_ms`),
//! the model that answered, a user agent, request headers (an object) and
//! a free-text query with non-ASCII characters. The same arguments always
//! give the same bytes.

use std::fmt::Write as _;
use std::io::{BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
    /// Log-normal-ish latency around `median` ms.
    fn lat(&mut self, median: f64) -> f64 {
        let u = (self.unit() + self.unit() + self.unit()) / 3.0;
        (median * (2.5 * (u - 0.5)).exp() * 1000.0).round() / 1000.0
    }
}

const ROUTES: &[&str] = &[
    "/api/chat",
    "/api/chat",
    "/api/chat",
    "/api/search",
    "/api/search",
    "/api/upload",
    "/health",
    "/metrics",
];
const QUERIES: &[&str] = &[
    "купи молоко и хлеб",
    "remind me to call mom at 6",
    "añade café a la lista",
    "what's the weather tomorrow",
    "play something calm 🎵",
];

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut records: u64 = 1000;
    let mut seed: u64 = 1;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--records" => {
                records = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--records N")
            }
            "--seed" => seed = args.next().and_then(|v| v.parse().ok()).expect("--seed S"),
            _ => out = Some(a),
        }
    }
    let out = out.expect("usage: gen_access OUT.jsonl --records N [--seed S]");
    let f = std::fs::File::create(&out).expect("create the output");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut line = String::with_capacity(512);
    // 2026-02-10T00:00:00Z, then a record every ~40 ms.
    let mut t: i64 = 1_770_681_600_000_000;
    for i in 0..records {
        t += 1 + r.below(80_000) as i64;
        let secs = t.div_euclid(1_000_000);
        let us = t.rem_euclid(1_000_000);
        let route = ROUTES[r.below(ROUTES.len() as u64) as usize];
        let status = [200, 200, 200, 200, 200, 200, 201, 404, 429, 500][r.below(10) as usize];
        let base = match route {
            "/health" | "/metrics" => 2.0,
            "/api/upload" => 180.0,
            _ => 60.0,
        };
        let total = r.lat(base);
        line.clear();
        let _ = write!(
            line,
            "{{\"timestamp\": \"2026-02-{:02}T{:02}:{:02}:{:02}.{:06}Z\", \"request_id\": \"req-{:016x}\", \"method\": \"{}\", \"route\": \"{}\", \"status\": {}, \"timing\": {{\"total_ms\": {}, \"db_ms\": {}, \"render_ms\": {}}}, \"model\": {}, \"user_agent\": \"{}\", \"headers\": {{\"accept\": \"application/json\", \"x-client\": \"app/{}.{}\"}}, \"bytes\": {}, \"query\": \"{} #{}\"}}",
            10 + secs / 86_400 % 18,
            secs / 3600 % 24,
            secs / 60 % 60,
            secs % 60,
            us,
            r.next() << 20 | i,
            if route == "/api/upload" { "PUT" } else { "GET" },
            route,
            status,
            total,
            (total * r.unit() * 0.6 * 1000.0).round() / 1000.0,
            (total * r.unit() * 0.1 * 1000.0).round() / 1000.0,
            if route == "/api/chat" {
                ["\"m1\"", "\"m2\"", "\"m3\""][r.below(3) as usize]
            } else {
                "null"
            },
            ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "okhttp/4.12"][r.below(3) as usize],
            1 + r.below(3),
            r.below(10),
            200 + r.below(40_000),
            QUERIES[r.below(QUERIES.len() as u64) as usize],
            i
        );
        line.push('\n');
        w.write_all(line.as_bytes()).expect("write");
    }
    w.flush().expect("flush");
}
