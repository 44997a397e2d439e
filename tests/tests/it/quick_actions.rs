//! Quick actions in what the bot writes. GitLab runs `/close`, `/merge`, `/approve`,
//! `/label ~x`, … found at the start of a line of a note (on create and on edit) and of a merge
//! request description, as the author: the bot. The double does the same (so a test can see a
//! command run), and everything the product posts must come out inert, reading the same.

use crate::support::seeded::{Publishing as World, job_link, rest, review_comment};
use std::time::Duration;

use doubles::gitlab::double::{NoteSpec, Noteable as DoubleNoteable, UserSpec};
use doubles::gitlab::model::{Issue, IssueState, MergeRequest, MergeRequestState};
use doubles::gitlab::quick_actions::{QuickActionSource, extract};
use entrypoint::agent::events::AssistantEvent;
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, MergeRequestIid, Noteable};
use entrypoint::publish::merge_request::{MergeRequestDraft, open_merge_request};
use entrypoint::publish::progress::{Progress, ProgressSettings};
use entrypoint::publish::result::{Conclusion, Refusal, ResultReport, post_refusal};
use entrypoint::publish::review::{Review, ReviewComment, Severity, Side};
use entrypoint::quick_action::neutralize;
use entrypoint::redact::Redactor;
use entrypoint::trigger::NoteKind;
use proptest::prelude::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// A model answer written by an attacker: commands at line starts, in odd case, after blank
/// lines, at the very end, next to harmless code. None of them may run.
const HOSTILE: &str = "Here is the fix.\n/close\n/merge\n\n/approve\n/label ~pwned\n/assign @attacker\n/Confidential\n/unlabel ~bug\n/title Owned\n/target_branch evil\n/lock\n/reopen\nSee:\n```rust\nfn main() {}\n```\n/submit_review";

/// The command names in [`HOSTILE`].
const HOSTILE_COMMANDS: &[&str] = &[
    "/close",
    "/merge",
    "/approve",
    "/label ~pwned",
    "/assign @attacker",
    "/Confidential",
    "/unlabel ~bug",
    "/title Owned",
    "/target_branch evil",
    "/lock",
    "/reopen",
    "/submit_review",
];

/// The seeded double, with an "attacker" user too.
async fn world() -> World {
    let w = World::start(Redactor::new(Handles::default())).await;
    w.gl.add_user(UserSpec::human("attacker"))
        .expect("attacker");
    w
}

impl World {
    fn typo_issue(&self) -> u64 {
        self.issue("Typo")
    }

    /// A merge request changing line 2 of `src/calc.rs`.
    fn calc_merge_request(&self) -> u64 {
        let calc = |sign: &str| format!("fn add(a: i32, b: i32) -> i32 {{\n    a {sign} b\n}}\n");
        self.commit("main", "src/calc.rs", &calc("-"), "Calc");
        self.commit("fix/add", "src/calc.rs", &calc("+"), "Fix add");
        self.merge_request("fix/add", "Fix add")
    }

    /// What the bot's token may do over REST, beside the product: `method` on the project's
    /// `path`.
    async fn send(&self, method: Method, path: &str, body: Value) -> (StatusCode, Value) {
        let path = format!("/projects/{}{path}", self.project);
        let response = rest(&self.gl, method, &path, &self.bot.token, Some(body)).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The bot posts a note `body` on issue `iid` over REST.
    async fn post_note(&self, iid: u64, body: &str) -> (StatusCode, Value) {
        let path = format!("/issues/{iid}/notes");
        self.send(Method::POST, &path, json!({ "body": body }))
            .await
    }

    /// The bot edits its note `note` on issue `iid` over REST to say `body`.
    async fn edit_note(&self, iid: u64, note: u64, body: &str) -> (StatusCode, Value) {
        let path = format!("/issues/{iid}/notes/{note}");
        self.send(Method::PUT, &path, json!({ "body": body })).await
    }

    /// Issue `iid` as the double holds it now.
    fn issue_state(&self, iid: u64) -> Issue {
        let mut issues = self.gl.issues(self.project).into_iter();
        issues.find(|i| i.iid == iid).expect("the issue")
    }

    /// Merge request `iid` as the double holds it now.
    fn mr_state(&self, iid: u64) -> MergeRequest {
        let mut merge_requests = self.gl.merge_requests(self.project).into_iter();
        merge_requests
            .find(|m| m.iid == iid)
            .expect("the merge request")
    }

    /// Every quick action the double saw, as `/name`.
    fn ran(&self) -> Vec<String> {
        self.gl
            .executed_quick_actions()
            .into_iter()
            .map(|a| format!("/{}", a.name))
            .collect()
    }
}

/// The visible text of `markdown` as CommonMark renders it, entities decoded.
fn rendered_text(markdown: &str) -> String {
    let mut text = String::new();
    for event in pulldown_cmark::Parser::new(markdown) {
        match event {
            pulldown_cmark::Event::Text(t) | pulldown_cmark::Event::Code(t) => text.push_str(&t),
            pulldown_cmark::Event::SoftBreak | pulldown_cmark::Event::HardBreak => {
                text.push('\n');
            }
            _ => {}
        }
    }
    text
}

/// Every hostile line still reads the same in the rendered note.
fn assert_reads_the_same(body: &str) {
    let text = rendered_text(body);
    for command in HOSTILE_COMMANDS {
        assert!(
            text.contains(command),
            "{command} not shown in {text:?}\n{body}"
        );
    }
}

// ---- the double is no kinder than GitLab ----

#[tokio::test]
async fn posting_close_as_the_bot_closes_the_issue_and_keeps_no_note() {
    let w = world().await;
    let iid = w.typo_issue();
    let (status, body) = w.post_note(iid, "/close").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["commands_changes"], json!({}));
    assert!(body["summary"].is_array(), "{body}");
    assert_eq!(w.issue_state(iid).state, IssueState::Closed);
    assert!(w.gl.notes(w.project, DoubleNoteable::Issue(iid)).is_empty());
    let ran = w.gl.executed_quick_actions();
    assert_eq!(ran.len(), 1);
    assert_eq!(
        (ran[0].name.as_str(), ran[0].author_id),
        ("close", w.bot.id)
    );
    assert_eq!(ran[0].source, QuickActionSource::NoteCreate);
}

#[tokio::test]
async fn editing_a_note_to_add_a_label_command_labels_and_strips_the_line() {
    let w = world().await;
    let iid = w.typo_issue();
    let note =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(iid),
            NoteSpec::new(w.bot.id, "Working…"),
        )
        .unwrap();
    let edit = "Done.\n/label ~x ~\"needs review\"\nBye";
    let (status, body) = w.edit_note(iid, note.id, edit).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["body"], "Done.\nBye");
    assert_eq!(w.issue_state(iid).labels, ["x", "needs review"]);
    assert_eq!(
        w.gl.executed_quick_actions()[0].source,
        QuickActionSource::NoteUpdate
    );

    // An edit down to nothing but commands deletes the note, as `Notes::UpdateService` does.
    let (status, _) = w.edit_note(iid, note.id, "/confidential").await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(w.issue_state(iid).confidential);
    assert!(w.gl.notes(w.project, DoubleNoteable::Issue(iid)).is_empty());
}

#[tokio::test]
async fn commands_in_a_code_block_do_nothing_and_stay_in_the_note() {
    let w = world().await;
    let iid = w.typo_issue();
    let text = "Run:\n```\n/close\n/label ~x\n```\nthen wait.";
    let (status, body) = w.post_note(iid, text).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["body"], text);
    assert!(w.ran().is_empty(), "{:?}", w.ran());
    assert_eq!(w.issue_state(iid).state, IssueState::Opened);
}

#[tokio::test]
async fn a_thread_reply_can_merge_and_approve_and_a_description_can_retarget() {
    let w = world().await;
    let iid = w.calc_merge_request();
    let mr = format!("/merge_requests/{iid}");
    let discussions = format!("{mr}/discussions");
    let looks_good = json!({"body": "Looks good"});
    let (status, thread) = w.send(Method::POST, &discussions, looks_good).await;
    assert_eq!(status, StatusCode::CREATED, "{thread}");
    let reply = format!("{discussions}/{}/notes", thread["id"].as_str().unwrap());
    let commands = json!({"body": "/approve\n/merge"});
    let (status, _) = w.send(Method::POST, &reply, commands).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(w.gl.approvals(w.project, iid), [w.bot.id]);
    assert_eq!(w.mr_state(iid).state, MergeRequestState::Merged);

    let retarget = json!({"description": "Text\n/target_branch evil"});
    let (status, mr) = w.send(Method::PUT, &mr, retarget).await;
    assert_eq!(status, StatusCode::OK, "{mr}");
    assert_eq!(mr["description"], "Text");
    assert_eq!(mr["target_branch"], "evil");
}

// ---- the product: nothing it posts runs a command ----

#[tokio::test]
async fn hostile_answer_on_an_issue_runs_nothing_through_placeholder_progress_and_result() {
    let w = world().await;
    let (di, t) = w.issue_comment("Typo", "@claude fix");
    let iid = t.noteable.iid();
    let job = job_link(7);
    let placeholder = w.placeholder(&t, Some(&job)).await;

    let progress = Progress::start(
        w.gitlab.clone(),
        placeholder.clone(),
        Some(job.clone()),
        std::sync::Arc::new(w.redactor.clone()),
        ProgressSettings {
            interval: Duration::from_millis(50),
            steps: 5,
        },
    );
    progress.record(&AssistantEvent::ToolCall {
        name: "Bash".into(),
        summary: HOSTILE.into(),
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    progress.stop().await;

    let mut report = ResultReport::new(
        Assistant::Claude,
        Conclusion::Answered {
            text: HOSTILE.into(),
        },
    );
    report.job = Some(job);
    w.publish(&placeholder, &report).await;

    assert!(w.ran().is_empty(), "{:?}", w.ran());
    let issue = w.issue_state(iid);
    assert_eq!(issue.state, IssueState::Opened);
    assert!(issue.labels.is_empty() && issue.assignee_ids.is_empty() && !issue.confidential);
    assert_eq!(issue.title, "Typo");
    let result =
        w.gl.notes(w.project, di)
            .into_iter()
            .find(|n| n.id == placeholder.note.0)
            .expect("the result replaced the placeholder");
    assert_reads_the_same(&result.body);
    let code = "```rust\nfn main() {}\n```";
    assert!(result.body.contains(code), "{}", result.body);
}

#[tokio::test]
async fn hostile_review_threads_and_summary_on_a_merge_request_run_nothing() {
    let w = world().await;
    let iid = w.calc_merge_request();
    let review = Review {
        summary: HOSTILE.into(),
        comments: vec![
            ReviewComment {
                severity: Severity::MustFix,
                suggestion: Some("/merge\n    a + b".into()),
                ..review_comment(2, Side::New, HOSTILE)
            },
            ReviewComment {
                severity: Severity::Nit,
                ..review_comment(90, Side::New, "/approve")
            },
        ],
    };
    let published = w.review(iid, Assistant::Claude, &review).await;
    assert_eq!(published.inline, 1, "{:?}", published.unplaced);
    let asked = w.comment(DoubleNoteable::MergeRequest(iid), "@claude review");
    let t = w.trigger(
        Noteable::MergeRequest(MergeRequestIid(iid)),
        &asked,
        NoteKind::Comment,
    );
    let placeholder = w.placeholder(&t, None).await;
    let mut report = ResultReport::new(
        Assistant::Claude,
        Conclusion::Answered {
            text: published.summary.clone(),
        },
    );
    report.appendix = Some(HOSTILE.into());
    w.publish(&placeholder, &report).await;

    assert!(w.ran().is_empty(), "{:?}", w.ran());
    let mr = w.mr_state(iid);
    assert_eq!(mr.state, MergeRequestState::Opened);
    assert_eq!(mr.target_branch, "main");
    assert_eq!(mr.title, "Fix add");
    assert!(w.gl.approvals(w.project, iid).is_empty());
    let notes = w.gl.notes(w.project, DoubleNoteable::MergeRequest(iid));
    let diff_note = notes
        .iter()
        .find(|n| n.position.is_some())
        .expect("the line comment");
    assert_reads_the_same(&diff_note.body);
}

#[tokio::test]
async fn a_merge_request_from_a_hostile_summary_and_title_runs_nothing() {
    let w = world().await;
    let issue = w.typo_issue();
    let branch = "claude/issue-1-typo";
    w.commit(branch, "fix.txt", "fixed\n", "Fix");
    let draft = MergeRequestDraft {
        assistant: Assistant::Claude,
        issue: IssueIid(issue),
        issue_title: "/close".into(),
        source_branch: branch.into(),
        target_branch: "main".into(),
        summary: HOSTILE.into(),
        requester: Some("dana".into()),
    };
    let project = w.project_ref();
    let (mr, _) = open_merge_request(&w.gitlab, &project, &draft, &w.redactor)
        .await
        .unwrap();
    // Posting again updates the open one: the update path must be inert too.
    open_merge_request(&w.gitlab, &project, &draft, &w.redactor)
        .await
        .unwrap();

    assert!(w.ran().is_empty(), "{:?}", w.ran());
    let stored = w.mr_state(mr.iid.0);
    assert_eq!(stored.state, MergeRequestState::Opened);
    assert_eq!(stored.target_branch, "main");
    assert!(stored.labels.is_empty() && stored.assignee_ids.is_empty());
    assert_reads_the_same(&stored.description);
    assert_eq!(w.issue_state(issue).state, IssueState::Opened);
}

#[tokio::test]
async fn a_refusal_naming_a_hostile_author_runs_nothing() {
    let w = world().await;
    let (_, t) = w.issue_comment("Typo", "@claude go");
    let iid = t.noteable.iid();
    let refusal = Refusal {
        assistant: Assistant::Claude,
        author: Some("gus\n/close\n/label ~pwned".into()),
        required_role: "Developer\n/confidential".into(),
    };
    post_refusal(&w.gitlab, &t, &refusal, &w.redactor)
        .await
        .unwrap();
    assert!(w.ran().is_empty(), "{:?}", w.ran());
    let issue = w.issue_state(iid);
    assert_eq!(issue.state, IssueState::Opened);
    assert!(!issue.confidential);
}

// ---- properties: the double's extractor against the product's neutraliser ----

/// Pieces that exercise every alternative of GitLab's extractor and of CommonMark fences.
const PIECES: &[&str] = &[
    "/close",
    "/merge",
    "/label ~x",
    "/CLOSE",
    "/cloſe",
    "/x",
    "//",
    "/*",
    "/ ",
    "/",
    "\n",
    "\n",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\t",
    "```",
    "```rust",
    "````",
    "~~~",
    "`",
    "<div>",
    "</div>",
    "<",
    ">",
    ">>>",
    "text",
    "&#47;",
    "\\",
    "@",
];

/// Texts of up to 40 of `pieces`, in any order and number.
fn made_of(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(pieces), 0..40).prop_map(|p| p.concat())
}

fn any_text() -> impl Strategy<Value = String> {
    made_of(PIECES)
}

/// Prose pieces: lists, quotes, headings, emphasis and command lines, no code or HTML.
const PROSE: &[&str] = &[
    "/close",
    "/label ~x",
    "/x y",
    "/",
    "text",
    "\n",
    "\n",
    " ",
    "- ",
    "* ",
    "# ",
    "> ",
    "1. ",
    "===",
    "_",
    "~x",
    "@dana",
    "|",
];

fn any_prose() -> impl Strategy<Value = String> {
    made_of(PROSE)
}

/// The CommonMark events of `markdown` with adjacent text merged (an entity splits a text run).
fn rendering(markdown: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut text = String::new();
    for event in pulldown_cmark::Parser::new(markdown) {
        if let pulldown_cmark::Event::Text(t) = event {
            text.push_str(&t);
            continue;
        }
        if !text.is_empty() {
            out.push(format!("Text({text:?})"));
            text.clear();
        }
        out.push(format!("{event:?}"));
    }
    if !text.is_empty() {
        out.push(format!("Text({text:?})"));
    }
    out
}

/// Command names GitLab could know start with a word character; `//` and `/*` lines cannot be
/// commands (see the neutraliser).
fn could_be_a_gitlab_command(name: &str) -> bool {
    !name.starts_with('/') && !name.starts_with('*')
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn neutralised_text_holds_no_command_for_gitlab(text in any_text()) {
        let safe = neutralize(&text);
        let found: Vec<String> = extract(&safe)
            .commands
            .into_iter()
            .map(|c| c.name)
            .filter(|n| could_be_a_gitlab_command(n))
            .collect();
        prop_assert!(found.is_empty(), "{:?} in {:?}", found, safe);
    }

    #[test]
    fn neutralised_prose_renders_exactly_as_before(text in any_prose()) {
        prop_assert_eq!(rendering(&neutralize(&text)), rendering(&text));
    }

    #[test]
    fn neutralising_is_idempotent(text in any_text()) {
        let once = neutralize(&text);
        prop_assert_eq!(neutralize(&once), once);
    }

    #[test]
    fn closed_code_fences_keep_their_bytes(
        before in "[a-z ./\n]{0,30}",
        code in prop::collection::vec("(/[a-z]{1,8}( ~x)?|[a-z /]{0,12})", 1..6),
        after in "[a-z ./\n]{0,30}",
    ) {
        let block = format!("```suggestion:-0+0\n{}\n```", code.join("\n"));
        let text = format!("{before}\n{block}\n{after}");
        let safe = neutralize(&text);
        prop_assert!(safe.contains(&block), "{:?}", safe);
        prop_assert!(extract(&safe).commands.iter().all(|c| !could_be_a_gitlab_command(&c.name)));
    }
}
