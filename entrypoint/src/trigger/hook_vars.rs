//! The `AI_HOOK_*` variables a Comments webhook with our custom template
//! ([`ai_core::hook_vars::TEMPLATE`]) sends to the trigger URL (webhook mode on GitLab 16.10+,
//! docs/modes.md).
//!
//! The trigger endpoint turns a JSON body's `variables` map into pipeline variables
//! (<https://docs.gitlab.com/ci/triggers/#pass-cicd-variables-in-the-api-call>). So the
//! pipeline's `rules:` see who wrote the note, whether it is new or an edit, and where it is,
//! before any job exists: the bot's own notes and every edit start no runner
//! (templates/claude.yml), and the job's `resource_group` names the issue or merge request.
//! The variables hold no note text: the job reads the note back through the API.

use crate::env::Env;
use crate::gitlab::ids::{IssueIid, MergeRequestIid, NoteId, Noteable, ProjectRef};

use super::ci_vars::{self, VarError};

pub use ai_core::hook_vars::TEMPLATE;

/// The names, in one place: [`TEMPLATE`] writes them, the templates' rules and this module
/// read them.
pub mod names {
    /// `create` or `update` (`object_attributes.action`, GitLab 16.11+; empty before).
    pub(crate) const ACTION: &str = crate::env::AI_HOOK_ACTION.name();
    /// The username of the user the event is about (`user.username`).
    pub const AUTHOR: &str = crate::env::AI_HOOK_AUTHOR.name();
    /// `Issue`, `MergeRequest`, `Commit` or `Snippet` (`object_attributes.noteable_type`).
    pub const NOTEABLE_TYPE: &str = crate::env::AI_HOOK_NOTEABLE_TYPE.name();
    /// The note's id (`object_attributes.id`).
    pub const NOTE_ID: &str = crate::env::AI_HOOK_NOTE_ID.name();
    /// The issue's IID (`issue.iid`); empty, or `null` with serialization, on other notes.
    pub(crate) const ISSUE_IID: &str = crate::env::AI_HOOK_ISSUE_IID.name();
    /// The merge request's IID (`merge_request.iid`); likewise.
    pub(crate) const MR_IID: &str = crate::env::AI_HOOK_MR_IID.name();
}

/// What the variables say about the event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// A new comment on an issue or merge request: read it back and decide.
    Comment {
        /// The job's project.
        project: ProjectRef,
        /// Where the note is.
        noteable: Noteable,
        /// The note.
        note: NoteId,
    },
    /// Nothing to answer, in one sentence (an edit, a comment on a commit).
    Ignored(String),
}

/// True when the pipeline was started by our webhook template.
pub fn present(vars: &dyn Env) -> bool {
    non_empty(vars, names::NOTE_ID).is_some()
}

/// Reads the variables.
pub fn parse(vars: &dyn Env) -> Result<HookEvent, VarError> {
    const NOTE_FIX: &str = "the Comments webhook's custom template sets it to the note's id; run `entrypoint setup --mode webhook` again to restore the template";
    let note_text = non_empty(vars, names::NOTE_ID).unwrap_or_default();
    let note = positive(&note_text)
        .map(NoteId)
        .ok_or_else(|| invalid(names::NOTE_ID, &note_text, NOTE_FIX))?;
    if non_empty(vars, names::ACTION).as_deref() == Some("update") {
        return Ok(HookEvent::Ignored(
            "the event is an edit of an existing note; post a new comment to ask again".to_owned(),
        ));
    }
    let kind = non_empty(vars, names::NOTEABLE_TYPE).unwrap_or_default();
    const IID_FIX: &str = "the Comments webhook's custom template sets it from the event; run `entrypoint setup --mode webhook` again to restore the template";
    let noteable = match kind.as_str() {
        "Issue" => Noteable::Issue(IssueIid(iid(vars, names::ISSUE_IID, IID_FIX)?)),
        "MergeRequest" => {
            Noteable::MergeRequest(MergeRequestIid(iid(vars, names::MR_IID, IID_FIX)?))
        }
        other => {
            return Ok(HookEvent::Ignored(format!(
                "the note is on a {}, and only comments on issues and merge requests are answered",
                if other.is_empty() {
                    "noteable GitLab did not name"
                } else {
                    other
                }
            )));
        }
    };
    Ok(HookEvent::Comment {
        project: ci_vars::project(vars)?,
        noteable,
        note,
    })
}

fn iid(vars: &dyn Env, name: &'static str, fix: &'static str) -> Result<u64, VarError> {
    let text = non_empty(vars, name).unwrap_or_default();
    positive(&text).ok_or_else(|| invalid(name, &text, fix))
}

fn invalid(name: &'static str, value: &str, fix: &'static str) -> VarError {
    VarError {
        name,
        problem: format!("has an invalid value {value:?}"),
        fix,
    }
}

fn non_empty(vars: &dyn Env, name: &str) -> Option<String> {
    vars.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v != "null")
}

fn positive(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::ProjectId;
    use crate::test_support::vars as env;

    #[test]
    fn the_template_is_json_whose_variables_are_the_names_read_here() {
        let mut rendered = String::new();
        let mut rest = TEMPLATE;
        while let Some(start) = rest.find("{{") {
            let end = rest[start..].find("}}").unwrap() + start;
            rendered.push_str(&rest[..start]);
            rendered.push('1');
            rest = &rest[end + 2..];
        }
        rendered.push_str(rest);
        let value: serde_json::Value = serde_json::from_str(&rendered).unwrap();
        let keys: Vec<&str> = value["variables"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = vec![
            names::ACTION,
            names::AUTHOR,
            names::NOTEABLE_TYPE,
            names::NOTE_ID,
            names::ISSUE_IID,
            names::MR_IID,
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn an_issue_comment_names_the_note_with_either_rendering_of_a_missing_iid() {
        for missing in ["", "null"] {
            let vars = env(&[
                ("CI_PROJECT_ID", "7"),
                (names::ACTION, "create"),
                (names::NOTEABLE_TYPE, "Issue"),
                (names::NOTE_ID, "501"),
                (names::ISSUE_IID, "12"),
                (names::MR_IID, missing),
            ]);
            assert_eq!(
                parse(&vars).unwrap(),
                HookEvent::Comment {
                    project: ProjectRef::Id(ProjectId(7)),
                    noteable: Noteable::Issue(IssueIid(12)),
                    note: NoteId(501),
                }
            );
        }
    }

    #[test]
    fn edits_and_commit_comments_are_ignored_and_a_broken_template_is_an_error() {
        let edit = env(&[
            (names::ACTION, "update"),
            (names::NOTEABLE_TYPE, "Issue"),
            (names::NOTE_ID, "501"),
        ]);
        assert!(matches!(parse(&edit).unwrap(), HookEvent::Ignored(m) if m.contains("edit")));
        let commit = env(&[
            (names::ACTION, "create"),
            (names::NOTEABLE_TYPE, "Commit"),
            (names::NOTE_ID, "501"),
        ]);
        assert!(matches!(parse(&commit).unwrap(), HookEvent::Ignored(m) if m.contains("Commit")));
        let no_iid = env(&[
            ("CI_PROJECT_ID", "7"),
            (names::NOTEABLE_TYPE, "MergeRequest"),
            (names::NOTE_ID, "501"),
            (names::MR_IID, "null"),
        ]);
        let error = parse(&no_iid).unwrap_err();
        assert_eq!(error.name, names::MR_IID);
        assert!(
            error
                .to_string()
                .contains("entrypoint setup --mode webhook")
        );
    }
}
