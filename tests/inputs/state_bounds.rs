//! Guarantee 9 of docs/reliability.md: hostile state files are refused
//! with a typed error, and what decoding allocates is bounded by the file,
//! never by a length the file claims. A counting allocator measures the
//! peak.

use crate::common;
use common::*;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use aggmetrics::agg::{Config, Mode};
use aggmetrics::input::discover;
use aggmetrics::read::Reader;
use aggmetrics::state::{self, StateError};
use base64::Engine as _;

struct Counting;
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let now = NOW.fetch_add(l.size(), Ordering::SeqCst) + l.size();
        PEAK.fetch_max(now, Ordering::SeqCst);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        NOW.fetch_sub(l.size(), Ordering::SeqCst);
        unsafe { System.dealloc(p, l) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Decode `bytes`; the error and the most memory decoding held at once
/// beyond what was held before.
fn decode_peak(bytes: &[u8]) -> (Result<(), StateError>, usize) {
    let base = NOW.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let r = state::decode(bytes).map(|_| ());
    (r, PEAK.load(Ordering::SeqCst) - base)
}

fn good_state() -> String {
    let logs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let found = discover(&[logs], None, false).unwrap();
    let read = Reader::new(1, u64::MAX)
        .read(
            &found.sources,
            Config::new(Mode::Hdr { sigfig: 3 }, 1 << 20),
        )
        .unwrap();
    String::from_utf8(state::encode(&read, &[])).unwrap()
}

/// One histogram of the state, base64-decoded: `[cookie u32][len u32][zlib]`.
fn first_histogram(text: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["metrics"]["kinds"]["latency"]["with_llm"]["total"]["hdr"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn hostile_state_files_get_typed_errors_and_bounded_allocation() {
    let text = good_state();
    let (ok, good_peak) = decode_peak(text.as_bytes());
    assert_eq!(ok, Ok(()));
    let b64 = base64::engine::general_purpose::STANDARD;
    let h64 = first_histogram(&text);
    let raw = b64.decode(&h64).unwrap();

    // A histogram whose zlib header is intact but whose inner header
    // claims a 4 GiB payload.
    let claim = claiming_payload(&raw, u32::MAX);
    // A compressed length beyond the bytes there are.
    let mut long = raw.clone();
    long[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    // The payload cut short.
    let cut = raw[..raw.len() - 5].to_vec();
    // A deflate bomb: 512 MiB of zeros in a few hundred KiB.
    let bomb = with_payload(&raw, &vec![0u8; 512 << 20]);

    let swap = |h: &[u8]| text.replace(&h64, &b64.encode(h));
    type Case<'a> = (&'a str, Vec<u8>, fn(&StateError) -> bool);
    let cases: Vec<Case> = vec![
        ("bad magic", b"PK\x03\x04 a zip".to_vec(), |e| {
            *e == StateError::NotAState
        }),
        ("empty", Vec::new(), |e| *e == StateError::NotAState),
        (
            "newer version",
            text.replace("\"version\":3", "\"version\":9").into_bytes(),
            |e| *e == StateError::Version(9),
        ),
        (
            "truncated file",
            text.as_bytes()[..text.len() * 2 / 3].to_vec(),
            |e| matches!(e, StateError::Corrupt(_)),
        ),
        (
            "4 GiB payload claim",
            swap(&claim).into_bytes(),
            |e| matches!(e, StateError::Corrupt(m) if m.contains("payload larger")),
        ),
        (
            "length past the bytes",
            swap(&long).into_bytes(),
            |e| matches!(e, StateError::Corrupt(m) if m.contains("longer than its bytes")),
        ),
        ("truncated payload", swap(&cut).into_bytes(), |e| {
            matches!(e, StateError::Corrupt(_))
        }),
        ("deflate bomb", swap(&bomb).into_bytes(), |e| {
            matches!(e, StateError::Corrupt(_))
        }),
        ("not base64", text.replace(&h64, "!!!!").into_bytes(), |e| {
            matches!(e, StateError::Corrupt(_))
        }),
    ];
    for (name, bytes, want) in cases {
        let (r, peak) = decode_peak(&bytes);
        let e = r.expect_err(name);
        assert!(want(&e), "{name}: {e:?}");
        // Bounded by the input, not by any claim inside it: never more
        // than a valid state needs plus a few times the file.
        let bound = good_peak + 8 * bytes.len() + (1 << 20);
        assert!(
            peak <= bound,
            "{name}: {peak} bytes allocated (bound {bound})"
        );
    }
}

/// A time range read back must be one that reading records builds: both
/// ends or neither, the first at or before the last. Adding records to a
/// range relies on that (a new last cannot be a new first), so a state
/// file that breaks it is refused as corrupt, for the summary's range and
/// for a kind's own.
#[test]
fn a_state_whose_time_range_is_not_a_range_is_corrupt() {
    let text = good_state();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = v.clone();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let swap = |m: &mut serde_json::Value| {
        let first = m["first"].take();
        m["first"] = m["last"].take();
        m["last"] = first;
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "summary range reversed",
            edit(&|v| swap(&mut v["metrics"])),
            "first record is after its last",
        ),
        (
            "summary range with one end",
            edit(&|v| v["metrics"]["last"] = serde_json::Value::Null),
            "only one end",
        ),
        (
            "risk range reversed",
            edit(&|v| swap(&mut v["metrics"]["kinds"]["risk"]["time"])),
            "first record is after its last",
        ),
        (
            "shadow range with one end",
            edit(&|v| v["metrics"]["kinds"]["shadow"]["time"]["first"] = serde_json::Value::Null),
            "only one end",
        ),
    ];
    assert_eq!(state::decode(&edit(&|_| {})).map(|_| ()), Ok(()));
    for (name, bytes, why) in cases {
        match state::decode(&bytes) {
            Err(StateError::Corrupt(m)) => assert!(m.contains(why), "{name}: {m}"),
            other => panic!("{name}: {:?}", other.map(|_| ())),
        }
    }
}
