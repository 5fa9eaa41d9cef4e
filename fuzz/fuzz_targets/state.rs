//! The state decoder on any bytes: a typed error or a state; never a
//! panic or a huge allocation (libFuzzer's -rss_limit_mb and
//! -malloc_limit_mb catch those). A state that decodes merges with itself,
//! reports, and survives an encode/decode round trip unchanged.
#![no_main]

use aggmetrics::report::Report;
use aggmetrics::state;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(one) = state::decode(data) else {
        return;
    };
    let ps = [50.0, 99.0];
    let before = serde_json::to_string(&Report::build(&one, &ps)).unwrap();
    let again = state::decode(&state::encode(&one)).expect("an encoded state decodes");
    let after = serde_json::to_string(&Report::build(&again, &ps)).unwrap();
    assert_eq!(before, after, "encode/decode round trip");
    let two = state::decode(data).unwrap();
    if let Ok(m) = state::merge(vec![one, two]) {
        let _ = Report::build(&m, &ps);
        let _ = state::encode(&m);
    }
});
