//! The Docker Engine connection shared by the image commands, and the streams it returns.
//!
//! The endpoint comes from `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (see
//! `engine_endpoint`), so GitLab's Docker-in-Docker service (`tcp://docker:2376` with TLS,
//! https://docs.gitlab.com/ci/docker/using_docker_build/) works as well as a local socket.
//! Build, push and import failures arrive as items inside a 200 OK stream, so every stream is
//! drained and its error items fail the command.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::ImageInspect;

use crate::engine_endpoint::{DEFAULT_HOST, Endpoint};
use crate::{cache, cmd, prerequisites};

/// The oldest Engine API we have tested against (Docker 20.10).
const MIN_API: (u32, u32) = (1, 41);

/// Response-header timeout for requests; large contexts are accepted slowly over TCP.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(900);

fn where_docker_is() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_owned())
}

fn not_reachable(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "no Docker engine is reachable at {} ({err}). Start one (Debian: `apt-get install docker.io`, then run `dockerd` in the background), or point DOCKER_HOST at one (GitLab Docker-in-Docker: DOCKER_HOST=tcp://docker:2376, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=/certs/client). `cargo xtask test-images --e2e` installs and starts dockerd itself when run as root on Debian.",
        where_docker_is()
    )
}

fn parse_api(version: &str) -> Option<(u32, u32)> {
    let (major, minor) = version.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Connects to the engine named by the environment, negotiates the API version and checks it
/// is recent enough.
pub async fn connect() -> anyhow::Result<Docker> {
    let endpoint = Endpoint::from_env()?;
    let docker = endpoint
        .connect(REQUEST_TIMEOUT.as_secs())
        .map_err(not_reachable)?;
    let docker = docker.negotiate_version().await.map_err(not_reachable)?;
    let version = docker.version().await.map_err(not_reachable)?;
    let api = version.api_version.clone().unwrap_or_default();
    match parse_api(&api) {
        Some(v) if v >= MIN_API => Ok(docker),
        _ => bail!(
            "the Docker engine at {} speaks API {api:?}; at least {}.{} is needed",
            where_docker_is(),
            MIN_API.0,
            MIN_API.1
        ),
    }
}

/// Connects, and when no engine answers on a root Debian machine without `DOCKER_HOST`,
/// installs `docker.io` if needed and starts `dockerd` in the background (saying so): the
/// test path must work on a fresh machine.
pub async fn connect_or_start() -> anyhow::Result<Docker> {
    let first = match connect().await {
        Ok(docker) => return Ok(docker),
        Err(err) => err,
    };
    let local =
        std::env::var("DOCKER_HOST").map_or(true, |h| h.is_empty() || h.starts_with("unix://"));
    if !local || !prerequisites::is_root() || !cmd::available("apt-get") {
        return Err(first);
    }
    eprintln!(
        "no Docker engine answers at {}; starting dockerd on this machine",
        where_docker_is()
    );
    if !cmd::available("dockerd") {
        prerequisites::apt_install(&["docker.io"])?;
    }
    let log = cache::cache_dir("logs")?.join("dockerd.log");
    cmd::spawn_background("dockerd", Vec::<&str>::new(), &log)?;
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        match connect().await {
            Ok(docker) => {
                eprintln!("dockerd is up after {:.0?}", started.elapsed());
                return Ok(docker);
            }
            Err(err) if started.elapsed() > Duration::from_secs(90) => {
                return Err(err.context(format!(
                    "dockerd did not come up in 90 s; see {}",
                    log.display()
                )));
            }
            Err(_) => {}
        }
    }
}

/// Inspects an image, `None` when the engine does not have it.
pub async fn inspect_image(docker: &Docker, name: &str) -> anyhow::Result<Option<ImageInspect>> {
    match docker.inspect_image(name).await {
        Ok(image) => Ok(Some(image)),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(None),
        Err(err) => Err(err).with_context(|| format!("cannot inspect the image {name}")),
    }
}

/// Megabytes (10^6 bytes) with one decimal, as registries and `docker images` show them.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}
