//! The key proxy: a reverse proxy on `127.0.0.1` that holds the real model API key so the
//! assistant CLI never does.
//!
//! The CLI is pointed at [`KeyProxy::base_url`] with a dummy key. The proxy drops whatever
//! credential arrives, adds the real key the way the API wants it, and forwards to the one
//! configured upstream, whatever the request's `Host` or absolute-form URL names: it is not an
//! open proxy (other hosts and `CONNECT` get `403`). A random path prefix per run means only a
//! process told the URL can use it. Answers stream back unchanged, headers included, because
//! both CLIs read Server-Sent Events and Claude Code's retry logic reads `x-should-retry`; the
//! one exception is a rate limit that asks for a long wait, answered as final so the request is
//! queued instead ([`retry_after`], [`crate::quota`]).
//!
//! This is the same design as OpenAI's `codex-responses-api-proxy`, which `openai/codex-action`
//! runs for the same reason: a model that can run shell commands can read its own environment.
//!
//! The same listener also serves the run's HTTP MCP servers ([`ServiceRoute`], from
//! [`crate::agent::mcp`]): each under a random prefix of its own, forwarded to its one URL
//! with the headers its configuration names (a bearer token from a CI/CD variable), so those
//! secrets stay out of the sandbox uid's reach exactly as the model key does. One port for all
//! of them keeps the network fence at one allowed port.

mod forward;
mod headers;
mod refusal;
mod retry_after;
#[cfg(test)]
mod tests;
mod upstream;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use rand::Rng;
use rand::distr::Alphanumeric;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use forward::ServiceRoute;
pub use upstream::{ModelApi, Upstream, UpstreamError};

use crate::budget::Meter;
use crate::secret::Secret;

/// Connecting to the upstream may take this long; answers themselves have no time limit, since
/// a model stream can run for many minutes (the run's own timeout bounds it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The proxy could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("could not listen on 127.0.0.1 for the key proxy: {0}")]
    Bind(std::io::Error),
    #[error("could not build the key proxy's HTTP client: {0}")]
    Client(reqwest::Error),
    #[error(
        "{variable} contains characters that cannot be sent in an HTTP header; copy the key again without line breaks or spaces"
    )]
    Key { variable: &'static str },
    #[error(
        "the MCP server {server} has a header {header} whose value cannot be sent in an HTTP header (a line break or a control character, perhaps from the CI/CD variable it names); fix the value"
    )]
    ServiceHeader { server: String, header: String },
}

/// A running key proxy; it stops when dropped.
pub struct KeyProxy {
    base_url: String,
    upstream: Upstream,
    /// Each service route's name and base URL (`http://127.0.0.1:PORT/<its token>`).
    services: Vec<(String, String)>,
    /// The model API's last `Retry-After` on a limited answer.
    retry_after: Arc<retry_after::RetryAfter>,
    task: JoinHandle<()>,
}

impl KeyProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` with `key`.
    pub async fn start(upstream: Upstream, key: Secret) -> Result<Self, ProxyError> {
        Self::start_metered(upstream, key, None).await
    }

    /// [`KeyProxy::start`], with every model call of an OpenAI upstream counted and priced by
    /// `meter`, and refused once the run reached one of its limits ([`crate::budget::meter`]).
    pub(crate) async fn start_metered(
        upstream: Upstream,
        key: Secret,
        meter: Option<Arc<Meter>>,
    ) -> Result<Self, ProxyError> {
        Self::start_with_services(upstream, key, meter, Vec::new()).await
    }

    /// [`KeyProxy::start_metered`], also serving `services` (the run's HTTP MCP servers) on the
    /// same port, each under a prefix of its own ([`KeyProxy::service_url`]).
    pub(crate) async fn start_with_services(
        upstream: Upstream,
        key: Secret,
        meter: Option<Arc<Meter>>,
        services: Vec<ServiceRoute>,
    ) -> Result<Self, ProxyError> {
        if http::HeaderValue::from_str(key.expose()).is_err() {
            return Err(ProxyError::Key {
                variable: upstream.api().key_variable(),
            });
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(ProxyError::Bind)?;
        let listen: SocketAddr = listener.local_addr().map_err(ProxyError::Bind)?;
        let prefix = random_prefix();
        let mut routes = vec![forward::Route {
            prefix: prefix.clone(),
            kind: forward::RouteKind::Model {
                upstream: upstream.clone(),
                key,
                meter,
            },
        }];
        let mut service_urls = Vec::new();
        for service in services {
            let service_prefix = random_prefix();
            service_urls.push((
                service.name.clone(),
                format!("http://{listen}{service_prefix}"),
            ));
            routes.push(forward::Route {
                prefix: service_prefix,
                kind: forward::RouteKind::Service(service.into_headers()?),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ProxyError::Client)?;
        let retry_after = Arc::new(retry_after::RetryAfter::default());
        let shared = Arc::new(forward::Shared {
            api: upstream.api(),
            routes,
            listen,
            http,
            retry_after: Arc::clone(&retry_after),
        });
        let app = Router::new().fallback(forward::handle).with_state(shared);
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::error!(%error, "the key proxy stopped serving");
            }
        });
        tracing::debug!(%listen, upstream = %upstream.base(), "key proxy listening");
        Ok(Self {
            base_url: format!("http://{listen}{prefix}"),
            upstream,
            services: service_urls,
            retry_after,
            task,
        })
    }

    /// The URL to give the CLI for the service route named `name` (an MCP server's name):
    /// requests below it go to that server's URL with its headers added.
    pub(crate) fn service_url(&self, name: &str) -> Option<&str> {
        self.services
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, url)| url.as_str())
    }

    /// `http://127.0.0.1:PORT/<token>`: the base URL to give the CLI in place of the API's.
    /// Paths below it map onto the upstream's base URL (`…/<token>/v1/messages` →
    /// `https://api.anthropic.com/v1/messages`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The wait the model API asked for in the `Retry-After` of its last rate-limit or
    /// overloaded answer through this proxy, if it gave one.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after.get()
    }

    pub fn upstream(&self) -> &Upstream {
        &self.upstream
    }

    /// Stops accepting connections; open ones end with their client (the CLI, which is gone
    /// by the time a run stops the proxy).
    pub fn stop(self) {
        drop(self);
    }
}

/// `/<32 random letters and digits>`: only a process told the URL can use the route.
fn random_prefix() -> String {
    let token: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(32)
        .map(char::from)
        .collect();
    format!("/{token}")
}

impl Drop for KeyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
