//! Merge requests: read, list, find by source branch, create, update.
//! <https://docs.gitlab.com/api/merge_requests/>

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::{GitLabError, Result};
use super::ids::{MergeRequestIid, Noteable, ProjectId, ProjectRef};
use super::list_options::{OrderBy, Sort, iso8601, push_order};
use super::notes::noteable_path;
use super::users::UserBasic;
use crate::quick_action::Inert;

/// `state` of a merge request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeRequestState {
    /// Open.
    Opened,
    /// Closed without merging.
    Closed,
    /// Being merged right now.
    Locked,
    /// Merged.
    Merged,
}

/// The three commits a diff position is anchored to: create diff threads with these.
/// <https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct DiffRefs {
    /// Merge base of source and target.
    pub base_sha: String,
    /// Source branch head.
    pub head_sha: String,
    /// Target branch head when the diff was made.
    pub start_sha: String,
}

/// A merge request as `GET /projects/:id/merge_requests/:merge_request_iid` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct MergeRequest {
    /// Global id; REST paths take [`MergeRequest::iid`].
    pub id: u64,
    /// Number inside the target project.
    pub iid: MergeRequestIid,
    /// The target project.
    pub project_id: ProjectId,
    /// Title (a `Draft:` prefix makes it a draft).
    pub title: String,
    /// Markdown body; `null` when empty.
    pub description: Option<String>,
    /// Lifecycle state.
    pub state: MergeRequestState,
    /// True while marked as draft.
    pub draft: bool,
    /// Branch with the changes (in the source project).
    pub source_branch: String,
    /// Branch to merge into (in the target project).
    pub target_branch: String,
    /// Where the source branch lives; differs from the target for fork merge requests.
    pub source_project_id: ProjectId,
    /// Where it merges into.
    pub target_project_id: ProjectId,
    /// Source branch head; `null` before the first commit is known.
    pub sha: Option<String>,
    /// Only in single-MR responses, and `null` while GitLab is still computing the diff.
    #[serde(default)]
    pub diff_refs: Option<DiffRefs>,
    /// The pipeline of the source branch's head commit: only in single-MR responses, `null`
    /// when there is none and left out for callers who may not read pipelines
    /// (`expose :head_pipeline … if: can?(:read_pipeline)` in
    /// `lib/api/entities/merge_request.rb`).
    #[serde(default)]
    pub head_pipeline: Option<crate::jobs::PipelineRef>,
    /// Whether members of the target project may push to a fork's source branch. GitLab sends
    /// it only for merge requests from forks.
    #[serde(default)]
    pub allow_collaboration: Option<bool>,
    /// Label names.
    pub labels: Vec<String>,
    /// Who opened it.
    pub author: UserBasic,
    /// Who it is assigned to.
    pub assignees: Vec<UserBasic>,
    /// Whose review is requested.
    pub reviewers: Vec<UserBasic>,
    /// Browser URL.
    pub web_url: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// `state` filter of the merge request list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeRequestStateFilter {
    /// `opened`.
    Opened,
    /// `closed`.
    Closed,
    /// `locked`.
    Locked,
    /// `merged`.
    Merged,
    /// `all`.
    All,
}

impl MergeRequestStateFilter {
    fn as_str(self) -> &'static str {
        match self {
            MergeRequestStateFilter::Opened => "opened",
            MergeRequestStateFilter::Closed => "closed",
            MergeRequestStateFilter::Locked => "locked",
            MergeRequestStateFilter::Merged => "merged",
            MergeRequestStateFilter::All => "all",
        }
    }
}

/// Filters for [`GitLab::list_merge_requests`]; `Default` lists every merge request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeRequestListOptions {
    /// Only merge requests updated at or after this time.
    pub updated_after: Option<DateTime<Utc>>,
    /// Only merge requests in this state.
    pub state: Option<MergeRequestStateFilter>,
    /// Only merge requests from this branch.
    pub source_branch: Option<String>,
    /// Sort key.
    pub order_by: Option<OrderBy>,
    /// Sort direction.
    pub sort: Option<Sort>,
}

/// Body of `POST /projects/:id/merge_requests`. Unset options are left out so GitLab's
/// defaults apply.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct NewMergeRequest {
    /// Branch with the changes.
    pub source_branch: String,
    /// Branch to merge into.
    pub target_branch: String,
    /// Title; prefix with `Draft: ` for a draft.
    pub title: Inert,
    /// Markdown body; GitLab runs the quick actions in it, hence [`Inert`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Inert>,
    /// For a merge request from a fork: the upstream project.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_project_id: Option<ProjectId>,
    /// Comma-separated label names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// Delete the source branch when merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remove_source_branch: Option<bool>,
    /// Squash commits when merged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub squash: Option<bool>,
    /// Let upstream members push to the fork's branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_collaboration: Option<bool>,
}

impl NewMergeRequest {
    /// The three fields GitLab requires; every option left to GitLab's default.
    pub fn new(
        source_branch: impl Into<String>,
        target_branch: impl Into<String>,
        title: &str,
    ) -> Self {
        Self {
            source_branch: source_branch.into(),
            target_branch: target_branch.into(),
            title: Inert::new(title),
            ..Self::default()
        }
    }
}

/// `state_event` of an update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StateEvent {
    /// Close it.
    Close,
    /// Reopen it.
    Reopen,
}

/// Body of `PUT /projects/:id/merge_requests/:merge_request_iid`; only set fields change.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeRequestUpdate {
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Inert>,
    /// New body; GitLab runs the quick actions in it, hence [`Inert`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Inert>,
    /// New target branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_branch: Option<String>,
    /// Replace all labels (comma-separated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
    /// Close or reopen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state_event: Option<StateEvent>,
}

/// What [`GitLab::create_or_update_merge_request`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Upsert {
    /// A new merge request was opened.
    Created,
    /// An open one for the same source branch was updated.
    Updated,
}

impl GitLab {
    /// `GET /projects/:id/merge_requests/:merge_request_iid`.
    pub async fn merge_request(
        &self,
        project: &ProjectRef,
        iid: MergeRequestIid,
    ) -> Result<MergeRequest> {
        self.get(&mr_path(project, iid), &[]).await
    }

    /// `GET /projects/:id/merge_requests` with filters, every page. List entries carry no
    /// `diff_refs`; fetch one with [`GitLab::merge_request`] for that.
    pub async fn list_merge_requests(
        &self,
        project: &ProjectRef,
        options: &MergeRequestListOptions,
    ) -> Result<Vec<MergeRequest>> {
        let mut query = Vec::new();
        if let Some(after) = options.updated_after {
            query.push(("updated_after", iso8601(after)));
        }
        if let Some(state) = options.state {
            query.push(("state", state.as_str().to_owned()));
        }
        if let Some(branch) = &options.source_branch {
            query.push(("source_branch", branch.clone()));
        }
        push_order(&mut query, options.order_by, options.sort);
        self.get_all(&project.api("merge_requests"), &query).await
    }

    /// The open merge request from `source_branch` of the project itself, if there is one
    /// (GitLab allows one per source project, source branch and target project). A fork's merge
    /// request from a branch of the same name is someone else's and never matches: the list
    /// filters by branch name only, so `source_project_id` must equal the target project.
    pub async fn find_open_merge_request(
        &self,
        project: &ProjectRef,
        source_branch: &str,
    ) -> Result<Option<MergeRequest>> {
        let options = MergeRequestListOptions {
            state: Some(MergeRequestStateFilter::Opened),
            source_branch: Some(source_branch.to_owned()),
            ..MergeRequestListOptions::default()
        };
        let found = self.list_merge_requests(project, &options).await?;
        Ok(found
            .into_iter()
            .find(|mr| mr.source_branch == source_branch && mr.source_project_id == mr.project_id))
    }

    /// `POST /projects/:id/merge_requests`. When one is already open for the branch, GitLab
    /// answers 409 and this returns [`GitLabError::MergeRequestAlreadyExists`].
    pub async fn create_merge_request(
        &self,
        project: &ProjectRef,
        new: &NewMergeRequest,
    ) -> Result<MergeRequest> {
        let path = project.api("merge_requests");
        match self.post(&path, new).await {
            Err(GitLabError::Api {
                status: StatusCode::CONFLICT,
                message,
                ..
            }) => Err(GitLabError::MergeRequestAlreadyExists {
                source_branch: new.source_branch.clone(),
                existing: last_mr_reference(message.as_str()),
                message,
            }),
            other => other,
        }
    }

    /// `PUT /projects/:id/merge_requests/:merge_request_iid`.
    pub async fn update_merge_request(
        &self,
        project: &ProjectRef,
        iid: MergeRequestIid,
        update: &MergeRequestUpdate,
    ) -> Result<MergeRequest> {
        self.put(&mr_path(project, iid), &[], Some(update)).await
    }

    /// Opens a merge request, or, when one is already open for the source branch, updates its
    /// title, description and target branch instead: re-running a job must not fail because
    /// its earlier run already opened the merge request.
    pub async fn create_or_update_merge_request(
        &self,
        project: &ProjectRef,
        new: &NewMergeRequest,
    ) -> Result<(MergeRequest, Upsert)> {
        let conflict = match self.create_merge_request(project, new).await {
            Ok(mr) => return Ok((mr, Upsert::Created)),
            Err(e @ GitLabError::MergeRequestAlreadyExists { .. }) => e,
            Err(e) => return Err(e),
        };
        let existing = match self
            .find_open_merge_request(project, &new.source_branch)
            .await?
        {
            Some(mr) => mr.iid,
            None => match &conflict {
                GitLabError::MergeRequestAlreadyExists {
                    existing: Some(iid),
                    ..
                } => *iid,
                _ => return Err(conflict),
            },
        };
        let update = MergeRequestUpdate {
            title: Some(new.title.clone()),
            description: new.description.clone(),
            target_branch: Some(new.target_branch.clone()),
            ..MergeRequestUpdate::default()
        };
        let mr = self
            .update_merge_request(project, existing, &update)
            .await?;
        Ok((mr, Upsert::Updated))
    }
}

/// `/projects/:id/merge_requests/:iid`, spelt as for any noteable.
pub(crate) fn mr_path(project: &ProjectRef, iid: MergeRequestIid) -> String {
    noteable_path(project, Noteable::MergeRequest(iid))
}

/// The IID in GitLab's conflict message (`…for this source branch: !7`).
fn last_mr_reference(message: &str) -> Option<MergeRequestIid> {
    let at = message.rfind('!')?;
    let digits: String = message[at + 1..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok().map(MergeRequestIid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_message_names_the_existing_merge_request() {
        assert_eq!(
            last_mr_reference(
                "Another open merge request already exists for this source branch: !7"
            ),
            Some(MergeRequestIid(7))
        );
        assert_eq!(last_mr_reference("something else"), None);
        assert_eq!(last_mr_reference("bang! no number"), None);
    }

    #[test]
    fn merge_request_json_from_the_docs_parses() {
        let json = r#"{
          "id": 155016530, "iid": 133, "project_id": 15513260, "title": "Manual job rules",
          "description": "", "state": "opened", "draft": false,
          "source_branch": "manual-job-rules", "target_branch": "master",
          "source_project_id": 15513260, "target_project_id": 15513260,
          "sha": "e82eb4a098e32c796079ca3915e07487fc4db24c",
          "diff_refs": {"base_sha": "ae73b3", "head_sha": "e82eb4", "start_sha": "ae73b3"},
          "labels": [], "web_url": "https://gitlab.com/marcel.amirault/test-project/-/merge_requests/133",
          "author": {"id": 4155490, "username": "marcel.amirault", "name": "Marcel Amirault", "state": "active"},
          "assignees": [], "reviewers": [],
          "created_at": "2022-05-13T07:26:38.402Z", "updated_at": "2022-05-14T03:38:31.354Z"
        }"#;
        let mr: MergeRequest = serde_json::from_str(json).unwrap();
        assert_eq!(mr.iid, MergeRequestIid(133));
        assert_eq!(mr.diff_refs.unwrap().head_sha, "e82eb4");
        assert_eq!(mr.allow_collaboration, None);
        assert_eq!(mr.state, MergeRequestState::Opened);
    }

    #[test]
    fn unset_fields_stay_out_of_request_bodies() {
        let body = serde_json::to_value(MergeRequestUpdate {
            description: Some(Inert::new("d")),
            state_event: Some(StateEvent::Close),
            ..MergeRequestUpdate::default()
        })
        .unwrap();
        assert_eq!(
            body,
            serde_json::json!({"description": "d", "state_event": "close"})
        );
    }
}
