//! `explain` with the CI variables our relay and scan set: the note is read back from GitLab
//! (the double), and the decision uses the bot identity behind the token.

use std::collections::HashMap;

use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, NoteSpec, Noteable, SeededNote, Team, TeamSpec,
};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::marker::{NoteRole, marker};
use entrypoint::trigger::decision::{Decision, SkipReason};
use entrypoint::trigger::explain::{Explanation, Options, explain};
use entrypoint::trigger::{NoteKind, Source};

/// The double with a Codex team (`seed_team`), dana's confidential issue, and the variables a
/// job answering on that issue has.
struct Setup {
    gl: GitLabDouble,
    team: Team,
    issue: u64,
    vars: HashMap<String, String>,
}

async fn setup() -> Setup {
    let gl = GitLabDouble::start().await.unwrap();
    let codex = TeamSpec {
        bot_name: "Codex",
        ..TeamSpec::default()
    };
    let team = gl.seed_team(codex).unwrap();
    let flaky = IssueSpec::new(team.dev.id, "Flaky test").confidential();
    let issue = gl.create_issue(team.project, flaky).unwrap().iid;
    let vars = HashMap::from([
        ("GITLAB_TOKEN".to_string(), team.bot.token.clone()),
        ("CI_API_V4_URL".to_string(), gl.api_url()),
        ("CI_PROJECT_ID".to_string(), team.project.to_string()),
        ("AI_ASSISTANT".to_string(), "codex".to_string()),
        ("AI_NOTEABLE_TYPE".to_string(), "issue".to_string()),
        ("AI_NOTEABLE_IID".to_string(), issue.to_string()),
    ]);
    Setup {
        gl,
        team,
        issue,
        vars,
    }
}

impl Setup {
    /// `spec` posted on the issue.
    fn note(&self, spec: NoteSpec) -> SeededNote {
        let issue = Noteable::Issue(self.issue);
        self.gl.add_note(self.team.project, issue, spec).unwrap()
    }

    /// A note by dana saying `body`.
    fn by_dana(&self, body: &str) -> NoteSpec {
        NoteSpec::new(self.team.dev.id, body)
    }

    /// The job's variables with `AI_NOTE_ID` naming `note` (which may not exist).
    fn vars_for(&self, note: impl ToString) -> HashMap<String, String> {
        let mut vars = self.vars.clone();
        vars.insert("AI_NOTE_ID".into(), note.to_string());
        vars
    }
}

/// `explain` with the job's variables `vars`.
async fn explain_with(vars: HashMap<String, String>) -> anyhow::Result<Explanation> {
    let lookup = move |k: &str| vars.get(k).cloned();
    explain(&Options::default(), &lookup, &Handles::default()).await
}

async fn explain_note(s: &Setup, note_id: u64) -> Explanation {
    explain_with(s.vars_for(note_id))
        .await
        .expect("explain succeeds")
}

/// Asserts `e` decided to skip the note for `reason`.
fn skipped(e: &Explanation, reason: SkipReason) {
    assert!(
        matches!(&e.decision, Decision::Skip { reason: r, .. } if *r == reason),
        "{:?}",
        e.decision
    );
}

#[tokio::test]
async fn a_thread_reply_named_by_ci_variables_is_read_back_and_runs() {
    let s = setup().await;
    let first = s.note(s.by_dana("Any idea?").thread());
    let question = s.by_dana("@codex why does this fail?");
    let reply = s.note(question.reply_to(&first.discussion_id));
    let e = explain_note(&s, reply.id).await;
    assert_eq!(e.source, Source::CiVariables);
    assert_eq!(
        e.decision,
        Decision::Run {
            assistants: vec![Assistant::Codex]
        }
    );
    let trigger = e.trigger.unwrap();
    assert!(
        trigger.confidential,
        "the issue's confidentiality is read back"
    );
    let note = trigger.note.unwrap();
    assert_eq!(note.kind, NoteKind::DiscussionNote);
    assert_eq!(
        note.discussion.map(|d| d.to_string()),
        Some(first.discussion_id),
        "the thread is found through the Discussions API"
    );
    assert_eq!(trigger.instruction, "why does this fail?");
    assert!(e.unchecked.is_empty());
}

#[tokio::test]
async fn the_bots_own_notes_and_other_assistants_notes_are_skipped() {
    let s = setup().await;
    let own = s.note(NoteSpec::new(
        s.team.bot.id,
        "I was asked by @codex to look",
    ));
    skipped(&explain_note(&s, own.id).await, SkipReason::OwnNote);

    let claude_only = s.note(s.by_dana("@claude have a look"));
    skipped(
        &explain_note(&s, claude_only.id).await,
        SkipReason::OtherAssistant,
    );

    let placeholder = marker(Assistant::Codex, NoteRole::Placeholder);
    let body = format!("@codex working…\n{placeholder}");
    let copied_placeholder = s.note(s.by_dana(&body));
    skipped(
        &explain_note(&s, copied_placeholder.id).await,
        SkipReason::OurNote,
    );
}

#[tokio::test]
async fn a_deleted_or_foreign_note_is_one_clear_line() {
    let s = setup().await;
    let err = explain_with(s.vars_for(987654)).await.unwrap_err();
    let line = format!("{err:#}");
    assert!(
        line.contains("AI_NOTE_ID 987654 is not a note on #"),
        "{line}"
    );
    assert!(!line.contains(&s.vars["GITLAB_TOKEN"]));
}

/// `entrypoint run` for the note `note_id` with `vars`, as the job's binary calls it.
async fn run_job(
    vars: HashMap<String, String>,
) -> anyhow::Result<entrypoint::answer::in_job::JobEnd> {
    let lookup = move |k: &str| vars.get(k).cloned();
    let handles = Handles::default();
    let options = entrypoint::run::RunOptions {
        assistant: Assistant::Codex,
        handles: handles.clone(),
    };
    let redactor = std::sync::Arc::new(entrypoint::redact::Redactor::new(handles));
    entrypoint::run::run(&options, &lookup, redactor).await
}

#[tokio::test]
async fn a_note_deleted_before_the_job_ends_the_run_quietly_and_posts_nothing() {
    let s = setup().await;
    let end = run_job(s.vars_for(987654))
        .await
        .expect("a deleted note is not an error");
    let entrypoint::answer::in_job::JobEnd::Skipped { reason } = end else {
        panic!("expected a skip, got {end:?}");
    };
    assert!(reason.contains("no longer exists"), "{reason}");
    assert!(
        s.gl.notes(s.team.project, Noteable::Issue(s.issue))
            .is_empty(),
        "nothing posted"
    );
}

#[tokio::test]
async fn a_missing_project_fails_the_run_and_is_not_called_a_deleted_note() {
    let s = setup().await;
    let note = s.note(s.by_dana("@codex fix it")).id;
    let mut vars = s.vars_for(note);
    vars.insert("CI_PROJECT_ID".into(), "999999".into());
    let err = run_job(vars)
        .await
        .expect_err("a missing project fails the job");
    let line = format!("{err:#}");
    assert!(line.contains("project 999999 was not found"), "{line}");
    assert!(!line.contains("deleted"), "{line}");
    assert!(!line.contains(&s.vars["GITLAB_TOKEN"]), "{line}");
}
