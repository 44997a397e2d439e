//! Figures for the CI section of a merge request mention: a head pipeline with five failed jobs
//! whose logs are 20 MiB each, on the GitLab double. Prints the time to read and redact the
//! ends of the logs, the bytes streamed, the API calls, and the size of what reaches the prompt.
//!
//! `cargo run -p doubles --example ci_log_bench` (add `--release` for production-like figures)
//!
//! What to expect: one list call and one call per log; every log is streamed whole (GitLab
//! ignores `Range`) while only the last bytes are kept; the prompt section stays within
//! `AI_CONTEXT_MAX_FAILED_JOBS` × `AI_CONTEXT_MAX_LOG_BYTES` plus the job facts.

use std::time::Instant;

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    JobSpec, MrSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use doubles::gitlab::repo::{FileChange, Signature};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::context::ci::render_ci;
use entrypoint::context::{ContextBudget, gather, gather_ci};
use entrypoint::gitlab::GitLab;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::ids::{MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::redact::Redactor;
use entrypoint::secret::Secret;
use entrypoint::trigger::{Author, NoteKind, Source, Trigger, TriggerNote};

const JOBS: usize = 5;
const LOG_MIB: usize = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let gl = GitLabDouble::start().await?;
    let alice = gl.add_user(UserSpec::human("alice"))?;
    let project = gl.add_project(ProjectSpec::new("group/ci"))?;
    let bot = gl.add_user(UserSpec::project_bot(project.id, "Claude"))?;
    gl.add_member(project.id, bot.id, 30)?;
    let repo = gl.repo(project.id)?;
    let author = Signature {
        name: "Dev".into(),
        email: "dev@example.com".into(),
    };
    repo.commit(
        "main",
        &[FileChange::Write {
            path: "a".into(),
            content: b"a\n".to_vec(),
        }],
        "A\n",
        &author,
    )?;
    repo.create_branch("feature", "main")?;
    repo.commit(
        "feature",
        &[FileChange::Write {
            path: "b".into(),
            content: b"b\n".to_vec(),
        }],
        "B\n",
        &author,
    )?;
    let mr = gl.create_merge_request(project.id, MrSpec::new(alice.id, "feature", "main", "B"))?;
    let pipeline = gl.add_branch_pipeline(project.id, "feature", "failed")?;
    let line = "\x1b[32;1mcompiling\x1b[0;m crate_with_a_long_name v1.2.3 (/builds/group/ci)\n";
    let mut log = line.repeat(LOG_MIB * 1024 * 1024 / line.len());
    log.push_str("export TOKEN=glpat-abcdefghijklmnopqrstuvwx\nERROR: Job failed: exit code 1\n");
    for n in 0..JOBS {
        gl.add_job(
            pipeline,
            JobSpec::new(&format!("test {n}"), "test")
                .failed("script_failure")
                .trace(log.clone()),
        )?;
    }
    let note = gl.add_note(
        project.id,
        DoubleNoteable::MergeRequest(mr.iid),
        NoteSpec::new(alice.id, "@claude fix the pipeline"),
    )?;
    let gitlab = GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(&gl.api_url()).map_err(anyhow::Error::msg)?,
        GitLabToken::new(Secret::new(&bot.token)),
    ))?;
    let trigger = Trigger {
        source: Source::Webhook,
        project: ProjectRef::Id(ProjectId(project.id)),
        noteable: Noteable::MergeRequest(MergeRequestIid(mr.iid)),
        note: Some(TriggerNote {
            id: NoteId(note.id),
            discussion: None,
            author: Author {
                id: UserId(alice.id),
                username: Some("alice".into()),
            },
            body: "@claude fix the pipeline".into(),
            kind: NoteKind::Comment,
            internal: false,
            system: false,
            edited: false,
        }),
        assistants: vec![Assistant::Claude],
        instruction: String::new(),
        placeholder: None,
        confidential: false,
        event: None,
    };
    let context = gather(&gitlab, &trigger).await?;
    let budget = ContextBudget::default();
    let redactor = Redactor::new(Handles::default());

    let started = Instant::now();
    let ci = gather_ci(&gitlab, &trigger.project, &context, &budget, &redactor).await;
    let elapsed = started.elapsed();

    let section = render_ci(&ci, &budget, &|source, text| {
        format!("<untrusted-data source=\"{source}\">\n{text}\n</untrusted-data>\n")
    });
    let streamed = JOBS * log.len();
    println!("failed jobs:          {JOBS} with {LOG_MIB} MiB logs");
    println!("API calls:            {}", ci.api_calls);
    println!("logs shown:           {}", ci.logs_shown());
    println!("bytes streamed:       {streamed}");
    println!("time:                 {:.2?}", elapsed);
    println!(
        "throughput:           {:.0} MiB/s",
        streamed as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64()
    );
    println!("prompt section bytes: {}", section.len());
    println!(
        "token redacted:       {}",
        !section.contains("glpat-abcdefghijklmnopqrstuvwx")
    );
    gl.shutdown().await?;
    Ok(())
}
