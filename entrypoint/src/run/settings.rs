//! What `entrypoint run` needs to know besides the trigger: which assistant this job runs, how
//! it is sandboxed, and where its CLI lives.

use std::path::PathBuf;

use crate::assistant::{Assistant, Handles};
use crate::publish::result::Notice;

/// How the assistant's process is confined. The network sandbox is its own module; until a job
/// selects it, the assistant runs with the job's full network access, and the result says so
/// for Codex (whose own sandbox is turned off: it cannot run inside an unprivileged container).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sandbox {
    /// No network restriction.
    #[default]
    None,
}

impl Sandbox {
    /// The notices a result carries for a run of `assistant` in this sandbox.
    pub fn notices(self, assistant: Assistant) -> Vec<Notice> {
        match (self, assistant) {
            (Sandbox::None, Assistant::Codex) => vec![Notice::NotNetworkSandboxed],
            (Sandbox::None, Assistant::Claude) => Vec::new(),
        }
    }
}

/// The job's fixed choices.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The assistant this job runs (each template job runs one; a note mentioning both gets one
    /// job, one placeholder and one branch prefix per assistant).
    pub assistant: Assistant,
    /// The usernames that summon each assistant.
    pub handles: Handles,
    /// How the CLI is confined.
    pub sandbox: Sandbox,
}

/// The CLI executable: `AI_CLAUDE_BIN` / `AI_CODEX_BIN`, else `claude` / `codex` looked up on
/// `PATH` when spawned.
pub fn cli_program(assistant: Assistant, vars: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    let variable = match assistant {
        Assistant::Claude => "AI_CLAUDE_BIN",
        Assistant::Codex => "AI_CODEX_BIN",
    };
    vars(variable)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .map_or_else(|| PathBuf::from(assistant.name()), PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

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
    fn only_codex_without_a_sandbox_is_flagged() {
        assert_eq!(
            Sandbox::None.notices(Assistant::Codex),
            vec![Notice::NotNetworkSandboxed]
        );
        assert!(Sandbox::None.notices(Assistant::Claude).is_empty());
    }
}
