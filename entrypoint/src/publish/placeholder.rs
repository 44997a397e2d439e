//! The "Claude is working on it" note, posted before anything slow so the person who asked sees
//! at once that the job picked their request up, and later replaced by the result.
//!
//! It goes where a person looks for the answer: a reply in the same thread when the mention was
//! a thread or diff-line note, otherwise a new comment on the issue or merge request. A reply
//! inherits the thread's visibility (GitLab copies the parent's `internal` flag onto replies,
//! `Notes::BuildService`); a new comment is internal when the mention was internal or the issue
//! is confidential. <https://docs.gitlab.com/api/discussions/#add-note-to-existing-issue-thread>

use serde::{Deserialize, Serialize};

use super::JobLink;
use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectRef};
use crate::gitlab::notes::{NewNote, Note};
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{NoteRole, marker};
use crate::quick_action::Inert;
use crate::trigger::{NoteKind, Trigger};

/// The placeholder note of one run: where it is, so it can be refreshed and replaced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placeholder {
    /// Whose placeholder it is.
    pub assistant: Assistant,
    /// The project of the issue or merge request.
    pub project: ProjectRef,
    /// The issue or merge request it is on.
    pub noteable: Noteable,
    /// The note to update (`PUT …/notes/:id`).
    pub note: NoteId,
    /// The thread it replied in, when it is a reply.
    pub discussion: Option<DiscussionId>,
}

/// The placeholder's text: who is working, a link to the job, and the hidden marker that keeps
/// our own note from ever being read as a request. The assistant is named by display name,
/// never `@claude`, so the note cannot summon anyone.
pub fn placeholder_body(assistant: Assistant, job: Option<&JobLink>) -> String {
    working_body(assistant, job, "")
}

/// [`placeholder_body`] with `details` (already redacted Markdown) between the headline and the
/// marker; the progress refreshes use it.
pub(crate) fn working_body(assistant: Assistant, job: Option<&JobLink>, details: &str) -> String {
    let job = job
        .map(|job| format!(" · {}", job.markdown()))
        .unwrap_or_default();
    let details = if details.trim().is_empty() {
        String::new()
    } else {
        format!("\n\n{}", details.trim_end())
    };
    format!(
        "⏳ **{}** is working on this…{job}{details}\n\n{}",
        assistant.display_name(),
        marker(assistant, NoteRole::Placeholder)
    )
}

/// Where the answer to a webhook-mode mention can be followed while it is worked on: the
/// pipeline (`CI_PIPELINE_URL`, `CI_PIPELINE_ID`) that the acknowledgement job and the answering
/// job share, whose answering job's log lists every step. The acknowledgement job links it from
/// the placeholder because the answering job's own URL does not exist yet when the placeholder
/// is posted. <https://docs.gitlab.com/ci/variables/predefined_variables/>
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipelineLink {
    /// `CI_PIPELINE_URL`.
    pub url: String,
    /// `CI_PIPELINE_ID`, shown as the link text.
    pub id: Option<u64>,
}

/// The start of a [`PipelineLink`]'s Markdown, by which a placeholder that links one is known.
const PIPELINE_LINK_TEXT: &str = "[pipeline";

impl PipelineLink {
    /// Reads `CI_PIPELINE_URL` and `CI_PIPELINE_ID`; `None` outside CI (no URL).
    pub fn from_env(vars: &dyn Env) -> Option<Self> {
        let (url, id) = super::ci_link(vars, "CI_PIPELINE_URL", "CI_PIPELINE_ID")?;
        Some(Self { url, id })
    }

    /// `[pipeline #123](url)` (or `[pipeline](url)` without an id).
    pub fn markdown(&self) -> String {
        match self.id {
            Some(id) => format!("{PIPELINE_LINK_TEXT} #{id}]({})", self.url),
            None => format!("{PIPELINE_LINK_TEXT}]({})", self.url),
        }
    }
}

/// The acknowledgement job's placeholder: [`placeholder_body`] linking the pipeline instead of
/// a job.
pub(crate) fn acknowledged_body(assistant: Assistant, pipeline: &PipelineLink) -> String {
    format!(
        "⏳ **{}** is working on this… · {}\n\n{}",
        assistant.display_name(),
        pipeline.markdown(),
        marker(assistant, NoteRole::Placeholder)
    )
}

/// Whether `body` is `assistant`'s placeholder already linking where its answer can be followed
/// (an acknowledgement job's, [`acknowledged_body`]): the answering job then leaves it as it is.
fn links_progress(body: &str, assistant: Assistant) -> bool {
    body.contains(&marker(assistant, NoteRole::Placeholder)) && body.contains(PIPELINE_LINK_TEXT)
}

/// Posts the placeholder for `assistant`, or takes over the one the relay already posted
/// (`trigger.placeholder`): that note is rewritten so it links to this job. A relay
/// placeholder that no longer exists (deleted: 404) and a thread that cannot be replied to are
/// not fatal: a new comment is posted instead.
pub async fn post_placeholder(
    gitlab: &GitLab,
    trigger: &Trigger,
    assistant: Assistant,
    job: Option<&JobLink>,
) -> Result<Placeholder, GitLabError> {
    let body = Inert::new(&placeholder_body(assistant, job));
    let project = &trigger.project;
    let noteable = trigger.noteable;
    let placeholder = |note: NoteId, discussion: Option<DiscussionId>| Placeholder {
        assistant,
        project: project.clone(),
        noteable,
        note,
        discussion,
    };

    if let Some(existing) = trigger.placeholder {
        // An acknowledgement job's placeholder links the pipeline already. Rewriting it to link
        // this job would change its text, and every edit that changes a note's text fires the
        // Comments webhook (`Notes::UpdateService#execute_note_webhook`,
        // app/services/notes/update_service.rb): in webhook mode one more pipeline per answer.
        match gitlab.note(project, noteable, existing).await {
            Ok(note) if links_progress(&note.body, assistant) => {
                return Ok(placeholder(existing, reply_thread(trigger).cloned()));
            }
            Ok(_) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => return Err(error),
        }
        match gitlab.update_note(project, noteable, existing, &body).await {
            // A relay placeholder sits where our own would; should it vanish later, the
            // result goes to the request's thread.
            Ok(note) => return Ok(placeholder(note.id, reply_thread(trigger).cloned())),
            Err(error) if error.is_not_found() => {
                tracing::warn!(note = %existing, "the relay's placeholder is gone; posting a new one");
            }
            Err(error) => return Err(error),
        }
    }
    let (note, discussion) = post_where_asked(gitlab, trigger, &body).await?;
    Ok(placeholder(note.id, discussion))
}

/// Posts `body` where the request was made: a reply in its thread when it was a thread or
/// diff-line note (falling back to a comment when the thread cannot be replied to), else a
/// comment, internal per [`must_be_internal`]. Returns the note and the thread it joined.
pub(crate) async fn post_where_asked(
    gitlab: &GitLab,
    trigger: &Trigger,
    body: &Inert,
) -> Result<(Note, Option<DiscussionId>), GitLabError> {
    let project = &trigger.project;
    let noteable = trigger.noteable;
    if let Some(discussion) = reply_thread(trigger) {
        match gitlab
            .reply_to_discussion(project, noteable, discussion, body)
            .await
        {
            Ok(note) => return Ok((note, Some(discussion.clone()))),
            Err(error) if error.is_not_found() => {
                tracing::warn!(%discussion, "the thread cannot be replied to; posting a new comment");
            }
            Err(error) => return Err(error),
        }
    }
    let note = NewNote {
        body: body.clone(),
        internal: must_be_internal(trigger),
    };
    let created = gitlab.create_note(project, noteable, &note).await?;
    Ok((created, None))
}

/// The thread to answer in: the mention's own, when it was a thread or diff-line note. A plain
/// comment also has a discussion id, but replying would turn it into a thread, which is not
/// what its author chose.
fn reply_thread(trigger: &Trigger) -> Option<&DiscussionId> {
    let note = trigger.note.as_ref()?;
    match note.kind {
        NoteKind::Comment => None,
        NoteKind::DiscussionNote | NoteKind::DiffNote { .. } => note.discussion.as_ref(),
    }
}

/// A new comment is internal when the mention was, or when the issue is confidential; pass it
/// to [`super::result::publish_result`] so a re-posted result keeps that visibility.
pub fn must_be_internal(trigger: &Trigger) -> bool {
    trigger.confidential || trigger.note.as_ref().is_some_and(|note| note.internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;
    use crate::gitlab::ids::{IssueIid, UserId};
    use crate::marker::is_marked;
    use crate::mention::find_mentions;
    use crate::trigger::{Author, Source, TriggerNote};

    pub(crate) fn trigger(kind: NoteKind, internal: bool, confidential: bool) -> Trigger {
        Trigger {
            source: Source::CiVariables,
            project: ProjectRef::Path("g/p".into()),
            noteable: Noteable::Issue(IssueIid(3)),
            note: Some(TriggerNote {
                id: NoteId(10),
                discussion: Some(
                    DiscussionId::new("6a9c1750b37d513a43987b574953fceb50b03ce7").unwrap(),
                ),
                author: Author {
                    id: UserId(5),
                    username: Some("alice".into()),
                },
                body: "@claude help".into(),
                kind,
                internal,
                system: false,
                edited: false,
            }),
            assistants: vec![Assistant::Claude],
            instruction: "help".into(),
            placeholder: None,
            confidential,
            event: None,
        }
    }

    #[test]
    fn the_body_names_the_assistant_links_the_job_and_carries_the_marker() {
        let job = JobLink {
            url: "https://gitlab.example.com/g/p/-/jobs/7".into(),
            id: Some(7),
        };
        let body = placeholder_body(Assistant::Codex, Some(&job));
        assert!(body.contains("**Codex** is working"), "{body}");
        assert!(body.contains("[job #7](https://gitlab.example.com/g/p/-/jobs/7)"));
        assert!(is_marked(&body));
        assert!(body.ends_with("<!-- gitlab-ai-assistant:codex:placeholder -->"));
        assert!(find_mentions(&body, &Handles::default()).is_empty());
        assert!(!placeholder_body(Assistant::Claude, None).contains("job"));
    }

    #[test]
    fn replies_go_into_threads_but_not_under_plain_comments() {
        assert!(reply_thread(&trigger(NoteKind::Comment, false, false)).is_none());
        assert!(reply_thread(&trigger(NoteKind::DiscussionNote, false, false)).is_some());
    }

    #[test]
    fn internal_mentions_and_confidential_issues_get_internal_notes() {
        assert!(!must_be_internal(&trigger(NoteKind::Comment, false, false)));
        assert!(must_be_internal(&trigger(NoteKind::Comment, true, false)));
        assert!(must_be_internal(&trigger(NoteKind::Comment, false, true)));
    }
}
