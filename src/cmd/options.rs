//! Checking the options shared by several commands before anything is
//! read: thread count and line cap, regression thresholds, percentiles.

use crate::cli::{ReadOpts, RegressionOpts};
use crate::error::Error;

/// Check the shared reading options; the number of worker threads.
pub fn read_threads(o: &ReadOpts) -> Result<usize, Error> {
    if o.max_line_bytes == 0 || o.max_line_bytes > crate::parse::json::MAX_LINE {
        return Err(Error::Usage(format!(
            "--max-line-bytes must be from 1 to {}",
            crate::parse::json::MAX_LINE
        )));
    }
    let threads = o.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    if threads == 0 {
        return Err(Error::Usage("--threads must be at least 1".into()));
    }
    Ok(threads)
}

pub fn thresholds(o: &RegressionOpts) -> Result<crate::check::compare::Thresholds, Error> {
    let frac = |name: &str, x: f64, hi: f64| {
        if x.is_finite() && x >= 0.0 && x <= hi {
            Ok(x)
        } else {
            Err(Error::Usage(format!(
                "{name} must be between 0 and {hi}, not {x}"
            )))
        }
    };
    Ok(crate::check::compare::Thresholds {
        max_latency_regression: frac("--max-latency-regression", o.max_latency_regression, 1e6)?,
        max_rate_increase: frac("--max-rate-increase", o.max_rate_increase, 1.0)?,
        alpha: frac("--alpha", o.alpha, 1.0)?,
    })
}

pub fn check_percentiles(ps: &[f64]) -> Result<(), Error> {
    for &p in ps {
        if !(0.0..=100.0).contains(&p) || !p.is_finite() {
            return Err(Error::Usage(format!(
                "--percentiles: {p} is not in 0..=100"
            )));
        }
    }
    Ok(())
}
