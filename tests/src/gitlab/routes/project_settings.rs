//! `PUT /projects/:id` (<https://docs.gitlab.com/api/projects/#edit-a-project>), for the one
//! setting the integration changes: `ci_pipeline_variables_minimum_override_role`
//! (`developer`, `maintainer`, `owner`, `no_one_allowed`; GitLab 17.1+). Editing a project
//! needs Maintainer; moving the role away from `owner` or `no_one_allowed`, or to `owner`,
//! needs Owner (<https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>).

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::put;

use super::ok;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::Project;
use crate::gitlab::version::{GitLabVersion, PIPELINE_VARIABLES_ROLE};

const SETTING: &str = "ci_pipeline_variables_minimum_override_role";
const RESTRICT: &str = "restrict_user_defined_variables";
const ROLES: &[&str] = &["developer", "maintainer", "owner", "no_one_allowed"];

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{id}", put(update))
}

/// Whether someone with `level` may create a pipeline with variables in `project`, as GitLab
/// `version` decides it (`Project#override_pipeline_variables_allowed?`): nothing is restricted
/// while `restrict_user_defined_variables` is false; when it is true, before 17.1 only
/// Maintainers may, and from 17.1 `ci_pipeline_variables_minimum_override_role` decides
/// (<https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>).
pub fn may_set_pipeline_variables(
    project: &Project,
    level: Option<AccessLevel>,
    version: GitLabVersion,
) -> bool {
    if !project.restrict_user_defined_variables {
        return level.is_some_and(|l| l >= AccessLevel::Developer);
    }
    if !version.has(PIPELINE_VARIABLES_ROLE) {
        return level.is_some_and(|l| l >= AccessLevel::Maintainer);
    }
    role_allows(&project.pipeline_variables_minimum_role, level)
}

fn role_allows(role: &str, level: Option<AccessLevel>) -> bool {
    let needed = match role {
        "developer" => AccessLevel::Developer,
        "maintainer" => AccessLevel::Maintainer,
        "owner" => AccessLevel::Owner,
        _ => return false,
    };
    level.is_some_and(|l| l >= needed)
}

async fn update(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let version = model.gitlab_version;
    if let Some(restrict) = ctx.params.bool(RESTRICT)?
        && let Some(project) = model
            .projects
            .iter_mut()
            .find(|p| p.id == access.project.id)
    {
        project.restrict_user_defined_variables = restrict;
    }
    // Before 17.1 Grape drops the unknown parameter without a word.
    let role_param = ctx
        .params
        .str(SETTING)
        .filter(|_| version.has(PIPELINE_VARIABLES_ROLE));
    if let Some(role) = role_param {
        if !ROLES.contains(&role.as_str()) {
            return Err(ApiError::InvalidParam(
                SETTING.into(),
                "does not have a valid value",
            ));
        }
        let current = access.project.pipeline_variables_minimum_role.as_str();
        let owner_only = matches!(current, "owner" | "no_one_allowed") || role == "owner";
        if owner_only && !access.at_least(AccessLevel::Owner) && current != role {
            return Err(ApiError::Forbidden(None));
        }
        if let Some(project) = model
            .projects
            .iter_mut()
            .find(|p| p.id == access.project.id)
        {
            project.pipeline_variables_minimum_role = role;
        }
    }
    let project = model
        .project(access.project.id)
        .ok_or(ApiError::NotFound(Some("Project")))?;
    Ok(ok(json::project_for(
        &model,
        project,
        ctx.app.base_url(),
        true,
    )))
}
