//! Reading one file (<https://docs.gitlab.com/api/repository_files/#retrieve-a-file-from-a-repository>):
//! `GET /projects/:id/repository/files/:file_path?ref=…`, `file_path` URL-encoded (`%2F`),
//! content base64-encoded; `404 File Not Found` when the ref or the file does not exist.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use base64::Engine;
use serde_json::json;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use super::ok;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::routes::pipelines::resolve_ref;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{id}/repository/files/{file_path}", get(file))
}

async fn file(Path((id, file_path)): Path<(String, String)>, ctx: Ctx) -> ApiResult<Response> {
    let (project, git_ref) = {
        let model = ctx.lock();
        let access = ctx.project(&model, &id, JobTokens::Allowed)?;
        let git_ref = ctx.params.required_str("ref")?;
        access.require_read_code()?;
        let sha = resolve_ref(&model, &access.project, &git_ref)
            .or_else(|| access.project.repo.commit_info(&git_ref).ok().map(|c| c.id))
            .ok_or(ApiError::NotFound(Some("File")))?;
        (access.project, (git_ref, sha))
    };
    let (git_ref, sha) = git_ref;
    let content = project
        .repo
        .file_at(&sha, &file_path)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .ok_or(ApiError::NotFound(Some("File")))?;
    let file_name = file_path
        .rsplit('/')
        .next()
        .unwrap_or(&file_path)
        .to_string();
    Ok(ok(json!({
        "file_name": file_name,
        "file_path": file_path,
        "size": content.len(),
        "encoding": "base64",
        "content": base64::engine::general_purpose::STANDARD.encode(&content),
        "content_sha256": hex::encode(Sha256::digest(&content)),
        "blob_id": blob_id(&content),
        "ref": git_ref,
        "commit_id": sha,
        "last_commit_id": sha,
        "execute_filemode": false,
    })))
}

/// Git's object id of a blob: sha1 of `blob <len>\0<content>`.
fn blob_id(content: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", content.len()).as_bytes());
    hasher.update(content);
    hex::encode(hasher.finalize())
}
