//! Running a command in a throw-away container of an image. By default the container has no
//! network (the image tests must not reach anything outside the machine); the end-to-end
//! scenario joins a network namespace of its own making.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::Context;
use bollard::Docker;
use bollard::container::LogOutput;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, LogsOptionsBuilder, RemoveContainerOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use futures::StreamExt;

/// Label on every container the xtask creates, so leftovers can be found.
pub const TEST_LABEL: &str = "gitlab-ai.xtask-test";

/// What a command printed and how it exited.
#[derive(Debug)]
pub struct RunOutput {
    /// Exit status.
    pub exit_code: i64,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

#[cfg(test)]
impl RunOutput {
    /// What a check's judge is given in its tests, as if the container had run.
    pub(crate) fn of(exit_code: i64, stdout: &str, stderr: &str) -> Self {
        RunOutput {
            exit_code,
            stdout: stdout.to_owned(),
            stderr: stderr.to_owned(),
        }
    }
}

/// Asserts that a check's `judge` passes each of `passing` and fails each of `failing`, outputs
/// given as (exit code, stdout, stderr): the shape of every check's test. `what` names the case
/// in the failure.
#[cfg(test)]
pub(crate) fn assert_judged(
    what: &str,
    judge: impl Fn(&RunOutput) -> Result<String, String>,
    passing: &[(i64, &str, &str)],
    failing: &[(i64, &str, &str)],
) {
    for &(code, stdout, stderr) in passing {
        let verdict = judge(&RunOutput::of(code, stdout, stderr));
        assert!(
            verdict.is_ok(),
            "{what}: failed ({code}, {stdout:?}, {stderr:?}): {verdict:?}"
        );
    }
    for &(code, stdout, stderr) in failing {
        let verdict = judge(&RunOutput::of(code, stdout, stderr));
        assert!(
            verdict.is_err(),
            "{what}: passed ({code}, {stdout:?}, {stderr:?}): {verdict:?}"
        );
    }
}

/// How the container's command is started.
#[derive(Clone, Copy, Debug)]
pub enum Entrypoint {
    /// The image's own ENTRYPOINT, given `cmd` as arguments.
    Image,
    /// `entrypoint: [""]` as GitLab CI jobs override it: `cmd` runs as is.
    Cleared,
}

/// Which network namespace the container gets.
#[derive(Clone, Debug)]
pub enum Network {
    /// Its own, with loopback only, and networking disabled: the engine mounts no /etc/hosts
    /// or /etc/resolv.conf (empty files hide the image's own).
    None,
    /// Its own, with loopback only (`--network none`), and the engine's /etc/hosts naming
    /// localhost, as a job's container has one: for checks of name resolution.
    Loopback,
    /// The namespace of another (running) container, by id.
    Container(String),
    /// The host's own (`--network host`): for an engine started without a bridge, whose
    /// containers reach a double on the host's loopback (`cargo xtask bench-placeholder`).
    Host,
}

/// A command to run in a new container, with what it may use.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// How `cmd` is started.
    pub entrypoint: Entrypoint,
    /// The command (or the ENTRYPOINT's arguments).
    pub cmd: Vec<String>,
    /// `--user`; the image's own user when `None`.
    pub user: Option<String>,
    /// `--cap-add`.
    pub cap_add: Vec<String>,
    /// `--network`.
    pub network: Network,
    /// `--env NAME=value`.
    pub env: Vec<String>,
    /// `--volume HOST:CONTAINER`.
    pub binds: Vec<String>,
    /// Killed after this long.
    pub timeout: Duration,
}

impl RunSpec {
    /// `cmd` as the image's user, without network, capabilities, variables or volumes.
    pub fn new(entrypoint: Entrypoint, cmd: &[&str]) -> Self {
        RunSpec {
            entrypoint,
            cmd: cmd.iter().map(|s| (*s).to_owned()).collect(),
            user: None,
            cap_add: Vec::new(),
            network: Network::None,
            env: Vec::new(),
            binds: Vec::new(),
            timeout: Duration::from_secs(300),
        }
    }
}

/// Runs `spec` in a new container of `image` and removes the container afterwards.
pub async fn run(docker: &Docker, image: &str, spec: &RunSpec) -> anyhow::Result<RunOutput> {
    let id = create(docker, image, spec).await?;
    let result = tokio::time::timeout(spec.timeout, run_created(docker, &id)).await;
    remove(docker, &id).await;
    let cmd = &spec.cmd;
    match result {
        Ok(output) => output.with_context(|| format!("running {cmd:?} in {image}")),
        Err(_) => anyhow::bail!(
            "{cmd:?} in {image} did not finish within {:?}; the container was removed",
            spec.timeout
        ),
    }
}

/// Starts `spec` in a new container of `image` without waiting for it; returns the container's
/// id and its main process's pid on the host. The caller removes it ([`remove`]).
pub async fn start_detached(
    docker: &Docker,
    image: &str,
    spec: &RunSpec,
) -> anyhow::Result<(String, i64)> {
    let id = create(docker, image, spec).await?;
    let started = async {
        docker.start_container(&id, None).await?;
        let state = docker
            .inspect_container(&id, None)
            .await?
            .state
            .context("the engine reports no state for the container")?;
        match state.pid {
            Some(pid) if pid > 0 && state.running == Some(true) => Ok(pid),
            _ => anyhow::bail!("the container is not running (state {state:?})"),
        }
    }
    .await;
    match started {
        Ok(pid) => Ok((id, pid)),
        Err(error) => {
            remove(docker, &id).await;
            Err(error.context(format!("starting {:?} in {image}", spec.cmd)))
        }
    }
}

async fn create(docker: &Docker, image: &str, spec: &RunSpec) -> anyhow::Result<String> {
    let network_mode = match &spec.network {
        Network::None | Network::Loopback => "none".to_owned(),
        Network::Container(id) => format!("container:{id}"),
        Network::Host => "host".to_owned(),
    };
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: match spec.entrypoint {
            Entrypoint::Image => None,
            Entrypoint::Cleared => Some(vec![String::new()]),
        },
        cmd: Some(spec.cmd.clone()),
        user: spec.user.clone(),
        env: Some(spec.env.clone()),
        labels: Some(HashMap::from([(TEST_LABEL.to_owned(), "1".to_owned())])),
        network_disabled: Some(matches!(spec.network, Network::None)),
        host_config: Some(HostConfig {
            network_mode: Some(network_mode),
            cap_add: Some(spec.cap_add.clone()),
            binds: Some(spec.binds.clone()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
        .await
        .with_context(|| format!("cannot create a container of {image}"))?;
    Ok(created.id)
}

/// Removes a container, running or not, with its anonymous volumes.
pub async fn remove(docker: &Docker, id: &str) {
    let _ = docker
        .remove_container(
            id,
            Some(
                RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await;
}

async fn run_created(docker: &Docker, id: &str) -> anyhow::Result<RunOutput> {
    docker.start_container(id, None).await?;
    let mut exit_code = 0;
    let mut wait = docker.wait_container(
        id,
        Some(
            WaitContainerOptionsBuilder::default()
                .condition("not-running")
                .build(),
        ),
    );
    while let Some(item) = wait.next().await {
        match item {
            Ok(response) => exit_code = response.status_code,
            Err(DockerError::DockerContainerWaitError { code, .. }) => exit_code = code,
            Err(err) => return Err(err.into()),
        }
    }
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let mut logs = docker.logs(
        id,
        Some(
            LogsOptionsBuilder::default()
                .stdout(true)
                .stderr(true)
                .tail("all")
                .build(),
        ),
    );
    while let Some(item) = logs.next().await {
        match item? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                stdout.extend_from_slice(&message)
            }
            LogOutput::StdErr { message } => stderr.extend_from_slice(&message),
            LogOutput::StdIn { .. } => {}
        }
    }
    Ok(RunOutput {
        exit_code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}
