//! Counters and the webhook-received → placeholder-posted latency, for `/healthz`, the logs
//! and the load benchmark. Fixed memory: the latency is a histogram of millisecond buckets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Latencies above this many milliseconds share the last bucket.
const BUCKETS_MS: usize = 10_000;

/// The relay's counters; every field counts since start.
#[derive(Debug)]
pub struct Stats {
    /// Deliveries that passed the token check.
    pub deliveries: AtomicU64,
    /// Deliveries refused for a wrong or missing `X-Gitlab-Token`.
    pub unauthorized: AtomicU64,
    /// Deliveries answered 2xx without work (another event, no mention, a system note …).
    pub ignored: AtomicU64,
    /// Deliveries recognised as already seen by this process.
    pub duplicates: AtomicU64,
    /// Deliveries refused with 503 because the queue and its overflow were full.
    pub queue_full: AtomicU64,
    /// Deliveries kept in the overflow (memory or spool directory) because the queue was full.
    pub overflowed: AtomicU64,
    /// Mentions queued (one per assistant a note asks for).
    pub queued: AtomicU64,
    /// Mentions another delivery, replica or scan had already claimed.
    pub claimed_elsewhere: AtomicU64,
    /// Mentions not acted on after the access checks (refused or ignored).
    pub not_allowed: AtomicU64,
    /// Placeholders posted.
    pub placeholders: AtomicU64,
    /// Pipelines started (counted once the placeholder links them).
    pub pipelines: AtomicU64,
    /// Mentions that failed (the placeholder says so and the claim was released).
    pub failed: AtomicU64,
    latency: Vec<AtomicU64>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            deliveries: AtomicU64::new(0),
            unauthorized: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            queue_full: AtomicU64::new(0),
            overflowed: AtomicU64::new(0),
            queued: AtomicU64::new(0),
            claimed_elsewhere: AtomicU64::new(0),
            not_allowed: AtomicU64::new(0),
            placeholders: AtomicU64::new(0),
            pipelines: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            latency: (0..=BUCKETS_MS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// Adds one to a counter.
pub fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// See [`Stats::deliveries`].
    pub deliveries: u64,
    /// See [`Stats::unauthorized`].
    pub unauthorized: u64,
    /// See [`Stats::ignored`].
    pub ignored: u64,
    /// See [`Stats::duplicates`].
    pub duplicates: u64,
    /// See [`Stats::queue_full`].
    pub queue_full: u64,
    /// See [`Stats::overflowed`].
    pub overflowed: u64,
    /// See [`Stats::queued`].
    pub queued: u64,
    /// See [`Stats::claimed_elsewhere`].
    pub claimed_elsewhere: u64,
    /// See [`Stats::not_allowed`].
    pub not_allowed: u64,
    /// See [`Stats::placeholders`].
    pub placeholders: u64,
    /// See [`Stats::pipelines`].
    pub pipelines: u64,
    /// See [`Stats::failed`].
    pub failed: u64,
    /// Webhook received → placeholder posted.
    pub placeholder_latency: Latency,
}

/// Percentiles of the placeholder latency, in whole milliseconds (bucket upper bounds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: u64,
    /// 99th percentile.
    pub p99_ms: u64,
    /// Largest.
    pub max_ms: u64,
}

impl Stats {
    /// Records one webhook-received → placeholder-posted latency.
    pub fn record_latency(&self, latency: Duration) {
        let ms = usize::try_from(latency.as_millis()).unwrap_or(BUCKETS_MS);
        self.latency[ms.min(BUCKETS_MS)].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            deliveries: load(&self.deliveries),
            unauthorized: load(&self.unauthorized),
            ignored: load(&self.ignored),
            duplicates: load(&self.duplicates),
            queue_full: load(&self.queue_full),
            overflowed: load(&self.overflowed),
            queued: load(&self.queued),
            claimed_elsewhere: load(&self.claimed_elsewhere),
            not_allowed: load(&self.not_allowed),
            placeholders: load(&self.placeholders),
            pipelines: load(&self.pipelines),
            failed: load(&self.failed),
            placeholder_latency: self.latency(),
        }
    }

    fn latency(&self) -> Latency {
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let count: u64 = counts.iter().sum();
        if count == 0 {
            return Latency::default();
        }
        // The bucket holding the q-th sample; a bucket `ms` holds latencies in [ms, ms+1).
        let percentile = |q: f64| {
            let rank = ((count as f64) * q).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (ms, n) in counts.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return ms as u64 + 1;
                }
            }
            BUCKETS_MS as u64 + 1
        };
        let max = counts
            .iter()
            .rposition(|n| *n > 0)
            .map_or(0, |ms| ms as u64 + 1);
        Latency {
            count,
            p50_ms: percentile(0.50),
            p99_ms: percentile(0.99),
            max_ms: max,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_histogram() {
        let stats = Stats::default();
        assert_eq!(stats.snapshot().placeholder_latency, Latency::default());
        for ms in 0..100 {
            stats.record_latency(Duration::from_micros(ms * 1000 + 500));
        }
        stats.record_latency(Duration::from_secs(3600));
        let latency = stats.snapshot().placeholder_latency;
        assert_eq!(latency.count, 101);
        assert_eq!(latency.p50_ms, 51);
        assert_eq!(latency.p99_ms, 100);
        assert_eq!(latency.max_ms, BUCKETS_MS as u64 + 1);
    }
}
