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
        Self::parse_bytes(s.as_bytes())
    }

    /// As [`Timestamp::parse`], from bytes that may not be UTF-8.
    #[inline]
    pub fn parse_bytes(b: &[u8]) -> Option<Timestamp> {
        match fixed(b) {
            Some(t) => Some(t),
            None => fast(b).or_else(|| slow(std::str::from_utf8(b).ok()?)),
        }
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
    /// Both start as the epoch, so a cache hit always means bytes that
    /// were checked (a line's ten NUL bytes never match a zeroed cache).
    static LAST_PREFIX: std::cell::Cell<([u8; 19], i64)> = const { std::cell::Cell::new((*b"1970-01-01T00:00:00", 0)) };
    /// The last valid `YYYY-MM-DD` (10 bytes) and its days since the
    /// epoch: when the second changes the day rarely does, and the date's
    /// checks and calendar arithmetic are most of a prefix's cost.
    static LAST_DATE: std::cell::Cell<([u8; 10], i64)> = const { std::cell::Cell::new((*b"1970-01-01", 0)) };
}

/// Validate `YYYY-MM-DD` at the start of `b`; its days since the epoch.
#[inline]
fn date_days(b: &[u8]) -> Option<i64> {
    let p: [u8; 10] = b.get(..10)?.try_into().ok()?;
    let (lp, ld) = LAST_DATE.with(|c| c.get());
    if p == lp {
        return Some(ld);
    }
    if p[4] != b'-' || p[7] != b'-' {
        return None;
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
    // The dashes are date_days' to check.
    if b[10] != b'T' || b[13] != b':' || b[16] != b':' {
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

use super::json::LO;

/// `w`'s bytes, as ASCII, are digits except where `sep` has a non-zero
/// byte, which must equal `w`'s byte there. Returns `w` with every byte
/// minus `'0'` (separators as 0).
#[inline(always)]
fn digits_except(w: u64, sep_mask: u64, sep: u64) -> Option<u64> {
    if w & sep_mask != sep {
        return None;
    }
    // Separators become '0' first, so none borrows from the digit above it.
    let zeros = LO * b'0' as u64;
    let d = ((w & !sep_mask) | (zeros & sep_mask)).wrapping_sub(zeros);
    // Every digit byte was 0x30..=0x39: after the subtraction 0..=9, so
    // neither it nor it plus 6 reaches 0x10. (The lowest byte below '0'
    // wraps to 0xF_ itself, so the test fails whatever it borrows above.)
    let digit_bytes = !sep_mask;
    if (d | d.wrapping_add(LO * 6)) & (LO * 0xF0) & digit_bytes != 0 {
        return None;
    }
    Some(d)
}

/// The number whose decimal digits are the eight bytes of `d` (each 0..=9,
/// the first digit in the lowest byte): pairs, then fours, then all eight,
/// with three multiplications instead of eight steps.
#[inline(always)]
fn eight_digits(d: u64) -> u32 {
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    let v = d.wrapping_mul(10).wrapping_add(d >> 8);
    let v = ((v & MASK).wrapping_mul(MUL1)).wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2));
    (v >> 32) as u32
}

/// The platform logger's exact layout, `YYYY-MM-DDTHH:MM:SS.ffffff+00:00`
/// (Python's `isoformat()` of an aware UTC time with microseconds): the
/// time and fraction checked a word at a time, the date through the date
/// cache. Anything else returns `None` and takes [`fast`]. Accepts only
/// digits and the layout's `-T:.+`, so bytes it accepts are also plain
/// string content (no quote, backslash, control or non-ASCII byte): the
/// parser reads the `timestamp` value through it without a string scan.
#[inline(always)]
pub(crate) fn fixed(b: &[u8]) -> Option<Timestamp> {
    let b: &[u8; 32] = b.try_into().ok()?;
    let word = |i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    // "0-DDTHH:" at 8..16 would need the date again; take "HH:MM:SS" at
    // 11..19, ".ffffff+" at 19..27 and "+00:00" ends the line.
    if b[10] != b'T' || b[26..32] != *b"+00:00" {
        return None;
    }
    const COLONS: u64 = 0x0000_FF00_00FF_0000;
    let t = digits_except(word(11), COLONS, (LO * b':' as u64) & COLONS)?;
    const ENDS: u64 = 0xFF00_0000_0000_00FF;
    let f = digits_except(word(19), ENDS, (b'+' as u64) << 56 | b'.' as u64)?;
    // Each byte plus ten times the one before it (no byte carries: 9 * 10
    // + 9 < 256): the two-digit fields land in bytes 0, 3 and 6.
    let pairs = t.wrapping_mul(10).wrapping_add(t >> 8);
    let byte = |w: u64, k: u32| ((w >> (8 * k)) & 0xFF) as i64;
    let (h, mi, s) = (byte(pairs, 0), byte(pairs, 3), byte(pairs, 6));
    if h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // The six fraction digits, shifted over the `.` into the last six of
    // eight digit bytes (the `+` drops out): an eight-digit number read a
    // word at a time.
    let us = eight_digits(f << 8) as i64;
    let secs = date_days(b)? * 86_400 + h * 3600 + mi * 60 + s;
    Some(Timestamp {
        micros: secs * 1_000_000 + us,
        nanos: 0,
        span: Span::default(),
    })
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
    // RFC 3339's offsets: `Z`, or `+HH:MM` / `-HH:MM` within 23:59 (jiff
    // takes up to 25:59).
    let b = s.as_bytes();
    if !matches!(b.last(), Some(b'Z' | b'z')) {
        let tail = &b[b.len().checked_sub(6)?..];
        let hh = (tail[1] as char).to_digit(10)? * 10 + (tail[2] as char).to_digit(10)?;
        if !matches!(tail[0], b'+' | b'-') || tail[3] != b':' || hh > 23 {
            return None;
        }
    }
    let ts = jiff::Timestamp::from_str(s).ok()?;
    let ns = ts.as_nanosecond();
    Some(Timestamp {
        micros: ns.div_euclid(1000) as i64,
        nanos: ns.rem_euclid(1000) as u32,
        span: Span::default(),
    })
}

/// What a number in a time field counts (`--time-unit`): by its magnitude
/// (`auto`), or seconds, milliseconds, microseconds or nanoseconds since
/// 1970-01-01T00:00:00Z.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    /// Seconds below 10^11 (until the year 5138), milliseconds below
    /// 10^14, microseconds below 10^17, nanoseconds above.
    #[default]
    Auto,
    S,
    Ms,
    Us,
    Ns,
}

impl TimeUnit {
    pub fn is_auto(&self) -> bool {
        *self == TimeUnit::Auto
    }

    /// Nanoseconds in one unit; `Auto` by the integer part's magnitude.
    fn nanos(self, int_part: u128) -> u128 {
        match self {
            TimeUnit::S => 1_000_000_000,
            TimeUnit::Ms => 1_000_000,
            TimeUnit::Us => 1_000,
            TimeUnit::Ns => 1,
            TimeUnit::Auto if int_part < 100_000_000_000 => 1_000_000_000,
            TimeUnit::Auto if int_part < 100_000_000_000_000 => 1_000_000,
            TimeUnit::Auto if int_part < 100_000_000_000_000_000 => 1_000,
            TimeUnit::Auto => 1,
        }
    }
}

/// The earliest and latest instants a time may be (the years 1 to 9999,
/// as RFC 3339 writes them), in nanoseconds since the epoch.
const MIN_NS: i128 = -62_135_596_800_000_000_000;
const MAX_NS: i128 = 253_402_300_799_999_999_999;

fn from_nanos(ns: i128) -> Option<Timestamp> {
    if !(MIN_NS..=MAX_NS).contains(&ns) {
        return None;
    }
    Some(Timestamp {
        micros: ns.div_euclid(1000) as i64,
        nanos: ns.rem_euclid(1000) as u32,
        span: Span::default(),
    })
}

/// An epoch time from a number's text (`1591425399.925532`,
/// `1700000000123`, `-1.5`), exact from its digits (a nanosecond epoch is
/// beyond f64's 53 bits). An exponent (`1.7e9`) is read through f64.
pub fn epoch(raw: &[u8], unit: TimeUnit) -> Option<Timestamp> {
    let (neg, digits) = match raw.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, raw),
    };
    if digits.iter().any(|b| matches!(b, b'e' | b'E')) {
        let x: f64 = std::str::from_utf8(raw).ok()?.parse().ok()?;
        if !x.is_finite() {
            return None;
        }
        let int = x.abs().trunc();
        if int >= 1e30 {
            return None;
        }
        let ns = x * unit.nanos(int as u128) as f64;
        return from_nanos(ns.round() as i128);
    }
    let (int, frac) = match digits.iter().position(|b| *b == b'.') {
        Some(i) => (&digits[..i], &digits[i + 1..]),
        None => (digits, &[][..]),
    };
    if int.is_empty() || int.len() > 30 || !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let int_v: u128 = std::str::from_utf8(int).ok()?.parse().ok()?;
    let per = unit.nanos(int_v);
    // The fraction to the nanosecond (further digits cut, as RFC 3339
    // times beyond nanoseconds are).
    let mut frac_ns: u128 = 0;
    let mut scale = per;
    for d in frac {
        if scale < 10 {
            break;
        }
        scale /= 10;
        frac_ns += (d - b'0') as u128 * scale;
    }
    let ns = int_v.checked_mul(per)?.checked_add(frac_ns)? as i128;
    from_nanos(if neg { -ns } else { ns })
}

/// A time as logs other than the platform's write it: RFC 3339; an
/// offset without a colon (`+0000`, Suricata); ISO 8601 without a zone,
/// read as UTC (`2024-03-14T10:30:00.123`, `2024-03-14 10:30:00`); a
/// trailing ` UTC` or ` GMT` (PostgreSQL's jsonlog); RFC 1123 / RFC 2822
/// (`Thu, 14 Mar 2024 10:30:00 GMT`); common log format
/// (`10/Oct/2000:13:55:36 -0700`); an epoch number in a string
/// (`"1591425399.925"`).
pub fn any_text(b: &[u8], unit: TimeUnit) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse_bytes(b) {
        return Some(t);
    }
    if b.len() > 64 {
        return None;
    }
    let s = std::str::from_utf8(b).ok()?.trim();
    if s.bytes()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == b'-')
        && s.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'e' | b'E' | b'+'))
        && !s[1..].contains('-')
    {
        return epoch(s.as_bytes(), unit);
    }
    let nanos = |t: jiff::Timestamp| from_nanos(t.as_nanosecond());
    // An offset without a colon: `+0000` -> `+00:00`.
    let sb = s.as_bytes();
    if sb.len() > 20
        && matches!(sb[sb.len() - 5], b'+' | b'-')
        && sb[sb.len() - 4..].iter().all(u8::is_ascii_digit)
    {
        let fixed = format!("{}:{}", &s[..s.len() - 2], &s[s.len() - 2..]);
        if let Some(t) = Timestamp::parse(&fixed) {
            return Some(t);
        }
    }
    // A named UTC at the end.
    let bare = s
        .strip_suffix(" UTC")
        .or_else(|| s.strip_suffix(" GMT"))
        .unwrap_or(s);
    if let Ok(dt) = bare.parse::<jiff::civil::DateTime>() {
        if bare.len() >= 16 {
            return nanos(dt.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp());
        }
    }
    if let Ok(t) = jiff::fmt::rfc2822::parse(s) {
        return nanos(t.timestamp());
    }
    if let Ok(z) = jiff::Zoned::strptime("%d/%b/%Y:%H:%M:%S %z", s) {
        return nanos(z.timestamp());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microseconds (and sub-microsecond nanoseconds) of a time as other
    /// software writes it. Expected values from Python's datetime.
    fn at(b: &str, unit: TimeUnit) -> Option<(i64, u32)> {
        any_text(b.as_bytes(), unit).map(|t| (t.micros, t.nanos))
    }

    #[test]
    fn epoch_numbers_in_every_unit_by_magnitude_or_as_asked() {
        let e = |b: &str, u| epoch(b.as_bytes(), u).map(|t| (t.micros, t.nanos));
        // Zeek: fractional seconds.
        assert_eq!(
            e("1591425399.925532", TimeUnit::Auto),
            Some((1591425399925532, 0))
        );
        // pino: integer milliseconds; Go: microseconds; nanoseconds past f64.
        assert_eq!(
            e("1710412200123", TimeUnit::Auto),
            Some((1710412200123000, 0))
        );
        assert_eq!(
            e("1710412200123456", TimeUnit::Auto),
            Some((1710412200123456, 0))
        );
        assert_eq!(
            e("1710412200123456789", TimeUnit::Auto),
            Some((1710412200123456, 789))
        );
        // Asked for: a small number of milliseconds is not seconds.
        assert_eq!(e("86400000", TimeUnit::Ms), Some((86_400_000_000, 0)));
        assert_eq!(e("86400000", TimeUnit::Auto), Some((86_400_000_000_000, 0)));
        assert_eq!(e("-1.5", TimeUnit::S), Some((-1_500_000, 0)));
        assert_eq!(
            e("1.7104122e9", TimeUnit::Auto),
            Some((1710412200000000, 0))
        );
        // Beyond the year 9999, or not a number: not a time.
        assert_eq!(e("300000000000", TimeUnit::S), None);
        assert_eq!(e("12ab", TimeUnit::Auto), None);
        assert_eq!(e("", TimeUnit::Auto), None);
    }

    #[test]
    fn times_as_other_software_writes_them() {
        let a = TimeUnit::Auto;
        // Suricata's offset without a colon.
        assert_eq!(
            at("2023-02-28T11:34:02.133169+0000", a),
            Some((1677584042133169, 0))
        );
        // ISO without a zone is UTC; PostgreSQL's jsonlog names UTC.
        assert_eq!(
            at("2024-03-14T10:30:00.123", a),
            Some((1710412200123000, 0))
        );
        assert_eq!(
            at("2024-03-14 10:30:00.123", a),
            Some((1710412200123000, 0))
        );
        assert_eq!(
            at("2024-03-14 10:30:00.123 UTC", a),
            Some((1710412200123000, 0))
        );
        // RFC 1123 and the common log format.
        assert_eq!(
            at("Thu, 14 Mar 2024 10:30:00 GMT", a),
            Some((1710412200000000, 0))
        );
        assert_eq!(
            at("10/Oct/2000:13:55:36 -0700", a),
            Some((971211336000000, 0))
        );
        // An epoch in a string (nginx's $msec quoted).
        assert_eq!(at("1591425399.925", a), Some((1591425399925000, 0)));
        // RFC 3339 as before.
        assert_eq!(
            at("2020-06-06T06:36:39.925532Z", a),
            Some((1591425399925532, 0))
        );
        // Not times.
        for bad in [
            "",
            "yesterday",
            "2024-03-14",
            "2024-13-01T00:00:00",
            "12:00:00",
            "-",
        ] {
            assert_eq!(at(bad, a), None, "{bad}");
        }
    }

    #[test]
    fn offsets_beyond_23_59_are_not_rfc_3339() {
        assert!(Timestamp::parse("2026-02-10T00:00:00+25:00").is_none());
        assert!(Timestamp::parse("2026-02-10T00:00:00.123456789012+24:00").is_none());
        assert!(Timestamp::parse("2026-02-10T00:00:00-23:59").is_some());
        assert!(Timestamp::parse("2026-02-10T00:00:00.123456789+05:30").is_some());
        assert!(Timestamp::parse("2026-02-10T00:00:00.123456789Z").is_some());
    }

    #[test]
    fn eight_digits_reads_every_place() {
        for n in [
            0u32, 1, 9, 10, 99_999_999, 12_345_678, 10_000_000, 90_909_090, 123_456,
        ] {
            let text = format!("{n:08}");
            let mut d = 0u64;
            for (k, c) in text.bytes().enumerate() {
                d |= ((c - b'0') as u64) << (8 * k);
            }
            assert_eq!(eight_digits(d), n, "{text}");
        }
    }

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
        // Refused by the fast paths (or not: jiff decides), each followed
        // by valid times, so a cache primed by the miss would show.
        let near: &[&str] = &[
            "2026-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2026-02-10T24:00:00Z",
            "2026-02-10T12:60:00Z",
            "2026-02-10T12:00:00+24:00",
            // Near misses of the logger's exact layout (the word-at-a-time
            // path), and its edges.
            "2026-02-10T12:00:00.12345a+00:00",
            "2026-02-10T12:0a:00.123456+00:00",
            "2026-02-10T12:00/00.123456+00:00",
            "2026-02-10T1::00:00.123456+00:00",
            "2026-02-10T12:00:00,123456+00:00",
            "2026-02-10T12:00:00.123456-00:00",
            "2026-02-10T12:00:00.123456+00:01",
            "2026-02-10t12:00:00.123456+00:00",
            "2026-02-10T12:00:00.1234567+0:00",
            "2026-02-10T12:00:00.1234/6+00:00",
            "2026-02-10T12:00:00.12345:+00:00",
            "2026-02-10T23:59:59.999999+00:00",
            "2026-02-10T24:00:00.000000+00:00",
            "2026-02-10T12:00:60.000000+00:00",
            "2026-02-10T12:60:00.000000+00:00",
            "2026_02-10T12:00:00.000000+00:00",
            "2026-02_10T12:00:00.000000+00:00",
            "2024-02-29T12:00:00.000000+00:00",
            "2023-02-29T12:00:00.000000+00:00",
        ];
        for bad in near {
            cases.push(bad.to_string());
            cases.push("2026-02-10T12:00:00Z".to_string());
            cases.push("2026-02-10T12:00:00.000000+00:00".to_string());
        }
        // Shuffled too: the caches must not carry a wrong day or second.
        let mut shuffled = cases.clone();
        for i in (1..shuffled.len()).rev() {
            shuffled.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        for c in cases.iter().chain(&shuffled) {
            // The fixed layout, where it answers, agrees with jiff too.
            if let Some(x) = fixed(c.as_bytes()) {
                let j = slow(c).unwrap_or_else(|| panic!("fixed accepts what jiff refuses: {c}"));
                assert_eq!((x.micros, x.nanos), (j.micros, j.nanos), "{c}");
            }
            // ... and answers for every valid time in that layout.
            // (jiff also takes a leap second, which the fast paths leave
            // to it).
            let b = c.as_bytes();
            let layout = b.len() == 32 && b[10] == b'T' && b[19] == b'.' && c.ends_with("+00:00");
            if layout && !c.contains(":60.") {
                assert_eq!(fixed(b).is_some(), slow(c).is_some(), "{c}");
            }
            let whole = Timestamp::parse(c).map(|t| (t.micros, t.nanos));
            assert_eq!(whole, slow(c).map(|t| (t.micros, t.nanos)), "{c}");
            let f = fast(c.as_bytes());
            match (f, slow(c)) {
                (Some(f), Some(j)) => assert_eq!((f.micros, f.nanos), (j.micros, j.nanos), "{c}"),
                (Some(_), None) => panic!("fast accepts what jiff refuses: {c}"),
                (None, _) => assert!(near.contains(&c.as_str()), "fast refuses {c}"),
            }
        }
    }
}
