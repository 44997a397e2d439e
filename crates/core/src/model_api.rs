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

/// What distinguishes one model API from another, as data: one row of [`APIS`].
#[derive(Debug)]
struct Facts {
    api: ModelApi,
    default_base_url: &'static str,
    base_url_variable: &'static str,
    key_variable: &'static str,
    name: &'static str,
}

/// One row per [`ModelApi`], in declaration order. Anthropic's base URL has no version segment
/// (clients append `/v1/messages`); OpenAI's includes `/v1` (clients append `/responses`), as
/// each vendor's SDK spells its default base URL.
const APIS: [Facts; 2] = [
    Facts {
        api: ModelApi::Anthropic,
        default_base_url: "https://api.anthropic.com",
        base_url_variable: "ANTHROPIC_BASE_URL",
        key_variable: "ANTHROPIC_API_KEY",
        name: "Anthropic",
    },
    Facts {
        api: ModelApi::OpenAi,
        default_base_url: "https://api.openai.com/v1",
        base_url_variable: "OPENAI_BASE_URL",
        key_variable: "OPENAI_API_KEY",
        name: "OpenAI",
    },
];

// Each row sits at its API's index; a table that breaks this does not compile.
const _: () = {
    let mut i = 0;
    while i < APIS.len() {
        assert!(APIS[i].api as usize == i);
        i += 1;
    }
};

impl ModelApi {
    fn facts(self) -> &'static Facts {
        // In bounds and the right row: checked when this crate compiles (above).
        &APIS[self as usize]
    }

    /// The public endpoint, as the vendor's SDK spells its default base URL ([`APIS`]).
    pub fn default_base_url(self) -> &'static str {
        self.facts().default_base_url
    }

    /// The CI/CD variable that replaces [`Self::default_base_url`] (a gateway, a regional
    /// endpoint, a test double), read by the entrypoint's `agent::settings` (`RunSpec::from_env`).
    pub fn base_url_variable(self) -> &'static str {
        self.facts().base_url_variable
    }

    /// The CI/CD variable holding the real key.
    pub fn key_variable(self) -> &'static str {
        self.facts().key_variable
    }

    /// A short name for logs and error bodies.
    pub fn name(self) -> &'static str {
        self.facts().name
    }
}

impl fmt::Display for ModelApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
