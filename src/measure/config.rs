//! How a read accumulates: precision, the time window, buckets.

use super::dist::Mode;

/// `--max-buckets`' default: 10,000 buckets, over a year of hours.
pub const DEFAULT_MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub mode: Mode,
    pub max_line_bytes: usize,
    /// Split the figures into UTC time buckets of this width.
    pub bucket: Option<Bucket>,
    /// At most this many buckets are kept, the newest: the records of
    /// older ones count in the whole run's figures but in no bucket
    /// (memory stays bounded whatever times the records carry).
    pub max_buckets: usize,
    /// Count only records with `since <= timestamp < until` (microseconds
    /// since the epoch).
    pub window: Option<(i64, i64)>,
    /// Count the records stamped after this instant (microseconds), read
    /// in the window or not: the run's "now", for `aggmetrics risk`, so a
    /// clock ahead of the data is reported. `i64::MAX` (counts nothing)
    /// otherwise. Only dated runs (a window or buckets) count.
    pub future_after: i64,
}

impl Config {
    pub fn new(mode: Mode, max_line_bytes: usize) -> Config {
        Config {
            mode,
            max_line_bytes,
            bucket: None,
            max_buckets: DEFAULT_MAX_BUCKETS,
            window: None,
            future_after: i64::MAX,
        }
    }
}

/// A UTC time bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bucket {
    Hour,
    Day,
}

impl Bucket {
    pub const fn width_us(self) -> i64 {
        match self {
            Bucket::Hour => 3_600_000_000,
            Bucket::Day => 86_400_000_000,
        }
    }

    /// Start of the bucket holding `micros` (microseconds since the epoch).
    pub fn start_of(self, micros: i64) -> i64 {
        micros - micros.rem_euclid(self.width_us())
    }
}
