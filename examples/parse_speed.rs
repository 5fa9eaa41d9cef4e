//! Micro-benchmark of the line parsers over one file held in memory:
//! `cargo run --release --example parse_speed -- FILE [validate|latency|fallback|risk] [REPEAT]`
use std::time::Instant;
fn main() {
    let mut a = std::env::args().skip(1);
    let path = a.next().expect("FILE");
    let what = a.next().unwrap_or_else(|| "validate".into());
    let rep: usize = a.next().map(|s| s.parse().unwrap()).unwrap_or(1);
    let data = std::fs::read(&path).unwrap();
    let lines: Vec<&[u8]> = data
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut st = aggmetrics::kinds::latency::Steps::default();
    let mut co = aggmetrics::kinds::fallback::Components::default();
    let mut tpl = aggmetrics::parse::Template::default();
    let t = Instant::now();
    let mut ok = 0;
    for _ in 0..rep {
        for l in &lines {
            let good = match what.as_str() {
                "validate" => aggmetrics::parse::json::validate(l).is_ok(),
                "latency" => aggmetrics::kinds::latency::parse(l, &mut st).is_ok(),
                "fallback" => aggmetrics::kinds::fallback::parse(l, &mut co).is_ok(),
                _ => aggmetrics::kinds::risk::parse(l, &mut tpl).is_ok(),
            };
            ok += good as usize;
        }
    }
    let el = t.elapsed();
    println!(
        "{what}: {:.1} ns/line, {:.0} MB/s, ok={ok}",
        el.as_nanos() as f64 / (rep * lines.len()) as f64,
        (data.len() * rep) as f64 / el.as_secs_f64() / 1e6
    );
}
