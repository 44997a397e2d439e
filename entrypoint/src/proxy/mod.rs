//! The key proxy: a reverse proxy on `127.0.0.1` that holds the real model API key so the
//! assistant CLI never does.
//!
//! The CLI is pointed at [`KeyProxy::base_url`] with a dummy key. The proxy drops whatever
//! credential arrives, adds the real key the way the API wants it, and forwards to the one
//! configured upstream, whatever the request's `Host` or absolute-form URL names: it is not an
//! open proxy (other hosts and `CONNECT` get `403`). A random path prefix per run means only a
//! process told the URL can use it. Answers stream back unchanged, headers included, because
//! both CLIs read Server-Sent Events and Claude Code's retry logic reads `x-should-retry`.
//!
//! This is the same design as OpenAI's `codex-responses-api-proxy`, which `openai/codex-action`
//! runs for the same reason: a model that can run shell commands can read its own environment.

mod forward;
mod headers;
mod refusal;
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
}

/// A running key proxy; it stops when dropped.
pub struct KeyProxy {
    base_url: String,
    upstream: Upstream,
    task: JoinHandle<()>,
}

impl KeyProxy {
    /// Listens on `127.0.0.1:0` and forwards to `upstream` with `key`.
    pub async fn start(upstream: Upstream, key: Secret) -> Result<Self, ProxyError> {
        Self::start_metered(upstream, key, None).await
    }

    /// [`KeyProxy::start`], with every model call of an OpenAI upstream counted and priced by
    /// `meter`, and refused once the run reached one of its limits ([`crate::budget::meter`]).
    pub async fn start_metered(
        upstream: Upstream,
        key: Secret,
        meter: Option<Arc<Meter>>,
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
        let token: String = rand::rng()
            .sample_iter(Alphanumeric)
            .take(32)
            .map(char::from)
            .collect();
        let prefix = format!("/{token}");
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ProxyError::Client)?;
        let shared = Arc::new(forward::Shared {
            upstream: upstream.clone(),
            key,
            prefix: prefix.clone(),
            listen,
            http,
            meter,
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
            task,
        })
    }

    /// `http://127.0.0.1:PORT/<token>`: the base URL to give the CLI in place of the API's.
    /// Paths below it map onto the upstream's base URL (`…/<token>/v1/messages` →
    /// `https://api.anthropic.com/v1/messages`).
    pub fn base_url(&self) -> &str {
        &self.base_url
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

impl Drop for KeyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}
