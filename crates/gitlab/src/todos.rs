//! The token user's to-do list: GitLab files a to-do for a user every time a note mentions them,
//! so for a bot whose username is the handle (`@claude` on a self-managed instance) one request
//! finds every new mention across all projects.
//! <https://docs.gitlab.com/api/todos/>
//!
//! A note that starts with the mention gives a `directly_addressed` to-do, any other mention a
//! `mentioned` one (GitLab's `DirectlyAddressedUserParser`); both are requests. The entity names
//! the note only through `target_url`, whose fragment is `#note_<id>` for to-dos created by a
//! note (`lib/api/entities/todo.rb`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::{IssueIid, MergeRequestIid, NoteId, Noteable, ProjectId};
use super::users::UserBasic;

/// `action_name` of a to-do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TodoAction {
    /// The user was mentioned somewhere in a note or description.
    Mentioned,
    /// The note starts with the mention.
    DirectlyAddressed,
    /// The user was assigned to the issue or merge request.
    Assigned,
    /// The user's review was requested on the merge request.
    ReviewRequested,
    /// Anything else (build failed, approval required, …): not a request to us.
    #[serde(other)]
    Other,
}

/// The project a to-do belongs to (`ProjectIdentity`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TodoProject {
    /// Global id.
    pub id: ProjectId,
    /// `group/project`.
    pub path_with_namespace: String,
}

/// The issue or merge request a to-do is about (only the fields the scan needs).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct TodoTarget {
    /// The number inside the project.
    pub iid: u64,
    /// Confidential issues only; merge requests omit it.
    #[serde(default)]
    pub confidential: bool,
}

/// A to-do as `GET /todos` returns it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Todo {
    /// Needed to mark it done.
    pub id: u64,
    /// `null` for group-level to-dos (epics).
    #[serde(default)]
    pub project: Option<TodoProject>,
    /// Who caused it (the note's author for a mention).
    pub author: UserBasic,
    /// Why it was filed.
    pub action_name: TodoAction,
    /// `Issue`, `MergeRequest`, `Commit`, `Epic`, …
    pub target_type: String,
    /// The issue or merge request, when it is one.
    pub target: serde_json::Value,
    /// Link to the target, with `#note_<id>` when a note caused it.
    pub target_url: String,
    /// `pending` or `done`.
    pub state: String,
    /// When it was filed.
    pub created_at: DateTime<Utc>,
}

impl Todo {
    /// True for a to-do filed because a note mentions the user.
    pub fn is_mention(&self) -> bool {
        matches!(
            self.action_name,
            TodoAction::Mentioned | TodoAction::DirectlyAddressed
        )
    }

    /// The issue or merge request, when the to-do is about one.
    pub fn noteable(&self) -> Option<Noteable> {
        let target: TodoTarget = serde_json::from_value(self.target.clone()).ok()?;
        match self.target_type.as_str() {
            "Issue" => Some(Noteable::Issue(IssueIid(target.iid))),
            "MergeRequest" => Some(Noteable::MergeRequest(MergeRequestIid(target.iid))),
            _ => None,
        }
    }

    /// Whether the target is a confidential issue.
    pub fn confidential(&self) -> bool {
        serde_json::from_value::<TodoTarget>(self.target.clone())
            .is_ok_and(|target| target.confidential)
    }

    /// The note that caused the to-do, from the `#note_<id>` fragment of `target_url`; `None`
    /// for a mention in a description.
    pub fn note(&self) -> Option<NoteId> {
        let (_, fragment) = self.target_url.rsplit_once('#')?;
        let id = fragment.strip_prefix("note_")?.parse::<u64>().ok()?;
        Some(NoteId(id))
    }
}

fn todo_query(state: &str, project: Option<ProjectId>) -> Vec<(&'static str, String)> {
    let mut query = vec![("state", state.to_owned())];
    if let Some(project) = project {
        query.push(("project_id", project.to_string()));
    }
    query
}

impl GitLab {
    /// `GET /todos?state=pending` (and `project_id` when given), every page: the token user's
    /// pending to-dos. Filtering by action here would take one request per action
    /// (`mentioned`, `directly_addressed`), so callers filter with [`Todo::is_mention`].
    pub async fn pending_todos(&self, project: Option<ProjectId>) -> Result<Vec<Todo>> {
        self.get_all("/todos", &todo_query("pending", project))
            .await
    }

    /// `GET /todos?state=done` (and `project_id`), newest first, reading pages until one
    /// reaches before `since`. GitLab marks a user's pending to-dos on an issue or merge
    /// request done when that user comments there
    /// (<https://docs.gitlab.com/user/todos/#actions-that-mark-a-to-do-item-as-done>), so a
    /// mention made while the bot was answering another on the same issue is only found here.
    pub async fn done_todos_since(
        &self,
        project: Option<ProjectId>,
        since: DateTime<Utc>,
    ) -> Result<Vec<Todo>> {
        let mut pages = self.pages::<Todo>("/todos", &todo_query("done", project))?;
        let mut todos = Vec::new();
        while let Some(page) = pages.next_page().await? {
            let reached_before = page.iter().any(|todo| todo.created_at < since);
            todos.extend(page.into_iter().filter(|todo| todo.created_at >= since));
            if reached_before {
                break;
            }
        }
        Ok(todos)
    }

    /// `POST /todos/:id/mark_as_done`.
    pub async fn mark_todo_done(&self, id: u64) -> Result<()> {
        let _: serde_json::Value = self
            .post(&format!("/todos/{id}/mark_as_done"), &serde_json::json!({}))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_mention_todo_names_its_note() {
        let todo: Todo = serde_json::from_str(
            r#"{"id": 102, "project": {"id": 2, "name": "Gitlab Ce",
                "name_with_namespace": "Gitlab Org / Gitlab Ce", "path": "gitlab-foss",
                "path_with_namespace": "gitlab-org/gitlab-foss"},
              "author": {"name": "Administrator", "username": "root", "id": 1, "state": "active"},
              "action_name": "directly_addressed", "target_type": "MergeRequest",
              "target": {"id": 34, "iid": 7, "project_id": 2, "title": "x", "state": "opened"},
              "target_url": "https://gitlab.example.com/gitlab-org/gitlab-foss/-/merge_requests/7#note_881",
              "body": "@claude please", "state": "pending",
              "created_at": "2016-06-17T07:52:35.225Z", "updated_at": "2016-06-17T07:52:35.225Z"}"#,
        )
        .unwrap();
        assert!(todo.is_mention());
        assert_eq!(
            todo.noteable(),
            Some(Noteable::MergeRequest(MergeRequestIid(7)))
        );
        assert_eq!(todo.note(), Some(NoteId(881)));
        assert_eq!(todo.project.unwrap().id, ProjectId(2));
    }

    #[test]
    fn other_actions_and_description_mentions_are_not_note_requests() {
        let todo: Todo = serde_json::from_str(
            r#"{"id": 98, "project": null, "author": {"name": "A", "username": "a", "id": 1,
                "state": "active"}, "action_name": "assigned", "target_type": "Issue",
              "target": {"iid": 3}, "target_url": "https://h/g/p/-/issues/3",
              "state": "pending", "created_at": "2016-06-17T07:49:24.624Z"}"#,
        )
        .unwrap();
        assert!(!todo.is_mention());
        assert_eq!(todo.note(), None);
        assert_eq!(todo.noteable(), Some(Noteable::Issue(IssueIid(3))));
    }
}
