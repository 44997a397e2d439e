//! The scan's half of quota queueing: running each due queued note again in this job, exactly
//! once. Finding and claiming them is shared with the relay ([`crate::quota::retry`]).
//!
//! A run that meets the limit again rewrites the note with the next retry time first and only
//! then gives the reactions back, so a scan that sees the reactions gone also sees the new time.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::handoff::Outcome;
use crate::agent::{Assistant, Handles};
use crate::answer::in_job::JobEnd;
use crate::claim::{ClaimSettings, Target};
use crate::env::Env;
use crate::gitlab::GitLab;
use crate::gitlab::ids::{NoteId, ProjectRef, UserId};
use crate::in_job::run_with;
use crate::quota::QuotaSettings;
use crate::quota::retry::{
    Due, QueuedNote, claim_due, edge, find_queued, give_back, retry_variables,
};
use crate::recent::Updated;
use crate::redact::Redactor;

/// What the scan needs to retry queued notes.
pub(crate) struct Retrier<'a> {
    /// The scan's client.
    pub gitlab: &'a GitLab,
    /// The project.
    pub project: &'a ProjectRef,
    /// The scan's assistant.
    pub assistant: Assistant,
    /// The handles.
    pub handles: &'a Handles,
    /// The bot user.
    pub bot: UserId,
    /// The claim's lease.
    pub claim: &'a ClaimSettings,
    /// The scan job's variables.
    pub vars: &'a dyn Env,
    /// For the runs.
    pub redactor: &'a Arc<Redactor>,
}

impl Retrier<'_> {
    /// Runs `queued` again if it is due and nobody else is retrying it: `None` when it is not
    /// due or another scan holds it.
    pub(crate) async fn retry(&self, queued: &QueuedNote, now: DateTime<Utc>) -> Option<Outcome> {
        let (award, handover) =
            match claim_due(self.gitlab, self.project, self.bot, self.claim, queued, now).await {
                Due::NotDue | Due::Elsewhere => return None,
                Due::Failed(error) => return Some(Outcome::Failed { error }),
                Due::Claimed { award, handover } => (award, handover),
            };
        let target = Target::note(self.project, queued.noteable, queued.note);
        let give_back = |handover| give_back(self.gitlab, target, queued.note, award, handover);
        tracing::info!(note = %queued.note, request = ?queued.queued.request, attempt = queued.queued.attempts + 1, "retrying a request queued by the model API's limit");
        let outcome = self.run(queued).await;
        match &outcome {
            // Queued again (the note already says when) or not run at all: the next retry
            // claims the note anew.
            Outcome::Ran(JobEnd::Queued { .. }) | Outcome::Failed { .. } => {
                give_back(Some(handover)).await;
            }
            // The mention is gone or no longer asks (deleted, its author now a bot): the run
            // stopped before taking the note over, which would otherwise say "queued" forever.
            Outcome::Ran(JobEnd::Skipped { reason } | JobEnd::Ignored { reason }) => {
                tracing::info!(note = %queued.note, %reason, "the queued request no longer stands; removing its note");
                if let Err(error) = self
                    .gitlab
                    .delete_note(self.project, queued.noteable, queued.note)
                    .await
                {
                    tracing::warn!(note = %queued.note, %error, "the note of a request that no longer stands could not be deleted");
                }
            }
            Outcome::Ran(_) | Outcome::Handed(_) => {}
        }
        Some(outcome)
    }

    /// The run flow for the queued mention in this job, the queued note as its placeholder:
    /// the in-job run of [`crate::in_job`], with the attempt number on top.
    async fn run(&self, queued: &QueuedNote) -> Outcome {
        Outcome::of_run(
            run_with(
                retry_variables(self.project, queued),
                self.assistant,
                self.handles,
                self.vars,
                Arc::clone(self.redactor),
            )
            .await,
        )
    }
}

impl Retrier<'_> {
    /// Finds the queued notes that may have become due since the scan window opened at `since`
    /// and retries each due one; what became of each, by queued note. `updated` lists the
    /// issues and merge requests updated since [`edge`] or earlier.
    pub(crate) async fn retry_due(
        &self,
        since: DateTime<Utc>,
        updated: &[Updated],
    ) -> anyhow::Result<Vec<(NoteId, Outcome)>> {
        use anyhow::Context as _;
        let settings = QuotaSettings::from_env(self.vars)?;
        let edge = edge(&settings, since);
        let queued = find_queued(
            self.gitlab,
            self.project,
            &[self.assistant],
            self.bot,
            updated,
            edge,
        )
        .await
        .context("looking for requests queued by a model-API quota error")?;
        let mut retried = Vec::new();
        for queued in &queued {
            if let Some(outcome) = self.retry(queued, Utc::now()).await {
                if let Some(error) = outcome.error() {
                    tracing::error!(note = %queued.note, %error, "a queued request could not be retried; the next scan tries again");
                }
                retried.push((queued.note, outcome));
            }
        }
        tracing::info!(
            queued = queued.len(),
            retried = retried.len(),
            "looked for queued requests"
        );
        Ok(retried)
    }
}
