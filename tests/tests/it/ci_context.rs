//! CI results in the context: the GitLab double's jobs and log endpoints behave as GitLab's
//! (`lib/api/ci/jobs.rb`), and the entrypoint reads a merge request's head pipeline, or the
//! pipelines and jobs an issue links, into the prompt: failed jobs with the redacted end of
//! their logs, and what was cut.

use doubles::gitlab::double::{
    IssueSpec, JobSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use entrypoint::agent::Handles;
use entrypoint::context::ci::{CiContext, CiItem, LogExcerpt};
use entrypoint::context::{Context, ContextBudget, gather, gather_ci, render};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::ids::{IssueIid, JobId, MergeRequestIid, Noteable};
use entrypoint::redact::Redactor;
use entrypoint::trigger::{NoteKind, Trigger};

use crate::support::ci_job::{dana, write};
use crate::support::context_world::ContextWorld;
use crate::support::per_assistant::assert_contains;

/// The context world with a base commit on `main`, alice a Developer, and the guest gus.
struct World {
    context: ContextWorld,
    guest_token: String,
}

impl std::ops::Deref for World {
    type Target = ContextWorld;

    fn deref(&self) -> &ContextWorld {
        &self.context
    }
}

async fn world() -> World {
    let context = ContextWorld::start().await;
    let (gl, project) = (&context.gl, context.project);
    let guest = gl.add_user(UserSpec::human("gus")).unwrap();
    gl.add_member(project, context.alice.id, 30).unwrap();
    gl.add_member(project, guest.id, 10).unwrap();
    gl.repo(project)
        .unwrap()
        .commit("main", &[write("a.txt", "a\n")], "Base\n", &dana())
        .unwrap();
    World {
        context,
        guest_token: guest.token,
    }
}

impl World {
    /// alice's comment `body` on `noteable` (a plain comment, outside a thread), and the
    /// trigger the job makes of it.
    fn comment(&self, noteable: Noteable, body: &str) -> Trigger {
        let on = match noteable {
            Noteable::Issue(iid) => DoubleNoteable::Issue(iid.0),
            Noteable::MergeRequest(iid) => DoubleNoteable::MergeRequest(iid.0),
        };
        let note = self.note(on, NoteSpec::new(self.alice.id, body));
        self.trigger_of(noteable, &note, body, NoteKind::Comment)
    }

    /// A failed pipeline on `branch` of the project; its id.
    fn failed_pipeline(&self, branch: &str) -> u64 {
        self.gl
            .add_branch_pipeline(self.project, branch, "failed")
            .unwrap()
    }

    /// A failed job `name` in `pipeline` that logged `trace`; its id.
    fn failed_job(&self, pipeline: u64, name: &str, reason: &str, trace: String) -> u64 {
        let spec = JobSpec::new(name, "test").failed(reason).trace(trace);
        self.gl.add_job(pipeline, spec).unwrap()
    }

    /// The CI results `gitlab` reads for `context` within `budget`, as the job gathers them.
    async fn ci(&self, gitlab: &GitLab, context: &Context, budget: &ContextBudget) -> CiContext {
        let redactor = Redactor::new(Handles::default());
        gather_ci(gitlab, &self.project_ref(), context, budget, &redactor).await
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_double_serves_jobs_and_logs_as_gitlab_does() {
    let w = world().await;
    let pipeline = w.failed_pipeline("main");
    let ok =
        w.gl.add_job(pipeline, JobSpec::new("lint", "test"))
            .unwrap();
    let failed = w.failed_job(
        pipeline,
        "rspec",
        "job_execution_timeout",
        "line one\nline two\n".to_owned(),
    );
    let other = w.gl.add_project(ProjectSpec::new("group/other")).unwrap();
    let p = w.project;
    let bot = w.bot.token.as_str();

    let trace = w
        .get(&format!("/projects/{p}/jobs/{failed}/trace"), bot)
        .await;
    assert_eq!(trace.status(), 200);
    assert_eq!(trace.headers()["content-type"], "text/plain");
    assert_eq!(
        trace.headers()["content-disposition"],
        format!("infile; filename=\"{failed}.log\"").as_str()
    );
    assert_eq!(trace.text().await.unwrap(), "line one\nline two\n");
    let empty = w.get(&format!("/projects/{p}/jobs/{ok}/trace"), bot).await;
    assert_eq!(
        (empty.status().as_u16(), empty.text().await.unwrap()),
        (200, String::new())
    );

    let missing = w
        .get(&format!("/projects/{p}/jobs/999999/trace"), bot)
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["message"],
        "404 Not found"
    );
    // Job ids are global; another project's path does not reach this job.
    w.gl.add_member(other.id, w.alice.id, 30).unwrap();
    let elsewhere_path = format!("/projects/{}/jobs/{failed}/trace", other.id);
    let elsewhere = w.get(&elsewhere_path, &w.alice.token).await;
    assert_eq!(elsewhere.status(), 404);
    let guest_path = format!("/projects/{p}/jobs/{failed}/trace");
    let guest = w.get(&guest_path, &w.guest_token).await;
    assert_eq!(guest.status(), 403, "a Guest of a private project");

    let jobs_of = |scope: &str| format!("/projects/{p}/pipelines/{pipeline}/jobs?scope[]={scope}");
    let list = w.get(&jobs_of("failed"), bot).await;
    assert_eq!(list.status(), 200);
    let jobs: Vec<serde_json::Value> = list.json().await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["failure_reason"], "job_execution_timeout");
    let bad = w.get(&jobs_of("broken"), bot).await;
    assert_eq!(bad.status(), 400);
    let lint: serde_json::Value = w
        .get(&format!("/projects/{p}/jobs/{ok}"), bot)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        lint.get("failure_reason").is_none(),
        "only failed jobs carry a failure reason: {lint}"
    );
    w.context.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_request_mention_sees_its_head_pipelines_failed_jobs() {
    let w = world().await;
    let repo = w.gl.repo(w.project).unwrap();
    repo.create_branch("feature", "main").unwrap();
    repo.commit("feature", &[write("b.txt", "b\n")], "B\n", &dana())
        .unwrap();
    let (mr, fetched) = w.merge_request("feature", "Add b").await;
    let gitlab = w.client(&w.bot.token);
    assert_eq!(fetched.head_pipeline, None, "no pipeline has run yet");

    // An older pipeline of another commit is not the head pipeline.
    let old = w.failed_pipeline("main");
    let pipeline = w.failed_pipeline("feature");
    assert_ne!(old, pipeline);
    for n in 0..3 {
        let log: String = (0..500).map(|i| format!("job {n} step {i}\n")).collect();
        let trace = format!("{log}\x1b[31mFAILED {n}\x1b[0m\n");
        w.failed_job(pipeline, &format!("test {n}"), "script_failure", trace);
    }
    w.gl.add_job(pipeline, JobSpec::new("lint", "test"))
        .unwrap();
    let trigger = w.comment(
        Noteable::MergeRequest(MergeRequestIid(mr.iid)),
        "@claude fix the pipeline",
    );
    let budget = ContextBudget {
        max_failed_jobs: 2,
        max_log_lines: 5,
        ..ContextBudget::default()
    };
    let mut context = gather(&gitlab, &trigger).await.unwrap();
    let head = context
        .merge_request
        .as_ref()
        .unwrap()
        .read
        .head_pipeline
        .clone()
        .expect("the head pipeline");
    assert_eq!(head.id.0, pipeline);
    w.gl.clear_requests();
    let ci = w.ci(&gitlab, &context, &budget).await;
    assert_eq!(ci.api_calls as usize, w.gl.requests().len());
    assert_eq!(ci.api_calls, 3, "the failed-job list and two logs");
    let CiItem::Pipeline(report) = &ci.items[0] else {
        panic!("{ci:?}");
    };
    let jobs = report.failed_jobs.as_ref().unwrap();
    assert_eq!(jobs.len(), 3, "the failed jobs, not the one that passed");
    assert!(matches!(jobs[2].log, LogExcerpt::NotRead), "{:?}", jobs[2]);
    let LogExcerpt::Shown {
        text,
        lines_shown,
        total_lines,
        ..
    } = &jobs[0].log
    else {
        panic!("{:?}", jobs[0]);
    };
    assert_eq!((*lines_shown, *total_lines), (5, 501));
    assert!(text.ends_with("job 0 step 499\nFAILED 0"), "{text}");

    context.ci = Some(ci);
    let rendered = render(&context, &budget).text;
    for shown in [
        "### CI results",
        "**failed**",
        "Failed jobs: 3.",
        "failure reason `script_failure`",
        // What was cut is said.
        "the last 5 of 501 lines",
        "Its log was not read (AI_CONTEXT_MAX_FAILED_JOBS=2).",
        "Name: test 1\nStage: test",
    ] {
        assert_contains(&rendered, shown);
    }
    assert!(!rendered.contains('\x1b'), "escapes are removed");
    assert_eq!(
        rendered.matches("<untrusted-data ").count(),
        rendered.matches("</untrusted-data>").count()
    );
    w.context.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_sees_the_jobs_it_links_in_this_project_only() {
    let w = world().await;
    let pipeline = w.failed_pipeline("main");
    let job =
        w.gl.add_job(
            pipeline,
            JobSpec::new("deploy", "deploy")
                .failed("runner_system_failure")
                .trace("connecting\nno space left on device\n"),
        )
        .unwrap();
    let other = w.gl.add_project(ProjectSpec::new("group/other")).unwrap();
    w.gl.repo(other.id)
        .unwrap()
        .commit("main", &[write("x", "x\n")], "X\n", &dana())
        .unwrap();
    let foreign_pipeline =
        w.gl.add_branch_pipeline(other.id, "main", "failed")
            .unwrap();
    let foreign = w.failed_job(
        foreign_pipeline,
        "secret",
        "script_failure",
        "other project's log\n".to_owned(),
    );
    let base = w.gl.base_url();
    let description = format!(
        "Deploy broke: {base}/group/proj/-/jobs/{job}\nAlso {base}/group/other/-/jobs/{foreign} and {base}/group/proj/-/jobs/{foreign}"
    );
    let issue =
        w.gl.create_issue(
            w.project,
            IssueSpec::new(w.alice.id, "Deploy broke").description(&description),
        )
        .unwrap();
    let trigger = w.comment(Noteable::Issue(IssueIid(issue.iid)), "@claude why?");
    let gitlab = w.client(&w.bot.token);
    let context = gather(&gitlab, &trigger).await.unwrap();
    let ci = w.ci(&gitlab, &context, &ContextBudget::default()).await;
    assert_eq!(ci.items.len(), 2, "{ci:?}");
    let CiItem::Job(report) = &ci.items[0] else {
        panic!("{ci:?}");
    };
    assert_eq!(report.job.id, JobId(job));
    assert_eq!(
        report.job.failure_reason.as_deref(),
        Some("runner_system_failure")
    );
    assert!(
        matches!(&report.log, LogExcerpt::Shown { text, .. } if text == "connecting\nno space left on device")
    );
    // The other project's job through this project's path: GitLab answers 404.
    assert!(
        matches!(&ci.items[1], CiItem::Skipped { reason, .. } if reason == "not found in this project"),
        "{ci:?}"
    );

    // A token without `read_build` gets the refusal into the prompt, and the run goes on.
    let guest = w.client(&w.guest_token);
    let ci = w.ci(&guest, &context, &ContextBudget::default()).await;
    assert!(
        matches!(&ci.items[0], CiItem::Skipped { reason, .. } if reason.contains("403")),
        "{ci:?}"
    );
    w.context.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_double_serves_uploads_to_maintainers_only() {
    let w = world().await;
    let path =
        w.gl.add_upload(w.project, "shot.png", b"\x89PNG\r\n\x1a\nrest");
    let maintainer = w.gl.add_user(UserSpec::human("max")).unwrap();
    w.gl.add_member(w.project, maintainer.id, 40).unwrap();
    let upload = format!("/projects/{}{path}", w.project);
    let as_maintainer = w.get(&upload, &maintainer.token).await;
    assert_eq!(as_maintainer.status(), 200);
    assert_eq!(as_maintainer.headers()["content-type"], "image/png");
    assert_eq!(
        as_maintainer.bytes().await.unwrap().as_ref(),
        b"\x89PNG\r\n\x1a\nrest"
    );
    let as_developer = w.get(&upload, &w.bot.token).await;
    assert_eq!(as_developer.status(), 403, "the Developer bot");
    let other = upload.replace("shot.png", "other.png");
    let missing = w.get(&other, &maintainer.token).await;
    assert_eq!(missing.status(), 404);
    w.context.shutdown().await;
}
