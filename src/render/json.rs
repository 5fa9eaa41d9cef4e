//! JSON: the serde models, pretty-printed, newline-terminated.

use std::io::{self, Write};

use super::{Doc, Render};

pub struct Json;

impl Render for Json {
    fn render(&self, doc: &Doc<'_>, out: &mut dyn Write) -> io::Result<()> {
        let r = match doc {
            Doc::Summary(r) => serde_json::to_writer_pretty(&mut *out, r),
            Doc::Buckets(b) => serde_json::to_writer_pretty(&mut *out, b),
            Doc::Risk(r) => serde_json::to_writer_pretty(&mut *out, r),
            Doc::Compare(c) => serde_json::to_writer_pretty(&mut *out, c),
            Doc::Kind(d) => serde_json::to_writer_pretty(&mut *out, &d.body),
        };
        r.map_err(io::Error::other)?;
        out.write_all(b"\n")
    }
}
