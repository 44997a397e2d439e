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
use entrypoint::trigger::decision::{Decision, decide};
use entrypoint::trigger::hook_vars::{HookEvent, TEMPLATE};
use entrypoint::trigger::load::{Entry, detect};
use entrypoint::trigger::resolve::resolve;
use reqwest::Method;
use serde_json::json;

use crate::support::gitlab_client::client;
use crate::support::pipeline_job::{job_env, template_comment};
use crate::support::seeded::{rest, trigger_url};
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
    let member = |name, role| {
        gl.add_member_user(project, UserSpec::human(name), role)
            .unwrap()
    };
    let (alice, dana) = (member("alice", 40), member("dana", 30));
    gl.set_ci_config(project, Config::from_templates(&["claude.yml"]));
    World {
        gl,
        project,
        alice,
        dana,
    }
}

impl World {
    /// `entrypoint setup --mode webhook` run by `admin`, unattended.
    async fn setup(&self, admin: &entrypoint::gitlab::GitLab) -> Outcome {
        setup::run(admin, &options(self.project), &mut Quiet)
            .await
            .expect("setup succeeds")
    }

    /// dana's new issue titled `title`; its IID.
    fn issue(&self, title: &str) -> u64 {
        let spec = IssueSpec::new(self.dana.id, title);
        self.gl.create_issue(self.project, spec).unwrap().iid
    }

    /// dana comments `body` on issue `iid`, and GitLab fires its Comments hook; the note's id.
    fn comment(&self, iid: u64, body: &str) -> u64 {
        let spec = NoteSpec::new(self.dana.id, body).emit_hooks();
        self.gl
            .add_note(self.project, Noteable::Issue(iid), spec)
            .unwrap()
            .id
    }
}

#[tokio::test]
async fn setup_upgrades_a_webhook_of_the_old_design_and_a_second_run_changes_nothing() {
    let w = world().await;
    // What today's `entrypoint setup` left: its trigger token and a hook without a template.
    let token =
        w.gl.add_trigger(w.project, w.alice.id, TRIGGER_DESCRIPTION)
            .unwrap();
    let url = trigger_url(&w.gl, w.project, &token);
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
    assert_eq!(w.setup(&admin).await, Outcome::Applied);
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks.len(), 1, "upgraded, not duplicated");
    assert_eq!(hooks[0].id, old);
    assert_eq!(hooks[0].custom_webhook_template.as_deref(), Some(TEMPLATE));
    assert_eq!(
        w.gl.hook_token(old),
        None,
        "the hook's secret token is left as it was"
    );
    assert_eq!(w.setup(&admin).await, Outcome::NothingToDo);
}

#[tokio::test]
async fn only_new_human_comments_start_a_job_and_each_issue_has_its_own_lock() {
    let w = world().await;
    let admin = client(&w.gl.api_url(), &w.alice.token);
    assert_eq!(w.setup(&admin).await, Outcome::Applied);
    let hooks = w.gl.hooks(w.project);
    assert_eq!(hooks[0].custom_webhook_template.as_deref(), Some(TEMPLATE));
    let bot_token =
        w.gl.variables(w.project)
            .into_iter()
            .find(|v| v.key == "GITLAB_TOKEN")
            .expect("GITLAB_TOKEN stored")
            .value;

    let first = w.issue("Broken build");
    let second = w.issue("Slow tests");
    let mention = w.comment(first, "@claude please fix this");
    // Deliveries run in the background: one at a time keeps the pipelines in comment order.
    w.gl.wait_for_deliveries(1, WAIT).await.unwrap();
    w.comment(second, "@claude and this one");
    w.gl.wait_for_deliveries(2, WAIT).await.unwrap();

    // The bot's placeholder and its edit with the answer, written through the API as the job
    // writes them.
    let notes = format!("/projects/{}/issues/{}/notes", w.project, first);
    let body = |text: &str| Some(json!({ "body": text }));
    let placeholder: serde_json::Value = rest(
        &w.gl,
        Method::POST,
        &notes,
        &bot_token,
        body("Working on it"),
    )
    .await
    .json()
    .await
    .unwrap();
    w.gl.wait_for_deliveries(3, WAIT).await.unwrap();
    let answer = body("Done: see the merge request");
    let placeholder = format!("{notes}/{}", placeholder["id"]);
    let edited = rest(&w.gl, Method::PUT, &placeholder, &bot_token, answer).await;
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
                ("on_success".to_owned(), group(first)),
                ("on_success".to_owned(), None)
            ],
            vec![
                ("on_success".to_owned(), group(second)),
                ("on_success".to_owned(), None)
            ],
            vec![("manual".to_owned(), group(first))],
            vec![("manual".to_owned(), group(first))],
        ]
    );

    // The job finds the note from the variables and reads it back.
    let lookup = job_env(&pipelines[0], w.project);
    let entry = detect(&lookup, &Handles::default()).unwrap();
    let Entry::Hook(HookEvent::Comment {
        project,
        noteable,
        note,
    }) = entry
    else {
        panic!("expected the template's variables, got {entry:?}");
    };
    assert_eq!(noteable, Target::Issue(IssueIid(first)));
    assert_eq!(note, NoteId(mention));
    let request = template_comment(project, noteable, note);
    let bot = client(&w.gl.api_url(), &bot_token);
    let trigger = resolve(&request, &bot, &Handles::default()).await.unwrap();
    assert_eq!(
        decide(&trigger, None, Some(Assistant::Claude)),
        Decision::Run {
            assistants: vec![Assistant::Claude]
        }
    );
}
