//! `entrypoint run`: the whole job for one mention.
//!
//! The phases, each a `tracing` span whose close line carries its duration: **load** the
//! trigger and **decide** (a note that is not for this job exits here, before any API call when
//! the trigger came as a webhook body); read every setting ([`JobSettings`], so a wrong variable
//! stops the job before anything is posted); **guard** (silently ignore bots, politely refuse people
//! without the role, or a note edited since the relay or scan checked it); **claim** the note
//! (the bot's reaction, [`crate::claim`]) unless a relay, scan or ack job already did and passed its
//! placeholder, so a re-sent webhook or a racing scan stops here; post the **placeholder** and
//! hand the claim over (the lease ends: this job answers); prepare the **workspace** and the
//! **context**;
//! run the **assistant** with progress refreshes; **publish** the review, the commits and the
//! result, which replaces the placeholder. Any failure after the placeholder exists replaces it
//! with the error, so nobody is left looking at "working…".
//!
//! The prompt and the context never reach the log; each tool call is one info line.

pub mod changes;
pub mod house;
pub mod outcome;
pub mod prompt;
pub mod settings;
pub mod workspace;

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use tracing::Instrument as _;

pub use settings::{JobSettings, RunOptions};

use crate::ack::command::Handed;
use crate::agent::Assistant;
use crate::agent::events::AssistantEvent;
use crate::agent::run::RunSpec;
use crate::answer::in_job::JobEnd;
use crate::answer::{Acknowledged, Ask, Verdict, acknowledge_verdict};
use crate::audit::{self, Transcript};
use crate::budget::{MonthlyBudget, UsageLine, UsageRecord, ledger};
use crate::claim::{self, ClaimSettings};
use crate::context::{gather, gather_ci, render};
use crate::env::Env;
use crate::gitlab::ids::Noteable;
use crate::gitlab::{ClientConfig, GitLab};
use crate::guard::{self, GuardOutcome};
use crate::publish::placeholder::must_be_internal;
use crate::publish::progress::Progress;
use crate::publish::result::{Conclusion, ResultReport, publish_result};
use crate::publish::review::{publish_review, read_review, review_file_in};
use crate::publish::state::StateFile;
use crate::publish::{JobLink, Placeholder};
use crate::redact::Redactor;
use crate::trigger::Trigger;
use crate::trigger::ci_vars::CiRequest;
use crate::trigger::decision::{BotIdentity, Decision, decide};
use crate::trigger::hook_vars::HookEvent;
use crate::trigger::load::{Entry, detect};
use crate::trigger::resolve::{ResolveError, resolve};

/// Runs the job for the trigger in `vars` (the job's environment).
///
/// `Ok` whenever the job did what it should, including posting a failure in place of the
/// placeholder ([`JobEnd::Failed`]); `Err` when it could not even get that far (a missing
/// variable, GitLab unreachable before the placeholder), with one line saying what to fix.
pub async fn run(
    options: &RunOptions,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<JobEnd> {
    let started = Instant::now();
    let assistant = options.assistant;
    let injected = crate::trigger::flow::with_injected(vars);
    let vars: &dyn Env = &injected;
    // What the acknowledgement job of a webhook pipeline left (`entrypoint ack`).
    let handed = Handed::from_env(vars)?;
    if let Handed::Done { reason } = handed {
        tracing::info!(%reason, "nothing to do for {assistant}");
        return Ok(JobEnd::Skipped { reason });
    }
    let (mut trigger, gitlab, note) = match load(options, vars)
        .instrument(tracing::info_span!("load"))
        .await?
    {
        Loaded::Skip(reason) => {
            tracing::info!(%reason, elapsed_ms = started.elapsed().as_millis() as u64, "nothing to do for {assistant}");
            return Ok(JobEnd::Skipped { reason });
        }
        Loaded::Run(loaded) => *loaded,
    };
    // The ack job claimed the note and posted the placeholder: take it over as a relay's.
    handed.apply(&mut trigger);

    let settings = JobSettings::from_env(vars, assistant)?;
    let claim_settings = ClaimSettings::from_env(vars)?;
    let quota = crate::quota::QuotaSettings::from_env(vars)?;
    let read = match note {
        NoteSource::Event => guard::NoteRead::Again,
        NoteSource::ReadBack { .. } => guard::NoteRead::Done,
    };
    let guarded = guard::check_note(&gitlab, &trigger, &settings.guard, read)
        .instrument(tracing::info_span!("guard"))
        .await
        .context("checking who asked (GitLab API)")?;
    let edited = matches!(note, NoteSource::ReadBack { edited: true });
    let guarded = match (guarded, edited) {
        // The relay or scan checked another body than the one the job just read back.
        (GuardOutcome::Proceed { .. }, true) => {
            GuardOutcome::Refuse(guard::Refusal::EditedAfterTrigger {
                username: author_name(&trigger),
            })
        }
        (GuardOutcome::Proceed { bot, author_level }, false) => {
            match over_limit(&gitlab, &trigger, &settings, &bot)
                .instrument(tracing::info_span!("limits"))
                .await?
            {
                Some(refusal) => GuardOutcome::Refuse(refusal),
                None => GuardOutcome::Proceed { bot, author_level },
            }
        }
        (outcome, _) => outcome,
    };
    let (verdict, bot) = match guarded {
        GuardOutcome::Proceed { bot, .. } => (Verdict::Proceed, Some(bot)),
        GuardOutcome::Ignore(reason) => {
            let reason = reason.message();
            tracing::info!(%reason, "ignoring the request");
            return Ok(JobEnd::Ignored { reason });
        }
        GuardOutcome::Refuse(refusal) => (Verdict::Refuse(refusal), None),
    };

    let job = JobLink::from_env(vars);
    let internal = must_be_internal(&trigger);
    let ask = Ask {
        gitlab: &gitlab,
        trigger: &trigger,
        assistant,
        claim: &claim_settings,
        job: job.as_ref(),
        pipeline: None,
        redactor: &redactor,
    };
    let placeholder = match acknowledge_verdict(ask, verdict)
        .instrument(tracing::info_span!("placeholder"))
        .await
    {
        Acknowledged::Placeholder { placeholder, .. } => placeholder,
        Acknowledged::Refused { note } => return Ok(JobEnd::Refused { note }),
        Acknowledged::Ignored { reason } => return Ok(JobEnd::Ignored { reason }),
        Acknowledged::ClaimedElsewhere => return Ok(already_taken(assistant)),
        Acknowledged::Failed(error) => return Err(error.into()),
    };
    // Only a request the guard let through gets a placeholder.
    let Some(bot) = bot else {
        anyhow::bail!(
            "a refused request was acknowledged with a placeholder; this is a bug, please report it"
        );
    };
    tracing::info!(note = %placeholder.note, elapsed_ms = started.elapsed().as_millis() as u64, "placeholder posted");
    let mut state = StateFile::path_from_env(vars).map(StateFile::create);
    if let Some(state) = state.as_mut()
        && let Err(error) = state.record_placeholder(&placeholder, internal)
    {
        tracing::warn!(%error, "the state file for the after_script could not be written");
    }

    let transcript = Arc::new(Transcript::new());
    let job_run = JobRun {
        transcript: Arc::clone(&transcript),
        options,
        settings: &settings,
        vars,
        gitlab: &gitlab,
        trigger: &trigger,
        bot: &bot,
        placeholder: &placeholder,
        job: job.clone(),
        redactor: Arc::clone(&redactor),
    };
    let mut report = match job_run.work().await {
        Ok(report) => report,
        // A cancelled job posts nothing more: its after_script's `entrypoint finalize` replaces
        // the placeholder with "cancelled" (and GitLab kills the job at the end of the grace
        // period anyway).
        Err(error) if was_cancelled(&error) => {
            tracing::warn!(
                "cancelled; the placeholder is left for `entrypoint finalize` in after_script"
            );
            let mut report = ResultReport::new(
                assistant,
                Conclusion::Failed(outcome::failure_of(&error, assistant)),
            );
            report.duration = Some(started.elapsed());
            let record = usage_record(&trigger, &report, vars);
            audit::leave_trail(&settings.project_dir, &transcript, &record);
            return Err(error);
        }
        Err(error) => {
            tracing::error!(error = %redactor.redact(&format!("{error:#}")), "the run failed");
            let mut report = ResultReport::new(
                assistant,
                Conclusion::Failed(outcome::failure_of(&error, assistant)),
            );
            report.job = job;
            report
        }
    };
    report.duration = Some(started.elapsed());
    // A model-API quota error queues the request for the scheduled scan (crate::quota).
    if let Some(end) = crate::quota::after_run(
        &gitlab,
        &trigger,
        &placeholder,
        &mut report,
        &quota,
        internal,
    )
    .await
    .context("replacing the placeholder with the queued note")?
    {
        if let Some(state) = state.as_mut()
            && let Err(error) = state.mark_finalized(placeholder.note)
        {
            tracing::warn!(%error, "the state file could not be marked finalized");
        }
        audit::leave_trail(
            &settings.project_dir,
            &transcript,
            &usage_record(&trigger, &report, vars),
        );
        return Ok(end);
    }
    let record = usage_record(&trigger, &report, vars);
    report.usage_line = Some(UsageLine::of(&record));
    let published = publish_result(&gitlab, &placeholder, &report, &redactor, internal)
        .instrument(tracing::info_span!("result"))
        .await
        .context("replacing the placeholder with the result")?;
    if let Some(state) = state.as_mut()
        && let Err(error) = state.mark_finalized(placeholder.note)
    {
        tracing::warn!(%error, "the state file could not be marked finalized");
    }
    audit::leave_trail(&settings.project_dir, &transcript, &record);
    Ok(match &report.conclusion {
        Conclusion::Answered { .. } => {
            tracing::info!(note = %published.id, elapsed_ms = started.elapsed().as_millis() as u64, "answered");
            JobEnd::Answered { note: published.id }
        }
        Conclusion::Failed(failure) => JobEnd::Failed {
            note: published.id,
            headline: failure.headline(),
        },
    })
}

/// The refusal of a request over `AI_RATE_LIMIT` or `AI_MONTHLY_BUDGET_USD`, checked against the
/// bot's own answers before anything is posted or the model runs; `None` when no limit is set
/// or the request is within them.
async fn over_limit(
    gitlab: &GitLab,
    trigger: &Trigger,
    settings: &JobSettings,
    bot: &BotIdentity,
) -> anyhow::Result<Option<guard::Refusal>> {
    let limits = &settings.limits;
    if limits.rate.is_none() && limits.monthly.is_none() {
        return Ok(None);
    }
    let now = chrono::Utc::now();
    let mut since = now;
    if let Some(rate) = &limits.rate {
        since = since.min(rate.since(now));
    }
    if limits.monthly.is_some() {
        since = since.min(MonthlyBudget::month_of(now).0);
    }
    let answers = ledger::answers_since(gitlab, &trigger.project, bot.id, since)
        .await
        .context("reading the bot's recent answers for AI_RATE_LIMIT / AI_MONTHLY_BUDGET_USD")?;
    let requester = trigger
        .requester()
        .and_then(|author| author.username.clone());
    let limited = limits
        .monthly
        .and_then(|monthly| monthly.check(&answers, now))
        .or_else(|| {
            limits
                .rate
                .as_ref()
                .and_then(|rate| rate.check(&answers, requester.as_deref(), trigger.noteable, now))
        });
    tracing::info!(
        answers = answers.len(),
        limited = limited.is_some(),
        "checked the request limits"
    );
    Ok(limited.map(|limited| guard::Refusal::Limited {
        username: requester.unwrap_or_else(|| "author".to_owned()),
        why: limited.reason,
        retry_at: limited.retry_at,
    }))
}

/// The usage record of a run that ended with `report`.
fn usage_record(trigger: &Trigger, report: &ResultReport, vars: &dyn Env) -> UsageRecord {
    let (noteable_type, iid) = match trigger.noteable {
        Noteable::Issue(iid) => ("issue", iid.0),
        Noteable::MergeRequest(iid) => ("merge_request", iid.0),
    };
    let mut record = UsageRecord {
        assistant: report.assistant,
        requester: trigger
            .requester()
            .and_then(|author| author.username.clone()),
        project: trigger.project.to_string(),
        noteable_type: Some(noteable_type.to_owned()),
        noteable_iid: Some(iid),
        note_id: trigger.note.as_ref().map(|note| note.id.0),
        model: report.model.clone(),
        input_tokens: None,
        output_tokens: None,
        cost_usd: report.cost_usd,
        outcome: report.run_outcome(),
        duration_seconds: report.duration.map_or(0.0, |d| d.as_secs_f64()),
        job_id: vars.var("CI_JOB_ID").and_then(|id| id.trim().parse().ok()),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    record.set_usage(report.usage);
    record
}

/// Removes untracked files named like the audit artifacts before the changes are committed:
/// an earlier run in the same job (the scan's `job` mode answers several mentions in one
/// checkout) left them, and another issue's transcript must never be pushed to this one's
/// branch; or the model planted them. Tracked files of those names are the project's and stay.
async fn forget_audit_files(workspace: &crate::workspace::Workspace) {
    let changes = match workspace.changes().await {
        Ok(changes) => changes,
        Err(error) => {
            tracing::warn!(%error, "could not list the checkout's changes to leave the audit files out");
            return;
        }
    };
    for change in changes {
        if change.status == "??"
            && [audit::TRANSCRIPT_FILE, audit::USAGE_FILE].contains(&change.path.as_str())
        {
            let path = workspace.dir().join(&change.path);
            // `remove_file` removes a link itself, never what it points to.
            if let Err(error) = std::fs::remove_file(&path) {
                tracing::warn!(%error, path = %path.display(), "could not remove a stale audit file");
            }
        }
    }
}

/// Whether the run ended because the job was cancelled
/// ([`crate::agent::run::RunError::Cancelled`]).
fn was_cancelled(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<crate::agent::run::RunError>(),
            Some(crate::agent::run::RunError::Cancelled)
        )
    })
}

/// The note author's username as the trigger knows it, for a refusal.
fn author_name(trigger: &Trigger) -> String {
    trigger
        .requester()
        .and_then(|author| author.username.clone())
        .unwrap_or_else(|| "author".to_owned())
}

/// The end of a job that found the bot's reaction already on the note.
fn already_taken(assistant: Assistant) -> JobEnd {
    let reason = format!(
        "the mention is already answered or being answered by {assistant} (the bot's :{}: reaction is on the note)",
        claim::emoji(assistant)
    );
    tracing::info!(%reason, "nothing to do");
    JobEnd::Skipped { reason }
}

enum Loaded {
    Skip(String),
    /// The trigger, the client, and where the trigger's note came from.
    Run(Box<(Trigger, GitLab, NoteSource)>),
}

/// Where the trigger's note came from, which decides whether the guard reads it again.
#[derive(Clone, Copy, Debug)]
enum NoteSource {
    /// The event (a webhook body, a flow), or there is no note: the guard reads it back to
    /// find an edit since the event.
    Event,
    /// Read back through the API by [`load_ci`] a moment ago; `edited` when its body differs
    /// from the one the relay or scan checked (`AI_NOTE_SHA256`).
    ReadBack { edited: bool },
}

/// The trigger and the client, or why this job has nothing to do. A webhook body is decided on
/// before the client exists, so a note that is not for us costs no API call.
async fn load(options: &RunOptions, vars: &dyn Env) -> anyhow::Result<Loaded> {
    let only = Some(options.assistant);
    let trigger = match detect(vars, &options.handles)? {
        Entry::NotAComment { reason } => return Ok(Loaded::Skip(reason)),
        Entry::Webhook {
            trigger: Err(refused),
            ..
        } => return Ok(Loaded::Skip(refused.to_string())),
        Entry::Webhook {
            trigger: Ok(trigger),
            ..
        }
        | Entry::Flow(trigger) => {
            if let Decision::Skip { message, .. } = decide(&trigger, None, only) {
                return Ok(Loaded::Skip(message));
            }
            trigger
        }
        Entry::Ci(request) => return load_ci(&request, options, vars).await,
        Entry::Event { change, .. } => return load_event(&change, options, vars).await,
        Entry::EventVars(request) => {
            let gitlab = client(vars)?;
            let bot = crate::trigger::decision::BotIdentity::current(&gitlab)
                .await
                .context("reading the bot user behind GITLAB_TOKEN")?;
            let label = crate::trigger::event::label_from_env(vars);
            let confirmed = crate::trigger::event_vars::confirm(
                &gitlab,
                &request,
                options.assistant,
                &options.handles,
                &bot,
                label.as_deref(),
            )
            .await
            .context("reading the issue or merge request back (GitLab API)")?;
            return Ok(match confirmed {
                Ok(trigger) => Loaded::Run(Box::new((trigger, gitlab, NoteSource::Event))),
                Err(reason) => Loaded::Skip(reason),
            });
        }
        // Decided before the client exists: an edit or a commit comment costs no API call.
        Entry::Hook(HookEvent::Ignored(reason)) => return Ok(Loaded::Skip(reason)),
        Entry::Hook(HookEvent::Comment {
            project,
            noteable,
            note,
        }) => {
            let request = CiRequest::for_note(project, options.assistant, noteable, note);
            return load_ci(&request, options, vars).await;
        }
    };
    Ok(Loaded::Run(Box::new((
        trigger,
        client(vars)?,
        NoteSource::Event,
    ))))
}

/// An Issue Hook or Merge Request Hook: whether it asks this job's assistant for something
/// depends on who the bot user is (an assignment counts only for the bot), so it is decided
/// after one `GET /user`.
async fn load_event(
    change: &crate::trigger::event::HookChange,
    options: &RunOptions,
    vars: &dyn Env,
) -> anyhow::Result<Loaded> {
    use crate::trigger::event::{self, Rules, Verdict};
    let gitlab = client(vars)?;
    let bot = crate::trigger::decision::BotIdentity::current(&gitlab)
        .await
        .context("reading the bot user behind GITLAB_TOKEN")?;
    let label = event::label_from_env(vars);
    let rules = Rules {
        assistant: options.assistant,
        bot: &bot,
        label: label.as_deref(),
        handles: &options.handles,
    };
    match change.verdict(rules) {
        Verdict::Ignore(reason) => Ok(Loaded::Skip(reason)),
        Verdict::Answer(found) => {
            tracing::info!(noteable = %change.noteable.reference(), actor = ?found.actor.username, event = %found.kind.describe(), "a request without a comment");
            let kind = found.kind.clone();
            let trigger = event::into_trigger(change, found, options.assistant, &options.handles);
            let holds = crate::trigger::event_vars::still_holds(
                &gitlab,
                &trigger,
                &kind,
                &bot,
                &options.handles,
            )
            .await
            .context("reading the issue or merge request back (GitLab API)")?;
            if !holds {
                return Ok(Loaded::Skip(format!(
                    "{} {} no longer holds on {} (changed again before this job started)",
                    change.actor.username.as_deref().unwrap_or("someone"),
                    kind.describe(),
                    change.noteable.reference()
                )));
            }
            Ok(Loaded::Run(Box::new((trigger, gitlab, NoteSource::Event))))
        }
    }
}

/// A note named by variables (the relay's, the scan's or our webhook template's): read back
/// through the API, then decided for this job's assistant.
async fn load_ci(
    request: &CiRequest,
    options: &RunOptions,
    vars: &dyn Env,
) -> anyhow::Result<Loaded> {
    let only = Some(options.assistant);
    let gitlab = client(vars)?;
    // A note deleted between the event and the job is nothing to do (exit 0, as for the
    // guard's own check); any other failure, a missing project included, fails the job.
    let trigger = match resolve(request, &gitlab, &options.handles).await {
        Ok(trigger) => trigger,
        Err(ResolveError::NoteNotFound { .. }) => {
            return Ok(Loaded::Skip(guard::IgnoreReason::NoteGone.message()));
        }
        Err(error) => return Err(error.into()),
    };
    let edited = match (&request.checked_body, &trigger.note) {
        (Some(digest), Some(note)) => crate::guard::edit::differs_from_checked(&note.body, digest),
        _ => false,
    };
    // An edited note is refused whatever it now says, even when it no longer mentions us.
    if !edited && let Decision::Skip { message, .. } = decide(&trigger, None, only) {
        return Ok(Loaded::Skip(message));
    }
    Ok(Loaded::Run(Box::new((
        trigger,
        gitlab,
        NoteSource::ReadBack { edited },
    ))))
}

fn client(vars: &dyn Env) -> anyhow::Result<GitLab> {
    Ok(GitLab::new(ClientConfig::from_env(vars)?)?)
}

/// The part of the job after the placeholder: any error here ends up in the placeholder.
struct JobRun<'a> {
    transcript: Arc<Transcript>,
    options: &'a RunOptions,
    settings: &'a JobSettings,
    vars: &'a dyn Env,
    gitlab: &'a GitLab,
    trigger: &'a Trigger,
    bot: &'a BotIdentity,
    placeholder: &'a Placeholder,
    job: Option<JobLink>,
    redactor: Arc<Redactor>,
}

impl JobRun<'_> {
    async fn work(&self) -> anyhow::Result<ResultReport> {
        let assistant = self.options.assistant;
        let vars = self.vars;
        let trigger = self.trigger;

        let budget = &self.settings.budget;
        let (context, rendered) = async {
            let mut context = gather(self.gitlab, trigger)
                .await
                .context("reading the issue or merge request and its comments")?;
            let ci = gather_ci(
                self.gitlab,
                &trigger.project,
                &context,
                budget,
                &self.redactor,
            )
            .await;
            tracing::info!(
                api_calls = ci.api_calls,
                items = ci.items.len(),
                logs_shown = ci.logs_shown(),
                "CI results read"
            );
            context.ci = Some(ci);
            let rendered = render(&context, budget);
            tracing::info!(
                api_calls = context.api_calls,
                bytes = rendered.text.len(),
                notes_shown = rendered.notes_shown,
                notes_omitted = rendered.notes_omitted,
                files_with_diff = rendered.files_with_diff,
                files_listed_only = rendered.files_listed_only,
                "context gathered"
            );
            anyhow::Ok((context, rendered))
        }
        .instrument(tracing::info_span!("context"))
        .await?;

        let (workspace, target) = workspace::prepare(
            self.settings,
            vars,
            self.gitlab,
            &trigger.project,
            workspace::Subject::of(&context)?,
            self.bot,
        )
        .instrument(tracing::info_span!("workspace"))
        .await?;

        let house = async {
            let value = vars.var(house::VARIABLE);
            if value.as_deref().and_then(house::classify).is_none() {
                return anyhow::Ok(None);
            }
            let branch = workspace::default_branch(vars, self.gitlab, &trigger.project).await?;
            Ok(house::read(self.gitlab, &trigger.project, &branch, value.as_deref()).await?)
        }
        .instrument(tracing::info_span!("house_instructions"))
        .await?;
        let mcp_file = house::mcp_config_from_file_variable(vars, self.gitlab, &trigger.project)
            .instrument(tracing::info_span!("mcp_configuration"))
            .await?;

        let sandbox_uid = self.settings.sandbox.settings.uid;
        let review_dir = ReviewDir::create(workspace.dir(), assistant, sandbox_uid)?;
        let review_file = review_file_in(review_dir.path());
        let images_dir = scratch_dir(workspace.dir(), "ai-images", assistant);
        let _images_cleanup = RemoveOnDrop(images_dir.clone());
        let project_id = match &trigger.project {
            crate::gitlab::ids::ProjectRef::Id(id) => Some(id.0),
            _ => vars
                .var("CI_PROJECT_ID")
                .and_then(|v| v.trim().parse().ok()),
        };
        let images = crate::context::images::fetch(
            self.gitlab,
            &trigger.project,
            project_id,
            &context,
            &images_dir,
        )
        .instrument(tracing::info_span!("images"))
        .await
        .with_context(|| format!("saving the request's images in {}", images_dir.display()))?;
        if !images.attachments.is_empty() {
            tracing::info!(
                attachments = images.attachments.len(),
                images = images.paths().len(),
                "attachments read"
            );
        }
        let is_merge_request = matches!(trigger.noteable, Noteable::MergeRequest(_));
        let review_rules = match &context.merge_request {
            Some(mr) => {
                crate::publish::review::review_rules(
                    self.gitlab,
                    &trigger.project,
                    &mr.read.target_branch,
                )
                .await
            }
            None => None,
        };
        let prompt = prompt::build(prompt::PromptParts {
            instruction: &trigger.instruction,
            context: &rendered.text,
            review_file: is_merge_request.then_some(review_file.as_path()),
            house: house.as_deref(),
            review_rules: review_rules.as_deref(),
        }) + &target.configuration_note()
            + &images.prompt_section();

        let mut spec = RunSpec {
            prompt,
            ..self.settings.spec.clone()
        };
        spec.options.images = images.paths().into_iter().map(Into::into).collect();
        if let Some(mcp) = mcp_file {
            spec.options.mcp = mcp;
        }
        let progress = self.settings.progress.map(|settings| {
            Progress::start(
                self.gitlab.clone(),
                self.placeholder.clone(),
                self.job.clone(),
                Arc::clone(&self.redactor),
                settings,
            )
        });
        let redactor = Arc::clone(&self.redactor);
        let transcript = Arc::clone(&self.transcript);
        let run = crate::agent::run::run(&spec, &self.settings.sandbox, |event| {
            log_event(event, &redactor);
            transcript.record(event, &redactor);
            if let Some(progress) = &progress {
                progress.record(event);
            }
        })
        .instrument(tracing::info_span!("assistant", %assistant))
        .await;
        if let Some(progress) = progress {
            progress.stop().await;
        }
        let run = run.with_context(|| format!("running {}", spec.program.display()))?;
        for name in &run.refused_passthrough {
            tracing::warn!(%name, "AI_ENV_PASSTHROUGH names a credential or CI variable; it was not passed on");
        }

        forget_audit_files(&workspace).await;
        self.transcript
            .record_codex_stop(assistant, &run.outcome, &self.redactor);
        let mut report = ResultReport::from_run(assistant, &run);
        report.job = self.job.clone();
        if let Some(stop) = report.stopped.as_mut() {
            tracing::warn!(limit = stop.limit.variable(), max = %stop.max, "the run stopped at its limit; publishing what it did");
            match workspace.changes().await {
                Ok(changes) => stop.files = changes.into_iter().map(|c| c.path).collect(),
                Err(error) => {
                    tracing::warn!(%error, "could not list the files the stopped run changed")
                }
            }
        }
        let Conclusion::Answered { text } = &report.conclusion else {
            return Ok(report);
        };
        let mut answer = text.clone();

        async {
            if let Noteable::MergeRequest(iid) = trigger.noteable
                && review_file.exists()
            {
                written_by(&review_file, sandbox_uid)?;
                let review = read_review(&review_file)?;
                let published = publish_review(
                    self.gitlab,
                    &trigger.project,
                    iid,
                    assistant,
                    &review,
                    &self.redactor,
                )
                .await
                .context("posting the review")?;
                tracing::info!(
                    inline = published.inline,
                    repeated = published.repeated,
                    unplaced = published.unplaced.len(),
                    "review posted"
                );
                answer = published.answer();
            }
            let host = server_host(vars);
            let project_web_url = context.web_url.split("/-/").next();
            let published = changes::publish(
                &workspace,
                &target,
                self.gitlab,
                changes::Request {
                    assistant,
                    project: &trigger.project,
                    project_web_url,
                    title: &context.title,
                    instruction: &trigger.instruction,
                    summary: &answer,
                    requester: trigger.requester(),
                    host: host.as_deref(),
                },
                &self.redactor,
            )
            .await?;
            report.merge_request = published.merge_request;
            report.branch = published.branch;
            report.appendix = published.appendix;
            anyhow::Ok(())
        }
        .instrument(tracing::info_span!("publish"))
        .await?;
        report.conclusion = Conclusion::Answered { text: answer };
        Ok(report)
    }
}

/// Where the assistant hands a review over: `<CI_PROJECT_DIR>.tmp/ai-review-<assistant>/`,
/// beside the checkout (never committed, never part of the project) in the directory GitLab
/// Runner already keeps for the job's temporary files (`Build.TmpProjectDir()` in
/// gitlab-runner's `common/build.go`: the build directory plus `.tmp`, where file-type
/// variables are written); removed when the run is over.
pub(crate) struct ReviewDir(std::path::PathBuf);

impl ReviewDir {
    /// The directory, empty, and the sandbox uid's (the CLI runs as it and writes the review
    /// there); its parent, the runner's `<checkout>.tmp` holding file-type CI/CD variables, is
    /// not lent.
    pub(crate) fn create(
        checkout: &std::path::Path,
        assistant: crate::agent::Assistant,
        uid: crate::sandbox::SandboxUid,
    ) -> anyhow::Result<Self> {
        let mut base = checkout.as_os_str().to_owned();
        base.push(".tmp");
        let dir = std::path::PathBuf::from(base).join(format!("ai-review-{}", assistant.name()));
        // A review left by an earlier run in the same directory must not be published again.
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(error).with_context(|| format!("clearing {}", dir.display()));
            }
        }
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating {} for the review file", dir.display()))?;
        std::os::unix::fs::chown(&dir, Some(uid.get()), Some(uid.get()))
            .with_context(|| format!("lending {} to the assistant's uid", dir.display()))?;
        Ok(Self(dir))
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for ReviewDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `<checkout>.tmp/<name>-<assistant>`: beside the checkout, in the runner's directory for the
/// job's temporary files (see [`ReviewDir`]), never part of the project.
fn scratch_dir(
    checkout: &std::path::Path,
    name: &str,
    assistant: crate::agent::Assistant,
) -> std::path::PathBuf {
    let mut base = checkout.as_os_str().to_owned();
    base.push(".tmp");
    std::path::PathBuf::from(base).join(format!("{name}-{}", assistant.name()))
}

/// Removes a directory when the run is over, however it ends.
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Refuses a review file that is not a regular file owned by the sandbox uid: the model could
/// leave a symbolic link (or, where the kernel allows it, a hard link) to a file only the
/// entrypoint may read, such as a file-type CI/CD variable in `<checkout>.tmp`, for the
/// entrypoint to read and post. Checked after every process of the uid is gone, so it cannot
/// be swapped afterwards.
pub(crate) fn written_by(
    path: &std::path::Path,
    uid: crate::sandbox::SandboxUid,
) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("reading the review file {}", path.display()))?;
    if !meta.file_type().is_file() || meta.uid() != uid.get() || meta.nlink() != 1 {
        anyhow::bail!(
            "the review file {} is not a plain file the assistant wrote (a link to another file?), so it was not read",
            path.display()
        );
    }
    Ok(())
}

/// `CI_SERVER_HOST`, else the host of `CI_SERVER_URL`.
fn server_host(vars: &dyn Env) -> Option<String> {
    vars.var("CI_SERVER_HOST")
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| {
            let url = url::Url::parse(vars.var("CI_SERVER_URL")?.trim()).ok()?;
            url.host_str().map(str::to_owned)
        })
}

/// One info line per tool call; the model's text stays out of the log.
pub(crate) fn log_event(event: &AssistantEvent, redactor: &Redactor) {
    match event {
        AssistantEvent::ToolCall { name, summary } => {
            tracing::info!(tool = %name, "{}", redactor.redact(summary))
        }
        AssistantEvent::Failed { message } => {
            tracing::warn!(message = %redactor.redact(message), "the assistant reported a failure")
        }
        AssistantEvent::Finished {
            usage, cost_usd, ..
        } => {
            tracing::info!(?usage, ?cost_usd, "the assistant finished")
        }
        AssistantEvent::Stopped {
            limit,
            usage,
            cost_usd,
        } => {
            tracing::warn!(
                limit = limit.variable(),
                ?usage,
                ?cost_usd,
                "the assistant reached its limit"
            )
        }
        AssistantEvent::Structured { .. } => {
            tracing::info!("the assistant gave its structured result")
        }
        AssistantEvent::Message { .. } => {}
    }
}
