//! `entrypoint setup`: what a Maintainer runs once so that `@claude` / `@codex` comments start
//! CI jobs in their project.
//!
//! It looks at what the project already has, prints the plan of what is missing, and applies it
//! only after confirmation. Every object is found again by name, description or URL, so a
//! second run finds nothing to do and changes nothing. Secrets (the admin token, the bot token,
//! the model key, the trigger token, the webhook secret) live in [`Secret`] and only travel in
//! the one request that stores each of them.
//!
//! Modes: `webhook` (a Comments webhook calls the project's own pipeline trigger URL), `relay`
//! (a Comments webhook calls a relay service), `scan` (a pipeline schedule polls for mentions).

pub mod apply;
pub mod ci_include;
pub mod masking;
pub mod plan;

use crate::agent::{Assistant, Handles};
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;
use crate::secret::Secret;

pub use crate::contract::{BOT_TOKEN_VARIABLE, model_key_variable};
pub use crate::ui::{Terminal, Ui};
pub use ci_include::TemplateSource;
pub use plan::{Plan, Step};

/// How comments reach the pipeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A Comments webhook posts to the project's trigger URL; no service to run.
    Webhook,
    /// A webhook (comments, issues and merge requests) posts to a relay, which filters and
    /// triggers.
    Relay {
        /// Where the relay listens.
        url: url::Url,
        /// The secret the relay expects in `X-Gitlab-Token`.
        secret: Secret,
    },
    /// A schedule runs a scan every few minutes.
    Scan,
}

impl Mode {
    /// The mode's name as on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Webhook => "webhook",
            Mode::Relay { .. } => "relay",
            Mode::Scan => "scan",
        }
    }
}

/// Everything setup needs besides the admin client.
#[derive(Clone, Debug)]
pub struct Options {
    /// The project to set up.
    pub project: ProjectRef,
    /// Which assistant.
    pub assistant: Assistant,
    /// How comments reach pipelines.
    pub mode: Mode,
    /// A token for the bot to reuse instead of creating a project access token (a bot user's
    /// personal access token where project access tokens are unavailable).
    pub bot_token: Option<Secret>,
    /// The model API key; asked for without echo when `None` and needed.
    pub model_key: Option<Secret>,
    /// Apply without asking.
    pub yes: bool,
    /// Open a merge request with the `include:` block (else print it).
    pub merge_request: bool,
    /// Where the CI template comes from.
    pub template: TemplateSource,
    /// The handles users write (for the first-comment line).
    pub handles: Handles,
}

/// What a run ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything was there already.
    NothingToDo,
    /// The plan was applied.
    Applied,
    /// The person said no.
    Declined,
}

/// Plans, confirms and applies. `gitlab` must carry a token of a Maintainer (or Owner).
pub async fn run(gitlab: &GitLab, options: &Options, ui: &mut dyn Ui) -> anyhow::Result<Outcome> {
    let plan = plan::plan(gitlab, options).await?;
    for line in plan.describe(options) {
        ui.say(&line);
    }
    let first_comment = format!(
        "Then post this as a first comment on an issue: @{} hello — can you see this issue?",
        options.handles.handle(options.assistant).as_str()
    );
    if plan.steps.is_empty() {
        ui.say(&format!(
            "Nothing to do: {} is already set up for {} in {} mode.",
            plan.project.path_with_namespace,
            options.assistant,
            options.mode.name()
        ));
        doctor(gitlab, options, &plan, ui).await;
        ui.say(&first_comment);
        return Ok(Outcome::NothingToDo);
    }
    if !options.yes && !ui.confirm("Apply this plan?")? {
        ui.say("Nothing was changed.");
        return Ok(Outcome::Declined);
    }
    apply::apply(gitlab, options, &plan, ui).await?;
    ui.say("Done.");
    doctor(gitlab, options, &plan, ui).await;
    ui.say(&first_comment);
    Ok(Outcome::Applied)
}

/// Runs `entrypoint doctor` on the result, with setup's token, and prints its findings: what
/// is left to do (merging the include, say) is then said in the same words doctor uses.
async fn doctor(gitlab: &GitLab, options: &Options, plan: &Plan, ui: &mut dyn Ui) {
    let no_env = |_: &str| None;
    let inputs = crate::doctor::Inputs {
        project: ProjectRef::Id(plan.project.id),
        place: crate::doctor::Place::Local,
        assistants: vec![options.assistant],
        template: options.template.clone(),
        registry: None,
        image: None,
        capabilities: None,
        env: &no_env,
    };
    let report = crate::doctor::run(Some(gitlab), &inputs).await;
    ui.say("Doctor:");
    for line in report.lines() {
        ui.say(&format!("  {line}"));
    }
    ui.say(&crate::doctor::summary(&report));
}
