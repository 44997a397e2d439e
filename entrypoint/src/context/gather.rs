//! Reading what a request needs from GitLab, in as few calls as the lists allow: the issue or
//! merge request (one call), its discussions (every note with its thread, 100 per page), and
//! for a merge request its diffs (100 files per page). Nothing is fetched per note or per file.

use chrono::{DateTime, Utc};

use super::ci::CiContext;
use super::sanitize::sanitize;
use crate::agent::Assistant;
use crate::gitlab::diff_position::DiffPosition;
use crate::gitlab::discussions::Discussion;
use crate::gitlab::ids::{NoteId, Noteable};
use crate::gitlab::merge_request_diffs::FileDiff;
use crate::gitlab::merge_requests::MergeRequest;
use crate::gitlab::notes::Note;
use crate::gitlab::{GitLab, GitLabError};
use crate::marker::{self, NoteRole};
use crate::trigger::{NoteKind, Trigger};

/// One note as the prompt shows it, its body already sanitised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextNote {
    /// The note's id.
    pub id: NoteId,
    /// The author's username.
    pub author: String,
    /// When it was written; `None` for a request known only from the trigger (the note is no
    /// longer listed).
    pub created_at: Option<DateTime<Utc>>,
    /// The sanitised Markdown.
    pub body: String,
}

impl ContextNote {
    fn from_note(note: &Note) -> Self {
        Self {
            id: note.id,
            author: note.author.username.clone(),
            created_at: Some(note.created_at),
            body: sanitize(&note.body),
        }
    }
}

/// The merge request parts of the context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MergeRequestContext {
    /// The merge request as GitLab returned it: its branches, the commits the diff is between
    /// (`diff_refs`, `None` while GitLab is still computing it), the head pipeline, and what
    /// the checkout needs (head commit, source project), so the job reads it once and checks
    /// out the commit whose diff it shows. Its texts are as written: the prompt takes the
    /// sanitised ones of [`Context`].
    pub read: MergeRequest,
    /// Every changed file, as GitLab lists them.
    pub files: Vec<FileDiff>,
}

/// Everything gathered for one request, before it is cut to the budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// The issue or merge request.
    pub noteable: Noteable,
    /// Sanitised title.
    pub title: String,
    /// Sanitised description.
    pub description: String,
    /// Label names.
    pub labels: Vec<String>,
    /// Browser URL.
    pub web_url: String,
    /// For a merge request: branches, diff refs and files.
    pub merge_request: Option<MergeRequestContext>,
    /// The triggering note (the trigger's body when the note is no longer listed).
    pub request: Option<ContextNote>,
    /// The other notes of the request's thread, oldest first.
    pub thread: Vec<ContextNote>,
    /// Where a DiffNote sits.
    pub position: Option<DiffPosition>,
    /// Human notes outside the thread, newest first, without system notes and our own.
    pub other_notes: Vec<ContextNote>,
    /// API requests made (pages included).
    pub api_calls: u32,
    /// CI results, read separately ([`super::ci::gather_ci`]) because they need the job's
    /// redactor; `None` until then.
    pub ci: Option<CiContext>,
}

impl Context {
    /// The project's browser URL: [`Context::web_url`] up to its `/-/` part.
    pub(crate) fn project_web_url(&self) -> &str {
        self.web_url.split("/-/").next().unwrap_or(&self.web_url)
    }

    /// The texts a person points the assistant at linked CI runs and images in: the
    /// description, the triggering note and its thread.
    pub(crate) fn request_texts(&self) -> Vec<&str> {
        let mut texts: Vec<&str> = vec![&self.description];
        texts.extend(self.request.iter().map(|n| n.body.as_str()));
        texts.extend(self.thread.iter().map(|n| n.body.as_str()));
        texts
    }
}

/// True for notes that never belong in the context: GitLab's system notes and our own marked
/// notes (placeholders and results; their content is ours, and a previous answer in the same
/// thread is kept because the thread is read separately).
fn is_noise(note: &Note) -> bool {
    note.system || marker::is_marked(&note.body)
}

fn is_placeholder(note: &Note) -> bool {
    Assistant::ALL.iter().any(|a| {
        note.body
            .contains(&marker::marker(*a, NoteRole::Placeholder))
    })
}

/// Reads the context of `trigger`.
///
/// Internal notes (visible to Reporter and above only) are left out unless the answer will be
/// internal too (the request is an internal note, or the issue is confidential): a public
/// answer must not be able to quote them.
/// <https://docs.gitlab.com/user/discussions/#add-an-internal-note>
pub async fn gather(gitlab: &GitLab, trigger: &Trigger) -> Result<Context, GitLabError> {
    let answer_is_internal =
        trigger.confidential || trigger.note.as_ref().is_some_and(|n| n.internal);
    let hidden = |note: &Note| note.internal && !answer_is_internal;
    let mut api_calls = 0u32;
    let project = &trigger.project;
    let (title, description, labels, web_url, mr_head) = match trigger.noteable {
        Noteable::Issue(iid) => {
            let issue = gitlab.issue(project, iid).await?;
            api_calls += 1;
            (
                issue.title,
                issue.description,
                issue.labels,
                issue.web_url,
                None,
            )
        }
        Noteable::MergeRequest(iid) => {
            let mr = gitlab.merge_request(project, iid).await?;
            api_calls += 1;
            (
                mr.title.clone(),
                mr.description.clone(),
                mr.labels.clone(),
                mr.web_url.clone(),
                Some((
                    iid,
                    MergeRequestContext {
                        read: mr,
                        files: Vec::new(),
                    },
                )),
            )
        }
    };

    let mut discussions: Vec<Discussion> = Vec::new();
    let path = format!(
        "/projects/{}/{}/{}/discussions",
        project.segment(),
        trigger.noteable.collection(),
        trigger.noteable.iid()
    );
    let mut pages = gitlab.pages::<Discussion>(&path, &[])?;
    while let Some(page) = pages.next_page().await? {
        api_calls += 1;
        discussions.extend(page);
    }

    let merge_request = match mr_head {
        Some((iid, mut head)) => {
            let path = format!("/projects/{}/merge_requests/{iid}/diffs", project.segment());
            let mut pages = gitlab.pages::<FileDiff>(&path, &[])?;
            while let Some(page) = pages.next_page().await? {
                api_calls += 1;
                head.files.extend(page);
            }
            Some(head)
        }
        None => None,
    };

    let trigger_note = trigger.note.as_ref();
    let thread_of_trigger = trigger_note.and_then(|note| {
        discussions
            .iter()
            .position(|d| d.notes.iter().any(|n| n.id == note.id))
    });
    let mut request = None;
    let mut thread = Vec::new();
    if let Some(index) = thread_of_trigger {
        for note in &discussions[index].notes {
            if note.system || is_placeholder(note) || hidden(note) {
                continue;
            }
            if trigger_note.is_some_and(|t| t.id == note.id) {
                request = Some(ContextNote::from_note(note));
            } else {
                thread.push(ContextNote::from_note(note));
            }
        }
    }
    if request.is_none()
        && let Some(note) = trigger_note
    {
        request = Some(ContextNote {
            id: note.id,
            author: note.author.username.clone().unwrap_or_default(),
            created_at: None,
            body: sanitize(&note.body),
        });
    }

    let mut other_notes: Vec<ContextNote> = discussions
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != thread_of_trigger)
        .flat_map(|(_, d)| d.notes.iter())
        .filter(|n| !is_noise(n) && !hidden(n))
        .map(ContextNote::from_note)
        .collect();
    other_notes.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));

    let position = trigger_note.and_then(|note| match &note.kind {
        NoteKind::DiffNote { position } => Some((**position).clone()),
        _ => None,
    });

    Ok(Context {
        noteable: trigger.noteable,
        title: sanitize(&title),
        description: sanitize(description.as_deref().unwrap_or_default()),
        labels: labels.iter().map(|l| sanitize(l)).collect(),
        web_url,
        merge_request,
        request,
        thread,
        position,
        other_notes,
        api_calls,
        ci: None,
    })
}
