//! Whether a run is fenced, as which uid, and which upstream hosts the key proxy may forward
//! to: read from the job's variables (`AI_SANDBOX`, `AI_SANDBOX_UID`, `AI_SANDBOX_ALLOW`).

use std::fmt;

use crate::assistant::Assistant;
use crate::proxy::Upstream;

/// The uid Codex runs as unless `AI_SANDBOX_UID` says otherwise; high enough to be no one's in
/// a Debian or Alpine image, and it needs no passwd entry.
pub const DEFAULT_UID: u32 = 64123;

/// A uid the assistant runs as: never root, whose traffic the kernel would not filter apart
/// from the entrypoint's own.
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

/// Whether the assistant's network is fenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Policy {
    /// Fence it: run it as `uid`, which may reach the key proxy and nothing else.
    On(Settings),
    /// Run it unfenced. Chosen explicitly (`AI_SANDBOX=off`), or Claude's default; the run
    /// report then says `sandboxed: false`.
    Off,
}

/// How a fenced run is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub uid: SandboxUid,
    /// Hosts the key proxy may forward to, beyond the API's own base URL.
    pub extra_hosts: Vec<String>,
}

impl Policy {
    /// On for Codex and off for Claude unless `AI_SANDBOX` says otherwise.
    pub fn from_env(
        assistant: Assistant,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, PolicyError> {
        let on = match var("AI_SANDBOX").filter(|v| !v.trim().is_empty()) {
            None => assistant == Assistant::Codex,
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "on" | "true" | "1" | "yes" => true,
                "off" | "false" | "0" | "no" => false,
                _ => return Err(PolicyError::Switch(value)),
            },
        };
        if on {
            Settings::from_env(var).map(Self::On)
        } else {
            Ok(Self::Off)
        }
    }
}

impl Settings {
    /// `AI_SANDBOX_UID` (default [`DEFAULT_UID`]) and `AI_SANDBOX_ALLOW`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, PolicyError> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let uid = match set("AI_SANDBOX_UID") {
            None => SandboxUid(DEFAULT_UID),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| PolicyError::Uid(value.clone()))
                .and_then(SandboxUid::new)?,
        };
        let extra_hosts = set("AI_SANDBOX_ALLOW")
            .map(|list| parse_hosts(&list))
            .transpose()?
            .unwrap_or_default();
        Ok(Self { uid, extra_hosts })
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

impl Settings {
    /// The hosts the key proxy may forward to: the API's base URL host (its default,
    /// `api.openai.com` / `api.anthropic.com`, or `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL`) and
    /// `AI_SANDBOX_ALLOW`. The sandbox uid reaches none of them itself: the proxy does.
    pub fn allowed_hosts(&self, upstream: &Upstream) -> Vec<String> {
        let mut hosts: Vec<String> = upstream
            .base()
            .host_str()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for host in &self.extra_hosts {
            if !hosts.contains(host) {
                hosts.push(host.clone());
            }
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::ModelApi;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn codex_is_fenced_by_default_and_claude_is_not() {
        assert_eq!(
            Policy::from_env(Assistant::Codex, vars(&[])).unwrap(),
            Policy::On(Settings {
                uid: SandboxUid(DEFAULT_UID),
                extra_hosts: Vec::new()
            })
        );
        assert_eq!(
            Policy::from_env(Assistant::Claude, vars(&[])).unwrap(),
            Policy::Off
        );
        assert_eq!(
            Policy::from_env(Assistant::Codex, vars(&[("AI_SANDBOX", "off")])).unwrap(),
            Policy::Off
        );
        let claude_on = Policy::from_env(
            Assistant::Claude,
            vars(&[("AI_SANDBOX", "ON"), ("AI_SANDBOX_UID", "70000")]),
        )
        .unwrap();
        assert!(matches!(claude_on, Policy::On(Settings { uid, .. }) if uid.get() == 70000));
    }

    #[test]
    fn unusable_values_name_their_variable() {
        for (name, value) in [
            ("AI_SANDBOX", "maybe"),
            ("AI_SANDBOX_UID", "0"),
            ("AI_SANDBOX_UID", "nobody"),
            ("AI_SANDBOX_ALLOW", "gw.example,bad/host"),
        ] {
            let error = Policy::from_env(Assistant::Codex, vars(&[(name, value)])).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn the_allowlist_is_the_apis_host_plus_the_extra_hosts() {
        let Policy::On(settings) = Policy::from_env(
            Assistant::Codex,
            vars(&[("AI_SANDBOX_ALLOW", "gw.example, api.openai.com 10.0.0.7")]),
        )
        .unwrap() else {
            panic!("on by default for codex")
        };
        assert_eq!(
            settings.allowed_hosts(&Upstream::public(ModelApi::OpenAi)),
            ["api.openai.com", "gw.example", "10.0.0.7"]
        );
        let custom = Upstream::parse(ModelApi::OpenAi, "http://10.9.0.1:8080/v1").unwrap();
        assert_eq!(settings.allowed_hosts(&custom)[0], "10.9.0.1");
    }
}
