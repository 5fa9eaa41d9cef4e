//! Typed parsing of one log kind's lines, by one parser, for callgrind:
//!
//!     parser-peers PARSER KIND FILE
//!
//! PARSER is `ours` (the kind's parser in aggmetrics, which validates the
//! whole line: JSON grammar, UTF-8, every field's type), `serde_json`,
//! `simd_json` or `sonic_rs` (each deserialising into the structs below:
//! the fields aggmetrics reads, borrowed where they are strings, every
//! other field skipped through serde's `IgnoredAny`, which validates its
//! syntax). Nothing is accumulated: this is the parse alone. It prints a
//! checksum of what was read so no parser's work can be optimised away,
//! and how many lines each accepted.
//!
//! benches/parser_peers.sh runs it under callgrind on a quarter of a log and
//! on the whole log; the difference over the lines between them is the
//! marginal cost of a line, as in benches/instructions.sh.

use std::fmt;

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// What a parser made of a line, folded into a checksum.
trait Sum {
    fn sum(&self) -> f64;
}

fn len(s: Option<&str>) -> f64 {
    s.map_or(0, str::len) as f64
}

fn flag(b: Option<bool>) -> f64 {
    b.unwrap_or(false) as u8 as f64
}

// Missing fields are `None`: serde's derive reads an absent `Option` field
// so, without `#[serde(default)]`.

// ---- the fields aggmetrics reads, per kind ----

#[derive(Deserialize)]
struct Latency<'a> {
    timestamp: &'a str,
    total_ms: Option<f64>,
    llm_enabled: Option<bool>,
    steps: Option<NumMap>,
}

impl Sum for Latency<'_> {
    fn sum(&self) -> f64 {
        self.timestamp.len() as f64
            + self.total_ms.unwrap_or(0.0)
            + flag(self.llm_enabled)
            + self.steps.as_ref().map_or(0.0, |s| s.0)
    }
}

#[derive(Deserialize)]
struct Fallback<'a> {
    timestamp: &'a str,
    intent: Option<&'a str>,
    llm_outcome: Option<&'a str>,
    fallback_reason: Option<&'a str>,
    deterministic_used: Option<bool>,
    llm_latency_ms: Option<f64>,
    components: Option<StrMap>,
}

impl Sum for Fallback<'_> {
    fn sum(&self) -> f64 {
        self.timestamp.len() as f64
            + len(self.intent)
            + len(self.llm_outcome)
            + len(self.fallback_reason)
            + flag(self.deterministic_used)
            + self.llm_latency_ms.unwrap_or(0.0)
            + self.components.as_ref().map_or(0.0, |c| c.0)
    }
}

#[derive(Deserialize)]
struct Diff {
    intent_mismatch: Option<bool>,
    entity_key_mismatch: Option<bool>,
    decision_type_mismatch: Option<bool>,
    action_count_mismatch: Option<bool>,
}

#[derive(Deserialize)]
struct Risk<'a> {
    timestamp: &'a str,
    corridor_intent: Option<&'a str>,
    sample_rate: Option<f64>,
    sampled: Option<bool>,
    status: Option<&'a str>,
    reason_code: Option<&'a str>,
    latency_ms: Option<f64>,
    diff_summary: Option<Diff>,
}

impl Sum for Risk<'_> {
    fn sum(&self) -> f64 {
        self.timestamp.len() as f64
            + len(self.corridor_intent)
            + self.sample_rate.unwrap_or(0.0)
            + flag(self.sampled)
            + len(self.status)
            + len(self.reason_code)
            + self.latency_ms.unwrap_or(0.0)
            + self.diff_summary.as_ref().map_or(0.0, |d| {
                flag(d.intent_mismatch)
                    + flag(d.entity_key_mismatch)
                    + flag(d.decision_type_mismatch)
                    + flag(d.action_count_mismatch)
            })
    }
}

#[derive(Deserialize)]
struct Entities {
    keys: Option<StrSeq>,
}

#[derive(Deserialize)]
struct Shadow<'a> {
    timestamp: &'a str,
    command_id: Option<&'a str>,
    status: Option<&'a str>,
    latency_ms: Option<f64>,
    error_type: Option<&'a str>,
    suggested_intent: Option<&'a str>,
    baseline_intent: Option<&'a str>,
    entities_summary: Option<Entities>,
    confidence: Option<f64>,
}

impl Sum for Shadow<'_> {
    fn sum(&self) -> f64 {
        self.timestamp.len() as f64
            + len(self.command_id)
            + len(self.status)
            + self.latency_ms.unwrap_or(0.0)
            + len(self.error_type)
            + len(self.suggested_intent)
            + len(self.baseline_intent)
            + self.confidence.unwrap_or(0.0)
            + self
                .entities_summary
                .as_ref()
                .and_then(|e| e.keys.as_ref())
                .map_or(0.0, |k| k.0)
    }
}

// ---- open maps and arrays read without allocating (as ours does) ----

/// An object of name -> number or null: the sum of names' lengths and values.
struct NumMap(f64);

impl<'de> Deserialize<'de> for NumMap {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NumMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<NumMap, A::Error> {
                let mut s = 0.0;
                while let Some((k, v)) = m.next_entry::<&'de str, Option<f64>>()? {
                    s += k.len() as f64 + v.unwrap_or(0.0);
                }
                Ok(NumMap(s))
            }
        }
        d.deserialize_map(V)
    }
}

/// An object of name -> string or null.
struct StrMap(f64);

impl<'de> Deserialize<'de> for StrMap {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrMap;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<StrMap, A::Error> {
                let mut s = 0.0;
                while let Some((k, v)) = m.next_entry::<&'de str, Option<&'de str>>()? {
                    s += (k.len() + v.map_or(0, str::len)) as f64;
                }
                Ok(StrMap(s))
            }
        }
        d.deserialize_map(V)
    }
}

/// An array of strings.
struct StrSeq(f64);

impl<'de> Deserialize<'de> for StrSeq {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrSeq;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut q: A) -> Result<StrSeq, A::Error> {
                let mut s = 0.0;
                while let Some(k) = q.next_element::<&'de str>()? {
                    s += k.len() as f64;
                }
                Ok(StrSeq(s))
            }
        }
        d.deserialize_seq(V)
    }
}

// ---- the parsers ----

/// Parse every line with one peer into `$t`: lines accepted, checksum.
macro_rules! peer {
    ($t:ident, $parser:expr, $lines:expr) => {{
        let (mut ok, mut sum) = (0u64, 0.0);
        let mut buf = Vec::new();
        let mut bufs = simd_json::Buffers::default();
        for l in $lines {
            let got = match $parser {
                "serde_json" => serde_json::from_slice::<$t>(l).ok().map(|r| r.sum()),
                "sonic_rs" => sonic_rs::from_slice::<$t>(l).ok().map(|r| r.sum()),
                "simd_json" => {
                    // simd-json parses in place: a copy of the line per parse;
                    // its buffers are reused from line to line.
                    buf.clear();
                    buf.extend_from_slice(l);
                    simd_json::serde::from_slice_with_buffers::<$t>(&mut buf, &mut bufs)
                        .ok()
                        .map(|r| r.sum())
                }
                p => panic!("no parser {p}"),
            };
            if let Some(s) = got {
                ok += 1;
                sum += s;
            }
        }
        (ok, sum)
    }};
}

fn ours(kind: &str, lines: &[&[u8]]) -> (u64, f64) {
    use aggmetrics::kinds::{fallback, latency, risk, shadow};
    use aggmetrics::parse::{Line, Template};
    let (mut ok, mut sum) = (0, 0.0);
    let mut steps = latency::Steps::default();
    let mut comps = fallback::Components::default();
    let mut tpl = Template::default();
    let mut keys = Vec::new();
    for l in lines {
        let s = match kind {
            "latency" => match latency::parse(l, &mut steps) {
                Ok(Line::Record(r)) => Some(
                    r.ts.micros as f64
                        + r.total_ms.unwrap_or(0.0)
                        + steps.items().map(|(k, v)| k.len() as f64 + v).sum::<f64>(),
                ),
                _ => None,
            },
            "fallback" => match fallback::parse(l, &mut comps) {
                Ok(Line::Record(r)) => Some(r.ts.micros as f64 + r.llm_latency_ms.unwrap_or(0.0)),
                _ => None,
            },
            "risk" => match risk::parse(l, &mut tpl) {
                Ok(Line::Record(r)) => Some(r.ts.micros as f64 + r.latency_ms.unwrap_or(0.0)),
                _ => None,
            },
            "shadow" => match shadow::parse(l, &mut tpl, &mut keys) {
                Ok(Line::Record((ts, r))) => {
                    Some(ts.micros as f64 + r.latency_ms.unwrap_or(0.0) + keys.len() as f64)
                }
                _ => None,
            },
            _ => unreachable!(),
        };
        if let Some(s) = s {
            ok += 1;
            sum += s;
        }
    }
    (ok, sum)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, parser, kind, file] = &args[..] else {
        eprintln!("usage: parser-peers none|ours|serde_json|simd_json|sonic_rs latency|fallback|risk|shadow FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(file).expect("read the log");
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut at = 0;
    for nl in memchr::memchr_iter(b'\n', &data) {
        if nl > at {
            lines.push(&data[at..nl]);
        }
        at = nl + 1;
    }
    let (ok, sum) = match (parser.as_str(), kind.as_str()) {
        // The cost of reading and splitting the file, subtracted from
        // every parser's figure.
        ("none", _) => (lines.len() as u64, lines.iter().map(|l| l[0] as f64).sum()),
        ("ours", k) => ours(k, &lines),
        (p, "latency") => peer!(Latency, p, &lines),
        (p, "fallback") => peer!(Fallback, p, &lines),
        (p, "risk") => peer!(Risk, p, &lines),
        (p, "shadow") => peer!(Shadow, p, &lines),
        _ => unreachable!(),
    };
    println!(
        "{parser} {kind}: {ok} of {} lines, checksum {sum}",
        lines.len()
    );
}
