//! `--since`, `--until`, `--day`: the time window, as microseconds since
//! the epoch, half-open [since, until).

use jiff::{civil::Date, tz::TimeZone, Timestamp};

use crate::cli::WindowOpts;
use crate::error::Error;

const DAY_US: i64 = 86_400_000_000;

/// "Now": the current time, or `AGGMETRICS_NOW` (an RFC 3339 time) when it
/// is set, to re-run a missed cron job as it would have run (a backfill)
/// or to replay operation in tests. Every relative time (`today`,
/// `yesterday`, `1h ago`, the silence alarm's default "as of") counts from
/// it.
pub fn now() -> Result<Timestamp, Error> {
    match std::env::var("AGGMETRICS_NOW") {
        Ok(s) if !s.trim().is_empty() => {
            let bad = || {
                Error::Usage(format!(
                    "AGGMETRICS_NOW='{s}' is not an RFC 3339 time such as 2026-02-18T00:10:00Z"
                ))
            };
            // The times the logs may hold (offsets within +-23:59), and
            // among them those a clock can be set to.
            crate::parse::Timestamp::parse(s.trim()).ok_or_else(bad)?;
            s.trim().parse::<Timestamp>().map_err(|_| {
                Error::Usage(format!(
                    "AGGMETRICS_NOW='{s}' is later than the latest \"now\" aggmetrics takes, 9999-12-30T22:00:00Z"
                ))
            })
        }
        _ => Ok(Timestamp::now()),
    }
}

/// The time zone `--tz` names, for the run (`None`: UTC). Held for the
/// whole process, as the run's configuration is.
pub fn zone(o: &WindowOpts) -> Result<Option<&'static TimeZone>, Error> {
    Ok(parse_zone(o)?.map(|tz| &*Box::leak(Box::new(tz))))
}

fn parse_zone(o: &WindowOpts) -> Result<Option<TimeZone>, Error> {
    let Some(name) = &o.tz else {
        return Ok(None);
    };
    TimeZone::get(name.trim()).map(Some).map_err(|_| {
        Error::Usage(format!(
            "--tz '{}' is not a time zone: use an IANA name such as Europe/Berlin, America/New_York or UTC",
            crate::escape::text(name)
        ))
    })
}

/// Local midnight (in `tz`, UTC by default) of a date given as
/// `2026-02-17`, `today` or `yesterday`.
fn day_start(s: &str, now: Timestamp, tz: &TimeZone) -> Option<i64> {
    let today = now.to_zoned(tz.clone()).date();
    let d = match s.trim() {
        "today" => today,
        "yesterday" => today.yesterday().ok()?,
        // Only a bare date: jiff would also take the date part of a
        // date-time, which must stay an instant.
        t if t.len() == 10 => t.parse::<Date>().ok()?,
        _ => return None,
    };
    let ts = d.to_zoned(tz.clone()).ok()?.timestamp();
    Some(ts.as_microsecond())
}

/// The end of the local day that starts at `start`.
fn day_end(start: i64, tz: &TimeZone) -> Option<i64> {
    let z = Timestamp::from_microsecond(start)
        .ok()?
        .to_zoned(tz.clone());
    Some(
        z.tomorrow()
            .ok()?
            .start_of_day()
            .ok()?
            .timestamp()
            .as_microsecond(),
    )
}

/// `90m ago`, `1h ago`, `2 days ago`, `1 week ago`: microseconds before
/// `now`.
fn ago(s: &str, now: Timestamp) -> Option<i64> {
    let t = s.trim().strip_suffix("ago")?.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = t[..split].parse().ok()?;
    let unit_us: i64 = match t[split..].trim() {
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000_000,
        "h" | "hour" | "hours" => 3_600_000_000,
        "d" | "day" | "days" => DAY_US,
        "w" | "week" | "weeks" => 7 * DAY_US,
        _ => return None,
    };
    now.as_microsecond().checked_sub(n.checked_mul(unit_us)?)
}

/// An instant, the one parser behind every time flag (`--since`,
/// `--until`, `--as-of`): RFC 3339 (`2026-02-17T06:00:00Z`), a date (its
/// 00:00 UTC), `today`, `yesterday`, `now`, or `N{s,m,h,d,w} ago`.
pub fn instant(s: &str, now: Timestamp) -> Result<i64, NotATime> {
    instant_in(s, now, &TimeZone::UTC)
}

/// [`instant`] with dates, `today` and `yesterday` in `tz`.
pub fn instant_in(s: &str, now: Timestamp, tz: &TimeZone) -> Result<i64, NotATime> {
    if let Some(us) = day_start(s, now, tz) {
        return Ok(us);
    }
    if s.trim() == "now" {
        return Ok(now.as_microsecond());
    }
    if let Some(us) = ago(s, now) {
        return Ok(us);
    }
    s.trim()
        .parse::<Timestamp>()
        .map(|t| t.as_microsecond())
        .map_err(|_| NotATime(s.to_string()))
}

/// A time flag's value that is none of the forms [`instant`] reads.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("'{0}' is not a time: use RFC 3339 (2026-02-17T06:00:00Z), a date (2026-02-17), today, yesterday, now, or a time ago (90m ago, 1h ago, 2 days ago)")]
pub struct NotATime(pub String);

/// RFC 3339 in UTC to the second (`2026-02-17T06:00:00Z`), or to the
/// millisecond when the instant has a fraction of a second.
pub fn show(us: i64) -> String {
    let Ok(t) = Timestamp::from_microsecond(us) else {
        return us.to_string();
    };
    let z = t.to_zoned(TimeZone::UTC);
    if us.rem_euclid(1_000_000) == 0 {
        z.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        z.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }
}

/// The window the options ask for; `None` when they ask for none.
pub fn window(o: &WindowOpts, now: Timestamp) -> Result<Option<(i64, i64)>, Error> {
    let tz = parse_zone(o)?.unwrap_or(TimeZone::UTC);
    if let Some(d) = &o.day {
        let start = day_start(d, now, &tz).ok_or_else(|| {
            Error::Usage(format!(
                "--day '{d}' is not a day: use a date (2026-02-17), today or yesterday"
            ))
        })?;
        let end = day_end(start, &tz).unwrap_or(start + DAY_US);
        return Ok(Some((start, end)));
    }
    if o.since.is_none() && o.until.is_none() {
        return Ok(None);
    }
    let since = match &o.since {
        Some(s) => instant_in(s, now, &tz).map_err(|e| Error::Usage(format!("--since: {e}")))?,
        None => i64::MIN,
    };
    let until = match &o.until {
        Some(s) => instant_in(s, now, &tz).map_err(|e| Error::Usage(format!("--until: {e}")))?,
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
        assert!(instant("last week", now)
            .unwrap_err()
            .to_string()
            .contains("RFC 3339"));
        assert_eq!(instant("now", now), Ok(us("2026-02-18T10:30:00Z")));
        assert_eq!(instant("1h ago", now), Ok(us("2026-02-18T09:30:00Z")));
        assert_eq!(instant("90m ago", now), Ok(us("2026-02-18T09:00:00Z")));
        assert_eq!(instant("2 days ago", now), Ok(us("2026-02-16T10:30:00Z")));
        assert_eq!(instant("1 week ago", now), Ok(us("2026-02-11T10:30:00Z")));
        assert!(instant("1 fortnight ago", now).is_err());
        assert!(instant("h ago", now).is_err());
        assert_eq!(show(us("2026-02-18T10:30:00Z")), "2026-02-18T10:30:00Z");
        assert_eq!(
            show(us("2026-02-18T10:30:00.123456Z")),
            "2026-02-18T10:30:00.123Z"
        );
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
