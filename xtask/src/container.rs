//! Running a command in a throw-away container of an image, with no network: the image tests
//! must not reach anything outside the machine.

use std::collections::HashMap;

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

/// How the container's command is started.
pub enum Entrypoint {
    /// The image's own ENTRYPOINT, given `cmd` as arguments.
    Image,
    /// `entrypoint: [""]` as GitLab CI jobs override it: `cmd` runs as is.
    Cleared,
}

/// Runs `cmd` in a new container of `image` (network "none", the image's user) and removes the
/// container afterwards.
pub async fn run(
    docker: &Docker,
    image: &str,
    entrypoint: Entrypoint,
    cmd: &[&str],
) -> anyhow::Result<RunOutput> {
    let body = ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint: match entrypoint {
            Entrypoint::Image => None,
            Entrypoint::Cleared => Some(vec![String::new()]),
        },
        cmd: Some(cmd.iter().map(|s| (*s).to_owned()).collect()),
        labels: Some(HashMap::from([(TEST_LABEL.to_owned(), "1".to_owned())])),
        network_disabled: Some(true),
        host_config: Some(HostConfig {
            network_mode: Some("none".to_owned()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let created = docker
        .create_container(Some(CreateContainerOptionsBuilder::default().build()), body)
        .await
        .with_context(|| format!("cannot create a container of {image}"))?;
    let result = run_created(docker, &created.id).await;
    let _ = docker
        .remove_container(
            &created.id,
            Some(
                RemoveContainerOptionsBuilder::default()
                    .force(true)
                    .v(true)
                    .build(),
            ),
        )
        .await;
    result.with_context(|| format!("running {cmd:?} in {image}"))
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
