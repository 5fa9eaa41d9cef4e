//! Accumulators are mergeable: any split of the input into blocks, each
//! fed to its own accumulator and merged in any order, gives exactly the
//! report of one pass. (What makes 1 and N threads byte-identical.)

use aggmetrics::agg::{Acc, Config, Mode};
use aggmetrics::parse::LogKind;
use aggmetrics::read::{InputInfo, ReadResult};
use aggmetrics::report::Report;
use proptest::prelude::*;

fn log(kind: LogKind) -> Vec<u8> {
    let name = match kind {
        LogKind::Latency => "pipeline_latency.jsonl",
        LogKind::Fallback => "fallback_metrics.jsonl",
        LogKind::Risk => "partial_trust_risk.jsonl",
    };
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
        })
        .collect();
    let lines = vec![0; acc.skipped.examples.len()];
    let r = ReadResult {
        acc,
        inputs,
        example_lines: lines,
    };
    serde_json::to_string(&Report::build(&r, &[50.0, 95.0, 99.0, 99.9])).unwrap()
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
    ) {
        let cfg = Config { mode: if exact { Mode::Exact } else { Mode::Hdr { sigfig: 3 } }, max_line_bytes: 1 << 20 };
        let kinds = [LogKind::Latency, LogKind::Fallback, LogKind::Risk];
        let data: Vec<Vec<u8>> = kinds.iter().map(|k| log(*k)).collect();
        let lens: Vec<usize> = data.iter().map(|d| d.len()).collect();

        let mut one = Acc::new(cfg, 3);
        for (i, (k, d)) in kinds.iter().zip(&data).enumerate() {
            one.feed_block(*k, i as u32, 0, d);
        }
        one.finish();

        let mut parts = Vec::new();
        for (i, (k, d)) in kinds.iter().zip(&data).enumerate() {
            let cuts = line_cuts(d, &picks);
            for w in cuts.windows(2) {
                let mut a = Acc::new(cfg, 3);
                a.feed_block(*k, i as u32, w[0] as u64, &d[w[0]..w[1]]);
                parts.push(a);
            }
        }
        // Merge in a shuffled order.
        let n = parts.len();
        let mut merged = Acc::new(cfg, 3);
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
        prop_assert_eq!(report(one, &kinds, &lens), report(merged, &kinds, &lens));
    }
}
