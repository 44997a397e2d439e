//! What a run posts, against the GitLab double: placeholders where people look, refreshes that
//! never leak, results that replace the placeholder, review threads on the right lines, the
//! issue's merge request, and `finalize` for jobs that never got to post a result.

use crate::support::seeded::{Publishing as World, job_link, review_comment};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use doubles::gitlab::double::{IssueSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable, UserSpec};
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::gitlab::repo::{FileChange, Signature};
use entrypoint::agent::events::AssistantEvent;
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, MergeRequestIid, NoteId, Noteable};
use entrypoint::gitlab::merge_requests::Upsert;
use entrypoint::marker::{NoteRole, marker};
use entrypoint::mention::find_mentions;
use entrypoint::publish::finalize::{self, JobEnd, Lookup};
use entrypoint::publish::merge_request::{MergeRequestDraft, open_merge_request};
use entrypoint::publish::progress::{Progress, ProgressSettings};
use entrypoint::publish::result::{Conclusion, Failure, Refusal, ResultReport, post_refusal};
use entrypoint::publish::review::{Review, ReviewComment, Severity, Side};
use entrypoint::publish::state::StateFile;
use entrypoint::publish::{JobLink, Placeholder};
use entrypoint::redact::Redactor;
use entrypoint::trigger::{NoteKind, Trigger};
use entrypoint::workspace::BranchPrefix;

const SECRET: &str = "sk-ant-api03-very-secret-key-0123456789";

/// The seeded double, with a redactor that knows [`SECRET`].
async fn world() -> World {
    World::start(Redactor::from_vars(
        [("ANTHROPIC_API_KEY", SECRET)],
        Handles::default(),
    ))
    .await
}

fn job() -> JobLink {
    job_link(77)
}

fn note_body(w: &World, noteable: DoubleNoteable, id: NoteId) -> String {
    w.gl.notes(w.project, noteable)
        .into_iter()
        .find(|n| n.id == id.0)
        .map(|n| n.body)
        .unwrap_or_else(|| panic!("note {id} exists"))
}

fn answered(text: &str) -> ResultReport {
    let mut report = ResultReport::new(
        Assistant::Claude,
        Conclusion::Answered { text: text.into() },
    );
    report.job = Some(job());
    report.duration = Some(Duration::from_secs(65));
    report
}

#[tokio::test]
async fn thread_mention_gets_a_placeholder_reply_that_the_answer_replaces() {
    let w = world().await;
    let issue = w.issue("Flaky test");
    let di = DoubleNoteable::Issue(issue);
    let started = w.note(di, NoteSpec::new(w.dev.id, "Why is this flaky?").thread());
    let asked = w.note(
        di,
        NoteSpec::new(w.dev.id, "@claude any idea?").reply_to(&started.discussion_id),
    );
    let t = w.trigger(
        Noteable::Issue(IssueIid(issue)),
        &asked,
        NoteKind::DiscussionNote,
    );

    let placeholder = w.placeholder(&t, Some(&job())).await;
    let notes = w.gl.notes(w.project, di);
    let posted = notes.iter().find(|n| n.id == placeholder.note.0).unwrap();
    assert_eq!(
        posted.discussion_id, started.discussion_id,
        "a reply in the same thread"
    );
    assert_eq!(posted.author_id, w.bot.id);
    crate::assert_note_snapshot!("thread_placeholder", posted.body);

    let report = answered(&format!(
        "The clock is mocked wrongly. Ask @codex to double-check. Key: {SECRET}"
    ));
    w.publish(&placeholder, &report).await;
    let notes_after = w.gl.notes(w.project, di);
    assert_eq!(notes_after.len(), notes.len(), "replaced, not posted anew");
    let body = note_body(&w, di, placeholder.note);
    // Spelled out although the snapshot shows it: a leak or a live mention is never accepted
    // by updating a snapshot.
    assert!(!body.contains(SECRET), "{body}");
    assert!(
        find_mentions(&body, &Handles::default()).is_empty(),
        "{body}"
    );
    crate::assert_note_snapshot!("thread_result", body);
}

#[tokio::test]
async fn confidential_issue_gets_internal_notes_and_a_relay_placeholder_is_reused() {
    let w = world().await;
    let issue =
        w.gl.create_issue(w.project, IssueSpec::new(w.dev.id, "Leak").confidential())
            .unwrap();
    let di = DoubleNoteable::Issue(issue.iid);
    let asked = w.comment(di, "@claude look");
    let mut t = w.trigger(
        Noteable::Issue(IssueIid(issue.iid)),
        &asked,
        NoteKind::Comment,
    );
    t.confidential = true;
    let placeholder = w.placeholder(&t, Some(&job())).await;
    let posted =
        w.gl.notes(w.project, di)
            .into_iter()
            .find(|n| n.id == placeholder.note.0)
            .unwrap();
    assert!(posted.internal, "confidential issue → internal note");
    assert!(posted.individual, "a plain comment, not a reply");

    let relay =
        w.gl.add_note(
            w.project,
            di,
            NoteSpec::new(w.bot.id, "Claude will look at this.").internal(),
        )
        .unwrap();
    t.placeholder = Some(NoteId(relay.id));
    let reused = w.placeholder(&t, Some(&job())).await;
    assert_eq!(reused.note, NoteId(relay.id));
    assert!(note_body(&w, di, reused.note).contains("[job #77]"));
}

#[tokio::test]
async fn a_deleted_placeholder_still_gets_its_answer() {
    let w = world().await;
    let issue = w.issue("Q");
    let di = DoubleNoteable::Issue(issue);
    let gone = Placeholder {
        assistant: Assistant::Claude,
        project: w.project_ref(),
        noteable: Noteable::Issue(IssueIid(issue)),
        note: NoteId(999_999),
        discussion: None,
    };
    let note = w.publish(&gone, &answered("42")).await;
    assert!(note_body(&w, di, note.id).contains("42"));
}

#[tokio::test]
async fn progress_shows_the_latest_steps_redacted_and_survives_gitlab_failures() {
    let w = world().await;
    let (di, t) = w.issue_comment("Q", "@claude go");
    let placeholder = w.placeholder(&t, Some(&job())).await;
    let settings = ProgressSettings {
        interval: Duration::from_millis(100),
        steps: 3,
    };
    let progress = Progress::start(
        w.gitlab.clone(),
        placeholder.clone(),
        Some(job()),
        Arc::new(w.redactor.clone()),
        settings,
    );
    for i in 0..5 {
        progress.record(&AssistantEvent::ToolCall {
            name: "Bash".into(),
            summary: format!("step {i} with {SECRET} for @codex"),
        });
    }
    progress.record(&AssistantEvent::Message {
        text: "the prompt must never show".into(),
    });
    wait_until(|| note_body(&w, di, placeholder.note).contains("step 4")).await;
    let body = note_body(&w, di, placeholder.note);
    assert!(body.contains("Latest steps (5 so far)"), "{body}");
    assert!(body.contains("step 4") && body.contains("step 2") && !body.contains("step 1"));
    assert!(
        !body.contains(SECRET) && !body.contains("the prompt"),
        "{body}"
    );
    assert!(find_mentions(&body, &Handles::default()).is_empty());
    assert!(body.contains(&marker(Assistant::Claude, NoteRole::Placeholder)));

    // The double logs a request after answering it, so a refresh seen in the note may not be
    // counted yet: wait until the count has held still for a few intervals.
    let puts_before = settled_put_count(&w).await;
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(put_count(&w), puts_before, "no refresh without new steps");

    let faults = w.gl.faults();
    faults.add(FaultRule {
        method: Some("PUT".into()),
        path: "/api/v4/projects/*/issues/*/notes/*".into(),
        action: FaultAction::Status { code: 500 },
        schedule: Schedule::Always,
    });
    progress.record(&AssistantEvent::ToolCall {
        name: "Edit".into(),
        summary: "src/lib.rs".into(),
    });
    wait_until(|| faults.injected() >= 3).await;
    tokio::time::timeout(Duration::from_secs(5), progress.stop())
        .await
        .expect("stopping never hangs on a failing GitLab");
    assert!(!note_body(&w, di, placeholder.note).contains("src/lib.rs"));
}

/// Polls `condition` for up to ten seconds (the machine is shared, so timings stretch).
async fn wait_until(condition: impl Fn() -> bool) {
    for _ in 0..200 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the condition did not come true within ten seconds");
}

async fn settled_put_count(w: &World) -> usize {
    let mut last = put_count(w);
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = put_count(w);
        if now == last {
            return now;
        }
        last = now;
    }
}

fn put_count(w: &World) -> usize {
    w.gl.requests()
        .iter()
        .filter(|r| r.method == "PUT" && r.path.contains("/notes/"))
        .count()
}

fn author() -> Signature {
    Signature {
        name: "Dana".into(),
        email: "dana@example.com".into(),
    }
}

/// An MR changing line 2 of a 5-line file: lines 1 and 3-5 are context.
fn review_world_mr(w: &World) -> u64 {
    let repo = w.gl.repo(w.project).unwrap();
    w.commit(
        "main",
        "src/calc.rs",
        "fn add(a: i32, b: i32) -> i32 {\n    a - b\n}\n\nfn main() {}\n",
        "Calc",
    );
    repo.commit(
        "fix/add",
        &[FileChange::Write {
            path: "src/calc.rs".into(),
            content:
                b"fn add(a: i32, b: i32) -> i32 {\n    a + b\n    // done\n}\n\nfn main() {}\n"
                    .to_vec(),
        }],
        "Fix add",
        &author(),
    )
    .unwrap();
    w.gl.create_merge_request(
        w.project,
        MrSpec::new(w.dev.id, "fix/add", "main", "Fix add"),
    )
    .unwrap()
    .iid
}

#[tokio::test]
async fn review_comments_land_on_their_lines_and_the_rest_falls_back_to_the_summary() {
    let w = world().await;
    let iid = review_world_mr(&w);
    let review = Review {
        summary: "Mostly fine.".into(),
        comments: vec![
            ReviewComment {
                suggestion: Some("    a.wrapping_add(b)\n    // checked".into()),
                end_line: Some(3),
                ..review_comment(2, Side::New, "Overflow?")
            },
            review_comment(1, Side::New, "Context line"),
            review_comment(2, Side::Old, "The old bug"),
            review_comment(40, Side::New, "Outside the diff"),
        ],
    };
    let published = w.review(iid, Assistant::Claude, &review).await;
    assert_eq!(published.inline, 3, "{:?}", published.unplaced);
    assert_eq!(published.unplaced.len(), 1);
    crate::assert_note_snapshot!("review_summary_with_unplaced_comment", published.summary);

    let threads: Vec<_> =
        w.gl.notes(w.project, DoubleNoteable::MergeRequest(iid))
            .into_iter()
            .filter(|n| n.position.is_some())
            .collect();
    assert_eq!(threads.len(), 3);
    let at = |needle: &str| {
        let n = threads.iter().find(|n| n.body.contains(needle)).unwrap();
        let p = n.position.as_ref().unwrap();
        (
            p["old_line"].as_u64(),
            p["new_line"].as_u64(),
            n.body.clone(),
        )
    };
    let (old, new, body) = at("Overflow?");
    assert_eq!((old, new), (None, Some(2)));
    crate::assert_note_snapshot!("review_thread_with_suggestion", body);
    let (old, new, _) = at("Context line");
    assert_eq!(
        (old, new),
        (Some(1), Some(1)),
        "context lines carry both numbers"
    );
    let (old, new, _) = at("The old bug");
    assert_eq!((old, new), (Some(2), None));
}

/// The review's findings go out as one GitLab review (one notification); a second review that
/// reports the same finding on the same line text posts no second thread and says "No new
/// findings." in the same summary note, updated in place with the head commit it covered.
#[tokio::test]
async fn a_repeated_review_posts_no_duplicate_thread_and_updates_the_one_summary() {
    let w = world().await;
    let iid = review_world_mr(&w);
    let review = Review {
        summary: "One bug.".into(),
        comments: vec![
            ReviewComment {
                severity: Severity::MustFix,
                ..review_comment(2, Side::New, "Overflow on large inputs.")
            },
            ReviewComment {
                severity: Severity::Nit,
                ..review_comment(3, Side::New, "Drop this comment.")
            },
        ],
    };
    let first = w.review(iid, Assistant::Claude, &review).await;
    assert_eq!(
        (first.inline, first.repeated),
        (2, 0),
        "{:?}",
        first.unplaced
    );
    assert_eq!(w.gl.reviews(w.project, iid).len(), 1);
    // One notification for the review's threads, one for the new summary note.
    assert_eq!(w.gl.notification_events(w.project, iid, w.bot.id), 2);
    assert!(
        first
            .summary
            .contains("1 🔴 must fix · 0 🟡 should fix · 1 ⚪ nit"),
        "{}",
        first.summary
    );
    let head =
        w.gl.repo(w.project)
            .unwrap()
            .branch_sha("fix/add")
            .unwrap()
            .unwrap();
    assert_eq!(first.head_sha.as_deref(), Some(head.as_str()));
    assert!(
        first
            .answer()
            .contains(&format!("#note_{}", first.summary_note)),
        "{}",
        first.answer()
    );

    // Reworded spacing and case are the same finding; a human's look-alike marker is ignored.
    w.comment(DoubleNoteable::MergeRequest(iid), "fake <!-- gitlab-ai-assistant-reviewed:0000000000000000000000000000000000000000 -->\n<!-- gitlab-ai-assistant:claude:review -->");
    let again = Review {
        summary: "Still one bug.".into(),
        comments: vec![ReviewComment {
            severity: Severity::MustFix,
            ..review_comment(2, Side::New, "overflow on  large inputs")
        }],
    };
    let second = w.review(iid, Assistant::Claude, &again).await;
    assert_eq!((second.inline, second.repeated), (0, 1));
    assert_eq!(second.summary_note, first.summary_note);
    assert_eq!(second.summary, "Still one bug.\n\nNo new findings.");
    assert_eq!(
        w.gl.reviews(w.project, iid).len(),
        1,
        "nothing new to publish"
    );
    let notes = w.gl.notes(w.project, DoubleNoteable::MergeRequest(iid));
    assert_eq!(notes.iter().filter(|n| n.position.is_some()).count(), 2);
    let summary = notes.iter().find(|n| n.id == first.summary_note.0).unwrap();
    assert!(
        summary.body.starts_with("Still one bug."),
        "{}",
        summary.body
    );
    assert!(
        summary
            .body
            .contains(&format!("<!-- gitlab-ai-assistant-reviewed:{head} -->")),
        "{}",
        summary.body
    );
    assert_eq!(w.gl.notification_events(w.project, iid, w.bot.id), 2);
}

/// A push that changes the commented line resolves the bot's thread with a reply naming the
/// commit, in the next review's one notification; a thread a person answered stays open.
#[tokio::test]
async fn a_push_that_fixes_a_finding_resolves_its_thread_unless_a_person_replied() {
    let w = world().await;
    let iid = review_world_mr(&w);
    let project = w.project_ref();
    let first = Review {
        summary: "Two things.".into(),
        comments: vec![
            review_comment(2, Side::New, "Check for overflow."),
            review_comment(3, Side::New, "Say what is done."),
        ],
    };
    w.review(iid, Assistant::Claude, &first).await;
    let threads = w
        .gitlab
        .discussions(&project, Noteable::MergeRequest(MergeRequestIid(iid)))
        .await
        .unwrap();
    let on = |needle: &str| {
        threads
            .iter()
            .find(|t| t.notes[0].body.contains(needle))
            .unwrap()
            .id
            .clone()
    };
    let (overflow, done) = (on("Check for overflow."), on("Say what is done."));
    w.note(
        DoubleNoteable::MergeRequest(iid),
        NoteSpec::new(w.dev.id, "I disagree, see the spec.").reply_to(done.as_str()),
    );
    // The author rewrites both lines.
    let fix = w
        .gl
        .repo(w.project)
        .unwrap()
        .commit(
            "fix/add",
            &[FileChange::Write {
                path: "src/calc.rs".into(),
                content: b"fn add(a: i32, b: i32) -> i32 {\n    a.checked_add(b).unwrap_or(i32::MAX)\n    // saturating\n}\n\nfn main() {}\n".to_vec(),
            }],
            "Saturate",
            &author(),
        )
        .unwrap();
    let second = Review {
        summary: "Better.".into(),
        comments: Vec::new(),
    };
    let published = w.review(iid, Assistant::Claude, &second).await;
    assert_eq!(published.resolved, 1);
    assert!(
        published.summary.contains("No new findings."),
        "{}",
        published.summary
    );
    assert!(
        published.summary.contains("1 earlier finding addressed"),
        "{}",
        published.summary
    );
    let mr = Noteable::MergeRequest(MergeRequestIid(iid));
    let fixed = w.gitlab.discussion(&project, mr, &overflow).await.unwrap();
    assert!(fixed.is_resolved(), "{fixed:?}");
    assert_eq!(fixed.notes.len(), 2);
    assert!(
        fixed.notes[1]
            .body
            .starts_with(&format!("Addressed in `{}`.", &fix[..8])),
        "{}",
        fixed.notes[1].body
    );
    let disputed = w.gitlab.discussion(&project, mr, &done).await.unwrap();
    assert!(
        !disputed.is_resolved(),
        "a thread a person answered stays open"
    );
    assert_eq!(w.gl.reviews(w.project, iid).len(), 2);
}

#[tokio::test]
async fn a_comment_gitlab_refuses_is_listed_in_the_summary() {
    let w = world().await;
    let iid = review_world_mr(&w);
    w.gl.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v4/projects/*/merge_requests/*/draft_notes".into(),
        action: FaultAction::Status { code: 400 },
        schedule: Schedule::Always,
    });
    let review = Review {
        summary: "See below.".into(),
        comments: vec![review_comment(2, Side::New, "Refused one")],
    };
    let published = w.review(iid, Assistant::Codex, &review).await;
    assert_eq!(published.inline, 0);
    assert!(
        published
            .summary
            .contains("- `src/calc.rs:2` **🟡 should fix** — Refused one")
    );
    assert!(
        published.unplaced[0]
            .reason
            .starts_with("GitLab refused it")
    );
}

#[tokio::test]
async fn issue_run_opens_a_merge_request_that_closes_the_issue_and_reruns_update_it() {
    let w = world().await;
    let issue = w.issue("Add a CHANGELOG");
    let branch = BranchPrefix::new("claude/")
        .unwrap()
        .issue_branch(IssueIid(issue), "Add a CHANGELOG")
        .to_string();
    assert_eq!(branch, format!("claude/issue-{}-add-a-changelog", issue));
    w.commit(&branch, "CHANGELOG.md", "# Changelog\n", "Add CHANGELOG");
    let mut draft = MergeRequestDraft {
        assistant: Assistant::Claude,
        issue: IssueIid(issue),
        issue_title: "Add a CHANGELOG".into(),
        source_branch: branch.clone(),
        target_branch: "main".into(),
        summary: "Added CHANGELOG.md.".into(),
        requester: Some("dana".into()),
    };
    let project = w.project_ref();
    let (mr, upsert) = open_merge_request(&w.gitlab, &project, &draft, &w.redactor)
        .await
        .unwrap();
    assert_eq!(upsert, Upsert::Created);
    assert_eq!(mr.title, "Resolve \"Add a CHANGELOG\"");
    let description = mr.description.unwrap_or_default();
    assert!(
        description.contains(&format!("Closes #{}", issue)),
        "{description}"
    );
    assert!(description.contains("Requested by @dana."));

    draft.summary = "Added CHANGELOG.md with the 1.0 entry.".into();
    let (again, upsert) = open_merge_request(&w.gitlab, &project, &draft, &w.redactor)
        .await
        .unwrap();
    assert_eq!(upsert, Upsert::Updated);
    assert_eq!(again.iid, mr.iid);
    assert_eq!(w.gl.merge_requests(w.project).len(), 1);
    assert!(
        w.gl.merge_requests(w.project)[0]
            .description
            .starts_with("Added CHANGELOG.md with the 1.0 entry.")
    );
}

/// `finalize` for this job (77) as its `after_script` runs it, with the job's state file or a
/// thread lookup.
async fn end_job(
    w: &World,
    end: JobEnd,
    state: Option<&mut StateFile>,
    lookup: Option<&Lookup>,
) -> finalize::FinalizeReport {
    finalize::finalize(&w.gitlab, end, Some(&job()), state, lookup, &w.redactor)
        .await
        .unwrap()
}

/// Two placeholders of this job, recorded in a new state file in a directory of its own.
struct Recorded {
    _dir: tempfile::TempDir,
    path: PathBuf,
    state: StateFile,
    placeholders: [Placeholder; 2],
}

impl Recorded {
    /// The state file as a new process (the `after_script`) reads it from disk.
    fn reload(&self) -> StateFile {
        StateFile::load(&self.path)
            .expect("the state file reads")
            .expect("the state file exists")
    }
}

/// Two placeholders of this job for `t`, recorded in a new state file.
async fn recorded_placeholders(w: &World, t: &Trigger) -> Recorded {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    let mut state = StateFile::create(path.clone());
    let first = w.placeholder(t, Some(&job())).await;
    state.record_placeholder(&first, false).unwrap();
    let second = w.placeholder(t, Some(&job())).await;
    state.record_placeholder(&second, false).unwrap();
    Recorded {
        _dir: dir,
        path,
        state,
        placeholders: [first, second],
    }
}

#[tokio::test]
async fn cancelled_job_never_leaves_placeholder() {
    let w = world().await;
    let (di, t) = w.issue_comment("Q", "@claude go");
    let mut recorded = recorded_placeholders(&w, &t).await;
    let [working, done] = recorded.placeholders.clone();
    w.publish(&done, &answered("All good")).await;
    recorded.state.mark_finalized(done.note).unwrap();

    // after_script, in a new process: the state comes from disk.
    let mut loaded = recorded.reload();
    let report = end_job(&w, JobEnd::Cancelled, Some(&mut loaded), None).await;
    assert_eq!(report.replaced, [working.note]);
    crate::assert_note_snapshot!("cancelled", note_body(&w, di, working.note));
    assert!(
        note_body(&w, di, done.note).contains("All good"),
        "a finished note is never touched"
    );

    let puts = put_count(&w);
    let mut reloaded = recorded.reload();
    let again = end_job(&w, JobEnd::Cancelled, Some(&mut reloaded), None).await;
    assert!(again.replaced.is_empty() && again.untouched.is_empty());
    assert_eq!(put_count(&w), puts, "finalize is idempotent");
}

#[tokio::test]
async fn without_a_state_file_finalize_finds_this_jobs_placeholder_in_the_thread() {
    let w = world().await;
    let (di, t) = w.issue_comment("Q", "@claude go");
    let other_job = job_link(5);
    let older = w.placeholder(&t, Some(&other_job)).await;
    let ours = w.placeholder(&t, Some(&job())).await;

    let vars = |name: &str| -> Option<String> {
        match name {
            "CI_JOB_STATUS" => Some("timedout".into()),
            "CI_JOB_URL" => Some(job().url),
            "CI_JOB_ID" => Some("77".into()),
            "CI_API_V4_URL" => Some(w.gl.api_url()),
            "GITLAB_TOKEN" => Some(w.bot.token.clone()),
            "CI_PROJECT_ID" => Some(w.project.to_string()),
            "AI_ASSISTANT" => Some("claude".into()),
            "AI_NOTEABLE_TYPE" => Some("issue".into()),
            "AI_NOTEABLE_IID" => Some(t.noteable.iid().to_string()),
            "AI_NOTE_ID" => t.note.as_ref().map(|n| n.id.0.to_string()),
            "AI_STATE_FILE" => Some("/nonexistent/dir/state.json".into()),
            _ => None,
        }
    };
    let report = finalize::run_command(&vars, &w.redactor).await.unwrap();
    assert_eq!(report.replaced, [ours.note]);
    assert!(note_body(&w, di, ours.note).contains("ran out of time"));
    assert!(
        note_body(&w, di, older.note).contains("is working"),
        "another job's placeholder is not ours to end"
    );

    let lookup = Lookup {
        project: w.project_ref(),
        noteable: t.noteable,
        assistant: Assistant::Claude,
        placeholder: None,
    };
    let again = end_job(&w, JobEnd::TimedOut, None, Some(&lookup)).await;
    assert!(again.replaced.is_empty(), "the ended note is final");
}

#[tokio::test]
async fn a_failed_run_explains_what_to_do() {
    let w = world().await;
    let (di, t) = w.issue_comment("Q", "@claude go");
    let placeholder = w.placeholder(&t, Some(&job())).await;
    let mut report = ResultReport::new(
        Assistant::Claude,
        Conclusion::Failed(Failure::ModelUnauthorized {
            key_variable: "ANTHROPIC_API_KEY".into(),
        }),
    );
    report.job = Some(job());
    w.publish(&placeholder, &report).await;
    crate::assert_note_snapshot!("model_unauthorized", note_body(&w, di, placeholder.note));
}

#[tokio::test]
async fn a_guest_is_told_politely_which_role_is_needed_in_the_same_thread() {
    let w = world().await;
    let mr_iid = review_world_mr(&w);
    let dm = DoubleNoteable::MergeRequest(mr_iid);
    let guest = w.gl.add_user(UserSpec::human("gus")).unwrap();
    w.gl.add_member(w.project, guest.id, 10).unwrap();
    let asked =
        w.gl.add_note(
            w.project,
            dm,
            NoteSpec::new(guest.id, "@claude review this").thread(),
        )
        .unwrap();
    let t = w.trigger(
        Noteable::MergeRequest(MergeRequestIid(mr_iid)),
        &asked,
        NoteKind::DiscussionNote,
    );
    let refusal = Refusal {
        assistant: Assistant::Claude,
        author: Some("gus".into()),
        required_role: "Developer".into(),
    };
    let note = post_refusal(&w.gitlab, &t, &refusal, &w.redactor)
        .await
        .unwrap();
    let posted =
        w.gl.notes(w.project, dm)
            .into_iter()
            .find(|n| n.id == note.id.0)
            .unwrap();
    assert_eq!(posted.discussion_id, asked.discussion_id);
    crate::assert_note_snapshot!("refusal", posted.body);
}

#[tokio::test]
async fn finalize_ends_every_other_placeholder_when_gitlab_fails_on_one() {
    let w = world().await;
    let (di, t) = w.issue_comment("Q", "@claude go");
    let mut recorded = recorded_placeholders(&w, &t).await;
    let [broken, fine] = recorded.placeholders.clone();

    let fault = w.gl.faults().add(FaultRule {
        method: Some("GET".into()),
        path: format!("/api/v4/projects/*/issues/*/notes/{}", broken.note),
        action: FaultAction::Status { code: 500 },
        schedule: Schedule::Always,
    });
    let report = end_job(&w, JobEnd::Failed, Some(&mut recorded.state), None).await;
    assert_eq!(report.replaced, [fine.note]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].0, broken.note);
    assert!(note_body(&w, di, fine.note).contains("the job failed"));

    // A second after_script attempt (or a retry) picks up the one that failed.
    w.gl.faults().remove(fault);
    let mut reloaded = recorded.reload();
    let retry = end_job(&w, JobEnd::Failed, Some(&mut reloaded), None).await;
    assert_eq!(retry.replaced, [broken.note]);
    assert!(note_body(&w, di, broken.note).contains("the job failed"));
}
