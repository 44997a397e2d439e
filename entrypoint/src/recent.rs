//! What changed on a project since a moment: the issues and merge requests updated since then
//! and their newest notes. The scan's discovery, its quota retries, the relay's quota sweep and
//! the budget's ledger all read GitLab this way, so it lives below all of them.
//!
//! Posting or editing a note touches its issue or merge request (`after_save
//! :touch_noteable`, `app/models/note.rb`): the notes of a span are on the items updated in it.
//! <https://docs.gitlab.com/api/issues/#list-project-issues> (`updated_after`),
//! <https://docs.gitlab.com/api/notes/#list-project-issue-notes> (`order_by`).

use chrono::{DateTime, Utc};

use crate::gitlab::ids::{Noteable, ProjectRef};
use crate::gitlab::issues::IssueListOptions;
use crate::gitlab::list_options::{OrderBy, Sort};
use crate::gitlab::merge_requests::MergeRequestListOptions;
use crate::gitlab::notes::{Note, noteable_path};
use crate::gitlab::{GitLab, GitLabError};

/// An issue or merge request as the lists show it: which, and when it last changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Updated {
    /// The issue or merge request.
    pub noteable: Noteable,
    /// Its `updated_at`: a note saved on it, a label or assignee changed, touch it (a note
    /// within a minute of the last touch may not, [`crate::quota::retry::TOUCH_LAG`]).
    pub updated_at: DateTime<Utc>,
}

/// The issues and merge requests updated since `since` (a note posted or edited touches its
/// issue or merge request), issues first: where the bot's notes of that span can be.
pub(crate) async fn updated_noteables(
    gitlab: &GitLab,
    project: &ProjectRef,
    since: DateTime<Utc>,
) -> Result<Vec<Noteable>, GitLabError> {
    Ok(updated_since(gitlab, project, since)
        .await?
        .into_iter()
        .map(|u| u.noteable)
        .collect())
}

/// [`updated_noteables`] with each one's `updated_at`, so one listing serves several searches
/// with different edges (the scan's quota retry and its label events). Two list requests (more
/// when a list has more than one page).
pub(crate) async fn updated_since(
    gitlab: &GitLab,
    project: &ProjectRef,
    since: DateTime<Utc>,
) -> Result<Vec<Updated>, GitLabError> {
    let issues = gitlab
        .list_issues(project, &issues_updated(Some(since)))
        .await?;
    let merge_requests = gitlab
        .list_merge_requests(project, &merge_requests_updated(Some(since)))
        .await?;
    let updated = |noteable, updated_at| Updated {
        noteable,
        updated_at,
    };
    Ok(issues
        .into_iter()
        .map(|i| updated(Noteable::Issue(i.iid), i.updated_at))
        .chain(
            merge_requests
                .into_iter()
                .map(|mr| updated(Noteable::MergeRequest(mr.iid), mr.updated_at)),
        )
        .collect())
}

/// The project's issues by last update, only those updated since `since` when given.
pub(crate) fn issues_updated(since: Option<DateTime<Utc>>) -> IssueListOptions {
    IssueListOptions {
        updated_after: since,
        order_by: Some(OrderBy::UpdatedAt),
        ..IssueListOptions::default()
    }
}

/// The project's merge requests by last update, only those updated since `since` when given.
pub(crate) fn merge_requests_updated(since: Option<DateTime<Utc>>) -> MergeRequestListOptions {
    MergeRequestListOptions {
        updated_after: since,
        order_by: Some(OrderBy::UpdatedAt),
        ..MergeRequestListOptions::default()
    }
}

/// The notes created since `since`, newest first, reading only the pages that reach into the
/// window.
pub(crate) async fn recent_notes(
    gitlab: &GitLab,
    project: &ProjectRef,
    noteable: Noteable,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Note>, GitLabError> {
    newest_notes(gitlab, project, noteable, OrderBy::CreatedAt, |n| {
        since.is_some_and(|since| n.created_at < since)
    })
    .await
}

/// The notes written (posted or edited) since `edge`, newest first, reading only the pages that
/// reach into that span.
pub(crate) async fn updated_notes(
    gitlab: &GitLab,
    project: &ProjectRef,
    noteable: Noteable,
    edge: DateTime<Utc>,
) -> Result<Vec<Note>, GitLabError> {
    let mut notes = newest_notes(gitlab, project, noteable, OrderBy::UpdatedAt, |n| {
        n.updated_at < edge
    })
    .await?;
    notes.retain(|n| n.updated_at >= edge);
    Ok(notes)
}

/// The notes of `noteable` newest first by `order`, page by page up to and including the first
/// page that holds a note `before` the span asked for.
async fn newest_notes(
    gitlab: &GitLab,
    project: &ProjectRef,
    noteable: Noteable,
    order: OrderBy,
    before: impl Fn(&Note) -> bool,
) -> Result<Vec<Note>, GitLabError> {
    let query = [
        ("order_by", order.as_str().to_owned()),
        ("sort", Sort::Desc.as_str().to_owned()),
    ];
    let mut pages = gitlab.pages::<Note>(
        &format!("{}/notes", noteable_path(project, noteable)),
        &query,
    )?;
    let mut notes = Vec::new();
    while let Some(page) = pages.next_page().await? {
        let reached_before = page.iter().any(&before);
        notes.extend(page);
        if reached_before {
            break;
        }
    }
    Ok(notes)
}
