//! Finding the notes that ask this scan's assistant for something: through the to-do list when
//! the bot user's username is the handle, otherwise through the issue and merge request lists
//! and their notes.

use chrono::{DateTime, Utc};

use crate::agent::{Assistant, Handles};
use crate::gitlab::discussions::Discussion;
use crate::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectId, ProjectRef};
use crate::gitlab::notes::Note;
use crate::gitlab::{GitLab, GitLabError};
use crate::marker;
use crate::mention::find_mentions;
use crate::recent::{issues_updated, merge_requests_updated, recent_notes};
use crate::trigger::decision::BotIdentity;

/// A note that mentions the assistant, with what is needed to answer it in place.
#[derive(Clone, Debug)]
pub struct Mention {
    /// The issue or merge request it is on.
    pub noteable: Noteable,
    /// The issue is confidential (answers must be internal).
    pub confidential: bool,
    /// The note's thread, when it is a thread or diff note.
    pub discussion: Option<DiscussionId>,
    /// The note as GitLab has it now.
    pub note: Note,
    /// The to-do that reported it, marked done once the mention is dealt with.
    pub todo: Option<u64>,
}

/// Which notes count as requests for the scan's assistant.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Filter<'a> {
    /// The scan's assistant.
    pub assistant: Assistant,
    /// The handles that summon each assistant.
    pub handles: &'a Handles,
    /// The user behind the token.
    pub bot: &'a BotIdentity,
    /// Notes created before this were looked at by an earlier scan (the lists path only; a
    /// pending to-do is new by definition).
    pub since: Option<DateTime<Utc>>,
}

impl Filter<'_> {
    /// True when the note is a human's new request for the assistant. GitLab's own notes, the
    /// bot's notes and anything carrying our marker are never requests, so the answers a scan
    /// posts cannot make the next scan run again.
    pub(crate) fn is_request(&self, note: &Note) -> bool {
        !note.system
            && note.author.id != self.bot.id
            && !note
                .author
                .username
                .eq_ignore_ascii_case(&self.bot.username)
            && !marker::is_marked(&note.body)
            && self.since.is_none_or(|since| note.created_at >= since)
            && find_mentions(&note.body, self.handles)
                .iter()
                .any(|m| m.assistant == self.assistant)
    }
}

/// Every request in the issues and merge requests updated since `filter.since`: the issue
/// list, the merge request list, then per issue its notes (newest first, stopping at the first
/// page that reaches before the window) and per merge request its discussions (which carry
/// the thread of each note, so answers to thread and diff notes stay in their thread).
/// <https://docs.gitlab.com/api/issues/#list-project-issues>,
/// <https://docs.gitlab.com/api/notes/#list-project-issue-notes>,
/// <https://docs.gitlab.com/api/discussions/#list-project-merge-request-discussion-items>
pub(crate) async fn from_lists(
    gitlab: &GitLab,
    project: &ProjectRef,
    filter: Filter<'_>,
) -> Result<Vec<Mention>, GitLabError> {
    let mut found = Vec::new();
    let issues = gitlab
        .list_issues(project, &issues_updated(filter.since))
        .await?;
    for issue in issues {
        let noteable = Noteable::Issue(issue.iid);
        let notes = recent_notes(gitlab, project, noteable, filter.since).await?;
        let requests: Vec<Note> = notes.into_iter().filter(|n| filter.is_request(n)).collect();
        // The Notes API does not say which thread a note is in; read the threads only when a
        // request is a thread note.
        let threads = if requests.iter().any(|n| n.note_type.is_some()) {
            gitlab.discussions(project, noteable).await?
        } else {
            Vec::new()
        };
        for note in requests {
            found.push(Mention {
                noteable,
                confidential: issue.confidential,
                discussion: thread_of(&threads, note.id),
                note,
                todo: None,
            });
        }
    }
    let merge_requests = gitlab
        .list_merge_requests(project, &merge_requests_updated(filter.since))
        .await?;
    for merge_request in merge_requests {
        let noteable = Noteable::MergeRequest(merge_request.iid);
        for discussion in gitlab.discussions(project, noteable).await? {
            for note in discussion.notes {
                if filter.is_request(&note) {
                    found.push(Mention {
                        noteable,
                        confidential: false,
                        discussion: Some(discussion.id.clone()),
                        note,
                        todo: None,
                    });
                }
            }
        }
    }
    found.sort_by_key(|m| (m.note.created_at, m.note.id));
    Ok(found)
}

fn thread_of(threads: &[Discussion], note: NoteId) -> Option<DiscussionId> {
    threads
        .iter()
        .find(|d| !d.individual_note && d.notes.iter().any(|n| n.id == note))
        .map(|d| d.id.clone())
}

/// The mentions the bot's to-dos point at in `project`: its pending to-dos, and the ones
/// marked done since `since` (GitLab closes them when the bot comments on the same issue or
/// merge request, which can happen while another mention there waits). Per to-do it reads the
/// note (and, for a thread note, its thread). Pending to-dos that are not a request for the
/// assistant (a mention in a description, a note that is gone or not a request) come back in
/// the second list, to be marked done. Pending `assigned` and `review_requested` to-dos and
/// mentions in a description come back in the third ([`super::events`]). Other projects'
/// to-dos are left to their own scans.
/// <https://docs.gitlab.com/api/todos/>
pub(crate) async fn from_todos(
    gitlab: &GitLab,
    project: ProjectId,
    filter: Filter<'_>,
    since: DateTime<Utc>,
) -> Result<(Vec<Mention>, Vec<u64>, Vec<super::events::EventTodo>), GitLabError> {
    let project_ref = ProjectRef::Id(project);
    let mut found: Vec<Mention> = Vec::new();
    let mut not_requests = Vec::new();
    let mut events = Vec::new();
    let pending = gitlab.pending_todos(Some(project)).await?;
    let done = gitlab.done_todos_since(Some(project), since).await?;
    let todos = pending
        .into_iter()
        .map(|todo| (todo, true))
        .chain(done.into_iter().map(|todo| (todo, false)));
    for (todo, pending) in todos {
        // The bot assigned, its review requested, a description mention: requests without a
        // note, answered through the issue's or merge request's own claim (scan/events.rs).
        if pending && let Some(request) = super::events::from_todo(&todo, &project_ref) {
            events.push(super::events::EventTodo {
                request,
                todo: todo.id,
            });
            continue;
        }
        if !todo.is_mention() {
            continue;
        }
        let not_a_request = pending.then_some(todo.id);
        let (Some(noteable), Some(note_id)) = (todo.noteable(), todo.note()) else {
            not_requests.extend(not_a_request);
            continue;
        };
        if found.iter().any(|m| m.note.id == note_id) {
            continue;
        }
        let note = match gitlab.note(&project_ref, noteable, note_id).await {
            Ok(note) => note,
            Err(error) if error.is_not_found() => {
                not_requests.extend(not_a_request);
                continue;
            }
            Err(error) => return Err(error),
        };
        if !filter.is_request(&note) {
            not_requests.extend(not_a_request);
            continue;
        }
        let discussion = if note.note_type.is_some() {
            thread_of(&gitlab.discussions(&project_ref, noteable).await?, note.id)
        } else {
            None
        };
        found.push(Mention {
            noteable,
            confidential: todo.confidential(),
            discussion,
            note,
            todo: pending.then_some(todo.id),
        });
    }
    found.sort_by_key(|m| (m.note.created_at, m.note.id));
    Ok((found, not_requests, events))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::gitlab::ids::UserId;
    use crate::marker::{NoteRole, marker};

    fn note(author: u64, body: &str, system: bool, minute: u32) -> Note {
        serde_json::from_value(serde_json::json!({
            "id": 1, "type": null, "body": body,
            "author": {"id": author, "username": if author == 9 { "ai-bot" } else { "dana" },
                       "name": "x", "state": "active"},
            "created_at": Utc.with_ymd_and_hms(2026, 11, 25, 10, minute, 0).unwrap(),
            "updated_at": Utc.with_ymd_and_hms(2026, 11, 25, 10, minute, 0).unwrap(),
            "system": system, "noteable_id": 5, "noteable_type": "Issue", "resolvable": false
        }))
        .unwrap()
    }

    #[test]
    fn only_new_human_requests_for_the_scans_assistant_count() {
        let handles = Handles::default();
        let bot = BotIdentity {
            id: UserId(9),
            username: "ai-bot".into(),
        };
        let filter = Filter {
            assistant: Assistant::Claude,
            handles: &handles,
            bot: &bot,
            since: Some(Utc.with_ymd_and_hms(2026, 11, 25, 10, 10, 0).unwrap()),
        };
        assert!(filter.is_request(&note(1, "@claude fix it", false, 20)));
        for (author, body, system, minute, why) in [
            (1, "@claude fix it", false, 5, "before the window"),
            (1, "@claude fix it", true, 20, "a system note"),
            (9, "@claude fix it", false, 20, "the bot's"),
            (1, "@codex fix it", false, 20, "another assistant"),
        ] {
            assert!(
                !filter.is_request(&note(author, body, system, minute)),
                "{why}"
            );
        }
        let ours = format!("@claude\n\n{}", marker(Assistant::Claude, NoteRole::Result));
        assert!(
            !filter.is_request(&note(1, &ours, false, 20)),
            "our own note"
        );
        let any_time = Filter {
            since: None,
            ..filter
        };
        assert!(any_time.is_request(&note(1, "@claude fix it", false, 5)));
    }
}
