//! What `entrypoint run` needs to know besides the trigger: which assistant this job runs, how
//! it is sandboxed, and where its CLI lives.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::agent::run::RunSpec;
use crate::agent::{Assistant, Handles};
use crate::budget::{LimitError, MonthlyBudget, RateLimit};
use crate::context::ContextBudget;
use crate::env::Env;
use crate::guard::GuardSettings;
use crate::publish::progress::ProgressSettings;
use crate::sandbox::{Plan, Settings};
use crate::secret::Secret;
use crate::trigger::{ci_vars, hook_vars};
use crate::workspace::{RemoteUrl, WorkspaceSettings};

/// The job's fixed choices.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The assistant this job runs (each template job runs one; a note mentioning both gets one
    /// job, one placeholder and one branch prefix per assistant).
    pub assistant: Assistant,
    /// The usernames that summon each assistant.
    pub handles: Handles,
}

/// Every setting the job reads from its variables, read before anything is posted: a wrong
/// or missing variable stops the job with one line naming it, not halfway through the run.
#[derive(Clone, Debug)]
pub struct JobSettings {
    pub guard: GuardSettings,
    pub budget: ContextBudget,
    pub workspace: WorkspaceSettings,
    /// `CI_PROJECT_DIR`: the runner's checkout, where the assistant works.
    pub project_dir: PathBuf,
    /// The project's repository, without credentials.
    pub origin: RemoteUrl,
    /// `GITLAB_TOKEN`, for git over HTTPS.
    pub token: Secret,
    /// The assistant run, its prompt still empty.
    pub spec: RunSpec,
    /// How the assistant is isolated: always as the sandbox uid (`AI_SANDBOX_UID`), its network
    /// fenced when `AI_SANDBOX` is on (the default for Codex; the result of an unfenced Codex
    /// run says so). A job that cannot switch uid (not root) or fence (no `CAP_NET_ADMIN`)
    /// fails the run after the placeholder exists, so the thread shows why and the fix.
    pub sandbox: Plan,
    /// How the placeholder shows progress; `None` when a Comments webhook calls the trigger
    /// URL directly (webhook mode): every edit of the placeholder is a Comments event, that is
    /// a trigger call and a pipeline (GitLab 16.11+), so the placeholder links to the job log,
    /// which lists every tool call, and is edited once, with the answer.
    pub progress: Option<ProgressSettings>,
    /// `AI_RATE_LIMIT` and `AI_MONTHLY_BUDGET_USD`.
    pub limits: RequestLimits,
}

/// True when this job was started by a Comments webhook calling the trigger URL: our template's
/// `AI_HOOK_*` variables, or GitLab's `TRIGGER_PAYLOAD` without the relay's or scan's
/// variables.
pub fn started_by_comment_webhook(vars: &dyn Env) -> bool {
    let set = |name: &str| vars.var(name).is_some_and(|v| !v.trim().is_empty());
    if ci_vars::present(vars) || set(crate::trigger::load::WEBHOOK_PAYLOAD) {
        return false;
    }
    hook_vars::present(vars) || set(crate::trigger::load::TRIGGER_PAYLOAD)
}

/// The limits over many runs, checked before the placeholder ([`crate::budget::rate`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestLimits {
    pub rate: Option<RateLimit>,
    pub monthly: Option<MonthlyBudget>,
}

impl RequestLimits {
    pub fn from_env(vars: &dyn Env) -> Result<Self, LimitError> {
        Ok(Self {
            rate: crate::env::AI_RATE_LIMIT
                .non_blank(vars)
                .map(|text| RateLimit::parse(&text))
                .transpose()?,
            monthly: crate::env::AI_MONTHLY_BUDGET_USD
                .non_blank(vars)
                .map(|text| MonthlyBudget::parse(&text))
                .transpose()?,
        })
    }
}

impl JobSettings {
    /// Reads and checks the settings for a run of `assistant`.
    pub fn from_env(vars: &dyn Env, assistant: Assistant) -> anyhow::Result<Self> {
        let set = |name: &str| {
            vars.var(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let project_dir = PathBuf::from(set("CI_PROJECT_DIR").context(
            "CI_PROJECT_DIR is not set: `entrypoint run` works in the job's checkout; run it inside a GitLab CI job",
        )?);
        let token = set("GITLAB_TOKEN")
            .context("GITLAB_TOKEN is not set: add the bot's token as a masked CI/CD variable")?;
        let spec = RunSpec::from_env(
            assistant,
            cli_program(assistant, vars),
            project_dir.clone(),
            String::new(),
            vars,
        )?;
        Ok(Self {
            guard: GuardSettings::from_env(vars)?,
            budget: ContextBudget::from_env(vars)?,
            workspace: WorkspaceSettings::from_env(vars, assistant)?,
            origin: RemoteUrl::from_env(vars)?,
            token: Secret::new(token),
            project_dir,
            spec,
            sandbox: Plan::for_this_process(Settings::from_env(assistant, vars)?)?,
            progress: (!started_by_comment_webhook(vars)).then(ProgressSettings::default),
            limits: RequestLimits::from_env(vars)?,
        })
    }
}

/// The CLI executable: `AI_CLAUDE_BIN` / `AI_CODEX_BIN`, else `claude` / `codex` looked up on
/// `PATH` when spawned.
pub(crate) fn cli_program(assistant: Assistant, vars: &dyn Env) -> PathBuf {
    let variable = assistant.profile().bin_variable;
    vars.var(variable)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(assistant.name()), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn only_a_comment_webhook_calling_the_trigger_url_turns_progress_edits_off() {
        let template = vars(&[("AI_HOOK_NOTE_ID", "5"), ("TRIGGER_PAYLOAD", "/tmp/p")]);
        assert!(started_by_comment_webhook(&template));
        let legacy = vars(&[("TRIGGER_PAYLOAD", "/tmp/p")]);
        assert!(started_by_comment_webhook(&legacy));
        let relay_by_trigger_token = vars(&[
            ("TRIGGER_PAYLOAD", "/tmp/p"),
            ("AI_ASSISTANT", "claude"),
            ("AI_NOTE_ID", "5"),
        ]);
        assert!(!started_by_comment_webhook(&relay_by_trigger_token));
        let relay_body = vars(&[("AI_WEBHOOK_PAYLOAD", "{}"), ("TRIGGER_PAYLOAD", "/tmp/p")]);
        assert!(!started_by_comment_webhook(&relay_body));
        assert!(!started_by_comment_webhook(&vars::<&str>(&[])));
    }

    #[test]
    fn the_cli_comes_from_its_variable_or_the_path() {
        let env = vars(&[("AI_CODEX_BIN", " /opt/codex/bin/codex ")]);
        assert_eq!(
            cli_program(Assistant::Codex, &env),
            PathBuf::from("/opt/codex/bin/codex")
        );
        assert_eq!(
            cli_program(Assistant::Claude, &env),
            PathBuf::from("claude")
        );
    }

    #[test]
    fn a_missing_api_key_is_named_before_anything_runs() {
        let env = vars(&[
            ("CI_PROJECT_DIR", "/builds/acme/widgets"),
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_PROJECT_PATH", "acme/widgets"),
            ("GITLAB_TOKEN", "glpat-x"),
        ]);
        let error = JobSettings::from_env(&env, Assistant::Claude).unwrap_err();
        assert!(
            format!("{error:#}").contains("ANTHROPIC_API_KEY"),
            "{error:#}"
        );
        let env = vars(&[
            ("CI_PROJECT_DIR", "/builds/acme/widgets"),
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_PROJECT_PATH", "acme/widgets"),
            ("GITLAB_TOKEN", "glpat-x"),
            ("ANTHROPIC_API_KEY", "sk-ant-x"),
            ("AI_TIMEOUT", "soon"),
        ]);
        let error = JobSettings::from_env(&env, Assistant::Claude).unwrap_err();
        assert!(format!("{error:#}").contains("AI_TIMEOUT"), "{error:#}");
    }

    #[test]
    fn settings_come_from_the_job() {
        let env = vars(&[
            ("CI_PROJECT_DIR", "/builds/acme/widgets"),
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_PROJECT_PATH", "acme/widgets"),
            ("GITLAB_TOKEN", "glpat-x"),
            ("OPENAI_API_KEY", "sk-x"),
        ]);
        let settings = JobSettings::from_env(&env, Assistant::Codex).unwrap();
        assert_eq!(settings.project_dir, PathBuf::from("/builds/acme/widgets"));
        assert_eq!(
            settings.spec.workspace,
            PathBuf::from("/builds/acme/widgets")
        );
        assert_eq!(settings.spec.program, PathBuf::from("codex"));
        assert_eq!(settings.workspace.branch_prefix.as_str(), "codex/");
    }
}
