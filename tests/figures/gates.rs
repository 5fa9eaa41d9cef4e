//! `aggmetrics risk --stage N`: each verdict with its exit code and reasons.

use crate::common;

use common::*;
use serde_json::Value;

/// A stage's worth of records: `days` days, `per_day` records a day
/// spread evenly, every `sample_every`-th sampled; `error_every`-th
/// sampled record an error; `mismatch_every`-th an intent mismatch.
struct Plan {
    days: u64,
    per_day: u64,
    sample_every: u64,
    error_every: u64,
    mismatch_every: u64,
    accept_every: u64,
    latency: f64,
    rate: f64,
}

impl Default for Plan {
    fn default() -> Self {
        Plan {
            days: 3,
            per_day: 400,
            sample_every: 5,
            error_every: 0,
            mismatch_every: 0,
            accept_every: 1,
            latency: 200.0,
            rate: 0.01,
        }
    }
}

impl Plan {
    fn text(&self) -> String {
        let mut out = String::new();
        let step = 86_400 / self.per_day;
        let mut k = 0u64;
        for i in 0..self.days * self.per_day {
            let sampled = i % self.sample_every == 0;
            let status = if !sampled {
                "not_sampled"
            } else {
                k += 1;
                if self.error_every > 0 && k.is_multiple_of(self.error_every) {
                    "error"
                } else if k.is_multiple_of(self.accept_every) {
                    "accepted_llm"
                } else {
                    "fallback_deterministic"
                }
            };
            out.push_str(
                &Risk {
                    secs: i * step,
                    status,
                    sampled,
                    latency_ms: sampled.then_some(self.latency),
                    intent_mismatch: sampled
                        && self.mismatch_every > 0
                        && k.is_multiple_of(self.mismatch_every),
                    sample_rate: self.rate,
                }
                .line(),
            );
        }
        out
    }

    /// The end of the last day: the silence alarm's "now", exactly
    /// `days` days after the first record.
    fn end(&self) -> String {
        ts(self.days * 86_400).replace("+00:00", "Z")
    }
}

fn judge(plan: &Plan, extra: &[&str]) -> (Value, i32, tempfile::TempDir) {
    let d = risk_dir(&plan.text());
    let dir = d.path().to_str().unwrap().to_string();
    let end = plan.end();
    let mut args = vec![dir.as_str(), "-q", "--as-of", end.as_str()];
    args.extend_from_slice(extra);
    let (v, code, _) = risk_json(&args);
    (v, code, d)
}

fn summary(v: &Value) -> String {
    v["verdict"]["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn go_when_every_stage_1_criterion_is_met() {
    let (v, code, _) = judge(&Plan::default(), &["--stage", "1"]);
    assert_eq!(v["verdict"]["decision"], "go", "{}", summary(&v));
    assert_eq!(code, 0);
    assert_eq!(v["days_covered"], 3);
    assert_eq!(v["sampled_records"], 240);
}

#[test]
fn rollback_names_the_metric_value_and_threshold() {
    // Every 3rd of 240 sampled records an error: 80 of 1,200 records,
    // 0.0667: above the 0.05 alarm, below stage 1's 0.10 roll-back rule.
    let plan = Plan {
        error_every: 3,
        ..Plan::default()
    };
    let (v, code, _) = judge(&plan, &["--stage", "1"]);
    assert_eq!(code, 1);
    assert_eq!(v["verdict"]["decision"], "rollback");
    let s = summary(&v);
    assert!(s.contains("error_rate = 0.0667"), "{s}");
    assert!(s.contains("error_rate > 0.05"), "{s}");
    let breached: Vec<&Value> = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "breached")
        .collect();
    assert_eq!(breached.len(), 1, "only the 0.05 alarm: {s}");
    assert_eq!(breached[0]["kind"], "alarm");
    assert_eq!(breached[0]["bound"], 0.05);
}

#[test]
fn rollback_on_the_stage_roll_back_rule() {
    // Every 2nd of 300 sampled records an error: 150 of 1,200, 0.125:
    // above both the alarm and stage 1's roll-back rule.
    let plan = Plan {
        error_every: 2,
        sample_every: 4,
        ..Plan::default()
    };
    let (v, code, _) = judge(&plan, &["--stage", "1"]);
    assert_eq!(code, 1);
    let kinds: Vec<&str> = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "breached")
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rollback", "alarm"], "{}", summary(&v));
}

#[test]
fn hold_for_too_few_samples() {
    let plan = Plan {
        sample_every: 40, // 30 sampled over 3 days
        ..Plan::default()
    };
    let (v, code, _) = judge(&plan, &["--stage", "1"]);
    assert_eq!(code, 3);
    assert_eq!(v["verdict"]["decision"], "hold");
    let s = summary(&v);
    assert!(s.contains("only 30 sampled records; 20 more needed"), "{s}");
}

#[test]
fn hold_for_too_few_days() {
    let plan = Plan {
        days: 2,
        ..Plan::default()
    };
    let (v, code, _) = judge(&plan, &["--stage", "1"]);
    assert_eq!(code, 3);
    let s = summary(&v);
    assert!(s.contains("only 2 days 0 h 0 min elapsed"), "{s}");
    assert!(
        s.contains("over 2 UTC date(s); stage 1 needs 3 days"),
        "{s}"
    );
}

/// Records from `from` to `to` seconds (after 2026-02-10T00:00:00Z), one
/// every `step` seconds, every one sampled and accepted at `rate`.
fn span_lines(from: u64, to: u64, step: u64, rate: f64) -> String {
    (from..=to)
        .step_by(step as usize)
        .map(|secs| {
            Risk {
                secs,
                status: "accepted_llm",
                sampled: true,
                latency_ms: Some(100.0),
                intent_mismatch: false,
                sample_rate: rate,
            }
            .line()
        })
        .collect()
}

#[test]
fn the_minimum_duration_is_time_elapsed_not_dates_touched() {
    // From 2026-02-10T23:50 to 2026-02-13T00:00: 2 days and 10 minutes
    // of records over 4 UTC dates. Stage 1 needs 3 days: hold, saying
    // both figures; a day later (still 4 dates, no new record but the
    // silence is fine within the hour before), go.
    let from = 86_400 - 600;
    let to = 3 * 86_400;
    let d = risk_dir(&span_lines(from, to, 300, 0.01));
    let dir = d.path().to_str().unwrap();
    let as_of = ts(to + 60).replace("+00:00", "Z");
    let (v, code, err) = risk_json(&[dir, "-q", "--stage", "1", "--as-of", &as_of]);
    assert_eq!(code, 3, "{err} {}", summary(&v));
    assert_eq!(v["days_covered"], 4);
    let c = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "elapsed_days")
        .unwrap()
        .clone();
    assert_eq!(c["status"], "not_met", "{c}");
    let want = (to + 60 - from) as f64 / 86_400.0;
    assert!((c["value"].as_f64().unwrap() - want).abs() < 1e-4, "{c}");
    let s = summary(&v);
    assert!(s.contains("only 2 days 0 h 11 min elapsed from the first record (2026-02-10T23:50:00Z) to 2026-02-13T00:01:00Z (the verdict time), over 4 UTC date(s); stage 1 needs 3 days"), "{s}");

    // Records to 2026-02-13T23:50: 3 days elapsed, go.
    let to = 4 * 86_400 - 600;
    let d = risk_dir(&span_lines(from, to, 300, 0.01));
    let dir = d.path().to_str().unwrap();
    let as_of = ts(to).replace("+00:00", "Z");
    let (v, code, _) = risk_json(&[dir, "-q", "--stage", "1", "--as-of", &as_of]);
    assert_eq!(code, 0, "{}", summary(&v));

    // --until ends the span before the verdict time: the stage is measured
    // to its end, not to now.
    let until = ts(2 * 86_400).replace("+00:00", "Z");
    let (v, code, _) = risk_json(&[
        dir, "-q", "--stage", "1", "--as-of", &as_of, "--until", &until,
    ]);
    assert_eq!(
        code,
        1,
        "the silence since --until's end fires: {}",
        summary(&v)
    );
    let c = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "elapsed_days")
        .unwrap()
        .clone();
    assert!(c["reason"].as_str().unwrap().contains("(--until)"), "{c}");
    assert_eq!(c["status"], "not_met", "{c}");
}

#[test]
fn the_default_now_never_fails_on_a_record_from_the_future() {
    // A day of records to 2026-02-11T00:00, then one record stamped 5
    // minutes after the run's now by a host whose clock is ahead.
    let mut text = span_lines(0, 86_400, 300, 0.01);
    text.push_str(&span_lines(86_400 + 600, 86_400 + 600, 1, 0.01));
    let d = risk_dir(&text);
    let dir = d.path().to_str().unwrap();
    let run = |extra: &[&str]| {
        let out = bin()
            .args(["risk", dir, "-q", "-f", "json", "--stage", "1"])
            .args(extra)
            .env("AGGMETRICS_NOW", "2026-02-11T00:05:00Z")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            v,
            out.status.code().unwrap(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Not a usage error: a verdict (hold: one day of three), with the
    // record counted as written and reported.
    let (v, code, err) = run(&[]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(v["total_records"], 290);
    let f = &v["meta"]["future_records"];
    assert_eq!(f["count"], 1, "{f}");
    assert_eq!(f["ahead_seconds"], 300.0, "{f}");
    assert_eq!(f["newest"], "2026-02-11T00:10:00Z", "{f}");
    // Warned about, even with -q.
    assert!(
        err.contains(
            "1 record(s) stamped after now (2026-02-11T00:05:00Z), the newest 5.0 minutes ahead"
        ),
        "{err}"
    );
    // --strict makes it a failure.
    let (_, code, _) = run(&["--strict"]);
    assert_eq!(code, 1);
    // An explicit --as-of before the data is still a usage error.
    let (_, code, err) = run(&["--as-of", "2026-02-11T00:05:00Z"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("before the newest record read"), "{err}");
    // Nothing ahead: the count is 0 and nothing is said.
    let d = risk_dir(&span_lines(0, 86_400, 300, 0.01));
    let out = bin()
        .args([
            "risk",
            d.path().to_str().unwrap(),
            "-f",
            "json",
            "--stage",
            "1",
        ])
        .env("AGGMETRICS_NOW", "2026-02-11T00:05:00Z")
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["meta"]["future_records"]["count"], 0);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("stamped after now"));
}

#[test]
fn hold_when_a_go_criterion_is_not_met() {
    // Latency p95 600 ms is above stage 1's go bound 500 but also above
    // the 500 ms alarm, so use stage 2's 400 ms bound with 450 ms.
    let plan = Plan {
        days: 5,
        latency: 450.0,
        rate: 0.05,
        ..Plan::default()
    };
    let (v, code, d) = judge(&plan, &["--stage", "2"]);
    assert_eq!(code, 3);
    let s = summary(&v);
    assert!(
        s.contains("latency_p95 = 450 (latency_p95 < 400: not met)"),
        "{s}"
    );
    assert!(s.contains("needs a baseline"), "{s}");
    // The verdict is in the table too.
    let out = bin()
        .args([
            "risk",
            d.path().to_str().unwrap(),
            "-q",
            "--stage",
            "2",
            "--as-of",
            &plan.end(),
        ])
        .output()
        .unwrap();
    let t = String::from_utf8(out.stdout).unwrap();
    assert!(t.contains("Verdict for stage 2: HOLD (exit 3)"), "{t}");
}

#[test]
fn a_straddling_interval_is_named() {
    // 3 errors in 75 records: 0.04 < 0.05, but the 95% interval
    // [0.014, 0.111] reaches past the bound.
    let plan = Plan {
        per_day: 25,
        sample_every: 1,
        error_every: 25,
        ..Plan::default()
    };
    let (v, code, _) = judge(&plan, &["--stage", "1"]);
    assert_eq!(code, 0, "{}", summary(&v));
    let s = summary(&v);
    assert!(s.contains("straddles 0.05"), "{s}");
}

#[test]
fn baseline_drives_stable_acceptance_and_regression() {
    let stage1 = Plan {
        accept_every: 1,
        ..Plan::default()
    };
    let d1 = risk_dir(&stage1.text());
    let base = d1.path().join("stage1.json");
    bin()
        .args([
            "risk",
            d1.path().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&base)
        .assert()
        .success();
    let base = base.to_str().unwrap().to_string();

    // Stage 2, same behaviour: go.
    let same = Plan {
        days: 5,
        rate: 0.05,
        ..Plan::default()
    };
    let (v, code, _) = judge(&same, &["--stage", "2", "--baseline", &base]);
    assert_eq!(
        (code, &v["verdict"]["decision"]),
        (0, &serde_json::json!("go")),
        "{}",
        summary(&v)
    );

    // Acceptance falls from 100% to 50%: the 20% alarm fires.
    let worse = Plan {
        days: 5,
        rate: 0.05,
        accept_every: 2,
        ..Plan::default()
    };
    let (v, code, _) = judge(&worse, &["--stage", "2", "--baseline", &base]);
    assert_eq!(code, 1);
    let s = summary(&v);
    assert!(
        s.contains("acceptance_rate 0.5 vs baseline 1: down 50.0%"),
        "{s}"
    );
    assert!(
        s.contains("regression against the baseline: acceptance_rate"),
        "{s}"
    );

    // A baseline that is not a risk report is a usage error.
    let out = bin()
        .args([
            "risk",
            d1.path().to_str().unwrap(),
            "--stage",
            "2",
            "--baseline",
        ])
        .arg(d1.path().join("partial_trust_risk.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not JSON"));
}

#[test]
fn silence_is_an_alarm() {
    // Judged a day after the logs end.
    let plan = Plan::default();
    let d = risk_dir(&plan.text());
    let (v, code, _) = risk_json(&[
        d.path().to_str().unwrap(),
        "-q",
        "--stage",
        "1",
        "--as-of",
        "2026-02-14T00:00:00Z",
    ]);
    assert_eq!(code, 1);
    let s = summary(&v);
    assert!(
        s.contains("risk log silent too long: last record 24.1 hours before 2026-02-14T00:00:00Z"),
        "{s}"
    );
}

#[test]
fn a_gates_file_replaces_the_runbook() {
    let plan = Plan {
        sample_every: 40,
        ..Plan::default()
    };
    let d = risk_dir(&plan.text());
    let gates = d.path().join("gates.toml");
    std::fs::write(
        &gates,
        "[stage.1]\nmin_days = 1\nmin_sampled_records = 10\ngo = [\"error_rate < 0.01\"]\n",
    )
    .unwrap();
    let (v, code, _) = risk_json(&[
        d.path().to_str().unwrap(),
        "-q",
        "--stage",
        "1",
        "--gates",
        gates.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{}", summary(&v));
    assert_eq!(v["verdict"]["criteria"].as_array().unwrap().len(), 3);

    std::fs::write(&gates, "[stage.1]\ngo = [\"error_rate = 0.01\"]\n").unwrap();
    let out = bin()
        .args([
            "risk",
            d.path().to_str().unwrap(),
            "--stage",
            "1",
            "--gates",
        ])
        .arg(&gates)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("gates.toml") && err.contains("no comparison"),
        "{err}"
    );

    // The shipped docs/gates.toml is the built-in runbook.
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/gates.toml");
    let (a, _, _) = risk_json(&[
        d.path().to_str().unwrap(),
        "-q",
        "--stage",
        "1",
        "--as-of",
        &plan.end(),
    ]);
    let (b, _, _) = risk_json(&[
        d.path().to_str().unwrap(),
        "-q",
        "--stage",
        "1",
        "--as-of",
        &plan.end(),
        "--gates",
        docs.to_str().unwrap(),
    ]);
    assert_eq!(a["verdict"]["criteria"], b["verdict"]["criteria"]);
}

/// `risk ARGS` that writes no report: (exit code, stderr).
fn refused(args: &[&str]) -> (i32, String) {
    let out = bin().arg("risk").args(args).output().unwrap();
    assert!(out.stdout.is_empty());
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_window_mixing_two_stages_is_said_and_held() {
    // Two days of stage 1 (0.01), then two of stage 2 (0.05), judged as
    // stage 2 with a gates file that asks little else.
    let mut text = span_lines(0, 2 * 86_400 - 300, 300, 0.01);
    text.push_str(&span_lines(2 * 86_400, 4 * 86_400 - 300, 300, 0.05));
    let d = risk_dir(&text);
    let dir = d.path().to_str().unwrap();
    let gates = d.path().join("g.toml");
    let write = |extra: &str| {
        std::fs::write(
            &gates,
            format!("[stage.2]\nsample_rate = 0.05\nmin_days = 1\nmin_sampled_records = 10\ngo = [\"error_rate < 0.03\"]\n{extra}"),
        )
        .unwrap();
    };
    let as_of = ts(4 * 86_400).replace("+00:00", "Z");
    let g = gates.to_str().unwrap();
    let base = [dir, "-q", "--stage", "2", "--as-of", &as_of, "--gates", g];
    write("");
    let (v, code, err) = risk_json(&base);
    assert_eq!(code, 3, "{err} {}", summary(&v));
    let s = summary(&v);
    assert!(
        s.contains("576 records carry another stage's sample rate (0.01: 576) beside 576 at stage 2's 0.05: the window mixes stages"),
        "{s}"
    );
    // Windowed at the switch: one stage, go.
    let since = ts(2 * 86_400).replace("+00:00", "Z");
    let mut windowed = base.to_vec();
    windowed.extend(["--since", &since]);
    let (v, code, _) = risk_json(&windowed);
    assert_eq!(code, 0, "{}", summary(&v));
    // No record at the stage's own rate (stage 3 over stages 1 and 2):
    // that is said, and there is nothing to weigh other rates against.
    let (v, _, _) = risk_json(&[dir, "-q", "--stage", "3", "--as-of", &as_of]);
    let criteria = v["verdict"]["criteria"].as_array().unwrap();
    assert!(
        criteria.iter().any(|c| c["metric"] == "sample_rates"),
        "{}",
        summary(&v)
    );
    assert!(
        !criteria.iter().any(|c| c["metric"] == "sample_rates.other"),
        "{}",
        summary(&v)
    );
    // A gates file may allow it: judged together, and said.
    write("other_sample_rates = \"allow\"\n");
    let (v, code, _) = risk_json(&base);
    assert_eq!(code, 0, "{}", summary(&v));
    let c = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["metric"] == "sample_rates.other")
        .unwrap()
        .clone();
    assert_eq!(c["value"], 576.0);
    assert!(
        c["reason"].as_str().unwrap().contains("as the gates allow"),
        "{c}"
    );
    // Anything else is a usage error naming the key.
    write("other_sample_rates = \"maybe\"\n");
    let (code, err) = refused(&base);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("other_sample_rates") || err.contains("maybe"),
        "{err}"
    );
}

#[test]
fn a_stage_with_nothing_to_judge_is_a_usage_error() {
    let d = risk_dir(&span_lines(0, 86_400, 300, 0.01));
    let dir = d.path().to_str().unwrap();
    let gates = d.path().join("g.toml");
    let g = gates.to_str().unwrap();
    for (text, want) in [
        // go = [] and nothing else: GO on the evidence alone, before.
        (
            "[stage.1]\nmin_days = 0\ngo = []\n",
            "[stage.1] has no go criteria",
        ),
        // Roll-back rules but no go criteria: it could only say go.
        (
            "[stage.1]\nrollback = [\"error_rate > 0.1\"]\n",
            "[stage.1] has no go criteria",
        ),
        // An empty file: no stage at all (was "define stage " and nothing).
        ("", "no stage: a gates file defines at least one [stage.N]"),
        ("[alarms]\nrules = [\"error_rate > 0.05\"]\n", "no stage"),
    ] {
        std::fs::write(&gates, text).unwrap();
        let (code, err) = refused(&[dir, "-q", "--stage", "1", "--gates", g]);
        assert_eq!(code, 2, "{text:?}: {err}");
        assert!(err.contains(want), "{text:?}: {err}");
        assert!(err.contains("g.toml"), "{err}");
    }
    // A stage that is not there names the ones that are, never a blank.
    std::fs::write(&gates, "[stage.1]\ngo = [\"error_rate < 0.05\"]\n").unwrap();
    let (code, err) = refused(&[dir, "-q", "--stage", "2", "--gates", g]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("define stage 1"), "{err}");
}

#[test]
fn intent_mismatch_at_the_bound_and_past_it_end_to_end() {
    // 24 of 240 sampled records mismatch: 0.10 exactly. Stage 1's go rule
    // `< 0.10` is not met (hold); the alarm `> 0.10` does not fire.
    let at = Plan {
        mismatch_every: 10,
        ..Plan::default()
    };
    let (v, code, _) = judge(&at, &["--stage", "1"]);
    assert_eq!(v["intent_mismatch_rate"], 0.1);
    assert_eq!(code, 3, "{}", summary(&v));
    let s = summary(&v);
    assert!(
        s.contains("intent_mismatch_rate = 0.1 (intent_mismatch_rate < 0.1: not met)"),
        "{s}"
    );
    let alarm = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "alarm" && c["metric"] == "intent_mismatch_rate")
        .unwrap()
        .clone();
    assert_eq!(alarm["status"], "clear", "{alarm}");
    // One in eight: 0.125, past the alarm and stage 2's roll-back rule.
    let past = Plan {
        days: 5,
        rate: 0.05,
        mismatch_every: 8,
        ..Plan::default()
    };
    let (v, code, _) = judge(&past, &["--stage", "2"]);
    assert_eq!(code, 1, "{}", summary(&v));
    let breached: Vec<String> = v["verdict"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "breached")
        .map(|c| {
            format!(
                "{} {}",
                c["kind"].as_str().unwrap(),
                c["rule"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        breached,
        [
            "rollback intent_mismatch_rate > 0.1",
            "alarm intent_mismatch_rate > 0.1"
        ],
        "{}",
        summary(&v)
    );
}

#[test]
fn stage_3_goes_holds_and_rolls_back_end_to_end() {
    let d1 = risk_dir(&Plan::default().text());
    let base = d1.path().join("stage2.json");
    bin()
        .args([
            "risk",
            d1.path().to_str().unwrap(),
            "-q",
            "-f",
            "json",
            "-o",
        ])
        .arg(&base)
        .assert()
        .success();
    let base = base.to_str().unwrap().to_string();
    let stage3 = Plan {
        days: 7,
        rate: 0.10,
        ..Plan::default()
    };
    let (v, code, _) = judge(&stage3, &["--stage", "3", "--baseline", &base]);
    assert_eq!(code, 0, "{}", summary(&v));
    // Six days of seven: hold.
    let short = Plan {
        days: 6,
        rate: 0.10,
        ..Plan::default()
    };
    let (v, code, _) = judge(&short, &["--stage", "3", "--baseline", &base]);
    assert_eq!(code, 3, "{}", summary(&v));
    assert!(
        summary(&v).contains("stage 3 needs 7 days"),
        "{}",
        summary(&v)
    );
    // Latency p95 exactly 300: `< 300` is not met (hold).
    let slow = Plan {
        latency: 300.0,
        ..stage3
    };
    let (v, code, _) = judge(&slow, &["--stage", "3", "--baseline", &base]);
    assert_eq!(code, 3, "{}", summary(&v));
    assert!(
        summary(&v).contains("latency_p95 = 300 (latency_p95 < 300: not met)"),
        "{}",
        summary(&v)
    );
    // An error rate of 2% (every 10th sampled record of 5 in 1): stage 3
    // has no roll-back rule, and 0.02 is under the 0.05 alarm, but the
    // baseline had none: a regression against it is no stage 3 rule
    // either; the go rule `error_rate < 0.02` is not met: hold.
    let errs = Plan {
        days: 7,
        rate: 0.10,
        error_every: 10,
        ..Plan::default()
    };
    let (v, code, _) = judge(&errs, &["--stage", "3", "--baseline", &base]);
    assert_eq!(v["error_rate"], 0.02);
    assert_eq!(code, 3, "{}", summary(&v));
    assert!(
        summary(&v).contains("error_rate = 0.02 (error_rate < 0.02: not met)"),
        "{}",
        summary(&v)
    );
    // Past the alarm (every 3rd sampled record: 6.7%): rollback.
    let bad = Plan {
        error_every: 3,
        ..errs
    };
    let (v, code, _) = judge(&bad, &["--stage", "3", "--baseline", &base]);
    assert_eq!(code, 1, "{}", summary(&v));
}

/// Records from several hosts' files (merged accumulators) each ahead of
/// now add up; a record stamped exactly at now is not ahead of it.
#[test]
fn future_records_of_several_files_add_up_and_now_itself_is_not_ahead() {
    // now = 2026-02-11T00:05:00Z = 86,700 s after the first record.
    let d = risk_dir(&span_lines(0, 86_400, 300, 0.01));
    std::fs::write(
        d.path().join("partial_trust_risk-host2.jsonl"),
        span_lines(86_700, 86_760, 60, 0.01),
    )
    .unwrap();
    std::fs::write(
        d.path().join("partial_trust_risk-host3.jsonl"),
        span_lines(86_701, 86_701, 1, 0.01),
    )
    .unwrap();
    for j in ["1", "2"] {
        let out = bin()
            .args([
                "risk",
                d.path().to_str().unwrap(),
                "-q",
                "-f",
                "json",
                "-j",
                j,
            ])
            .env("AGGMETRICS_NOW", "2026-02-11T00:05:00Z")
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        // host2: 00:05:00 (now, not ahead) and 00:06:00; host3: 00:05:01.
        assert_eq!(
            v["meta"]["future_records"]["count"], 2,
            "-j {j}: {}",
            v["meta"]
        );
        assert_eq!(v["meta"]["future_records"]["ahead_seconds"], 60.0);
    }
}
