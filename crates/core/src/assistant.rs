//! The assistants the product can run.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelApi;

/// An AI coding assistant. A closed set: adding one means adding its [`Profile`] row to
/// [`PROFILES`], its runner (`entrypoint/src/agent/<name>/`), an image and a template.
///
/// The derived `Ord` follows the names alphabetically, which is the order the mention parser
/// reports assistants in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assistant {
    /// Anthropic's Claude Code CLI.
    Claude,
    /// OpenAI's Codex CLI.
    Codex,
}

impl Assistant {
    /// Every assistant, in name order.
    pub const ALL: [Assistant; 2] = [Assistant::Claude, Assistant::Codex];

    /// This assistant's facts: its row of [`PROFILES`].
    pub fn profile(self) -> &'static Profile {
        // In bounds and the right row: checked when this crate compiles (below `PROFILES`).
        &PROFILES[self as usize]
    }

    /// The lowercase name used in variables (`AI_ASSISTANT=claude`), branch prefixes and JSON.
    pub fn name(self) -> &'static str {
        self.profile().name
    }

    /// The name shown to people in notes.
    pub fn display_name(self) -> &'static str {
        self.profile().display_name
    }
}

/// What distinguishes one assistant from another, as data: the names people and pipelines
/// use, where its key and model come from, and how the bot marks a mention it claimed. What
/// distinguishes them as code (the CLI's flags, its event stream) lives in the entrypoint's
/// runner for each.
#[derive(Debug, PartialEq, Eq)]
pub struct Profile {
    /// The assistant this row describes.
    pub assistant: Assistant,
    /// The lowercase name: `AI_ASSISTANT`, branch prefixes, JSON, the CLI's program name.
    pub name: &'static str,
    /// The name shown to people in notes.
    pub display_name: &'static str,
    /// The CI/CD variable that renames the handle (`@claude` by default: [`Self::name`]).
    pub handle_variable: &'static str,
    /// The model API its CLI calls, behind the key proxy.
    pub model_api: ModelApi,
    /// The variables the model key may come from, the preferred first: the first is the name
    /// the templates and `entrypoint setup` use and the one every piece of advice names.
    pub key_variables: &'static [&'static str],
    /// The variable that chooses the model.
    pub model_variable: &'static str,
    /// The variable that points at another CLI executable than `name` on `PATH`.
    pub bin_variable: &'static str,
    /// The variable holding extra CLI arguments, checked against the runner's refused flags.
    pub args_variable: &'static str,
    /// The reaction that claims a note for this assistant. Each assistant has its own, so one
    /// bot user serving both can claim the same note once for each (`@claude @codex compare`).
    pub claim_emoji: &'static str,
    /// The reaction that says the claimer handed the mention over (pipeline started, refusal
    /// posted, or the job answering it is running): the claim is no longer a lease.
    pub handover_emoji: &'static str,
    /// Whether the network fence is on when `AI_SANDBOX` is unset. Codex's own sandbox expects
    /// one; Claude Code's users expect the network the job has.
    pub fenced_by_default: bool,
}

/// One row per assistant, in [`Assistant::ALL`] order.
pub const PROFILES: [Profile; 2] = [
    Profile {
        assistant: Assistant::Claude,
        name: "claude",
        display_name: "Claude",
        handle_variable: "AI_CLAUDE_HANDLE",
        model_api: ModelApi::Anthropic,
        key_variables: &["CLAUDE_API_KEY", "ANTHROPIC_API_KEY"],
        model_variable: "CLAUDE_MODEL",
        bin_variable: "AI_CLAUDE_BIN",
        args_variable: "AI_CLAUDE_ARGS",
        claim_emoji: "eyes",
        handover_emoji: "hourglass_flowing_sand",
        fenced_by_default: false,
    },
    Profile {
        assistant: Assistant::Codex,
        name: "codex",
        display_name: "Codex",
        handle_variable: "AI_CODEX_HANDLE",
        model_api: ModelApi::OpenAi,
        key_variables: &["OPENAI_API_KEY", "CODEX_API_KEY"],
        model_variable: "CODEX_MODEL",
        bin_variable: "AI_CODEX_BIN",
        args_variable: "AI_CODEX_ARGS",
        claim_emoji: "robot",
        handover_emoji: "gear",
        fenced_by_default: true,
    },
];

// Each row sits at its assistant's index and names at least one key variable; a table that
// breaks either does not compile.
const _: () = {
    let mut i = 0;
    while i < PROFILES.len() {
        assert!(PROFILES[i].assistant as usize == i);
        assert!(!PROFILES[i].key_variables.is_empty());
        i += 1;
    }
    assert!(PROFILES.len() == Assistant::ALL.len());
};

impl Profile {
    /// The key variable every piece of advice names (the first of [`Self::key_variables`]).
    pub fn key_variable(&self) -> &'static str {
        self.key_variables[0]
    }
}

impl fmt::Display for Assistant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The text was not the name of an assistant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown assistant {0:?}: expected \"claude\" or \"codex\"")]
pub struct UnknownAssistant(pub String);

impl FromStr for Assistant {
    type Err = UnknownAssistant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        PROFILES
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.assistant)
            .ok_or_else(|| UnknownAssistant(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Assistant::ALL {
            assert_eq!(a.name().parse::<Assistant>(), Ok(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.name())
            );
        }
        assert!("gemini".parse::<Assistant>().is_err());
        assert_eq!("Claude".parse::<Assistant>(), Ok(Assistant::Claude));
    }

    #[test]
    fn every_assistant_has_its_own_row_and_reactions() {
        for (i, a) in Assistant::ALL.into_iter().enumerate() {
            assert_eq!(a.profile().assistant, a);
            assert_eq!(PROFILES[i].assistant, a);
            assert!(!a.profile().key_variables.is_empty());
        }
        let [claude, codex] = &PROFILES;
        for (x, y) in [
            (claude.claim_emoji, codex.claim_emoji),
            (claude.handover_emoji, codex.handover_emoji),
            (claude.claim_emoji, codex.handover_emoji),
            (codex.claim_emoji, claude.handover_emoji),
        ] {
            assert_ne!(
                x, y,
                "one bot serving both assistants must tell the claims apart"
            );
        }
    }
}
