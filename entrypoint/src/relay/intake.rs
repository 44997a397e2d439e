//! From one webhook delivery to the mentions to answer, without any API call: which event it
//! is, whether the relay serves the project, what the note asks, and whether this process has
//! seen it already. Everything here runs inside GitLab's webhook timeout, so it must stay cheap.

use std::sync::Arc;
use std::time::Instant;

use serde::Deserialize;

use super::dedup::{Key, Seen};
use super::projects::{Project, Projects};
use super::spool::Entry;
use crate::agent::{Assistant, Handles};
use crate::gitlab::ids::ProjectRef;
use crate::trigger::Trigger;
use crate::trigger::decision::{Decision, decide};
use crate::trigger::webhook::{self, WebhookError};

/// The `X-Gitlab-Event` values of comment events: GitLab sends internal notes and notes on
/// confidential issues as their own event kind, to hooks that opted in to "Confidential comments".
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>
pub const NOTE_EVENTS: [&str; 2] = ["Note Hook", "Confidential Note Hook"];

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
    /// The parsed note.
    pub trigger: Arc<Trigger>,
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

/// Reads a delivery whose token was already verified.
pub fn intake(
    delivery: &Delivery,
    body: &str,
    handles: &Handles,
    projects: &Projects,
    seen: &Seen,
) -> Intake {
    let event = delivery.event.as_deref().unwrap_or_default();
    if !NOTE_EVENTS.contains(&event) {
        return Intake::Ignored(format!(
            "{event:?} events are not comments; enable only \"Comments\" on the webhook"
        ));
    }
    let trigger = match webhook::parse(body, handles) {
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
    let path = serde_json::from_str::<ProjectPath>(body)
        .ok()
        .and_then(|p| p.project)
        .and_then(|p| p.path_with_namespace);
    let Some(project) = projects.find(project_id, path.as_deref()) else {
        return Intake::Ignored(format!(
            "project {} is not served by this relay; add it to [[projects]] or set [defaults]",
            path.unwrap_or_else(|| project_id.to_string())
        ));
    };
    let Some(note) = trigger.note.as_ref().map(|n| n.id.0) else {
        return Intake::Malformed("the Note Hook has no note".to_owned());
    };
    let keys = |assistant: Assistant| {
        let name = assistant.name();
        let mut keys = Vec::with_capacity(3);
        if let Some(key) = &delivery.idempotency_key {
            keys.push(Key::Delivery(key.clone(), name));
        }
        if let Some(uuid) = &delivery.event_uuid {
            keys.push(Key::Event(uuid.clone(), name));
        }
        keys.push(Key::Mention(note, name));
        keys
    };
    let trigger = Arc::new(trigger);
    let mentions: Vec<Mention> = assistants
        .into_iter()
        .map(|assistant| Mention {
            trigger: Arc::clone(&trigger),
            assistant,
            project: Arc::clone(&project),
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
