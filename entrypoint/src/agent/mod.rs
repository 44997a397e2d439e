//! The assistants the product can run, the GitLab usernames ("handles") that summon them, and
//! how one is run: [`run::run`] starts the CLI in an allowlisted environment ([`env`]) behind the
//! key proxy ([`crate::proxy`]) and reads its output as [`events::AssistantEvent`]s.
//!
//! What differs between assistants as data is their row of [`ai_core::assistant::PROFILES`];
//! what differs as code is an [`Agent`], implemented in `agent/<name>/` and listed in
//! [`AGENTS`]. Nothing outside `agent/<name>/` matches on [`Assistant`]
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

use std::fmt;
use std::path::Path;

pub use ai_core::assistant::{Assistant, UnknownAssistant};

use crate::agent::events::{EventParser, StreamParser};

/// What the runner asks of one assistant's CLI that is code rather than data. Each assistant
/// implements it in its own folder (`agent/claude/`, `agent/codex/`), so the runner, the
/// settings and the event stream never match on [`Assistant`].
pub(crate) trait Agent: Sync {
    /// A fresh reader of the CLI's output format, one per run.
    fn stream_parser(&self) -> Box<dyn StreamParser>;
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
pub fn event_parser(assistant: Assistant, workspace: Option<&Path>) -> EventParser {
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
pub struct Handles {
    claude: Handle,
    codex: Handle,
}

/// Two assistants were given the same handle, so a mention could not say which one is meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("both assistants have the handle @{0}: give each assistant its own handle")]
pub struct SharedHandle(pub String);

impl Handles {
    /// Handles for both assistants; they must differ.
    pub fn new(claude: Handle, codex: Handle) -> Result<Self, SharedHandle> {
        if claude == codex {
            return Err(SharedHandle(claude.0));
        }
        Ok(Self { claude, codex })
    }

    /// The handle that summons `assistant`.
    pub fn handle(&self, assistant: Assistant) -> &Handle {
        match assistant {
            Assistant::Claude => &self.claude,
            Assistant::Codex => &self.codex,
        }
    }

    /// The assistant summoned by `username` (as written after `@`, any case), if any.
    pub fn assistant_for(&self, username: &str) -> Option<Assistant> {
        Assistant::ALL
            .into_iter()
            .find(|a| self.handle(*a).matches(username))
    }
}

impl Default for Handles {
    fn default() -> Self {
        Self {
            claude: Handle(Assistant::Claude.name().to_owned()),
            codex: Handle(Assistant::Codex.name().to_owned()),
        }
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
        let same = Handles::new(Handle::new("bot").unwrap(), Handle::new("BOT").unwrap());
        assert!(same.is_err());
    }
}
