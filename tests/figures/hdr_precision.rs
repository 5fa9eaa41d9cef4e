//! HDR percentiles estimate what `--exact` computes, the platform script's
//! interpolation between closest ranks (and the risk analyzer's lower
//! rank), and stay within 10^-sigfig (relative) of it, never below, plus
//! half a microsecond of rounding to the HDR unit.

use aggmetrics::agg::dist::Counts;
use aggmetrics::agg::{Dist, Mode};
use hdrhistogram::Histogram;
use proptest::prelude::*;

use aggmetrics::agg::dist::linear;

/// The risk analyzer's `sorted[int((n-1)*q)]`.
fn lower_rank(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p / 100.0) as usize]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn within_precision(
        values in prop::collection::vec(prop_oneof![0u64..2_000, 0u64..200_000_000, 1_000u64..10_000_000_000], 1..400),
        sigfig in 1u8..=5,
        p in prop_oneof![Just(50.0), Just(95.0), Just(99.0), Just(99.9), Just(0.0), Just(100.0), 0.0f64..100.0],
        split in any::<usize>(),
    ) {
        // Milliseconds with 3 decimals, as the logs write them.
        let ms: Vec<f64> = values.iter().map(|&v| v as f64 / 1000.0).collect();
        // Recorded in two parts and merged, as the parallel reader does.
        let cut = split % (ms.len() + 1);
        let mut a = Dist::new(Mode::Hdr { sigfig });
        let mut b = Dist::new(Mode::Hdr { sigfig });
        for &x in &ms[..cut] { a.record(x); }
        for &x in &ms[cut..] { b.record(x); }
        a.merge(&b);
        let mut sorted = ms.clone();
        sorted.sort_by(f64::total_cmp);
        for (rule, exact, got) in [
            ("interpolated", linear(&sorted, p), a.percentile(p)),
            ("lower rank", lower_rank(&sorted, p), a.lower_rank(p)),
        ] {
            let tol = exact * 10f64.powi(-(sigfig as i32)) + 0.0005;
            prop_assert!(got >= exact - 0.0005 - exact * 1e-12, "{rule} p{p} sigfig {sigfig}: {got} below exact {exact}");
            prop_assert!(got - exact <= tol, "{rule} p{p} sigfig {sigfig}: {got} vs exact {exact} (tol {tol})");
        }
        prop_assert_eq!(a.max(), *sorted.last().unwrap());
        prop_assert_eq!(a.min(), sorted[0]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// The fast bucket counts turn into exactly the histogram that
    /// recording every value into hdrhistogram gives.
    #[test]
    fn counts_equal_a_recorded_histogram(
        values in prop_oneof![
            prop::collection::vec(prop_oneof![0u64..5_000, 0u64..1u64 << 40, any::<u64>().prop_map(|v| v >> 12)], 0..300),
            // Few distinct values, many times: counts kept as pairs, then
            // laid out densely after so many additions.
            (prop::collection::vec(0u64..1u64 << 34, 1..40), prop::collection::vec(any::<prop::sample::Index>(), 0..700))
                .prop_map(|(few, picks)| picks.iter().map(|i| few[i.index(few.len())]).collect()),
        ],
        sigfig in 1u8..=5,
        split in any::<usize>(),
    ) {
        let mut direct = Histogram::<u64>::new(sigfig).unwrap();
        let cut = split % (values.len() + 1);
        let (mut a, mut b) = (Counts::new(sigfig), Counts::new(sigfig));
        for &v in &values[..cut] { a.record(v); }
        for &v in &values[cut..] { b.record(v); }
        a.merge(&b);
        for &v in &values { direct.record(v).unwrap(); }
        let ours = a.histogram();
        prop_assert_eq!(ours.len(), direct.len());
        let o: Vec<(u64, u64)> = ours.iter_recorded().map(|x| (x.value_iterated_to(), x.count_at_value())).collect();
        let d: Vec<(u64, u64)> = direct.iter_recorded().map(|x| (x.value_iterated_to(), x.count_at_value())).collect();
        prop_assert_eq!(o, d);
        for q in [0.0, 0.5, 0.95, 0.99, 0.999, 1.0] {
            prop_assert_eq!(ours.value_at_quantile(q), direct.value_at_quantile(q));
        }
        // The rank lookup percentiles use: the histogram's highest value
        // equivalent to the value of each rank.
        let n = values.len() as u64;
        let ranks: Vec<u64> = [0, n / 3, n / 2, n.saturating_sub(2), n.saturating_sub(1)]
            .into_iter()
            .filter(|&r| r < n)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut sorted = values.clone();
        sorted.sort_unstable();
        let want: Vec<u64> = ranks.iter().map(|&r| direct.highest_equivalent(sorted[r as usize])).collect();
        prop_assert_eq!(a.rank_values(&ranks), want);
        // The export layout's cumulative counts, counted by hand.
        let le: Vec<u64> = aggmetrics::measure::layout::BOUNDS_US
            .iter()
            .map(|&b| values.iter().filter(|&&v| v <= b).count() as u64)
            .collect();
        prop_assert_eq!(a.layout_le(), le);
    }
}

#[test]
fn sigfig_three_is_one_part_in_a_thousand_on_realistic_latencies() {
    let mut d = Dist::new(Mode::Hdr { sigfig: 3 });
    let mut v: Vec<f64> = (0..100_000u64)
        .map(|i| ((i * 2_654_435_761) % 900_000) as f64 / 1000.0 + 0.1)
        .collect();
    for &x in &v {
        d.record(x);
    }
    v.sort_by(f64::total_cmp);
    for p in [50.0, 95.0, 99.0, 99.9] {
        let e = linear(&v, p);
        assert!((d.percentile(p) - e).abs() <= e * 1e-3 + 5e-4, "p{p}");
    }
}
