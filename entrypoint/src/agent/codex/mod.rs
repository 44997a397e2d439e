//! What only Codex has: how its CLI is invoked ([`invocation`]), how its `exec --json` output
//! is read ([`stream`]), which of its flags `AI_CODEX_ARGS` may not pass ([`flags`]), which
//! rule files it follows ([`rules`]) and its default models, behind the [`Agent`] the runner
//! calls.

mod flags;
mod invocation;
mod rules;
pub(crate) mod stream;
mod trusted;

pub(crate) use invocation::*;

use crate::agent::events::StreamParser;
use crate::agent::invocation::Invocation;
use crate::agent::mcp;
use crate::agent::options::{CliOptions, Flag, OptionsError};
use crate::agent::run::{Launch, Provider, RunError};
use crate::agent::trusted::TrustedPath;
use crate::agent::{Agent, Assistant};
use crate::env::Env;
pub(crate) use flags::CODEX_CONFIG_KEYS;
use flags::{CODEX_REFUSED, check_codex_flag};
pub use rules::CodexRules;

/// The model Codex 0.169.0 picks when given none: the first entry (priority 1) of its built-in
/// model catalog, confirmed by running it without `-m` against a local double.
pub(crate) const CODEX_DEFAULT_MODEL: &str = "gpt-6.1-sol";

/// The product's historical default for Codex. OpenAI announced its shutdown, hence the
/// automatic fallback to [`CODEX_DEFAULT_MODEL`].
pub(crate) const CODEX_MODEL: &str = "o4-mini";

/// Codex prints this when the API answers `404 model_not_found`; it reports no error code,
/// so the text is what identifies a missing model.
const MODEL_MISSING: &str = "does not exist or you do not have access";

/// Codex's [`Agent`]: the row of the agent table for [`Assistant::Codex`].
#[derive(Debug)]
pub(crate) struct Codex;

impl Agent for Codex {
    fn stream_parser(&self) -> Box<dyn StreamParser> {
        Box::new(stream::CodexState::default())
    }

    /// Codex only speaks to an OpenAI-compatible API, here the key proxy; its rules file,
    /// output schema and `.codex` directory go in the fresh home.
    fn invocation(&self, launch: Launch<'_>) -> Result<Invocation, RunError> {
        let spec = launch.spec;
        let mcp_servers = mcp::codex_config(launch.servers, &|name: &str| launch.service_url(name));
        let proxy = launch.proxy.ok_or(RunError::CodexNeedsApi)?;
        let rules = if spec.options.codex_rules.reads_codex_md() {
            read_rules(&spec.workspace).map_err(|source| RunError::Rules {
                file: RULES_FILE,
                source,
            })?
        } else {
            None
        };
        for variable in ignored_by_codex(&spec.options) {
            tracing::warn!(
                %variable,
                "Codex has no tool allow or deny list; {variable} applies to Claude only"
            );
        }
        let codex_home = launch.home.join(".codex");
        std::fs::create_dir_all(&codex_home).map_err(RunError::Home)?;
        // In the fresh home the sandbox uid is given afterwards: Codex reads it as that uid.
        let output_schema = match &spec.options.output_schema {
            Some(schema) => {
                let path = codex_home.join(OUTPUT_SCHEMA_FILE);
                std::fs::write(&path, schema).map_err(RunError::Home)?;
                Some(path)
            }
            None => None,
        };
        Ok(invocation(
            &spec.program,
            &spec.prompt,
            &codex_home,
            launch.env,
            CodexOptions {
                model: launch.model,
                proxy_url: proxy.base_url(),
                max_retries: spec.max_retries,
                rules: rules.as_deref(),
                options: &spec.options,
                output_schema: output_schema.as_deref(),
                mcp_servers: &mcp_servers,
            },
        ))
    }

    fn refused_flags(&self) -> &'static [(&'static str, &'static str)] {
        CODEX_REFUSED
    }

    fn check_flag(&self, flag: Flag<'_, '_>) -> Result<(), OptionsError> {
        check_codex_flag(flag)
    }

    /// `codex exec` has no fallback flag: the runner retries instead ([`Self::models`]).
    fn cli_fallback_model_variable(&self) -> Option<&'static str> {
        None
    }

    /// `CODEX_MODEL`, else [`CODEX_MODEL`]; the retry model is `CODEX_FALLBACK_MODEL`, else
    /// [`CODEX_DEFAULT_MODEL`], and none when the variable is set empty.
    fn models(&self, set: &dyn Env, var: &dyn Env) -> (Option<String>, Option<String>) {
        let fallback = match var.var(crate::env::CODEX_FALLBACK_MODEL.name()) {
            Some(value) if value.trim().is_empty() => None,
            Some(value) => Some(value.trim().to_owned()),
            None => Some(CODEX_DEFAULT_MODEL.to_owned()),
        };
        let model = set
            .var(Assistant::Codex.profile().model_variable)
            .unwrap_or_else(|| CODEX_MODEL.to_owned());
        (Some(model), fallback)
    }

    fn cloud_provider(&self, _set: &dyn Env) -> Option<Provider> {
        None
    }

    fn model_missing(&self, message: &str) -> bool {
        message.contains(MODEL_MISSING)
    }

    /// Codex reports no cost and enforces no limit.
    fn metered_by_proxy(&self) -> bool {
        true
    }

    fn structured_output_instruction(&self) -> &'static str {
        "Give it as your final message, the JSON alone."
    }

    fn trusted_paths(&self) -> &'static [TrustedPath] {
        trusted::TRUSTED_PATHS
    }

    /// Codex follows no `@path` imports in its rules files.
    fn imports_with_at(&self) -> bool {
        false
    }
}

/// The variables set that Codex has no flag for (it has no per-tool allow or deny list in
/// `codex exec`), so the job can say in its log that they do not apply.
fn ignored_by_codex(options: &CliOptions) -> Vec<&'static str> {
    let mut ignored = Vec::new();
    if !options.allowed_tools.is_empty() {
        ignored.push(crate::env::AI_ALLOWED_TOOLS.name());
    }
    if !options.disallowed_tools.is_empty() {
        ignored.push(crate::env::AI_DISALLOWED_TOOLS.name());
    }
    ignored
}
