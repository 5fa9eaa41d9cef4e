//! Every input the fuzzers found (and a few seeds), replayed against the
//! fuzz targets' own checks (aggmetrics::fuzzing). A new finding: copy the
//! file from fuzz/artifacts/TARGET/ into tests/fuzz-regressions/TARGET/.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-regressions")
        .join(target);
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for p in files {
        let data = std::fs::read(&p).unwrap();
        let r = std::panic::catch_unwind(|| check(&data));
        assert!(r.is_ok(), "{} fails again", p.display());
        n += 1;
    }
    n
}

#[test]
fn line_parser_findings_stay_fixed() {
    assert!(replay("lines", aggmetrics::fuzzing::lines) > 0);
}

#[test]
fn state_decoder_findings_stay_fixed() {
    assert!(replay("state", aggmetrics::fuzzing::state) > 0);
}

#[test]
fn merge_findings_stay_fixed() {
    assert!(replay("merge", aggmetrics::fuzzing::merge) > 0);
}
