//! Accumulators are mergeable: any split of the input into blocks, each
//! fed to its own accumulator and merged in any order, gives exactly the
//! report of one pass. (What makes 1 and N threads byte-identical.)

use aggmetrics::agg::{Acc, Bucket, Config, Mode};
use aggmetrics::kinds::LogKind;
use aggmetrics::read::{InputInfo, ReadResult};
use aggmetrics::report::risk::RiskReport;
use aggmetrics::report::Report;
use proptest::prelude::*;

fn log(kind: LogKind) -> Vec<u8> {
    let stem = LogKind::ALL.iter().find(|(k, _)| *k == kind).unwrap().1;
    let name = format!("{stem}.jsonl");
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs")
            .join(name),
    )
    .unwrap()
}

fn report(acc: Acc, kinds: &[LogKind], lens: &[usize]) -> String {
    let inputs = kinds
        .iter()
        .zip(lens)
        .enumerate()
        .map(|(i, (k, n))| InputInfo {
            path: format!("input{i}"),
            kind: *k,
            read_as: "test",
            bytes: *n as u64,
            lines: acc.files[i].lines,
            records: acc.files[i].records,
            skipped: acc.files[i].skipped,
            unfinished_line_bytes: acc.files[i].unfinished,
            error: None,
        })
        .collect();
    let lines = vec![0; acc.total.skipped.examples.len()];
    let r = ReadResult::new(acc, inputs, lines);
    let summary = serde_json::to_string(&Report::build(&r, &[50.0, 95.0, 99.0, 99.9])).unwrap();
    // With buckets: the per-day risk figures too.
    let risk = serde_json::to_string(&RiskReport::build(&r, true)).unwrap();
    format!("{summary}\n{risk}")
}

/// Cut points that fall just after newlines, as the reader's chunks do.
fn line_cuts(data: &[u8], picks: &[usize]) -> Vec<usize> {
    let nl: Vec<usize> = data
        .iter()
        .enumerate()
        .filter(|(_, &c)| c == b'\n')
        .map(|(i, _)| i + 1)
        .collect();
    let mut cuts: Vec<usize> = picks.iter().map(|p| nl[p % nl.len()]).collect();
    cuts.push(0);
    cuts.push(data.len());
    cuts.sort();
    cuts.dedup();
    cuts
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn any_split_merges_to_one_pass(
        picks in prop::collection::vec(any::<usize>(), 0..12),
        order in any::<u64>(),
        exact in any::<bool>(),
        by in 0..3u8,
    ) {
        let mut cfg = Config::new(if exact { Mode::Exact } else { Mode::Hdr { sigfig: 3 } }, 1 << 20);
        cfg.bucket = [None, Some(Bucket::Hour), Some(Bucket::Day)][by as usize];
        let mut opts = aggmetrics::kinds::Options::default();
        opts.risk.activity = true;
        let opts = std::sync::Arc::new(opts);
        let kinds = [LogKind::Latency, LogKind::Fallback, LogKind::Risk];
        let data: Vec<Vec<u8>> = kinds.iter().map(|k| log(*k)).collect();
        let lens: Vec<usize> = data.iter().map(|d| d.len()).collect();

        let mut one = Acc::with_options(cfg, opts.clone(), 3);
        for (i, (k, d)) in kinds.iter().zip(&data).enumerate() {
            aggmetrics::read::lines::feed(&mut one, *k, i as u32, 0, d);
        }
        one.finish();

        let mut parts = Vec::new();
        for (i, (k, d)) in kinds.iter().zip(&data).enumerate() {
            let cuts = line_cuts(d, &picks);
            for w in cuts.windows(2) {
                let mut a = Acc::with_options(cfg, opts.clone(), 3);
                aggmetrics::read::lines::feed(&mut a, *k, i as u32, w[0] as u64, &d[w[0]..w[1]]);
                parts.push(a);
            }
        }
        // Merge in a shuffled order.
        let n = parts.len();
        let mut merged = Acc::with_options(cfg, opts.clone(), 3);
        let step = (order as usize % n.max(1)) | 1;
        let mut seen = vec![false; n];
        let mut j = (order >> 32) as usize % n.max(1);
        for _ in 0..n {
            while seen[j] { j = (j + 1) % n; }
            seen[j] = true;
            merged.merge(&parts[j]);
            j = (j + step) % n;
        }
        merged.finish();
        let whole = report(one, &kinds, &lens);
        prop_assert_eq!(&whole, &report(merged, &kinds, &lens));

        // Buckets change nothing in the run's totals.
        if by > 0 {
            let mut flat = Acc::new(Config { bucket: None, ..cfg }, 3);
            for (i, (k, d)) in kinds.iter().zip(&data).enumerate() {
                aggmetrics::read::lines::feed(&mut flat, *k, i as u32, 0, d);
            }
            flat.finish();
            let flat = report(flat, &kinds, &lens);
            let summary = |s: &str| s.lines().next().unwrap().to_string();
            prop_assert_eq!(summary(&whole), summary(&flat));
        }
    }
}
