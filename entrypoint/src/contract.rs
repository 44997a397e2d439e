//! What a project needs for the assistant to answer there, in one place: the variables, the
//! template include, the trigger token, webhook and schedule that `setup` writes and `doctor`
//! checks. Both import it; neither imports the other's internals (setup only runs doctor's
//! report at its end).

use anyhow::bail;

use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::ApiBaseUrl;
use crate::gitlab::version::{self, GitLabVersion};

/// The CI/CD variable that holds the bot's GitLab token.
pub const BOT_TOKEN_VARIABLE: &str = "GITLAB_TOKEN";

/// The CI/CD variable that holds the assistant's model key.
pub fn model_key_variable(assistant: Assistant) -> &'static str {
    assistant.profile().key_variable()
}

/// Describes setup's pipeline trigger token, so a later run finds it again.
pub const TRIGGER_DESCRIPTION: &str = "@-mention webhook (entrypoint setup)";
/// Names setup's webhook.
pub const HOOK_NAME: &str = "@-mention comments (entrypoint setup)";
/// Describes setup's scan schedule.
pub const SCHEDULE_DESCRIPTION: &str = "@-mention scan (entrypoint setup)";
/// Every ten minutes.
pub const SCAN_CRON: &str = "*/10 * * * *";
/// The variable that tells a scheduled pipeline to scan.
pub const SCAN_VARIABLE: (&str, &str) = (crate::env::AI_SCAN.name(), "1");
/// Days a new bot token lives: within GitLab's 365-day maximum.
pub const TOKEN_LIFETIME_DAYS: u64 = 364;

/// Where the templates come from: this tool's own GitLab project, pinned to a ref.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSource {
    /// Full path of the project that hosts `templates/<assistant>.yml`.
    pub project: String,
    /// Tag, branch or sha to pin (a tag of this tool's version by default).
    pub git_ref: String,
}

/// The canonical path of this tool's GitLab project, which hosts the templates and whose
/// container registry holds the images; override with `--template-project` when you host a
/// copy. The templates' `image_registry` default (`$CI_REGISTRY/<this path>`) and the docs
/// spell the same path, which `tests/tests/it/docs_configuration.rs` keeps in step.
pub const DEFAULT_TEMPLATE_PROJECT: &str = "gitlab-ai/gitlab-ai";

impl TemplateSource {
    /// The template file for `assistant`, as `include:file` wants it.
    pub fn file(&self, assistant: Assistant) -> String {
        format!("/templates/{}.yml", assistant.name())
    }

    /// The block, as printed with `--no-mr` and as added to the file.
    pub fn block(&self, assistant: Assistant) -> String {
        format!(
            "include:\n  - project: '{}'\n    ref: '{}'\n    file: '{}'\n",
            self.project,
            self.git_ref,
            self.file(assistant)
        )
    }
}

/// Whether the instance takes `custom_webhook_template` (GitLab 16.10+); unknown versions are
/// assumed to, and an older one ignores the parameter (the hook then sends the event, which
/// the templates' fallback rule handles).
pub fn templates_available(version: Option<GitLabVersion>) -> bool {
    version.is_none_or(|v| {
        version::feature("custom-webhook-template").is_none_or(|f| f.available_in(v))
    })
}

/// The merge request's source branch, shared by both assistants.
pub fn include_branch() -> String {
    "entrypoint-setup".to_owned()
}

/// The API root: `--gitlab-url` (with or without `/api/v4`), else `CI_API_V4_URL`, else
/// `CI_SERVER_URL` + `/api/v4`.
pub fn api_url(gitlab_url: Option<&str>, env: &dyn Env) -> anyhow::Result<ApiBaseUrl> {
    let raw = match gitlab_url {
        Some(url) => {
            let url = url.trim().trim_end_matches('/');
            if url.ends_with("/api/v4") {
                url.to_owned()
            } else {
                format!("{url}/api/v4")
            }
        }
        None => match env.set("CI_API_V4_URL") {
            Some(api) => api,
            None => match env.set("CI_SERVER_URL") {
                Some(server) => format!("{}/api/v4", server.trim().trim_end_matches('/')),
                None => bail!(
                    "GitLab's URL is unknown: pass --gitlab-url https://gitlab.example.com, or set CI_SERVER_URL"
                ),
            },
        },
    };
    ApiBaseUrl::parse(&raw).map_err(|reason| anyhow::anyhow!("GitLab URL {raw}: {reason}"))
}
