//! Keys with dots in their names, as Zeek (`id.resp_p`) and Elastic
//! Common Schema loggers (`log.level`) write them: named in quotes
//! (`'"id.resp_p"'`), and a path that matches nothing in any record is
//! said, with the key it probably meant, and fails --strict. Expected
//! counts are from Python's json over the same files.

use crate::common;

use common::*;

#[test]
fn zeek_keys_with_dots_are_named_in_quotes() {
    let log = fixture("realworld/zeek_ssh.json");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--by",
            "\"id.resp_p\"",
            "--value",
            "\"id.orig_p\"",
            "--count",
            "auth_success",
            "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Python: all 22 to port 22; auth_success true 5, false 2, absent 15.
    let g = &v["groups"][0];
    assert_eq!(g["key"]["\"id.resp_p\""], 22);
    assert_eq!(g["records"], 22);
    assert_eq!(g["counts"]["auth_success"]["true"], 5);
    assert_eq!(g["counts"]["auth_success"]["false"], 2);
    assert_eq!(v["total"]["values"]["\"id.orig_p\""]["count"], 22);
    assert!(v["meta"].get("unmatched_paths").is_none());
}

#[test]
fn a_path_written_without_quotes_matches_nothing_and_says_how_to_write_it() {
    let log = fixture("realworld/zeek_ssh.json");
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--by",
            "id.resp_p",
            "-q",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    // Said even with -q; the report names the path.
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--by id.resp_p matched nothing in any record")
            && err.contains(r#"--by '"id.resp_p"'"#),
        "{err}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["meta"]["unmatched_paths"],
        serde_json::json!(["--by id.resp_p"])
    );
    assert_eq!(out.status.code(), Some(0));
    // --strict: exit 1.
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--by",
            "id.resp_p",
            "--strict",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_typo_names_the_nearest_key() {
    let log = fixture("realworld/zeek_ssh.json");
    let out = bin()
        .args([
            "stats",
            log.to_str().unwrap(),
            "--count",
            "auth_sucess",
            "-q",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--count auth_sucess matched nothing")
            && err.contains("nearest keys at the top of the records: auth_success"),
        "{err}"
    );
}

#[test]
fn ecs_log_level_beside_a_log_object() {
    // `"log.level":"debug"` at the top, and `"log":{"logger":...}`: the
    // quoted key is the top-level one, `log.logger` the nested one.
    let log = fixture("realworld/ecs_python.json");
    let (v, out) = run_json(
        "stats",
        &[
            log.to_str().unwrap(),
            "--count",
            "\"log.level\"",
            "--count",
            "log.logger",
            "--strict",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let levels = &v["total"]["counts"]["\"log.level\""];
    for l in ["debug", "info", "warning", "error", "critical"] {
        assert_eq!(levels[l], 1, "{l}");
    }
    assert_eq!(v["total"]["counts"]["log.logger"]["app"], 5);
}

#[test]
fn quoting_mistakes_are_usage_errors() {
    for (path, says) in [
        ("\"id.resp_p", "no closing"),
        ("a[x]", "takes an array index or `*`"),
        ("a.\"\".b", "a path is key names"),
    ] {
        let out = bin()
            .args(["stats", "-", "--by", path])
            .write_stdin("{}\n")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{path}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{path}"
        );
    }
}

#[test]
fn a_kinds_file_names_dotted_keys_in_quotes_and_says_when_it_did_not() {
    let d = disk_dir();
    let logs = d.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::copy(fixture("realworld/zeek_ssh.json"), logs.join("ssh.jsonl")).unwrap();
    let kinds = |by: &str| {
        let p = d.path().join("kinds.toml");
        std::fs::write(
            &p,
            format!("[[kind]]\nname = \"zeek_ssh\"\nfiles = \"ssh*.jsonl\"\ntime = \"ts\"\nby = [{by}]\n"),
        )
        .unwrap();
        p
    };
    // Unquoted: null for every record, said, --strict exits 1.
    let k = kinds("\"id.resp_p\"");
    let (v, out) = summarize_json(&[
        logs.to_str().unwrap(),
        "--kinds",
        k.to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        v["meta"]["unmatched_paths"],
        serde_json::json!(["zeek_ssh: by id.resp_p"])
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(r#"by = ['"id.resp_p"']"#), "{err}");
    // As the warning says (TOML's literal string keeps the quotes).
    let k = kinds("'\"id.resp_p\"'");
    let (v, out) = summarize_json(&[
        logs.to_str().unwrap(),
        "--kinds",
        k.to_str().unwrap(),
        "--strict",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(v["zeek_ssh"]["groups"][0]["key"]["\"id.resp_p\""], 22);
}
