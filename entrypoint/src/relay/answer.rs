//! What a worker does with one queued mention: answer it in a pipeline of its own
//! ([`crate::answer::in_pipeline`]: check who asked, claim the note, post the placeholder, hand
//! the claim over, start the pipeline and link it from the placeholder), and keep the counts.
//!
//! Once the placeholder is up it never stays "working" without a pipeline behind it (it is
//! replaced by a failure note), and a failed mention gives its claim back, so GitLab's "Resend
//! request" or a new delivery can try again.

use std::sync::Arc;

use tracing::Instrument;

use super::dedup::Seen;
use super::intake::{EventRules, Mention, Request};
use super::stats::{Stats, bump};
use crate::agent::Handles;
use crate::answer::pipeline::Launch;
use crate::answer::{Answered, Ask, Retry, in_pipeline};
use crate::claim::ClaimSettings;
use crate::gitlab::ids::{NoteId, PipelineId};
use crate::guard::GuardSettings;
use crate::redact::Redactor;
use crate::trigger::Trigger;
use crate::trigger::event::{self, HookChange, Rules, Verdict};

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
    /// Which usernames summon which assistant (description mentions).
    pub handles: Handles,
    /// The label and the assistant for issue and merge request events.
    pub events: EventRules,
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
    let note = mention.request.note();
    let span = tracing::info_span!(
        "mention",
        project = %mention.request.project(),
        noteable = %mention.request.noteable().reference(),
        note = note.map(|n| n.0),
        assistant = mention.assistant.name(),
        event = mention.event_uuid.as_deref().unwrap_or(""),
    );
    let mut attempt = 0;
    let outcome = loop {
        let (outcome, silent) = work(ctx, mention).instrument(span.clone()).await;
        let Some(pause) = RETRY_PAUSES.get(attempt).filter(|_| silent) else {
            break outcome;
        };
        attempt += 1;
        span.in_scope(|| {
            tracing::warn!(
                attempt,
                pause_ms = pause.as_millis() as u64,
                "nothing was posted and the claim is free; trying the mention again"
            )
        });
        tokio::time::sleep(*pause).await;
    };
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

/// An issue or merge request change, decided as in webhook mode now that the bot user is known
/// ([`HookChange::verdict`]: the bot's own changes and changes to someone else are no request):
/// the trigger to answer, or `None` (counted, logged) when there is nothing to do.
async fn decide_change(
    ctx: &Context,
    mention: &Mention,
    change: &HookChange,
) -> Result<Option<Trigger>, crate::gitlab::GitLabError> {
    let bot = mention.project.bot().await?;
    let rules = Rules {
        assistant: mention.assistant,
        bot,
        label: ctx.events.label.as_deref(),
        handles: &ctx.handles,
    };
    // The same choice as intake's once the bot is known ([`super::intake::candidates`]).
    let reason = match change.verdict(rules) {
        Verdict::Answer(found)
            if found.kind == event::EventKind::DescriptionMention
                || mention.assistant == ctx.events.assistant =>
        {
            tracing::info!(actor = ?found.actor.username, event = %found.kind.describe(), "a request without a comment");
            return Ok(Some(event::into_trigger(
                change,
                found,
                mention.assistant,
                &ctx.handles,
            )));
        }
        Verdict::Answer(found) => format!(
            "{} is answered by {} (event_assistant / AI_RELAY_EVENT_ASSISTANT)",
            found.kind.describe(),
            ctx.events.assistant
        ),
        Verdict::Ignore(reason) => reason,
    };
    tracing::info!(%reason, "the event is no request");
    bump(&ctx.stats.events_ignored);
    Ok(None)
}

/// The pauses before the relay tries a mention again that failed without leaving anything
/// visible (GitLab failed the access checks, the claim, the placeholder or the hand-over, and the
/// claim was given back): GitLab does not re-send a delivery it got a 202 for, so without these
/// the mention would end in silence. The worker holds its slot meanwhile, which slows a relay
/// facing a failing GitLab rather than piling more requests on it.
const RETRY_PAUSES: [std::time::Duration; 3] = [
    std::time::Duration::from_millis(500),
    std::time::Duration::from_secs(2),
    std::time::Duration::from_secs(5),
];

/// One attempt, and whether it failed silently (nothing posted, nothing held).
async fn work(ctx: &Context, mention: &Mention) -> (Outcome, bool) {
    let project = &*mention.project;
    let trigger = match &mention.request {
        Request::Note(trigger) => Arc::clone(trigger),
        Request::Change(change) => match decide_change(ctx, mention, change).await {
            Ok(Some(trigger)) => Arc::new(trigger),
            Ok(None) => return (Outcome::NotAllowed, false),
            Err(error) => {
                tracing::warn!(%error, "the bot user could not be read to decide the event");
                return (Outcome::Failed, true);
            }
        },
    };
    let ask = Ask {
        gitlab: &project.gitlab,
        trigger: &trigger,
        assistant: mention.assistant,
        claim: &ctx.claim,
        job: None,
        pipeline: None,
        redactor: &ctx.redactor,
    };
    let launch = Launch {
        gitlab: &project.gitlab,
        start: &project.start,
        git_ref: &project.git_ref,
    };
    let placeholder_up = |placeholder: NoteId| {
        bump(&ctx.stats.placeholders);
        ctx.stats.record_latency(mention.received.elapsed());
        tracing::info!(
            placeholder = placeholder.0,
            elapsed_ms = u64::try_from(mention.received.elapsed().as_millis()).unwrap_or(u64::MAX),
            "placeholder posted and claim handed over"
        );
    };
    let outcome = match in_pipeline(ask, &ctx.guard, launch, Retry::ByPerson, placeholder_up).await
    {
        Answered::Started { pipeline, .. } => {
            bump(&ctx.stats.pipelines);
            Outcome::Started(pipeline)
        }
        Answered::Refused { .. } => {
            bump(&ctx.stats.not_allowed);
            Outcome::NotAllowed
        }
        Answered::Ignored { reason } => {
            tracing::info!(%reason, "not acting on the note");
            bump(&ctx.stats.not_allowed);
            Outcome::NotAllowed
        }
        Answered::ClaimedElsewhere => {
            tracing::info!("already claimed by another delivery, replica or scan");
            bump(&ctx.stats.claimed_elsewhere);
            Outcome::ClaimedElsewhere
        }
        Answered::Failed { error, noted } => {
            tracing::warn!(%error, "the mention could not be answered");
            return (Outcome::Failed, !noted);
        }
    };
    (outcome, false)
}
