//! Note Hook payloads become triggers, and the decision says who runs or why nobody does.

use entrypoint::agent::{Assistant, Handle, Handles};
use entrypoint::gitlab::ids::{
    DiscussionId, IssueIid, MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId,
};
use entrypoint::trigger::decision::{BotIdentity, Decision, SkipReason, decide};
use entrypoint::trigger::webhook::{WebhookError, parse};
use entrypoint::trigger::{NoteKind, Source};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/note_hooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn handles() -> Handles {
    Handles::default()
}

fn bot() -> BotIdentity {
    BotIdentity {
        id: UserId(99),
        username: "project_42_bot_3f2a".into(),
    }
}

fn skip_reason(d: &Decision) -> Option<&SkipReason> {
    match d {
        Decision::Skip { reason, .. } => Some(reason),
        Decision::Run { .. } => None,
    }
}

#[test]
fn issue_note_mentioning_claude_runs_claude() {
    let t = parse(&fixture("issue_note.json"), &handles()).unwrap();
    assert_eq!(t.source, Source::Webhook);
    assert_eq!(t.project, ProjectRef::Id(ProjectId(42)));
    assert_eq!(t.noteable, Noteable::Issue(IssueIid(12)));
    let note = t.note.as_ref().unwrap();
    assert_eq!(note.id, NoteId(5001));
    assert_eq!(note.author.id, UserId(7));
    assert_eq!(note.author.username.as_deref(), Some("dana"));
    assert_eq!(note.kind, NoteKind::Comment);
    assert_eq!(
        note.discussion,
        Some(DiscussionId::new("9f3c2a41be0d7c5e8a1b6f4d2c0e9a7b5d3f1e2c").unwrap())
    );
    assert!(!note.internal && !t.confidential);
    assert_eq!(t.assistants, vec![Assistant::Claude]);
    assert_eq!(t.instruction, "please fix this");
    assert_eq!(
        decide(&t, Some(&bot()), None),
        Decision::Run {
            assistants: vec![Assistant::Claude]
        }
    );
}

#[test]
fn merge_request_note_with_punctuation_after_the_handle_runs() {
    let t = parse(&fixture("mr_note.json"), &handles()).unwrap();
    assert_eq!(t.noteable, Noteable::MergeRequest(MergeRequestIid(34)));
    assert_eq!(t.assistants, vec![Assistant::Claude]);
    assert_eq!(decide(&t, None, None).assistants(), &[Assistant::Claude]);
}

#[test]
fn thread_reply_keeps_its_discussion_for_a_threaded_answer() {
    let t = parse(&fixture("mr_discussion_note.json"), &handles()).unwrap();
    let note = t.note.as_ref().unwrap();
    assert_eq!(note.kind, NoteKind::DiscussionNote);
    assert_eq!(
        note.discussion.as_ref().map(|d| d.as_str()),
        Some("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00")
    );
    assert_eq!(t.assistants, vec![Assistant::Codex]);
    assert_eq!(t.instruction, "rename `parse_all` to `parse_document`");
}

#[test]
fn diff_note_carries_its_file_and_line() {
    let t = parse(&fixture("mr_diff_note.json"), &handles()).unwrap();
    let NoteKind::DiffNote { position } = &t.note.as_ref().unwrap().kind else {
        panic!("expected a DiffNote");
    };
    assert_eq!(position.new_path, "src/parser.rs");
    assert_eq!((position.old_line, position.new_line), (None, Some(27)));
    assert_eq!(
        position.head_sha,
        "3333333333333333333333333333333333333333"
    );
}

#[test]
fn commit_and_snippet_comments_are_refused_with_a_reason() {
    for (file, what) in [
        ("commit_note.json", "commits"),
        ("snippet_note.json", "snippets"),
    ] {
        let err = parse(&fixture(file), &handles()).unwrap_err();
        assert!(
            matches!(&err, WebhookError::UnsupportedNoteable(k) if k == what),
            "{file}: {err}"
        );
        assert!(
            err.to_string().contains("issue or a merge request"),
            "{err}"
        );
    }
}

#[test]
fn other_events_and_garbage_are_errors_not_triggers() {
    let err = parse(&fixture("push_hook.json"), &handles()).unwrap_err();
    assert!(
        matches!(err, WebhookError::NotANote(ref k) if k == "push"),
        "{err}"
    );
    assert!(matches!(
        parse("{", &handles()),
        Err(WebhookError::Malformed(_))
    ));
    assert!(matches!(
        parse("[]", &handles()),
        Err(WebhookError::Malformed(_))
    ));
}

#[test]
fn system_notes_never_trigger_even_when_they_name_the_handle() {
    let t = parse(&fixture("issue_system_note.json"), &handles()).unwrap();
    assert_eq!(
        skip_reason(&decide(&t, None, None)),
        Some(&SkipReason::SystemNote)
    );
}

#[test]
fn edits_never_trigger() {
    for file in [
        "issue_note_edited.json",
        "issue_note_edited_by_maintainer.json",
    ] {
        let t = parse(&fixture(file), &handles()).unwrap();
        assert!(t.note.as_ref().unwrap().edited);
        assert_eq!(
            skip_reason(&decide(&t, None, None)),
            Some(&SkipReason::EditedNote),
            "{file}"
        );
    }
    let by_other = parse(&fixture("issue_note_edited_by_maintainer.json"), &handles()).unwrap();
    let author = &by_other.note.unwrap().author;
    assert_eq!((author.id, author.username.as_deref()), (UserId(11), None));
}

#[test]
fn the_bots_own_notes_and_marked_notes_never_trigger() {
    let mut t = parse(&fixture("issue_note.json"), &handles()).unwrap();
    let own = BotIdentity {
        id: UserId(7),
        username: "dana".into(),
    };
    assert_eq!(
        skip_reason(&decide(&t, Some(&own), None)),
        Some(&SkipReason::OwnNote)
    );
    let note = t.note.as_mut().unwrap();
    note.body = format!(
        "{}\n{}",
        note.body,
        entrypoint::marker::marker(Assistant::Claude, entrypoint::marker::NoteRole::Result)
    );
    assert_eq!(
        skip_reason(&decide(&t, Some(&bot()), None)),
        Some(&SkipReason::OurNote)
    );
}

#[test]
fn mentions_in_code_or_emails_do_not_count() {
    let t = parse(&fixture("issue_note_no_mention.json"), &handles()).unwrap();
    assert!(t.assistants.is_empty());
    assert_eq!(
        skip_reason(&decide(&t, None, None)),
        Some(&SkipReason::NoMention)
    );
}

#[test]
fn one_note_for_both_assistants_gives_each_job_its_own_run() {
    let t = parse(&fixture("issue_note_both.json"), &handles()).unwrap();
    assert_eq!(t.assistants, vec![Assistant::Claude, Assistant::Codex]);
    assert_eq!(t.instruction, "compare the two approaches");
    assert_eq!(
        decide(&t, None, None).assistants(),
        &[Assistant::Claude, Assistant::Codex]
    );
    assert_eq!(
        decide(&t, None, Some(Assistant::Codex)).assistants(),
        &[Assistant::Codex]
    );
    let claude_only = parse(&fixture("issue_note.json"), &handles()).unwrap();
    assert_eq!(
        skip_reason(&decide(&claude_only, None, Some(Assistant::Codex))),
        Some(&SkipReason::OtherAssistant)
    );
}

#[test]
fn internal_notes_and_confidential_issues_are_flagged() {
    let internal = parse(&fixture("issue_note_internal.json"), &handles()).unwrap();
    assert!(internal.note.as_ref().unwrap().internal);
    assert!(!internal.confidential);
    let confidential = parse(&fixture("confidential_issue_note.json"), &handles()).unwrap();
    assert!(confidential.confidential);
    assert!(!confidential.note.as_ref().unwrap().internal);
}

#[test]
fn gitlab_trigger_payload_with_extra_keys_is_accepted() {
    let t = parse(&fixture("trigger_payload_with_extra_keys.json"), &handles()).unwrap();
    assert_eq!(t.assistants, vec![Assistant::Claude]);
}

#[test]
fn configured_handles_replace_the_defaults() {
    let custom = Handles::new([
        Handle::new("acme-claude").unwrap(),
        Handle::new("acme-codex").unwrap(),
    ])
    .unwrap();
    let t = parse(&fixture("issue_note.json"), &custom).unwrap();
    assert!(t.assistants.is_empty(), "@claude is not a handle any more");
    let body = fixture("issue_note.json").replace("@claude please", "@acme-claude please");
    let t = parse(&body, &custom).unwrap();
    assert_eq!(t.assistants, vec![Assistant::Claude]);
}
