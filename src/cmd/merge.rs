//! `aggmetrics merge STATE...`: add up state files into one report.
//!
//! Unattended weekly and fleet-wide merges must not mislead: a missing or
//! unreadable state is a warning and the report is marked incomplete (the
//! rest is merged); the same state given twice is counted once; two states
//! whose runs overlap (same host and paths, windows sharing time) are
//! refused, since they would count records twice.

use anyhow::Result;

use super::{emit, fail_on};
use crate::cli::MergeArgs;
use crate::error::Error;
use crate::render::Doc;
use crate::report::Report;
use crate::state::{self, Cover, Decoded};

/// Why a state file could not be merged (it is left out, with a warning).
#[derive(Debug, thiserror::Error)]
enum Unread {
    #[error("no such file")]
    NotFound,
    #[error("{0}")]
    Io(std::io::Error),
    #[error("{0}")]
    Other(Error),
    #[error("{0}")]
    State(#[from] state::StateError),
}

/// Read and decode one state file.
fn load(p: &std::path::Path) -> Result<Decoded, Unread> {
    let bytes = match super::read_capped(p, state::MAX_STATE_BYTES) {
        Ok(Some(b)) => b,
        Ok(None) => return Err(state::StateError::TooLarge.into()),
        Err(Error::NotFound(_)) => return Err(Unread::NotFound),
        Err(Error::Io { err, .. }) => return Err(Unread::Io(err)),
        Err(e) => return Err(Unread::Other(e)),
    };
    Ok(state::decode(&bytes)?)
}

fn window_text(p: &Cover) -> String {
    let t = |x: Option<i64>, open: &str| x.map_or(open.to_string(), super::window::show);
    format!(
        "[{}, {})",
        t(p.since, "the beginning"),
        t(p.until, "the end")
    )
}

/// The state that already brought every part of `covers`, when one did:
/// the same run given again.
fn repeats(taken: &[(Cover, usize)], covers: &[Cover]) -> Option<usize> {
    let by = |c: &Cover| taken.iter().find(|(t, _)| t == c).map(|(_, j)| *j);
    if covers.iter().all(|c| by(c).is_some()) {
        covers.first().and_then(by)
    } else {
        None
    }
}

/// The states read so far, and what each brought.
#[derive(Default)]
struct Gathered {
    states: Vec<Decoded>,
    /// States that could not be used: (path, why).
    unread: Vec<(String, String)>,
    /// Every part taken so far, with the state that brought it.
    taken: Vec<(Cover, usize)>,
    /// The precision of the first state, and which it was.
    precision: Option<(crate::agg::Mode, usize)>,
}

impl Gathered {
    /// State `i` (at `p`): taken, passed over with a warning (unreadable,
    /// or the same run again), or refused (another precision or fields,
    /// or an overlap that would count records twice).
    fn add(
        &mut self,
        args: &MergeArgs,
        i: usize,
        p: &std::path::Path,
        warn: &dyn Fn(String),
    ) -> Result<()> {
        let d = match load(p) {
            Ok(d) => d,
            Err(why) => {
                warn(format!(
                    "{}: {why}; merged without it, the report is incomplete",
                    p.display()
                ));
                self.unread.push((p.display().to_string(), why.to_string()));
                return Ok(());
            }
        };
        let mode = d.read.acc.cfg.mode;
        if let Some((m, j)) = self.precision {
            if m != mode {
                return Err(Error::Usage(format!(
                    "{} and {}: {}",
                    args.states[j].display(),
                    p.display(),
                    state::StateError::Precision(
                        state::precision_name(m),
                        state::precision_name(mode)
                    )
                ))
                .into());
            }
        } else {
            self.precision = Some((mode, i));
        }
        // States of different settings (stats of other fields) do not add up.
        if let Some(first) = self.states.first() {
            let first: &state::Decoded = first;
            if let Err(why) = first
                .read
                .acc
                .total
                .kinds
                .compatible(&d.read.acc.total.kinds)
            {
                return Err(Error::Usage(format!(
                    "{} and {}: {why}",
                    args.states[self.precision.map_or(0, |(_, j)| j)].display(),
                    p.display()
                ))
                .into());
            }
        }
        if d.covers.is_empty() {
            warn(format!(
                "{}: a version 1 state, which does not say what it covers: it cannot be checked for duplicates",
                p.display()
            ));
        } else if let Some(j) = repeats(&self.taken, &d.covers) {
            warn(format!(
                "{}: the same run as {} (same host, paths, window and figures); counted once",
                p.display(),
                args.states[j].display()
            ));
            return Ok(());
        } else if let Some((c, (t, j))) = d.covers.iter().find_map(|c| {
            self.taken
                .iter()
                .find(|(t, _)| t.overlaps(c))
                .map(|tj| (c, tj))
        }) {
            return Err(Error::Usage(format!(
                "{} and {} both cover {} on {} for {}, with different figures: merging them would count those records twice; merge states of separate windows (e.g. one per day)",
                args.states[*j].display(),
                p.display(),
                window_text(if t.start() > c.start() { t } else { c }),
                c.host,
                c.paths.join(", ")
            ))
            .into());
        }
        self.taken.extend(d.covers.iter().cloned().map(|c| (c, i)));
        self.states.push(d);
        Ok(())
    }
}

pub fn run(args: &MergeArgs) -> Result<i32> {
    super::check_percentiles(&args.summary.percentiles)?;
    super::check_fail_on(&args.summary.fail_on, &args.summary.percentiles)?;
    super::check_format(args.fmt.format, crate::render::DocKind::Summary)?;
    let outs = super::Outputs::claim(&args.out, args.summary.state_out.as_deref(), &[])?;
    outs.check_inputs(args.states.iter().map(|p| p.as_path()), "the state")?;
    let warn = |msg: String| {
        if !args.quiet {
            super::output::warn(&msg);
        }
    };
    let mut g = Gathered::default();
    for (i, p) in args.states.iter().enumerate() {
        g.add(args, i, p, &warn)?;
    }
    let Gathered { states, unread, .. } = g;
    if states.is_empty() {
        let why: Vec<String> = unread.iter().map(|(p, w)| format!("{p}: {w}")).collect();
        return Err(Error::BadInput {
            path: args.states[0].clone(),
            message: format!("no state could be read ({})", why.join("; ")),
        }
        .into());
    }
    let mut merged = state::merge(states).map_err(|e| Error::BadInput {
        path: args.states[0].clone(),
        message: e.to_string(),
    })?;
    merged.read.unread = unread;
    let read = &merged.read;
    for i in read.inputs.iter().filter(|i| i.error.is_some()) {
        warn(format!(
            "{}: was not read to its end when its state was written; the report is incomplete",
            i.path
        ));
    }
    for (a, b) in &read.gaps {
        warn(format!(
            "no state covers {} to {}; the report is incomplete",
            super::window::show(*a),
            super::window::show(*b)
        ));
    }
    let mut report = Report::build(read, &args.summary.percentiles);
    report.meta.finished_us = Some(super::window::now()?.as_microsecond());
    let schema = crate::check::schema::summary(&args.summary.percentiles);
    let checks = fail_on(&args.summary.fail_on, &report, Some(&schema))?;
    outs.write_state(|| state::encode(read, &merged.covers))?;
    emit(args.fmt.format, Doc::Summary(&report), &outs)?;
    Ok(super::checks::exit_code(
        &checks,
        args.strict.strict,
        &report.skipped,
        &report.meta,
        &merged.read,
        args.quiet,
    ))
}
