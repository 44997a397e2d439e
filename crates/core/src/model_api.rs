//! The model APIs the assistants talk to, and how each wants its key presented.

use std::fmt;

/// The model API behind the proxy. It decides the default base URL, the variable that
/// overrides it, the header that carries the key and the shape of error bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelApi {
    /// Anthropic's Messages API: key in `x-api-key`
    /// (<https://docs.anthropic.com/en/api/overview#authentication>).
    Anthropic,
    /// OpenAI's Responses API: key as `Authorization: Bearer`
    /// (<https://platform.openai.com/docs/api-reference/authentication>).
    OpenAi,
}

impl ModelApi {
    /// The public endpoint. Anthropic's base URL has no version segment (clients append
    /// `/v1/messages`); OpenAI's includes `/v1` (clients append `/responses`), as each vendor's
    /// SDK spells its default base URL.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Self::Anthropic => "https://api.anthropic.com",
            Self::OpenAi => "https://api.openai.com/v1",
        }
    }

    /// The CI/CD variable that replaces [`Self::default_base_url`] (a gateway, a regional
    /// endpoint, a test double), read by the entrypoint's `agent::settings` (`RunSpec::from_env`).
    pub fn base_url_variable(self) -> &'static str {
        match self {
            Self::Anthropic => "ANTHROPIC_BASE_URL",
            Self::OpenAi => "OPENAI_BASE_URL",
        }
    }

    /// The CI/CD variable holding the real key.
    pub fn key_variable(self) -> &'static str {
        match self {
            Self::Anthropic => "ANTHROPIC_API_KEY",
            Self::OpenAi => "OPENAI_API_KEY",
        }
    }

    /// A short name for logs and error bodies.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anthropic => "Anthropic",
            Self::OpenAi => "OpenAI",
        }
    }
}

impl fmt::Display for ModelApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
