//! Runs one assistant CLI on the workspace: key proxy up, the CLI as the sandbox uid in an
//! allowlisted environment (see [`crate::sandbox`]), events streamed to the caller, a hard
//! timeout, cancellation on `SIGTERM`, and Codex's retry with a fallback model.
//!
//! ```no_run
//! # async fn story(prompt: String) -> anyhow::Result<()> {
//! use entrypoint::agent::Assistant;
//! use entrypoint::agent::events::AssistantEvent;
//! use entrypoint::agent::run::{Outcome, RunSpec, run};
//! use entrypoint::env::ProcessEnv;
//! use entrypoint::sandbox::{Plan, Settings};
//!
//! let vars = &ProcessEnv;
//! let spec = RunSpec::from_env(
//!     Assistant::Claude,
//!     "claude".into(),
//!     "/builds/group/project".into(),
//!     prompt,
//!     vars,
//! )?;
//! let plan = Plan::for_this_process(Settings::from_env(Assistant::Claude, vars)?)?;
//! let report = run(&spec, &plan, |event| {
//!     if let AssistantEvent::ToolCall { name, summary } = event {
//!         tracing::info!("{name} {summary}");
//!     }
//! })
//! .await?;
//! if let Outcome::Succeeded { final_text, .. } = &report.outcome {
//!     println!("{final_text}");
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::agent::env::{ChildEnv, Cloud};
use crate::agent::events::{AssistantEvent, Limit, Usage};
use crate::agent::mcp::{McpError, Resolved};
use crate::agent::{Assistant, agent};
use crate::budget::{Meter, Price, RunLimits};
use crate::proxy::{KeyProxy, ProxyError, Upstream};
use crate::sandbox::{Enclosure, Plan, ProxySite, SandboxError, Site};
use crate::secret::Secret;

/// One model API reached through the key proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiConfig {
    pub upstream: Upstream,
    /// The real key; only the proxy holds it.
    pub key: Secret,
}

/// Where the assistant's model calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    /// The vendor's API (or a gateway) through the key proxy; the CLI never sees the key.
    Api(ApiConfig),
    /// Claude on Amazon Bedrock: Claude Code signs requests itself, so `AWS_*` reaches it.
    Bedrock,
    /// Claude on Google Vertex AI: Claude Code authenticates itself with the Google variables.
    Vertex,
}

impl Provider {
    fn cloud(&self) -> Option<Cloud> {
        match self {
            Self::Api(_) => None,
            Self::Bedrock => Some(Cloud::Bedrock),
            Self::Vertex => Some(Cloud::Vertex),
        }
    }
}

/// Everything one run needs. Build it with [`RunSpec::from_env`] or by hand.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub assistant: Assistant,
    /// The CLI's executable.
    pub program: PathBuf,
    /// Directories put first on the CLI's `PATH` (Codex ships `rg` beside its binary).
    pub extra_path: Vec<PathBuf>,
    /// The checked-out repository; the CLI runs there and may change it.
    pub workspace: PathBuf,
    /// The full prompt, passed on stdin.
    pub prompt: String,
    /// `--model` / `-m`; `None` leaves the CLI's own default.
    pub model: Option<String>,
    /// Codex only: the model to retry with, once, when `model` does not exist.
    pub fallback_model: Option<String>,
    /// `AI_MAX_TURNS`: Claude's `--max-turns`; for Codex, the model calls the key proxy lets
    /// through ([`crate::budget::meter`]).
    pub max_turns: Option<u32>,
    /// `AI_MAX_BUDGET_USD`: Claude's `--max-budget-usd`; for Codex, metered by the key proxy.
    pub max_budget_usd: Option<f64>,
    /// `AI_PRICE_PER_MTOK`: the rates Codex's usage is priced at instead of the table.
    pub price: Option<Price>,
    /// How often the CLI retries a failed model call; `None` keeps its default.
    pub max_retries: Option<u32>,
    /// The whole run, fallback included, is killed after this long.
    pub timeout: Duration,
    pub provider: Provider,
    /// Extra variable names to copy into the CLI's environment (`AI_ENV_PASSTHROUGH`);
    /// credentials and CI variables among them are refused (see [`super::env`]).
    pub passthrough: Vec<String>,
    /// Extra arguments, tools, effort and Claude's fallback model ([`super::options`]),
    /// checked already.
    pub options: super::options::CliOptions,
}

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded {
        final_text: String,
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
    /// The CLI failed; `message` is its own reason, else the end of its stderr.
    Failed { message: String },
    /// The CLI and everything it started were killed after `after`.
    TimedOut { after: Duration },
    /// The run stopped at `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS`; `partial_text` is the last
    /// thing the model said (empty when it said nothing yet).
    LimitReached {
        limit: Limit,
        partial_text: String,
        usage: Option<Usage>,
        cost_usd: Option<f64>,
    },
}

/// What the orchestrator reports about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    pub outcome: Outcome,
    /// The model the last attempt asked for (`None`: the CLI's default).
    pub model: Option<String>,
    /// `(missing, used)` when Codex was retried with the fallback model.
    pub fallback_used: Option<(String, String)>,
    pub elapsed: Duration,
    /// Pass-through names that were not copied, for a warning in the job log.
    pub refused_passthrough: Vec<String>,
    /// Whether the CLI's network was fenced ([`crate::sandbox::Network::Fenced`]); the final
    /// note says so when it was not. (It ran as the sandbox uid either way.)
    pub sandboxed: bool,
    /// The limits the run was held to, for the note of a run that reached one.
    pub limits: RunLimits,
    /// The wait the model API asked for (`Retry-After`) when it rate-limited the last attempt;
    /// a queued request is retried no sooner ([`crate::quota`]).
    pub retry_after: Option<Duration>,
}

/// The run could not be carried out at all (as opposed to the assistant failing).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    #[error("Codex can only use an OpenAI-compatible API, not Bedrock or Vertex")]
    CodexNeedsApi,
    #[error("could not create the assistant's home directory: {0}")]
    Home(std::io::Error),
    #[error("could not read {file} in the workspace: {source}")]
    Rules {
        file: &'static str,
        source: std::io::Error,
    },
    #[error(
        "could not start {program} as the sandbox uid: {source} (the CLI, its files and their directories must be readable and executable by every user)"
    )]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("waiting for the assistant failed: {0}")]
    Wait(std::io::Error),
    #[error(transparent)]
    Mcp(#[from] McpError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    /// The job was cancelled (`SIGTERM`): the CLI and every process of the sandbox uid were
    /// killed, and the placeholder is left for `entrypoint finalize` in `after_script`, which
    /// says "cancelled" (GitLab runs `after_script` for cancelled jobs and sets
    /// `CI_JOB_STATUS=canceled`, <https://docs.gitlab.com/ci/yaml/#after_script>).
    #[error(
        "the job was cancelled (SIGTERM) while the assistant was running; the assistant and every process it started were stopped"
    )]
    Cancelled,
    #[error("could not listen for SIGTERM, which a cancelled job receives: {0}")]
    Signal(std::io::Error),
}

/// Runs the assistant described by `spec` as `sandbox`'s uid, calling `on_event` for each event
/// as it happens. For each attempt the checkout is lent to the uid and, when the network is
/// fenced, the rules are applied for the proxy's port and verified before the CLI starts; after
/// it exits every process of the uid is killed, the rules removed and the checkout given back
/// (see [`crate::sandbox`]). There is no way to run the CLI as the job's own uid.
///
/// `Err` means the run could not be carried out (no proxy, no executable, no uid to switch to)
/// or was cancelled; an assistant that failed or timed out is an `Ok` report. When Codex is
/// retried with the fallback model, the events of the failed first attempt (its `Failed` event
/// naming the missing model) are passed on too. The returned future is `Send`, so the caller
/// can spawn it next to its own timer (placeholder refreshes).
pub async fn run(
    spec: &RunSpec,
    sandbox: &Plan,
    mut on_event: impl FnMut(&AssistantEvent) + Send,
) -> Result<RunReport, RunError> {
    let started = Instant::now();
    let deadline = started + spec.timeout;
    let mut model = spec.model.clone();
    let mut last = attempt(spec, sandbox, model.as_deref(), deadline, &mut on_event).await?;
    let mut fallback_used = None;
    if let Outcome::Failed { message } = &last.outcome
        && agent(spec.assistant).model_missing(message)
        && let Some(fallback) = &spec.fallback_model
        && model.as_deref() != Some(fallback.as_str())
    {
        let missing = model.clone().unwrap_or_default();
        tracing::warn!(%missing, %fallback, "the model does not exist; retrying once with the fallback model");
        model = Some(fallback.clone());
        fallback_used = Some((missing, fallback.clone()));
        last = attempt(spec, sandbox, model.as_deref(), deadline, &mut on_event).await?;
    }
    Ok(RunReport {
        outcome: last.outcome,
        model,
        fallback_used,
        elapsed: started.elapsed(),
        refused_passthrough: last.refused,
        sandboxed: sandbox.settings.is_fenced(),
        limits: RunLimits {
            max_usd: spec.max_budget_usd,
            max_turns: spec.max_turns,
        },
        retry_after: last.retry_after,
    })
}

/// What an [`super::Agent`] needs to build one attempt's [`super::invocation::Invocation`].
pub struct Launch<'a> {
    pub spec: &'a RunSpec,
    /// The model this attempt asks for (`None`: the CLI's default).
    pub model: Option<&'a str>,
    /// The allowlisted environment, to which the agent adds its own variables.
    pub env: ChildEnv,
    /// The key proxy, absent when the CLI reaches a cloud provider by itself.
    pub proxy: Option<&'a KeyProxy>,
    /// The fresh home directory, given to the sandbox uid once the invocation is built.
    pub home: &'a std::path::Path,
    /// The run's MCP servers, HTTP ones reached through the key proxy.
    pub servers: &'a Resolved,
}

impl Launch<'_> {
    /// The key proxy's URL for the MCP server `name`.
    pub(crate) fn service_url(&self, name: &str) -> Option<String> {
        self.proxy
            .and_then(|p| p.service_url(name))
            .map(str::to_owned)
    }

    /// True when the run has MCP servers to give the CLI.
    pub(crate) fn has_mcp(&self) -> bool {
        !self.servers.routes.is_empty() || !self.servers.stdio.is_empty()
    }
}

struct Attempt {
    outcome: Outcome,
    refused: Vec<String>,
    retry_after: Option<Duration>,
}

async fn attempt(
    spec: &RunSpec,
    sandbox: &Plan,
    model: Option<&str>,
    deadline: Instant,
    on_event: &mut (dyn FnMut(&AssistantEvent) + Send),
) -> Result<Attempt, RunError> {
    // A CLI that reports no cost and enforces no limit is metered by the proxy.
    let meter = agent(spec.assistant).metered_by_proxy().then(|| {
        Arc::new(Meter::new(
            RunLimits {
                max_usd: spec.max_budget_usd,
                max_turns: spec.max_turns,
            },
            spec.price,
        ))
    });
    let servers = mcp_servers(spec, sandbox)?;
    let proxy = match &spec.provider {
        Provider::Api(api) => Some(
            KeyProxy::start_with_services(
                api.upstream.clone(),
                api.key.clone(),
                meter.clone(),
                servers.routes.clone(),
            )
            .await?,
        ),
        Provider::Bedrock | Provider::Vertex => {
            if let Some(route) = servers.routes.first() {
                return Err(McpError::NeedsProxy {
                    server: route.name.clone(),
                }
                .into());
            }
            None
        }
    };
    let enclosure = enclose(sandbox, proxy.as_ref(), spec).await?;
    let home = enclosure.fresh_home()?;
    let env = ChildEnv::base(
        job_environment(),
        home.path(),
        &spec.extra_path,
        spec.provider.cloud(),
        &spec.passthrough,
    );
    let refused = env.refused().to_vec();
    let invocation = agent(spec.assistant).invocation(Launch {
        spec,
        model,
        env,
        proxy: proxy.as_ref(),
        home: home.path(),
        servers: &servers,
    })?;
    enclosure.give_home(home.path())?;
    let outcome = super::supervise::supervise(
        spec,
        &enclosure,
        invocation,
        deadline,
        meter.as_deref(),
        on_event,
    )
    .await;
    if matches!(outcome, Err(RunError::Cancelled)) {
        tracing::warn!("the job was cancelled: stopping the assistant and everything it started");
    }
    enclosure.finish()?;
    let outcome = outcome?;
    let retry_after = proxy.as_ref().and_then(KeyProxy::retry_after);
    drop(proxy);
    drop(home);
    Ok(Attempt {
        outcome,
        refused,
        retry_after,
    })
}

/// The run's MCP servers, checked against the network policy and with their header secrets
/// read from the job's variables; none when nothing is configured.
fn mcp_servers(spec: &RunSpec, sandbox: &Plan) -> Result<Resolved, McpError> {
    let config = &spec.options.mcp;
    if config.is_empty() {
        return Ok(Resolved::default());
    }
    config.check_network(&sandbox.settings.network)?;
    let job = job_environment();
    let resolved = config.resolve(&|name: &str| job.get(name).cloned())?;
    tracing::info!(
        http = ?resolved.routes.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        stdio = ?resolved.stdio.keys().collect::<Vec<_>>(),
        "MCP servers: HTTP ones through the key proxy, which adds their credentials; stdio ones started by the CLI as the sandbox uid"
    );
    Ok(resolved)
}

/// Establishes the enclosure (around `proxy` when there is one) on a blocking thread, so the
/// proxy keeps answering the probes on this runtime meanwhile.
async fn enclose(
    plan: &Plan,
    proxy: Option<&KeyProxy>,
    spec: &RunSpec,
) -> Result<Enclosure, RunError> {
    let site = Site {
        workspace: spec.workspace.clone(),
        proxy: proxy.map(|proxy| ProxySite {
            port: crate::sandbox::proxy_port(proxy.base_url())
                .unwrap_or_else(|| unreachable!("the key proxy's URL always has a port")),
            upstream: proxy.upstream().clone(),
        }),
    };
    let plan = plan.clone();
    tokio::task::spawn_blocking(move || Enclosure::establish(&plan, &site))
        .await
        .map_err(|join| RunError::Wait(std::io::Error::other(join)))?
        .map_err(RunError::from)
}

/// The job's variables that are valid UTF-8 (others cannot be allowlisted names anyway).
fn job_environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(n, v)| Some((n.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_can_be_spawned() {
        fn assert_send<T: Send>(_: &T) {}
        let spec = RunSpec {
            options: Default::default(),
            assistant: Assistant::Claude,
            program: "claude".into(),
            extra_path: Vec::new(),
            workspace: ".".into(),
            prompt: String::new(),
            model: None,
            fallback_model: None,
            max_turns: None,
            max_budget_usd: None,
            price: None,
            max_retries: None,
            timeout: Duration::from_secs(1),
            provider: Provider::Vertex,
            passthrough: Vec::new(),
        };
        let mut seen = Vec::new();
        let plan = Plan {
            settings: crate::sandbox::Settings::open(
                crate::sandbox::SandboxUid::new(crate::sandbox::DEFAULT_UID).unwrap(),
            ),
            probe: crate::sandbox::ProbeProgram("/nonexistent".into()),
            capabilities: crate::sandbox::Capabilities::NONE,
        };
        let future = run(&spec, &plan, |event| seen.push(event.clone()));
        assert_send(&future);
    }
}
