//! Requests without a comment, in webhook mode: the bot user assigned to an issue, its review
//! requested on a merge request, the trigger label (`AI_LABEL_TRIGGER`) added, a mention in a
//! new issue's description. The double sends the Issue and Merge Request Hooks GitLab sends to an
//! Issues and Merge request events webhook pointed at the pipeline trigger URL; the templates'
//! real rules decide the jobs; `entrypoint run` (the product binary, the real Claude CLI, the
//! model double) reads the hook from `TRIGGER_PAYLOAD` as GitLab passes it and answers.

use std::process::Output;
use std::time::Duration;

use doubles::ci_config::Config;
use doubles::gitlab::double::{
    HookSpec, IssuableChange, IssueSpec, MrSpec, Noteable as DoubleNoteable, UserSpec,
};
use doubles::gitlab::model::Note;
use doubles::gitlab::repo::FileChange;
use doubles::model::ModelDouble;
use entrypoint::agent::Assistant;
use entrypoint::claim;
use entrypoint::marker::{NoteRole, marker};
use reqwest::Method;

use crate::support::ci_job::{ModelKeys, dana, run_with, write};
use crate::support::scripted::claude_saying;
use crate::support::seeded::{rest, trigger_url};
use crate::support::story::{Story, story_world};

const KEYS: ModelKeys = ModelKeys {
    anthropic: "sk-ant-trigger-key-5a6b7c8d9e0f",
    openai: "sk-trigger-key-0f9e8d7c6b5a",
};
const WAIT: Duration = Duration::from_secs(10);

story_world!();

async fn world() -> World {
    world_with(|project| UserSpec::project_bot(project, "Claude")).await
}

/// [`world`] with another bot user (the scan reads the to-dos of a bot named like its handle).
async fn world_with(bot: impl FnOnce(u64) -> UserSpec) -> World {
    let story = Story::with_bot(bot, 30, true).await;
    let (gl, project) = (&story.gl, story.project);
    gl.set_ci_config(project, Config::from_templates(&["claude.yml"]));
    // An Issues and Merge request events webhook calling the trigger URL, as a team wires it
    // (docs/modes.md): GitLab passes the whole event as TRIGGER_PAYLOAD.
    let token = gl
        .add_trigger(project, story.dev.id, "AI assistants")
        .expect("trigger");
    let url = trigger_url(gl, project, &token);
    gl.add_hook(project, HookSpec::issues_and_merge_requests(&url))
        .expect("hook");
    World { story }
}

impl World {
    /// The `TRIGGER_PAYLOAD` of the `n`th pipeline (1-based) and the jobs the template's rules
    /// gave it (`when` of each).
    async fn pipeline(&self, n: usize) -> (String, Vec<String>) {
        self.gl.wait_for_deliveries(n, WAIT).await.unwrap();
        let mut pipelines = self.gl.pipelines(self.project);
        pipelines.sort_by_key(|p| p.id);
        let pipeline = pipelines
            .get(n - 1)
            .expect("the delivery started a pipeline");
        let payload = pipeline
            .variables
            .iter()
            .find(|v| v.key == "TRIGGER_PAYLOAD")
            .expect("TRIGGER_PAYLOAD")
            .value
            .clone();
        let jobs = pipeline.jobs.iter().map(|j| j.when.clone()).collect();
        (payload, jobs)
    }

    /// `entrypoint run --assistant claude` as the webhook pipeline's job runs it; it succeeds.
    async fn run(&self, payload: &str, model: &ModelDouble, extra: &[(&str, &str)]) -> Output {
        self.job("run", Some(payload), model, extra).await
    }

    /// [`World::run`] of `payload` with Claude answering `answer`: the model double and the
    /// job's output.
    async fn run_answering(&self, payload: &str, answer: &str) -> (ModelDouble, Output) {
        let model = claude_saying(&[answer]).await;
        let job = self.run(payload, &model, &[]).await;
        (model, job)
    }

    /// dana's new issue titled `title` with `description` (which GitLab reads for mentions);
    /// its IID.
    fn described_issue(&self, title: &str, description: &str) -> u64 {
        let spec = IssueSpec::new(self.dev.id, title).description(description);
        self.gl.open_issue(self.project, spec).unwrap().iid
    }

    /// `entrypoint scan --assistant claude` as the scheduled scan job runs it (in-job mode); it
    /// succeeds.
    async fn scan(&self, model: &ModelDouble) -> Output {
        self.job("scan", None, model, &[("AI_SCAN", "true")]).await
    }

    /// [`World::scan`] with the trigger label `claude` set (`AI_LABEL_TRIGGER`).
    async fn labelled_scan(&self, model: &ModelDouble) -> Output {
        self.job(
            "scan",
            None,
            model,
            &[("AI_SCAN", "true"), ("AI_LABEL_TRIGGER", "claude")],
        )
        .await
    }

    /// `user` labels the issue or merge request with `label` (the UI, or `PUT` with
    /// `add_labels`).
    fn label(&self, noteable: DoubleNoteable, user: u64, label: &str) {
        self.change(noteable, user, IssuableChange::add_label(label));
    }

    fn unlabel(&self, noteable: DoubleNoteable, user: u64, label: &str) {
        self.change(
            noteable,
            user,
            IssuableChange {
                remove_labels: vec![label.to_owned()],
                ..IssuableChange::default()
            },
        );
    }

    /// `entrypoint <subcommand> --assistant claude` in a job of the project: with `payload` as
    /// the trigger's `TRIGGER_PAYLOAD`, else as a scheduled job. Every job of these stories exits
    /// 0, whether it answers, refuses or finds nothing to do (its log says which).
    async fn job(
        &self,
        subcommand: &str,
        payload: Option<&str>,
        model: &ModelDouble,
        extra: &[(&str, &str)],
    ) -> Output {
        let checkout = self.checkout("job");
        let lease = doubles::sandbox::UidLease::take();
        let payload_file = checkout.with_extension("payload.json");
        if let Some(payload) = payload {
            std::fs::write(&payload_file, payload).unwrap();
        }
        let mut command = self
            .ci_job(&checkout, "4343", Assistant::Claude, model, KEYS)
            .command(subcommand, &lease);
        command
            .args(["--assistant", "claude"])
            .env("CI_COMMIT_REF_NAME", "main");
        if payload.is_some() {
            // GitLab passes TRIGGER_PAYLOAD as a file variable: the path of a file.
            command
                .env("CI_PIPELINE_SOURCE", "trigger")
                .env("TRIGGER_PAYLOAD", &payload_file);
        } else {
            command.env("CI_PIPELINE_SOURCE", "schedule");
        }
        let output = run_with(command, extra, subcommand).await;
        assert!(output.status.success(), "{}", log(&output));
        output
    }

    /// The bot user assigned to `noteable` by `by` (the UI, or `PUT` with `assignee_ids`).
    fn assign_bot(&self, noteable: DoubleNoteable, by: u64) {
        self.change(noteable, by, IssuableChange::assign(&[self.bot.id]));
    }

    /// The bot's one result note on `noteable`, which says `text`.
    fn answered(&self, noteable: DoubleNoteable, text: &str) -> Note {
        let result = result_of(&self.bot_notes(noteable));
        assert!(result.body.contains(text), "{}", result.body);
        result
    }

    /// `noteable` was answered once though both the webhook job and the scan saw it: the model
    /// was asked `calls` times in all, and the bot has one note there.
    fn answered_once_across_both_modes(
        &self,
        noteable: DoubleNoteable,
        model: &ModelDouble,
        calls: usize,
    ) {
        assert_eq!(
            model.model_calls().len(),
            calls,
            "answered once across both modes"
        );
        assert_eq!(self.bot_notes(noteable).len(), 1);
    }

    /// Nothing happened on `noteable`: the model was never asked, and the bot neither wrote nor
    /// reacted there.
    fn left_alone(&self, noteable: DoubleNoteable, model: &ModelDouble) {
        assert!(model.model_calls().is_empty());
        assert!(self.bot_notes(noteable).is_empty());
        assert!(self.bot_reactions(noteable).is_empty(), "nothing claimed");
    }

    /// The guest's request on `noteable` was refused without asking the model: the bot's one
    /// note there says sorry to gus.
    fn refused_the_guest(&self, noteable: DoubleNoteable, model: &ModelDouble) -> Note {
        assert!(model.model_calls().is_empty());
        let notes = self.bot_notes(noteable);
        assert_eq!(notes.len(), 1, "{notes:#?}");
        assert!(notes[0].body.contains("Sorry @gus"), "{}", notes[0].body);
        notes[0].clone()
    }

    /// The bot's reactions on the issue or merge request itself, sorted.
    fn bot_reactions(&self, noteable: DoubleNoteable) -> Vec<String> {
        let mut reactions: Vec<String> = self
            .gl
            .noteable_awards(self.project, noteable)
            .into_iter()
            .filter(|a| a.user_id == self.bot.id)
            .map(|a| a.name)
            .collect();
        reactions.sort();
        reactions
    }
}

/// What a request answered once by Claude leaves on the issue itself, in the order
/// [`World::bot_reactions`] sorts them: the claim, then its handover.
fn claimed_by_claude() -> [&'static str; 2] {
    [
        claim::emoji(Assistant::Claude),
        claim::handover_emoji(Assistant::Claude),
    ]
}

/// The greeting without its typo.
fn greeting_fixed() -> FileChange {
    write("greet.txt", "Hello world\n")
}

fn log(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The scan's summary line (stdout).
fn summary(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The "N API call(s)" of a scan's summary.
fn api_calls(output: &Output) -> u64 {
    let text = summary(output);
    let before = text
        .split(" API call(s)")
        .next()
        .and_then(|t| t.rsplit(' ').next())
        .and_then(|n| n.parse().ok());
    before.unwrap_or_else(|| panic!("no API call count in {text:?}"))
}

fn result_of(notes: &[Note]) -> Note {
    let mark = marker(Assistant::Claude, NoteRole::Result);
    let found: Vec<&Note> = notes.iter().filter(|n| n.body.contains(&mark)).collect();
    assert_eq!(found.len(), 1, "one result: {notes:#?}");
    found[0].clone()
}

/// Asserts the text the model was sent in its first call carries `request` (`why` says where
/// the request came from).
fn asked_first(model: &ModelDouble, request: &str, why: &str) {
    let first = model.model_calls().first().map(|r| r.body.clone());
    assert!(first.unwrap_or_default().contains(request), "{why}");
}

#[tokio::test]
async fn assigning_the_bot_to_an_issue_gets_one_answer_even_when_the_hook_comes_twice() {
    let w = world().await;
    let iid = w.issue("Typo in greet.txt");
    let issue = DoubleNoteable::Issue(iid);
    w.assign_bot(issue, w.dev.id);
    let (payload, jobs) = w.pipeline(1).await;
    let hook: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(hook["object_kind"], "issue");
    assert_eq!(hook["user"]["username"], "dana");
    assert_eq!(
        hook["changes"]["assignees"]["current"][0]["id"], w.bot.id,
        "{hook:#}"
    );
    // The answering job and the acknowledgement job (which defers to it).
    assert_eq!(jobs, ["on_success", "on_success"]);

    let (model, _) = w.run_answering(&payload, "I looked at greet.txt.").await;
    asked_first(
        &model,
        "please handle this issue",
        "the assignment asks as \"@bot please handle this issue\" would",
    );
    w.answered(issue, "I looked at greet.txt.");
    assert_eq!(
        w.bot_reactions(issue),
        claimed_by_claude(),
        "claimed on the issue itself"
    );

    // The same delivery again (a retried delivery, a group hook beside the project hook).
    let again = w.run(&payload, &model, &[]).await;
    assert!(log(&again).contains("already answered"), "{}", log(&again));
    assert_eq!(model.model_calls().len(), 1, "the model ran once");
    assert_eq!(w.bot_notes(issue).len(), 1, "{:#?}", w.bot_notes(issue));
}

#[tokio::test]
async fn a_guest_assigning_the_bot_is_refused_and_the_model_never_runs() {
    let w = world().await;
    let iid = w.issue("Please");
    let issue = DoubleNoteable::Issue(iid);
    w.assign_bot(issue, w.guest().id);
    let (payload, _) = w.pipeline(1).await;
    let (model, _) = w.run_answering(&payload, "should not happen").await;
    let refusal = w.refused_the_guest(issue, &model);
    let refused = marker(Assistant::Claude, NoteRole::Refusal);
    assert!(refusal.body.contains(&refused), "{}", refusal.body);
}

#[tokio::test]
async fn the_trigger_label_added_by_a_person_is_answered_and_the_bots_own_label_change_is_not() {
    let w = world().await;
    let iid = w.issue("Flaky test");
    let issue = DoubleNoteable::Issue(iid);
    let label = [("AI_LABEL_TRIGGER", "claude")];
    let model = claude_saying(&["Labelled and looked."]).await;

    // The bot labels the issue itself (as a run might): nothing to answer.
    w.label(issue, w.bot.id, "claude");
    let (own, _) = w.pipeline(1).await;
    let job = w.run(&own, &model, &label).await;
    assert!(
        log(&job).contains("made this change itself"),
        "{}",
        log(&job)
    );
    assert!(model.model_calls().is_empty());
    assert!(w.bot_notes(issue).is_empty());

    // Present is not added: another label changes, the trigger label stays.
    w.label(issue, w.dev.id, "bug");
    let (unrelated, _) = w.pipeline(2).await;
    w.run(&unrelated, &model, &label).await;
    assert!(model.model_calls().is_empty());

    // A person removes and adds it again: answered.
    w.unlabel(issue, w.dev.id, "claude");
    // Deliveries run in the background: one at a time keeps the pipelines in event order.
    w.gl.wait_for_deliveries(3, WAIT).await.unwrap();
    w.label(issue, w.dev.id, "claude");
    let (added, _) = w.pipeline(4).await;
    w.run(&added, &model, &label).await;
    assert_eq!(model.model_calls().len(), 1);
    w.answered(issue, "Labelled and looked.");
}

#[tokio::test]
async fn a_mention_in_a_new_issues_description_is_answered_with_its_own_words() {
    let w = world().await;
    let request = "please fix the spelling in greet.txt";
    let iid = w.described_issue("Spelling", &format!("@claude {request}"));
    let (payload, jobs) = w.pipeline(1).await;
    assert_eq!(jobs, ["on_success", "on_success"]);
    let (model, _) = w.run_answering(&payload, "Fixed the spelling plan.").await;
    asked_first(
        &model,
        request,
        "the description's request is the instruction",
    );
    result_of(&w.bot_notes(DoubleNoteable::Issue(iid)));
}

#[tokio::test]
async fn requesting_the_bots_review_on_a_merge_request_asks_for_a_review() {
    let w = world().await;
    let iid = w.feature_merge_request(&[greeting_fixed()], "Fix greeting\n", "Fix");
    let mr = DoubleNoteable::MergeRequest(iid);
    w.change(mr, w.dev.id, IssuableChange::request_review(&[w.bot.id]));
    let (payload, _) = w.pipeline(1).await;
    let hook: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(hook["object_kind"], "merge_request");
    assert_eq!(hook["changes"]["reviewers"]["current"][0]["id"], w.bot.id);
    let (model, _) = w.run_answering(&payload, "The change looks right.").await;
    let review = "please review this merge request";
    asked_first(&model, review, "a review request asks for a review");
    w.answered(mr, "looks right");
}

#[tokio::test]
async fn a_scheduled_scan_answers_an_assignment_a_review_request_and_a_description_mention_once() {
    // GitLab files the bot's to-dos for all three; the scan reads them when the bot user is
    // named like its handle.
    let w = world_with(|_| UserSpec::human("claude")).await;
    let assigned = DoubleNoteable::Issue(w.issue("Assigned"));
    w.assign_bot(assigned, w.dev.id);
    let described =
        DoubleNoteable::Issue(w.described_issue("Described", "@claude please check greet.txt"));
    let repo = w.gl.repo(w.project).unwrap();
    repo.create_branch("feature", "main").unwrap();
    repo.commit("feature", &[greeting_fixed()], "Fix greeting\n", &dana())
        .unwrap();
    let reviewed = DoubleNoteable::MergeRequest(
        w.gl.open_merge_request(
            w.project,
            MrSpec::new(w.dev.id, "feature", "main", "Fix"),
            &[w.bot.id],
        )
        .unwrap()
        .iid,
    );
    let mut actions: Vec<String> = w.gl.todos(w.bot.id).into_iter().map(|t| t.action).collect();
    actions.sort();
    assert_eq!(
        actions,
        ["assigned", "directly_addressed", "review_requested"]
    );

    let model = claude_saying(&["Answer one.", "Answer two.", "Answer three."]).await;
    let scan = w.scan(&model).await;
    assert!(
        summary(&scan).contains("0 new mention(s) and 3 assignment(s)"),
        "{}",
        summary(&scan)
    );
    for noteable in [assigned, described, reviewed] {
        result_of(&w.bot_notes(noteable));
    }
    let prompts: Vec<String> = model.model_calls().iter().map(|r| r.body.clone()).collect();
    for asked in [
        "please handle this issue",
        "please check greet.txt",
        "please review this merge request",
    ] {
        assert!(prompts.iter().any(|p| p.contains(asked)), "{asked}");
    }
    assert!(w.gl.todos(w.bot.id).iter().all(|t| t.state == "done"));

    // The next scan finds nothing new, and asks the model nothing.
    let asked = model.model_calls().len();
    w.scan(&model).await;
    assert_eq!(model.model_calls().len(), asked);
    for noteable in [assigned, described, reviewed] {
        assert_eq!(w.bot_notes(noteable).len(), 1);
    }
}

#[tokio::test]
async fn an_assignment_answered_by_the_webhook_job_is_not_answered_again_by_the_scan() {
    let w = world_with(|_| UserSpec::human("claude")).await;
    let issue = DoubleNoteable::Issue(w.issue("Both roads"));
    w.assign_bot(issue, w.dev.id);
    let (payload, _) = w.pipeline(1).await;
    let (model, _) = w
        .run_answering(&payload, "Answered by the webhook job.")
        .await;
    // The webhook job's answer on the issue closed the to-do as GitLab does only for a note
    // by the user; the assignment to-do may still be pending: the scan must find the claim.
    w.scan(&model).await;
    w.answered_once_across_both_modes(issue, &model, 1);
}

#[tokio::test]
async fn an_assignment_withdrawn_before_the_job_starts_is_not_answered() {
    let w = world().await;
    let issue = DoubleNoteable::Issue(w.issue("Changed my mind"));
    w.assign_bot(issue, w.dev.id);
    let (payload, _) = w.pipeline(1).await;
    w.change(issue, w.dev.id, IssuableChange::assign(&[]));
    let (model, job) = w.run_answering(&payload, "should not happen").await;
    assert!(log(&job).contains("no longer holds"), "{}", log(&job));
    w.left_alone(issue, &model);
}

#[tokio::test]
async fn a_scheduled_scan_answers_the_trigger_label_once() {
    // A project bot (not named like the handle): the scan reads the lists. One issue labelled
    // in the UI, one by a `/label` quick action in a comment that mentions nobody.
    let w = world().await;
    let by_ui = DoubleNoteable::Issue(w.issue("Flaky test"));
    w.label(by_ui, w.dev.id, "claude");
    let by_command = w.issue("Slow build");
    let notes = format!("/projects/{}/issues/{by_command}/notes", w.project);
    let body = serde_json::json!({"body": "Handing this over.\n/label ~claude"});
    let response = rest(&w.gl, Method::POST, &notes, &w.dev.token, Some(body)).await;
    assert!(response.status().is_success());
    let by_command_iid = by_command;
    let by_command = DoubleNoteable::Issue(by_command);
    assert!(
        w.gl.issues(w.project)
            .iter()
            .any(|i| i.iid == by_command_iid && i.labels.contains(&"claude".to_owned())),
        "the quick action ran"
    );

    let model = claude_saying(&["Looked at the flaky test.", "Looked at the build."]).await;
    // Without AI_LABEL_TRIGGER a label is nothing.
    w.scan(&model).await;
    assert!(model.model_calls().is_empty());

    let scan = w.labelled_scan(&model).await;
    assert!(
        summary(&scan)
            .contains("0 new mention(s) and 2 assignment(s), review request(s), trigger label(s)"),
        "{}",
        summary(&scan)
    );
    assert_eq!(model.model_calls().len(), 2);
    asked_first(
        &model,
        "please handle this issue",
        "a label asks as \"@bot please handle this issue\" would",
    );
    for issue in [by_ui, by_command] {
        result_of(&w.bot_notes(issue));
        assert_eq!(
            w.bot_reactions(issue),
            claimed_by_claude(),
            "claimed on the issue itself, as the webhook label path claims"
        );
    }

    // The next scans find the claims; the model is not asked again. What the label costs: one
    // label-event read per item updated in the window, plus one reaction read per addition
    // found (both issues were updated, both carry an addition): 4 calls more than without.
    let again = w.labelled_scan(&model).await;
    assert_eq!(model.model_calls().len(), 2, "answered once");
    for issue in [by_ui, by_command] {
        assert_eq!(w.bot_notes(issue).len(), 1);
    }
    let without = w.scan(&model).await;
    eprintln!(
        "scan API calls: {} with AI_LABEL_TRIGGER, {} without (2 issues updated in the window)",
        api_calls(&again),
        api_calls(&without)
    );
    assert_eq!(api_calls(&again), api_calls(&without) + 4);
}

#[tokio::test]
async fn the_bots_own_label_change_is_not_answered_by_the_scan() {
    let w = world().await;
    let issue = DoubleNoteable::Issue(w.issue("Labelled by the bot"));
    // The bot labels what it works on (a run, or a rule of the team's): never a request.
    w.label(issue, w.bot.id, "claude");
    let model = claude_saying(&["should not happen"]).await;
    let scan = w.labelled_scan(&model).await;
    w.left_alone(issue, &model);
    assert!(
        summary(&scan).contains("0 new mention(s) and 0 assignment(s)"),
        "{}",
        summary(&scan)
    );
}

#[tokio::test]
async fn a_guests_trigger_label_is_refused_by_the_scan_and_the_model_never_runs() {
    let w = world().await;
    let issue = DoubleNoteable::Issue(w.issue("Guest labels"));
    w.label(issue, w.guest().id, "claude");
    let model = claude_saying(&["should not happen"]).await;
    w.labelled_scan(&model).await;
    w.refused_the_guest(issue, &model);
}

#[tokio::test]
async fn a_label_answered_by_the_webhook_job_is_not_answered_again_by_the_scan() {
    let w = world().await;
    let label = [("AI_LABEL_TRIGGER", "claude")];
    let model = claude_saying(&["Answered by the webhook job.", "Answered by the scan."]).await;
    let first = DoubleNoteable::Issue(w.issue("Webhook first"));
    w.label(first, w.dev.id, "claude");
    let (payload, _) = w.pipeline(1).await;
    w.run(&payload, &model, &label).await;
    assert_eq!(model.model_calls().len(), 1);
    w.labelled_scan(&model).await;
    w.answered_once_across_both_modes(first, &model, 1);

    // And the other way round: the scan answers first, the webhook job arrives late.
    let second = DoubleNoteable::Issue(w.issue("Scan first"));
    w.label(second, w.dev.id, "claude");
    let (late, _) = w.pipeline(2).await;
    w.labelled_scan(&model).await;
    assert_eq!(model.model_calls().len(), 2);
    let job = w.run(&late, &model, &label).await;
    assert!(log(&job).contains("already answered"), "{}", log(&job));
    w.answered_once_across_both_modes(second, &model, 2);
}

#[tokio::test]
async fn a_label_removed_and_added_again_is_answered_again() {
    let w = world().await;
    let issue = DoubleNoteable::Issue(w.issue("Twice"));
    let model = claude_saying(&["First answer.", "Second answer."]).await;
    w.label(issue, w.dev.id, "claude");
    w.labelled_scan(&model).await;
    assert_eq!(model.model_calls().len(), 1);

    // Taken off and put back on later: a new request.
    w.unlabel(issue, w.dev.id, "claude");
    w.label(issue, w.dev.id, "claude");
    let scan = w.labelled_scan(&model).await;
    assert_eq!(model.model_calls().len(), 2, "{}", log(&scan));
    let result = marker(Assistant::Claude, NoteRole::Result);
    let notes = w.bot_notes(issue);
    let results: Vec<&Note> = notes.iter().filter(|n| n.body.contains(&result)).collect();
    assert_eq!(results.len(), 2, "{results:#?}");
    assert!(results.iter().any(|n| n.body.contains("Second answer.")));

    // Taken off and not put back: nothing (the latest change is a removal).
    w.unlabel(issue, w.dev.id, "claude");
    w.labelled_scan(&model).await;
    assert_eq!(model.model_calls().len(), 2);
}

/// A relay (`entrypoint serve`, in process) behind an Issues and Merge request events hook of
/// its own, starting pipelines with the bot token.
async fn relay_for(w: &World) -> entrypoint::relay::Relay {
    const SECRET: &str = "relay-events-secret-9c1d";
    let relay = entrypoint::relay::Relay::start(w.relay_config(SECRET))
        .await
        .expect("relay starts");
    w.gl.add_hook(
        w.project,
        HookSpec::issues_and_merge_requests(&format!("http://{}/webhook", relay.addr()))
            .token(SECRET),
    )
    .expect("relay hook");
    relay
}

#[tokio::test]
async fn assigning_the_bot_through_the_relay_is_answered_in_the_relays_placeholder() {
    let w = world().await;
    let relay = relay_for(&w).await;
    let iid = w.issue("Typo in greet.txt");
    let issue = DoubleNoteable::Issue(iid);
    w.assign_bot(issue, w.dev.id);
    // The webhook-mode hook of this world starts its own pipeline too; the relay's is the one
    // naming the event.
    let deadline = tokio::time::Instant::now() + WAIT;
    let pipeline = loop {
        if let Some(p) =
            w.gl.pipelines(w.project)
                .into_iter()
                .find(|p| p.variable("AI_EVENT").is_some())
        {
            break p;
        }
        assert!(tokio::time::Instant::now() < deadline, "no relay pipeline");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(
        pipeline.source.as_str(),
        "api",
        "started with the bot token"
    );
    let placeholder = w.bot_notes(issue);
    assert_eq!(
        placeholder.len(),
        1,
        "the relay's placeholder: {placeholder:#?}"
    );

    // The pipeline's job: its variables, as GitLab gives them to the job.
    let vars: Vec<(String, String)> = pipeline
        .variables
        .iter()
        .map(|v| (v.key.clone(), v.value.clone()))
        .chain([("CI_PIPELINE_SOURCE".to_owned(), "api".to_owned())])
        .collect();
    let extra: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let model = claude_saying(&["I looked at greet.txt."]).await;
    w.job("run", None, &model, &extra).await;
    asked_first(
        &model,
        "please handle this issue",
        "the assignment asks as \"@bot please handle this issue\" would",
    );
    let result = w.answered(issue, "I looked at greet.txt.");
    let notes = w.bot_notes(issue);
    assert_eq!(
        notes.len(),
        1,
        "the placeholder became the answer: {notes:#?}"
    );
    assert_eq!(result.id, placeholder[0].id);
    assert_eq!(
        w.bot_reactions(issue),
        claimed_by_claude(),
        "claimed once, by the relay"
    );
    relay.shutdown().await.unwrap();
}
