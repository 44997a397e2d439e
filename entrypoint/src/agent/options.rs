//! Settings teams pass to the CLIs beyond the model: extra arguments (`AI_CLAUDE_ARGS`,
//! `AI_CODEX_ARGS`), tools allowed and denied (`AI_ALLOWED_TOOLS`, `AI_DISALLOWED_TOOLS`),
//! reasoning effort (`AI_REASONING_EFFORT`) and Claude's fallback model
//! (`CLAUDE_FALLBACK_MODEL`).
//!
//! Extra arguments are parsed as a shell would split them (quotes, backslashes; no expansion)
//! and checked against the flags that could undo what the job guarantees: the key proxy (a
//! base URL, a provider, a settings file with an `apiKeyHelper` or `env`), the sandbox and the
//! permission mode (`--dangerously-*`, `--permission-mode`, `-s`, `--add-dir`, `--cd`), the
//! trusted configuration (`--settings`, `--mcp-config`, `--plugin-dir`, `--trust`, Codex
//! profiles and features), and the job's own wiring (`-p`, `--output-format`, `--json`,
//! sessions and remote modes). A refused flag stops the job with a message naming it; nothing
//! is dropped silently. Each list sits in its assistant's folder (`agent/claude/flags.rs`,
//! `agent/codex/flags.rs`), behind `Agent::refused_flags`. Codex's `-c key=value` is
//! checked by key against an allow-list: its config has many keys that reach the provider, the
//! sandbox or the shell (`model_providers`, `sandbox_*`, `shell_environment_policy`, `notify`,
//! `mcp_servers`, `profiles`, …), and new ones arrive with every release, so only keys known to
//! be harmless pass.

use std::sync::LazyLock;

use crate::agent::Assistant;
pub use crate::agent::codex::CodexRules;
use crate::env::Env;

/// A setting of this module cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// The value does not split like a shell word list.
    #[error("{variable} cannot be split into arguments: {reason}; quote it as a shell would")]
    Unparsable {
        variable: &'static str,
        reason: &'static str,
    },
    /// A flag that could undo a guarantee of the job.
    #[error("{variable} contains {flag}, which is refused: {reason}. Remove it from {variable}")]
    Refused {
        variable: &'static str,
        flag: String,
        reason: &'static str,
    },
    /// A Codex `-c` key outside the allow-list.
    #[error(
        "AI_CODEX_ARGS sets the Codex config key {key} with -c, which is refused: only {} may be set there (the provider, sandbox, approvals, shell, MCP and features are the job's). Remove it from AI_CODEX_ARGS",
        super::codex::CODEX_CONFIG_KEYS.join(", ")
    )]
    ConfigKey { key: String },
    /// Combined short flags (`-cp`) hide which flags they are.
    #[error("{variable} contains {flag}: write short flags one at a time (-x -y, not -xy)")]
    Combined {
        variable: &'static str,
        flag: String,
    },
    /// An effort the CLIs do not know.
    #[error("AI_REASONING_EFFORT={0:?} is not one of low, medium, high")]
    Effort(String),
    /// Not a rules choice.
    #[error("AI_CODEX_RULES={0:?} is not one of codex, agents, both")]
    CodexRules(String),
    /// The MCP configuration cannot be used.
    #[error(transparent)]
    Mcp(#[from] crate::agent::mcp::McpError),
}

/// How hard the model thinks: Claude's `--effort`, Codex's `model_reasoning_effort`. The
/// three levels both CLIs accept (Claude also knows `xhigh` and `max`, Codex `minimal`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Low,
    Medium,
    High,
}

impl Effort {
    /// The level whose [`Effort::as_str`] is `text`, in any case.
    fn parse(text: &str) -> Result<Self, OptionsError> {
        [Self::Low, Self::Medium, Self::High]
            .into_iter()
            .find(|effort| text.eq_ignore_ascii_case(effort.as_str()))
            .ok_or_else(|| OptionsError::Effort(text.to_owned()))
    }

    /// The word both CLIs take.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// The checked settings of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CliOptions {
    /// `AI_CLAUDE_ARGS` or `AI_CODEX_ARGS`, split and checked; appended after the job's own.
    pub extra_args: Vec<String>,
    /// `AI_ALLOWED_TOOLS`: Claude's `--allowedTools` (tools used without asking; in the job's
    /// permission mode every tool already is, so this matters only with rules in settings).
    pub allowed_tools: Vec<String>,
    /// `AI_DISALLOWED_TOOLS`: Claude's `--disallowedTools`, enforced even in the job's
    /// permission mode (`Bash(curl:*)`, `WebFetch`, …).
    pub disallowed_tools: Vec<String>,
    /// `AI_REASONING_EFFORT`.
    pub effort: Option<Effort>,
    /// `CLAUDE_FALLBACK_MODEL`: Claude's `--fallback-model`.
    pub fallback_model: Option<String>,
    /// `AI_CODEX_RULES`.
    pub codex_rules: CodexRules,
    /// Images downloaded for this run ([`crate::context::images`]): Codex gets them with
    /// `--image`; Claude reads the files the prompt names. Set by the job, not by a variable.
    pub images: Vec<std::path::PathBuf>,
    /// The JSON Schema an automation run's final result must match (`AI_OUTPUT_SCHEMA`,
    /// [`crate::automation::schema`]), as JSON text: Claude gets it as `--json-schema`, Codex
    /// as an `--output-schema` file in its fresh home. Set by the job, not by a variable here.
    pub output_schema: Option<String>,
    /// MCP servers: `AI_MCP_CONFIG` here; the job replaces it with the default branch's
    /// `AI_MCP_CONFIG_FILE` ([`crate::run::house::mcp_config`]).
    pub mcp: crate::agent::mcp::McpConfig,
}

/// No extra options: [`CliOptions::default`] as a `'static` for option sets that borrow
/// them by default.
pub(crate) static NO_OPTIONS: LazyLock<CliOptions> = LazyLock::new(CliOptions::default);

impl CliOptions {
    /// Reads and checks the settings for `assistant` from `var`.
    pub fn from_env(assistant: Assistant, var: &dyn Env) -> Result<Self, OptionsError> {
        let set = |name: &str| crate::env::non_blank(var, name);
        let variable = assistant.profile().args_variable;
        let agent = super::agent(assistant);
        let refused = agent.refused_flags();
        let extra_args = match set(variable) {
            Some(text) => {
                let args = split(variable, &text)?;
                check(variable, &args, refused, assistant)?;
                args
            }
            None => Vec::new(),
        };
        let tools = |name: &str| -> Vec<String> {
            set(name)
                .map(|text| {
                    text.split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        Ok(Self {
            extra_args,
            allowed_tools: tools(crate::env::AI_ALLOWED_TOOLS.name()),
            disallowed_tools: tools(crate::env::AI_DISALLOWED_TOOLS.name()),
            effort: set(crate::env::AI_REASONING_EFFORT.name())
                .map(|e| Effort::parse(&e))
                .transpose()?,
            fallback_model: agent.cli_fallback_model_variable().and_then(set),
            codex_rules: set(crate::env::AI_CODEX_RULES.name())
                .map(|r| CodexRules::parse(&r))
                .transpose()?
                .unwrap_or_default(),
            images: Vec::new(),
            output_schema: None,
            mcp: mcp_from_env(&set)?,
        })
    }
}

/// `AI_MCP_CONFIG`, parsed; refused together with `AI_MCP_CONFIG_FILE`, whose file the job
/// reads from the default branch later.
fn mcp_from_env(set: &dyn Env) -> Result<crate::agent::mcp::McpConfig, OptionsError> {
    use crate::agent::mcp::{FILE_VARIABLE, McpConfig, McpError, VARIABLE};
    match (set.var(VARIABLE), set.var(FILE_VARIABLE)) {
        (Some(_), Some(_)) => Err(McpError::BothSources.into()),
        (Some(text), None) => {
            let config = McpConfig::parse(VARIABLE, &text)?;
            // A variable a header names must be set: say so before anything is posted (the
            // run resolves the values again, in the process that holds them).
            config.resolve(set)?;
            Ok(config)
        }
        (None, _) => Ok(McpConfig::empty()),
    }
}

/// Splits `text` as POSIX `sh` splits words: blanks separate, single quotes keep everything,
/// double quotes keep all but `\"` and `\\`, a backslash outside quotes keeps the next
/// character. No expansion of any kind happens.
pub fn split(variable: &'static str, text: &str) -> Result<Vec<String>, OptionsError> {
    let unparsable = |reason| OptionsError::Unparsable { variable, reason };
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(unparsable("a single quote is not closed")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(unparsable("a double quote is not closed")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(unparsable("a double quote is not closed")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err(unparsable("it ends with a backslash")),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Refuses the flags of `refused` (also as `--flag=value`), combined short flags, and for
/// Codex every `-c`/`--config` key outside [`super::codex::CODEX_CONFIG_KEYS`].
fn check(
    variable: &'static str,
    args: &[String],
    refused: &[(&str, &'static str)],
    assistant: Assistant,
) -> Result<(), OptionsError> {
    let mut iter = args.iter().peekable();
    while let Some(arg) = iter.next() {
        if !arg.starts_with('-') || arg == "-" || arg == "--" {
            continue;
        }
        let name = arg.split('=').next().unwrap_or(arg);
        if let Some((_, reason)) = refused.iter().find(|(flag, _)| *flag == name) {
            return Err(OptionsError::Refused {
                variable,
                flag: name.to_owned(),
                reason,
            });
        }
        super::agent(assistant).check_flag(Flag {
            variable,
            arg,
            name,
            rest: &mut iter,
        })?;
    }
    Ok(())
}

/// One flag of `AI_<NAME>_ARGS` that passed the refused flags, for the assistant's own check
/// ([`super::Agent::check_flag`]).
pub(crate) struct Flag<'a, 'r> {
    /// The variable it was written in.
    pub(crate) variable: &'static str,
    /// As written (`--config=model_verbosity=low`).
    pub(crate) arg: &'a str,
    /// Before any `=` (`--config`).
    pub(crate) name: &'a str,
    /// The arguments after it, for a flag whose value is the next argument.
    pub(crate) rest: &'r mut dyn Iterator<Item = &'a String>,
}

impl Flag<'_, '_> {
    /// A short flag written together with others or with its value (`-abc`, `-mo4`): the
    /// CLIs' parsers would read it differently from the refused-flag check.
    pub(crate) fn is_combined_short(&self) -> bool {
        !self.name.starts_with("--") && self.name.chars().count() > 2
    }

    /// Refuses the flag as [`OptionsError::Combined`].
    pub(crate) fn combined(&self) -> OptionsError {
        OptionsError::Combined {
            variable: self.variable,
            flag: self.arg.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    /// The options read with `AI_CLAUDE_ARGS` or `AI_CODEX_ARGS` (as `assistant` reads) set to
    /// `args`, and nothing else.
    fn with_args(assistant: Assistant, args: &str) -> Result<CliOptions, OptionsError> {
        CliOptions::from_env(
            assistant,
            &vars(&[(assistant.profile().args_variable, args)]),
        )
    }

    #[test]
    fn arguments_split_like_a_shell() {
        assert_eq!(
            split(
                "X",
                r#"--append-system-prompt "Be brief, \"please\"" --name 'a b' c\ d"#
            )
            .unwrap(),
            [
                "--append-system-prompt",
                "Be brief, \"please\"",
                "--name",
                "a b",
                "c d"
            ]
        );
        assert!(matches!(
            split("X", "--name 'open"),
            Err(OptionsError::Unparsable { .. })
        ));
    }

    #[test]
    fn claude_flags_that_undo_the_guarantees_are_refused_by_name() {
        for (args, flag) in [
            (
                "--dangerously-skip-permissions",
                "--dangerously-skip-permissions",
            ),
            ("--permission-mode=default", "--permission-mode"),
            ("--settings '{\"apiKeyHelper\":\"cat /key\"}'", "--settings"),
            ("--name x --mcp-config m.json", "--mcp-config"),
            ("--add-dir /", "--add-dir"),
            ("--json-schema '{}'", "--json-schema"),
        ] {
            let error = with_args(Assistant::Claude, args).unwrap_err();
            assert!(
                matches!(&error, OptionsError::Refused { flag: f, .. } if f == flag),
                "{args}: {error}"
            );
            assert!(
                error.to_string().contains("AI_CLAUDE_ARGS contains"),
                "{error}"
            );
        }
        let error = with_args(Assistant::Claude, "-cp").unwrap_err();
        assert!(matches!(error, OptionsError::Combined { .. }), "{error}");
    }

    #[test]
    fn codex_config_keys_pass_only_when_harmless() {
        let ok = with_args(
            Assistant::Codex,
            "-c model_verbosity=low --config=hide_agent_reasoning=true --skip-git-repo-check",
        )
        .unwrap();
        assert_eq!(ok.extra_args.len(), 4);
        for args in [
            "-c model_provider=openai",
            "-c 'model_providers.x={base_url=\"http://evil\"}'",
            "--config=sandbox_mode=danger-full-access",
            "-capproval_policy=never",
            "-c shell_environment_policy.inherit=all",
            "-c notify=[\"sh\"]",
        ] {
            let error = with_args(Assistant::Codex, args).unwrap_err();
            assert!(
                matches!(error, OptionsError::ConfigKey { .. }),
                "{args}: {error}"
            );
        }
        let error = with_args(
            Assistant::Codex,
            "--dangerously-bypass-approvals-and-sandbox",
        )
        .unwrap_err();
        assert!(matches!(error, OptionsError::Refused { .. }), "{error}");
    }

    #[test]
    fn tools_effort_and_fallback() {
        let options = CliOptions::from_env(
            Assistant::Claude,
            &vars(&[
                ("AI_DISALLOWED_TOOLS", "WebFetch, Bash(curl:*)"),
                ("AI_REASONING_EFFORT", "High"),
                ("CLAUDE_FALLBACK_MODEL", "claude-haiku-4-5"),
            ]),
        )
        .unwrap();
        assert_eq!(options.disallowed_tools, ["WebFetch", "Bash(curl:*)"]);
        assert_eq!(options.effort, Some(Effort::High));
        assert_eq!(options.fallback_model.as_deref(), Some("claude-haiku-4-5"));
        assert!(
            CliOptions::from_env(
                Assistant::Codex,
                &vars(&[("AI_REASONING_EFFORT", "extreme")])
            )
            .is_err()
        );
    }

    #[test]
    fn mcp_servers_come_from_one_variable() {
        let text = "[mcp_servers.docs]\ncommand = \"docs-mcp\"\n";
        let options =
            CliOptions::from_env(Assistant::Codex, &vars(&[("AI_MCP_CONFIG", text)])).unwrap();
        assert_eq!(options.mcp.servers().keys().collect::<Vec<_>>(), ["docs"]);
        // The file is read later, from the default branch; here the options stay empty.
        let from_file = CliOptions::from_env(
            Assistant::Claude,
            &vars(&[("AI_MCP_CONFIG_FILE", ".gitlab/ai-mcp.toml")]),
        )
        .unwrap();
        assert!(from_file.mcp.is_empty());
        let both = CliOptions::from_env(
            Assistant::Claude,
            &vars(&[
                ("AI_MCP_CONFIG", text),
                ("AI_MCP_CONFIG_FILE", ".gitlab/ai-mcp.toml"),
            ]),
        )
        .unwrap_err();
        assert!(both.to_string().contains("keep one"), "{both}");
        let bad = CliOptions::from_env(
            Assistant::Claude,
            &vars(&[("AI_MCP_CONFIG", "[mcp_servers.x]\ncommand = \"s ${TOKEN}\"")]),
        )
        .unwrap_err();
        assert!(bad.to_string().contains("AI_MCP_CONFIG"), "{bad}");
        let http = "[mcp_servers.t]\nurl = \"https://t.example/mcp\"\nheaders = { Authorization = \"Bearer ${T_TOKEN}\" }";
        let unset =
            CliOptions::from_env(Assistant::Claude, &vars(&[("AI_MCP_CONFIG", http)])).unwrap_err();
        assert!(unset.to_string().contains("T_TOKEN"), "{unset}");
        assert!(
            CliOptions::from_env(
                Assistant::Claude,
                &vars(&[("AI_MCP_CONFIG", http), ("T_TOKEN", "tok-1")])
            )
            .is_ok()
        );
    }
}
