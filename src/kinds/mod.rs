//! One module per log kind. A kind owns everything that knows its fields:
//! the record parser, the accumulator (mergeable, and serde-encoded for
//! state files), the report section (serde model), and the section's
//! [`View`] that every renderer draws. The registry at the bottom of this
//! file lists the kinds; agg, report, state and render iterate over it and
//! hold no per-kind code.
//!
//! Adding a kind: a module here implementing [`Kind`], and one line in
//! `registry!`. See docs/architecture.md.

pub mod fallback;
pub mod jsonl;
pub mod latency;
pub mod risk;
pub mod shadow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::measure::config::Config;
use crate::measure::dist::Mode;
use crate::measure::view::View;
use crate::parse::{Skip, Timestamp};

/// A log kind: what one kind of JSONL file holds and what is computed from
/// it.
pub trait Kind: 'static {
    /// The kind's name: on the command line (`--kind`), as the section's
    /// key in reports and state files.
    const NAME: &'static str;
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
    type Options: Default + std::fmt::Debug + Send + Sync + 'static;
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
    /// Write the section into a report's map: under the kind's name, or,
    /// for a kind that reports several logs, one entry per log.
    fn entries<M: serde::ser::SerializeMap>(
        section: &Self::Section,
        m: &mut M,
    ) -> Result<(), M::Error> {
        m.serialize_entry(Self::NAME, section)
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
}

/// Something to do with one kind's type, chosen by a [`LogKind`] value
/// at run time (see [`visit`]): the way generic code reaches a kind's
/// parser and accumulator without a `match` per kind.
pub trait Visitor {
    type Out;
    fn visit<K: Registered>(self) -> Self::Out;
}

/// A kind in the registry: where its accumulator and scratch live.
pub trait Registered: Kind {
    const KIND: LogKind;
    fn acc(accs: &Accs) -> &Self::Acc;
    fn acc_mut(accs: &mut Accs) -> &mut Self::Acc;
    fn scratch(s: &mut Scratch) -> &mut Self::Scratch;
}

/// `a == b`, at compile time.
const fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The registry: from one line per kind (`Variant => module::Type`) this
/// macro writes the code below, each item once per kind, in list order.
/// grep finds the names here; the items are:
///
/// ```text
/// enum LogKind { Latency, Fallback, Risk, Shadow, Jsonl }   // + ALL, name(), by_name()
/// const _: () = assert!(module == Kind::NAME);              // per kind, at build time
/// impl Registered for latency::Latency { KIND, acc(), acc_mut(), scratch() }
/// fn open_maps() -> Vec<(&str, OpenMap)>                    // every kind's, with its name
/// fn direction(section, figure) -> Direction                // the kind's Kind::direction
/// fn visit<V: Visitor>(kind: LogKind, v: V) -> V::Out {
///     match kind { LogKind::Latency => v.visit::<latency::Latency>(), ... }
/// }
/// struct Accs     { latency: <Latency as Kind>::Acc, ... }   // + new, merge, finish,
///                                                            //   records, keys_dropped,
///                                                            //   newest, looks_wrong,
///                                                            //   to_state, from_state,
///                                                            //   compatible
/// struct Options  { latency: <Latency as Kind>::Options, ... }
/// struct Scratch  { latency: <Latency as Kind>::Scratch, ... }
/// struct AccsState{ latency: Option<<Latency as Kind>::Acc>, ... }  // the state file's form
/// struct Sections { latency: <Latency as Kind>::Section, ... }      // + of(), views(), Serialize
/// ```
///
/// Generic code (agg, report, state, render) reaches a kind only through
/// these: `visit` picks the kind's type once per line, then its parser and
/// accumulator run monomorphised.
macro_rules! registry {
    ($($variant:ident => $module:ident :: $kind:ident),+ $(,)?) => {
        /// The log kinds aggmetrics reads, in report order.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum LogKind {
            $($variant),+
        }

        impl LogKind {
            /// Every kind with the file-name stem that identifies it.
            pub const ALL: [(LogKind, &'static str); [$(stringify!($variant)),+].len()] =
                [$((LogKind::$variant, <$module::$kind as Kind>::STEM)),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(LogKind::$variant => <$module::$kind as Kind>::NAME),+
                }
            }

            /// Whether files are recognised as this kind by their name.
            pub fn by_name(self) -> bool {
                match self {
                    $(LogKind::$variant => <$module::$kind as Kind>::BY_NAME),+
                }
            }
        }

        // A kind's module is its name: the state file keys each kind's
        // figures by the module, reports and --kind by `Kind::NAME`. The
        // build fails when the two differ.
        $(
            const _: () = assert!(
                same_text(stringify!($module), <$module::$kind as Kind>::NAME),
                concat!(
                    "the module of ",
                    stringify!($kind),
                    " must be named as its Kind::NAME (state files key a kind by its module)"
                )
            );
        )+

        $(
            impl Registered for $module::$kind {
                const KIND: LogKind = LogKind::$variant;
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
            }
        )+

        /// Every kind's open maps ([`Kind::open_maps`]), with the name of
        /// the section they are in.
        pub fn open_maps() -> Vec<(&'static str, OpenMap)> {
            let mut out = Vec::new();
            $(
                for m in <$module::$kind as Kind>::open_maps() {
                    out.push((<$module::$kind as Kind>::NAME, *m));
                }
            )+
            out
        }

        /// Run `v` with the type of `kind`.
        /// [`Kind::direction`] of the kind whose section is named
        /// `section` (a user kind's sections: the default).
        pub fn direction(section: &str, figure: &str) -> crate::measure::figures::Direction {
            $(
                if section == <$module::$kind as Kind>::NAME {
                    return <$module::$kind as Kind>::direction(figure);
                }
            )+
            crate::measure::figures::Direction::Up
        }

        #[inline(always)]
        pub fn visit<V: Visitor>(kind: LogKind, v: V) -> V::Out {
            match kind {
                $(LogKind::$variant => v.visit::<$module::$kind>()),+
            }
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

            pub fn merge(&mut self, o: &Accs) {
                $(<$module::$kind as Kind>::merge(&mut self.$module, &o.$module);)+
            }

            pub fn finish(&mut self) {
                $(<$module::$kind as Kind>::finish(&mut self.$module);)+
            }

            pub fn records(&self) -> u64 {
                0 $(+ <$module::$kind as Kind>::records(&self.$module))+
            }

            pub fn keys_dropped(&self) -> u64 {
                0 $(+ <$module::$kind as Kind>::keys_dropped(&self.$module))+
            }

            /// The newest record of the kinds that keep their own range.
            pub fn newest(&self) -> Option<i64> {
                [$(<$module::$kind as Kind>::newest(&self.$module)),+]
                    .into_iter()
                    .flatten()
                    .max()
            }

            /// Warnings for kinds whose records do not look like the kind
            /// (see [`Kind::looks_wrong`]), with the kind.
            pub fn looks_wrong(&self) -> Vec<(LogKind, String)> {
                let mut out = Vec::new();
                $(
                    if let Some(w) = <$module::$kind as Kind>::looks_wrong(&self.$module) {
                        out.push((LogKind::$variant, w));
                    }
                )+
                out
            }

            /// The state-file form: every kind by name.
            pub fn to_state(&self) -> AccsState {
                AccsState {
                    $($module: Some(self.$module.clone())),+
                }
            }

            /// Whether `o` may be added to these (see [`Kind::compatible`]).
            pub fn compatible(&self, o: &Accs) -> Result<(), Incompatible> {
                $(<$module::$kind as Kind>::compatible(&self.$module, &o.$module)?;)+
                Ok(())
            }

            /// From a state: a kind the state does not hold (written before
            /// the kind was added) is empty.
            pub fn from_state(s: AccsState, mode: Mode) -> Accs {
                Accs {
                    $($module: s.$module.unwrap_or_else(|| <$module::$kind as Kind>::new(mode))),+
                }
            }
        }

        /// Every kind's options for a run ([`Kind::Options`]), one field
        /// per kind.
        #[derive(Debug, Default)]
        pub struct Options {
            $(pub $module: <$module::$kind as Kind>::Options),+
        }

        /// Per-kind parse scratch.
        #[derive(Debug, Default)]
        pub struct Scratch {
            $($module: <$module::$kind as Kind>::Scratch),+
        }

        /// The accumulators as a state file holds them.
        #[derive(Serialize, Deserialize)]
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

        /// Each section under its kind's name, in registry order, less
        /// those the kind omits ([`Kind::omit`]).
        impl Serialize for Sections {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap as _;
                let mut m = s.serialize_map(None)?;
                $(
                    if !<$module::$kind as Kind>::omit(&self.$module) {
                        <$module::$kind as Kind>::entries(&self.$module, &mut m)?;
                    }
                )+
                m.end()
            }
        }

        impl Sections {
            /// `parse_errors`: damaged lines per kind (by [`LogKind`]
            /// order) charged to these figures.
            pub fn of(accs: &Accs, ps: &[f64], parse_errors: &[u64]) -> Sections {
                Sections {
                    $($module: <$module::$kind as Kind>::section(
                        &accs.$module,
                        ps,
                        parse_errors[LogKind::$variant.index()],
                    )),+
                }
            }

            /// Every section as renderers draw it, in report order (less
            /// omitted ones).
            pub fn views(&self) -> Vec<View> {
                let mut out = Vec::new();
                $(
                    if !<$module::$kind as Kind>::omit(&self.$module) {
                        out.extend(<$module::$kind as Kind>::views(&self.$module));
                    }
                )+
                out
            }
        }
    };
}

// The registry: one line per kind, in report order.
registry! {
    Latency => latency::Latency,
    Fallback => fallback::Fallback,
    Risk => risk::Risk,
    Shadow => shadow::Shadow,
    Jsonl => jsonl::Jsonl,
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
