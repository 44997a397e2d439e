//! The product's GitLab client against the GitLab double: both were written from GitLab's REST v4
//! documentation independently, so agreement here is evidence, not an echo.

use crate::support::gitlab_client::fast_retrying_client;
use crate::support::seeded::Seeded as World;
use doubles::gitlab::double::{Team, TeamSpec};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use doubles::gitlab::faults::{FaultAction, FaultRule, Schedule};

use entrypoint::gitlab::award_emoji::AwardOutcome;
use entrypoint::gitlab::diff_position::{DiffPosition, PositionType};
use entrypoint::gitlab::ids::{
    IssueIid, MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId,
};
use entrypoint::gitlab::merge_requests::{NewMergeRequest, Upsert};
use entrypoint::gitlab::notes::{NewNote, NoteListOptions};
use entrypoint::gitlab::pipelines::{NewPipeline, PipelineTrigger, PipelineVariable, VariableType};
use entrypoint::gitlab::{GitLab, GitLabError};
use entrypoint::quick_action::Inert;
use entrypoint::secret::Secret;

/// A client with millisecond backoff, so retry tests take no time.
fn client(api_url: &str, token: &str) -> GitLab {
    fast_retrying_client(api_url, token, 12, Duration::from_secs(20))
}

async fn world() -> World {
    World::start().await
}

#[tokio::test]
async fn client_lists_thirty_pages_while_a_fifth_of_requests_fail() {
    let w = world().await;
    let issue = w.issue("Busy issue");
    for n in 0..2950 {
        w.comment(DoubleNoteable::Issue(issue), &format!("note {n}"));
    }
    let faults = w.gl.faults();
    let notes_path = "/api/v4/projects/*/issues/*/notes";
    // Every 10th request loses its connection; of the rest, every 9th gets a 503: one request
    // in five fails, in both ways a real outage shows up.
    for (action, n) in [
        (FaultAction::Drop, 10),
        (FaultAction::Status { code: 503 }, 9),
    ] {
        faults.add(FaultRule {
            method: Some("GET".into()),
            path: notes_path.into(),
            action,
            schedule: Schedule::EveryNth { n },
        });
    }
    let gitlab = client(&w.gl.api_url(), &w.bot.token);
    let notes = gitlab
        .notes(
            &w.project_ref(),
            Noteable::Issue(IssueIid(issue)),
            NoteListOptions::default(),
        )
        .await
        .expect("the listing completes despite the faults");
    assert_eq!(notes.len(), 2950);
    let mut ids: Vec<u64> = notes.iter().map(|n| n.id.0).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2950, "no page was read twice or skipped");
    let served =
        w.gl.requests()
            .iter()
            .filter(|r| r.method == "GET" && r.path.ends_with("/notes") && r.status == 200)
            .count();
    assert_eq!(served, 30, "exactly 30 pages of 100 were served");
    let injected = faults.injected();
    let share = injected as f64 / (injected as f64 + served as f64);
    eprintln!(
        "30 pages of 100 read; {injected} of {} requests failed ({:.0}%)",
        injected as usize + served,
        share * 100.0
    );
    assert!(injected >= 3, "faults were really injected ({injected})");
    assert!(
        (0.05..=0.45).contains(&share),
        "about a fifth of requests failed: {share:.2}"
    );
}

#[tokio::test]
async fn rate_limited_request_waits_for_retry_after_then_succeeds() {
    let w = world().await;
    w.gl.faults().add(FaultRule {
        method: Some("GET".into()),
        path: "/api/v4/user".into(),
        action: FaultAction::RateLimited {
            retry_after_secs: 1,
        },
        schedule: Schedule::Times { n: 1 },
    });
    let start = Instant::now();
    let me = client(&w.gl.api_url(), &w.bot.token)
        .current_user()
        .await
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(950),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(me.id, UserId(w.bot.id));
    assert!(me.bot, "project access token users are bots");
}

#[tokio::test]
async fn errors_carry_gitlabs_status_and_message() {
    let w = world().await;
    let bad = client(&w.gl.api_url(), "glpat-not-a-real-token")
        .current_user()
        .await;
    let err = bad.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(err.to_string().contains("401 Unauthorized"), "{err}");
    assert!(!err.to_string().contains("glpat-not-a-real-token"));

    let gitlab = client(&w.gl.api_url(), &w.bot.token);
    let missing = gitlab
        .issue(&ProjectRef::Path("acme/nope".into()), IssueIid(1))
        .await;
    let err = missing.unwrap_err();
    assert!(err.is_not_found(), "{err}");
    assert!(err.to_string().contains("404 Project Not Found"), "{err}");

    let guest = w.gl.add_user(UserSpec::human("gus")).unwrap();
    w.gl.add_member(w.project, guest.id, 10).unwrap();
    let forbidden = client(&w.gl.api_url(), &guest.token)
        .create_merge_request(
            &w.project_ref(),
            &NewMergeRequest::new("feature", "main", "Guest tries"),
        )
        .await;
    assert_eq!(
        forbidden.unwrap_err().status().map(|s| s.as_u16()),
        Some(403)
    );
}

#[tokio::test]
async fn notes_round_trip_and_emit_note_hooks_our_parser_understands() {
    let w = world().await;
    let issue = w.issue("Crash");
    let dev = client(&w.gl.api_url(), &w.dev.token);
    let noteable = Noteable::Issue(IssueIid(issue));
    let note = dev
        .create_note(
            &w.project_ref(),
            noteable,
            &NewNote::new("@claude please fix this"),
        )
        .await
        .unwrap();
    assert_eq!(note.author.username, "dana");
    let stored = w.gl.notes(w.project, DoubleNoteable::Issue(issue));
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, "@claude please fix this");

    let events = w.gl.note_events();
    assert_eq!(events.len(), 1, "one Note Hook per created note");
    let payload = serde_json::to_string(&events[0].payload).unwrap();
    let trigger = entrypoint::trigger::webhook::parse(&payload, &Default::default())
        .expect("the double's Note Hook parses");
    assert_eq!(trigger.noteable, noteable);
    assert_eq!(trigger.note.as_ref().unwrap().id, note.id);
    assert_eq!(trigger.instruction, "please fix this");

    let updated = dev
        .update_note(
            &w.project_ref(),
            noteable,
            note.id,
            &Inert::new("@claude please fix this, thanks"),
        )
        .await
        .unwrap();
    assert_eq!(updated.body, "@claude please fix this, thanks");
    let edit = w.gl.note_events().pop().unwrap();
    let edit = serde_json::to_string(&edit.payload).unwrap();
    let edited = entrypoint::trigger::webhook::parse(&edit, &Default::default()).unwrap();
    assert!(
        edited.note.unwrap().edited,
        "an edit is reported as action update"
    );

    let internal = dev
        .create_note(
            &w.project_ref(),
            noteable,
            &NewNote {
                body: Inert::new("internal only"),
                internal: true,
            },
        )
        .await
        .unwrap();
    assert!(internal.internal);
}

#[tokio::test]
async fn a_duplicate_merge_request_is_a_typed_conflict_and_create_or_update_updates_it() {
    let w = world().await;
    w.commit("claude/issue-1-fix", "fix.txt", "fixed\n", "Fix it");
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let new = NewMergeRequest::new("claude/issue-1-fix", "main", "Fix the crash");
    let first = bot
        .create_merge_request(&w.project_ref(), &new)
        .await
        .unwrap();
    let again = bot
        .create_merge_request(&w.project_ref(), &new)
        .await
        .unwrap_err();
    match again {
        GitLabError::MergeRequestAlreadyExists { existing, .. } => {
            assert_eq!(existing, Some(first.iid))
        }
        other => panic!("expected a typed conflict, got {other}"),
    }
    let mut retitled = new.clone();
    retitled.title = Inert::new("Fix the crash (v2)");
    let (mr, upsert) = bot
        .create_or_update_merge_request(&w.project_ref(), &retitled)
        .await
        .unwrap();
    assert_eq!((mr.iid, upsert), (first.iid, Upsert::Updated));
    assert_eq!(
        w.gl.merge_requests(w.project)[0].title,
        "Fix the crash (v2)"
    );
    let found = bot
        .find_open_merge_request(&w.project_ref(), "claude/issue-1-fix")
        .await
        .unwrap();
    assert_eq!(found.map(|m| m.iid), Some(first.iid));
}

#[tokio::test]
async fn review_comments_land_on_the_right_diff_line_and_threads_resolve() {
    let w = world().await;
    w.commit(
        "feature/parser",
        "src/parser.rs",
        "fn parse() {\n    let x = input.unwrap();\n}\n",
        "Add parser",
    );
    let mr = w.merge_request("feature/parser", "Parser");
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let iid = MergeRequestIid(mr);
    let fetched = bot.merge_request(&w.project_ref(), iid).await.unwrap();
    let refs = fetched.diff_refs.expect("diff_refs");
    let diffs = bot
        .merge_request_diffs(&w.project_ref(), iid)
        .await
        .unwrap();
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].new_path, "src/parser.rs");
    assert!(diffs[0].new_file);
    let position = DiffPosition {
        position_type: PositionType::Text,
        base_sha: refs.base_sha.clone(),
        start_sha: refs.start_sha.clone(),
        head_sha: refs.head_sha.clone(),
        old_path: "src/parser.rs".into(),
        new_path: "src/parser.rs".into(),
        old_line: None,
        new_line: Some(2),
        line_range: None,
    };
    let body = "This can panic.\n\n```suggestion:-0+0\n    let x = input?;\n```";
    let thread = bot
        .create_diff_discussion(&w.project_ref(), iid, &Inert::new(body), &position)
        .await
        .unwrap();
    assert!(!thread.individual_note);
    let reply = bot
        .reply_to_discussion(
            &w.project_ref(),
            Noteable::MergeRequest(iid),
            &thread.id,
            &Inert::new("Summary follows."),
        )
        .await
        .unwrap();
    assert_eq!(reply.body, "Summary follows.");
    let resolved = bot
        .resolve_discussion(&w.project_ref(), iid, &thread.id, true)
        .await
        .unwrap();
    assert!(resolved.is_resolved(), "{resolved:?}");

    let mut outside = position.clone();
    outside.new_line = Some(40);
    let refused = bot
        .create_diff_discussion(&w.project_ref(), iid, &Inert::new("nowhere"), &outside)
        .await
        .unwrap_err();
    assert_eq!(refused.status().map(|s| s.as_u16()), Some(400), "{refused}");
}

#[tokio::test]
async fn access_levels_come_from_the_project_or_its_group() {
    let w = world().await;
    let gitlab = client(&w.gl.api_url(), &w.bot.token);
    let dev = gitlab
        .project_member(&w.project_ref(), UserId(w.dev.id))
        .await
        .unwrap();
    assert_eq!(dev.map(|m| m.access_level.0), Some(30));
    let lead = w.gl.add_user(UserSpec::human("lee")).unwrap();
    w.gl.add_group_member("acme", lead.id, 40).unwrap();
    let inherited = gitlab
        .project_member(&w.project_ref(), UserId(lead.id))
        .await
        .unwrap();
    assert_eq!(inherited.map(|m| m.access_level.0), Some(40));
    let stranger = w.gl.add_user(UserSpec::human("stranger")).unwrap();
    assert!(
        gitlab
            .project_member(&w.project_ref(), UserId(stranger.id))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn awarding_the_same_emoji_twice_is_not_an_error() {
    let w = world().await;
    let issue = w.issue("Crash");
    let note = w.comment(DoubleNoteable::Issue(issue), "@claude fix");
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let noteable = Noteable::Issue(IssueIid(issue));
    let first = bot
        .award_note(&w.project_ref(), noteable, NoteId(note.id), "eyes")
        .await
        .unwrap();
    assert!(matches!(first, AwardOutcome::Awarded(_)));
    let second = bot
        .award_note(&w.project_ref(), noteable, NoteId(note.id), "eyes")
        .await
        .unwrap();
    assert!(matches!(second, AwardOutcome::AlreadyAwarded));
    assert_eq!(w.gl.award_names(note.id), vec!["eyes".to_string()]);
}

#[tokio::test]
async fn pipelines_are_started_with_our_variables() {
    let w = world().await;
    let trigger_token = w.gl.add_trigger(w.project, w.bot.id, "relay").unwrap();
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let variables = BTreeMap::from([
        ("AI_ASSISTANT".to_string(), "claude".to_string()),
        ("AI_NOTE_ID".to_string(), "77".to_string()),
    ]);
    let triggered = bot
        .trigger_pipeline(
            &w.project_ref(),
            &PipelineTrigger {
                token: Secret::new(trigger_token.clone()),
                git_ref: "main".into(),
                variables,
            },
        )
        .await
        .unwrap();
    let created = bot
        .create_pipeline(
            &w.project_ref(),
            &NewPipeline {
                git_ref: "main".into(),
                variables: vec![PipelineVariable {
                    key: "AI_NOTE_ID".into(),
                    value: "78".into(),
                    variable_type: VariableType::EnvVar,
                }],
            },
        )
        .await
        .unwrap();
    let recorded = w.gl.pipelines(w.project);
    assert_eq!(recorded.len(), 2);
    let by_id = |id: u64| recorded.iter().find(|p| p.id == id).unwrap();
    let var = |p: &doubles::gitlab::model::Pipeline, key: &str| {
        p.variables
            .iter()
            .find(|v| v.key == key)
            .map(|v| v.value.clone())
    };
    assert_eq!(
        var(by_id(triggered.id.0), "AI_NOTE_ID").as_deref(),
        Some("77")
    );
    assert_eq!(
        var(by_id(created.id.0), "AI_NOTE_ID").as_deref(),
        Some("78")
    );
    let trigger_request =
        w.gl.requests()
            .into_iter()
            .find(|r| r.path.ends_with("/trigger/pipeline"))
            .unwrap();
    assert!(
        !trigger_request
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("private-token") || v.contains(&w.bot.token)),
        "the trigger call carries the trigger token only"
    );
}

#[tokio::test]
async fn a_self_managed_instance_under_a_sub_path_works() {
    let gl = GitLabDouble::builder()
        .relative_url_root("/gitlab")
        .start()
        .await
        .unwrap();
    let project = gl.add_project(ProjectSpec::new("team/sub/app")).unwrap();
    let user = gl.add_user(UserSpec::human("sam")).unwrap();
    gl.add_member(project.id, user.id, 30).unwrap();
    let issue = gl
        .create_issue(project.id, IssueSpec::new(user.id, "Sub-path"))
        .unwrap();
    assert!(gl.api_url().ends_with("/gitlab/api/v4"), "{}", gl.api_url());
    let gitlab = client(&gl.api_url(), &user.token);
    assert_eq!(gitlab.current_user().await.unwrap().username, "sam");
    let by_path = gitlab
        .issue(
            &ProjectRef::Path("team/sub/app".into()),
            IssueIid(issue.iid),
        )
        .await
        .unwrap();
    assert_eq!(by_path.title, "Sub-path");
}

/// A multi-line diff note as another tool, or an older GitLab, stored it: `line_range` ends
/// without `line_code` and with their lines as strings, and a `position_type` this client does
/// not know. GitLab returns such positions as stored (`lib/api/entities/position.rb`); one of
/// them must not make the merge request's threads unreadable.
fn foreign_position() -> serde_json::Value {
    serde_json::json!({
        "base_sha": "1111111111111111111111111111111111111111",
        "start_sha": "2222222222222222222222222222222222222222",
        "head_sha": "3333333333333333333333333333333333333333",
        "old_path": "src/lib.rs", "new_path": "src/lib.rs",
        "position_type": "text", "old_line": null, "new_line": "12",
        "line_range": {
            "start": {"type": "new", "old_line": null, "new_line": "10"},
            "end": {"line_code": null, "type": "new", "old_line": "", "new_line": 12}
        }
    })
}

#[tokio::test]
async fn a_foreign_diff_note_with_an_old_style_line_range_does_not_break_the_threads() {
    let w = world().await;
    let repo = w.gl.repo(w.project).unwrap();
    repo.create_branch("feature", "main").unwrap();
    let mr = w.merge_request("feature", "Feature");
    let noteable = DoubleNoteable::MergeRequest(mr);
    let odd = w.note(
        noteable,
        NoteSpec::new(w.dev.id, "left by another tool").position(foreign_position()),
    );
    let mut unknown = foreign_position();
    unknown["position_type"] = "pdf".into();
    unknown["new_line"] = serde_json::json!({"page": 3});
    let stranger = w.note(
        noteable,
        NoteSpec::new(w.dev.id, "a shape nobody knows").position(unknown),
    );
    let mention = w.comment(noteable, "@claude review");
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let target = Noteable::MergeRequest(MergeRequestIid(mr));

    let threads = bot.discussions(&w.project_ref(), target).await.unwrap();
    let notes: Vec<_> = threads.iter().flat_map(|d| &d.notes).collect();
    assert_eq!(
        notes.iter().map(|n| n.id).collect::<Vec<_>>(),
        vec![NoteId(odd.id), NoteId(stranger.id), NoteId(mention.id)]
    );
    let range = notes[0]
        .position
        .as_ref()
        .unwrap()
        .line_range
        .as_ref()
        .unwrap();
    assert_eq!(
        (range.start.new_line, range.end.new_line),
        (Some(10), Some(12))
    );
    assert_eq!(range.start.line_code, None);
    assert_eq!(
        notes[1].position, None,
        "an unreadable position costs only itself"
    );

    let listed = bot
        .notes(&w.project_ref(), target, NoteListOptions::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
}

#[tokio::test]
async fn a_forks_merge_request_from_a_branch_of_the_same_name_is_not_ours() {
    let w = world().await;
    let fork =
        w.gl.add_project(ProjectSpec::new("dana/widgets").default_branch("main"))
            .unwrap()
            .id;
    w.gl.add_member(fork, w.dev.id, 50).unwrap();
    w.gl.repo(fork)
        .unwrap()
        .create_branch("claude/issue-1-fix", "main")
        .unwrap();
    let theirs =
        w.gl.create_merge_request(
            w.project,
            MrSpec::new(w.dev.id, "claude/issue-1-fix", "main", "From a fork").from_fork(fork),
        )
        .unwrap();
    let bot = client(&w.gl.api_url(), &w.bot.token);
    let found = bot
        .find_open_merge_request(&w.project_ref(), "claude/issue-1-fix")
        .await
        .unwrap();
    assert_eq!(
        found.map(|m| m.iid),
        None,
        "fork MR !{} was taken for ours",
        theirs.iid
    );

    w.gl.repo(w.project)
        .unwrap()
        .create_branch("claude/issue-1-fix", "main")
        .unwrap();
    w.commit("claude/issue-1-fix", "fix.txt", "fixed\n", "Fix");
    let new = NewMergeRequest::new("claude/issue-1-fix", "main", "Fix the crash");
    let (ours, upsert) = bot
        .create_or_update_merge_request(&w.project_ref(), &new)
        .await
        .unwrap();
    assert_eq!(upsert, Upsert::Created, "the fork's MR does not block ours");
    assert_ne!(ours.iid.0, theirs.iid);
    let found = bot
        .find_open_merge_request(&w.project_ref(), "claude/issue-1-fix")
        .await
        .unwrap();
    assert_eq!(found.map(|m| m.iid), Some(ours.iid));
}

/// Posts a note as `token`'s user straight to the REST API, quick actions and all (the
/// product's own client neutralises them).
async fn post_note_as(api_url: &str, token: &str, path: &str, body: &str) {
    let response = reqwest::Client::new()
        .post(format!("{api_url}/{path}/notes"))
        .header("PRIVATE-TOKEN", token)
        .json(&serde_json::json!({ "body": body }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn label_events_say_who_added_and_removed_which_label_by_any_road_and_follow_the_issues_visibility()
 {
    use entrypoint::gitlab::resource_label_events::LabelAction;
    let gl = GitLabDouble::start().await.expect("double starts");
    let Team {
        project,
        dev,
        guest,
        ..
    } = gl
        .seed_team(TeamSpec {
            guest: true,
            ..TeamSpec::default()
        })
        .expect("team");
    let guest = guest.expect("guest");
    let pid = ProjectRef::Id(ProjectId(project));
    let issue = gl
        .create_issue(project, IssueSpec::new(dev.id, "Labels").labels(&["bug"]))
        .unwrap();
    let noteable = DoubleNoteable::Issue(issue.iid);
    // The UI or PUT (add and remove at once), then a `/label` quick action in a note.
    gl.change_issuable(
        project,
        noteable,
        dev.id,
        doubles::gitlab::double::IssuableChange {
            add_labels: vec!["claude".into()],
            remove_labels: vec!["bug".into()],
            ..Default::default()
        },
    )
    .unwrap();
    post_note_as(
        &gl.api_url(),
        &dev.token,
        &format!("projects/{project}/issues/{}", issue.iid),
        "/label ~urgent",
    )
    .await;
    let api = client(&gl.api_url(), &dev.token);
    let events = api
        .resource_label_events(&pid, Noteable::Issue(IssueIid(issue.iid)))
        .await
        .unwrap();
    let seen: Vec<(String, LabelAction, String)> = events
        .iter()
        .map(|e| {
            (
                e.label.as_ref().unwrap().name.clone(),
                e.action,
                e.user.as_ref().unwrap().username.clone(),
            )
        })
        .collect();
    let dana = || "dana".to_owned();
    assert_eq!(
        seen,
        [
            ("bug".to_owned(), LabelAction::Add, dana()),
            ("claude".to_owned(), LabelAction::Add, dana()),
            ("bug".to_owned(), LabelAction::Remove, dana()),
            ("urgent".to_owned(), LabelAction::Add, dana()),
        ]
    );
    assert!(events.iter().all(|e| e.resource_type == "Issue"
        && e.resource_id == issue.id
        && e.user.as_ref().unwrap().id == UserId(dev.id)));
    assert!(
        events
            .windows(2)
            .all(|w| w[0].created_at <= w[1].created_at)
    );

    // Every page: 120 more changes on a merge request, read in pages of 100.
    gl.repo(project)
        .unwrap()
        .create_branch("feature", "main")
        .unwrap();
    let mr = gl
        .create_merge_request(
            project,
            MrSpec {
                labels: vec!["x".into()],
                ..MrSpec::new(dev.id, "feature", "main", "Busy labels")
            },
        )
        .unwrap();
    {
        for n in 0..60 {
            let change = doubles::gitlab::double::IssuableChange {
                add_labels: if n % 2 == 0 { vec![] } else { vec!["x".into()] },
                remove_labels: if n % 2 == 0 { vec!["x".into()] } else { vec![] },
                ..Default::default()
            };
            gl.change_issuable(
                project,
                DoubleNoteable::MergeRequest(mr.iid),
                dev.id,
                change,
            )
            .unwrap();
        }
        let events = api
            .resource_label_events(&pid, Noteable::MergeRequest(MergeRequestIid(mr.iid)))
            .await
            .unwrap();
        assert_eq!(events.len(), 61);
        assert!(events.iter().all(|e| e.resource_type == "MergeRequest"));
    }

    // A confidential issue's events are the guest's as little as the issue is.
    let secret = gl
        .create_issue(
            project,
            IssueSpec::new(dev.id, "Secret")
                .labels(&["claude"])
                .confidential(),
        )
        .unwrap();
    let secret = Noteable::Issue(IssueIid(secret.iid));
    assert_eq!(
        api.resource_label_events(&pid, secret).await.unwrap().len(),
        1
    );
    let as_guest = client(&gl.api_url(), &guest.token)
        .resource_label_events(&pid, secret)
        .await
        .unwrap_err();
    assert_eq!(as_guest.status(), Some(reqwest::StatusCode::NOT_FOUND));
}
