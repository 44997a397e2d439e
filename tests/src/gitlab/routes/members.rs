//! Project members including inherited ones
//! (<https://docs.gitlab.com/api/members/#retrieve-a-member-of-a-group-or-project-including-inherited-and-invited-members>).

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::ok;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Model, Project};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/members", get(direct_members))
        .route("/projects/{id}/members/all", get(all_members))
        .route("/projects/{id}/members/all/{user_id}", get(member))
        .route("/projects/{id}/members/{user_id}", get(direct_member))
}

fn member_json(model: &Model, user_id: u64, level: AccessLevel, base_url: &str) -> Value {
    let mut value = model
        .user(user_id)
        .map(|u| json::user_basic(u, base_url))
        .unwrap_or(Value::Null);
    if let (Value::Object(map), Some(user)) = (&mut value, model.user(user_id)) {
        map.insert("access_level".into(), level.value().into());
        map.insert(
            "created_at".into(),
            crate::gitlab::time::api(user.created_at).into(),
        );
        map.insert("expires_at".into(), Value::Null);
        map.insert("membership_state".into(), "active".into());
    }
    value
}

/// Direct and inherited members with their effective (highest) role.
fn effective_members(model: &Model, project: &Project) -> BTreeMap<u64, AccessLevel> {
    let mut members = BTreeMap::new();
    let mut candidates: Vec<u64> = project.members.keys().copied().collect();
    for group in &model.groups {
        let owns = project.namespace == group.full_path
            || project
                .namespace
                .starts_with(&format!("{}/", group.full_path));
        if owns {
            candidates.extend(group.members.keys().copied());
        }
    }
    for user_id in candidates {
        if let Some(level) = model.access_level(project, user_id) {
            members.insert(user_id, level);
        }
    }
    members
}

async fn all_members(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let items = effective_members(&model, &access.project)
        .into_iter()
        .map(|(user_id, level)| member_json(&model, user_id, level, ctx.app.base_url()))
        .collect();
    Ok(ctx.page(items))
}

async fn direct_members(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let items = access
        .project
        .members
        .iter()
        .map(|(user_id, level)| member_json(&model, *user_id, *level, ctx.app.base_url()))
        .collect();
    Ok(ctx.page(items))
}

/// 404 `{"message":"404 Not found"}` for a user without any membership.
async fn member(Path((id, user_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let level = model
        .access_level(&access.project, user_id)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(member_json(&model, user_id, level, ctx.app.base_url())))
}

async fn direct_member(Path((id, user_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let level = access
        .project
        .members
        .get(&user_id)
        .copied()
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(member_json(&model, user_id, level, ctx.app.base_url())))
}
