//! The normalised trigger: what started this job, whichever way it was started.
//!
//! GitLab does not start a pipeline when someone comments, so a mention reaches us by one of three
//! roads, and each road describes the same event differently:
//! 1. a Note Hook webhook body ([`webhook`]) — handed over by our relay as `AI_WEBHOOK_PAYLOAD`, or
//!    by GitLab itself as `TRIGGER_PAYLOAD` when a project webhook calls the pipeline trigger URL;
//! 2. the `AI_*` variables our relay and our scheduled scan set ([`ci_vars`]), which name the note
//!    but do not carry it, so the note is read back through the API ([`resolve`]);
//! 3. the `AI_FLOW_*` variables of a GitLab Duo external-agent flow ([`flow`]);
//! 4. the `AI_HOOK_*` variables of a Comments webhook with our custom template ([`hook_vars`]),
//!    which, like the relay's, name the note without carrying it.
//!
//! All three become one [`Trigger`], and [`decision`] says whether, and for which assistants, the
//! job acts on it. [`load`] picks the road from the environment and [`explain`] prints the result.

pub mod ci_vars;
pub mod decision;
pub mod event;
pub mod event_vars;
pub mod explain;
pub mod flow;
pub mod hook_vars;
pub mod load;
pub mod resolve;
pub mod webhook;

use serde::Serialize;

use crate::agent::Assistant;
use crate::gitlab::diff_position::DiffPosition;
use crate::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectRef, UserId};

/// How the job was started.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A Note Hook body (`AI_WEBHOOK_PAYLOAD` or GitLab's own `TRIGGER_PAYLOAD`).
    Webhook,
    /// The `AI_*` variables of our relay or scheduled scan.
    CiVariables,
    /// A GitLab Duo external-agent flow (`AI_FLOW_*`).
    DuoFlow,
}

/// One mention to answer, the same whichever entry point produced it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trigger {
    /// How the job learned of the mention.
    pub source: Source,
    /// The project the note belongs to.
    pub project: ProjectRef,
    /// The issue or merge request the note is on.
    pub noteable: Noteable,
    /// The triggering note; `None` only for Duo flow events that carry no note id.
    pub note: Option<TriggerNote>,
    /// The assistants the note asks for, in name order.
    pub assistants: Vec<Assistant>,
    /// The request with the mentions removed; may be empty (the assistant then works from context).
    pub instruction: String,
    /// A placeholder note the relay already posted, to be reused instead of posting another.
    pub placeholder: Option<NoteId>,
    /// The issue is confidential: everything we post stays on it, as internal notes.
    pub confidential: bool,
    /// A trigger without a note (the bot assigned, its review requested, the trigger label
    /// added, a description mention): who did it and when; `None` for comments and Duo flows.
    pub event: Option<event::TriggerEvent>,
}

impl Trigger {
    /// Who asked: the note's author, or the user behind an event (who assigned, labelled,
    /// requested the review); `None` for a Duo flow.
    pub fn requester(&self) -> Option<&Author> {
        self.note
            .as_ref()
            .map(|note| &note.author)
            .or(self.event.as_ref().map(|event| &event.actor))
    }
}

/// The note that carries the mention.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TriggerNote {
    /// The note's global id.
    pub id: NoteId,
    /// The thread it belongs to, so the answer can be a reply in the same thread.
    pub discussion: Option<DiscussionId>,
    /// Who wrote it; their access level decides whether we act.
    pub author: Author,
    /// The raw Markdown.
    pub body: String,
    /// Plain comment, thread note, or diff-line note.
    pub kind: NoteKind,
    /// An internal note (visible to Reporter+ only): answers must be internal too.
    pub internal: bool,
    /// A note GitLab wrote itself ("added 1 commit"); never a request.
    pub system: bool,
    /// The event is an edit of an existing note, not a new one.
    pub edited: bool,
}

/// A note's author as GitLab identifies them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Author {
    /// The user's global id.
    pub id: UserId,
    /// The username (without `@`). Unknown when a webhook reports someone else's edit of the
    /// note: the hook's `user` is then the editor, not the author.
    pub username: Option<String>,
}

/// What kind of note carried the mention. GitLab's note `type`: `null` for a plain comment,
/// `DiscussionNote` for a thread, `DiffNote` for a comment on a diff line.
/// <https://docs.gitlab.com/api/notes/>
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NoteKind {
    /// A standalone comment.
    Comment,
    /// A note in a thread (started as a thread, or a reply).
    DiscussionNote,
    /// A note on a line of a merge request diff.
    DiffNote {
        /// Where in the diff the note sits (boxed: it is several times larger than the other
        /// variants).
        position: Box<DiffPosition>,
    },
}
