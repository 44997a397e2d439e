//! What only Claude Code has: how its CLI is invoked ([`invocation`]), how its `stream-json`
//! output is read ([`stream`]) and which of its flags `AI_CLAUDE_ARGS` may not pass
//! ([`flags`]), behind the [`Agent`] the runner calls.

mod flags;
mod invocation;
pub(crate) mod stream;
mod trusted;

pub(crate) use invocation::*;

use crate::agent::events::StreamParser;
use crate::agent::invocation::Invocation;
use crate::agent::mcp;
use crate::agent::options::{Flag, OptionsError};
use crate::agent::run::{Launch, Provider, RunError};
use crate::agent::trusted::TrustedPath;
use crate::agent::{Agent, Assistant};
use crate::env::Env;
use flags::CLAUDE_REFUSED;

/// Claude's [`Agent`]: the row of the agent table for [`Assistant::Claude`].
#[derive(Debug)]
pub(crate) struct Claude;

impl Agent for Claude {
    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(stream::ClaudeStream)
    }

    fn invocation(&self, launch: Launch<'_>) -> Result<Invocation, RunError> {
        let spec = launch.spec;
        let mcp_config = launch.has_mcp().then(|| {
            mcp::claude_config(launch.servers, &|name: &str| launch.service_url(name)).to_string()
        });
        let endpoint = match launch.proxy {
            Some(proxy) => Endpoint::Proxy(proxy.base_url()),
            None => Endpoint::Cloud,
        };
        Ok(invocation(
            &spec.program,
            &spec.prompt,
            launch.env,
            endpoint,
            ClaudeOptions {
                model: launch.model,
                max_turns: spec.max_turns,
                max_budget_usd: spec.max_budget_usd,
                max_retries: spec.max_retries,
                options: &spec.options,
                mcp_config: mcp_config.as_deref(),
            },
        ))
    }

    fn refused_flags(&self) -> &'static [(&'static str, &'static str)] {
        CLAUDE_REFUSED
    }

    /// Claude Code refuses nothing beyond its refused flags but combined short flags.
    fn check_flag(&self, flag: Flag<'_, '_>) -> Result<(), OptionsError> {
        if flag.is_combined_short() {
            Err(flag.combined())
        } else {
            Ok(())
        }
    }

    /// `--fallback-model`, which Claude Code switches to when the model is overloaded.
    fn cli_fallback_model_variable(&self) -> Option<&'static str> {
        Some(crate::env::CLAUDE_FALLBACK_MODEL.name())
    }

    /// `CLAUDE_MODEL`, else Claude Code's own default; Claude Code falls back by itself
    /// ([`Self::cli_fallback_model_variable`]), so the runner never retries.
    fn models(&self, set: &dyn Env, _var: &dyn Env) -> (Option<String>, Option<String>) {
        (set.var(Assistant::Claude.profile().model_variable), None)
    }

    /// Claude Code signs Bedrock and Vertex requests itself when `CLAUDE_CODE_USE_BEDROCK` or
    /// `CLAUDE_CODE_USE_VERTEX` is set (to anything but `0` or `false`).
    fn cloud_provider(&self, set: &dyn Env) -> Option<Provider> {
        let truthy = |name: &str| {
            set.var(name)
                .is_some_and(|v| !matches!(v.as_str(), "0" | "false"))
        };
        if truthy(crate::env::CLAUDE_CODE_USE_BEDROCK.name()) {
            Some(Provider::Bedrock)
        } else if truthy(crate::env::CLAUDE_CODE_USE_VERTEX.name()) {
            Some(Provider::Vertex)
        } else {
            None
        }
    }

    fn model_missing(&self, _message: &str) -> bool {
        false
    }

    /// Claude Code reports its cost and stops at `--max-turns` and `--max-budget-usd` itself.
    fn metered_by_proxy(&self) -> bool {
        false
    }

    fn structured_output_instruction(&self) -> &'static str {
        "Give it through the StructuredOutput tool."
    }

    fn trusted_paths(&self) -> &'static [TrustedPath] {
        trusted::TRUSTED_PATHS
    }

    /// `CLAUDE.md` files import others with `@path`
    /// (<https://code.claude.com/docs/en/memory#claude-md-imports>).
    fn imports_with_at(&self) -> bool {
        true
    }
}
