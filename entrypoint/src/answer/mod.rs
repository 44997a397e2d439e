//! Answering a mention, the one flow behind every entry point: `entrypoint run` (a webhook or
//! CI-variable job), the relay (`entrypoint serve`), the scheduled scan (`entrypoint scan`) and
//! the acknowledgement job (`entrypoint ack`).
//!
//! The steps are explicit and each failure leaves the mention where a retry can take it:
//!
//! 1. **guard** ([`crate::guard`]): ignore bots and vanished notes, refuse people without the
//!    role ([`acknowledge`]; the run adds its own checks, then calls [`acknowledge_verdict`]);
//! 2. **claim** the note ([`crate::claim`], a lease held by the bot's reaction), unless a relay,
//!    scan or acknowledgement job claimed it already and passed its placeholder
//!    (`AI_PLACEHOLDER_NOTE_ID`): nothing is posted before the claim, so two deliveries,
//!    replicas or jobs never both answer;
//! 3. the **refusal** or the **placeholder**, tied to the claim by a hidden line
//!    ([`crate::marker::claim_line`]) so that whoever takes an expired claim over removes it;
//! 4. **hand over** the claim ([`claim::hand_over`]) right after the placeholder is up or before
//!    the refusal is posted: a claimer that dies before that leaves only a lease that the next
//!    delivery, replica or scan takes over;
//! 5. the **answer** starts: a pipeline of its own ([`in_pipeline`], the relay and the scan's
//!    pipeline mode) or this job ([`crate::in_job`], `entrypoint run` and the scan's job mode);
//! 6. a failure **releases** the claim ([`give_back`]) and removes or replaces what it posted, so
//!    that a resend, a new comment or the next scan answers.

pub mod in_job;
pub mod pipeline;
pub mod refusal;

use crate::agent::Assistant;
use crate::claim::{self, Claim, ClaimError, ClaimSettings, HandOver, Target};
use crate::gitlab::ids::{AwardId, NoteId, PipelineId};
use crate::gitlab::{GitLab, GitLabError};
use crate::guard::{self, GuardOutcome, GuardSettings};
use crate::marker::{NoteRole, claim_line, marker};
use crate::publish::placeholder::{
    PipelineLink, acknowledged_body, placeholder_body, post_placeholder, post_where_asked,
};
use crate::publish::{JobLink, Placeholder};
use crate::quick_action::Inert;
use crate::redact::Redactor;
use crate::trigger::Trigger;
use crate::trigger::ci_vars::CiRequest;
use crate::trigger::event_vars::EventRequest;
use pipeline::Launch;

/// One mention to answer, and what every step needs.
#[derive(Clone, Copy)]
pub struct Ask<'a> {
    /// The client with the bot token.
    pub gitlab: &'a GitLab,
    /// The mention; a trigger without a note (a Duo flow, which GitLab started once) or with a
    /// placeholder passed on (the claim is the passer's) is not claimed again.
    pub trigger: &'a Trigger,
    /// The assistant asked.
    pub assistant: Assistant,
    /// The claim's lease.
    pub claim: &'a ClaimSettings,
    /// The job the placeholder links to, when there is one (a run, a scan).
    pub job: Option<&'a JobLink>,
    /// The pipeline the placeholder links to instead, set by the acknowledgement job of a
    /// webhook pipeline: the answering job's log there shows the progress, so that job need not
    /// edit the placeholder (each edit would be a Comments event, so a pipeline).
    pub pipeline: Option<&'a PipelineLink>,
    /// Removes tokens from what is posted.
    pub redactor: &'a Redactor,
}

/// What the guard said about a mention it did not ignore.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answer it.
    Proceed,
    /// Tell the author why not.
    Refuse(guard::Refusal),
}

/// Who holds a mention whose placeholder is up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Held {
    /// This caller claimed the note and handed the claim over: [`give_back`] both if the
    /// answer cannot start.
    Claimed {
        /// The claim.
        award: AwardId,
        /// The hand-over reaction.
        handover: AwardId,
    },
    /// The note was claimed by whoever passed the placeholder on, or there is no note to claim.
    Passed,
}

/// A step of the flow failed; nothing stays posted and the claim is free again.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// `GET /user` or the membership look-up failed.
    #[error("checking who asked (GitLab API)")]
    Guard(#[source] GitLabError),
    /// The claim could not be made.
    #[error("claiming the mention (adding the bot's reaction to the note)")]
    Claim(#[source] ClaimError),
    /// The hand-over reaction could not be added.
    #[error("handing the claim over (adding the bot's second reaction to the note)")]
    HandOver(#[source] GitLabError),
    /// The placeholder could not be posted.
    #[error("posting the placeholder note")]
    Placeholder(#[source] GitLabError),
    /// The refusal could not be posted.
    #[error("posting the refusal")]
    Refusal(#[source] anyhow::Error),
}

impl AnswerError {
    /// The error with its causes, one line, redacted: for a log line or a note.
    pub fn describe(&self, redactor: &Redactor) -> String {
        redactor.redact(&crate::error_chain::one_line(self))
    }
}

/// How an acknowledgement ended.
#[derive(Debug)]
pub enum Acknowledged {
    /// The placeholder is up and the mention held: the caller must now get the answer started,
    /// or replace the placeholder and [`give_back`] the claim.
    Placeholder {
        /// The placeholder.
        placeholder: Placeholder,
        /// Who holds the mention.
        held: Held,
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
    Failed(AnswerError),
}

/// Guards, then acknowledges the mention ([`acknowledge_verdict`]).
pub async fn acknowledge(ask: Ask<'_>, guard: &GuardSettings) -> Acknowledged {
    let verdict = match guard::check(ask.gitlab, ask.trigger, guard).await {
        Ok(GuardOutcome::Proceed { .. }) => Verdict::Proceed,
        Ok(GuardOutcome::Ignore(reason)) => {
            return Acknowledged::Ignored {
                reason: reason.message(),
            };
        }
        Ok(GuardOutcome::Refuse(refusal)) => Verdict::Refuse(refusal),
        Err(error) => return Acknowledged::Failed(AnswerError::Guard(error)),
    };
    acknowledge_verdict(ask, verdict).await
}

/// What `trigger` claims: its note, or, for an issue or merge request event without one, the
/// issue or merge request itself at the event's time ([`claim::Subject::Event`]). `None` when it
/// has neither.
fn claim_target(trigger: &Trigger) -> Option<Target<'_>> {
    match (&trigger.note, &trigger.event) {
        (Some(note), _) => Some(Target {
            project: &trigger.project,
            noteable: trigger.noteable,
            subject: claim::Subject::Note(note.id),
        }),
        (None, Some(event)) => Some(Target::event(&trigger.project, trigger.noteable, event.at)),
        (None, None) => None,
    }
}

/// Claims the mention (unless it was passed on), then posts the refusal or the placeholder and
/// hands the claim over; never leaves a placeholder behind without a handed-over claim.
pub(crate) async fn acknowledge_verdict(ask: Ask<'_>, verdict: Verdict) -> Acknowledged {
    acknowledge_with(ask, verdict, None).await
}

/// [`acknowledge_verdict`], with `extra` as one more hidden line of the placeholder.
async fn acknowledge_with(ask: Ask<'_>, verdict: Verdict, extra: Option<&str>) -> Acknowledged {
    let trigger = ask.trigger;
    let target = match trigger.placeholder {
        None => claim_target(trigger),
        Some(_) => None,
    };
    let Some(target) = target else {
        return passed_on(ask, verdict).await;
    };
    let award = match claim::claim(ask.gitlab, target, ask.assistant, ask.claim).await {
        Ok(Claim::Won(award)) => award,
        Ok(Claim::Taken) => return Acknowledged::ClaimedElsewhere,
        Err(error) => return Acknowledged::Failed(AnswerError::Claim(error)),
    };

    if let Verdict::Refuse(refusal) = verdict {
        // The claim stays, handed over: a re-sent delivery must not post the refusal again.
        let handover = match handed_over(ask, target, award).await {
            Ok(handover) => handover,
            Err(outcome) => return outcome,
        };
        return match refusal::refuse(ask.gitlab, trigger, ask.assistant, &refusal, ask.redactor)
            .await
        {
            Ok(note) => {
                tracing::info!(reason = %refusal.message(), "refused the request");
                Acknowledged::Refused { note }
            }
            Err(error) => {
                give_back(ask.gitlab, target, award, Some(handover)).await;
                Acknowledged::Failed(AnswerError::Refusal(error))
            }
        };
    }

    // Tied to the claim, so whoever takes over an expired claim can remove it.
    let headline = match ask.pipeline {
        Some(pipeline) => acknowledged_body(ask.assistant, pipeline),
        None => placeholder_body(ask.assistant, ask.job),
    };
    let mut body = format!("{headline}\n{}", claim_line(award.0));
    if let Some(extra) = extra {
        body.push('\n');
        body.push_str(extra);
    }
    let placeholder = match post_where_asked(ask.gitlab, trigger, &Inert::new(&body)).await {
        Ok((note, discussion)) => Placeholder {
            assistant: ask.assistant,
            project: trigger.project.clone(),
            noteable: trigger.noteable,
            note: note.id,
            discussion,
        },
        Err(error) => {
            give_back(ask.gitlab, target, award, None).await;
            return Acknowledged::Failed(AnswerError::Placeholder(error));
        }
    };
    tracing::info!(placeholder = placeholder.note.0, "placeholder posted");

    match handed_over(ask, target, award).await {
        Ok(handover) => Acknowledged::Placeholder {
            placeholder,
            held: Held::Claimed { award, handover },
        },
        Err(outcome) => {
            if let Err(error) = ask
                .gitlab
                .delete_note(&trigger.project, trigger.noteable, placeholder.note)
                .await
            {
                tracing::warn!(%error, placeholder = placeholder.note.0, "the placeholder of a mention no longer ours could not be deleted");
            }
            outcome
        }
    }
}

/// A mention claimed by whoever passed its placeholder on (or one without a note): the refusal
/// replaces that placeholder, or the placeholder is taken over (rewritten to link this job).
async fn passed_on(ask: Ask<'_>, verdict: Verdict) -> Acknowledged {
    match verdict {
        Verdict::Refuse(refusal) => match refusal::refuse_in_place(
            ask.gitlab,
            ask.trigger,
            ask.assistant,
            &refusal,
            ask.redactor,
        )
        .await
        {
            Ok(note) => {
                tracing::info!(note = %note, reason = %refusal.message(), "refused the request");
                Acknowledged::Refused { note }
            }
            Err(error) => Acknowledged::Failed(AnswerError::Refusal(error)),
        },
        Verdict::Proceed => {
            match post_placeholder(ask.gitlab, ask.trigger, ask.assistant, ask.job).await {
                Ok(placeholder) => Acknowledged::Placeholder {
                    placeholder,
                    held: Held::Passed,
                },
                Err(error) => Acknowledged::Failed(AnswerError::Placeholder(error)),
            }
        }
    }
}

/// Hands the claim over before an irreversible step; `Err(outcome)` when GitLab could not be
/// asked (the claim is given back: [`Acknowledged::Failed`]) or the lease was lost to another
/// caller ([`Acknowledged::ClaimedElsewhere`]), and the mention must be left alone.
async fn handed_over(
    ask: Ask<'_>,
    target: Target<'_>,
    award: AwardId,
) -> Result<AwardId, Acknowledged> {
    match claim::hand_over(ask.gitlab, target, ask.assistant, award).await {
        Ok(HandOver::Done(handover)) => Ok(handover),
        Ok(HandOver::Lost) => {
            tracing::warn!(
                "the claim's lease ran out and another delivery, replica or scan took the mention over; stopping"
            );
            Err(Acknowledged::ClaimedElsewhere)
        }
        Err(error) => {
            give_back(ask.gitlab, target, award, None).await;
            Err(Acknowledged::Failed(AnswerError::HandOver(error)))
        }
    }
}

/// Gives a claim back (and its hand-over reaction), so that a retry can answer.
pub(crate) async fn give_back(
    gitlab: &GitLab,
    target: Target<'_>,
    award: AwardId,
    handover: Option<AwardId>,
) {
    if let Err(error) = claim::release(gitlab, target, award, handover).await {
        tracing::error!(%error, "the claim could not be released; remove the bot's reaction to retry");
    }
}

/// Who tries again when a pipeline could not be started, which decides what the mention shows
/// meanwhile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Nobody but the person (a relay: GitLab does not re-send a delivery it got a 202 for):
    /// the placeholder becomes a note that says what happened and how to try again.
    ByPerson,
    /// The next scheduled scan, which finds the mention free again: the placeholder is removed
    /// (the scan job fails, so the pipeline list shows it), and the next answer stands alone.
    NextScan,
}

/// How answering a mention in a pipeline of its own ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answered {
    /// The pipeline runs and the placeholder links it.
    Started {
        /// The pipeline.
        pipeline: PipelineId,
        /// The placeholder its job takes over.
        placeholder: NoteId,
    },
    /// The author may not ask; they were told so.
    Refused {
        /// The refusal note.
        note: NoteId,
    },
    /// The guard ignored it silently (a bot wrote it; the note is gone).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Another delivery, replica, job or scan owns the note.
    ClaimedElsewhere,
    /// It could not be handed over; the claim is free for a retry ([`Retry`]).
    Failed {
        /// What went wrong, redacted.
        error: String,
        /// Whether a note tells the person so ([`Retry::ByPerson`]); when not, nobody but the
        /// caller knows the mention is unanswered, and the caller should try again.
        noted: bool,
    },
}

/// Guards, acknowledges and starts the pipeline that answers the mention (the relay, the scan's
/// pipeline mode); `placeholder_up` hears of the placeholder as soon as it is posted and
/// handed over (the relay's latency figure). A pipeline that cannot be started gives the claim
/// back, and the placeholder goes as `retry` says.
pub async fn in_pipeline(
    ask: Ask<'_>,
    guard: &GuardSettings,
    launch: Launch<'_>,
    retry: Retry,
    placeholder_up: impl FnOnce(NoteId),
) -> Answered {
    let (verdict, bot) = match guard::check(ask.gitlab, ask.trigger, guard).await {
        Ok(GuardOutcome::Proceed { bot, .. }) => (Verdict::Proceed, Some(bot.id)),
        Ok(GuardOutcome::Ignore(reason)) => {
            return Answered::Ignored {
                reason: reason.message(),
            };
        }
        Ok(GuardOutcome::Refuse(refusal)) => (Verdict::Refuse(refusal), None),
        Err(error) => {
            return Answered::Failed {
                error: AnswerError::Guard(error).describe(ask.redactor),
                noted: false,
            };
        }
    };
    // A placeholder that links no job (the relay's) is rewritten with the pipeline's link once
    // the pipeline runs, which drops this line: until then a dead claimer can be told apart.
    let pending = ask.job.is_none().then_some(PIPELINE_PENDING);
    let mut acknowledged = acknowledge_with(ask, verdict.clone(), pending).await;
    if let (Acknowledged::ClaimedElsewhere, Some(_)) = (&acknowledged, pending)
        && died_after_hand_over(ask, bot, matches!(verdict, Verdict::Refuse(_))).await
    {
        acknowledged = acknowledge_with(ask, verdict, pending).await;
    }
    let (placeholder, held) = match acknowledged {
        Acknowledged::Placeholder { placeholder, held } => {
            placeholder_up(placeholder.note);
            (placeholder, held)
        }
        Acknowledged::Refused { note } => return Answered::Refused { note },
        Acknowledged::Ignored { reason } => return Answered::Ignored { reason },
        Acknowledged::ClaimedElsewhere => return Answered::ClaimedElsewhere,
        Acknowledged::Failed(error) => {
            return Answered::Failed {
                error: error.describe(ask.redactor),
                noted: false,
            };
        }
    };
    let trigger = ask.trigger;
    let Some(variables) = pipeline_variables(trigger, ask.assistant, placeholder.note) else {
        // A trigger with neither a note nor an event (a Duo flow) is never claimed, so nothing
        // held it; only the placeholder goes.
        if let Err(error) = ask
            .gitlab
            .delete_note(&trigger.project, trigger.noteable, placeholder.note)
            .await
        {
            tracing::warn!(%error, "the placeholder of a request with neither a note nor an event could not be deleted");
        }
        return Answered::Failed {
            error: "the request names neither a note nor an issue or merge request event"
                .to_owned(),
            noted: false,
        };
    };
    match pipeline::start_with(launch, &trigger.project, variables).await {
        Ok(started) if ask.job.is_some() => {
            // The placeholder links the job that posted it (a scan's) until the pipeline's job
            // takes it over: no request spent on linking the pipeline too.
            tracing::info!(pipeline = started.id.0, "pipeline started");
            Answered::Started {
                pipeline: started.id,
                placeholder: placeholder.note,
            }
        }
        Ok(started) => {
            tracing::info!(pipeline = started.id.0, "pipeline started");
            let details = format!("Pipeline: [#{}]({})", started.id, started.web_url);
            let body = crate::publish::placeholder::working_body(ask.assistant, ask.job, &details);
            if let Err(error) = rewrite_placeholder(&ask, trigger, placeholder.note, &body).await {
                // The job rewrites the placeholder with its own link anyway.
                tracing::warn!(%error, "the placeholder could not be linked to the pipeline");
            }
            if retry == Retry::ByPerson
                && let Some(bot) = bot
            {
                remove_failures(ask, bot, None).await;
            }
            Answered::Started {
                pipeline: started.id,
                placeholder: placeholder.note,
            }
        }
        Err(error) => {
            let error = ask.redactor.redact(&error.to_string());
            tracing::warn!(%error, "the pipeline could not be started");
            match retry {
                Retry::ByPerson => {
                    let body = format!(
                        "{}\n{}",
                        failure_body(ask.assistant, &error),
                        trigger
                            .note
                            .as_ref()
                            .map(|note| failed_for_line(ask.assistant, note.id))
                            .unwrap_or_default()
                    );
                    if let Err(error) =
                        rewrite_placeholder(&ask, trigger, placeholder.note, &body).await
                    {
                        tracing::error!(%error, placeholder = placeholder.note.0, "the placeholder could not be replaced by the failure note");
                    }
                    // One failure note per mention: an earlier attempt's (another replica's copy
                    // of the delivery, a resend that failed too) goes while this attempt still
                    // holds the claim, so two failed attempts never leave two notes.
                    if let Some(bot) = bot {
                        remove_failures(ask, bot, Some(placeholder.note)).await;
                    }
                }
                Retry::NextScan => {
                    if let Err(error) = ask
                        .gitlab
                        .delete_note(&trigger.project, trigger.noteable, placeholder.note)
                        .await
                    {
                        tracing::warn!(note = %placeholder.note, %error, "the placeholder of a pipeline that did not start could not be deleted");
                    }
                }
            }
            if let (Held::Claimed { award, handover }, Some(target)) = (held, claim_target(trigger))
            {
                give_back(ask.gitlab, target, award, Some(handover)).await;
            }
            Answered::Failed {
                error: format!("starting the pipeline: {error}"),
                noted: retry == Retry::ByPerson,
            }
        }
    }
}

/// Rewrites the placeholder `note` of `trigger`'s mention with `body`, kept inert.
async fn rewrite_placeholder(
    ask: &Ask<'_>,
    trigger: &Trigger,
    note: NoteId,
    body: &str,
) -> Result<(), GitLabError> {
    ask.gitlab
        .update_note(&trigger.project, trigger.noteable, note, &Inert::new(body))
        .await
        .map(drop)
}

/// The request for the note in `trigger`, whose body the caller's guard checked (the job
/// refuses the note if its body differs by then, [`crate::guard::edit`]); `None` for a
/// trigger without a note. Here rather than on [`CiRequest`], so that `trigger` does not
/// import the guard that reads triggers.
fn checked_request(
    trigger: &Trigger,
    assistant: Assistant,
    placeholder: Option<NoteId>,
) -> Option<CiRequest> {
    let note = trigger.note.as_ref()?;
    Some(CiRequest {
        project: trigger.project.clone(),
        assistant,
        noteable: trigger.noteable,
        note: note.id,
        discussion: note.discussion.clone(),
        placeholder,
        checked_body: Some(crate::guard::edit::body_digest(&note.body)),
    })
}

/// The variables of the pipeline that answers `trigger` with `placeholder`: the note's, whose
/// body the guard checked ([`checked_request`]), or, for an assignment, review request, label
/// or description mention, the event's ([`EventRequest::of`]) with the assistant; `None` for a
/// trigger with neither.
fn pipeline_variables(
    trigger: &Trigger,
    assistant: Assistant,
    placeholder: NoteId,
) -> Option<std::collections::BTreeMap<&'static str, String>> {
    if let Some(request) = checked_request(trigger, assistant, Some(placeholder)) {
        return Some(request.variables());
    }
    let request = EventRequest::of(trigger, Some(placeholder))?;
    let mut variables: std::collections::BTreeMap<&'static str, String> =
        request.variables().into_iter().collect();
    variables.insert(
        crate::trigger::ci_vars::names::ASSISTANT,
        assistant.name().to_owned(),
    );
    Some(variables)
}

/// The hidden line of a failure note ([`Retry::ByPerson`]) that names the mention it is about,
/// so whoever answers the mention later finds and removes it.
fn failed_for_line(assistant: Assistant, note: NoteId) -> String {
    format!(
        "<!-- gitlab-ai-assistant-failed-for: {}:{note} -->",
        assistant.name()
    )
}

/// Removes the failure notes an earlier attempt left for this mention ([`failed_for_line`]),
/// but `keep` (this attempt's own failure note): once its pipeline runs, a person who resent the
/// delivery, or another replica's copy of it, must not leave "could not start" beside the
/// answer; and a second failed attempt leaves one failure note, not two. One read of the newest notes per
/// answered mention, after the pipeline started, so the placeholder is not delayed. Best effort: a
/// failure note left over is untidy, not wrong.
async fn remove_failures(ask: Ask<'_>, bot: crate::gitlab::ids::UserId, keep: Option<NoteId>) {
    let trigger = ask.trigger;
    let Some(mention) = &trigger.note else {
        return;
    };
    let line = failed_for_line(ask.assistant, mention.id);
    // The newest hundred notes, one request: a failure note is posted shortly before the
    // attempt that answers (another replica's copy, a resend); one buried under a hundred
    // newer notes stays, untidy but not wrong.
    let path = format!(
        "{}/notes",
        crate::gitlab::notes::noteable_path(&trigger.project, trigger.noteable)
    );
    let query = [
        ("order_by", "created_at".to_owned()),
        ("sort", "desc".to_owned()),
        ("per_page", "100".to_owned()),
    ];
    let notes: Vec<crate::gitlab::notes::Note> = match ask.gitlab.get(&path, &query).await {
        Ok(notes) => notes,
        Err(error) => {
            tracing::warn!(%error, "the notes could not be listed to remove an earlier failure note");
            return;
        }
    };
    for note in notes
        .iter()
        .filter(|n| n.author.id == bot && n.body.contains(&line) && Some(n.id) != keep)
    {
        match ask
            .gitlab
            .delete_note(&trigger.project, trigger.noteable, note.id)
            .await
        {
            Ok(()) => tracing::info!(
                note = note.id.0,
                "removed the failure note of an earlier attempt"
            ),
            Err(error) if error.is_not_found() => {}
            Err(error) => {
                tracing::warn!(%error, note = note.id.0, "the failure note of an earlier attempt could not be removed")
            }
        }
    }
}

/// The hidden line of a placeholder whose pipeline is not known to run yet ([`in_pipeline`]).
const PIPELINE_PENDING: &str = "<!-- gitlab-ai-assistant-pipeline: pending -->";

/// True when the mention's claimer handed it over more than a lease ago and still has not
/// confirmed its pipeline (its placeholder still carries [`PIPELINE_PENDING`] and the claim it
/// was posted under) or, for a request to refuse, posted no refusal since: it died between the
/// hand-over and the pipeline or the refusal (a relay replica killed while GitLab was slow to
/// start pipelines or to take notes). The stale hand-over reactions are then deleted,
/// which leaves an expired claim that the next [`claim::claim`] takes over with its placeholder
/// (see [`crate::claim`]), racing like any other caller. Costs two reads, only for a mention
/// someone else holds.
///
/// Not covered: a claimer whose pipeline GitLab created but which died before it linked it,
/// when that pipeline's job has not started (and taken the placeholder over) within the lease:
/// the mention is then answered twice. The default lease of ten minutes makes that a runner
/// backlog longer than ten minutes right after a replica's death.
async fn died_after_hand_over(
    ask: Ask<'_>,
    bot: Option<crate::gitlab::ids::UserId>,
    refusing: bool,
) -> bool {
    let trigger = ask.trigger;
    let bot = match bot {
        Some(bot) => bot,
        None => match ask.gitlab.current_user().await {
            Ok(me) => me.id,
            Err(error) => {
                tracing::warn!(%error, "the bot user could not be read to check for a dead claimer");
                return false;
            }
        },
    };
    let Some(note) = &trigger.note else {
        return false;
    };
    let target = Target {
        project: &trigger.project,
        noteable: trigger.noteable,
        subject: claim::Subject::Note(note.id),
    };
    let awards = match ask
        .gitlab
        .note_awards(&trigger.project, trigger.noteable, note.id)
        .await
    {
        Ok(awards) => awards,
        Err(error) => {
            tracing::warn!(%error, "the note's reactions could not be read to check for a dead claimer");
            return false;
        }
    };
    let Some((claims, handovers)) =
        claim::stale_handover(&awards, ask.assistant, bot, ask.claim, chrono::Utc::now())
    else {
        return false;
    };
    let notes = match ask
        .gitlab
        .notes(
            &trigger.project,
            trigger.noteable,
            crate::gitlab::notes::NoteListOptions::default(),
        )
        .await
    {
        Ok(notes) => notes,
        Err(error) => {
            tracing::warn!(%error, "the notes could not be read to check for a dead claimer");
            return false;
        }
    };
    let stalled = if refusing {
        // A refusal carries no claim line (its wording is the guard's); it is posted right
        // after the hand-over, so one posted since then counts as this mention's, whichever
        // mention of the issue it answers: on a busy issue a dead claimer's refusal may then
        // stay unposted, never posted twice.
        let since = awards
            .iter()
            .filter(|a| handovers.contains(&a.id))
            .map(|a| a.created_at)
            .min()
            .map(|at| at - chrono::TimeDelta::seconds(5));
        let refusal = marker(ask.assistant, NoteRole::Refusal);
        !notes.iter().any(|n| {
            n.author.id == bot
                && n.body.contains(&refusal)
                && since.is_none_or(|since| n.created_at >= since)
        })
    } else {
        notes.iter().any(|n| {
            n.author.id == bot
                && n.body.contains(PIPELINE_PENDING)
                && crate::marker::claim_of(&n.body).is_some_and(|c| claims.contains(&AwardId(c)))
        })
    };
    if !stalled {
        return false;
    }
    tracing::warn!(
        "the mention was handed over more than a lease ago and its pipeline never confirmed; its claimer died: taking it over"
    );
    match claim::withdraw_all(ask.gitlab, target, &handovers).await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "the dead claimer's hand-over could not be removed");
            false
        }
    }
}

/// The note that replaces the placeholder when no pipeline could be started: what happened and
/// how to try again, with our marker so it is never read as a request.
fn failure_body(assistant: Assistant, error: &str) -> String {
    format!(
        "⚠️ **{}** could not start: the relay could not start the pipeline that would answer \
         this ({}). Nothing ran. Comment again, or resend the webhook delivery, to retry.\n\n{}",
        assistant.display_name(),
        error,
        marker(assistant, NoteRole::Result)
    )
}
