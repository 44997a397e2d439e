//! The GitLab double is no kinder than GitLab: driven by python-gitlab (the client most GitLab
//! users script with) over every endpoint the product uses, and on both sides of each version
//! floor the product depends on (`--gitlab-version`, docs/gitlab-versions.md).

use std::process::Command;
use std::time::Duration;

use chrono::{Days, Utc};
use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, MrSpec, NoteSpec, Noteable, ProjectSpec, SeededUser,
    UserSpec,
};
use doubles::gitlab::model::NoteAction;
use doubles::gitlab::repo::{FileChange, Signature};
use doubles::gitlab::version::GitLabVersion;
use serde_json::{Value, json};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fidelity/gitlab_fidelity.py");

struct World {
    gl: GitLabDouble,
    project: u64,
    maintainer: SeededUser,
    developer: SeededUser,
    bot: SeededUser,
}

async fn world(version: GitLabVersion, spec: ProjectSpec) -> World {
    let (gl, project) = crate::support::seeded::project_on(version, spec).await;
    let maintainer = gl
        .add_member_user(project, UserSpec::human("maya"), 40)
        .expect("maya is a Maintainer");
    let developer = gl
        .add_member_user(project, UserSpec::human("dev"), 30)
        .expect("dev is a Developer");
    let bot = gl
        .add_member_user(project, UserSpec::project_bot(project, "Claude"), 30)
        .expect("the bot is a Developer");
    World {
        gl,
        project,
        maintainer,
        developer,
        bot,
    }
}

async fn call(
    w: &World,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", w.gl.api_url()))
        .header("PRIVATE-TOKEN", token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the double answers");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// The last minor release before `major.minor` (with `false`) and `major.minor` itself (with
/// `true`): both sides of a floor where GitLab's behaviour changed.
fn around(major: u32, minor: u32) -> [(GitLabVersion, bool); 2] {
    [
        (GitLabVersion::new(major, minor - 1, 0), false),
        (GitLabVersion::new(major, minor, 0), true),
    ]
}

/// `POST path` with a JSON body, as `token`.
async fn post(w: &World, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(w, token, reqwest::Method::POST, path, body).await
}

#[tokio::test]
async fn python_gitlab_finds_the_double_as_gitlab_documents_it() {
    let version = GitLabVersion::new(18, 6, 0);
    let w = world(
        version,
        ProjectSpec::new("acme/widgets").pipeline_variables_minimum_role("maintainer"),
    )
    .await;
    let repo = w.gl.repo(w.project).unwrap();
    repo.commit(
        "feature",
        &[FileChange::Write {
            path: "feature.txt".into(),
            content: b"new\n".to_vec(),
        }],
        "Add a feature",
        &Signature {
            name: "Dev".into(),
            email: "dev@example.com".into(),
        },
    )
    .unwrap();
    let issue =
        w.gl.create_issue(w.project, IssueSpec::new(w.developer.id, "Crash on start"))
            .unwrap();
    let mr =
        w.gl.create_merge_request(
            w.project,
            MrSpec::new(w.developer.id, "feature", "main", "Add a feature"),
        )
        .unwrap();
    w.gl.add_note(
        w.project,
        Noteable::Issue(issue.iid),
        NoteSpec::new(w.developer.id, &format!("@{} please look", w.bot.username)),
    )
    .unwrap();
    w.gl.set_max_token_lifetime_days(30);
    let today = Utc::now().date_naive();
    let day = |n| today.checked_add_days(Days::new(n)).unwrap().to_string();
    let world_json = json!({
        "url": w.gl.base_url(),
        "gitlab_version": version.to_string(),
        "project_id": w.project,
        "issue_iid": issue.iid,
        "mr_iid": mr.iid,
        "bot_id": w.bot.id,
        "bot_username": w.bot.username,
        "token_expiry_ok": day(10),
        "token_expiry_too_late": day(60),
        "tokens": {
            "maintainer": w.maintainer.token,
            "developer": w.developer.token,
            "bot": w.bot.token,
        },
    });
    let probe = Command::new("python3")
        .args(["-c", "import gitlab"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "python-gitlab is not installed: run `pip install python-gitlab` (.ci/run does)\n{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let script = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(SCRIPT)
            .env("FIDELITY_WORLD", world_json.to_string())
            .output()
            .expect("python3 runs the fidelity script")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&script.stdout);
    let stderr = String::from_utf8_lossy(&script.stderr);
    assert!(script.status.success(), "{stdout}\n{stderr}");
    let summary = stdout.lines().next().unwrap_or_default();
    let checks: usize = summary
        .strip_prefix("fidelity: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        checks >= 100,
        "the suite ran only {checks} checks: {stdout}"
    );
    eprintln!("{summary}");
}

#[tokio::test]
async fn version_and_metadata_answer_the_configured_release() {
    let w = world(GitLabVersion::new(15, 1, 4), ProjectSpec::new("old/one")).await;
    let token = w.developer.token.clone();
    let (status, body) = call(&w, &token, reqwest::Method::GET, "/version", Value::Null).await;
    assert_eq!((status, body["version"].as_str()), (200, Some("15.1.4-ee")));
    let (status, _) = call(&w, &token, reqwest::Method::GET, "/metadata", Value::Null).await;
    assert_eq!(status, 404, "/metadata came in 15.2");
    let (status, body) = call(&w, "", reqwest::Method::GET, "/version", Value::Null).await;
    assert_eq!(
        (status, body),
        (401, json!({"message": "401 Unauthorized"}))
    );
}

#[tokio::test]
async fn before_17_8_a_pending_to_do_keeps_new_mentions_from_filing_one() {
    for (version, from_17_8) in around(17, 8) {
        let expected = if from_17_8 { 2 } else { 1 };
        let w = world(version, ProjectSpec::new("acme/todos")).await;
        let issue =
            w.gl.create_issue(w.project, IssueSpec::new(w.developer.id, "Two mentions"))
                .unwrap();
        for text in ["first", "second"] {
            w.gl.add_note(
                w.project,
                Noteable::Issue(issue.iid),
                NoteSpec::new(w.developer.id, &format!("@{} {text}", w.bot.username)),
            )
            .unwrap();
        }
        assert_eq!(w.gl.todos(w.bot.id).len(), expected, "GitLab {version}");
    }
}

#[tokio::test]
async fn before_16_11_editing_a_comment_fires_no_note_hook() {
    for (version, fires) in around(16, 11) {
        let w = world(version, ProjectSpec::new("acme/edits")).await;
        let issue =
            w.gl.create_issue(w.project, IssueSpec::new(w.developer.id, "Edits"))
                .unwrap();
        let token = w.developer.token.clone();
        let path = format!("/projects/{}/issues/{}/notes", w.project, issue.iid);
        let (status, note) = post(&w, &token, &path, json!({"body": "hello"})).await;
        assert_eq!(status, 201);
        let (status, _) = call(
            &w,
            &token,
            reqwest::Method::PUT,
            &format!("{path}/{}", note["id"]),
            json!({"body": "hello @claude"}),
        )
        .await;
        assert_eq!(status, 200);
        let updates =
            w.gl.note_events()
                .iter()
                .filter(|e| e.action == NoteAction::Update)
                .count();
        assert_eq!(updates > 0, fires, "GitLab {version}");
    }
}

#[tokio::test]
async fn before_17_4_masked_and_hidden_is_dropped_without_a_word() {
    for (version, from_17_4) in around(17, 4) {
        let hidden = from_17_4.then_some(true);
        let w = world(version, ProjectSpec::new("acme/vars")).await;
        let token = w.maintainer.token.clone();
        let (status, body) = post(&w, &token, &format!("/projects/{}/variables", w.project), json!({"key": "GITLAB_TOKEN", "value": "glpat-0123456789abcdefghij", "masked": true, "masked_and_hidden": true})).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["masked"], true);
        assert_eq!(
            body.get("hidden").and_then(Value::as_bool),
            hidden,
            "GitLab {version}: {body}"
        );
    }
}

#[tokio::test]
async fn idempotency_key_is_sent_from_17_4() {
    for (version, sent) in around(17, 4) {
        let w = world(version, ProjectSpec::new("acme/hooks")).await;
        w.gl.add_hook(w.project, HookSpec::notes("http://127.0.0.1:9/hook"))
            .unwrap();
        let issue =
            w.gl.create_issue(w.project, IssueSpec::new(w.developer.id, "Hooked"))
                .unwrap();
        w.gl.add_note(
            w.project,
            Noteable::Issue(issue.iid),
            NoteSpec::new(w.developer.id, "hi").emit_hooks(),
        )
        .unwrap();
        let deliveries =
            w.gl.wait_for_deliveries(1, Duration::from_secs(10))
                .await
                .unwrap();
        let has_key = deliveries[0]
            .headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("idempotency-key"));
        assert_eq!(has_key, sent, "GitLab {version}");
        let agent = deliveries[0]
            .headers
            .iter()
            .find(|(name, _)| name == "User-Agent")
            .map(|(_, v)| v.clone());
        assert_eq!(agent, Some(format!("GitLab/{version}")));
    }
}

#[tokio::test]
async fn pipeline_variables_follow_restrict_and_the_role_as_each_release_does() {
    // (release, restrict_user_defined_variables, role, may a Developer pass variables?)
    let cases = [
        (GitLabVersion::new(17, 0, 0), true, "developer", false),
        (GitLabVersion::new(17, 0, 0), false, "maintainer", true),
        (GitLabVersion::new(17, 5, 0), false, "maintainer", true),
        (GitLabVersion::new(17, 5, 0), true, "maintainer", false),
        (GitLabVersion::new(18, 6, 0), true, "developer", true),
    ];
    for (version, restrict, role, allowed) in cases {
        let w = world(
            version,
            ProjectSpec::new("acme/pipes")
                .pipeline_variables_minimum_role(role)
                .restrict_user_defined_variables(restrict),
        )
        .await;
        let token = w.developer.token.clone();
        let (status, body) = post(
            &w,
            &token,
            &format!("/projects/{}/pipeline", w.project),
            json!({"ref": "main", "variables": [{"key": "X", "value": "1"}]}),
        )
        .await;
        let expected = if allowed { 201 } else { 400 };
        assert_eq!(
            status, expected,
            "GitLab {version}, restrict {restrict}, role {role}: {body}"
        );
        if !allowed {
            assert_eq!(
                body,
                json!({"message": {"base": ["Insufficient permissions to set pipeline variables"]}})
            );
        }
        let (_, project) = call(
            &w,
            &w.maintainer.token.clone(),
            reqwest::Method::GET,
            &format!("/projects/{}", w.project),
            Value::Null,
        )
        .await;
        assert_eq!(project["restrict_user_defined_variables"], restrict);
        assert_eq!(
            project
                .get("ci_pipeline_variables_minimum_override_role")
                .is_some(),
            version >= GitLabVersion::new(17, 1, 0),
            "the role exists from 17.1: {project}"
        );
    }
}
