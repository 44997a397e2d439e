//! How Claude Code is started: headless (`-p`) with the prompt on stdin, one JSON event per
//! line, and allowed to edit and run commands in the workspace.
//!
//! Permissions: `--permission-mode bypassPermissions`. In `-p` mode any tool that would need an
//! approval is refused, so `acceptEdits` would allow file edits but no build, test or git
//! command. The job's container is the sandbox (and its egress fence, a separate concern), so
//! the assistant may do anything inside it; Claude Code refuses this mode as root unless
//! `IS_SANDBOX=1` says it runs in such a sandbox, which is what CI images do.
//!
//! Rules come from the repository's `CLAUDE.md`, which Claude Code reads itself; the fresh
//! `HOME` means no user-level `~/.claude/CLAUDE.md` or settings add anything. On a merge
//! request the project's `CLAUDE.md`, `.claude/` and `.mcp.json` are the target branch's
//! ([`crate::workspace::trusted`]). `--strict-mcp-config` with no `--mcp-config` starts no MCP
//! server at all, from `.mcp.json` or anywhere else
//! (<https://code.claude.com/docs/en/cli-reference>): the job's tools are the CLI's own, and
//! an MCP server is a program plus network access that the egress fence would not know about.
//! `--setting-sources` stays at its default (user, project, local): the user level is the
//! fresh `HOME`, the other two are the trusted files.

use std::path::Path;

use crate::agent::env::ChildEnv;
use crate::agent::invocation::{DUMMY_KEY, Invocation};
use crate::agent::options::{CliOptions, NO_OPTIONS};

/// Switches off Claude Code's traffic to Anthropic's public hosts (update checks, telemetry,
/// error reports), which would bypass the proxy and fail behind an egress fence.
const QUIET: &[(&str, &str)] = &[
    (
        crate::env::CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC.name(),
        "1",
    ),
    ("DISABLE_AUTOUPDATER", "1"),
    ("DISABLE_TELEMETRY", "1"),
    ("DISABLE_ERROR_REPORTING", "1"),
    ("IS_SANDBOX", "1"),
];

/// Where Claude sends model calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint<'a> {
    /// The key proxy's base URL; the CLI holds only [`DUMMY_KEY`].
    Proxy(&'a str),
    /// Bedrock or Vertex, with the credentials [`ChildEnv::base`] copied for it.
    Cloud,
}

/// The Claude-specific choices of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ClaudeOptions<'a> {
    pub model: Option<&'a str>,
    pub max_turns: Option<u32>,
    /// `--max-budget-usd` (Claude Code 2.1.331: "Maximum dollar amount to spend on API
    /// calls"); the run ends with a `result` of subtype `error_max_budget_usd`.
    pub max_budget_usd: Option<f64>,
    /// `CLAUDE_CODE_MAX_RETRIES`; Claude Code otherwise retries failed calls for minutes.
    pub max_retries: Option<u32>,
    /// Tools, effort, fallback model and the extra arguments, appended last.
    pub options: &'a CliOptions,
    /// The `--mcp-config` JSON ([`crate::agent::mcp::claude_config`]): the run's MCP
    /// servers, HTTP ones at their key proxy URLs. `--strict-mcp-config` is always set, so
    /// without it Claude starts no MCP server at all.
    pub mcp_config: Option<&'a str>,
}

impl Default for ClaudeOptions<'_> {
    fn default() -> Self {
        Self {
            model: None,
            max_turns: None,
            max_budget_usd: None,
            max_retries: None,
            options: &NO_OPTIONS,
            mcp_config: None,
        }
    }
}

pub(crate) fn invocation(
    program: &Path,
    prompt: &str,
    mut env: ChildEnv,
    endpoint: Endpoint<'_>,
    options: ClaudeOptions<'_>,
) -> Invocation {
    let mut args: Vec<String> = [
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--permission-mode",
        "bypassPermissions",
        "--strict-mcp-config",
    ]
    .map(str::to_owned)
    .to_vec();
    if let Some(config) = options.mcp_config {
        // One argument: `--mcp-config` takes several values and would swallow the next ones.
        args.push(format!("--mcp-config={config}"));
    }
    if let Some(model) = options.model {
        args.extend(["--model".to_owned(), model.to_owned()]);
    }
    if let Some(turns) = options.max_turns {
        args.extend(["--max-turns".to_owned(), turns.to_string()]);
    }
    if let Some(budget) = options.max_budget_usd {
        args.extend(["--max-budget-usd".to_owned(), budget.to_string()]);
    }
    let extra = options.options;
    // Claude Code 2.1.331 (`claude --help`: "JSON Schema for structured output validation
    // (only works with --print)") gives the model a `StructuredOutput` tool with this schema,
    // checks the tool's input against it, and reports the value as `structured_output` in
    // its `result` event.
    if let Some(schema) = &extra.output_schema {
        args.extend(["--json-schema".to_owned(), schema.clone()]);
    }
    if let Some(fallback) = &extra.fallback_model {
        args.extend(["--fallback-model".to_owned(), fallback.clone()]);
    }
    if let Some(effort) = extra.effort {
        args.extend(["--effort".to_owned(), effort.as_str().to_owned()]);
    }
    // One argument per flag, the list comma-separated: a variadic flag would swallow the
    // arguments after it.
    if !extra.allowed_tools.is_empty() {
        args.push(format!("--allowedTools={}", extra.allowed_tools.join(",")));
    }
    if !extra.disallowed_tools.is_empty() {
        args.push(format!(
            "--disallowedTools={}",
            extra.disallowed_tools.join(",")
        ));
    }
    args.extend(extra.extra_args.iter().cloned());
    for (name, value) in QUIET {
        env.set(name, *value);
    }
    if let Endpoint::Proxy(base_url) = endpoint {
        env.set(crate::env::ANTHROPIC_BASE_URL.name(), base_url);
        env.set(crate::env::ANTHROPIC_API_KEY.name(), DUMMY_KEY);
    }
    if let Some(retries) = options.max_retries {
        env.set(
            crate::env::CLAUDE_CODE_MAX_RETRIES.name(),
            retries.to_string(),
        );
    }
    Invocation {
        program: program.to_owned(),
        args,
        env,
        stdin: prompt.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Claude on Bedrock or Vertex with the prompt `x`: the arguments without the proxy's.
    fn on_cloud(options: ClaudeOptions<'_>) -> Invocation {
        invocation(
            Path::new("claude"),
            "x",
            ChildEnv::default(),
            Endpoint::Cloud,
            options,
        )
    }

    /// [`on_cloud`] with the extra options `options` and nothing else.
    fn with_options(options: &CliOptions) -> Invocation {
        on_cloud(ClaudeOptions {
            options,
            ..ClaudeOptions::default()
        })
    }

    #[test]
    fn headless_stream_json_with_model_turns_and_the_proxy() {
        let call = invocation(
            Path::new("/usr/local/bin/claude"),
            "Fix the bug.",
            ChildEnv::default(),
            Endpoint::Proxy("http://127.0.0.1:4000/tok"),
            ClaudeOptions {
                model: Some("claude-sonnet-4-6"),
                max_turns: Some(30),
                max_budget_usd: Some(0.5),
                max_retries: Some(2),
                ..ClaudeOptions::default()
            },
        );
        assert_eq!(
            call.args.join(" "),
            "-p --output-format stream-json --verbose --permission-mode bypassPermissions --strict-mcp-config --model claude-sonnet-4-6 --max-turns 30 --max-budget-usd 0.5"
        );
        assert_eq!(call.stdin, "Fix the bug.");
        assert_eq!(
            call.env.get("ANTHROPIC_BASE_URL"),
            Some("http://127.0.0.1:4000/tok")
        );
        assert_eq!(call.env.get("ANTHROPIC_API_KEY"), Some(DUMMY_KEY));
        assert_eq!(call.env.get("IS_SANDBOX"), Some("1"));
        assert_eq!(
            call.env.get("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"),
            Some("1")
        );
        assert_eq!(call.env.get("CLAUDE_CODE_MAX_RETRIES"), Some("2"));
    }

    #[test]
    fn tools_effort_fallback_and_extra_arguments_come_after_the_jobs_own() {
        let options = CliOptions {
            extra_args: vec!["--append-system-prompt".into(), "Be brief".into()],
            allowed_tools: vec!["Edit".into()],
            disallowed_tools: vec!["WebFetch".into(), "Bash(curl:*)".into()],
            effort: Some(crate::agent::options::Effort::Low),
            fallback_model: Some("claude-haiku-4-5".into()),
            ..CliOptions::default()
        };
        let call = with_options(&options);
        assert_eq!(
            call.args[7..],
            [
                "--fallback-model",
                "claude-haiku-4-5",
                "--effort",
                "low",
                "--allowedTools=Edit",
                "--disallowedTools=WebFetch,Bash(curl:*)",
                "--append-system-prompt",
                "Be brief"
            ]
        );
    }

    #[test]
    fn an_output_schema_is_passed_as_json_schema() {
        let options = CliOptions {
            output_schema: Some(r#"{"type":"object"}"#.into()),
            ..CliOptions::default()
        };
        let call = with_options(&options);
        let at = call.args.iter().position(|a| a == "--json-schema").unwrap();
        assert_eq!(call.args[at + 1], r#"{"type":"object"}"#);
        let plain = on_cloud(ClaudeOptions::default());
        assert!(!plain.args.contains(&"--json-schema".to_owned()));
    }

    #[test]
    fn mcp_servers_are_one_argument_after_strict_mcp_config() {
        let call = on_cloud(ClaudeOptions {
            mcp_config: Some(r#"{"mcpServers":{}}"#),
            model: Some("m"),
            ..ClaudeOptions::default()
        });
        assert_eq!(
            call.args[6..9],
            [
                "--strict-mcp-config",
                r#"--mcp-config={"mcpServers":{}}"#,
                "--model"
            ]
        );
    }

    #[test]
    fn cloud_providers_get_no_proxy_and_no_key() {
        let call = on_cloud(ClaudeOptions::default());
        assert_eq!(call.env.get("ANTHROPIC_BASE_URL"), None);
        assert_eq!(call.env.get("ANTHROPIC_API_KEY"), None);
        assert!(!call.args.contains(&"--model".to_owned()));
    }
}
