//! Installs the pinned assistant CLIs into the cache the end-to-end tests use, and prints each
//! binary's path: `cargo run -p doubles --bin install-cli -- [claude|codex]...`.

use anyhow::Context;
use clap::{Parser, ValueEnum};
use doubles::model::cli::{Cli, install};

#[derive(Parser)]
#[command(about = "Install the pinned claude and codex CLIs into the test cache")]
struct Args {
    /// Which CLIs to install (all when omitted).
    #[arg(value_enum)]
    clis: Vec<Which>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Which {
    Claude,
    Codex,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let clis = if args.clis.is_empty() {
        vec![Which::Claude, Which::Codex]
    } else {
        args.clis
    };
    for which in clis {
        let cli = match which {
            Which::Claude => Cli::Claude,
            Which::Codex => Cli::Codex,
        };
        let started = std::time::Instant::now();
        let installed = install(cli).with_context(|| format!("installing {}", cli.name()))?;
        println!(
            "{} {} {} ({:.1?})",
            cli.name(),
            installed.version,
            installed.binary.display(),
            started.elapsed()
        );
    }
    Ok(())
}
