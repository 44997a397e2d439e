//! Acknowledging a mention: check who asked, claim the note, post the placeholder and hand the
//! claim over. The relay does it before it starts a pipeline ([`crate::relay`]), and the
//! acknowledgement job (`entrypoint ack`, [`command`]) does it in the slim image before the
//! assistant job's 200+ MB image is pulled; both then hand the placeholder to the job that
//! answers (`AI_PLACEHOLDER_NOTE_ID`), which takes it over instead of claiming again.
//!
//! The order makes every failure visible and retryable: nothing is posted before the claim, so
//! two deliveries, replicas or jobs never both answer; the claim is handed over
//! ([`claim::hand_over`]) right after the placeholder is up or before the refusal is posted, so
//! a claimer that dies before that leaves only a lease that the next delivery, replica or scan
//! takes over; and a failure gives the claim back (and removes a placeholder it posted), so a
//! retry can answer.

pub mod command;

use crate::assistant::Assistant;
use crate::claim::{self, Claim, ClaimSettings, HandOver, Target};
use crate::gitlab::GitLab;
use crate::gitlab::ids::{AwardId, NoteId};
use crate::guard::{self, GuardOutcome, GuardSettings};
use crate::marker::claim_line;
use crate::publish::placeholder::{
    PipelineLink, acknowledged_body, placeholder_body, post_where_asked,
};
use crate::quick_action::Inert;
use crate::redact::Redactor;
use crate::trigger::Trigger;

/// Who may make the assistant act, and the claim's lease.
#[derive(Clone, Debug)]
pub struct AckSettings {
    /// The guard's settings.
    pub guard: GuardSettings,
    /// The claim's lease.
    pub claim: ClaimSettings,
}

/// How an acknowledgement ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acknowledged {
    /// The placeholder is up and the claim handed over: the caller must now get the answer
    /// started, or replace the placeholder and [`give_back`] the claim.
    Placeholder {
        /// The placeholder note.
        note: NoteId,
        /// The claim.
        award: AwardId,
        /// The hand-over reaction.
        handover: AwardId,
    },
    /// The author may not make the assistant act and the refusal was posted.
    Refused {
        /// The refusal note.
        note: NoteId,
    },
    /// The note is not acted on (a bot, a note gone); nothing was posted.
    Ignored {
        /// Why, in one sentence.
        reason: String,
    },
    /// Another delivery, replica, job or scan owns the note.
    ClaimedElsewhere,
    /// GitLab could not be reached or refused; nothing stays posted and the claim is free.
    Failed {
        /// What went wrong, redacted.
        error: String,
    },
}

/// Acknowledges the mention in `trigger` (which must carry its note) for `assistant`; never
/// leaves a placeholder behind without a handed-over claim.
pub async fn acknowledge(
    gitlab: &GitLab,
    trigger: &Trigger,
    assistant: Assistant,
    settings: &AckSettings,
    redactor: &Redactor,
) -> Acknowledged {
    acknowledge_in_pipeline(gitlab, trigger, assistant, settings, redactor, None).await
}

/// [`acknowledge`] from a job of the pipeline that will answer: the placeholder links
/// `pipeline`, where the answering job's log shows the progress, so the answering job need not
/// edit it (in webhook mode each edit would start a pipeline).
pub async fn acknowledge_in_pipeline(
    gitlab: &GitLab,
    trigger: &Trigger,
    assistant: Assistant,
    settings: &AckSettings,
    redactor: &Redactor,
    pipeline: Option<&PipelineLink>,
) -> Acknowledged {
    let failed = |error: String| Acknowledged::Failed {
        error: redactor.redact(&error),
    };
    let Some(note) = trigger.note.as_ref() else {
        return failed("the trigger names no note to acknowledge".to_owned());
    };
    let target = Target {
        project: &trigger.project,
        noteable: trigger.noteable,
        note: note.id,
    };

    let refusal = match guard::check(gitlab, trigger, &settings.guard).await {
        Ok(GuardOutcome::Proceed { .. }) => None,
        Ok(GuardOutcome::Ignore(reason)) => {
            return Acknowledged::Ignored {
                reason: reason.message(),
            };
        }
        Ok(GuardOutcome::Refuse(refusal)) => Some(refusal),
        Err(error) => return failed(format!("the access checks could not reach GitLab: {error}")),
    };

    let award = match claim::claim(gitlab, target, assistant, &settings.claim).await {
        Ok(Claim::Won(award)) => award,
        Ok(Claim::Taken) => return Acknowledged::ClaimedElsewhere,
        Err(error) => return failed(format!("the note could not be claimed: {error}")),
    };

    if let Some(refusal) = refusal {
        // The claim stays, handed over: a re-sent delivery must not post the refusal again.
        let handover = match handed_over(gitlab, target, assistant, award).await {
            Ok(handover) => handover,
            Err(outcome) => return outcome,
        };
        return match crate::run::refuse(gitlab, trigger, assistant, &refusal, redactor).await {
            Ok(note) => {
                tracing::info!(reason = %refusal.message(), "refused the request");
                Acknowledged::Refused { note }
            }
            Err(error) => {
                give_back(gitlab, target, award, Some(handover)).await;
                failed(format!("the refusal could not be posted: {error:#}"))
            }
        };
    }

    // Tied to the claim, so whoever takes over an expired claim can remove it.
    let headline = match pipeline {
        Some(pipeline) => acknowledged_body(assistant, pipeline),
        None => placeholder_body(assistant, None),
    };
    let body = format!("{headline}\n{}", claim_line(award));
    let placeholder = match post_where_asked(gitlab, trigger, &Inert::new(&body)).await {
        Ok((placeholder, _thread)) => placeholder.id,
        Err(error) => {
            give_back(gitlab, target, award, None).await;
            return failed(format!("the placeholder could not be posted: {error}"));
        }
    };
    tracing::info!(placeholder = placeholder.0, "placeholder posted");

    match handed_over(gitlab, target, assistant, award).await {
        Ok(handover) => Acknowledged::Placeholder {
            note: placeholder,
            award,
            handover,
        },
        Err(outcome) => {
            if let Err(error) = gitlab
                .delete_note(&trigger.project, trigger.noteable, placeholder)
                .await
            {
                tracing::warn!(%error, placeholder = placeholder.0, "the placeholder of a mention no longer ours could not be deleted");
            }
            outcome
        }
    }
}

/// Hands the claim over before an irreversible step; `Err(outcome)` when GitLab could not be
/// asked (the claim is given back: [`Acknowledged::Failed`]) or the lease was lost to another
/// caller ([`Acknowledged::ClaimedElsewhere`]), and the mention must be left alone.
async fn handed_over(
    gitlab: &GitLab,
    target: Target<'_>,
    assistant: Assistant,
    award: AwardId,
) -> Result<AwardId, Acknowledged> {
    match claim::hand_over(gitlab, target, assistant, award).await {
        Ok(HandOver::Done(handover)) => Ok(handover),
        Ok(HandOver::Lost) => {
            tracing::warn!(
                "the claim's lease ran out and another delivery, replica or scan took the mention over; stopping"
            );
            Err(Acknowledged::ClaimedElsewhere)
        }
        Err(error) => {
            give_back(gitlab, target, award, None).await;
            Err(Acknowledged::Failed {
                error: format!("the claim could not be handed over: {error}"),
            })
        }
    }
}

/// Gives a claim back (and its hand-over reaction), so that a retry can answer.
pub async fn give_back(
    gitlab: &GitLab,
    target: Target<'_>,
    award: AwardId,
    handover: Option<AwardId>,
) {
    if let Err(error) = claim::release(gitlab, target, award, handover).await {
        tracing::error!(%error, "the claim could not be released; remove the bot's reaction to retry");
    }
}
