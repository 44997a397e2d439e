//! `cargo xtask test-images`: checks each image in containers (no network): the CLI reports its
//! pinned version, our entrypoint runs both as the image's ENTRYPOINT and with `entrypoint: [""]`
//! (how GitLab CI jobs run `script:`), git works, the user is not root, the tools and CA bundle
//! are there, package caches are gone, Node ≥ 22 where carried; then prints the image's sizes
//! beside the assistant binary's.
//!
//! `--e2e` runs the whole daemon-backed suite instead (see `e2e.rs`).

use anyhow::{Context, bail};
use bollard::Docker;
use clap::Parser;

use crate::container::{self, Entrypoint};
use crate::engine::{self, mb};
use crate::image_args::ImageArgs;
use crate::image_build::LocalImage;
use crate::image_size::{self, ImageSize};
use crate::manifest::Manifest;
use crate::variants::VariantPlan;
use crate::{cmd, e2e};

/// The non-root user the images run as (see the Dockerfiles).
pub const IMAGE_USER: &str = "assistant";

/// Flags of `cargo xtask test-images`.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    images: ImageArgs,
    /// Run the end-to-end suite against a real engine: bootstrap the base, build the ubuntu
    /// family, test, rebuild (nothing may be rebuilt), publish to a local registry and read the
    /// manifests back. Installs and starts what is missing when run as root on Debian.
    #[arg(long)]
    e2e: bool,
}

/// What one image's tests measured.
#[derive(Clone, Debug)]
pub struct TestReport {
    /// Its sizes.
    pub size: ImageSize,
    /// The assistant binary's size inside the image.
    pub binary_size: u64,
}

/// Tests the selected local images (`gitlab-ai/<assistant>:<base>`), or runs the e2e suite.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.e2e {
        return e2e::run();
    }
    tokio::runtime::Runtime::new()?.block_on(async {
        let docker = engine::connect().await?;
        let root = cmd::workspace_root()?;
        let manifest = Manifest::load(&root)?;
        let settings = args.images.settings(&root)?;
        let mut targets = Vec::new();
        for variant in args.images.variants() {
            let reference = variant.local_image();
            if engine::inspect_image(&docker, &reference).await?.is_none() {
                eprintln!(
                    "[{variant}] {reference} does not exist: run `cargo xtask build-images` first"
                );
                continue;
            }
            targets.push((reference, VariantPlan::new(&manifest, &settings, variant)?));
        }
        if targets.is_empty() {
            bail!("none of the selected images exists locally: run `cargo xtask build-images`");
        }
        for (reference, plan) in &targets {
            test_image(&docker, reference, plan).await?;
        }
        Ok(())
    })
}

/// Tests freshly built images.
pub async fn test_all(docker: &Docker, images: &[LocalImage]) -> anyhow::Result<Vec<TestReport>> {
    let mut reports = Vec::new();
    for image in images {
        reports.push(test_image(docker, &image.reference, &image.plan).await?);
    }
    Ok(reports)
}

struct Check<'a> {
    name: &'a str,
    entrypoint: Entrypoint,
    cmd: Vec<&'a str>,
}

fn check<'a>(name: &'a str, cmd: Vec<&'a str>) -> Check<'a> {
    Check {
        name,
        entrypoint: Entrypoint::Cleared,
        cmd,
    }
}

const GIT_PROBE: &str = "cd \"$(mktemp -d)\" && git init -q && git -c user.name=probe -c user.email=probe@example.invalid commit -q --allow-empty -m probe && git rev-list --count HEAD";
const TOOLS_PROBE: &str =
    "bash -c true && ssh -V && rg --version && test -s /etc/ssl/certs/ca-certificates.crt";
const CACHE_PROBE: &str = "for d in /var/lib/apt/lists /var/cache/apt /var/cache/apk; do if [ -d \"$d\" ] && [ -n \"$(find \"$d\" -type f | head -n 1)\" ]; then echo \"package cache left in $d\"; exit 1; fi; done";

/// Runs every check on one image and measures it; fails on the first failed check.
pub async fn test_image(
    docker: &Docker,
    reference: &str,
    plan: &VariantPlan,
) -> anyhow::Result<TestReport> {
    let variant = plan.variant;
    let binary = plan.binary.as_str();
    let binary_name = binary.rsplit('/').next().unwrap_or(binary);
    let own_version = env!("CARGO_PKG_VERSION");
    let size_probe = format!("stat -L -c %s {binary}");
    let mut checks = vec![
        check("assistant version", vec![binary, "--version"]),
        Check {
            name: "entrypoint as ENTRYPOINT",
            entrypoint: Entrypoint::Image,
            cmd: vec!["--version"],
        },
        check(
            "entrypoint with entrypoint [\"\"]",
            vec!["sh", "-c", "entrypoint --version"],
        ),
        check("user", vec!["sh", "-c", "id -u; id -un"]),
        check("git", vec!["sh", "-c", GIT_PROBE]),
        check("tools", vec!["sh", "-c", TOOLS_PROBE]),
        check("no package caches", vec!["sh", "-c", CACHE_PROBE]),
        check("assistant binary size", vec!["sh", "-c", &size_probe]),
    ];
    if plan
        .build_args
        .get("PACKAGES")
        .is_some_and(|p| p.split(' ').any(|p| p == "iptables"))
    {
        checks.push(check(
            "iptables",
            vec!["sh", "-c", "iptables --version && ip6tables --version"],
        ));
    }
    if plan.needs_node {
        checks.push(check("node", vec!["node", "--version"]));
    }

    let mut binary_size = 0;
    for c in checks {
        let out = container::run(docker, reference, c.entrypoint, &c.cmd).await?;
        let stdout = out.stdout.trim();
        let fail = |why: &str| -> anyhow::Error {
            anyhow::anyhow!(
                "[{variant}] check {:?} failed: {why}\n  command: {:?}\n  exit: {}\n  stdout: {}\n  stderr: {}",
                c.name,
                c.cmd,
                out.exit_code,
                out.stdout.trim(),
                out.stderr.trim()
            )
        };
        if out.exit_code != 0 {
            return Err(fail("non-zero exit"));
        }
        let shown = match c.name {
            "assistant version" => {
                if !stdout.contains(&plan.assistant_version) {
                    return Err(fail(&format!(
                        "expected version {}",
                        plan.assistant_version
                    )));
                }
                format!("{binary_name} --version → {stdout}")
            }
            "entrypoint as ENTRYPOINT" | "entrypoint with entrypoint [\"\"]" => {
                if !stdout.contains(own_version) {
                    return Err(fail(&format!("expected entrypoint {own_version}")));
                }
                format!("{} → {stdout}", c.name)
            }
            "user" => {
                let mut lines = stdout.lines();
                let (uid, name) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
                if uid == "0" || name != IMAGE_USER {
                    return Err(fail(&format!("expected the non-root user {IMAGE_USER}")));
                }
                format!("runs as {name} (uid {uid})")
            }
            "git" => {
                if stdout != "1" {
                    return Err(fail("expected one commit"));
                }
                "git init + commit work".to_owned()
            }
            "assistant binary size" => {
                binary_size = stdout
                    .parse()
                    .map_err(|_| fail("expected a size in bytes"))?;
                format!("{binary_name} binary {}", mb(binary_size))
            }
            "node" => {
                let major: u32 = stdout
                    .trim_start_matches('v')
                    .split('.')
                    .next()
                    .and_then(|m| m.parse().ok())
                    .ok_or_else(|| fail("unexpected node --version output"))?;
                if major < 22 {
                    return Err(fail("Node 22 or newer is required"));
                }
                format!("node {stdout}")
            }
            other => other.to_owned(),
        };
        eprintln!("[{variant}] ok  {shown}");
    }

    let scratch = cmd::workspace_root()?.join("target").join("images");
    let size = image_size::measure(docker, reference, &scratch)
        .await
        .with_context(|| format!("measuring {reference}"))?;
    eprintln!(
        "[{variant}] size: {} uncompressed, {} compressed (gzipped layers); {binary_name} binary {}",
        mb(size.uncompressed),
        mb(size.compressed),
        mb(binary_size)
    );
    Ok(TestReport { size, binary_size })
}
