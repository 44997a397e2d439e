//! The assistants the product can run.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An AI coding assistant. A closed set: adding one means adding its runner, image and template.
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

    /// The lowercase name used in variables (`AI_ASSISTANT=claude`), branch prefixes and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Assistant::Claude => "claude",
            Assistant::Codex => "codex",
        }
    }

    /// The name shown to people in notes.
    pub fn display_name(self) -> &'static str {
        match self {
            Assistant::Claude => "Claude",
            Assistant::Codex => "Codex",
        }
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
        match s.trim().to_ascii_lowercase().as_str() {
            "claude" => Ok(Assistant::Claude),
            "codex" => Ok(Assistant::Codex),
            _ => Err(UnknownAssistant(s.to_owned())),
        }
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
}
