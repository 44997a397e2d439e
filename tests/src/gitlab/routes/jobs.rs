//! CI jobs (<https://docs.gitlab.com/api/jobs/>): a pipeline's jobs with `scope[]`
//! (`GET /projects/:id/pipelines/:pipeline_id/jobs`), one job (`GET /projects/:id/jobs/:job_id`)
//! and its log (`GET /projects/:id/jobs/:job_id/trace`). Jobs are seeded by tests; nothing runs.
//!
//! As GitLab's `lib/api/ci/jobs.rb`: every endpoint checks `read_build` first
//! (`authorize_read_builds!`, 403), then looks the job up in the project (`find_build!`,
//! `404 Not found` for a job of another project too, job ids being global). The log is
//! `text/plain` with `Content-Disposition: infile; filename="<id>.log"`, an empty body when the
//! job has none, and the whole log whatever `Range` says
//! (<https://gitlab.com/gitlab-org/gitlab/-/issues/30391>). `read_build` is modelled as Reporter
//! and above on every project, and anyone who can see a public or internal project (its
//! pipelines public, GitLab's default); the double is never kinder than GitLab: a private
//! project's Guests are refused even though GitLab lets them read jobs when pipelines are public
//! (<https://docs.gitlab.com/ci/pipelines/settings/#change-which-users-can-view-your-pipelines>).

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;

use super::ok;
use crate::gitlab::access::{AccessLevel, Visibility};
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;

/// The values `scope[]` takes (`Ci::HasStatus::AVAILABLE_STATUSES` as the endpoint's
/// `values:` lists them).
const SCOPES: &[&str] = &[
    "created",
    "pending",
    "running",
    "failed",
    "success",
    "canceled",
    "canceling",
    "skipped",
    "waiting_for_resource",
    "manual",
    "scheduled",
    "preparing",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{id}/pipelines/{pipeline_id}/jobs",
            get(pipeline_jobs),
        )
        .route("/projects/{id}/jobs/{job_id}", get(one_job))
        .route("/projects/{id}/jobs/{job_id}/trace", get(trace))
}

/// `authorize_read_builds!`.
fn can_read_builds(access: &ProjectAccess) -> bool {
    access.at_least(AccessLevel::Reporter)
        || (access.project.visibility != Visibility::Private && access.can_read())
}

fn require_read_builds(access: &ProjectAccess) -> ApiResult<()> {
    if can_read_builds(access) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}

/// `scope` as an array (`scope[]=failed`) or one value; anything outside [`SCOPES`] is 400.
fn scopes(ctx: &Ctx) -> ApiResult<Option<Vec<String>>> {
    let values: Vec<String> = match ctx.params.get("scope") {
        None => return Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).unwrap_or_default())
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        Some(_) => return Err(ApiError::InvalidParam("scope".into(), "is invalid")),
    };
    if values.iter().any(|v| !SCOPES.contains(&v.as_str())) {
        return Err(ApiError::InvalidParam(
            "scope".into(),
            "does not have a valid value",
        ));
    }
    Ok(Some(values))
}

async fn pipeline_jobs(
    Path((id, pipeline_id)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    require_read_builds(&access)?;
    let scopes = scopes(&ctx)?;
    let pipeline = access.find_own(
        &model.pipelines,
        ApiError::NotFound(Some("Pipeline")),
        |p| p.id == pipeline_id,
    )?;
    let items = model
        .jobs
        .iter()
        .filter(|j| j.pipeline_id == pipeline.id)
        .filter(|j| scopes.as_ref().is_none_or(|s| s.contains(&j.status)))
        .map(|j| json::job(&model, &access.project, j, ctx.app.base_url()))
        .collect();
    Ok(ctx.page(items))
}

async fn one_job(Path((id, job_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    require_read_builds(&access)?;
    let job = access.find_own(&model.jobs, ApiError::RecordNotFound, |j| j.id == job_id)?;
    Ok(ok(json::job(
        &model,
        &access.project,
        job,
        ctx.app.base_url(),
    )))
}

async fn trace(Path((id, job_id)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    require_read_builds(&access)?;
    let job = access.find_own(&model.jobs, ApiError::RecordNotFound, |j| j.id == job_id)?;
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/plain".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("infile; filename=\"{}.log\"", job.id),
            ),
        ],
        job.trace.clone(),
    )
        .into_response())
}
