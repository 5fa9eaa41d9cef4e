//! Every rule of docs/gates.toml (the built-in gates), at every stage,
//! with its metric just below, exactly at and just above its bound: the
//! criterion's status is what the rule's operator says, and a breach is a
//! rollback. Judged on a report built here, so each figure sits exactly
//! where the test puts it.

use aggmetrics::check::compare::Thresholds;
use aggmetrics::check::expr::Op;
use aggmetrics::check::gates::{evaluate, Context, CriterionState, Decision, Gates, Kind};
use serde_json::{json, Value};

/// A risk report whose figures meet every go rule of every stage and
/// breach nothing, with enough evidence; then `metric` set to `value`.
fn report(metric: &str, value: f64, rate: f64) -> Value {
    let mut v = json!({
        "total_records": 10_000,
        "sampled_records": 1_000,
        "error_rate": 0.001,
        "intent_mismatch_rate": 0.001,
        "entity_key_mismatch_rate": 0.001,
        "acceptance_rate": 0.8,
        "latency_p50": 100.0,
        "latency_p95": 150.0,
        "latency_p99": 180.0,
        "latency_count": 1_000,
        "days_covered": 8,
        "sample_rates": {},
        "rates": {
            "error_rate": {"value": 0.001, "numerator": 10, "denominator": 10_000, "wilson_95": [0.0005, 0.002]},
            "intent_mismatch_rate": {"value": 0.001, "numerator": 1, "denominator": 1_000, "wilson_95": [0.0, 0.005]},
            "entity_key_mismatch_rate": {"value": 0.001, "numerator": 1, "denominator": 1_000, "wilson_95": [0.0, 0.005]},
            "acceptance_rate": {"value": 0.8, "numerator": 800, "denominator": 1_000, "wilson_95": [0.77, 0.82]},
        },
        "time_range": {"first": "2026-02-01T00:00:00Z", "last": "2026-02-09T23:59:00Z"},
        "longest_gap": null,
    });
    v["sample_rates"][format!("{rate}")] = json!(10_000);
    v[metric] = json!(value);
    v
}

fn cx(stage: u8, baseline: Option<&Value>) -> Context<'_> {
    let as_of = "2026-02-10T00:00:00Z".parse::<jiff::Timestamp>().unwrap();
    let first = "2026-02-01T00:00:00Z".parse::<jiff::Timestamp>().unwrap();
    Context {
        stage,
        baseline,
        baseline_label: baseline.map(|_| "base".into()),
        as_of_us: as_of.as_microsecond(),
        as_of: "2026-02-10T00:00:00Z".into(),
        stage_span: Some((first.as_microsecond(), as_of.as_microsecond())),
        gates_label: "built-in".into(),
        thresholds: Thresholds::default(),
    }
}

/// Whether `value OP bound` holds, written out by hand for the three
/// places the test puts a value (below, at, above the bound).
fn expected(op: Op, place: i32) -> bool {
    match (op, place) {
        (Op::Lt, p) => p < 0,
        (Op::Le, p) => p <= 0,
        (Op::Gt, p) => p > 0,
        (Op::Ge, p) => p >= 0,
    }
}

#[test]
fn every_rule_of_every_stage_at_below_and_above_its_bound() {
    let gates = Gates::builtin();
    let mut checked = 0;
    for (name, stage) in &gates.stage {
        let n: u8 = name.parse().unwrap();
        let rate = stage.sample_rate.unwrap();
        let rules = stage
            .go
            .iter()
            .map(|c| (Kind::Go, c))
            .chain(stage.rollback.iter().map(|c| (Kind::Rollback, c)))
            .chain(gates.alarms.rules.iter().map(|c| (Kind::Alarm, c)));
        for (kind, c) in rules {
            for place in [-1, 0, 1] {
                // A hair off the bound: 1e-6 of a rate, 1e-3 ms of a latency.
                let eps = if c.bound < 1.0 { 1e-6 } else { 1e-3 };
                let value = c.bound + place as f64 * eps;
                let rep = report(&c.path, value, rate);
                // The same report as the baseline: nothing moved.
                let v = evaluate(&gates, &rep, &cx(n, Some(&rep))).unwrap();
                let crit = v
                    .criteria
                    .iter()
                    .find(|x| x.kind == kind && x.rule == c.to_string())
                    .unwrap_or_else(|| panic!("stage {n}: no {kind:?} criterion '{c}'"));
                let holds = expected(c.op, place);
                let want = match (kind, holds) {
                    (Kind::Go, true) => CriterionState::Met,
                    (Kind::Go, false) => CriterionState::NotMet,
                    (_, true) => CriterionState::Breached,
                    (_, false) => CriterionState::Clear,
                };
                assert_eq!(crit.status, want, "stage {n} {kind:?} '{c}' at {value}");
                assert_eq!(crit.value, Some(value), "stage {n} '{c}'");
                // Any breach is a rollback; a go rule not met with no
                // breach is a hold.
                let breached = v
                    .criteria
                    .iter()
                    .any(|x| x.status == CriterionState::Breached);
                if want == CriterionState::Breached {
                    assert_eq!(v.decision, Decision::Rollback, "stage {n} '{c}' at {value}");
                } else if want == CriterionState::NotMet && !breached {
                    assert_eq!(v.decision, Decision::Hold, "stage {n} '{c}' at {value}");
                }
                checked += 1;
            }
        }
        // With every figure well inside: go, at every stage.
        let rep = report("latency_p99", 180.0, rate);
        let v = evaluate(&gates, &rep, &cx(n, Some(&rep))).unwrap();
        assert_eq!(v.decision, Decision::Go, "stage {n}: {:?}", v.summary);
    }
    // Stage 1: 3 go + 1 rollback + 4 alarms; stage 2: 3 + 2 + 4; stage 3:
    // 3 + 0 + 4. Three places each.
    assert_eq!(checked, 3 * (8 + 9 + 7));
}

/// No record of the stage in the window (no span to measure): the
/// minimum duration is met only by a stage that asks for none.
#[test]
fn no_span_meets_only_a_zero_minimum_duration() {
    for (min_days, want) in [(0, CriterionState::Met), (1, CriterionState::NotMet)] {
        let g = Gates::from_toml(&format!(
            "[stage.1]\nsample_rate = 0.01\nmin_days = {min_days}\nmin_sampled_records = 0\ngo = [\"error_rate < 0.05\"]\n"
        ))
        .unwrap();
        let v = report("total_records", 10_000.0, 0.01);
        let mut c = cx(1, None);
        c.stage_span = None;
        let verdict = evaluate(&g, &v, &c).unwrap();
        let e = verdict
            .criteria
            .iter()
            .find(|x| x.metric == "elapsed_days")
            .expect("the elapsed criterion");
        assert_eq!(e.status, want, "min_days {min_days}: {e:?}");
    }
}
