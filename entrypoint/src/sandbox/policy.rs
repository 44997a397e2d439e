//! Who runs the assistant CLI and whether its network is fenced, read from the job's variables
//! (`AI_SANDBOX`, `AI_SANDBOX_UID`, `AI_SANDBOX_ALLOW`).
//!
//! The two are orthogonal and modelled apart: the CLI always runs as the dedicated sandbox uid
//! ([`Settings::uid`]), whatever `AI_SANDBOX` says, because the entrypoint, the runner's job
//! shell and every other process of the job's own uid carry `GITLAB_TOKEN`, `CI_JOB_TOKEN` and
//! the model key in their initial environment (`/proc/<pid>/environ`, readable by the same uid
//! and not erased by unsetting a variable). `AI_SANDBOX` only decides the [`Network`].

use std::fmt;

use crate::env::Env;
use crate::proxy::Upstream;
use ai_core::assistant::Assistant;

/// The uid the assistant runs as unless `AI_SANDBOX_UID` says otherwise; high enough to be no
/// one's in a Debian or Alpine image, and it needs no passwd entry.
pub const DEFAULT_UID: u32 = 64123;

/// A uid the assistant runs as: never root, and never the job's own user, whose processes hold
/// the job's secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SandboxUid(u32);

impl SandboxUid {
    pub fn new(uid: u32) -> Result<Self, PolicyError> {
        if uid == 0 || uid == u32::MAX {
            return Err(PolicyError::Uid(uid.to_string()));
        }
        Ok(Self(uid))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for SandboxUid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A sandbox variable has a value we cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("AI_SANDBOX={0:?} is not understood: set it to \"on\" or \"off\"")]
    Switch(String),
    #[error(
        "AI_SANDBOX_UID={0:?} is not usable: give a numeric uid other than 0, for example {DEFAULT_UID}"
    )]
    Uid(String),
    #[error("AI_SANDBOX_ALLOW names {0:?}, which is not a host name or address")]
    Allow(String),
}

/// What the assistant's uid may reach on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// Only the key proxy on loopback; the proxy forwards to the API's host and `extra_hosts`.
    Fenced { extra_hosts: Vec<String> },
    /// Whatever the job can reach (`AI_SANDBOX=off`, or Claude's default). The CLI still runs
    /// as the sandbox uid; the run report then says `sandboxed: false`.
    Open,
}

/// How the assistant is isolated: always its own uid, and a network that is fenced or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub uid: SandboxUid,
    pub network: Network,
}

impl Settings {
    /// The network is fenced for Codex and open for Claude unless `AI_SANDBOX` says otherwise;
    /// the uid is `AI_SANDBOX_UID` (default [`DEFAULT_UID`]) either way.
    pub fn from_env(assistant: Assistant, var: &dyn Env) -> Result<Self, PolicyError> {
        let fenced = match var.set(crate::env::AI_SANDBOX.name()) {
            None => assistant.profile().fenced_by_default,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => true,
                "off" | "false" | "0" | "no" => false,
                _ => return Err(PolicyError::Switch(value)),
            },
        };
        let uid = match var.set(crate::env::AI_SANDBOX_UID.name()) {
            None => SandboxUid(DEFAULT_UID),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| PolicyError::Uid(value.clone()))
                .and_then(SandboxUid::new)?,
        };
        let network = if fenced {
            let extra_hosts = var
                .set(crate::env::AI_SANDBOX_ALLOW.name())
                .map(|list| parse_hosts(&list))
                .transpose()?
                .unwrap_or_default();
            Network::Fenced { extra_hosts }
        } else {
            Network::Open
        };
        Ok(Self { uid, network })
    }

    /// An open network for `uid`.
    pub fn open(uid: SandboxUid) -> Self {
        Self {
            uid,
            network: Network::Open,
        }
    }

    /// A fenced network for `uid` with no extra hosts.
    pub fn fenced(uid: SandboxUid) -> Self {
        Self {
            uid,
            network: Network::Fenced {
                extra_hosts: Vec::new(),
            },
        }
    }

    pub(crate) fn is_fenced(&self) -> bool {
        matches!(self.network, Network::Fenced { .. })
    }
}

fn parse_hosts(list: &str) -> Result<Vec<String>, PolicyError> {
    list.split([',', ' ', '\n'])
        .filter(|h| !h.is_empty())
        .map(|h| {
            url::Host::parse(h)
                .map(|host| host.to_string())
                .map_err(|_| PolicyError::Allow(h.to_owned()))
        })
        .collect()
}

impl Network {
    /// The hosts the key proxy may forward to: the API's base URL host (its default,
    /// `api.openai.com` / `api.anthropic.com`, or `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`) and
    /// `AI_SANDBOX_ALLOW` when fenced. The sandbox uid reaches none of them itself: the proxy
    /// does.
    pub(crate) fn allowed_hosts(&self, upstream: &Upstream) -> Vec<String> {
        let mut hosts: Vec<String> = upstream
            .base()
            .host_str()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Self::Fenced { extra_hosts } = self {
            for host in extra_hosts {
                if !hosts.contains(host) {
                    hosts.push(host.clone());
                }
            }
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ModelApi;
    use crate::test_support::vars;

    #[test]
    fn codex_is_fenced_by_default_and_claude_is_not_but_both_run_as_the_sandbox_uid() {
        let default_uid = SandboxUid(DEFAULT_UID);
        assert_eq!(
            Settings::from_env(Assistant::Codex, &vars::<&str>(&[])).unwrap(),
            Settings::fenced(default_uid)
        );
        assert_eq!(
            Settings::from_env(Assistant::Claude, &vars::<&str>(&[])).unwrap(),
            Settings::open(default_uid)
        );
        assert_eq!(
            Settings::from_env(Assistant::Codex, &vars(&[("AI_SANDBOX", "off")])).unwrap(),
            Settings::open(default_uid)
        );
        let claude_off = Settings::from_env(
            Assistant::Claude,
            &vars(&[("AI_SANDBOX", "off"), ("AI_SANDBOX_UID", "70000")]),
        )
        .unwrap();
        assert_eq!(claude_off.uid.get(), 70000);
        assert!(!claude_off.is_fenced());
        let claude_on = Settings::from_env(
            Assistant::Claude,
            &vars(&[("AI_SANDBOX", "ON"), ("AI_SANDBOX_UID", "70000")]),
        )
        .unwrap();
        assert_eq!(claude_on.uid.get(), 70000);
        assert!(claude_on.is_fenced());
    }

    #[test]
    fn unusable_values_name_their_variable() {
        for (assistant, name, value) in [
            (Assistant::Codex, "AI_SANDBOX", "maybe"),
            (Assistant::Codex, "AI_SANDBOX_UID", "0"),
            (Assistant::Claude, "AI_SANDBOX_UID", "0"),
            (Assistant::Codex, "AI_SANDBOX_UID", "nobody"),
            (Assistant::Codex, "AI_SANDBOX_ALLOW", "gw.example,bad/host"),
        ] {
            let error = Settings::from_env(assistant, &vars(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn the_allowlist_is_the_apis_host_plus_the_extra_hosts() {
        let settings = Settings::from_env(
            Assistant::Codex,
            &vars(&[("AI_SANDBOX_ALLOW", "gw.example, api.openai.com 10.0.0.7")]),
        )
        .unwrap();
        assert_eq!(
            settings
                .network
                .allowed_hosts(&Upstream::public(ModelApi::OpenAi)),
            ["api.openai.com", "gw.example", "10.0.0.7"]
        );
        let custom = Upstream::parse(ModelApi::OpenAi, "http://10.9.0.1:8080/v1").unwrap();
        assert_eq!(settings.network.allowed_hosts(&custom)[0], "10.9.0.1");
    }
}
