//! The wait the model API asked for: the `Retry-After` header of a rate-limit (429) or
//! overloaded (503, 529) answer, kept for the run's end, where a quota error queues the request
//! ([`crate::quota`]) no sooner than the API said. Anthropic sends `retry-after` in seconds on
//! its 429s (<https://docs.anthropic.com/en/api/rate-limits#response-headers>); HTTP also allows
//! a date (<https://www.rfc-editor.org/rfc/rfc9110#field.retry-after>). The CLIs report only
//! the error's text, so the proxy, which sees every answer, is the one place that can read it.
//!
//! Both CLIs obey a `Retry-After` by sleeping in the job: Codex 0.169.0 given `retry-after: 900`
//! waited until `AI_TIMEOUT` killed it (`tests/tests/it/quota_queue.rs`). A wait longer than
//! [`LONGEST_IN_RUN`] is better spent queued than holding a runner, so the proxy answers such
//! a limit as final ([`fail_fast`]); shorter waits reach the CLI unchanged and it retries itself.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};

/// The longest `Retry-After` a CLI is left to sleep through in the job.
pub(crate) const LONGEST_IN_RUN: Duration = Duration::from_secs(60);

/// Makes a limited answer final for the CLI: without its `Retry-After` (and the `-ms` variant
/// some APIs add) and with Anthropic's `x-should-retry: false`, which Claude Code obeys; Codex
/// gives up after one 429 without a `Retry-After` (docs/limitations.md).
pub(crate) fn fail_fast(headers: &mut HeaderMap) {
    headers.remove(http::header::RETRY_AFTER);
    headers.remove("retry-after-ms");
    headers.insert(
        http::header::HeaderName::from_static("x-should-retry"),
        http::HeaderValue::from_static("false"),
    );
}

/// Statuses whose `Retry-After` says when the API takes requests again.
const LIMITED: [u16; 3] = [429, 503, 529];

/// The last `Retry-After` seen, in whole seconds plus one (0: none).
#[derive(Debug, Default)]
pub(crate) struct RetryAfter(AtomicU64);

impl RetryAfter {
    /// Keeps the wait of a limited answer; other answers leave the last one in place (a
    /// successful call after it does not make the limit the run ended on go away).
    /// Returns the wait this answer asked for.
    pub(super) fn record(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        if !LIMITED.contains(&status.as_u16()) {
            return None;
        }
        let wait = headers
            .get(http::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse(value, now))?;
        self.0
            .store(wait.as_secs().saturating_add(1), Ordering::Relaxed);
        Some(wait)
    }

    /// The last wait asked for, if any.
    pub(super) fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_secs(n - 1)),
        }
    }
}

/// A `Retry-After` value: delay-seconds, or an HTTP date (whose wait is counted from `now`;
/// one in the past is no wait).
pub(super) fn parse(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use http::HeaderValue;

    use super::*;

    #[test]
    fn seconds_and_dates_are_read_and_only_limited_answers_count() {
        let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(parse("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse("soon", now), None);

        let seen = RetryAfter::default();
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("30"));
        seen.record(StatusCode::BAD_REQUEST, &headers, now);
        assert_eq!(seen.get(), None, "a 400 is no limit");
        assert_eq!(
            seen.record(StatusCode::TOO_MANY_REQUESTS, &headers, now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(seen.get(), Some(Duration::from_secs(30)));
        seen.record(StatusCode::OK, &HeaderMap::new(), now);
        assert_eq!(seen.get(), Some(Duration::from_secs(30)));
        headers.insert(http::header::RETRY_AFTER, HeaderValue::from_static("0"));
        seen.record(StatusCode::from_u16(529).unwrap(), &headers, now);
        assert_eq!(seen.get(), Some(Duration::ZERO));

        fail_fast(&mut headers);
        assert!(headers.get(http::header::RETRY_AFTER).is_none());
        assert_eq!(headers["x-should-retry"], "false");
    }
}
