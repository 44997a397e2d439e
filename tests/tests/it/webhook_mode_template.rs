//! Webhook mode with the custom template (GitLab 16.10+): `entrypoint setup --mode webhook`
//! gives the Comments hook the template (and upgrades a hook set up by an older version), the
//! double renders it into trigger variables, the templates' real rules decide the jobs, and the
//! job reads the note back from the variables.

use std::time::Duration;

use doubles::ci_config::Config;
use doubles::gitlab::double::{
    GitLabDouble, HookSpec, IssueSpec, NoteSpec, Noteable, ProjectSpec, SeededUser, UserSpec,
};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable as Target};
use entrypoint::setup::plan::TRIGGER_DESCRIPTION;
use entrypoint::setup::{self, Options, Outcome};
use entrypoint::trigger::ci_vars::CiRequest;
use entrypoint::trigger::decision::{Decision, decide};
use entrypoint::trigger::hook_vars::{HookEvent, TEMPLATE};
use entrypoint::trigger::load::{Entry, detect};
use entrypoint::trigger::resolve::resolve;
use serde_json::json;

use crate::support::gitlab_client::client;
use crate::support::setup::{Quiet, webhook_options};

const WAIT: Duration = Duration::from_secs(10);

fn options(project: u64) -> Options {
    webhook_options(project, "sk-ant-api03-template-mode-key")
}

struct World {
    gl: GitLabDouble,
    project: u64,
    alice: SeededUser,
    dana: SeededUser,
}

async fn world() -> World {
    let gl = GitLabDouble::start().await.expect("double");
    let project = gl
        .add_project(ProjectSpec::new("acme/widgets"))
        .expect("project")
        .id;
    let alice = gl
        .add_member_user(project, UserSpec::human("alice"), 40)
        .unwrap();
    let dana = gl
        .add_member_user(project, UserSpec::human("dana"), 30)
        .unwrap();
    gl.set_ci_config(project, Config::from_templates(&["claude.yml"]));
    World {
        gl,
        project,
        alice,
        dana,
    }
}

#[tokio::test]
async fn setup_upgrades_a_webhook_of_the_old_design_and_a_second_run_changes_nothing() {
    let w = world().await;
    // What today's `entrypoint setup` left: its trigger token and a hook without a template.
    let token =
        w.gl.add_trigger(w.project, w.alice.id, TRIGGER_DESCRIPTION)
            .unwrap();
    let url = format!(
        "{}/projects/{}/ref/main/trigger/pipeline?token={token}",
        w.gl.api_url(),
        w.project
    );
    let old = w.gl.add_hook(w.project, HookSpec::notes(&url)).unwrap();
    let admin = client(&w.gl.api_url(), &w.alice.token);

    let plan = setup::plan::plan(&admin, &options(w.project))
        .await
        .unwrap();
    assert!(
        plan.steps.iter().any(
            |s| matches!(s, setup::plan::Step::UpgradeWebhook { hook_id, .. } if *hook_id == old)
        ),
        "{:?}",
        plan.steps
    );
    assert_eq!(
        setup::run(&admin, &options(w.project), &mut Quiet)
            .await
            .unwrap(),
        Outcome::Applied
    );
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks.len(), 1, "upgraded, not duplicated");
    assert_eq!(hooks[0].id, old);
    assert_eq!(hooks[0].custom_webhook_template.as_deref(), Some(TEMPLATE));
    assert_eq!(
        w.gl.hook_token(old),
        None,
        "the hook's secret token is left as it was"
    );
    assert_eq!(
        setup::run(&admin, &options(w.project), &mut Quiet)
            .await
            .unwrap(),
        Outcome::NothingToDo
    );
}

#[tokio::test]
async fn only_new_human_comments_start_a_job_and_each_issue_has_its_own_lock() {
    let w = world().await;
    let admin = client(&w.gl.api_url(), &w.alice.token);
    assert_eq!(
        setup::run(&admin, &options(w.project), &mut Quiet)
            .await
            .unwrap(),
        Outcome::Applied
    );
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks[0].custom_webhook_template.as_deref(), Some(TEMPLATE));
    let bot_token =
        w.gl.variables(w.project)
            .into_iter()
            .find(|v| v.key == "GITLAB_TOKEN")
            .expect("GITLAB_TOKEN stored")
            .value;

    let first =
        w.gl.create_issue(w.project, IssueSpec::new(w.dana.id, "Broken build"))
            .unwrap();
    let second =
        w.gl.create_issue(w.project, IssueSpec::new(w.dana.id, "Slow tests"))
            .unwrap();
    let mention =
        w.gl.add_note(
            w.project,
            Noteable::Issue(first.iid),
            NoteSpec::new(w.dana.id, "@claude please fix this").emit_hooks(),
        )
        .unwrap();
    // Deliveries run in the background: one at a time keeps the pipelines in comment order.
    w.gl.wait_for_deliveries(1, WAIT).await.unwrap();
    w.gl.add_note(
        w.project,
        Noteable::Issue(second.iid),
        NoteSpec::new(w.dana.id, "@claude and this one").emit_hooks(),
    )
    .unwrap();
    w.gl.wait_for_deliveries(2, WAIT).await.unwrap();

    // The bot's placeholder and its edit with the answer, written through the API as the job
    // writes them.
    let http = reqwest::Client::new();
    let notes = format!(
        "{}/projects/{}/issues/{}/notes",
        w.gl.api_url(),
        w.project,
        first.iid
    );
    let placeholder: serde_json::Value = http
        .post(&notes)
        .header("PRIVATE-TOKEN", &bot_token)
        .json(&json!({"body": "Working on it"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    w.gl.wait_for_deliveries(3, WAIT).await.unwrap();
    let edited = http
        .put(format!("{notes}/{}", placeholder["id"]))
        .header("PRIVATE-TOKEN", &bot_token)
        .json(&json!({"body": "Done: see the merge request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let deliveries = w.gl.wait_for_deliveries(4, WAIT).await.unwrap();
    assert!(
        deliveries.iter().all(|d| d.status == Some(201)),
        "no trigger call fails: {deliveries:?}"
    );

    let mut pipelines = w.gl.pipelines(w.project);
    pipelines.sort_by_key(|p| p.id);
    let jobs: Vec<Vec<(String, Option<String>)>> = pipelines
        .iter()
        .map(|p| {
            p.jobs
                .iter()
                .map(|j| (j.when.clone(), j.resource_group.clone()))
                .collect()
        })
        .collect();
    let group = |iid: u64| Some(format!("ai-claude-Issue-{iid}"));
    assert_eq!(
        jobs,
        [
            // The answering job and the slim acknowledgement job, which takes no lock.
            vec![
                ("on_success".to_owned(), group(first.iid)),
                ("on_success".to_owned(), None)
            ],
            vec![
                ("on_success".to_owned(), group(second.iid)),
                ("on_success".to_owned(), None)
            ],
            vec![("manual".to_owned(), group(first.iid))],
            vec![("manual".to_owned(), group(first.iid))],
        ]
    );

    // The job finds the note from the variables and reads it back.
    let vars = pipelines[0].variables.clone();
    let project_id = w.project.to_string();
    let lookup = |name: &str| {
        if name == "CI_PROJECT_ID" {
            return Some(project_id.clone());
        }
        vars.iter().find(|v| v.key == name).map(|v| v.value.clone())
    };
    let entry = detect(&lookup, &Handles::default()).unwrap();
    let Entry::Hook(HookEvent::Comment {
        project,
        noteable,
        note,
    }) = entry
    else {
        panic!("expected the template's variables, got {entry:?}");
    };
    assert_eq!(noteable, Target::Issue(IssueIid(first.iid)));
    assert_eq!(note, NoteId(mention.id));
    let request = CiRequest {
        project,
        assistant: Assistant::Claude,
        noteable,
        note,
        discussion: None,
        placeholder: None,
        checked_body: None,
    };
    let bot = client(&w.gl.api_url(), &bot_token);
    let trigger = resolve(&request, &bot, &Handles::default()).await.unwrap();
    assert_eq!(
        decide(&trigger, None, Some(Assistant::Claude)),
        Decision::Run {
            assistants: vec![Assistant::Claude]
        }
    );
}
