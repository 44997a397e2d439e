//! Project webhooks (<https://docs.gitlab.com/api/project_webhooks/>); Maintainer and above.
//! `custom_webhook_template` (GitLab 16.10+) is stored on create and edit; before 16.10 GitLab
//! does not know the parameter and ignores it (Grape drops undeclared parameters), so the hook
//! keeps sending the default payload. `PUT` requires `url` like `POST`
//! (`params :project_hook_properties` in `lib/api/project_hooks.rb`).

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use crate::gitlab::version::CUSTOM_WEBHOOK_TEMPLATE;

use super::{created, no_content, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Hook, Model};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/hooks", get(list).post(create))
        .route(
            "/projects/{id}/hooks/{hook_id}",
            get(one).put(edit).delete(delete),
        )
}

/// What adding and editing a hook check first, in GitLab's order: 401 anonymous, 404 unknown
/// project, 400 without `url`, 403 below Maintainer, then 422 with `invalid` (the two
/// endpoints word it differently) for a `url` that does not parse. Returns the caller's access
/// and the URL.
fn maintainer_and_url(
    model: &Model,
    ctx: &Ctx,
    raw_id: &str,
    invalid: serde_json::Value,
) -> ApiResult<(ProjectAccess, String)> {
    let access = ctx.project_signed_in(model, raw_id, JobTokens::Ignored)?;
    let url = ctx.params.required_str("url")?;
    access.require(AccessLevel::Maintainer)?;
    if url::Url::parse(&url).is_err() {
        return Err(ApiError::Message(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            invalid,
        ));
    }
    Ok((access, url))
}

async fn create(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let invalid = serde_json::json!({"url": ["is blocked: Only allowed schemes are http, https"]});
    let (access, url) = maintainer_and_url(&model, &ctx, &id, invalid)?;
    let p = &ctx.params;
    let hook = Hook {
        id: model.next_hook_id(),
        project_id: access.project.id,
        url,
        token: p.str("token").filter(|t| !t.is_empty()),
        name: p.str("name"),
        description: p.str("description"),
        push_events: p.bool("push_events")?.unwrap_or(true),
        issues_events: p.bool("issues_events")?.unwrap_or(false),
        confidential_issues_events: p.bool("confidential_issues_events")?.unwrap_or(false),
        merge_requests_events: p.bool("merge_requests_events")?.unwrap_or(false),
        note_events: p.bool("note_events")?.unwrap_or(false),
        confidential_note_events: p.bool("confidential_note_events")?.unwrap_or(false),
        pipeline_events: p.bool("pipeline_events")?.unwrap_or(false),
        enable_ssl_verification: p.bool("enable_ssl_verification")?.unwrap_or(true),
        created_at: time::now(),
        custom_webhook_template: model
            .gitlab_version
            .has(CUSTOM_WEBHOOK_TEMPLATE)
            .then(|| p.str("custom_webhook_template"))
            .flatten()
            .filter(|t| !t.is_empty()),
        recent_failures: 0,
        disabled_until: None,
    };
    let value = json::hook(&hook, model.auto_disabling_web_hooks);
    model.hooks.push(hook);
    Ok(created(value))
}

/// `PUT /projects/:id/hooks/:hook_id`: the parameters given replace the stored ones; an empty
/// `custom_webhook_template` removes the template.
async fn edit(Path((id, hook_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let invalid = serde_json::Value::from("Invalid url given");
    let (access, url) = maintainer_and_url(&model, &ctx, &id, invalid)?;
    let p = &ctx.params;
    let templates = model.gitlab_version.has(CUSTOM_WEBHOOK_TEMPLATE);
    let auto_disabling = model.auto_disabling_web_hooks;
    let hook = access.find_own_mut(&mut model.hooks, ApiError::NotFound(Some("Hook")), |h| {
        h.id == hook_id
    })?;
    hook.url = url;
    if let Some(token) = p.str("token") {
        hook.token = Some(token).filter(|t| !t.is_empty());
    }
    if let Some(name) = p.str("name") {
        hook.name = Some(name);
    }
    if let Some(description) = p.str("description") {
        hook.description = Some(description);
    }
    let flags: [(&str, &mut bool); 7] = [
        ("push_events", &mut hook.push_events),
        ("issues_events", &mut hook.issues_events),
        (
            "confidential_issues_events",
            &mut hook.confidential_issues_events,
        ),
        ("merge_requests_events", &mut hook.merge_requests_events),
        ("note_events", &mut hook.note_events),
        (
            "confidential_note_events",
            &mut hook.confidential_note_events,
        ),
        ("pipeline_events", &mut hook.pipeline_events),
    ];
    for (name, field) in flags {
        p.update_bool(name, field)?;
    }
    p.update_bool("enable_ssl_verification", &mut hook.enable_ssl_verification)?;
    if templates && let Some(template) = p.str("custom_webhook_template") {
        hook.custom_webhook_template = Some(template).filter(|t| !t.is_empty());
    }
    Ok(ok(json::hook(hook, auto_disabling)))
}

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let items = access
        .own(&model.hooks)
        .map(|h| json::hook(h, model.auto_disabling_web_hooks))
        .collect();
    Ok(ctx.page(items))
}

async fn one(Path((id, hook_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let hook = access.find_own(&model.hooks, ApiError::NotFound(Some("Hook")), |h| {
        h.id == hook_id
    })?;
    Ok(ok(json::hook(hook, model.auto_disabling_web_hooks)))
}

async fn delete(Path((id, hook_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let before = model.hooks.len();
    model
        .hooks
        .retain(|h| !(h.project_id == access.project.id && h.id == hook_id));
    if model.hooks.len() == before {
        return Err(ApiError::NotFound(Some("Hook")));
    }
    Ok(no_content())
}
