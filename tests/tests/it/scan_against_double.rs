//! `entrypoint scan` against the GitLab double, handing mentions to pipelines (the mode that
//! needs no assistant CLI; the in-job mode runs end to end in run_mentions.rs): which notes are
//! answered, that each is answered once however often or however badly the scan runs, and what
//! a scan costs in API calls.

use doubles::gitlab::version::GitLabVersion;
use std::collections::HashMap;
use std::sync::Arc;

use crate::support::seeded::{project_on, rest};
use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, SeededUser,
    UserSpec,
};
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};
use doubles::gitlab::model::Pipeline;
use doubles::gitlab::repo::{FileChange, Signature};
use entrypoint::agent::{Assistant, Handle, Handles};
use entrypoint::answer::Answered;
use entrypoint::claim;
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef};
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken};
use entrypoint::marker::is_marked;
use entrypoint::redact::Redactor;
use entrypoint::scan::handoff::Outcome;
use entrypoint::scan::{ScanOptions, ScanReport, Source, scan};
use entrypoint::secret::Secret;
use reqwest::Method;
use serde_json::json;

struct World {
    gl: GitLabDouble,
    project: u64,
    bot: SeededUser,
    dev: SeededUser,
}

async fn world(bot: UserSpec) -> World {
    world_on(GitLabVersion::default(), bot).await
}

/// [`world`] on a double answering as GitLab `version`.
async fn world_on(version: GitLabVersion, bot: UserSpec) -> World {
    let (gl, project) = project_on(version, ProjectSpec::new("acme/widgets")).await;
    let bot = gl.add_member_user(project, bot, 40).expect("bot");
    let dev = gl
        .add_member_user(project, UserSpec::human("dana"), 30)
        .expect("dev");
    World {
        gl,
        project,
        bot,
        dev,
    }
}

impl World {
    fn vars(&self, extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut vars: HashMap<String, String> = [
            ("CI_PROJECT_ID", self.project.to_string()),
            ("CI_API_V4_URL", self.gl.api_url()),
            ("CI_SERVER_URL", self.gl.base_url()),
            ("CI_DEFAULT_BRANCH", "main".to_owned()),
            ("CI_COMMIT_REF_NAME", "main".to_owned()),
            (
                "CI_JOB_URL",
                format!("{}/acme/widgets/-/jobs/77", self.gl.base_url()),
            ),
            ("CI_JOB_ID", "77".to_owned()),
            ("GITLAB_TOKEN", self.bot.token.clone()),
            ("AI_SCAN_MODE", "pipeline".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (k, v) in extra {
            vars.insert((*k).to_owned(), (*v).to_owned());
        }
        vars
    }

    async fn scan_with(
        &self,
        handles: Handles,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<ScanReport> {
        let vars = self.vars(extra);
        let lookup = |name: &str| vars.get(name).cloned();
        let options = ScanOptions {
            assistant: Assistant::Claude,
            handles: handles.clone(),
        };
        scan(&options, &lookup, Arc::new(Redactor::new(handles))).await
    }

    async fn scan(&self) -> ScanReport {
        self.scan_with(Handles::default(), &[])
            .await
            .expect("the scan runs")
    }

    fn note(&self, noteable: DoubleNoteable, spec: NoteSpec) -> u64 {
        self.gl.add_note(self.project, noteable, spec).unwrap().id
    }

    fn merge_request(&self, branch: &str) -> DoubleNoteable {
        let repo = self.gl.repo(self.project).unwrap();
        repo.create_branch(branch, "main").unwrap();
        repo.commit(
            branch,
            &[FileChange::Write {
                path: format!("{branch}.txt"),
                content: b"one\ntwo\n".to_vec(),
            }],
            "Add a file\n",
            &Signature {
                name: "Dana".into(),
                email: "dana@example.com".into(),
            },
        )
        .unwrap();
        let iid = self
            .gl
            .create_merge_request(
                self.project,
                MrSpec::new(self.dev.id, branch, "main", branch),
            )
            .unwrap()
            .iid;
        DoubleNoteable::MergeRequest(iid)
    }

    fn issue(&self, title: &str) -> DoubleNoteable {
        DoubleNoteable::Issue(
            self.gl
                .create_issue(self.project, IssueSpec::new(self.dev.id, title))
                .unwrap()
                .iid,
        )
    }

    /// The pipelines started for each note, by `AI_NOTE_ID`.
    fn pipelines_by_note(&self) -> HashMap<u64, Vec<Pipeline>> {
        let mut by_note: HashMap<u64, Vec<Pipeline>> = HashMap::new();
        for pipeline in self.gl.pipelines(self.project) {
            if let Some(note) = pipeline.variable("AI_NOTE_ID").and_then(|n| n.parse().ok()) {
                by_note.entry(note).or_default().push(pipeline);
            }
        }
        by_note
    }

    /// dana edits her note `note` on issue `iid` to `body`, as in GitLab's UI.
    async fn edit_note(&self, iid: u64, note: u64, body: &str) -> reqwest::Response {
        let path = format!("/projects/{}/issues/{iid}/notes/{note}", self.project);
        let body = json!({ "body": body });
        rest(&self.gl, Method::PUT, &path, &self.dev.token, Some(body)).await
    }

    fn client(&self) -> GitLab {
        GitLab::new(ClientConfig::new(
            ApiBaseUrl::parse(&self.gl.api_url()).unwrap(),
            GitLabToken::new(Secret::new(self.bot.token.clone())),
        ))
        .unwrap()
    }

    /// Claims the note as a webhook job or relay would have, earlier.
    async fn claim_before(&self, noteable: Noteable, note: u64) {
        let project = ProjectRef::Id(ProjectId(self.project));
        let target = claim::Target {
            project: &project,
            noteable,
            subject: claim::Subject::Note(NoteId(note)),
        };
        let won = claim::claim(
            &self.client(),
            target,
            Assistant::Claude,
            &claim::ClaimSettings::default(),
        )
        .await
        .unwrap();
        assert!(matches!(won, claim::Claim::Won(_)));
    }
}

fn diff_position(w: &World, mr_iid: u64, path: &str) -> serde_json::Value {
    let mr =
        w.gl.merge_requests(w.project)
            .into_iter()
            .find(|m| m.iid == mr_iid)
            .unwrap();
    let repo = w.gl.repo(w.project).unwrap();
    let head = repo.branch_sha(&mr.source_branch).unwrap().unwrap();
    let base = repo.branch_sha("main").unwrap().unwrap();
    json!({"position_type": "text", "base_sha": base, "start_sha": base, "head_sha": head,
           "old_path": path, "new_path": path, "new_line": 2})
}

/// 3 issues and 3 merge requests, mentions spread over comments, threads and diff notes; some
/// handled before, some by people who may not ask, some by the bot or GitLab itself.
struct Scenario {
    /// Notes that must get a pipeline.
    answered: Vec<u64>,
    /// Notes whose authors must be told they may not ask.
    refused: Vec<u64>,
    /// Notes claimed before the scan.
    claimed_before: Vec<u64>,
    /// Thread and diff notes, whose pipeline must name their thread.
    threaded: Vec<(u64, String)>,
    noteables: Vec<DoubleNoteable>,
}

async fn scenario(w: &World) -> Scenario {
    let outsider = w.gl.add_user(UserSpec::human("olga")).unwrap();
    let guest = w.gl.add_user(UserSpec::human("gus")).unwrap();
    w.gl.add_member(w.project, guest.id, 10).unwrap();
    let dev = w.dev.id;
    let (i1, i2, i3) = (w.issue("One"), w.issue("Two"), w.issue("Three"));
    let (m1, m2, m3) = (
        w.merge_request("f1"),
        w.merge_request("f2"),
        w.merge_request("f3"),
    );

    let a = w.note(i1, NoteSpec::new(dev, "@claude summarise this issue"));
    w.note(
        i1,
        NoteSpec::new(dev, "mentioned in commit abc @claude").system(),
    );
    w.note(i1, NoteSpec::new(w.bot.id, "@claude said so earlier"));
    w.note(
        i1,
        NoteSpec::new(
            dev,
            "quoting: @claude\n\n<!-- gitlab-ai-assistant:claude:result -->",
        ),
    );
    let b_thread =
        w.gl.add_note(
            w.project,
            i2,
            NoteSpec::new(dev, "@claude please look").thread(),
        )
        .unwrap();
    w.note(i2, NoteSpec::new(dev, "@codex this one is not for Claude"));
    let refused_outsider = w.note(i3, NoteSpec::new(outsider.id, "@claude do my homework"));
    let pre_issue = w.note(i3, NoteSpec::new(dev, "@claude an old request"));

    let position = diff_position(
        w,
        match m1 {
            DoubleNoteable::MergeRequest(iid) => iid,
            DoubleNoteable::Issue(_) => unreachable!("m1 is a merge request"),
        },
        "f1.txt",
    );
    let c_diff =
        w.gl.add_note(
            w.project,
            m1,
            NoteSpec::new(dev, "@claude rename this line").position(position),
        )
        .unwrap();
    let start =
        w.gl.add_note(
            w.project,
            m1,
            NoteSpec::new(dev, "Should we split this?").thread(),
        )
        .unwrap();
    let d_reply =
        w.gl.add_note(
            w.project,
            m1,
            NoteSpec::new(dev, "@claude what do you think?").reply_to(&start.discussion_id),
        )
        .unwrap();
    w.note(m2, NoteSpec::new(dev, "looks good, no mention"));
    let refused_guest = w.note(m3, NoteSpec::new(guest.id, "@claude merge it"));
    let pre_mr = w.note(m3, NoteSpec::new(dev, "@claude handled by the webhook"));

    let iid = |n: DoubleNoteable| match n {
        DoubleNoteable::Issue(iid) | DoubleNoteable::MergeRequest(iid) => iid,
    };
    w.claim_before(Noteable::Issue(IssueIid(iid(i3))), pre_issue)
        .await;
    w.claim_before(
        Noteable::MergeRequest(entrypoint::gitlab::ids::MergeRequestIid(iid(m3))),
        pre_mr,
    )
    .await;
    Scenario {
        answered: vec![a, b_thread.id, c_diff.id, d_reply.id],
        refused: vec![refused_outsider, refused_guest],
        claimed_before: vec![pre_issue, pre_mr],
        threaded: vec![
            (b_thread.id, b_thread.discussion_id),
            (c_diff.id, c_diff.discussion_id),
            (d_reply.id, start.discussion_id),
        ],
        noteables: vec![i1, i2, i3, m1, m2, m3],
    }
}

#[tokio::test]
async fn a_scan_answers_exactly_the_new_requests_and_a_second_scan_nothing() {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let s = scenario(&w).await;
    w.gl.clear_requests();

    let report = w.scan().await;
    eprintln!("{}", report.summary());

    assert!(matches!(report.source, Source::Lists { .. }));
    let by_note = w.pipelines_by_note();
    let mut started: Vec<u64> = by_note.keys().copied().collect();
    started.sort_unstable();
    let mut expected = s.answered.clone();
    expected.sort_unstable();
    assert_eq!(started, expected, "{report:#?}");
    for (note, pipelines) in &by_note {
        assert_eq!(pipelines.len(), 1, "note {note}");
        let p = &pipelines[0];
        assert_eq!(p.variable("AI_ASSISTANT"), Some("claude"));
        assert_eq!(p.git_ref, "main");
        let placeholder: u64 = p
            .variable("AI_PLACEHOLDER_NOTE_ID")
            .unwrap()
            .parse()
            .unwrap();
        let body = s
            .noteables
            .iter()
            .flat_map(|n| w.gl.notes(w.project, *n))
            .find(|n| n.id == placeholder)
            .expect("the placeholder exists")
            .body;
        assert!(is_marked(&body) && body.contains("is working"), "{body}");
        assert_eq!(
            w.gl.award_names(*note),
            vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()]
        );
    }
    for (note, discussion) in &s.threaded {
        assert_eq!(
            by_note[note][0].variable("AI_DISCUSSION_ID"),
            Some(discussion.as_str()),
            "the answer to note {note} stays in its thread"
        );
    }
    let refusals: Vec<_> = report
        .handled
        .iter()
        .filter(|(_, o)| matches!(o, Outcome::Handed(Answered::Refused { .. })))
        .map(|(n, _)| n.0)
        .collect();
    assert_eq!(refusals.len(), 2, "{report:#?}");
    for note in &s.refused {
        assert!(refusals.contains(note));
        assert_eq!(
            w.gl.award_names(*note),
            vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()]
        );
    }
    assert_eq!(report.already_claimed, s.claimed_before.len());
    assert_eq!(report.failures(), 0);
    // The double serves no git here: every request it saw is an API call.
    assert_eq!(
        report.api_calls as usize,
        w.gl.requests().len(),
        "the report counts every call"
    );
    // 11 to find the mentions, one per claim check, then per hand-over the guard's four, the
    // claim (award, list), the placeholder, the hand-over (award, list) and the pipeline; and 8
    // to look for requests queued by a quota error (two lists, the notes of the 6 items).
    assert!(report.api_calls <= 88, "{}", report.summary());
    let notes_before: usize = s
        .noteables
        .iter()
        .map(|n| w.gl.notes(w.project, *n).len())
        .sum();

    w.gl.clear_requests();
    let again = w.scan().await;
    eprintln!("{}", again.summary());
    assert!(again.handled.is_empty(), "{again:#?}");
    assert_eq!(again.already_claimed, 8);
    assert_eq!(
        w.pipelines_by_note().values().map(Vec::len).sum::<usize>(),
        4
    );
    let notes_after: usize = s
        .noteables
        .iter()
        .map(|n| w.gl.notes(w.project, *n).len())
        .sum();
    assert_eq!(notes_before, notes_after, "the second scan posted nothing");
    // Listing (4), the notes or threads of each noteable (7), one check per claimed mention,
    // and the queued-request lookup (8).
    assert!(again.api_calls <= 28, "{}", again.summary());
}

#[tokio::test]
async fn a_quiet_project_costs_a_handful_of_calls() {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let report = w.scan().await;
    assert!(report.handled.is_empty());
    // Four to find mentions, two to look for requests queued by a quota error.
    assert_eq!(report.api_calls, 6, "{}", report.summary());
    assert_eq!(w.gl.requests().len(), 6);
}

#[tokio::test]
async fn a_scan_that_dies_half_way_and_runs_again_answers_every_mention_once() {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let s = scenario(&w).await;
    let faults = w.gl.faults();
    // The second pipeline cannot be started: its claim must be given back.
    let pipeline_fault = faults.add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v4/projects/*/pipeline".into(),
        action: FaultAction::Status { code: 400 },
        schedule: Schedule::EveryNth { n: 2 },
    });
    // The fourth look at a note's reactions fails: the scan stops there, as if killed.
    let kill = faults.add(FaultRule {
        method: Some("GET".into()),
        path: "/api/v4/projects/*/*/*/notes/*/award_emoji".into(),
        action: FaultAction::Status { code: 403 },
        schedule: Schedule::EveryNth { n: 4 },
    });

    let died = w.scan_with(Handles::default(), &[]).await;
    assert!(
        died.is_err(),
        "the scan stops at the failed call: {died:#?}"
    );
    let after_first = w.pipelines_by_note();
    assert!(
        !after_first.is_empty() && after_first.len() < s.answered.len(),
        "{after_first:?}"
    );
    faults.remove(pipeline_fault);
    faults.remove(kill);

    let second = w.scan().await;
    assert_eq!(second.failures(), 0, "{second:#?}");
    let by_note = w.pipelines_by_note();
    let mut started: Vec<u64> = by_note.keys().copied().collect();
    started.sort_unstable();
    let mut expected = s.answered.clone();
    expected.sort_unstable();
    assert_eq!(started, expected);
    assert!(by_note.values().all(|p| p.len() == 1), "{by_note:?}");
    // The placeholder of the pipeline that did not start was deleted, not left "working".
    let placeholders: usize = s
        .noteables
        .iter()
        .flat_map(|n| w.gl.notes(w.project, *n))
        .filter(|n| n.author_id == w.bot.id && n.body.contains("is working"))
        .count();
    assert_eq!(placeholders, s.answered.len());
    let third = w.scan().await;
    assert!(third.handled.is_empty(), "{third:#?}");
}

#[tokio::test]
async fn a_scan_keeps_going_when_one_pipeline_cannot_start_and_fails_so_someone_looks() {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let issue = w.issue("One");
    let note = w.note(issue, NoteSpec::new(w.dev.id, "@claude help"));
    w.gl.faults().add(FaultRule {
        method: Some("POST".into()),
        path: "/api/v4/projects/*/pipeline".into(),
        action: FaultAction::Status { code: 400 },
        schedule: Schedule::Times { n: 1 },
    });

    let report = w.scan().await;
    assert_eq!(report.failures(), 1, "{report:#?}");
    assert!(
        w.gl.award_names(note).is_empty(),
        "the claim was given back"
    );
    assert!(w.gl.pipelines(w.project).is_empty());
    assert_eq!(
        w.gl.notes(w.project, issue).len(),
        1,
        "the placeholder of the pipeline that did not start is gone"
    );

    let retried = w.scan().await;
    assert_eq!(retried.failures(), 0);
    assert_eq!(w.pipelines_by_note()[&note].len(), 1);
}

/// A world whose bot is the project bot "AI", with dana's issue "One" and her note `body` on
/// it: the world, the issue's IID and the note's id.
async fn one_mention(body: &str) -> (World, u64, u64) {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let issue = w.issue("One");
    let DoubleNoteable::Issue(iid) = issue else {
        unreachable!("an issue")
    };
    let note = w.note(issue, NoteSpec::new(w.dev.id, body));
    (w, iid, note)
}

#[tokio::test]
async fn a_mention_edited_after_it_was_answered_is_not_answered_again() {
    let (w, iid, note) = one_mention("@claude help").await;
    w.scan().await;
    let edited = w
        .edit_note(iid, note, "@claude help, and also fix the typo")
        .await;
    assert!(edited.status().is_success());

    let again = w.scan().await;
    assert!(again.handled.is_empty(), "{again:#?}");
    assert_eq!(again.already_claimed, 1);
    assert_eq!(w.gl.pipelines(w.project).len(), 1);
}

#[tokio::test]
async fn the_last_successful_scheduled_pipeline_opens_the_window() {
    let w = world(UserSpec::project_bot(1000, "AI")).await;
    let long_ago = chrono::Utc::now() - chrono::TimeDelta::hours(30);
    w.gl.add_schedule_pipeline(w.project, "main", "success", long_ago)
        .unwrap();
    w.gl.add_schedule_pipeline(w.project, "main", "failed", chrono::Utc::now())
        .unwrap();
    let report = w.scan().await;
    let Source::Lists { since } = report.source else {
        panic!("the lists were read: {report:#?}");
    };
    assert_eq!(
        since.timestamp(),
        long_ago.timestamp(),
        "the failed scan did not move the window"
    );
    let window_query =
        w.gl.requests()
            .into_iter()
            .find(|r| r.path.ends_with("/pipelines"))
            .and_then(|r| r.query)
            .unwrap();
    for part in [
        "source=schedule",
        "status=success",
        "ref=main",
        "per_page=1",
    ] {
        assert!(window_query.contains(part), "{window_query}");
    }
}

/// A self-managed bot user named `claude`: GitLab files it a to-do for every mention.
#[tokio::test]
async fn a_bot_named_like_its_handle_finds_mentions_through_its_to_dos() {
    let w = world(UserSpec::human("claude")).await;
    let first = w.issue("One");
    let second = w.merge_request("f1");
    let a = w.note(first, NoteSpec::new(w.dev.id, "@claude fix it"));
    let b = w.note(second, NoteSpec::new(w.dev.id, "please @claude review"));
    w.note(second, NoteSpec::new(w.dev.id, "@codex not ours"));
    let todos = w.gl.todos(w.bot.id);
    assert_eq!(
        todos.iter().map(|t| t.action.as_str()).collect::<Vec<_>>(),
        ["directly_addressed", "mentioned"]
    );
    w.gl.clear_requests();

    let report = w.scan().await;
    assert!(matches!(report.source, Source::Todos { .. }), "{report:#?}");
    let mut started: Vec<u64> = w.pipelines_by_note().keys().copied().collect();
    started.sort_unstable();
    assert_eq!(started, vec![a, b]);
    assert!(w.gl.todos(w.bot.id).iter().all(|t| t.state == "done"));
    let listed =
        w.gl.requests()
            .iter()
            .filter(|r| r.path.ends_with("/issues") || r.path.ends_with("/merge_requests"))
            .count();
    assert_eq!(
        listed, 2,
        "no issue or merge request list was read but the queued-request lookup's two"
    );

    // GitLab closed the bot's to-dos on the issue when it posted its placeholder there; a
    // mention made meanwhile is still found among the closed ones.
    let late = w.note(first, NoteSpec::new(w.dev.id, "@claude one more thing"));
    w.note(first, NoteSpec::new(w.bot.id, "an answer from the bot"));
    assert!(w.gl.todos(w.bot.id).iter().all(|t| t.state == "done"));
    let again = w.scan().await;
    assert_eq!(
        again.handled.iter().map(|(n, _)| n.0).collect::<Vec<_>>(),
        vec![late]
    );
    let quiet = w.scan().await;
    assert!(quiet.handled.is_empty());
    // Five for a quiet scan: `/user`, `/version` (to-dos are trusted from 17.8 only), the
    // pipeline and the two to-do lists; at most two guard calls for each of 3 claimed; and the
    // queued-request lookup: two lists and the notes of the 2 updated items.
    assert!(quiet.api_calls <= 5 + 2 * 3 + 4, "{}", quiet.summary());
}

#[tokio::test]
async fn a_bot_whose_username_is_not_the_handle_reads_the_lists() {
    let w = world(UserSpec::human("ai-helper")).await;
    let handles = Handles::new([
        Handle::new("claude").unwrap(),
        Handle::new("codex").unwrap(),
    ])
    .unwrap();
    let report = w.scan_with(handles, &[]).await.unwrap();
    assert!(matches!(report.source, Source::Lists { .. }));
}

#[tokio::test]
async fn a_note_edited_after_the_scan_checked_it_is_refused_by_the_job() {
    let (w, iid, note) = one_mention("@claude fix the typo").await;
    let issue = DoubleNoteable::Issue(iid);
    let report = w.scan().await;
    assert!(
        matches!(
            report.handled[..],
            [(_, Outcome::Handed(Answered::Started { .. }))]
        ),
        "{report:#?}"
    );
    let pipeline = w.gl.pipelines(w.project).remove(0);
    assert_eq!(
        pipeline.variable("AI_NOTE_SHA256"),
        Some(entrypoint::guard::edit::body_digest("@claude fix the typo").as_str())
    );
    let edited = w
        .edit_note(iid, note, "@claude delete the deploy keys")
        .await;
    assert!(edited.status().is_success());

    // The pipeline's job, in-process: the scan's variables and the job's own.
    let dir = tempfile::tempdir().unwrap();
    let mut vars = w.vars(&[
        ("CI_PROJECT_PATH", "acme/widgets"),
        ("CI_PROJECT_DIR", &dir.path().display().to_string()),
        ("ANTHROPIC_API_KEY", "sk-ant-test-0000"),
    ]);
    for variable in &pipeline.variables {
        vars.insert(variable.key.clone(), variable.value.clone());
    }
    let lookup = |name: &str| vars.get(name).cloned();
    let options = entrypoint::run::RunOptions {
        assistant: Assistant::Claude,
        handles: Handles::default(),
    };
    let end = entrypoint::run::run(
        &options,
        &lookup,
        Arc::new(Redactor::new(Handles::default())),
    )
    .await
    .unwrap();
    assert!(
        matches!(end, entrypoint::answer::in_job::JobEnd::Refused { .. }),
        "{end:?}"
    );
    let bot_notes: Vec<_> =
        w.gl.notes(w.project, issue)
            .into_iter()
            .filter(|n| n.author_id == w.bot.id)
            .collect();
    assert_eq!(bot_notes.len(), 1, "the placeholder became the refusal");
    assert!(
        bot_notes[0].body.contains("edited after it was sent")
            && !bot_notes[0].body.contains("is working"),
        "{}",
        bot_notes[0].body
    );
}

#[tokio::test]
async fn a_mention_whose_claimer_died_is_answered_once_by_the_next_scan_after_the_lease() {
    let (w, iid, note) = one_mention("@claude help").await;
    // A webhook job claimed the note and was cancelled before it handed the claim over.
    w.claim_before(Noteable::Issue(IssueIid(iid)), note).await;
    let lease = [("AI_CLAIM_LEASE_SECONDS", "2")];

    let held = w.scan_with(Handles::default(), &lease).await.unwrap();
    assert!(held.handled.is_empty(), "{held:#?}");
    assert_eq!(held.already_claimed, 1);
    assert!(w.gl.pipelines(w.project).is_empty());

    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let taken_over = w.scan_with(Handles::default(), &lease).await.unwrap();
    assert!(
        matches!(
            taken_over.handled[..],
            [(_, Outcome::Handed(Answered::Started { .. }))]
        ),
        "{taken_over:#?}"
    );
    assert_eq!(w.pipelines_by_note()[&note].len(), 1);
    assert_eq!(
        w.gl.award_names(note),
        vec!["eyes".to_owned(), "hourglass_flowing_sand".to_owned()]
    );

    tokio::time::sleep(std::time::Duration::from_millis(2300)).await;
    let after = w.scan_with(Handles::default(), &lease).await.unwrap();
    assert!(after.handled.is_empty(), "{after:#?}");
    assert_eq!(
        w.pipelines_by_note()[&note].len(),
        1,
        "answered exactly once"
    );
}

/// Before 17.8 GitLab files no new to-do for a user who has one pending on the same issue, so
/// to-dos cannot be trusted to carry every mention: the scan reads the lists instead, and a
/// second mention on an issue that already gave the bot a to-do is still answered.
#[tokio::test]
async fn before_17_8_the_scan_reads_the_lists_because_to_dos_miss_mentions() {
    let w = world_on(GitLabVersion::new(17, 7, 0), UserSpec::human("claude")).await;
    let issue = w.issue("One");
    let a = w.note(issue, NoteSpec::new(w.dev.id, "@claude first"));
    let b = w.note(issue, NoteSpec::new(w.dev.id, "@claude second"));
    assert_eq!(
        w.gl.todos(w.bot.id).len(),
        1,
        "GitLab 17.7 filed one to-do for two mentions"
    );
    let report = w.scan().await;
    assert!(matches!(report.source, Source::Lists { .. }), "{report:#?}");
    let mut started: Vec<u64> = w.pipelines_by_note().keys().copied().collect();
    started.sort_unstable();
    assert_eq!(started, vec![a, b]);
}
