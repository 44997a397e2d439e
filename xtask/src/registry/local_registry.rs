//! The test registry of the publish tests, the end-to-end scenario and `bench-placeholder`: the
//! workspace's one loopback OCI registry (`doubles::registry`, which the entrypoint's tests push
//! to as well), with its Debian packages installed when missing and detached as xtask's other
//! services are ([`cmd::detach`]).

use std::path::Path;

pub(crate) use doubles::registry::LocalRegistry;
use doubles::registry::REGISTRY_BIN;

use crate::registry::Credentials;
use crate::util::cmd;
use crate::util::prerequisites;
use ai_core::Secret;

/// Installs `docker-registry` and `apache2-utils` when missing (root on Debian), then starts a
/// registry on a free loopback port and waits until it answers.
pub(crate) fn start() -> anyhow::Result<LocalRegistry> {
    if !Path::new(REGISTRY_BIN).exists() || !cmd::available_at("htpasswd", &["-h"]) {
        prerequisites::apt_install(&["docker-registry", "apache2-utils"])?;
    }
    let registry = LocalRegistry::start_with(cmd::detach)?;
    eprintln!("started {REGISTRY_BIN} on {}", registry.host);
    Ok(registry)
}

/// The credentials of the registry's one user.
pub(crate) fn credentials(registry: &LocalRegistry) -> Credentials {
    Credentials {
        username: registry.user.clone(),
        password: Secret::new(registry.password.clone()),
    }
}
