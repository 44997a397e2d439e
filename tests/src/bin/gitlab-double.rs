//! `gitlab-double --listen 127.0.0.1:8080 --seed seed.toml --data-dir DIR [--relative-url-root
//! /gitlab] [--admin-token T] [--gitlab-version 17.4.0]`: runs the GitLab double, answering as
//! that GitLab release, until interrupted. When it is ready it
//! prints one JSON line `{"url": …, "api_url": …, "users": [{"id", "username", "token"}]}` on
//! stdout, so a parent process can wait for it.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::seed::Seed;
use serde_json::json;

#[derive(Parser, Debug)]
#[command(about = "A GitLab REST v4 double serving real git repositories")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed file (TOML) with users, groups, projects, triggers, hooks, issues, merge requests.
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Where bare repositories are kept; a temporary directory when omitted.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Serve under a sub-path, e.g. `/gitlab`.
    #[arg(long, default_value = "")]
    relative_url_root: String,
    /// Token for `/-/double/...`; overrides the seed's `admin_token`.
    #[arg(long, env = "GITLAB_DOUBLE_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// The GitLab release to answer as (`GET /version`, and every behaviour that changed
    /// between releases: to-dos, comment edit events, hidden variables, …).
    #[arg(long, default_value_t = doubles::gitlab::version::LATEST)]
    gitlab_version: doubles::gitlab::version::GitLabVersion,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let seed = match &args.seed {
        Some(path) => Seed::parse(
            &std::fs::read_to_string(path)
                .with_context(|| format!("reading seed file {}", path.display()))?,
        )?,
        None => Seed::default(),
    };
    let mut builder = GitLabDouble::builder()
        .listen(args.listen)
        .relative_url_root(&args.relative_url_root)
        .gitlab_version(args.gitlab_version);
    if let Some(dir) = &args.data_dir {
        builder = builder.data_dir(dir);
    }
    if let Some(token) = args.admin_token.as_ref().or(seed.admin_token.as_ref()) {
        builder = builder.admin_token(token);
    }
    let double = builder.start().await?;
    let users = seed.apply(&double)?;
    let ready = json!({
        "url": double.base_url(),
        "api_url": double.api_url(),
        "users": users.iter().map(|u| json!({"id": u.id, "username": u.username, "token": u.token})).collect::<Vec<_>>(),
    });
    println!("{ready}");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    double.shutdown().await
}
