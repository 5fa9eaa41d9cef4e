//! One module per log kind. A kind owns everything that knows its fields:
//! the record parser, the accumulator (mergeable, and serde-encoded for
//! state files), the report section (serde model), and the section's
//! [`View`] that every renderer draws. The registry at the bottom of this
//! file lists the kinds; agg, report, state and render iterate over it and
//! hold no per-kind code.
//!
//! Adding a kind: a module here implementing [`Kind`] (the module's name
//! is the kind's name), and one line in the list at `registry!`, which
//! also declares the module. See docs/architecture.md.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::measure::config::Config;
use crate::measure::dist::Mode;
use crate::measure::view::View;
use crate::parse::{Skip, Timestamp};

/// A log kind: what one kind of JSONL file holds and what is computed from
/// it.
pub trait Kind: 'static {
    /// The file-name stem that identifies it: `<STEM>*.jsonl`.
    const STEM: &'static str;
    /// Whether files are recognised as this kind by their name (`STEM`);
    /// a kind without a name of its own is read only when asked for.
    const BY_NAME: bool = true;
    /// Whether its records count in the summary's `time_range` (the
    /// platform script's first and last record over the latency and
    /// fallback logs only); every kind may state its own range in its
    /// section.
    const IN_TIME_RANGE: bool;
    /// Reused from line to line so that parsing allocates nothing per
    /// record: the last parsed record lives here between `parse` and `add`.
    type Scratch: Default + std::fmt::Debug + Send;
    /// What the kind reads besides the line, set once per run by the
    /// command (the shadow kind's golden dataset, the spec any JSONL log
    /// is read with): typed, owned by the run and shared by every worker.
    type Options: Default + Clone + std::fmt::Debug + Send + Sync + 'static;
    /// The mergeable accumulator: merging is exact and order-free, so any
    /// split of the input and any thread count give the same figures.
    type Acc: Clone + std::fmt::Debug + Send + Serialize + DeserializeOwned;
    /// The report section (its JSON shape is documented in docs/report.md).
    type Section: Clone + std::fmt::Debug + Serialize;

    fn new(mode: Mode) -> Self::Acc;
    fn merge(acc: &mut Self::Acc, other: &Self::Acc);
    /// Put kept values in a canonical order (exact mode), build histograms.
    fn finish(acc: &mut Self::Acc);
    /// Parse one line (no `\n`): a blank line, a record (kept in `s` for
    /// [`Kind::add`]) with the time it was written (or without one, for a
    /// kind whose time is optional), or `Err`: a damaged line and why (no
    /// content of the line is kept).
    fn parse(s: &mut Self::Scratch, line: &[u8], cx: &Cx) -> Result<Parsed, Skip>;
    /// Add the record last parsed into `s` (from `line`) to `acc`; `ts` is
    /// its time (`None` for a [`Parsed::Undated`] record).
    fn add(
        acc: &mut Self::Acc,
        s: &mut Self::Scratch,
        ts: Option<&Timestamp>,
        line: &[u8],
        cx: &Cx,
    );
    /// Records counted.
    fn records(acc: &Self::Acc) -> u64;
    /// Observations whose categorical key was not kept (over the per-map
    /// key limit).
    fn keys_dropped(acc: &Self::Acc) -> u64;
    /// The newest record of the kind, when it keeps its own time range.
    fn newest(_acc: &Self::Acc) -> Option<i64> {
        None
    }
    /// Why records read as this kind may not be of it (no record carries
    /// the field that defines the kind), for a warning; `None` when they
    /// look right.
    fn looks_wrong(_acc: &Self::Acc) -> Option<String> {
        None
    }
    /// The section of the report. `parse_errors`: damaged lines of this
    /// kind charged to these figures.
    fn section(acc: &Self::Acc, ps: &[f64], parse_errors: u64) -> Self::Section;
    /// The section as every renderer draws it.
    fn view(section: &Self::Section) -> View;
    /// Every view of the section: one, unless the kind reports several
    /// logs (user-defined kinds).
    fn views(section: &Self::Section) -> Vec<View> {
        vec![Self::view(section)]
    }
    /// Write the section into a report's map: under the kind's `name`,
    /// or, for a kind that reports several logs, one entry per log.
    fn entries<M: serde::ser::SerializeMap>(
        name: &str,
        section: &Self::Section,
        m: &mut M,
    ) -> Result<(), M::Error> {
        m.serialize_entry(name, section)
    }
    /// Leave the section out of reports (a kind that was not asked for).
    fn omit(_section: &Self::Section) -> bool {
        false
    }
    /// Which way a figure of the section gets worse, by its key path in
    /// the section (`confidence.p95`, `agreement_rate`, `total_ms.p99`):
    /// for `compare` and the gates' regression check. By default every
    /// figure (latency percentiles, error and mismatch rates) grows worse.
    fn direction(_figure: &str) -> crate::measure::figures::Direction {
        crate::measure::figures::Direction::Up
    }
    /// The open maps of the section (names that come from the logs: steps,
    /// outcomes, intents), for the keys `--fail-on` may name.
    fn open_maps() -> &'static [OpenMap] {
        &[]
    }
    /// Whether two accumulators may be added up (states written with
    /// different settings may not); `Err` says why.
    fn compatible(_a: &Self::Acc, _b: &Self::Acc) -> Result<(), Incompatible> {
        Ok(())
    }
}

/// A map of a section whose names come from the logs, by its path under
/// the section, and what any of its entries holds.
#[derive(Debug, Clone, Copy)]
pub struct OpenMap {
    pub path: &'static [&'static str],
    pub entry: OpenEntry,
}

/// What an entry of an [`OpenMap`] holds.
#[derive(Debug, Clone, Copy)]
pub enum OpenEntry {
    /// A count.
    Count,
    /// Counts by a second open set of names (`by_intent.<intent>.<outcome>`).
    Counts,
    /// What the map's sibling of this name holds (a step's figures are the
    /// total's: `steps` beside `total_ms`).
    LikeSibling(&'static str),
}

/// Two states that may not be added up: the same log read with different
/// settings (`stats` of other fields).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("states of {what} with different fields cannot be merged ({a} vs {b})")]
pub struct Incompatible {
    /// Which log: `` `aggmetrics stats` `` or `` the `assist` log ``.
    pub what: String,
    /// Each state's fields, described.
    pub a: String,
    pub b: String,
}

/// What a kind's parser and accumulator see of the read besides the line:
/// its settings (through `Deref`), every kind's options, and which input
/// the line is from.
#[derive(Debug, Clone, Copy)]
pub struct Cx<'a> {
    pub cfg: &'a Config,
    pub opts: &'a Options,
    /// The input's index in the read.
    pub file: u32,
}

impl std::ops::Deref for Cx<'_> {
    type Target = Config;
    fn deref(&self) -> &Config {
        self.cfg
    }
}

/// What one line holds.
#[derive(Debug, Clone, Copy)]
pub enum Parsed {
    /// Whitespace only.
    Blank,
    /// A record written at this time.
    Record(Timestamp),
    /// A record without a readable time (kinds whose time is optional):
    /// counted without a window or buckets, outside them otherwise.
    Undated,
    /// A record whose time field holds something that is no time: counted
    /// as [`Parsed::Undated`] is, and reported (`meta.unreadable_times`;
    /// `--strict` fails).
    UnreadableTime,
}

/// Something to do with one kind's type, chosen by a [`LogKind`] value
/// at run time (see [`visit`]): the way generic code reaches a kind's
/// parser and accumulator without a `match` per kind.
pub trait Visitor {
    type Out;
    fn visit<K: Registered>(self) -> Self::Out;
}

/// Something to do with every kind's type in turn, in report order (see
/// [`each`]): how the code below adds up, finishes, saves and reports
/// every kind without naming one.
pub trait EachKind {
    fn kind<K: Registered>(&mut self);
}

/// A kind in the registry: its place, its name, and where its parts live
/// in the per-kind structs ([`Accs`], [`Scratch`], [`AccsState`],
/// [`Sections`]). `registry!` writes this for each listed kind.
pub trait Registered: Kind {
    const KIND: LogKind;
    /// The kind's name, which is its module's: on the command line
    /// (`--kind`), as its section's key in reports and its figures' key in
    /// state files.
    const NAME: &'static str;
    fn acc(accs: &Accs) -> &Self::Acc;
    fn acc_mut(accs: &mut Accs) -> &mut Self::Acc;
    fn scratch(s: &mut Scratch) -> &mut Self::Scratch;
    fn state(s: &mut AccsState) -> &mut Option<Self::Acc>;
    fn section_in(s: &Sections) -> &Self::Section;
}

/// From the list of kinds (`module::Type`, one line each, at the bottom of
/// this file), the parts that need one item per kind and nothing else:
///
/// ```text
/// pub mod latency; ...                                      // the kinds' modules
/// enum LogKind { Latency, Fallback, Risk, Shadow, Jsonl }   // + ALL
/// impl Registered for latency::Latency {                    // per kind
///     KIND = LogKind::Latency, NAME = "latency",
///     acc(), acc_mut(), scratch(), state(), section_in()     // its field in each struct
/// }
/// fn visit<V: Visitor>(kind: LogKind, v: V) -> V::Out {     // the type of a kind value
///     match kind { LogKind::Latency => v.visit::<latency::Latency>(), ... }
/// }
/// fn each<E: EachKind>(e: &mut E) { e.kind::<latency::Latency>(); ... }
/// struct Accs      { latency: <Latency as Kind>::Acc, ... }      // + Accs::new
/// struct Options   { latency: <Latency as Kind>::Options, ... }
/// struct Scratch   { latency: <Latency as Kind>::Scratch, ... }
/// struct AccsState { latency: Option<<Latency as Kind>::Acc>, ... } // the state file's form
/// struct Sections  { latency: <Latency as Kind>::Section, ... }     // + Sections::of
/// ```
///
/// Everything else that goes over the kinds is plain code below, written
/// once with [`each`] or [`visit`]. A kind's name is its module's name
/// (`Registered::NAME`); its variant is its type's name.
macro_rules! registry {
    ($($module:ident :: $kind:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// The log kinds aggmetrics reads, in report order. Written and
        /// read as the kind's name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum LogKind {
            $($kind),+
        }

        impl LogKind {
            /// Every kind with the file-name stem that identifies it.
            pub const ALL: [(LogKind, &'static str); [$(stringify!($kind)),+].len()] =
                [$((LogKind::$kind, <$module::$kind as Kind>::STEM)),+];
        }

        $(
            impl Registered for $module::$kind {
                const KIND: LogKind = LogKind::$kind;
                const NAME: &'static str = stringify!($module);
                #[inline(always)]
                fn acc(accs: &Accs) -> &Self::Acc {
                    &accs.$module
                }
                #[inline(always)]
                fn acc_mut(accs: &mut Accs) -> &mut Self::Acc {
                    &mut accs.$module
                }
                #[inline(always)]
                fn scratch(s: &mut Scratch) -> &mut Self::Scratch {
                    &mut s.$module
                }
                fn state(s: &mut AccsState) -> &mut Option<Self::Acc> {
                    &mut s.$module
                }
                fn section_in(s: &Sections) -> &Self::Section {
                    &s.$module
                }
            }
        )+

        /// Run `v` with the type of `kind`.
        #[inline(always)]
        pub fn visit<V: Visitor>(kind: LogKind, v: V) -> V::Out {
            match kind {
                $(LogKind::$kind => v.visit::<$module::$kind>()),+
            }
        }

        /// Run `e` with the type of every kind, in report order.
        pub fn each<E: EachKind>(e: &mut E) {
            $(e.kind::<$module::$kind>();)+
        }

        /// One accumulator per kind.
        #[derive(Debug, Clone)]
        pub struct Accs {
            $(pub $module: <$module::$kind as Kind>::Acc),+
        }

        impl Accs {
            pub fn new(mode: Mode) -> Accs {
                Accs {
                    $($module: <$module::$kind as Kind>::new(mode)),+
                }
            }
        }

        /// Every kind's options for a run ([`Kind::Options`]), one field
        /// per kind.
        #[derive(Debug, Default, Clone)]
        pub struct Options {
            $(pub $module: <$module::$kind as Kind>::Options),+
        }

        /// Per-kind parse scratch.
        #[derive(Debug, Default)]
        pub struct Scratch {
            $($module: <$module::$kind as Kind>::Scratch),+
        }

        /// The accumulators as a state file holds them: every kind under
        /// its name; a kind the file lacks (written before the kind was
        /// added) is `None`.
        #[derive(Default, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct AccsState {
            $(
                #[serde(default)]
                pub $module: Option<<$module::$kind as Kind>::Acc>,
            )+
        }

        /// One report section per kind.
        #[derive(Debug, Clone)]
        pub struct Sections {
            $(pub $module: <$module::$kind as Kind>::Section),+
        }

        impl Sections {
            /// `parse_errors`: damaged lines per kind (by [`LogKind`]
            /// order) charged to these figures.
            pub fn of(accs: &Accs, ps: &[f64], parse_errors: &[u64]) -> Sections {
                Sections {
                    $($module: <$module::$kind as Kind>::section(
                        &accs.$module,
                        ps,
                        parse_errors[LogKind::$kind.index()],
                    )),+
                }
            }
        }
    };
}

pub mod filter;

// The registry: one line per kind (`module::Type`), in report order.
registry! {
    latency::Latency,
    fallback::Fallback,
    risk::Risk,
    shadow::Shadow,
    jsonl::Jsonl,
}

impl LogKind {
    /// The kind's name ([`Registered::NAME`]).
    pub fn name(self) -> &'static str {
        struct Name;
        impl Visitor for Name {
            type Out = &'static str;
            fn visit<K: Registered>(self) -> &'static str {
                K::NAME
            }
        }
        visit(self, Name)
    }

    /// Whether files are recognised as this kind by their name.
    pub fn by_name(self) -> bool {
        struct ByName;
        impl Visitor for ByName {
            type Out = bool;
            fn visit<K: Registered>(self) -> bool {
                K::BY_NAME
            }
        }
        visit(self, ByName)
    }
}

impl Serialize for LogKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for LogKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LogKind, D::Error> {
        let name = String::deserialize(d)?;
        LogKind::ALL
            .iter()
            .map(|(k, _)| *k)
            .find(|k| k.name() == name)
            .ok_or_else(|| serde::de::Error::unknown_variant(&name, &[]))
    }
}

/// Every kind's open maps ([`Kind::open_maps`]), with the name of the
/// section they are in.
pub fn open_maps() -> Vec<(&'static str, OpenMap)> {
    struct Maps(Vec<(&'static str, OpenMap)>);
    impl EachKind for Maps {
        fn kind<K: Registered>(&mut self) {
            self.0.extend(K::open_maps().iter().map(|m| (K::NAME, *m)));
        }
    }
    let mut m = Maps(Vec::new());
    each(&mut m);
    m.0
}

/// [`Kind::direction`] of the kind whose section is named `section` (a
/// user kind's sections: the default).
pub fn direction(section: &str, figure: &str) -> crate::measure::figures::Direction {
    struct Dir<'a>(&'a str, &'a str, crate::measure::figures::Direction);
    impl EachKind for Dir<'_> {
        fn kind<K: Registered>(&mut self) {
            if self.0 == K::NAME {
                self.2 = K::direction(self.1);
            }
        }
    }
    let mut d = Dir(section, figure, crate::measure::figures::Direction::Up);
    each(&mut d);
    d.2
}

impl Accs {
    pub fn merge(&mut self, o: &Accs) {
        struct Merge<'a>(&'a mut Accs, &'a Accs);
        impl EachKind for Merge<'_> {
            fn kind<K: Registered>(&mut self) {
                K::merge(K::acc_mut(self.0), K::acc(self.1));
            }
        }
        each(&mut Merge(self, o));
    }

    pub fn finish(&mut self) {
        struct Finish<'a>(&'a mut Accs);
        impl EachKind for Finish<'_> {
            fn kind<K: Registered>(&mut self) {
                K::finish(K::acc_mut(self.0));
            }
        }
        each(&mut Finish(self));
    }

    /// Records of every kind.
    pub fn records(&self) -> u64 {
        self.sum(|k| k.records)
    }

    /// Observations of every kind whose key was not kept.
    pub fn keys_dropped(&self) -> u64 {
        self.sum(|k| k.keys_dropped)
    }

    /// A count summed over the kinds, by [`Counts`].
    fn sum(&self, pick: fn(&Counts) -> u64) -> u64 {
        struct Sum<'a>(&'a Accs, fn(&Counts) -> u64, u64);
        impl EachKind for Sum<'_> {
            fn kind<K: Registered>(&mut self) {
                let acc = K::acc(self.0);
                self.2 += (self.1)(&Counts {
                    records: K::records(acc),
                    keys_dropped: K::keys_dropped(acc),
                });
            }
        }
        let mut s = Sum(self, pick, 0);
        each(&mut s);
        s.2
    }

    /// The newest record of the kinds that keep their own range.
    pub fn newest(&self) -> Option<i64> {
        struct Newest<'a>(&'a Accs, Option<i64>);
        impl EachKind for Newest<'_> {
            fn kind<K: Registered>(&mut self) {
                self.1 = self.1.max(K::newest(K::acc(self.0)));
            }
        }
        let mut n = Newest(self, None);
        each(&mut n);
        n.1
    }

    /// Warnings for kinds whose records do not look like the kind (see
    /// [`Kind::looks_wrong`]), with the kind.
    pub fn looks_wrong(&self) -> Vec<(LogKind, String)> {
        struct Wrong<'a>(&'a Accs, Vec<(LogKind, String)>);
        impl EachKind for Wrong<'_> {
            fn kind<K: Registered>(&mut self) {
                if let Some(w) = K::looks_wrong(K::acc(self.0)) {
                    self.1.push((K::KIND, w));
                }
            }
        }
        let mut w = Wrong(self, Vec::new());
        each(&mut w);
        w.1
    }

    /// Whether `o` may be added to these (see [`Kind::compatible`]): the
    /// first kind that says no.
    pub fn compatible(&self, o: &Accs) -> Result<(), Incompatible> {
        struct Compatible<'a>(&'a Accs, &'a Accs, Result<(), Incompatible>);
        impl EachKind for Compatible<'_> {
            fn kind<K: Registered>(&mut self) {
                if self.2.is_ok() {
                    self.2 = K::compatible(K::acc(self.0), K::acc(self.1));
                }
            }
        }
        let mut c = Compatible(self, o, Ok(()));
        each(&mut c);
        c.2
    }

    /// The state-file form: every kind by name.
    pub fn to_state(&self) -> AccsState {
        struct ToState<'a>(&'a Accs, AccsState);
        impl EachKind for ToState<'_> {
            fn kind<K: Registered>(&mut self) {
                *K::state(&mut self.1) = Some(K::acc(self.0).clone());
            }
        }
        let mut t = ToState(self, AccsState::default());
        each(&mut t);
        t.1
    }

    /// From a state: a kind the state does not hold (written before the
    /// kind was added) is empty.
    pub fn from_state(s: AccsState, mode: Mode) -> Accs {
        struct FromState(AccsState, Accs);
        impl EachKind for FromState {
            fn kind<K: Registered>(&mut self) {
                if let Some(acc) = K::state(&mut self.0).take() {
                    *K::acc_mut(&mut self.1) = acc;
                }
            }
        }
        let mut f = FromState(s, Accs::new(mode));
        each(&mut f);
        f.1
    }
}

/// A kind's counts, for [`Accs::records`] and [`Accs::keys_dropped`].
struct Counts {
    records: u64,
    keys_dropped: u64,
}

/// Each section under its kind's name, in registry order, less those the
/// kind omits ([`Kind::omit`]).
impl Serialize for Sections {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        struct Entries<'a, M: serde::ser::SerializeMap>(&'a Sections, M, Result<(), M::Error>);
        impl<M: serde::ser::SerializeMap> EachKind for Entries<'_, M> {
            fn kind<K: Registered>(&mut self) {
                let section = K::section_in(self.0);
                if self.2.is_ok() && !K::omit(section) {
                    self.2 = K::entries(K::NAME, section, &mut self.1);
                }
            }
        }
        let mut e = Entries(self, s.serialize_map(None)?, Ok(()));
        each(&mut e);
        e.2?;
        e.1.end()
    }
}

impl Sections {
    /// Every section as renderers draw it, in report order (less omitted
    /// ones).
    pub fn views(&self) -> Vec<View> {
        struct Views<'a>(&'a Sections, Vec<View>);
        impl EachKind for Views<'_> {
            fn kind<K: Registered>(&mut self) {
                let section = K::section_in(self.0);
                if !K::omit(section) {
                    self.1.extend(K::views(section));
                }
            }
        }
        let mut v = Views(self, Vec::new());
        each(&mut v);
        v.1
    }
}

impl LogKind {
    /// The kind named on the command line (`latency`, `fallback`, `risk`,
    /// or a file stem such as `pipeline_latency`).
    pub fn from_name(name: &str) -> Option<LogKind> {
        let n = name.trim().to_ascii_lowercase();
        Self::ALL
            .iter()
            .find(|(k, stem)| n == *stem || n == k.name())
            .map(|(k, _)| *k)
    }

    /// Position in [`LogKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The kind a file name announces: `<stem>*.jsonl`.
    pub fn from_file_name(file_name: &str) -> Option<LogKind> {
        if !file_name.ends_with(".jsonl") {
            return None;
        }
        Self::ALL
            .iter()
            .find(|(k, stem)| k.by_name() && file_name.starts_with(stem))
            .map(|(k, _)| *k)
    }

    /// Every kind's file names, for messages: `pipeline_latency*.jsonl, ...`.
    pub fn file_patterns() -> String {
        Self::ALL
            .iter()
            .filter(|(k, _)| k.by_name())
            .map(|(_, stem)| format!("{stem}*.jsonl"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Every named kind's name, for messages: `latency, fallback, risk,
    /// shadow`.
    pub fn names() -> String {
        Self::ALL
            .iter()
            .filter(|(k, _)| k.by_name())
            .map(|(k, _)| k.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
