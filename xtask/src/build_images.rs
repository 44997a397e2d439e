//! `cargo xtask build-images`: builds, tests and publishes the four images.

use anyhow::bail;
use clap::Parser;

/// Flags of `cargo xtask build-images` (the full set arrives with the images).
#[derive(Debug, Parser)]
pub struct Args {
    /// Only this assistant (claude or codex).
    #[arg(long)]
    assistant: Option<String>,
    /// Only this base (alpine or ubuntu).
    #[arg(long)]
    base: Option<String>,
    /// Push to the registry after building.
    #[arg(long)]
    push: bool,
}

/// Refuses clearly until the image definitions exist, naming what is missing.
pub fn run(args: Args) -> anyhow::Result<()> {
    let which = match (&args.assistant, &args.base) {
        (Some(a), Some(b)) => format!("the {a}/{b} image"),
        (Some(a), None) => format!("the {a} images"),
        (None, Some(b)) => format!("the {b} images"),
        (None, None) => "the claude/codex x alpine/ubuntu images".to_owned(),
    };
    let push = if args.push { " and push" } else { "" };
    bail!(
        "cannot build{push} {which} yet: the image manifest (images/images.toml), the Dockerfiles and the bollard build arrive with the \"Images and cargo xtask\" work; until then `cargo xtask test` is the command that works"
    )
}
