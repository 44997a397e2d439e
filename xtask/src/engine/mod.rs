//! The Docker Engine connection shared by the image commands, and the streams it returns.
//!
//! The endpoint comes from `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH` (see
//! `endpoint`), so GitLab's Docker-in-Docker service (`tcp://docker:2376` with TLS,
//! https://docs.gitlab.com/ci/docker/using_docker_build/) works as well as a local socket.
//! Build, push and import failures arrive as items inside a 200 OK stream, so every stream is
//! drained and its error items fail the command.

pub(crate) mod container;
pub(crate) mod endpoint;
pub(crate) mod netns;
pub(crate) mod progress;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ImageInspect, ImageSummary};
use bollard::query_parameters::ListImagesOptionsBuilder;

use crate::engine::endpoint::{DEFAULT_HOST, Endpoint};
use crate::engine::progress::Step;
use crate::images::cache;
use crate::registry::oci::host_arch;
use crate::util::cmd;
use crate::util::prerequisites;
use crate::util::public_url::without_userinfo;

/// The oldest Engine API we have tested against (Docker 20.10).
const MIN_API: (u32, u32) = (1, 41);

/// Response-header timeout for requests; large contexts are accepted slowly over TCP.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(900);

/// How long a base image pull may take before it counts as failed (on machines without a
/// registry it fails at once with a DNS or connection error).
const PULL_TIMEOUT: Duration = Duration::from_secs(10 * 60);

fn where_docker_is() -> String {
    let host = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_owned());
    without_userinfo(&host)
}

fn not_reachable(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!(
        "no Docker engine is reachable at {} ({err}). Start one (Debian: `apt-get install docker.io`, then run `dockerd` in the background), or point DOCKER_HOST at one (GitLab Docker-in-Docker: DOCKER_HOST=tcp://docker:2376, DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH=/certs/client). `cargo xtask build-images` and `cargo xtask test` install and start dockerd themselves when run as root on Debian with DOCKER_HOST unset or a unix:// socket.",
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
    let Some(socket) = local_socket(std::env::var("DOCKER_HOST").ok().as_deref()) else {
        return Err(first);
    };
    if !prerequisites::is_root() || !cmd::available("apt-get") {
        return Err(first);
    }
    eprintln!(
        "no Docker engine answers at {}; starting dockerd on this machine",
        where_docker_is()
    );
    if !cmd::available("dockerd") && !std::path::Path::new("/usr/sbin/dockerd").is_file() {
        prerequisites::apt_install(&["docker.io"])?;
    }
    let (args, log) = match &socket {
        LocalSocket::Default => (Vec::new(), cache::cache_dir("logs")?.join("dockerd.log")),
        LocalSocket::Private(path) => private_dockerd_args(path)?,
    };
    cmd::spawn_background("dockerd", &args, &log)?;
    let started = Instant::now();
    let waiting = Step::spinner("waiting for dockerd to answer");
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        match connect().await {
            Ok(docker) => {
                drop(waiting);
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

/// Where an engine this process may start listens.
#[derive(Debug, PartialEq, Eq)]
enum LocalSocket {
    /// `/var/run/docker.sock`: the machine's own engine, started with dockerd's defaults.
    Default,
    /// Another socket: a private engine whose state lives beside it.
    Private(std::path::PathBuf),
}

/// The local socket `DOCKER_HOST` names, `None` for a remote engine (which is never started).
fn local_socket(docker_host: Option<&str>) -> Option<LocalSocket> {
    let host = docker_host.map(str::trim).filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Some(LocalSocket::Default);
    };
    let path = host.strip_prefix("unix://")?;
    if host == DEFAULT_HOST {
        return Some(LocalSocket::Default);
    }
    Some(LocalSocket::Private(std::path::PathBuf::from(path)))
}

/// dockerd's flags for a private engine on `socket`: its data, exec root, pid file and log in
/// the socket's directory, and no bridge or iptables rules, so it never touches the machine's
/// own engine (which owns `docker0` and the DOCKER chains). Its builds use the host's network
/// (see [`build_network`]).
fn private_dockerd_args(
    socket: &std::path::Path,
) -> anyhow::Result<(Vec<String>, std::path::PathBuf)> {
    let dir = socket
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .with_context(|| format!("DOCKER_HOST=unix://{} has no directory", socket.display()))?;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create {} for the engine", dir.display()))?;
    let at = |name: &str| dir.join(name).display().to_string();
    let args = vec![
        format!("--host=unix://{}", socket.display()),
        format!("--data-root={}", at("data")),
        format!("--exec-root={}", at("exec")),
        format!("--pidfile={}", at("dockerd.pid")),
        "--bridge=none".to_owned(),
        "--iptables=false".to_owned(),
    ];
    Ok((args, dir.join("dockerd.log")))
}

/// The network for `RUN` steps: the engine's default bridge when it has one, else `host` (an
/// engine started with `--bridge=none`, as the private engine above, would give the steps no
/// network and the package installs would fail).
pub async fn build_network(docker: &Docker) -> anyhow::Result<Option<String>> {
    use bollard::query_parameters::InspectNetworkOptions;
    match docker
        .inspect_network("bridge", None::<InspectNetworkOptions>)
        .await
    {
        Ok(_) => Ok(None),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(Some("host".to_owned())),
        Err(err) => Err(err).context("cannot inspect the engine's bridge network"),
    }
}

/// Pulls `image` for this machine's platform; `Ok(Err(reason))` when the registry cannot be
/// reached or refuses (the usual case on machines without registry access).
pub async fn pull(docker: &Docker, image: &str) -> anyhow::Result<Result<(), String>> {
    use bollard::query_parameters::CreateImageOptionsBuilder;
    use futures::StreamExt;
    let options = CreateImageOptionsBuilder::default()
        .from_image(image)
        .platform(&host_arch()?.platform())
        .build();
    let step = Step::spinner(&format!("pulling {image}"));
    let drain = async {
        let mut stream = docker.create_image(Some(options), None, None);
        while let Some(item) = stream.next().await {
            match item {
                Err(err) => return Err(err.to_string()),
                Ok(info) => {
                    if let Some(status) = info.status {
                        step.set_what(&format!("pulling {image}: {status}"));
                    }
                }
            }
        }
        Ok(())
    };
    Ok(match tokio::time::timeout(PULL_TIMEOUT, drain).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {PULL_TIMEOUT:?}")),
    })
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

/// The images matching `filters` (`docker images --filter KEY=VALUE`, each key with its values:
/// `label`, `reference`, `dangling`; https://docs.docker.com/reference/cli/docker/image/ls/#filter).
pub async fn list_images(
    docker: &Docker,
    filters: &[(&str, Vec<String>)],
) -> Result<Vec<ImageSummary>, DockerError> {
    let filters: HashMap<&str, Vec<String>> = filters.iter().cloned().collect();
    docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
}

/// Megabytes (10^6 bytes) with one decimal, as registries and `docker images` show them.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_sockets_are_started_and_private_ones_keep_their_state_beside_them() {
        assert_eq!(local_socket(None), Some(LocalSocket::Default));
        assert_eq!(local_socket(Some("")), Some(LocalSocket::Default));
        assert_eq!(local_socket(Some(DEFAULT_HOST)), Some(LocalSocket::Default));
        assert_eq!(local_socket(Some("tcp://docker:2376")), None);
        let Some(LocalSocket::Private(socket)) = local_socket(Some("unix:///tmp/fm/docker.sock"))
        else {
            panic!("a private socket")
        };
        let dir = tempfile::tempdir().unwrap();
        let (args, log) = private_dockerd_args(&dir.path().join("docker.sock")).unwrap();
        assert_eq!(socket, std::path::PathBuf::from("/tmp/fm/docker.sock"));
        assert!(args.contains(&"--bridge=none".to_owned()));
        assert!(args.contains(&"--iptables=false".to_owned()));
        for flag in ["--data-root=", "--exec-root=", "--pidfile="] {
            let value = args.iter().find_map(|a| a.strip_prefix(flag)).unwrap();
            assert!(
                value.starts_with(dir.path().to_str().unwrap()),
                "{flag}{value}"
            );
        }
        assert!(log.starts_with(dir.path()));
    }
}
