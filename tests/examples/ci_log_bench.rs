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

use doubles::gitlab::double::{JobSpec, MrSpec};
use doubles::gitlab::repo::{FileChange, Signature};
use entrypoint::agent::Handles;
use entrypoint::context::ci::render_ci;
use entrypoint::context::{ContextBudget, gather, gather_ci};
use entrypoint::redact::Redactor;

#[path = "shared/mr_mention.rs"]
mod mr_mention;

const JOBS: usize = 5;
const LOG_MIB: usize = 20;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (gl, alice, project, bot) = mr_mention::world("group/ci").await?;
    let repo = gl.repo(project.id)?;
    let author = Signature::new("Dev", "dev@example.com");
    repo.commit("main", &[FileChange::write("a", "a\n")], "A\n", &author)?;
    repo.create_branch("feature", "main")?;
    repo.commit("feature", &[FileChange::write("b", "b\n")], "B\n", &author)?;
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
    let gitlab = mr_mention::client(&gl.api_url(), &bot.token)?;
    let trigger = mr_mention::mention(
        &gl,
        project.id,
        mr.iid,
        &alice,
        "@claude fix the pipeline",
        "",
    )?;
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
