//! Shared state and the router: REST v4 under `{relative_url_root}/api/v4`, the double's control
//! endpoints under `{relative_url_root}/-/double`, and git smart HTTP for every other path
//! ending in `.git/…`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{HeaderMap, Method};
use axum::middleware;

use axum::response::Response;
use serde_json::Value;

use super::access::AccessLevel;
use super::auth::{self, Caller, JobTokens, ProjectAccess};
use super::errors::{ApiError, ApiResult};
use super::faults::Faults;
use super::model::{Model, NoteableKind};
use super::pagination::{PageRequest, RequestUrl, paginate};
use super::params::Params;
use super::routes::noteable;
use super::{admin, recorder, routes, webhooks};

/// Largest request body the double reads; GitLab's own limit for API bodies is far above the
/// 1,000,000-character note limit, so note-size checks happen in the note validation instead.
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Clone, Debug, Default)]
pub struct Config {
    /// `""` or a path such as `/gitlab` (self-managed instances under a sub-path).
    pub relative_url_root: String,
    /// Bearer token for `/-/double/...`; those endpoints are closed when `None`.
    pub admin_token: Option<String>,
}

pub struct Shared {
    model: Mutex<Model>,
    pub config: Config,
    base_url: OnceLock<String>,
    pub faults: Faults,
    pub http: reqwest::Client,
    pub data_dir: PathBuf,
    /// Woken whenever a webhook delivery finishes, so tests can wait for them.
    pub deliveries_changed: tokio::sync::Notify,
    /// The runtime the server runs on; webhook deliveries are spawned here even when a note is
    /// added from synchronous test code.
    pub runtime: tokio::runtime::Handle,
    /// Microseconds between an award's uniqueness check and its insert; see
    /// [`super::routes::award_emoji`].
    pub award_race_window_us: std::sync::atomic::AtomicU64,
}

pub type AppState = Arc<Shared>;

impl Shared {
    pub fn new(
        config: Config,
        faults: Faults,
        data_dir: PathBuf,
        runtime: tokio::runtime::Handle,
    ) -> Shared {
        Shared {
            model: Mutex::new(Model::default()),
            config,
            base_url: OnceLock::new(),
            faults,
            http: reqwest::Client::new(),
            data_dir,
            deliveries_changed: tokio::sync::Notify::new(),
            runtime,
            award_race_window_us: std::sync::atomic::AtomicU64::new(
                super::routes::award_emoji::DEFAULT_RACE_WINDOW.as_micros() as u64,
            ),
        }
    }

    /// The model; a panic while holding the lock cannot leave it half-updated in a way that
    /// matters more than the panic itself, so poisoning is ignored.
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Set once the listener is bound: `http://127.0.0.1:PORT{relative_url_root}`.
    pub fn set_base_url(&self, url: String) {
        let _ = self.base_url.set(url);
    }

    /// GitLab's external URL (what `web_url` and webhook URLs are built from).
    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("")
    }

    pub fn project_web_url(&self, path_with_namespace: &str) -> String {
        format!("{}/{}", self.base_url(), path_with_namespace)
    }
}

pub fn router(state: AppState) -> Router {
    let inner = Router::new()
        .nest("/api/v4", routes::router())
        .nest("/-/double", admin::router())
        .fallback(routes::git::serve);
    let root = state.config.relative_url_root.trim_end_matches('/');
    let app = if root.is_empty() {
        inner
    } else {
        Router::new().nest(root, inner)
    };
    app.layer(middleware::from_fn_with_state(
        state.clone(),
        recorder::record,
    ))
    .with_state(state)
}

/// Everything a REST handler needs besides path parameters: the double's state and the request.
pub struct Ctx {
    pub app: AppState,
    pub method: Method,
    pub headers: HeaderMap,
    pub params: Params,
    pub body: Bytes,
    pub url: RequestUrl,
}

impl Ctx {
    /// The model, as [`Shared::lock`].
    pub fn lock(&self) -> MutexGuard<'_, Model> {
        self.app.lock()
    }

    /// Runs a write under the model's lock, then delivers the webhook it recorded once the
    /// lock is released: a receiver may call back into the double, and GitLab sends hooks after
    /// the write is committed.
    pub fn write_then_deliver(
        &self,
        write: impl FnOnce(&mut Model) -> ApiResult<(Response, Option<webhooks::Outgoing>)>,
    ) -> ApiResult<Response> {
        let (response, outgoing) = write(&mut self.lock())?;
        webhooks::dispatch(&self.app, outgoing);
        Ok(response)
    }

    pub fn caller(&self, model: &Model, job_tokens: JobTokens) -> ApiResult<Caller> {
        auth::authenticate(model, &self.headers, &self.params, job_tokens)
    }

    pub fn project(
        &self,
        model: &Model,
        raw_id: &str,
        job_tokens: JobTokens,
    ) -> ApiResult<ProjectAccess> {
        let caller = self.caller(model, job_tokens)?;
        auth::project_access(model, raw_id, caller)
    }

    /// Same as [`Ctx::project`] on endpoints that call `authenticate!` first: 401 for an
    /// anonymous caller before the project's 404.
    pub fn project_signed_in(
        &self,
        model: &Model,
        raw_id: &str,
        job_tokens: JobTokens,
    ) -> ApiResult<ProjectAccess> {
        self.caller(model, job_tokens)?.require_user()?;
        self.project(model, raw_id, job_tokens)
    }

    /// [`Ctx::project_signed_in`] (job tokens ignored) for endpoints whose Grape `before`
    /// block calls `authorize!` for a role: 401 anonymous, 404 for a project the caller cannot
    /// see, then 403 below `level` (`authorize_admin_project` and friends in
    /// `lib/api/helpers.rb`).
    pub fn project_at_least(
        &self,
        model: &Model,
        raw_id: &str,
        level: AccessLevel,
    ) -> ApiResult<ProjectAccess> {
        let access = self.project_signed_in(model, raw_id, JobTokens::Ignored)?;
        access.require(level)?;
        Ok(access)
    }

    /// The project and the issue or merge request a note, discussion or award route addresses:
    /// [`Ctx::project_signed_in`], then [`noteable::resolve`] (404 for an unknown or hidden
    /// issue, 403 for a merge request the role cannot read).
    pub fn noteable(
        &self,
        model: &Model,
        raw_id: &str,
        job_tokens: JobTokens,
        kind: NoteableKind,
        iid: u64,
    ) -> ApiResult<(ProjectAccess, noteable::Resolved)> {
        let access = self.project_signed_in(model, raw_id, job_tokens)?;
        let resolved = noteable::resolve(model, &access, kind, iid)?;
        Ok((access, resolved))
    }

    /// One page of `items` as the request's `page`/`per_page` ask, with GitLab's pagination
    /// headers.
    pub fn page(&self, items: Vec<Value>) -> Response {
        paginate(items, PageRequest::from_params(&self.params), &self.url)
    }
}

impl FromRequest<AppState> for Ctx {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let body = axum::body::to_bytes(body, BODY_LIMIT)
            .await
            .map_err(|e| ApiError::BadRequest(format!("unreadable body: {e}")))?;
        let params = Params::parse(parts.uri.query(), &parts.headers, &body)?;
        let url = RequestUrl::new(&parts.headers, uri, state.base_url());
        Ok(Ctx {
            app: state.clone(),
            method: parts.method,
            headers: parts.headers,
            params,
            body,
            url,
        })
    }
}
