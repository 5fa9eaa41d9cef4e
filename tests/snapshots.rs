//! Snapshot tests per output format (as hyperfine does for its exports):
//! the exact bytes users and scripts see, on fixed fixtures. A deliberate
//! change to the output updates the snapshot (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test`); an accidental one fails here.

mod common;
use common::*;

fn run(args: &[&str]) -> String {
    let out = bin()
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
    insta::assert_snapshot!(run(&[sample_logs().to_str().unwrap()]));
}

#[test]
fn json_on_sample_logs() {
    insta::assert_snapshot!(run(&[sample_logs().to_str().unwrap(), "--format", "json"]));
}

#[test]
fn table_on_documented_example_exact() {
    insta::assert_snapshot!(run(&[
        fixture("documented").to_str().unwrap(),
        "--exact",
        "--percentiles",
        "50,95,99,99.9"
    ]));
}
