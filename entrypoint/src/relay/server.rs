//! A running relay: the listener, the queue and its workers, and the orderly stop (no new
//! deliveries, then every queued mention handled).
//!
//! The listener is written out (rather than `axum::serve`) because nothing in the default can
//! stop a client from holding the relay open: every connection gets a deadline for its headers
//! (which is also the idle timeout) and, in the handler, for its body; and at most
//! `max_connections` are open, below the process's open-file limit. When a new connection
//! arrives at the limit, the connection that has waited longest without a request in progress
//! (one that opened and sends nothing, or drips its headers) is closed to make room, so a flood
//! of slow connections cannot keep out a real delivery. Only when every connection is inside a
//! request (which needs the webhook secret past the headers) is the new one closed at once.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt as _;

use super::answer::Context;
use super::config::{ConnectionLimits, PipelineStart, RelayConfig};
use super::dedup::Seen;
use super::intake::{Delivery, EventRules, Intake};
use super::projects::Projects;
use super::queue;
use super::routes::{AppState, router};
use super::spool::Spool;
use super::stats::{Snapshot, Stats};
use super::verify::TokenVerifier;
use crate::redact::Redactor;

/// Notes and deliveries remembered by the in-memory duplicate check at most.
const SEEN_CAPACITY: usize = 100_000;

/// File descriptors kept free for everything that is not an incoming connection: the workers'
/// connections to GitLab, the spool's files, the standard streams, DNS.
const RESERVED_FDS: u64 = 256;

/// The default connection limit when the open-file limit allows it.
const DEFAULT_MAX_CONNECTIONS: u64 = 1024;

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
        let max_connections = connection_limit(config.limits.max_connections)?;
        let spool = config
            .spool_dir
            .as_deref()
            .map(Spool::open)
            .transpose()?
            .map(Arc::new);
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
        let events = EventRules {
            label: config.label_trigger.clone(),
            assistant: config.event_assistant,
        };
        let ctx = Arc::new(Context {
            stats: Arc::clone(&stats),
            seen: Arc::clone(&seen),
            guard: config.guard.clone(),
            redactor: redactor(&config),
            claim: config.claim,
            handles: config.handles.clone(),
            events: events.clone(),
        });
        let (queue, drained) = queue::start(
            config.queue_capacity,
            config.overflow_bytes,
            config.workers,
            Arc::clone(&ctx),
        );
        let state = AppState {
            verifier: TokenVerifier::new(&config.webhook_secrets),
            handles: config.handles.clone(),
            events,
            projects,
            seen,
            queue: queue.clone(),
            ctx,
            max_body_bytes: config.max_body_bytes,
            body_timeout: config.limits.body_timeout,
            spool,
        };
        let recovered = recover(&state).context("reading the spool directory")?;
        if recovered > 0 {
            tracing::info!(
                recovered,
                "answering mentions left in the spool directory by an earlier run"
            );
        }
        let (stop_sweep, sweep_stopped) = watch::channel(false);
        let sweep = config.quota_sweep.map(|interval| {
            let sweepers = state
                .projects
                .listed()
                .map(|(key, project)| super::sweep::Sweeper {
                    project: key.clone(),
                    served: Arc::clone(project),
                    last: None,
                })
                .collect();
            tokio::spawn(super::sweep::run(
                sweepers,
                interval,
                config.claim,
                Arc::clone(&stats),
                sweep_stopped,
            ))
        });
        let app = router(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let limits = config.limits;
        let task = tokio::spawn(async move {
            serve(listener, app, limits, max_connections, stopped).await;
            let _ = stop_sweep.send(true);
            if let Some(sweep) = sweep {
                sweep.await.context("the quota sweep panicked")?;
            }
            // Every connection is closed: the workers finish what is queued and the
            // dispatcher ends.
            tracing::info!("no longer accepting deliveries; draining the queue");
            queue.close();
            drained.await.context("the relay's workers panicked")?;
            tracing::info!("queue drained");
            Ok(())
        });
        tracing::info!(%addr, quota_sweep_seconds = config.quota_sweep.map_or(0, |d| d.as_secs()), workers = config.workers, queue_capacity = config.queue_capacity, overflow_bytes = config.overflow_bytes, max_connections, gitlab = %config.gitlab, "relay listening");
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

/// The connection limit: `configured`, or 1024, and in any case below the open-file limit
/// (`RLIMIT_NOFILE`) less [`RESERVED_FDS`], so accepting never runs the process out of files.
fn connection_limit(configured: Option<usize>) -> anyhow::Result<usize> {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    let room = soft.saturating_sub(RESERVED_FDS);
    if room < 16 {
        anyhow::bail!(
            "the open-file limit (ulimit -n) is {soft}, too low for the relay: it keeps {RESERVED_FDS} files for its own use and needs room for connections; raise it (docker run --ulimit nofile=4096)"
        );
    }
    match configured {
        Some(wanted) if u64::try_from(wanted).unwrap_or(u64::MAX) > room => anyhow::bail!(
            "max_connections (AI_RELAY_MAX_CONNECTIONS) = {wanted} does not fit the open-file limit (ulimit -n) of {soft} less the {RESERVED_FDS} files the relay keeps for itself; lower it to at most {room} or raise the limit"
        ),
        Some(wanted) => Ok(wanted),
        None => Ok(usize::try_from(room.min(DEFAULT_MAX_CONNECTIONS)).unwrap_or(1024)),
    }
}

/// Queues the deliveries an earlier run left in the spool directory.
fn recover(state: &AppState) -> anyhow::Result<usize> {
    let Some(spool) = &state.spool else {
        return Ok(0);
    };
    let mut recovered = 0;
    for (record, size, entry) in spool.recover()? {
        let delivery = Delivery {
            event: record.event,
            event_uuid: record.event_uuid,
            idempotency_key: record.idempotency_key,
            received: std::time::Instant::now(),
        };
        match state.reader().intake(&delivery, &record.body) {
            Intake::Mentions(mut mentions) => {
                let entry = Arc::new(entry);
                for mention in &mut mentions {
                    mention.spooled = Some(Arc::clone(&entry));
                }
                recovered += mentions.len();
                state.queue.push_recovered(mentions, size, &state.ctx);
            }
            Intake::Ignored(reason) | Intake::Malformed(reason) => {
                tracing::info!(%reason, "a spooled delivery needs no answer any more; removed");
            }
            Intake::Duplicate => {
                tracing::info!("a spooled delivery repeats another one; removed");
            }
        }
    }
    Ok(recovered)
}

/// One open connection as the accept loop sees it.
#[derive(Debug)]
struct Open {
    /// Requests in progress (headers complete, response not yet written).
    busy: Arc<AtomicUsize>,
    /// Closes the connection.
    cut: oneshot::Sender<()>,
}

/// Open connections by age (the key grows with every accept).
#[derive(Debug, Default)]
struct Connections {
    next: u64,
    open: BTreeMap<u64, Open>,
}

type Tracked = Arc<Mutex<Connections>>;

fn lock(tracked: &Tracked) -> std::sync::MutexGuard<'_, Connections> {
    // Every change under the lock is one insert or remove: a poisoned lock is still consistent.
    tracked
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Accepts until `stopped`, then lets every connection finish its request and returns once
/// all are closed.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
    max_connections: usize,
    mut stopped: oneshot::Receiver<()>,
) {
    let tracked: Tracked = Arc::default();
    let (closing, closing_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let Some((id, busy, cut)) = admit(&tracked, max_connections) else {
                        tracing::warn!(%peer, max_connections, "every connection is inside a request; closed a new one (max_connections / AI_RELAY_MAX_CONNECTIONS)");
                        drop(stream);
                        continue;
                    };
                    tasks.spawn(connection(
                        stream,
                        app.clone(),
                        limits,
                        busy,
                        cut,
                        closing_rx.clone(),
                        (Arc::clone(&tracked), id),
                    ));
                }
                Err(error) => {
                    // Out of files or memory for a moment: wait rather than spin or exit.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let _ = closing.send(true);
    while tasks.join_next().await.is_some() {}
}

/// Registers a new connection, closing the longest-idle one first when at the limit. `None`
/// when every open connection is inside a request.
fn admit(
    tracked: &Tracked,
    max_connections: usize,
) -> Option<(u64, Arc<AtomicUsize>, oneshot::Receiver<()>)> {
    let mut connections = lock(tracked);
    if connections.open.len() >= max_connections {
        let idle = connections
            .open
            .iter()
            .find(|(_, open)| open.busy.load(Ordering::Acquire) == 0)
            .map(|(id, _)| *id)?;
        if let Some(evicted) = connections.open.remove(&idle) {
            tracing::debug!(connection = idle, "closed an idle connection to make room");
            let _ = evicted.cut.send(());
        }
    }
    let id = connections.next;
    connections.next += 1;
    let busy = Arc::new(AtomicUsize::new(0));
    let (cut, cut_rx) = oneshot::channel();
    connections.open.insert(
        id,
        Open {
            busy: Arc::clone(&busy),
            cut,
        },
    );
    Some((id, busy, cut_rx))
}

/// Counts a request as in progress for as long as it lives.
struct Busy(Arc<AtomicUsize>);

impl Busy {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(count)
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves one connection (HTTP/1.1, what GitLab sends) until it ends, is cut to make room,
/// or the relay stops.
async fn connection(
    stream: TcpStream,
    app: axum::Router,
    limits: ConnectionLimits,
    busy: Arc<AtomicUsize>,
    cut: oneshot::Receiver<()>,
    mut closing: watch::Receiver<bool>,
    (tracked, id): (Tracked, u64),
) {
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        let busy = Busy::new(Arc::clone(&busy));
        async move {
            let response = app.oneshot(request).await;
            drop(busy);
            response
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let served = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(served);
    let relay_stops = async move {
        // The guard `wait_for` returns must not live across an await of this task.
        let _ = closing.wait_for(|closing| *closing).await.is_ok();
    };
    tokio::select! {
        result = served.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        _ = cut => {}
        () = relay_stops => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
    lock(&tracked).open.remove(&id);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_limit_stays_below_the_open_file_limit() {
        let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
            .current
            .unwrap_or(u64::MAX);
        let room = usize::try_from(soft.saturating_sub(RESERVED_FDS)).unwrap_or(usize::MAX);
        let derived = connection_limit(None).unwrap();
        assert!(derived <= room && derived <= 1024, "{derived} of {room}");
        assert_eq!(connection_limit(Some(16)).unwrap(), 16);
        if room < usize::MAX {
            let err = connection_limit(Some(room + 1)).unwrap_err().to_string();
            assert!(err.contains("AI_RELAY_MAX_CONNECTIONS"), "{err}");
            assert!(err.contains("ulimit -n"), "{err}");
        }
    }
}
