//! A small SVG chart writer for the HTML report: line charts (the HDR
//! percentile plot, trends), horizontal bars (shares, percentiles, rates
//! with intervals and thresholds) and dumbbells (compare). Our own rather
//! than plotters: four chart shapes, no fonts to embed, no dependency, and
//! output that is plain text (snapshot-tested, readable in a diff).
//!
//! Every chart has a `<title>` (its accessible name) and axis units; text
//! is XML-escaped. Colours are SVG presentation attributes, so the page's
//! Content-Security-Policy needs no inline-style permission.

use std::fmt::Write as _;

/// Series colours (colour-blind safe: Okabe-Ito).
pub const PALETTE: [&str; 6] = [
    "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
];
pub const RED: &str = "#c0392b";
pub const GREY: &str = "#888888";

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // NUL, ESC, BEL from a log key: shown escaped, never raw.
            c if c.is_control() && c != '\n' && c != '\t' => {
                o.push_str(&crate::escape::text(&c.to_string()))
            }
            c => o.push(c),
        }
    }
    o
}

/// A number for an axis label: `0.05`, `1.2k`, `350`.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a >= 10_000.0 {
        format!("{}k", trim(v / 1000.0, 1))
    } else if a >= 100.0 || a == 0.0 {
        trim(v, 0)
    } else if a >= 1.0 {
        trim(v, 1)
    } else {
        trim(v, 3)
    }
}

fn trim(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// "Nice" ticks from 0 (or `lo`) to at least `hi`: about five.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let mut out = Vec::new();
    let mut t = (lo / step).floor() * step;
    while t < hi + step * 0.999 {
        out.push(t);
        t += step;
        if out.len() > 12 {
            break;
        }
    }
    out
}

/// The frame every chart shares: size, margins, title and accessible name.
struct Frame {
    w: f64,
    h: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    out: String,
}

impl Frame {
    fn new(w: f64, h: f64, left: f64, title: &str, desc: &str) -> Frame {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-family="sans-serif" font-size="12"><title>{}</title><desc>{}</desc><text x="{left}" y="16" font-weight="bold" font-size="13">{}</text>"#,
            esc(title),
            esc(desc),
            esc(title)
        );
        Frame {
            w,
            h,
            left,
            right: 16.0,
            top: 30.0,
            bottom: 40.0,
            out,
        }
    }

    fn plot_w(&self) -> f64 {
        self.w - self.left - self.right
    }

    fn plot_h(&self) -> f64 {
        self.h - self.top - self.bottom
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, extra: &str, s: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}"{extra}>{}</text>"#,
            esc(s)
        );
    }

    fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, extra: &str) {
        let _ = write!(
            self.out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{stroke}"{extra}/>"#
        );
    }

    /// A vertical value axis along the left edge, from `lo` to `hi`.
    fn y_axis(&mut self, lo: f64, hi: f64, unit: &str) {
        let (top, h, left, w) = (self.top, self.plot_h(), self.left, self.plot_w());
        for t in ticks(lo, hi).into_iter().filter(|t| *t <= hi * 1.0001) {
            let y = top + h - (t - lo) / (hi - lo) * h;
            self.line(left, y, left + w, y, "#e5e5e5", "");
            self.text(left - 6.0, y + 4.0, "end", "", &tick_label(t));
        }
        self.text(
            12.0,
            top + h / 2.0,
            "middle",
            &format!(r#" transform="rotate(-90 12 {:.1})""#, top + h / 2.0),
            unit,
        );
    }

    /// A horizontal axis along the bottom: ticks at positions 0..1 with
    /// labels, and the axis' unit.
    fn x_axis(&mut self, ticks: &[(f64, String)], unit: &str) {
        let (top, h, left, w) = (self.top, self.plot_h(), self.left, self.plot_w());
        let y = top + h;
        self.line(left, y, left + w, y, "#333", "");
        for (p, label) in ticks {
            let x = left + p * w;
            self.line(x, y, x, y + 4.0, "#333", "");
            // Long labels at the ends stay inside the chart.
            let anchor = match *p {
                p if p <= 0.0 && label.len() > 4 => "start",
                p if p >= 1.0 && label.len() > 4 => "end",
                _ => "middle",
            };
            self.text(x, y + 16.0, anchor, "", label);
        }
        self.text(left + w / 2.0, self.h - 6.0, "middle", "", unit);
    }

    fn legend(&mut self, names: &[(String, &str)]) {
        let mut x = self.left + self.plot_w();
        for (name, colour) in names.iter().rev() {
            x -= 7.0 * name.chars().count() as f64 + 24.0;
            let _ = write!(
                self.out,
                r#"<rect x="{x:.1}" y="25" width="10" height="10" fill="{colour}"/>"#
            );
            self.text(x + 14.0, 34.0, "start", "", name);
        }
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// One line of a line chart: its name, colour and points (x in 0..1 of
/// the axis, y in the value's unit).
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// A line chart: `x_ticks` place labels at 0..1 of the horizontal axis;
/// y runs from 0 to the largest value; `marks` are horizontal reference
/// lines (a gate threshold).
pub fn lines(
    title: &str,
    desc: &str,
    x_unit: &str,
    y_unit: &str,
    x_ticks: &[(f64, String)],
    series: &[Series],
    marks: &[(String, f64)],
) -> String {
    let mut f = Frame::new(640.0, 300.0, 64.0, title, desc);
    if series.len() > 1 {
        f.top = 48.0;
    }
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(marks.iter().map(|m| m.1))
        .fold(0.0f64, f64::max);
    // Headroom above the highest line or mark, so a mark's label never
    // sits on the chart's title.
    let top_value = if marks.is_empty() { max } else { max * 1.08 };
    let hi = ticks(0.0, if top_value > 0.0 { top_value } else { 1.0 })
        .last()
        .copied()
        .unwrap_or(1.0);
    f.y_axis(0.0, hi, y_unit);
    f.x_axis(x_ticks, x_unit);
    let (top, h, left, w) = (f.top, f.plot_h(), f.left, f.plot_w());
    let y_of = |v: f64| top + h - v / hi * h;
    for (name, v) in marks {
        let y = y_of(*v);
        f.line(left, y, left + w, y, RED, r#" stroke-dasharray="6 4""#);
        f.text(
            left + w - 4.0,
            y - 4.0,
            "end",
            &format!(r#" fill="{RED}""#),
            name,
        );
    }
    let mut legend = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        legend.push((s.name.clone(), colour));
        let pts: Vec<String> = s
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", left + x * w, y_of(*y)))
            .collect();
        let _ = write!(
            f.out,
            r#"<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        if s.points.len() <= 40 {
            for (x, y) in &s.points {
                let _ = write!(
                    f.out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="{colour}"/>"#,
                    left + x * w,
                    y_of(*y)
                );
            }
        }
    }
    if series.len() > 1 {
        f.legend(&legend);
    }
    f.finish()
}

/// One row of a bar chart: its label and one value per series, each with
/// an optional interval drawn as a whisker.
pub struct Bar {
    pub label: String,
    pub values: Vec<(f64, Option<[f64; 2]>)>,
    /// Drawn in red (a regression, a breached criterion).
    pub alert: bool,
    /// Reference lines within this row only (a rate's gate thresholds).
    pub marks: Vec<(String, f64)>,
}

/// Horizontal bars, one group of bars per row (one bar per series), on a
/// shared linear axis from 0; `marks` are vertical reference lines (gate
/// thresholds), `value_label` formats the number written after a bar.
pub fn bars(
    title: &str,
    desc: &str,
    unit: &str,
    series: &[&str],
    rows: &[Bar],
    marks: &[(String, f64)],
    value_label: &dyn Fn(f64) -> String,
) -> String {
    let label_w = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 34) as f64
        * 7.0
        + 12.0;
    let per = series.len().max(1) as f64;
    let bar_h = if per > 1.0 { 12.0 } else { 16.0 };
    // A row with gate lines gets a line under its bars naming them.
    let marked = rows.iter().any(|r| !r.marks.is_empty());
    let row_h = bar_h * per + 8.0 + if marked { 12.0 } else { 0.0 };
    let legend_h = if series.len() > 1 { 18.0 } else { 0.0 } + 12.0 * marks.len().min(2) as f64;
    let h = 30.0 + legend_h + row_h * rows.len() as f64 + 44.0;
    let mut f = Frame::new(640.0, h, label_w, title, desc);
    f.right = 70.0;
    f.top += legend_h;
    let max = rows
        .iter()
        .flat_map(|r| r.values.iter().map(|(v, i)| i.map_or(*v, |i| i[1].max(*v))))
        .chain(marks.iter().map(|m| m.1))
        .chain(rows.iter().flat_map(|r| r.marks.iter().map(|m| m.1)))
        .fold(0.0f64, f64::max);
    let t = ticks(0.0, if max > 0.0 { max } else { 1.0 });
    let hi = t.last().copied().unwrap_or(1.0);
    let x_ticks: Vec<(f64, String)> = t.iter().map(|v| (v / hi, tick_label(*v))).collect();
    let (top, left, w) = (f.top, f.left, f.plot_w());
    for (p, _) in &x_ticks {
        let x = left + p * w;
        f.line(x, top, x, top + f.plot_h(), "#e5e5e5", "");
    }
    f.x_axis(&x_ticks, unit);
    let x_of = |v: f64| left + (v / hi).clamp(0.0, 1.0) * w;
    for (i, r) in rows.iter().enumerate() {
        let y0 = top + 4.0 + i as f64 * row_h;
        let label_colour = if r.alert {
            format!(r#" fill="{RED}" font-weight="bold""#)
        } else {
            String::new()
        };
        f.text(left - 6.0, y0 + row_h / 2.0, "end", &label_colour, &r.label);
        for (j, (v, interval)) in r.values.iter().enumerate() {
            let y = y0 + j as f64 * bar_h;
            let colour = if r.alert && series.len() <= 1 {
                RED
            } else {
                PALETTE[j % PALETTE.len()]
            };
            let _ = write!(
                f.out,
                r#"<rect class="bar" x="{left:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
                (x_of(*v) - left).max(0.5),
                bar_h - 1.0
            );
            let mut end = x_of(*v);
            if let Some([lo, hi_]) = interval {
                let (a, b) = (x_of(*lo), x_of(*hi_));
                let ym = y + (bar_h - 1.0) / 2.0;
                f.line(a, ym, b, ym, "#222", r#" stroke-width="1.5""#);
                f.line(a, ym - 4.0, a, ym + 4.0, "#222", "");
                f.line(b, ym - 4.0, b, ym + 4.0, "#222", "");
                end = end.max(b);
            }
            // The value's label starts after any gate line it would cross.
            let text = value_label(*v);
            let width = text.chars().count() as f64 * 6.0;
            let mut at = end + 4.0;
            for (_, m) in &r.marks {
                let x = x_of(*m);
                if x >= at - 2.0 && x <= at + width {
                    at = x + 4.0;
                }
            }
            end = at - 4.0;
            f.text(
                end + 4.0,
                y + bar_h - 3.0,
                "start",
                r#" font-size="10""#,
                &text,
            );
        }
        let bars_end = y0 + bar_h * per;
        for (name, v) in &r.marks {
            let x = x_of(*v);
            f.line(
                x,
                y0 - 2.0,
                x,
                bars_end + 2.0,
                RED,
                r#" stroke-dasharray="3 2" stroke-width="2""#,
            );
            let _ = write!(f.out, r#"<title>{}</title>"#, esc(name));
        }
        if !r.marks.is_empty() {
            // The gates, visibly, on a line of their own under the bars.
            let names: Vec<&str> = r.marks.iter().map(|(n, _)| n.as_str()).collect();
            f.text(
                left + 2.0,
                bars_end + 10.0,
                "start",
                &format!(r#" class="gates" fill="{RED}" font-size="10""#),
                &format!("gates: {}", names.join(" | ")),
            );
        }
    }
    for (i, (name, v)) in marks.iter().enumerate() {
        let x = x_of(*v);
        // Labels of neighbouring thresholds on alternate lines.
        let ly = top - 6.0 - (i % 2) as f64 * 12.0;
        f.line(
            x,
            ly + 2.0,
            x,
            top + f.plot_h(),
            RED,
            r#" stroke-dasharray="5 3" stroke-width="1.5""#,
        );
        f.text(
            x,
            ly,
            "middle",
            &format!(r#" fill="{RED}" font-size="11""#),
            name,
        );
    }
    if series.len() > 1 {
        let legend: Vec<(String, &str)> = series
            .iter()
            .enumerate()
            .map(|(i, s)| (s.to_string(), PALETTE[i % PALETTE.len()]))
            .collect();
        f.legend(&legend);
    }
    f.finish()
}

/// Base against candidate, one row per figure: a grey dot for the base,
/// a dot for the candidate (red for a regression) and a line between.
/// Each row's values are scaled to the row's own larger value (figures
/// of different units share the chart); the numbers are in the table.
pub fn dumbbells(title: &str, desc: &str, rows: &[(String, f64, f64, bool)]) -> String {
    let label_w = rows
        .iter()
        .map(|r| r.0.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 50) as f64
        // Bold (a regression's) characters are wider than 7 px.
        * 7.6
        + 12.0;
    let row_h = 18.0;
    let h = 48.0 + row_h * rows.len() as f64 + 44.0;
    let mut f = Frame::new(760.0, h, label_w, title, desc);
    f.top = 48.0;
    let (top, left, w) = (f.top, f.left, f.plot_w());
    let x_ticks: Vec<(f64, String)> = [0.0, 0.25, 0.5, 0.75, 1.0]
        .iter()
        .map(|p| (*p, format!("{}%", p * 100.0)))
        .collect();
    f.x_axis(&x_ticks, "share of the larger of base and candidate");
    for (i, (label, base, cand, reg)) in rows.iter().enumerate() {
        let y = top + 8.0 + i as f64 * row_h;
        let m = base.abs().max(cand.abs()).max(f64::MIN_POSITIVE);
        let (xb, xc) = (left + base / m * w, left + cand / m * w);
        let colour = if *reg { RED } else { PALETTE[0] };
        let extra = if *reg {
            format!(r#" fill="{RED}" font-weight="bold""#)
        } else {
            String::new()
        };
        // A label longer than the margin keeps its start and its end (the
        // group and the percentile), the whole in a tooltip.
        let n = label.chars().count();
        let shown = if n > 50 {
            let head: String = label.chars().take(22).collect();
            let tail: String = label.chars().skip(n - 27).collect();
            format!("{head}…{tail}")
        } else {
            label.clone()
        };
        f.text(left - 6.0, y + 4.0, "end", &extra, &shown);
        if n > 50 {
            let _ = write!(f.out, "<title>{}</title>", esc(label));
        }
        f.line(xb, y, xc, y, colour, r#" stroke-width="2""#);
        let _ = write!(
            f.out,
            r#"<circle cx="{xb:.1}" cy="{y:.1}" r="4" fill="{GREY}"/><circle class="{}" cx="{xc:.1}" cy="{y:.1}" r="4.5" fill="{colour}"/>"#,
            if *reg { "regression" } else { "candidate" }
        );
    }
    f.legend(&[
        ("base".to_string(), GREY),
        ("candidate".to_string(), PALETTE[0]),
        ("regression".to_string(), RED),
    ]);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_cover_the_range_with_round_steps() {
        assert_eq!(ticks(0.0, 673.6), vec![0.0, 200.0, 400.0, 600.0, 800.0]);
        assert_eq!(ticks(0.0, 0.05), vec![0.0, 0.01, 0.02, 0.03, 0.04, 0.05]);
        assert_eq!(tick_label(0.025), "0.025");
        assert_eq!(tick_label(12500.0), "12.5k");
    }

    #[test]
    fn text_is_escaped() {
        let s = lines(
            "a<b & \"c\"",
            "d",
            "x",
            "y",
            &[],
            &[
                Series {
                    name: "<script>".into(),
                    points: vec![(0.0, 1.0)],
                },
                Series {
                    name: "b".into(),
                    points: vec![(0.0, 2.0)],
                },
            ],
            &[],
        );
        assert!(!s.contains("<script>") && s.contains("a&lt;b &amp; &quot;c&quot;"));
    }
}
