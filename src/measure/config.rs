//! How a read accumulates: precision, the time window, buckets.

use super::dist::Mode;

/// `--max-buckets`' default: 10,000 buckets, over a year of hours.
pub const DEFAULT_MAX_BUCKETS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct Config {
    pub mode: Mode,
    pub max_line_bytes: usize,
    /// Split the figures into time buckets of this width.
    pub bucket: Option<Bucket>,
    /// The time zone whose days and hours the buckets follow (`--tz`);
    /// `None`: UTC.
    pub tz: Option<&'static jiff::tz::TimeZone>,
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
            tz: None,
            max_buckets: DEFAULT_MAX_BUCKETS,
            window: None,
            future_after: i64::MAX,
        }
    }
}

/// A UTC time bucket width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bucket {
    /// `aggmetrics serve`'s sub-windows (not a `--by` choice).
    #[value(skip)]
    Minute,
    Hour,
    Day,
}

impl Bucket {
    pub const fn width_us(self) -> i64 {
        match self {
            Bucket::Minute => 60_000_000,
            Bucket::Hour => 3_600_000_000,
            Bucket::Day => 86_400_000_000,
        }
    }

    /// Start of the bucket holding `micros` (microseconds since the
    /// epoch): in UTC, or in `tz`, where a day is local midnight to local
    /// midnight (23 or 25 hours across a daylight-saving change) and an
    /// hour starts at a local whole hour.
    pub fn start_of(self, micros: i64, tz: Option<&jiff::tz::TimeZone>) -> i64 {
        let Some(tz) = tz else {
            return micros - micros.rem_euclid(self.width_us());
        };
        let Ok(t) = jiff::Timestamp::from_microsecond(micros) else {
            return micros - micros.rem_euclid(self.width_us());
        };
        // The instant's own offset: an hour is local, and a repeated
        // local hour (clocks going back) is two buckets, not one.
        let off = tz.to_offset(t).seconds() as i64 * 1_000_000;
        match self {
            // Every zone's offset is whole minutes.
            Bucket::Minute => micros - micros.rem_euclid(self.width_us()),
            Bucket::Hour => {
                let local = micros + off;
                local - local.rem_euclid(self.width_us()) - off
            }
            Bucket::Day => t
                .to_zoned(tz.clone())
                .start_of_day()
                .map(|z| z.timestamp().as_microsecond())
                .unwrap_or(micros - micros.rem_euclid(self.width_us())),
        }
    }

    /// The end of the bucket starting at `start` (the next one's start).
    pub fn end_of(self, start: i64, tz: Option<&jiff::tz::TimeZone>) -> i64 {
        match (self, tz) {
            (Bucket::Day, Some(tz)) => jiff::Timestamp::from_microsecond(start)
                .ok()
                .and_then(|t| t.to_zoned(tz.clone()).tomorrow().ok())
                .and_then(|z| z.start_of_day().ok())
                .map_or(start + self.width_us(), |z| z.timestamp().as_microsecond()),
            _ => start + self.width_us(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_microsecond()
    }

    /// Local hours: half-hour offsets start at :30 UTC, and the hour
    /// Berlin's clocks repeat (02:00-03:00 on 2026-10-25) is two buckets.
    #[test]
    fn hours_and_days_in_a_zone() {
        let kolkata = jiff::tz::TimeZone::get("Asia/Kolkata").unwrap();
        let h = Bucket::Hour;
        assert_eq!(
            h.start_of(us("2026-01-01T10:10:00Z"), Some(&kolkata)),
            us("2026-01-01T09:30:00Z")
        );
        let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let first = h.start_of(us("2026-10-25T00:30:00Z"), Some(&berlin));
        let second = h.start_of(us("2026-10-25T01:30:00Z"), Some(&berlin));
        assert_eq!(first, us("2026-10-25T00:00:00Z"));
        assert_eq!(second, us("2026-10-25T01:00:00Z"));
        let d = Bucket::Day;
        let start = d.start_of(us("2026-03-29T12:00:00Z"), Some(&berlin));
        assert_eq!(start, us("2026-03-28T23:00:00Z"));
        assert_eq!(d.end_of(start, Some(&berlin)) - start, 23 * 3_600_000_000);
        assert_eq!(
            d.start_of(us("2026-03-29T12:00:00Z"), None),
            us("2026-03-29T00:00:00Z")
        );
    }
}
