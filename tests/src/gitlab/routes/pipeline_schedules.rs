//! Pipeline schedules (<https://docs.gitlab.com/api/pipeline_schedules/>): Developer and above
//! create them, they run as their owner; variables are added one by one with
//! `POST /projects/:id/pipeline_schedules/:pipeline_schedule_id/variables`. Nothing runs here.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::{created, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Model, PipelineSchedule, PipelineVariable};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/pipeline_schedules", get(list).post(create))
        .route("/projects/{id}/pipeline_schedules/{schedule_id}", get(one))
        .route(
            "/projects/{id}/pipeline_schedules/{schedule_id}/variables",
            post(add_variable),
        )
}

fn schedule_json(model: &Model, s: &PipelineSchedule, base_url: &str, full: bool) -> Value {
    let mut value = json!({
        "id": s.id,
        "description": s.description,
        "ref": s.git_ref,
        "cron": s.cron,
        "cron_timezone": s.cron_timezone,
        "next_run_at": Value::Null,
        "active": s.active,
        "created_at": time::api(s.created_at),
        "updated_at": time::api(s.created_at),
        "owner": model.user(s.owner_id).map(|u| json::user_basic(u, base_url)),
    });
    if full {
        value["last_pipeline"] = Value::Null;
        value["variables"] = s
            .variables
            .iter()
            .map(|v| json!({"key": v.key, "variable_type": v.variable_type, "value": v.value, "raw": false}))
            .collect();
    }
    value
}

/// Five whitespace-separated fields of `*`, digits, ranges, lists and steps.
fn plausible_cron(cron: &str) -> bool {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    fields.len() == 5
        && fields
            .iter()
            .all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
}

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Reporter)?;
    let items = access
        .own(&model.pipeline_schedules)
        .map(|s| schedule_json(&model, s, ctx.app.base_url(), false))
        .collect();
    Ok(ctx.page(items))
}

async fn one(Path((id, schedule_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Reporter)?;
    let schedule = access.find_own(
        &model.pipeline_schedules,
        ApiError::NotFound(Some("Pipeline Schedule")),
        |s| s.id == schedule_id,
    )?;
    Ok(ok(schedule_json(
        &model,
        schedule,
        ctx.app.base_url(),
        true,
    )))
}

async fn create(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let owner_id = access.caller.require_user()?;
    let p = &ctx.params;
    let description = p.required_str("description")?;
    let git_ref = p.required_str("ref")?;
    let cron = p.required_str("cron")?;
    access.require(AccessLevel::Developer)?;
    if !plausible_cron(&cron) {
        return Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!({"cron": [" is invalid syntax"]}),
        ));
    }
    // Short refs are stored expanded (`main` → `refs/heads/main`), as the docs' examples show.
    let git_ref = if !git_ref.starts_with("refs/")
        && access
            .project
            .repo
            .branch_sha(&git_ref)
            .ok()
            .flatten()
            .is_some()
    {
        format!("refs/heads/{git_ref}")
    } else {
        git_ref
    };
    let schedule = PipelineSchedule {
        id: model.next_pipeline_schedule_id(),
        project_id: access.project.id,
        description,
        git_ref,
        cron,
        cron_timezone: p.str("cron_timezone").unwrap_or_else(|| "UTC".into()),
        active: p.bool("active")?.unwrap_or(true),
        owner_id,
        variables: Vec::new(),
        created_at: time::now(),
    };
    let value = schedule_json(&model, &schedule, ctx.app.base_url(), true);
    model.pipeline_schedules.push(schedule);
    Ok(created(value))
}

async fn add_variable(
    Path((id, schedule_id)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let caller = access.caller.require_user()?;
    let p = &ctx.params;
    let key = p.required_str("key")?;
    let value = p.required_str("value")?;
    let variable_type = p.str("variable_type").unwrap_or_else(|| "env_var".into());
    if variable_type != "env_var" && variable_type != "file" {
        return Err(ApiError::InvalidParam(
            "variable_type".into(),
            "does not have a valid value",
        ));
    }
    access.require(AccessLevel::Developer)?;
    let project_id = access.project.id;
    let schedule = model
        .pipeline_schedules
        .iter_mut()
        .find(|s| s.project_id == project_id && s.id == schedule_id)
        .ok_or(ApiError::NotFound(Some("Pipeline Schedule")))?;
    if schedule.owner_id != caller && !access.at_least(AccessLevel::Maintainer) {
        return Err(ApiError::Forbidden(None));
    }
    if schedule.variables.iter().any(|v| v.key == key) {
        return Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!({"key": ["has already been taken"]}),
        ));
    }
    let variable = PipelineVariable {
        key,
        value,
        variable_type,
    };
    let body = json!({
        "key": variable.key, "variable_type": variable.variable_type,
        "value": variable.value, "raw": false,
    });
    schedule.variables.push(variable);
    Ok(created(body))
}
