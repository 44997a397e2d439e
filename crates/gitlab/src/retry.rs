//! When a failed request is tried again, and after how long.
//!
//! GitLab asks clients to back off on 429 (with `Retry-After` in seconds and `RateLimit-Reset`
//! as epoch seconds) and is briefly unavailable during deploys (500, 502, 503, 504).
//! <https://docs.gitlab.com/security/rate_limits/#rate-limiting-responses>
//!
//! Retrying must not post a note twice. Requests that are safe to repeat (GET, PUT, DELETE) are
//! retried on every transient failure. A POST is retried only when GitLab cannot have acted on
//! it:
//! - the connection was never established (the request was never sent);
//! - 429, because GitLab's rate limits refuse the request before it acts: Rack::Attack before
//!   any endpoint runs, the application limits (such as `notes_create_limit`) at the start of
//!   the endpoint, before anything is created;
//! - 503 with `Retry-After`, the answer of a load balancer or maintenance page that did not pass
//!   the request on.
//!
//! A POST that timed out, lost its connection mid-way or got 500/502/504 may have created the
//! note already; it fails instead, and the caller decides (the placeholder flow can list the
//! notes and look for its own).

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};

/// How patient the client is. Every field is public so tests can shrink the delays
/// (`base_delay: 1 ms`) and the cross tests can inject failures without slowing down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// The backoff cap for the first retry; doubled for each later one.
    pub base_delay: Duration,
    /// The largest backoff cap, whatever the attempt.
    pub max_delay: Duration,
    /// Wall-clock limit for one request with all its attempts and waits (each page of a list
    /// is one request). Each attempt's timeout is shortened so the request never runs past it.
    pub total_budget: Duration,
}

impl Default for RetryPolicy {
    /// Six attempts over at most a minute: enough to ride out a GitLab deploy or a rate-limit
    /// window, short enough for a CI job to fail with a clear message.
    fn default() -> Self {
        Self {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            total_budget: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn never() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Exponential backoff with full jitter: a uniform wait between zero and
    /// `min(max_delay, base_delay * 2^retry)`, so many jobs hitting the same limit spread out.
    /// `retry` counts from 0 for the first retry.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self
            .base_delay
            .checked_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        if cap.is_zero() {
            return cap;
        }
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rand::rng().random_range(0..=nanos))
    }
}

/// True for methods whose repetition leaves the same state as one call (RFC 9110 §9.2.2).
pub(crate) fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Whether a response status is worth another attempt, per the rules in the module docs.
pub(crate) fn status_is_retryable(
    status: StatusCode,
    method: &Method,
    headers: &HeaderMap,
) -> bool {
    match status {
        StatusCode::TOO_MANY_REQUESTS => true,
        StatusCode::SERVICE_UNAVAILABLE => {
            is_idempotent(method) || headers.contains_key(reqwest::header::RETRY_AFTER)
        }
        StatusCode::INTERNAL_SERVER_ERROR
        | StatusCode::BAD_GATEWAY
        | StatusCode::GATEWAY_TIMEOUT => is_idempotent(method),
        _ => false,
    }
}

/// Whether a transport failure is worth another attempt. A refused or reset connection before
/// sending is safe for any method; a TLS rejection (bad certificate) will not heal by waiting;
/// anything after sending (timeout, dropped connection) only for idempotent methods.
pub(crate) fn transport_is_retryable(error: &reqwest::Error, method: &Method) -> bool {
    if error.is_connect() {
        return !is_tls_rejection(error);
    }
    if error.is_builder() || error.is_redirect() || error.is_decode() {
        return false;
    }
    is_idempotent(method)
}

/// rustls reports certificate and protocol failures as `io::ErrorKind::InvalidData`, which
/// hyper wraps in another `io::Error`. `io::Error::source` skips the wrapped error itself, so
/// wrapped io errors are unpacked with `get_ref`.
pub(crate) fn is_tls_rejection(error: &reqwest::Error) -> bool {
    fn io_invalid_data(e: &(dyn std::error::Error + 'static)) -> bool {
        match e.downcast_ref::<std::io::Error>() {
            Some(io) if io.kind() == std::io::ErrorKind::InvalidData => true,
            Some(io) => io.get_ref().is_some_and(|inner| io_invalid_data(inner)),
            None => false,
        }
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(e) = source {
        if io_invalid_data(e) {
            return true;
        }
        source = e.source();
    }
    false
}

/// The wait the server asked for: `Retry-After` (429 and 503), else `RateLimit-Reset` (429).
pub(crate) fn server_delay(
    status: StatusCode,
    headers: &HeaderMap,
    now: SystemTime,
) -> Option<Duration> {
    if !matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) {
        return None;
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(delay) = header("retry-after").and_then(|v| parse_retry_after(v, now)) {
        return Some(delay);
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return header("ratelimit-reset").and_then(|v| parse_rate_limit_reset(v, now));
    }
    None
}

/// `Retry-After` is either delay seconds or an HTTP date (RFC 9110 §10.2.3). A date in the past
/// means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// GitLab's `RateLimit-Reset` is the Unix time (seconds) at which the window resets.
pub fn parse_rate_limit_reset(value: &str, now: SystemTime) -> Option<Duration> {
    let epoch = value.trim().parse::<u64>().ok()?;
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(epoch))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    fn at(epoch: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(epoch)
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("7", at(0)), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", at(0)), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", at(0)), None);
        assert_eq!(parse_retry_after("-3", at(0)), None);
    }

    #[test]
    fn retry_after_as_http_date() {
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(date, at(784_111_770)),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            parse_retry_after(date, at(784_111_800)),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn rate_limit_reset_is_epoch_seconds() {
        assert_eq!(
            parse_rate_limit_reset("1000", at(990)),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_rate_limit_reset("1000", at(2000)),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_rate_limit_reset("x", at(0)), None);
    }

    #[test]
    fn server_delay_prefers_retry_after_and_ignores_other_statuses() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit-reset", HeaderValue::from_static("1030"));
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, at(1000)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            server_delay(StatusCode::SERVICE_UNAVAILABLE, &h, at(1000)),
            None
        );
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(
            server_delay(StatusCode::TOO_MANY_REQUESTS, &h, at(1000)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(server_delay(StatusCode::BAD_GATEWAY, &h, at(1000)), None);
    }

    #[test]
    fn posts_are_retried_only_when_gitlab_cannot_have_acted() {
        let none = HeaderMap::new();
        let mut with_retry_after = HeaderMap::new();
        with_retry_after.insert("retry-after", HeaderValue::from_static("1"));
        for status in [500, 502, 503, 504] {
            let s = StatusCode::from_u16(status).unwrap();
            assert!(status_is_retryable(s, &Method::GET, &none), "{s}");
            assert!(status_is_retryable(s, &Method::PUT, &none), "{s}");
            assert!(!status_is_retryable(s, &Method::POST, &none), "{s}");
        }
        assert!(status_is_retryable(
            StatusCode::TOO_MANY_REQUESTS,
            &Method::POST,
            &none
        ));
        assert!(status_is_retryable(
            StatusCode::SERVICE_UNAVAILABLE,
            &Method::POST,
            &with_retry_after
        ));
        for status in [400, 401, 403, 404, 409, 422] {
            let s = StatusCode::from_u16(status).unwrap();
            assert!(!status_is_retryable(s, &Method::GET, &none), "{s}");
        }
    }

    #[test]
    fn backoff_stays_under_the_exponential_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            total_budget: Duration::from_secs(60),
        };
        for _ in 0..200 {
            assert!(p.backoff(0) <= Duration::from_millis(100));
            assert!(p.backoff(2) <= Duration::from_millis(400));
            assert!(p.backoff(40) <= Duration::from_millis(1000));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(spread.len() > 1, "full jitter must vary");
        assert_eq!(
            RetryPolicy {
                base_delay: Duration::ZERO,
                ..p
            }
            .backoff(5),
            Duration::ZERO
        );
    }
}
