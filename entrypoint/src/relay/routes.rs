//! The HTTP side: `POST /webhook` for GitLab's deliveries and `GET /healthz` for probes.
//!
//! Status codes are chosen for how GitLab treats them: any 2xx is a success; any other answer
//! or a timeout is a failure, never retried, and after 4 consecutive failures GitLab disables
//! the hook for a while (after 40, until a maintainer re-enables it). So deliveries the relay
//! merely does not act on get 2xx, a wrong token gets 401 (that hook is misconfigured), and a
//! full queue still gets 202: the delivery goes to the overflow ([`super::queue`]). Only past the
//! overflow's budget does a delivery get 503, with an error log line naming the note so that a
//! person (or the scheduled scan) can pick it up.
//! <https://docs.gitlab.com/user/project/integrations/webhooks/#auto-disabled-webhooks>,
//! <https://gitlab.com/gitlab-org/gitlab/-/merge_requests/166329>

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::answer::Context;
use super::dedup::Seen;
use super::intake::{Delivery, Intake, Reader};
use super::projects::Projects;
use super::queue::{Admitted, Queue};
use super::spool::{Record, Spool};
use super::stats::bump;
use super::verify::{TOKEN_HEADER, TokenVerifier};
use crate::agent::Handles;

/// How long GitLab should wait before resending a delivery refused with 503.
const RETRY_AFTER_SECS: &str = "60";

/// What the handlers share.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Checks `X-Gitlab-Token`.
    pub verifier: TokenVerifier,
    /// Which usernames summon which assistant.
    pub handles: Handles,
    /// The label and the assistant for issue and merge request events.
    pub events: super::intake::EventRules,
    /// The configured projects.
    pub projects: Arc<Projects>,
    /// The in-memory duplicate check.
    pub seen: Arc<Seen>,
    /// Where mentions go.
    pub queue: Queue,
    /// Counters, shared with the workers.
    pub ctx: Arc<Context>,
    /// The largest body read.
    pub max_body_bytes: usize,
    /// How long the body may take once the headers are in.
    pub body_timeout: Duration,
    /// Where overflowing deliveries are written, when configured.
    pub spool: Option<Arc<Spool>>,
}

impl AppState {
    /// What a delivery is read against.
    pub(crate) fn reader(&self) -> Reader<'_> {
        Reader {
            handles: &self.handles,
            rules: &self.events,
            projects: &self.projects,
            seen: &self.seen,
        }
    }
}

/// The relay's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn text_header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

async fn webhook(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let received = Instant::now();
    let stats = &state.ctx.stats;
    if !state
        .verifier
        .verify(headers.get(TOKEN_HEADER).map(HeaderValue::as_bytes))
    {
        bump(&stats.unauthorized);
        tracing::warn!("refused a delivery with a wrong or missing X-Gitlab-Token");
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"message": "401 Unauthorized: X-Gitlab-Token does not match the relay's webhook secret"}),
        );
    }
    bump(&stats.deliveries);
    let delivery = Delivery {
        event: text_header(&headers, "x-gitlab-event"),
        event_uuid: text_header(&headers, "x-gitlab-event-uuid"),
        idempotency_key: text_header(&headers, "idempotency-key"),
        received,
    };
    let read = tokio::time::timeout(
        state.body_timeout,
        axum::body::to_bytes(body, state.max_body_bytes),
    )
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => {
            tracing::warn!(
                event = delivery.event_uuid.as_deref().unwrap_or(""),
                limit = state.max_body_bytes,
                "refused a delivery larger than max_body_bytes"
            );
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"message": "413 the delivery is larger than the relay's max_body_bytes"}),
            );
        }
        Err(_) => {
            tracing::warn!(
                event = delivery.event_uuid.as_deref().unwrap_or(""),
                timeout_ms = u64::try_from(state.body_timeout.as_millis()).unwrap_or(u64::MAX),
                "cut a delivery whose body did not arrive in time"
            );
            return reply(
                StatusCode::REQUEST_TIMEOUT,
                json!({"message": "408 the body did not arrive in time"}),
            );
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"message": "400 the body is not UTF-8 JSON"}),
        );
    };
    match state.reader().intake(&delivery, text) {
        Intake::Ignored(reason) => {
            bump(&stats.ignored);
            tracing::debug!(%reason, "delivery ignored");
            reply(
                StatusCode::OK,
                json!({"status": "ignored", "reason": reason}),
            )
        }
        Intake::Duplicate => {
            bump(&stats.duplicates);
            tracing::info!(
                event = delivery.event_uuid.as_deref().unwrap_or(""),
                "duplicate delivery"
            );
            reply(StatusCode::OK, json!({"status": "duplicate"}))
        }
        Intake::Malformed(reason) => {
            tracing::warn!(%reason, "refused a malformed delivery");
            reply(
                StatusCode::BAD_REQUEST,
                json!({"message": format!("400 {reason}")}),
            )
        }
        Intake::Mentions(mentions) => queue(&state, &delivery, text, mentions).await,
    }
}

/// Queues a delivery's mentions (written to the spool directory first, when there is one), into
/// the overflow when the queue is full; 503 only past the overflow's budget.
async fn queue(
    state: &AppState,
    delivery: &Delivery,
    text: &str,
    mut mentions: Vec<super::intake::Mention>,
) -> Response {
    let stats = &state.ctx.stats;
    let count = mentions.len();
    let size = text.len();
    // With a spool directory every accepted delivery is on disk before the 202, not only the
    // overflow: a crash then loses nothing GitLab was told was taken.
    if let Some(spool) = &state.spool {
        let record = Record {
            event: delivery.event.clone(),
            event_uuid: delivery.event_uuid.clone(),
            idempotency_key: delivery.idempotency_key.clone(),
            body: text.to_owned(),
        };
        let spool = Arc::clone(spool);
        match tokio::task::spawn_blocking(move || spool.write(&record)).await {
            Ok(Ok(entry)) => {
                let entry = Arc::new(entry);
                for mention in &mut mentions {
                    mention.spooled = Some(Arc::clone(&entry));
                }
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "the delivery could not be spooled; keeping it in memory only");
            }
            Err(error) => {
                tracing::error!(%error, "writing to the spool directory panicked; keeping the delivery in memory only");
            }
        }
    }
    let keys: Vec<_> = mentions.iter().flat_map(|m| m.keys.clone()).collect();
    let changes = mentions
        .iter()
        .filter(|m| matches!(m.request, super::intake::Request::Change(_)))
        .count();
    let named: Vec<String> = mentions.iter().map(name_mention).collect();
    match state.queue.push_all(mentions, size, &state.ctx) {
        Ok(admitted) => {
            for _ in 0..changes {
                bump(&stats.events);
            }
            let status = match admitted {
                Admitted::Queued => "queued",
                Admitted::Overflow => {
                    tracing::info!(
                        waiting = state.queue.waiting(),
                        "the queue is full; the delivery waits in the overflow"
                    );
                    "overflow"
                }
            };
            reply(
                StatusCode::ACCEPTED,
                json!({"status": status, "mentions": count}),
            )
        }
        Err(full) => {
            state.seen.forget(&keys);
            bump(&stats.queue_full);
            for mention in &named {
                tracing::error!(
                    mention = %mention,
                    "not answered: {full}; GitLab will not resend it, so resend it from the webhook's \"Recent events\", comment again, or let the scheduled scan pick it up"
                );
            }
            let mut response = reply(
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"message": format!("503 {full}; retry later")}),
            );
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
            response
        }
    }
}

/// `project 7, #12, note 345, claude`: enough for a person to find the note.
fn name_mention(mention: &super::intake::Mention) -> String {
    let note = mention
        .request
        .note()
        .map_or_else(String::new, |n| format!(", note {}", n.0));
    format!(
        "project {}, {}{note}, {}",
        mention.request.project(),
        mention.request.noteable().reference(),
        mention.assistant.name()
    )
}

/// The counters for a Prometheus scrape; like `/healthz` they hold no secret and no project
/// data, so the route needs no token.
async fn metrics(State(state): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(
            http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.ctx.stats.prometheus(),
    )
        .into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    reply(
        StatusCode::OK,
        json!({"status": "ok", "stats": state.ctx.stats.snapshot()}),
    )
}
