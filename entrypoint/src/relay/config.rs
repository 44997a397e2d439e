//! The relay's settings: a TOML file (`entrypoint serve --config relay.toml`) with every global
//! setting overridable from the environment (`AI_RELAY_*`), so a container can run from
//! variables alone.
//!
//! Secrets (webhook secrets, bot and trigger tokens) are given as a [`SecretSource`]: the value
//! itself, `{ env = "NAME" }` or `{ file = "/run/secrets/x" }`. They are held as [`Secret`], so
//! a printed config shows `***`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::agent::{Assistant, Handles};
use crate::config::HandleArgs;
use crate::env::Env;
use crate::gitlab::config::ApiBaseUrl;
use crate::gitlab::ids::{ProjectId, ProjectRef};
use crate::gitlab::retry::RetryPolicy;
use crate::guard::settings::{ALLOWED_BOTS_VAR, GuardSettings, MIN_ACCESS_LEVEL_VAR};
use crate::secret::Secret;

/// The environment variables that override the file, in one place for the docs and the errors.
pub mod vars {
    /// `host:port` to listen on.
    pub(crate) const LISTEN: &str = crate::env::AI_RELAY_LISTEN.name();
    /// The GitLab instance (`https://gitlab.example.com`) or its API root (`…/api/v4`).
    pub(crate) const GITLAB_URL: &str = crate::env::AI_RELAY_GITLAB_URL.name();
    /// The webhooks' secret token (`X-Gitlab-Token`).
    pub const WEBHOOK_SECRET: &str = crate::env::AI_RELAY_WEBHOOK_SECRET.name();
    /// A file holding the webhooks' secret token.
    pub(crate) const WEBHOOK_SECRET_FILE: &str = crate::env::AI_RELAY_WEBHOOK_SECRET_FILE.name();
    /// The bot user's access token.
    pub const BOT_TOKEN: &str = crate::env::AI_RELAY_BOT_TOKEN.name();
    /// A file holding the bot user's access token.
    pub(crate) const BOT_TOKEN_FILE: &str = crate::env::AI_RELAY_BOT_TOKEN_FILE.name();
    /// Deliveries waiting for a worker before the relay answers 503.
    pub(crate) const QUEUE_CAPACITY: &str = crate::env::AI_RELAY_QUEUE_CAPACITY.name();
    /// Mentions handled at the same time.
    pub const WORKERS: &str = crate::env::AI_RELAY_WORKERS.name();
    /// The largest webhook body accepted, in bytes.
    pub(crate) const MAX_BODY_BYTES: &str = crate::env::AI_RELAY_MAX_BODY_BYTES.name();
    /// The branch pipelines run on for projects without their own entry.
    pub(crate) const DEFAULT_REF: &str = crate::env::AI_RELAY_DEFAULT_REF.name();
    /// The trigger token for projects without their own entry.
    pub(crate) const DEFAULT_TRIGGER_TOKEN: &str =
        crate::env::AI_RELAY_DEFAULT_TRIGGER_TOKEN.name();
    /// A file holding the trigger token for projects without their own entry.
    pub(crate) const DEFAULT_TRIGGER_TOKEN_FILE: &str =
        crate::env::AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE.name();
    /// Connections open at the same time.
    pub(crate) const MAX_CONNECTIONS: &str = crate::env::AI_RELAY_MAX_CONNECTIONS.name();
    /// Bytes of deliveries kept beyond the queue (in memory, or in the spool directory).
    pub(crate) const OVERFLOW_BYTES: &str = crate::env::AI_RELAY_OVERFLOW_BYTES.name();
    /// A directory where deliveries beyond the queue are kept, so a restart does not lose them.
    pub(crate) const SPOOL_DIR: &str = crate::env::AI_RELAY_SPOOL_DIR.name();
    /// The assistant that answers an assignment, a review request or the trigger label.
    pub(crate) const EVENT_ASSISTANT: &str = crate::env::AI_RELAY_EVENT_ASSISTANT.name();
    /// Seconds between two looks for requests a model-API quota error queued (0: never).
    pub(crate) const QUOTA_SWEEP_SECONDS: &str = crate::env::AI_RELAY_QUOTA_SWEEP_SECONDS.name();
}

/// How often the relay looks for queued requests by default: the default first wait of a
/// queued request ([`crate::quota::DEFAULT_BACKOFF`]), as a scan every five minutes would.
pub(crate) const DEFAULT_QUOTA_SWEEP: Duration = Duration::from_secs(300);

/// Where a secret comes from.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub(crate) enum SecretSource {
    /// The value itself (fine for tests; prefer `env` or `file` in real files).
    Value(String),
    /// An environment variable holding it.
    Env {
        /// The variable's name.
        env: String,
    },
    /// A file holding it (a Docker or Kubernetes secret mount).
    File {
        /// The file.
        file: PathBuf,
    },
}

/// A setting cannot be used; each message names the setting and the fix. Never shows a secret.
#[derive(Debug, thiserror::Error)]
pub enum RelayConfigError {
    /// The config file cannot be read.
    #[error("cannot read the relay config {path:?}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has unknown or mistyped keys.
    #[error("the relay config {path:?} is invalid: {message}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's message (line, column, key).
        message: String,
    },
    /// A setting is missing.
    #[error("{setting} is not set: {fix}")]
    Missing {
        /// The file key and the variable.
        setting: &'static str,
        /// What to do.
        fix: &'static str,
    },
    /// A setting has a value that cannot be used.
    #[error("{setting} = {value:?} cannot be used: {reason}")]
    Invalid {
        /// The file key or variable.
        setting: String,
        /// The value (never a secret).
        value: String,
        /// Why.
        reason: String,
    },
    /// A secret names a variable or file that does not hold one.
    #[error("{setting}: {reason}")]
    Secret {
        /// The file key or variable.
        setting: String,
        /// What is wrong (names the variable or file, never the value).
        reason: String,
    },
}

/// How the relay starts a project's pipeline (shared with the scan's pipeline mode).
pub use crate::answer::pipeline::PipelineStart;

/// What the relay does for one project (or, as the default, for any project of a group webhook).
#[derive(Clone, Debug)]
pub struct ProjectRoute {
    /// How the pipeline is started.
    pub start: PipelineStart,
    /// The branch the pipeline runs on (the job checks out the merge request's branch itself).
    pub git_ref: String,
    /// A bot token for this project only (a project access token), else the global one.
    pub bot_token: Option<Secret>,
}

/// Everything `entrypoint serve` needs.
#[derive(Clone, Debug)]
pub struct RelayConfig {
    /// Where to listen (`0.0.0.0:8080` by default; port 0 picks a free one).
    pub listen: SocketAddr,
    /// GitLab's REST v4 root.
    pub gitlab: ApiBaseUrl,
    /// Accepted `X-Gitlab-Token` values (several while a secret is being rotated).
    pub webhook_secrets: Vec<Secret>,
    /// The bot user's token: claims, placeholders, and pipelines started with
    /// [`PipelineStart::BotToken`].
    pub bot_token: Secret,
    /// Which usernames summon which assistant.
    pub handles: Handles,
    /// Who may make the assistants act (checked before claiming; the job checks again).
    pub guard: GuardSettings,
    /// Projects by id or path.
    pub projects: Vec<(ProjectRef, ProjectRoute)>,
    /// For projects not listed (a group webhook); `None` ignores them.
    pub default_route: Option<ProjectRoute>,
    /// Mentions waiting for a worker before deliveries are refused with 503.
    pub queue_capacity: usize,
    /// Mentions handled at the same time.
    pub workers: usize,
    /// The largest webhook body accepted (larger: 413).
    pub max_body_bytes: usize,
    /// How patiently GitLab calls are retried.
    pub retry: RetryPolicy,
    /// How long a delivery id or note is remembered for the in-memory duplicate check.
    pub dedup_ttl: Duration,
    /// The claim's lease (`AI_CLAIM_LEASE_SECONDS`, [`crate::claim`]).
    pub claim: crate::claim::ClaimSettings,
    /// How long a connection may take over its headers and body, and how many may be open.
    pub limits: ConnectionLimits,
    /// Bytes of deliveries kept beyond `queue_capacity` before deliveries are refused with 503.
    pub overflow_bytes: usize,
    /// Where deliveries beyond the queue are written, so a crash or restart does not lose them;
    /// `None` keeps them in memory.
    pub spool_dir: Option<PathBuf>,
    /// `AI_LABEL_TRIGGER`: the label whose adding (Issue and Merge Request Hooks) is a request;
    /// `None`: no label trigger.
    pub label_trigger: Option<String>,
    /// Who answers an assignment, a review request or the trigger label: one bot user stands
    /// for both assistants, so the relay cannot tell from the event which one was meant (a
    /// description mention names its own).
    pub event_assistant: Assistant,
    /// How often the relay looks for requests a model-API quota error queued and retries the
    /// due ones ([`super::sweep`]); `None` never (a scan does it).
    pub quota_sweep: Option<Duration>,
}

/// What keeps a client from holding the relay open.
///
/// GitLab gives a webhook 10 seconds to answer (`webhook_timeout` on self-managed instances,
/// fixed on GitLab.com: <https://docs.gitlab.com/user/gitlab_com/#other-limits>); a slower
/// answer is logged as a failed delivery and never retried (`WebHookService#execute` rescues the
/// timeout and only logs it, `app/services/web_hook_service.rb`). So a delivery that has not
/// arrived in full well inside those 10 seconds is not worth waiting for, and the time is better
/// given to the next connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// From the moment a connection can send a request (just opened, or idle after a response)
    /// until its request headers are complete. Also the idle (keep-alive) timeout.
    pub header_timeout: Duration,
    /// From complete headers until the whole body is read.
    pub body_timeout: Duration,
    /// Connections open at once; `None` derives it from the process's open-file limit.
    pub max_connections: Option<usize>,
}

impl Default for ConnectionLimits {
    /// 3 s for the headers plus 5 s for the body: a delivery is read in full or cut within 8 s,
    /// inside GitLab's 10 s.
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(3),
            body_timeout: Duration::from_secs(5),
            max_connections: None,
        }
    }
}

impl RelayConfig {
    /// Reads `file` (when given) and applies the environment over it.
    pub fn load(file: Option<&Path>, env: &dyn Env) -> Result<Self, RelayConfigError> {
        let parsed = match file {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| RelayConfigError::Read {
                        path: path.to_owned(),
                        source,
                    })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| RelayConfigError::Toml {
                    path: path.to_owned(),
                    message: e.message().to_owned(),
                })?
            }
            None => FileConfig::default(),
        };
        Self::from_parts(parsed, env)
    }

    fn from_parts(file: FileConfig, env: &dyn Env) -> Result<Self, RelayConfigError> {
        let listen_text = env
            .set(vars::LISTEN)
            .or(file.listen)
            .unwrap_or_else(|| "0.0.0.0:8080".to_owned());
        let listen = listen_text
            .trim()
            .parse()
            .map_err(|e: std::net::AddrParseError| RelayConfigError::Invalid {
                setting: format!("listen ({})", vars::LISTEN),
                value: listen_text.clone(),
                reason: format!("{e}; expected host:port such as 0.0.0.0:8080"),
            })?;

        let url =
            env.set(vars::GITLAB_URL)
                .or(file.gitlab_url)
                .ok_or(RelayConfigError::Missing {
                    setting: "gitlab_url (AI_RELAY_GITLAB_URL)",
                    fix: "set it to your GitLab instance, e.g. https://gitlab.example.com",
                })?;
        let gitlab = api_root(&url).map_err(|reason| RelayConfigError::Invalid {
            setting: format!("gitlab_url ({})", vars::GITLAB_URL),
            value: url.clone(),
            reason,
        })?;

        let mut webhook_secrets = Vec::new();
        if let Some(value) = env.set(vars::WEBHOOK_SECRET) {
            webhook_secrets.push(Secret::new(value));
        }
        if let Some(path) = env.set(vars::WEBHOOK_SECRET_FILE) {
            webhook_secrets.push(read_secret_file(
                vars::WEBHOOK_SECRET_FILE,
                Path::new(&path),
            )?);
        }
        for (index, source) in file.webhook_secrets.iter().enumerate() {
            webhook_secrets.push(resolve(&format!("webhook_secrets[{index}]"), source, env)?);
        }
        if webhook_secrets.is_empty() {
            return Err(RelayConfigError::Missing {
                setting: "webhook_secrets (AI_RELAY_WEBHOOK_SECRET or AI_RELAY_WEBHOOK_SECRET_FILE)",
                fix: "choose a long random secret, set it here and as the webhook's \"Secret token\" in GitLab; without it anyone could start pipelines",
            });
        }

        let bot_token = match (
            env.set(vars::BOT_TOKEN),
            env.set(vars::BOT_TOKEN_FILE),
            &file.bot_token,
        ) {
            (Some(value), _, _) => Secret::new(value),
            (None, Some(path), _) => read_secret_file(vars::BOT_TOKEN_FILE, Path::new(&path))?,
            (None, None, Some(source)) => resolve("bot_token", source, env)?,
            (None, None, None) => {
                return Err(RelayConfigError::Missing {
                    setting: "bot_token (AI_RELAY_BOT_TOKEN or AI_RELAY_BOT_TOKEN_FILE)",
                    fix: "give the access token (scope `api`, role Developer) of the bot user that answers mentions",
                });
            }
        };

        let handles = HandleArgs::new([
            env.set(crate::env::AI_CLAUDE_HANDLE.name())
                .or(file.claude_handle),
            env.set(crate::env::AI_CODEX_HANDLE.name())
                .or(file.codex_handle),
        ])
        .handles()
        .map_err(|e| RelayConfigError::Invalid {
            setting: "claude_handle / codex_handle".to_owned(),
            value: String::new(),
            reason: e.to_string(),
        })?;

        let min_access = file.min_access_level.clone();
        let allowed_bots = file.allowed_bots.join(",");
        let guard = GuardSettings::from_env(&|name: &str| {
            env.set(name).or_else(|| match name {
                MIN_ACCESS_LEVEL_VAR => min_access.clone(),
                ALLOWED_BOTS_VAR => Some(allowed_bots.clone()),
                _ => None,
            })
        })
        .map_err(|e| RelayConfigError::Invalid {
            setting: "min_access_level (AI_MIN_ACCESS_LEVEL)".to_owned(),
            value: String::new(),
            reason: e.to_string(),
        })?;

        let mut projects = Vec::new();
        for (index, entry) in file.projects.into_iter().enumerate() {
            let key = match entry.project {
                ProjectKey::Id(id) => ProjectRef::Id(ProjectId(id)),
                ProjectKey::Path(path) => path
                    .trim()
                    .parse()
                    .unwrap_or_else(|never: std::convert::Infallible| match never {}),
            };
            let file = RouteFile {
                git_ref: entry.git_ref,
                trigger_token: entry.trigger_token,
                bot_token: entry.bot_token,
            };
            let route = route(&format!("projects[{index}]"), file, env)?;
            projects.push((key, route));
        }

        let mut defaults = file.defaults;
        if let Some(git_ref) = env.set(vars::DEFAULT_REF) {
            defaults.get_or_insert_with(RouteFile::default).git_ref = Some(git_ref);
        }
        if let Some(token) = env.set(vars::DEFAULT_TRIGGER_TOKEN) {
            defaults
                .get_or_insert_with(RouteFile::default)
                .trigger_token = Some(SecretSource::Value(token));
        }
        if let Some(path) = env.set(vars::DEFAULT_TRIGGER_TOKEN_FILE) {
            defaults
                .get_or_insert_with(RouteFile::default)
                .trigger_token = Some(SecretSource::File { file: path.into() });
        }
        let default_route = defaults.map(|d| route("defaults", d, env)).transpose()?;
        if projects.is_empty() && default_route.is_none() {
            return Err(RelayConfigError::Missing {
                setting: "[[projects]] or [defaults] (AI_RELAY_DEFAULT_REF)",
                fix: "list the projects the relay serves, or give [defaults] for a group webhook",
            });
        }

        let number =
            |name: &'static str, key: &str, file_value: Option<usize>, default: usize| match env
                .set(name)
            {
                Some(text) => text
                    .trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| RelayConfigError::Invalid {
                        setting: format!("{key} ({name})"),
                        value: text.clone(),
                        reason: "expected a positive whole number".to_owned(),
                    }),
                None => match file_value {
                    Some(0) => Err(RelayConfigError::Invalid {
                        setting: key.to_owned(),
                        value: "0".to_owned(),
                        reason: "expected a positive whole number".to_owned(),
                    }),
                    Some(n) => Ok(n),
                    None => Ok(default),
                },
            };
        Ok(Self {
            listen,
            gitlab,
            webhook_secrets,
            bot_token,
            handles,
            guard,
            projects,
            default_route,
            queue_capacity: number(
                vars::QUEUE_CAPACITY,
                "queue_capacity",
                file.queue_capacity,
                1024,
            )?,
            workers: number(vars::WORKERS, "workers", file.workers, 16)?,
            max_body_bytes: number(
                vars::MAX_BODY_BYTES,
                "max_body_bytes",
                file.max_body_bytes,
                DEFAULT_MAX_BODY_BYTES,
            )?,
            retry: RetryPolicy::default(),
            dedup_ttl: Duration::from_secs(3600),
            claim: crate::claim::ClaimSettings::from_env(env).map_err(|error| {
                RelayConfigError::Invalid {
                    setting: crate::claim::LEASE_VAR.to_owned(),
                    value: error.0.clone(),
                    reason: error.to_string(),
                }
            })?,
            limits: ConnectionLimits {
                max_connections: match env.set(vars::MAX_CONNECTIONS) {
                    Some(_) => Some(number(vars::MAX_CONNECTIONS, "max_connections", None, 0)?),
                    None => file
                        .max_connections
                        .map(|n| positive("max_connections", n))
                        .transpose()?,
                },
                ..ConnectionLimits::default()
            },
            overflow_bytes: number(
                vars::OVERFLOW_BYTES,
                "overflow_bytes",
                file.overflow_bytes,
                DEFAULT_OVERFLOW_BYTES,
            )?,
            spool_dir: env
                .set(vars::SPOOL_DIR)
                .map(PathBuf::from)
                .or(file.spool_dir),
            label_trigger: crate::trigger::event::label_from_env(&|name: &str| {
                env.set(name).or_else(|| file.label_trigger.clone())
            }),
            event_assistant: match env.set(vars::EVENT_ASSISTANT).or(file.event_assistant) {
                None => Assistant::Claude,
                Some(text) => text.parse().map_err(|e: crate::agent::UnknownAssistant| {
                    RelayConfigError::Invalid {
                        setting: format!("event_assistant ({})", vars::EVENT_ASSISTANT),
                        value: text.clone(),
                        reason: e.to_string(),
                    }
                })?,
            },
            quota_sweep: {
                let seconds = match env.set(vars::QUOTA_SWEEP_SECONDS) {
                    Some(text) => {
                        text.trim()
                            .parse::<u64>()
                            .map_err(|_| RelayConfigError::Invalid {
                                setting: format!(
                                    "quota_sweep_seconds ({})",
                                    vars::QUOTA_SWEEP_SECONDS
                                ),
                                value: text.clone(),
                                reason:
                                    "expected a whole number of seconds (0 turns the sweep off)"
                                        .to_owned(),
                            })?
                    }
                    None => file
                        .quota_sweep_seconds
                        .unwrap_or(DEFAULT_QUOTA_SWEEP.as_secs()),
                };
                (seconds > 0).then(|| Duration::from_secs(seconds))
            },
        })
    }
}

/// The largest Note Hook GitLab can send, with room to spare; a legitimate delivery must never
/// get 413, because GitLab does not send it again.
///
/// The user-written text in a Note Hook: the note twice (`object_attributes.note`, and
/// `object_attributes.description`, which `Gitlab::HookData::NoteBuilder` adds as the note with
/// absolute image URLs) at most 1,000,000 characters each (`Note` validates `note` to 1,000,000
/// characters; <https://docs.gitlab.com/administration/instance_limits/#size-of-comments-and-descriptions-of-issues-merge-requests-and-epics>),
/// plus the issue's or merge request's description, at most 1,048,576 characters
/// (`Issuable::DESCRIPTION_LENGTH_MAX = 1.megabyte`): 3,048,576 characters. The worst character
/// costs 6 bytes of JSON: a control character or one of `<`, `>`, `&` that Rails' encoder
/// escapes as `\u003c` (a 4-byte UTF-8 character is written as its 4 bytes, which is less).
/// 3,048,576 × 6 = 18,291,456 bytes, plus titles, labels, URLs, the last commit and the
/// expansion of relative upload links into absolute URLs: 32 MiB covers it. The body is read only
/// after the `X-Gitlab-Token` check, so nobody without the secret can make the relay buffer it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;

/// Deliveries kept beyond the queue by default (in memory, or on disk with a spool directory):
/// 256 MiB holds thousands of ordinary deliveries and at least 8 maximal ones.
const DEFAULT_OVERFLOW_BYTES: usize = 256 * 1024 * 1024;

fn positive(setting: &str, n: usize) -> Result<usize, RelayConfigError> {
    if n == 0 {
        return Err(RelayConfigError::Invalid {
            setting: setting.to_owned(),
            value: "0".to_owned(),
            reason: "expected a positive whole number".to_owned(),
        });
    }
    Ok(n)
}

/// `https://gitlab.example.com` or `https://gitlab.example.com/api/v4`, either way the API root.
fn api_root(url: &str) -> Result<ApiBaseUrl, String> {
    let trimmed = url.trim().trim_end_matches('/');
    if trimmed.ends_with("/api/v4") {
        ApiBaseUrl::parse(trimmed)
    } else {
        ApiBaseUrl::parse(&format!("{trimmed}/api/v4"))
    }
}

fn route(setting: &str, file: RouteFile, env: &dyn Env) -> Result<ProjectRoute, RelayConfigError> {
    let start = match &file.trigger_token {
        Some(source) => {
            PipelineStart::TriggerToken(resolve(&format!("{setting}.trigger_token"), source, env)?)
        }
        None => PipelineStart::BotToken,
    };
    let bot_token = file
        .bot_token
        .as_ref()
        .map(|source| resolve(&format!("{setting}.bot_token"), source, env))
        .transpose()?;
    Ok(ProjectRoute {
        start,
        git_ref: file
            .git_ref
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "main".to_owned()),
        bot_token,
    })
}

fn resolve(
    setting: &str,
    source: &SecretSource,
    env: &dyn Env,
) -> Result<Secret, RelayConfigError> {
    let secret = match source {
        SecretSource::Value(value) => Secret::new(value.clone()),
        SecretSource::Env { env: name } => Secret::new(env.var(name).unwrap_or_default()),
        SecretSource::File { file } => read_secret_file(setting, file)?,
    };
    if secret.is_empty() {
        let reason = match source {
            SecretSource::Value(_) => "the value is empty".to_owned(),
            SecretSource::Env { env } => format!("the variable {env} is not set or empty"),
            SecretSource::File { file } => format!("the file {file:?} is empty"),
        };
        return Err(RelayConfigError::Secret {
            setting: setting.to_owned(),
            reason,
        });
    }
    Ok(secret)
}

fn read_secret_file(setting: &str, path: &Path) -> Result<Secret, RelayConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| RelayConfigError::Secret {
        setting: setting.to_owned(),
        reason: format!("cannot read {path:?}: {e}"),
    })?;
    let secret = Secret::new(text);
    if secret.is_empty() {
        return Err(RelayConfigError::Secret {
            setting: setting.to_owned(),
            reason: format!("the file {path:?} is empty"),
        });
    }
    Ok(secret)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    gitlab_url: Option<String>,
    #[serde(default)]
    webhook_secrets: Vec<SecretSource>,
    bot_token: Option<SecretSource>,
    claude_handle: Option<String>,
    codex_handle: Option<String>,
    min_access_level: Option<String>,
    #[serde(default)]
    allowed_bots: Vec<String>,
    queue_capacity: Option<usize>,
    workers: Option<usize>,
    max_body_bytes: Option<usize>,
    max_connections: Option<usize>,
    overflow_bytes: Option<usize>,
    spool_dir: Option<PathBuf>,
    label_trigger: Option<String>,
    event_assistant: Option<String>,
    quota_sweep_seconds: Option<u64>,
    defaults: Option<RouteFile>,
    #[serde(default)]
    projects: Vec<ProjectFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    trigger_token: Option<SecretSource>,
    bot_token: Option<SecretSource>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ProjectKey {
    Id(u64),
    Path(String),
}

/// A `[[projects]]` entry: the project and the same keys as `[defaults]` (spelled out rather
/// than flattened, because serde cannot refuse unknown keys through `flatten` and a misspelt
/// `trigger_token` must not silently switch the project to the bot token).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectFile {
    project: ProjectKey,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    trigger_token: Option<SecretSource>,
    bot_token: Option<SecretSource>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars as env;

    const FILE: &str = r#"
        listen = "127.0.0.1:9000"
        gitlab_url = "https://gitlab.example.com/"
        webhook_secrets = ["hook-secret-value", { env = "OTHER_SECRET" }]
        bot_token = { env = "BOT" }
        workers = 4

        [defaults]
        ref = "develop"

        [[projects]]
        project = 42
        ref = "main"
        trigger_token = { env = "APP_TRIGGER" }

        [[projects]]
        project = "Group/Sub/App"
    "#;

    fn load(text: &str, pairs: &[(&str, &str)]) -> Result<RelayConfig, RelayConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("relay.toml");
        std::fs::write(&path, text).unwrap();
        RelayConfig::load(Some(&path), &env(pairs))
    }

    /// [`FILE`] with its secrets set, the bot token `bot`, and one more variable.
    fn load_file(bot: &str, extra: (&str, &str)) -> Result<RelayConfig, RelayConfigError> {
        load(
            FILE,
            &[
                ("BOT", bot),
                ("APP_TRIGGER", "t"),
                ("OTHER_SECRET", "o"),
                extra,
            ],
        )
    }

    #[test]
    fn events_and_the_quota_sweep_default_sensibly_and_the_environment_wins() {
        let secrets = [
            ("OTHER_SECRET", "s"),
            ("BOT", "glpat-bot"),
            ("APP_TRIGGER", "glptt-app"),
        ];
        let config = load(FILE, &secrets).unwrap();
        assert_eq!(config.label_trigger, None);
        assert_eq!(config.event_assistant, Assistant::Claude);
        assert_eq!(config.quota_sweep, Some(DEFAULT_QUOTA_SWEEP));

        let file = format!(
            "label_trigger = \"ai\"\nevent_assistant = \"codex\"\nquota_sweep_seconds = 60\n{FILE}"
        );
        let config = load(&file, &secrets).unwrap();
        assert_eq!(config.label_trigger.as_deref(), Some("ai"));
        assert_eq!(config.event_assistant, Assistant::Codex);
        assert_eq!(config.quota_sweep, Some(Duration::from_secs(60)));

        let mut pairs = secrets.to_vec();
        pairs.extend([
            ("AI_LABEL_TRIGGER", "claude"),
            (vars::EVENT_ASSISTANT, "claude"),
            (vars::QUOTA_SWEEP_SECONDS, "0"),
        ]);
        let config = load(&file, &pairs).unwrap();
        assert_eq!(config.label_trigger.as_deref(), Some("claude"));
        assert_eq!(config.event_assistant, Assistant::Claude);
        assert_eq!(config.quota_sweep, None, "0 turns the sweep off");

        for (name, value) in [
            (vars::EVENT_ASSISTANT, "gpt"),
            (vars::QUOTA_SWEEP_SECONDS, "5m"),
        ] {
            let mut pairs = secrets.to_vec();
            pairs.push((name, value));
            let error = load(FILE, &pairs).unwrap_err().to_string();
            assert!(error.contains(name), "{error}");
        }
    }

    #[test]
    fn the_file_describes_projects_defaults_and_secret_sources() {
        let config = load(
            FILE,
            &[
                ("OTHER_SECRET", "rotated-secret"),
                ("BOT", "glpat-bot"),
                ("APP_TRIGGER", "glptt-app"),
            ],
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(config.gitlab.as_str(), "https://gitlab.example.com/api/v4");
        assert_eq!(config.webhook_secrets.len(), 2);
        assert_eq!(config.bot_token.expose(), "glpat-bot");
        assert_eq!((config.workers, config.queue_capacity), (4, 1024));
        let [(id, app), (path, by_path)] = &config.projects[..] else {
            panic!("two projects expected: {:?}", config.projects)
        };
        assert_eq!(id, &ProjectRef::Id(ProjectId(42)));
        assert!(matches!(&app.start, PipelineStart::TriggerToken(t) if t.expose() == "glptt-app"));
        assert_eq!(path, &ProjectRef::Path("Group/Sub/App".into()));
        assert!(matches!(by_path.start, PipelineStart::BotToken));
        assert_eq!(by_path.git_ref, "main");
        assert_eq!(config.default_route.as_ref().unwrap().git_ref, "develop");
        assert!(!format!("{config:?}").contains("glptt-app"));
        assert!(!format!("{config:?}").contains("hook-secret-value"));
    }

    #[test]
    fn the_environment_alone_is_enough_and_wins_over_the_file() {
        let config = RelayConfig::load(
            None,
            &env(&[
                (vars::GITLAB_URL, "http://127.0.0.1:3000/api/v4"),
                (vars::WEBHOOK_SECRET, "s3cret"),
                (vars::BOT_TOKEN, "glpat-x"),
                (vars::DEFAULT_TRIGGER_TOKEN, "glptt-x"),
                (vars::WORKERS, "2"),
                ("AI_MIN_ACCESS_LEVEL", "maintainer"),
            ]),
        )
        .unwrap();
        assert_eq!(config.gitlab.as_str(), "http://127.0.0.1:3000/api/v4");
        assert_eq!(config.workers, 2);
        assert!(config.default_route.is_some());
        assert_eq!(config.guard.min_access.to_string(), "Maintainer (40)");
        let over = load_file("b", (vars::LISTEN, "127.0.0.1:0")).unwrap();
        assert_eq!(over.listen.port(), 0);
    }

    #[test]
    fn overflow_spool_and_connection_settings_come_from_the_environment() {
        let base = [
            (vars::GITLAB_URL, "http://127.0.0.1:3000"),
            (vars::WEBHOOK_SECRET, "s3cret"),
            (vars::BOT_TOKEN, "glpat-x"),
            (vars::DEFAULT_REF, "main"),
        ];
        let defaults = RelayConfig::load(None, &env(&base)).unwrap();
        assert_eq!(defaults.max_body_bytes, 32 * 1024 * 1024);
        assert_eq!(defaults.limits, ConnectionLimits::default());
        assert_eq!(defaults.spool_dir, None);
        let mut set = base.to_vec();
        set.extend([
            (vars::MAX_CONNECTIONS, "300"),
            (vars::OVERFLOW_BYTES, "1000"),
            (vars::SPOOL_DIR, "/var/lib/relay"),
        ]);
        let config = RelayConfig::load(None, &env(&set)).unwrap();
        assert_eq!(config.limits.max_connections, Some(300));
        assert_eq!(config.overflow_bytes, 1000);
        assert_eq!(config.spool_dir, Some(PathBuf::from("/var/lib/relay")));
        let mut zero = base.to_vec();
        zero.push((vars::MAX_CONNECTIONS, "0"));
        let err = RelayConfig::load(None, &env(&zero)).unwrap_err();
        assert!(
            err.to_string().contains("AI_RELAY_MAX_CONNECTIONS"),
            "{err}"
        );
    }

    #[test]
    fn missing_and_bad_settings_name_the_setting_and_never_the_secret() {
        let err =
            RelayConfig::load(None, &env(&[(vars::GITLAB_URL, "https://g.example")])).unwrap_err();
        assert!(err.to_string().contains("AI_RELAY_WEBHOOK_SECRET"), "{err}");
        let err = load(FILE, &[("BOT", "b"), ("OTHER_SECRET", "o")]).unwrap_err();
        assert!(err.to_string().contains("APP_TRIGGER"), "{err}");
        let err = load("gitlab_url = 3", &[]).unwrap_err();
        assert!(err.to_string().contains("relay.toml"), "{err}");
        let err = load("unknown_key = 1", &[]).unwrap_err();
        assert!(err.to_string().contains("unknown_key"), "{err}");
        let err = load("[[projects]]\nproject = 1\ntriger_token = \"x\"", &[]).unwrap_err();
        assert!(err.to_string().contains("triger_token"), "{err}");
        let err = load_file("glpat-top", (vars::WORKERS, "0")).unwrap_err();
        assert!(
            err.to_string().contains("AI_RELAY_WORKERS") && !err.to_string().contains("glpat-top"),
            "{err}"
        );
    }
}
