//! The slim `entrypoint` image (`images/entrypoint.Dockerfile`): the `entrypoint` binary, its
//! loader and libraries, a CA bundle and busybox in a `FROM scratch` image of a few MB. It is
//! what a job runs when it needs our binary but no assistant: the acknowledgement job that posts
//! the placeholder before the 200+ MB assistant image is pulled, a comment that mentions nobody,
//! the relay (`entrypoint serve`), `setup` and `doctor`.
//!
//! Built beside the assistant images by `build-images` (same base resolution, extra CA input
//! and context-hash skip), checked by `test-images` and published by `publish` as
//! `<registry image>/entrypoint:<tag>`.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, bail};
use bollard::Docker;
use bollard::query_parameters::{RemoveImageOptions, TagImageOptionsBuilder};

use crate::engine::container::{self, Entrypoint, RunOutput, RunSpec};
use crate::engine::progress::Step;
use crate::engine::{self, mb};
use crate::images::builder::{
    BuildOptions, CONTEXT_HASH_LABEL, ContextBuild, build_context, remove_older_builds,
};
use crate::images::container_checks::{binary_sizes, run_check, size_verdict};
use crate::images::context::BuildContext;
use crate::images::manifest::{Family, Manifest};
use crate::images::payload::EXTRA_CA_FILE;
use crate::images::size::{self, ImageSize};
use crate::images::variants::{BuildSettings, TagPolicy};

/// The image's repository name, locally (`gitlab-ai/entrypoint`) and in the registry
/// (`<registry image>/entrypoint`).
pub const REPOSITORY: &str = "entrypoint";

/// Its Dockerfile inside `images/` and inside the context.
pub const DOCKERFILE: &str = "entrypoint.Dockerfile";

/// The moving local tag of its last build (`gitlab-ai/entrypoint:slim`).
pub const LOCAL_TAG: &str = "slim";

/// Where the binary is in the image.
pub const BINARY: &str = "/usr/local/bin/entrypoint";

/// The image's user (see the Dockerfile).
pub const USER: &str = "entrypoint";

/// `gitlab-ai/entrypoint` in `namespace`.
pub fn local_repo(namespace: &str) -> String {
    format!("{namespace}/{REPOSITORY}")
}

/// `gitlab-ai/entrypoint:slim` in `namespace`.
pub fn local_image(namespace: &str) -> String {
    format!("{}:{LOCAL_TAG}", local_repo(namespace))
}

/// The tags the slim image is published under in `<registry image>/entrypoint`: `sha-<short>`,
/// `<version>` for a release, `latest` for a release or on request. It has one family, so its
/// tags carry no base suffix: the templates pull `<image_registry>/entrypoint:<image_tag>`.
pub fn published_tags(policy: TagPolicy<'_>) -> Vec<String> {
    let mut tags = vec![format!("sha-{}", policy.short_sha)];
    if let Some(version) = policy.release {
        tags.push(version.to_owned());
    }
    if policy.moving || policy.release.is_some() {
        tags.push("latest".to_owned());
    }
    tags
}

/// Where the image lists the Debian packages its files come from (see the Dockerfile): the
/// distribution's id on the first line, then `package<TAB>version` lines.
pub const PACKAGES_FILE: &str = "/usr/share/gitlab-ai/packages";

/// How the slim image is built: its base (the default base, or its stand-in), build args and
/// labels.
#[derive(Clone, Debug)]
pub struct SlimPlan {
    /// The gathering stage's `FROM` image.
    pub base_image: String,
    /// `--build-arg`s: `BASE_IMAGE` and `PACKAGES`.
    pub build_args: BTreeMap<String, String>,
    /// Labels added to the image.
    pub labels: BTreeMap<String, String>,
    /// MB the compressed image may exceed the gzipped binary by.
    pub budget_over_binary_mb: u64,
}

impl SlimPlan {
    /// The plan for this manifest and build; the base is the default base's, with the same
    /// replacement (`--base-image`, the Debian stand-in) as its assistant images.
    pub fn new(manifest: &Manifest, settings: &BuildSettings) -> anyhow::Result<Self> {
        let base = manifest.base(manifest.default_base)?;
        if base.family != Family::Debian {
            bail!(
                "the slim entrypoint image is gathered on default_base, which must be a Debian-family base"
            );
        }
        let base_image = match settings.base_images.get(&manifest.default_base) {
            Some(image) => image.clone(),
            None => match &base.digest {
                Some(digest) => format!("{}@{digest}", base.image),
                None => base.image.clone(),
            },
        };
        let build_args = BTreeMap::from([
            ("BASE_IMAGE".to_owned(), base_image.clone()),
            (
                "PACKAGES".to_owned(),
                manifest.entrypoint_image.packages.join(" "),
            ),
        ]);
        let labels = settings.labels(
            "gitlab-ai entrypoint".to_owned(),
            "scratch",
            REPOSITORY.to_owned(),
            [],
        );
        Ok(SlimPlan {
            base_image,
            build_args,
            labels,
            budget_over_binary_mb: manifest.entrypoint_image.budget_over_binary_mb,
        })
    }
}

/// The slim image as built or found.
#[derive(Clone, Debug)]
pub struct SlimImage {
    /// The content-addressed local reference (`gitlab-ai/entrypoint:ctx-…`).
    pub reference: String,
    /// Whether it was built now (else an image of the same context existed).
    pub built: bool,
    /// Its plan.
    pub plan: SlimPlan,
}

/// Builds the slim image from the release `entrypoint` at `binary`, unless an image of the same
/// context exists; moves `gitlab-ai/entrypoint:slim` to it.
pub async fn build(
    docker: &Docker,
    root: &Path,
    plan: SlimPlan,
    settings: &BuildSettings,
    options: &BuildOptions,
    binary: &Path,
) -> anyhow::Result<SlimImage> {
    let name = REPOSITORY;
    let base_id = engine::inspect_image(docker, &plan.base_image)
        .await?
        .with_context(|| {
            format!(
                "[{name}] its gathering base {} is not present locally (build-images pulls or bootstraps it first)",
                plan.base_image
            )
        })?
        .id
        .unwrap_or_default();
    let dockerfile_path = root.join("images").join(DOCKERFILE);
    let dockerfile = std::fs::read(&dockerfile_path)
        .with_context(|| format!("cannot read {}", dockerfile_path.display()))?;
    let mut context = BuildContext::new();
    context.add_bytes(DOCKERFILE, dockerfile, false)?;
    context.add_bytes(EXTRA_CA_FILE, options.extra_ca.clone(), false)?;
    context.add_local_file("rootfs/usr/local/bin/entrypoint", binary, true)?;
    for (key, value) in &plan.build_args {
        context.add_input(&format!("build-arg:{key}"), value);
    }
    for (key, value) in &plan.labels {
        context.add_input(&format!("label:{key}"), value);
    }
    context.add_input("base-image-id", &base_id);
    let hash = context.hash();
    let repo = local_repo(&settings.local_namespace);
    let reference = format!("{repo}:ctx-{}", hash.short());
    let tag_moving = || async {
        let options = TagImageOptionsBuilder::default()
            .repo(&repo)
            .tag(LOCAL_TAG)
            .build();
        docker
            .tag_image(&reference, Some(options))
            .await
            .with_context(|| format!("cannot tag {reference} as {repo}:{LOCAL_TAG}"))
    };
    if !options.no_cache && engine::inspect_image(docker, &reference).await?.is_some() {
        tag_moving().await?;
        eprintln!("[{name}] unchanged (context {}), {reference}", hash.short());
        return Ok(SlimImage {
            reference,
            built: false,
            plan,
        });
    }
    let mut labels = plan.labels.clone();
    labels.insert(CONTEXT_HASH_LABEL.to_owned(), hash.to_string());
    let id = build_context(
        docker,
        options,
        ContextBuild {
            name,
            context: &context,
            dockerfile: DOCKERFILE,
            from: &plan.base_image,
            reference: &reference,
            build_args: &plan.build_args,
            labels: &labels,
        },
    )
    .await?;
    tag_moving().await?;
    remove_older_builds(docker, name, REPOSITORY, &format!("{repo}:ctx-"), &id).await?;
    remove_gather_stages(docker).await?;
    eprintln!("[{name}] built {reference} ({id})");
    Ok(SlimImage {
        reference,
        built: true,
        plan,
    })
}

/// The label the Dockerfile puts on its gathering stage.
const GATHER_LABEL: &str = "gitlab-ai.build-stage=entrypoint-gather";

/// Removes the untagged images of the gathering stage the classic builder leaves behind; one
/// still in use (a build running now) is left, with a line saying so.
async fn remove_gather_stages(docker: &Docker) -> anyhow::Result<()> {
    let filters = [
        ("label", vec![GATHER_LABEL.to_owned()]),
        ("dangling", vec!["true".to_owned()]),
    ];
    let images = engine::list_images(docker, &filters)
        .await
        .context("cannot list the gathering stage's images")?;
    for image in images {
        match docker
            .remove_image(&image.id, None::<RemoveImageOptions>, None)
            .await
        {
            Ok(_) => eprintln!("[{REPOSITORY}] removed the gathering stage {}", image.id),
            Err(err) => eprintln!(
                "[{REPOSITORY}] kept the gathering stage {}: {err}",
                image.id
            ),
        }
    }
    Ok(())
}

/// One property of the slim image, checked by running a command in a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlimCheck {
    /// `entrypoint --version` as the image's ENTRYPOINT (`docker run IMAGE serve`).
    VersionAsEntrypoint,
    /// From `sh` with `entrypoint: [""]`, as the templates run `script:`.
    VersionFromShell,
    /// A shell given as the command runs through the image's ENTRYPOINT, as GitLab Runner
    /// starts a job that does not clear it.
    ShellThroughEntrypoint,
    /// `doctor --help` runs (the docs run doctor and setup in this image).
    DoctorHelp,
    /// No assistant CLI, no Node and no git: the image is for jobs that need none of them.
    NothingElse,
    /// The CA bundle is there and not empty.
    CaBundle,
    /// glibc resolves host names in `scratch` (`localhost` from /etc/hosts: the connection is
    /// refused, not the name unknown).
    ResolvesNames,
    /// Not root by default.
    NonRootUser,
    /// The binary's size, raw and gzipped (the budget is measured from it).
    BinarySize,
}

impl SlimCheck {
    /// Every check, in the order they run.
    pub const ALL: [SlimCheck; 9] = [
        SlimCheck::VersionAsEntrypoint,
        SlimCheck::VersionFromShell,
        SlimCheck::ShellThroughEntrypoint,
        SlimCheck::DoctorHelp,
        SlimCheck::NothingElse,
        SlimCheck::CaBundle,
        SlimCheck::ResolvesNames,
        SlimCheck::NonRootUser,
        SlimCheck::BinarySize,
    ];

    fn spec(self) -> RunSpec {
        let shell = |script: &str| RunSpec::new(Entrypoint::Cleared, &["sh", "-c", script]);
        match self {
            SlimCheck::VersionAsEntrypoint => RunSpec::new(Entrypoint::Image, &["--version"]),
            SlimCheck::VersionFromShell => shell("entrypoint --version"),
            SlimCheck::ShellThroughEntrypoint => {
                RunSpec::new(Entrypoint::Image, &["sh", "-c", "entrypoint --version"])
            }
            SlimCheck::DoctorHelp => RunSpec::new(Entrypoint::Image, &["doctor", "--help"]),
            SlimCheck::NothingElse => shell(
                "for p in claude codex node npm git bash ssh rg; do if command -v \"$p\" >/dev/null; then echo \"$p\"; fi; done; echo checked",
            ),
            SlimCheck::CaBundle => shell("test -s /etc/ssl/certs/ca-certificates.crt && echo ok"),
            SlimCheck::ResolvesNames => RunSpec {
                env: vec!["GITLAB_TOKEN=probe".to_owned()],
                network: container::Network::Loopback,
                ..RunSpec::new(
                    Entrypoint::Image,
                    &[
                        "doctor",
                        "--project",
                        "1",
                        "--gitlab-url",
                        "http://localhost:9",
                    ],
                )
            },
            SlimCheck::NonRootUser => shell("id -u; id -un"),
            SlimCheck::BinarySize => shell(&format!(
                "stat -c %s {BINARY} && gzip -6 -c {BINARY} | wc -c"
            )),
        }
    }

    /// Judges a run: `Ok(what to print)` or `Err(why it fails)`.
    fn judge(self, out: &RunOutput, version: &str) -> Result<String, String> {
        let stdout = out.stdout.trim();
        if self == SlimCheck::ResolvesNames {
            // doctor fails (nothing listens), but must fail on the connection.
            let all = format!("{}\n{}", out.stdout, out.stderr);
            return if all.contains("Connection refused") {
                Ok("glibc resolves localhost in scratch (connection refused, as expected)".into())
            } else if all.contains("dns error") {
                Err("the name localhost did not resolve".to_owned())
            } else {
                Err("expected doctor to report a refused connection".to_owned())
            };
        }
        if out.exit_code != 0 {
            return Err("non-zero exit".to_owned());
        }
        match self {
            SlimCheck::VersionAsEntrypoint
            | SlimCheck::VersionFromShell
            | SlimCheck::ShellThroughEntrypoint => {
                if stdout == format!("entrypoint {version}") {
                    Ok(format!("{self:?} → {stdout}"))
                } else {
                    Err(format!("expected entrypoint {version}"))
                }
            }
            SlimCheck::DoctorHelp if stdout.contains("Usage: entrypoint doctor") => {
                Ok("doctor --help runs".to_owned())
            }
            SlimCheck::DoctorHelp => Err("expected doctor's usage".to_owned()),
            SlimCheck::NothingElse => match stdout.lines().collect::<Vec<_>>().as_slice() {
                ["checked"] => Ok("no assistant CLI, Node, git, bash, ssh or rg".to_owned()),
                found => Err(format!(
                    "the slim image carries {:?}",
                    &found[..found.len().saturating_sub(1)]
                )),
            },
            SlimCheck::CaBundle => Ok("the CA bundle is there".to_owned()),
            SlimCheck::NonRootUser => {
                let mut lines = stdout.lines();
                match (lines.next(), lines.next()) {
                    (Some(uid), Some(name)) if uid != "0" && name == USER => {
                        Ok(format!("runs as {name} (uid {uid})"))
                    }
                    _ => Err(format!("expected the non-root user {USER}")),
                }
            }
            SlimCheck::BinarySize => size_verdict("entrypoint", stdout),
            SlimCheck::ResolvesNames => Err("judged above".to_owned()),
        }
    }
}

/// What the slim image's tests measured.
#[derive(Clone, Copy, Debug)]
pub struct SlimReport {
    /// Its sizes.
    pub size: ImageSize,
    /// The binary gzipped.
    pub binary_gzipped: u64,
    /// The most the compressed image may weigh.
    pub budget: u64,
}

impl SlimReport {
    /// One line for the size table.
    pub fn line(&self) -> String {
        format!(
            "{REPOSITORY}: {} compressed, {} uncompressed; entrypoint binary {} gzipped; budget {} ({})",
            mb(self.size.compressed),
            mb(self.size.uncompressed),
            mb(self.binary_gzipped),
            mb(self.budget),
            if self.size.compressed <= self.budget {
                "within"
            } else {
                "OVER"
            }
        )
    }

    /// Fails when the image is over its budget.
    pub fn judge(&self) -> anyhow::Result<()> {
        if self.size.compressed > self.budget {
            bail!(
                "over the size budget (images.toml [entrypoint_image] budget_over_binary_mb): {}",
                self.line()
            );
        }
        Ok(())
    }
}

/// Runs every check on the slim image and measures it; fails on the first failed check or when
/// it is over its budget.
pub async fn test(docker: &Docker, reference: &str, plan: &SlimPlan) -> anyhow::Result<SlimReport> {
    let version = env!("CARGO_PKG_VERSION");
    let step = Step::spinner(&format!("[{REPOSITORY}] testing {reference}"));
    let mut binary_gzipped = 0;
    for check in SlimCheck::ALL {
        let out = run_check(
            docker,
            reference,
            &step,
            REPOSITORY,
            check,
            &check.spec(),
            |out| check.judge(out, version),
        )
        .await?;
        if let (SlimCheck::BinarySize, Some((_, gzipped))) =
            (check, binary_sizes(out.stdout.trim()))
        {
            binary_gzipped = gzipped;
        }
    }
    step.set_what(&format!("[{REPOSITORY}] measuring {reference}"));
    let size = size::measure(docker, reference)
        .await
        .with_context(|| format!("measuring {reference}"))?;
    drop(step);
    let report = SlimReport {
        size,
        binary_gzipped,
        budget: binary_gzipped + plan.budget_over_binary_mb * 1_000_000,
    };
    println!("{}", report.line());
    report.judge()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::assert_judged;

    #[test]
    fn the_slim_image_is_tagged_like_the_default_family_without_a_base_suffix() {
        let release = TagPolicy {
            release: Some("1.4.0"),
            moving: false,
            short_sha: "0123abcd",
        };
        assert_eq!(published_tags(release), ["sha-0123abcd", "1.4.0", "latest"]);
        let branch = TagPolicy {
            release: None,
            moving: false,
            short_sha: "0123abcd",
        };
        assert_eq!(published_tags(branch), ["sha-0123abcd"]);
        let default_branch = TagPolicy {
            moving: true,
            ..branch
        };
        assert_eq!(published_tags(default_branch), ["sha-0123abcd", "latest"]);
    }

    #[test]
    fn an_image_carrying_git_or_an_assistant_fails() {
        let check = SlimCheck::NothingElse;
        assert!(
            check
                .judge(&RunOutput::of(0, "checked\n", ""), "1.0.0")
                .is_ok()
        );
        let error = check
            .judge(&RunOutput::of(0, "git\nclaude\nchecked\n", ""), "1.0.0")
            .unwrap_err();
        assert!(error.contains("git") && error.contains("claude"), "{error}");
    }

    /// What each command check of the slim image passes and fails; the image is version
    /// `1.0.0`.
    #[test]
    fn each_check_passes_only_what_the_image_must_print() {
        let refused = "fail token: … tcp connect error: Connection refused (os error 111)";
        let dns = "fail token: … dns error: failed to lookup address information";
        let cases: [(&str, SlimCheck, &[_], &[_]); 3] = [
            (
                "names must resolve and the connection be what fails",
                SlimCheck::ResolvesNames,
                &[(1, refused, "")],
                &[(1, dns, ""), (127, "", "exec format error")],
            ),
            (
                "the version must be this build's",
                SlimCheck::VersionFromShell,
                &[(0, "entrypoint 1.0.0\n", "")],
                &[(0, "entrypoint 0.9.0", ""), (127, "", "sh: not found")],
            ),
            (
                "root fails",
                SlimCheck::NonRootUser,
                &[(0, "10001\nentrypoint", "")],
                &[(0, "0\nroot", "")],
            ),
        ];
        for (case, check, passing, failing) in cases {
            assert_judged(case, |out| check.judge(out, "1.0.0"), passing, failing);
        }
    }

    #[test]
    fn an_image_over_budget_fails() {
        let report = |compressed| SlimReport {
            size: ImageSize {
                uncompressed: compressed * 2,
                compressed,
            },
            binary_gzipped: 7_000_000,
            budget: 10_000_000,
        };
        assert!(report(9_000_000).judge().is_ok());
        let error = report(10_500_000).judge().unwrap_err().to_string();
        assert!(
            error.contains("OVER") && error.contains("10.5 MB"),
            "{error}"
        );
    }

    #[test]
    fn the_plan_gathers_on_the_default_base_or_its_stand_in() {
        let root = crate::util::cmd::workspace_root().unwrap();
        let manifest = Manifest::load(&root).unwrap();
        let mut settings = BuildSettings {
            version: "1.0.0".into(),
            revision: "abc".into(),
            source: "https://example.invalid/p".into(),
            base_images: BTreeMap::new(),
            local_namespace: crate::images::variants::LOCAL_NAMESPACE.into(),
        };
        let plan = SlimPlan::new(&manifest, &settings).unwrap();
        assert!(
            plan.base_image.starts_with("ubuntu:24.04@sha256:"),
            "{}",
            plan.base_image
        );
        assert!(plan.build_args["PACKAGES"].contains("busybox-static"));
        assert_eq!(
            plan.labels[crate::images::variants::VARIANT_LABEL],
            "entrypoint"
        );
        settings
            .base_images
            .insert(manifest.default_base, "local/debian-bookworm".to_owned());
        let plan = SlimPlan::new(&manifest, &settings).unwrap();
        assert_eq!(plan.build_args["BASE_IMAGE"], "local/debian-bookworm");
    }
}
