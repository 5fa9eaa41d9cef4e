//! RFC 3339 timestamps: a fast path for the logger's own format
//! (`2026-02-10T12:00:00.123456+00:00`), with `jiff` for everything else.

use std::str::FromStr;

use super::Span;

/// An instant, in microseconds since the Unix epoch, and where its text sits
/// in the line (so the original string can be reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    pub micros: i64,
    /// Sub-microsecond digits, for ordering only.
    pub nanos: u32,
    pub span: Span,
}

impl Timestamp {
    pub fn with_span(mut self, span: Span) -> Self {
        self.span = span;
        self
    }

    /// Parse an RFC 3339 date-time with an offset (`Z` or `±HH:MM`).
    pub fn parse(s: &str) -> Option<Timestamp> {
        fast(s.as_bytes()).or_else(|| slow(s))
    }

    /// As [`Timestamp::parse`], from bytes that may not be UTF-8.
    #[inline]
    pub fn parse_bytes(b: &[u8]) -> Option<Timestamp> {
        fast(b).or_else(|| slow(std::str::from_utf8(b).ok()?))
    }
}

#[inline(always)]
fn d2(b: &[u8], i: usize) -> Option<i64> {
    let (x, y) = (*b.get(i)?, *b.get(i + 1)?);
    if x.is_ascii_digit() && y.is_ascii_digit() {
        Some(((x - b'0') * 10 + (y - b'0')) as i64)
    } else {
        None
    }
}

/// Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant.
#[inline]
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ => {
            if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 {
                29
            } else {
                28
            }
        }
    }
}

thread_local! {
    /// The last valid `YYYY-MM-DDTHH:MM:SS` prefix (19 bytes) and its Unix
    /// seconds (before the offset): log lines come in time order, a few a
    /// second, so consecutive records usually share it.
    static LAST_PREFIX: std::cell::Cell<([u8; 19], i64)> = const { std::cell::Cell::new(([0; 19], 0)) };
    /// The last valid `YYYY-MM-DD` (10 bytes) and its days since the
    /// epoch: when the second changes the day rarely does, and the date's
    /// checks and calendar arithmetic are most of a prefix's cost.
    static LAST_DATE: std::cell::Cell<([u8; 10], i64)> = const { std::cell::Cell::new(([0; 10], 0)) };
}

/// Validate `YYYY-MM-DD` at the start of `b`; its days since the epoch.
#[inline]
fn date_days(b: &[u8]) -> Option<i64> {
    let p: [u8; 10] = b.get(..10)?.try_into().ok()?;
    let (lp, ld) = LAST_DATE.with(|c| c.get());
    if p == lp {
        return Some(ld);
    }
    let y = d2(b, 0)? * 100 + d2(b, 2)?;
    let (mo, d) = (d2(b, 5)?, d2(b, 8)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    LAST_DATE.with(|c| c.set((p, days)));
    Some(days)
}

/// Validate `YYYY-MM-DDTHH:MM:SS` at the start of `b`; its seconds since
/// the epoch (as if UTC).
#[inline]
fn prefix_secs(b: &[u8]) -> Option<i64> {
    let p: [u8; 19] = b.get(..19)?.try_into().ok()?;
    let (lp, ls) = LAST_PREFIX.with(|c| c.get());
    if p == lp {
        return Some(ls);
    }
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (d2(b, 11)?, d2(b, 14)?, d2(b, 17)?);
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let secs = date_days(b)? * 86_400 + h * 3600 + mi * 60 + s;
    LAST_PREFIX.with(|c| c.set((p, secs)));
    Some(secs)
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`, seconds 00-59.
#[inline]
fn fast(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 20 {
        return None;
    }
    let local = prefix_secs(b)?;
    let mut i = 19;
    let mut frac_ns: u32 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(&c @ b'0'..=b'9') = b.get(i) {
            if i - start < 9 {
                frac_ns = frac_ns * 10 + (c - b'0') as u32;
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        frac_ns *= 10u32.pow((9 - n) as u32);
    }
    let off_s = match b.get(i)? {
        b'Z' => {
            i += 1;
            0
        }
        &c @ (b'+' | b'-') => {
            if b.get(i + 3) != Some(&b':') {
                return None;
            }
            let (oh, om) = (d2(b, i + 1)?, d2(b, i + 4)?);
            if oh > 23 || om > 59 {
                return None;
            }
            i += 6;
            let o = oh * 3600 + om * 60;
            if c == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    if i != b.len() {
        return None;
    }
    let secs = local - off_s;
    Some(Timestamp {
        micros: secs * 1_000_000 + (frac_ns / 1000) as i64,
        nanos: frac_ns % 1000,
        span: Span::default(),
    })
}

/// Anything else RFC 3339 allows (lowercase `t`/`z`, a space separator,
/// leap second 60), through `jiff`.
fn slow(s: &str) -> Option<Timestamp> {
    if s.len() > 64 {
        return None;
    }
    let ts = jiff::Timestamp::from_str(s).ok()?;
    let ns = ts.as_nanosecond();
    Some(Timestamp {
        micros: ns.div_euclid(1000) as i64,
        nanos: ns.rem_euclid(1000) as u32,
        span: Span::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logger_formats() {
        let a = Timestamp::parse("2026-02-10T12:00:00+00:00").unwrap();
        let b = Timestamp::parse("2026-02-10T12:00:00.000001+00:00").unwrap();
        assert_eq!(b.micros - a.micros, 1);
        assert_eq!(a.micros, 1_770_724_800 * 1_000_000);
        let z = Timestamp::parse("2026-02-10T13:00:00+01:00").unwrap();
        assert_eq!(z.micros, a.micros);
        assert!(Timestamp::parse("2026-02-30T12:00:00+00:00").is_none());
        assert!(Timestamp::parse("yesterday").is_none());
        assert!(
            Timestamp::parse("2026-02-10T12:00:00").is_none(),
            "an offset is required"
        );
    }

    /// The fast path, with its caches of the last prefix and date, agrees
    /// with jiff on every time it accepts, in time order and shuffled,
    /// valid and not (month 13, Feb 29 of a common year, hour 24).
    #[test]
    fn fast_path_and_its_caches_agree_with_jiff() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut cases = Vec::new();
        let mut t: i64 = 1_700_000_000;
        for k in 0..20_000 {
            let jump = if k % 500 == 0 {
                86_400 * (next() % 400) as i64
            } else {
                (next() % 90) as i64
            };
            t += jump;
            let ts = jiff::Timestamp::from_second(t).unwrap();
            let z = ts.strftime("%Y-%m-%dT%H:%M:%S").to_string();
            let frac = match next() % 3 {
                0 => String::new(),
                1 => format!(".{:06}", next() % 1_000_000),
                _ => format!(".{:09}", next() % 1_000_000_000),
            };
            let off = ["+00:00", "Z", "-05:30", "+14:00"][(next() % 4) as usize];
            cases.push(format!("{z}{frac}{off}"));
        }
        for bad in [
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-02-10T24:00:00Z",
            "2026-02-10T12:60:00Z",
            "2026-02-10T12:00:00+24:00",
        ] {
            cases.push(bad.to_string());
            cases.push("2026-02-10T12:00:00Z".to_string());
        }
        // Shuffled too: the caches must not carry a wrong day or second.
        let mut shuffled = cases.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        for c in cases.iter().chain(&shuffled) {
            let f = fast(c.as_bytes());
            match (f, slow(c)) {
                (Some(f), Some(j)) => assert_eq!((f.micros, f.nanos), (j.micros, j.nanos), "{c}"),
                (Some(_), None) => panic!("fast accepts what jiff refuses: {c}"),
                (None, _) => assert!(
                    c.starts_with("2023-02-29")
                        || c.contains("T24")
                        || c.contains(":60:")
                        || c.contains("-13-")
                        || c.ends_with("+24:00"),
                    "fast refuses {c}"
                ),
            }
        }
    }
}
