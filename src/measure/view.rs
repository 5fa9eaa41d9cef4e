//! A kind-independent view of one report section: the blocks every
//! renderer knows how to draw (distributions side by side, counts with
//! shares, rates with their denominators, breakdowns, cross tables).
//! Each log kind builds its section's view (see `crate::kinds`); the
//! renderers draw views without knowing which kind made them, so a new
//! kind shows in every format without a renderer edit.
//!
//! Only categorical keys the report aggregates by appear here, never a
//! free-text field (the same rule as the report itself).

use std::collections::BTreeMap;

use super::figures::{RateFig, Stats};

/// One section, as every renderer draws it.
#[derive(Debug, Clone)]
pub struct View {
    /// The section's key in the JSON report (`latency`, `risk`, ...), and
    /// the prefix of its Prometheus series.
    pub key: String,
    /// The heading: `Latency (ms)`, `Fallback (394 records)`.
    pub title: String,
    /// Records the section counts (in the window, when there is one).
    pub records: u64,
    /// Counts besides `records`, exported as `<key>_<name>` series.
    pub counts: Vec<(&'static str, &'static str, u64)>,
    pub blocks: Vec<Block>,
    /// The rates a `--by` trend shows per bucket: (column label, rate
    /// name in the blocks).
    pub trend: Vec<(&'static str, &'static str)>,
}

/// A row of a [`Block::Grid`]: one distribution per column.
#[derive(Debug, Clone)]
pub struct GridRow {
    /// `total_ms`, or a step's name.
    pub name: String,
    /// The Prometheus series (`total_ms`, `step_ms`) and, for a row of an
    /// open map, the label naming it (`step`).
    pub series: &'static str,
    pub label: Option<&'static str>,
    /// `None` where the column has no such distribution.
    pub cells: Vec<Option<Stats>>,
    /// Show the mean and max besides the percentiles.
    pub detail: bool,
}

/// Distributions of several groups side by side, with each group's
/// record count.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The label of the column names (`group`).
    pub label: &'static str,
    pub columns: Vec<String>,
    pub records: Vec<u64>,
    pub rows: Vec<GridRow>,
    /// The first column is the union of the others (`all`): exports
    /// that add up across hosts leave it out, so `sum()` never counts
    /// a record twice.
    pub union_first: bool,
}

/// One distribution on one line: `llm_latency_ms  p50 .. (n=155)`;
/// drawn only when it holds values.
#[derive(Debug, Clone)]
pub struct DistLine {
    /// The JSON key and Prometheus series (`llm_latency_ms`).
    pub name: &'static str,
    /// `(label, value)`: the percentiles as the section states them.
    pub points: Vec<(String, f64)>,
    pub count: u64,
    /// A duration's buckets (Prometheus histogram); `None` for a
    /// distribution of something else (a confidence).
    pub hist: Option<super::figures::Histo>,
}

/// Counts of a categorical field with their share of `total`, largest
/// first.
#[derive(Debug, Clone)]
pub struct Shares {
    /// The field (`outcome`): column heading and Prometheus label.
    pub label: &'static str,
    /// The Prometheus series (`outcome_records`).
    pub series: &'static str,
    pub counts: BTreeMap<String, u64>,
    pub total: u64,
}

/// The label of what a capped table folded together; drawn last.
pub const OTHER: &str = "(other)";

/// Counts largest first (ties by name), with [`OTHER`] last.
pub fn largest_first(counts: &BTreeMap<String, u64>) -> Vec<(&String, &u64)> {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| {
        (a.0 == OTHER)
            .cmp(&(b.0 == OTHER))
            .then(b.1.cmp(a.1))
            .then(a.0.cmp(b.0))
    });
    v
}

/// Named rates, in the order drawn.
pub type Rates = Vec<(&'static str, RateFig)>;

/// `reasons: a 3 · b 1`, largest first; drawn only when not empty.
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub title: &'static str,
    /// Exported as `<key>_<series>{<label>=...}` when set.
    pub series: Option<(&'static str, &'static str)>,
    pub counts: BTreeMap<String, u64>,
}

/// One distribution per row (a value per group): `label | n | pNN |
/// mean | max | invalid`.
#[derive(Debug, Clone)]
pub struct ValueRows {
    /// The value (`timing.total_ms`): heading, and the Prometheus
    /// series' `value` label.
    pub name: String,
    /// What a row is (`group`): column heading and Prometheus label.
    pub label: &'static str,
    /// (row name, its figures, values that were not usable numbers).
    pub rows: Vec<(String, Stats, u64)>,
    /// The first row is the union of the others (`(all)` beside groups).
    pub union_first: bool,
    /// The values are durations in milliseconds (`--value d:s`):
    /// Prometheus gets a histogram in seconds besides the percentiles.
    pub duration: bool,
}

impl ValueRows {
    /// The unit a duration reads best in for people (the tables, not the
    /// exports): by the median of the first row, milliseconds below a
    /// second, seconds below an hour, hours beyond. `None`: not a
    /// duration, or milliseconds.
    pub fn shown_in(&self) -> Option<(&'static str, f64)> {
        if !self.duration {
            return None;
        }
        let p50 = self.rows.first().and_then(|(_, st, _)| {
            (st.count > 0).then(|| st.percentiles.first().map_or(st.mean, |p| p.1))
        })?;
        match p50 {
            x if x >= 3_600_000.0 => Some(("h", 3_600_000.0)),
            x if x >= 1_000.0 => Some(("s", 1_000.0)),
            _ => None,
        }
    }

    /// The heading and the rows as the tables show them: a duration in
    /// [`ValueRows::shown_in`]'s unit, named in the heading
    /// (`TTLs[*] (s)`), its figures to 3 decimals of that unit.
    pub fn for_people(&self) -> (String, Vec<(String, super::figures::Stats, u64)>) {
        let Some((unit, div)) = self.shown_in() else {
            let name = if self.duration {
                format!("{} (ms)", self.name)
            } else {
                self.name.clone()
            };
            return (name, self.rows.clone());
        };
        let rows = self
            .rows
            .iter()
            .map(|(l, st, inv)| {
                let f = |x: f64| super::figures::round_to(x / div, 3);
                let mut st = st.clone();
                for p in &mut st.percentiles {
                    p.1 = f(p.1);
                }
                st.min = f(st.min);
                st.max = f(st.max);
                st.mean = f(st.mean);
                // A whole number of ms is not one of s.
                st.whole = false;
                (l.clone(), st, *inv)
            })
            .collect();
        (format!("{} ({unit})", self.name), rows)
    }
}

/// A two-way table of counts (`by intent` x outcome).
#[derive(Debug, Clone)]
pub struct Cross {
    pub title: String,
    pub cells: BTreeMap<String, BTreeMap<String, u64>>,
}

/// How many distinct values a field took (`--distinct`), per row.
#[derive(Debug, Clone)]
pub struct DistinctRows {
    pub field: String,
    /// Each row's label (`(all)` first when `union_first`), its count,
    /// and whether the count is exact.
    pub rows: Vec<(String, u64, bool)>,
    pub union_first: bool,
    /// The relative standard error of a count that is not exact.
    pub rel_error: f64,
}

impl DistinctRows {
    /// What a reader must know when a count is an estimate.
    pub fn note(&self) -> Option<String> {
        self.rows.iter().any(|r| !r.2).then(|| {
            format!(
                "distinct {}: past 512 values a count is a HyperLogLog estimate, with a \
                 relative standard error of {:.1}%",
                self.field,
                self.rel_error * 100.0
            )
        })
    }

    /// The counts as a one-column table (`distinct`).
    pub fn as_cross(&self) -> Cross {
        let title = format!("distinct {}", self.field);
        Cross {
            title,
            cells: self
                .rows
                .iter()
                .map(|(l, n, _)| (l.clone(), [("distinct".to_string(), *n)].into()))
                .collect(),
        }
    }
}

/// A [`Cross`] laid out once for every format that draws a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossGrid {
    /// The heading: the corner, then each column's name.
    pub head: Vec<String>,
    /// Each row's name and its cells (`None`: no such count).
    pub rows: Vec<(String, Vec<Option<u64>>)>,
}

impl Cross {
    /// Rows and columns largest total first (ties by name, [`OTHER`]
    /// last), so the order is the one of every count table. The longer
    /// side goes down: a field with many values against a few groups has
    /// a row per value, never columns wrapped in chunks; one row alone
    /// (no groups) is always a column.
    pub fn grid(&self) -> CrossGrid {
        let mut row_tot: BTreeMap<&String, u64> = BTreeMap::new();
        let mut col_tot: BTreeMap<&String, u64> = BTreeMap::new();
        for (r, m) in &self.cells {
            for (c, n) in m {
                *row_tot.entry(r).or_default() += n;
                *col_tot.entry(c).or_default() += n;
            }
            row_tot.entry(r).or_default();
        }
        let order = |t: BTreeMap<&String, u64>| -> Vec<String> {
            let owned: BTreeMap<String, u64> = t.into_iter().map(|(k, v)| (k.clone(), v)).collect();
            largest_first(&owned)
                .into_iter()
                .map(|(k, _)| k.clone())
                .collect()
        };
        let (rows, cols) = (order(row_tot), order(col_tot));
        let down = rows.len() == 1 || cols.len() > rows.len();
        let get = |r: &String, c: &String| self.cells.get(r).and_then(|m| m.get(c)).copied();
        if down {
            CrossGrid {
                head: std::iter::once(self.title.clone())
                    .chain(rows.iter().cloned())
                    .collect(),
                rows: cols
                    .iter()
                    .map(|c| (c.clone(), rows.iter().map(|r| get(r, c)).collect()))
                    .collect(),
            }
        } else {
            CrossGrid {
                head: std::iter::once(self.title.clone())
                    .chain(cols.iter().cloned())
                    .collect(),
                rows: rows
                    .iter()
                    .map(|r| (r.clone(), cols.iter().map(|c| get(r, c)).collect()))
                    .collect(),
            }
        }
    }
}

/// One figure of two reports side by side (`compare`).
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct Change {
    /// Key path in the report, e.g. `latency.with_llm.total_ms.p95`.
    pub path: String,
    /// `latency_ms` or `rate`.
    pub kind: &'static str,
    pub base: f64,
    pub candidate: f64,
    /// candidate - base.
    pub change: f64,
    /// change / base; `null` when base is 0.
    pub relative_change: Option<f64>,
    /// Two-sided p-value of the two-proportion z-test (rates only).
    pub p_value: Option<f64>,
    /// Values behind each side: records for a percentile, the denominator
    /// for a rate.
    pub base_n: u64,
    pub candidate_n: u64,
    pub regression: bool,
    /// Why it is (or is close to being) a regression, or why it was not
    /// judged.
    pub note: String,
}

/// Figures of two reports side by side (`compare`), regressions first.
#[derive(Debug, Clone)]
pub struct Changes {
    pub rows: Vec<Change>,
    /// Key paths found in one report only.
    pub only_in_base: Vec<String>,
    pub only_in_candidate: Vec<String>,
}

/// One part of a section. Each renderer draws each kind of block in one
/// function of its own (`crate::render::Blocks`).
#[derive(Debug, Clone)]
pub enum Block {
    Grid(Grid),
    Dist(DistLine),
    Shares(Shares),
    /// Rates on one line: `fallback rate 12.94%   error rate 3.55%`.
    RateLine(Rates),
    /// Rates one per row with their denominators: `error rate 1.52% of 394`.
    RateRows(Rates),
    Breakdown(Breakdown),
    Rows(ValueRows),
    Cross(Cross),
    Changes(Changes),
    /// A rollout verdict with each criterion and why.
    Verdict(super::verdict::Verdict),
    /// A line the reader must see: what the figures leave out and why.
    Note(String),
    /// How many distinct values a field took, per group.
    Distinct(DistinctRows),
    /// What each group row's label is made of: label -> (field, value)
    /// pairs, for formats that label by field (Prometheus:
    /// `route="/api",status="200"`, so `sum by (route)` works). Drawn as
    /// nothing by the others.
    GroupFields(BTreeMap<String, Vec<(String, String)>>),
}

impl View {
    /// Every rate of the section, in the order drawn.
    pub fn rates(&self) -> Vec<(&'static str, RateFig)> {
        self.blocks
            .iter()
            .flat_map(|b| match b {
                Block::RateLine(r) | Block::RateRows(r) => r.clone(),
                _ => Vec::new(),
            })
            .collect()
    }

    /// The distribution a `--by` trend shows per bucket: the first row's
    /// first column of the first grid (latency `total_ms` of `all`), with
    /// its description.
    pub fn headline(&self) -> Option<(String, &Stats)> {
        self.blocks.iter().find_map(|b| match b {
            Block::Grid(g) => {
                let r = g.rows.first()?;
                let st = r.cells.first()?.as_ref()?;
                Some((
                    format!("{} of {} {} records", r.name, g.columns.first()?, self.key),
                    st,
                ))
            }
            _ => None,
        })
    }

    /// A rate of the section by name.
    pub fn rate(&self, name: &str) -> Option<RateFig> {
        self.rates()
            .into_iter()
            .find(|(n, _)| *n == name)
            .map(|(_, r)| r)
    }

    /// The section's title for plain headings: `Fallback` from `Fallback
    /// (394 records)`.
    pub fn name(&self) -> &str {
        self.title.split(" (").next().unwrap_or(&self.title)
    }
}

/// 1234567 -> "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cross(cells: &[(&str, &[(&str, u64)])]) -> Cross {
        Cross {
            title: "status".into(),
            cells: cells
                .iter()
                .map(|(r, m)| {
                    (
                        r.to_string(),
                        m.iter().map(|(c, n)| (c.to_string(), *n)).collect(),
                    )
                })
                .collect(),
        }
    }

    /// Largest first both ways, (other) last, and the long side down.
    #[test]
    fn a_cross_table_is_ordered_by_count_and_laid_long_side_down() {
        let c = cross(&[
            ("a", &[("200", 1), ("500", 9)]),
            ("(other)", &[("200", 50)]),
            ("b", &[("200", 5), ("500", 1)]),
        ]);
        let g = c.grid();
        assert_eq!(g.head, ["status", "200", "500"]);
        let names: Vec<&str> = g.rows.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(names, ["a", "b", "(other)"]);
        assert_eq!(g.rows[2].1, [Some(50), None]);
        // One row: its values go down, largest first.
        let one = cross(&[("(all)", &[("x", 1), ("y", 3), ("z", 2)])]);
        let g = one.grid();
        assert_eq!(g.head, ["status", "(all)"]);
        let down: Vec<(&str, Option<u64>)> =
            g.rows.iter().map(|r| (r.0.as_str(), r.1[0])).collect();
        assert_eq!(down, [("y", Some(3)), ("z", Some(2)), ("x", Some(1))]);
        // More values than groups: values down, groups across.
        let wide = cross(&[("a", &[("1", 1), ("2", 2), ("3", 3)]), ("b", &[("1", 5)])]);
        let g = wide.grid();
        assert_eq!(g.head, ["status", "a", "b"]);
        assert_eq!(g.rows[0], ("1".to_string(), vec![Some(1), Some(5)]));
    }
}
