//! Note Hook payloads: the body GitLab POSTs for "Comments" events.
//!
//! Only the fields we use are read and unknown fields are ignored, so the extra keys GitLab adds
//! when it passes a webhook body to a pipeline as `TRIGGER_PAYLOAD` (`id`, `ref`, `variables`) and
//! fields added by future GitLab versions do no harm.
//! <https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>

use serde::Deserialize;

use super::{Author, NoteKind, Source, Trigger, TriggerNote};
use crate::agent::Handles;
use crate::gitlab::diff_position::DiffPosition;
use crate::gitlab::ids::{
    DiscussionId, IssueIid, MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId,
};
use crate::mention::find_mentions;

/// Why a webhook body cannot become a trigger.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// Not JSON, or JSON without the fields every Note Hook has.
    #[error("the webhook payload is not a GitLab Note Hook: {0}")]
    Malformed(#[from] serde_json::Error),
    /// Another event kind (push, merge request, pipeline …).
    #[error(
        "the webhook payload is a {0:?} event, not a comment: enable only \"Comments\" events on the webhook"
    )]
    NotANote(String),
    /// A comment on something we do not answer on.
    #[error(
        "comments on {0} are not supported: mention the assistant in an issue or a merge request"
    )]
    UnsupportedNoteable(String),
    /// `noteable_type` says issue or merge request but the matching object is missing.
    #[error("the Note Hook says the comment is on {0} but has no `{1}` object")]
    MissingNoteable(&'static str, &'static str),
    /// A field has a value GitLab never sends.
    #[error("the Note Hook has an invalid {0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
struct ObjectKind {
    object_kind: String,
}

#[derive(Debug, Deserialize)]
struct NoteHook {
    #[serde(default)]
    event_type: Option<String>,
    user: HookUser,
    project: HookProject,
    object_attributes: NoteAttributes,
    #[serde(default)]
    issue: Option<HookIssue>,
    #[serde(default)]
    merge_request: Option<HookMergeRequest>,
}

#[derive(Debug, Deserialize)]
struct HookUser {
    id: u64,
    username: String,
}

#[derive(Debug, Deserialize)]
struct HookProject {
    id: u64,
}

#[derive(Debug, Deserialize)]
struct NoteAttributes {
    id: u64,
    note: String,
    noteable_type: String,
    #[serde(default)]
    system: bool,
    #[serde(default)]
    discussion_id: Option<String>,
    #[serde(default, rename = "type")]
    note_type: Option<String>,
    #[serde(default)]
    internal: Option<bool>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    author_id: Option<u64>,
    /// Lenient: an odd position must not make the whole Note Hook "malformed".
    #[serde(default, deserialize_with = "crate::gitlab::lenient::optional")]
    position: Option<DiffPosition>,
}

#[derive(Debug, Deserialize)]
struct HookIssue {
    iid: u64,
    #[serde(default)]
    confidential: bool,
}

#[derive(Debug, Deserialize)]
struct HookMergeRequest {
    iid: u64,
}

/// Turns a Note Hook body into a [`Trigger`].
///
/// Commit and snippet comments are recognised and refused with
/// [`WebhookError::UnsupportedNoteable`]; whether the trigger should be acted on (system note,
/// edit, no mention…) is [`super::decision`]'s job, not this parser's.
pub fn parse(body: &str, handles: &Handles) -> Result<Trigger, WebhookError> {
    // The kind first, so a push or pipeline event is named as such rather than reported as a
    // note with missing fields.
    let kind: ObjectKind = serde_json::from_str(body)?;
    if kind.object_kind != "note" {
        return Err(WebhookError::NotANote(kind.object_kind));
    }
    let hook: NoteHook = serde_json::from_str(body)?;
    let attrs = hook.object_attributes;
    let (noteable, confidential) = match attrs.noteable_type.as_str() {
        "Issue" => {
            let issue = hook
                .issue
                .ok_or(WebhookError::MissingNoteable("an issue", "issue"))?;
            (Noteable::Issue(IssueIid(issue.iid)), issue.confidential)
        }
        "MergeRequest" => {
            let mr = hook.merge_request.ok_or(WebhookError::MissingNoteable(
                "a merge request",
                "merge_request",
            ))?;
            (Noteable::MergeRequest(MergeRequestIid(mr.iid)), false)
        }
        "Commit" => return Err(WebhookError::UnsupportedNoteable("commits".into())),
        "Snippet" => return Err(WebhookError::UnsupportedNoteable("snippets".into())),
        other => {
            return Err(WebhookError::UnsupportedNoteable(format!(
                "{other:?} objects"
            )));
        }
    };
    let discussion = attrs
        .discussion_id
        .as_deref()
        .filter(|d| !d.is_empty())
        .map(DiscussionId::new)
        .transpose()
        .map_err(|e| WebhookError::Invalid(e.to_string()))?;
    let kind = match (attrs.note_type.as_deref(), attrs.position) {
        (Some("DiffNote"), Some(position)) => NoteKind::DiffNote {
            position: Box::new(position),
        },
        (Some("DiffNote"), None) => {
            return Err(WebhookError::Invalid(
                "DiffNote without a `position`".to_owned(),
            ));
        }
        (Some("DiscussionNote"), _) => NoteKind::DiscussionNote,
        _ => NoteKind::Comment,
    };
    // GitLab sets `event_type: confidential_note` for internal notes and for any note on a
    // confidential issue; `internal` (15.0+) tells the two apart when present.
    let internal = attrs
        .internal
        .unwrap_or(hook.event_type.as_deref() == Some("confidential_note") && !confidential);
    let mentions = find_mentions(&attrs.note, handles);
    let instruction = mentions
        .first()
        .map(|m| m.instruction.clone())
        .unwrap_or_default();
    Ok(Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(hook.project.id)),
        noteable,
        note: Some(TriggerNote {
            id: NoteId(attrs.id),
            discussion,
            author: match attrs.author_id {
                Some(author) if author != hook.user.id => Author {
                    id: UserId(author),
                    username: None,
                },
                _ => Author {
                    id: UserId(hook.user.id),
                    username: Some(hook.user.username),
                },
            },
            body: attrs.note,
            kind,
            internal,
            system: attrs.system,
            edited: attrs.action.as_deref() == Some("update"),
        }),
        assistants: mentions.iter().map(|m| m.assistant).collect(),
        instruction,
        placeholder: None,
        confidential,
        event: None,
    })
}
