//! `entrypoint sandbox apply|verify|status|remove|probe`: the sandbox's own code, exposed for
//! debugging in a job.

use anyhow::Context;

use crate::proxy::{KeyProxy, Upstream};
use crate::sandbox::rules::{Family, Fence};
use crate::sandbox::{Enclosure, Plan, ProbeProgram, SandboxUid, Settings, Site, probe, tables};
use crate::secret::Secret;
use ai_core::assistant::Assistant;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Load the rules that let the sandbox uid reach 127.0.0.1:PORT and nothing else (IPv4 and
    /// IPv6); applying twice leaves the same rules.
    Apply(FenceArgs),
    /// Start a key proxy, fence it, check as the sandbox uid that only the proxy is reachable,
    /// print every check as JSON and remove the rules again.
    Verify(VerifyArgs),
    /// Print our chain as the kernel holds it and whether it matches what `apply` would write
    /// (exit status 1 when it does not).
    Status(FenceArgs),
    /// Remove the chain and its jump from OUTPUT, in IPv4 and IPv6.
    Remove,
    /// Kill every process of the uid this runs as (`kill(-1)`); `finish` runs it as the sandbox
    /// uid so nothing the assistant started outlives the fence.
    #[command(hide = true)]
    Reap,
    /// Try each TARGET from this process and print what happened, one JSON line each (this is
    /// what `verify` runs as the sandbox uid).
    #[command(hide = true)]
    Probe {
        #[arg(required = true)]
        targets: Vec<probe::Target>,
    },
}

#[derive(Debug, clap::Args)]
struct FenceArgs {
    /// The key proxy's port on 127.0.0.1.
    #[arg(long)]
    proxy_port: u16,
    /// The uid the assistant runs as.
    #[arg(long, env = crate::env::AI_SANDBOX_UID.name(), default_value_t = crate::sandbox::DEFAULT_UID)]
    uid: u32,
}

impl FenceArgs {
    fn fence(&self) -> anyhow::Result<Fence> {
        Ok(Fence {
            uid: SandboxUid::new(self.uid)?,
            proxy_port: self.proxy_port,
        })
    }
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// Whose API to put behind the proxy (its base URL variable is honoured).
    #[arg(long, default_value_t = Assistant::Codex)]
    assistant: Assistant,
}

pub fn run(args: &SandboxArgs) -> anyhow::Result<()> {
    match &args.action {
        Action::Apply(fence) => {
            require_net_admin()?;
            tables::apply(&fence.fence()?)?;
            println!("applied");
            Ok(())
        }
        Action::Status(fence) => status(&fence.fence()?),
        Action::Remove => {
            require_net_admin()?;
            tables::remove()?;
            println!("removed");
            Ok(())
        }
        Action::Verify(verify_args) => verify(verify_args),
        Action::Reap => {
            if rustix::process::getuid().is_root() {
                anyhow::bail!(
                    "refusing to kill every process: `sandbox reap` is for the sandbox uid"
                );
            }
            Ok(crate::sandbox::privileges::kill_all_of_this_uid()?)
        }
        Action::Probe { targets } => {
            for target in targets {
                println!("{}", serde_json::to_string(&probe::attempt(*target))?);
            }
            Ok(())
        }
    }
}

fn require_net_admin() -> anyhow::Result<()> {
    if crate::sandbox::Capabilities::current()?.net_admin() {
        Ok(())
    } else {
        Err(crate::sandbox::SandboxError::NoNetAdmin.into())
    }
}

fn status(fence: &Fence) -> anyhow::Result<()> {
    let mut all_match = true;
    for family in tables::families() {
        let installed = tables::installed(family)?;
        let matches = installed.matches(fence, family);
        all_match &= matches;
        let name = match family {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        };
        println!(
            "{name}: {}",
            if matches {
                "matches"
            } else {
                "DOES NOT MATCH what apply would write"
            }
        );
        for line in installed.hooks.iter().chain(&installed.rules) {
            println!("  {line}");
        }
        if !matches {
            println!("  expected:");
            for line in std::iter::once(fence.hook_rule()).chain(fence.chain_rules(family)) {
                println!("  {line}");
            }
        }
    }
    if !tables::ipv6_enabled() {
        println!("IPv6: disabled in this kernel (no /proc/net/if_inet6), nothing to fence");
    }
    if all_match {
        Ok(())
    } else {
        anyhow::bail!("the sandbox rules are not in place")
    }
}

fn verify(args: &VerifyArgs) -> anyhow::Result<()> {
    // This command checks the fence, so it is fenced whatever AI_SANDBOX says.
    let settings = Settings::from_env(args.assistant, &|name: &str| match name {
        name if name == crate::env::AI_SANDBOX.name() => Some("on".to_owned()),
        _ => std::env::var(name).ok(),
    })?;
    let api = args.assistant.profile().model_api;
    let upstream = match std::env::var(api.base_url_variable()) {
        Ok(base) if !base.trim().is_empty() => Upstream::parse(api, &base)?,
        _ => Upstream::public(api),
    };
    verify_with(settings, upstream)
}

fn verify_with(settings: Settings, upstream: Upstream) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let proxy = runtime.block_on(KeyProxy::start(
        upstream.clone(),
        Secret::new("unused-by-verify"),
    ))?;
    let proxy_port =
        crate::sandbox::proxy_port(proxy.base_url()).context("the key proxy's URL has no port")?;
    let scratch = tempfile::tempdir()?;
    let plan = Plan {
        settings,
        probe: ProbeProgram::current()?,
        capabilities: crate::sandbox::Capabilities::current()?,
    };
    let site = Site {
        workspace: scratch.path().to_owned(),
        proxy: Some(crate::sandbox::ProxySite {
            port: proxy_port,
            upstream,
        }),
    };
    let enclosure = Enclosure::establish(&plan, &site);
    let result = match enclosure {
        Ok(enclosure) => {
            println!(
                "{}",
                serde_json::to_string_pretty(enclosure.verification())?
            );
            enclosure.finish().map_err(anyhow::Error::from)
        }
        Err(error) => Err(error.into()),
    };
    drop(proxy);
    result
}
