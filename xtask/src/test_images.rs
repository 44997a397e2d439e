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

/// One property of an image, checked by running a command in a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ImageCheck {
    /// The CLI reports the pinned version.
    AssistantVersion,
    /// Our entrypoint runs as the image's ENTRYPOINT.
    EntrypointAsEntrypoint,
    /// Our entrypoint runs from a shell with `entrypoint: [""]`, as GitLab runs `script:`.
    EntrypointFromShell,
    /// The image's user is the non-root assistant user.
    NonRootUser,
    /// git can init and commit.
    Git,
    /// bash, ssh, rg and the CA bundle are there.
    Tools,
    /// No package manager caches or lists were left behind.
    NoPackageCaches,
    /// The CLI binary's size (reported next to the image size).
    AssistantBinarySize,
    /// iptables and ip6tables run (images that install them).
    Iptables,
    /// Node 22 or newer (images that carry Node).
    Node,
}

const GIT_PROBE: &str = "cd \"$(mktemp -d)\" && git init -q && git -c user.name=probe -c user.email=probe@example.invalid commit -q --allow-empty -m probe && git rev-list --count HEAD";
const TOOLS_PROBE: &str =
    "bash -c true && ssh -V && rg --version && test -s /etc/ssl/certs/ca-certificates.crt";
const CACHE_PROBE: &str = "for d in /var/lib/apt/lists /var/cache/apt /var/cache/apk; do if [ -d \"$d\" ] && [ -n \"$(find \"$d\" -type f | head -n 1)\" ]; then echo \"package cache left in $d\"; exit 1; fi; done";

/// What the checks expect of one image.
struct Expected<'a> {
    binary: &'a str,
    assistant_version: &'a str,
    entrypoint_version: &'a str,
}

impl ImageCheck {
    /// The checks that apply to a variant, in the order they run.
    fn for_plan(plan: &VariantPlan) -> Vec<ImageCheck> {
        let mut checks = vec![
            ImageCheck::AssistantVersion,
            ImageCheck::EntrypointAsEntrypoint,
            ImageCheck::EntrypointFromShell,
            ImageCheck::NonRootUser,
            ImageCheck::Git,
            ImageCheck::Tools,
            ImageCheck::NoPackageCaches,
            ImageCheck::AssistantBinarySize,
        ];
        let packages = plan
            .build_args
            .get("PACKAGES")
            .map(String::as_str)
            .unwrap_or("");
        if packages.split(' ').any(|p| p == "iptables") {
            checks.push(ImageCheck::Iptables);
        }
        if plan.needs_node {
            checks.push(ImageCheck::Node);
        }
        checks
    }

    /// How the container is started and what it runs.
    fn command(self, binary: &str) -> (Entrypoint, Vec<String>) {
        let shell = |script: &str| {
            (
                Entrypoint::Cleared,
                vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()],
            )
        };
        match self {
            ImageCheck::AssistantVersion => (
                Entrypoint::Cleared,
                vec![binary.to_owned(), "--version".to_owned()],
            ),
            ImageCheck::EntrypointAsEntrypoint => (Entrypoint::Image, vec!["--version".to_owned()]),
            ImageCheck::EntrypointFromShell => shell("entrypoint --version"),
            ImageCheck::NonRootUser => shell("id -u; id -un"),
            ImageCheck::Git => shell(GIT_PROBE),
            ImageCheck::Tools => shell(TOOLS_PROBE),
            ImageCheck::NoPackageCaches => shell(CACHE_PROBE),
            ImageCheck::AssistantBinarySize => shell(&format!("stat -L -c %s {binary}")),
            ImageCheck::Iptables => shell("iptables --version && ip6tables --version"),
            ImageCheck::Node => (
                Entrypoint::Cleared,
                vec!["node".to_owned(), "--version".to_owned()],
            ),
        }
    }

    /// Judges a successful run's output: `Ok(what to print)` or `Err(why it fails)`.
    fn verify(self, stdout: &str, expected: &Expected<'_>) -> Result<String, String> {
        let binary_name = expected
            .binary
            .rsplit('/')
            .next()
            .unwrap_or(expected.binary);
        match self {
            ImageCheck::AssistantVersion if stdout.contains(expected.assistant_version) => {
                Ok(format!("{binary_name} --version → {stdout}"))
            }
            ImageCheck::AssistantVersion => {
                Err(format!("expected version {}", expected.assistant_version))
            }
            ImageCheck::EntrypointAsEntrypoint | ImageCheck::EntrypointFromShell
                if stdout.contains(expected.entrypoint_version) =>
            {
                let how = if self == ImageCheck::EntrypointAsEntrypoint {
                    "as the image's ENTRYPOINT"
                } else {
                    "from sh with entrypoint [\"\"]"
                };
                Ok(format!("entrypoint {how} → {stdout}"))
            }
            ImageCheck::EntrypointAsEntrypoint | ImageCheck::EntrypointFromShell => Err(format!(
                "expected entrypoint {}",
                expected.entrypoint_version
            )),
            ImageCheck::NonRootUser => {
                let mut lines = stdout.lines();
                let (uid, name) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
                if uid == "0" || name != IMAGE_USER {
                    Err(format!(
                        "expected the non-root user {IMAGE_USER}, got {name} ({uid})"
                    ))
                } else {
                    Ok(format!("runs as {name} (uid {uid})"))
                }
            }
            ImageCheck::Git if stdout == "1" => Ok("git init + commit work".to_owned()),
            ImageCheck::Git => Err("expected one commit".to_owned()),
            ImageCheck::AssistantBinarySize => match stdout.parse::<u64>() {
                Ok(bytes) => Ok(format!("{binary_name} binary {}", mb(bytes))),
                Err(_) => Err("expected a size in bytes".to_owned()),
            },
            ImageCheck::Node => {
                let major = stdout
                    .trim_start_matches('v')
                    .split('.')
                    .next()
                    .and_then(|m| m.parse::<u32>().ok());
                match major {
                    Some(m) if m >= 22 => Ok(format!("node {stdout}")),
                    Some(_) => Err("Node 22 or newer is required".to_owned()),
                    None => Err("unexpected node --version output".to_owned()),
                }
            }
            ImageCheck::Tools => Ok("bash, ssh, rg and the CA bundle are there".to_owned()),
            ImageCheck::NoPackageCaches => Ok("no package lists or caches left".to_owned()),
            ImageCheck::Iptables => Ok("iptables and ip6tables run".to_owned()),
        }
    }
}

/// Runs every check on one image and measures it; fails on the first failed check.
pub async fn test_image(
    docker: &Docker,
    reference: &str,
    plan: &VariantPlan,
) -> anyhow::Result<TestReport> {
    let variant = plan.variant;
    let expected = Expected {
        binary: &plan.binary,
        assistant_version: &plan.assistant_version,
        entrypoint_version: env!("CARGO_PKG_VERSION"),
    };
    let binary_name = plan.binary.rsplit('/').next().unwrap_or(&plan.binary);
    let mut binary_size = 0;
    for check in ImageCheck::for_plan(plan) {
        let (entrypoint, cmd) = check.command(&plan.binary);
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        let out = container::run(docker, reference, entrypoint, &args).await?;
        let stdout = out.stdout.trim();
        let verdict = if out.exit_code == 0 {
            check.verify(stdout, &expected)
        } else {
            Err("non-zero exit".to_owned())
        };
        match verdict {
            Ok(shown) => eprintln!("[{variant}] ok  {shown}"),
            Err(why) => bail!(
                "[{variant}] check {check:?} failed: {why}\n  command: {cmd:?}\n  exit: {}\n  stdout: {stdout}\n  stderr: {}",
                out.exit_code,
                out.stderr.trim()
            ),
        }
        if check == ImageCheck::AssistantBinarySize {
            binary_size = stdout.parse().unwrap_or(0);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    const EXPECTED: Expected<'static> = Expected {
        binary: "/usr/local/bin/claude",
        assistant_version: "9.8.7",
        entrypoint_version: "0.1.0",
    };

    #[test]
    fn a_wrong_cli_version_fails() {
        let check = ImageCheck::AssistantVersion;
        assert!(check.verify("9.8.7 (Claude Code)", &EXPECTED).is_ok());
        assert!(check.verify("9.8.6 (Claude Code)", &EXPECTED).is_err());
    }

    #[test]
    fn root_or_another_user_fails() {
        let check = ImageCheck::NonRootUser;
        assert!(check.verify("10001\nassistant", &EXPECTED).is_ok());
        assert!(check.verify("0\nroot", &EXPECTED).is_err());
        assert!(check.verify("1000\nubuntu", &EXPECTED).is_err());
    }

    #[test]
    fn node_older_than_22_fails() {
        let check = ImageCheck::Node;
        assert!(check.verify("v22.1.0", &EXPECTED).is_ok());
        assert!(check.verify("v24.1.0", &EXPECTED).is_ok());
        assert!(check.verify("v20.19.0", &EXPECTED).is_err());
        assert!(check.verify("node: not found", &EXPECTED).is_err());
    }

    #[test]
    fn gitlab_style_shell_runs_are_checked_with_a_cleared_entrypoint() {
        let (entrypoint, cmd) = ImageCheck::EntrypointFromShell.command("/usr/local/bin/claude");
        assert!(matches!(entrypoint, Entrypoint::Cleared));
        assert_eq!(cmd[..2], ["sh", "-c"]);
        let (entrypoint, _) = ImageCheck::EntrypointAsEntrypoint.command("/usr/local/bin/claude");
        assert!(matches!(entrypoint, Entrypoint::Image));
    }
}
