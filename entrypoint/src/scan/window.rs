//! Since when a scan looks for mentions, from state GitLab keeps anyway: no database, no
//! variable the scan must write back.
//!
//! The window opens at the creation of the last *successful* scheduled pipeline on the scan's
//! ref (one `GET /projects/:id/pipelines?source=schedule&status=success&ref=…&per_page=1`,
//! <https://docs.gitlab.com/api/pipelines/#list-project-pipelines>), or `AI_SCAN_LOOKBACK` ago,
//! whichever is earlier. A pipeline is created before its scan lists anything, so every note
//! posted after the previous scan's listing is in this window; a scan that failed or died
//! half-way does not move the window on, so the next one looks back over its period too. The
//! lookback floor covers what the pipeline cannot tell: another successful schedule on the same
//! ref, or a project with no earlier scan. The window only bounds the cost: exactness comes from
//! the claim ([`crate::claim`]) on every answered note, so overlapping windows answer nothing
//! twice.

use chrono::{DateTime, Utc};

use crate::gitlab::ids::ProjectRef;
use crate::gitlab::pipelines::PipelineFilter;
use crate::gitlab::{GitLab, GitLabError};

/// The window's start, and what it was derived from (for the job log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Notes created at or after this time are looked at.
    pub since: DateTime<Utc>,
    /// When the last successful scheduled pipeline was created, if there is one.
    pub last_success: Option<DateTime<Utc>>,
}

/// The earlier of the last successful scheduled pipeline's creation and `now - lookback`.
pub fn start(
    now: DateTime<Utc>,
    lookback: std::time::Duration,
    last_success: Option<DateTime<Utc>>,
) -> Window {
    let floor = chrono::TimeDelta::from_std(lookback)
        .ok()
        .and_then(|lookback| now.checked_sub_signed(lookback))
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let since = last_success.map_or(floor, |at| at.min(floor));
    Window {
        since,
        last_success,
    }
}

/// Reads the last successful scheduled pipeline on `git_ref` (all refs when `None`) and opens
/// the window.
pub async fn find(
    gitlab: &GitLab,
    project: &ProjectRef,
    git_ref: Option<&str>,
    now: DateTime<Utc>,
    lookback: std::time::Duration,
) -> Result<Window, GitLabError> {
    let filter = PipelineFilter {
        source: Some("schedule".to_owned()),
        status: Some("success".to_owned()),
        git_ref: git_ref.map(str::to_owned),
    };
    let last = gitlab.latest_pipeline(project, &filter).await?;
    Ok(start(now, lookback, last.map(|p| p.created_at)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;

    fn at(hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, hour, minute, 0).unwrap()
    }

    #[test]
    fn the_window_reaches_back_to_the_last_success_or_the_lookback_whichever_is_earlier() {
        let hour = Duration::from_secs(3600);
        // Scans every 10 minutes: the lookback floor is the earlier one.
        assert_eq!(start(at(10, 0), hour, Some(at(9, 50))).since, at(9, 0));
        // The scans failed since 6:00: the window covers all of it.
        assert_eq!(start(at(10, 0), hour, Some(at(6, 0))).since, at(6, 0));
        // No earlier scan: the lookback alone.
        assert_eq!(start(at(10, 0), hour, None).since, at(9, 0));
    }
}
