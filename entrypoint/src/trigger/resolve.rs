//! Reads back the note that our `AI_*` variables name, turning a [`CiRequest`] into a
//! [`Trigger`]. The variables only point at the note; its text, author and flags always come from
//! GitLab, so a crafted variable cannot put words in anyone's mouth.

use super::ci_vars::CiRequest;
use super::{Author, NoteKind, Source, Trigger, TriggerNote};
use crate::agent::Handles;
use crate::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectRef};
use crate::gitlab::notes::{Note, NoteType};
use crate::gitlab::{GitLab, GitLabError};
use crate::mention::find_mentions;

/// The note named by the variables cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// GitLab answered 404: deleted, on another issue, or invisible to the token.
    #[error(
        "AI_NOTE_ID {note} is not a note on {noteable} of project {project}: it was deleted, or the token in GITLAB_TOKEN cannot see it"
    )]
    NoteNotFound {
        /// The note id.
        note: crate::gitlab::ids::NoteId,
        /// `#12` or `!34`.
        noteable: String,
        /// The project.
        project: crate::gitlab::ids::ProjectRef,
    },
    /// GitLab answered 404 for the project itself: a wrong `CI_PROJECT_ID`/`AI_*` project or a
    /// token that cannot see the project. Not a deleted note: the job must fail and say so.
    #[error(
        "project {project} was not found reading AI_NOTE_ID {note}: it does not exist or the token in GITLAB_TOKEN is not a member of it; check the token's project and role"
    )]
    ProjectNotFound {
        /// The note id.
        note: crate::gitlab::ids::NoteId,
        /// The project.
        project: crate::gitlab::ids::ProjectRef,
    },
    /// Any other API failure.
    #[error("reading the triggering note: {0}")]
    Api(#[from] GitLabError),
}

/// Fetches the note (and, when needed, its thread and the issue's confidentiality).
pub async fn resolve(
    request: &CiRequest,
    gitlab: &GitLab,
    handles: &Handles,
) -> Result<Trigger, ResolveError> {
    let note = match gitlab
        .note(&request.project, request.noteable, request.note)
        .await
    {
        Ok(note) => note,
        Err(e) if e.is_project_not_found() => {
            return Err(ResolveError::ProjectNotFound {
                note: request.note,
                project: request.project.clone(),
            });
        }
        Err(e) if e.is_not_found() => {
            return Err(ResolveError::NoteNotFound {
                note: request.note,
                noteable: request.noteable.reference(),
                project: request.project.clone(),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let discussion = match &request.discussion {
        Some(d) => Some(d.clone()),
        None if note.note_type.is_some() => find_discussion(gitlab, request, &note).await?,
        None => None,
    };
    let confidential = match request.noteable {
        Noteable::Issue(iid) => gitlab.issue(&request.project, iid).await?.confidential,
        Noteable::MergeRequest(_) => false,
    };
    Ok(from_note(
        Location {
            project: request.project.clone(),
            noteable: request.noteable,
            discussion,
            confidential,
            placeholder: request.placeholder,
        },
        note,
        handles,
    ))
}

/// Where a note read from GitLab sits, and what the caller knows about it besides the note.
#[derive(Clone, Debug)]
pub struct Location {
    /// The note's project.
    pub project: ProjectRef,
    /// Its issue or merge request.
    pub noteable: Noteable,
    /// Its thread, when known.
    pub discussion: Option<DiscussionId>,
    /// The issue is confidential.
    pub confidential: bool,
    /// A placeholder a relay or scan already posted for it.
    pub placeholder: Option<NoteId>,
}

/// The [`Trigger`] for a note as GitLab returns it: read back by [`resolve`], or listed by the
/// scheduled scan. The note is new (not an edit event): both read the note as it is now.
pub(crate) fn from_note(at: Location, note: Note, handles: &Handles) -> Trigger {
    let mentions = find_mentions(&note.body, handles);
    let kind = match (note.note_type, note.position) {
        (Some(NoteType::DiffNote), Some(position)) => NoteKind::DiffNote {
            position: Box::new(position),
        },
        (Some(_), _) => NoteKind::DiscussionNote,
        (None, _) => NoteKind::Comment,
    };
    Trigger {
        source: Source::CiVariables,
        project: at.project,
        noteable: at.noteable,
        assistants: mentions.iter().map(|m| m.assistant).collect(),
        instruction: mentions
            .first()
            .map(|m| m.instruction.clone())
            .unwrap_or_default(),
        note: Some(TriggerNote {
            id: note.id,
            discussion: at.discussion,
            author: Author {
                id: note.author.id,
                username: Some(note.author.username),
            },
            body: note.body,
            kind,
            internal: note.internal,
            system: note.system,
            edited: false,
        }),
        placeholder: at.placeholder,
        confidential: at.confidential,
        event: None,
    }
}

/// The Notes API does not say which thread a note is in; the Discussions API does. Only needed
/// when the relay or scan did not pass `AI_DISCUSSION_ID`.
async fn find_discussion(
    gitlab: &GitLab,
    request: &CiRequest,
    note: &Note,
) -> Result<Option<DiscussionId>, GitLabError> {
    let discussions = gitlab
        .discussions(&request.project, request.noteable)
        .await?;
    Ok(discussions
        .into_iter()
        .find(|d| d.notes.iter().any(|n| n.id == note.id))
        .map(|d| d.id))
}
