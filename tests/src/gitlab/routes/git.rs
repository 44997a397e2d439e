//! Git smart HTTP at `{relative_url_root}/<namespace>/<project>.git/…`: HTTP Basic auth with any
//! username and a token as the password (`oauth2:<token>`, `gitlab-ci-token:<job token>`), then
//! [`serve_git`](crate::gitlab::git_http::serve_git) with the caller's rights: read for anyone
//! who may see the project, push for Developers except on protected branches (Maintainers
//! only) (<https://docs.gitlab.com/user/permissions/#repository>). Job tokens may read but not
//! push, GitLab's default (<https://docs.gitlab.com/ci/jobs/ci_job_token/#allow-git-push-requests-to-your-project-repository>).

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::AppState;
use crate::gitlab::auth::{Caller, project_access};
use crate::gitlab::git_http::{self, GitAccess, basic_credentials, serve_git};
use crate::gitlab::model::TokenKind;

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "404 Not Found"})),
    )
        .into_response()
}

pub async fn serve(State(app): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let Some((project_path, path_info)) = path
        .trim_start_matches('/')
        .split_once(".git/")
        .map(|(p, rest)| (p.to_string(), format!("/{rest}")))
    else {
        return not_found();
    };
    let credentials = basic_credentials(request.headers());
    let decision = {
        let model = app.lock();
        let Some(project) = model.project_by_ref(&project_path).cloned() else {
            return match credentials {
                Some(_) => not_found(),
                None => git_http::unauthorized(),
            };
        };
        let caller = match &credentials {
            None => Caller::Anonymous,
            Some(c) => match model.token(&c.password) {
                Some(token) => Caller::User {
                    user_id: token.user_id,
                    job_project: match token.kind {
                        TokenKind::Job { project_id } => Some(project_id),
                        TokenKind::Access => None,
                    },
                },
                None => return git_http::unauthorized(),
            },
        };
        match project_access(&model, &project_path, caller) {
            Err(_) if credentials.is_none() => return git_http::unauthorized(),
            Err(_) => None,
            Ok(access) => {
                let username = caller
                    .user_id()
                    .and_then(|id| model.user(id))
                    .map(|u| u.username.clone())
                    .unwrap_or_default();
                let is_job = matches!(
                    caller,
                    Caller::User {
                        job_project: Some(_),
                        ..
                    }
                );
                let maintainer = access.at_least(AccessLevel::Maintainer);
                Some((
                    project.repo.path().to_path_buf(),
                    GitAccess {
                        username,
                        can_read: access.can_read_code(),
                        can_push: !is_job && access.at_least(AccessLevel::Developer),
                        protected_branches: if maintainer {
                            Vec::new()
                        } else {
                            project.protected_branches.clone()
                        },
                    },
                ))
            }
        }
    };
    match decision {
        Some((repo_path, access)) => {
            if credentials.is_none() && !access.can_push && path_info.contains("receive-pack") {
                return git_http::unauthorized();
            }
            serve_git(&repo_path, &path_info, request, access).await
        }
        None => {
            serve_git(
                std::path::Path::new("/nonexistent"),
                &path_info,
                request,
                GitAccess {
                    username: String::new(),
                    can_read: false,
                    can_push: false,
                    protected_branches: Vec::new(),
                },
            )
            .await
        }
    }
}
