//! Issues: read one by IID, list the recently updated ones.
//! <https://docs.gitlab.com/api/issues/>

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::{IssueIid, ProjectId, ProjectRef};
use super::list_options::{OrderBy, Sort, iso8601, push_order};
use super::users::UserBasic;

/// `state` of an issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueState {
    /// Open.
    Opened,
    /// Closed.
    Closed,
}

/// An issue as `GET /projects/:id/issues/:issue_iid` returns it (the fields the product uses).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Issue {
    /// Global id (webhooks' `noteable_id`); REST paths take [`Issue::iid`].
    pub id: u64,
    /// Number inside the project.
    pub iid: IssueIid,
    /// The project it belongs to.
    pub project_id: ProjectId,
    /// Title.
    pub title: String,
    /// Markdown body; `null` when empty.
    pub description: Option<String>,
    /// Open or closed.
    pub state: IssueState,
    /// Label names.
    pub labels: Vec<String>,
    /// Who opened it.
    pub author: UserBasic,
    /// Who it is assigned to.
    pub assignees: Vec<UserBasic>,
    /// Visible only to project members with at least Reporter (and the author, assignees).
    pub confidential: bool,
    /// Locked discussions accept notes from project members only; `null` when never set.
    pub discussion_locked: Option<bool>,
    /// Browser URL.
    pub web_url: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change, notes included.
    pub updated_at: DateTime<Utc>,
}

/// `state` filter of the issue list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueStateFilter {
    /// `opened`.
    Opened,
    /// `closed`.
    Closed,
    /// `all` (the same as leaving the filter out).
    All,
}

/// Filters for [`GitLab::list_issues`]; `Default` lists every issue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IssueListOptions {
    /// Only issues updated at or after this time.
    pub updated_after: Option<DateTime<Utc>>,
    /// Only issues in this state.
    pub state: Option<IssueStateFilter>,
    /// Sort key.
    pub order_by: Option<OrderBy>,
    /// Sort direction.
    pub sort: Option<Sort>,
}

impl GitLab {
    /// `GET /projects/:id/issues/:issue_iid`.
    pub async fn issue(&self, project: &ProjectRef, iid: IssueIid) -> Result<Issue> {
        self.get(&project.api(format!("issues/{iid}")), &[]).await
    }

    /// `GET /projects/:id/issues` with filters, every page.
    pub async fn list_issues(
        &self,
        project: &ProjectRef,
        options: &IssueListOptions,
    ) -> Result<Vec<Issue>> {
        let mut query = Vec::new();
        if let Some(after) = options.updated_after {
            query.push(("updated_after", iso8601(after)));
        }
        if let Some(state) = options.state {
            let state = match state {
                IssueStateFilter::Opened => "opened",
                IssueStateFilter::Closed => "closed",
                IssueStateFilter::All => "all",
            };
            query.push(("state", state.to_owned()));
        }
        push_order(&mut query, options.order_by, options.sort);
        self.get_all(&project.api("issues"), &query).await
    }
}
