//! CI results in the context: the GitLab double's jobs and log endpoints behave as GitLab's
//! (`lib/api/ci/jobs.rb`), and the entrypoint reads a merge request's head pipeline, or the
//! pipelines and jobs an issue links, into the prompt: failed jobs with the redacted end of
//! their logs, and what was cut.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    IssueSpec, JobSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use entrypoint::agent::Handles;
use entrypoint::context::ci::{CiItem, LogExcerpt};
use entrypoint::context::{ContextBudget, gather, gather_ci, render};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::ids::{IssueIid, JobId, MergeRequestIid, Noteable, ProjectId, ProjectRef};
use entrypoint::redact::Redactor;
use entrypoint::trigger::{NoteKind, Trigger};

use crate::support::ci_job::{dana, write};
use crate::support::gitlab_client;
use crate::support::trigger::note_trigger;

fn client(gl: &GitLabDouble, token: &str) -> GitLab {
    gitlab_client::client(&gl.api_url(), token)
}

/// A comment of alice's, outside a thread.
fn trigger(project: u64, noteable: Noteable, note: u64, author: u64, body: &str) -> Trigger {
    note_trigger(
        project,
        noteable,
        note,
        author,
        body,
        NoteKind::Comment,
        None,
    )
}

struct World {
    gl: GitLabDouble,
    project: u64,
    alice: u64,
    alice_token: String,
    bot_token: String,
    guest_token: String,
}

async fn world() -> World {
    let gl = GitLabDouble::start().await.unwrap();
    let alice = gl.add_user(UserSpec::human("alice")).unwrap();
    let guest = gl.add_user(UserSpec::human("gus")).unwrap();
    let project = gl.add_project(ProjectSpec::new("group/proj")).unwrap();
    let bot = gl
        .add_user(UserSpec::project_bot(project.id, "Claude"))
        .unwrap();
    gl.add_member(project.id, bot.id, 30).unwrap();
    gl.add_member(project.id, alice.id, 30).unwrap();
    gl.add_member(project.id, guest.id, 10).unwrap();
    gl.repo(project.id)
        .unwrap()
        .commit("main", &[write("a.txt", "a\n")], "Base\n", &dana())
        .unwrap();
    World {
        project: project.id,
        alice: alice.id,
        alice_token: alice.token,
        bot_token: bot.token,
        guest_token: guest.token,
        gl,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_double_serves_jobs_and_logs_as_gitlab_does() {
    let w = world().await;
    let pipeline =
        w.gl.add_branch_pipeline(w.project, "main", "failed")
            .unwrap();
    let ok =
        w.gl.add_job(pipeline, JobSpec::new("lint", "test"))
            .unwrap();
    let failed =
        w.gl.add_job(
            pipeline,
            JobSpec::new("rspec", "test")
                .failed("job_execution_timeout")
                .trace("line one\nline two\n"),
        )
        .unwrap();
    let other = w.gl.add_project(ProjectSpec::new("group/other")).unwrap();
    let http = reqwest::Client::new();
    let get = |path: String, token: &str| {
        http.get(format!("{}{path}", w.gl.api_url()))
            .header("PRIVATE-TOKEN", token)
            .send()
    };
    let p = w.project;

    let trace = get(format!("/projects/{p}/jobs/{failed}/trace"), &w.bot_token)
        .await
        .unwrap();
    assert_eq!(trace.status(), 200);
    assert_eq!(trace.headers()["content-type"], "text/plain");
    assert_eq!(
        trace.headers()["content-disposition"],
        format!("infile; filename=\"{failed}.log\"").as_str()
    );
    assert_eq!(trace.text().await.unwrap(), "line one\nline two\n");
    let empty = get(format!("/projects/{p}/jobs/{ok}/trace"), &w.bot_token)
        .await
        .unwrap();
    assert_eq!(
        (empty.status().as_u16(), empty.text().await.unwrap()),
        (200, String::new())
    );

    let missing = get(format!("/projects/{p}/jobs/999999/trace"), &w.bot_token)
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<serde_json::Value>().await.unwrap()["message"],
        "404 Not found"
    );
    // Job ids are global; another project's path does not reach this job.
    w.gl.add_member(other.id, w.alice, 30).unwrap();
    let elsewhere = get(
        format!("/projects/{}/jobs/{failed}/trace", other.id),
        &w.alice_token,
    )
    .await
    .unwrap();
    assert_eq!(elsewhere.status(), 404);
    let guest = get(format!("/projects/{p}/jobs/{failed}/trace"), &w.guest_token)
        .await
        .unwrap();
    assert_eq!(guest.status(), 403, "a Guest of a private project");

    let list = get(
        format!("/projects/{p}/pipelines/{pipeline}/jobs?scope[]=failed"),
        &w.bot_token,
    )
    .await
    .unwrap();
    assert_eq!(list.status(), 200);
    let jobs: Vec<serde_json::Value> = list.json().await.unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0]["failure_reason"], "job_execution_timeout");
    let bad = get(
        format!("/projects/{p}/pipelines/{pipeline}/jobs?scope[]=broken"),
        &w.bot_token,
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    let lint = get(format!("/projects/{p}/jobs/{ok}"), &w.bot_token)
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert!(
        lint.get("failure_reason").is_none(),
        "only failed jobs carry a failure reason: {lint}"
    );
    w.gl.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_merge_request_mention_sees_its_head_pipelines_failed_jobs() {
    let w = world().await;
    let repo = w.gl.repo(w.project).unwrap();
    repo.create_branch("feature", "main").unwrap();
    repo.commit("feature", &[write("b.txt", "b\n")], "B\n", &dana())
        .unwrap();
    let mr =
        w.gl.create_merge_request(w.project, MrSpec::new(w.alice, "feature", "main", "Add b"))
            .unwrap();
    let gitlab = client(&w.gl, &w.bot_token);
    let project = ProjectRef::Id(ProjectId(w.project));
    let fetched = gitlab
        .merge_request(&project, MergeRequestIid(mr.iid))
        .await
        .unwrap();
    assert_eq!(fetched.head_pipeline, None, "no pipeline has run yet");

    // An older pipeline of another commit is not the head pipeline.
    let old =
        w.gl.add_branch_pipeline(w.project, "main", "failed")
            .unwrap();
    let pipeline =
        w.gl.add_branch_pipeline(w.project, "feature", "failed")
            .unwrap();
    assert_ne!(old, pipeline);
    let mut failed = Vec::new();
    for n in 0..3 {
        let log: String = (0..500).map(|i| format!("job {n} step {i}\n")).collect();
        failed.push(
            w.gl.add_job(
                pipeline,
                JobSpec::new(&format!("test {n}"), "test")
                    .failed("script_failure")
                    .trace(format!("{log}\x1b[31mFAILED {n}\x1b[0m\n")),
            )
            .unwrap(),
        );
    }
    w.gl.add_job(pipeline, JobSpec::new("lint", "test"))
        .unwrap();
    let note =
        w.gl.add_note(
            w.project,
            DoubleNoteable::MergeRequest(mr.iid),
            NoteSpec::new(w.alice, "@claude fix the pipeline"),
        )
        .unwrap();
    let trigger = trigger(
        w.project,
        Noteable::MergeRequest(MergeRequestIid(mr.iid)),
        note.id,
        w.alice,
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
    let ci = gather_ci(
        &gitlab,
        &project,
        &context,
        &budget,
        &Redactor::new(Handles::default()),
    )
    .await;
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
    assert!(rendered.contains("### CI results"), "{rendered}");
    assert!(rendered.contains("**failed**"), "{rendered}");
    assert!(rendered.contains("Failed jobs: 3."), "{rendered}");
    assert!(
        rendered.contains("failure reason `script_failure`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("the last 5 of 501 lines"),
        "what was cut is said: {rendered}"
    );
    assert!(
        rendered.contains("Its log was not read (AI_CONTEXT_MAX_FAILED_JOBS=2)."),
        "{rendered}"
    );
    assert!(rendered.contains("Name: test 1\nStage: test"), "{rendered}");
    assert!(!rendered.contains('\x1b'), "escapes are removed");
    assert_eq!(
        rendered.matches("<untrusted-data ").count(),
        rendered.matches("</untrusted-data>").count()
    );
    w.gl.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_issue_sees_the_jobs_it_links_in_this_project_only() {
    let w = world().await;
    let pipeline =
        w.gl.add_branch_pipeline(w.project, "main", "failed")
            .unwrap();
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
    let foreign =
        w.gl.add_job(
            foreign_pipeline,
            JobSpec::new("secret", "test")
                .failed("script_failure")
                .trace("other project's log\n"),
        )
        .unwrap();
    let base = w.gl.base_url();
    let description = format!(
        "Deploy broke: {base}/group/proj/-/jobs/{job}\nAlso {base}/group/other/-/jobs/{foreign} and {base}/group/proj/-/jobs/{foreign}"
    );
    let issue =
        w.gl.create_issue(
            w.project,
            IssueSpec::new(w.alice, "Deploy broke").description(&description),
        )
        .unwrap();
    let note =
        w.gl.add_note(
            w.project,
            DoubleNoteable::Issue(issue.iid),
            NoteSpec::new(w.alice, "@claude why?"),
        )
        .unwrap();
    let trigger = trigger(
        w.project,
        Noteable::Issue(IssueIid(issue.iid)),
        note.id,
        w.alice,
        "@claude why?",
    );
    let gitlab = client(&w.gl, &w.bot_token);
    let project = ProjectRef::Id(ProjectId(w.project));
    let context = gather(&gitlab, &trigger).await.unwrap();
    let ci = gather_ci(
        &gitlab,
        &project,
        &context,
        &ContextBudget::default(),
        &Redactor::new(Handles::default()),
    )
    .await;
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
    let guest = client(&w.gl, &w.guest_token);
    let ci = gather_ci(
        &guest,
        &project,
        &context,
        &ContextBudget::default(),
        &Redactor::new(Handles::default()),
    )
    .await;
    assert!(
        matches!(&ci.items[0], CiItem::Skipped { reason, .. } if reason.contains("403")),
        "{ci:?}"
    );
    w.gl.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_double_serves_uploads_to_maintainers_only() {
    let w = world().await;
    let path =
        w.gl.add_upload(w.project, "shot.png", b"\x89PNG\r\n\x1a\nrest");
    let maintainer = w.gl.add_user(UserSpec::human("max")).unwrap();
    w.gl.add_member(w.project, maintainer.id, 40).unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/projects/{}{path}", w.gl.api_url(), w.project);
    let as_maintainer = http
        .get(&url)
        .header("PRIVATE-TOKEN", &maintainer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_maintainer.status(), 200);
    assert_eq!(as_maintainer.headers()["content-type"], "image/png");
    assert_eq!(
        as_maintainer.bytes().await.unwrap().as_ref(),
        b"\x89PNG\r\n\x1a\nrest"
    );
    let as_developer = http
        .get(&url)
        .header("PRIVATE-TOKEN", &w.bot_token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_developer.status(), 403, "the Developer bot");
    let missing = http
        .get(url.replace("shot.png", "other.png"))
        .header("PRIVATE-TOKEN", &maintainer.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    w.gl.shutdown().await.unwrap();
}
