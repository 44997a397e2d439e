//! The HTTP server shared by both model doubles: it records every request, answers model calls
//! from the script in order, and lets the API module answer everything else.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::model::recorded::RecordedRequest;
use crate::model::script::{Script, Turn};
use crate::model::{anthropic, openai};

/// Request bodies above this are cut; both CLIs send well under a megabyte per call.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// Which wire format a double speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    /// Anthropic's Messages API, as Claude Code calls it.
    Anthropic,
    /// OpenAI's Responses API, as Codex calls it.
    OpenAi,
}

impl Api {
    pub(crate) fn model_path(self) -> &'static str {
        match self {
            Self::Anthropic => "/v1/messages",
            Self::OpenAi => "/v1/responses",
        }
    }
}

/// A running model double on `127.0.0.1`; it stops when dropped.
pub struct ModelDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

struct Shared {
    api: Api,
    turns: Mutex<VecDeque<(usize, Turn)>>,
    unknown_models: Vec<String>,
    requests: Mutex<Vec<RecordedRequest>>,
    problems: Mutex<Vec<String>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves plain data behind, still worth reading.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ModelDouble {
    /// Binds `127.0.0.1:0` and serves `script` in the given API's format.
    pub async fn start(api: Api, script: Script) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            api,
            turns: Mutex::new(script.turns.into_iter().enumerate().collect()),
            unknown_models: script.unknown_models,
            requests: Mutex::new(Vec::new()),
            problems: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
            if let Err(error) = served {
                tracing::error!(%error, "model double stopped serving");
            }
        });
        Ok(Self {
            addr,
            shared,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    pub fn api(&self) -> Api {
        self.shared.api
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a path: `ANTHROPIC_BASE_URL` for Claude; Codex's
    /// provider `base_url` is this plus `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received so far, model calls and others.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Only the model calls (`POST /v1/messages` or `POST /v1/responses`).
    pub fn model_calls(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(RecordedRequest::is_model_call)
            .collect()
    }

    /// Turns not yet used.
    pub fn remaining_turns(&self) -> usize {
        lock(&self.shared.turns).len()
    }

    /// Everything that went against the script: requests that failed a turn's expectation or
    /// came after the last turn, and turns never used. Empty when the story ran as written.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = lock(&self.shared.problems).clone();
        problems.extend(
            lock(&self.shared.turns)
                .iter()
                .map(|(index, _)| format!("turn {index} was never requested")),
        );
        problems
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::error!(%error, "model double task failed");
        }
    }
}

impl Drop for ModelDouble {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let is_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    let recorded = capture(shared.api, request).await;
    lock(&shared.requests).push(recorded.clone());
    tracing::debug!(api = ?shared.api, method = %recorded.method, path = %recorded.path, "model double request");

    if is_upgrade {
        return match shared.api {
            Api::Anthropic => anthropic::websocket_refused(),
            Api::OpenAi => openai::websocket_refused(),
        };
    }
    if !recorded.is_model_call() {
        return match shared.api {
            Api::Anthropic => anthropic::other(&recorded),
            Api::OpenAi => openai::other(&recorded),
        };
    }
    if let Some(model) = recorded.model()
        && shared.unknown_models.iter().any(|m| m == model)
    {
        return match shared.api {
            Api::Anthropic => anthropic::model_not_found(model),
            Api::OpenAi => openai::model_not_found(model),
        };
    }
    match shared.next_turn(&recorded) {
        Err(problem) => {
            tracing::warn!(%problem, "model double script mismatch");
            lock(&shared.problems).push(problem.clone());
            match shared.api {
                Api::Anthropic => anthropic::script_error(&problem),
                Api::OpenAi => openai::script_error(&problem),
            }
        }
        Ok((index, turn)) => {
            if let Some(delay) = turn.delay {
                tokio::time::sleep(delay).await;
            }
            let answer = match shared.api {
                Api::Anthropic => anthropic::answer(&recorded, index, &turn),
                Api::OpenAi => openai::answer(&recorded, index, &turn),
            };
            answer.unwrap_or_else(|problem| {
                lock(&shared.problems).push(problem.clone());
                match shared.api {
                    Api::Anthropic => anthropic::script_error(&problem),
                    Api::OpenAi => openai::script_error(&problem),
                }
            })
        }
    }
}

impl Shared {
    /// Takes the next turn if the request satisfies its expectation; a failed expectation
    /// leaves the turn in place so the report names it.
    fn next_turn(&self, request: &RecordedRequest) -> Result<(usize, Turn), String> {
        let mut turns = lock(&self.turns);
        let Some((index, turn)) = turns.front() else {
            return Err(format!(
                "model call to {} after the script ended",
                request.path
            ));
        };
        if let Some(expect) = &turn.expect
            && !expect.holds(request)
        {
            return Err(format!(
                "turn {index} expected a request with {expect}, but the request did not have it"
            ));
        }
        let index = *index;
        if turn.times > 1 {
            let answer = turn.clone();
            if let Some((_, front)) = turns.front_mut() {
                front.times -= 1;
            }
            return Ok((index, answer));
        }
        turns
            .pop_front()
            .map(|(_, turn)| (index, turn))
            .ok_or_else(|| format!("turn {index} vanished while the lock was held"))
    }
}

async fn capture(api: Api, request: Request) -> RecordedRequest {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::warn!(%error, "model double could not read a request body");
            bytes::Bytes::new()
        }
    };
    RecordedRequest {
        api,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
        json: serde_json::from_slice(&bytes).ok(),
    }
}
