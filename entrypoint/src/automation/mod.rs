//! Automation mode: `entrypoint run --prompt-file F` or `AI_PROMPT`, a task without a mention
//! ("every night, check the dependencies and open a merge request"), for pipelines started by a
//! schedule, the API, the web form or another pipeline.
//!
//! There is no note to answer, so no guard, claim or placeholder; everything else is the
//! mention flow's: the assistant runs as the sandbox uid behind the key proxy (it never holds
//! `GITLAB_TOKEN`, `CI_JOB_TOKEN` or the model key), on a checkout of the default branch whose
//! git directory is protected as for any run, held to `AI_MAX_BUDGET_USD` and `AI_MAX_TURNS`,
//! leaving the audit trail. Its changes go to a new branch under the assistant's prefix with a
//! merge request into the default branch; its answer is posted only where `AI_POST_TO` says,
//! through the quick-action neutraliser and the mention and secret redaction. Its result is
//! written for later jobs ([`artifacts`]) and, with `AI_OUTPUT_SCHEMA`, checked against the
//! schema ([`schema`]). Who can set each input: [`task`] and docs/security.md.

pub mod artifacts;
pub mod schema;
pub mod task;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;
use tracing::Instrument as _;

use crate::agent::Assistant;
use crate::agent::events::AssistantEvent;
use crate::agent::run::RunSpec;
use crate::audit::{self, Transcript};
use crate::budget::{MonthlyBudget, RunOutcome, UsageLine, UsageRecord, ledger};
use crate::env::Env;
use crate::gitlab::ids::{Noteable, ProjectId, ProjectRef, UserId};
use crate::gitlab::members::AccessLevel;
use crate::gitlab::merge_requests::NewMergeRequest;
use crate::gitlab::notes::NewNote;
use crate::gitlab::{ClientConfig, GitLab};
use crate::publish::JobLink;
use crate::publish::merge_request::{TITLE_CHARS, patch_block};
use crate::publish::result::{Conclusion, Failure, ResultReport};
use crate::quick_action::Inert;
use crate::redact::Redactor;
use crate::run::{JobSettings, RunOptions, house, log_event, outcome, workspace};
use crate::workspace::{
    CheckoutTarget, CommitIdentity, GitAuth, Person, PushDestination, PushOutcome, Workspace,
};
use artifacts::{OpenedMergeRequest, PostedNote, TaskConclusion, TaskResult};
use schema::OutputSchema;
use task::{PostTo, TaskSettings, TextSource};

/// The largest prompt file read, in bytes: a task, not a manual.
pub(crate) const PROMPT_LIMIT: usize = 256 * 1024;

/// A file the task names cannot be read from the default branch.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TaskFileError {
    #[error(
        "{setting} names the file {path}, which the default branch {branch} does not have: add it there (the file is read from the default branch only)"
    )]
    Missing {
        setting: &'static str,
        path: String,
        branch: String,
    },
    #[error("{setting} names the file {path}, which cannot be read as text: {reason}")]
    Unreadable {
        setting: &'static str,
        path: String,
        reason: String,
    },
    #[error(
        "{setting} names the file {path}, which is {size} bytes, more than the {PROMPT_LIMIT} bytes a task may have; shorten it"
    )]
    TooLarge {
        setting: &'static str,
        path: String,
        size: usize,
    },
}

/// The task may not run: who started it, or the month's spending.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RefusedTask {
    /// `GITLAB_USER_ID` is missing.
    #[error(
        "GITLAB_USER_ID is not set, so who started the task cannot be checked against AI_MIN_ACCESS_LEVEL: run the task in a GitLab CI job"
    )]
    NoRequester,
    /// The person who started the pipeline is not a member.
    #[error(
        "{login} started this task but is not a member of the project; a task needs AI_MIN_ACCESS_LEVEL ({required}), as a mention does: have a member with that role own the schedule or start the pipeline"
    )]
    NotAMember {
        login: String,
        required: AccessLevel,
    },
    /// Their role is too low.
    #[error(
        "{login} started this task with the role {level}, below AI_MIN_ACCESS_LEVEL ({required}) that a task needs, as a mention does: have someone with that role own the schedule or start the pipeline"
    )]
    InsufficientAccess {
        login: String,
        level: AccessLevel,
        required: AccessLevel,
    },
    /// `AI_MONTHLY_BUDGET_USD` is spent.
    #[error("the task did not run: {why}; it may run again after {retry_at} UTC")]
    MonthlyBudget { why: String, retry_at: String },
}

/// How an automation job ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskEnd {
    pub conclusion: TaskConclusion,
    /// For a failed task: what went wrong, in one line.
    pub headline: Option<String>,
}

/// Runs the task the job's variables describe; `prompt_file` is `--prompt-file`.
///
/// `Err` when the task could not start (a setting is wrong, GitLab unreachable, the job was
/// cancelled); a task that ran and failed is `Ok` with [`TaskConclusion::Failure`], its
/// artifacts written and its failure posted where `AI_POST_TO` says.
pub async fn run(
    options: &RunOptions,
    prompt_file: Option<&str>,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> anyhow::Result<TaskEnd> {
    let started = Instant::now();
    let assistant = options.assistant;
    let task = TaskSettings::from_env(vars, prompt_file)?;
    let settings = JobSettings::from_env(vars, assistant)?;
    let gitlab = GitLab::new(ClientConfig::from_env(vars)?)?;
    let project = project_ref(vars)?;
    let job = JobLink::from_env(vars);
    let transcript = Arc::new(Transcript::new());
    tracing::info!(%assistant, "automation task");

    let run = TaskRun {
        options,
        task: &task,
        settings: &settings,
        vars,
        gitlab: &gitlab,
        project: &project,
        transcript: Arc::clone(&transcript),
        redactor: Arc::clone(&redactor),
    };
    let (mut report, done) = match run.work().await {
        Ok((report, done)) => (report, done),
        Err(error) => {
            let cancelled = error.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<crate::agent::run::RunError>(),
                    Some(crate::agent::run::RunError::Cancelled)
                )
            });
            tracing::error!(error = %redactor.redact(&format!("{error:#}")), "the task failed");
            let report =
                ResultReport::new(assistant, Conclusion::Failed(failure_of(&error, assistant)));
            if cancelled {
                let mut result = task_result(&report, &Done::default(), started, vars);
                result.error = Some(format!("{error:#}"));
                let record = usage_record(&report, &task, &project, vars, started);
                leave_artifacts(&settings, &transcript, &result, &record, &redactor);
                return Err(error);
            }
            (report, Done::default())
        }
    };
    report.job = job;
    report.duration = Some(started.elapsed());
    let record = usage_record(&report, &task, &project, vars, started);
    report.usage_line = Some(UsageLine::of(&record));

    let mut result = task_result(&report, &done, started, vars);
    if let PostTo::Noteable(noteable) = task.post_to {
        match post(&gitlab, &project, noteable, &report, &redactor)
            .instrument(tracing::info_span!("post"))
            .await
        {
            Ok(note) => result.note = Some(note),
            Err(error) => {
                tracing::error!(error = %redactor.redact(&format!("{error:#}")), "the answer could not be posted");
                result.conclusion = TaskConclusion::Failure;
                result.error = Some(format!(
                    "the answer could not be posted where AI_POST_TO says: {error:#}"
                ));
            }
        }
    }
    leave_artifacts(&settings, &transcript, &result, &record, &redactor);
    let headline = match (&report.conclusion, &result.error) {
        (Conclusion::Failed(failure), _) => Some(failure.headline()),
        (_, Some(error)) if result.conclusion == TaskConclusion::Failure => Some(error.clone()),
        _ => None,
    };
    tracing::info!(
        conclusion = result.conclusion.as_str(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "task done"
    );
    Ok(TaskEnd {
        conclusion: result.conclusion,
        headline,
    })
}

/// What publishing produced, besides the report.
#[derive(Clone, Debug, Default)]
struct Done {
    structured: Option<Value>,
    branch: Option<String>,
    merge_request: Option<OpenedMergeRequest>,
}

struct TaskRun<'a> {
    options: &'a RunOptions,
    task: &'a TaskSettings,
    settings: &'a JobSettings,
    vars: &'a dyn Env,
    gitlab: &'a GitLab,
    project: &'a ProjectRef,
    transcript: Arc<Transcript>,
    redactor: Arc<Redactor>,
}

impl TaskRun<'_> {
    async fn work(&self) -> anyhow::Result<(ResultReport, Done)> {
        let assistant = self.options.assistant;
        self.may_run()
            .instrument(tracing::info_span!("guard"))
            .await?;
        let default_branch =
            workspace::default_branch(self.vars, self.gitlab, self.project).await?;
        let (prompt, schema, house) = async {
            let prompt = self
                .text(&self.task.prompt, "--prompt-file", &default_branch)
                .await?;
            let schema = match &self.task.schema {
                None => None,
                Some(source) => {
                    let text = self
                        .text(source, task::SCHEMA_VARIABLE, &default_branch)
                        .await?;
                    let origin = match source {
                        TextSource::Text(_) => String::new(),
                        TextSource::File(path) => format!(" (the file {path})"),
                    };
                    Some(OutputSchema::parse(&text, &origin)?)
                }
            };
            let house = house::read(
                self.gitlab,
                self.project,
                &default_branch,
                self.vars.var(house::VARIABLE).as_deref(),
            )
            .await?;
            anyhow::Ok((prompt, schema, house))
        }
        .instrument(tracing::info_span!("task"))
        .await?;

        let title = task_title(self.task.title.as_deref(), &prompt);
        let (workspace, branch) = async {
            let mut workspace = Workspace::open(
                self.settings.project_dir.clone(),
                self.settings.origin.clone(),
                GitAuth::token(&self.settings.token),
                self.settings.workspace.clone(),
            )
            .await
            .context("opening the job's checkout (CI_PROJECT_DIR)")?;
            workspace
                .checkout(CheckoutTarget::Issue {
                    default_branch: default_branch.clone(),
                })
                .await?;
            let run_id = self
                .vars
                .var("CI_JOB_ID")
                .and_then(|id| id.trim().parse().ok())
                .unwrap_or_else(|| chrono::Utc::now().timestamp().unsigned_abs());
            let branch = workspace
                .settings()
                .branch_prefix
                .task_branch(&title, run_id);
            workspace.start_branch(&branch).await?;
            anyhow::Ok((workspace, branch))
        }
        .instrument(tracing::info_span!("workspace"))
        .await?;

        let mut spec = RunSpec {
            prompt: task_prompt(
                assistant,
                &prompt,
                &default_branch,
                house.as_deref(),
                schema.as_ref(),
            ),
            ..self.settings.spec.clone()
        };
        spec.options.output_schema = schema.as_ref().map(|s| s.text().to_owned());
        let structured: Mutex<Option<Value>> = Mutex::new(None);
        let redactor = Arc::clone(&self.redactor);
        let transcript = Arc::clone(&self.transcript);
        let run = crate::agent::run::run(&spec, &self.settings.sandbox, |event| {
            log_event(event, &redactor);
            transcript.record(event, &redactor);
            if let AssistantEvent::Structured { value } = event {
                *structured.lock().unwrap_or_else(PoisonError::into_inner) = Some(value.clone());
            }
        })
        .instrument(tracing::info_span!("assistant", %assistant))
        .await
        .with_context(|| format!("running {}", spec.program.display()))?;
        forget_artifact_files(&workspace).await;
        self.transcript
            .record_codex_stop(assistant, &run.outcome, &self.redactor);
        let mut report = ResultReport::from_run(assistant, &run);
        let mut done = Done::default();
        let Conclusion::Answered { text } = &report.conclusion else {
            return Ok((report, done));
        };
        let text = text.clone();
        if let Some(schema) = &schema
            && report.stopped.is_none()
        {
            let given = structured
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner);
            match schema.check(schema::result_value(given, &text)) {
                Ok(value) => done.structured = Some(value),
                Err(error) => {
                    tracing::error!(%error, "the result was refused; nothing is published");
                    report.conclusion = Conclusion::Failed(Failure::Assistant {
                        message: error.to_string(),
                    });
                    return Ok((report, done));
                }
            }
        }
        if let Some(stop) = report.stopped.as_mut() {
            tracing::warn!(limit = stop.limit.variable(), max = %stop.max, "the task stopped at its limit; publishing what it did");
            if let Ok(changes) = workspace.changes().await {
                stop.files = changes.into_iter().map(|c| c.path).collect();
            }
        }
        let summary = match &done.structured {
            Some(value) => format!(
                "```json\n{}\n```",
                serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
            ),
            None => text,
        };
        self.publish(
            &workspace,
            &branch,
            &default_branch,
            &title,
            &summary,
            &mut report,
            &mut done,
        )
        .instrument(tracing::info_span!("publish"))
        .await?;
        report.conclusion = Conclusion::Answered { text: summary };
        Ok((report, done))
    }

    /// The checks a mention's author passes, for a task: the person who started the pipeline
    /// (`GITLAB_USER_ID`; for a schedule its owner, <https://docs.gitlab.com/ci/variables/predefined_variables/>)
    /// holds `AI_MIN_ACCESS_LEVEL` in the project (members API, inherited membership included,
    /// <https://docs.gitlab.com/api/members/#get-a-member-of-a-group-or-project-including-inherited-and-invited-members>),
    /// and `AI_MONTHLY_BUDGET_USD`, summed from the bot's answers' usage lines, is not spent.
    /// `AI_RATE_LIMIT` counts requests per person and thread, which a task has not.
    async fn may_run(&self) -> anyhow::Result<()> {
        let id: u64 = self
            .vars
            .var("GITLAB_USER_ID")
            .and_then(|id| id.trim().parse().ok())
            .ok_or(RefusedTask::NoRequester)?;
        let login = self
            .vars
            .var("GITLAB_USER_LOGIN")
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| format!("user {id}"));
        let required = self.settings.guard.min_access;
        let member = self
            .gitlab
            .project_member(self.project, UserId(id))
            .await
            .context("reading the role of the user who started the task (GITLAB_USER_ID)")?;
        match member {
            None => return Err(RefusedTask::NotAMember { login, required }.into()),
            Some(member) if member.access_level < required => {
                return Err(RefusedTask::InsufficientAccess {
                    login,
                    level: member.access_level,
                    required,
                }
                .into());
            }
            Some(_) => {}
        }
        if let Some(monthly) = self.settings.limits.monthly {
            let now = chrono::Utc::now();
            let bot = self
                .gitlab
                .current_user()
                .await
                .context("reading the bot user (GET /user with GITLAB_TOKEN)")?;
            let answers = ledger::answers_since(
                self.gitlab,
                self.project,
                bot.id,
                MonthlyBudget::month_of(now).0,
            )
            .await
            .context("reading the bot's recent answers for AI_MONTHLY_BUDGET_USD")?;
            if let Some(limited) = monthly.check(&answers, now) {
                return Err(RefusedTask::MonthlyBudget {
                    why: limited.reason,
                    retry_at: limited.retry_at.format("%Y-%m-%d %H:%M").to_string(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// A text the task names: the variable's own, or a file on the default branch.
    async fn text(
        &self,
        source: &TextSource,
        setting: &'static str,
        default_branch: &str,
    ) -> anyhow::Result<String> {
        let path = match source {
            TextSource::Text(text) => return Ok(text.clone()),
            TextSource::File(path) => path,
        };
        let text = match self
            .gitlab
            .file_text(self.project, path, default_branch)
            .await
            .with_context(|| format!("reading {path} from the default branch ({setting})"))?
        {
            None => {
                return Err(TaskFileError::Missing {
                    setting,
                    path: path.clone(),
                    branch: default_branch.to_owned(),
                }
                .into());
            }
            Some(Err(error)) => {
                return Err(TaskFileError::Unreadable {
                    setting,
                    path: path.clone(),
                    reason: error.reason,
                }
                .into());
            }
            Some(Ok(text)) => text,
        };
        if text.len() > PROMPT_LIMIT {
            return Err(TaskFileError::TooLarge {
                setting,
                path: path.clone(),
                size: text.len(),
            }
            .into());
        }
        Ok(text)
    }

    /// Commits the changes to the task's new branch and opens a merge request into the
    /// default branch; the patch goes into the report when the push is refused.
    #[allow(clippy::too_many_arguments)]
    async fn publish(
        &self,
        workspace: &Workspace,
        branch: &crate::workspace::AssistantBranch,
        default_branch: &str,
        title: &str,
        summary: &str,
        report: &mut ResultReport,
        done: &mut Done,
    ) -> anyhow::Result<()> {
        let assistant = self.options.assistant;
        if !workspace.has_work().await? {
            tracing::info!("the assistant changed no files");
            return Ok(());
        }
        let identity = CommitIdentity {
            author: workspace.settings().author.clone(),
            co_author: requester(self.vars),
        };
        let message = format!(
            "{}\n\nMade by {} in a scheduled or pipeline-started GitLab CI job.",
            title.chars().take(72).collect::<String>(),
            assistant.display_name()
        );
        if let Some(sha) = workspace.commit(&identity, &message).await? {
            tracing::info!(%sha, "committed the assistant's changes");
        }
        match workspace
            .push(&PushDestination::NewBranch(branch.clone()))
            .await?
        {
            PushOutcome::NothingToPush => Ok(()),
            PushOutcome::Pushed { branch, sha } => {
                tracing::info!(%branch, %sha, "pushed");
                let requester = self
                    .vars
                    .var("GITLAB_USER_LOGIN")
                    .map(|login| format!(" Started by @{}.", login.trim()))
                    .unwrap_or_default();
                let job = JobLink::from_env(self.vars)
                    .map(|job| format!(" {}.", job.markdown()))
                    .unwrap_or_default();
                let credit = format!(
                    "<sub>Made by {} for an automation task.{requester}{job}</sub>",
                    assistant.display_name()
                );
                let description = self
                    .redactor
                    .redact(&format!("{}\n\n{credit}", summary.trim()));
                let new = NewMergeRequest {
                    source_branch: branch.clone(),
                    target_branch: default_branch.to_owned(),
                    title: Inert::new(&self.redactor.redact(title)),
                    description: Some(Inert::new(&description)),
                    remove_source_branch: Some(true),
                    ..NewMergeRequest::default()
                };
                let (mr, upsert) = self
                    .gitlab
                    .create_or_update_merge_request(self.project, &new)
                    .await
                    .context("opening the merge request for the pushed branch")?;
                tracing::info!(merge_request = %mr.iid, ?upsert, url = %mr.web_url, "merge request ready");
                report.merge_request = Some(crate::publish::result::Link {
                    label: format!("!{}", mr.iid),
                    url: mr.web_url.clone(),
                });
                done.branch = Some(branch);
                done.merge_request = Some(OpenedMergeRequest {
                    iid: mr.iid.0,
                    web_url: mr.web_url,
                });
                Ok(())
            }
            PushOutcome::Impossible {
                reason,
                detail,
                patch,
            } => {
                tracing::warn!(?reason, detail = %self.redactor.redact(&detail), "the changes could not be pushed; the patch goes into the result");
                report.appendix = Some(patch_block(
                    &patch,
                    "the branch could not be pushed",
                    &self.redactor,
                ));
                Ok(())
            }
        }
    }
}

/// The [`Failure`] of a task that stopped with `error`: the task's own refusals and unusable
/// files in their own words (they name the setting to change), anything else as a mention's
/// run reads it ([`outcome::failure_of`]).
fn failure_of(error: &anyhow::Error, assistant: Assistant) -> Failure {
    let ours = error.chain().any(|cause| {
        cause.is::<RefusedTask>()
            || cause.is::<TaskFileError>()
            || cause.is::<schema::SchemaError>()
            || cause.is::<house::HouseError>()
    });
    if ours {
        return Failure::Assistant {
            message: format!("{error:#}"),
        };
    }
    outcome::failure_of(error, assistant)
}

/// The prompt of a task: what it is, the project's house instructions, how to finish, and
/// the result's schema when there is one.
fn task_prompt(
    assistant: Assistant,
    task: &str,
    default_branch: &str,
    house: Option<&str>,
    schema: Option<&OutputSchema>,
) -> String {
    let mut prompt = format!(
        "You are working in a CI job on a checkout of this GitLab project's default branch ({default_branch}), on a task the project set up to run without a person in the loop: nobody reads your messages while you work, and nobody can answer questions.\n\n## The task\n\n{}\n",
        task.trim()
    );
    if let Some(house) = house.map(str::trim).filter(|h| !h.is_empty()) {
        prompt.push_str(&format!(
            "\n## House instructions\n\nThe project's maintainers ask every run to follow these:\n\n{house}\n"
        ));
    }
    prompt.push_str(
        "\n## Finishing\n\nChange files in the working tree when the task needs changes; the job commits them to a new branch and opens a merge request, so you need not commit, push or open anything yourself. Do not print environment variables or credentials. End with a short summary of what you did and found.\n",
    );
    if let Some(schema) = schema {
        let how = crate::agent::agent(assistant).structured_output_instruction();
        prompt.push_str(&format!(
            "\n## Result\n\nYour final result must be JSON matching this JSON Schema; it is checked, and a result that does not match fails the task. {how}\n\n```json\n{}\n```\n",
            schema.text()
        ));
    }
    prompt
}

/// `AI_TASK_TITLE`, else the prompt's first line, within GitLab's title limit.
fn task_title(title: Option<&str>, prompt: &str) -> String {
    let title = title
        .map(str::to_owned)
        .or_else(|| {
            prompt
                .lines()
                .map(|l| l.trim().trim_start_matches('#').trim())
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "Automation task".to_owned());
    let mut cut: String = title.chars().take(TITLE_CHARS.min(120)).collect();
    if cut.len() < title.len() {
        cut.push('…');
    }
    cut
}

/// The person who started the pipeline (`GITLAB_USER_ID`, `GITLAB_USER_LOGIN`; for a schedule
/// its owner, <https://docs.gitlab.com/ci/variables/predefined_variables/>), credited as
/// co-author with their private commit email.
fn requester(vars: &dyn Env) -> Option<Person> {
    let id: u64 = vars.var("GITLAB_USER_ID")?.trim().parse().ok()?;
    let login = vars.var("GITLAB_USER_LOGIN")?.trim().to_owned();
    let host = vars.var("CI_SERVER_HOST")?.trim().to_owned();
    (!login.is_empty() && !host.is_empty())
        .then(|| Person::gitlab_noreply(&login, id, &login, &host))
}

/// `CI_PROJECT_ID`, else `CI_PROJECT_PATH`.
fn project_ref(vars: &dyn Env) -> anyhow::Result<ProjectRef> {
    if let Some(id) = vars
        .var("CI_PROJECT_ID")
        .and_then(|id| id.trim().parse().ok())
    {
        return Ok(ProjectRef::Id(ProjectId(id)));
    }
    vars.var("CI_PROJECT_PATH")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .map(ProjectRef::Path)
        .context(
            "neither CI_PROJECT_ID nor CI_PROJECT_PATH is set: run the task in a GitLab CI job",
        )
}

/// Posts the report where `AI_POST_TO` says, neutralised ([`Inert`]) and redacted
/// ([`ResultReport::render`]).
async fn post(
    gitlab: &GitLab,
    project: &ProjectRef,
    noteable: Noteable,
    report: &ResultReport,
    redactor: &Redactor,
) -> anyhow::Result<PostedNote> {
    let body = report.render(redactor);
    let note = gitlab
        .create_note(project, noteable, &NewNote::new(&body))
        .await
        .with_context(|| format!("posting the answer on {}", describe(noteable)))?;
    tracing::info!(note = %note.id, "answer posted");
    let (noteable_type, noteable_iid) = match noteable {
        Noteable::Issue(iid) => ("issue", iid.0),
        Noteable::MergeRequest(iid) => ("merge_request", iid.0),
    };
    Ok(PostedNote {
        noteable_type,
        noteable_iid,
        note_id: note.id.0,
    })
}

fn describe(noteable: Noteable) -> String {
    match noteable {
        Noteable::Issue(iid) => format!("issue #{}", iid.0),
        Noteable::MergeRequest(iid) => format!("merge request !{}", iid.0),
    }
}

/// The artifact for later jobs, from the report.
fn task_result(report: &ResultReport, done: &Done, started: Instant, vars: &dyn Env) -> TaskResult {
    let conclusion = match (&report.conclusion, &report.stopped) {
        (Conclusion::Failed(_), _) => TaskConclusion::Failure,
        (Conclusion::Answered { .. }, Some(_)) => TaskConclusion::Stopped,
        (Conclusion::Answered { .. }, None) => TaskConclusion::Success,
    };
    let mut result = TaskResult::new(report.assistant, conclusion, started.elapsed());
    match &report.conclusion {
        Conclusion::Answered { text } => result.answer = Some(text.clone()),
        Conclusion::Failed(failure) => {
            result.error = Some(format!("{} {}", failure.headline(), failure.advice()))
        }
    }
    if let Some(stop) = &report.stopped {
        result.error = Some(format!(
            "stopped at {} ({})",
            stop.limit.variable(),
            stop.max
        ));
    }
    result.structured_output = done.structured.clone();
    result.branch = done.branch.clone();
    result.merge_request = done.merge_request.clone();
    result.model = report.model.clone();
    result.set_usage(report.usage);
    result.cost_usd = report.cost_usd;
    result.job_id = vars.var("CI_JOB_ID").and_then(|id| id.trim().parse().ok());
    result
}

fn usage_record(
    report: &ResultReport,
    task: &TaskSettings,
    project: &ProjectRef,
    vars: &dyn Env,
    started: Instant,
) -> UsageRecord {
    let (noteable_type, noteable_iid) = match task.post_to {
        PostTo::Nowhere => (None, None),
        PostTo::Noteable(Noteable::Issue(iid)) => (Some("issue".to_owned()), Some(iid.0)),
        PostTo::Noteable(Noteable::MergeRequest(iid)) => {
            (Some("merge_request".to_owned()), Some(iid.0))
        }
    };
    let mut record = UsageRecord {
        assistant: report.assistant,
        requester: vars.var("GITLAB_USER_LOGIN").map(|l| l.trim().to_owned()),
        project: project.to_string(),
        noteable_type,
        noteable_iid,
        note_id: None,
        model: report.model.clone(),
        input_tokens: None,
        output_tokens: None,
        cost_usd: report.cost_usd,
        outcome: match (&report.conclusion, &report.stopped) {
            (Conclusion::Answered { .. }, None) => RunOutcome::Answered,
            (Conclusion::Answered { .. }, Some(_)) => RunOutcome::Stopped,
            (Conclusion::Failed(_), _) => RunOutcome::Failed,
        },
        duration_seconds: started.elapsed().as_secs_f64(),
        job_id: vars.var("CI_JOB_ID").and_then(|id| id.trim().parse().ok()),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    record.set_usage(report.usage);
    record
}

/// Writes `ai-result.json`, `ai-result.env`, the transcript and the usage record; a failure is
/// logged (the job's end is decided by the task, not by its artifacts).
fn leave_artifacts(
    settings: &JobSettings,
    transcript: &Transcript,
    result: &TaskResult,
    record: &UsageRecord,
    redactor: &Redactor,
) {
    let dir = &settings.project_dir;
    match result.write(dir, redactor) {
        Ok(paths) => {
            for path in paths {
                tracing::info!(path = %path.display(), "result artifact written");
            }
        }
        Err(error) => tracing::warn!(%error, "the result artifacts could not be written"),
    }
    audit::leave_trail(dir, transcript, record);
}

/// Removes untracked files named like the job's artifacts before anything is committed: the
/// model may have planted them, and they are the job's output, never the project's. Tracked
/// files of those names are the project's and stay.
async fn forget_artifact_files(workspace: &Workspace) {
    let changes = match workspace.changes().await {
        Ok(changes) => changes,
        Err(error) => {
            tracing::warn!(%error, "could not list the checkout's changes to leave the artifact files out");
            return;
        }
    };
    let names = [
        audit::TRANSCRIPT_FILE,
        audit::USAGE_FILE,
        artifacts::RESULT_FILE,
        artifacts::DOTENV_FILE,
    ];
    for change in changes {
        if change.status == "??" && names.contains(&change.path.as_str()) {
            let path = workspace.dir().join(&change.path);
            if let Err(error) = std::fs::remove_file(&path) {
                tracing::warn!(%error, path = %path.display(), "could not remove a stale artifact file");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_is_the_variable_or_the_prompts_first_line() {
        assert_eq!(task_title(Some("Nightly deps"), "# Check"), "Nightly deps");
        assert_eq!(
            task_title(None, "\n## Check the dependencies\nthen open an MR"),
            "Check the dependencies"
        );
        assert_eq!(task_title(None, "  "), "Automation task");
        let long = task_title(None, &"word ".repeat(100));
        assert!(long.chars().count() <= 121 && long.ends_with('…'), "{long}");
    }

    #[test]
    fn the_prompt_carries_the_task_house_rules_and_schema() {
        let schema = OutputSchema::parse(r#"{"type":"object"}"#, "").unwrap();
        let prompt = task_prompt(
            Assistant::Codex,
            "Check the dependencies.",
            "main",
            Some("Answer in French."),
            Some(&schema),
        );
        assert!(prompt.contains("default branch (main)"));
        assert!(prompt.contains("## The task\n\nCheck the dependencies.\n"));
        assert!(prompt.contains("Answer in French."));
        assert!(prompt.contains("```json\n{\"type\":\"object\"}\n```"));
        assert!(prompt.contains("your final message, the JSON alone"));
        let plain = task_prompt(Assistant::Claude, "x", "main", None, None);
        assert!(!plain.contains("## Result") && !plain.contains("House"));
    }
}
