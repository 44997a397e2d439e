//! `AI_CODEX_RULES`: which rule files Codex follows.

use crate::agent::options::OptionsError;

/// Which rule files Codex follows (`AI_CODEX_RULES`). `CODEX.md` is the product's rules file;
/// teams that keep Codex rules in `AGENTS.md` (as Codex itself and codex-action read them) opt
/// in. Either way the files are the target branch's on a merge request
/// ([`crate::workspace::trusted`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CodexRules {
    /// `CODEX.md` only, passed as developer instructions; Codex's own project docs are off.
    #[default]
    Codex,
    /// Codex's own project docs: `AGENTS.override.md` or `AGENTS.md` in each directory from
    /// the repository root down to the working directory (codex-rs `core/src/project_doc.rs`).
    Agents,
    /// Both.
    Both,
}

impl CodexRules {
    /// The choice `text` names, in any case.
    pub(crate) fn parse(text: &str) -> Result<Self, OptionsError> {
        match text.to_ascii_lowercase().as_str() {
            "codex" => Ok(Self::Codex),
            "agents" => Ok(Self::Agents),
            "both" => Ok(Self::Both),
            _ => Err(OptionsError::CodexRules(text.to_owned())),
        }
    }

    /// Whether `CODEX.md` is passed.
    pub(crate) fn reads_codex_md(self) -> bool {
        matches!(self, Self::Codex | Self::Both)
    }

    /// Whether Codex reads `AGENTS.md` itself.
    pub(crate) fn reads_agents_md(self) -> bool {
        matches!(self, Self::Agents | Self::Both)
    }
}
