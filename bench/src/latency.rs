//! Latency records and their exact percentiles.
//!
//! Every request's latency is kept (a few hundred thousand `u64` per phase), so
//! percentiles are exact order statistics rather than histogram estimates.

use std::time::Duration;

use serde::Serialize;

/// Latencies of one phase, in nanoseconds, in the order they were recorded.
#[derive(Debug, Default)]
pub struct Latencies {
    nanos: Vec<u64>,
}

impl Latencies {
    /// An empty record with room for `capacity` samples.
    pub fn with_capacity(capacity: usize) -> Latencies {
        Latencies {
            nanos: Vec::with_capacity(capacity),
        }
    }

    /// Adds one sample. Durations beyond `u64::MAX` nanoseconds (584 years)
    /// saturate.
    pub fn record(&mut self, latency: Duration) {
        self.nanos
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Moves all samples of `other` into `self`.
    pub fn merge(&mut self, other: Latencies) {
        self.nanos.extend(other.nanos);
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.nanos.len()
    }

    /// Sorts the samples and summarizes them.
    pub fn summarize(mut self) -> Summary {
        self.nanos.sort_unstable();
        let sorted = &self.nanos;
        let total: u128 = sorted.iter().map(|&nanos| u128::from(nanos)).sum();
        let mean_nanos = match u128::try_from(sorted.len()) {
            Ok(count) if count > 0 => u64::try_from(total / count).unwrap_or(u64::MAX),
            _ => 0,
        };
        Summary {
            count: sorted.len(),
            mean_ms: nanos_to_ms(mean_nanos),
            p50_ms: nanos_to_ms(percentile(sorted, 50, 100).unwrap_or(0)),
            p90_ms: nanos_to_ms(percentile(sorted, 90, 100).unwrap_or(0)),
            p99_ms: nanos_to_ms(percentile(sorted, 99, 100).unwrap_or(0)),
            p999_ms: nanos_to_ms(percentile(sorted, 999, 1000).unwrap_or(0)),
            max_ms: nanos_to_ms(sorted.last().copied().unwrap_or(0)),
        }
    }
}

/// Order statistics of one phase, in milliseconds.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Arithmetic mean.
    pub mean_ms: f64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest sample.
    pub max_ms: f64,
}

fn nanos_to_ms(nanos: u64) -> f64 {
    Duration::from_nanos(nanos).as_secs_f64() * 1000.0
}

/// The nearest-rank percentile `numerator / denominator` of `sorted`: the
/// smallest sample such that at least that fraction of samples are less than
/// or equal to it. `None` for an empty slice or a zero denominator.
///
/// The fraction is a ratio of integers so the rank is computed exactly, with
/// no floating-point rounding at the boundaries (p99 of 100 samples is the
/// 99th, not the 100th).
pub fn percentile(sorted: &[u64], numerator: u64, denominator: u64) -> Option<u64> {
    if sorted.is_empty() || denominator == 0 {
        return None;
    }
    let count = u128::try_from(sorted.len()).ok()?;
    let numerator = u128::from(numerator.min(denominator));
    let denominator = u128::from(denominator);
    // rank = ceil(count * p), 1-based, at least 1.
    let rank = (count * numerator).div_ceil(denominator).max(1);
    let index = usize::try_from(rank - 1).ok()?;
    sorted.get(index).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(samples: &[u64], numerator: u64, denominator: u64, expected: Option<u64>) {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            percentile(&sorted, numerator, denominator),
            expected,
            "p{numerator}/{denominator} of {samples:?}"
        );
    }

    #[test]
    fn percentile_uses_nearest_rank() {
        let hundred: Vec<u64> = (1..=100).rev().collect();
        check(&hundred, 50, 100, Some(50));
        check(&hundred, 99, 100, Some(99));
        check(&hundred, 999, 1000, Some(100));
        check(&hundred, 100, 100, Some(100));
        check(&hundred, 0, 100, Some(1));
        check(&[7, 3, 5], 50, 100, Some(5));
        check(&[7, 3, 5], 99, 100, Some(7));
        check(&[1, 2, 3, 4], 50, 100, Some(2));
        check(&[42], 99, 100, Some(42));
    }

    #[test]
    fn percentile_of_nothing_is_none() {
        check(&[], 50, 100, None);
        check(&[1, 2], 1, 0, None);
    }

    #[test]
    fn percentile_above_one_is_the_maximum() {
        check(&[1, 2, 3], 150, 100, Some(3));
    }

    #[test]
    fn summary_of_known_samples() {
        let mut latencies = Latencies::with_capacity(1000);
        for micros in 1..=1000 {
            latencies.record(Duration::from_micros(micros));
        }
        let summary = latencies.summarize();
        assert_eq!(summary.count, 1000);
        assert!((summary.p50_ms - 0.5).abs() < 1e-9);
        assert!((summary.p99_ms - 0.99).abs() < 1e-9);
        assert!((summary.p999_ms - 0.999).abs() < 1e-9);
        assert!((summary.max_ms - 1.0).abs() < 1e-9);
        assert!((summary.mean_ms - 0.5005).abs() < 1e-9);
    }

    #[test]
    fn summary_of_nothing_is_zero() {
        let summary = Latencies::default().summarize();
        assert_eq!(summary.count, 0);
        assert!(summary.p99_ms.abs() < f64::EPSILON);
    }
}
