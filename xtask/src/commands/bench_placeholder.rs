//! `cargo xtask bench-placeholder`: how long a mention waits for its placeholder in webhook
//! mode, from the moment a runner starts the acknowledgement job to the moment the placeholder
//! note is posted on GitLab, with the job in the slim `entrypoint` image (as the templates run
//! it) and, for comparison, in the Claude image (as the answering job would post it without
//! the acknowledgement job), on a runner that has not cached the image (cold) and on one that
//! has (warm).
//!
//! What is real: the Docker engine, the pull from a real registry (Debian's `docker-registry`
//! on loopback, [`LocalRegistry`], with htpasswd auth as a project's container registry has),
//! the container, and `entrypoint ack` in it talking to the GitLab double over HTTP. The
//! engine is a private `dockerd` of this command's own (its own data root, containerd
//! namespace, no bridge, no iptables), so a cold pull finds no layer of the machine's images
//! (the Claude image shares its Debian base with every local build) and the machine's engine
//! is never touched but to push the two images. What is not here: pipeline creation and
//! runner pickup (the same for both images), and a real network (loopback pulls are the
//! fastest a runner gets; over a real link the 240 MB pull grows, the 9 MB one hardly).
//!
//! A run: a new issue and a Developer's `@claude` comment on the double; for a cold run the
//! image is removed from the private engine (which then holds no image at all, checked), then
//! the clock starts, the engine pulls, creates and starts the container, and `entrypoint ack`
//! reads the note back, checks the author's role, claims it and posts the placeholder. The
//! clock stops when the double holds the bot's placeholder (polled every 5 ms in the double's
//! own state). The job must then exit 0 with `AI_ACK=posted` in its dotenv report.

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use ai_core::Assistant;
use anyhow::{Context, bail, ensure};
use bollard::Docker;
use bollard::auth::DockerCredentials;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListImagesOptions, PushImageOptionsBuilder,
    RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use clap::Parser;
use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, NoteSpec, Noteable, ProjectSpec, SeededUser, UserSpec,
};
use futures::StreamExt;

use crate::engine;
use crate::engine::container::{self, Entrypoint, Network, RunSpec};
use crate::images::manifest::Base;
use crate::images::slim_image;
use crate::images::variants::{LOCAL_NAMESPACE, Variant};
use crate::registry::local_registry::{self, LocalRegistry};
use crate::util::cmd;

/// A job that has not posted by then is broken, not slow.
const JOB_LIMIT: Duration = Duration::from_secs(120);
/// How often the double's notes are looked at while the job runs.
const POLL: Duration = Duration::from_millis(5);
/// The repository the images are pushed under in the test registry.
const REGISTRY_PATH: &str = "bench";
const BENCH_TAG: &str = "bench";

/// Flags of `cargo xtask bench-placeholder`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Runs per image and cache state.
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// The slim image (made by `cargo xtask build-images`).
    #[arg(long, default_value_t = slim_image::local_image(LOCAL_NAMESPACE))]
    slim_image: String,
    /// The assistant image to compare with.
    #[arg(long, default_value_t = Variant { assistant: Assistant::Claude, base: Base::Ubuntu }.local_image(LOCAL_NAMESPACE))]
    assistant_image: String,
}

/// Cold or warm image cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cache {
    Cold,
    Warm,
}

/// One timed acknowledgement.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// Job start to placeholder posted.
    total: Duration,
    /// Of which the pull (zero when warm).
    pull: Duration,
}

/// The figures of one image.
struct Row {
    label: &'static str,
    image: String,
    compressed: u64,
    cold: Vec<Sample>,
    warm: Vec<Sample>,
}

/// Runs the benchmark and prints the table.
pub fn run(args: Args) -> anyhow::Result<()> {
    ensure!(args.runs > 0, "--runs must be at least 1");
    tokio::runtime::Runtime::new()?.block_on(async {
        let load_before = load_average();
        let machine = engine::connect().await?;
        for image in [&args.slim_image, &args.assistant_image] {
            ensure!(
                engine::inspect_image(&machine, image).await?.is_some(),
                "the image {image} is not in the local engine: build it first with `cargo xtask build-images --assistant claude --base ubuntu --no-pull` (on a machine without Docker Hub access the Debian stand-in is used)"
            );
        }
        let registry = local_registry::start()?;
        let credentials = DockerCredentials {
            username: Some(registry.user.clone()),
            password: Some(registry.password.clone()),
            serveraddress: Some(registry.host.clone()),
            ..Default::default()
        };
        let slim = push(&machine, &args.slim_image, "entrypoint", &registry, &credentials).await?;
        let assistant =
            push(&machine, &args.assistant_image, "claude", &registry, &credentials).await?;

        let engine = PrivateEngine::start().await?;
        let result = async {
            let world = World::new().await?;
            let mut rows = vec![
                Row {
                    label: "slim entrypoint",
                    image: slim.0.clone(),
                    compressed: slim.1,
                    cold: Vec::new(),
                    warm: Vec::new(),
                },
                Row {
                    label: "claude (ubuntu)",
                    image: assistant.0.clone(),
                    compressed: assistant.1,
                    cold: Vec::new(),
                    warm: Vec::new(),
                },
            ];
            for run in 1..=args.runs {
                for row in &mut rows {
                    for cache in [Cache::Cold, Cache::Warm] {
                        let sample =
                            acknowledge(&engine.docker, &world, &row.image, cache, &credentials)
                                .await
                                .with_context(|| {
                                    format!("run {run}, {} ({cache:?})", row.label)
                                })?;
                        eprintln!(
                            "run {run} {:<16} {cache:?}: placeholder after {:.2} s (pull {:.2} s)",
                            row.label,
                            sample.total.as_secs_f64(),
                            sample.pull.as_secs_f64()
                        );
                        match cache {
                            Cache::Cold => row.cold.push(sample),
                            Cache::Warm => row.warm.push(sample),
                        }
                    }
                }
            }
            Ok::<_, anyhow::Error>(rows)
        }
        .await;
        engine.stop();
        let rows = result?;
        print_table(&rows, &load_before, &load_average());
        Ok(())
    })
}

/// Pushes `local` to the test registry as `<host>/bench/<name>:bench` and removes that tag from
/// the machine's engine again. Returns the registry reference and the compressed size (the
/// layers' sizes in the pushed manifest, what a pull downloads).
async fn push(
    docker: &Docker,
    local: &str,
    name: &str,
    registry: &LocalRegistry,
    credentials: &DockerCredentials,
) -> anyhow::Result<(String, u64)> {
    let repository = format!("{}/{REGISTRY_PATH}/{name}", registry.host);
    docker
        .tag_image(
            local,
            Some(
                TagImageOptionsBuilder::default()
                    .repo(&repository)
                    .tag(BENCH_TAG)
                    .build(),
            ),
        )
        .await
        .with_context(|| format!("cannot tag {local} as {repository}:{BENCH_TAG}"))?;
    // Errors of a push arrive as items of a stream whose HTTP status is 200.
    let mut stream = docker.push_image(
        &repository,
        Some(PushImageOptionsBuilder::default().tag(BENCH_TAG).build()),
        Some(credentials.clone()),
    );
    let mut pushed = Ok(());
    while let Some(item) = stream.next().await {
        if let Err(err) = item {
            pushed = Err(err);
            break;
        }
    }
    let reference = format!("{repository}:{BENCH_TAG}");
    let _ = docker
        .remove_image(
            &reference,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await;
    pushed.with_context(|| format!("cannot push {reference} to the test registry"))?;
    let compressed = compressed_size(registry, name, credentials).await?;
    Ok((reference, compressed))
}

/// The sum of the layer sizes of the pushed manifest (the registry's own record of what a pull
/// downloads), read with the registry API as any client reads it.
async fn compressed_size(
    registry: &LocalRegistry,
    name: &str,
    credentials: &DockerCredentials,
) -> anyhow::Result<u64> {
    let repository = crate::registry::Repository {
        host: registry.host.clone(),
        path: format!("{REGISTRY_PATH}/{name}"),
    };
    let credentials = crate::registry::Credentials {
        username: credentials.username.clone().unwrap_or_default(),
        password: ai_core::Secret::new(credentials.password.clone().unwrap_or_default()),
    };
    let remote = crate::registry::fetch_manifest(&repository, BENCH_TAG, Some(&credentials))
        .await
        .with_context(|| {
            format!(
                "cannot read the manifest of {}/{}:{BENCH_TAG}",
                repository.host, repository.path
            )
        })?;
    Ok(remote.compressed_size)
}

/// A `dockerd` of this command's own, stopped (and its state removed) by [`Self::stop`].
struct PrivateEngine {
    child: Child,
    dir: tempfile::TempDir,
    /// The bridge made for it (see [`Self::start`]).
    bridge: String,
    docker: Docker,
}

impl PrivateEngine {
    /// Starts it in a fresh directory: an empty image store. Its own containerd namespace keeps
    /// its containers and images apart from the machine engine's when both use the machine's
    /// containerd, and `--iptables=false` leaves the machine engine's rules alone (the
    /// benchmark's containers use the host's network to reach the double on loopback).
    ///
    /// It gets a bridge of its own, made here, not `--bridge=none`: dockerd 20.10 started with
    /// `--bridge=none` deletes the host's `docker0` (`removeDefaultBridgeInterface` in moby's
    /// `daemon/daemon_unix.go`), which breaks every container of the machine's engine.
    async fn start() -> anyhow::Result<Self> {
        // Short: the engine puts Unix sockets under it (108-byte limit).
        let dir = tempfile::Builder::new().prefix("gab-").tempdir_in("/tmp")?;
        let bridge = format!("gab{}", std::process::id() % 100_000);
        cmd::run(
            Path::new("/"),
            "ip",
            ["link", "add", &bridge, "type", "bridge"],
        )
        .with_context(|| format!("cannot make the bridge {bridge} for the private engine"))?;
        let made = async {
            cmd::run(
                Path::new("/"),
                "ip",
                ["addr", "add", "10.231.87.1/24", "dev", &bridge],
            )?;
            Self::spawn(&dir, &bridge).await
        }
        .await;
        match made {
            Ok((child, docker)) => Ok(PrivateEngine {
                child,
                dir,
                bridge,
                docker,
            }),
            Err(err) => {
                let _ = cmd::run(Path::new("/"), "ip", ["link", "del", &bridge]);
                Err(err)
            }
        }
    }

    async fn spawn(dir: &tempfile::TempDir, bridge: &str) -> anyhow::Result<(Child, Docker)> {
        let at = |name: &str| dir.path().join(name).display().to_string();
        let socket = at("docker.sock");
        let args = [
            format!("--host=unix://{socket}"),
            format!("--data-root={}", at("data")),
            format!("--exec-root={}", at("exec")),
            format!("--pidfile={}", at("dockerd.pid")),
            format!("--bridge={bridge}"),
            "--iptables=false".to_owned(),
            "--ip-masq=false".to_owned(),
            "--containerd-namespace=gitlab-ai-bench".to_owned(),
            "--containerd-plugins-namespace=gitlab-ai-bench-plugins".to_owned(),
        ];
        let log = dir.path().join("dockerd.log");
        let mut child = cmd::spawn_background("dockerd", &args, &log)?;
        let started = Instant::now();
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            // bollard refuses a socket path that does not exist yet.
            if let Ok(client) =
                Docker::connect_with_unix(&socket, 120, bollard::API_DEFAULT_VERSION)
                && let Ok(docker) = client.negotiate_version().await
                && docker.ping().await.is_ok()
            {
                return Ok((child, docker));
            }
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("the private dockerd exited ({status}): {log}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                let _ = child.wait();
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                bail!("the private dockerd did not answer within 60 s: {log}");
            }
        }
    }

    /// Stops the engine (SIGTERM, so it unmounts its layers), waits for it, removes its state.
    fn stop(mut self) {
        // Our own child, by its pid.
        if let Some(pid) = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if let Err(err) = cmd::run(Path::new("/"), "ip", ["link", "del", &self.bridge]) {
            eprintln!("could not remove the bridge {}: {err:#}", self.bridge);
        }
        let path = self.dir.path().to_path_buf();
        // dockerd leaves its network namespace file mounted under the exec root.
        let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut under: Vec<&str> = mounts
            .lines()
            .filter_map(|l| l.split_whitespace().nth(1))
            .filter(|m| Path::new(m).starts_with(&path))
            .collect();
        under.sort_by_key(|m| std::cmp::Reverse(m.len()));
        for mount in under {
            let _ = cmd::run(Path::new("/"), "umount", [mount]);
        }
        if std::fs::remove_dir_all(&path).is_err() {
            eprintln!(
                "left the private engine's directory {} (something in it is still mounted)",
                path.display()
            );
            std::mem::forget(self.dir);
        }
    }
}

/// The double: a project, its bot (Maintainer) and a Developer who mentions Claude.
struct World {
    gl: GitLabDouble,
    project: u64,
    bot: SeededUser,
    dev: SeededUser,
    dir: tempfile::TempDir,
}

impl World {
    async fn new() -> anyhow::Result<Self> {
        let gl = GitLabDouble::start().await?;
        let project = gl.add_project(ProjectSpec::new("acme/widgets"))?.id;
        let bot = gl.add_user(UserSpec::project_bot(project, "AI"))?;
        gl.add_member(project, bot.id, 40)?;
        let dev = gl.add_user(UserSpec::human("dana"))?;
        gl.add_member(project, dev.id, 30)?;
        let dir = tempfile::Builder::new()
            .prefix("gitlab-ai-placeholder-")
            .tempdir()?;
        // The job's user in either image must write its dotenv report there.
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )?;
        Ok(World {
            gl,
            project,
            bot,
            dev,
            dir,
        })
    }

    /// A new issue with a mention, and the variables of the webhook pipeline setup's custom
    /// template gives it (docs/modes.md), with the job's CI variables.
    fn mention(&self, image: &str, job_dir: &Path) -> anyhow::Result<(u64, Vec<String>)> {
        let iid = self
            .gl
            .create_issue(self.project, IssueSpec::new(self.dev.id, "Widgets"))?
            .iid;
        let note = self
            .gl
            .add_note(
                self.project,
                Noteable::Issue(iid),
                NoteSpec::new(self.dev.id, "@claude please fix the greeting"),
            )?
            .id;
        let hook = [
            ("AI_HOOK_ACTION", "create".to_owned()),
            ("AI_HOOK_AUTHOR", self.dev.username.clone()),
            ("AI_HOOK_NOTEABLE_TYPE", "Issue".to_owned()),
            ("AI_HOOK_NOTE_ID", note.to_string()),
            ("AI_HOOK_ISSUE_IID", iid.to_string()),
            ("AI_HOOK_MR_IID", String::new()),
        ];
        // GitLab gives every trigger pipeline TRIGGER_PAYLOAD, the request's own parameters.
        let params = serde_json::json!({
            "variables": hook.iter().map(|(k, v)| (k.to_string(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>()
        });
        std::fs::write(job_dir.join("TRIGGER_PAYLOAD"), params.to_string())?;
        let base = self.gl.base_url();
        let mut env: Vec<String> = hook.iter().map(|(k, v)| format!("{k}={v}")).collect();
        env.extend([
            "CI=true".to_owned(),
            "CI_PIPELINE_SOURCE=trigger".to_owned(),
            format!("CI_PROJECT_ID={}", self.project),
            "CI_PROJECT_PATH=acme/widgets".to_owned(),
            "CI_PROJECT_DIR=/job".to_owned(),
            format!("CI_API_V4_URL={}", self.gl.api_url()),
            format!("CI_SERVER_URL={base}"),
            format!("CI_JOB_ID={iid}"),
            format!("CI_JOB_URL={base}/acme/widgets/-/jobs/{iid}"),
            format!("CI_JOB_IMAGE={image}"),
            format!("GITLAB_TOKEN={}", self.bot.token),
            "TRIGGER_PAYLOAD=/job/TRIGGER_PAYLOAD".to_owned(),
        ]);
        Ok((iid, env))
    }

    /// Whether the bot's placeholder is on the issue.
    fn placeholder_posted(&self, iid: u64) -> bool {
        self.gl
            .notes(self.project, Noteable::Issue(iid))
            .iter()
            .any(|n| n.author_id == self.bot.id)
    }
}

/// One acknowledgement in `image`, timed from the job's start to the placeholder.
async fn acknowledge(
    docker: &Docker,
    world: &World,
    image: &str,
    cache: Cache,
    credentials: &DockerCredentials,
) -> anyhow::Result<Sample> {
    if cache == Cache::Cold {
        // Every image, so no layer is shared with the one about to be pulled.
        let list = || {
            docker.list_images(Some(ListImagesOptions {
                all: true,
                ..Default::default()
            }))
        };
        for present in list()
            .await
            .context("cannot list the private engine's images")?
        {
            docker
                .remove_image(
                    &present.id,
                    Some(RemoveImageOptionsBuilder::default().force(true).build()),
                    None,
                )
                .await
                .with_context(|| format!("cannot remove {} from the private engine", present.id))?;
        }
        let left = list()
            .await
            .context("cannot list the private engine's images")?;
        ensure!(
            left.is_empty(),
            "the private engine still holds {} images; a cold pull would not be cold",
            left.len()
        );
    }
    let job = tempfile::Builder::new()
        .prefix("job-")
        .tempdir_in(world.dir.path())?;
    std::fs::set_permissions(
        job.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )?;
    let (iid, env) = world.mention(image, job.path())?;
    let spec = RunSpec {
        entrypoint: Entrypoint::Cleared,
        cmd: [
            "entrypoint",
            "ack",
            "--assistant",
            "claude",
            "--dotenv",
            "/job/ai-ack.env",
        ]
        .map(str::to_owned)
        .to_vec(),
        user: None,
        cap_add: Vec::new(),
        network: Network::Host,
        env,
        binds: vec![format!("{}:/job", job.path().display())],
        timeout: JOB_LIMIT,
    };

    let started = Instant::now();
    let job_run = {
        let docker = docker.clone();
        let image = image.to_owned();
        let credentials = credentials.clone();
        tokio::spawn(async move {
            let pulled = if cache == Cache::Cold {
                pull(&docker, &image, credentials).await?;
                Some(started.elapsed())
            } else {
                None
            };
            let output = container::run(&docker, &image, &spec).await?;
            Ok::<_, anyhow::Error>((pulled, output))
        })
    };
    let posted = loop {
        if world.placeholder_posted(iid) {
            break started.elapsed();
        }
        if job_run.is_finished() || started.elapsed() > JOB_LIMIT {
            // One last look: the job may have posted just before it finished.
            if world.placeholder_posted(iid) {
                break started.elapsed();
            }
            let outcome = job_run.await.context("the job task panicked")?;
            let (_, output) = outcome?;
            bail!(
                "no placeholder was posted (exit {}): {}{}",
                output.exit_code,
                output.stdout,
                output.stderr
            );
        }
        tokio::time::sleep(POLL).await;
    };
    let (pulled, output) = job_run.await.context("the job task panicked")??;
    ensure!(
        output.exit_code == 0,
        "the ack job exited {}: {}{}",
        output.exit_code,
        output.stdout,
        output.stderr
    );
    let report = std::fs::read_to_string(job.path().join("ai-ack.env"))
        .context("the ack job wrote no dotenv report")?;
    ensure!(
        report.lines().any(|l| l == "AI_ACK=posted"),
        "the ack job's report does not say posted: {report:?}"
    );
    Ok(Sample {
        total: posted,
        pull: pulled.unwrap_or_default(),
    })
}

/// Pulls `image` from the test registry; errors come as stream items.
async fn pull(docker: &Docker, image: &str, credentials: DockerCredentials) -> anyhow::Result<()> {
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .build();
    let mut stream = docker.create_image(Some(options), None, Some(credentials));
    while let Some(item) = stream.next().await {
        item.with_context(|| format!("cannot pull {image} from the test registry"))?;
    }
    Ok(())
}

/// `/proc/loadavg`'s three figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn seconds(samples: &[Sample], pick: fn(&Sample) -> Duration) -> String {
    let mut values: Vec<f64> = samples.iter().map(|s| pick(s).as_secs_f64()).collect();
    values.sort_by(f64::total_cmp);
    match (values.first(), values.get(values.len() / 2), values.last()) {
        (Some(min), Some(median), Some(max)) => {
            format!("{median:.2} s ({min:.2}–{max:.2})")
        }
        _ => "–".to_owned(),
    }
}

fn print_table(rows: &[Row], load_before: &str, load_after: &str) {
    println!(
        "{:<18} {:>11} {:>24} {:>24} {:>24}",
        "ack job image",
        "compressed",
        "cold: to placeholder",
        "cold: of which pull",
        "warm: to placeholder"
    );
    for row in rows {
        println!(
            "{:<18} {:>11} {:>24} {:>24} {:>24}",
            row.label,
            engine::mb(row.compressed),
            seconds(&row.cold, |s| s.total),
            seconds(&row.cold, |s| s.pull),
            seconds(&row.warm, |s| s.total),
        );
    }
    let runs = rows.first().map_or(0, |r| r.cold.len());
    println!(
        "median (min–max) of {runs} runs each; job start = the runner asks the engine for the image; load average {load_before} before, {load_after} after ({} cores)",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_shows_median_and_range() {
        let s = |ms: u64| Sample {
            total: Duration::from_millis(ms),
            pull: Duration::from_millis(ms / 2),
        };
        assert_eq!(
            seconds(&[s(3000), s(1000), s(2000)], |s| s.total),
            "2.00 s (1.00–3.00)"
        );
        assert_eq!(seconds(&[], |s| s.total), "–");
    }

    #[test]
    fn the_default_images_are_the_ones_build_images_makes() {
        let args = Args::parse_from(["bench-placeholder"]);
        assert_eq!(args.slim_image, slim_image::local_image(LOCAL_NAMESPACE));
        assert_eq!(args.assistant_image, "gitlab-ai/claude:ubuntu");
    }
}
