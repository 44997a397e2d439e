//! Discussions (threads) on issues and merge requests: list, read, start, reply, resolve.
//! <https://docs.gitlab.com/api/discussions/>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::diff_position::DiffPosition;
use super::error::Result;
use super::ids::{DiscussionId, MergeRequestIid, Noteable, ProjectRef};
use super::notes::{Note, noteable_path};
use crate::quick_action::Inert;

/// A thread: its notes in order. Standalone comments (and system notes) come as one-note
/// discussions with `individual_note: true`. GitLab's discussion entity has exactly these three
/// fields (`lib/api/entities/discussion.rb`); whether a thread is resolved is read from its notes.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Discussion {
    /// 40-hex thread id, shared by its notes.
    pub id: DiscussionId,
    /// True for a standalone comment that is not a thread.
    pub individual_note: bool,
    /// The notes, oldest first.
    pub notes: Vec<Note>,
}

impl Discussion {
    /// A thread is resolved when it has resolvable notes and every one of them is resolved, as
    /// GitLab's UI counts it.
    pub fn is_resolved(&self) -> bool {
        let mut resolvable = self.notes.iter().filter(|n| n.resolvable).peekable();
        resolvable.peek().is_some() && resolvable.all(|n| n.resolved == Some(true))
    }
}

#[derive(Serialize)]
struct NewThread<'a> {
    body: &'a Inert,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<&'a DiffPosition>,
}

impl<'a> NewThread<'a> {
    /// A thread start or a reply that is on no diff line.
    fn text(body: &'a Inert) -> Self {
        Self {
            body,
            position: None,
        }
    }
}

fn discussions_path(project: &ProjectRef, noteable: Noteable) -> String {
    format!("{}/discussions", noteable_path(project, noteable))
}

impl GitLab {
    /// `GET …/discussions`, every page.
    pub async fn discussions(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
    ) -> Result<Vec<Discussion>> {
        self.get_all(&discussions_path(project, noteable), &[])
            .await
    }

    /// `GET …/discussions/:discussion_id`.
    pub async fn discussion(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        id: &DiscussionId,
    ) -> Result<Discussion> {
        self.get(
            &format!("{}/{id}", discussions_path(project, noteable)),
            &[],
        )
        .await
    }

    /// `POST …/discussions`: starts a thread that others can reply to.
    pub async fn create_discussion(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        body: &Inert,
    ) -> Result<Discussion> {
        self.post(&discussions_path(project, noteable), &NewThread::text(body))
            .await
    }

    /// `POST /projects/:id/merge_requests/:iid/discussions` with a `position`: a thread on a
    /// diff line. GitLab answers 400 when the SHAs or lines do not match the diff.
    pub async fn create_diff_discussion(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
        body: &Inert,
        position: &DiffPosition,
    ) -> Result<Discussion> {
        let thread = NewThread {
            body,
            position: Some(position),
        };
        let merge_request = Noteable::MergeRequest(merge_request);
        self.post(&discussions_path(project, merge_request), &thread)
            .await
    }

    /// `POST …/discussions/:discussion_id/notes`: a reply in the thread.
    pub async fn reply_to_discussion(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
        id: &DiscussionId,
        body: &Inert,
    ) -> Result<Note> {
        self.post(
            &format!("{}/{id}/notes", discussions_path(project, noteable)),
            &NewThread::text(body),
        )
        .await
    }

    /// `PUT /projects/:id/merge_requests/:iid/discussions/:discussion_id?resolved=…`: resolves
    /// or reopens a whole merge request thread (only merge request threads are resolvable).
    pub async fn resolve_discussion(
        &self,
        project: &ProjectRef,
        merge_request: MergeRequestIid,
        id: &DiscussionId,
        resolved: bool,
    ) -> Result<Discussion> {
        let merge_request = Noteable::MergeRequest(merge_request);
        self.put(
            &format!("{}/{id}", discussions_path(project, merge_request)),
            &[("resolved", resolved.to_string())],
            None::<&()>,
        )
        .await
    }
}
