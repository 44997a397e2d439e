//! Who added or removed which label on an issue or merge request, and when: the only record of
//! a label change that a scheduled scan can read (GitLab files no to-do for a label).
//! <https://docs.gitlab.com/api/resource_label_events/>
//!
//! GitLab records one event per label added or removed, whatever did it: the UI, the REST
//! `labels`/`add_labels`/`remove_labels` parameters, a `/label` quick action in a note or a
//! description, and the labels an issue or merge request is created with
//! (`Issuable::CommonSystemNotesService#create_labels_note` →
//! `ResourceEvents::ChangeLabelsService`). The list is read in the order the database gives
//! (`lib/api/resource_label_events.rb` sets none), so callers sort by `created_at`/`id`; a page
//! is filtered after paginating (`ResourceLabelEvent.visible_to_user?(current_user,
//! paginate(events))`), so a page can hold fewer than `per_page` events and still have a next
//! one. `user` becomes `null` when the user is deleted (`has_many :resource_label_events,
//! dependent: :nullify` in `app/models/user.rb`), `label` when the label is deleted (the
//! event's `label_id` is nullified).

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::client::GitLab;
use super::error::Result;
use super::ids::{Noteable, ProjectRef};
use super::notes::noteable_path;
use super::users::UserBasic;

/// `add` or `remove` (`enum action: { add: 1, remove: 2 }` in `app/models/resource_label_event.rb`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelAction {
    /// The label was put on.
    Add,
    /// The label was taken off.
    Remove,
}

/// The label an event is about (`Entities::LabelBasic`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct EventLabel {
    /// The label's id.
    pub id: u64,
    /// The label's title: what `AI_LABEL_TRIGGER` names.
    pub name: String,
}

/// One label added or removed (`Entities::ResourceLabelEvent`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ResourceLabelEvent {
    /// Grows with each event.
    pub id: u64,
    /// Who changed the label; `None` once that user is deleted.
    pub user: Option<UserBasic>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// `Issue` or `MergeRequest`.
    pub resource_type: String,
    /// The or merge request's global id (not its IID).
    pub resource_id: u64,
    /// The label; `None` once it is deleted.
    pub label: Option<EventLabel>,
    /// Added or removed.
    pub action: LabelAction,
}

impl GitLab {
    /// `GET /projects/:id/issues/:iid/resource_label_events` (or `merge_requests`), every page,
    /// in GitLab's order.
    pub async fn resource_label_events(
        &self,
        project: &ProjectRef,
        noteable: Noteable,
    ) -> Result<Vec<ResourceLabelEvent>> {
        self.get_all(
            &format!("{}/resource_label_events", noteable_path(project, noteable)),
            &[],
        )
        .await
    }
}
