//! The trigger `entrypoint run` makes of a Note Hook, for the stories that gather a
//! context from the double with the product's library (`ci_context`, `run_context`).

use entrypoint::agent::Assistant;
use entrypoint::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

/// Note `note` of `author` ("alice") saying `body` on `noteable` of `project`, a `kind` note in
/// `discussion`, asking Claude.
pub fn note_trigger(
    project: u64,
    noteable: Noteable,
    note: u64,
    author: u64,
    body: &str,
    kind: NoteKind,
    discussion: Option<DiscussionId>,
) -> Trigger {
    Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(project)),
        noteable,
        note: Some(TriggerNote {
            id: NoteId(note),
            discussion,
            author: Author {
                id: UserId(author),
                username: Some("alice".to_owned()),
            },
            body: body.to_owned(),
            kind,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![Assistant::Claude],
        instruction: String::new(),
        placeholder: None,
        confidential: false,
        event: None,
    }
}
