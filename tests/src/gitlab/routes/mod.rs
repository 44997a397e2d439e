//! REST v4 routes, one module per resource of <https://docs.gitlab.com/api/api_resources/>.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::app::AppState;

pub mod access_tokens;
pub mod award_emoji;
pub mod commits;
pub mod discussions;
pub mod draft_notes;
pub mod git;
pub mod hooks;
pub mod issues;
pub mod jobs;
pub mod members;
pub mod merge_requests;
pub mod metadata;
pub mod noteable;
pub mod notes;
pub mod personal_access_tokens;
pub mod pipeline_schedules;
pub mod pipelines;
pub mod project_settings;
pub mod projects;
pub mod repository_files;
pub mod resource_label_events;
pub mod todos;
pub mod uploads;
pub mod users;
pub mod variables;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(users::routes())
        .merge(projects::routes())
        .merge(members::routes())
        .merge(issues::routes())
        .merge(merge_requests::routes())
        .merge(notes::routes())
        .merge(discussions::routes())
        .merge(draft_notes::routes())
        .merge(award_emoji::routes())
        .merge(pipelines::routes())
        .merge(jobs::routes())
        .merge(uploads::routes())
        .merge(hooks::routes())
        .merge(variables::routes())
        .merge(access_tokens::routes())
        .merge(pipeline_schedules::routes())
        .merge(project_settings::routes())
        .merge(repository_files::routes())
        .merge(resource_label_events::routes())
        .merge(commits::routes())
        .merge(todos::routes())
        .merge(personal_access_tokens::routes())
        .merge(metadata::routes())
        .fallback(unknown_route)
        .method_not_allowed_fallback(unknown_route)
}

/// GitLab's answer for a path no endpoint matches, and for a known path with a method none of
/// its endpoints takes: `lib/api/api.rb` ends with a catch-all `route :any, '*path'` that
/// answers `error!('404 Not Found', 404)`, so Grape never gets to answer 405.
async fn unknown_route() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "404 Not Found"})),
    )
        .into_response()
}

pub fn ok(value: Value) -> Response {
    (StatusCode::OK, axum::Json(value)).into_response()
}

/// 202 Accepted: GitLab's answer to a note that held only quick actions.
pub fn accepted(value: Value) -> Response {
    (StatusCode::ACCEPTED, axum::Json(value)).into_response()
}

pub fn created(value: Value) -> Response {
    (StatusCode::CREATED, axum::Json(value)).into_response()
}

pub fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}
