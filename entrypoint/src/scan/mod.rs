//! `entrypoint scan`: answers mentions without any service in front of GitLab, from a
//! scheduled pipeline.
//!
//! GitLab starts no pipeline when someone comments. A pipeline schedule (the project's
//! `AI_SCAN` schedule, `docs/scan.md`) runs this command every few minutes; it finds the notes
//! that mention its assistant since the last scan ([`window`], [`discover`]), skips the ones
//! already handed over or held by a live claim (the bot's reactions, [`crate::claim`]), and
//! hands each new one (or one whose claimer died: its lease expired) over
//! ([`handoff`]): to the run flow in this job ([`Mode::InJob`], the default) or to a pipeline of
//! its own ([`Mode::Pipeline`]). The claim is what makes it exact: a scan that dies half-way
//! leaves handed-over notes (answered or being answered), unclaimed ones (picked up next time)
//! and at most one claim that was never handed over (taken over once its lease expires), never
//! a note answered twice; a claim whose hand-over failed is given back. A mention held by a
//! live claim keeps its to-do pending, so the next scan looks again.
//!
//! When the bot user's username is the assistant's handle, GitLab files a to-do for the bot on
//! every mention, and one `GET /todos` replaces the lists ([`discover::from_todos`]).
//!
//! Every scan prints how many API calls it made; a quiet project costs four (docs/scan.md).

pub mod discover;
pub mod events;
pub mod handoff;
pub(crate) mod retry;
pub mod settings;
pub mod window;

use std::sync::Arc;

use anyhow::Context as _;
use chrono::{DateTime, Utc};

pub use settings::{Mode, ScanSettings};

use crate::agent::{Assistant, Handles};
use crate::claim::{self, ClaimSettings, State, Target};
use crate::env::Env;
use crate::gitlab::ids::{NoteId, ProjectRef};
use crate::gitlab::{ClientConfig, GitLab};
use crate::publish::JobLink;
use crate::redact::Redactor;
use crate::trigger::ci_vars;
use crate::trigger::decision::BotIdentity;
use discover::{Filter, Mention};
use handoff::{Outcome, PipelineHandoff};

/// The scan's fixed choices.
#[derive(Clone, Debug)]
pub struct ScanOptions {
    /// The assistant whose mentions this scan answers (each template's scan job runs one).
    pub assistant: Assistant,
    /// The usernames that summon each assistant.
    pub handles: Handles,
}

/// Where the scan found its mentions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The bot's to-dos: pending ones, and those closed since this time.
    Todos {
        /// The window's start.
        since: DateTime<Utc>,
    },
    /// The issue and merge request lists since this time.
    Lists {
        /// The window's start.
        since: DateTime<Utc>,
    },
}

/// What one scan did.
#[derive(Clone, Debug)]
pub struct ScanReport {
    /// Where the mentions came from.
    pub source: Source,
    /// Each new mention and what became of it, oldest first.
    pub handled: Vec<(NoteId, Outcome)>,
    /// Requests without a note (the bot assigned, its review requested, the trigger label
    /// added, a description mention) and what became of each, oldest first.
    pub events: Vec<(crate::gitlab::ids::Noteable, Outcome)>,
    /// Requests queued by a model-API quota error and retried now ([`crate::quota`]), by
    /// queued note.
    pub retried: Vec<(NoteId, Outcome)>,
    /// Mentions found that the bot had already claimed.
    pub already_claimed: usize,
    /// Requests to GitLab made by the scan itself (in-job runs count their own).
    pub api_calls: u64,
}

impl ScanReport {
    /// Mentions that could not be handed over (the scan job fails so that someone looks).
    pub fn failures(&self) -> usize {
        self.handled
            .iter()
            .map(|(_, o)| o)
            .chain(self.events.iter().map(|(_, o)| o))
            .chain(self.retried.iter().map(|(_, o)| o))
            .filter(|o| o.retry_later())
            .count()
    }

    /// The one line the job log ends with.
    pub fn summary(&self) -> String {
        let source = match self.source {
            Source::Todos { since } => format!(
                "the bot's to-do list (pending, or closed since {})",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            Source::Lists { since } => format!(
                "issues and merge requests updated since {}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        };
        format!(
            "scan: {} new mention(s) and {} assignment(s), review request(s), trigger label(s) or description mention(s) in {source}, {} already claimed, {} failed; {} API call(s); {} queued request(s) retried",
            self.handled.len(),
            self.events.len(),
            self.already_claimed,
            self.failures(),
            self.api_calls,
            self.retried.len()
        )
    }
}

/// Runs one scan with the job's variables `vars`.
pub async fn scan(
    options: &ScanOptions,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<ScanReport> {
    let settings = ScanSettings::from_env(vars)?;
    let claim_settings = ClaimSettings::from_env(vars)?;
    let project = ci_vars::project(vars)?;
    let gitlab = GitLab::new(ClientConfig::from_env(vars)?)?;
    let assistant = options.assistant;
    let bot = BotIdentity::current(&gitlab)
        .await
        .context("reading the bot user behind GITLAB_TOKEN")?;
    let mut filter = Filter {
        assistant,
        handles: &options.handles,
        bot: &bot,
        since: None,
    };
    let todos = match &project {
        ProjectRef::Id(id) if options.handles.handle(assistant).matches(&bot.username) => Some(*id),
        _ => None,
    };
    let todos = match todos {
        Some(id) if todos_file_every_mention(&gitlab).await => Some(id),
        _ => None,
    };
    let window = window::find(
        &gitlab,
        &project,
        vars.var("CI_COMMIT_REF_NAME").as_deref().map(str::trim),
        Utc::now(),
        settings.lookback,
    )
    .await
    .context("reading the last successful scheduled pipeline")?;
    tracing::info!(since = %window.since, last_success = ?window.last_success, "looking for mentions");
    let (source, mentions, not_requests, events) = match todos {
        Some(project_id) => {
            let (mentions, not_requests, events) =
                discover::from_todos(&gitlab, project_id, filter, window.since)
                    .await
                    .context("reading the bot's to-do list")?;
            (
                Source::Todos {
                    since: window.since,
                },
                mentions,
                not_requests,
                events,
            )
        }
        None => {
            filter.since = Some(window.since);
            let mentions = discover::from_lists(&gitlab, &project, filter)
                .await
                .context("listing the issues and merge requests updated since the last scan")?;
            (
                Source::Lists {
                    since: window.since,
                },
                mentions,
                Vec::new(),
                Vec::new(),
            )
        }
    };
    for todo in not_requests {
        mark_done(&gitlab, todo).await;
    }

    let job = JobLink::from_env(vars);
    let pipeline = settings.git_ref.as_deref().map(|git_ref| PipelineHandoff {
        gitlab: &gitlab,
        project: &project,
        assistant,
        handles: &options.handles,
        guard: &settings.guard,
        git_ref,
        job: job.as_ref(),
        redactor: &redactor,
        claim: &claim_settings,
    });
    let mut report = ScanReport {
        source,
        handled: Vec::new(),
        events: Vec::new(),
        retried: Vec::new(),
        already_claimed: 0,
        api_calls: 0,
    };
    for mention in mentions {
        let target = Target {
            project: &project,
            noteable: mention.noteable,
            subject: claim::Subject::Note(mention.note.id),
        };
        let state = claim::state(&gitlab, target, assistant, bot.id, &claim_settings)
            .await
            .context("reading the reactions on a note")?;
        let outcome = if matches!(state, State::HandedOver | State::Held) {
            None
        } else {
            tracing::info!(note = %mention.note.id, noteable = %mention.noteable.reference(), "new mention");
            Some(match (settings.mode, &pipeline) {
                (Mode::Pipeline, Some(handoff)) => handoff.hand_over(&mention).await,
                _ => {
                    handoff::in_job(
                        &handoff::request(&project, assistant, &mention),
                        &options.handles,
                        vars,
                        Arc::clone(&redactor),
                    )
                    .await
                }
            })
        };
        let held = state == State::Held;
        finish(&gitlab, &mention, outcome, held, &mut report).await;
    }
    // The issues and merge requests updated since the queued notes' edge (at or before the
    // window's start): one listing for the label events and the quota retry below.
    let quota = crate::quota::QuotaSettings::from_env(vars)?;
    let updated = crate::recent::updated_since(
        &gitlab,
        &project,
        crate::quota::retry::edge(&quota, window.since),
    )
    .await
    .context("listing the issues and merge requests updated since the last scan")?;
    // The trigger label files no to-do: its additions are read from the resource label events
    // of the items updated in the window, and only when a trigger label is set.
    let labelled = match crate::trigger::event::label_from_env(vars) {
        Some(label) => {
            events::labelled(&gitlab, &project, &updated, &label, &bot, window.since)
                .await
                .context("reading the label events of the issues and merge requests updated since the last scan")?
        }
        None => Vec::new(),
    };
    let events = events
        .into_iter()
        .map(|e| (e.request, Some(e.todo)))
        .chain(labelled.into_iter().map(|request| (request, None)));
    for (request, todo) in events {
        answer_event(
            &gitlab,
            &request,
            todo,
            options,
            bot.id,
            &claim_settings,
            vars,
            &redactor,
            &mut report,
        )
        .await?;
    }
    // Requests a model-API quota error queued, once their retry time has come (crate::quota).
    report.retried = retry::Retrier {
        gitlab: &gitlab,
        project: &project,
        assistant,
        handles: &options.handles,
        bot: bot.id,
        claim: &claim_settings,
        vars,
        redactor: &redactor,
    }
    .retry_due(window.since, &updated)
    .await?;
    report.api_calls = gitlab.requests_sent();
    Ok(report)
}

/// One request without a note, always answered in this job (the scan job runs in the
/// assistant's image in both modes): skipped while the or merge request's own claim for
/// this event is live or handed over, its to-do (a label has none) marked done once dealt with.
#[allow(clippy::too_many_arguments)]
async fn answer_event(
    gitlab: &GitLab,
    request: &crate::trigger::event_vars::EventRequest,
    todo: Option<u64>,
    options: &ScanOptions,
    bot: crate::gitlab::ids::UserId,
    claim_settings: &ClaimSettings,
    vars: &dyn Env,
    redactor: &Arc<Redactor>,
    report: &mut ScanReport,
) -> anyhow::Result<()> {
    let target = Target::event(&request.project, request.noteable, request.at);
    let state = claim::state(gitlab, target, options.assistant, bot, claim_settings)
        .await
        .context("reading the bot's reactions on an issue or merge request")?;
    let outcome = match state {
        State::HandedOver | State::Held => None,
        State::Free | State::Expired => {
            tracing::info!(noteable = %request.noteable.reference(), event = request.requested.name(), "new request without a comment");
            Some(
                events::in_job(
                    request,
                    options.assistant,
                    &options.handles,
                    vars,
                    Arc::clone(redactor),
                )
                .await,
            )
        }
    };
    let retry = state == State::Held || outcome.as_ref().is_some_and(Outcome::retry_later);
    match outcome {
        None => report.already_claimed += 1,
        Some(outcome) => {
            if let Some(error) = outcome.error() {
                tracing::error!(noteable = %request.noteable.reference(), %error, "the request could not be answered; the next scan tries again");
            }
            report.events.push((request.noteable, outcome));
        }
    }
    if let (Some(todo), false) = (todo, retry) {
        mark_done(gitlab, todo).await;
    }
    Ok(())
}

async fn finish(
    gitlab: &GitLab,
    mention: &Mention,
    outcome: Option<Outcome>,
    held: bool,
    report: &mut ScanReport,
) {
    // A live claim may belong to a claimer that dies before handing over: look again next time.
    let retry = held || outcome.as_ref().is_some_and(Outcome::retry_later);
    match outcome {
        None => report.already_claimed += 1,
        Some(outcome) => {
            match outcome.error() {
                Some(error) => {
                    tracing::error!(note = %mention.note.id, %error, "the mention could not be handed over; the next scan tries again")
                }
                None => {
                    tracing::info!(note = %mention.note.id, outcome = ?outcome, "mention handled")
                }
            }
            report.handled.push((mention.note.id, outcome));
        }
    }
    if let (Some(todo), false) = (mention.todo, retry) {
        mark_done(gitlab, todo).await;
    }
}

/// Marks a to-do done; a failure only costs a repeated look next time (the claim still says
/// the note is handled), so it is logged, not fatal.
/// Whether GitLab files a to-do for every mention. Before 17.8 it files none for a user who
/// already has any pending to-do on the issue or merge request (`TodoService#excluded_user_ids`,
/// gitlab-org/gitlab#506387), so one `assigned` to-do, which the scan leaves alone, would hide
/// every later mention there: below 17.8, or when the version cannot be read, the scan reads
/// the lists instead.
async fn todos_file_every_mention(gitlab: &GitLab) -> bool {
    let Some(needed) = crate::gitlab::version::feature("multiple-todos") else {
        return false;
    };
    match gitlab.gitlab_version().await {
        Ok(version) if needed.available_in(version) => true,
        Ok(version) => {
            tracing::info!(%version, "GitLab before {} files one to-do per issue or merge request; reading the lists instead", needed.since);
            false
        }
        Err(error) => {
            tracing::warn!(%error, "cannot read the GitLab version; reading the lists instead of the to-dos");
            false
        }
    }
}

async fn mark_done(gitlab: &GitLab, todo: u64) {
    if let Err(error) = gitlab.mark_todo_done(todo).await {
        tracing::warn!(todo, %error, "the to-do could not be marked done");
    }
}
