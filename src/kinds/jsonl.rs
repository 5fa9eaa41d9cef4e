//! Any JSONL log (`aggmetrics stats`): numeric values by dotted path,
//! grouped by the values of other fields, with counts of categorical
//! fields; the same validating single pass, histograms, damaged-line
//! accounting, windows and mergeable state as the platform's own kinds.
//!
//! What is read is given by a [`Spec`] (the command line), which reaches
//! the parser and accumulator as the read's kind option. A record is
//! damaged only when its line is not a JSON object; a field that is
//! missing or holds the wrong type is counted per value (`missing`,
//! `invalid`), never a damaged line. The time field is optional: a record
//! without a readable time counts when no window and no buckets are asked
//! for, and is outside them otherwise.
//!
//! Only the values of the `--by` and `--count` fields are ever printed
//! (the user chose them); every other field is validated and skipped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{Cx, Kind, Parsed};
use crate::measure::dist::{Dist, Mode};
use crate::measure::distinct::{self, Distinct};
use crate::measure::figures::{self, Stats};
use crate::measure::keyed::{Keyed, Merge, MAX_KEYS};
use crate::measure::time::TimeRange;
use crate::measure::view::{self, thousands, Block, View};
use crate::parse::{bytes_eq, key_name, Parser, Skip, Span, Template, Timestamp, Val};
use crate::parse::timestamp::{self, TimeUnit};
use super::filter::{Cond, Field};

/// Most groups kept; records of further groups are counted in
/// `groups_dropped` (the kept set does not depend on input order). Each
/// group keeps a histogram per value (tens of KiB each), so this bounds
/// memory when a --by field has a value per record (an id).
pub const MAX_GROUPS: usize = 1_000;
/// Most `*` segments in one path.
const MAX_STARS: usize = 4;
/// Most paths in a spec (values, by, count together).
const MAX_PATHS: usize = 64;
/// The largest value kept (values are non-negative numbers: durations,
/// sizes, counts), with three decimals kept.
pub const MAX_VALUE: f64 = crate::parse::MAX_DURATION_MS;

/// What a `--value` holds, from its suffix (`duration:s`): how a number
/// is scaled and whether a string may hold one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A JSON number, as written (a string is invalid).
    Plain,
    /// A number, or a string holding one (`"0.123"`, nginx's quoted
    /// `request_time`).
    Number,
    /// A duration in this many milliseconds per unit (`:s` 1000, `:ms`
    /// 1, `:us` 0.001, `:ns` 1e-6), kept in milliseconds; a string may
    /// carry its own unit (`"12ms"`, `"1.5s"`).
    Duration(UnitScale),
    /// A size in bytes; a string may carry a unit (`"3KB"`, `"2MiB"`).
    Bytes,
}

/// A duration unit's milliseconds, as an exact enum (floats are not Eq).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitScale {
    S,
    Ms,
    Us,
    Ns,
}

impl UnitScale {
    fn ms(self) -> f64 {
        match self {
            UnitScale::S => 1000.0,
            UnitScale::Ms => 1.0,
            UnitScale::Us => 1e-3,
            UnitScale::Ns => 1e-6,
        }
    }
}

impl Unit {
    /// A value path and its unit: `duration:s` -> (`duration`, seconds).
    /// A `:` inside quotes or before an unknown word is part of the path.
    pub fn split(v: &str) -> (&str, Unit) {
        let Some((path, suffix)) = v.rsplit_once(':') else {
            return (v, Unit::Plain);
        };
        if path.matches('"').count() % 2 == 1 {
            return (v, Unit::Plain);
        }
        let u = match suffix {
            "number" => Unit::Number,
            "s" => Unit::Duration(UnitScale::S),
            "ms" => Unit::Duration(UnitScale::Ms),
            "us" => Unit::Duration(UnitScale::Us),
            "ns" => Unit::Duration(UnitScale::Ns),
            "bytes" => Unit::Bytes,
            _ => return (v, Unit::Plain),
        };
        (path, u)
    }

    /// The unit the report states for the value.
    pub fn shown(self) -> Option<&'static str> {
        match self {
            Unit::Duration(_) => Some("ms"),
            Unit::Bytes => Some("bytes"),
            Unit::Plain | Unit::Number => None,
        }
    }

    /// A number read as this unit.
    fn num(self, x: f64) -> f64 {
        match self {
            Unit::Duration(s) => x * s.ms(),
            _ => x,
        }
    }

    /// A string read as this unit: `None` when it holds no number (or a
    /// unit of another kind).
    fn text(self, t: &str) -> Option<f64> {
        let t = t.trim();
        if self == Unit::Plain {
            return None;
        }
        let end = t
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
            .unwrap_or(t.len());
        // An exponent's `e` may start a unit (none does here).
        let (num, unit) = t.split_at(end);
        let x: f64 = num.parse().ok().filter(|x: &f64| x.is_finite())?;
        let unit = unit.trim();
        match self {
            Unit::Number => unit.is_empty().then_some(x),
            Unit::Duration(s) => {
                let ms = match unit {
                    "" => s.ms(),
                    "ns" => 1e-6,
                    "us" | "µs" => 1e-3,
                    "ms" => 1.0,
                    "s" => 1000.0,
                    "m" | "min" => 60_000.0,
                    "h" => 3_600_000.0,
                    _ => return None,
                };
                Some(x * ms)
            }
            Unit::Bytes => {
                let b = match unit {
                    "" | "B" | "b" => 1.0,
                    "KB" | "kB" | "K" | "k" => 1e3,
                    "MB" | "M" => 1e6,
                    "GB" | "G" => 1e9,
                    "TB" | "T" => 1e12,
                    "KiB" => 1024.0,
                    "MiB" => 1_048_576.0,
                    "GiB" => 1_073_741_824.0,
                    "TiB" => 1_099_511_627_776.0,
                    _ => return None,
                };
                Some(x * b)
            }
            Unit::Plain => None,
        }
    }
}

/// What to read from each record.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// The value paths, without their unit suffix.
    pub values: Vec<String>,
    /// Each value's unit (`--value duration:s`).
    pub units: Vec<Unit>,
    /// The values as written, with their suffix (what a state remembers).
    value_texts: Vec<String>,
    /// Where each value path's `*` segments are in its text.
    stars: Vec<Vec<std::ops::Range<usize>>>,
    pub by: Vec<String>,
    pub count: Vec<String>,
    /// `--distinct` fields: how many values each took.
    pub distinct: Vec<String>,
    /// `--where` conditions, all of which a record must pass to count.
    pub wheres: Vec<Cond>,
    /// The conditions as written (what a state remembers).
    where_texts: Vec<String>,
    pub time: String,
    /// What a number in the time field counts.
    pub time_unit: TimeUnit,
    /// Most groups shown (the heaviest); the rest are folded into
    /// `(other)`.
    pub max_groups: usize,
    /// Most values shown per `--count` field (the most frequent); the
    /// rest are one `(other)`.
    pub top: usize,
    /// The groups to keep, chosen by their records on a first read (see
    /// [`Part::heaviest_unkept`]); the others go to `(other)` at once.
    pub keep: Option<std::sync::Arc<std::collections::HashSet<Box<str>>>>,
    tree: Node,
}

/// The paths as a tree of key names: each node says what its value is.
#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    children: Vec<(Box<[u8]>, Node)>,
    star: Option<Box<Node>>,
    /// Array elements by index (`[0]`), and every element (`[*]`).
    items: Vec<(u32, Node)>,
    each: Option<Box<Node>>,
    roles: Vec<Role>,
    /// Every role at this node and below it: what a repeated member
    /// that leads here undoes (see [`Scratch::undo`]).
    below: Vec<Role>,
}

impl Node {
    fn gather(&mut self) -> Vec<Role> {
        let mut all = self.roles.clone();
        for c in self.nodes_mut() {
            all.extend(c.gather());
        }
        self.below = all.clone();
        all
    }

    fn nodes_mut(&mut self) -> impl Iterator<Item = &mut Node> {
        let named = self.children.iter_mut().map(|(_, c)| c);
        let items = self.items.iter_mut().map(|(_, c)| c);
        named
            .chain(items)
            .chain(self.star.as_deref_mut())
            .chain(self.each.as_deref_mut())
    }

    /// Whether the value here is read into (an object's members or an
    /// array's elements), not taken whole.
    fn nested(&self) -> bool {
        !self.children.is_empty() || self.star.is_some() || self.has_items()
    }

    fn has_items(&self) -> bool {
        !self.items.is_empty() || self.each.is_some()
    }

    /// An element is read once, by its index's node or else by `[*]`'s:
    /// so the index's node takes in what `[*]` reads too, everywhere in
    /// the tree.
    fn fold_each(&mut self) {
        if let Some(each) = self.each.as_deref() {
            let each = each.clone();
            for (_, c) in &mut self.items {
                c.take_in(&each);
            }
        }
        for c in self.nodes_mut() {
            c.fold_each();
        }
    }

    fn take_in(&mut self, o: &Node) {
        self.roles.extend(o.roles.iter().copied());
        for (k, c) in &o.children {
            match self.children.iter_mut().find(|(n, _)| n == k) {
                Some((_, d)) => d.take_in(c),
                None => self.children.push((k.clone(), c.clone())),
            }
        }
        for (k, c) in &o.items {
            match self.items.iter_mut().find(|(n, _)| n == k) {
                Some((_, d)) => d.take_in(c),
                None => self.items.push((*k, c.clone())),
            }
        }
        for (mine, theirs) in [(&mut self.star, &o.star), (&mut self.each, &o.each)] {
            if let Some(c) = theirs {
                mine.get_or_insert_with(Box::default).take_in(c);
            }
        }
    }
}

// A named child's index is a bit of a u64 (see `members`): a node has at
// most one child per path.
const _: () = assert!(MAX_PATHS <= 64);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    Value(u16),
    By(u16),
    Count(u16),
    Distinct(u16),
    Where(u16),
    Time,
}

/// The spec as stored with the figures (a state remembers what it counted:
/// states of different specs do not add up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecDesc {
    pub values: Vec<String>,
    pub by: Vec<String>,
    pub count: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distinct: Vec<String>,
    /// The `--where` conditions as written.
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub wheres: Vec<String>,
    pub time: String,
    #[serde(default, skip_serializing_if = "TimeUnit::is_auto")]
    pub time_unit: TimeUnit,
    #[serde(default = "max_groups", skip_serializing_if = "is_max_groups")]
    pub max_groups: usize,
    #[serde(default = "top", skip_serializing_if = "is_top")]
    pub top: usize,
}

fn top() -> usize {
    MAX_KEYS
}

fn is_top(n: &usize) -> bool {
    *n == MAX_KEYS
}

fn max_groups() -> usize {
    MAX_GROUPS
}

fn is_max_groups(n: &usize) -> bool {
    *n == MAX_GROUPS
}

impl SpecDesc {
    /// The value paths without their unit suffix, with their units.
    pub fn value_paths(&self) -> Vec<(&str, Unit)> {
        self.values.iter().map(|v| Unit::split(v)).collect()
    }
}

impl Spec {
    /// Check and compile the paths. `*` (a whole segment) is allowed in
    /// values only; a leading `.` is dropped (`.hour` names a field
    /// `hour` where a bare word would mean something else).
    pub fn new(
        values: &[String],
        by: &[String],
        count: &[String],
        time: &str,
    ) -> Result<Spec, SpecError> {
        Spec::filtered(values, by, count, &[], time)
    }

    /// [`Spec::new`] with `--where` conditions ([`Cond::parse`]).
    pub fn filtered(
        values: &[String],
        by: &[String],
        count: &[String],
        wheres: &[String],
        time: &str,
    ) -> Result<Spec, SpecError> {
        Spec::build(values, by, count, wheres, time, false)
    }

    /// [`Spec::filtered`] that may count records only (`stats --by hour`
    /// alone: records per hour).
    pub fn records_only(
        values: &[String],
        by: &[String],
        count: &[String],
        wheres: &[String],
        time: &str,
    ) -> Result<Spec, SpecError> {
        Spec::build(values, by, count, wheres, time, true)
    }

    fn build(
        values: &[String],
        by: &[String],
        count: &[String],
        wheres: &[String],
        time: &str,
        records_only: bool,
    ) -> Result<Spec, SpecError> {
        Spec::build_all(values, by, count, &[], wheres, time, records_only)
    }

    /// The spec also counting the distinct values of `paths`
    /// (`--distinct`; `[*]` counts each element).
    pub fn with_distinct(self, paths: &[String]) -> Result<Spec, SpecError> {
        if paths.is_empty() {
            return Ok(self);
        }
        let s = Spec::build_all(
            &self.value_texts,
            &self.by,
            &self.count,
            paths,
            &self.where_texts,
            &self.time,
            true,
        )?;
        Ok(Spec {
            time_unit: self.time_unit,
            max_groups: self.max_groups,
            top: self.top,
            keep: self.keep,
            ..s
        })
    }

    fn build_all(
        values: &[String],
        by: &[String],
        count: &[String],
        distinct: &[String],
        wheres: &[String],
        time: &str,
        records_only: bool,
    ) -> Result<Spec, SpecError> {
        let mut conds = Vec::new();
        for w in wheres {
            let mut c = Cond::parse(w).map_err(SpecError::Where)?;
            c.path = c.path.strip_prefix('.').unwrap_or(&c.path).to_string();
            conds.push(c);
        }
        let clean = |p: &String| p.strip_prefix('.').unwrap_or(p).to_string();
        let value_texts: Vec<String> = values.iter().map(clean).collect();
        let (values, units): (Vec<String>, Vec<Unit>) = value_texts
            .iter()
            .map(|v| {
                let (p, u) = Unit::split(v);
                (p.to_string(), u)
            })
            .unzip();
        let by: Vec<String> = by.iter().map(clean).collect();
        let count: Vec<String> = count.iter().map(clean).collect();
        let distinct: Vec<String> = distinct.iter().map(clean).collect();
        let time = time.strip_prefix('.').unwrap_or(time).to_string();
        if values.is_empty() && by.is_empty() && count.is_empty() && conds.is_empty() && !records_only {
            return Err(SpecError::Nothing);
        }
        if values.len() + by.len() + count.len() + distinct.len() + conds.len() > MAX_PATHS {
            return Err(SpecError::TooManyPaths);
        }
        for list in [&values, &by, &count, &distinct] {
            if let Some(p) = list
                .iter()
                .enumerate()
                .find_map(|(i, p)| list[..i].contains(p).then_some(p))
            {
                return Err(SpecError::Twice(p.clone()));
            }
        }
        let mut tree = Node::default();
        let mut add = |path: &str, role: Role, star_ok: bool| -> Result<(), SpecError> {
            let segs = segments(path)?;
            let stars = segs.iter().filter(|s| **s == Seg::Star).count();
            if stars > 0 && !star_ok {
                return Err(SpecError::StarNotValue(path.to_string()));
            }
            let each_ok = matches!(role, Role::Value(_) | Role::Count(_) | Role::Distinct(_));
            if !each_ok && segs.contains(&Seg::Each) {
                return Err(SpecError::EachNotHere(path.to_string()));
            }
            if stars > MAX_STARS {
                return Err(SpecError::TooManyStars(path.to_string()));
            }
            let mut node = &mut tree;
            for s in segs {
                node = match s {
                    Seg::Star => node.star.get_or_insert_with(Box::default),
                    Seg::Each => node.each.get_or_insert_with(Box::default),
                    Seg::Index(n) => {
                        let i = match node.items.iter().position(|(m, _)| *m == n) {
                            Some(i) => i,
                            None => {
                                node.items.push((n, Node::default()));
                                node.items.len() - 1
                            }
                        };
                        &mut node.items[i].1
                    }
                    Seg::Key(k) => {
                        let i = match node.children.iter().position(|(n, _)| **n == *k.as_bytes()) {
                            Some(i) => i,
                            None => {
                                node.children.push((k.as_bytes().into(), Node::default()));
                                node.children.len() - 1
                            }
                        };
                        &mut node.children[i].1
                    }
                };
            }
            if node.roles.contains(&role) {
                return Err(SpecError::Twice(path.to_string()));
            }
            node.roles.push(role);
            Ok(())
        };
        for (i, v) in values.iter().enumerate() {
            add(v, Role::Value(i as u16), true)?;
        }
        for (i, v) in by.iter().enumerate() {
            add(v, Role::By(i as u16), false)?;
        }
        for (i, v) in count.iter().enumerate() {
            add(v, Role::Count(i as u16), false)?;
        }
        for (i, v) in distinct.iter().enumerate() {
            add(v, Role::Distinct(i as u16), false)?;
        }
        for (i, c) in conds.iter().enumerate() {
            // Two conditions on one field are one path with two roles.
            let role = Role::Where(i as u16);
            add(&c.path, role, false)?;
        }
        add(&time, Role::Time, false)?;
        tree.fold_each();
        tree.gather();
        let stars = values
            .iter()
            .map(|v| {
                let segs = segments_at(v).unwrap_or_default();
                segs.into_iter()
                    .filter(|(s, _)| *s == Seg::Star)
                    .map(|(_, at)| at)
                    .collect()
            })
            .collect();
        Ok(Spec {
            stars,
            values,
            units,
            value_texts,
            by,
            count,
            distinct,
            wheres: conds,
            where_texts: wheres.to_vec(),
            time,
            time_unit: TimeUnit::Auto,
            max_groups: MAX_GROUPS,
            top: MAX_KEYS,
            keep: None,
            tree,
        })
    }

    /// The spec reading numbers in its time field in `unit`.
    pub fn with_time_unit(mut self, unit: TimeUnit) -> Spec {
        self.time_unit = unit;
        self
    }

    /// The spec showing at most `n` groups (at least one).
    pub fn with_max_groups(mut self, n: usize) -> Spec {
        self.max_groups = n.max(1);
        self
    }

    /// The spec showing at most `n` values per `--count` field (at
    /// least one; no more than are kept, [`MAX_KEYS`]).
    pub fn with_top(mut self, n: usize) -> Spec {
        self.top = n.clamp(1, MAX_KEYS);
        self
    }

    /// The spec keeping only the groups `keep` names (a second read).
    pub fn keeping(mut self, keep: std::collections::HashSet<Box<str>>) -> Spec {
        self.keep = Some(std::sync::Arc::new(keep));
        self
    }

    pub fn desc(&self) -> SpecDesc {
        SpecDesc {
            values: self.value_texts.clone(),
            by: self.by.clone(),
            count: self.count.clone(),
            distinct: self.distinct.clone(),
            wheres: self.where_texts.clone(),
            time: self.time.clone(),
            time_unit: self.time_unit,
            max_groups: self.max_groups,
            top: self.top,
        }
    }
}

/// Why the paths of a spec cannot be read (a usage error; the paths are
/// the user's own, so they are quoted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("nothing to compute: give --value PATH, --by PATH or --count PATH")]
    Nothing,
    #[error("more than {MAX_PATHS} paths")]
    TooManyPaths,
    #[error("'{0}' is given twice")]
    Twice(String),
    #[error("'{0}': a path is key names joined by dots, such as timing.total_ms")]
    NotAPath(String),
    #[error("'{0}': `*` (every key of an object) is for --value only")]
    StarNotValue(String),
    #[error("'{0}': at most {MAX_STARS} `*` segments")]
    TooManyStars(String),
    #[error("'{0}': a quoted key has no closing `\"`; a key with dots is written in quotes, as '\"id.resp_p\"' or 'log.\"level\"'")]
    Unclosed(String),
    #[error("'{0}': `[` takes an array index or `*`, as tags[0] or answers[*].ttl; a key holding `[` is written in quotes, as '\"a[0]\"'")]
    Bracket(String),
    #[error("'{0}': `[*]` (every element of an array) is for --value, --count and --distinct only")]
    EachNotHere(String),
    #[error(transparent)]
    Where(#[from] crate::kinds::filter::FilterError),
}

/// One segment of a path: a key name (its bytes as in the log), `*`, an
/// array index (`[0]`) or every element of an array (`[*]`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Star,
    Index(u32),
    Each,
}

/// A path's segments. Keys are joined by dots; a key holding a dot, `*`,
/// `[` or `"` is written in double quotes, with `\"` and `\\` inside
/// (`"id.resp_p"`, `log."level"`), as jq writes `."id.resp_p"`; a bare
/// `*` is every key of an object. After a key, `[N]` is the array's
/// element N (from 0) and `[*]` each of its elements (`answers[*].ttl`).
fn segments(path: &str) -> Result<Vec<Seg>, SpecError> {
    Ok(segments_at(path)?.into_iter().map(|(s, _)| s).collect())
}

/// [`segments`] with where each starts and ends in `path`.
fn segments_at(path: &str) -> Result<Vec<(Seg, std::ops::Range<usize>)>, SpecError> {
    let not_a_path = || SpecError::NotAPath(path.to_string());
    let mut out = Vec::new();
    let mut chars = path.char_indices().peekable();
    let at = |c: &mut std::iter::Peekable<std::str::CharIndices>| c.peek().map_or(path.len(), |(i, _)| *i);
    loop {
        let start = at(&mut chars);
        let seg = if chars.peek().map(|c| c.1) == Some('"') {
            chars.next();
            let mut key = String::new();
            loop {
                match chars.next().map(|c| c.1) {
                    None => return Err(SpecError::Unclosed(path.to_string())),
                    Some('"') => break,
                    Some('\\') => match chars.next().map(|c| c.1) {
                        Some(c @ ('"' | '\\')) => key.push(c),
                        _ => return Err(not_a_path()),
                    },
                    Some(c) => key.push(c),
                }
            }
            if key.is_empty() {
                return Err(not_a_path());
            }
            Seg::Key(key)
        } else {
            let mut key = String::new();
            while let Some(&(_, c)) = chars.peek() {
                match c {
                    '.' | '[' => break,
                    '"' | ']' => return Err(not_a_path()),
                    _ => key.push(c),
                }
                chars.next();
            }
            match key.as_str() {
                "" => return Err(not_a_path()),
                "*" => Seg::Star,
                _ => Seg::Key(key),
            }
        };
        out.push((seg, start..at(&mut chars)));
        // Indexes after the key: `[0]`, `[*]`, `[1][2]`.
        while chars.peek().map(|c| c.1) == Some('[') {
            let start = at(&mut chars);
            chars.next();
            let mut inner = String::new();
            loop {
                match chars.next().map(|c| c.1) {
                    None => return Err(SpecError::Bracket(path.to_string())),
                    Some(']') => break,
                    Some(c) => inner.push(c),
                }
            }
            let seg = match inner.as_str() {
                "*" => Seg::Each,
                n if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                    match n.parse::<u32>() {
                        Ok(i) => Seg::Index(i),
                        Err(_) => return Err(SpecError::Bracket(path.to_string())),
                    }
                }
                _ => return Err(SpecError::Bracket(path.to_string())),
            };
            out.push((seg, start..at(&mut chars)));
        }
        match chars.next().map(|c| c.1) {
            None => return Ok(out),
            Some('.') => {}
            Some(_) => return Err(not_a_path()),
        }
    }
}

/// Logs named in a kinds file, each read as any JSONL log with its own
/// spec and reported as its own section (see docs/any-log.md).
#[derive(Debug, Clone)]
pub struct UserKinds {
    pub kinds: Vec<UserKind>,
    /// The user kind of each input of the read (an index into `kinds`), by
    /// input index.
    pub file_kind: Vec<u16>,
}

#[derive(Debug, Clone)]
pub struct UserKind {
    /// The section's name in reports (`assist`).
    pub name: String,
    /// Files whose names match this glob (`*`, `?`), as they are or
    /// without a compression and a rotation suffix, are this kind
    /// ([`crate::input::user_kind_of`]).
    pub files: String,
    pub spec: Spec,
}

/// Names no user kind may take: the built-in kinds' and the report's own
/// keys.
const RESERVED: &[&str] = &["jsonl", "time_range", "skipped", "meta", "buckets"];

impl UserKind {
    /// The kinds of a kinds file (TOML):
    ///
    /// ```toml
    /// [[kind]]
    /// name = "assist"            # the section's name
    /// files = "assist*.jsonl"    # which files in a folder are this kind
    /// time = "timestamp"         # optional, default timestamp
    /// values = ["latency_ms"]    # as --value
    /// by = ["step"]              # as --by (a field; no hour/day)
    /// count = ["status"]         # as --count
    /// ```
    pub fn parse_file(text: &str) -> Result<Vec<UserKind>, String> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            #[serde(default)]
            kind: Vec<Def>,
        }
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Def {
            name: String,
            files: String,
            #[serde(default = "default_time")]
            time: String,
            #[serde(default)]
            time_unit: TimeUnit,
            #[serde(default)]
            values: Vec<String>,
            #[serde(default)]
            by: Vec<String>,
            #[serde(default)]
            count: Vec<String>,
            #[serde(default)]
            distinct: Vec<String>,
            #[serde(default = "max_groups")]
            max_groups: usize,
            #[serde(default = "top")]
            top: usize,
            #[serde(default, rename = "where")]
            wheres: Vec<String>,
        }
        fn default_time() -> String {
            "timestamp".into()
        }
        let f: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut out: Vec<UserKind> = Vec::new();
        for d in f.kind {
            let n = &d.name;
            let valid = n.starts_with(|c: char| c.is_ascii_lowercase())
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                return Err(format!(
                    "kind '{n}': a name is lower-case letters, digits and _ (it names the report's section)"
                ));
            }
            let builtin = super::LogKind::ALL.iter().any(|(k, _)| k.name() == n);
            if builtin || RESERVED.contains(&n.as_str()) {
                return Err(format!(
                    "kind '{n}': that name is taken by aggmetrics' own report"
                ));
            }
            if out.iter().any(|k| k.name == *n) {
                return Err(format!("kind '{n}' is defined twice"));
            }
            let files = d.files.as_str();
            if files.is_empty() || files.contains(['/', '[', ']', '{', '}']) || files == "*" {
                return Err(format!(
                    "kind '{n}': files = \"{files}\" should be a file-name pattern with * and ?, such as \"eve*.json\" or \"conn.*.log\" (no folder, no [ ] or {{ }})"
                ));
            }
            // A pattern whose fixed start is a built-in kind's name never
            // matches: those files are read as the built-in kind.
            let fixed = &files[..files.find(['*', '?']).unwrap_or(files.len())];
            if let Some((k, s)) = crate::kinds::LogKind::ALL
                .iter()
                .find(|(k, s)| k.by_name() && fixed.starts_with(s))
            {
                return Err(format!(
                    "kind '{n}': files = \"{files}\" can never match: {s}*.jsonl files are read as the built-in {} log",
                    k.name()
                ));
            }
            if let Some(k) = out.iter().find(|k| k.files == files) {
                return Err(format!(
                    "kinds '{}' and '{n}' both read files = \"{files}\"",
                    k.name
                ));
            }
            let spec = Spec::filtered(&d.values, &d.by, &d.count, &d.wheres, &d.time)
                .and_then(|s| s.with_distinct(&d.distinct))
                .map_err(|e| format!("kind '{n}': {e}"))?
                .with_time_unit(d.time_unit)
                .with_max_groups(d.max_groups)
                .with_top(d.top);
            if !(1..=MAX_KEYS).contains(&d.top) {
                return Err(format!(
                    "kind '{n}': top = {} should be 1 to {MAX_KEYS}",
                    d.top
                ));
            }
            if !(1..=100_000).contains(&d.max_groups) {
                return Err(format!(
                    "kind '{n}': max_groups = {} should be 1 to 100000",
                    d.max_groups
                ));
            }
            if spec.by.iter().any(|b| b == "hour" || b == "day") {
                return Err(format!(
                    "kind '{n}': by = [\"hour\"] names a field here; summarize --by hour|day splits by time"
                ));
            }
            out.push(UserKind {
                name: n.clone(),
                files: d.files.clone(),
                spec,
            });
        }
        Ok(out)
    }
}

/// The spec a line is read with, and the name of the part it adds to
/// (`""` for `aggmetrics stats`), if the read has one.
fn spec_for<'c>(cx: &Cx<'c>) -> Option<(&'c Spec, &'c str)> {
    match &cx.opts.jsonl {
        JsonlOptions::None => None,
        JsonlOptions::Stats(s) => Some((&**s, "")),
        JsonlOptions::User(u) => {
            let k = u.kinds.get(*u.file_kind.get(cx.file as usize)? as usize)?;
            Some((&k.spec, &k.name))
        }
    }
}

/// How a read takes any JSONL log: not at all (the built-in kinds' runs),
/// as `aggmetrics stats` asks, or as a kinds file names its logs.
#[derive(Debug, Default, Clone)]
pub enum JsonlOptions {
    #[default]
    None,
    /// `aggmetrics stats`: every input with one spec, one unnamed part.
    Stats(Box<Spec>),
    /// A kinds file: each input with its kind's spec, under its name.
    User(UserKinds),
}

// ---- parsing ----

/// A scalar as read: a string, a number (with its raw bytes), a literal
/// (`true`, `false`, `null`), or an object or array.
#[derive(Debug, Clone, Copy)]
enum Scalar {
    Str(Span),
    /// The number, and its text (an epoch time is read from the digits).
    Num(f64, Span),
    Lit(u32, u32),
    Container,
}

/// Concrete names of the `*` segments on the way to a value.
type Stars = ([Span; MAX_STARS], u8);

/// The last record's fields, reused from line to line.
#[derive(Debug, Default)]
pub struct Scratch {
    tpl: Template,
    /// (value index, `*` names, the number or `None` when invalid, the
    /// array element it is in).
    vals: Vec<(u16, Stars, Option<f64>, u32)>,
    by: Vec<Option<Scalar>>,
    /// (count index, the array element it is in, the value).
    count: Vec<(u16, u32, Scalar)>,
    /// The same for `--distinct` fields.
    distinct: Vec<(u16, u32, Scalar)>,
    /// The array element being read: each element read gets the next
    /// number, in the order of the line, 0 outside arrays. What a
    /// repeated key undoes is what its element and those after it read.
    elem: u32,
    elems: u32,
    /// The `--where` fields' values.
    wh: Vec<Option<Scalar>>,
    /// The spec's value units (copied when the spec changes).
    units: Vec<Unit>,
    ts: Option<Timestamp>,
    /// The time as RFC 3339 when the field held another layout or a
    /// number (its text is not in the line); empty otherwise.
    ts_text: String,
    /// The time field held something that is no time.
    ts_bad: bool,
    time_unit: TimeUnit,
    /// The names `*` took in the objects being read, outermost first
    /// (see [`Seen`]).
    star_names: Vec<Span>,
    key: String,
    name: String,
    /// The part the last record went to.
    part: usize,
    /// Records whose top-level keys were sampled (see
    /// [`Part::keys_seen`]), and the keys of the last one.
    sampled: u32,
    top_keys: Vec<String>,
}

impl Scratch {
    fn clear(&mut self, spec: &Spec) {
        self.vals.clear();
        self.by.clear();
        self.by.resize(spec.by.len(), None);
        self.count.clear();
        self.distinct.clear();
        self.elem = 0;
        self.elems = 0;
        self.wh.clear();
        self.wh.resize(spec.wheres.len(), None);
        if self.units != spec.units {
            self.units.clone_from(&spec.units);
        }
        self.ts = None;
        self.ts_text.clear();
        self.ts_bad = false;
        self.time_unit = spec.time_unit;
        self.star_names.clear();
    }

    /// A member met again in the same object: forget what its earlier
    /// occurrence recorded (every role under `node`, reached through the
    /// `*` names in `stars`), so the last occurrence counts whole, as
    /// Python's `json` keeps only the last value of a repeated key.
    #[cold]
    fn undo(&mut self, node: &Node, stars: &Stars, line: &[u8]) {
        let k = stars.1 as usize;
        let elem = self.elem;
        self.vals.retain(|(i, st, _, e)| {
            !(node.below.contains(&Role::Value(*i))
                && *e >= elem
                && (0..k).all(|j| st.0[j].same_text(&stars.0[j], line)))
        });
        self.count
            .retain(|(i, e, _)| !(node.below.contains(&Role::Count(*i)) && *e >= elem));
        self.distinct
            .retain(|(i, e, _)| !(node.below.contains(&Role::Distinct(*i)) && *e >= elem));
        for r in &node.below {
            match *r {
                Role::By(i) => self.by[i as usize] = None,
                Role::Count(_) | Role::Distinct(_) => {}
                Role::Where(i) => self.wh[i as usize] = None,
                Role::Time => {
                    self.ts = None;
                    self.ts_text.clear();
                    self.ts_bad = false;
                }
                Role::Value(_) => {}
            }
        }
    }

    fn put(&mut self, role: Role, v: Scalar, stars: &Stars, line: &[u8]) {
        match role {
            Role::Value(i) => {
                let unit = self.units.get(i as usize).copied().unwrap_or(Unit::Plain);
                let x = match v {
                    // null is a missing value, not an invalid one.
                    Scalar::Lit(a, _) if line[a as usize] == b'n' => return,
                    Scalar::Num(x, _) => Some(unit.num(x)),
                    Scalar::Str(s) if unit != Unit::Plain => unit.text(&s.text(line)),
                    _ => None,
                }
                .filter(|x| x.is_finite() && (0.0..=MAX_VALUE).contains(x));
                // A repeated key: the last one wins.
                let elem = self.elem;
                match self.vals.iter_mut().find(|(j, s, _, e)| {
                    *j == i && *e == elem && s.1 == stars.1 && same_names(s, stars, line)
                }) {
                    Some(e) => e.2 = x,
                    None => self.vals.push((i, *stars, x, elem)),
                }
            }
            Role::By(i) => self.by[i as usize] = Some(v),
            Role::Count(i) => put_in(&mut self.count, i, self.elem, v),
            Role::Distinct(i) => put_in(&mut self.distinct, i, self.elem, v),
            Role::Where(i) => self.wh[i as usize] = Some(v),
            Role::Time => self.time(v, line),
        }
    }

    /// The record's time from its time field: RFC 3339 (its text kept
    /// from the line), else any layout [`timestamp::any_text`] reads or an
    /// epoch number (kept as RFC 3339). null is no time; anything else
    /// that reads as no time marks the record (see `Parsed::UnreadableTime`).
    #[inline]
    fn time(&mut self, v: Scalar, line: &[u8]) {
        self.ts_text.clear();
        self.ts_bad = false;
        let (t, from_line) = match v {
            Scalar::Str(s) if !s.escaped() => match Timestamp::parse_bytes(s.raw(line)) {
                Some(t) => (Some(t.with_span(s)), true),
                None => (timestamp::any_text(s.raw(line), self.time_unit), false),
            },
            Scalar::Str(s) => match Timestamp::parse(&s.text(line)) {
                Some(t) => (Some(t.with_span(s)), true),
                None => (
                    timestamp::any_text(s.text(line).as_bytes(), self.time_unit),
                    false,
                ),
            },
            Scalar::Num(_, s) => (timestamp::epoch(s.raw(line).trim_ascii(), self.time_unit), false),
            Scalar::Lit(a, _) if line[a as usize] == b'n' => (None, true),
            _ => (None, false),
        };
        self.ts = t;
        match t {
            Some(t) if !from_line => {
                let ns = t.micros as i128 * 1000 + t.nanos as i128;
                if let Ok(j) = jiff::Timestamp::from_nanosecond(ns) {
                    let _ = write!(self.ts_text, "{j}");
                }
            }
            Some(_) => {}
            None => self.ts_bad = !from_line,
        }
    }
}

/// A field's value in the array element `elem` (a repeated key: the last
/// one wins).
fn put_in(list: &mut Vec<(u16, u32, Scalar)>, i: u16, elem: u32, v: Scalar) {
    match list.iter_mut().find(|(j, e, _)| *j == i && *e == elem) {
        Some(e) => e.2 = v,
        None => list.push((i, elem, v)),
    }
}

fn same_names(a: &Stars, b: &Stars, line: &[u8]) -> bool {
    (0..a.1 as usize).all(|k| a.0[k].same_text(&b.0[k], line))
}

/// Read the value at the cursor, which `node` describes.
fn value_at(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    node: &Node,
    stars: &mut Stars,
    s: &mut Scratch,
) -> Result<(), Skip> {
    if node.nested() {
        let read = match p.peek() {
            Some(b'{') if !node.children.is_empty() || node.star.is_some() => {
                members(p, line, node, stars, s)?
            }
            Some(b'[') if node.has_items() => elements(p, line, node, stars, s)?,
            _ => false,
        };
        if read {
            for r in &node.roles {
                s.put(*r, Scalar::Container, stars, line);
            }
            return Ok(());
        }
    }
    if node.roles.is_empty() {
        return p.skip_value();
    }
    p.peek();
    let start = p.pos();
    let v = match p.value() {
        // A number beyond f64 (`1e400`) is an invalid value of its field,
        // as a string there is; the rest of the line still counts (the
        // cursor is past it).
        Err(Skip::OutOfRange) => Val::Num(f64::INFINITY),
        r => r?,
    };
    let v = match v {
        Val::Str(sp) => Scalar::Str(sp),
        Val::Num(x) => Scalar::Num(x, Span::plain(start, p.pos())),
        Val::Bool(_) | Val::Null => Scalar::Lit(start as u32, p.pos() as u32),
        Val::Container => Scalar::Container,
    };
    for r in &node.roles {
        s.put(*r, v, stars, line);
    }
    Ok(())
}

/// The keys of one object met so far that lead somewhere in the spec: a
/// bit per named child, and the names `*` took (on `Scratch::star_names`
/// from `base`) with a 64-bit filter over them, so that a name is compared
/// with the earlier ones only when it may repeat one.
struct Seen {
    named: u64,
    base: usize,
    filter: u64,
}

impl Seen {
    /// Whether `name` was taken by `*` earlier in this object; notes it.
    /// A name with escapes sets every bit of the filter: its raw bytes do
    /// not say its text, so from it on every name is compared.
    #[inline]
    fn repeats(&mut self, name: Span, names: &mut Vec<Span>, line: &[u8]) -> bool {
        let raw = name.raw(line);
        let h = match (raw.first(), raw.last()) {
            (Some(&a), Some(&z)) => raw.len() as u32 * 7 + a as u32 * 3 + z as u32,
            _ => 0,
        };
        let bit = 1u64 << (h % 64);
        let before = if name.escaped() {
            u64::MAX
        } else {
            self.filter
        };
        self.filter = before | bit;
        let again =
            before & bit != 0 && names[self.base..].iter().any(|n| n.same_text(&name, line));
        names.push(name);
        again
    }
}

/// The members of an object `node` describes (the cursor at `{`); false
/// if the value is not an object.
#[inline]
fn members(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    node: &Node,
    stars: &mut Stars,
    s: &mut Scratch,
) -> Result<bool, Skip> {
    let mut seen = Seen {
        named: 0,
        base: s.star_names.len(),
        filter: 0,
    };
    let r = p.object(|p, name| member(p, line, node, name, stars, s, &mut seen));
    s.star_names.truncate(seen.base);
    r
}

/// [`members`] of the top-level object, keeping its key names for
/// [`Part::keys_seen`] (the first records a worker reads).
#[cold]
fn sample_members(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    node: &Node,
    stars: &mut Stars,
    s: &mut Scratch,
) -> Result<bool, Skip> {
    s.top_keys.clear();
    let mut seen = Seen {
        named: 0,
        base: s.star_names.len(),
        filter: 0,
    };
    let r = p.object(|p, name| {
        let key = key_name(name, line);
        if s.top_keys.len() < KEY_SAMPLE {
            s.top_keys.push(String::from_utf8_lossy(&key).into_owned());
        }
        member(p, line, node, name, stars, s, &mut seen)
    });
    s.star_names.truncate(seen.base);
    if r.is_ok() {
        s.sampled += 1;
    }
    r
}

/// The elements of an array `node` describes (the cursor at `[`): each
/// read by its index's node, else by `[*]`'s, else skipped.
fn elements(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    node: &Node,
    stars: &mut Stars,
    s: &mut Scratch,
) -> Result<bool, Skip> {
    let outer = s.elem;
    let mut n = 0u32;
    let r = p.array(|p| {
        let child = node
            .items
            .iter()
            .find(|(i, _)| *i == n)
            .map(|(_, c)| c)
            .or(node.each.as_deref());
        n = n.saturating_add(1);
        match child {
            Some(c) => {
                s.elems += 1;
                s.elem = s.elems;
                value_at(p, line, c, stars, s)
            }
            None => p.skip_value(),
        }
    });
    s.elem = outer;
    r
}

/// One member of an object `node` describes: its named child, else its
/// `*` child, else skipped. A key met before in the same object first
/// undoes its earlier occurrence.
fn member(
    p: &mut Parser<'_, '_>,
    line: &[u8],
    node: &Node,
    name: Span,
    stars: &mut Stars,
    s: &mut Scratch,
    seen: &mut Seen,
) -> Result<(), Skip> {
    let key = key_name(name, line);
    if let Some(c) = node.children.iter().position(|(n, _)| bytes_eq(n, &key)) {
        let child = &node.children[c].1;
        let bit = 1u64 << c;
        if seen.named & bit != 0 {
            s.undo(child, stars, line);
        }
        seen.named |= bit;
        return value_at(p, line, child, stars, s);
    }
    match &node.star {
        Some(child) if (stars.1 as usize) < MAX_STARS => {
            stars.0[stars.1 as usize] = name;
            stars.1 += 1;
            if seen.repeats(name, &mut s.star_names, line) {
                s.undo(child, stars, line);
            }
            let r = value_at(p, line, child, stars, s);
            stars.1 -= 1;
            r
        }
        _ => p.skip_value(),
    }
}

/// Parse one line against `spec`.
fn parse_with(spec: &Spec, s: &mut Scratch, line: &[u8]) -> Result<Parsed, Skip> {
    s.clear(spec);
    let mut tpl = std::mem::take(&mut s.tpl);
    let out = (|| {
        let mut p = Parser::with_template(line, &mut tpl);
        if p.at_end() {
            return Ok(Parsed::Blank);
        }
        let mut stars: Stars = ([Span::default(); MAX_STARS], 0);
        let is_object = if s.sampled < RECORDS_SAMPLED {
            sample_members(&mut p, line, &spec.tree, &mut stars, s)?
        } else {
            members(&mut p, line, &spec.tree, &mut stars, s)?
        };
        if !is_object {
            return Err(Skip::NotObject);
        }
        p.finish()?;
        Ok(match s.ts {
            Some(t) => Parsed::Record(t),
            None if s.ts_bad => Parsed::UnreadableTime,
            None => Parsed::Undated,
        })
    })();
    s.tpl = tpl;
    out
}

// ---- accumulator ----

/// One value's distribution and how often it was not a usable number.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueAcc {
    pub dist: Dist,
    pub invalid: u64,
}

impl Merge for ValueAcc {
    fn merge(&mut self, o: &ValueAcc) {
        self.dist.merge(&o.dist);
        self.invalid += o.invalid;
    }
    fn weight(&self) -> u64 {
        self.dist.n + self.invalid
    }
}

/// One group's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupAcc {
    pub records: u64,
    /// Concrete value path (`*` filled in) -> its figures.
    pub values: Keyed<ValueAcc>,
    /// Per `--count` field: value -> records.
    pub counts: Vec<Keyed<u64>>,
    /// Per `--distinct` field: the values it took.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distinct: Vec<Distinct>,
}

impl GroupAcc {
    fn new(n_counts: usize) -> GroupAcc {
        GroupAcc {
            records: 0,
            values: Keyed::new(MAX_KEYS),
            counts: (0..n_counts).map(|_| Keyed::new(MAX_KEYS)).collect(),
            distinct: Vec::new(),
        }
    }
}

impl Merge for GroupAcc {
    fn merge(&mut self, o: &GroupAcc) {
        self.records += o.records;
        self.values.merge(&o.values);
        if self.counts.len() < o.counts.len() {
            self.counts.resize(o.counts.len(), Keyed::new(MAX_KEYS));
        }
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            a.merge(b);
        }
        if self.distinct.len() < o.distinct.len() {
            self.distinct.resize_with(o.distinct.len(), Distinct::default);
        }
        for (a, b) in self.distinct.iter_mut().zip(&o.distinct) {
            a.merge(b);
        }
    }
    fn weight(&self) -> u64 {
        self.records
    }
}

/// The figures of one log read this way: the unnamed one of `aggmetrics
/// stats`, or one user-defined kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    /// What was counted (`None` until a record was added with a spec).
    pub spec: Option<SpecDesc>,
    pub records: u64,
    /// Group key (the JSON array of the `--by` values) -> figures.
    pub groups: Keyed<GroupAcc>,
    /// Every record's figures, kept apart from the groups once the group
    /// limit may drop one (until then the total is the groups' sum).
    pub total: Option<GroupAcc>,
    /// The figures of the records whose group is not kept: `(other)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<GroupAcc>,
    /// Records `--where` left out (not in `records`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filtered: u64,

    pub time: TimeRange,
    /// Top-level key names of the first records read (at most
    /// [`KEY_SAMPLE`]), to name the nearest when a path matches nothing.
    /// Not kept in state files.
    #[serde(default, skip_serializing)]
    pub keys_seen: Vec<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn n_counts_of(spec: &Option<SpecDesc>) -> usize {
    spec.as_ref().map_or(0, |d| d.count.len())
}

/// Most key names [`Part::keys_seen`] keeps, and records per worker whose
/// keys are sampled.
const KEY_SAMPLE: usize = 64;
const RECORDS_SAMPLED: u32 = 16;

/// Keep `k` among at most [`KEY_SAMPLE`] distinct names.
fn see_key(keys: &mut Vec<String>, k: &str) {
    if keys.len() < KEY_SAMPLE && !keys.iter().any(|x| x == k) {
        keys.push(k.to_string());
    }
}

// ---- report section ----

/// One value's figures: its distribution, and (for a path without `*`)
/// the records where it was missing or not a usable number.
#[derive(Debug, Clone)]
pub struct ValueSection {
    pub stats: Stats,
    pub missing: Option<u64>,
    pub invalid: u64,
    /// `ms` for a duration (`--value duration:s` is kept in ms), `bytes`.
    pub unit: Option<&'static str>,
    /// Every value added up (exactly, from the integer sum the
    /// distribution keeps: to 0.001).
    pub sum: f64,
}

/// The distribution's keys (`p50`.., `min`, `max`, `mean`, `count`), then
/// `missing` (for a path without `*`) and `invalid`. Over no values the
/// figures are null, not 0: a group without values has no percentiles.
impl Serialize for ValueSection {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let st = &self.stats;
        // A field of integers under --exact: its whole figures are
        // integers in JSON too (`258`, not `258.0`).
        let fig = |x: f64| {
            (st.count > 0).then(|| {
                if st.whole && x.fract() == 0.0 && x.abs() < 9e15 {
                    serde_json::Value::from(x as i64)
                } else {
                    serde_json::Value::from(x)
                }
            })
        };
        let mut m = s.serialize_map(None)?;
        for (k, v) in &st.percentiles {
            m.serialize_entry(k, &fig(*v))?;
        }
        m.serialize_entry("min", &fig(st.min))?;
        m.serialize_entry("max", &fig(st.max))?;
        m.serialize_entry("mean", &fig(st.mean))?;
        m.serialize_entry("sum", &fig(self.sum))?;
        m.serialize_entry("count", &st.count)?;
        if let Some(missing) = self.missing {
            m.serialize_entry("missing", &missing)?;
        }
        m.serialize_entry("invalid", &self.invalid)?;
        if let Some(u) = self.unit {
            m.serialize_entry("unit", u)?;
        }
        m.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupSection {
    /// Each `--by` field's JSON value (missing is `null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<serde_json::Map<String, serde_json::Value>>,
    pub records: u64,
    pub values: BTreeMap<String, ValueSection>,
    pub counts: BTreeMap<String, BTreeMap<String, u64>>,
    /// Per `--count` field: what its values not in `counts` counted (the
    /// less frequent past `--top`, or past the keys kept).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts_other: BTreeMap<String, u64>,
    /// Per `--distinct` field: how many values it took.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub distinct: BTreeMap<String, DistinctSection>,
}

/// A `--count` field's most frequent values, and what the rest counted.
#[derive(Debug, Default)]
struct TopValues {
    values: BTreeMap<String, u64>,
    other: u64,
    /// Values not shown (`None`: more than the tally could name).
    folded: Option<u64>,
    /// How far a count may be low (a tally past its exact budget).
    max_error: u64,
}

impl TopValues {
    fn of(k: &Keyed<u64>, top: usize) -> TopValues {
        let total: u64 = k.sorted().iter().map(|(_, n)| **n).sum::<u64>() + k.overflow;
        let shown = k.heaviest(top);
        let kept: u64 = shown.iter().map(|(_, n, _)| n).sum();
        let tally = k.tally();
        let distinct = match tally {
            Some(t) if t.error() == 0 => Some(
                k.len() as u64
                    + t.by_count().iter().filter(|(key, _)| k.get(key).is_none()).count() as u64,
            ),
            Some(_) => None,
            None if k.overflow == 0 => Some(k.len() as u64),
            None => None,
        };
        TopValues {
            other: total.saturating_sub(kept),
            folded: distinct.map(|d| d.saturating_sub(shown.len() as u64)),
            max_error: tally.map_or(0, |t| t.error()),
            values: shown.into_iter().map(|(key, n, _)| (key.to_string(), n)).collect(),
        }
    }
}

/// How many distinct values a field took: exact, or estimated with its
/// relative standard error (see [`crate::measure::distinct`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DistinctSection {
    pub count: u64,
    pub exact: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel_error: Option<f64>,
}

impl DistinctSection {
    fn of(d: Option<&Distinct>) -> DistinctSection {
        let (count, exact) = d.map_or((0, true), Distinct::count);
        DistinctSection {
            count,
            exact,
            rel_error: (!exact).then_some(distinct::REL_ERROR),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct JsonlSection {
    pub spec: Option<SpecDesc>,
    pub records: u64,
    /// The groups with the most records, largest first.
    pub groups: Vec<GroupSection>,
    /// The records of every group not in `groups`, with their figures.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<GroupSection>,
    /// What `other` holds and how the groups shown were chosen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_folded: Option<Folded>,
    /// Per `--count` field whose values were not all shown: what its
    /// `(other)` holds (`counts_other` in each group).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub values_folded: BTreeMap<String, FoldedValues>,
    /// Values with figures between 0 and 0.1 of their unit: kept and
    /// shown to 0.001, so fewer than 3 significant digits there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coarse_values: Vec<String>,
    pub total: GroupSection,
    /// Records of groups beyond the group limit (not in `groups`, in
    /// `other` and `total`).
    pub groups_dropped: u64,
    /// With `--where`: the records it left out (not in `records`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filtered_out: Option<u64>,
    pub time_range: figures::FirstLast,
    /// Top-level key names of the first records (not in the report).
    #[serde(skip)]
    pub keys_seen: Vec<String>,
}

/// The line every format shows for a value whose figures fall below 1
/// of its unit (see [`JsonlSection::coarse_values`]).
fn coarse_note(name: &str, unit: Option<&str>) -> String {
    match unit {
        Some(u) => format!(
            "{name}: values below 0.1 {u} are kept and shown to 0.001 {u}, fewer than 3 \
             significant digits there"
        ),
        None => format!(
            "{name}: values below 0.1 are kept and shown to 0.001, fewer than 3 significant \
             digits there; a duration in seconds given its unit ({name}:s) is kept to the \
             microsecond"
        ),
    }
}

/// A `--count` field's values folded into `(other)`, over all records.
#[derive(Debug, Clone, Serialize)]
pub struct FoldedValues {
    /// How many values (`null`: more than the tally could name).
    pub values: Option<u64>,
    /// What they counted.
    pub records: u64,
    /// The values shown, the most frequent.
    pub shown: u64,
    /// How far a count shown may be low (0: exact).
    pub max_error: u64,
}

/// The line every format shows when a count's values were folded.
fn values_note(field: &str, f: &FoldedValues) -> String {
    let mut s = format!(
        "{field}: {} values counted {} times are folded into {OTHER}; the {} shown are the most frequent",
        f.values.map_or_else(
            || format!("over {}", thousands(crate::measure::tally::TALLY_KEYS as u64)),
            thousands
        ),
        thousands(f.records),
        thousands(f.shown)
    );
    if f.max_error > 0 {
        let _ = write!(
            s,
            "; too many values to count each exactly: a count may be up to {} low",
            thousands(f.max_error)
        );
    }
    s
}

/// The groups folded into `(other)`.
#[derive(Debug, Clone, Serialize)]
pub struct Folded {
    /// How many distinct groups (`null`: not known, a state written
    /// before they were counted).
    pub groups: Option<u64>,
    pub records: u64,
    /// Whether the groups shown are the ones with the most records. Not
    /// when the input was read once (stdin) and more groups came than
    /// are kept: the heavier folded groups are then named.
    pub heaviest: bool,
    /// Most a folded group's record count may be below its true count:
    /// 0 while groups are counted exactly (up to 100,000 folded groups).
    pub max_error: u64,
    /// Folded groups with more records than a group shown.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heavier: Vec<FoldedGroup>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FoldedGroup {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<serde_json::Map<String, serde_json::Value>>,
    pub records: u64,
}

/// Most heavier folded groups a report names.
const FOLDED_NAMED: usize = 10;

impl JsonlSection {
    /// The paths of the spec that matched nothing in any record, with
    /// their flag: a `--value` with no value and none invalid, a `--by`
    /// null in every group, a `--count` with nothing counted. (Paths
    /// with `*` are left out: what they match is open.) None without
    /// records.
    pub fn unmatched(&self) -> Vec<(&'static str, String)> {
        let Some(spec) = &self.spec else {
            return Vec::new();
        };
        // Conditions no record passed: the figures are of nothing.
        if self.records == 0 && self.filtered_out.is_some_and(|n| n > 0) {
            return vec![("--where", spec.wheres.join(" and "))];
        }
        if self.records == 0 {
            return Vec::new();
        }
        let mut out = Vec::new();
        for (v, written) in spec.value_paths().into_iter().zip(&spec.values) {
            if segments(v.0).is_ok_and(|s| s.contains(&Seg::Star)) {
                continue;
            }
            if self
                .total
                .values
                .get(v.0)
                .is_none_or(|x| x.stats.count == 0 && x.invalid == 0)
            {
                out.push(("--value", written.clone()));
            }
        }
        for b in &spec.by {
            let any = self.groups.iter().any(|g| {
                g.key
                    .as_ref()
                    .and_then(|k| k.get(b))
                    .is_some_and(|x| !x.is_null())
            });
            // Past the group limit the groups kept are not every group:
            // a field null in them may hold values in the ones dropped.
            if !any && self.groups_dropped == 0 {
                out.push(("--by", b.clone()));
            }
        }
        for c in &spec.count {
            if self.total.counts.get(c).is_none_or(|m| m.is_empty()) {
                out.push(("--count", c.clone()));
            }
        }
        for c in &spec.distinct {
            if self.total.distinct.get(c).is_none_or(|d| d.count == 0) {
                out.push(("--distinct", c.clone()));
            }
        }
        out
    }
}

/// Whether `path` has any of `segs` (`*`, `[*]`).
fn has(path: &str, segs: &[Seg]) -> bool {
    segments(path).is_ok_and(|s| s.iter().any(|x| segs.contains(x)))
}

/// The unit of a concrete value name (`timing.db` under `timing.*:ms`).
fn unit_of(paths: &[(&str, Unit)], name: &str) -> Unit {
    paths
        .iter()
        .find(|(p, _)| {
            *p == name || {
                let (a, b): (Vec<&str>, Vec<&str>) = (p.split('.').collect(), name.split('.').collect());
                a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| *x == "*" || x == y)
            }
        })
        .map_or(Unit::Plain, |(_, u)| *u)
}

fn group_section(
    g: &GroupAcc,
    key: Option<serde_json::Map<String, serde_json::Value>>,
    desc: &SpecDesc,
    ps: &[f64],
) -> GroupSection {
    let mut values: BTreeMap<String, ValueSection> = BTreeMap::new();
    let paths = desc.value_paths();
    for (name, v) in g.values.sorted() {
        let mut d = v.dist.clone();
        d.finish();
        // One value per record at most: what is not one is missing.
        let fixed = paths.iter().any(|(p, _)| *p == name && !has(p, &[Seg::Star, Seg::Each]));
        values.insert(
            name.to_string(),
            ValueSection {
                stats: Stats {
                    whole: d.whole(),
                    ..Stats::of(&d, ps)
                },
                missing: fixed.then(|| g.records.saturating_sub(v.dist.n + v.invalid)),
                invalid: v.invalid,
                unit: unit_of(&paths, name).shown(),
                sum: v.dist.sum_us as f64 / 1000.0,
            },
        );
    }
    // A path without `*` is always there; one never seen is all missing.
    for (p, u) in paths.iter().filter(|(p, _)| !has(p, &[Seg::Star])) {
        values.entry(p.to_string()).or_insert_with(|| ValueSection {
            stats: Stats::of(&Dist::new(Mode::Exact), ps),
            missing: (!has(p, &[Seg::Each])).then_some(g.records),
            invalid: 0,
            unit: u.shown(),
            sum: 0.0,
        });
    }
    let shown: Vec<TopValues> = (0..desc.count.len())
        .map(|i| g.counts.get(i).map_or_else(TopValues::default, |k| TopValues::of(k, desc.top)))
        .collect();
    GroupSection {
        key,
        records: g.records,
        values,
        counts_other: desc
            .count
            .iter()
            .zip(&shown)
            .filter(|(_, c)| c.other > 0)
            .map(|(name, c)| (name.clone(), c.other))
            .collect(),
        counts: desc
            .count
            .iter()
            .cloned()
            .zip(shown.into_iter().map(|c| c.values))
            .collect(),
        distinct: desc
            .distinct
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), DistinctSection::of(g.distinct.get(i))))
            .collect(),
    }
}

use crate::measure::view::OTHER;

/// The line every format shows when groups were folded into `(other)`.
fn folded_note(f: &Folded, shown: usize) -> String {
    let n = f
        .groups
        .map_or("more".to_string(), thousands);
    let mut s = format!(
        "{n} groups with {} records are folded into {OTHER}: ",
        thousands(f.records)
    );
    if f.heaviest {
        let _ = write!(s, "the {} groups shown have the most records", thousands(shown as u64));
    } else {
        let _ = write!(
            s,
            "the groups shown were kept before these were counted (a stream is read once; a \
             state or a time bucket holds the groups its read kept); heavier groups folded: {}",
            f.heavier
                .iter()
                .map(|g| format!(
                    "{} ({})",
                    group_label(&GroupSection {
                        key: g.key.clone(),
                        records: g.records,
                        values: BTreeMap::new(),
                        counts: BTreeMap::new(),
                        counts_other: BTreeMap::new(),
                        distinct: BTreeMap::new(),
                    }),
                    thousands(g.records)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if f.max_error > 0 {
        let _ = write!(
            s,
            "; too many groups to count each exactly: a count may be up to {} low",
            thousands(f.max_error)
        );
    }
    s
}

/// A Prometheus label name per `--by` path: its characters outside
/// `[A-Za-z0-9_]` as `_`, `by_` in front of a name the series already
/// use (or that Prometheus sets, or that starts with a digit or `__`),
/// and a number after a name two paths share.
fn label_names(by: &[String]) -> Vec<String> {
    const TAKEN: &[&str] = &[
        "command", "run", "value", "group", "percentile", "le", "quantile", "count", "row",
        "column", "stage", "job", "instance",
    ];
    let mut out: Vec<String> = Vec::new();
    for b in by {
        let mut n: String = b
            .chars()
            .filter(|c| *c != '"')
            .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' })
            .collect();
        if n.is_empty()
            || TAKEN.contains(&n.as_str())
            || n.starts_with("__")
            || n.starts_with(|c: char| c.is_ascii_digit())
        {
            n = format!("by_{n}");
        }
        let base = n.clone();
        let mut i = 2;
        while out.contains(&n) {
            n = format!("{base}_{i}");
            i += 1;
        }
        out.push(n);
    }
    out
}

/// `route=/api/chat status=200`; `(all)` without `--by`.
fn group_label(g: &GroupSection) -> String {
    match &g.key {
        None => "(all)".into(),
        Some(m) => m
            .iter()
            .map(|(k, v)| match v {
                // A string that would read as another JSON value (`"1"`
                // beside the number 1, `"null"` beside null) is shown
                // quoted: keys of different types never share a label.
                serde_json::Value::String(s) if reads_as_other(s) => format!("{k}={v}"),
                serde_json::Value::String(s) => format!("{k}={s}"),
                other => format!("{k}={other}"),
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// Whether a string key, shown bare, would read as a number, a literal or
/// nothing.
fn reads_as_other(s: &str) -> bool {
    s.is_empty()
        || s.starts_with('"')
        || matches!(
            s,
            "null" | "true" | "false" | "NaN" | "Infinity" | "-Infinity"
        )
        || s.parse::<f64>().is_ok()
}

/// A number as a group key or count key: integral values as integers
/// (`200`, not `200.0`), others in their shortest form.
fn number_text(out: &mut String, x: f64) {
    use std::fmt::Write as _;
    if x.fract() == 0.0 && x.abs() < 9e15 {
        let _ = write!(out, "{}", x as i64);
    } else {
        let _ = write!(out, "{x}");
    }
}

/// A scalar as JSON text (the group key is a JSON array of them).
fn json_text(out: &mut String, v: Option<Scalar>, line: &[u8]) {
    match v {
        None | Some(Scalar::Container) => out.push_str("null"),
        // Without escapes the raw bytes are already a JSON string's
        // content (validated UTF-8, no control character): no allocation.
        Some(Scalar::Str(s)) if !s.escaped() => {
            out.push('"');
            out.push_str(std::str::from_utf8(s.raw(line)).unwrap_or(""));
            out.push('"');
        }
        // With escapes, the decoded text re-escaped one way (`\u0041` and
        // `A` are one key).
        Some(Scalar::Str(s)) => {
            out.push_str(&serde_json::to_string(s.text(line).as_ref()).unwrap_or_default());
        }
        Some(Scalar::Num(x, _)) => number_text(out, x),
        Some(Scalar::Lit(a, b)) => {
            out.push_str(std::str::from_utf8(&line[a as usize..b as usize]).unwrap_or("null"))
        }
    }
}

pub struct Jsonl;

/// Every part, by name (sorted).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlAcc {
    pub parts: Vec<(String, Part)>,
}

impl JsonlAcc {
    /// The position of the part `name`, made when missing.
    fn part(&mut self, name: &str) -> usize {
        match self.parts.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => i,
            Err(i) => {
                self.parts.insert(i, (name.to_string(), Part::new()));
                i
            }
        }
    }
}

/// Each part's section, by name.
#[derive(Debug, Clone, Default)]
pub struct JsonlSections {
    pub parts: Vec<(String, JsonlSection)>,
}

impl JsonlSections {
    /// The section of `aggmetrics stats` (the unnamed part), or an empty
    /// one.
    pub fn unnamed(&self) -> JsonlSection {
        self.parts
            .iter()
            .find(|(n, _)| n.is_empty())
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| Part::new().section(&[]))
    }
}

impl JsonlSections {
    /// Every part the read's options name, with its spec, records or not:
    /// the shape of a report never depends on the data (a window without
    /// records still has each kind's section and its `spec`).
    pub fn ensure(&mut self, opts: &JsonlOptions, ps: &[f64]) {
        let named: Vec<(&str, &Spec)> = match opts {
            JsonlOptions::None => Vec::new(),
            JsonlOptions::Stats(s) => vec![("", &**s)],
            JsonlOptions::User(u) => u.kinds.iter().map(|k| (k.name.as_str(), &k.spec)).collect(),
        };
        for (name, spec) in named {
            match self.parts.iter_mut().find(|(n, _)| n == name) {
                Some((_, sec)) => {
                    if sec.spec.is_none() {
                        sec.spec = Some(spec.desc());
                    }
                }
                None => {
                    let mut p = Part::new();
                    p.spec = Some(spec.desc());
                    self.parts.push((name.to_string(), p.section(ps)));
                }
            }
        }
        self.parts.sort_by(|a, b| a.0.cmp(&b.0));
    }
}

impl Serialize for JsonlSections {
    /// In a report whose sections are flattened: each part under its name;
    /// the unnamed part under `jsonl`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut m = s.serialize_map(Some(self.parts.len()))?;
        Jsonl::entries(<Jsonl as super::Registered>::NAME, self, &mut m)?;
        m.end()
    }
}

impl Part {
    fn new() -> Part {
        Part {
            spec: None,
            records: 0,
            groups: Keyed::new(MAX_GROUPS).spilling(),
            total: None,
            other: None,
            filtered: 0,
            time: TimeRange::default(),
            keys_seen: Vec::new(),
        }
    }

    fn merge(&mut self, o: &Part) {
        if self.spec.is_none() {
            self.spec.clone_from(&o.spec);
            if self.groups.is_empty() && self.groups.overflow == 0 {
                self.groups = Keyed::new(o.groups.cap()).spilling();
            }
        }
        self.records += o.records;
        self.filtered += o.filtered;
        // A merge past the group limit may drop groups: keep the total
        // apart first (see `add`).
        let may_drop = self.groups.len() + o.groups.len() > self.groups.cap();
        if self.total.is_some() || o.total.is_some() || may_drop {
            let n = self.spec.as_ref().map_or(0, |d| d.count.len());
            let mut mine = match self.total.take() {
                Some(t) => t,
                None => self.sum_of_groups(n),
            };
            match &o.total {
                Some(t) => mine.merge(t),
                None => mine.merge(&o.sum_of_groups(n)),
            }
            self.total = Some(mine);
        }
        self.groups.spill();
        self.groups.merge(&o.groups);
        self.fold_spilled(n_counts_of(&self.spec));
        if let Some(x) = &o.other {
            self.other_mut(n_counts_of(&self.spec)).merge(x);
        }
        self.time.merge(&o.time);
        for k in &o.keys_seen {
            see_key(&mut self.keys_seen, k);
        }
    }

    fn other_mut(&mut self, n_counts: usize) -> &mut GroupAcc {
        self.other.get_or_insert_with(|| GroupAcc::new(n_counts))
    }

    /// Groups evicted from the kept set go to `(other)`.
    fn fold_spilled(&mut self, n_counts: usize) {
        if self.groups.has_spilled() {
            for (_, g) in self.groups.take_spilled() {
                self.other_mut(n_counts).merge(&g);
            }
        }
    }

    /// The groups heavier than a kept one that were not kept (a kept
    /// set by hash, not by records): what a second read can show.
    pub fn heaviest_unkept(&self) -> Vec<(&str, u64)> {
        let shown = self.shown();
        let n = self.spec.as_ref().map_or(MAX_GROUPS, |d| d.max_groups);
        // Heavier than the lightest group shown (than none, when fewer
        // than --max-groups are shown).
        let floor = match shown.last() {
            Some((_, g)) if shown.len() >= n => g.records,
            _ => 0,
        };
        self.groups
            .heaviest(self.groups.cap())
            .into_iter()
            .filter(|e| e.2.is_none() && e.1 > floor)
            .map(|e| (e.0, e.1))
            .collect()
    }

    /// The kept groups the report shows: the `--max-groups` with the most
    /// records, largest first (ties by key), as `sort | uniq -c | sort -rn`.
    fn shown(&self) -> Vec<(&str, &GroupAcc)> {
        let n = self.spec.as_ref().map_or(MAX_GROUPS, |d| d.max_groups);
        let mut kept = self.groups.sorted();
        kept.sort_by(|a, b| b.1.records.cmp(&a.1.records).then_with(|| a.0.cmp(b.0)));
        kept.truncate(n);
        kept
    }

    /// The keys of the heaviest groups, kept or not.
    pub fn heaviest_keys(&self) -> std::collections::HashSet<Box<str>> {
        let shown = self.spec.as_ref().map_or(MAX_GROUPS, |d| d.max_groups);
        self.groups
            .heaviest(shown)
            .into_iter()
            .map(|e| e.0.into())
            .collect()
    }

    /// The figures of every kept group together.
    fn sum_of_groups(&self, n_counts: usize) -> GroupAcc {
        let mut t = GroupAcc::new(n_counts);
        for (_, g) in self.groups.sorted() {
            t.merge(g);
        }
        t
    }

    fn add(
        &mut self,
        spec: &Spec,
        s: &mut Scratch,
        ts: Option<&Timestamp>,
        line: &[u8],
        mode: Mode,
    ) {
        for k in s.top_keys.drain(..) {
            see_key(&mut self.keys_seen, &k);
        }
        if self.spec.is_none() {
            self.spec = Some(spec.desc());
            if self.groups.is_empty() && self.groups.overflow == 0 {
                self.groups = Keyed::new(spec.max_groups.max(MAX_GROUPS)).spilling();
            }
        }
        if !spec.wheres.is_empty() && !passes(spec, s, line) {
            self.filtered += 1;
            return;
        }
        self.records += 1;
        if let Some(ts) = ts {
            if s.ts_text.is_empty() {
                self.time.see(ts, line);
            } else {
                self.time.see_text(ts, &s.ts_text);
            }
        }
        s.key.clear();
        if !spec.by.is_empty() {
            s.key.push('[');
            for i in 0..spec.by.len() {
                if i > 0 {
                    s.key.push(',');
                }
                json_text(&mut s.key, s.by[i], line);
            }
            s.key.push(']');
        }
        let n_counts = spec.count.len();
        // The total is the sum of the groups until the group limit (or
        // the memory budget) may drop one; from then on it is kept apart,
        // over every record.
        if self.total.is_none()
            && (self.groups.len() >= self.groups.cap() || spec.keep.is_some() || crate::budget::tight())
        {
            self.total = Some(self.sum_of_groups(n_counts));
        }
        if let Some(total) = &mut self.total {
            add_to(total, spec, s, line, mode);
        }
        let kept = match &spec.keep {
            Some(k) if !k.contains(s.key.as_str()) => None,
            _ => self.groups.entry(&s.key, || GroupAcc::new(n_counts)),
        };
        match kept {
            Some(g) => add_to(g, spec, s, line, mode),
            None => {
                self.groups.miss(&s.key, 1);
                let o = self.other.get_or_insert_with(|| GroupAcc::new(n_counts));
                add_to(o, spec, s, line, mode);
            }
        }
        self.fold_spilled(n_counts);
    }

    fn keys_dropped(&self) -> u64 {
        self.groups.overflow
            + self
                .groups
                .sorted()
                .iter()
                .map(|(_, g)| g.values.overflow + g.counts.iter().map(|c| c.overflow).sum::<u64>())
                .sum::<u64>()
    }

    fn section(&self, ps: &[f64]) -> JsonlSection {
        let desc = self.spec.clone().unwrap_or(SpecDesc {
            values: Vec::new(),
            by: Vec::new(),
            count: Vec::new(),
            distinct: Vec::new(),
            wheres: Vec::new(),
            time: String::new(),
            time_unit: TimeUnit::Auto,
            max_groups: MAX_GROUPS,
            top: MAX_KEYS,
        });
        let mut total = GroupAcc::new(desc.count.len());
        // The heaviest kept groups (all of the heaviest, unless the input
        // was read once); kept groups past `--max-groups` join `(other)`.
        let shown = self.shown();
        let mut other_acc = self.other.clone();
        let mut kept_folded = 0u64;
        for (k, g) in self.groups.sorted() {
            if !shown.iter().any(|s| s.0 == k) {
                other_acc
                    .get_or_insert_with(|| GroupAcc::new(desc.count.len()))
                    .merge(g);
                kept_folded += 1;
            }
        }
        let kept = shown;
        let key_of = |key: &str| {
            (!desc.by.is_empty()).then(|| {
                let vals: Vec<serde_json::Value> = serde_json::from_str(key).unwrap_or_default();
                desc.by
                    .iter()
                    .cloned()
                    .zip(
                        vals.into_iter()
                            .chain(std::iter::repeat(serde_json::Value::Null)),
                    )
                    .collect::<serde_json::Map<_, _>>()
            })
        };
        let mut groups = Vec::new();
        for (key, g) in kept {
            if self.total.is_none() {
                total.merge(g);
            }
            groups.push(group_section(g, key_of(key), &desc, ps));
        }
        if self.total.is_none() {
            if let Some(o) = &other_acc {
                total.merge(o);
            }
        }
        if let Some(t) = &self.total {
            total = t.clone();
        }
        total.records = self.records;
        let folded = self.records - groups.iter().map(|g| g.records).sum::<u64>();
        let other = (folded > 0).then(|| {
            let mut o = other_acc.unwrap_or_else(|| GroupAcc::new(desc.count.len()));
            // A state written before `(other)` was kept has its count only.
            o.records = folded;
            group_section(&o, None, &desc, ps)
        });
        let groups_folded = (folded > 0).then(|| {
            let tally = self.groups.tally();
            let heavier = self.heaviest_unkept();
            Folded {
                groups: match tally {
                    Some(t) => Some(t.len() as u64 + kept_folded),
                    None if self.groups.overflow == 0 => Some(kept_folded),
                    None => None,
                },
                records: folded,
                heaviest: heavier.is_empty(),
                max_error: tally.map_or(0, |t| t.error()),
                heavier: heavier
                    .into_iter()
                    .take(FOLDED_NAMED)
                    .map(|(k, n)| FoldedGroup {
                        key: key_of(k),
                        records: n,
                    })
                    .collect(),
            }
        });
        let values_folded = desc
            .count
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                let t = TopValues::of(total.counts.get(i)?, desc.top);
                (t.other > 0).then(|| {
                    (
                        name.clone(),
                        FoldedValues {
                            values: t.folded,
                            records: t.other,
                            shown: t.values.len() as u64,
                            max_error: t.max_error,
                        },
                    )
                })
            })
            .collect();
        let total = group_section(&total, None, &desc, ps);
        let coarse_values = total
            .values
            .iter()
            .filter(|(_, v)| {
                let st = &v.stats;
                // Below 0.1, 0.001 is fewer than 3 significant digits.
                let small = |x: f64| x > 0.0 && x < 0.1;
                st.count > 0 && (small(st.min) || st.percentiles.iter().any(|(_, x)| small(*x)))
            })
            .map(|(name, _)| name.clone())
            .collect();
        JsonlSection {
            spec: self.spec.clone(),
            records: self.records,
            groups,
            other,
            groups_folded,
            values_folded,
            coarse_values,
            total,
            groups_dropped: folded,
            filtered_out: (!desc.wheres.is_empty()).then_some(self.filtered),
            time_range: figures::FirstLast::of(&self.time),
            keys_seen: self.keys_seen.clone(),
        }
    }
}

/// Whether the record parsed into `s` passes every `--where` condition.
fn passes(spec: &Spec, s: &Scratch, line: &[u8]) -> bool {
    spec.wheres.iter().zip(&s.wh).all(|(c, v)| {
        let f = match v {
            None => Field::Missing,
            Some(Scalar::Container) => Field::Container,
            Some(Scalar::Num(x, _)) => Field::Num(*x),
            Some(Scalar::Str(sp)) => Field::Str(sp.text(line)),
            Some(Scalar::Lit(a, _)) => match line[*a as usize] {
                b't' => Field::Bool(true),
                b'f' => Field::Bool(false),
                _ => Field::Null,
            },
        };
        c.holds(&f)
    })
}

/// Add the record parsed into `s` to one group's figures.
fn add_to(g: &mut GroupAcc, spec: &Spec, s: &mut Scratch, line: &[u8], mode: Mode) {
    g.records += 1;
    for &(i, stars, x, _) in &s.vals {
        let path = &spec.values[i as usize];
        let name: &str = if stars.1 == 0 {
            path
        } else {
            // The path with each `*` replaced by the key it took.
            s.name.clear();
            let mut from = 0;
            for (k, at) in spec.stars[i as usize].iter().enumerate() {
                s.name.push_str(&path[from..at.start]);
                s.name.push_str(&stars.0[k].text(line));
                from = at.end;
            }
            s.name.push_str(&path[from..]);
            &s.name
        };
        let Some(v) = g.values.entry(name, || ValueAcc {
            dist: Dist::new(mode),
            invalid: 0,
        }) else {
            g.values.miss(name, 1);
            continue;
        };
        match x {
            Some(x) => v.dist.record(x),
            None => v.invalid += 1,
        }
    }
    for &(i, _, v) in &s.count {
        let text = match v {
            // Absent, null, an object or an array: not counted
            // (docs/any-log.md), as a null value is missing.
            Scalar::Container => continue,
            Scalar::Lit(a, _) if line[a as usize] == b'n' => continue,
            Scalar::Str(sp) => sp.text(line),
            other => {
                s.name.clear();
                json_text(&mut s.name, Some(other), line);
                std::borrow::Cow::Borrowed(s.name.as_str())
            }
        };
        g.counts[i as usize].count(&text, 1);
    }
    if !s.distinct.is_empty() && g.distinct.len() < spec.distinct.len() {
        g.distinct.resize_with(spec.distinct.len(), Distinct::default);
    }
    for &(i, _, v) in &s.distinct {
        match v {
            Scalar::Container => continue,
            Scalar::Lit(a, _) if line[a as usize] == b'n' => continue,
            // A string by its text (escapes read), anything else as written.
            Scalar::Str(sp) if sp.escaped() => g.distinct[i as usize].insert(sp.text(line).as_bytes()),
            Scalar::Str(sp) => g.distinct[i as usize].insert(sp.raw(line)),
            other => {
                s.name.clear();
                json_text(&mut s.name, Some(other), line);
                g.distinct[i as usize].insert(s.name.as_bytes());
            }
        }
    }
}

/// A part's section as renderers draw it; `key` names the section (its
/// Prometheus prefix), `title` heads it.
pub fn view_of(k: &JsonlSection, key: &str, title: &str) -> View {
    let mut blocks = Vec::new();
    let grouped = k.spec.as_ref().is_some_and(|s| !s.by.is_empty());
    if let Some(f) = &k.groups_folded {
        blocks.push(Block::Note(folded_note(f, k.groups.len())));
    }
    if let Some(spec) = k.spec.as_ref().filter(|s| !s.by.is_empty()) {
        let names = label_names(&spec.by);
        let fields = k
            .groups
            .iter()
            .map(|g| {
                let pairs = names
                    .iter()
                    .zip(&spec.by)
                    .map(|(n, b)| {
                        let v = match g.key.as_ref().and_then(|m| m.get(b)) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            None | Some(serde_json::Value::Null) => String::new(),
                            Some(other) => other.to_string(),
                        };
                        (n.clone(), v)
                    })
                    .collect();
                (group_label(g), pairs)
            })
            .collect();
        blocks.push(Block::GroupFields(fields));
    }
    // The groups shown, then `(other)` (a label no group has: a group's
    // label names its fields).
    let rows_of = || {
        k.groups
            .iter()
            .map(|g| (group_label(g), g))
            .chain(k.other.iter().map(|o| (OTHER.to_string(), o)))
    };
    if grouped {
        blocks.push(Block::Shares(view::Shares {
            label: "group",
            series: "group_records",
            counts: rows_of().map(|(l, g)| (l, g.records)).collect(),
            total: k.records,
        }));
    }
    for (name, v) in &k.total.values {
        if k.coarse_values.contains(name) {
            blocks.push(Block::Note(coarse_note(name, v.unit)));
        }
        let mut rows = vec![("(all)".to_string(), v.stats.clone(), v.invalid)];
        if grouped {
            for (label, g) in rows_of() {
                if let Some(x) = g.values.get(name) {
                    rows.push((label, x.stats.clone(), x.invalid));
                }
            }
        }
        blocks.push(Block::Rows(view::ValueRows {
            name: name.clone(),
            label: "group",
            union_first: rows.len() > 1,
            rows,
            duration: v.unit == Some("ms"),
        }));
    }
    for c in k.total.counts.keys() {
        if let Some(f) = k.values_folded.get(c) {
            blocks.push(Block::Note(values_note(c, f)));
        }
        let rows: Vec<(String, &GroupSection)> = if grouped {
            rows_of().collect()
        } else {
            vec![("(all)".to_string(), &k.total)]
        };
        let cells = rows
            .iter()
            .map(|(l, g)| (l.clone(), g.counts.get(c).cloned().unwrap_or_default()))
            .collect();
        // After the field's name is put in front of each value, so a
        // value written "(other)" stays apart from the rest's row.
        let mut cells = relabel(cells, c);
        for (l, g) in &rows {
            if let Some(&n) = g.counts_other.get(c) {
                cells.entry(l.clone()).or_default().insert(OTHER.to_string(), n);
            }
        }
        blocks.push(Block::Cross(view::Cross {
            title: c.clone(),
            cells,
        }));
    }
    for (field, t) in &k.total.distinct {
        let mut rows = vec![("(all)".to_string(), t.count, t.exact)];
        if grouped {
            for (label, g) in rows_of() {
                let d = g.distinct.get(field).copied().unwrap_or(DistinctSection::of(None));
                rows.push((label, d.count, d.exact));
            }
        }
        blocks.push(Block::Distinct(view::DistinctRows {
            field: field.clone(),
            union_first: rows.len() > 1,
            rows,
            rel_error: distinct::REL_ERROR,
        }));
    }
    View {
        key: key.to_string(),
        title: format!("{title} ({} records)", thousands(k.records)),
        records: k.records,
        counts: [(
            "groups_dropped",
            "Records of groups beyond the group limit.",
            Some(k.groups_dropped),
        ),
        (
            "filtered_out",
            "Records --where left out.",
            k.filtered_out,
        )]
        .into_iter()
        .filter_map(|(a, b, n)| n.map(|n| (a, b, n)))
        .collect(),
        blocks,
        trend: Vec::new(),
    }
}

impl Kind for Jsonl {
    const STEM: &'static str = "jsonl";
    const BY_NAME: bool = false;
    const IN_TIME_RANGE: bool = false;
    type Scratch = Scratch;
    type Options = JsonlOptions;
    type Acc = JsonlAcc;
    type Section = JsonlSections;

    fn new(_mode: Mode) -> JsonlAcc {
        JsonlAcc::default()
    }

    fn merge(a: &mut JsonlAcc, o: &JsonlAcc) {
        for (name, p) in &o.parts {
            let i = a.part(name);
            a.parts[i].1.merge(p);
        }
    }

    fn finish(_a: &mut JsonlAcc) {}

    #[inline]
    fn parse(s: &mut Scratch, line: &[u8], cx: &Cx) -> Result<Parsed, Skip> {
        match spec_for(cx) {
            Some((spec, _)) => parse_with(spec, s, line),
            None => {
                // No spec: records are only validated and counted.
                s.vals.clear();
                match line.iter().find(|b| !b.is_ascii_whitespace()) {
                    None => Ok(Parsed::Blank),
                    Some(b'{') => crate::parse::json::validate(line).map(|_| Parsed::Undated),
                    Some(_) => Err(crate::parse::json::validate(line)
                        .err()
                        .unwrap_or(Skip::NotObject)),
                }
            }
        }
    }

    fn add(a: &mut JsonlAcc, s: &mut Scratch, ts: Option<&Timestamp>, line: &[u8], cx: &Cx) {
        let Some((spec, name)) = spec_for(cx) else {
            return;
        };
        // Logs come file by file: the part of the last line, first.
        let part = match a.parts.get_mut(s.part) {
            Some((n, p)) if n == name => p,
            _ => {
                s.part = a.part(name);
                &mut a.parts[s.part].1
            }
        };
        part.add(spec, s, ts, line, cx.mode);
    }

    fn records(a: &JsonlAcc) -> u64 {
        a.parts.iter().map(|(_, p)| p.records).sum()
    }

    fn keys_dropped(a: &JsonlAcc) -> u64 {
        a.parts.iter().map(|(_, p)| p.keys_dropped()).sum()
    }

    fn newest(a: &JsonlAcc) -> Option<i64> {
        a.parts
            .iter()
            .filter_map(|(_, p)| p.time.last.as_ref().map(|l| l.0))
            .max()
    }

    fn section(a: &JsonlAcc, ps: &[f64], _parse_errors: u64) -> JsonlSections {
        JsonlSections {
            parts: a
                .parts
                .iter()
                .map(|(n, p)| (n.clone(), p.section(ps)))
                .collect(),
        }
    }

    fn view(k: &JsonlSections) -> View {
        Self::views(k)
            .into_iter()
            .next()
            .unwrap_or_else(|| view_of(&Part::new().section(&[]), "jsonl", "JSONL"))
    }

    fn views(k: &JsonlSections) -> Vec<View> {
        k.parts
            .iter()
            .map(|(n, sec)| {
                if n.is_empty() {
                    view_of(sec, "jsonl", "JSONL")
                } else {
                    view_of(sec, n, n)
                }
            })
            .collect()
    }

    fn entries<M: serde::ser::SerializeMap>(
        kind: &str,
        k: &JsonlSections,
        m: &mut M,
    ) -> Result<(), M::Error> {
        for (name, sec) in &k.parts {
            m.serialize_entry(if name.is_empty() { kind } else { name }, sec)?;
        }
        Ok(())
    }

    fn omit(k: &JsonlSections) -> bool {
        k.parts.is_empty()
    }

    fn compatible(a: &JsonlAcc, b: &JsonlAcc) -> Result<(), super::Incompatible> {
        for (n, p) in &a.parts {
            let Some((_, q)) = b.parts.iter().find(|(m, _)| m == n) else {
                continue;
            };
            if let (Some(x), Some(y)) = (&p.spec, &q.spec) {
                if x != y {
                    return Err(super::Incompatible {
                        what: if n.is_empty() {
                            "`aggmetrics stats`".to_string()
                        } else {
                            format!("the `{n}` log")
                        },
                        a: describe(x),
                        b: describe(y),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Cross-table rows keyed `group` with the counted field's name in front
/// of each column: `status=200`.
fn relabel(
    cells: BTreeMap<String, BTreeMap<String, u64>>,
    field: &str,
) -> BTreeMap<String, BTreeMap<String, u64>> {
    cells
        .into_iter()
        .map(|(g, m)| {
            (
                g,
                m.into_iter()
                    .map(|(v, n)| (format!("{field}={v}"), n))
                    .collect(),
            )
        })
        .collect()
}

fn describe(s: &SpecDesc) -> String {
    let mut parts = Vec::new();
    for (flag, paths) in [
        ("--value", &s.values),
        ("--by", &s.by),
        ("--count", &s.count),
        ("--distinct", &s.distinct),
    ] {
        for p in paths {
            parts.push(format!("{flag} {p}"));
        }
    }
    parts.push(format!("--time {}", s.time));
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn value_units() {
        use super::{Unit, UnitScale};
        assert_eq!(Unit::split("duration:s"), ("duration", Unit::Duration(UnitScale::S)));
        assert_eq!(Unit::split("a.b:bytes"), ("a.b", Unit::Bytes));
        assert_eq!(Unit::split("t:number"), ("t", Unit::Number));
        // An unknown word, or a `:` inside quotes, is part of the path.
        assert_eq!(Unit::split("a:b"), ("a:b", Unit::Plain));
        assert_eq!(Unit::split("\"a:s"), ("\"a:s", Unit::Plain));
        let s = Unit::Duration(UnitScale::S);
        assert_eq!(s.num(1.5), 1500.0);
        assert_eq!(s.text("1.5"), Some(1500.0));
        assert_eq!(s.text("12ms"), Some(12.0));
        assert_eq!(s.text("250us"), Some(0.25));
        assert_eq!(s.text("2m"), Some(120_000.0));
        assert_eq!(s.text("12 parsecs"), None);
        assert_eq!(Unit::Bytes.text("3KB"), Some(3000.0));
        assert_eq!(Unit::Bytes.text("2MiB"), Some(2_097_152.0));
        assert_eq!(Unit::Bytes.text("2ms"), None);
        assert_eq!(Unit::Number.text("0.123"), Some(0.123));
        assert_eq!(Unit::Number.text("0.1s"), None);
        assert_eq!(Unit::Plain.text("1"), None);
    }

    use super::*;

    fn spec(values: &[&str], by: &[&str], count: &[&str]) -> Spec {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Spec::new(&v(values), &v(by), &v(count), "timestamp").unwrap()
    }

    #[test]
    fn paths_are_checked() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(Spec::new(&v(&["a..b"]), &[], &[], "timestamp").is_err());
        assert!(Spec::new(&[], &v(&["a.*"]), &[], "timestamp").is_err());
        assert!(Spec::new(&[], &[], &[], "timestamp").is_err());
        assert!(Spec::new(&v(&["a", "a"]), &[], &[], "timestamp").is_err());
        assert_eq!(spec(&[".hour"], &[], &[]).values, ["hour"]);
    }

    #[test]
    fn reads_nested_paths_stars_and_keys() {
        let sp = spec(
            &["timing.total_ms", "steps.*"],
            &["route", "ok"],
            &["status"],
        );
        let mut s = Scratch::default();
        let line = br#"{"timestamp": "2026-02-10T12:00:00Z", "route": "/a", "ok": true, "status": 200, "timing": {"total_ms": 12.5, "db_ms": 3}, "steps": {"x": 1, "y": "no", "z": null}, "text": "secret"}"#;
        let r = parse_with(&sp, &mut s, line).unwrap();
        assert!(matches!(r, Parsed::Record(_)));
        assert_eq!(s.vals.len(), 3, "{:?}", s.vals);
        assert_eq!(s.vals[0].2, Some(12.5));
        assert_eq!(s.vals[1].1 .1, 1);
        assert_eq!(s.vals[2].2, None, "a string is invalid");
        let mut key = String::new();
        json_text(&mut key, s.by[0], line);
        key.push(',');
        json_text(&mut key, s.by[1], line);
        key.push(',');
        json_text(&mut key, Some(s.count[0].2), line);
        assert_eq!(key, r#""/a",true,200"#);
        // Not an object, and not JSON, are damaged; a blank line is blank.
        assert_eq!(
            parse_with(&sp, &mut s, b"[1]").unwrap_err(),
            Skip::NotObject
        );
        assert!(parse_with(&sp, &mut s, b"{\"a\": ").is_err());
        assert!(matches!(
            parse_with(&sp, &mut s, b"   ").unwrap(),
            Parsed::Blank
        ));
        // No time: undated.
        assert!(matches!(
            parse_with(&sp, &mut s, br#"{"route": "/b"}"#).unwrap(),
            Parsed::Undated
        ));
    }

    /// The counted texts of a line under `count` paths, sorted.
    fn counted(sp: &Spec, line: &[u8]) -> Vec<String> {
        let mut s = Scratch::default();
        parse_with(sp, &mut s, line).unwrap();
        let mut out: Vec<String> = s
            .count
            .iter()
            .map(|&(i, _, v)| {
                let mut t = format!("{}=", sp.count[i as usize]);
                json_text(&mut t, Some(v), line);
                t
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn array_paths_are_checked() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let segs = |p: &str| segments(p);
        assert_eq!(
            segs("answers[*].ttl").unwrap(),
            [Seg::Key("answers".into()), Seg::Each, Seg::Key("ttl".into())]
        );
        assert_eq!(
            segs("a[0][12]").unwrap(),
            [Seg::Key("a".into()), Seg::Index(0), Seg::Index(12)]
        );
        assert_eq!(segs("\"a[0]\"").unwrap(), [Seg::Key("a[0]".into())]);
        for bad in ["a[", "a[]", "a[-1]", "a[x]", "a[0]b", "[0]", "a]", "a[99999999999]"] {
            assert!(segs(bad).is_err(), "{bad}");
        }
        // `[*]` is for values and counts: a record is in one group.
        assert!(matches!(
            Spec::new(&[], &v(&["tags[*]"]), &[], "ts"),
            Err(SpecError::EachNotHere(_))
        ));
        assert!(matches!(
            Spec::filtered(&[], &[], &[], &v(&["tags[*]=a"]), "ts"),
            Err(SpecError::EachNotHere(_))
        ));
        assert!(Spec::new(&[], &v(&["tags[0]"]), &v(&["tags[*]"]), "ts").is_ok());
    }

    #[test]
    fn reads_array_elements_by_index_and_each() {
        let sp = spec(
            &["answers[*].ttl", "answers[1].ttl", "rtt[0]"],
            &["tags[0]"],
            &["tags[*]"],
        );
        let mut s = Scratch::default();
        let line = br#"{"answers": [{"ttl": 30}, {"ttl": 60, "x": [1]}, {"ttl": "no"}, 5], "tags": ["a", "b", "a", null, {"k": 1}], "rtt": [0.5, 9], "timestamp": "2026-02-10T12:00:00Z"}"#;
        parse_with(&sp, &mut s, line).unwrap();
        let mut vals: Vec<(u16, Option<f64>)> = s.vals.iter().map(|v| (v.0, v.2)).collect();
        vals.sort_by(|a, b| a.partial_cmp(b).unwrap());
        // Each answer's ttl (the third invalid; 5 has no ttl), the second
        // answer's, and the first rtt.
        assert_eq!(
            vals,
            [(0, None), (0, Some(30.0)), (0, Some(60.0)), (1, Some(60.0)), (2, Some(0.5))]
        );
        let mut key = String::new();
        json_text(&mut key, s.by[0], line);
        assert_eq!(key, r#""a""#);
        assert_eq!(
            counted(&sp, line),
            // null and the object are read (and not counted by add_to).
            [r#"tags[*]="a""#, r#"tags[*]="a""#, r#"tags[*]="b""#, "tags[*]=null", "tags[*]=null"]
        );
        // Not an array: nothing read, the line is still a record.
        let line = br#"{"answers": {"ttl": 3}, "tags": "a", "timestamp": "2026-02-10T12:00:00Z"}"#;
        assert!(matches!(parse_with(&sp, &mut s, line).unwrap(), Parsed::Record(_)));
        assert!(s.vals.is_empty(), "{:?}", s.vals);
        assert_eq!(s.count.len(), 0);
        // A repeated key: the last one counts whole, inside elements too.
        let line = br#"{"tags": ["x"], "answers": [{"ttl": 1, "ttl": 2}, {"ttl": 3}], "tags": ["y", "z"]}"#;
        assert_eq!(counted(&sp, line), [r#"tags[*]="y""#, r#"tags[*]="z""#]);
        parse_with(&sp, &mut s, line).unwrap();
        let mut vals: Vec<(u16, Option<f64>)> = s.vals.iter().map(|v| (v.0, v.2)).collect();
        vals.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(vals, [(0, Some(2.0)), (0, Some(3.0)), (1, Some(3.0))]);
    }
}
