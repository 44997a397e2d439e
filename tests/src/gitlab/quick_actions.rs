//! Quick actions, run where GitLab runs them: in a note when it is created or edited
//! (`Notes::CreateService`, `Notes::UpdateService`) and in a merge request description when it
//! is created or updated. <https://docs.gitlab.com/user/project/quick_actions/>
//!
//! The extraction is a port of `Gitlab::QuickActions::Extractor#extract_commands`
//! (`lib/gitlab/quick_actions/extractor.rb`), written from GitLab's rules and independently of
//! the product's neutraliser so that tests can catch a wrong one: `\r` is deleted, then one
//! regular expression is scanned over the text whose first four alternatives are regions it
//! skips (a ```` ``` ```` block, text ending in inline code, an HTML block, a `>>>` quote) and
//! whose last is a command line. GitLab's regex lists the known command names; ours takes any
//! name, so an unknown `/word` is found and recorded too (GitLab keeps such lines, and so do we:
//! only known names are stripped and run). The text GitLab stores is what is left, right-trimmed.
//!
//! Commands run as the note's author without permission checks: the double is no kinder than
//! GitLab, where the bot is a Developer and may close, merge, label and assign.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Value, json};

use crate::gitlab::model::{
    Issue, IssueState, MergeRequest, MergeRequestState, Model, NoteableKind, NoteableRef,
};
use crate::gitlab::time;

/// GitLab's regex with `(?<cmd>…)` widened to any name. Ruby's `/mix`: `m` makes `.` match
/// newlines (Rust `s`), `^`/`$` are always line anchors in Ruby (Rust `m`), `x` ignores pattern
/// whitespace; `[ ]` is written `\x20` because Rust's verbose mode ignores spaces in classes too,
/// and Ruby's `\s` (ASCII) is spelled out. Rust's engine gives the leftmost-first match a
/// backtracking engine gives, lazy and greedy repetition included.
static EXTRACTOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?msx)
          (?P<code> ^```.+?\n```$ )
        | (?P<inline_code> ^.*`\n*.+?\n*`$ )
        | (?P<html> ^<[^>]+?>\n.+?\n</[^>]+?>$ )
        | (?P<quote> ^>>>.+?\n>>>$ )
        | (?: ^/ (?P<cmd>[^\t\n\x0B\x0C\r\x20]+) (?: \x20 (?P<arg>[^\n]*) )? (?: [\t\n\x0B\x0C\r\x20]*\n | $ ) )
        ",
    )
    .expect("the quick action pattern is a valid expression")
});

/// Command names GitLab knows (`lib/gitlab/quick_actions/*_actions.rb`, aliases included):
/// only these are stripped from the text and run. Others are recorded as unrecognised and
/// left in place, as GitLab leaves them.
const KNOWN: &[&str] = &[
    "approve",
    "assign",
    "assign_reviewer",
    "award",
    "board_move",
    "cc",
    "clone",
    "close",
    "confidential",
    "copy_metadata",
    "create_merge_request",
    "done",
    "draft",
    "due",
    "duplicate",
    "estimate",
    "label",
    "labels",
    "lock",
    "merge",
    "milestone",
    "move",
    "promote_to",
    "react",
    "ready",
    "rebase",
    "relabel",
    "relate",
    "remove_due_date",
    "remove_estimate",
    "remove_milestone",
    "remove_time_spent",
    "reopen",
    "request_review",
    "reviewer",
    "shrug",
    "spend",
    "spent",
    "submit_review",
    "subscribe",
    "tableflip",
    "target_branch",
    "title",
    "todo",
    "unapprove",
    "unassign",
    "unassign_reviewer",
    "unlabel",
    "remove_label",
    "unlock",
    "unsubscribe",
    "wip",
];

/// Where a quick action was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuickActionSource {
    NoteCreate,
    NoteUpdate,
    Description,
}

/// One command line GitLab's extractor found, as the double recorded it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuickAction {
    pub noteable: NoteableRef,
    pub author_id: u64,
    /// Lower-cased, as GitLab lower-cases it.
    pub name: String,
    pub argument: Option<String>,
    pub source: QuickActionSource,
    /// True when GitLab knows the name: the line was stripped and the command run.
    pub recognised: bool,
}

/// A command found in a text: its lower-cased name and argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub name: String,
    pub argument: Option<String>,
    pub recognised: bool,
}

/// What `extract_commands` leaves: the text to store and the commands found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extracted {
    pub content: String,
    pub commands: Vec<Found>,
}

impl Extracted {
    /// GitLab keeps no note whose text was nothing but (known) commands.
    pub fn only_commands(&self) -> bool {
        self.content.is_empty() && self.commands.iter().any(|c| c.recognised)
    }
}

/// Finds the command lines of `text` the way GitLab's extractor does.
pub fn extract(text: &str) -> Extracted {
    let text = text.replace('\r', "");
    let mut commands = Vec::new();
    let mut content = String::with_capacity(text.len());
    let mut cursor = 0;
    for captures in EXTRACTOR.captures_iter(&text) {
        let Some(whole) = captures.get(0) else {
            continue;
        };
        let Some(cmd) = captures.name("cmd") else {
            continue;
        };
        let name = cmd.as_str().to_lowercase();
        let recognised = KNOWN.contains(&name.as_str());
        let argument = captures
            .name("arg")
            .map(|a| a.as_str().trim().to_owned())
            .filter(|a| !a.is_empty());
        commands.push(Found {
            name,
            argument,
            recognised,
        });
        if recognised {
            content.push_str(&text[cursor..whole.start()]);
            cursor = whole.end();
        }
    }
    content.push_str(&text[cursor..]);
    Extracted {
        content: content.trim_end().to_owned(),
        commands,
    }
}

/// Runs the recognised commands of `extracted` on `noteable` as `author_id`, records every
/// command found, and returns GitLab's summary messages.
pub fn execute(
    model: &mut Model,
    noteable: NoteableRef,
    author_id: u64,
    extracted: &Extracted,
    source: QuickActionSource,
) -> Vec<String> {
    let mut messages = Vec::new();
    for found in &extracted.commands {
        model.quick_actions.push(QuickAction {
            noteable,
            author_id,
            name: found.name.clone(),
            argument: found.argument.clone(),
            source,
            recognised: found.recognised,
        });
        if found.recognised {
            let before = labels_of(model, noteable);
            messages.push(apply(model, noteable, author_id, found));
            // GitLab records the label change of a `/label`, `/unlabel` or `/relabel` like any
            // other (`QuickActions` update the issuable through its update service, whose
            // `Issuable::CommonSystemNotesService` writes the resource label events).
            let after = labels_of(model, noteable);
            model.record_label_changes(noteable, author_id, &before, &after, time::now());
        }
    }
    messages
}

fn labels_of(model: &Model, noteable: NoteableRef) -> Vec<String> {
    match noteable.kind {
        NoteableKind::Issue => model
            .issue(noteable.project_id, noteable.iid)
            .map(|i| i.labels.clone()),
        NoteableKind::MergeRequest => model
            .merge_request(noteable.project_id, noteable.iid)
            .map(|m| m.labels.clone()),
    }
    .unwrap_or_default()
}

/// The body of GitLab's 202 answer to a note that held only commands
/// (`Entities::NoteCommands` in `lib/api/entities/note.rb`, sent by
/// `process_note_creation_result` in `lib/api/helpers/notes_helpers.rb`).
pub fn commands_only_body(messages: &[String]) -> Value {
    json!({"commands_changes": {}, "summary": messages})
}

/// Labels named in an argument: `~foo ~"bar baz" plain`.
fn label_names(argument: Option<&str>) -> Vec<String> {
    let Some(argument) = argument else {
        return Vec::new();
    };
    let mut names = Vec::new();
    let mut rest = argument.trim();
    while !rest.is_empty() {
        let token = rest.strip_prefix('~').unwrap_or(rest);
        let (name, after) = if let Some(quoted) = token.strip_prefix('"') {
            match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            }
        } else {
            match token.find(char::is_whitespace) {
                Some(end) => (&token[..end], &token[end..]),
                None => (token, ""),
            }
        };
        if !name.is_empty() {
            names.push(name.to_owned());
        }
        rest = after.trim_start();
    }
    names
}

/// User ids named in an argument (`@alice @bob`); `me` is the author.
fn user_ids(model: &Model, author_id: u64, argument: Option<&str>) -> Vec<u64> {
    argument
        .unwrap_or("")
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .filter_map(|word| {
            let name = word.trim_start_matches('@');
            if name == "me" {
                Some(author_id)
            } else {
                model.user_by_username(name).map(|u| u.id)
            }
        })
        .collect()
}

fn apply(model: &mut Model, noteable: NoteableRef, author_id: u64, found: &Found) -> String {
    let now = time::now();
    let argument = found.argument.as_deref();
    let labels = label_names(argument);
    let users = user_ids(model, author_id, argument);
    let name = found.name.as_str();
    match noteable.kind {
        NoteableKind::Issue => {
            let Some(issue) = model.issue_mut(noteable.project_id, noteable.iid) else {
                return format!("Ran /{name}.");
            };
            if !issue.shared().apply(name, argument, &labels, &users, now) && name == "confidential"
            {
                issue.confidential = true;
            }
            issue.updated_at = now;
        }
        NoteableKind::MergeRequest => {
            let Some(mr) = model.merge_request_mut(noteable.project_id, noteable.iid) else {
                return format!("Ran /{name}.");
            };
            if !mr.shared().apply(name, argument, &labels, &users, now) {
                match name {
                    "merge" => mr.state = MergeRequestState::Merged,
                    "target_branch" => {
                        if let Some(branch) = argument {
                            mr.target_branch = branch.to_owned();
                        }
                    }
                    "reviewer" | "assign_reviewer" | "request_review" => {
                        add_missing(&mut mr.reviewer_ids, users);
                    }
                    _ => {}
                }
            }
            mr.updated_at = now;
            match name {
                "approve" if !model.approvals.contains(&(noteable, author_id)) => {
                    model.approvals.push((noteable, author_id));
                }
                "unapprove" => model.approvals.retain(|a| *a != (noteable, author_id)),
                _ => {}
            }
        }
    }
    format!("Ran /{name}.")
}

/// What quick actions change alike on issues and merge requests, and the states `/close` and
/// `/reopen` set.
struct Shared<'a, S> {
    state: &'a mut S,
    closed: S,
    opened: S,
    closed_at: &'a mut Option<time::Timestamp>,
    title: &'a mut String,
    discussion_locked: &'a mut bool,
    labels: &'a mut Vec<String>,
    assignee_ids: &'a mut Vec<u64>,
}

impl<S> Shared<'_, S> {
    /// Runs `name` when it is a command issues and merge requests take alike (`/close` and
    /// `/reopen` at `now`, `/title`, `/lock`, `/unlock`, the label and assignee commands);
    /// false for any other.
    fn apply(
        self,
        name: &str,
        argument: Option<&str>,
        labels: &[String],
        users: &[u64],
        now: time::Timestamp,
    ) -> bool {
        match name {
            "close" => {
                *self.state = self.closed;
                *self.closed_at = Some(now);
            }
            "reopen" => {
                *self.state = self.opened;
                *self.closed_at = None;
            }
            "title" => {
                if let Some(title) = argument {
                    *self.title = title.to_owned();
                }
            }
            "lock" => *self.discussion_locked = true,
            "unlock" => *self.discussion_locked = false,
            "label" | "labels" => add_missing(self.labels, labels.to_vec()),
            "relabel" => *self.labels = labels.to_vec(),
            "unlabel" | "remove_label" => remove_named(self.labels, labels),
            "assign" => add_missing(self.assignee_ids, users.to_vec()),
            "unassign" => remove_named(self.assignee_ids, users),
            _ => return false,
        }
        true
    }
}

/// `shared()` for issues and merge requests, whose shared fields have the same names.
macro_rules! shared_fields {
    ($($record:ty => $state:ident),*) => {$(
        impl $record {
            fn shared(&mut self) -> Shared<'_, $state> {
                Shared {
                    state: &mut self.state,
                    closed: $state::Closed,
                    opened: $state::Opened,
                    closed_at: &mut self.closed_at,
                    title: &mut self.title,
                    discussion_locked: &mut self.discussion_locked,
                    labels: &mut self.labels,
                    assignee_ids: &mut self.assignee_ids,
                }
            }
        }
    )*};
}

shared_fields!(Issue => IssueState, MergeRequest => MergeRequestState);

/// `/label`, `/assign`, `/assign_reviewer`: adds what the list does not hold yet.
fn add_missing<T: PartialEq>(list: &mut Vec<T>, new: Vec<T>) {
    for item in new {
        if !list.contains(&item) {
            list.push(item);
        }
    }
}

/// `/unlabel`, `/unassign`: removes the items named; without an argument, every item.
fn remove_named<T: PartialEq>(list: &mut Vec<T>, gone: &[T]) {
    if gone.is_empty() {
        list.clear();
    } else {
        list.retain(|item| !gone.contains(item));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names GitLab would run.
    fn names(text: &str) -> Vec<String> {
        extract(text)
            .commands
            .into_iter()
            .filter(|c| c.recognised)
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn commands_at_line_start_are_found_and_stripped() {
        let found = extract("hello\n/labels ~foo ~\"bar baz\" label\nworld\n/REOPEN");
        assert_eq!(found.content, "hello\nworld");
        assert_eq!(found.commands.len(), 2);
        assert_eq!(found.commands[0].name, "labels");
        assert_eq!(
            found.commands[0].argument.as_deref(),
            Some("~foo ~\"bar baz\" label")
        );
        assert_eq!(found.commands[1].name, "reopen");
    }

    #[test]
    fn gitlab_spec_cases_find_nothing() {
        // From GitLab's extractor spec: mid-line, no space before the argument, code block,
        // `>>>` quote, HTML block (with CRLF line ends).
        for text in [
            "hello\nworld /labels ~foo",
            "hello\n/assign@joe\nworld",
            "Hello\r\n```\r\nThis is some text\r\n/close\r\n/assign @user\r\n```\r\n\r\nWorld",
            "Hello\r\n>>>\r\nThis is some text\r\n/close\r\n/assign @user\r\n>>>\r\n\r\nWorld",
            "Hello\r\n<div>\r\nThis is some text\r\n/close\r\n/assign @user\r\n</div>\r\n\r\nWorld",
            "  /close",
        ] {
            assert!(names(text).is_empty(), "{text:?}");
        }
    }

    #[test]
    fn fences_gitlab_does_not_pair_hide_nothing() {
        assert_eq!(names("~~~\n/close\n~~~"), ["close"]);
        assert_eq!(names("```\n/close"), ["close"]);
        assert_eq!(names("\r/close"), ["close"]);
    }

    #[test]
    fn unknown_names_are_found_but_kept() {
        let found = extract("a\n/frobnicate now");
        assert_eq!(found.content, "a\n/frobnicate now");
        assert!(!found.commands[0].recognised);
        assert!(!found.only_commands());
    }

    #[test]
    fn a_note_of_commands_only_is_not_kept() {
        assert!(extract("/close\n/label ~x\n").only_commands());
    }

    #[test]
    fn label_arguments_parse_like_gitlab() {
        assert_eq!(
            label_names(Some("~foo ~\"bar baz\" plain")),
            ["foo", "bar baz", "plain"]
        );
    }
}
