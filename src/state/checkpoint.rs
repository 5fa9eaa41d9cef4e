//! `aggmetrics serve --checkpoint FILE`: the figures of everything read
//! since the checkpoint began (a state, as `--state-out` writes it) and
//! where each followed file was read to, in one document, so that one
//! atomic write keeps them together: a restart, after `kill -9` too, goes
//! on from the offsets the figures were taken at, and no line is counted
//! twice or missed. No I/O here.

use serde::{Deserialize, Serialize};

use super::{Decoded, StateError};
use crate::read::follow::Positions;
use crate::read::ReadResult;

pub const FORMAT: &str = "aggmetrics-checkpoint";
pub const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    format: String,
    version: u32,
    tool: String,
    /// The paths followed, as given: a checkpoint goes on only for the
    /// same paths.
    paths: Vec<String>,
    /// When it was written (microseconds since the epoch).
    written_us: i64,
    /// `serve --since`: records before it were not counted; a checkpoint
    /// goes on only with the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    since_us: Option<i64>,
    /// The kinds files' kinds (`serve --kinds`), each as its name, files
    /// and spec: a checkpoint goes on only with the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    kinds: Vec<String>,
    positions: Positions,
    /// The figures: a state file's document.
    state: serde_json::Value,
}

/// What a checkpoint holds.
pub struct Checkpoint {
    pub paths: Vec<String>,
    pub written_us: i64,
    pub since_us: Option<i64>,
    pub kinds: Vec<String>,
    pub positions: Positions,
    pub state: Decoded,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("not an aggmetrics checkpoint (it should start with {{\"format\": \"{FORMAT}\"); was it written by serve --checkpoint?")]
    NotACheckpoint,
    #[error("checkpoint version {0}; this aggmetrics reads version {VERSION}")]
    Version(u32),
    #[error("corrupt checkpoint: {0}")]
    Corrupt(String),
    #[error("the checkpoint's figures: {0}")]
    State(#[from] StateError),
}

/// The checkpoint of `read` (the follower's figures) and `positions`
/// (taken at the same time), for `paths`.
pub fn encode(
    paths: &[String],
    written_us: i64,
    since_us: Option<i64>,
    kinds: &[String],
    read: &ReadResult,
    positions: &Positions,
) -> Vec<u8> {
    let state = serde_json::from_slice(&super::encode(read, &[])).unwrap_or_default();
    let f = File {
        format: FORMAT.into(),
        version: VERSION,
        tool: format!("aggmetrics {}", env!("CARGO_PKG_VERSION")),
        paths: paths.to_vec(),
        written_us,
        since_us,
        kinds: kinds.to_vec(),
        positions: positions.clone(),
        state,
    };
    let mut out = serde_json::to_vec(&f).unwrap_or_default();
    out.push(b'\n');
    out
}

/// A checkpoint's contents, its figures checked as a state file's are.
pub fn decode(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
    if bytes.len() as u64 > super::MAX_STATE_BYTES {
        return Err(StateError::TooLarge.into());
    }
    let head = format!("{{\"format\":\"{FORMAT}\"");
    if !bytes.starts_with(head.as_bytes()) {
        return Err(CheckpointError::NotACheckpoint);
    }
    let f: File =
        serde_json::from_slice(bytes).map_err(|e| CheckpointError::Corrupt(e.to_string()))?;
    if f.version != VERSION {
        return Err(CheckpointError::Version(f.version));
    }
    let state = super::decode(&serde_json::to_vec(&f.state).unwrap_or_default())?;
    Ok(Checkpoint {
        paths: f.paths,
        written_us: f.written_us,
        since_us: f.since_us,
        kinds: f.kinds,
        positions: f.positions,
        state,
    })
}
