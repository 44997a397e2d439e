//! The assistant's environment, built from nothing: an allowlist, never a denylist.
//!
//! The model can run shell commands, so anything in the CLI's environment can end up in a
//! prompt, a commit or a note. The job's environment holds `GITLAB_TOKEN`, `CI_JOB_TOKEN`,
//! `CI_REGISTRY_PASSWORD`, the model API keys and whatever else the project defined; none of it
//! is copied unless its name is listed here. The model API key reaches the API through the
//! [key proxy](crate::proxy) instead.
//!
//! The one exception is a cloud provider chosen for Claude (Amazon Bedrock or Google Vertex AI):
//! Claude Code signs those requests itself, so the `AWS_*` or Google variables must be in its
//! environment, and are copied only when that provider is selected. Use short-lived, narrowly
//! scoped cloud credentials for these jobs.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Copied from the job when set: what programs need to run, find their locale and terminal,
/// trust the job's CA bundle, and commit as the configured author.
const SYSTEM: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "TERM",
    "TZ",
    "TMPDIR",
    "USER",
    "LOGNAME",
    "SHELL",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
];

/// Copied when set: settings that tune the CLIs and hold no credential. Some contain `TOKENS`
/// (token counts), which is why this list is checked by name and not by the secret rule.
const SETTINGS: &[&str] = &[
    crate::env::CLAUDE_MODEL.name(),
    crate::env::CODEX_MODEL.name(),
    crate::env::ANTHROPIC_MODEL.name(),
    crate::env::ANTHROPIC_SMALL_FAST_MODEL.name(),
    crate::env::CLAUDE_CODE_MAX_OUTPUT_TOKENS.name(),
    "MAX_THINKING_TOKENS",
    "BASH_DEFAULT_TIMEOUT_MS",
    "BASH_MAX_TIMEOUT_MS",
];

/// Claude Code on Amazon Bedrock
/// (<https://docs.anthropic.com/en/docs/claude-code/amazon-bedrock>): these names and every
/// `AWS_*` variable.
const BEDROCK: &[&str] = &[
    crate::env::CLAUDE_CODE_USE_BEDROCK.name(),
    crate::env::CLAUDE_CODE_SKIP_BEDROCK_AUTH.name(),
    crate::env::ANTHROPIC_BEDROCK_BASE_URL.name(),
];

/// Claude Code on Google Vertex AI
/// (<https://docs.anthropic.com/en/docs/claude-code/google-vertex-ai>): these names and every
/// `VERTEX_REGION_*` variable.
const VERTEX: &[&str] = &[
    crate::env::CLAUDE_CODE_USE_VERTEX.name(),
    crate::env::CLAUDE_CODE_SKIP_VERTEX_AUTH.name(),
    "CLOUD_ML_REGION",
    crate::env::ANTHROPIC_VERTEX_PROJECT_ID.name(),
    crate::env::ANTHROPIC_VERTEX_BASE_URL.name(),
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
];

/// Name parts that mark a credential; a name containing one is never passed through on
/// request.
const SECRET_MARKS: &[&str] = &[
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "KEY",
    "CREDENTIAL",
    "AUTH",
    "COOKIE",
];

/// Names the run sets itself or that change how every program runs.
const RESERVED: &[&str] = &[
    "PATH",
    "HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    crate::env::CODEX_HOME.name(),
    crate::env::ANTHROPIC_BASE_URL.name(),
    crate::env::OPENAI_BASE_URL.name(),
    "NO_PROXY",
    "LD_PRELOAD",
    "LD_LIBRARY_PATH",
    "BASH_ENV",
    "ENV",
];

/// Loopback never goes through an HTTP proxy: the key proxy is on 127.0.0.1.
pub(crate) const NO_PROXY: &str = "127.0.0.1,localhost,::1";

/// A cloud provider whose credentials Claude Code must hold itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cloud {
    Bedrock,
    Vertex,
}

/// The variables of the assistant's process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildEnv {
    vars: BTreeMap<String, String>,
    refused: Vec<String>,
}

impl ChildEnv {
    /// The environment every assistant gets, taken from `parent` (the job's variables):
    /// [`SYSTEM`] and `LC_*`, [`SETTINGS`], `passthrough` names that look harmless, the cloud
    /// provider's variables when `cloud` is set, `HOME` and the XDG directories in `home`, and
    /// `PATH` with `extra_path` first. `NO_PROXY` keeps loopback off HTTP proxies; the proxies
    /// themselves are not copied, since their URLs may carry credentials.
    pub fn base(
        parent: impl IntoIterator<Item = (String, String)>,
        home: &Path,
        extra_path: &[PathBuf],
        cloud: Option<Cloud>,
        passthrough: &[String],
    ) -> Self {
        let parent: BTreeMap<String, String> = parent.into_iter().collect();
        let mut env = Self::default();
        for (name, value) in &parent {
            let copy = SYSTEM.contains(&name.as_str())
                || name.starts_with("LC_")
                || SETTINGS.contains(&name.as_str())
                || cloud.is_some_and(|c| is_cloud_variable(c, name));
            if copy {
                env.vars.insert(name.clone(), value.clone());
            }
        }
        for name in passthrough {
            let name = name.trim();
            if name.is_empty() || env.vars.contains_key(name) {
                continue;
            }
            if may_pass_through(name) {
                if let Some(value) = parent.get(name) {
                    env.vars.insert(name.to_owned(), value.clone());
                }
            } else {
                env.refused.push(name.to_owned());
            }
        }
        let system_path = parent
            .get("PATH")
            .cloned()
            .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".to_owned());
        let dirs = extra_path
            .iter()
            .map(|d| d.as_os_str().to_owned())
            .chain(std::env::split_paths(&system_path).map(PathBuf::into_os_string));
        let path = std::env::join_paths(dirs).unwrap_or_else(|_| OsString::from(system_path));
        env.set("PATH", path.to_string_lossy());
        env.set("HOME", home.to_string_lossy());
        env.set("XDG_CONFIG_HOME", home.join(".config").to_string_lossy());
        env.set("XDG_CACHE_HOME", home.join(".cache").to_string_lossy());
        env.set("XDG_DATA_HOME", home.join(".local/share").to_string_lossy());
        env.set("NO_PROXY", NO_PROXY);
        env.set("no_proxy", NO_PROXY);
        // A git command that wants a password fails instead of waiting for one.
        env.set("GIT_TERMINAL_PROMPT", "0");
        env
    }

    /// Sets a variable of the run's own (the proxy URL, the dummy key, a CLI switch).
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.vars.insert(name.to_owned(), value.into());
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    /// Every variable, sorted by name.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    /// Names asked for in the pass-through list but refused because they look like
    /// credentials, belong to GitLab CI, or are set by the run itself.
    pub fn refused(&self) -> &[String] {
        &self.refused
    }
}

fn is_cloud_variable(cloud: Cloud, name: &str) -> bool {
    match cloud {
        Cloud::Bedrock => BEDROCK.contains(&name) || name.starts_with("AWS_"),
        Cloud::Vertex => VERTEX.contains(&name) || name.starts_with("VERTEX_REGION_"),
    }
}

/// Whether a name asked for by the project may be copied: not a credential by its name, not a
/// GitLab CI variable (they describe the project, the pipeline and its tokens), not reserved.
pub(crate) fn may_pass_through(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let valid = !upper.is_empty() && upper.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid
        && !SECRET_MARKS.iter().any(|mark| upper.contains(mark))
        && !upper.starts_with("CI_")
        && !upper.starts_with("GITLAB_")
        && !RESERVED.contains(&upper.as_str())
}

/// Splits `AI_ENV_PASSTHROUGH` (names separated by commas or whitespace).
pub(crate) fn parse_passthrough(list: &str) -> Vec<String> {
    list.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A job environment as GitLab CI builds it, with the secrets a project typically has.
    fn job() -> Vec<(String, String)> {
        [
            ("PATH", "/usr/bin:/bin"),
            ("HOME", "/root"),
            ("LANG", "C.UTF-8"),
            ("LC_ALL", "C.UTF-8"),
            ("TERM", "xterm"),
            ("USER", "root"),
            ("GIT_AUTHOR_NAME", "Claude"),
            ("GIT_AUTHOR_EMAIL", "claude@example.com"),
            ("GIT_ASKPASS", "/tmp/askpass"),
            ("GITLAB_TOKEN", "glpat-secret"),
            ("CI_JOB_TOKEN", "job-token"),
            ("CI_REGISTRY_PASSWORD", "registry-password"),
            ("CI_PROJECT_ID", "42"),
            ("CI_SERVER_URL", "https://gitlab.example"),
            ("ANTHROPIC_API_KEY", "sk-ant-secret"),
            ("OPENAI_API_KEY", "sk-secret"),
            ("CODEX_API_KEY", "sk-secret-2"),
            ("CLAUDE_CODE_OAUTH_TOKEN", "oauth"),
            ("DEPLOY_SECRET", "s"),
            ("DB_PASSWORD", "p"),
            ("SSH_PRIVATE_KEY", "k"),
            ("HTTPS_PROXY", "http://user:pw@proxy:3128"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret"),
            ("AWS_REGION", "eu-west-1"),
            ("CLAUDE_CODE_USE_BEDROCK", "1"),
            ("GOOGLE_APPLICATION_CREDENTIALS", "/creds.json"),
            ("CLOUD_ML_REGION", "us-east5"),
            ("CLAUDE_MODEL", "claude-sonnet-4-6"),
            ("MAX_THINKING_TOKENS", "1000"),
            ("MY_SETTING", "on"),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect()
    }

    fn names(env: &ChildEnv) -> Vec<&str> {
        env.vars().keys().map(String::as_str).collect()
    }

    #[test]
    fn only_allowlisted_variables_reach_the_assistant() {
        let env = ChildEnv::base(job(), Path::new("/tmp/run/home"), &[], None, &[]);
        assert_eq!(
            names(&env),
            [
                "CLAUDE_MODEL",
                "GIT_AUTHOR_EMAIL",
                "GIT_AUTHOR_NAME",
                "GIT_TERMINAL_PROMPT",
                "HOME",
                "LANG",
                "LC_ALL",
                "MAX_THINKING_TOKENS",
                "NO_PROXY",
                "PATH",
                "TERM",
                "USER",
                "XDG_CACHE_HOME",
                "XDG_CONFIG_HOME",
                "XDG_DATA_HOME",
                "no_proxy",
            ]
        );
        assert_eq!(env.get("HOME"), Some("/tmp/run/home"));
        let values: Vec<&String> = env.vars().values().collect();
        for secret in [
            "glpat-secret",
            "job-token",
            "sk-ant-secret",
            "sk-secret",
            "aws-secret",
            "user:pw",
        ] {
            assert!(
                values.iter().all(|v| !v.contains(secret)),
                "{secret} leaked"
            );
        }
    }

    #[test]
    fn cloud_credentials_pass_only_for_the_selected_provider() {
        let bedrock = ChildEnv::base(job(), Path::new("/h"), &[], Some(Cloud::Bedrock), &[]);
        assert_eq!(bedrock.get("AWS_SECRET_ACCESS_KEY"), Some("aws-secret"));
        assert_eq!(bedrock.get("CLAUDE_CODE_USE_BEDROCK"), Some("1"));
        assert_eq!(bedrock.get("GOOGLE_APPLICATION_CREDENTIALS"), None);
        assert_eq!(bedrock.get("GITLAB_TOKEN"), None);

        let vertex = ChildEnv::base(job(), Path::new("/h"), &[], Some(Cloud::Vertex), &[]);
        assert_eq!(
            vertex.get("GOOGLE_APPLICATION_CREDENTIALS"),
            Some("/creds.json")
        );
        assert_eq!(vertex.get("CLOUD_ML_REGION"), Some("us-east5"));
        assert_eq!(vertex.get("AWS_SECRET_ACCESS_KEY"), None);
        assert_eq!(vertex.get("CLAUDE_CODE_USE_BEDROCK"), None);
    }

    #[test]
    fn passthrough_copies_harmless_names_and_refuses_the_rest() {
        let asked = parse_passthrough(
            "MY_SETTING, GITLAB_TOKEN DB_PASSWORD,CI_PROJECT_ID deploy_secret PATH UNSET_ONE",
        );
        let env = ChildEnv::base(job(), Path::new("/h"), &[], None, &asked);
        assert_eq!(env.get("MY_SETTING"), Some("on"));
        assert_eq!(env.get("UNSET_ONE"), None);
        assert_eq!(env.get("PATH"), Some("/usr/bin:/bin"));
        assert_eq!(
            env.refused(),
            [
                "GITLAB_TOKEN",
                "DB_PASSWORD",
                "CI_PROJECT_ID",
                "deploy_secret",
                "PATH"
            ]
        );
    }

    #[test]
    fn extra_tool_directories_come_first_on_path() {
        let env = ChildEnv::base(
            job(),
            Path::new("/h"),
            &[PathBuf::from("/opt/codex/path")],
            None,
            &[],
        );
        assert_eq!(env.get("PATH"), Some("/opt/codex/path:/usr/bin:/bin"));
    }

    #[test]
    fn the_secret_rule_catches_credentials_by_name() {
        for name in [
            "GITLAB_TOKEN",
            "MYTOKEN",
            "api_key",
            "OPENAI_API_KEY",
            "NPM_AUTH",
            "X_PASSWORD",
            "CI_ANYTHING",
            "GITLAB_USER_LOGIN",
            "LD_PRELOAD",
            "A-B",
            "",
        ] {
            assert!(!may_pass_through(name), "{name}");
        }
        for name in ["RUST_LOG", "NODE_OPTIONS", "CARGO_TERM_COLOR"] {
            assert!(may_pass_through(name), "{name}");
        }
    }
}
