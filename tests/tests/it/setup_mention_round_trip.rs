//! The mode-webhook proof: after `entrypoint setup`, a comment on the double reaches the
//! double's own trigger URL through the webhook setup created, the recorded pipeline carries
//! `TRIGGER_PAYLOAD`, and the job's trigger detection acts on it — but not on the bot's own
//! comment.

use std::time::Duration;

use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, NoteSpec, Noteable, ProjectSpec, UserSpec,
};
use doubles::gitlab::model::HookDelivery;
use doubles::gitlab::version::GitLabVersion;
use entrypoint::agent::{Assistant, Handles};
use entrypoint::setup::{self, Outcome};
use entrypoint::trigger::decision::{BotIdentity, Decision, SkipReason, decide};
use entrypoint::trigger::load::{Entry, detect};

use crate::support::gitlab_client::client;
use crate::support::seeded::trigger_url;
use crate::support::setup::{Quiet, webhook_options};

/// What the triggered job would decide for the pipeline's `TRIGGER_PAYLOAD`.
fn job_decision(payload: &str, project: u64, bot: &BotIdentity) -> Decision {
    let project_id = project.to_string();
    let vars = |name: &str| match name {
        "TRIGGER_PAYLOAD" => Some(payload.to_owned()),
        "CI_PROJECT_ID" => Some(project_id.clone()),
        _ => None,
    };
    let entry = detect(&vars, &Handles::default()).expect("the payload is a trigger");
    let Entry::Webhook { variable, trigger } = entry else {
        panic!("expected a webhook trigger, got {entry:?}");
    };
    assert_eq!(variable, "TRIGGER_PAYLOAD");
    let trigger = trigger.expect("an issue comment is supported");
    decide(&trigger, Some(bot), Some(Assistant::Claude))
}

/// `author` comments `body` on issue `on`, and GitLab fires the Comments hook.
fn comment(gl: &GitLabDouble, project: u64, on: u64, author: u64, body: &str) {
    let spec = NoteSpec::new(author, body).emit_hooks();
    gl.add_note(project, Noteable::Issue(on), spec).unwrap();
}

/// The first `n` deliveries of the project's hooks, once GitLab made them.
async fn delivered(gl: &GitLabDouble, n: usize) -> Vec<HookDelivery> {
    let deliveries = gl.wait_for_deliveries(n, Duration::from_secs(10));
    deliveries.await.unwrap()
}

/// The fallback design: GitLab before 16.10 has no custom webhook templates, so the hook sends
/// the Note Hook itself and the job reads it from `TRIGGER_PAYLOAD` (the template design is in
/// `webhook_mode_template.rs`).
#[tokio::test]
async fn a_comment_after_webhook_setup_starts_a_pipeline_the_job_acts_on() {
    let gl = GitLabDouble::builder()
        .gitlab_version(GitLabVersion::new(16, 9, 0))
        .start()
        .await
        .expect("double");
    let project = gl
        .add_project(ProjectSpec::new("acme/widgets"))
        .expect("project")
        .id;
    let alice = gl.add_user(UserSpec::human("alice")).unwrap();
    gl.add_member(project, alice.id, 40).unwrap();
    let dana = gl.add_user(UserSpec::human("dana")).unwrap();
    gl.add_member(project, dana.id, 30).unwrap();

    let options = webhook_options(project, "sk-ant-api03-round-trip-key");
    let admin = client(&gl.api_url(), &alice.token);
    assert_eq!(
        setup::run(&admin, &options, &mut Quiet).await.unwrap(),
        Outcome::Applied
    );
    let bot_token = gl
        .variables(project)
        .into_iter()
        .find(|v| v.key == "GITLAB_TOKEN")
        .expect("GITLAB_TOKEN stored")
        .value;
    let me = client(&gl.api_url(), &bot_token)
        .current_user()
        .await
        .expect("bot token works");
    let bot = BotIdentity {
        id: me.id,
        username: me.username.clone(),
    };

    let issue = gl
        .create_issue(project, IssueSpec::new(dana.id, "Broken build"))
        .unwrap();
    comment(&gl, project, issue.iid, dana.id, "@claude please fix this");
    let deliveries = delivered(&gl, 1).await;
    assert_eq!(deliveries[0].status, Some(201), "{:?}", deliveries[0]);
    let pipelines = gl.pipelines(project);
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].git_ref, "main");
    assert_eq!(pipelines[0].user_id, alice.id, "runs as the trigger owner");
    let payload = pipelines[0]
        .variable("TRIGGER_PAYLOAD")
        .expect("TRIGGER_PAYLOAD recorded");
    assert_eq!(
        job_decision(payload, project, &bot),
        Decision::Run {
            assistants: vec![Assistant::Claude]
        }
    );

    // The bot's own comment comes back the same way and is skipped.
    comment(
        &gl,
        project,
        issue.iid,
        me.id.0,
        "@claude please fix this too",
    );
    delivered(&gl, 2).await;
    let pipelines = gl.pipelines(project);
    assert_eq!(pipelines.len(), 2);
    let second = pipelines
        .iter()
        .max_by_key(|p| p.id)
        .and_then(|p| p.variable("TRIGGER_PAYLOAD"))
        .unwrap();
    assert!(matches!(
        job_decision(second, project, &bot),
        Decision::Skip {
            reason: SkipReason::OwnNote,
            ..
        }
    ));
}

#[tokio::test]
async fn without_setup_lowering_the_role_a_free_project_refuses_the_webhook_trigger() {
    // The double enforces "minimum role to use pipeline variables" on triggers, which is why
    // setup changes it: here a hook to the trigger URL is added by hand instead.
    let gl = GitLabDouble::start().await.expect("double");
    let project = gl
        .add_project(ProjectSpec::new("acme/free").gitlab_com_free())
        .unwrap()
        .id;
    let owner = gl.add_user(UserSpec::human("olga")).unwrap();
    gl.add_member(project, owner.id, 50).unwrap();
    let token = gl.add_trigger(project, owner.id, "by hand").unwrap();
    let url = trigger_url(&gl, project, &token);
    gl.add_hook(project, HookSpec::notes(&url)).unwrap();
    let issue = gl
        .create_issue(project, IssueSpec::new(owner.id, "x"))
        .unwrap();
    comment(&gl, project, issue.iid, owner.id, "@claude hi");
    let deliveries = delivered(&gl, 1).await;
    assert_eq!(deliveries[0].status, Some(400));
    assert!(gl.pipelines(project).is_empty());
}
