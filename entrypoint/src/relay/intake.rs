//! From one webhook delivery to the mentions to answer, without any API call: which event it
//! is, whether the relay serves the project, what the note asks (or, for an Issue or Merge
//! Request Hook, whether the change can be a request at all), and whether this process has seen
//! it already. Everything here runs inside GitLab's webhook timeout, so it must stay cheap.
//!
//! An issue or merge request event is decided by the same code as in webhook mode
//! ([`crate::trigger::event`]): whether an assignment or a review request is one depends on who
//! the bot user is, which takes one `GET /user` per project. Intake uses the bot once a worker
//! has read it ([`Project::known_bot`]); before that it keeps every change that could be a
//! request (someone added as an assignee or reviewer, the trigger label added, a new
//! description that mentions an assistant) and the worker decides.

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;

use super::dedup::{Key, Seen};
use super::projects::{Project, Projects};
use super::spool::Entry;
use crate::agent::{Assistant, Handles};
use crate::gitlab::ids::{NoteId, Noteable, ProjectId, ProjectRef};
use crate::trigger::Trigger;
use crate::trigger::decision::{Decision, decide};
use crate::trigger::event::{self, HookChange, Rules, Verdict};
use crate::trigger::webhook::{self, WebhookError};

/// The `X-Gitlab-Event` values of comment events: GitLab sends internal notes and notes on
/// confidential issues as their own event kind, to hooks that opted in to "Confidential comments".
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>
pub(crate) const NOTE_EVENTS: [&str; 2] = ["Note Hook", "Confidential Note Hook"];

/// The `X-Gitlab-Event` values of issue and merge request events: an issue's events are sent as
/// `Confidential Issue Hook` while it is confidential, to hooks that opted in to "Confidential
/// issues events" (`Issues::BaseService#execute_hooks`: `issue.confidential? ?
/// :confidential_issue_hooks : :issue_hooks`); merge requests have no confidential variant.
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#work-item-events>,
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events>
pub(crate) const ISSUABLE_EVENTS: [&str; 3] = [
    "Issue Hook",
    "Confidential Issue Hook",
    "Merge Request Hook",
];

/// What decides an issue or merge request event besides the bot user.
#[derive(Clone, Debug)]
pub struct EventRules {
    /// `AI_LABEL_TRIGGER`.
    pub label: Option<String>,
    /// Who answers an assignment, a review request or the label.
    pub assistant: Assistant,
}

/// What a queued mention asks.
#[derive(Clone, Debug)]
pub enum Request {
    /// A comment, parsed and decided.
    Note(Arc<Trigger>),
    /// An issue or merge request change that may be a request: the worker decides once it
    /// knows the bot user ([`HookChange::verdict`]).
    Change(Arc<HookChange>),
}

impl Request {
    /// The project.
    pub fn project(&self) -> &ProjectRef {
        match self {
            Request::Note(trigger) => &trigger.project,
            Request::Change(change) => &change.project,
        }
    }

    /// The issue or merge request.
    pub fn noteable(&self) -> Noteable {
        match self {
            Request::Note(trigger) => trigger.noteable,
            Request::Change(change) => change.noteable,
        }
    }

    /// The note, for a comment.
    pub fn note(&self) -> Option<NoteId> {
        match self {
            Request::Note(trigger) => trigger.note.as_ref().map(|n| n.id),
            Request::Change(_) => None,
        }
    }
}

/// The headers of a delivery the relay reads, besides the token.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// `X-Gitlab-Event`.
    pub event: Option<String>,
    /// `X-Gitlab-Event-UUID`.
    pub event_uuid: Option<String>,
    /// `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// When the request arrived, for the latency figures.
    pub received: Instant,
}

/// One mention for one assistant, queued for a worker.
#[derive(Clone, Debug)]
pub struct Mention {
    /// The parsed note, or the issue or merge request change.
    pub request: Request,
    /// The assistant it asks for.
    pub assistant: Assistant,
    /// Where and how to answer.
    pub project: Arc<Project>,
    /// The event's id, for logs.
    pub event_uuid: Option<String>,
    /// When the delivery arrived.
    pub received: Instant,
    /// The in-memory duplicate keys of this mention, forgotten again if it fails.
    pub keys: Vec<Key>,
    /// The delivery's file in the spool directory, when it went to the overflow there; removed
    /// once every mention of the delivery is handled.
    pub spooled: Option<Arc<Entry>>,
}

/// What to do with a delivery.
#[derive(Debug)]
pub enum Intake {
    /// Nothing, for this reason (2xx, so GitLab keeps the hook enabled).
    Ignored(String),
    /// This process already took the same delivery, event or note.
    Duplicate,
    /// The body is not a Note Hook at all.
    Malformed(String),
    /// Answer these mentions.
    Mentions(Vec<Mention>),
}

#[derive(Deserialize)]
struct ProjectPath {
    project: Option<PathOnly>,
}

#[derive(Deserialize)]
struct PathOnly {
    path_with_namespace: Option<String>,
}

/// What a delivery is read against: the relay's handles, event rules, projects and duplicate
/// check, shared by the webhook handler and the spool's recovery.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a> {
    /// Which usernames summon which assistant.
    pub handles: &'a Handles,
    /// The label and the assistant for issue and merge request events.
    pub rules: &'a EventRules,
    /// The projects the relay serves.
    pub projects: &'a Projects,
    /// The in-memory duplicate check.
    pub seen: &'a Seen,
}

impl Reader<'_> {
    /// Reads a delivery whose token was already verified.
    pub fn intake(&self, delivery: &Delivery, body: &str) -> Intake {
        let event = delivery.event.as_deref().unwrap_or_default();
        if ISSUABLE_EVENTS.contains(&event) {
            return self.change(delivery, body);
        }
        if !NOTE_EVENTS.contains(&event) {
            return Intake::Ignored(format!(
                "{event:?} events are neither comments nor issue or merge request events; enable only \"Comments\", \"Confidential comments\", \"Issues events\", \"Confidential issues events\" and \"Merge request events\" on the webhook"
            ));
        }
        let trigger = match webhook::parse(body, self.handles) {
            Ok(trigger) => trigger,
            Err(e @ (WebhookError::UnsupportedNoteable(_) | WebhookError::NotANote(_))) => {
                return Intake::Ignored(e.to_string());
            }
            Err(e) => return Intake::Malformed(e.to_string()),
        };
        let assistants = match decide(&trigger, None, None) {
            Decision::Run { assistants } => assistants,
            Decision::Skip { message, .. } => return Intake::Ignored(message),
        };
        let ProjectRef::Id(project_id) = trigger.project else {
            return Intake::Malformed("the Note Hook names its project without an id".to_owned());
        };
        let project = match served(self.projects, project_id, body) {
            Ok(project) => project,
            Err(ignored) => return ignored,
        };
        let Some(note) = trigger.note.as_ref().map(|n| n.id.0) else {
            return Intake::Malformed("the Note Hook has no note".to_owned());
        };
        fan_out(
            delivery,
            &project,
            &Request::Note(Arc::new(trigger)),
            assistants,
            |name| Key::Mention(note, name),
            self.seen,
        )
    }

    /// An Issue Hook or Merge Request Hook: the assistants it may ask, decided as far as can be
    /// without an API call.
    fn change(&self, delivery: &Delivery, body: &str) -> Intake {
        let change = match event::parse(body) {
            Ok(Some(change)) => change,
            Ok(None) => {
                return Intake::Ignored(
                    "the body's object_kind is not an issue or merge request event".to_owned(),
                );
            }
            Err(e) => return Intake::Malformed(e.to_string()),
        };
        let ProjectRef::Id(project_id) = change.project else {
            return Intake::Malformed("the event names its project without an id".to_owned());
        };
        let project = match served(self.projects, project_id, body) {
            Ok(project) => project,
            Err(ignored) => return ignored,
        };
        let assistants = match candidates(&change, self.handles, self.rules, project.known_bot()) {
            Ok(assistants) => assistants,
            Err(reason) => return Intake::Ignored(reason),
        };
        // One request per issue or merge request and event time: the same as the claim's subject
        // ([`crate::claim::Subject::Event`]).
        let request = format!(
            "{project_id}:{}@{}",
            change.noteable.reference(),
            change.at.timestamp()
        );
        fan_out(
            delivery,
            &project,
            &Request::Change(Arc::new(change)),
            assistants,
            |name| Key::Request(request.clone(), name),
            self.seen,
        )
    }
}

/// One [`Mention`] per assistant asked, keyed by the delivery's idempotency key and event id
/// and by `own` (the note, or the issue or merge request event), less those this process has
/// seen already: [`Intake::Duplicate`] when none is left.
fn fan_out(
    delivery: &Delivery,
    project: &Arc<Project>,
    request: &Request,
    assistants: Vec<Assistant>,
    own: impl Fn(&'static str) -> Key,
    seen: &Seen,
) -> Intake {
    let keys = |assistant: Assistant| {
        let name = assistant.name();
        let mut keys = Vec::with_capacity(3);
        if let Some(key) = &delivery.idempotency_key {
            keys.push(Key::Delivery(key.clone(), name));
        }
        if let Some(uuid) = &delivery.event_uuid {
            keys.push(Key::Event(uuid.clone(), name));
        }
        keys.push(own(name));
        keys
    };
    let mentions: Vec<Mention> = assistants
        .into_iter()
        .map(|assistant| Mention {
            request: request.clone(),
            assistant,
            project: Arc::clone(project),
            event_uuid: delivery.event_uuid.clone(),
            received: delivery.received,
            keys: keys(assistant),
            spooled: None,
        })
        .filter(|mention| seen.first_time(&mention.keys))
        .collect();
    if mentions.is_empty() {
        Intake::Duplicate
    } else {
        Intake::Mentions(mentions)
    }
}

/// The project's entry, or the delivery ignored because the relay does not serve it.
fn served(projects: &Projects, id: ProjectId, body: &str) -> Result<Arc<Project>, Intake> {
    let path = serde_json::from_str::<ProjectPath>(body)
        .ok()
        .and_then(|p| p.project)
        .and_then(|p| p.path_with_namespace);
    projects.find(id, path.as_deref()).ok_or_else(|| {
        Intake::Ignored(format!(
            "project {} is not served by this relay; add it to [[projects]] or set [defaults]",
            path.unwrap_or_else(|| id.to_string())
        ))
    })
}

/// The assistants a change may ask: the description's mentions on `open`, and `rules.assistant`
/// for an assignment, a review request or the trigger label. With the bot user known, this is
/// [`HookChange::verdict`] itself (the bot's own changes are dropped here, without a call);
/// without it, every change that adds someone or the label is kept for the worker to decide.
pub fn candidates(
    change: &HookChange,
    handles: &Handles,
    rules: &EventRules,
    bot: Option<&crate::trigger::decision::BotIdentity>,
) -> Result<Vec<Assistant>, String> {
    let mut assistants = Vec::new();
    let mut last_reason = None;
    for assistant in Assistant::ALL {
        let ours = assistant == rules.assistant;
        let asked = match bot {
            Some(bot) => {
                let verdict = change.verdict(Rules {
                    assistant,
                    bot,
                    label: rules.label.as_deref(),
                    handles,
                });
                match verdict {
                    Verdict::Answer(found) => {
                        ours || found.kind == event::EventKind::DescriptionMention
                    }
                    Verdict::Ignore(reason) => {
                        last_reason = Some(reason);
                        false
                    }
                }
            }
            None => {
                let added_user = match change.noteable {
                    Noteable::Issue(_) => !change.added_assignees.is_empty(),
                    Noteable::MergeRequest(_) => !change.added_reviewers.is_empty(),
                };
                let labelled = rules
                    .label
                    .as_deref()
                    .is_some_and(|label| change.added_labels.iter().any(|l| l == label));
                let described = change.opened_description.as_deref().is_some_and(|text| {
                    crate::mention::find_mentions(text, handles)
                        .iter()
                        .any(|m| m.assistant == assistant)
                });
                (ours && (added_user || labelled)) || described
            }
        };
        if asked {
            assistants.push(assistant);
        }
    }
    if assistants.is_empty() {
        Err(last_reason.unwrap_or_else(|| {
            format!(
                "the {} neither adds an assignee or reviewer, adds the trigger label nor opens with a mention",
                change.event_name()
            )
        }))
    } else {
        Ok(assistants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::UserId;
    use crate::trigger::decision::BotIdentity;
    use serde_json::json;

    fn change(actor: (u64, &str), changes: serde_json::Value, description: &str) -> HookChange {
        let user = |(id, name): (u64, &str)| json!({"id": id, "name": name, "username": name});
        let body = json!({
            "object_kind": "issue", "user": user(actor), "project": {"id": 7},
            "object_attributes": {"iid": 3, "action": if changes.is_null() { "open" } else { "update" },
                "updated_at": "2026-12-07T08:00:00Z", "description": description},
            "changes": if changes.is_null() { json!({}) } else { changes },
        });
        event::parse(&body.to_string()).unwrap().unwrap()
    }

    #[test]
    fn intake_keeps_what_may_be_a_request_and_drops_the_bots_own_change_once_it_knows_the_bot() {
        let handles = Handles::default();
        let rules = EventRules {
            label: Some("ai".into()),
            assistant: Assistant::Claude,
        };
        let bot = BotIdentity {
            id: UserId(9),
            username: "helper-bot".into(),
        };
        let labelled = |actor| {
            change(
                actor,
                json!({"labels": {"previous": [], "current": [{"title": "ai"}]}}),
                "",
            )
        };
        // Unknown bot: any label change is kept for the worker; known: the bot's own is dropped.
        let own = labelled((9, "helper-bot"));
        assert_eq!(
            candidates(&own, &handles, &rules, None),
            Ok(vec![Assistant::Claude])
        );
        let dropped = candidates(&own, &handles, &rules, Some(&bot)).unwrap_err();
        assert!(dropped.contains("itself"), "{dropped}");
        assert_eq!(
            candidates(&labelled((3, "dana")), &handles, &rules, Some(&bot)),
            Ok(vec![Assistant::Claude])
        );
        // Someone else assigned: kept while the bot is unknown, dropped once it is.
        let assigned = change(
            (3, "dana"),
            json!({"assignees": {"previous": [], "current": [{"id": 4, "username": "erin"}]}}),
            "",
        );
        assert!(candidates(&assigned, &handles, &rules, None).is_ok());
        assert!(candidates(&assigned, &handles, &rules, Some(&bot)).is_err());
        // A new description names its own assistant; a retitle is nothing.
        let opened = change((3, "dana"), serde_json::Value::Null, "@codex please look");
        assert_eq!(
            candidates(&opened, &handles, &rules, None),
            Ok(vec![Assistant::Codex])
        );
        assert_eq!(
            candidates(&opened, &handles, &rules, Some(&bot)),
            Ok(vec![Assistant::Codex])
        );
        let retitled = change(
            (3, "dana"),
            json!({"title": {"previous": "a", "current": "b"}}),
            "",
        );
        assert!(candidates(&retitled, &handles, &rules, None).is_err());
    }
}
