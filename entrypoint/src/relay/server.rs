//! A running relay: the listener, the queue and its workers, and the orderly stop (no new
//! deliveries, then every queued mention handled).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::answer::Context;
use super::config::{PipelineStart, RelayConfig};
use super::dedup::Seen;
use super::projects::Projects;
use super::queue;
use super::routes::{AppState, router};
use super::stats::{Snapshot, Stats};
use super::verify::TokenVerifier;
use crate::redact::Redactor;

/// Notes and deliveries remembered by the in-memory duplicate check at most.
const SEEN_CAPACITY: usize = 100_000;

/// A relay serving on its own tasks; [`Relay::shutdown`] stops it and drains the queue.
#[derive(Debug)]
pub struct Relay {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Relay {
    /// Binds `config.listen` and starts serving.
    pub async fn start(config: RelayConfig) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {} (listen / AI_RELAY_LISTEN)",
                    config.listen
                )
            })?;
        let addr = listener
            .local_addr()
            .context("reading the relay's address")?;
        let projects = Arc::new(Projects::new(&config).context("setting up the GitLab client")?);
        let stats = Arc::new(Stats::default());
        let seen = Arc::new(Seen::new(config.dedup_ttl, SEEN_CAPACITY));
        let ctx = Arc::new(Context {
            stats: Arc::clone(&stats),
            seen: Arc::clone(&seen),
            guard: config.guard.clone(),
            redactor: redactor(&config),
            claim: config.claim,
        });
        let (queue, drained) =
            queue::start(config.queue_capacity, config.workers, Arc::clone(&ctx));
        let app = router(AppState {
            verifier: TokenVerifier::new(&config.webhook_secrets),
            handles: config.handles.clone(),
            projects,
            seen,
            queue,
            ctx,
            max_body_bytes: config.max_body_bytes,
        });
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .context("the relay's HTTP server failed")?;
            // The router, and with it the last sender of the queue, is gone: the workers finish
            // what is queued and the dispatcher ends.
            tracing::info!("no longer accepting deliveries; draining the queue");
            drained.await.context("the relay's workers panicked")?;
            tracing::info!("queue drained");
            Ok(())
        });
        tracing::info!(%addr, workers = config.workers, queue_capacity = config.queue_capacity, gitlab = %config.gitlab, "relay listening");
        Ok(Self {
            addr,
            stats,
            stop: Some(stop),
            task,
        })
    }

    /// The address it listens on (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The counters now.
    pub fn stats(&self) -> Snapshot {
        self.stats.snapshot()
    }

    /// Stops accepting deliveries and returns once every queued mention is handled.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.context("the relay task panicked")?
    }

    /// Serves until `signal` resolves (or the server fails), then shuts down.
    pub async fn run_until(mut self, signal: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::select! {
            () = signal => self.shutdown().await,
            ended = &mut self.task => ended.context("the relay task panicked")?,
        }
    }
}

/// Every configured secret, so none can reach a posted failure note.
fn redactor(config: &RelayConfig) -> Redactor {
    let mut redactor = Redactor::new(config.handles.clone());
    let routes = config
        .projects
        .iter()
        .map(|(_, route)| route)
        .chain(config.default_route.iter());
    for route in routes {
        if let PipelineStart::TriggerToken(token) = &route.start {
            redactor.add_secret(token.expose());
        }
        if let Some(token) = &route.bot_token {
            redactor.add_secret(token.expose());
        }
    }
    redactor.add_secret(config.bot_token.expose());
    for secret in &config.webhook_secrets {
        redactor.add_secret(secret.expose());
    }
    redactor
}
