//! The parsing primitives every log kind's parser is made of (see
//! `crate::kinds`): the validating JSON scanner, timestamps, field
//! judgements, and why a line was skipped. No I/O, no formatting.

pub mod json;
pub mod timestamp;

pub use json::{bytes_eq, Parser, Span, Template, Val};
pub use timestamp::Timestamp;

/// Why a line was not counted. Every variant is counted and reported; none
/// carries any of the line's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// Not JSON: a syntax error, a control character inside a string, a bad
    /// escape or a lone surrogate.
    InvalidJson,
    /// The line ends inside a value (a partial write).
    Truncated,
    /// Bytes that are not UTF-8 inside a string.
    InvalidUtf8,
    /// Valid JSON, but not an object.
    NotObject,
    /// A field the record needs is absent.
    MissingField,
    /// A field has the wrong JSON type.
    WrongType,
    /// A duration below zero.
    NegativeValue,
    /// `NaN`, `Infinity` or `-Infinity` (Python's non-standard literals).
    NonFinite,
    /// A number beyond f64 (`1e400`) or a duration beyond the trackable range.
    OutOfRange,
    /// Non-whitespace after the object.
    TrailingGarbage,
    /// Nesting deeper than [`json::MAX_DEPTH`].
    TooDeep,
    /// Longer than `--max-line-bytes`.
    LineTooLong,
    /// A run of NUL bytes (the hole `copytruncate` leaves), counted once.
    NulBytes,
    /// A `timestamp` that is not an RFC 3339 date-time.
    BadTimestamp,
}

impl Skip {
    pub const ALL: [Skip; 14] = [
        Skip::InvalidJson,
        Skip::Truncated,
        Skip::InvalidUtf8,
        Skip::NotObject,
        Skip::MissingField,
        Skip::WrongType,
        Skip::NegativeValue,
        Skip::NonFinite,
        Skip::OutOfRange,
        Skip::TrailingGarbage,
        Skip::TooDeep,
        Skip::LineTooLong,
        Skip::NulBytes,
        Skip::BadTimestamp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Skip::InvalidJson => "invalid_json",
            Skip::Truncated => "truncated",
            Skip::InvalidUtf8 => "invalid_utf8",
            Skip::NotObject => "not_object",
            Skip::MissingField => "missing_field",
            Skip::WrongType => "wrong_type",
            Skip::NegativeValue => "negative_value",
            Skip::NonFinite => "non_finite",
            Skip::OutOfRange => "out_of_range",
            Skip::TrailingGarbage => "trailing_garbage",
            Skip::TooDeep => "too_deep",
            Skip::LineTooLong => "line_too_long",
            Skip::NulBytes => "nul_bytes",
            Skip::BadTimestamp => "bad_timestamp",
        }
    }

    pub fn index(self) -> usize {
        Skip::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// Largest duration accepted, in milliseconds (about 31.7 years). Anything
/// larger is [`Skip::OutOfRange`]; at microsecond resolution it stays below
/// 2^53, so every accepted value is an exact integer of microseconds.
pub const MAX_DURATION_MS: f64 = 1e12;

/// A field as last seen in the object. JSON allows duplicate keys; like
/// Python's `json` module (the platform's own reader) the last one wins, so
/// a field is judged only after the whole object was read.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Slot<T> {
    #[default]
    Missing,
    Null,
    Val(T),
    Bad(Skip),
}

/// A duration field: a finite number within [0, MAX_DURATION_MS].
#[inline]
pub fn duration(v: Val) -> Slot<f64> {
    match v {
        Val::Num(x) => match check_duration(x) {
            Ok(x) => Slot::Val(x),
            Err(s) => Slot::Bad(s),
        },
        Val::Null => Slot::Null,
        _ => Slot::Bad(Skip::WrongType),
    }
}

#[inline]
pub fn check_duration(x: f64) -> Result<f64, Skip> {
    // One range test for the good values (false for NaN and the
    // infinities as well); why a value fails is worked out apart.
    if (0.0..=MAX_DURATION_MS).contains(&x) {
        return Ok(x);
    }
    Err(why_bad_duration(x))
}

/// Why a value outside `[0, MAX_DURATION_MS]` (or NaN) is not a duration.
#[cold]
fn why_bad_duration(x: f64) -> Skip {
    if !x.is_finite() {
        Skip::NonFinite
    } else if x < 0.0 {
        Skip::NegativeValue
    } else {
        Skip::OutOfRange
    }
}

/// A categorical field: a string or null.
#[inline]
pub fn category(v: Val) -> Slot<Span> {
    match v {
        Val::Str(s) => Slot::Val(s),
        Val::Null => Slot::Null,
        _ => Slot::Bad(Skip::WrongType),
    }
}

/// The `timestamp` every record carries: required, an RFC 3339 string.
#[inline]
pub fn timestamp_field(line: &[u8], v: Val) -> Slot<Timestamp> {
    match v {
        Val::Str(s) if !s.escaped() => match Timestamp::parse_bytes(s.raw(line)) {
            Some(t) => Slot::Val(t.with_span(s)),
            None => Slot::Bad(Skip::BadTimestamp),
        },
        Val::Str(s) => match Timestamp::parse(&s.text(line)) {
            Some(t) => Slot::Val(t.with_span(s)),
            None => Slot::Bad(Skip::BadTimestamp),
        },
        _ => Slot::Bad(Skip::WrongType),
    }
}

/// The `timestamp` field's value at the cursor, with the logger's own
/// layout read straight from the line (its bytes are checked as they are
/// read, so they need no string scan first); any other value as
/// [`timestamp_field`] judges it.
#[inline(always)]
pub fn timestamp_value(p: &mut Parser<'_, '_>, line: &[u8]) -> Result<Slot<Timestamp>, Skip> {
    if let Some((s, t)) = p.fixed_string(32, timestamp::fixed) {
        return Ok(Slot::Val(t.with_span(s)));
    }
    Ok(timestamp_field(line, p.value()?))
}

/// Resolve a required field.
#[inline]
pub fn required<T>(s: Slot<T>) -> Result<T, Skip> {
    match s {
        Slot::Val(v) => Ok(v),
        Slot::Missing => Err(Skip::MissingField),
        Slot::Null => Err(Skip::WrongType),
        Slot::Bad(e) => Err(e),
    }
}

/// Resolve an optional field: missing and null are `None`.
#[inline]
pub fn optional<T>(s: Slot<T>) -> Result<Option<T>, Skip> {
    match s {
        Slot::Val(v) => Ok(Some(v)),
        Slot::Missing | Slot::Null => Ok(None),
        Slot::Bad(e) => Err(e),
    }
}

/// The name a key spells: borrowed from the line unless it has escapes.
#[inline]
pub fn key_name<'l>(k: Span, line: &'l [u8]) -> std::borrow::Cow<'l, [u8]> {
    if k.escaped() {
        std::borrow::Cow::Owned(k.text(line).into_owned().into_bytes())
    } else {
        std::borrow::Cow::Borrowed(k.raw(line))
    }
}

/// An open map field (`steps`, `components`): an object of name -> value,
/// each value read by `read` ([`Parser::value`] or one of its shortcuts
/// for the type the values nearly always have) and judged by `judge`; a
/// repeated name keeps its last value.
/// `null`, or any other value that is not an object, means no entries:
/// the map is not the record's core, so the record counts without it (a
/// later duplicate of the field may still replace it). Entries go to
/// `raw` (cleared first).
#[inline]
pub fn open_map<T: Copy>(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    raw: &mut Vec<(Span, Slot<T>)>,
    read: impl Fn(&mut Parser<'_, '_>) -> Result<Val, Skip>,
    judge: impl Fn(Val) -> Slot<T>,
) -> Result<(), Skip> {
    raw.clear();
    // Raw lengths seen so far, one bit per length mod 64: a name whose
    // length no earlier name had cannot repeat one, so the search for a
    // duplicate (a scan of every earlier entry) is skipped. Names of one
    // map mostly differ in length; the scan was 4% of a latency line.
    // A name with escapes (`\u0061` is `a`) has a raw length that is not
    // its text's: from the first one on, every name is searched for (all
    // bits set), by its text.
    let mut lens = 0u64;
    p.object(|p, name| {
        let v = judge(read(p)?);
        let bit = 1u64 << (name.len() % 64);
        let seen = if name.escaped() { u64::MAX } else { lens };
        lens = seen | bit;
        let dup = if seen & bit == 0 {
            None
        } else {
            same_name(raw, name, line)
        };
        match dup {
            Some(e) => e.1 = v,
            None => raw.push((name, v)),
        }
        Ok(())
    })?;
    Ok(())
}

/// The entry of an [`open_map`] whose name spells the same text as
/// `name`: out of line, as names seldom share a length.
#[inline(never)]
fn same_name<'r, T>(
    raw: &'r mut [(Span, Slot<T>)],
    name: Span,
    line: &[u8],
) -> Option<&'r mut (Span, Slot<T>)> {
    raw.iter_mut().find(|(n, _)| n.same_text(&name, line))
}

/// A field outside the record's core: a bad value (wrong type,
/// non-finite, negative, out of range) voids the field alone, as the
/// platform's scripts read it, and the record still counts.
#[inline]
pub fn void<T>(s: Slot<T>) -> Option<T> {
    match s {
        Slot::Val(v) => Some(v),
        _ => None,
    }
}

/// The entries of an [`open_map`] that hold a good value; bad ones are
/// voided (the map is not the record's core). Read in place: a copy into
/// a second vector was 6% of a latency line.
#[inline]
pub fn good_entries<T: Copy>(raw: &[(Span, Slot<T>)]) -> impl Iterator<Item = (Span, T)> + '_ {
    raw.iter()
        .filter_map(|(name, v)| void(*v).map(|v| (*name, v)))
}

/// Outcome of one line.
#[derive(Debug)]
pub enum Line<R> {
    Record(R),
    Blank,
}

/// Start a record: blank lines are not records; otherwise expect `{`.
#[inline]
pub fn begin(p: &mut Parser<'_, '_>) -> Result<bool, Skip> {
    if p.at_end() {
        return Ok(false);
    }
    p.begin_object()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_judged_at_every_edge() {
        let up = |x: f64| f64::from_bits(x.to_bits() + 1);
        for (x, want) in [
            (0.0, Ok(0.0)),
            (-0.0, Ok(-0.0)),
            (1.5, Ok(1.5)),
            (MAX_DURATION_MS, Ok(MAX_DURATION_MS)),
            (up(MAX_DURATION_MS), Err(Skip::OutOfRange)),
            (f64::MAX, Err(Skip::OutOfRange)),
            (-f64::MIN_POSITIVE, Err(Skip::NegativeValue)),
            (-1.0, Err(Skip::NegativeValue)),
            (f64::INFINITY, Err(Skip::NonFinite)),
            (f64::NEG_INFINITY, Err(Skip::NonFinite)),
            (f64::NAN, Err(Skip::NonFinite)),
            (-f64::NAN, Err(Skip::NonFinite)),
        ] {
            let got = check_duration(x);
            assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "{x}");
        }
    }
}
