//! Small statistics for rates: Wilson score intervals and the
//! two-proportion z-test. No I/O, no formatting.

/// z for a two-sided 95% interval (the 0.975 quantile of the normal).
pub const Z95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `k` successes in `n` trials at normal
/// quantile `z`: unlike the plain `p ± z·sqrt(p(1-p)/n)` it stays inside
/// [0, 1] and is honest for small `n` and for rates near 0 (3 errors in 40
/// is [0.026, 0.199], 300 in 4,000 is [0.067, 0.084]). `n == 0` gives [0, 1].
pub fn wilson(k: u64, n: u64, z: f64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let n = n as f64;
    let p = k.min(n as u64) as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Two-sided p-value of the pooled two-proportion z-test: is `k1/n1`
/// different from `k2/n2`? 1.0 when either sample is empty or the pooled
/// rate is 0 or 1 (no variance: nothing can be told apart).
pub fn two_proportion_p(k1: u64, n1: u64, k2: u64, n2: u64) -> f64 {
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pooled = (k1 + k2) as f64 / (n1f + n2f);
    let var = pooled * (1.0 - pooled) * (1.0 / n1f + 1.0 / n2f);
    if var <= 0.0 {
        return 1.0;
    }
    let z = (k2 as f64 / n2f - k1 as f64 / n1f) / var.sqrt();
    (2.0 * normal_sf(z.abs())).min(1.0)
}

/// P(Z > x) for a standard normal (erfc from `libm`, musl's port).
pub fn normal_sf(x: f64) -> f64 {
    0.5 * libm::erfc(x / std::f64::consts::SQRT_2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_newcombe_1998() {
        // Table I, method 3 (score interval), 95%.
        for (k, n, lo, hi) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (a, b) = wilson(k, n, Z95);
            assert!(
                (a - lo).abs() < 5e-5 && (b - hi).abs() < 5e-5,
                "{k}/{n}: [{a}, {b}]"
            );
        }
        assert_eq!(wilson(0, 0, Z95), (0.0, 1.0));
        assert_eq!(wilson(5, 5, Z95).1, 1.0);
    }

    #[test]
    fn two_proportion_test_known_value() {
        // 10/100 vs 20/100: pooled 0.15, z = 1.9803, two-sided p = 0.0477.
        let p = two_proportion_p(10, 100, 20, 100);
        assert!((p - 0.047_67).abs() < 1e-4, "{p}");
        assert_eq!(two_proportion_p(0, 10, 0, 10), 1.0);
        assert_eq!(two_proportion_p(3, 0, 1, 10), 1.0);
        assert_eq!(p, two_proportion_p(20, 100, 10, 100));
    }

    #[test]
    fn normal_tail_known_values() {
        assert!((normal_sf(1.959_963_984_540_054) - 0.025).abs() < 1e-12);
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-15);
        assert!((normal_sf(-1.0) - 0.841_344_746_068_542_9).abs() < 1e-12);
    }
}
