//! Project webhooks (<https://docs.gitlab.com/api/project_webhooks/>); Maintainer and above.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::{created, no_content, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::Hook;
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/hooks", get(list).post(create))
        .route("/projects/{id}/hooks/{hook_id}", get(one).delete(delete))
}

async fn create(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = app.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let p = &ctx.params;
    let url = p.required_str("url")?;
    access.require(AccessLevel::Maintainer)?;
    if url::Url::parse(&url).is_err() {
        return Err(ApiError::Message(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            serde_json::json!({"url": ["is blocked: Only allowed schemes are http, https"]}),
        ));
    }
    let hook = Hook {
        id: model.next_hook_id(),
        project_id: access.project.id,
        url,
        token: p.str("token").filter(|t| !t.is_empty()),
        name: p.str("name"),
        description: p.str("description"),
        push_events: p.bool("push_events")?.unwrap_or(true),
        issues_events: p.bool("issues_events")?.unwrap_or(false),
        merge_requests_events: p.bool("merge_requests_events")?.unwrap_or(false),
        note_events: p.bool("note_events")?.unwrap_or(false),
        confidential_note_events: p.bool("confidential_note_events")?.unwrap_or(false),
        pipeline_events: p.bool("pipeline_events")?.unwrap_or(false),
        enable_ssl_verification: p.bool("enable_ssl_verification")?.unwrap_or(true),
        created_at: time::now(),
    };
    let value = json::hook(&hook);
    model.hooks.push(hook);
    Ok(created(value))
}

async fn list(
    State(app): State<AppState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = app.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    access.require(AccessLevel::Maintainer)?;
    let items = model
        .hooks
        .iter()
        .filter(|h| h.project_id == access.project.id)
        .map(json::hook)
        .collect();
    Ok(paginate(
        items,
        PageRequest::from_params(&ctx.params),
        &ctx.url,
    ))
}

async fn one(
    State(app): State<AppState>,
    Path((id, hook_id)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = app.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    access.require(AccessLevel::Maintainer)?;
    let hook = model
        .hooks
        .iter()
        .find(|h| h.project_id == access.project.id && h.id == hook_id)
        .ok_or(ApiError::NotFound(Some("Hook")))?;
    Ok(ok(json::hook(hook)))
}

async fn delete(
    State(app): State<AppState>,
    Path((id, hook_id)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = app.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    access.require(AccessLevel::Maintainer)?;
    let before = model.hooks.len();
    model
        .hooks
        .retain(|h| !(h.project_id == access.project.id && h.id == hook_id));
    if model.hooks.len() == before {
        return Err(ApiError::NotFound(Some("Hook")));
    }
    Ok(no_content())
}
