//! Writing to the repository through the API: a commit made of file actions
//! (<https://docs.gitlab.com/api/commits/#create-a-commit-with-multiple-files-and-actions>) and
//! a new branch (<https://docs.gitlab.com/api/branches/#create-repository-branch>), on the
//! project's real bare repository. Pushing to a protected branch needs Maintainer, any other
//! branch Developer (<https://docs.gitlab.com/user/permissions/#repository>).

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

use super::created;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::{JobTokens, ProjectAccess};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::Project;
use crate::gitlab::repo::{FileChange, Signature};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/repository/commits", post(create_commit))
        .route("/projects/{id}/repository/branches", post(create_branch))
}

/// Protected-branch patterns: exact names or `*` wildcards.
fn is_protected(project: &Project, branch: &str) -> bool {
    project
        .protected_branches
        .iter()
        .any(|pattern| glob_match(pattern, branch))
}

fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.len() >= head.len()
                && name.starts_with(head)
                && (0..=name.len() - head.len()).any(|i| glob_match(tail, &name[head.len() + i..]))
        }
    }
}

fn require_push(access: &ProjectAccess, branch: &str) -> ApiResult<()> {
    let needed = if is_protected(&access.project, branch) {
        AccessLevel::Maintainer
    } else {
        AccessLevel::Developer
    };
    if access.at_least(needed) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(Some(
            "You are not allowed to push into this branch".into(),
        )))
    }
}

fn commit_json(project: &Project, base_url: &str, sha: &str) -> ApiResult<Value> {
    let info = project
        .repo
        .commit_info(sha)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(json!({
        "id": info.id,
        "short_id": info.id.chars().take(8).collect::<String>(),
        "title": info.title,
        "message": info.message,
        "author_name": info.author_name,
        "author_email": info.author_email,
        "authored_date": info.authored_date,
        "committer_name": info.committer_name,
        "committer_email": info.committer_email,
        "committed_date": info.committed_date,
        "created_at": info.committed_date,
        "parent_ids": info.parent_ids,
        "web_url": format!("{base_url}/{}/-/commit/{}", project.path_with_namespace(), info.id),
    }))
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::Message(
        axum::http::StatusCode::BAD_REQUEST,
        Value::from(message.into()),
    )
}

async fn create_commit(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let (access, author) = {
        let model = ctx.lock();
        let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
        let user_id = access.caller.require_user()?;
        let author = model
            .user(user_id)
            .map(|u| Signature {
                name: u.name.clone(),
                email: u.email.clone(),
            })
            .ok_or(ApiError::Unauthorized)?;
        (access, author)
    };
    let p = &ctx.params;
    let branch = p.required_str("branch")?;
    let message = p.required_str("commit_message")?;
    let Some(Value::Array(actions)) = p.get("actions") else {
        return Err(ApiError::missing("actions"));
    };
    require_push(&access, &branch)?;
    let repo = access.project.repo.clone();
    let existing = repo
        .branch_sha(&branch)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let start = match (&existing, p.str("start_branch")) {
        (Some(sha), _) => sha.clone(),
        (None, Some(start)) => repo
            .branch_sha(&start)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?
            .ok_or_else(|| bad(format!("Invalid reference name: {start}")))?,
        (None, None) => {
            return Err(bad(
                "You can only create or edit files when you are on a branch",
            ));
        }
    };
    let mut changes = Vec::new();
    for action in actions {
        let kind = action.get("action").and_then(Value::as_str);
        let path = action.get("file_path").and_then(Value::as_str);
        let (Some(kind), Some(path)) = (kind, path) else {
            return Err(ApiError::missing("actions[file_path]"));
        };
        let exists = repo
            .file_at(&start, path)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?
            .is_some();
        let content = || -> ApiResult<Vec<u8>> {
            let raw = action.get("content").and_then(Value::as_str).unwrap_or("");
            match action.get("encoding").and_then(Value::as_str) {
                Some("base64") => base64::engine::general_purpose::STANDARD
                    .decode(raw)
                    .map_err(|_| ApiError::InvalidParam("actions[encoding]".into(), "is invalid")),
                _ => Ok(raw.as_bytes().to_vec()),
            }
        };
        match kind {
            "create" if exists => return Err(bad("A file with this name already exists")),
            "update" | "delete" if !exists => {
                return Err(bad("A file with this name doesn't exist"));
            }
            "create" | "update" => changes.push(FileChange::Write {
                path: path.to_string(),
                content: content()?,
            }),
            "delete" => changes.push(FileChange::Delete {
                path: path.to_string(),
            }),
            _ => {
                return Err(ApiError::InvalidParam(
                    "actions[action]".into(),
                    "does not have a valid value",
                ));
            }
        }
    }
    let created_branch = if existing.is_none() {
        repo.create_branch(&branch, &start)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        true
    } else {
        false
    };
    let sha = match repo.commit(&branch, &changes, &message, &author) {
        Ok(sha) => sha,
        Err(e) => {
            if created_branch {
                // The commit failed, so the branch made for it goes too, as GitLab's does.
                let _ = repo.delete_branch(&branch);
            }
            return Err(ApiError::BadRequest(e.to_string()));
        }
    };
    Ok(created(commit_json(
        &access.project,
        ctx.app.base_url(),
        &sha,
    )?))
}

async fn create_branch(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let access = {
        let model = ctx.lock();
        ctx.project_signed_in(&model, &id, JobTokens::Ignored)?
    };
    let p = &ctx.params;
    let branch = p.required_str("branch")?;
    let from = p.required_str("ref")?;
    require_push(&access, &branch)?;
    let repo = access.project.repo.clone();
    if repo
        .branch_sha(&branch)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?
        .is_some()
    {
        return Err(bad("Branch already exists"));
    }
    let sha = repo
        .create_branch(&branch, &from)
        .map_err(|_| bad(format!("Invalid reference name: {from}")))?;
    let commit = commit_json(&access.project, ctx.app.base_url(), &sha)?;
    let project = &access.project;
    Ok(created(json!({
        "name": branch,
        "merged": false,
        "protected": is_protected(project, &branch),
        "default": project.default_branch == branch,
        "developers_can_push": false,
        "developers_can_merge": false,
        "can_push": true,
        "web_url": format!("{}/{}/-/tree/{branch}", ctx.app.base_url(), project.path_with_namespace()),
        "commit": commit,
    })))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn protected_patterns_match_like_gitlab_wildcards() {
        assert!(glob_match("main", "main"));
        assert!(glob_match("release/*", "release/1.0"));
        assert!(glob_match("*-stable", "9-stable"));
        assert!(!glob_match("release/*", "main"));
    }
}
