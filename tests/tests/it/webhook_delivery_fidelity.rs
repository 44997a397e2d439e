//! The double's Comments webhook behaves as GitLab's where webhook mode depends on it: an edit
//! fires a Note Hook with `action: update` (16.11+), a hook's `custom_webhook_template` is
//! rendered as `WebHookService#render_custom_template` renders it (raw values unless the
//! `custom_webhook_template_serialization` flag is on), a trigger call whose pipeline would have
//! no job is refused with 400, and failed deliveries disable the hook after the fourth in a row
//! (`WebHooks::AutoDisabling`, GitLab.com; self-managed instances keep the flag off).

use std::time::Duration;

use doubles::ci_config::Config;
use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, ProjectSpec, SeededUser, UserSpec,
};
use doubles::gitlab::routes::pipelines::NO_JOBS;
use entrypoint::trigger::hook_vars::TEMPLATE;
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

struct World {
    gl: GitLabDouble,
    project: u64,
    alice: SeededUser,
    issue: u64,
    trigger_url: String,
}

async fn world(gl: GitLabDouble) -> World {
    let project = gl
        .add_project(ProjectSpec::new("acme/widgets"))
        .expect("project")
        .id;
    let alice = gl.add_user(UserSpec::human("alice")).expect("alice");
    gl.add_member(project, alice.id, 40).expect("member");
    let token = gl
        .add_trigger(project, alice.id, "comments")
        .expect("trigger");
    let trigger_url = crate::support::seeded::trigger_url(&gl, project, &token);
    let issue = gl
        .create_issue(project, IssueSpec::new(alice.id, "Broken build"))
        .expect("issue")
        .iid;
    World {
        gl,
        project,
        alice,
        issue,
        trigger_url,
    }
}

async fn call(w: &World, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", w.gl.api_url()))
        .header("PRIVATE-TOKEN", &w.alice.token);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the double answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Posts a comment through the API (so hooks fire) and returns its id.
/// `count` comments, each delivered (whatever the hook answered) before the next.
async fn comments_delivered(w: &World, count: usize) {
    for n in 1..=count {
        comment(w, &format!("comment {n}")).await;
        w.gl.wait_for_deliveries(n, WAIT).await.expect("delivered");
    }
}

async fn comment(w: &World, body: &str) -> u64 {
    let (status, note) = call(
        w,
        reqwest::Method::POST,
        &format!("/projects/{}/issues/{}/notes", w.project, w.issue),
        json!({ "body": body }),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    note["id"].as_u64().expect("a note id")
}

fn variables(w: &World) -> Vec<Value> {
    let mut pipelines = w.gl.pipelines(w.project);
    pipelines.sort_by_key(|p| p.id);
    pipelines
        .iter()
        .map(|p| {
            let vars: serde_json::Map<String, Value> = p
                .variables
                .iter()
                .filter(|v| v.key.starts_with("AI_HOOK_"))
                .map(|v| (v.key.clone(), Value::from(v.value.clone())))
                .collect();
            Value::Object(vars)
        })
        .collect()
}

#[tokio::test]
async fn our_template_turns_a_comment_and_its_edit_into_trigger_variables() {
    let w = world(GitLabDouble::start().await.expect("double")).await;
    let (status, hook) = call(
        &w,
        reqwest::Method::POST,
        &format!("/projects/{}/hooks", w.project),
        json!({
            "url": w.trigger_url,
            "note_events": true,
            "push_events": false,
            "custom_webhook_template": TEMPLATE,
        }),
    )
    .await;
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["custom_webhook_template"], TEMPLATE);

    let note = comment(
        &w,
        "@claude say \"hi\"\nand a second line \\ with a backslash",
    )
    .await;
    w.gl.wait_for_deliveries(1, WAIT).await.expect("delivered");
    let (status, _) = call(
        &w,
        reqwest::Method::PUT,
        &format!("/projects/{}/issues/{}/notes/{note}", w.project, w.issue),
        json!({ "body": "@claude never mind" }),
    )
    .await;
    assert_eq!(status, 200);
    let deliveries = w.gl.wait_for_deliveries(2, WAIT).await.expect("delivered");
    assert!(
        deliveries.iter().all(|d| d.status == Some(201)),
        "{deliveries:?}"
    );
    let sent: Value = serde_json::from_str(&deliveries[0].body).expect("JSON body");
    assert!(
        sent.get("object_kind").is_none(),
        "the template replaces the payload"
    );
    let content_type = deliveries[0]
        .headers
        .iter()
        .find(|(name, _)| name == "Content-Type")
        .map(|(_, value)| value.as_str());
    assert_eq!(content_type, Some("application/json"));

    // Raw rendering: a field the event lacks (`merge_request.iid` on an issue note) is empty.
    let expected = |action: &str| {
        json!({
            "AI_HOOK_ACTION": action,
            "AI_HOOK_AUTHOR": "alice",
            "AI_HOOK_NOTEABLE_TYPE": "Issue",
            "AI_HOOK_NOTE_ID": note.to_string(),
            "AI_HOOK_ISSUE_IID": w.issue.to_string(),
            "AI_HOOK_MR_IID": "",
        })
    };
    assert_eq!(variables(&w), [expected("create"), expected("update")]);

    // With serialization GitLab writes the missing field as JSON `null`.
    w.gl.set_custom_webhook_template_serialization(true);
    comment(&w, "plain").await;
    w.gl.wait_for_deliveries(3, WAIT).await.expect("delivered");
    assert_eq!(variables(&w)[2]["AI_HOOK_MR_IID"], "null");
}

#[tokio::test]
async fn a_template_that_pastes_comment_text_breaks_on_a_quote_unless_serialized() {
    let w = world(GitLabDouble::start().await.expect("double")).await;
    w.gl.add_hook(
        w.project,
        HookSpec::notes(&w.trigger_url)
            .custom_template(r#"{"variables":{"TEXT":"{{object_attributes.note}}"}}"#),
    )
    .expect("hook");
    comment(&w, "say \"hi\"").await;
    let deliveries = w.gl.wait_for_deliveries(1, WAIT).await.expect("logged");
    assert_eq!(deliveries[0].status, None, "no request is made");
    let error = deliveries[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("Error while parsing rendered custom webhook template"),
        "{error}"
    );
    assert!(w.gl.pipelines(w.project).is_empty());
    assert_eq!(w.gl.hooks(w.project)[0].recent_failures, 1, "counted");

    w.gl.set_custom_webhook_template_serialization(true);
    comment(&w, "say \"hi\"").await;
    let deliveries = w.gl.wait_for_deliveries(2, WAIT).await.expect("logged");
    assert_eq!(deliveries[1].status, Some(201), "{:?}", deliveries[1]);
    let pipelines = w.gl.pipelines(w.project);
    assert_eq!(pipelines[0].variable("TEXT"), Some("say \"hi\""));
    assert_eq!(w.gl.hooks(w.project)[0].recent_failures, 0, "reset");
}

/// A configuration whose only job never runs for a trigger pipeline.
fn no_job_for_triggers() -> Config {
    Config::from_yaml(
        "test:\n  image: debian\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"push\"\n",
    )
}

#[tokio::test]
async fn a_jobless_trigger_fails_and_the_fourth_failure_in_a_row_disables_the_hook() {
    let w = world(GitLabDouble::start().await.expect("double")).await;
    w.gl.set_ci_config(w.project, no_job_for_triggers());
    let (status, body) = call(
        &w,
        reqwest::Method::POST,
        &format!("/projects/{}/trigger/pipeline", w.project),
        json!({"ref": "main", "token": w.trigger_url.rsplit_once("token=").unwrap().1}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body, json!({"message": {"base": [NO_JOBS]}}));

    let hook =
        w.gl.add_hook(w.project, HookSpec::notes(&w.trigger_url))
            .expect("hook");
    comments_delivered(&w, 4).await;
    assert!(
        w.gl.hook_deliveries().iter().all(|d| d.status == Some(400)),
        "{:?}",
        w.gl.hook_deliveries()
    );
    let (_, listed) = call(
        &w,
        reqwest::Method::GET,
        &format!("/projects/{}/hooks/{hook}", w.project),
        Value::Null,
    )
    .await;
    assert_eq!(listed["alert_status"], "temporarily_disabled", "{listed}");
    assert!(listed["disabled_until"].is_string(), "{listed}");

    // A fifth comment is recorded as an event but not delivered: the mention would be lost.
    comment(&w, "@claude are you there?").await;
    assert!(
        w.gl.wait_for_deliveries(5, Duration::from_secs(2))
            .await
            .is_err()
    );
    assert_eq!(w.gl.note_events().len(), 5);
    assert!(w.gl.pipelines(w.project).is_empty());
}

#[tokio::test]
async fn a_self_managed_instance_keeps_calling_a_failing_hook() {
    let gl = GitLabDouble::builder()
        .self_managed_hook_flags()
        .start()
        .await
        .expect("double");
    let w = world(gl).await;
    w.gl.set_ci_config(w.project, no_job_for_triggers());
    w.gl.add_hook(w.project, HookSpec::notes(&w.trigger_url))
        .expect("hook");
    comments_delivered(&w, 5).await;
    assert!(
        w.gl.hook_deliveries().iter().all(|d| d.status == Some(400)),
        "every call still fails"
    );
}
