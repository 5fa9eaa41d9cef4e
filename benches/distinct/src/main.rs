//! Insert cost, error and size of the distinct-count candidates, on keys
//! shaped like log fields (IPv4 addresses as text).
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

use cardinality_estimator::CardinalityEstimator;
use hyperloglogplus::{HyperLogLog, HyperLogLogPlus};
use wyhash::WyHash;

fn key(i: u64) -> String {
    keyed(i, 0)
}

fn keyed(i: u64, seed: u64) -> String {
    let i = (i ^ (seed << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
    format!("{}.{}.{}.{}", i >> 24, (i >> 16) & 255, (i >> 8) & 255, i & 255)
}

fn hash(s: &str) -> u64 {
    let mut h = WyHash::with_seed(0);
    h.write(s.as_bytes());
    h.finish()
}

/// A hasher that passes a u64 through: hyperloglogplus gets the same
/// hash as the others.
#[derive(Default)]
struct Pass(u64);

impl Hasher for Pass {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, _: &[u8]) {}
    fn write_u64(&mut self, x: u64) {
        self.0 = x;
    }
}

/// Root mean square relative error over `trials` key sets of `n`.
fn rms(n: u64, trials: u64) -> (f64, f64) {
    let (mut a, mut b) = (0.0, 0.0);
    for t in 0..trials {
        let mut ce = CardinalityEstimator::<u64>::new();
        let mut hp: HyperLogLogPlus<u64, BuildHasherDefault<Pass>> =
            HyperLogLogPlus::new(12, BuildHasherDefault::default()).unwrap();
        let mut set = std::collections::HashSet::new();
        for i in 0..n {
            let h = hash(&keyed(i, t + 1));
            set.insert(h);
            ce.insert_hash(h);
            hp.insert(&h);
        }
        let exact = set.len() as f64;
        a += (ce.estimate() as f64 / exact - 1.0).powi(2);
        b += (hp.count() / exact - 1.0).powi(2);
    }
    ((a / trials as f64).sqrt(), (b / trials as f64).sqrt())
}

fn main() {
    println!("| distinct | RMS error, cardinality-estimator | RMS error, hyperloglogplus | trials |");
    println!("|---|---|---|---|");
    for (n, trials) in [(1_000u64, 50u64), (10_000, 50), (100_000, 20), (1_000_000, 10)] {
        let (a, b) = rms(n, trials);
        println!("| {n} | {:.2}% | {:.2}% | {trials} |", a * 100.0, b * 100.0);
    }
    println!();
    let inserts: u64 = 2_000_000;
    println!("| distinct | candidate | ns/insert | estimate | error | state bytes (JSON) |");
    println!("|---|---|---|---|---|---|");
    for distinct in [100u64, 10_000, 1_000_000] {
        let keys: Vec<String> = (0..distinct).map(key).collect();
        let exact = {
            let mut s: Vec<&String> = keys.iter().collect();
            s.sort();
            s.dedup();
            s.len() as f64
        };
        let hashes: Vec<u64> = (0..inserts).map(|i| hash(&keys[(i % distinct) as usize])).collect();
        // cardinality-estimator, P=12 W=6 (its default), fed our hash.
        let t = Instant::now();
        let mut ce = CardinalityEstimator::<u64>::new();
        for &h in &hashes {
            ce.insert_hash(h);
        }
        let ns = t.elapsed().as_nanos() as f64 / inserts as f64;
        let est = ce.estimate() as f64;
        let bytes = serde_json::to_string(&ce).unwrap().len();
        println!(
            "| {distinct} | cardinality-estimator 1.0.3 (P=12) | {ns:.1} | {est} | {:+.2}% | {bytes} |",
            (est / exact - 1.0) * 100.0
        );
        // hyperloglogplus, HLL++ p=12, with the same hash.
        let t = Instant::now();
        let mut hp: HyperLogLogPlus<u64, BuildHasherDefault<Pass>> =
            HyperLogLogPlus::new(12, BuildHasherDefault::default()).unwrap();
        for h in &hashes {
            hp.insert(h);
        }
        let est = hp.count();
        let ns = t.elapsed().as_nanos() as f64 / inserts as f64;
        // (Its serde needs a serializable hasher: no size here.)
        println!(
            "| {distinct} | hyperloglogplus 0.4.1 (p=12) | {ns:.1} | {est:.0} | {:+.2}% | - |",
            (est / exact - 1.0) * 100.0
        );
        // Exact: a hash set of the 64-bit hashes.
        let t = Instant::now();
        let mut set = std::collections::HashSet::new();
        for &h in &hashes {
            set.insert(h);
        }
        let ns = t.elapsed().as_nanos() as f64 / inserts as f64;
        println!(
            "| {distinct} | exact (HashSet of 64-bit hashes) | {ns:.1} | {} | {:+.2}% | {} |",
            set.len(),
            (set.len() as f64 / exact - 1.0) * 100.0,
            set.len() * 8
        );
    }
}
