//! `entrypoint serve`: the webhook relay.

use std::path::PathBuf;

/// Flags of `entrypoint serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The relay's TOML config; every global setting can also come from AI_RELAY_* variables.
    #[arg(long, env = crate::env::AI_RELAY_CONFIG.name(), value_name = "FILE")]
    config: Option<PathBuf>,
}

/// `entrypoint serve`: runs the relay until SIGTERM or SIGINT.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    super::init_logging();
    let vars = |name: &str| std::env::var(name).ok();
    let config = crate::relay::RelayConfig::load(args.config.as_deref(), &vars)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        crate::relay::Relay::start(config)
            .await?
            .run_until(crate::relay::shutdown::signal())
            .await
    })
}
