//! `entrypoint doctor`: checks that a project is set up so that `@claude` / `@codex` comments
//! get answered, and says for each thing it checks what it found and how to fix it.
//!
//! It runs in a CI job (reading the `CI_*` variables, with the bot's `GITLAB_TOKEN`) or locally
//! (`--project`, `--gitlab-url`, a token from `GITLAB_TOKEN` or stdin). With the bot's own
//! token it checks that token directly; with a Maintainer's token it also reads what only
//! Maintainers may see (CI/CD variables, webhooks, trigger tokens, schedules, the project's
//! access tokens). Checks a token may not run are a warning locally and left out in a job,
//! where the bot is a Developer by design. `entrypoint setup` ends by running it.
//!
//! Every check is read-only, and no finding ever carries a secret: webhook URLs are shown
//! without their query (which holds the trigger token) and variables by name only.

pub mod bot;
pub mod ci_include;
pub mod gitlab_version;
pub mod image;
pub mod net_admin;
pub mod registry;
pub mod report;
pub mod spending;
pub mod token;
pub mod trigger_mode;
pub mod variables;

use reqwest::StatusCode;
use url::Url;

pub use report::{Check, Finding, Report, Status};

use crate::env::Env;

/// `doctor: 9 ok, 1 warning(s), 0 failed`.
pub fn summary(report: &Report) -> String {
    format!(
        "doctor: {} ok, {} warning(s), {} failed",
        report.count(Status::Ok),
        report.count(Status::Warn),
        report.count(Status::Fail)
    )
}

use crate::agent::Assistant;
use crate::contract::TemplateSource;
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::projects::Project;
use crate::gitlab::users::CurrentUser;
use crate::gitlab::{GitLab, GitLabError};
use crate::sandbox::capability::Capabilities;

/// Where doctor runs, which decides what it can see and whose token it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In a CI job: the environment is the job's, the token the bot's.
    Job,
    /// On someone's machine, usually with a Maintainer's token.
    Local,
}

/// What doctor checks, besides the client it calls GitLab with.
pub struct Inputs<'a> {
    /// The project.
    pub project: ProjectRef,
    /// Job or local.
    pub place: Place,
    /// The assistants to check; empty means those the project appears set up for.
    pub assistants: Vec<Assistant>,
    /// Where the CI templates come from (for the fix that adds the `include:`).
    pub template: TemplateSource,
    /// The registry to probe, when given explicitly.
    pub registry: Option<Url>,
    /// The image to check (`--image`); in a job `CI_JOB_IMAGE` when `None`.
    pub image: Option<String>,
    /// The job's effective capabilities (`None` locally, or when they could not be read).
    pub capabilities: Option<Capabilities>,
    /// The environment (a job's variables).
    pub env: &'a dyn Env,
}

impl Inputs<'_> {
    /// A non-empty variable of the environment.
    pub fn var(&self, name: &str) -> Option<String> {
        self.env.set(name)
    }
}

/// Runs every check; `gitlab` is `None` when there is no token (a job without
/// `GITLAB_TOKEN`), and then only the checks that need no API call run. Never fails: whatever
/// goes wrong becomes a finding.
pub async fn run(gitlab: Option<&GitLab>, inputs: &Inputs<'_>) -> Report {
    let mut report = Report::default();
    let caller = match gitlab {
        Some(gitlab) => token::check(gitlab, inputs.place, &mut report).await,
        None => None,
    };
    if let (Some(gitlab), Some(_)) = (gitlab, &caller) {
        gitlab_version::check(gitlab, &mut report).await;
    }
    let project = match (gitlab, &caller) {
        (Some(gitlab), Some(_)) => match gitlab.project(&inputs.project).await {
            Ok(project) => Some(project),
            Err(e) => {
                report.push(Finding::fail(
                    Check::Project,
                    format!("cannot read project {}: {e}", inputs.project),
                    "check --project (or CI_PROJECT_ID), and that the token's user is a member of the project",
                ));
                None
            }
        },
        _ => None,
    };
    let api = match (gitlab, caller, project) {
        (Some(gitlab), Some(caller), Some(project)) => Some(Reachable {
            view: ProjectView::read(gitlab, &project).await,
            gitlab,
            caller,
            project,
        }),
        _ => None,
    };
    let view = api.as_ref().map(|a| &a.view);
    let assistants = assistants(inputs, view, &mut report);
    if let Some(a) = &api {
        bot::check(a.gitlab, &a.project, &a.caller, inputs.place, &mut report).await;
        if inputs.place == Place::Job || a.caller.bot {
            let project = ProjectRef::Id(a.project.id);
            spending::check(a.gitlab, &project, a.caller.id, inputs, &mut report).await;
        }
    }
    variables::check(inputs, &assistants, view, &mut report);
    if let Some(a) = &api {
        trigger_mode::check(a.gitlab, &a.project, inputs.place, &mut report).await;
        ci_include::check(
            a.gitlab,
            &a.project,
            &a.view,
            inputs,
            &assistants,
            &mut report,
        )
        .await;
    }
    net_admin::check(inputs, &assistants, &mut report);
    registry::check(inputs, api.as_ref().map(|a| &a.project), &mut report).await;
    image::check(inputs, &mut report).await;
    report
}

/// A project GitLab let doctor read, with who is asking.
struct Reachable<'g> {
    gitlab: &'g GitLab,
    caller: CurrentUser,
    project: Project,
    view: ProjectView,
}

/// What several checks read once: the CI file on the default branch and the CI/CD variables.
pub struct ProjectView {
    /// `.gitlab-ci.yml` on the default branch: `Ok(None)` when it does not exist.
    pub ci_file: Result<Option<String>, String>,
    /// The project's CI/CD variables, or why they could not be listed.
    pub variables: Result<Vec<crate::gitlab::variables::ProjectVariable>, GitLabError>,
}

impl ProjectView {
    async fn read(gitlab: &GitLab, project: &Project) -> Self {
        let pref = ProjectRef::Id(project.id);
        let ci_file = match &project.default_branch {
            None => Ok(None),
            Some(branch) => match gitlab.file_text(&pref, ".gitlab-ci.yml", branch).await {
                Ok(None) => Ok(None),
                Ok(Some(Ok(text))) => Ok(Some(text)),
                Ok(Some(Err(e))) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            },
        };
        let variables = gitlab.project_variables(&pref).await;
        Self { ci_file, variables }
    }
}

/// The assistants to check: those asked for, else those whose key variable or template
/// include the project has.
fn assistants(
    inputs: &Inputs<'_>,
    seen: Option<&ProjectView>,
    report: &mut Report,
) -> Vec<Assistant> {
    if !inputs.assistants.is_empty() {
        return inputs.assistants.clone();
    }
    let found: Vec<Assistant> = Assistant::ALL
        .into_iter()
        .filter(|&assistant| {
            let keys = crate::agent::settings::model_key_variables(assistant);
            let in_env = inputs.place == Place::Job && keys.iter().any(|k| inputs.var(k).is_some());
            let listed = seen.is_some_and(|s| {
                s.variables
                    .as_ref()
                    .is_ok_and(|vars| vars.iter().any(|v| keys.contains(&v.key.as_str())))
            });
            let included = seen.is_some_and(|s| {
                s.ci_file.as_ref().is_ok_and(|f| {
                    f.as_deref()
                        .is_some_and(|t| ci_include::includes(t, assistant))
                })
            });
            in_env || listed || included
        })
        .collect();
    if found.is_empty() {
        report.push(Finding::fail(
            Check::Assistants,
            "the project is set up for no assistant: no model key variable and no template include",
            "run entrypoint setup --assistant claude (or codex), or pass --assistant to check one",
        ));
    } else {
        let names: Vec<&str> = found.iter().map(|a| a.name()).collect();
        report.push(Finding::ok(
            Check::Assistants,
            format!("checking {}", names.join(" and ")),
        ));
    }
    found
}

/// The finding for a list the token may not read: a warning locally, nothing in a job (where
/// the bot is a Developer and cannot read it by design), a warning for any other error.
pub fn unreadable(check: Check, what: &str, error: &GitLabError, place: Place) -> Option<Finding> {
    let forbidden = matches!(
        error.status(),
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
    );
    match (forbidden, place) {
        (true, Place::Job) => None,
        (true, Place::Local) => Some(Finding::warn(
            check,
            format!(
                "cannot read {what} with this token (GitLab answered {})",
                status_text(error)
            ),
            "run doctor with a Maintainer's token to check this",
        )),
        (false, _) => Some(Finding::warn(
            check,
            format!("could not read {what}: {error}"),
            "run doctor again; if it persists, check GitLab's status",
        )),
    }
}

/// The value of a read, or `None` after pushing [`unreadable`]'s finding (if any) for its error.
pub fn readable<T>(
    result: Result<T, GitLabError>,
    check: Check,
    what: &str,
    place: Place,
    report: &mut Report,
) -> Option<T> {
    match result {
        Ok(value) => Some(value),
        Err(e) => {
            if let Some(finding) = unreadable(check, what, &e, place) {
                report.push(finding);
            }
            None
        }
    }
}

fn status_text(error: &GitLabError) -> String {
    error
        .status()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "an error".to_owned())
}
