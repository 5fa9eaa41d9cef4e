//! Deterministic generator of realistic platform logs, for the sample logs,
//! the tests and the benchmark.
//!
//!     cargo run --release --example gen_logs -- OUT --records N [--seed S] [--damaged RATE]
//!         [--start DATE] [--days N] [--shadow] [--stage-switch TIME]
//!
//! Writes OUT/pipeline_latency.jsonl, OUT/fallback_metrics.jsonl and
//! OUT/partial_trust_risk.jsonl with N records each, spread over `--days`
//! days (default: about one) from `--start` (a UTC date, default
//! 2026-02-10 at 12:00), in the shapes of
//! ../shared/log-schemas.md (keys in varying order, nulls, open step and
//! component sets, user text with non-ASCII characters, Python-style
//! timestamps). With --damaged, about that fraction of lines is replaced by
//! one of the damaged-line kinds aggmetrics must count and skip.
//! With --shadow, also OUT/shadow_router.jsonl (the shadow router's runs)
//! and OUT/shadow_golden.json (a golden dataset for a third of its
//! command ids, with free text the reports must never print).
//! Risk records carry sample rates 0.01 and 0.05 in turn; with
//! --stage-switch (RFC 3339), 0.01 before that time and 0.05 from it, as a
//! rollout moving from stage 1 to stage 2 writes them.
//! The same arguments always give the same bytes.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE5_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// Log-normal-ish duration with the given median, in ms, 3 decimals.
    fn lat(&mut self, median: f64, spread: f64) -> f64 {
        // Sum of uniforms approximates a normal.
        let z = (0..4).map(|_| self.unit()).sum::<f64>() - 2.0;
        let v = median * (z * spread * 1.7).exp();
        (v * 1000.0).round() / 1000.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

const INTENTS: &[&str] = &[
    "add_shopping_item",
    "create_task",
    "set_reminder",
    "play_music",
    "get_weather",
    "send_message",
];
const ACTIONS: &[&str] = &["start_job", "clarify", "respond", "noop"];
const TEXTS: &[&str] = &[
    "купи молоко и хлеб",
    "remind me to call mom at 6",
    "añade café a la lista",
    "напомни про встречу завтра",
    "play something calm 🎵",
    "what's the weather in Zürich?",
    "add \\\"oat milk\\\" to groceries",
];

fn stamp(micros: i64) -> String {
    let mut s = String::new();
    ts(&mut s, micros);
    s
}

/// Python's isoformat: microseconds omitted when zero.
fn ts(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let us = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // civil_from_days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if us != 0 {
        let _ = write!(out, ".{us:06}");
    }
    out.push_str("+00:00");
}

fn num(out: &mut String, x: f64) {
    // Like Python's repr for these values: shortest round-trip, ".0" kept.
    if x.fract() == 0.0 && x.abs() < 1e15 {
        let _ = write!(out, "{x:.1}");
    } else {
        let _ = write!(out, "{x}");
    }
}

const ENTITY_KEYS: &[&[&str]] = &[&[], &["item"], &["item", "list_id"], &["date", "title"]];

/// The golden dataset's expected intent and entity keys for command
/// `cmd-wp000-NNN`.
fn golden_entry(n: u64) -> (&'static str, &'static [&'static str]) {
    let h = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32;
    (
        INTENTS[(h % INTENTS.len() as u64) as usize],
        ENTITY_KEYS[((h / 7) % ENTITY_KEYS.len() as u64) as usize],
    )
}

/// A golden dataset for the shadow log's command ids `cmd-wp000-NNN`:
/// expected intents and entity keys, with free text besides.
fn golden() -> String {
    let mut out = String::from("[\n");
    for n in 0..200u64 {
        let (intent, keys) = golden_entry(n);
        let keys: Vec<String> = keys.iter().rev().map(|k| format!("\"{k}\"")).collect();
        let _ = writeln!(
            out,
            "  {{\"command_id\": \"cmd-wp000-{n:03}\", \"text\": \"GOLDEN-SECRET {n} купи хлеб\", \"expected_intent\": \"{intent}\", \"expected_entity_keys\": [{}]}}{}",
            keys.join(", "),
            if n < 199 { "," } else { "" }
        );
    }
    out.push_str("]\n");
    out
}

struct Gen {
    rng: Rng,
    damaged: f64,
    /// Risk records before this time (microseconds) carry 0.01, from it
    /// 0.05; without it, the two in turn.
    stage_switch: Option<i64>,
}

impl Gen {
    fn latency(&mut self, out: &mut String, i: u64, t: i64) {
        let r = &mut self.rng;
        let llm = r.chance(0.2);
        let steps = [
            ("validate_command_ms", r.lat(0.3, 0.4)),
            ("detect_intent_ms", r.lat(1.2, 0.5)),
            ("registry_ms", r.lat(0.1, 0.5)),
            (
                "core_logic_ms",
                if llm {
                    r.lat(180.0, 0.6)
                } else {
                    r.lat(12.0, 0.5)
                },
            ),
            ("validate_decision_ms", r.lat(0.3, 0.4)),
        ];
        let extra = r.chance(0.05);
        let total: f64 = steps.iter().map(|s| s.1).sum::<f64>() + r.lat(0.5, 0.3);
        let total = (total * 1000.0).round() / 1000.0;
        let _ = write!(
            out,
            "{{\"command_id\": \"cmd-{i:08}\", \"trace_id\": \"trace-{:016x}\", \"total_ms\": ",
            r.next()
        );
        num(out, total);
        out.push_str(", \"steps\": {");
        for (k, (name, v)) in steps.iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "\"{name}\": ");
            num(out, *v);
        }
        if extra {
            out.push_str(", \"rerank_ms\": ");
            num(out, r.lat(4.0, 0.5));
        }
        let _ = write!(out, "}}, \"llm_enabled\": {llm}, \"timestamp\": \"");
        ts(out, t);
        out.push_str("\"}");
    }

    fn fallback(&mut self, out: &mut String, i: u64, t: i64) {
        let r = &mut self.rng;
        let intent = if r.chance(0.05) {
            None
        } else {
            Some(r.pick(INTENTS))
        };
        let x = r.unit();
        let (outcome, reason, called) = if x < 0.40 {
            ("deterministic_only", Some("policy_disabled"), false)
        } else if x < 0.58 {
            ("skipped", Some("not_in_corridor"), false)
        } else if x < 0.83 {
            ("success", None, true)
        } else if x < 0.96 {
            (
                "fallback",
                Some(if r.chance(0.6) {
                    "timeout"
                } else {
                    "low_confidence"
                }),
                true,
            )
        } else {
            ("error", Some("llm_unavailable"), true)
        };
        let _ = write!(out, "{{\"timestamp\": \"");
        ts(out, t);
        let _ = write!(
            out,
            "\", \"command_id\": \"cmd-{i:08}\", \"trace_id\": \"trace-{:016x}\", \"intent\": ",
            r.next()
        );
        match intent {
            Some(s) => {
                let _ = write!(out, "\"{s}\"");
            }
            None => out.push_str("null"),
        }
        let _ = write!(out, ", \"decision_action\": \"{}\", ", r.pick(ACTIONS));
        if !r.chance(0.01) {
            let _ = write!(out, "\"llm_outcome\": \"{outcome}\", ");
        }
        match reason {
            Some(s) => {
                let _ = write!(out, "\"fallback_reason\": \"{s}\", ");
            }
            None => out.push_str("\"fallback_reason\": null, "),
        }
        let _ = write!(
            out,
            "\"deterministic_used\": {}, \"llm_latency_ms\": ",
            outcome != "success"
        );
        if called {
            num(out, r.lat(220.0, 0.5));
        } else {
            out.push_str("null");
        }
        out.push_str(", \"components\": ");
        if called {
            let st = if outcome == "error" { "error" } else { "ok" };
            let _ = write!(
                out,
                "{{\"llm_client\": \"{st}\", \"registry\": \"ok\", \"validator\": \"{}\"}}",
                if r.chance(0.1) { "skipped" } else { "ok" }
            );
        } else {
            out.push_str("{}");
        }
        if r.chance(0.3) {
            let _ = write!(out, ", \"user_text\": \"{}\"", r.pick(TEXTS));
        }
        out.push('}');
    }

    fn risk(&mut self, out: &mut String, i: u64, t: i64) {
        let r = &mut self.rng;
        let rate = match self.stage_switch {
            Some(at) if t < at => 0.01,
            Some(_) => 0.05,
            None if i.is_multiple_of(2) => 0.01,
            None => 0.05,
        };
        let sampled = r.chance(rate * 3.0);
        let (status, reason) = if !sampled {
            ("not_sampled", "not_sampled")
        } else {
            let x = r.unit();
            if x < 0.70 {
                ("accepted_llm", "accepted")
            } else if x < 0.93 {
                (
                    "fallback_deterministic",
                    if r.chance(0.5) {
                        "low_confidence"
                    } else {
                        "corridor_mismatch"
                    },
                )
            } else if x < 0.97 {
                ("error", "RuntimeError")
            } else {
                ("skipped", "")
            }
        };
        let _ = write!(out, "{{\"timestamp\": \"",);
        ts(out, t);
        let _ = write!(
            out,
            "\", \"trace_id\": \"trace-{:016x}\", \"command_id\": \"cmd-{i:08}\", \"corridor_intent\": \"add_shopping_item\", \"sample_rate\": {rate}, \"sampled\": {sampled}, \"status\": \"{status}\", \"reason_code\": \"{reason}\", \"latency_ms\": ",
            r.next()
        );
        if sampled && status != "skipped" {
            let _ = write!(out, "{}", r.lat(210.0, 0.45).round() as u64);
        } else {
            out.push_str("null");
        }
        if sampled {
            let ents = r.below(3);
            let _ = write!(
                out,
                ", \"model_meta\": {{\"provider\": \"local\", \"profile\": \"fast\", \"params\": {{\"temperature\": 0.2, \"max_tokens\": 256}}}}, \"baseline_summary\": {{\"intent\": \"add_shopping_item\", \"decision_type\": \"start_job\", \"action_count\": 1, \"entity_keys_count\": {ents}, \"has_list_id\": true}}, \"llm_summary\": {{\"intent\": \"add_shopping_item\", \"decision_type\": \"start_job\", \"action_count\": 1, \"entity_keys_count\": {ents}, \"has_list_id\": {}}}, \"diff_summary\": {{\"intent_mismatch\": {}, \"decision_type_mismatch\": {}, \"action_count_mismatch\": false, \"entity_key_mismatch\": {}}}",
                r.chance(0.9),
                r.chance(0.04),
                r.chance(0.02),
                r.chance(0.08)
            );
        } else {
            out.push_str(", \"model_meta\": null, \"baseline_summary\": null, \"llm_summary\": null, \"diff_summary\": null");
        }
        out.push('}');
    }

    fn shadow(&mut self, out: &mut String, i: u64, t: i64) {
        let r = &mut self.rng;
        // A third of the commands are in the golden dataset: their
        // intent is the expected one, and the router mostly finds the
        // expected entities.
        let golden = i.is_multiple_of(3).then(|| golden_entry((i / 3) % 200));
        let intent = match golden {
            Some((intent, _)) => intent,
            None => r.pick(INTENTS),
        };
        let x = r.unit();
        let status = if x < 0.84 {
            "ok"
        } else if x < 0.93 {
            "error"
        } else if x < 0.97 {
            "skipped"
        } else if x < 0.985 {
            ""
        } else {
            "timeout"
        };
        let _ = write!(out, "{{\"timestamp\": \"");
        ts(out, t);
        let _ = write!(
            out,
            "\", \"trace_id\": \"trace-{:016x}\", \"command_id\": \"cmd-wp{:03}-{:03}\", \"router_version\": \"shadow-router-0.1\", \"router_strategy\": \"{}\", \"status\": \"{status}\", \"latency_ms\": ",
            r.next(),
            i % 3,
            (i / 3) % 200,
            r.pick(&["v1", "v2"])
        );
        if status == "skipped" || r.chance(0.03) {
            out.push_str("null");
        } else if r.chance(0.2) {
            // Some writers time with perf_counter: a float.
            num(out, (r.lat(180.0, 0.5) * 1000.0).round() / 1000.0);
        } else {
            let _ = write!(out, "{}", r.lat(180.0, 0.5).round() as u64);
        }
        out.push_str(", \"error_type\": ");
        if status == "error" {
            let e = r.pick(&[
                "timeout",
                "invalid_schema",
                "llm_unavailable",
                "ValueError",
                "",
            ]);
            let _ = write!(out, "\"{e}\"");
        } else {
            out.push_str("null");
        }
        let suggested = if status == "ok" {
            if r.chance(0.88) {
                intent
            } else {
                r.pick(INTENTS)
            }
        } else {
            ""
        };
        if status == "ok" {
            let _ = write!(out, ", \"suggested_intent\": \"{suggested}\"");
        } else {
            out.push_str(", \"suggested_intent\": null");
        }
        let _ = write!(out, ", \"baseline_intent\": \"{intent}\"");
        if status == "ok" {
            let keys = match golden {
                Some((_, keys)) if r.chance(0.8) => keys,
                _ => ENTITY_KEYS[(r.below(ENTITY_KEYS.len() as u64)) as usize],
            };
            out.push_str(", \"entities_summary\": {\"keys\": [");
            for (j, k) in keys.iter().enumerate() {
                let _ = write!(out, "{}\"{k}\"", if j > 0 { ", " } else { "" });
            }
            out.push_str("], \"counts\": {");
            for (j, k) in keys.iter().enumerate() {
                let _ = write!(out, "{}\"{k}\": 1", if j > 0 { ", " } else { "" });
            }
            out.push_str("}}");
            out.push_str(", \"confidence\": ");
            if r.chance(0.02) {
                // Python's json writes float('nan') as NaN.
                out.push_str("NaN");
            } else {
                num(out, (r.unit() * 1000.0).round() / 1000.0);
            }
        } else {
            out.push_str(", \"entities_summary\": null, \"confidence\": null");
        }
        let _ = write!(
            out,
            ", \"missing_fields\": [\"date\"], \"clarify_question\": \"SECRET-{i} Какой список?\", \"model_meta\": {{\"provider\": \"local\", \"tokens\": [1, 2]}}, \"baseline_action\": \"ask: купить молоко {i}\", \"baseline_job_type\": null}}"
        );
    }

    /// Replace a good line with one kind of damage.
    fn damage(&mut self, line: &mut Vec<u8>, t: i64) {
        match self.rng.below(10) {
            0 => line.truncate(line.len() / 2),                       // partial write
            1 => line.extend_from_slice(b" garbage"),                 // trailing garbage
            2 => *line = b"not json at all".to_vec(),                 // not JSON
            3 => *line = b"[1, 2, 3]".to_vec(),                       // not an object
            4 => {
                // invalid UTF-8 inside a string
                let at = line.iter().position(|&c| c == b'"').unwrap_or(0) + 1;
                line.insert(at, 0xff);
            }
            5 => *line = format!("{}{}", "[".repeat(200), "]".repeat(200)).into_bytes(), // deep nesting
            6 => {
                // a run of NUL bytes before the record (copytruncate's hole)
                let mut v = vec![0u8; 64];
                v.extend_from_slice(line);
                *line = v;
            }
            // Bad values after the record's own timestamp.
            7 => *line = format!(r#"{{"timestamp": "{}", "total_ms": NaN, "llm_outcome": 7, "latency_ms": -5, "status": 3}}"#, stamp(t)).into_bytes(),
            8 => *line = format!(r#"{{"timestamp": "{}", "total_ms": -1.5, "llm_outcome": [], "latency_ms": -1, "status": false}}"#, stamp(t)).into_bytes(),
            _ => *line = br#"{"total_ms": 1.0, "llm_outcome": "success", "status": "ok"}"#.to_vec(), // missing timestamp
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut out_dir = None;
    let mut records: u64 = 1000;
    let mut seed: u64 = 1;
    let mut damaged = 0.0;
    let mut start = None;
    let mut days: Option<u64> = None;
    let mut shadow = false;
    let mut stage_switch = None;
    while let Some(a) = args.next() {
        let mut val = |name: &str| {
            args.next()
                .unwrap_or_else(|| die(&format!("{name} needs a value")))
        };
        match a.as_str() {
            "--records" => {
                records = val("--records")
                    .parse()
                    .unwrap_or_else(|_| die("--records takes a number"))
            }
            "--seed" => {
                seed = val("--seed")
                    .parse()
                    .unwrap_or_else(|_| die("--seed takes a number"))
            }
            "--damaged" => {
                damaged = val("--damaged")
                    .parse()
                    .unwrap_or_else(|_| die("--damaged takes a fraction"))
            }
            "--start" => {
                let d = val("--start");
                start = Some(day_micros(&d).unwrap_or_else(|| {
                    die(&format!("--start {d}: a UTC date such as 2026-02-10"))
                }));
            }
            "--days" => {
                days = Some(
                    val("--days")
                        .parse()
                        .ok()
                        .filter(|&n: &u64| n > 0)
                        .unwrap_or_else(|| die("--days takes a number above 0")),
                )
            }
            "--shadow" => shadow = true,
            "--stage-switch" => {
                let t = val("--stage-switch");
                stage_switch = Some(
                    t.parse::<jiff::Timestamp>()
                        .unwrap_or_else(|_| die(&format!("--stage-switch {t}: an RFC 3339 time")))
                        .as_microsecond(),
                );
            }
            "-h" | "--help" => die(USAGE),
            _ if out_dir.is_none() => out_dir = Some(PathBuf::from(a)),
            _ => die(&format!("unexpected argument {a}")),
        }
    }
    let out_dir = out_dir.unwrap_or_else(|| die(USAGE));
    std::fs::create_dir_all(&out_dir)
        .unwrap_or_else(|e| die(&format!("{}: {e}", out_dir.display())));
    // Without --start/--days: about one day from 2026-02-10T12:00:00Z (the
    // sample logs and the benchmark data, byte for byte as before).
    let start: i64 = start.unwrap_or(1_770_724_800_000_000);
    let span: i64 = 86_400_000_000 * days.unwrap_or(1) as i64;
    let mut names = vec![
        "pipeline_latency.jsonl",
        "fallback_metrics.jsonl",
        "partial_trust_risk.jsonl",
    ];
    if shadow {
        names.push("shadow_router.jsonl");
        let path = out_dir.join("shadow_golden.json");
        std::fs::write(&path, golden())
            .unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
    }
    for (k, name) in names.iter().enumerate() {
        let mut g = Gen {
            rng: Rng(seed.wrapping_mul(1000).wrapping_add(k as u64)),
            damaged,
            stage_switch,
        };
        let path = out_dir.join(name);
        let f = File::create(&path).unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
        let mut w = BufWriter::with_capacity(1 << 20, f);
        let mut line = String::with_capacity(1024);
        let mut t = start;
        for i in 0..records {
            // Spread over about one day; whole seconds now and then (no
            // microseconds, as Python's isoformat writes them).
            t += 1 + g.rng.below(2 * span as u64 / records.max(1)) as i64;
            if g.rng.chance(0.01) {
                t -= t % 1_000_000;
            }
            line.clear();
            match k {
                0 => g.latency(&mut line, i, t),
                1 => g.fallback(&mut line, i, t),
                2 => g.risk(&mut line, i, t),
                _ => g.shadow(&mut line, i, t),
            }
            let mut bytes = line.as_bytes().to_vec();
            if g.damaged > 0.0 && g.rng.chance(g.damaged) {
                g.damage(&mut bytes, t);
            }
            bytes.push(b'\n');
            w.write_all(&bytes)
                .unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
        }
        w.flush()
            .unwrap_or_else(|e| die(&format!("{}: {e}", path.display())));
    }
}

const USAGE: &str =
    "usage: gen_logs OUT --records N [--seed S] [--damaged RATE] [--start DATE] [--days N] [--shadow] [--stage-switch TIME]";

/// 00:00 UTC of `2026-02-10`, in microseconds since the epoch.
fn day_micros(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(aggmetrics::parse::timestamp::days_from_civil(y, m, d) * 86_400_000_000)
}

fn die(msg: &str) -> ! {
    eprintln!("gen_logs: {msg}");
    std::process::exit(2)
}
