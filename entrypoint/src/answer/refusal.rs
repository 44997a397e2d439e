//! Telling the author "no": the guard's refusal, posted where the request was made, or in
//! place of a placeholder a relay, scan or acknowledgement job already posted.

use anyhow::Context as _;

use crate::agent::Assistant;
use crate::gitlab::GitLab;
use crate::guard;
use crate::marker::{NoteRole, marker};
use crate::publish::placeholder::post_where_asked;
use crate::publish::result::{self, post_refusal};
use crate::quick_action::Inert;
use crate::redact::Redactor;
use crate::trigger::Trigger;

/// Posts the guard's refusal where the request was made: the role refusal as
/// [`result::Refusal`] renders it, an edited request in the guard's own words.
pub async fn refuse(
    gitlab: &GitLab,
    trigger: &Trigger,
    assistant: crate::agent::Assistant,
    refusal: &guard::Refusal,
    redactor: &Redactor,
) -> anyhow::Result<crate::gitlab::ids::NoteId> {
    let role = |username: &str, required: &crate::gitlab::members::AccessLevel| result::Refusal {
        assistant,
        author: Some(username.to_owned()),
        required_role: required.to_string(),
    };
    let note = match refusal {
        guard::Refusal::NotAMember { username, required }
        | guard::Refusal::InsufficientAccess {
            username, required, ..
        } => post_refusal(gitlab, trigger, &role(username, required), redactor).await?,
        guard::Refusal::EditedAfterTrigger { .. } | guard::Refusal::Limited { .. } => {
            let body = format!(
                "{}\n\n{}",
                redactor.redact(&refusal.message()),
                marker(assistant, NoteRole::Refusal)
            );
            post_where_asked(gitlab, trigger, &Inert::new(&body))
                .await?
                .0
        }
    };
    Ok(note.id)
}

/// Posts the refusal; when a relay or scan handed its placeholder over, the refusal replaces it
/// (the person must not be left looking at "working…"), else it goes where the request was made.
pub(crate) async fn refuse_in_place(
    gitlab: &GitLab,
    trigger: &Trigger,
    assistant: Assistant,
    refusal: &guard::Refusal,
    redactor: &Redactor,
) -> anyhow::Result<crate::gitlab::ids::NoteId> {
    if let Some(placeholder) = trigger.placeholder {
        let body = format!(
            "{}\n\n{}",
            redactor.redact(&refusal.message()),
            marker(assistant, NoteRole::Refusal)
        );
        match gitlab
            .update_note(
                &trigger.project,
                trigger.noteable,
                placeholder,
                &Inert::new(&body),
            )
            .await
        {
            Ok(note) => return Ok(note.id),
            Err(error) if error.is_not_found() => {
                tracing::warn!(note = %placeholder, "the placeholder is gone; posting the refusal as a new note");
            }
            Err(error) => return Err(error).context("replacing the placeholder with the refusal"),
        }
    }
    refuse(gitlab, trigger, assistant, refusal, redactor).await
}
