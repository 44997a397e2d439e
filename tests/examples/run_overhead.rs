//! What `entrypoint run` costs before the assistant starts, on a large merge request: 500 notes
//! and 300 changed files on the GitLab double. The product binary runs as a CI job would, with
//! a stand-in for the Claude CLI that notes the moment it was spawned and answers at once.
//!
//! `cargo run -p doubles --release --example run_overhead`
//!
//! Prints: process start → assistant spawned, and the API calls made until then (target: under
//! one second, at most ceil(items / 100) + 10 calls); the skip path (a comment without a
//! mention → exit); and mention → placeholder posted.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{
    NoteSpec, Noteable as DoubleNoteable, ProjectSpec, SeededUser, UserSpec,
};
use doubles::gitlab::repo::git_command;
use doubles::model::{Script, anthropic};

#[path = "shared/big_merge_request.rs"]
mod big_merge_request;

const NOTES: usize = 500;
const FILES: usize = 300;

struct Bench {
    gl: GitLabDouble,
    project: u64,
    bot: SeededUser,
    job_token: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bin = doubles::binaries::entrypoint()?.to_path_buf();
    let gl = GitLabDouble::start().await?;
    let project = gl.add_project(ProjectSpec::new("group/big"))?.id;
    let alice = gl.add_user(UserSpec::human("alice"))?;
    gl.add_member(project, alice.id, 30)?;
    let bot = gl.add_user(UserSpec::project_bot(project, "AI"))?;
    gl.add_member(project, bot.id, 40)?;
    gl.repo(project)?.create_branch("feature", "main")?;
    let mr = big_merge_request::seed(&gl, project, alice.id, FILES, NOTES)?;
    let on = DoubleNoteable::MergeRequest(mr.iid);
    let job_token = gl.add_job_token(project, alice.id)?;
    let bench = Bench {
        gl,
        project,
        bot,
        job_token,
        // The entrypoint runs the CLI as the sandbox uid (as in the images, when it runs as
        // root): the stand-in must be reachable by it, and its marker writable.
        dir: doubles::sandbox::reachable_tempdir(),
        bin,
    };
    let model = anthropic::start(Script::new()).await?;

    // 1. Mention → assistant spawned.
    let request = bench.gl.add_note(
        project,
        on,
        NoteSpec::new(alice.id, "@claude address the review"),
    )?;
    let markers = bench.dir.path().join("markers");
    std::fs::create_dir(&markers)?;
    std::fs::set_permissions(&markers, std::fs::Permissions::from_mode(0o1777))?;
    let marker = markers.join("spawned-at");
    let fake_cli = fake_claude(bench.dir.path(), &marker)?;
    let checkout = bench.checkout("full")?;
    bench.gl.clear_requests();
    let started = SystemTime::now();
    let mut child = bench
        .command(&checkout, &model.base_url(), &fake_cli)
        .env("AI_NOTEABLE_TYPE", "merge_request")
        .env("AI_NOTEABLE_IID", mr.iid.to_string())
        .env("AI_NOTE_ID", request.id.to_string())
        .spawn()
        .context("starting entrypoint run")?;
    let spawned_at = wait_for_file(&marker, Duration::from_secs(30)).await?;
    let api_calls_before_spawn = bench.api_calls();
    let calls_seen = bench.api_call_list();
    let status = child.wait().await?;
    let overhead = Duration::from_nanos(spawned_at.saturating_sub(epoch_nanos(started)?));
    let items = NOTES + FILES;
    let call_budget = items.div_ceil(100) + 10;
    println!("MR with {NOTES} notes and {FILES} changed files:");
    println!(
        "  process start -> assistant spawned: {} ms (target < 1000 ms)",
        overhead.as_millis()
    );
    println!(
        "  API calls before the spawn: {api_calls_before_spawn} (target <= {call_budget}); whole job: {} (job exit: {status})",
        bench.api_calls()
    );

    for call in calls_seen {
        println!("    {call}");
    }

    // 2. The skip path: a comment without a mention, as a webhook body.
    let payload = bench.comment_payload(on, alice.id, "thanks, merging soon")?;
    bench.gl.clear_requests();
    let begin = Instant::now();
    let status = bench
        .command(&checkout, &model.base_url(), &fake_cli)
        .env("AI_WEBHOOK_PAYLOAD", payload)
        .status()
        .await?;
    println!(
        "skip path (no mention -> exit {status}): {} ms, {} API calls",
        begin.elapsed().as_millis(),
        bench.api_calls()
    );

    // 3. Mention → placeholder posted, from a webhook body.
    let payload = bench.comment_payload(on, alice.id, "@claude one more thing")?;
    let checkout = bench.checkout("placeholder")?;
    let _ = std::fs::remove_file(&marker);
    bench.gl.clear_requests();
    let begin = Instant::now();
    let mut child = bench
        .command(&checkout, &model.base_url(), &fake_cli)
        .env("AI_WEBHOOK_PAYLOAD", payload)
        .spawn()?;
    let placeholder = loop {
        let posted = bench.gl.requests().into_iter().any(|r| {
            r.method == "POST" && r.path.ends_with("/notes") && (200..300).contains(&r.status)
        });
        if posted {
            break begin.elapsed();
        }
        if begin.elapsed() > Duration::from_secs(30) {
            bail!("no placeholder within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    child.wait().await?;
    println!(
        "mention -> placeholder posted: {} ms",
        placeholder.as_millis()
    );
    Ok(())
}

impl Bench {
    fn command(&self, checkout: &Path, model_url: &str, cli: &Path) -> tokio::process::Command {
        let base = self.gl.base_url();
        let mut command = tokio::process::Command::new(&self.bin);
        command
            .arg("run")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("CI_PROJECT_ID", self.project.to_string())
            .env("CI_PROJECT_PATH", "group/big")
            .env("CI_PROJECT_DIR", checkout)
            .env("CI_API_V4_URL", self.gl.api_url())
            .env("CI_SERVER_URL", &base)
            .env("CI_DEFAULT_BRANCH", "main")
            .env("CI_JOB_TOKEN", &self.job_token)
            .env("CI_JOB_ID", "1")
            .env("CI_JOB_URL", format!("{base}/group/big/-/jobs/1"))
            .env("GITLAB_TOKEN", &self.bot.token)
            .env("AI_ASSISTANT", "claude")
            .env("AI_CLAUDE_BIN", cli)
            .env("ANTHROPIC_API_KEY", "sk-ant-bench")
            .env("ANTHROPIC_BASE_URL", model_url)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
    }

    fn api_calls(&self) -> usize {
        self.gl
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .count()
    }

    /// `METHOD path` of each API request so far, in order.
    fn api_call_list(&self) -> Vec<String> {
        self.gl
            .requests()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .map(|r| {
                let query = r
                    .query
                    .as_deref()
                    .map(|q| format!("?{q}"))
                    .unwrap_or_default();
                format!("{} {}{query}", r.method, r.path)
            })
            .collect()
    }

    fn payload(&self, note: u64) -> anyhow::Result<String> {
        let event = self
            .gl
            .note_events()
            .into_iter()
            .find(|e| e.note_id == note)
            .context("the double recorded no Note Hook event")?;
        Ok(event.payload.to_string())
    }

    /// Posts `body` as `author`'s comment on `on`, its Note Hook recorded, and returns the
    /// hook's body ([`Bench::payload`]).
    fn comment_payload(
        &self,
        on: DoubleNoteable,
        author: u64,
        body: &str,
    ) -> anyhow::Result<String> {
        let note = self
            .gl
            .add_note(self.project, on, NoteSpec::new(author, body).emit_hooks())?;
        self.payload(note.id)
    }

    /// A runner-like checkout: a shallow clone with the job token, detached.
    fn checkout(&self, name: &str) -> anyhow::Result<PathBuf> {
        let url = self.gl.git_url(self.project)?.replacen(
            "http://",
            &format!("http://gitlab-ci-token:{}@", self.job_token),
            1,
        );
        let dir = self.dir.path().join(name);
        let out = git_command()
            .args(["clone", "--quiet", "--depth", "20", &url])
            .arg(&dir)
            .output()?;
        if !out.status.success() {
            bail!("git clone: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(dir)
    }
}

/// A stand-in for the Claude CLI: writes the time it was started (ns since the epoch) and
/// answers at once in Claude's stream-json.
fn fake_claude(dir: &Path, marker: &Path) -> anyhow::Result<PathBuf> {
    let path = dir.join("fake-claude");
    let script = format!(
        "#!/bin/sh\ndate +%s%N > '{}.tmp' && mv '{0}.tmp' '{0}'\ncat > /dev/null\necho '{{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,\"result\":\"Done.\"}}'\n",
        marker.display()
    );
    std::fs::write(&path, script)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

async fn wait_for_file(path: &Path, limit: Duration) -> anyhow::Result<u64> {
    let begin = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return text
                .trim()
                .parse()
                .context("the spawn time is not a number");
        }
        if begin.elapsed() > limit {
            bail!("the assistant was not spawned within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

fn epoch_nanos(time: SystemTime) -> anyhow::Result<u64> {
    Ok(u64::try_from(time.duration_since(UNIX_EPOCH)?.as_nanos())?)
}
