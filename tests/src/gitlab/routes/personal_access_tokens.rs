//! `GET /personal_access_tokens/self`: the token that authenticates the request
//! (<https://docs.gitlab.com/api/personal_access_tokens/#self-inform>, GitLab 15.5+). Project
//! and group access tokens are personal access tokens of their bot user, so they answer here
//! too. A CI job token is not an access token and gets 401, like an unknown one; revoked and
//! expired tokens get the API guard's `invalid_token` answer.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::ok;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    Router::new().route("/personal_access_tokens/self", get(self_inform))
}

async fn self_inform(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let model = app.lock();
    let value =
        auth::access_token_value(&ctx.headers, &ctx.params).ok_or(ApiError::Unauthorized)?;
    let token = auth::access_token(&model, &value)?;
    let d = &token.details;
    Ok(ok(json!({
        "id": d.id,
        "name": d.name,
        "revoked": d.revoked,
        "created_at": time::api(d.created_at),
        "description": Value::Null,
        "scopes": d.scopes,
        "user_id": token.user_id,
        "last_used_at": Value::Null,
        "active": !d.revoked && !d.expired(),
        "expires_at": d.expires_at.map(|e| e.format("%Y-%m-%d").to_string()),
    })))
}
