//! A single-pass, allocation-free JSON validator that hands out only the
//! fields a log kind asks for.
//!
//! The whole line is validated as RFC 8259 JSON (strings checked for UTF-8 and
//! control characters, escapes checked, numbers checked against the grammar,
//! nesting bounded) while the caller walks the top-level object and pulls the
//! few values it needs. Strings are returned as [`Span`]s into the line, so
//! nothing is copied unless a string contains escapes and is then resolved.
//!
//! Differential tests in `tests/figures/parser_differential.rs` hold this parser to
//! `serde_json`'s verdict on valid and damaged lines.

use std::borrow::Cow;

use super::Skip;

/// Deepest nesting accepted, the same limit `serde_json` uses by default.
pub const MAX_DEPTH: usize = 128;

/// A string's location in the line: the bytes between the quotes. Bit 31
/// of `end` says the string holds a backslash escape (lines are shorter
/// than 2 GiB: see [`MAX_LINE`]), so a span stays 8 bytes, fits in one
/// register, and needs no second look to know it can be borrowed as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: u32,
    end: u32,
}

/// Longest line the parser accepts (spans use 31-bit offsets).
pub const MAX_LINE: usize = 1 << 30;

const ESC: u32 = 1 << 31;

impl Span {
    /// The bytes `start..end` of a line, with no escape in them (a
    /// number's text).
    #[inline]
    pub fn plain(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The raw bytes between the quotes (escapes not resolved).
    #[inline]
    pub fn raw<'a>(&self, line: &'a [u8]) -> &'a [u8] {
        line.get(self.start as usize..(self.end & !ESC) as usize)
            .unwrap_or(&[])
    }

    /// The decoded string. Borrowed unless the string had escapes.
    pub fn text<'a>(&self, line: &'a [u8]) -> Cow<'a, str> {
        let raw = self.raw(line);
        let escaped = self.escaped();
        if !escaped && raw.is_ascii() {
            // SAFETY: checked just above: every byte is ASCII, so the
            // bytes are valid UTF-8. (`is_ascii` is a word-at-a-time scan,
            // far cheaper than `from_utf8` on the short strings here.)
            return Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(raw) });
        }
        if !escaped {
            // The scanner validated UTF-8; this cannot fail for a span it made.
            return match std::str::from_utf8(raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(String::from_utf8_lossy(raw).into_owned()),
            };
        }
        Cow::Owned(unescape(raw))
    }

    /// Whether the decoded string equals `s`. An unescaped span's raw
    /// bytes are its text (the scanner validated them), so it is compared
    /// as bytes, with no ASCII scan and no `Cow`.
    #[inline]
    pub fn text_is(&self, line: &[u8], s: &str) -> bool {
        if self.escaped() {
            self.text(line) == s
        } else {
            bytes_eq(self.raw(line), s.as_bytes())
        }
    }

    /// Whether two strings of one line decode to the same text (bytes
    /// compared unless either has an escape).
    #[inline]
    pub fn same_text(&self, other: &Span, line: &[u8]) -> bool {
        if self.escaped() || other.escaped() {
            self.text(line) == other.text(line)
        } else {
            bytes_eq(self.raw(line), other.raw(line))
        }
    }

    /// Length of the raw bytes.
    #[inline]
    pub fn len(&self) -> usize {
        ((self.end & !ESC) - self.start) as usize
    }

    /// The raw bytes contain a backslash escape.
    #[inline]
    pub fn escaped(&self) -> bool {
        self.end & ESC != 0
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end & !ESC
    }
}

/// A value as the field extractors see it. Objects and arrays are validated
/// and skipped unless the caller descends into them itself.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Val {
    Str(Span),
    Num(f64),
    Bool(bool),
    Null,
    /// An object or array (validated, contents not kept).
    Container,
}

/// Cursor over one line.
pub struct Parser<'a, 't> {
    b: &'a [u8],
    i: usize,
    /// Key literals of earlier lines of the same log (see [`Template`]).
    tpl: Option<&'t mut Template>,
    /// Position in the template: how many keys of the record's own object
    /// this line has had, and how many of nested objects. Counted apart,
    /// so a nested map that is one key longer on this line (a step only
    /// some records have) does not shift the top-level keys after it.
    t: usize,
    n: usize,
    /// The high bits that make a string byte need a look: [`HI`] until a
    /// string holds a non-ASCII byte; then the rest of the line's UTF-8 is
    /// checked at once (with SIMD), and if it is valid, 0: non-ASCII
    /// bytes then pass the string scan a word or 16 bytes at a time. A
    /// substring between two ASCII quotes of valid UTF-8 is valid UTF-8,
    /// so no string needs its own check. `utf8_checked` says the check
    /// ran.
    hi: u64,
    utf8_checked: bool,
}

/// The keys of earlier lines of one log, as the exact bytes each key call
/// consumed (`", \"trace_id\": "`), in the order they came, with the field
/// the kind's parser gave each. Lines of one log come from one `json.dumps`
/// call site, so the next line's keys are nearly always the same bytes in
/// the same turn: a key is then one comparison, with no scan, no
/// whitespace or punctuation dispatch and no field lookup.
///
/// Sound because an entry holds bytes the full scanner consumed in the same
/// context (first key of an object, or a key after a value): equal bytes at
/// the cursor in that context are consumed identically. A miss takes the
/// full path and relearns that turn. Keys with escapes are not kept.
#[derive(Debug, Default)]
pub struct Template {
    entries: Vec<Entry>,
}

#[derive(Debug, Default)]
struct Entry {
    lit: Vec<u8>,
    /// Offset and length of the key's raw bytes inside `lit`.
    key_off: u32,
    key_len: u32,
    /// The context it was learned in (see [`ctx`]): first key of an
    /// object or a key after a value, and the record's own (top-level)
    /// object or a nested one; 0 while `lit` is empty. A literal only
    /// matches in the same context, so a missing comma is never accepted
    /// and a cached field never leaks between levels.
    ctx: u8,
    field: u8,
    /// The value that followed this key when the kind skipped it, with the
    /// one byte after it (so an equal run of bytes ends the value at the
    /// same place), and how many times in a row it did not match: a value
    /// that changes on every line (an id) stops being relearned.
    val: Vec<u8>,
    val_misses: u8,
}

/// Key turns remembered per line, at each level (top-level keys take
/// the first half of the entries, nested ones the second).
const TEMPLATE_KEYS: usize = 128;

/// An [`Entry`]'s context as one byte, never 0, so a hit is one compare.
#[inline(always)]
fn ctx(first: bool, top: bool) -> u8 {
    1 | (first as u8) << 1 | (top as u8) << 2
}

/// `a == b` for the short byte strings of this crate (keys, names, key
/// literals), a word at a time and inlined: a slice `==` is a call into
/// libc's memcmp, which costs more than the comparison on a few dozen bytes.
#[inline(always)]
pub fn bytes_eq(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |x: &[u8], i: usize| u64::from_le_bytes(x[i..i + 8].try_into().unwrap_or([0; 8]));
    if n >= 8 {
        // Most keys and key literals are 8 to 16 bytes: two overlapping
        // words, no loop.
        if n <= 16 {
            return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
        }
        // Key literals (`, "validate_decision_ms": `) run to 32 bytes:
        // three or four overlapping words, still no loop.
        if n <= 32 {
            return word(a, 0) == word(b, 0)
                && word(a, 8) == word(b, 8)
                && (n <= 24 || word(a, 16) == word(b, 16))
                && word(a, n - 8) == word(b, n - 8);
        }
        let mut i = 0;
        while i + 8 <= n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        // The tail as one overlapping word.
        i == n || word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        let half =
            |x: &[u8], i: usize| u32::from_le_bytes(x[i..i + 4].try_into().unwrap_or([0; 4]));
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        (0..n).all(|i| a[i] == b[i])
    }
}

/// `b[i..]` starts with `k`.
#[inline(always)]
fn starts_with_at(b: &[u8], i: usize, k: &[u8]) -> bool {
    b.get(i..i + k.len()).is_some_and(|s| bytes_eq(s, k))
}

const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A one in every byte (also the timestamp scan's).
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bit 7 of each byte of the result is set where `w` has a byte that needs a
/// look inside a string: `"`, `\`, a control byte (< 0x20) or, where `hi`
/// is [`HI`], a non-ASCII byte. Bits above the lowest set one may be false
/// positives (borrows), so callers only use the lowest.
#[inline(always)]
fn special_bytes(w: u64, hi: u64) -> u64 {
    let q = w ^ (LO * b'"' as u64);
    let s = w ^ (LO * b'\\' as u64);
    let has_q = q.wrapping_sub(LO) & !q;
    let has_s = s.wrapping_sub(LO) & !s;
    let ctrl = w.wrapping_sub(LO * 0x20) & !w;
    (has_q | has_s | ctrl | (w & hi)) & HI
}

/// From `i`, sixteen bytes at a time, the first byte [`special_bytes`]
/// would flag (`hi`: non-ASCII bytes count): `(its index, true)`, or
/// `(where fewer than sixteen bytes are left, false)`.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn plain_run16(b: &[u8], mut i: usize, hi: bool) -> (usize, bool) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    let high: u32 = if hi { 0xFFFF } else { 0 };
    while i + 16 <= b.len() {
        // SAFETY: `i + 16 <= b.len()`, so the unaligned 16-byte load reads
        // only bytes of `b`; SSE2 is part of every x86_64 target.
        let m = unsafe {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let s = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            // Unsigned v <= 0x1f: min(v, 0x1f) == v.
            let c = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(q, s), c)) as u32
                | (_mm_movemask_epi8(v) as u32 & high)
        };
        if m != 0 {
            return (i + m.trailing_zeros() as usize, true);
        }
        i += 16;
    }
    (i, false)
}

/// Elsewhere: the word-at-a-time scan goes on alone.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn plain_run16(_: &[u8], i: usize, _: bool) -> (usize, bool) {
    (i, false)
}

impl<'a, 't> Parser<'a, 't> {
    pub fn new(b: &'a [u8]) -> Self {
        Parser {
            b,
            i: 0,
            tpl: None,
            t: 0,
            n: 0,
            hi: HI,
            utf8_checked: false,
        }
    }

    /// A parser that reads keys through `tpl`, kept from line to line of
    /// one log.
    pub fn with_template(b: &'a [u8], tpl: &'t mut Template) -> Self {
        Parser {
            b,
            i: 0,
            tpl: Some(tpl),
            t: 0,
            n: 0,
            hi: HI,
            utf8_checked: false,
        }
    }

    /// The next key through the template: `first` says whether this is the
    /// first key of an object (just after `{`) or a key after a value;
    /// `general` is the full path, `classify` the kind's field lookup.
    #[inline(always)]
    fn templated(
        &mut self,
        first: bool,
        top: bool,
        general: fn(&mut Self) -> Result<Option<Span>, Skip>,
        classify: impl FnOnce(Span, &[u8]) -> u8,
    ) -> Result<Option<(Span, u8)>, Skip> {
        let (t, slot) = if top {
            (self.t, self.t)
        } else {
            (self.n, TEMPLATE_KEYS + self.n)
        };
        if let Some(tpl) = &self.tpl {
            if let Some(e) = tpl.entries.get(slot) {
                if e.ctx == ctx(first, top) && starts_with_at(self.b, self.i, &e.lit) {
                    let start = self.i as u32 + e.key_off;
                    let span = Span {
                        start,
                        end: start + e.key_len,
                    };
                    let field = e.field;
                    self.i += e.lit.len();
                    self.turn(top);
                    return Ok(Some((span, field)));
                }
            }
        }
        let from = self.i;
        let Some(k) = general(self)? else {
            return Ok(None);
        };
        let field = classify(k, self.b);
        self.turn(top);
        if let Some(tpl) = &mut self.tpl {
            if t < TEMPLATE_KEYS {
                if tpl.entries.len() <= slot {
                    tpl.entries.resize_with(slot + 1, Entry::default);
                }
                let e = &mut tpl.entries[slot];
                e.lit.clear();
                e.ctx = 0;
                e.val.clear();
                e.val_misses = 0;
                if !k.escaped() {
                    e.lit.extend_from_slice(&self.b[from..self.i]);
                    e.key_off = k.start - from as u32;
                    e.key_len = k.end - k.start;
                    e.ctx = ctx(first, top);
                    e.field = field;
                }
            }
        }
        Ok(Some((k, field)))
    }

    #[inline(always)]
    fn turn(&mut self, top: bool) {
        if top {
            self.t += 1;
        } else {
            self.n += 1;
        }
    }

    /// In the record's own object, after `{`: the first key and the field
    /// `classify` gives it (cached by the template), or `None` for `{}`.
    #[inline]
    pub fn first_field(
        &mut self,
        classify: impl FnOnce(Span, &[u8]) -> u8,
    ) -> Result<Option<(Span, u8)>, Skip> {
        self.templated(true, true, Self::first_key, classify)
    }

    /// In the record's own object, after a member's value: the next key
    /// and its field, or `None` at `}`.
    #[inline]
    pub fn next_field(
        &mut self,
        classify: impl FnOnce(Span, &[u8]) -> u8,
    ) -> Result<Option<(Span, u8)>, Skip> {
        self.templated(false, true, Self::next_key, classify)
    }

    #[inline]
    pub fn pos(&self) -> usize {
        self.i
    }

    #[inline(always)]
    fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\t' || c == b'\r' || c == b'\n' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    /// Next non-whitespace byte, not consumed.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    /// True if nothing but whitespace is left.
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    #[inline]
    fn unexpected(&self) -> Skip {
        match self.b.get(self.i) {
            None => Skip::Truncated,
            Some(_) => Skip::InvalidJson,
        }
    }

    /// Consume `{` that opens the top-level object. Blank lines are the
    /// caller's business: this sees a non-blank line.
    pub fn begin_object(&mut self) -> Result<(), Skip> {
        match self.peek() {
            Some(b'{') => {
                self.i += 1;
                Ok(())
            }
            None => Err(Skip::Truncated),
            Some(b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                // A JSON value, but not an object: validate so that garbage
                // is still called garbage.
                self.skip_value()?;
                self.finish()?;
                Err(Skip::NotObject)
            }
            Some(_) => Err(Skip::InvalidJson),
        }
    }

    /// After `{`: the first key, or `None` for `{}`. Consumes the `:`.
    #[inline]
    pub fn first_key(&mut self) -> Result<Option<Span>, Skip> {
        match self.peek() {
            Some(b'}') => {
                self.i += 1;
                Ok(None)
            }
            Some(b'"') => self.key_colon().map(Some),
            _ => Err(self.unexpected()),
        }
    }

    /// After a member's value: the next key, or `None` at `}`.
    #[inline]
    pub fn next_key(&mut self) -> Result<Option<Span>, Skip> {
        // Python's json.dumps separates members with exactly `, `: check
        // those bytes at once before the general path.
        let b = self.b;
        let i = self.i;
        if b.get(i) == Some(&b',') && b.get(i + 1) == Some(&b' ') && b.get(i + 2) == Some(&b'"') {
            self.i += 2;
            return self.key_colon().map(Some);
        }
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                match self.peek() {
                    Some(b'"') => self.key_colon().map(Some),
                    _ => Err(self.unexpected()),
                }
            }
            Some(b'}') => {
                self.i += 1;
                Ok(None)
            }
            _ => Err(self.unexpected()),
        }
    }

    #[inline]
    fn key_colon(&mut self) -> Result<Span, Skip> {
        let k = self.string()?;
        // ... and keys from values with exactly `: `.
        if self.b.get(self.i) == Some(&b':') && self.b.get(self.i + 1) == Some(&b' ') {
            self.i += 2;
            return Ok(k);
        }
        match self.peek() {
            Some(b':') => {
                self.i += 1;
                Ok(k)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A string of exactly `n` bytes at the cursor whose bytes `read`
    /// accepts, consumed with its quotes, with what `read` made of it;
    /// `None` (nothing consumed) otherwise. For values of a fixed layout
    /// (the logger's timestamps): the bytes are read once, by `read`, not
    /// scanned first. `read` must accept only printable ASCII other than
    /// `"` and `\`, so that the bytes are a valid string's content.
    #[inline(always)]
    pub(crate) fn fixed_string<T>(
        &mut self,
        n: usize,
        read: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Option<(Span, T)> {
        let i = self.i;
        if self.b.get(i) != Some(&b'"') || self.b.get(i + n + 1) != Some(&b'"') {
            return None;
        }
        let t = read(&self.b[i + 1..i + 1 + n])?;
        self.i = i + n + 2;
        Some((
            Span {
                start: (i + 1) as u32,
                end: (i + 1 + n) as u32,
            },
            t,
        ))
    }

    /// Only whitespace may follow the top-level value.
    pub fn finish(&mut self) -> Result<(), Skip> {
        if self.at_end() {
            Ok(())
        } else {
            Err(Skip::TrailingGarbage)
        }
    }

    /// A string at the cursor (which must be at `"`); returns its span.
    /// Inlined everywhere: strings are most of every line, and the call
    /// overhead was a fifth of their cost.
    #[inline(always)]
    pub fn string(&mut self) -> Result<Span, Skip> {
        debug_assert_eq!(self.b.get(self.i), Some(&b'"'));
        self.i += 1;
        let start = self.i;
        let b = self.b;
        let mut non_ascii = false;
        let mut esc = 0u32;
        let mut i = self.i;
        loop {
            // Eight bytes at a time while they are plain; a string still
            // plain after its first eight bytes is a long one, and goes on
            // sixteen at a time. (SSE2 from the first byte was measured
            // slower: 1.44 s against 1.29 s on the 2.1 GB benchmark; most
            // strings are short.)
            while i + 8 <= b.len() {
                let w = match b[i..i + 8].try_into() {
                    Ok(a) => u64::from_le_bytes(a),
                    Err(_) => break,
                };
                let m = special_bytes(w, self.hi);
                if m == 0 {
                    i += 8;
                    let (j, found) = plain_run16(b, i, self.hi != 0);
                    i = j;
                    if found {
                        break;
                    }
                } else {
                    i += (m.trailing_zeros() / 8) as usize;
                    break;
                }
            }
            let Some(&c) = b.get(i) else {
                return Err(Skip::Truncated);
            };
            match c {
                b'"' => {
                    self.i = i + 1;
                    if non_ascii && std::str::from_utf8(&b[start..i]).is_err() {
                        return Err(Skip::InvalidUtf8);
                    }
                    return Ok(Span {
                        start: start as u32,
                        end: i as u32 | esc,
                    });
                }
                b'\\' => {
                    esc = ESC;
                    i = self.escape(i + 1)?;
                }
                0x00..=0x1f => return Err(Skip::InvalidJson),
                0x80..=0xff => {
                    if !self.utf8_checked {
                        self.check_utf8(i);
                    }
                    non_ascii |= self.hi != 0;
                    i += 1;
                }
                _ => i += 1,
            }
        }
    }

    /// The line's UTF-8, checked once, at its first non-ASCII string byte
    /// `from`, from there to the end of the line. Every byte before `from`
    /// was consumed as ASCII, or as a key literal or skipped value equal to
    /// bytes already validated (whole UTF-8 characters between ASCII
    /// delimiters), so `from` starts a character and the line is valid
    /// if and only if `b[from..]` is. Valid: strings skip their own check
    /// from here on. Not valid: each string with a non-ASCII byte is checked
    /// alone, so the error is the same one, for the same string, as without
    /// this.
    #[cold]
    fn check_utf8(&mut self, from: usize) {
        self.utf8_checked = true;
        // Whole 64-byte blocks: a shorter tail costs the checker a copy and
        // a padded block. Moved back to an ASCII byte, which always starts a
        // character (and was consumed as ASCII or inside whole characters).
        let n = self.b.len();
        let back = n.saturating_sub((n - from).next_multiple_of(64));
        let from = if self.b.get(back).is_some_and(u8::is_ascii) {
            back
        } else {
            from
        };
        if simdutf8::basic::from_utf8(&self.b[from..]).is_ok() {
            self.hi = 0;
        }
    }

    /// Validate one escape; `i` is just past the backslash. Returns the index
    /// after the escape. Lone surrogates are rejected, as `serde_json` does.
    fn escape(&self, i: usize) -> Result<usize, Skip> {
        let b = self.b;
        match b.get(i) {
            None => Err(Skip::Truncated),
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(i + 1),
            Some(b'u') => {
                let cp = hex4(b, i + 1)?;
                if (0xD800..0xDC00).contains(&cp) {
                    // High surrogate: a low one must follow.
                    match (b.get(i + 5), b.get(i + 6)) {
                        (Some(b'\\'), Some(b'u')) => {
                            let lo = hex4(b, i + 7)?;
                            if (0xDC00..0xE000).contains(&lo) {
                                Ok(i + 11)
                            } else {
                                Err(Skip::InvalidJson)
                            }
                        }
                        (None, _) | (Some(b'\\'), None) => Err(Skip::Truncated),
                        _ => Err(Skip::InvalidJson),
                    }
                } else if (0xDC00..0xE000).contains(&cp) {
                    Err(Skip::InvalidJson)
                } else {
                    Ok(i + 5)
                }
            }
            Some(_) => Err(Skip::InvalidJson),
        }
    }

    /// A number at the cursor, validated against the JSON grammar, or
    /// `NaN`, `Infinity` and `-Infinity` (which Python writes for non-finite
    /// floats), returned as such; a number too large for an f64 (`1e400`)
    /// is [`Skip::OutOfRange`].
    #[inline]
    pub fn number(&mut self) -> Result<f64, Skip> {
        self.number_impl::<true>()
    }

    /// Validate a number without computing its value.
    #[inline]
    fn skip_number(&mut self) -> Result<(), Skip> {
        self.number_impl::<false>().map(|_| ())
    }

    #[inline(always)]
    fn number_impl<const VALUE: bool>(&mut self) -> Result<f64, Skip> {
        let b = self.b;
        let start = self.i;
        let mut i = self.i;
        let neg = b.get(i) == Some(&b'-');
        if neg {
            i += 1;
        }
        let mut mant: u64 = 0;
        let mut digits = 0u32;
        match b.get(i) {
            Some(b'0') => {
                i += 1;
            }
            Some(b'1'..=b'9') => {
                // Digits are counted from positions after the loop: one
                // counter less in the loop.
                let from = i;
                while let Some(&c @ b'0'..=b'9') = b.get(i) {
                    mant = mant.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                    i += 1;
                }
                digits = (i - from) as u32;
            }
            Some(b'I') if neg => {
                self.i = i;
                return self.non_finite_literal().map(|x| -x);
            }
            None => return Err(Skip::Truncated),
            _ => return Err(Skip::InvalidJson),
        }
        let mut frac = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            match b.get(i) {
                Some(b'0'..=b'9') => {}
                None => return Err(Skip::Truncated),
                _ => return Err(Skip::InvalidJson),
            }
            let from = i;
            while let Some(&c @ b'0'..=b'9') = b.get(i) {
                mant = mant.wrapping_mul(10).wrapping_add((c - b'0') as u64);
                i += 1;
            }
            frac = (i - from) as u32;
            digits += frac;
        }
        let mut exp = false;
        if let Some(b'e' | b'E') = b.get(i) {
            exp = true;
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            match b.get(i) {
                Some(b'0'..=b'9') => {}
                None => return Err(Skip::Truncated),
                _ => return Err(Skip::InvalidJson),
            }
            while let Some(b'0'..=b'9') = b.get(i) {
                i += 1;
            }
        }
        self.i = i;
        // Skipped numbers need no value, except to reject ones beyond f64
        // (`1e400`), which only an exponent or a very long mantissa makes.
        if !VALUE && !exp && digits < 300 {
            return Ok(0.0);
        }
        // Clinger's fast path: an exact integer mantissa and an exact power
        // of ten give a correctly rounded quotient.
        let v = if !exp && digits <= 15 && frac <= 22 {
            // Below 10^15, so through i64: one conversion instruction
            // (x86_64's baseline has none from u64).
            (mant as i64) as f64 / POW10[frac as usize]
        } else {
            // The bytes are ASCII digits and signs, so this is valid UTF-8.
            let s = std::str::from_utf8(&b[start..i]).map_err(|_| Skip::InvalidJson)?;
            let v: f64 = s.parse().map_err(|_| Skip::InvalidJson)?;
            if !v.is_finite() {
                return Err(Skip::OutOfRange);
            }
            return Ok(v);
        };
        Ok(if neg { -v } else { v })
    }

    /// `NaN` or `Infinity` at the cursor: Python's `json.dumps` writes
    /// them for non-finite floats and its `json.loads` reads them back, so
    /// the line is a record as the platform's scripts saw it. Whether the
    /// field it sits in may be non-finite is the kind's call.
    fn non_finite_literal(&mut self) -> Result<f64, Skip> {
        let rest = &self.b[self.i..];
        for (lit, x) in [(&b"NaN"[..], f64::NAN), (b"Infinity", f64::INFINITY)] {
            if rest.starts_with(lit) {
                self.i += lit.len();
                return Ok(x);
            }
            if lit.starts_with(rest) {
                return Err(Skip::Truncated);
            }
        }
        Err(Skip::InvalidJson)
    }

    /// `null`, `true` or `false` at the cursor (compared inline: a slice
    /// `starts_with` is a call into libc's memcmp).
    #[inline]
    fn literal(&mut self, lit: &[u8]) -> Result<(), Skip> {
        if starts_with_at(self.b, self.i, lit) {
            self.i += lit.len();
            return Ok(());
        }
        self.literal_miss(lit)
    }

    #[cold]
    fn literal_miss(&mut self, lit: &[u8]) -> Result<(), Skip> {
        let rest = &self.b[self.i..];
        if lit.starts_with(rest) {
            Err(Skip::Truncated)
        } else {
            Err(Skip::InvalidJson)
        }
    }

    /// [`Parser::value`] for a value that is nearly always a plain
    /// number (a duration, a rate): a digit at the cursor goes
    /// straight to the number, without the whitespace and type dispatch.
    #[inline(always)]
    pub fn value_mostly_number(&mut self) -> Result<Val, Skip> {
        if let Some(b'0'..=b'9') = self.b.get(self.i) {
            return self.number().map(Val::Num);
        }
        self.value()
    }

    /// Whether the value at the cursor is `true` (any other value is
    /// validated and consumed too): a flag's `true` or `false` is one
    /// compare, without [`Parser::value`]'s whitespace and type dispatch.
    #[inline(always)]
    pub fn is_true(&mut self) -> Result<bool, Skip> {
        if starts_with_at(self.b, self.i, b"true") {
            self.i += 4;
            return Ok(true);
        }
        if starts_with_at(self.b, self.i, b"false") {
            self.i += 5;
            return Ok(false);
        }
        Ok(self.value()? == Val::Bool(true))
    }

    /// [`Parser::value`] for a value that is nearly always a string (an
    /// id, a category): a quote at the cursor goes straight to the string.
    #[inline(always)]
    pub fn value_mostly_string(&mut self) -> Result<Val, Skip> {
        if let Some(b'"') = self.b.get(self.i) {
            return self.string().map(Val::Str);
        }
        self.value()
    }

    /// A categorical value: a string's span, or an integer's text (`7`,
    /// as Python's `str(7)` counts it: the platform's scripts count an
    /// integer category under its text). Any other number, and booleans
    /// and containers, are returned as values, for the caller to refuse.
    #[inline(always)]
    pub fn category_value(&mut self) -> Result<Val, Skip> {
        // A string right at the cursor first, as value_mostly_string.
        if let Some(b'"') = self.b.get(self.i) {
            return self.string().map(Val::Str);
        }
        match self.peek() {
            Some(b'"') => self.string().map(Val::Str),
            Some(b'-' | b'0'..=b'9') => {
                let start = self.i;
                let x = self.number()?;
                let text = &self.b[start..self.i];
                let digits = text.strip_prefix(b"-").unwrap_or(text);
                if !digits.is_empty() && digits.iter().all(u8::is_ascii_digit) {
                    Ok(Val::Str(Span::plain(start, self.i)))
                } else {
                    Ok(Val::Num(x))
                }
            }
            _ => self.value(),
        }
    }

    /// Any value at the cursor. Containers are validated and skipped.
    #[inline(always)]
    pub fn value(&mut self) -> Result<Val, Skip> {
        match self.peek() {
            Some(b'"') => self.string().map(Val::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Val::Num),
            Some(b'n') => self.literal(b"null").map(|_| Val::Null),
            Some(b't') => self.literal(b"true").map(|_| Val::Bool(true)),
            Some(b'f') => self.literal(b"false").map(|_| Val::Bool(false)),
            Some(b'{' | b'[') => self.skip_value().map(|_| Val::Container),
            Some(b'N' | b'I') => self.non_finite_literal().map(Val::Num),
            None => Err(Skip::Truncated),
            Some(_) => Err(Skip::InvalidJson),
        }
    }

    /// [`Parser::skip_value`] for the top-level fields a kind does not
    /// read (call it right after the field's key): a string or `null`
    /// inline at the call; an object or array that
    /// repeats byte for byte after the same key turn (a constant
    /// `model_meta`, shadow's entity summaries) is one comparison against
    /// the bytes learned from an earlier line, including the byte after
    /// it. Sound for the same reason as the key template: those bytes were
    /// validated as one whole value in the same place. (A container ends at
    /// its own bracket; the byte after is compared too so the rule would
    /// stay sound for values that are not self-delimiting, like numbers.
    /// Caching strings and `null` too cost more than it saved: ids change
    /// on every line.)
    #[inline(always)]
    pub fn skip_field(&mut self) -> Result<(), Skip> {
        match self.b.get(self.i) {
            Some(b'"') => self.string().map(|_| ()),
            // A fixed four-byte compare (`starts_with_at`, for any
            // length, measured 12 instructions a line more).
            Some(b'n') if self.b.get(self.i..self.i + 4) == Some(b"null") => {
                self.i += 4;
                Ok(())
            }
            Some(b'{' | b'[') => self.skip_container(),
            _ => self.skip_value(),
        }
    }

    /// An object or array a kind does not read: matched against the one
    /// learned after this key turn, else validated and learned.
    fn skip_container(&mut self) -> Result<(), Skip> {
        let last = self.last_top_key();
        if let Some(tpl) = &mut self.tpl {
            if let Some(e) = tpl.entries.get_mut(last) {
                if !e.val.is_empty() && starts_with_at(self.b, self.i, &e.val) {
                    self.i += e.val.len() - 1;
                    e.val_misses = 0;
                    return Ok(());
                }
            }
        }
        let from = self.i;
        self.skip_value_as::<true>()?;
        self.learn_value(from);
        Ok(())
    }

    /// The template entry of the top-level key just read (`usize::MAX`:
    /// none). [`Parser::skip_field`] is called right after it.
    #[inline]
    fn last_top_key(&self) -> usize {
        match self.t.checked_sub(1) {
            Some(s) if s < TEMPLATE_KEYS => s,
            _ => usize::MAX,
        }
    }

    /// Keep `b[from..=i]` (the value just skipped and the byte after it)
    /// for the current key turn, unless its values keep changing.
    #[inline]
    fn learn_value(&mut self, from: usize) {
        let (last, i, b) = (self.last_top_key(), self.i, self.b);
        if let Some(tpl) = &mut self.tpl {
            if let Some(e) = tpl.entries.get_mut(last) {
                if e.val_misses >= 4 || e.lit.is_empty() {
                    e.val.clear();
                    return;
                }
                e.val_misses += 1;
                e.val.clear();
                if let Some(v) = b.get(from..=i) {
                    e.val.extend_from_slice(v);
                }
            }
        }
    }

    /// In an object [`Parser::skip_value_as`] walks: the first key (just
    /// after `{`) or the next one (after a member's value), consumed with
    /// its `:`; `false` at the object's `}`.
    #[inline(always)]
    fn key_in_skip<const KEYS: bool>(&mut self, first: bool) -> Result<bool, Skip> {
        let key = match (KEYS, first) {
            (true, true) => self
                .templated(true, false, Self::first_key, |_, _| 0)?
                .is_some(),
            (true, false) => self
                .templated(false, false, Self::next_key, |_, _| 0)?
                .is_some(),
            (false, true) => self.first_key()?.is_some(),
            (false, false) => self.next_key()?.is_some(),
        };
        Ok(key)
    }

    /// Validate and skip one value of any kind, iteratively, with nesting
    /// bounded by [`MAX_DEPTH`] (so hostile nesting cannot exhaust a
    /// worker thread's stack).
    #[inline]
    pub fn skip_value(&mut self) -> Result<(), Skip> {
        self.skip_value_as::<false>()
    }

    /// [`Parser::skip_value`]; with `KEYS`, object keys are read through
    /// the template as nested keys are in [`Parser::object`], so a skipped
    /// field whose keys repeat from line to line while its values change
    /// (risk's sampled summaries) reads each key in one comparison. Without
    /// it for maps whose keys are data (shadow's entity `counts`): a key
    /// that changes on most lines costs a relearn each time, more than the
    /// hits save.
    fn skip_value_as<const KEYS: bool>(&mut self) -> Result<(), Skip> {
        // Scalars (most skipped values: ids, free text) without the
        // container machinery.
        match self.peek() {
            Some(b'"') => return self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => return self.skip_number(),
            _ => {}
        }
        // One bit a level: set for an array, clear for an object.
        let mut stack = [0u64; MAX_DEPTH / 64];
        let mut depth = 0usize;
        loop {
            // At a value position.
            match self.peek() {
                Some(c @ (b'{' | b'[')) => {
                    if depth == MAX_DEPTH {
                        return Err(Skip::TooDeep);
                    }
                    self.i += 1;
                    let is_arr = c == b'[';
                    if is_arr {
                        stack[depth / 64] |= 1 << (depth % 64);
                    } else {
                        stack[depth / 64] &= !(1 << (depth % 64));
                    }
                    depth += 1;
                    // Empty container, or the first member.
                    if is_arr {
                        if self.peek() != Some(b']') {
                            continue;
                        }
                        self.i += 1;
                        depth -= 1;
                    } else if self.key_in_skip::<KEYS>(true)? {
                        continue;
                    } else {
                        depth -= 1;
                    }
                }
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'-' | b'0'..=b'9') => {
                    self.skip_number()?;
                }
                Some(b'n') => self.literal(b"null")?,
                Some(b't') => self.literal(b"true")?,
                Some(b'f') => self.literal(b"false")?,
                Some(b'N' | b'I') => {
                    self.non_finite_literal()?;
                }
                None => return Err(Skip::Truncated),
                Some(_) => return Err(Skip::InvalidJson),
            }
            // After a complete value: close containers or move to the next
            // member.
            loop {
                if depth == 0 {
                    return Ok(());
                }
                let is_arr = stack[(depth - 1) / 64] & (1 << ((depth - 1) % 64)) != 0;
                if !is_arr {
                    // The next key, or the object's `}`.
                    if self.key_in_skip::<KEYS>(false)? {
                        break;
                    }
                    depth -= 1;
                    continue;
                }
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        break;
                    }
                    Some(b']') => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
    }

    /// Walk an object value at the cursor member by member, calling `f`
    /// with each key; `f` must consume the member's value (for example with
    /// [`Parser::value`]). A non-object value is validated and reported as
    /// `Ok(false)`.
    #[inline]
    pub fn object<F>(&mut self, mut f: F) -> Result<bool, Skip>
    where
        F: FnMut(&mut Self, Span) -> Result<(), Skip>,
    {
        if self.peek() != Some(b'{') {
            self.value()?;
            return Ok(false);
        }
        self.i += 1;
        let mut key = self.templated(true, false, Self::first_key, |_, _| 0)?;
        while let Some((k, _)) = key {
            f(self, k)?;
            key = self.templated(false, false, Self::next_key, |_, _| 0)?;
        }
        Ok(true)
    }

    /// Walk an array value at the cursor element by element, calling `f`
    /// at each; `f` must consume the element (for example with
    /// [`Parser::value`]). A non-array value is validated and reported as
    /// `Ok(false)`.
    #[inline]
    pub fn array<F>(&mut self, mut f: F) -> Result<bool, Skip>
    where
        F: FnMut(&mut Self) -> Result<(), Skip>,
    {
        if self.peek() != Some(b'[') {
            self.value()?;
            return Ok(false);
        }
        self.i += 1;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(true);
        }
        loop {
            f(self)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(true);
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

fn hex4(b: &[u8], i: usize) -> Result<u32, Skip> {
    let mut v = 0u32;
    for k in 0..4 {
        let d = match b.get(i + k) {
            None => return Err(Skip::Truncated),
            Some(&c @ b'0'..=b'9') => c - b'0',
            Some(&c @ b'a'..=b'f') => c - b'a' + 10,
            Some(&c @ b'A'..=b'F') => c - b'A' + 10,
            Some(_) => return Err(Skip::InvalidJson),
        };
        v = v * 16 + d as u32;
    }
    Ok(v)
}

/// Decode the escapes of a string the scanner already validated.
fn unescape(raw: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let c = raw[i];
        if c != b'\\' {
            out.push(c);
            i += 1;
            continue;
        }
        let e = raw.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        let ch = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i).unwrap_or(0xFFFD);
                i += 4;
                let cp = if (0xD800..0xDC00).contains(&hi) {
                    let lo = hex4(raw, i + 2).unwrap_or(0xDC00);
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF)
                } else {
                    hi
                };
                char::from_u32(cp).unwrap_or('\u{FFFD}')
            }
            _ => '\u{FFFD}',
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Validate a whole line as one JSON value (no field extraction). Used by
/// tests and by callers that only need a verdict.
pub fn validate(line: &[u8]) -> Result<(), Skip> {
    let mut p = Parser::new(line);
    p.skip_value()?;
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Result<f64, Skip> {
        let mut p = Parser::new(s.as_bytes());
        p.number()
    }

    #[test]
    fn numbers_parse_like_std() {
        for s in [
            "0",
            "-0",
            "15.4",
            "0.001",
            "123456789.123",
            "1e3",
            "1.5E-2",
            "12345678901234567890",
        ] {
            assert_eq!(num(s).unwrap(), s.parse::<f64>().unwrap(), "{s}");
        }
        assert_eq!(num("1e400"), Err(Skip::OutOfRange));
        // Python's literals for non-finite floats are numbers to it.
        assert_eq!(num("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(
            num("NaN").is_err(),
            "only after a value position, not in number()"
        );
        assert_eq!(num("-Inf"), Err(Skip::Truncated));
        assert_eq!(num("01").unwrap(), 0.0); // the caller sees the trailing 1
        assert_eq!(num("1."), Err(Skip::Truncated));
        assert_eq!(num("1.x"), Err(Skip::InvalidJson));
        assert_eq!(num("-"), Err(Skip::Truncated));
    }

    /// Every length of integer and fraction part, before every kind of
    /// byte that can end a digit run (and at the end of the line): value
    /// and end position equal std's. (It caught an eight-at-a-time digit
    /// parser that missed ':' after a run; that parser cost more
    /// instructions than the byte loop on these short numbers and was
    /// dropped.)
    #[test]
    fn digit_runs_end_where_the_digits_do() {
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut digit = |first: bool| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = (x % 10) as u8;
            (b'0' + if first && d == 0 { 7 } else { d }) as char
        };
        for int_len in 1..=20 {
            for frac_len in 0..=20 {
                let mut n = String::new();
                for k in 0..int_len {
                    n.push(digit(k == 0));
                }
                if frac_len > 0 {
                    n.push('.');
                    for _ in 0..frac_len {
                        n.push(digit(false));
                    }
                }
                for end in [
                    "",
                    ",",
                    "}",
                    " ",
                    "/",
                    ":",
                    "\u{7f}",
                    "\u{e9}",
                    "]0123456789",
                ] {
                    let line = format!("{n}{end}");
                    let mut p = Parser::new(line.as_bytes());
                    let v = p.number().unwrap();
                    assert_eq!(p.pos(), n.len(), "{line}");
                    assert_eq!(v, n.parse::<f64>().unwrap(), "{line}");
                }
            }
        }
    }

    /// Strings long enough for the sixteen-byte steps, with one byte of
    /// each kind the scan must stop at placed at every offset, behind
    /// plain ASCII and behind valid non-ASCII text (which turns the
    /// line's UTF-8 check on): the verdict is serde_json's, and where the
    /// string ends is where the first quote is.
    #[test]
    fn the_string_scan_sees_every_byte_at_every_offset() {
        let specials: [&[u8]; 9] = [
            b"\"",
            b"\\n",
            b"\\u00e9",
            b"\\x",
            b"\x01",
            b"\x1f",
            b"\x80",
            b"\xc3",
            "é".as_bytes(),
        ];
        for lead in ["", "é"] {
            for n in 0..70usize {
                for k in 0..=n {
                    for sp in specials {
                        let mut body: Vec<u8> = lead.as_bytes().to_vec();
                        body.extend((0..n).map(|j| b'a' + (j % 26) as u8));
                        let at = lead.len() + k;
                        body.splice(at..at, sp.iter().copied());
                        let mut line = b"\"".to_vec();
                        line.extend_from_slice(&body);
                        line.extend_from_slice(b"\" ");
                        let want = serde_json::from_slice::<serde_json::Value>(&line).is_ok();
                        assert_eq!(
                            validate(&line).is_ok(),
                            want,
                            "{:?}",
                            String::from_utf8_lossy(&line)
                        );
                        let mut p = Parser::new(&line);
                        if let Ok(span) = p.string() {
                            let first_quote =
                                1 + body.iter().position(|&c| c == b'"').unwrap_or(body.len());
                            if !span.escaped() {
                                assert_eq!(
                                    span.len(),
                                    first_quote - 1,
                                    "{:?}",
                                    String::from_utf8_lossy(&line)
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    /// The line's UTF-8 check starts at the first non-ASCII string byte
    /// (moved back to whole 64-byte blocks): behind keys read through the
    /// template, some with non-ASCII names, and padding of every length,
    /// a line is accepted exactly when serde_json accepts it, whichever
    /// string holds the first non-ASCII byte and whether it or a later one
    /// is invalid.
    #[test]
    fn the_utf8_check_from_the_first_non_ascii_byte_agrees_with_serde_json() {
        fn walk(p: &mut Parser<'_, '_>) -> Result<(), Skip> {
            p.begin_object()?;
            let mut k = p.first_field(|_, _| 0)?;
            while k.is_some() {
                p.value()?;
                k = p.next_field(|_, _| 0)?;
            }
            p.finish()
        }
        let texts: [&[u8]; 9] = [
            b"plain",
            "\u{e9}t\u{e9}".as_bytes(),
            "\u{416}\u{416}".as_bytes(),
            "\u{1f3b5}".as_bytes(),
            b"\xc3",
            b"\x80a",
            b"\xc0\xaf",
            b"\xed\xa0\x80",
            b"\xf4\x90\x80\x80",
        ];
        for key in ["k", "cl\u{e9}", "\u{1f3b5}x"] {
            let mut tpl = Template::default();
            for pad in 0..150usize {
                for (a, b) in texts.iter().flat_map(|a| texts.iter().map(move |b| (a, b))) {
                    let mut line =
                        format!("{{\"{key}\": \"{}\", \"v\": \"", "p".repeat(pad)).into_bytes();
                    line.extend_from_slice(a);
                    line.extend_from_slice(b"\", \"w\": \"");
                    line.extend_from_slice(b);
                    line.extend_from_slice(b"\"}");
                    let want = serde_json::from_slice::<serde_json::Value>(&line).is_ok();
                    let got = walk(&mut Parser::with_template(&line, &mut tpl)).is_ok();
                    assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&line));
                }
            }
        }
    }

    /// Every length through the word, half-word and byte paths: equal
    /// strings compare equal, and a difference at any one position (or a
    /// different length) does not.
    #[test]
    fn bytes_eq_sees_every_byte() {
        for n in 0..40usize {
            let a: Vec<u8> = (0..n as u8).map(|k| b'a' + k % 26).collect();
            assert!(bytes_eq(&a, &a.clone()), "{n}");
            for k in 0..n {
                let mut b = a.clone();
                b[k] ^= 0x20;
                assert!(!bytes_eq(&a, &b), "length {n}, byte {k}");
            }
            assert!(!bytes_eq(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
    }

    #[test]
    fn strings_and_escapes() {
        let line = br#""a\"b\u00e9\ud83d\ude00""#;
        let mut p = Parser::new(line);
        let s = p.string().unwrap();
        assert!(s.escaped());
        assert_eq!(s.text(line), "a\"bé😀");
        assert_eq!(validate(br#""\ud800""#), Err(Skip::InvalidJson));
        assert_eq!(validate(b"\"a\x01\""), Err(Skip::InvalidJson));
        assert_eq!(validate(b"\"\xff\""), Err(Skip::InvalidUtf8));
        assert_eq!(validate(b"\"abc"), Err(Skip::Truncated));
    }

    #[test]
    fn text_comparisons_agree_with_the_decoded_text() {
        // Plain, escaped, non-ASCII, and the same text written both ways.
        let line = r#"["ok", "\u006fk", "o", "ok ", "é", "\u00e9", "", "ok\"", "ok\\"]"#;
        let line = line.as_bytes();
        let mut p = Parser::new(line);
        let mut spans = Vec::new();
        p.array(|p| {
            if let Val::Str(s) = p.value()? {
                spans.push(s);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(spans.len(), 9);
        for a in &spans {
            for want in ["ok", "o", "ok ", "é", "", "ok\"", "ok\\"] {
                assert_eq!(a.text_is(line, want), a.text(line) == want);
            }
            for b in &spans {
                assert_eq!(a.same_text(b, line), a.text(line) == b.text(line));
            }
        }
        assert!(spans[1].text_is(line, "ok") && spans[0].same_text(&spans[1], line));
        assert!(spans[4].same_text(&spans[5], line));
    }

    #[test]
    fn the_shortcuts_read_values_as_value_does() {
        let inputs: &[&[u8]] = &[
            b"true",
            b"false",
            b"null",
            b" true",
            b"\ttrue",
            b"tru",
            b"fals",
            b"t",
            b"",
            b"truex",
            b"falsey",
            b"True",
            b"\"true\"",
            b"\"a\\\"b\"",
            b"\"\xff\"",
            b"\"ab",
            b"12.5",
            b"-0",
            b"0.1e2",
            b"1e400",
            b"01",
            b"-",
            b"{\"a\": true}",
            b"[true]",
            b"[tru",
            b"NaN",
            b"-Infinity",
        ];
        for &input in inputs {
            let mut a = Parser::new(input);
            let want = a.value();
            let after = a.pos();
            let mut b = Parser::new(input);
            let got = b.is_true();
            assert_eq!(got, want.map(|v| v == Val::Bool(true)), "{input:?}");
            if got.is_ok() {
                assert_eq!(b.pos(), after, "{input:?}");
            }
            for shortcut in [Parser::value_mostly_number, Parser::value_mostly_string] {
                let mut c = Parser::new(input);
                let got = shortcut(&mut c);
                assert_eq!(
                    got.map(|v| format!("{v:?}")),
                    want.map(|v| format!("{v:?}")),
                    "{input:?}"
                );
                if got.is_ok() {
                    assert_eq!(c.pos(), after, "{input:?}");
                }
            }
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert_eq!(validate(ok.as_bytes()), Ok(()));
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(validate(deep.as_bytes()), Err(Skip::TooDeep));
        let huge = "[".repeat(1_000_000);
        assert_eq!(validate(huge.as_bytes()), Err(Skip::TooDeep));
    }

    #[test]
    fn structure() {
        assert_eq!(validate(br#"{"a":[1,{"b":null}],"c":true}"#), Ok(()));
        assert_eq!(validate(br#"{"a":1,}"#), Err(Skip::InvalidJson));
        assert_eq!(validate(br#"{"a":1} x"#), Err(Skip::TrailingGarbage));
        assert_eq!(validate(br#"{"a":1"#), Err(Skip::Truncated));
        assert_eq!(validate(br#"[1 2]"#), Err(Skip::InvalidJson));
        assert_eq!(validate(br#"{"a" 1}"#), Err(Skip::InvalidJson));
    }
}
