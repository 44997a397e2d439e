//! `GET /projects/:id` (<https://docs.gitlab.com/api/projects/#retrieve-a-project>); public
//! projects answer without a token.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::ok;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::ApiResult;
use crate::gitlab::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{id}", get(project))
}

async fn project(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    let admin = access.at_least(AccessLevel::Maintainer);
    Ok(ok(json::project_for(
        &model,
        &access.project,
        ctx.app.base_url(),
        admin,
    )))
}
