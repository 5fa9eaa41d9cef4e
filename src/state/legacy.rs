//! Version 1 and 2 state files: one fixed layout of the three kinds they
//! knew, read into today's accumulators. Frozen: new kinds and fields go
//! to the current version, whose accumulators encode themselves.

use serde::Deserialize;

use super::codec::{undist, unkeyed, DistState, KeyedState};
use super::{corrupt, StateError};
use crate::agg::{Activity, Metrics, Mode, TimeRange};
use crate::kinds::fallback::FallbackAcc;
use crate::kinds::latency::{LatencyAcc, LatencyGroup};
use crate::kinds::risk::RiskAcc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupState {
    count: u64,
    total: DistState,
    steps: KeyedState<DistState>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FallbackState {
    count: u64,
    outcomes: KeyedState<u64>,
    reasons: KeyedState<u64>,
    llm_latency: DistState,
    deterministic_used: u64,
    by_intent: KeyedState<u64>,
    components: KeyedState<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RiskState {
    total: u64,
    sampled: u64,
    status: KeyedState<u64>,
    reason_codes: KeyedState<u64>,
    with_diff: u64,
    intent_mismatch: u64,
    decision_type_mismatch: u64,
    action_count_mismatch: u64,
    entity_key_mismatch: u64,
    latency: DistState,
    sample_rates: KeyedState<u64>,
    activity: Vec<(i64, i64, i64)>,
    /// The earliest and latest risk record (version 2; version 1's
    /// `first`/`last` covered every kind).
    #[serde(default)]
    first: Stamp,
    #[serde(default)]
    last: Stamp,
}

type Stamp = Option<(i64, u32, String)>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MetricsState {
    with_llm: GroupState,
    without_llm: GroupState,
    fallback: FallbackState,
    risk: RiskState,
    first: Stamp,
    last: Stamp,
}

fn ungroup(g: GroupState, mode: Mode) -> Result<LatencyGroup, StateError> {
    Ok(LatencyGroup {
        count: g.count,
        total: undist(g.total, mode)?,
        steps: unkeyed(g.steps, |d| undist(d, mode))?,
    })
}

fn ok(n: u64) -> Result<u64, StateError> {
    Ok(n)
}

/// The figures of a version 1 or 2 state.
pub(super) fn metrics(m: MetricsState, version: u32, mode: Mode) -> Result<Metrics, StateError> {
    let fb = m.fallback;
    let rk = m.risk;
    let all = TimeRange::checked(m.first, m.last).map_err(corrupt)?;
    let mut out = Metrics::new(mode);
    out.kinds.latency = LatencyAcc {
        with_llm: ungroup(m.with_llm, mode)?,
        without_llm: ungroup(m.without_llm, mode)?,
    };
    out.kinds.fallback = FallbackAcc {
        count: fb.count,
        outcomes: unkeyed(fb.outcomes, ok)?,
        reasons: unkeyed(fb.reasons, ok)?,
        llm_latency: undist(fb.llm_latency, mode)?,
        deterministic_used: fb.deterministic_used,
        by_intent: unkeyed(fb.by_intent, ok)?,
        components: unkeyed(fb.components, ok)?,
    };
    out.kinds.risk = RiskAcc {
        total: rk.total,
        sampled: rk.sampled,
        status: unkeyed(rk.status, ok)?,
        reason_codes: unkeyed(rk.reason_codes, ok)?,
        with_diff: rk.with_diff,
        intent_mismatch: rk.intent_mismatch,
        decision_type_mismatch: rk.decision_type_mismatch,
        action_count_mismatch: rk.action_count_mismatch,
        entity_key_mismatch: rk.entity_key_mismatch,
        latency: undist(rk.latency, mode)?,
        sample_rates: unkeyed(rk.sample_rates, ok)?,
        activity: Activity::restore(&rk.activity).map_err(corrupt)?,
        // Version 1 kept one range for every kind: the risk records lie
        // within it.
        time: if version == 1 {
            all.clone()
        } else {
            TimeRange::checked(rk.first, rk.last).map_err(corrupt)?
        },
    };
    out.time = all;
    Ok(out)
}
