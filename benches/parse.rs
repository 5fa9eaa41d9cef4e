//! Criterion benches of the hot path: one log line -> record, and one
//! block of lines -> accumulator. Lines come from the sample logs.
//!
//!     cargo bench --bench parse

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use aggmetrics::agg::{Acc, Config, Mode};
use aggmetrics::kinds::{fallback, latency, risk, LogKind};
use aggmetrics::parse::json;

fn lines(file: &str) -> Vec<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs")
        .join(file);
    std::fs::read(path)
        .expect("sample logs")
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty() && json::validate(l).is_ok())
        .map(|l| l.to_vec())
        .collect()
}

fn parsers(c: &mut Criterion) {
    let lat = lines("pipeline_latency.jsonl");
    let fb = lines("fallback_metrics.jsonl");
    let rk = lines("partial_trust_risk.jsonl");
    let bytes = |v: &[Vec<u8>]| v.iter().map(|l| l.len() as u64 + 1).sum::<u64>();

    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes(&lat)));
    g.bench_function("validate/latency", |b| {
        b.iter(|| lat.iter().filter(|l| json::validate(l).is_ok()).count())
    });
    g.bench_function("latency", |b| {
        let mut st = latency::Steps::default();
        b.iter(|| {
            lat.iter()
                .filter(|l| latency::parse(l, &mut st).is_ok())
                .count()
        })
    });
    g.throughput(Throughput::Bytes(bytes(&fb)));
    g.bench_function("fallback", |b| {
        let mut co = fallback::Components::default();
        b.iter(|| {
            fb.iter()
                .filter(|l| fallback::parse(l, &mut co).is_ok())
                .count()
        })
    });
    g.throughput(Throughput::Bytes(bytes(&rk)));
    g.bench_function("risk", |b| {
        let mut tpl = aggmetrics::parse::Template::default();
        b.iter(|| {
            rk.iter()
                .filter(|l| risk::parse(l, &mut tpl).is_ok())
                .count()
        })
    });
    g.finish();

    let mut block = Vec::new();
    for l in &lat {
        block.extend_from_slice(l);
        block.push(b'\n');
    }
    let mut g = c.benchmark_group("aggregate");
    g.throughput(Throughput::Bytes(block.len() as u64));
    for (name, mode) in [("hdr", Mode::Hdr { sigfig: 3 }), ("exact", Mode::Exact)] {
        let cfg = Config::new(mode, 4 << 20);
        g.bench_function(format!("latency/{name}"), |b| {
            b.iter_batched(
                || Acc::new(cfg, 1),
                |mut acc| aggmetrics::read::lines::feed(&mut acc, LogKind::Latency, 0, 0, &block),
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, parsers);
criterion_main!(benches);
