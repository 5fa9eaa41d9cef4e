//! A condition on one number of a JSON report: `KEY.PATH OP BOUND`, e.g.
//! `error_rate > 0.05` or `latency.with_llm.total_ms.p95 >= 250`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    pub fn holds(self, value: f64, bound: f64) -> bool {
        match self {
            Op::Lt => value < bound,
            Op::Le => value <= bound,
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
        }
    }
}

/// `path op bound`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    pub path: String,
    pub op: Op,
    pub bound: f64,
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.path, self.op.symbol(), self.bound)
    }
}

/// Why a condition cannot be read; each quotes the user's own text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CondError {
    #[error("'{0}' has no comparison: write KEY OP NUMBER with OP one of > >= < <=, e.g. 'fallback.error_rate>0.05'")]
    NoComparison(String),
    #[error("'{cond}' has no key before '{op}': name a key path of the JSON report, e.g. 'risk.error_rate'")]
    NoKey { cond: String, op: &'static str },
    #[error("'{0}' is not a key path: dot-separated keys without spaces, e.g. 'latency.all.total_ms.p95'")]
    NotAPath(String),
    #[error("'{bound}' after '{op}' is not a number (in '{cond}')")]
    NotANumber {
        bound: String,
        op: &'static str,
        cond: String,
    },
    #[error("the bound in '{0}' must be a finite number")]
    NotFinite(String),
}

impl FromStr for Cond {
    type Err = CondError;

    fn from_str(s: &str) -> Result<Cond, CondError> {
        // Two-character operators first, so `>=` is not read as `>`.
        let ops = [(">=", Op::Ge), ("<=", Op::Le), (">", Op::Gt), ("<", Op::Lt)];
        let found = ops
            .iter()
            .filter_map(|(sym, op)| s.find(sym).map(|i| (i, *sym, *op)))
            .min_by_key(|(i, sym, _)| (*i, std::cmp::Reverse(sym.len())));
        let Some((i, sym, op)) = found else {
            return Err(CondError::NoComparison(s.to_string()));
        };
        let path = s[..i].trim();
        let rest = s[i + sym.len()..].trim();
        if path.is_empty() {
            return Err(CondError::NoKey {
                cond: s.to_string(),
                op: sym,
            });
        }
        if path.contains(char::is_whitespace)
            || path.starts_with('.')
            || path.ends_with('.')
            || path.contains("..")
        {
            return Err(CondError::NotAPath(path.to_string()));
        }
        let bound: f64 = rest.parse().map_err(|_| CondError::NotANumber {
            bound: rest.to_string(),
            op: sym,
            cond: s.to_string(),
        })?;
        if !bound.is_finite() {
            return Err(CondError::NotFinite(s.to_string()));
        }
        Ok(Cond {
            path: path.to_string(),
            op,
            bound,
        })
    }
}

impl Serialize for Cond {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cond {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cond, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The value at a dot-separated key path; `None` if a key is missing.
pub fn lookup<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    let segs: Vec<&str> = path.split('.').collect();
    let (used, x) = walk(v, &segs);
    (used == segs.len()).then_some(x)
}

/// Follow the segments of a key path as far as they lead: how many were
/// used, and the value reached (the whole path's value when all were; else
/// the object or array where the next segment names nothing).
pub fn walk<'v>(v: &'v Value, segs: &[&str]) -> (usize, &'v Value) {
    let mut cur = v;
    let mut i = 0;
    while i < segs.len() {
        let next = match cur {
            // Keys may hold dots (`p99.9`, a value path `timing.total_ms`):
            // the longest key that matches wins.
            Value::Object(m) => (i + 1..=segs.len())
                .rev()
                .find_map(|j| m.get(&segs[i..j].join(".")).map(|x| (x, j))),
            Value::Array(a) => segs[i]
                .parse::<usize>()
                .ok()
                .and_then(|k| a.get(k))
                .map(|x| (x, i + 1)),
            _ => None,
        };
        match next {
            Some((x, j)) => {
                cur = x;
                i = j;
            }
            None => break,
        }
    }
    (i, cur)
}

/// The number at a key path.
pub fn number(v: &Value, path: &str) -> Option<f64> {
    lookup(v, path)?.as_f64()
}

/// How many records (or values) a figure at `path` was computed from,
/// when it is a percentile, min, max or mean (its group's `count`), or a
/// rate (its `denominator`); `None` for a plain count. A figure with a
/// support of 0 is "no data", not a 0 to compare with a bound.
pub fn support(v: &Value, path: &str) -> Option<u64> {
    // The leaf may hold dots (`p99.9`): the longest one its parent has.
    let split = path
        .match_indices('.')
        .map(|(k, _)| (&path[..k], &path[k + 1..]))
        .find(|(p, l)| lookup(v, p).is_some_and(|x| x.get(*l).is_some()));
    let (parent, leaf) = match split.or_else(|| path.rsplit_once('.')) {
        Some((p, l)) => (lookup(v, p)?, l),
        None => (v, path),
    };
    let u = |x: &Value| x.as_u64();
    // A distribution's figure: `{p50, ..., min, max, mean, count}`.
    let stat = leaf == "min"
        || leaf == "max"
        || leaf == "mean"
        || (leaf.starts_with('p') && leaf[1..].parse::<f64>().is_ok());
    if stat {
        if let Some(n) = parent.get("count").and_then(u) {
            return Some(n);
        }
    }
    // A rate's own figure: `rates.<name>.value`.
    if let (Some(d), true) = (parent.get("denominator"), leaf != "numerator") {
        if leaf != "denominator" {
            return u(d);
        }
    }
    // A rounded top-level rate beside its `rates.<name>`.
    if let Some(d) = parent
        .get("rates")
        .and_then(|r| r.get(leaf))
        .and_then(|r| r.get("denominator"))
    {
        return u(d);
    }
    // The risk analyzer's `latency_p95` beside `latency_count`.
    if leaf.starts_with("latency_p") {
        return parent.get("latency_count").and_then(u);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects_with_reasons() {
        let c: Cond = "fallback.error_rate>0.05".parse().unwrap();
        assert_eq!(
            (c.path.as_str(), c.op, c.bound),
            ("fallback.error_rate", Op::Gt, 0.05)
        );
        let c: Cond = " latency.all.total_ms.p95 >= 250 ".parse().unwrap();
        assert_eq!((c.op, c.bound), (Op::Ge, 250.0));
        let c: Cond = "x<=1e-3".parse().unwrap();
        assert_eq!((c.op, c.bound), (Op::Le, 0.001));
        assert!("error_rate = 3"
            .parse::<Cond>()
            .unwrap_err()
            .to_string()
            .contains("no comparison"));
        assert!("> 3"
            .parse::<Cond>()
            .unwrap_err()
            .to_string()
            .contains("no key"));
        assert!("a.b > x"
            .parse::<Cond>()
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!("a b > 1"
            .parse::<Cond>()
            .unwrap_err()
            .to_string()
            .contains("not a key path"));
        assert_eq!(
            "a > inf".parse::<Cond>().unwrap_err(),
            CondError::NotFinite("a > inf".into())
        );
        // Each malformed path alone is refused (not only with a space).
        for bad in [".a > 1", "a. > 1", "a..b > 1"] {
            assert!(
                matches!(bad.parse::<Cond>(), Err(CondError::NotAPath(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn support_of_figures() {
        let v: Value = serde_json::json!({
            "g": {"count": 0, "t": {"p95": 0.0, "count": 0}},
            "f": {"count": 7, "error_rate": 0.0, "rates": {"error_rate": {"value": 0.0, "numerator": 0, "denominator": 7}}},
            "latency_p95": 1.0, "latency_count": 3
        });
        assert_eq!(support(&v, "g.t.p95"), Some(0));
        assert_eq!(support(&v, "f.error_rate"), Some(7));
        assert_eq!(support(&v, "f.rates.error_rate.value"), Some(7));
        assert_eq!(support(&v, "f.rates.error_rate.numerator"), None);
        assert_eq!(support(&v, "latency_p95"), Some(3));
        assert_eq!(support(&v, "f.count"), None);
        let v: Value = serde_json::json!({"t": {"p99.9": 5.0, "count": 4}});
        assert_eq!(support(&v, "t.p99.9"), Some(4));
        // min, max and mean of no values are no data, each of them; a key
        // that only starts with `p` is no percentile.
        let v: Value = serde_json::json!({"t": {"min": 0.0, "max": 0.0, "mean": 0.0, "count": 0, "parse_errors": 3}});
        for k in ["t.min", "t.max", "t.mean"] {
            assert_eq!(support(&v, k), Some(0), "{k}");
        }
        assert_eq!(support(&v, "t.parse_errors"), None);
    }

    #[test]
    fn looks_up_paths() {
        let v: Value = serde_json::json!({"a": {"b": [1, {"c": 2.5}]}});
        assert_eq!(number(&v, "a.b.1.c"), Some(2.5));
        assert_eq!(number(&v, "a.b.0"), Some(1.0));
        assert_eq!(number(&v, "a.x"), None);
        assert_eq!(number(&v, "a"), None);
        // An empty key (the `""` status) is a key like any other, and no
        // path stops on it.
        let v: Value = serde_json::json!({"a": {"": 1, "b": 2}});
        assert_eq!(number(&v, "a.b"), Some(2.0));
        assert_eq!(number(&v, "a.x"), None);
    }
}
