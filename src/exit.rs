//! Exit codes: the one table every subcommand uses (docs/cli.md). A leaf
//! module: the binary maps error classes to these, and the verdict model
//! names the code each decision gives.

pub const OK: i32 = 0;
/// A check failed: `--strict` with skipped lines, a `rollback`
/// verdict, or a regression found by `compare`.
pub const CHECK_FAILED: i32 = 1;
pub const USAGE: i32 = 2;
/// A rollout verdict of `hold`: no breach, not enough evidence yet.
pub const HOLD: i32 = 3;
/// An input path does not exist or cannot be read.
pub const NO_INPUT: i32 = 4;
/// The output could not be written.
pub const OUTPUT: i32 = 5;
/// Another run holds the lock on the same `-o FILE`.
pub const LOCKED: i32 = 6;
/// The run needed more memory than `--max-memory` allows, or the system
/// refused memory: stopped with a message, nothing written.
pub const MEMORY: i32 = 7;
/// A failure of aggmetrics itself (a bug), never an expected outcome
/// (sysexits' EX_SOFTWARE).
pub const INTERNAL: i32 = 70;
