//! `GET /user` (<https://docs.gitlab.com/api/users/#retrieve-the-current-user>) and
//! `GET /users/:id`.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::ok;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/user", get(current_user))
        .route("/users/{user_id}", get(user))
}

/// Job tokens are not accepted here (not on the allow-list), so they get 401.
async fn current_user(State(app): State<AppState>, ctx: Ctx) -> ApiResult<Response> {
    let model = app.lock();
    let user_id = ctx.caller(&model, JobTokens::Ignored)?.require_user()?;
    let user = model.user(user_id).ok_or(ApiError::Unauthorized)?;
    Ok(ok(json::current_user(user, app.base_url())))
}

async fn user(Path(user_id): Path<u64>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    ctx.caller(&model, JobTokens::Ignored)?;
    let user = model
        .user(user_id)
        .ok_or(ApiError::NotFound(Some("User")))?;
    let mut value = json::user_basic(user, ctx.app.base_url());
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("bot".into(), user.bot.into());
        map.insert(
            "created_at".into(),
            crate::gitlab::time::api(user.created_at).into(),
        );
    }
    Ok(ok(value))
}
