//! `aggmetrics merge STATE...`: add up state files into one report.

use anyhow::Result;

use super::{emit, exit, fail_on, write_atomic};
use crate::cli::MergeArgs;
use crate::error::Error;
use crate::render::Doc;
use crate::report::Report;
use crate::state;

pub fn run(args: &MergeArgs) -> Result<i32> {
    super::check_percentiles(&args.percentiles)?;
    super::check_fail_on(&args.fail_on, &args.percentiles)?;
    let _lock = super::lock_output(args.output.as_deref())?;
    let mut states = Vec::with_capacity(args.states.len());
    for p in &args.states {
        if !p.exists() {
            return Err(Error::NotFound(p.clone()).into());
        }
        let bad = |e: state::StateError| Error::BadInput {
            path: p.clone(),
            message: e.to_string(),
        };
        let bytes = super::read_capped(p, state::MAX_STATE_BYTES)?
            .ok_or_else(|| bad(state::StateError::TooLarge))?;
        let s = state::decode(&bytes).map_err(bad)?;
        states.push(s);
    }
    let merged = state::merge(states).map_err(|e| Error::BadInput {
        path: args.states[0].clone(),
        message: e.to_string(),
    })?;
    if !args.quiet {
        for i in merged.inputs.iter().filter(|i| i.error.is_some()) {
            eprintln!(
                "aggmetrics: warning: {}: was not read to its end when its state was written; the report is incomplete",
                i.path
            );
        }
    }
    let report = Report::build(&merged, &args.percentiles);
    let checks = fail_on(&args.fail_on, &report)?;
    if let Some(p) = &args.state_out {
        write_atomic(p, &state::encode(&merged))?;
    }
    emit(args.format, Doc::Summary(&report), args.output.as_deref())?;
    checks.print(args.quiet);
    Ok(if checks.breaches.is_empty() {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}
