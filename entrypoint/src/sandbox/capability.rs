//! Whether this process may change the firewall (`CAP_NET_ADMIN`) and hand the assistant to
//! another uid (`CAP_SETUID`, `CAP_SETGID`, `CAP_CHOWN`), read from its effective set in
//! `/proc/self/status` (`CapEff`, a hex bit mask; see `proc_pid_status(5)`).
//!
//! Docker and containerd give a container running as root `CHOWN`, `SETUID` and `SETGID` by
//! default (the runtime's default capability list), and a non-root user none at all, so in
//! practice "may drop to the sandbox uid" means "the job runs as root".
//!
//! GitLab's Docker executor starts job containers without it; only the runner's configuration
//! can add it (`cap_add` in `[runners.docker]`,
//! <https://docs.gitlab.com/runner/configuration/advanced-configuration/#the-runnersdocker-section>,
//! or in `[runners.kubernetes]`,
//! <https://docs.gitlab.com/runner/executors/kubernetes/#specify-container-capabilities>), never
//! `.gitlab-ci.yml`.

/// `CAP_NET_ADMIN`'s bit number (`linux/capability.h`).
const CAP_NET_ADMIN: u32 = 12;

/// `CAP_CHOWN`, `CAP_SETGID` and `CAP_SETUID` (`linux/capability.h`): lending the checkout and
/// changing uid and gid in the CLI's child.
const DROP_TO_UID: [u32; 3] = [0, 6, 7];

/// The runner snippet that grants the capability, for the refusal message.
pub(crate) const RUNNER_SNIPPET: &str = "[runners.docker] cap_add = [\"NET_ADMIN\"] in the runner's config.toml (Kubernetes executor: [runners.kubernetes] cap_add = [\"NET_ADMIN\"]); it cannot be set from .gitlab-ci.yml";

/// An effective capability set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities(u64);

/// `/proc/self/status` could not be read or had no `CapEff` line.
#[derive(Debug, thiserror::Error)]
pub enum CapabilityError {
    #[error("could not read /proc/self/status: {0}")]
    Read(std::io::Error),
    #[error("/proc/self/status has no readable CapEff line")]
    Missing,
}

impl Capabilities {
    pub const NONE: Capabilities = Capabilities(0);

    pub fn from_mask(mask: u64) -> Self {
        Self(mask)
    }

    /// Reads `CapEff:` from the text of a `/proc/<pid>/status` file.
    pub(crate) fn parse_status(status: &str) -> Option<Self> {
        status
            .lines()
            .find_map(|line| line.strip_prefix("CapEff:"))
            .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
            .map(Self)
    }

    /// This process's effective set.
    pub fn current() -> Result<Self, CapabilityError> {
        let status = std::fs::read_to_string("/proc/self/status").map_err(CapabilityError::Read)?;
        Self::parse_status(&status).ok_or(CapabilityError::Missing)
    }

    pub fn net_admin(self) -> bool {
        self.0 & (1 << CAP_NET_ADMIN) != 0
    }

    /// Whether this process can lend the checkout to the sandbox uid and start the CLI as it.
    pub(crate) fn can_drop_to_sandbox_uid(self) -> bool {
        DROP_TO_UID.iter().all(|bit| self.0 & (1 << bit) != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_eff_is_read_from_the_status_file() {
        let docker_default = "Name:\tentrypoint\nCapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n";
        let caps = Capabilities::parse_status(docker_default).unwrap();
        assert!(!caps.net_admin());
        let with_net_admin = docker_default.replace("a80425fb\n", "a80435fb\n");
        assert!(
            Capabilities::parse_status(&with_net_admin)
                .unwrap()
                .net_admin()
        );
        assert!(caps.can_drop_to_sandbox_uid());
        // The same set with CAP_SETUID (bit 7) removed, and a non-root user's empty set.
        assert!(!Capabilities::from_mask(0xa804257b).can_drop_to_sandbox_uid());
        assert!(!Capabilities::NONE.can_drop_to_sandbox_uid());
        assert_eq!(Capabilities::parse_status("Name:\tx\n"), None);
        assert_eq!(Capabilities::parse_status("CapEff:\tzz\n"), None);
    }
}
