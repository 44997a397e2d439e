//! Counters and the webhook-received → placeholder-posted latency, for `/healthz`, the logs
//! and the load benchmark. Fixed memory: the latency is a histogram of millisecond buckets.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Latencies above this many milliseconds share the last bucket.
const BUCKETS_MS: usize = 10_000;

/// The `le` bounds of the Prometheus latency histogram, in milliseconds (at most
/// [`BUCKETS_MS`], above which the histogram has no detail).
const LATENCY_BOUNDS_MS: [u64; 10] = [50, 100, 250, 500, 1000, 2000, 3000, 5000, 7500, 10_000];

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
    /// Issue and merge request changes queued as requests (assignment, review request, label, description mention), one per assistant.
    pub events: AtomicU64,
    /// Queued issue and merge request changes the worker found to be no request once it knew the bot user (the bot's own change, someone else assigned).
    pub events_ignored: AtomicU64,
    /// Looks for requests a model-API quota error queued, one per project per sweep.
    pub sweeps: AtomicU64,
    /// GitLab API calls the sweeps made, for the cost per sweep (divide by sweeps).
    pub sweep_api_calls: AtomicU64,
    /// Sweeps that could not list the queued requests (GitLab unreachable): the next sweep looks again.
    pub sweep_failures: AtomicU64,
    /// Queued requests whose retry pipeline the relay started.
    pub retries: AtomicU64,
    /// Queued requests whose retry could not be started (the claim is given back; the next sweep tries again).
    pub retry_failures: AtomicU64,
    latency: Vec<AtomicU64>,
    /// The sum of every recorded latency in milliseconds, for the histogram's `_sum`.
    latency_sum_ms: AtomicU64,
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
            events: AtomicU64::new(0),
            events_ignored: AtomicU64::new(0),
            sweeps: AtomicU64::new(0),
            sweep_api_calls: AtomicU64::new(0),
            sweep_failures: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            retry_failures: AtomicU64::new(0),
            latency: (0..=BUCKETS_MS).map(|_| AtomicU64::new(0)).collect(),
            latency_sum_ms: AtomicU64::new(0),
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
    /// See [`Stats::events`].
    pub events: u64,
    /// See [`Stats::events_ignored`].
    pub events_ignored: u64,
    /// See [`Stats::sweeps`].
    pub sweeps: u64,
    /// See [`Stats::sweep_api_calls`].
    pub sweep_api_calls: u64,
    /// See [`Stats::sweep_failures`].
    pub sweep_failures: u64,
    /// See [`Stats::retries`].
    pub retries: u64,
    /// See [`Stats::retry_failures`].
    pub retry_failures: u64,
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
    pub(crate) fn record_latency(&self, latency: Duration) {
        let ms = usize::try_from(latency.as_millis()).unwrap_or(BUCKETS_MS);
        self.latency[ms.min(BUCKETS_MS)].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_ms.fetch_add(
            u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The counters in Prometheus' text exposition format (version 0.0.4,
    /// <https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>): one
    /// `gitlab_ai_relay_<name>_total` counter each, and the placeholder latency as a histogram
    /// in seconds with cumulative `le` buckets.
    pub fn prometheus(&self) -> String {
        let snapshot = self.snapshot();
        let counters: [(&str, u64, &str); 19] = [
            (
                "deliveries",
                snapshot.deliveries,
                "Webhook deliveries that passed the token check.",
            ),
            (
                "unauthorized",
                snapshot.unauthorized,
                "Deliveries refused for a wrong or missing X-Gitlab-Token.",
            ),
            (
                "ignored",
                snapshot.ignored,
                "Deliveries answered without work.",
            ),
            (
                "duplicates",
                snapshot.duplicates,
                "Deliveries recognised as already seen.",
            ),
            (
                "queue_full",
                snapshot.queue_full,
                "Deliveries refused with 503 because the queue and its overflow were full.",
            ),
            (
                "overflowed",
                snapshot.overflowed,
                "Deliveries kept in the overflow because the queue was full.",
            ),
            (
                "queued",
                snapshot.queued,
                "Mentions queued, one per assistant asked.",
            ),
            (
                "claimed_elsewhere",
                snapshot.claimed_elsewhere,
                "Mentions already claimed by another delivery, replica or scan.",
            ),
            (
                "not_allowed",
                snapshot.not_allowed,
                "Mentions refused or ignored by the access checks.",
            ),
            (
                "placeholders",
                snapshot.placeholders,
                "Placeholders posted.",
            ),
            ("pipelines", snapshot.pipelines, "Pipelines started."),
            ("failed", snapshot.failed, "Mentions that failed."),
            (
                "events",
                snapshot.events,
                "Issue and merge request changes queued as requests, one per assistant asked.",
            ),
            (
                "events_ignored",
                snapshot.events_ignored,
                "Queued issue and merge request changes that were no request for the bot.",
            ),
            (
                "sweeps",
                snapshot.sweeps,
                "Looks for queued requests, one per project per sweep.",
            ),
            (
                "sweep_api_calls",
                snapshot.sweep_api_calls,
                "GitLab API calls made by the quota sweeps.",
            ),
            (
                "sweep_failures",
                snapshot.sweep_failures,
                "Quota sweeps that could not list the queued requests.",
            ),
            (
                "retries",
                snapshot.retries,
                "Retry pipelines started for queued requests.",
            ),
            (
                "retry_failures",
                snapshot.retry_failures,
                "Queued requests whose retry could not be started.",
            ),
        ];
        let mut text = String::new();
        for (name, value, help) in counters {
            let name = format!("gitlab_ai_relay_{name}_total");
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        let name = "gitlab_ai_relay_placeholder_latency_seconds";
        text.push_str(&format!(
            "# HELP {name} Webhook received to placeholder posted.\n# TYPE {name} histogram\n"
        ));
        let counts: Vec<u64> = self
            .latency
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        // Bucket `ms` holds latencies in [ms, ms+1) milliseconds: all of them are <= (ms+1) ms.
        for le_ms in LATENCY_BOUNDS_MS {
            let below: u64 = counts.iter().take(le_ms as usize).sum();
            text.push_str(&format!(
                "{name}_bucket{{le=\"{}\"}} {below}\n",
                le_ms as f64 / 1000.0
            ));
        }
        let count: u64 = counts.iter().sum();
        text.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {count}\n"));
        text.push_str(&format!(
            "{name}_sum {}\n{name}_count {count}\n",
            self.latency_sum_ms.load(Ordering::Relaxed) as f64 / 1000.0
        ));
        text
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
            events: load(&self.events),
            events_ignored: load(&self.events_ignored),
            sweeps: load(&self.sweeps),
            sweep_api_calls: load(&self.sweep_api_calls),
            sweep_failures: load(&self.sweep_failures),
            retries: load(&self.retries),
            retry_failures: load(&self.retry_failures),
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

        bump(&stats.deliveries);
        bump(&stats.deliveries);
        let text = stats.prometheus();
        assert!(text.contains("# TYPE gitlab_ai_relay_deliveries_total counter\ngitlab_ai_relay_deliveries_total 2\n"), "{text}");
        // 0.5 … 99.5 ms: 50 at most 50 ms, all 100 at most 100 ms; the hour only in +Inf.
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_bucket{le=\"0.05\"} 50\n"),
            "{text}"
        );
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_bucket{le=\"0.1\"} 100\n"),
            "{text}"
        );
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_bucket{le=\"10\"} 100\n"),
            "{text}"
        );
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_bucket{le=\"+Inf\"} 101\n"),
            "{text}"
        );
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_count 101\n"),
            "{text}"
        );
        assert!(
            text.contains("gitlab_ai_relay_placeholder_latency_seconds_sum 3604.95\n"),
            "{text}"
        );
    }
}
