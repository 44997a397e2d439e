//! The acknowledgement job of a webhook pipeline (`entrypoint ack`, the templates' `ai-*-ack`
//! job in the slim image) against the GitLab double, then the assistant job that `needs:` it,
//! given the ack job's dotenv report as GitLab passes it: as variables of the job.
//! Each test is named after what the person who commented sees.

use std::path::{Path, PathBuf};
use std::process::Output;

use doubles::gitlab::double::{NoteSpec, Noteable as DoubleNoteable};
use doubles::gitlab::model::Note;
use entrypoint::agent::Assistant;
use entrypoint::claim::{emoji, handover_emoji};
use entrypoint::marker::{NoteRole, marker};

use crate::support::note_hook::hooked_comment;
use crate::support::story::{Story, story_world};

const SLIM_IMAGE: &str = "registry.example.com/gitlab-ai/gitlab-ai/entrypoint:0.1.0";

story_world!();

async fn world() -> World {
    World {
        story: Story::team(true).await,
    }
}

/// The ack job's dotenv report, parsed as GitLab does (`KEY=value` lines).
fn report(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .expect("the dotenv report was written")
        .lines()
        .map(|line| {
            let (k, v) = line.split_once('=').expect("KEY=value");
            (k.to_owned(), v.to_owned())
        })
        .collect()
}

impl World {
    fn widgets_issue(&self) -> DoubleNoteable {
        DoubleNoteable::Issue(self.issue("Widgets"))
    }

    /// Runs `entrypoint <args>` as a webhook pipeline's job, with `extra` variables.
    fn job(&self, args: &[&str], payload: &Path, extra: &[(String, String)]) -> Output {
        let mut command = std::process::Command::new(
            doubles::binaries::entrypoint().expect("the entrypoint binary"),
        );
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .envs(self.job_vars("4241"))
            .env("CI_PIPELINE_SOURCE", "trigger")
            .env("CI_PROJECT_DIR", self.dir.path())
            .env("CI_JOB_IMAGE", SLIM_IMAGE)
            .env("TRIGGER_PAYLOAD", payload);
        for (name, value) in extra {
            command.env(name, value);
        }
        let output = command.output().expect("the binary runs");
        eprintln!(
            "--- entrypoint {args:?} ({:?}) ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// The ack job: runs it and returns its dotenv report.
    fn ack(&self, payload: &Path) -> Vec<(String, String)> {
        self.ack_with(payload, &[])
    }

    /// [`World::ack`] in a pipeline with `extra` variables.
    fn ack_with(&self, payload: &Path, extra: &[(String, String)]) -> Vec<(String, String)> {
        let dotenv = self.dir.path().join("ai-ack.env");
        let _ = std::fs::remove_file(&dotenv);
        let out = self.job(
            &[
                "ack",
                "--assistant",
                "claude",
                "--dotenv",
                dotenv.to_str().expect("utf-8 path"),
            ],
            payload,
            extra,
        );
        assert!(out.status.success(), "the ack job succeeds");
        report(&dotenv)
    }

    /// The assistant job given the report `handed` of an ack that finished the comment: it
    /// succeeds and calls no API (none since the double's requests were last cleared).
    fn run_does_nothing(&self, payload: &Path, handed: &[(String, String)]) {
        let out = self.job(&["run", "--assistant", "claude"], payload, handed);
        assert!(out.status.success());
        assert_eq!(self.api_requests(), Vec::<String>::new());
    }

    /// The bot's one note on `issue`, which carries the marker of `role`.
    fn only_bot_note(&self, issue: DoubleNoteable, role: NoteRole) -> Note {
        let bot_notes = self.bot_notes(issue);
        assert_eq!(bot_notes.len(), 1, "one note of the bot: {bot_notes:#?}");
        let note = bot_notes[0].clone();
        assert!(
            note.body.contains(&marker(Assistant::Claude, role)),
            "{}",
            note.body
        );
        note
    }

    /// dana's request to Claude on a new issue "Widgets": the issue, the note, and the note's
    /// TRIGGER_PAYLOAD file.
    fn mention(&self) -> (DoubleNoteable, u64, PathBuf) {
        let issue = self.widgets_issue();
        let (note, payload) =
            hooked_comment(self, issue, self.dev.id, "@claude please fix the greeting");
        (issue, note, payload)
    }

    /// The assistant job after the ack posted `placeholder` for `note`, with `vars` (the ack's
    /// report among them) as its variables and a CLI that fails at once: it takes the
    /// placeholder over instead of claiming again ([`World::assert_taken_over`]).
    fn takes_over(
        &self,
        issue: DoubleNoteable,
        note: u64,
        placeholder: u64,
        payload: &Path,
        vars: &[(String, String)],
    ) {
        let awards_before = self.gl.awards(note).len();
        self.run_failing_cli(payload, vars);
        self.assert_taken_over(issue, placeholder, note, awards_before);
    }

    /// The assistant job after a posted acknowledgement, with `vars` as its variables and a
    /// CLI that fails at once: whatever it ends with must land in the ack's placeholder.
    fn run_failing_cli(&self, payload: &Path, vars: &[(String, String)]) {
        let lease = doubles::sandbox::UidLease::take();
        let mut extra = vars.to_vec();
        extra.extend(pairs(&[
            ("CLAUDE_API_KEY", "sk-ant-ack-test-0a1b2c"),
            ("AI_SANDBOX", "off"),
            ("AI_CLAUDE_BIN", "/bin/false"),
            ("AI_TIMEOUT", "60s"),
        ]));
        extra.push(("AI_SANDBOX_UID".to_owned(), lease.uid.to_string()));
        extra.push((
            "CI_REPOSITORY_URL".to_owned(),
            self.gl.git_url(self.project).expect("git url"),
        ));
        let _ = self.job(&["run", "--assistant", "claude"], payload, &extra);
    }

    /// The bot's only note on `issue` is `placeholder`, no longer saying "working", and the
    /// note's reactions are as many as `awards_before` (no second claim).
    fn assert_taken_over(
        &self,
        issue: DoubleNoteable,
        placeholder: u64,
        note: u64,
        awards_before: usize,
    ) {
        let bot_notes = self.bot_notes(issue);
        assert_eq!(bot_notes.len(), 1, "one note, the ack's: {bot_notes:#?}");
        assert_eq!(bot_notes[0].id, placeholder);
        assert!(
            !bot_notes[0]
                .body
                .contains(&marker(Assistant::Claude, NoteRole::Placeholder)),
            "the placeholder no longer says working: {}",
            bot_notes[0].body
        );
        assert_eq!(self.gl.awards(note).len(), awards_before, "no second claim");
    }

    /// `METHOD path` of each API request the double recorded, in order.
    fn api_requests(&self) -> Vec<String> {
        let requests = self.gl.requests().into_iter();
        let api = requests.filter(|r| r.path.starts_with("/api/"));
        api.map(|r| format!("{} {}", r.method, r.path)).collect()
    }
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The report of an ack that had nothing to hand over: the assistant job runs on the slim image.
fn done() -> Vec<(String, String)> {
    pairs(&[("AI_ACK", "done"), ("AI_JOB_IMAGE", SLIM_IMAGE)])
}

/// The report of an ack that posted `placeholder` and handed the claim over.
fn posted(placeholder: u64) -> Vec<(String, String)> {
    pairs(&[
        ("AI_ACK", "posted"),
        ("AI_PLACEHOLDER_NOTE_ID", &placeholder.to_string()),
    ])
}

#[tokio::test]
async fn a_comment_without_a_mention_runs_only_the_slim_image_and_costs_no_api_call() {
    let w = world().await;
    let issue = w.widgets_issue();
    let (_, payload) = hooked_comment(&w, issue, w.dev.id, "thanks, looks good");
    w.gl.clear_requests();

    let handed = w.ack(&payload);

    assert_eq!(handed, done());
    // The assistant job, now on the slim image, with the report's variables: done at once.
    w.run_does_nothing(&payload, &handed);
    assert!(w.bot_notes(issue).is_empty());
}

#[tokio::test]
async fn a_mention_is_acknowledged_by_the_slim_job_with_one_placeholder_and_a_handed_over_claim() {
    let w = world().await;
    let (issue, note, payload) = w.mention();

    let handed = w.ack(&payload);

    let placeholder = w.only_bot_note(issue, NoteRole::Placeholder);
    assert_eq!(handed, posted(placeholder.id));
    let claude = Assistant::Claude;
    let mut reactions = w.gl.award_names(note);
    reactions.sort();
    let mut expected = vec![emoji(claude).to_owned(), handover_emoji(claude).to_owned()];
    expected.sort();
    assert_eq!(reactions, expected);

    // GitLab re-sends the webhook (or a second pipeline runs for the same comment): the second
    // ack job finds the hand-over and leaves everything as it is.
    let again = w.ack(&payload);
    assert_eq!(again[0], ("AI_ACK".to_owned(), "done".to_owned()));
    assert_eq!(w.bot_notes(issue).len(), 1);
}

#[tokio::test]
async fn the_assistant_job_takes_the_acks_placeholder_over_instead_of_claiming_again() {
    let w = world().await;
    let (issue, note, payload) = w.mention();
    let handed = w.ack(&payload);
    let placeholder = w.bot_notes(issue)[0].id;

    w.takes_over(issue, note, placeholder, &payload, &handed);
}

#[tokio::test]
async fn a_guest_is_refused_by_the_slim_job_and_the_assistant_job_does_nothing() {
    let w = world().await;
    let issue = w.widgets_issue();
    let (_, payload) = hooked_comment(&w, issue, w.guest().id, "@claude delete everything");

    let handed = w.ack(&payload);

    assert_eq!(handed, done());
    w.only_bot_note(issue, NoteRole::Refusal);
    w.gl.clear_requests();
    w.run_does_nothing(&payload, &handed);
}

/// Webhook mode with setup's custom template: the pipeline carries the `AI_HOOK_*` variables,
/// and `TRIGGER_PAYLOAD` holds the trigger request's own parameters (GitLab fills it for every
/// trigger-token pipeline). The slim job reads the note back by id, acknowledges it, and the
/// assistant job takes its placeholder over, as with a Note Hook body.
#[tokio::test]
async fn a_template_webhook_mention_is_acknowledged_in_the_slim_job_and_taken_over() {
    let w = world().await;
    let issue = w.widgets_issue();
    let DoubleNoteable::Issue(iid) = issue else {
        unreachable!("an issue")
    };
    let note =
        w.gl.add_note(
            w.project,
            issue,
            NoteSpec::new(w.dev.id, "@claude please fix the greeting"),
        )
        .expect("note")
        .id;
    let hook: Vec<(String, String)> = pairs(&[
        ("AI_HOOK_ACTION", "create"),
        ("AI_HOOK_AUTHOR", "dana"),
        ("AI_HOOK_NOTEABLE_TYPE", "Issue"),
        ("AI_HOOK_NOTE_ID", &note.to_string()),
        ("AI_HOOK_ISSUE_IID", &iid.to_string()),
        ("AI_HOOK_MR_IID", ""),
    ]);
    let payload = w.dir.path().join("TRIGGER_PAYLOAD-template");
    let params = serde_json::json!({
        "variables": hook.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()
    });
    std::fs::write(&payload, params.to_string()).expect("payload written");

    let handed = w.ack_with(&payload, &hook);
    let placeholder = w.only_bot_note(issue, NoteRole::Placeholder).id;
    assert_eq!(handed, posted(placeholder));

    let mut vars = hook.clone();
    vars.extend(handed);
    w.takes_over(issue, note, placeholder, &payload, &vars);
}

/// In a pipeline (`CI_PIPELINE_URL`), the slim job's placeholder links that pipeline, where the
/// answering job's log shows the progress; the answering job then takes it over without
/// editing it, so the only edit is the one that replaces it with the result. In webhook mode
/// every edit that changes a note's text is one more Comments event, so one more pipeline.
#[tokio::test]
async fn the_placeholder_links_the_pipeline_and_is_edited_only_by_the_result() {
    let w = world().await;
    let (issue, note, payload) = w.mention();
    let pipeline_url = format!("{}/acme/widgets/-/pipelines/77", w.gl.base_url());
    let in_pipeline = pairs(&[("CI_PIPELINE_ID", "77"), ("CI_PIPELINE_URL", &pipeline_url)]);
    let handed = w.ack_with(&payload, &in_pipeline);
    let placeholder = &w.bot_notes(issue)[0];
    assert!(
        placeholder
            .body
            .contains(&format!("[pipeline #77]({pipeline_url})")),
        "the placeholder links the pipeline: {}",
        placeholder.body
    );
    w.gl.clear_requests();
    let mut vars = in_pipeline.clone();
    vars.extend(handed);
    w.takes_over(issue, note, placeholder.id, &payload, &vars);

    let edits: Vec<_> = w
        .gl
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with(&format!("/notes/{}", placeholder.id)))
        .collect();
    assert_eq!(
        edits.len(),
        1,
        "only the result edits the placeholder: {edits:#?}"
    );
}
