//! How the building blocks of every accumulator are written in a state
//! file: a distribution as its count, sum, extremes and V2 + DEFLATE
//! histogram (or, exact mode, every value); a key map as its limit,
//! threshold, overflow and entries; activity minutes; time ranges. Each
//! kind's accumulator derives serde over these, so a kind needs no state
//! code of its own.
//!
//! A distribution's decoding depends on the file's precision: [`with_mode`]
//! sets it for the decode on this thread, and keeps the first error in its
//! own type (serde's errors are text).

use std::cell::RefCell;
use std::io::Read;

use base64::Engine as _;
use hdrhistogram::serialization::{Deserializer, Serializer as _, V2DeflateSerializer};
use serde::{Deserialize, Serialize};

use super::{corrupt, StateError, MAX_PAYLOAD};
use crate::agg::dist::DistParts;
use crate::agg::{Activity, Dist, Keyed, Merge, Mode};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DistState {
    n: u64,
    /// u128 as decimal text (JSON numbers stop at u64 in many readers).
    sum_us: String,
    min: f64,
    max: f64,
    /// base64 of the V2 + DEFLATE histogram (HDR mode).
    hdr: Option<String>,
    /// Every value (exact mode).
    values: Option<Vec<f64>>,
    /// HDR mode: per export-layout bound, the values of the HDR bucket
    /// holding it that are at or below it; left out when none are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    near: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct KeyedState<T> {
    cap: usize,
    threshold: u64,
    overflow: u64,
    entries: Vec<(String, T)>,
    /// The observations not kept, by key (absent before version 3.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tally: Option<crate::measure::Tally>,
}

pub(super) fn dist(d: &Dist) -> DistState {
    let p = d.parts();
    DistState {
        n: p.n,
        sum_us: p.sum_us.to_string(),
        min: if p.n == 0 { 0.0 } else { p.min },
        max: if p.n == 0 { 0.0 } else { p.max },
        hdr: p.hdr.map(|h| {
            let mut buf = Vec::new();
            // Serializing a histogram into memory cannot fail.
            let _ = V2DeflateSerializer::new().serialize(&h, &mut buf);
            base64::engine::general_purpose::STANDARD.encode(buf)
        }),
        values: p.values,
        near: if p.near.iter().any(|&n| n > 0) {
            p.near
        } else {
            Vec::new()
        },
    }
}

pub(super) fn keyed<'k, T: Merge + Clone, S>(
    k: &'k Keyed<T>,
    f: impl Fn(&'k T) -> S,
) -> KeyedState<S> {
    let (cap, threshold, overflow, entries, tally) = k.parts();
    KeyedState {
        cap,
        threshold,
        overflow,
        tally: tally.cloned(),
        entries: entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), f(v)))
            .collect(),
    }
}

/// Check a V2 + DEFLATE histogram's header before the decoder allocates
/// for it (it sizes a buffer from the header's payload length).
fn check_histogram(bytes: &[u8], sigfig: u8) -> Result<(), StateError> {
    const V2_COMPRESSED: u32 = 0x1c84_9314;
    const V2: u32 = 0x1c84_9313;
    if bytes.len() < 8
        || u32::from_be_bytes(bytes[0..4].try_into().unwrap_or_default()) != V2_COMPRESSED
    {
        return Err(corrupt("a histogram without the V2 + DEFLATE cookie"));
    }
    let len = u32::from_be_bytes(bytes[4..8].try_into().unwrap_or_default());
    if len as usize > bytes.len() - 8 {
        return Err(corrupt("a histogram longer than its bytes"));
    }
    let mut head = [0u8; 40];
    flate2::read::ZlibDecoder::new(&bytes[8..])
        .read_exact(&mut head)
        .map_err(|_| corrupt("a histogram whose header does not inflate"))?;
    let be32 = |i: usize| u32::from_be_bytes(head[i..i + 4].try_into().unwrap_or_default());
    let be64 = |i: usize| u64::from_be_bytes(head[i..i + 8].try_into().unwrap_or_default());
    if be32(0) != V2 {
        return Err(corrupt("a histogram with a bad inner cookie"));
    }
    if be32(4) > MAX_PAYLOAD {
        return Err(corrupt(
            "a histogram payload larger than any aggmetrics writes",
        ));
    }
    if be32(12) != sigfig as u32 {
        return Err(StateError::Precision(
            format!("{} digits", be32(12)),
            format!("{sigfig} digits"),
        ));
    }
    if be64(16) != 1 || be64(24) < 2 || be64(24) > 1 << 62 {
        return Err(corrupt("a histogram range aggmetrics does not write"));
    }
    Ok(())
}

pub(super) fn undist(s: DistState, mode: Mode) -> Result<Dist, StateError> {
    let sum_us: u128 = s
        .sum_us
        .parse()
        .map_err(|_| corrupt("a sum that is not a number"))?;
    if s.n > 0 && !(s.min.is_finite() && s.max.is_finite() && 0.0 <= s.min && s.min <= s.max) {
        return Err(corrupt("a minimum above its maximum"));
    }
    if s.n > super::MAX_COUNT {
        return Err(corrupt("a count of values beyond any log (over 2^53)"));
    }
    if s.n > 0 && s.max > crate::parse::MAX_DURATION_MS {
        return Err(corrupt("a value beyond the largest accepted (10^12 ms)"));
    }
    // Each value is at most 10^12 ms = 10^15 us.
    if sum_us > s.n as u128 * 1_000_000_000_000_000 {
        return Err(corrupt("a sum larger than its count of values allows"));
    }
    let hdr = match (s.hdr, mode) {
        (Some(b64), Mode::Hdr { sigfig }) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| corrupt("a histogram that is not base64"))?;
            check_histogram(&bytes, sigfig)?;
            let h: hdrhistogram::Histogram<u64> = Deserializer::new()
                .deserialize(&mut bytes.as_slice())
                .map_err(|e| corrupt(format!("a histogram that does not decode ({e:?})")))?;
            Some(h)
        }
        (Some(_), Mode::Exact) => return Err(StateError::Precision("hdr".into(), "exact".into())),
        (None, _) => None,
    };
    if s.values.is_some() && matches!(mode, Mode::Hdr { .. }) {
        return Err(StateError::Precision("exact".into(), "hdr".into()));
    }
    Dist::restore(
        mode,
        DistParts {
            n: s.n,
            sum_us,
            min: s.min,
            max: s.max,
            hdr,
            values: s.values,
            near: s.near,
        },
    )
    .map_err(corrupt)
}

pub(super) fn unkeyed<S, T: crate::agg::Merge + Clone>(
    s: KeyedState<S>,
    f: impl Fn(S) -> Result<T, StateError>,
) -> Result<Keyed<T>, StateError> {
    if s.cap > 100_000 {
        return Err(corrupt("a key limit larger than any aggmetrics uses"));
    }
    let entries = s
        .entries
        .into_iter()
        .map(|(k, v)| Ok((k, f(v)?)))
        .collect::<Result<Vec<_>, StateError>>()?;
    Keyed::restore(s.cap, s.threshold, s.overflow, entries, s.tally).map_err(corrupt)
}

thread_local! {
    /// The precision of the state being decoded on this thread, and the
    /// first decoding error in its own type.
    static DECODING: RefCell<(Option<Mode>, Option<StateError>)> = const { RefCell::new((None, None)) };
}

/// Run `f` (a serde decode) with distributions decoded at `mode`. On
/// failure, the error a building block met is returned in its own type
/// (a precision mismatch stays one), else `fallback` of serde's message.
pub(super) fn with_mode<T, E: std::fmt::Display>(
    mode: Mode,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, StateError> {
    DECODING.with(|d| *d.borrow_mut() = (Some(mode), None));
    let out = f();
    let (_, err) = DECODING.with(|d| std::mem::take(&mut *d.borrow_mut()));
    out.map_err(|e| err.unwrap_or_else(|| corrupt(e)))
}

/// Keep the first error met while decoding, for [`with_mode`].
fn failed<E: serde::de::Error>(e: StateError) -> E {
    let msg = e.to_string();
    DECODING.with(|d| {
        let mut d = d.borrow_mut();
        if d.1.is_none() {
            d.1 = Some(e);
        }
    });
    E::custom(msg)
}

impl Serialize for Dist {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        dist(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Dist {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Dist, D::Error> {
        let st = DistState::deserialize(d)?;
        let Some(mode) = DECODING.with(|d| d.borrow().0) else {
            return Err(failed(corrupt("a distribution decoded outside a state")));
        };
        undist(st, mode).map_err(failed)
    }
}

impl<T: Merge + Clone + Serialize> Serialize for Keyed<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        keyed(self, |v| v).serialize(s)
    }
}

impl<'de, T: Merge + Clone + Deserialize<'de>> Deserialize<'de> for Keyed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Keyed<T>, D::Error> {
        let st = KeyedState::<T>::deserialize(d)?;
        unkeyed(st, Ok).map_err(failed)
    }
}

impl Serialize for Activity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.parts().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Activity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Activity, D::Error> {
        let parts = Vec::<(i64, i64, i64)>::deserialize(d)?;
        Activity::restore(&parts).map_err(|e| failed(corrupt(e)))
    }
}
