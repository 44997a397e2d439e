//! MCP servers for the assistant (`AI_MCP_CONFIG`, `AI_MCP_CONFIG_FILE`), with their
//! credentials kept where the model key is: in the entrypoint, never in the sandbox uid's reach.
//!
//! The configuration is TOML in the shape of Codex's own `[mcp_servers]` table
//! (<https://developers.openai.com/codex/mcp>), and comes from a CI/CD variable or a file on the
//! **default branch** (read through the API, never from the checkout: on a merge request the
//! checkout is the branch under review, see [`crate::workspace::trusted`]):
//!
//! ```toml
//! [mcp_servers.tracker]            # an HTTP (streamable HTTP) server
//! url = "https://tracker.example.com/mcp"
//! headers = { Authorization = "Bearer ${TRACKER_TOKEN}" }
//!
//! [mcp_servers.docs]               # a stdio server: a program the CLI starts
//! command = "/usr/local/bin/docs-mcp"
//! args = ["--read-only"]
//! env = { DOCS_LANG = "en" }
//! ```
//!
//! Why the secrets cannot simply be handed to the CLI: the model runs shell commands as the
//! sandbox uid, and every process of that uid can read every other one's
//! `/proc/<pid>/environ` and `cmdline` (`proc_pid_environ(5)`), the MCP servers the CLI starts
//! included. So:
//! - an HTTP server is reached through the key proxy ([`crate::proxy::ServiceRoute`]): the CLI
//!   is given a loopback URL, and the proxy, running as the entrypoint's user, adds the headers
//!   after replacing each `${VARIABLE}` by the job's CI/CD variable. The CLI's configuration
//!   (which the model can read) holds only the loopback URL;
//! - a stdio server runs as the sandbox uid like the CLI, so it may not ask for a secret: a
//!   `${VARIABLE}` in its command, arguments or environment, or an environment variable named
//!   like a credential, is refused with the reason.
//!
//! With the network fenced (`AI_SANDBOX`, Codex's default) the sandbox uid reaches nothing but
//! the proxy; an HTTP server is then usable only if its host is listed in `AI_SANDBOX_ALLOW`,
//! and a configuration naming another host is refused before the CLI starts. A stdio server
//! runs inside the fence and has no network.
//!
//! How each CLI is told: Claude Code takes `--mcp-config` JSON (`"type": "http"` or
//! `"stdio"`), with `--strict-mcp-config` so no other configuration is read
//! (<https://code.claude.com/docs/en/mcp>, `claude --help` 2.1.331); Codex takes
//! `-c mcp_servers.<name>={url=…}` or `{command=…, args=…, env=…}` (streamable HTTP through
//! `url`, checked with `codex mcp list --json` 0.169.0, which reports the transport as
//! `streamable_http`).

use std::collections::BTreeMap;

use http::header::HeaderName;
use serde::Deserialize;
use url::Url;

use crate::env::Env;
use crate::proxy::ServiceRoute;
use crate::sandbox::Network;
use crate::secret::Secret;

/// The CI/CD variable holding the configuration itself.
pub const VARIABLE: &str = crate::env::AI_MCP_CONFIG.name();

/// The CI/CD variable naming a file on the default branch that holds it.
pub(crate) const FILE_VARIABLE: &str = crate::env::AI_MCP_CONFIG_FILE.name();

/// At most this many servers: each one is started (or connected to) before the model's first
/// call.
const MAX_SERVERS: usize = 16;

/// The configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    #[error(
        "the MCP configuration ({source_name}) is not valid TOML in the shape [mcp_servers.NAME] with url (and headers) or command (and args, env): {reason}"
    )]
    Syntax { source_name: String, reason: String },
    #[error(
        "the MCP configuration ({source_name}) names the server {name:?}: a server name is 1 to 64 letters, digits, '_' or '-' (it becomes part of each tool's name)"
    )]
    Name { source_name: String, name: String },
    #[error(
        "the MCP configuration ({source_name}) has {count} servers; at most {MAX_SERVERS} are supported"
    )]
    TooMany { source_name: String, count: usize },
    #[error(
        "the MCP server {server} in {source_name} needs either url (an HTTP server) or command (a stdio server), not {what}"
    )]
    Transport {
        source_name: String,
        server: String,
        what: &'static str,
    },
    #[error(
        "the MCP server {server} in {source_name} has the url {url:?}, which is not usable: {problem}"
    )]
    Url {
        source_name: String,
        server: String,
        url: String,
        problem: String,
    },
    #[error(
        "the MCP server {server} in {source_name} has the header {header:?}, which cannot be set: {problem}"
    )]
    Header {
        source_name: String,
        server: String,
        header: String,
        problem: &'static str,
    },
    #[error(
        "the MCP server {server} in {source_name} uses the CI/CD variable {variable} in a header, which is not set in this job: add it as a masked CI/CD variable (protected variables reach protected branches only)"
    )]
    UnsetVariable {
        source_name: String,
        server: String,
        variable: String,
    },
    #[error(
        "the MCP server {server} in {source_name} is a stdio server that asks for a secret ({what}); refused, because a stdio server runs as the sandbox uid, whose processes the model can read (/proc/<pid>/environ and cmdline). Give the server an HTTP endpoint and put the secret in its headers (the entrypoint's proxy adds them), or run it without the secret"
    )]
    StdioSecret {
        source_name: String,
        server: String,
        what: String,
    },
    #[error(
        "the MCP server {server} is at {host}, which the network sandbox does not allow: add {host} to AI_SANDBOX_ALLOW (the list of hosts the sandboxed run may reach through the proxy), or remove the server from the MCP configuration"
    )]
    NotAllowed { server: String, host: String },
    #[error(
        "both {VARIABLE} and {FILE_VARIABLE} are set: keep one (the configuration itself, or the path of a file on the default branch)"
    )]
    BothSources,
    #[error(
        "the MCP server {server} is an HTTP server, which is reached through the key proxy; Claude on Bedrock or Vertex does not use the proxy. Use a stdio server or Claude's API"
    )]
    NeedsProxy { server: String },
}

/// The file as written (TOML).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    mcp_servers: BTreeMap<String, RawServer>,
}

/// One server as written. Unknown keys are refused: Codex has keys that forward the CLI's own
/// environment to a server (`env_vars`) or read a token from it (`bearer_token_env_var`),
/// which would put secrets back in the sandbox uid's reach.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
}

/// A checked configuration, its secrets not yet resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpConfig {
    /// Where it came from, for messages: `AI_MCP_CONFIG` or `AI_MCP_CONFIG_FILE=path`.
    source_name: String,
    servers: BTreeMap<String, Server>,
}

/// One checked server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Server {
    /// Reached through the key proxy; header values may name CI/CD variables (`${NAME}`).
    Http {
        url: Url,
        headers: Vec<(HeaderName, String)>,
    },
    /// Started by the CLI as the sandbox uid; holds no secret.
    Stdio {
        command: String,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
}

/// The servers of one run, ready for the proxy and the CLI.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// The HTTP servers, with their headers resolved, for the key proxy.
    pub routes: Vec<ServiceRoute>,
    /// The stdio servers, by name.
    pub stdio: BTreeMap<String, Server>,
}

impl McpConfig {
    /// No servers.
    pub const fn empty() -> Self {
        Self {
            source_name: String::new(),
            servers: BTreeMap::new(),
        }
    }

    /// Parses and checks `text`, which came from `source_name`.
    pub fn parse(source_name: &str, text: &str) -> Result<Self, McpError> {
        let source = || source_name.to_owned();
        let file: File = toml::from_str(text).map_err(|e| McpError::Syntax {
            source_name: source(),
            reason: e.message().to_owned(),
        })?;
        if file.mcp_servers.len() > MAX_SERVERS {
            return Err(McpError::TooMany {
                source_name: source(),
                count: file.mcp_servers.len(),
            });
        }
        let mut servers = BTreeMap::new();
        for (name, raw) in file.mcp_servers {
            let valid_name = !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid_name {
                return Err(McpError::Name {
                    source_name: source(),
                    name,
                });
            }
            let server = check_server(source_name, &name, raw)?;
            servers.insert(name, server);
        }
        Ok(Self {
            source_name: source_name.to_owned(),
            servers,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.servers.is_empty()
    }

    pub fn servers(&self) -> &BTreeMap<String, Server> {
        &self.servers
    }

    /// Whether any server is reached through the key proxy.
    pub fn has_http(&self) -> bool {
        self.servers
            .values()
            .any(|s| matches!(s, Server::Http { .. }))
    }

    /// With the network fenced, every HTTP server's host must be in `AI_SANDBOX_ALLOW`.
    pub(crate) fn check_network(&self, network: &Network) -> Result<(), McpError> {
        let Network::Fenced { extra_hosts } = network else {
            return Ok(());
        };
        for (name, server) in &self.servers {
            if let Server::Http { url, .. } = server {
                let host = url.host().map(|h| h.to_string()).unwrap_or_default();
                if !extra_hosts.contains(&host) {
                    return Err(McpError::NotAllowed {
                        server: name.clone(),
                        host,
                    });
                }
            }
        }
        Ok(())
    }

    /// The servers with each `${NAME}` in a header replaced by the job's variable `NAME` (read
    /// through `var`); an unset or empty one is an error naming it.
    pub fn resolve(&self, var: &dyn Env) -> Result<Resolved, McpError> {
        let mut resolved = Resolved::default();
        for (name, server) in &self.servers {
            match server {
                Server::Http { url, headers } => {
                    let mut values = Vec::new();
                    for (header, template) in headers {
                        let value = substitute(template, |variable| {
                            var.set(variable).ok_or_else(|| McpError::UnsetVariable {
                                source_name: self.source_name.clone(),
                                server: name.clone(),
                                variable: variable.to_owned(),
                            })
                        })?;
                        values.push((header.clone(), Secret::new(value)));
                    }
                    resolved.routes.push(ServiceRoute {
                        name: name.clone(),
                        base: url.clone(),
                        headers: values,
                    });
                }
                Server::Stdio { .. } => {
                    resolved.stdio.insert(name.clone(), server.clone());
                }
            }
        }
        Ok(resolved)
    }
}

fn check_server(source_name: &str, name: &str, raw: RawServer) -> Result<Server, McpError> {
    let source = || source_name.to_owned();
    let server = || name.to_owned();
    match (raw.url, raw.command) {
        (Some(_), Some(_)) => Err(McpError::Transport {
            source_name: source(),
            server: server(),
            what: "both",
        }),
        (None, None) => Err(McpError::Transport {
            source_name: source(),
            server: server(),
            what: "neither",
        }),
        (Some(url), None) => {
            if !raw.args.is_empty() || !raw.env.is_empty() {
                return Err(McpError::Transport {
                    source_name: source(),
                    server: server(),
                    what: "url with args or env",
                });
            }
            let url = check_url(&url).map_err(|problem| McpError::Url {
                source_name: source(),
                server: server(),
                url: url.clone(),
                problem,
            })?;
            let mut headers = Vec::new();
            for (header, template) in raw.headers {
                let problem = |problem| McpError::Header {
                    source_name: source(),
                    server: server(),
                    header: header.clone(),
                    problem,
                };
                let parsed = HeaderName::from_bytes(header.as_bytes())
                    .map_err(|_| problem("not a valid HTTP header name"))?;
                if RESERVED_HEADERS.contains(&parsed.as_str()) {
                    return Err(problem("the proxy sets it for each request"));
                }
                // Checked here so that a typo shows before the job reads any variable.
                let blanked =
                    substitute(&template, |_| Ok::<_, ()>(String::new())).unwrap_or_default();
                if blanked.contains("${") {
                    return Err(problem(
                        "its value has a ${ without a variable name and closing }",
                    ));
                }
                headers.push((parsed, template));
            }
            Ok(Server::Http { url, headers })
        }
        (None, Some(command)) => {
            if !raw.headers.is_empty() {
                return Err(McpError::Transport {
                    source_name: source(),
                    server: server(),
                    what: "command with headers",
                });
            }
            let stdio_secret = |what: String| McpError::StdioSecret {
                source_name: source(),
                server: server(),
                what,
            };
            for text in std::iter::once(&command).chain(&raw.args) {
                if text.contains("${") {
                    return Err(stdio_secret(format!("{text:?} refers to a variable")));
                }
            }
            for (variable, value) in &raw.env {
                if value.contains("${") {
                    return Err(stdio_secret(format!("env {variable} refers to a variable")));
                }
                if !crate::agent::env::may_pass_through(variable) {
                    return Err(stdio_secret(format!(
                        "env {variable} is named like a credential, a CI variable or one the run sets"
                    )));
                }
            }
            Ok(Server::Stdio {
                command,
                args: raw.args,
                env: raw.env,
            })
        }
    }
}

/// Headers the proxy computes itself (or that describe one connection).
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "transfer-encoding",
    "upgrade",
    "te",
    "trailer",
    "keep-alive",
];

fn check_url(text: &str) -> Result<Url, String> {
    let url = Url::parse(text.trim()).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http:// and https:// URLs are supported".into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL carries credentials; put them in headers with ${VARIABLE}".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "the URL has a query or a fragment; put a token in headers with ${VARIABLE}".into(),
        );
    }
    Ok(url)
}

/// `template` with each `${NAME}` (NAME: letters, digits and `_`) replaced by `lookup(NAME)`;
/// anything else is kept as written.
fn substitute<E>(
    template: &str,
    mut lookup: impl FnMut(&str) -> Result<String, E>,
) -> Result<String, E> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end)
                if end > 0
                    && after[..end]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                out.push_str(&lookup(&after[..end])?);
                rest = &after[end + 1..];
            }
            _ => {
                out.push_str("${");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Claude Code's `--mcp-config` JSON: each HTTP server at its proxy URL (`url_of`), each
/// stdio server as configured.
pub(crate) fn claude_config(
    resolved: &Resolved,
    url_of: &dyn Fn(&str) -> Option<String>,
) -> serde_json::Value {
    let mut servers = serde_json::Map::new();
    for route in &resolved.routes {
        if let Some(url) = url_of(&route.name) {
            servers.insert(
                route.name.clone(),
                serde_json::json!({"type": "http", "url": url}),
            );
        }
    }
    for (name, server) in &resolved.stdio {
        if let Server::Stdio { command, args, env } = server {
            servers.insert(
                name.clone(),
                serde_json::json!({"type": "stdio", "command": command, "args": args, "env": env}),
            );
        }
    }
    serde_json::json!({ "mcpServers": servers })
}

/// Codex's `-c` overrides, one per server: `mcp_servers.<name>={url=…}` or
/// `{command=…, args=[…], env={…}}`.
pub(crate) fn codex_config(
    resolved: &Resolved,
    url_of: &dyn Fn(&str) -> Option<String>,
) -> Vec<String> {
    let mut settings = Vec::new();
    for route in &resolved.routes {
        if let Some(url) = url_of(&route.name) {
            let mut table = toml::map::Map::new();
            table.insert("url".into(), toml::Value::String(url));
            settings.push(format!(
                "mcp_servers.{}={}",
                route.name,
                inline(toml::Value::Table(table))
            ));
        }
    }
    for (name, server) in &resolved.stdio {
        if let Server::Stdio { command, args, env } = server {
            let mut table = toml::map::Map::new();
            table.insert("command".into(), toml::Value::String(command.clone()));
            table.insert(
                "args".into(),
                toml::Value::Array(args.iter().cloned().map(toml::Value::String).collect()),
            );
            let env: toml::map::Map<String, toml::Value> = env
                .iter()
                .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                .collect();
            table.insert("env".into(), toml::Value::Table(env));
            settings.push(format!(
                "mcp_servers.{name}={}",
                inline(toml::Value::Table(table))
            ));
        }
    }
    settings
}

/// A TOML value on one line (`{a = "b", c = ["d"]}`), as `-c key=value` wants it.
fn inline(value: toml::Value) -> String {
    match value {
        toml::Value::Table(table) => {
            let fields: Vec<String> = table
                .into_iter()
                .map(|(k, v)| format!("{}={}", toml_key(&k), inline(v)))
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        toml::Value::Array(items) => {
            let items: Vec<String> = items.into_iter().map(inline).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// A key bare when TOML allows it, quoted otherwise.
fn toml_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_owned()
    } else {
        toml::Value::String(key.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    const TRACKER: &str = r#"
[mcp_servers.tracker]
url = "https://tracker.example.com/mcp"
headers = { Authorization = "Bearer ${TRACKER_TOKEN}", X-Team = "web" }

[mcp_servers.docs]
command = "/usr/local/bin/docs-mcp"
args = ["--read-only", "a b"]
env = { DOCS_LANG = "en", "WEIRD.NAME" = "x" }
"#;

    #[test]
    fn http_headers_are_resolved_by_the_entrypoint_and_stdio_servers_kept_as_written() {
        let error = McpConfig::parse(VARIABLE, TRACKER).unwrap_err();
        // "WEIRD.NAME" is refused as a stdio environment name.
        assert!(matches!(error, McpError::StdioSecret { .. }), "{error}");
        let config =
            McpConfig::parse(VARIABLE, &TRACKER.replace(", \"WEIRD.NAME\" = \"x\"", "")).unwrap();
        assert!(config.has_http());
        let resolved = config
            .resolve(&vars(&[("TRACKER_TOKEN", "tok-123")]))
            .unwrap();
        assert_eq!(resolved.routes.len(), 1);
        let route = &resolved.routes[0];
        assert_eq!(route.name, "tracker");
        assert_eq!(route.base.as_str(), "https://tracker.example.com/mcp");
        let headers: Vec<(&str, &str)> = route
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.expose()))
            .collect();
        assert_eq!(
            headers,
            [("authorization", "Bearer tok-123"), ("x-team", "web")]
        );
        assert!(!format!("{route:?}").contains("tok-123"));

        let url_of = |name: &str| Some(format!("http://127.0.0.1:9/{name}-route"));
        let claude = claude_config(&resolved, &url_of);
        assert_eq!(
            claude,
            serde_json::json!({"mcpServers": {
                "tracker": {"type": "http", "url": "http://127.0.0.1:9/tracker-route"},
                "docs": {"type": "stdio", "command": "/usr/local/bin/docs-mcp", "args": ["--read-only", "a b"], "env": {"DOCS_LANG": "en"}},
            }})
        );
        assert!(!claude.to_string().contains("tok-123"));
        let codex = codex_config(&resolved, &url_of);
        assert_eq!(
            codex,
            [
                "mcp_servers.tracker={url=\"http://127.0.0.1:9/tracker-route\"}",
                "mcp_servers.docs={args=[\"--read-only\",\"a b\"],command=\"/usr/local/bin/docs-mcp\",env={DOCS_LANG=\"en\"}}",
            ]
        );
        for setting in &codex {
            let (key, value) = setting.split_once('=').unwrap();
            let parsed: toml::Table = toml::from_str(&format!("x = {value}")).unwrap();
            assert!(parsed["x"].is_table(), "{key}");
        }
    }

    #[test]
    fn an_unset_secret_is_named_and_its_value_never_shown() {
        let config = McpConfig::parse(
            "AI_MCP_CONFIG_FILE=.gitlab/mcp.toml",
            "[mcp_servers.tracker]\nurl = \"https://t.example/mcp\"\nheaders = { Authorization = \"Bearer ${TRACKER_TOKEN}\" }\n",
        )
        .unwrap();
        let message = config.resolve(&vars::<&str>(&[])).unwrap_err().to_string();
        assert!(message.contains("variable TRACKER_TOKEN"), "{message}");
        assert!(
            message.contains("AI_MCP_CONFIG_FILE=.gitlab/mcp.toml"),
            "{message}"
        );
        assert!(config.resolve(&vars(&[("TRACKER_TOKEN", " ")])).is_err());
    }

    #[test]
    fn a_stdio_server_that_asks_for_a_secret_is_refused_with_the_reason() {
        for text in [
            "[mcp_servers.s]\ncommand = \"srv\"\nenv = { TOKEN = \"${JIRA_TOKEN}\" }",
            "[mcp_servers.s]\ncommand = \"srv\"\nenv = { JIRA_API_KEY = \"literal\" }",
            "[mcp_servers.s]\ncommand = \"srv\"\nargs = [\"--token=${JIRA_TOKEN}\"]",
            "[mcp_servers.s]\ncommand = \"srv --token ${JIRA_TOKEN}\"",
            "[mcp_servers.s]\ncommand = \"srv\"\nenv = { PATH = \"/evil\" }",
        ] {
            let error = McpConfig::parse(VARIABLE, text).unwrap_err();
            let message = error.to_string();
            assert!(
                matches!(error, McpError::StdioSecret { .. }),
                "{text}: {message}"
            );
            assert!(message.contains("/proc/<pid>/environ"), "{message}");
            assert!(message.contains("HTTP endpoint"), "{message}");
        }
    }

    #[test]
    fn keys_that_would_hand_the_cli_a_secret_and_malformed_servers_are_refused() {
        for (text, needle) in [
            (
                "[mcp_servers.t]\nurl = \"https://t.example\"\nbearer_token_env_var = \"T\"",
                "bearer_token_env_var",
            ),
            (
                "[mcp_servers.t]\ncommand = \"x\"\nenv_vars = [\"GITLAB_TOKEN\"]",
                "env_vars",
            ),
            (
                "[mcp_servers.t]\nurl = \"https://t.example\"\ncommand = \"x\"",
                "not both",
            ),
            ("[mcp_servers.t]\nargs = []", "not neither"),
            ("[mcp_servers.\"a b\"]\ncommand = \"x\"", "server name"),
            ("[mcp_servers.t]\nurl = \"ftp://t.example\"", "http://"),
            (
                "[mcp_servers.t]\nurl = \"https://u:p@t.example\"",
                "credentials",
            ),
            (
                "[mcp_servers.t]\nurl = \"https://t.example/?token=x\"",
                "query",
            ),
            (
                "[mcp_servers.t]\nurl = \"https://t.example\"\nheaders = { Host = \"x\" }",
                "proxy sets it",
            ),
            (
                "[mcp_servers.t]\nurl = \"https://t.example\"\nheaders = { \"a b\" = \"x\" }",
                "header name",
            ),
            (
                "[mcp_servers.t]\nurl = \"https://t.example\"\nheaders = { A = \"${ oops\" }",
                "closing }",
            ),
            ("[servers.t]\ncommand = \"x\"", "unknown field"),
        ] {
            let message = McpConfig::parse(VARIABLE, text).unwrap_err().to_string();
            assert!(message.contains(needle), "{text}: {message}");
            assert!(message.contains(VARIABLE), "{message}");
        }
        let many: String = (0..=MAX_SERVERS)
            .map(|i| format!("[mcp_servers.s{i}]\ncommand = \"x\"\n"))
            .collect();
        assert!(matches!(
            McpConfig::parse(VARIABLE, &many),
            Err(McpError::TooMany { .. })
        ));
        assert!(McpConfig::parse(VARIABLE, "").unwrap().is_empty());
    }

    #[test]
    fn with_the_fence_on_an_http_server_must_be_listed_in_ai_sandbox_allow() {
        let config = McpConfig::parse(
            VARIABLE,
            "[mcp_servers.tracker]\nurl = \"https://tracker.example.com/mcp\"\n[mcp_servers.local]\ncommand = \"x\"",
        )
        .unwrap();
        assert_eq!(config.check_network(&Network::Open), Ok(()));
        let unlisted = Network::Fenced {
            extra_hosts: vec!["other.example".into()],
        };
        let message = config.check_network(&unlisted).unwrap_err().to_string();
        assert!(message.contains("tracker.example.com"), "{message}");
        assert!(message.contains("AI_SANDBOX_ALLOW"), "{message}");
        let listed = Network::Fenced {
            extra_hosts: vec!["tracker.example.com".into()],
        };
        assert_eq!(config.check_network(&listed), Ok(()));
    }

    #[test]
    fn substitution_replaces_only_well_formed_references() {
        let look = |n: &str| Ok::<_, ()>(format!("<{n}>"));
        assert_eq!(
            substitute("a ${B} c ${D_1}", look).unwrap(),
            "a <B> c <D_1>"
        );
        assert_eq!(substitute("$B ${} ${a-b}", look).unwrap(), "$B ${} ${a-b}");
    }
}
