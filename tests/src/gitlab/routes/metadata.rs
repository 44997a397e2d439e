//! `GET /version` and `GET /metadata` (`lib/api/metadata.rb`): both need an authenticated
//! caller (401 otherwise) and answer the metadata entity; `/metadata` only exists from 15.2
//! (<https://docs.gitlab.com/api/metadata/>, <https://docs.gitlab.com/api/version/>).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::ok;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::version::METADATA;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/version", get(version))
        .route("/metadata", get(metadata))
}

fn answer(app: &AppState, ctx: &Ctx) -> ApiResult<Response> {
    let model = app.lock();
    ctx.caller(&model, JobTokens::Ignored)?.require_user()?;
    let version = model.gitlab_version;
    Ok(ok(json!({
        "version": format!("{version}-ee"),
        "revision": "0123456789a",
        "kas": {"enabled": false, "externalUrl": null, "externalK8sProxyUrl": null, "version": null},
        "enterprise": true,
    })))
}

async fn version(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    answer(&app, &ctx)
}

async fn metadata(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    if !app.lock().gitlab_version.has(METADATA) {
        return Err(ApiError::NotFound(None));
    }
    answer(&app, &ctx)
}
