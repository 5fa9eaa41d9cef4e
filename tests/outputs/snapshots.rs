//! Snapshot tests per output format (as hyperfine does for its exports):
//! the exact bytes users and scripts see, on fixed fixtures. A deliberate
//! change to the output updates the snapshot (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test`); an accidental one fails here.

use crate::common;
use common::*;

/// `summarize ARGS -q` from the repository's folder: logs named by a
/// relative path (`sample-logs/`) print the same wherever the repository
/// is (an absolute path changed where the table wraps its lines).
fn run(args: &[&str]) -> String {
    let out = bin()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("summarize")
        .args(args)
        .arg("-q")
        .output()
        .unwrap();
    assert!(out.status.success());
    // Paths differ between machines: show them relative to the repo.
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(env!("CARGO_MANIFEST_DIR"), "<repo>")
}

#[test]
fn table_on_sample_logs() {
    insta::assert_snapshot!(run(&["sample-logs/"]));
}

#[test]
fn json_on_sample_logs() {
    insta::assert_snapshot!(run(&["sample-logs/", "--format", "json"]));
}

#[test]
fn table_on_documented_example_exact() {
    insta::assert_snapshot!(run(&[
        "tests/fixtures/documented",
        "--exact",
        "--percentiles",
        "50,95,99,99.9"
    ]));
}
