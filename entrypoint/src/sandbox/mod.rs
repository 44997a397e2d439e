//! Isolating the assistant CLI: it always runs as a dedicated unprivileged uid with no
//! capabilities and `no_new_privs`, in a checkout lent to that uid whose git directories it
//! cannot write, with a fresh home of its own; and, when the network is fenced
//! ([`Network::Fenced`], `AI_SANDBOX`), the kernel allows that uid exactly one thing, TCP to the
//! key proxy on `127.0.0.1`. The proxy, running as the entrypoint's own user, is then the only
//! way out, and it forwards to the one configured model API.
//!
//! Why a uid of its own even without the fence: the entrypoint, the runner's job shell and
//! every other process of the job's uid hold `GITLAB_TOKEN`, `CI_JOB_TOKEN` and the model key in
//! their initial environment (`/proc/<pid>/environ`), which any process of the same uid can
//! read (`proc_pid_environ(5)`: ptrace read access). A different uid cannot.
//!
//! The firewall scripts of the Codex and Claude Code dev containers leave IPv6 open, let DNS go
//! to any server, leave the host's /24 reachable, resolve the allowed hosts once and run the
//! assistant as a user that could undo the rules. Here: IPv6 is fenced too, the sandbox uid gets
//! no DNS and no address but loopback:proxy, nothing is resolved for it, and it has no
//! capabilities and `no_new_privs`, so it cannot touch the rules.
//!
//! The orchestrator calls [`Settings::from_env`] and [`Plan::for_this_process`], then
//! [`crate::agent::run::run`], which for each attempt starts the key proxy, then
//! [`Enclosure::establish`] (capability check; when fenced, rules applied for the proxy's port
//! and verified by probes running as the sandbox uid; checkout lent to it), starts the CLI under
//! [`Enclosure::confine`], and ends with [`Enclosure::finish`] (every process of the uid killed,
//! rules removed, checkout given back). With an open network the report says `sandboxed: false`
//! and the final note should carry [`unsandboxed_note`].

pub mod capability;
mod handover;
mod policy;
pub mod privileges;
pub mod probe;
pub mod rules;
pub mod tables;
mod verify;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};

pub use capability::Capabilities;
pub use handover::HandoverError;
pub use policy::{DEFAULT_UID, Network, PolicyError, SandboxUid, Settings};
pub use tables::TablesError;
pub use verify::{Disagreement, Verification};

use crate::proxy::Upstream;
use handover::Lent;
use rules::Fence;

/// The sandbox could not be set up; the assistant must not run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error(
        "the network sandbox needs CAP_NET_ADMIN, which this job does not have: add {snippet}; the job must also run as root, the only user that holds it inside the container (the gitlab-ai images start as `assistant`: set `image: docker: user: root` in the job, https://docs.gitlab.com/ci/yaml/#imagedocker); or set AI_SANDBOX=off to run without the sandbox",
        snippet = capability::RUNNER_SNIPPET
    )]
    NoNetAdmin,
    #[error(
        "the assistant must run as its own unprivileged uid (AI_SANDBOX_UID, default {DEFAULT_UID}) so that it cannot read the job's tokens from this job's processes, but this job cannot switch to that uid: it lacks CAP_SETUID, CAP_SETGID or CAP_CHOWN, which only root holds inside the container. Run the job as root: set `image: docker: user: root` in the job (GitLab 16.8+, https://docs.gitlab.com/ci/yaml/#imagedocker); on the Kubernetes executor set `image: kubernetes: user: \"0\"` (GitLab 18.0+, Runner 17.11+, https://docs.gitlab.com/ci/yaml/#imagekubernetes) or run_as_user = 0 in [runners.kubernetes.build_container_security_context], and keep CHOWN, SETUID and SETGID in the container's capabilities. AI_SANDBOX=off does not lift this"
    )]
    CannotDropUid,
    #[error("could not read this process's capabilities: {0}")]
    Capabilities(#[from] capability::CapabilityError),
    #[error(transparent)]
    Tables(#[from] TablesError),
    #[error("could not set up the sandbox's verification: {0}")]
    Verify(std::io::Error),
    #[error("the network sandbox does not hold, so the assistant was not started: {0}")]
    Breach(Verification),
    #[error(transparent)]
    Handover(#[from] HandoverError),
    #[error(
        "could not stop the sandboxed assistant's remaining processes, so the sandbox rules stay in place: {0}"
    )]
    Reap(std::io::Error),
    #[error("could not prepare the sandboxed assistant's home directory: {0}")]
    Home(std::io::Error),
    #[error(
        "the network sandbox needs the key proxy, so it cannot fence Claude on Bedrock or Vertex; set AI_SANDBOX=off"
    )]
    NeedsProxy,
}

/// The program that runs probes as the sandbox uid: `PROGRAM sandbox probe TARGET…`. It must be
/// executable by that uid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeProgram(pub PathBuf);

impl ProbeProgram {
    /// This very binary, which is the `entrypoint` in the image.
    pub fn current() -> std::io::Result<Self> {
        std::env::current_exe().map(Self)
    }
}

/// What the enclosure is built around: the checkout to lend and, for a fenced network, the key
/// proxy the sandbox uid may reach.
#[derive(Debug, Clone)]
pub struct Site {
    pub workspace: PathBuf,
    /// `None` when the CLI talks to its cloud itself (Bedrock, Vertex): no fence is possible.
    pub proxy: Option<ProxySite>,
}

/// The key proxy's port and its upstream.
#[derive(Debug, Clone)]
pub struct ProxySite {
    pub port: u16,
    pub upstream: Upstream,
}

/// Everything [`Enclosure::establish`] needs besides the [`Site`]: the settings, the probe
/// program and this process's capabilities (data, so the refusal without `CAP_NET_ADMIN` can
/// be tested without dropping it).
#[derive(Debug, Clone)]
pub struct Plan {
    pub settings: Settings,
    pub probe: ProbeProgram,
    pub capabilities: Capabilities,
}

impl Plan {
    /// For this process: its own binary as the probe, its own capabilities.
    pub fn for_this_process(settings: Settings) -> Result<Self, SandboxError> {
        Ok(Self {
            settings,
            probe: ProbeProgram::current().map_err(SandboxError::Verify)?,
            capabilities: Capabilities::current()?,
        })
    }
}

/// An established enclosure: checkout lent to the sandbox uid and, when fenced, rules loaded
/// and verified. It kills every process of the uid, removes the rules and gives the checkout
/// back on [`Enclosure::finish`] or when dropped.
#[derive(Debug)]
pub struct Enclosure {
    uid: SandboxUid,
    probe: ProbeProgram,
    fenced: bool,
    lent: Option<Lent>,
    verification: Verification,
    removed: bool,
}

impl Enclosure {
    /// Refuses when this process cannot switch to the sandbox uid (or, for a fenced network,
    /// lacks `CAP_NET_ADMIN`), kills whatever that uid still runs, loads and verifies the rules
    /// when fenced, and lends the checkout to the uid.
    pub fn establish(plan: &Plan, site: &Site) -> Result<Self, SandboxError> {
        let Plan {
            settings,
            probe,
            capabilities,
        } = plan;
        if !capabilities.can_drop_to_sandbox_uid() {
            return Err(SandboxError::CannotDropUid);
        }
        let fence = match (&settings.network, &site.proxy) {
            (Network::Open, _) => None,
            (Network::Fenced { .. }, None) => return Err(SandboxError::NeedsProxy),
            (Network::Fenced { .. }, Some(_)) if !capabilities.net_admin() => {
                return Err(SandboxError::NoNetAdmin);
            }
            (Network::Fenced { .. }, Some(proxy)) => Some(proxy),
        };
        // From here on, dropping `enclosure` kills the uid's processes and removes the rules.
        let mut enclosure = Self {
            uid: settings.uid,
            probe: probe.clone(),
            fenced: false,
            lent: None,
            verification: Verification::default(),
            removed: false,
        };
        // Nothing of the uid may outlive a previous attempt into this one's lent checkout.
        enclosure.reap()?;
        if let Some(proxy) = fence {
            tracing::info!(
                allowed = %settings.network.allowed_hosts(&proxy.upstream).join(", "),
                "only the key proxy may reach the model API; the sandboxed assistant reaches the proxy alone"
            );
            tables::apply(&Fence {
                uid: settings.uid,
                proxy_port: proxy.port,
            })?;
            enclosure.fenced = true;
            let held = subjects(proxy)?;
            enclosure.verification = verify::run(probe, settings.uid, &held.subjects)?;
            drop(held);
            if !enclosure.verification.holds() {
                return Err(SandboxError::Breach(enclosure.verification.clone()));
            }
            tracing::info!(uid = %settings.uid, proxy_port = proxy.port, checks = enclosure.verification.checked.len(), "network sandbox verified: the assistant can reach the key proxy and nothing else");
        } else {
            tracing::info!(uid = %settings.uid, "the assistant runs as its own uid; its network is not fenced (AI_SANDBOX=off)");
        }
        enclosure.lent = Some(Lent::lend(&site.workspace, settings.uid)?);
        Ok(enclosure)
    }

    /// Whether the network fence is in place.
    pub fn fenced(&self) -> bool {
        self.fenced
    }

    pub fn uid(&self) -> SandboxUid {
        self.uid
    }

    /// What the probes saw.
    pub fn verification(&self) -> &Verification {
        &self.verification
    }

    /// Makes `command` start as the sandbox uid with no capabilities and `no_new_privs`.
    pub fn confine(&self, command: &mut tokio::process::Command) {
        privileges::confine_tokio(command, self.uid);
    }

    /// A fresh, empty home directory, so no user-level settings, rules or credentials from the
    /// image reach the CLI; outside the entrypoint's own (root's) home, which other users cannot
    /// enter. It is not under the temporary directory either, because Codex 0.169 will not link
    /// its helper commands (`apply_patch`, `codex-linux-sandbox`) into a `CODEX_HOME` there. Hand it over with
    /// [`Enclosure::give_home`] once it is prepared.
    pub(crate) fn fresh_home(&self) -> Result<tempfile::TempDir, SandboxError> {
        let parent = Path::new("/var/tmp/gitlab-ai-homes");
        std::fs::create_dir_all(parent).map_err(SandboxError::Home)?;
        // Enterable, not listable or writable, by others, whatever the runner's umask (0000):
        // the sandbox uid reaches its own home by name and cannot rename or plant entries here.
        std::fs::set_permissions(parent, std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .map_err(SandboxError::Home)?;
        tempfile::Builder::new()
            .prefix("run-")
            .tempdir_in(parent)
            .map_err(SandboxError::Home)
    }

    /// Makes the prepared home (and what the runner put in it, such as `.codex`) the sandbox
    /// uid's.
    pub(crate) fn give_home(&self, home: &Path) -> Result<(), SandboxError> {
        Ok(handover::give(home, self.uid)?)
    }

    /// Stops every process of the sandbox uid, removes the rules and gives the checkout back.
    /// If the processes cannot be stopped the rules stay: a process that escaped the CLI's
    /// process group must not go on without the fence.
    pub fn finish(mut self) -> Result<(), SandboxError> {
        self.removed = true;
        let reaped = self.reap();
        let tables = match &reaped {
            Ok(()) if self.fenced => tables::remove(),
            _ => Ok(()),
        };
        if let Some(lent) = self.lent.take() {
            lent.give_back()?;
        }
        reaped?;
        tables?;
        Ok(())
    }

    /// Runs `PROBE sandbox reap` as the sandbox uid, which kills every process of that uid:
    /// the CLI, and whatever it started, even in another session or process group. Also the
    /// path a cancelled job takes ([`crate::agent::run`] on `SIGTERM`).
    pub fn reap(&self) -> Result<(), SandboxError> {
        let mut command = std::process::Command::new(&self.probe.0);
        command
            .args(["sandbox", "reap"])
            .env_clear()
            .current_dir("/")
            .stdin(std::process::Stdio::null());
        privileges::confine(&mut command, self.uid);
        let status = command.status().map_err(SandboxError::Reap)?;
        if status.success() {
            Ok(())
        } else {
            Err(SandboxError::Reap(std::io::Error::other(format!(
                "sandbox reap exited with {status}"
            ))))
        }
    }
}

impl Drop for Enclosure {
    fn drop(&mut self) {
        if self.removed {
            return;
        }
        match self.reap() {
            Ok(()) if !self.fenced => {}
            Ok(()) => {
                if let Err(error) = tables::remove() {
                    tracing::error!(%error, "could not remove the sandbox rules");
                }
            }
            Err(error) => tracing::error!(%error, "the sandbox rules stay in place"),
        }
    }
}

/// The probe subjects plus the decoy listeners that must stay open while the probes run.
struct Held {
    subjects: probe::Subjects,
    _listeners: Vec<TcpListener>,
}

fn subjects(site: &ProxySite) -> Result<Held, SandboxError> {
    let upstream = upstream_addresses(&site.upstream);
    let resolvers = std::fs::read_to_string("/etc/resolv.conf")
        .map(|text| probe::resolvers(&text))
        .unwrap_or_default();
    let mut listeners =
        vec![TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(SandboxError::Verify)?];
    if tables::ipv6_enabled() {
        match TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
            Ok(listener) => listeners.push(listener),
            Err(error) => tracing::warn!(%error, "no IPv6 loopback to probe"),
        }
    }
    let decoys = listeners
        .iter()
        .map(TcpListener::local_addr)
        .collect::<Result<Vec<_>, _>>()
        .map_err(SandboxError::Verify)?;
    let arbitrary = probe::ARBITRARY
        .into_iter()
        .filter(|a| a.is_ipv4() || tables::ipv6_enabled())
        .collect();
    Ok(Held {
        subjects: probe::Subjects {
            proxy_port: site.port,
            upstream,
            resolvers,
            decoys,
            arbitrary,
        },
        _listeners: listeners,
    })
}

/// The upstream's addresses as the entrypoint resolves them, to show the sandbox uid cannot
/// reach them directly; a name that does not resolve here is reported and skipped.
fn upstream_addresses(upstream: &Upstream) -> Vec<SocketAddr> {
    let url = upstream.base();
    let port = url.port_or_known_default().unwrap_or(443);
    match url.host() {
        Some(url::Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(url::Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(url::Host::Domain(name)) => match (name, port).to_socket_addrs() {
            Ok(addrs) => addrs.collect(),
            Err(error) => {
                tracing::warn!(%name, %error, "could not resolve the model API to probe it directly");
                Vec::new()
            }
        },
        None => Vec::new(),
    }
}

/// For the final note of a run whose network was not fenced ([`Network::Open`]), so nobody
/// mistakes it for a sandboxed one.
pub fn unsandboxed_note() -> &'static str {
    "This run was not network-sandboxed: the assistant could reach any address this job can (AI_SANDBOX=off, or the default for Claude)."
}

/// The proxy's port from its base URL (`http://127.0.0.1:PORT/<token>`).
pub fn proxy_port(base_url: &str) -> Option<u16> {
    url::Url::parse(base_url).ok()?.port()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ModelApi;

    /// Docker's default set for a root container: CHOWN, SETGID, SETUID and more, no NET_ADMIN.
    const DOCKER_ROOT: u64 = 0xa80425fb;

    fn site() -> Site {
        Site {
            workspace: PathBuf::from("/nonexistent"),
            proxy: Some(ProxySite {
                port: 1,
                upstream: Upstream::public(ModelApi::OpenAi),
            }),
        }
    }

    #[test]
    fn a_job_that_cannot_switch_uid_is_refused_fenced_or_not_and_told_to_run_as_root() {
        for network in [
            Network::Open,
            Network::Fenced {
                extra_hosts: Vec::new(),
            },
        ] {
            let plan = Plan {
                settings: Settings {
                    uid: SandboxUid::new(DEFAULT_UID).unwrap(),
                    network,
                },
                probe: ProbeProgram(PathBuf::from("/nonexistent")),
                // What a job running as the image's non-root user has: nothing.
                capabilities: Capabilities::NONE,
            };
            let error = Enclosure::establish(&plan, &site()).unwrap_err();
            assert!(matches!(error, SandboxError::CannotDropUid), "{error}");
            one_line_naming(
                &error,
                &[
                    "CAP_SETUID",
                    "AI_SANDBOX_UID",
                    "image: docker: user: root",
                    "https://docs.gitlab.com/ci/yaml/#imagedocker",
                    "[runners.kubernetes.build_container_security_context]",
                    "image: kubernetes: user: \"0\"",
                    "AI_SANDBOX=off does not lift this",
                ],
            );
        }
    }

    #[test]
    fn a_fence_without_a_proxy_is_refused_before_anything_is_touched() {
        let plan = Plan {
            settings: Settings::fenced(SandboxUid::new(DEFAULT_UID).unwrap()),
            probe: ProbeProgram(PathBuf::from("/nonexistent")),
            capabilities: Capabilities::from_mask(u64::MAX),
        };
        let bedrock = Site {
            workspace: PathBuf::from("/nonexistent"),
            proxy: None,
        };
        assert!(matches!(
            Enclosure::establish(&plan, &bedrock).unwrap_err(),
            SandboxError::NeedsProxy
        ));
    }

    #[test]
    fn without_net_admin_nothing_is_touched_and_the_runner_fix_is_named() {
        let site = site();
        let plan = Plan {
            settings: Settings::fenced(SandboxUid::new(DEFAULT_UID).unwrap()),
            probe: ProbeProgram(PathBuf::from("/nonexistent")),
            capabilities: Capabilities::from_mask(DOCKER_ROOT),
        };
        let error = Enclosure::establish(&plan, &site).unwrap_err();
        assert!(matches!(error, SandboxError::NoNetAdmin));
        one_line_naming(
            &error,
            &[
                "CAP_NET_ADMIN",
                "cap_add = [\"NET_ADMIN\"]",
                "[runners.docker]",
                "kubernetes",
                "AI_SANDBOX=off",
                "user: root",
            ],
        );
    }

    /// The message of `error` is one line (a CI log shows it whole) that names each of
    /// `needles`: the setting, the capability and the runner configuration that fix it.
    fn one_line_naming(error: &SandboxError, needles: &[&str]) {
        let message = error.to_string();
        assert!(!message.contains('\n'), "{message}");
        for needle in needles {
            assert!(message.contains(needle), "{needle}: {message}");
        }
    }

    #[test]
    fn the_proxy_port_comes_from_its_url() {
        assert_eq!(proxy_port("http://127.0.0.1:41234/abcdef"), Some(41234));
        assert_eq!(proxy_port("not a url"), None);
    }
}
