//! How Codex is started: `codex exec --json` with the prompt on stdin, a model provider that
//! points at the key proxy, no start-up traffic, and rules from `CODEX.md` only.
//!
//! Facts this encodes (codex 0.169.0, measured against local doubles, see
//! `tests/tests/it/assistant_run.rs`):
//! - `OPENAI_BASE_URL` is ignored; the endpoint must come from config, here a custom provider
//!   (`model_providers.<id>`), which also avoids the built-in provider's websocket attempt.
//! - Without `check_for_update_on_startup=false`, `features.plugins=false`,
//!   `features.remote_plugin=false` and `analytics.enabled=false` it contacts github.com and
//!   chatgpt.com at start.
//! - Its own sandbox (bubblewrap) cannot start inside a container, so it runs with
//!   `--dangerously-bypass-approvals-and-sandbox`; the job container is the sandbox.
//! - Project docs: Codex reads `AGENTS.override.md`, then `AGENTS.md`, then the names in
//!   `project_doc_fallback_filenames`, one per directory (codex-rs `core/src/project_doc.rs`),
//!   so a fallback name can never win over an `AGENTS.md`. By default
//!   (`AI_CODEX_RULES=codex`) we turn project docs off (`project_doc_max_bytes=0`) and pass the
//!   workspace's `CODEX.md` as `developer_instructions` instead; `agents` leaves Codex's own
//!   `AGENTS.md` reading on (and passes no `CODEX.md`), `both` does both.

use std::path::Path;

use crate::agent::env::ChildEnv;
use crate::agent::invocation::{DUMMY_KEY, Invocation};
use crate::agent::options::CliOptions;

/// `-c` overrides that stop Codex's start-up traffic to public hosts.
const QUIET: &[&str] = &[
    "check_for_update_on_startup=false",
    "features.plugins=false",
    "features.remote_plugin=false",
    "analytics.enabled=false",
];

/// The id of our provider in Codex's config (`openai`, `ollama` and `lmstudio` are reserved).
const PROVIDER_ID: &str = "gitlab_ai_proxy";

/// The variable the provider reads its key from (`env_key`); it holds [`DUMMY_KEY`].
const KEY_VARIABLE: &str = crate::env::OPENAI_API_KEY.name();

/// The rules file of the repository, at the workspace root.
pub(crate) const RULES_FILE: &str = "CODEX.md";

/// At most this much of `CODEX.md` is passed, Codex's own default cap for project docs
/// (`project_doc_max_bytes`, 32 KiB); it also keeps the argument far below the kernel's
/// 128 KiB limit.
const RULES_LIMIT: usize = 32 * 1024;

/// The Codex-specific choices of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodexOptions<'a> {
    pub model: Option<&'a str>,
    /// The key proxy's base URL, used as the provider's `base_url` (Codex appends
    /// `/responses`).
    pub proxy_url: &'a str,
    /// `request_max_retries` and `stream_max_retries` of the provider (Codex's defaults are 4
    /// and 5; on a 500 that is about 25 s of retries).
    pub max_retries: Option<u32>,
    /// The text of `CODEX.md`, if the workspace has one.
    pub rules: Option<&'a str>,
    /// Reasoning effort and the extra arguments (tool lists and the fallback model are
    /// Claude's; [`super::ignored_by_codex`] names them for the log).
    pub options: &'a CliOptions,
    /// `--output-schema`: the file holding `AI_OUTPUT_SCHEMA` (codex 0.169.0 `codex exec
    /// --help`: "Path to a JSON Schema file describing the model's final response shape"); the
    /// final `agent_message` is then that JSON as text.
    pub output_schema: Option<&'a Path>,
    /// `mcp_servers.<name>={…}` overrides ([`crate::agent::mcp::codex_config`]).
    pub mcp_servers: &'a [String],
}

/// The name of the `--output-schema` file in Codex's fresh home.
pub(crate) const OUTPUT_SCHEMA_FILE: &str = "output-schema.json";

pub(crate) fn invocation(
    program: &Path,
    prompt: &str,
    codex_home: &Path,
    mut env: ChildEnv,
    options: CodexOptions<'_>,
) -> Invocation {
    let mut args: Vec<String> = [
        "exec",
        "--json",
        "--dangerously-bypass-approvals-and-sandbox",
    ]
    .map(str::to_owned)
    .to_vec();
    // One `--image=` per file: the flag takes several values, and a bare `-i a b` would take
    // the arguments after it as images too.
    for image in &options.options.images {
        args.push(format!("--image={}", image.display()));
    }
    let mut config: Vec<String> = QUIET.iter().map(|s| (*s).to_owned()).collect();
    let mut provider = format!(
        "{{name={},base_url={},env_key={},wire_api=\"responses\"",
        toml_string("GitLab AI key proxy"),
        toml_string(options.proxy_url),
        toml_string(KEY_VARIABLE),
    );
    if let Some(retries) = options.max_retries {
        provider.push_str(&format!(
            ",request_max_retries={retries},stream_max_retries={retries}"
        ));
    }
    provider.push('}');
    config.push(format!("model_provider={}", toml_string(PROVIDER_ID)));
    config.push(format!("model_providers.{PROVIDER_ID}={provider}"));
    if !options.options.codex_rules.reads_agents_md() {
        config.push("project_doc_max_bytes=0".to_owned());
    }
    if let Some(rules) = options.rules.filter(|r| !r.trim().is_empty()) {
        config.push(format!("developer_instructions={}", toml_string(rules)));
    }
    config.extend(options.mcp_servers.iter().cloned());
    if let Some(effort) = options.options.effort {
        config.push(format!(
            "model_reasoning_effort={}",
            toml_string(effort.as_str())
        ));
    }
    for setting in config {
        args.extend(["-c".to_owned(), setting]);
    }
    if let Some(model) = options.model {
        args.extend(["-m".to_owned(), model.to_owned()]);
    }
    if let Some(schema) = options.output_schema {
        args.push(format!("--output-schema={}", schema.display()));
    }
    args.extend(options.options.extra_args.iter().cloned());
    // `-` reads the prompt from stdin, which is then closed (otherwise Codex waits for more).
    args.push("-".to_owned());
    env.set(crate::env::CODEX_HOME.name(), codex_home.to_string_lossy());
    env.set(KEY_VARIABLE, DUMMY_KEY);
    Invocation {
        program: program.to_owned(),
        args,
        env,
        stdin: prompt.to_owned(),
    }
}

/// The workspace's `CODEX.md`, cut to [`RULES_LIMIT`] bytes on a character boundary; `None`
/// when there is none.
pub(crate) fn read_rules(workspace: &Path) -> std::io::Result<Option<String>> {
    let path = workspace.join(RULES_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let text = String::from_utf8_lossy(&bytes);
    if text.len() <= RULES_LIMIT {
        return Ok(Some(text.into_owned()));
    }
    tracing::warn!(
        limit = RULES_LIMIT,
        size = text.len(),
        "CODEX.md is larger than the limit; only its beginning is passed to Codex"
    );
    let mut end = RULES_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Ok(Some(text[..end].to_owned()))
}

/// `value` as a TOML string, as Codex parses `-c key=value`.
fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::options::NO_OPTIONS;

    /// Codex at `/opt/codex`, its fresh home under `/tmp/run`, asked `prompt`.
    fn exec(prompt: &str, options: CodexOptions<'_>) -> Invocation {
        invocation(
            Path::new("/opt/codex"),
            prompt,
            Path::new("/tmp/run/home/.codex"),
            ChildEnv::default(),
            options,
        )
    }

    /// A run through the key proxy with nothing else chosen.
    fn through_the_proxy() -> CodexOptions<'static> {
        CodexOptions {
            model: None,
            proxy_url: "http://127.0.0.1:4000/tok",
            max_retries: None,
            rules: None,
            options: &NO_OPTIONS,
            output_schema: None,
            mcp_servers: &[],
        }
    }

    fn config_values(call: &Invocation) -> Vec<&str> {
        call.args
            .windows(2)
            .filter(|w| w[0] == "-c")
            .map(|w| w[1].as_str())
            .collect()
    }

    #[test]
    fn exec_json_with_the_proxy_provider_quiet_config_and_stdin_prompt() {
        let call = exec(
            "Fix it.",
            CodexOptions {
                model: Some("o4-mini"),
                max_retries: Some(1),
                rules: Some("Use \"tabs\".\nNever push."),
                mcp_servers: &["mcp_servers.t={url=\"http://127.0.0.1:4000/m\"}".to_owned()],
                ..through_the_proxy()
            },
        );
        assert_eq!(
            &call.args[..3],
            [
                "exec",
                "--json",
                "--dangerously-bypass-approvals-and-sandbox"
            ]
        );
        assert_eq!(&call.args[call.args.len() - 3..], ["-m", "o4-mini", "-"]);
        let config = config_values(&call);
        for quiet in QUIET {
            assert!(config.contains(quiet), "{quiet}");
        }
        assert!(config.contains(&"model_provider=\"gitlab_ai_proxy\""));
        assert!(config.contains(
            &"model_providers.gitlab_ai_proxy={name=\"GitLab AI key proxy\",base_url=\"http://127.0.0.1:4000/tok\",env_key=\"OPENAI_API_KEY\",wire_api=\"responses\",request_max_retries=1,stream_max_retries=1}"
        ));
        assert!(config.contains(&"project_doc_max_bytes=0"));
        assert!(config.contains(&"mcp_servers.t={url=\"http://127.0.0.1:4000/m\"}"));
        let rules = config
            .iter()
            .find_map(|c| c.strip_prefix("developer_instructions="))
            .unwrap();
        let parsed: toml::Table = toml::from_str(&format!("x = {rules}")).unwrap();
        assert_eq!(parsed["x"].as_str(), Some("Use \"tabs\".\nNever push."));
        assert_eq!(call.stdin, "Fix it.");
        assert_eq!(call.env.get("CODEX_HOME"), Some("/tmp/run/home/.codex"));
        assert_eq!(call.env.get("OPENAI_API_KEY"), Some(DUMMY_KEY));
    }

    #[test]
    fn an_output_schema_file_is_passed_before_the_stdin_marker() {
        let call = exec(
            "x",
            CodexOptions {
                output_schema: Some(Path::new("/tmp/run/home/.codex/output-schema.json")),
                ..through_the_proxy()
            },
        );
        assert_eq!(
            &call.args[call.args.len() - 2..],
            [
                "--output-schema=/tmp/run/home/.codex/output-schema.json",
                "-"
            ]
        );
    }

    #[test]
    fn rules_are_read_from_codex_md_and_cut_on_a_character_boundary() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_rules(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join("AGENTS.md"), "agents").unwrap();
        assert_eq!(read_rules(dir.path()).unwrap(), None);
        std::fs::write(dir.path().join(RULES_FILE), "é".repeat(RULES_LIMIT)).unwrap();
        let rules = read_rules(dir.path()).unwrap().unwrap();
        assert_eq!(rules.len(), RULES_LIMIT);
        assert!(rules.chars().all(|c| c == 'é'));
    }
}
