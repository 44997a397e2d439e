//! Markdown uploads (<https://docs.gitlab.com/api/project_markdown_uploads/>): downloading an
//! uploaded file by secret and filename, `GET /projects/:id/uploads/:secret/:filename`. As the
//! page says, the endpoint needs at least the Maintainer role (403 below it; 404 for a project
//! the caller cannot see); an unknown secret or filename is `404 Not found`. The body is the
//! file as stored. Files are seeded by tests ([`crate::gitlab::GitLabDouble::add_upload`]).

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{id}/uploads/{secret}/{filename}", get(download))
}

async fn download(
    Path((id, secret, filename)): Path<(String, String, String)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    access.require(AccessLevel::Maintainer)?;
    let upload = access.find_own(&model.uploads, ApiError::RecordNotFound, |u| {
        u.secret == secret && u.filename == filename
    })?;
    let content_type = match filename
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", upload.filename),
            ),
        ],
        upload.content.clone(),
    )
        .into_response())
}
