//! The relay's periodic look for requests a model-API quota error queued ([`crate::quota`]).
//!
//! A relay has no scheduled scan to retry them, so every `quota_sweep`
//! (`AI_RELAY_QUOTA_SWEEP_SECONDS`, five minutes by default) it looks in each project listed in
//! `[[projects]]` for the bot's queued notes with the scan's own reading of them
//! ([`crate::quota::retry::find_queued`]) and, for each due one, claims the queued note with the
//! same reaction the scan's retry takes ([`crate::quota::retry::claim_due`]) and starts the retry
//! pipeline with the queued note as its placeholder. Several replicas and a scan running at the
//! same time therefore retry each queued request once: whoever wins the claim.
//!
//! The look reaches back from the previous successful sweep of the project by the longest wait a
//! queued note can have plus GitLab's touch lag ([`crate::quota::retry::TOUCH_LAG`]): a queued
//! note was last written when it was queued, and writing it touches its issue or merge request.
//! The first sweep after start reaches back [`FIRST_LOOKBACK`] further, for notes that became due
//! while no relay ran. Cost per project and sweep: two list requests (issues and merge requests
//! updated since then), plus one notes page per item updated in that span, plus the claim's
//! calls for each due note (docs/relay.md gives the measured figure).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;

use super::projects::Project;
use super::stats::{Stats, bump};
use crate::agent::Assistant;
use crate::answer::pipeline::{Launch, start_with};
use crate::claim::{ClaimSettings, Target};
use crate::gitlab::ids::ProjectRef;
use crate::quota::retry::{Due, QueuedNote, TOUCH_LAG, claim_due, find_queued, give_back};
use crate::recent::updated_since;

/// How far before its start the relay's first sweep looks: a day of downtime.
pub(crate) const FIRST_LOOKBACK: TimeDelta = TimeDelta::hours(24);

/// What one sweep of one project did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    /// Queued notes found (due or not).
    pub queued: usize,
    /// Retry pipelines started.
    pub started: usize,
    /// Due notes another replica, scan or retry held.
    pub elsewhere: usize,
    /// Due notes whose retry could not be started (the claim was given back).
    pub failed: usize,
    /// GitLab API calls the sweep made.
    pub api_calls: u64,
}

/// One project's sweep state: when its last successful sweep started.
#[derive(Debug)]
pub struct Sweeper {
    /// The project's key in `[[projects]]`.
    pub project: ProjectRef,
    /// Its client, bot and pipeline settings.
    pub served: Arc<Project>,
    /// The start of the last sweep that listed the queued notes; `None` before the first.
    pub last: Option<DateTime<Utc>>,
}

impl Sweeper {
    /// Finds the due queued notes of both assistants and starts each one's retry pipeline.
    pub async fn sweep(&mut self, claim: &ClaimSettings, stats: &Stats) -> Swept {
        let started_at = Utc::now();
        let gitlab = &self.served.gitlab;
        let calls_before = gitlab.requests_sent();
        let mut swept = Swept::default();
        let result = self.sweep_inner(claim, stats, started_at, &mut swept).await;
        swept.api_calls = gitlab.requests_sent().saturating_sub(calls_before);
        bump(&stats.sweeps);
        stats
            .sweep_api_calls
            .fetch_add(swept.api_calls, std::sync::atomic::Ordering::Relaxed);
        match result {
            Ok(()) => {
                self.last = Some(started_at);
                tracing::info!(project = %self.project, queued = swept.queued, started = swept.started, elsewhere = swept.elsewhere, failed = swept.failed, api_calls = swept.api_calls, "looked for queued requests");
            }
            Err(error) => {
                bump(&stats.sweep_failures);
                tracing::warn!(project = %self.project, %error, api_calls = swept.api_calls, "could not look for queued requests; the next sweep looks again from the same time");
            }
        }
        swept
    }

    async fn sweep_inner(
        &self,
        claim: &ClaimSettings,
        stats: &Stats,
        now: DateTime<Utc>,
        swept: &mut Swept,
    ) -> Result<(), crate::gitlab::GitLabError> {
        let served = &*self.served;
        let bot = served.bot().await?.id;
        let reach = longest_wait() + TOUCH_LAG;
        let since = self.last.unwrap_or(now - FIRST_LOOKBACK);
        let edge = since.checked_sub_signed(reach).unwrap_or(since);
        let updated = updated_since(&served.gitlab, &self.project, edge).await?;
        let queued = find_queued(
            &served.gitlab,
            &self.project,
            &Assistant::ALL,
            bot,
            &updated,
            edge,
        )
        .await?;
        swept.queued = queued.len();
        for note in &queued {
            match claim_due(&served.gitlab, &self.project, bot, claim, note, Utc::now()).await {
                Due::NotDue => {}
                Due::Elsewhere => swept.elsewhere += 1,
                Due::Failed(error) => {
                    swept.failed += 1;
                    bump(&stats.retry_failures);
                    tracing::warn!(note = %note.note, %error, "a queued request could not be claimed for its retry; the next sweep tries again");
                }
                Due::Claimed { award, handover } => {
                    if self.start(note).await {
                        swept.started += 1;
                        bump(&stats.retries);
                    } else {
                        let target = Target::note(&self.project, note.noteable, note.note);
                        give_back(&served.gitlab, target, note.note, award, Some(handover)).await;
                        swept.failed += 1;
                        bump(&stats.retry_failures);
                    }
                }
            }
        }
        Ok(())
    }

    /// Starts the retry pipeline of a claimed queued note; false when GitLab refused.
    async fn start(&self, note: &QueuedNote) -> bool {
        let served = &*self.served;
        let launch = Launch {
            gitlab: &served.gitlab,
            start: &served.start,
            git_ref: &served.git_ref,
        };
        let variables = crate::quota::retry::retry_variables(&self.project, note);
        match start_with(launch, &self.project, variables).await {
            Ok(pipeline) => {
                tracing::info!(note = %note.note, request = ?note.queued.request, attempt = note.queued.attempts + 1, pipeline = pipeline.id.0, "retrying a request queued by the model API's limit");
                true
            }
            Err(error) => {
                tracing::warn!(note = %note.note, %error, "the retry pipeline of a queued request could not be started; the next sweep tries again");
                false
            }
        }
    }
}

/// The longest a queued note waits for its retry when the job's backoff is the default: the cap
/// of [`crate::quota::QuotaSettings::next`]. The relay does not see the projects' own
/// `AI_QUOTA_BACKOFF_SECONDS`; a first wait set above the cap is found by the scan's window, not
/// by the sweep (docs/relay.md).
fn longest_wait() -> TimeDelta {
    TimeDelta::from_std(crate::quota::MAX_BACKOFF).unwrap_or(TimeDelta::hours(1))
}

/// Sweeps every project now, then every `interval`, until `stop` changes.
pub async fn run(
    mut sweepers: Vec<Sweeper>,
    interval: Duration,
    claim: ClaimSettings,
    stats: Arc<Stats>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        for sweeper in &mut sweepers {
            if *stop.borrow() {
                return;
            }
            sweeper.sweep(&claim, &stats).await;
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stop.changed() => return,
        }
    }
}
