//! Requests without a note in the scan: the bot's `assigned` and `review_requested` to-dos,
//! `mentioned`/`directly_addressed` to-dos whose target has no `#note_` fragment (a mention in
//! an issue's or merge request's description), and the trigger label's additions ([`labelled`],
//! read from the resource label events: a label files no to-do). GitLab files them for the bot user like mention
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

use chrono::{DateTime, Utc};

use crate::agent::{Assistant, Handles};
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::resource_label_events::{LabelAction, ResourceLabelEvent};
use crate::gitlab::todos::{Todo, TodoAction};
use crate::redact::Redactor;
use crate::trigger::ci_vars::names;
use crate::trigger::decision::BotIdentity;
use crate::trigger::event_vars::{EventRequest, Requested};

use super::handoff::Outcome;
use crate::env::Env;
use crate::recent::Updated;

/// A pending to-do that asks for something without a note.
#[derive(Clone, Debug)]
pub(crate) struct EventTodo {
    /// What it asks, and who asked when.
    pub request: EventRequest,
    /// The to-do, marked done once the request is dealt with.
    pub todo: u64,
}

/// The request a to-do stands for, if it is one without a note: an assignment to an issue, a
/// review request on a merge request, or a mention in a description.
pub(crate) fn from_todo(todo: &Todo, project: &ProjectRef) -> Option<EventRequest> {
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
        placeholder: None,
    })
}

/// The trigger label's requests among the issues and merge requests `updated` since `since`
/// (less [`crate::quota::retry::TOUCH_LAG`]):
/// per item one read of its resource label events (GitLab files no to-do for a label), and of
/// those the latest addition of `label` since `since` by a user who is not the bot, if the
/// label is still on after it. An earlier addition in the same window was superseded by the
/// later one (one request per item and label; the claim is for the latest time). A label
/// removed and added again is a new event with a new time, so a new request
/// ([`crate::claim::Subject::Event`]). The bot's own label changes never count (loop guard),
/// nor events of a deleted user (`user` is `null`: nobody to check the access of).
/// <https://docs.gitlab.com/api/resource_label_events/>
pub async fn labelled(
    gitlab: &crate::gitlab::GitLab,
    project: &ProjectRef,
    updated: &[Updated],
    label: &str,
    bot: &BotIdentity,
    since: DateTime<Utc>,
) -> Result<Vec<EventRequest>, crate::gitlab::GitLabError> {
    // A label change saves its issue or merge request, but allow for GitLab's throttled touch
    // as the queued-note search does: an item touched a little before the window may carry an
    // event inside it.
    let edge = since
        .checked_sub_signed(crate::quota::retry::TOUCH_LAG)
        .unwrap_or(since);
    let mut found = Vec::new();
    for item in updated.iter().filter(|u| u.updated_at >= edge) {
        let events = gitlab.resource_label_events(project, item.noteable).await?;
        if let Some(request) = latest_addition(&events, item.noteable, project, label, bot, since) {
            found.push(request);
        }
    }
    found.sort_by_key(|r| r.at);
    Ok(found)
}

/// The request the events of one item hold for `label`: its latest change, when that is an
/// addition since `since` by someone other than the bot.
fn latest_addition(
    events: &[ResourceLabelEvent],
    noteable: crate::gitlab::ids::Noteable,
    project: &ProjectRef,
    label: &str,
    bot: &BotIdentity,
    since: DateTime<Utc>,
) -> Option<EventRequest> {
    // GitLab's order is the database's: sort by time, then id.
    let latest = events
        .iter()
        .filter(|e| e.label.as_ref().is_some_and(|l| l.name == label))
        .max_by_key(|e| (e.created_at, e.id))?;
    let user = latest.user.as_ref()?;
    let by_bot = user.id == bot.id || user.username.eq_ignore_ascii_case(&bot.username);
    (latest.action == LabelAction::Add && latest.created_at >= since && !by_bot).then(|| {
        EventRequest {
            project: project.clone(),
            noteable,
            requested: Requested::Labelled {
                label: label.to_owned(),
            },
            actor: user.id,
            at: latest.created_at,
            placeholder: None,
        }
    })
}

/// Runs the run flow for the request in this job ([`crate::in_job::run_with`]): the
/// job's own variables, with the request's `AI_EVENT*` and `AI_NOTEABLE_*` variables on top and
/// every other trigger hidden.
pub async fn in_job(
    request: &EventRequest,
    assistant: Assistant,
    handles: &Handles,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> Outcome {
    let mut overlay: BTreeMap<&'static str, String> = request.variables().into_iter().collect();
    overlay.insert(names::ASSISTANT, assistant.name().to_owned());
    Outcome::of_run(crate::in_job::run_with(overlay, assistant, handles, vars, redactor).await)
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

    fn label_event(
        id: u64,
        user: (u64, &str),
        label: &str,
        action: &str,
        at: &str,
    ) -> ResourceLabelEvent {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "user": {"id": user.0, "username": user.1, "name": user.1, "state": "active"},
            "created_at": at, "resource_type": "Issue", "resource_id": 5001,
            "label": {"id": 3, "name": label}, "action": action
        }))
        .unwrap()
    }

    #[test]
    fn the_latest_addition_of_the_trigger_label_by_a_person_in_the_window_is_the_request() {
        let project = ProjectRef::Id(ProjectId(7));
        let issue = Noteable::Issue(IssueIid(3));
        let bot = BotIdentity {
            id: UserId(9),
            username: "claude".into(),
        };
        let since = DateTime::parse_from_rfc3339("2026-12-07T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let find = |events: &[ResourceLabelEvent]| {
            latest_addition(events, issue, &project, "claude", &bot, since)
        };
        let dana = (5, "dana");
        // Listed out of order (GitLab sets no order): added, removed, added again later.
        let events = [
            label_event(3, dana, "claude", "add", "2026-12-07T08:05:00Z"),
            label_event(1, dana, "claude", "add", "2026-12-07T08:01:00Z"),
            label_event(2, dana, "claude", "remove", "2026-12-07T08:02:00Z"),
            label_event(4, dana, "bug", "add", "2026-12-07T08:06:00Z"),
        ];
        let request = find(&events).unwrap();
        assert_eq!(
            request.requested,
            Requested::Labelled {
                label: "claude".into()
            }
        );
        assert_eq!(request.actor, UserId(5));
        assert_eq!(request.at.to_rfc3339(), "2026-12-07T08:05:00+00:00");
        // Removed last: nothing to answer.
        assert!(find(&events[1..3]).is_none());
        for (why, user, label, at) in [
            (
                "the bot's own change, by id",
                (9, "x"),
                "claude",
                "2026-12-07T08:01:00Z",
            ),
            (
                "the bot's own change, by name",
                (8, "Claude"),
                "claude",
                "2026-12-07T08:01:00Z",
            ),
            (
                "before the window: an earlier scan's business",
                dana,
                "claude",
                "2026-12-07T07:59:59Z",
            ),
            (
                "a label of the same name in other case: not ours",
                dana,
                "Claude",
                "2026-12-07T08:01:00Z",
            ),
        ] {
            let events = [label_event(1, user, label, "add", at)];
            assert!(find(&events).is_none(), "{why} never counts");
        }
        // A deleted user (`user: null`): nobody whose access can be checked.
        let mut orphan = label_event(1, dana, "claude", "add", "2026-12-07T08:01:00Z");
        orphan.user = None;
        assert!(find(&[orphan]).is_none());
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
