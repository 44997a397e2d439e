//! Which flags of Codex `AI_CODEX_ARGS` may not pass: the list comes from `codex exec --help`
//! (0.169.0), and `-c key=value` is checked by key against an allow-list
//! ([`crate::agent::options`] explains why).

use crate::agent::options::{Flag, OptionsError};

/// Codex flags refused in `AI_CODEX_ARGS`.
pub(crate) const CODEX_REFUSED: &[(&str, &str)] = &[
    (
        "--dangerously-bypass-approvals-and-sandbox",
        "the sandbox and approvals are the job's",
    ),
    ("--yolo", "the sandbox and approvals are the job's"),
    (
        "--approve-for-me",
        "the sandbox and approvals are the job's",
    ),
    (
        "--dangerously-bypass-hook-trust",
        "hooks are code the job did not vet",
    ),
    ("--sandbox", "the sandbox is the job's (AI_SANDBOX)"),
    ("-s", "the sandbox is the job's (AI_SANDBOX)"),
    ("--full-auto", "the sandbox and approvals are the job's"),
    ("--oss", "the model provider is the job's key proxy"),
    (
        "--local-provider",
        "the model provider is the job's key proxy",
    ),
    (
        "--profile",
        "profiles can change the provider, the sandbox and approvals",
    ),
    (
        "-p",
        "profiles can change the provider, the sandbox and approvals",
    ),
    (
        "--enable",
        "features can open network access the job did not vet",
    ),
    ("--disable", "features are the job's"),
    (
        "--cd",
        "the assistant works in the checkout the job publishes",
    ),
    (
        "-C",
        "the assistant works in the checkout the job publishes",
    ),
    (
        "--worktree",
        "the assistant works in the checkout the job publishes",
    ),
    ("--add-dir", "the assistant may work in the checkout only"),
    (
        "--trust",
        "trusting the project would load its own .codex configuration from the branch",
    ),
    ("--thread-source", "every job starts a new session"),
    ("--cyber-access-program", "not for CI jobs"),
    ("--json", "the job sets it"),
    (
        "--output-last-message",
        "the assistant writes in the checkout only",
    ),
    ("-o", "the assistant writes in the checkout only"),
    ("--model", "set CODEX_MODEL instead"),
    ("-m", "set CODEX_MODEL instead"),
    ("--output-schema", "set AI_OUTPUT_SCHEMA instead"),
];

/// Codex `-c` keys accepted in `AI_CODEX_ARGS`: how the model reasons and shows it, and how
/// much it reads; none reaches the provider, the sandbox, the shell or the network.
pub(crate) const CODEX_CONFIG_KEYS: &[&str] = &[
    "model_reasoning_summary",
    "model_verbosity",
    "model_supports_reasoning_summaries",
    "model_context_window",
    "model_auto_compact_token_limit",
    "hide_agent_reasoning",
    "show_raw_agent_reasoning",
    "tool_output_token_limit",
];

/// Codex's `-c`/`--config` overrides: only keys of [`CODEX_CONFIG_KEYS`] may be set, and other
/// combined short flags are refused.
pub(crate) fn check_codex_flag(flag: Flag<'_, '_>) -> Result<(), OptionsError> {
    let Flag { arg, name, .. } = flag;
    // clap reads `-cKEY=V`, `-c KEY=V`, `--config=KEY=V` and `--config KEY=V`.
    let setting = if name == "-c" || name == "--config" {
        match arg.split_once('=') {
            Some((_, rest)) if arg.starts_with("--config=") => Some(rest.to_owned()),
            _ => flag.rest.next().cloned(),
        }
    } else if let Some(rest) = arg.strip_prefix("-c") {
        Some(rest.to_owned())
    } else if flag.is_combined_short() {
        return Err(flag.combined());
    } else {
        None
    };
    if let Some(setting) = setting {
        let key = setting.split('=').next().unwrap_or_default().trim();
        if !CODEX_CONFIG_KEYS.contains(&key) {
            return Err(OptionsError::ConfigKey {
                key: key.to_owned(),
            });
        }
    }
    Ok(())
}
