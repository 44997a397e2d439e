//! Settings shared by several commands, read from flags or the job's CI/CD variables.

use crate::agent::{Assistant, Handle, Handles, InvalidHandle, SharedHandle};

/// Which GitLab usernames summon the assistants (`--claude-handle` / `AI_CLAUDE_HANDLE`,
/// `--codex-handle` / `AI_CODEX_HANDLE`), for teams whose bot users are not called `claude` and
/// `codex`.
#[derive(Debug, Clone, clap::Args)]
pub struct HandleArgs {
    /// GitLab username that summons Claude.
    #[arg(
        long,
        env = crate::env::AI_CLAUDE_HANDLE.name(),
        default_value = "claude",
        value_name = "USERNAME"
    )]
    pub claude_handle: String,
    /// GitLab username that summons Codex.
    #[arg(
        long,
        env = crate::env::AI_CODEX_HANDLE.name(),
        default_value = "codex",
        value_name = "USERNAME"
    )]
    pub codex_handle: String,
}

/// The configured handles cannot be used: a usage error (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// One handle is not a GitLab username.
    #[error("--{flag}-handle (or {variable}): {problem}")]
    Invalid {
        /// `claude` or `codex`.
        flag: &'static str,
        /// The CI/CD variable behind the flag.
        variable: &'static str,
        /// What is wrong with the value.
        problem: InvalidHandle,
    },
    /// Both assistants were given the same username.
    #[error("--claude-handle and --codex-handle (or AI_CLAUDE_HANDLE and AI_CODEX_HANDLE): {0}")]
    Shared(SharedHandle),
}

impl HandleArgs {
    /// The validated handles, or a [`HandleError`] naming the flag and variable to fix.
    pub fn handles(&self) -> Result<Handles, HandleError> {
        let handle = |assistant: Assistant, value: &str| {
            Handle::new(value).map_err(|problem| HandleError::Invalid {
                flag: assistant.name(),
                variable: assistant.profile().handle_variable,
                problem,
            })
        };
        let claude = handle(Assistant::Claude, &self.claude_handle)?;
        let codex = handle(Assistant::Codex, &self.codex_handle)?;
        Handles::new([claude, codex]).map_err(HandleError::Shared)
    }
}

/// `--template-project` and `--template-ref`: the CI templates `setup` includes and `doctor`
/// names in the fix for a missing include.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// The project that hosts the CI templates.
    #[arg(long, default_value = crate::contract::DEFAULT_TEMPLATE_PROJECT)]
    pub template_project: String,
    /// The ref of the template project to include.
    #[arg(long, default_value = concat!("v", env!("CARGO_PKG_VERSION")))]
    pub template_ref: String,
}

impl TemplateArgs {
    /// Where the templates come from.
    pub fn source(&self) -> crate::contract::TemplateSource {
        crate::contract::TemplateSource {
            project: self.template_project.clone(),
            git_ref: self.template_ref.clone(),
        }
    }
}
