//! CSV: one row per figure, `key,value`, where `key` is the figure's path
//! in the JSON report (`latency.with_llm.total_ms.p95`,
//! `fallback.outcome_counts.error`, ...): the same names `--fail-on` and
//! `compare` use. With `--by`, a `bucket_start` column comes first.
//! `meta` is left out (it describes the run, not the logs).

use std::io::{self, Write};

use serde_json::Value;

use super::{Doc, Render};

pub struct Csv;

/// One cell: control characters escaped (`\u{1b}`), a text a spreadsheet
/// would run as a formula neutralised, then RFC 4180 quoting when needed.
///
/// As OWASP's CSV-injection guidance says, a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel,
/// LibreOffice and Google Sheets show it as text; numbers (`-3.5`, which
/// aggmetrics writes itself) are left as they are.
fn field(raw: &str) -> String {
    let formula = raw.starts_with(['=', '+', '-', '@', '\t', '\r']) && raw.parse::<f64>().is_err();
    let s = crate::escape::text(raw);
    let s = if formula { format!("'{s}") } else { s };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Every number and string leaf under `v`, with its dotted path.
fn leaves(v: &Value, path: &str, out: &mut Vec<(String, String)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if path.is_empty() && k == "meta" {
                    continue;
                }
                leaves(x, &join(k), out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, &join(&i.to_string()), out);
            }
        }
        Value::Number(n) => out.push((path.to_string(), n.to_string())),
        Value::String(s) => out.push((path.to_string(), s.clone())),
        Value::Bool(b) => out.push((path.to_string(), b.to_string())),
        Value::Null => out.push((path.to_string(), String::new())),
    }
}

fn rows(v: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    leaves(v, "", &mut out);
    out
}

impl Render for Csv {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let value = |x: Result<Value, serde_json::Error>| x.map_err(io::Error::other);
        let mut s = String::new();
        match doc {
            Doc::Buckets(b) => {
                s.push_str("bucket_start,key,value\n");
                for e in &b.buckets {
                    let mut v = value(serde_json::to_value(e))?;
                    if let Value::Object(m) = &mut v {
                        m.remove("start");
                    }
                    for (k, x) in rows(&v) {
                        s.push_str(&format!(
                            "{},{},{}\n",
                            field(&e.start),
                            field(&k),
                            field(&x)
                        ));
                    }
                }
            }
            _ => {
                let v = match doc {
                    Doc::Summary(r) => value(serde_json::to_value(r))?,
                    Doc::Risk(r) => value(serde_json::to_value(r))?,
                    Doc::Compare(c) => value(serde_json::to_value(c))?,
                    Doc::Kind(d) => d.body.clone(),
                    Doc::Buckets(_) => unreachable!(),
                };
                s.push_str("key,value\n");
                for (k, x) in rows(&v) {
                    s.push_str(&format!("{},{}\n", field(&k), field(&x)));
                }
            }
        }
        out.write_all(s.as_bytes())
    }
}
