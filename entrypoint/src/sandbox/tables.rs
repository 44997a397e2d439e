//! Loading, reading and removing the rules with `iptables-restore --noflush` /
//! `ip6tables-restore --noflush` (atomic per family) and `iptables-save` / `ip6tables-save`.
//!
//! IPv6 is fenced whenever the kernel has it: if `ip6tables` is missing we refuse rather than
//! leave IPv6 open. Only a kernel without IPv6 at all (no `/proc/net/if_inet6`, as with
//! `ipv6.disable=1`) goes without IPv6 rules.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::rules::{Family, Fence, Installed};

/// A firewall tool failed.
#[derive(Debug, thiserror::Error)]
pub enum TablesError {
    #[error(
        "{tool} is not installed; the sandbox needs it (Debian/Ubuntu package `iptables`, Alpine `iptables ip6tables`)"
    )]
    Missing { tool: &'static str },
    #[error("could not run {tool}: {source}")]
    Run {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{tool} failed ({status}): {stderr}")]
    Failed {
        tool: &'static str,
        status: std::process::ExitStatus,
        stderr: String,
    },
}

/// The families this kernel has, each of which must be fenced.
pub fn families() -> Vec<Family> {
    if ipv6_enabled() {
        Family::BOTH.to_vec()
    } else {
        vec![Family::V4]
    }
}

/// Whether the kernel has IPv6 (`/proc/net/if_inet6` exists only then).
pub fn ipv6_enabled() -> bool {
    Path::new("/proc/net/if_inet6").exists()
}

fn run(tool: &'static str, args: &[&str], stdin: Option<&str>) -> Result<String, TablesError> {
    let mut child = Command::new(tool)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => TablesError::Missing { tool },
            _ => TablesError::Run { tool, source },
        })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(text.as_bytes())
            .map_err(|source| TablesError::Run { tool, source })?;
    }
    let output = child
        .wait_with_output()
        .map_err(|source| TablesError::Run { tool, source })?;
    if !output.status.success() {
        return Err(TablesError::Failed {
            tool,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// What `family`'s `filter` table holds of ours.
pub fn installed(family: Family) -> Result<Installed, TablesError> {
    run(family.save_tool(), &["-t", "filter"], None).map(|saved| Installed::parse(&saved))
}

fn restore(family: Family, script: &str) -> Result<(), TablesError> {
    tracing::debug!(tool = family.restore_tool(), %script, "loading rules");
    run(family.restore_tool(), &["--noflush"], Some(script)).map(|_| ())
}

/// Loads `fence` for every family the kernel has; if one fails, the others are removed again.
pub fn apply(fence: &Fence) -> Result<(), TablesError> {
    let families = families();
    if !ipv6_enabled() {
        tracing::info!(
            "this kernel has no IPv6 (/proc/net/if_inet6 is missing): fencing IPv4 only"
        );
    }
    for (done, family) in families.iter().enumerate() {
        let loaded = installed(*family)
            .and_then(|now| restore(*family, &fence.apply_script(*family, now.hook(fence))));
        if let Err(error) = loaded {
            for earlier in &families[..done] {
                if let Err(undo) = remove_family(*earlier) {
                    tracing::error!(%undo, "could not remove the rules again");
                }
            }
            return Err(error);
        }
    }
    Ok(())
}

fn remove_family(family: Family) -> Result<(), TablesError> {
    match installed(family)?.remove_script() {
        Some(script) => restore(family, &script),
        None => Ok(()),
    }
}

/// Removes our chain and every jump to it, in every family; removing nothing is fine.
pub fn remove() -> Result<(), TablesError> {
    let mut first_error = None;
    for family in families() {
        if let Err(error) = remove_family(family) {
            tracing::error!(%error, "could not remove the sandbox rules");
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}
