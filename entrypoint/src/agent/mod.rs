//! The assistants the product can run, the GitLab usernames ("handles") that summon them, and
//! how one is run: [`run::run`] starts the CLI in an allowlisted environment ([`env`]) behind the
//! key proxy ([`crate::proxy`]) and reads its output as [`events::AssistantEvent`]s.
//!
//! What differs between assistants as data is their row of [`ai_core::assistant::PROFILES`];
//! what differs as code is an `Agent`, implemented in `agent/<name>/` and listed in
//! `AGENTS`. Nothing outside `agent/<name>/` matches on [`Assistant`]
//! (docs/adding-an-assistant.md walks through adding a third one).

mod claude;
mod codex;
pub mod env;
pub mod events;
pub mod failure;
mod invocation;
pub mod mcp;
pub mod options;
pub mod run;
pub mod settings;
mod supervise;
pub mod trusted;

use std::fmt;
use std::path::Path;

pub use ai_core::assistant::{Assistant, UnknownAssistant};

use crate::agent::events::{EventParser, StreamParser};
use crate::agent::invocation::Invocation;
use crate::agent::options::{Flag, OptionsError};
use crate::agent::run::{Launch, Provider, RunError};
use crate::agent::trusted::TrustedPath;
use crate::env::Env;

/// What the runner asks of one assistant's CLI that is code rather than data. Each assistant
/// implements it in its own folder (`agent/claude/`, `agent/codex/`), so the runner, the
/// settings, the options and the event stream never match on [`Assistant`].
pub(crate) trait Agent: Sync {
    /// A fresh reader of the CLI's output format, one per run.
    fn stream_parser(&self) -> Box<dyn StreamParser>;

    /// The program, arguments, environment and stdin of one attempt.
    fn invocation(&self, launch: Launch<'_>) -> Result<Invocation, RunError>;

    /// The flags of the CLI that `AI_<NAME>_ARGS` may not set, each with the reason given to
    /// the person who tried ([`options::CliOptions::from_env`]).
    fn refused_flags(&self) -> &'static [(&'static str, &'static str)];

    /// Checks one flag of `AI_<NAME>_ARGS` against how the CLI's own parser reads it, once it
    /// passed [`Self::refused_flags`].
    fn check_flag(&self, flag: Flag<'_, '_>) -> Result<(), OptionsError>;

    /// The variable naming the model the CLI itself falls back to (passed to it as an
    /// option); `None` when the CLI has no such flag.
    fn cli_fallback_model_variable(&self) -> Option<&'static str>;

    /// The model to ask for and the one to retry with when it does not exist, read from the
    /// job's variables (`set`: trimmed and non-empty; `var`: as set, so an empty value can
    /// turn a default off).
    fn models(&self, set: &dyn Env, var: &dyn Env) -> (Option<String>, Option<String>);

    /// A cloud provider the CLI reaches by itself (Bedrock, Vertex) when the variables choose
    /// one; `None` sends the model calls to the vendor's API through the key proxy.
    fn cloud_provider(&self, set: &dyn Env) -> Option<Provider>;

    /// True when `message`, the reason a run failed, says the model asked for does not exist,
    /// so the run is retried once with the fallback model.
    fn model_missing(&self, message: &str) -> bool;

    /// True when the CLI reports no cost and enforces no limit itself, so the key proxy meters
    /// its model calls against `AI_MAX_BUDGET_USD` and `AI_MAX_TURNS`.
    fn metered_by_proxy(&self) -> bool;

    /// How the prompt tells the model to return a structured result (`AI_OUTPUT_SCHEMA`).
    fn structured_output_instruction(&self) -> &'static str;

    /// The files and directories the CLI loads as configuration from the project directory,
    /// which the job takes from the target branch on a merge request
    /// ([`crate::workspace::trusted`]).
    fn trusted_paths(&self) -> &'static [TrustedPath];

    /// True when the CLI's Markdown memory files import other files with `@path`, so the
    /// files they import are taken from the target branch too.
    fn imports_with_at(&self) -> bool;
}

/// One row of [`AGENTS`]: the assistant, and the code that runs its CLI.
struct AgentRow {
    assistant: Assistant,
    agent: &'static dyn Agent,
}

/// One row per assistant, in [`Assistant::ALL`] order (as [`ai_core::assistant::PROFILES`]).
/// Its length is the number of assistants, so an assistant without a row does not compile.
const AGENTS: [AgentRow; Assistant::ALL.len()] = [
    AgentRow {
        assistant: Assistant::Claude,
        agent: &claude::Claude,
    },
    AgentRow {
        assistant: Assistant::Codex,
        agent: &codex::Codex,
    },
];

// Each row sits at its assistant's index; a table that breaks this does not compile.
const _: () = {
    let mut i = 0;
    while i < AGENTS.len() {
        assert!(AGENTS[i].assistant as usize == i);
        i += 1;
    }
};

/// The code that runs `assistant`'s CLI.
pub(crate) fn agent(assistant: Assistant) -> &'static dyn Agent {
    // In bounds and the right row: checked when this crate compiles (below `AGENTS`).
    AGENTS[assistant as usize].agent
}

/// A reader of `assistant`'s output. Paths inside `workspace` are shown relative to it.
pub(crate) fn event_parser(assistant: Assistant, workspace: Option<&Path>) -> EventParser {
    EventParser::new(agent(assistant).stream_parser(), workspace)
}

/// A GitLab username that summons one assistant when mentioned (`@claude`).
///
/// Kept in lowercase because GitLab usernames are case-insensitive for mentions: `@Claude` and
/// `@claude` reach the same user.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handle(String);

/// A configured handle is not a valid GitLab username.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid handle {0:?}: a GitLab username is letters, digits, '_', '-' and '.', and cannot start with '-' or '.' nor end with '.' or '-'"
)]
pub struct InvalidHandle(pub String);

impl Handle {
    /// Validates a username (with or without a leading `@`).
    pub fn new(name: &str) -> Result<Self, InvalidHandle> {
        let bare = name.trim().strip_prefix('@').unwrap_or(name.trim());
        let valid_chars = !bare.is_empty()
            && bare
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let valid_ends = !bare.starts_with(['-', '.']) && !bare.ends_with(['-', '.']);
        if valid_chars && valid_ends {
            Ok(Self(bare.to_ascii_lowercase()))
        } else {
            Err(InvalidHandle(name.to_owned()))
        }
    }

    /// The username in lowercase, without `@`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `username` (as written in a note, any case) is this handle.
    pub fn matches(&self, username: &str) -> bool {
        self.0.eq_ignore_ascii_case(username)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which handle summons which assistant. Defaults to `@claude` and `@codex`; teams whose bot
/// users are named differently configure their own (`AI_CLAUDE_HANDLE`, `AI_CODEX_HANDLE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handles([Handle; Assistant::ALL.len()]);

/// Two assistants were given the same handle, so a mention could not say which one is meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("both assistants have the handle @{0}: give each assistant its own handle")]
pub struct SharedHandle(pub String);

impl Handles {
    /// One handle per assistant, in [`Assistant::ALL`] order; they must differ.
    pub fn new(handles: [Handle; Assistant::ALL.len()]) -> Result<Self, SharedHandle> {
        for (i, handle) in handles.iter().enumerate() {
            if handles[..i].contains(handle) {
                return Err(SharedHandle(handle.0.clone()));
            }
        }
        Ok(Self(handles))
    }

    /// The handle that summons `assistant`.
    pub fn handle(&self, assistant: Assistant) -> &Handle {
        &self.0[assistant as usize]
    }

    /// The assistant summoned by `username` (as written after `@`, any case), if any.
    pub(crate) fn assistant_for(&self, username: &str) -> Option<Assistant> {
        Assistant::ALL
            .into_iter()
            .find(|a| self.handle(*a).matches(username))
    }
}

impl Default for Handles {
    fn default() -> Self {
        Self(Assistant::ALL.map(|a| Handle(a.name().to_owned())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_follow_gitlab_username_rules() {
        assert_eq!(Handle::new("@Claude").unwrap().as_str(), "claude");
        assert_eq!(Handle::new("ai.bot_1-x").unwrap().as_str(), "ai.bot_1-x");
        for bad in [
            "", "@", "claude.", "claude-", ".claude", "-claude", "cl aude", "cläude",
        ] {
            assert!(Handle::new(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn handles_resolve_case_insensitively() {
        let h = Handles::default();
        assert_eq!(h.assistant_for("CLAUDE"), Some(Assistant::Claude));
        assert_eq!(h.assistant_for("codex"), Some(Assistant::Codex));
        assert_eq!(h.assistant_for("claudette"), None);
        let same = Handles::new([Handle::new("bot").unwrap(), Handle::new("BOT").unwrap()]);
        assert!(same.is_err());
    }
}
