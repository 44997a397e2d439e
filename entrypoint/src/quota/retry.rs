//! Quota queueing's reading side, shared by the scan and the relay's sweep: finding the bot's
//! queued notes and claiming each due one, exactly once.
//!
//! Finding them: the issues and merge requests updated since the scan window's start minus the
//! longest wait (listed once by the scan, [`edge`]) a queued note can have ([`QuotaSettings::longest_wait`]) and [`TOUCH_LAG`], then
//! per item its notes by `updated_at`, newest first, stopping at the first page older than that
//! edge. A queued note was last written when its request was queued, and saving a note touches
//! its issue or merge request (`after_save :touch_noteable`, `app/models/note.rb`), so a note
//! that became due since the last successful scan is on a listed item however old the window's
//! start. Cost: two list requests, plus one per issue or merge request updated in that span
//! (docs/scan.md). <https://docs.gitlab.com/api/notes/#list-project-issue-notes> (`order_by`
//! `updated_at`), <https://docs.gitlab.com/api/issues/#list-project-issues> (`updated_after`).
//!
//! Claiming: the bot's claim reaction on the queued note itself ([`crate::claim`]); the winner
//! reads the note again (a retry that ran meanwhile rewrote it) and hands the claim over. The
//! scan then runs the mention in its job ([`crate::scan::retry`]), the relay starts a pipeline
//! ([`crate::relay::sweep`]), the queued note as its placeholder either way.

use chrono::{DateTime, TimeDelta, Utc};

use super::{ATTEMPT_VAR, Queued, QueuedRequest, QuotaSettings};
use crate::agent::Assistant;
use crate::claim::{self, Claim, ClaimSettings, HandOver, State, Target};
use crate::gitlab::ids::{AwardId, NoteId, Noteable, ProjectRef, UserId};
use crate::gitlab::{GitLab, GitLabError};
use crate::recent::{Updated, updated_notes};
use crate::trigger::ci_vars::CiRequest;
use crate::trigger::event_vars::EventRequest;

/// How far an issue's or merge request's `updated_at` may trail a note saved on it: GitLab
/// skips a touch within a minute of the last update (`ThrottledTouch::TOUCH_INTERVAL`,
/// `app/models/concerns/throttled_touch.rb`); one more minute for clocks.
pub(crate) const TOUCH_LAG: TimeDelta = TimeDelta::minutes(2);

impl QuotaSettings {
    /// The longest time a queued note waits for its retry ([`QuotaSettings::next`]'s cap).
    pub(crate) fn longest_wait(&self) -> TimeDelta {
        TimeDelta::from_std(super::MAX_BACKOFF.max(self.backoff)).unwrap_or(TimeDelta::MAX)
    }
}

/// A queued note of the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedNote {
    /// Where it is.
    pub noteable: Noteable,
    /// The queued note (the request's placeholder).
    pub note: NoteId,
    /// What it records.
    pub queued: Queued,
}

/// Every queued note of one of `assistants` by the bot user `bot` on the issues and merge
/// requests `updated` since `edge` ([`crate::recent::updated_since`] listed at `edge`
/// or earlier), oldest retry first.
pub(crate) async fn find_queued(
    gitlab: &GitLab,
    project: &ProjectRef,
    assistants: &[Assistant],
    bot: UserId,
    updated: &[Updated],
    edge: DateTime<Utc>,
) -> Result<Vec<QueuedNote>, GitLabError> {
    let mut found = Vec::new();
    for noteable in updated
        .iter()
        .filter(|u| u.updated_at >= edge)
        .map(|u| u.noteable)
    {
        for note in updated_notes(gitlab, project, noteable, edge).await? {
            if note.author.id != bot || note.system {
                continue;
            }
            if let Some(queued) =
                Queued::find(&note.body).filter(|q| assistants.contains(&q.assistant))
            {
                found.push(QueuedNote {
                    noteable,
                    note: note.id,
                    queued,
                });
            }
        }
    }
    found.sort_by_key(|q| (q.queued.retry_at, q.note));
    Ok(found)
}

/// Whether a queued note is now this caller's to retry ([`claim_due`]).
#[derive(Debug)]
pub enum Due {
    /// Its retry time has not come.
    NotDue,
    /// Another scan, relay replica or retry holds it, or retried it between the list and the
    /// claim.
    Elsewhere,
    /// Claimed and handed over: the caller runs it (or starts its pipeline) and gives the
    /// reactions back ([`give_back`]) if it cannot.
    Claimed {
        /// The claim reaction.
        award: AwardId,
        /// The hand-over reaction.
        handover: AwardId,
    },
    /// GitLab failed; nothing is held.
    Failed(String),
}

/// Claims a due queued note for its retry with the bot's reaction on the note itself, the lock
/// every scan and relay replica takes ([`crate::claim`]): reads the note again after winning (a
/// retry that ran meanwhile rewrote it) and hands the claim over. Shared by the scan's in-job
/// retry and the relay's sweep ([`crate::relay::sweep`]), so they answer a queued request once
/// between them.
pub async fn claim_due(
    gitlab: &GitLab,
    project: &ProjectRef,
    bot: UserId,
    settings: &ClaimSettings,
    queued: &QueuedNote,
    now: DateTime<Utc>,
) -> Due {
    if !queued.queued.is_due(now) {
        return Due::NotDue;
    }
    let assistant = queued.queued.assistant;
    let target = Target::note(project, queued.noteable, queued.note);
    let failed =
        |what: &str, error: &dyn std::fmt::Display| Due::Failed(format!("{what}: {error}"));
    match claim::state(gitlab, target, assistant, bot, settings).await {
        Ok(State::HandedOver | State::Held) => return Due::Elsewhere,
        Ok(State::Free | State::Expired) => {}
        Err(error) => return failed("reading the reactions on a queued note", &error),
    }
    let award = match claim::claim(gitlab, target, assistant, settings).await {
        Ok(Claim::Won(award)) => award,
        Ok(Claim::Taken) => return Due::Elsewhere,
        Err(error) => return failed("claiming a queued note", &error),
    };
    // Another scan or replica may have retried it between our list and our claim: it rewrote
    // the note before giving its reactions back.
    match gitlab.note(project, queued.noteable, queued.note).await {
        Ok(note) if Queued::find(&note.body).as_ref() == Some(&queued.queued) => {}
        Ok(_) => {
            give_back(gitlab, target, queued.note, award, None).await;
            return Due::Elsewhere;
        }
        Err(error) => {
            give_back(gitlab, target, queued.note, award, None).await;
            return failed("reading a queued note again", &error);
        }
    }
    match claim::hand_over(gitlab, target, assistant, award).await {
        Ok(HandOver::Done(handover)) => Due::Claimed { award, handover },
        Ok(HandOver::Lost) => Due::Elsewhere,
        Err(error) => {
            give_back(gitlab, target, queued.note, award, None).await;
            failed("handing the claim on a queued note over", &error)
        }
    }
}

/// Gives the claim on a queued note back, so the next scan or sweep retries it.
pub(crate) async fn give_back(
    gitlab: &GitLab,
    target: Target<'_>,
    note: NoteId,
    award: AwardId,
    handover: Option<AwardId>,
) {
    if let Err(error) = claim::release(gitlab, target, award, handover).await {
        tracing::warn!(note = %note, %error, "the claim on the queued note could not be given back; remove the bot's reactions on it to have it retried");
    }
}

/// The variables of a retry: the queued mention's ([`CiRequest::variables`]) or event request's
/// ([`EventRequest::variables`]), the queued note as
/// its placeholder, and the attempt number ([`ATTEMPT_VAR`]).
pub(crate) fn retry_variables(
    project: &ProjectRef,
    queued: &QueuedNote,
) -> std::collections::BTreeMap<&'static str, String> {
    let q = &queued.queued;
    let mut variables = match &q.request {
        QueuedRequest::Mention { note, discussion } => CiRequest {
            project: project.clone(),
            assistant: q.assistant,
            noteable: queued.noteable,
            note: *note,
            discussion: discussion.clone(),
            placeholder: Some(queued.note),
            checked_body: None,
        }
        .variables(),
        QueuedRequest::Event {
            requested,
            actor,
            at,
        } => {
            let request = EventRequest {
                project: project.clone(),
                noteable: queued.noteable,
                requested: requested.clone(),
                actor: *actor,
                at: *at,
                placeholder: Some(queued.note),
            };
            let mut variables: std::collections::BTreeMap<&'static str, String> =
                request.variables().into_iter().collect();
            variables.insert(
                crate::trigger::ci_vars::names::ASSISTANT,
                q.assistant.name().to_owned(),
            );
            variables
        }
    };
    variables.insert(ATTEMPT_VAR, (q.attempts + 1).to_string());
    variables
}

/// How far before the scan window's start `since` the queued notes are looked for: a note that
/// became due since then was written at most the longest wait (and the touch lag) earlier.
pub(crate) fn edge(settings: &QuotaSettings, since: DateTime<Utc>) -> DateTime<Utc> {
    since
        .checked_sub_signed(settings.longest_wait() + TOUCH_LAG)
        .unwrap_or(since)
}
