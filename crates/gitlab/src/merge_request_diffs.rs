//! The per-file diffs of a merge request.
//! <https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs>

use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::{MergeRequestIid, ProjectRef};
use super::merge_requests::mr_path;

/// One changed file. Large files come back `collapsed` or `too_large` with an empty `diff`;
/// read those from the clone instead (`git diff base_sha...head_sha`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct FileDiff {
    /// Path before the change.
    pub old_path: String,
    /// Path after the change.
    pub new_path: String,
    /// File mode before (`100644`).
    pub a_mode: String,
    /// File mode after.
    pub b_mode: String,
    /// Unified diff hunks without the `---`/`+++` header.
    pub diff: String,
    /// Added file.
    pub new_file: bool,
    /// Renamed file.
    pub renamed_file: bool,
    /// Deleted file.
    pub deleted_file: bool,
    /// Marked as generated (`gitlab-generated` attribute); added in GitLab 16.x, absent before.
    #[serde(default)]
    pub generated_file: bool,
    /// Diff left out for size, expandable in the UI; absent in older versions.
    #[serde(default)]
    pub collapsed: bool,
    /// Diff left out because it exceeds GitLab's limits; absent in older versions.
    #[serde(default)]
    pub too_large: bool,
}

impl GitLab {
    /// `GET /projects/:id/merge_requests/:iid/diffs`, every page (GitLab 15.7+).
    pub async fn merge_request_diffs(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
    ) -> Result<Vec<FileDiff>> {
        self.get_all(&format!("{}/diffs", mr_path(project, merge_request)), &[])
            .await
    }
}
