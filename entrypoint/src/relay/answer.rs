//! What a worker does with one queued mention: acknowledge it (check who asked, claim the note,
//! post the placeholder, hand the claim over: [`crate::answer`], shared with the acknowledgement
//! job), start the pipeline, and link it from the placeholder.
//!
//! Once the placeholder is up it never stays "working" without a pipeline behind it (it is
//! replaced by a failure note), and a failed mention gives its claim back, so GitLab's "Resend
//! request" or a new delivery can try again.

use std::sync::Arc;

use tracing::Instrument;

use super::dedup::Seen;
use super::intake::Mention;
use super::stats::{Stats, bump};
use crate::answer::{AckSettings, Acknowledged, acknowledge, give_back, pipeline};
use crate::claim::{ClaimSettings, Target};
use crate::gitlab::GitLab;
use crate::gitlab::ids::{NoteId, PipelineId};
use crate::guard::GuardSettings;
use crate::marker::{NoteRole, marker};
use crate::publish::placeholder::working_body;
use crate::quick_action::Inert;
use crate::redact::Redactor;

/// What the workers share.
#[derive(Debug)]
pub struct Context {
    /// Counters and latency.
    pub stats: Arc<Stats>,
    /// The in-memory duplicate check, told to forget mentions that failed.
    pub seen: Arc<Seen>,
    /// Who may make the assistants act.
    pub guard: GuardSettings,
    /// Removes tokens from error text before it is posted.
    pub redactor: Redactor,
    /// The claim's lease.
    pub claim: ClaimSettings,
}

/// How a mention ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The pipeline runs and the placeholder links it.
    Started(PipelineId),
    /// Another delivery, replica or scan owns the note.
    ClaimedElsewhere,
    /// The access checks said no (a refusal was posted, or the note is ignored).
    NotAllowed,
    /// GitLab could not be reached or refused; anything posted says so and the claim is free.
    Failed,
}

/// Handles one mention; never panics and never leaves a "working" placeholder behind.
pub async fn answer(ctx: &Context, mention: &Mention) -> Outcome {
    let note = mention.trigger.note.as_ref().map(|n| n.id);
    let span = tracing::info_span!(
        "mention",
        project = %mention.trigger.project,
        note = note.map(|n| n.0),
        assistant = mention.assistant.name(),
        event = mention.event_uuid.as_deref().unwrap_or(""),
    );
    let outcome = work(ctx, mention).instrument(span.clone()).await;
    span.in_scope(|| tracing::info!(?outcome, "mention handled"));
    match outcome {
        Outcome::Failed => {
            bump(&ctx.stats.failed);
            ctx.seen.forget(&mention.keys);
        }
        // Held by a claimer that may die before handing over: a resend must look again (the
        // claim answers it cheaply), not be swallowed by the in-memory check for its TTL.
        Outcome::ClaimedElsewhere => ctx.seen.forget(&mention.keys),
        Outcome::Started(_) | Outcome::NotAllowed => {}
    }
    outcome
}

async fn work(ctx: &Context, mention: &Mention) -> Outcome {
    let gitlab = &mention.project.gitlab;
    let trigger = &*mention.trigger;
    let assistant = mention.assistant;
    let Some(note) = trigger.note.as_ref() else {
        return Outcome::Failed;
    };
    let target = Target {
        project: &trigger.project,
        noteable: trigger.noteable,
        note: note.id,
    };
    let settings = AckSettings {
        guard: ctx.guard.clone(),
        claim: ctx.claim,
    };
    let (placeholder, award, handover) =
        match acknowledge(gitlab, trigger, assistant, &settings, &ctx.redactor).await {
            Acknowledged::Placeholder {
                note,
                award,
                handover,
            } => (note, award, handover),
            Acknowledged::Refused { .. } => {
                bump(&ctx.stats.not_allowed);
                return Outcome::NotAllowed;
            }
            Acknowledged::Ignored { reason } => {
                tracing::info!(%reason, "not acting on the note");
                bump(&ctx.stats.not_allowed);
                return Outcome::NotAllowed;
            }
            Acknowledged::ClaimedElsewhere => {
                tracing::info!("already claimed by another delivery, replica or scan");
                bump(&ctx.stats.claimed_elsewhere);
                return Outcome::ClaimedElsewhere;
            }
            Acknowledged::Failed { error } => {
                tracing::warn!(%error, "the mention could not be acknowledged");
                return Outcome::Failed;
            }
        };
    bump(&ctx.stats.placeholders);
    ctx.stats.record_latency(mention.received.elapsed());
    tracing::info!(
        placeholder = placeholder.0,
        elapsed_ms = u64::try_from(mention.received.elapsed().as_millis()).unwrap_or(u64::MAX),
        "placeholder posted and claim handed over"
    );

    let variables = crate::trigger::ci_vars::variables(trigger, assistant, placeholder);
    match pipeline::start(&mention.project, trigger, variables).await {
        Ok(started) => {
            tracing::info!(pipeline = started.id.0, "pipeline started");
            let details = format!("Pipeline: [#{}]({})", started.id, started.web_url);
            let body = working_body(assistant, None, &details);
            if let Err(error) = gitlab
                .update_note(
                    &trigger.project,
                    trigger.noteable,
                    placeholder,
                    &Inert::new(&body),
                )
                .await
            {
                // The job rewrites the placeholder with its own link anyway.
                tracing::warn!(%error, "the placeholder could not be linked to the pipeline");
            }
            bump(&ctx.stats.pipelines);
            Outcome::Started(started.id)
        }
        Err(error) => {
            tracing::warn!(%error, "the pipeline could not be started");
            let body = failure_body(ctx, assistant, &error.to_string());
            replace_placeholder(gitlab, mention, placeholder, &body).await;
            give_back(gitlab, target, award, Some(handover)).await;
            Outcome::Failed
        }
    }
}

/// The note that replaces the placeholder when no pipeline could be started: what happened and
/// how to try again, with our marker so it is never read as a request.
fn failure_body(ctx: &Context, assistant: crate::assistant::Assistant, error: &str) -> String {
    format!(
        "⚠️ **{}** could not start: the relay could not start the pipeline that would answer \
         this ({}). Nothing ran. Comment again, or resend the webhook delivery, to retry.\n\n{}",
        assistant.display_name(),
        ctx.redactor.redact(error),
        marker(assistant, NoteRole::Result)
    )
}

async fn replace_placeholder(gitlab: &GitLab, mention: &Mention, note: NoteId, body: &str) {
    let trigger = &*mention.trigger;
    if let Err(error) = gitlab
        .update_note(&trigger.project, trigger.noteable, note, &Inert::new(body))
        .await
    {
        tracing::error!(%error, placeholder = note.0, "the placeholder could not be replaced by the failure note");
    }
}
