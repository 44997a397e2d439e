//! Who is calling: tokens from `PRIVATE-TOKEN`, `Authorization: Bearer`, the `private_token` /
//! `access_token` query parameters, and CI job tokens from `JOB-TOKEN` / `job_token`
//! (<https://docs.gitlab.com/api/rest/authentication/>).
//!
//! A job token is only honoured on routes GitLab marks `job_token_allowed`
//! (<https://docs.gitlab.com/ci/jobs/ci_job_token/>); elsewhere GitLab does not look at it, so
//! the request counts as anonymous and endpoints that call `authenticate!` answer 401.

use axum::http::HeaderMap;

use super::access::{AccessLevel, Visibility};
use super::errors::{ApiError, ApiResult};
use super::model::{Model, Project, Token, TokenKind};
use super::params::Params;

/// Whether the route accepts CI job tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobTokens {
    Allowed,
    Ignored,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Caller {
    Anonymous,
    /// A user through an access token, or through a job token (`job_project` set) scoped to
    /// the job's own project.
    User {
        user_id: u64,
        job_project: Option<u64>,
    },
}

impl Caller {
    pub fn user_id(self) -> Option<u64> {
        match self {
            Caller::Anonymous => None,
            Caller::User { user_id, .. } => Some(user_id),
        }
    }

    /// `authenticate!`: 401 unless a user is known.
    pub fn require_user(self) -> ApiResult<u64> {
        self.user_id().ok_or(ApiError::Unauthorized)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The access token a request carries, wherever GitLab would look for it.
pub fn access_token_value(headers: &HeaderMap, params: &Params) -> Option<String> {
    let bearer = header(headers, "authorization").and_then(|v| {
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim)
    });
    header(headers, "private-token")
        .map(str::to_string)
        .or_else(|| bearer.map(str::to_string))
        .or_else(|| params.str("private_token"))
        .or_else(|| params.str("access_token"))
}

/// The access token itself, refused as GitLab's API guard refuses it: revoked and expired
/// tokens get `401 invalid_token` with their reason (`lib/api/api_guard.rb`), unknown ones
/// `401 Unauthorized`.
pub fn access_token<'m>(model: &'m Model, value: &str) -> ApiResult<&'m Token> {
    match model.token(value) {
        Some(token) if token.kind == TokenKind::Access => {
            if token.details.revoked {
                Err(ApiError::InvalidToken(TOKEN_REVOKED))
            } else if token.details.expired() {
                Err(ApiError::InvalidToken(TOKEN_EXPIRED))
            } else {
                Ok(token)
            }
        }
        _ => Err(ApiError::Unauthorized),
    }
}

/// `error_description` for a revoked token.
pub const TOKEN_REVOKED: &str = "Token was revoked. You have to re-authorize from the user.";
/// `error_description` for an expired token.
pub const TOKEN_EXPIRED: &str =
    "Token is expired. You can either do re-authorization or token refresh.";

pub fn authenticate(
    model: &Model,
    headers: &HeaderMap,
    params: &Params,
    job_tokens: JobTokens,
) -> ApiResult<Caller> {
    if let Some(value) = access_token_value(headers, params) {
        return access_token(model, &value).map(|token| Caller::User {
            user_id: token.user_id,
            job_project: None,
        });
    }
    let job = header(headers, "job-token")
        .map(str::to_string)
        .or_else(|| params.str("job_token"));
    match (job, job_tokens) {
        (Some(value), JobTokens::Allowed) => match model.token(&value) {
            Some(token) => match token.kind {
                TokenKind::Job { project_id } => Ok(Caller::User {
                    user_id: token.user_id,
                    job_project: Some(project_id),
                }),
                TokenKind::Access => Err(ApiError::Unauthorized),
            },
            None => Err(ApiError::Unauthorized),
        },
        _ => Ok(Caller::Anonymous),
    }
}

/// A project the caller may see, with the caller's effective role in it.
#[derive(Clone, Debug)]
pub struct ProjectAccess {
    pub project: Project,
    pub level: Option<AccessLevel>,
    pub caller: Caller,
}

impl ProjectAccess {
    pub fn at_least(&self, level: AccessLevel) -> bool {
        self.level.is_some_and(|l| l >= level)
    }

    /// 403 `{"message":"403 Forbidden"}` unless the caller has `level`.
    pub fn require(&self, level: AccessLevel) -> ApiResult<()> {
        forbidden_unless(self.at_least(level))
    }

    /// Reading issues, merge requests and code: anyone on public projects, any signed-in user
    /// on internal ones, members on private ones
    /// (<https://docs.gitlab.com/user/permissions/#project-members-permissions>).
    pub fn can_read(&self) -> bool {
        match self.project.visibility {
            Visibility::Public => true,
            Visibility::Internal => self.caller.user_id().is_some(),
            Visibility::Private => self.level.is_some(),
        }
    }

    /// Merge requests and code in private projects need Reporter; Guests only see them on
    /// public and internal projects.
    pub fn can_read_code(&self) -> bool {
        match self.project.visibility {
            Visibility::Private => self.at_least(AccessLevel::Reporter),
            _ => self.can_read(),
        }
    }

    /// 403 unless [`ProjectAccess::can_read`]: the issue list's check.
    pub fn require_read(&self) -> ApiResult<()> {
        forbidden_unless(self.can_read())
    }

    /// 403 unless [`ProjectAccess::can_read_code`]: the check of every merge request, pipeline
    /// and repository endpoint.
    pub fn require_read_code(&self) -> ApiResult<()> {
        forbidden_unless(self.can_read_code())
    }

    /// The records of `items` that belong to this project: every project-level collection
    /// (hooks, variables, triggers, …) is looked up through the project in the path, so a
    /// record of another project is never reachable through it.
    pub fn own<'a, T: InProject>(&self, items: &'a [T]) -> impl Iterator<Item = &'a T> {
        let project_id = self.project.id;
        items.iter().filter(move |t| t.project_id() == project_id)
    }

    /// The record of this project that `matches`, or `not_found`: the endpoint's own 404
    /// (`not_found!('Hook')` gives `404 Hook Not Found`, a `find` raising RecordNotFound gives
    /// `404 Not found`), the same answer as for a record that exists only in another project.
    pub fn find_own<'a, T: InProject>(
        &self,
        items: &'a [T],
        not_found: ApiError,
        matches: impl Fn(&T) -> bool,
    ) -> ApiResult<&'a T> {
        self.own(items).find(|t| matches(t)).ok_or(not_found)
    }

    /// [`ProjectAccess::find_own`] for an edit.
    pub fn find_own_mut<'a, T: InProject>(
        &self,
        items: &'a mut [T],
        not_found: ApiError,
        matches: impl Fn(&T) -> bool,
    ) -> ApiResult<&'a mut T> {
        let project_id = self.project.id;
        items
            .iter_mut()
            .find(|t| t.project_id() == project_id && matches(t))
            .ok_or(not_found)
    }
}

/// A record stored per project, reached through `/projects/:id/…` only.
pub trait InProject {
    fn project_id(&self) -> u64;
}

macro_rules! in_project {
    ($($record:ty),* $(,)?) => {
        $(impl InProject for $record {
            fn project_id(&self) -> u64 {
                self.project_id
            }
        })*
    };
}

in_project!(
    super::model::Hook,
    super::model::Trigger,
    super::model::Variable,
    super::model::ProjectAccessToken,
    super::model::PipelineSchedule,
    super::model::Pipeline,
    super::model::Job,
    super::model::Upload,
    super::model::Issue,
    super::model::MergeRequest,
);

/// Resolves `:id`; 404 `{"message":"404 Project Not Found"}` when unknown or invisible, as
/// GitLab hides private projects from non-members.
pub fn project_access(model: &Model, raw_id: &str, caller: Caller) -> ApiResult<ProjectAccess> {
    let project = model
        .project_by_ref(raw_id)
        .ok_or(ApiError::NotFound(Some("Project")))?;
    if let Caller::User {
        job_project: Some(job_project),
        ..
    } = caller
        && job_project != project.id
    {
        return Err(ApiError::NotFound(Some("Project")));
    }
    let admin = caller
        .user_id()
        .and_then(|id| model.user(id))
        .is_some_and(|u| u.admin);
    let level = match caller.user_id() {
        Some(_) if admin => Some(AccessLevel::Owner),
        Some(id) => model.access_level(project, id),
        None => None,
    };
    let access = ProjectAccess {
        project: project.clone(),
        level,
        caller,
    };
    let visible = match project.visibility {
        Visibility::Public => true,
        Visibility::Internal => caller.user_id().is_some(),
        Visibility::Private => level.is_some(),
    };
    if visible {
        Ok(access)
    } else {
        Err(ApiError::NotFound(Some("Project")))
    }
}

/// 403 `{"message":"403 Forbidden"}` unless `allowed`.
fn forbidden_unless(allowed: bool) -> ApiResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(ApiError::Forbidden(None))
    }
}
