//! `--since`, `--until`, `--day`: the time window, as microseconds since
//! the epoch, half-open [since, until).

use jiff::{civil::Date, tz::TimeZone, Timestamp};

use crate::cli::WindowOpts;
use crate::error::Error;

const DAY_US: i64 = 86_400_000_000;

/// 00:00 UTC of a date given as `2026-02-17`, `today` or `yesterday`.
fn day_start(s: &str, now: Timestamp) -> Option<i64> {
    let today = now.to_zoned(TimeZone::UTC).date();
    let d = match s.trim() {
        "today" => today,
        "yesterday" => today.yesterday().ok()?,
        // Only a bare date: jiff would also take the date part of a
        // date-time, which must stay an instant.
        t if t.len() == 10 => t.parse::<Date>().ok()?,
        _ => return None,
    };
    let ts = d.to_zoned(TimeZone::UTC).ok()?.timestamp();
    Some(ts.as_microsecond())
}

/// An instant: RFC 3339, or a day's start.
pub fn instant(s: &str, now: Timestamp) -> Result<i64, String> {
    if let Some(us) = day_start(s, now) {
        return Ok(us);
    }
    s.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_microsecond())
        .map_err(|_| {
            format!(
                "'{s}' is not a time: use RFC 3339 (2026-02-17T06:00:00Z), a date (2026-02-17), today or yesterday"
            )
        })
}

/// The window the options ask for; `None` when they ask for none.
pub fn window(o: &WindowOpts, now: Timestamp) -> Result<Option<(i64, i64)>, Error> {
    if let Some(d) = &o.day {
        let start = day_start(d, now).ok_or_else(|| {
            Error::Usage(format!(
                "--day '{d}' is not a day: use a date (2026-02-17), today or yesterday"
            ))
        })?;
        return Ok(Some((start, start + DAY_US)));
    }
    if o.since.is_none() && o.until.is_none() {
        return Ok(None);
    }
    let since = match &o.since {
        Some(s) => instant(s, now).map_err(|e| Error::Usage(format!("--since: {e}")))?,
        None => i64::MIN,
    };
    let until = match &o.until {
        Some(s) => instant(s, now).map_err(|e| Error::Usage(format!("--until: {e}")))?,
        None => i64::MAX,
    };
    if since >= until {
        return Err(Error::Usage(
            "--since must be before --until (the window is [since, until))".into(),
        ));
    }
    Ok(Some((since, until)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let now: Timestamp = "2026-02-18T10:30:00Z".parse().unwrap();
        let us = |s: &str| s.parse::<Timestamp>().unwrap().as_microsecond();
        assert_eq!(instant("2026-02-17", now), Ok(us("2026-02-17T00:00:00Z")));
        assert_eq!(instant("yesterday", now), Ok(us("2026-02-17T00:00:00Z")));
        assert_eq!(instant("today", now), Ok(us("2026-02-18T00:00:00Z")));
        assert_eq!(
            instant("2026-02-17T06:00:00+02:00", now),
            Ok(us("2026-02-17T04:00:00Z"))
        );
        assert!(instant("last week", now).unwrap_err().contains("RFC 3339"));
        let o = WindowOpts {
            day: Some("yesterday".into()),
            ..Default::default()
        };
        assert_eq!(
            window(&o, now).unwrap(),
            Some((us("2026-02-17T00:00:00Z"), us("2026-02-18T00:00:00Z")))
        );
        let o = WindowOpts {
            since: Some("2026-02-18".into()),
            until: Some("2026-02-17".into()),
            ..Default::default()
        };
        assert!(window(&o, now).is_err());
    }
}
