//! Requests without a note in the scan: the bot's `assigned` and `review_requested` to-dos, and
//! `mentioned`/`directly_addressed` to-dos whose target has no `#note_` fragment (a mention in
//! an issue's or merge request's description). GitLab files them for the bot user like mention
//! to-dos (<https://docs.gitlab.com/user/todos/#actions-that-create-to-do-items>), with the
//! user who assigned, requested or wrote the description as the to-do's `author`.
//!
//! Each is answered in this job by the run flow (`AI_EVENT*` variables,
//! [`crate::trigger::event_vars`]), which reads the issue or merge request back, checks the
//! to-do's author like a comment's, and claims the issue or merge request itself for the
//! to-do's time ([`crate::claim::Subject::Event`]), so a webhook job that answered the same
//! assignment, or a scan that runs twice, finds the claim.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::agent::{Assistant, Handles};
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::todos::{Todo, TodoAction};
use crate::redact::Redactor;
use crate::trigger::ci_vars::names;
use crate::trigger::event_vars::{EventRequest, Requested};

use super::handoff::Outcome;

/// A pending to-do that asks for something without a note.
#[derive(Clone, Debug)]
pub struct EventTodo {
    /// What it asks, and who asked when.
    pub request: EventRequest,
    /// The to-do, marked done once the request is dealt with.
    pub todo: u64,
}

/// The request a to-do stands for, if it is one without a note: an assignment to an issue, a
/// review request on a merge request, or a mention in a description.
pub fn from_todo(todo: &Todo, project: &ProjectRef) -> Option<EventRequest> {
    let noteable = todo.noteable()?;
    let requested = match (todo.action_name, noteable) {
        (TodoAction::Assigned, crate::gitlab::ids::Noteable::Issue(_)) => Requested::Assigned,
        (TodoAction::ReviewRequested, crate::gitlab::ids::Noteable::MergeRequest(_)) => {
            Requested::ReviewRequested
        }
        (TodoAction::Mentioned | TodoAction::DirectlyAddressed, _) if todo.note().is_none() => {
            Requested::DescriptionMention
        }
        _ => return None,
    };
    Some(EventRequest {
        project: project.clone(),
        noteable,
        requested,
        actor: todo.author.id,
        at: todo.created_at,
    })
}

/// Runs the run flow for the request in this job ([`crate::answer::in_job::run_with`]): the
/// job's own variables, with the request's `AI_EVENT*` and `AI_NOTEABLE_*` variables on top and
/// every other trigger hidden.
pub async fn in_job(
    request: &EventRequest,
    assistant: Assistant,
    handles: &Handles,
    vars: &dyn Fn(&str) -> Option<String>,
    redactor: Arc<Redactor>,
) -> Outcome {
    let mut overlay: BTreeMap<&'static str, String> = request.variables().into_iter().collect();
    overlay.insert(names::ASSISTANT, assistant.name().to_owned());
    match crate::answer::in_job::run_with(overlay, assistant, handles, vars, redactor).await {
        Ok(end) => Outcome::Ran(end),
        Err(error) => Outcome::Failed {
            error: format!("{error:#}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::{IssueIid, Noteable, ProjectId, UserId};

    fn todo(action: &str, target_type: &str, url: &str) -> Todo {
        serde_json::from_value(serde_json::json!({
            "id": 1, "project": {"id": 7, "path_with_namespace": "g/p"},
            "author": {"id": 5, "username": "dana", "name": "Dana", "state": "active"},
            "action_name": action, "target_type": target_type,
            "target": {"iid": 3}, "target_url": url, "state": "pending",
            "created_at": "2026-12-07T08:00:00.250Z"
        }))
        .unwrap()
    }

    #[test]
    fn assignments_review_requests_and_description_mentions_are_requests_and_notes_are_not() {
        let project = ProjectRef::Id(ProjectId(7));
        let url = "https://gitlab.example.com/g/p/-/issues/3";
        let assigned = from_todo(&todo("assigned", "Issue", url), &project).unwrap();
        assert_eq!(assigned.requested, Requested::Assigned);
        assert_eq!(assigned.actor, UserId(5));
        assert_eq!(assigned.noteable, Noteable::Issue(IssueIid(3)));
        let review = from_todo(&todo("review_requested", "MergeRequest", url), &project).unwrap();
        assert_eq!(review.requested, Requested::ReviewRequested);
        let described = from_todo(&todo("directly_addressed", "Issue", url), &project).unwrap();
        assert_eq!(described.requested, Requested::DescriptionMention);
        // A mention in a note is the mention path's.
        let noted = format!("{url}#note_44");
        assert!(from_todo(&todo("mentioned", "Issue", &noted), &project).is_none());
        assert!(from_todo(&todo("build_failed", "MergeRequest", url), &project).is_none());
    }
}
