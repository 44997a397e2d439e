//! The project itself: its default branch and the CI setting that decides who may pass
//! pipeline variables (which a webhook trigger's `TRIGGER_PAYLOAD` is).
//! <https://docs.gitlab.com/api/projects/#retrieve-a-project>,
//! <https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::{ProjectId, ProjectRef};
use super::members::AccessLevel;

/// `ci_pipeline_variables_minimum_override_role` (GitLab 17.1+). New GitLab.com projects start
/// at `no_one_allowed` (17.7); only an Owner may move the setting away from `owner` or
/// `no_one_allowed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineVariablesRole {
    /// Developer and above.
    Developer,
    /// Maintainer and above.
    Maintainer,
    /// Owner only.
    Owner,
    /// Nobody.
    NoOneAllowed,
    /// A value this client does not know; left alone.
    #[serde(other)]
    Unknown,
}

impl PipelineVariablesRole {
    /// Whether someone with `level` may pass pipeline variables.
    pub fn allows(self, level: AccessLevel) -> bool {
        match self {
            Self::Developer => level >= AccessLevel::DEVELOPER,
            Self::Maintainer => level >= AccessLevel::MAINTAINER,
            Self::Owner => level >= AccessLevel::OWNER,
            Self::NoOneAllowed => false,
            Self::Unknown => true,
        }
    }

    /// GitLab's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Developer => "developer",
            Self::Maintainer => "maintainer",
            Self::Owner => "owner",
            Self::NoOneAllowed => "no_one_allowed",
            Self::Unknown => "an unknown value",
        }
    }
}

/// The fields of `GET /projects/:id` that setup and the run read.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Project {
    /// Numeric id.
    pub id: ProjectId,
    /// `group/sub/project`.
    pub path_with_namespace: String,
    /// `null` for an empty repository.
    pub default_branch: Option<String>,
    /// The HTTPS clone URL; a merge request from a fork is fetched from here.
    pub http_url_to_repo: String,
    /// Browser URL.
    pub web_url: String,
    /// Absent for callers below Maintainer and on GitLab before 17.1.
    #[serde(default)]
    pub ci_pipeline_variables_minimum_override_role: Option<PipelineVariablesRole>,
    /// Absent for callers below Maintainer. While false, the minimum role is ignored (17.1 to
    /// 17.9; before 17.1 it is the only setting: true means Maintainers only).
    #[serde(default)]
    pub restrict_user_defined_variables: Option<bool>,
    /// Where the project's images live (`registry.example.com/group/project`); absent when the
    /// instance has no container registry.
    #[serde(default)]
    pub container_registry_image_prefix: Option<String>,
}

/// How a project's settings decide who may pass pipeline variables, as far as the caller can
/// see them (<https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineVariablesRule {
    /// Neither field is shown to this token (it is below Maintainer).
    Hidden,
    /// `restrict_user_defined_variables: false`: every Developer may.
    Unrestricted,
    /// Restricted, and the minimum role decides.
    Role(PipelineVariablesRole),
    /// Restricted on a release without the role (before 17.1): Maintainers only.
    MaintainersOnly,
}

impl PipelineVariablesRule {
    /// Whether someone with `level` may create a pipeline with variables; `None` when hidden.
    pub fn allows(self, level: AccessLevel) -> Option<bool> {
        match self {
            Self::Hidden => None,
            Self::Unrestricted => Some(level >= AccessLevel::DEVELOPER),
            Self::Role(role) => Some(role.allows(level)),
            Self::MaintainersOnly => Some(level >= AccessLevel::MAINTAINER),
        }
    }

    /// In words, for findings and refusals.
    pub fn describe(self) -> String {
        match self {
            Self::Hidden => "not shown to this token".to_owned(),
            Self::Unrestricted => {
                "unrestricted (restrict_user_defined_variables is off, so the minimum role is ignored)"
                    .to_owned()
            }
            Self::Role(role) => format!("minimum role {}", role.as_str()),
            Self::MaintainersOnly => {
                "Maintainers only (restrict_user_defined_variables on a GitLab without the minimum role)"
                    .to_owned()
            }
        }
    }
}

impl Project {
    /// The rule GitLab applies to pipeline variables in this project. From 17.1 to 17.9 the
    /// role only counts while `restrict_user_defined_variables` is true (MR !149343); an
    /// absent `restrict_user_defined_variables` next to a visible role is read as restricted,
    /// the safe side.
    pub fn pipeline_variables_rule(&self) -> PipelineVariablesRule {
        match (
            self.restrict_user_defined_variables,
            self.ci_pipeline_variables_minimum_override_role,
        ) {
            (Some(false), _) => PipelineVariablesRule::Unrestricted,
            (_, Some(role)) => PipelineVariablesRule::Role(role),
            (Some(true), None) => PipelineVariablesRule::MaintainersOnly,
            (None, None) => PipelineVariablesRule::Hidden,
        }
    }
}

/// Body of `PUT /projects/:id`: GitLab changes only the settings sent.
#[derive(Default, Serialize)]
struct ProjectUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    restrict_user_defined_variables: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ci_pipeline_variables_minimum_override_role: Option<PipelineVariablesRole>,
}

impl GitLab {
    /// `GET /projects/:id`.
    pub async fn project(&self, project: &ProjectRef) -> Result<Project> {
        self.get(&project.api_root(), &[]).await
    }

    /// `PUT /projects/:id` with `restrict_user_defined_variables`.
    pub async fn set_restrict_user_defined_variables(
        &self,
        project: &ProjectRef,
        restrict: bool,
    ) -> Result<Project> {
        let update = ProjectUpdate {
            restrict_user_defined_variables: Some(restrict),
            ..ProjectUpdate::default()
        };
        self.update_project(project, &update).await
    }

    /// `PUT /projects/:id` with `ci_pipeline_variables_minimum_override_role`.
    pub async fn set_pipeline_variables_role(
        &self,
        project: &ProjectRef,
        role: PipelineVariablesRole,
    ) -> Result<Project> {
        let update = ProjectUpdate {
            ci_pipeline_variables_minimum_override_role: Some(role),
            ..ProjectUpdate::default()
        };
        self.update_project(project, &update).await
    }

    async fn update_project(
        &self,
        project: &ProjectRef,
        update: &ProjectUpdate,
    ) -> Result<Project> {
        self.put(&project.api_root(), &[], Some(update)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_roles_parse_and_unknown_ones_are_tolerated() {
        let p: Project = serde_json::from_str(
            r#"{"id": 3, "path_with_namespace": "a/b", "default_branch": "main",
                "http_url_to_repo": "https://x/a/b.git", "web_url": "https://x/a/b", "ci_pipeline_variables_minimum_override_role": "no_one_allowed"}"#,
        )
        .unwrap();
        let role = p.ci_pipeline_variables_minimum_override_role.unwrap();
        assert!(!role.allows(AccessLevel::OWNER));
        let later: PipelineVariablesRole = serde_json::from_str(r#""planner""#).unwrap();
        assert_eq!(later, PipelineVariablesRole::Unknown);
        assert!(PipelineVariablesRole::Maintainer.allows(AccessLevel::MAINTAINER));
        assert!(!PipelineVariablesRole::Maintainer.allows(AccessLevel::DEVELOPER));
    }

    #[test]
    fn a_project_update_sends_only_the_setting_it_changes() {
        let role = ProjectUpdate {
            ci_pipeline_variables_minimum_override_role: Some(PipelineVariablesRole::Maintainer),
            ..ProjectUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(role).unwrap(),
            serde_json::json!({"ci_pipeline_variables_minimum_override_role": "maintainer"})
        );
        let restrict = ProjectUpdate {
            restrict_user_defined_variables: Some(false),
            ..ProjectUpdate::default()
        };
        assert_eq!(
            serde_json::to_value(restrict).unwrap(),
            serde_json::json!({"restrict_user_defined_variables": false})
        );
    }
}
