//! Projects: the one read the run needs, for the default branch and a fork's clone URL.
//! <https://docs.gitlab.com/api/projects/#get-a-single-project>

use serde::Deserialize;

use super::client::GitLab;
use super::error::GitLabError;
use super::ids::{ProjectId, ProjectRef};

/// The fields of `GET /projects/:id` the run reads.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Project {
    pub id: ProjectId,
    pub path_with_namespace: String,
    /// `null` for a project with an empty repository.
    pub default_branch: Option<String>,
    /// The HTTPS clone URL; a merge request from a fork is fetched from here.
    pub http_url_to_repo: String,
    pub web_url: String,
}

impl GitLab {
    /// `GET /projects/:id`.
    pub async fn project(&self, project: &ProjectRef) -> Result<Project, GitLabError> {
        self.get(&format!("/projects/{}", project.segment()), &[])
            .await
    }
}
