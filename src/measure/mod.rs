//! The primitives every log kind measures with, below the kinds: a
//! distribution ([`Dist`]), values by an open set of names ([`Keyed`]),
//! when records were written ([`TimeRange`], [`Activity`]), the export
//! bucket layout, the reading configuration, and the report's plain
//! figures, neutral view and verdict ([`figures`], [`view`], [`verdict`]). Nothing here knows a
//! log kind, reads a file or drives a run: `agg/` and `report/` above the
//! kinds do that.

pub mod config;
pub mod dist;
pub mod distinct;
pub mod figures;
pub mod keyed;
pub mod layout;
pub mod tally;
pub mod time;
pub mod verdict;
pub mod view;

pub use config::{Bucket, Config};
pub use dist::{Dist, Mode};
pub use keyed::{Keyed, Merge, MAX_KEYS};
pub use tally::Tally;
pub use time::{Activity, TimeRange};

/// Why figures read back (from a state file) cannot be what a run made:
/// each check of the primitives' `restore` functions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{entries} entries for a cap of {cap}")]
    TooManyKeys { entries: usize, cap: usize },
    #[error("an entry the key limit would have dropped")]
    DroppedKey,
    #[error("a repeated key")]
    RepeatedKey,
    #[error("an activity minute whose times are not in it")]
    MinuteOutside,
    #[error("a repeated activity minute")]
    RepeatedMinute,
    #[error("a time range whose first record is after its last")]
    RangeBackwards,
    #[error("a time range with only one end")]
    RangeOneEnd,
    #[error("a time range whose text is not the time of its value")]
    RangeText,
    #[error("a histogram of {got} digits in a {want}-digit state")]
    Digits { got: u8, want: u8 },
    #[error("a histogram of {values} values for a count of {n}")]
    HistogramCount { values: u64, n: u64 },
    #[error("counts near the export bounds of the wrong length")]
    NearLength,
    #[error("kept values that disagree with the count")]
    ExactValues,
    #[error("values of the wrong kind for the state's precision")]
    WrongPrecision,
    #[error("a tally whose counts exceed its total or its byte budget")]
    TallyCounts,
    #[error("distinct-value hashes that are not sorted, repeat, or exceed the exact limit")]
    DistinctHashes,
}
