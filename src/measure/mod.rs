//! The primitives every log kind measures with, below the kinds: a
//! distribution ([`Dist`]), values by an open set of names ([`Keyed`]),
//! when records were written ([`TimeRange`], [`Activity`]), the export
//! bucket layout, the reading configuration, and the report's plain
//! figures and neutral view ([`figures`], [`view`]). Nothing here knows a
//! log kind, reads a file or drives a run: `agg/` and `report/` above the
//! kinds do that.

pub mod config;
pub mod dist;
pub mod figures;
pub mod keyed;
pub mod layout;
pub mod time;
pub mod view;

pub use config::{Bucket, Config};
pub use dist::{Dist, Mode};
pub use keyed::{Keyed, Merge, MAX_KEYS};
pub use time::{Activity, TimeRange};
