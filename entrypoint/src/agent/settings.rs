//! A [`RunSpec`] from the job's CI/CD variables, with the defaults the product documents.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CLAUDE_MODEL` | Claude's `--model` | Claude Code's default |
//! | `CODEX_MODEL` | Codex's `-m` | `o4-mini` |
//! | `CODEX_FALLBACK_MODEL` | retried once when `CODEX_MODEL` does not exist; empty turns it off | `gpt-6.1-sol`, Codex's own default |
//! | `AI_MAX_TURNS` | Claude's `--max-turns`; for Codex, model calls (the key proxy counts them) | none |
//! | `AI_MAX_BUDGET_USD` | Claude's `--max-budget-usd`; for Codex, metered by the key proxy | none |
//! | `AI_PRICE_PER_MTOK` | Codex's price, `input/cached/output` USD per 1M tokens | [`crate::budget::price`]'s table |
//! | `AI_TIMEOUT` | the whole run: seconds, or a number with `s`, `m` or `h` | `20m` |
//! | `AI_ENV_PASSTHROUGH` | more variable names for the assistant's environment | none |
//! | `AI_MCP_CONFIG` (`AI_MCP_CONFIG_FILE` is read by the job from the default branch) | MCP servers, see [`super::mcp`] | none |
//! | `AI_CLAUDE_ARGS`, `AI_CODEX_ARGS`, `AI_ALLOWED_TOOLS`, `AI_DISALLOWED_TOOLS`, `AI_REASONING_EFFORT`, `CLAUDE_FALLBACK_MODEL` | see [`super::options`] | none |
//! | `CLAUDE_API_KEY` (or `ANTHROPIC_API_KEY`), `ANTHROPIC_BASE_URL` | Claude's API (through the key proxy) | `https://api.anthropic.com` |
//! | `CLAUDE_CODE_USE_BEDROCK` / `CLAUDE_CODE_USE_VERTEX` | Claude on a cloud provider instead | off |
//! | `OPENAI_API_KEY` (or `CODEX_API_KEY`), `OPENAI_BASE_URL` | Codex's API (through the key proxy) | `https://api.openai.com/v1` |

use std::path::PathBuf;
use std::time::Duration;

use crate::agent::Assistant;
use crate::agent::env::parse_passthrough;
use crate::agent::options::{CliOptions, OptionsError};
use crate::agent::run::{ApiConfig, Provider, RunSpec};
use crate::budget::{Price, PriceError};
use crate::env::Env;
use crate::env::parse_duration;
use crate::proxy::{ModelApi, Upstream, UpstreamError};
use crate::secret::Secret;

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A variable has a value the run cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "{} is not set: add it as a masked CI/CD variable so {assistant} can reach its API",
        key_names(variables)
    )]
    MissingKey {
        variables: &'static [&'static str],
        assistant: &'static str,
    },
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
    #[error(
        "AI_TIMEOUT={0:?} is not a duration: use seconds (1200) or a number with s, m or h (20m)"
    )]
    Timeout(String),
    #[error("AI_MAX_TURNS={0:?} is not a positive whole number")]
    MaxTurns(String),
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error(
        "AI_MAX_BUDGET_USD={0:?} is not an amount of dollars: use a positive number such as 0.50"
    )]
    MaxBudget(String),
    #[error(transparent)]
    Price(#[from] PriceError),
}

impl RunSpec {
    /// The run for `assistant` as the job's variables (read through `var`) configure it.
    pub fn from_env(
        assistant: Assistant,
        program: PathBuf,
        workspace: PathBuf,
        prompt: String,
        var: &dyn Env,
    ) -> Result<Self, SettingsError> {
        let set = |name: &str| crate::env::non_blank(var, name);
        let timeout = match set(crate::env::AI_TIMEOUT.name()) {
            Some(text) => parse_duration(&text).ok_or(SettingsError::Timeout(text))?,
            None => DEFAULT_TIMEOUT,
        };
        let max_turns = match set(crate::env::AI_MAX_TURNS.name()) {
            Some(text) => Some(
                text.parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(SettingsError::MaxTurns(text))?,
            ),
            None => None,
        };
        let max_budget_usd = match set(crate::env::AI_MAX_BUDGET_USD.name()) {
            Some(text) => Some(
                text.trim_start_matches('$')
                    .parse::<f64>()
                    .ok()
                    .filter(|usd| usd.is_finite() && *usd > 0.0)
                    .ok_or(SettingsError::MaxBudget(text))?,
            ),
            None => None,
        };
        let price = set(crate::env::AI_PRICE_PER_MTOK.name())
            .map(|text| Price::parse(&text))
            .transpose()?;
        let agent = super::agent(assistant);
        let provider = match agent.cloud_provider(&set) {
            Some(cloud) => cloud,
            None => Provider::Api(api(
                assistant.profile().model_api,
                &set,
                model_key_variables(assistant),
                assistant,
            )?),
        };
        let (model, fallback_model) = agent.models(&set, var);
        Ok(Self {
            assistant,
            program,
            extra_path: Vec::new(),
            workspace,
            prompt,
            model,
            fallback_model,
            max_turns,
            max_budget_usd,
            price,
            max_retries: None,
            timeout,
            provider,
            passthrough: set(crate::env::AI_ENV_PASSTHROUGH.name())
                .map(|list| parse_passthrough(&list))
                .unwrap_or_default(),
            options: CliOptions::from_env(assistant, &|name: &str| var.var(name))?,
        })
    }
}

fn api(
    kind: ModelApi,
    set: &dyn Env,
    key_variables: &'static [&'static str],
    assistant: Assistant,
) -> Result<ApiConfig, SettingsError> {
    let upstream = match set.var(kind.base_url_variable()) {
        Some(base) => Upstream::parse(kind, &base)?,
        None => Upstream::public(kind),
    };
    let key =
        key_variables
            .iter()
            .find_map(|name| set.var(name))
            .ok_or(SettingsError::MissingKey {
                variables: key_variables,
                assistant: assistant.display_name(),
            })?;
    Ok(ApiConfig {
        upstream,
        key: Secret::new(key),
    })
}

/// `CLAUDE_API_KEY (or ANTHROPIC_API_KEY)`: the first name is the one to set.
/// The variables an assistant's model key may come from, the preferred first: `CLAUDE_API_KEY`
/// is the name the templates and `entrypoint setup` use, `ANTHROPIC_API_KEY` what Anthropic's
/// own tools read; `OPENAI_API_KEY` is Codex's own name, `CODEX_API_KEY` its alias.
pub(crate) fn model_key_variables(assistant: Assistant) -> &'static [&'static str] {
    assistant.profile().key_variables
}

fn key_names(variables: &[&str]) -> String {
    match variables {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [first, rest @ ..] => format!("{first} (or {})", rest.join(" or ")),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn spec(assistant: Assistant, vars: &[(&str, &str)]) -> Result<RunSpec, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        RunSpec::from_env(
            assistant,
            "cli".into(),
            "/work".into(),
            "p".into(),
            &|n: &str| vars.get(n).cloned(),
        )
    }

    #[test]
    fn codex_defaults_to_o4_mini_with_the_fallback_and_the_public_api() {
        let spec = spec(Assistant::Codex, &[("OPENAI_API_KEY", "sk-1")]).unwrap();
        assert_eq!(spec.model.as_deref(), Some("o4-mini"));
        assert_eq!(
            spec.fallback_model.as_deref(),
            Some(crate::agent::codex::CODEX_DEFAULT_MODEL)
        );
        assert_eq!(spec.timeout, DEFAULT_TIMEOUT);
        let Provider::Api(api) = &spec.provider else {
            panic!("{:?}", spec.provider)
        };
        assert_eq!(api.upstream.base().as_str(), "https://api.openai.com/v1");
        assert_eq!(api.key.expose(), "sk-1");
    }

    #[test]
    fn variables_override_the_defaults() {
        let spec = spec(
            Assistant::Codex,
            &[
                ("CODEX_API_KEY", "sk-2"),
                ("OPENAI_BASE_URL", "http://gw.internal/v1"),
                ("CODEX_MODEL", "gpt-5.5"),
                ("CODEX_FALLBACK_MODEL", ""),
                ("AI_TIMEOUT", "5m"),
                ("AI_ENV_PASSTHROUGH", "RUST_LOG,GITLAB_TOKEN"),
            ],
        )
        .unwrap();
        assert_eq!(spec.model.as_deref(), Some("gpt-5.5"));
        assert_eq!(spec.fallback_model, None);
        assert_eq!(spec.timeout, Duration::from_secs(300));
        assert_eq!(spec.passthrough, ["RUST_LOG", "GITLAB_TOKEN"]);
        let Provider::Api(api) = &spec.provider else {
            panic!()
        };
        assert_eq!(api.upstream.base().as_str(), "http://gw.internal/v1");
    }

    #[test]
    fn claude_needs_a_key_unless_a_cloud_provider_is_chosen() {
        let error = spec(Assistant::Claude, &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("CLAUDE_API_KEY (or ANTHROPIC_API_KEY) is not set"),
            "{error}"
        );
        let seed_name = spec(Assistant::Claude, &[("CLAUDE_API_KEY", "sk-ant-seed")]).unwrap();
        let Provider::Api(api) = seed_name.provider else {
            panic!("expected the API provider")
        };
        assert_eq!(api.key.expose(), "sk-ant-seed");
        let bedrock = spec(
            Assistant::Claude,
            &[("CLAUDE_CODE_USE_BEDROCK", "1"), ("AI_MAX_TURNS", "30")],
        )
        .unwrap();
        assert_eq!(bedrock.provider, Provider::Bedrock);
        assert_eq!(bedrock.max_turns, Some(30));
        assert_eq!(bedrock.model, None);
        let budget = spec(
            Assistant::Codex,
            &[
                ("OPENAI_API_KEY", "k"),
                ("AI_MAX_BUDGET_USD", "$0.50"),
                ("AI_PRICE_PER_MTOK", "1/0.1/4"),
            ],
        )
        .unwrap();
        assert_eq!(budget.max_budget_usd, Some(0.5));
        assert_eq!(
            budget.price,
            Some(Price {
                input: 1.0,
                cached_input: 0.1,
                output: 4.0
            })
        );
        for bad in ["0", "-1", "lots", "inf"] {
            let error = spec(
                Assistant::Codex,
                &[("OPENAI_API_KEY", "k"), ("AI_MAX_BUDGET_USD", bad)],
            )
            .unwrap_err();
            assert!(error.to_string().contains("AI_MAX_BUDGET_USD"), "{error}");
        }
        let vertex = spec(Assistant::Claude, &[("CLAUDE_CODE_USE_VERTEX", "true")]).unwrap();
        assert_eq!(vertex.provider, Provider::Vertex);
        assert!(
            spec(
                Assistant::Claude,
                &[("ANTHROPIC_API_KEY", "k"), ("AI_MAX_TURNS", "0")]
            )
            .is_err()
        );
        assert!(
            spec(
                Assistant::Claude,
                &[("ANTHROPIC_API_KEY", "k"), ("AI_TIMEOUT", "soon")]
            )
            .is_err()
        );
    }
}
