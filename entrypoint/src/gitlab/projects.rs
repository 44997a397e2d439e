//! The project itself: its default branch and the CI setting that decides who may pass
//! pipeline variables (which a webhook trigger's `TRIGGER_PAYLOAD` is).
//! <https://docs.gitlab.com/api/projects/#retrieve-a-project>,
//! <https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::GitLabError;
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
    /// Where the project's images live (`registry.example.com/group/project`); absent when the
    /// instance has no container registry.
    #[serde(default)]
    pub container_registry_image_prefix: Option<String>,
}

#[derive(Serialize)]
struct RoleUpdate {
    ci_pipeline_variables_minimum_override_role: PipelineVariablesRole,
}

impl GitLab {
    /// `GET /projects/:id`.
    pub async fn project(&self, project: &ProjectRef) -> Result<Project, GitLabError> {
        self.get(&format!("/projects/{}", project.segment()), &[])
            .await
    }

    /// `PUT /projects/:id` with `ci_pipeline_variables_minimum_override_role`.
    pub async fn set_pipeline_variables_role(
        &self,
        project: &ProjectRef,
        role: PipelineVariablesRole,
    ) -> Result<Project, GitLabError> {
        self.put(
            &format!("/projects/{}", project.segment()),
            &[],
            Some(&RoleUpdate {
                ci_pipeline_variables_minimum_override_role: role,
            }),
        )
        .await
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
}
