//! Prometheus metrics in the text exposition format: request counts by operation
//! and result, and a latency histogram by operation. Never a key, token or name.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    /// Counts one request.
    pub fn observe(&self, operation: &'static str, code: &'static str, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        *inner.requests.entry((operation, code)).or_default() += 1;
        let histogram = inner.latency.entry(operation).or_default();
        for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.sum += seconds;
        histogram.total += 1;
    }

    /// The text exposition.
    pub fn render(&self, sealed: bool) -> String {
        let inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP cryptainer_sealed Whether the key manager is sealed (1) or not (0)."
        );
        let _ = writeln!(out, "# TYPE cryptainer_sealed gauge");
        let _ = writeln!(out, "cryptainer_sealed {}", u8::from(sealed));
        let _ = writeln!(
            out,
            "# HELP cryptainer_requests_total API requests by operation and result code."
        );
        let _ = writeln!(out, "# TYPE cryptainer_requests_total counter");
        for ((operation, code), count) in &inner.requests {
            let _ = writeln!(
                out,
                "cryptainer_requests_total{{operation=\"{operation}\",code=\"{code}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP cryptainer_request_duration_seconds API request latency by operation."
        );
        let _ = writeln!(out, "# TYPE cryptainer_request_duration_seconds histogram");
        for (operation, histogram) in &inner.latency {
            for (bound, count) in BUCKETS.iter().zip(histogram.counts.iter()) {
                let _ = writeln!(
                    out,
                    "cryptainer_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "cryptainer_request_duration_seconds_bucket{{operation=\"{operation}\",le=\"+Inf\"}} {}",
                histogram.total
            );
            let _ = writeln!(
                out,
                "cryptainer_request_duration_seconds_sum{{operation=\"{operation}\"}} {}",
                histogram.sum
            );
            let _ = writeln!(
                out,
                "cryptainer_request_duration_seconds_count{{operation=\"{operation}\"}} {}",
                histogram.total
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counts_and_cumulative_buckets() {
        let metrics = Metrics::default();
        metrics.observe("key.create", "ok", Duration::from_micros(700));
        metrics.observe("key.create", "conflict", Duration::from_millis(30));
        let text = metrics.render(false);
        assert!(text.contains("cryptainer_sealed 0"));
        assert!(text.contains("cryptainer_requests_total{operation=\"key.create\",code=\"ok\"} 1"));
        assert!(text.contains("le=\"0.001\"} 1"));
        assert!(text.contains("le=\"0.05\"} 2"));
        assert!(
            text.contains("cryptainer_request_duration_seconds_count{operation=\"key.create\"} 2")
        );
    }
}
