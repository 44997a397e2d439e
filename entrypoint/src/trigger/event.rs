//! Triggers that are not a comment: the bot user assigned to an issue, its review requested on
//! a merge request, the trigger label (`AI_LABEL_TRIGGER`) added, or a mention in a new issue's
//! or merge request's description.
//!
//! GitLab reports each of these as an Issue Hook or a Merge Request Hook
//! (<https://docs.gitlab.com/user/project/integrations/webhook_events/#work-item-events>,
//! <https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events>):
//! `user` is who acted, `object_attributes.action` is `open`, `update`, `close`, `reopen` (and,
//! for merge requests, `approved`, `merge`, …), and on an update `changes` holds the
//! associations that changed as `{"previous": [...], "current": [...]}` (`assignees`,
//! `reviewers`, `labels`; `Issuable#hook_association_changes` in `app/models/concerns/issuable.rb`).
//! On `open` there is no `changes` entry for them (the hook is built with no old associations),
//! so everything the new issue or merge request already carries counts as added.
//!
//! Only a change *to* the bot counts ("added, not merely present"): an issue that was assigned
//! to the bot long ago and is now retitled is no new request. The actor's permission is checked
//! like a comment author's ([`crate::guard`]), and a change the bot made itself is never one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Author;
use super::decision::BotIdentity;
use crate::agent::{Assistant, Handles};
use crate::env::Env;
use crate::gitlab::ids::{IssueIid, MergeRequestIid, Noteable, ProjectId, ProjectRef, UserId};
use crate::mention::find_mentions;

/// The variable naming the trigger label.
pub(crate) const LABEL_VAR: &str = crate::env::AI_LABEL_TRIGGER.name();

/// What happened to the issue or merge request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// The bot user became an assignee.
    Assigned,
    /// The bot user's review was requested.
    ReviewRequested,
    /// The trigger label was added.
    Labelled {
        /// The label's title.
        label: String,
    },
    /// A new issue's or merge request's description mentions the assistant.
    DescriptionMention,
}

impl EventKind {
    /// The request the event stands for, as if the actor had written it in a comment
    /// ("@bot please handle this issue"); a description mention carries its own.
    pub fn instruction(&self, noteable: Noteable) -> String {
        let what = match noteable {
            Noteable::Issue(_) => "issue",
            Noteable::MergeRequest(_) => "merge request",
        };
        match self {
            EventKind::ReviewRequested => "please review this merge request".to_owned(),
            _ => format!("please handle this {what}"),
        }
    }

    /// A few words for logs and notes.
    pub fn describe(&self) -> String {
        match self {
            EventKind::Assigned => "assigned the bot".to_owned(),
            EventKind::ReviewRequested => "requested the bot's review".to_owned(),
            EventKind::Labelled { label } => format!("added the label ~{label:?}"),
            EventKind::DescriptionMention => {
                "mentioned the assistant in the description".to_owned()
            }
        }
    }
}

/// One event that asks the assistant for something, with who did it and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TriggerEvent {
    /// What happened.
    pub kind: EventKind,
    /// The user who assigned, requested, labelled or wrote the description: the one whose
    /// access level decides, like a comment's author.
    pub actor: Author,
    /// When it happened (the issue's or merge request's `updated_at` in the hook). A claim on
    /// the issue or merge request made before this time belongs to an earlier event
    /// ([`crate::claim`]), so a later, new assignment is answered again.
    pub at: DateTime<Utc>,
}

/// A user as a hook's association lists show them.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct HookUser {
    /// Present in `changes.assignees`/`reviewers` (`User#hook_attrs`).
    #[serde(default)]
    pub id: Option<u64>,
    /// Always present.
    pub username: String,
}

/// The part of an Issue Hook or Merge Request Hook that says what changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookChange {
    /// The event's project.
    pub project: ProjectRef,
    /// The issue or merge request.
    pub noteable: Noteable,
    /// A confidential issue: answers stay internal.
    pub confidential: bool,
    /// Who acted (`user`).
    pub actor: Author,
    /// `object_attributes.action`.
    pub action: String,
    /// `object_attributes.updated_at`.
    pub at: DateTime<Utc>,
    /// Users who became assignees.
    pub added_assignees: Vec<HookUser>,
    /// Users whose review was requested.
    pub added_reviewers: Vec<HookUser>,
    /// Labels added, by title.
    pub added_labels: Vec<String>,
    /// The description of a newly opened issue or merge request.
    pub opened_description: Option<String>,
}

/// The body is not an Issue Hook or Merge Request Hook we can read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    /// Not JSON, or a field has the wrong shape.
    #[error(
        "the webhook body is not an issue or merge request event GitLab sends ({0}); point an Issues or Merge request events webhook at this job"
    )]
    Json(#[from] serde_json::Error),
    /// A timestamp GitLab writes in its hook format could not be read.
    #[error("the webhook body's `object_attributes.updated_at` {0:?} is not a time")]
    Time(String),
}

#[derive(Deserialize)]
struct Hook {
    object_kind: String,
    user: HookActor,
    project: HookProject,
    object_attributes: Attributes,
    #[serde(default)]
    labels: Vec<HookLabel>,
    #[serde(default)]
    changes: Changes,
    /// Issue hooks list the assignees at the top level (`IssuableBuilder`); merge request hooks
    /// carry `assignee_ids` in `object_attributes` instead.
    #[serde(default)]
    assignees: Vec<HookUser>,
    #[serde(default)]
    reviewers: Vec<HookUser>,
}

#[derive(Deserialize)]
struct HookActor {
    id: u64,
    username: String,
}

#[derive(Deserialize)]
struct HookProject {
    id: u64,
}

#[derive(Deserialize)]
struct Attributes {
    iid: u64,
    #[serde(default)]
    action: Option<String>,
    updated_at: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    confidential: bool,
}

#[derive(Clone, Deserialize)]
struct HookLabel {
    title: String,
}

#[derive(Default, Deserialize)]
struct Changes {
    #[serde(default)]
    assignees: Option<Change<HookUser>>,
    #[serde(default)]
    reviewers: Option<Change<HookUser>>,
    #[serde(default)]
    labels: Option<Change<HookLabel>>,
}

#[derive(Deserialize)]
struct Change<T> {
    #[serde(default = "Vec::new")]
    previous: Vec<T>,
    #[serde(default = "Vec::new")]
    current: Vec<T>,
}

/// The `object_kind` of an Issue Hook or a Merge Request Hook.
pub(crate) fn is_issuable_event(object_kind: &str) -> bool {
    matches!(object_kind, "issue" | "merge_request")
}

/// Hook timestamps: ISO 8601 in `object_attributes` of newer GitLab (`2013-12-03T17:15:43Z`),
/// `2017-09-15 16:52:00 UTC` in older ones and in `changes`.
fn hook_time(text: &str) -> Result<DateTime<Utc>, EventError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S UTC")
        .map(|at| at.and_utc())
        .map_err(|_| EventError::Time(text.to_owned()))
}

fn added<T: Clone>(change: Change<T>, same: impl Fn(&T, &T) -> bool) -> Vec<T> {
    change
        .current
        .iter()
        .filter(|now| !change.previous.iter().any(|before| same(before, now)))
        .cloned()
        .collect()
}

/// Reads an Issue Hook or Merge Request Hook body. `Ok(None)` for any other event kind.
pub fn parse(body: &str) -> Result<Option<HookChange>, EventError> {
    #[derive(Deserialize)]
    struct Kind {
        object_kind: String,
    }
    let kind: Kind = serde_json::from_str(body)?;
    if !is_issuable_event(&kind.object_kind) {
        return Ok(None);
    }
    let hook: Hook = serde_json::from_str(body)?;
    let attrs = hook.object_attributes;
    let noteable = if hook.object_kind == "issue" {
        Noteable::Issue(IssueIid(attrs.iid))
    } else {
        Noteable::MergeRequest(MergeRequestIid(attrs.iid))
    };
    let action = attrs.action.unwrap_or_default();
    let opened = action == "open";
    let same_user = |a: &HookUser, b: &HookUser| a.username.eq_ignore_ascii_case(&b.username);
    let (added_assignees, added_reviewers, added_labels) = if opened {
        (
            hook.assignees,
            hook.reviewers,
            hook.labels.into_iter().map(|l| l.title).collect(),
        )
    } else {
        let changes = hook.changes;
        (
            changes
                .assignees
                .map(|c| added(c, same_user))
                .unwrap_or_default(),
            changes
                .reviewers
                .map(|c| added(c, same_user))
                .unwrap_or_default(),
            changes
                .labels
                .map(|c| added(c, |a: &HookLabel, b: &HookLabel| a.title == b.title))
                .unwrap_or_default()
                .into_iter()
                .map(|l| l.title)
                .collect(),
        )
    };
    Ok(Some(HookChange {
        project: ProjectRef::Id(ProjectId(hook.project.id)),
        noteable,
        confidential: attrs.confidential,
        actor: Author {
            id: UserId(hook.user.id),
            username: Some(hook.user.username),
        },
        at: hook_time(&attrs.updated_at)?,
        added_assignees,
        added_reviewers,
        added_labels,
        opened_description: if opened { attrs.description } else { None },
        action,
    }))
}

/// What the event means for one assistant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Answer it.
    Answer(TriggerEvent),
    /// Nothing to do, in one sentence for the job log.
    Ignore(String),
}

/// What decides whether a change asks `assistant` for something.
#[derive(Clone, Copy, Debug)]
pub struct Rules<'a> {
    /// The assistant of the job or relay deciding.
    pub assistant: Assistant,
    /// The user behind the token: assignments and review requests count only for them.
    pub bot: &'a BotIdentity,
    /// `AI_LABEL_TRIGGER`, when set: the exact label title that starts a run.
    pub label: Option<&'a str>,
    /// The handles, for description mentions.
    pub handles: &'a Handles,
}

impl HookChange {
    /// "issue event (open)": which event this is, for the messages that say why it asks for
    /// nothing.
    pub(crate) fn event_name(&self) -> String {
        let kind = match self.noteable {
            Noteable::Issue(_) => "issue",
            Noteable::MergeRequest(_) => "merge request",
        };
        let action = if self.action.is_empty() {
            "no action"
        } else {
            &self.action
        };
        format!("{kind} event ({action})")
    }

    /// The one event this change stands for, if any. Several at once (a new issue assigned to
    /// the bot with the trigger label) are one request: the first of assignment, review
    /// request, label, description mention. The bot's own changes are never a request (loop
    /// guard: the bot assigning itself or labelling what it works on).
    pub fn verdict(&self, rules: Rules<'_>) -> Verdict {
        let bot = rules.bot;
        if self.actor.id == bot.id
            || self
                .actor
                .username
                .as_deref()
                .is_some_and(|u| u.eq_ignore_ascii_case(&bot.username))
        {
            return Verdict::Ignore(format!(
                "the bot user @{} made this change itself",
                bot.username
            ));
        }
        let is_bot = |u: &HookUser| {
            u.id.is_some_and(|id| UserId(id) == bot.id)
                || u.username.eq_ignore_ascii_case(&bot.username)
        };
        let kind = if matches!(self.noteable, Noteable::Issue(_))
            && self.added_assignees.iter().any(is_bot)
        {
            Some(EventKind::Assigned)
        } else if matches!(self.noteable, Noteable::MergeRequest(_))
            && self.added_reviewers.iter().any(is_bot)
        {
            Some(EventKind::ReviewRequested)
        } else if let Some(label) = rules
            .label
            .filter(|label| self.added_labels.iter().any(|l| l == label))
        {
            Some(EventKind::Labelled {
                label: label.to_owned(),
            })
        } else if self.opened_description.as_deref().is_some_and(|text| {
            find_mentions(text, rules.handles)
                .iter()
                .any(|m| m.assistant == rules.assistant)
        }) {
            Some(EventKind::DescriptionMention)
        } else {
            None
        };
        match kind {
            Some(kind) => Verdict::Answer(TriggerEvent {
                kind,
                actor: self.actor.clone(),
                at: self.at,
            }),
            None => Verdict::Ignore(format!(
                "the {} neither assigns the bot, requests its review, adds the trigger label nor opens with a mention of {}",
                self.event_name(),
                rules.assistant
            )),
        }
    }

    /// The project as a reference for API calls.
    pub fn project_ref(&self) -> ProjectRef {
        self.project.clone()
    }
}

/// The trigger the run flow answers for an event: no note, the event's request as the
/// instruction (a description mention's own words when it has some), and one assistant.
pub(crate) fn into_trigger(
    change: &HookChange,
    event: TriggerEvent,
    assistant: Assistant,
    handles: &Handles,
) -> super::Trigger {
    let own_words = match (&event.kind, &change.opened_description) {
        (EventKind::DescriptionMention, Some(text)) => find_mentions(text, handles)
            .into_iter()
            .find(|m| m.assistant == assistant)
            .map(|m| m.instruction)
            .filter(|i| !i.trim().is_empty()),
        _ => None,
    };
    super::Trigger {
        source: super::Source::Webhook,
        project: change.project_ref(),
        noteable: change.noteable,
        note: None,
        assistants: vec![assistant],
        instruction: own_words.unwrap_or_else(|| event.kind.instruction(change.noteable)),
        placeholder: None,
        confidential: change.confidential,
        event: Some(event),
    }
}

/// `AI_LABEL_TRIGGER`: the label title, or `None` when unset or empty (no label trigger).
pub(crate) fn label_from_env(vars: &dyn Env) -> Option<String> {
    vars.var(LABEL_VAR)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bot() -> BotIdentity {
        BotIdentity {
            id: UserId(9),
            username: "claude".into(),
        }
    }

    fn rules<'a>(bot: &'a BotIdentity, handles: &'a Handles) -> Rules<'a> {
        Rules {
            assistant: Assistant::Claude,
            bot,
            label: Some("claude"),
            handles,
        }
    }

    fn label(title: &str) -> serde_json::Value {
        json!({"id": 1, "title": title, "color": "#fff", "type": "ProjectLabel"})
    }

    fn user(id: u64, username: &str) -> serde_json::Value {
        json!({"id": id, "name": username, "username": username, "avatar_url": null})
    }

    fn issue_update(actor: (u64, &str), changes: serde_json::Value) -> String {
        json!({
            "object_kind": "issue", "event_type": "issue",
            "user": user(actor.0, actor.1),
            "project": {"id": 7},
            "object_attributes": {"id": 301, "iid": 23, "action": "update",
                "updated_at": "2026-12-07T08:00:00Z", "description": "@claude hi",
                "confidential": false},
            "labels": [label("claude")],
            "assignees": [user(9, "claude")],
            "changes": changes,
        })
        .to_string()
    }

    fn verdict(body: &str) -> Verdict {
        let (bot, handles) = (bot(), Handles::default());
        parse(body).unwrap().unwrap().verdict(rules(&bot, &handles))
    }

    #[test]
    fn the_bot_newly_assigned_is_an_assignment_by_the_hooks_user() {
        let body = issue_update(
            (3, "dana"),
            json!({"assignees": {"previous": [user(4, "erin")], "current": [user(4, "erin"), user(9, "claude")]}}),
        );
        let Verdict::Answer(event) = verdict(&body) else {
            panic!("{:?}", verdict(&body))
        };
        assert_eq!(event.kind, EventKind::Assigned);
        assert_eq!(event.actor.id, UserId(3));
        assert_eq!(event.at.to_rfc3339(), "2026-12-07T08:00:00+00:00");
    }

    #[test]
    fn presence_is_not_a_change_and_the_bots_own_change_is_ignored() {
        // Still assigned and still labelled, but only the title changed.
        let retitled = issue_update(
            (3, "dana"),
            json!({"title": {"previous": "a", "current": "b"}}),
        );
        assert!(matches!(verdict(&retitled), Verdict::Ignore(_)));
        let own = issue_update(
            (9, "claude"),
            json!({"labels": {"previous": [], "current": [label("claude")]}}),
        );
        assert!(matches!(verdict(&own), Verdict::Ignore(m) if m.contains("itself")));
        let removed = issue_update(
            (3, "dana"),
            json!({"labels": {"previous": [label("claude")], "current": []}}),
        );
        assert!(matches!(verdict(&removed), Verdict::Ignore(_)));
    }

    #[test]
    fn only_the_exact_trigger_label_counts() {
        let added = |title: &str| {
            issue_update(
                (3, "dana"),
                json!({"labels": {"previous": [label("bug")], "current": [label("bug"), label(title)]}}),
            )
        };
        assert!(matches!(
            verdict(&added("claude")),
            Verdict::Answer(TriggerEvent {
                kind: EventKind::Labelled { .. },
                ..
            })
        ));
        for other in ["Claude", "claude-later", "bug::claude"] {
            assert!(
                matches!(verdict(&added(other)), Verdict::Ignore(_)),
                "{other}"
            );
        }
        let (bot, handles) = (bot(), Handles::default());
        let no_label = Rules {
            label: None,
            ..rules(&bot, &handles)
        };
        let change = parse(&added("claude")).unwrap().unwrap();
        assert!(matches!(change.verdict(no_label), Verdict::Ignore(_)));
    }

    #[test]
    fn a_new_merge_request_counts_its_reviewers_and_description_and_an_edit_does_not() {
        let open = |action: &str, reviewers: serde_json::Value, description: &str| {
            json!({
                "object_kind": "merge_request", "event_type": "merge_request",
                "user": user(3, "dana"), "project": {"id": 7},
                "object_attributes": {"id": 99, "iid": 4, "action": action,
                    "updated_at": "2017-09-15 16:52:00 UTC", "description": description},
                "labels": [], "changes": {}, "reviewers": reviewers,
            })
            .to_string()
        };
        assert!(matches!(
            verdict(&open("open", json!([user(9, "claude")]), "")),
            Verdict::Answer(TriggerEvent {
                kind: EventKind::ReviewRequested,
                ..
            })
        ));
        assert!(matches!(
            verdict(&open(
                "open",
                json!([]),
                "@claude please look at the migration"
            )),
            Verdict::Answer(TriggerEvent {
                kind: EventKind::DescriptionMention,
                ..
            })
        ));
        // An edited description is not a new request (a comment edit is not either).
        assert!(matches!(
            verdict(&open("update", json!([user(9, "claude")]), "@claude again")),
            Verdict::Ignore(_)
        ));
        assert!(matches!(
            verdict(&open("open", json!([]), "@codex please")),
            Verdict::Ignore(_)
        ));
    }

    #[test]
    fn other_events_are_not_ours_and_a_broken_body_says_so() {
        assert_eq!(parse(r#"{"object_kind":"note"}"#).unwrap(), None);
        let error = parse(r#"{"object_kind":"issue","user":{}}"#).unwrap_err();
        assert!(error.to_string().contains("Issues or Merge request events"));
        let label = |v: Option<&str>| {
            let v = v.map(str::to_owned);
            label_from_env(&move |n: &str| (n == LABEL_VAR).then(|| v.clone()).flatten())
        };
        assert_eq!(label(Some(" claude ")), Some("claude".into()));
        assert_eq!(label(Some("")), None);
        assert_eq!(label(None), None);
    }
}
