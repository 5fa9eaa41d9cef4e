//! When records were written: the earliest and latest record, and the
//! busy minutes (for the silence alarm). Both merge in any order.

use crate::parse::Timestamp;

/// The earliest and latest record of each UTC minute that has any. Enough
/// to find, exactly, every silence longer than a minute (the gap between
/// one minute's last record and the next busy minute's first), at a few
/// kilobytes per day; merges in any order.
#[derive(Debug, Clone, Default)]
pub struct Activity {
    minutes: std::collections::BTreeMap<i64, (i64, i64)>,
    /// The minute being filled (records come in time order, so most
    /// records only touch this).
    cur: Option<(i64, i64, i64)>,
}

impl Activity {
    const MINUTE: i64 = 60_000_000;

    #[inline]
    pub fn see(&mut self, micros: i64) {
        let m = micros.div_euclid(Self::MINUTE);
        match &mut self.cur {
            Some((cm, lo, hi)) if *cm == m => {
                *lo = (*lo).min(micros);
                *hi = (*hi).max(micros);
            }
            _ => {
                self.flush();
                self.cur = Some((m, micros, micros));
            }
        }
    }

    fn flush(&mut self) {
        if let Some((m, lo, hi)) = self.cur.take() {
            let e = self.minutes.entry(m).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
        }
    }

    pub fn merge(&mut self, o: &Activity) {
        self.flush();
        let theirs = o.minutes.iter().map(|(m, r)| (*m, *r));
        for (m, (lo, hi)) in theirs.chain(o.cur.map(|(m, lo, hi)| (m, (lo, hi)))) {
            let e = self.minutes.entry(m).or_insert((lo, hi));
            e.0 = e.0.min(lo);
            e.1 = e.1.max(hi);
        }
    }

    /// (minute, first, last) for each busy minute, in order.
    pub fn parts(&self) -> Vec<(i64, i64, i64)> {
        let mut me = self.clone();
        me.flush();
        me.minutes.iter().map(|(m, (a, b))| (*m, *a, *b)).collect()
    }

    pub fn restore(parts: &[(i64, i64, i64)]) -> Result<Activity, super::Invalid> {
        let mut a = Activity::default();
        for &(m, lo, hi) in parts {
            if lo > hi || lo.div_euclid(Self::MINUTE) != m || hi.div_euclid(Self::MINUTE) != m {
                return Err(super::Invalid::MinuteOutside);
            }
            if a.minutes.insert(m, (lo, hi)).is_some() {
                return Err(super::Invalid::RepeatedMinute);
            }
        }
        Ok(a)
    }

    /// The UTC days (microseconds at their midnight) holding a record, in
    /// order.
    pub fn days(&self) -> Vec<i64> {
        const DAY: i64 = 1440;
        let mut out: Vec<i64> = Vec::new();
        let busy = self.minutes.keys().copied().chain(self.cur.map(|c| c.0));
        for m in busy {
            let d = m.div_euclid(DAY) * DAY * Self::MINUTE;
            if !out.contains(&d) {
                out.push(d);
            }
        }
        out.sort_unstable();
        out
    }

    /// The longest time without a record between the first and the last
    /// one, in microseconds, with where it starts and ends; `None` with
    /// fewer than two busy minutes (then no gap exceeds a minute).
    pub fn longest_gap(&self) -> Option<(i64, i64)> {
        let mut me = self.clone();
        me.flush();
        let mut best: Option<(i64, i64)> = None;
        let mut prev_hi: Option<i64> = None;
        for (lo, hi) in me.minutes.values() {
            if let Some(p) = prev_hi {
                if best.is_none_or(|(a, b)| lo - p > b - a) {
                    best = Some((p, *lo));
                }
            }
            prev_hi = Some(*hi);
        }
        best
    }
}

/// The earliest and latest record, with the timestamp text as written.
/// Both or neither are set, and the first is at or before the last
/// ([`TimeRange::checked`]; a state file's range is checked when read).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, try_from = "Ends")]
pub struct TimeRange {
    pub first: Option<(i64, u32, String)>,
    pub last: Option<(i64, u32, String)>,
}

/// A time range as read, before [`TimeRange::checked`].
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Ends {
    first: Option<(i64, u32, String)>,
    last: Option<(i64, u32, String)>,
}

impl TryFrom<Ends> for TimeRange {
    type Error = super::Invalid;
    fn try_from(e: Ends) -> Result<TimeRange, super::Invalid> {
        TimeRange::checked(e.first, e.last)
    }
}

impl TimeRange {
    /// A range read back (from a state file): `Err` says why it cannot be
    /// one `see` and `merge` built.
    pub fn checked(
        first: Option<(i64, u32, String)>,
        last: Option<(i64, u32, String)>,
    ) -> Result<TimeRange, super::Invalid> {
        match (&first, &last) {
            (None, None) => {}
            (Some(f), Some(l)) if f <= l => {}
            (Some(_), Some(_)) => return Err(super::Invalid::RangeBackwards),
            _ => return Err(super::Invalid::RangeOneEnd),
        }
        // Each end's text is the time its value says.
        for (micros, nanos, text) in first.iter().chain(last.iter()) {
            match Timestamp::parse(text) {
                Some(t) if t.micros == *micros && t.nanos == *nanos => {}
                _ => return Err(super::Invalid::RangeText),
            }
        }
        Ok(TimeRange { first, last })
    }

    #[inline]
    pub fn see(&mut self, ts: &Timestamp, line: &[u8]) {
        let key = (ts.micros, ts.nanos);
        let raw = ts.span.raw(line);
        // The last first: in a log written in time order nearly every
        // record is a new last, and then it cannot be a new first, since
        // the first is at or before the last (ranges are only built here
        // and by merge, and a state file's is checked when it is read).
        let later = match &self.last {
            None => true,
            Some((m, n, s)) => key > (*m, *n) || (key == (*m, *n) && raw > s.as_bytes()),
        };
        if later && self.first.is_some() {
            set(&mut self.last, ts, line);
            return;
        }
        let earlier = match &self.first {
            None => true,
            Some((m, n, s)) => key < (*m, *n) || (key == (*m, *n) && raw < s.as_bytes()),
        };
        if earlier {
            set(&mut self.first, ts, line);
        }
        if later {
            set(&mut self.last, ts, line);
        }
    }

    /// [`TimeRange::see`] for a time whose text is not in the line (read
    /// from a number or another layout, and written as RFC 3339).
    pub fn see_text(&mut self, ts: &Timestamp, text: &str) {
        let key = (ts.micros, ts.nanos);
        let earlier = self
            .first
            .as_ref()
            .is_none_or(|(m, n, s)| key < (*m, *n) || (key == (*m, *n) && text < s.as_str()));
        if earlier {
            self.first = Some((ts.micros, ts.nanos, text.to_string()));
        }
        let later = self
            .last
            .as_ref()
            .is_none_or(|(m, n, s)| key > (*m, *n) || (key == (*m, *n) && text > s.as_str()));
        if later {
            self.last = Some((ts.micros, ts.nanos, text.to_string()));
        }
    }

    pub fn merge(&mut self, o: &TimeRange) {
        if let Some(f) = &o.first {
            if self
                .first
                .as_ref()
                .is_none_or(|s| (f.0, f.1, &f.2) < (s.0, s.1, &s.2))
            {
                self.first = Some(f.clone());
            }
        }
        if let Some(l) = &o.last {
            if self
                .last
                .as_ref()
                .is_none_or(|s| (l.0, l.1, &l.2) > (s.0, s.1, &s.2))
            {
                self.last = Some(l.clone());
            }
        }
    }
}

/// Reuse the String's buffer: in time-ordered logs `last` changes on
/// nearly every line. The logger's layout, over one of its own, is
/// copied in place here (inlined into `see`); anything else goes to
/// [`set_text`].
#[inline(always)]
fn set(slot: &mut Option<(i64, u32, String)>, ts: &Timestamp, line: &[u8]) {
    if let Some((m, n, s)) = slot {
        // 32 bytes copied as two 16-byte moves, without `push_str`'s
        // capacity check and memcpy call (together 60 instructions a
        // line, in every kind).
        if let Ok(from) = <&[u8; 32]>::try_from(ts.span.raw(line)) {
            if !ts.span.escaped() && from.is_ascii() {
                // SAFETY: only ASCII bytes are written (checked just
                // above), so the string stays UTF-8.
                if let Ok(to) = <&mut [u8; 32]>::try_from(unsafe { s.as_bytes_mut() }) {
                    *to = *from;
                    *m = ts.micros;
                    *n = ts.nanos;
                    return;
                }
            }
        }
    }
    set_text(slot, ts, line);
}

/// [`set`] for any other text: borrowed from the line unless it has
/// escapes (`Span::text` neither copies nor decodes an unescaped ASCII
/// span).
#[inline(never)]
fn set_text(slot: &mut Option<(i64, u32, String)>, ts: &Timestamp, line: &[u8]) {
    let text = ts.span.text(line);
    match slot {
        Some((m, n, s)) => {
            *m = ts.micros;
            *n = ts.nanos;
            s.clear();
            s.push_str(&text);
        }
        None => *slot = Some((ts.micros, ts.nanos, text.into_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{timestamp_field, Parser, Slot, Val};

    /// `see` over timestamps of several lengths and layouts, one escaped,
    /// two of the same instant written differently: the range holds the
    /// text of the smallest and largest (instant, text), as a sort finds
    /// them, whichever lengths the text it replaces had.
    #[test]
    fn the_range_keeps_the_text_of_its_ends() {
        let texts = [
            r#""2026-02-10T12:00:04.194883+00:00""#,
            r#""2026-02-10T12:00:05Z""#,
            r#""2026-02-10T13:00:05.000000+01:00""#,
            r#""2026-02-10T12:00:05.000000+00:00""#,
            r#""2026-02-10T12:00:03\u002e5Z""#,
            r#""2026-02-10T12:00:06.000001+00:00""#,
            r#""2026-02-10T12:00:06.5Z""#,
            r#""2026-02-10T12:00:02.999999+00:00""#,
        ];
        let read = |t: &str| {
            let line = format!("{{\"timestamp\": {t}}}");
            let mut p = Parser::new(line.as_bytes());
            p.begin_object().unwrap();
            p.first_key().unwrap();
            let v = p.value().unwrap();
            let Slot::Val(ts) = timestamp_field(line.as_bytes(), v) else {
                panic!("{t} is not a timestamp")
            };
            let Val::Str(s) = v else { unreachable!() };
            let text = s.text(line.as_bytes()).into_owned();
            (line, ts, text)
        };
        for start in 0..texts.len() {
            let mut r = TimeRange::default();
            let mut seen = Vec::new();
            for t in texts.iter().cycle().skip(start).take(texts.len()) {
                let (line, ts, text) = read(t);
                r.see(&ts, line.as_bytes());
                seen.push((ts.micros, ts.nanos, text));
                seen.sort();
                assert_eq!(r.first.as_ref(), seen.first(), "from {start}");
                assert_eq!(r.last.as_ref(), seen.last(), "from {start}");
            }
        }
    }
}
