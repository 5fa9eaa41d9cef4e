//! The rollout verdict as a plain model: what `check::gates` decides, the
//! report carries and a view's verdict block draws. Here, below the kinds
//! and the report, so neither imports the layer that judges.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Go,
    Hold,
    Rollback,
}

impl Decision {
    /// The process exit code the verdict is documented to give
    /// (docs/rollout.md): go 0, rollback 1, hold 3.
    pub fn exit_code(self) -> i32 {
        match self {
            Decision::Go => crate::exit::OK,
            Decision::Rollback => crate::exit::CHECK_FAILED,
            Decision::Hold => crate::exit::HOLD,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Decision::Go => "go",
            Decision::Hold => "hold",
            Decision::Rollback => "rollback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Evidence,
    Go,
    Rollback,
    Alarm,
}

impl Kind {
    /// `evidence`, `go`, `rollback`, `alarm` (as serialized).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Evidence => "evidence",
            Kind::Go => "go",
            Kind::Rollback => "rollback",
            Kind::Alarm => "alarm",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionState {
    /// A go or evidence criterion holds.
    Met,
    /// A go or evidence criterion does not hold.
    NotMet,
    /// A roll-back criterion or alarm fired.
    Breached,
    /// A roll-back criterion or alarm did not fire.
    Clear,
    /// No data, or it needs `--baseline`.
    NotEvaluated,
}

#[derive(Debug, Clone, Serialize)]
pub struct Criterion {
    pub kind: Kind,
    /// The metric's key path in the report.
    pub metric: String,
    /// The criterion as written, e.g. `error_rate < 0.05`.
    pub rule: String,
    pub value: Option<f64>,
    pub bound: Option<f64>,
    pub status: CriterionState,
    /// The rate's 95% Wilson interval, when it has one.
    pub interval: Option<[f64; 2]>,
    /// The interval reaches both sides of the bound: the data cannot yet
    /// tell whether the criterion truly holds.
    pub straddles: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub stage: u8,
    pub decision: Decision,
    pub exit_code: i32,
    /// One line per deciding criterion.
    pub summary: Vec<String>,
    pub criteria: Vec<Criterion>,
    /// `built-in runbook` or the gates file's path.
    pub gates: String,
    pub baseline: Option<String>,
    pub as_of: String,
}
