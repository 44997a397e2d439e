//! The daemon-backed end-to-end suite behind `cargo xtask test-images --e2e`: everything the
//! image tooling promises, against a real engine, on the local Debian stand-in for Ubuntu.
//!
//! 1. an engine (started on a root Debian machine when none answers);
//! 2. the Debian base (bootstrapped once, cached), while the release entrypoint compiles and
//!    the CLI packages download;
//! 3. build the ubuntu-family claude and codex images;
//! 4. test them in containers;
//! 5. inside each image, an issue mention becomes a merge request (`in_image.rs`); in
//!    webhook mode, two mentions on two issues go through the Comments hook, the trigger, the
//!    ack job in the slim image and the answer in the Claude image, in parallel
//!    (`webhook.rs`);
//! 6. rebuild with no change: nothing may be rebuilt;
//! 7. push to a local registry with a wrong password: the command fails;
//! 8. publish to it (claude, codex and the slim `entrypoint` image), signed with a key and
//!    keylessly through the Fulcio double, read every manifest back and verify both signatures.
//!
//! The suite builds under its own local names ([`TEST_NAMESPACE`]) and removes them when it ends,
//! pass or fail: the `gitlab-ai/*` images a person built with `build-images` are never retagged
//! or untagged by a test run.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail, ensure};

use crate::engine;
use crate::images::args::ImageArgs;
use crate::images::artifacts::ArtifactStore;
use crate::images::build;
use crate::images::container_checks;
use crate::images::debian_base::{self, DEBIAN_BASE_IMAGE};
use crate::images::entrypoint_binary;
use crate::images::lockfile::Lock;
use crate::images::manifest::Base;
use crate::images::manifest::{Family, Manifest};
use crate::images::variants::TEST_NAMESPACE;
use crate::images::variants::Variant;
use crate::registry::local_registry::LocalRegistry;
use crate::registry::oci::host_arch;
use crate::registry::publish::{self, PublishedImage, Target};
use crate::registry::{Credentials, RegistryClient, Repository};
use crate::scenarios::in_image;
use crate::supply_chain;
use crate::supply_chain::keyless::KeylessPolicy;
use crate::supply_chain::signing::SigningKey;
use crate::timings::{Mark, Row};
use crate::util::cmd;
use ai_core::Secret;
use doubles::sigstore::{FulcioDouble, GitLabJob, OidcIssuer};

/// The release version the suite builds and publishes as.
const E2E_RELEASE: &str = "0.0.0-e2e";

/// The host's CA bundle: passed as the extra CA input so the path that lets builds work behind
/// an intercepting proxy is exercised.
const HOST_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// Runs the suite; prints one line per stage and a closing `N passed, 0 failed` line, and
/// returns the wall and CPU time of each stage (for `cargo xtask test --timings`).
pub fn run() -> anyhow::Result<Vec<Row>> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let started = Instant::now();
        let mut passed = Passed::new()?;
        let docker = prepare().await?;
        stage(
            &mut passed,
            "the engine answers, the Debian base image is available, the release entrypoint is compiled and the CLI packages are fetched",
        )?;
        let result = suite(&docker, &mut passed).await;
        let cleaned = remove_test_images(&docker).await;
        result?;
        cleaned?;
        passed.lap("remove the test images")?;
        eprintln!("e2e finished in {:.0?}", started.elapsed());
        println!("e2e: {} passed, 0 failed", passed.count);
        Ok(passed.rows)
    })
}

/// Starts the engine, imports the Debian base (debootstrap on a fresh machine) and fetches the
/// CLI packages while the release entrypoint compiles: on a fresh machine the first three wait
/// on the network and the compile on the CPU, so side by side they take the time of the longest
/// instead of the sum. The image build that follows finds the binary and the packages ready.
async fn prepare() -> anyhow::Result<bollard::Docker> {
    let root = cmd::workspace_root()?;
    let compile_root = root.clone();
    let compiling =
        std::thread::spawn(move || entrypoint_binary::build(&compile_root, &[Family::Debian]));
    // A task of its own: debootstrap blocks the thread it runs on.
    let fetching = tokio::spawn(fetch_artifacts(root));
    let docker = engine::connect_or_start().await;
    let base = match &docker {
        Ok(docker) => debian_base::ensure(docker, false, debian_base::DEFAULT_MIRROR).await,
        Err(_) => Ok(()),
    };
    let fetched = fetching.await;
    // Joined on every path, so no cargo is left compiling behind a failed engine start.
    let compiled = compiling
        .join()
        .map_err(|_| anyhow::anyhow!("the thread compiling the release entrypoint panicked"))?;
    let docker = docker?;
    base?;
    fetched.context("the task fetching the CLI packages panicked")??;
    compiled?;
    Ok(docker)
}

/// Downloads (or finds in the cache) the CLI packages of the ubuntu-family images, checked
/// against images/images.lock, so the image build only reads them from the cache.
async fn fetch_artifacts(root: PathBuf) -> anyhow::Result<()> {
    let manifest = Manifest::load(&root)?;
    let store = ArtifactStore::open(Lock::load(&root)?)?;
    let arch = host_arch()?;
    for variant in Variant::select(None, Some(Base::Ubuntu)) {
        for (_, package) in manifest.artifacts(variant.assistant, variant.base, arch)? {
            store.fetch(&package).await?;
        }
    }
    Ok(())
}

/// The stages passed so far, and how long each took.
struct Passed {
    count: u32,
    last: Mark,
    rows: Vec<Row>,
}

impl Passed {
    fn new() -> anyhow::Result<Self> {
        Ok(Self {
            count: 0,
            last: Mark::now()?,
            rows: Vec::new(),
        })
    }

    /// Records the time since the previous lap as `what`.
    fn lap(&mut self, what: &str) -> anyhow::Result<()> {
        let row = Row::since(what, self.last)?;
        eprintln!("{}", row.line());
        self.rows.push(row);
        self.last = Mark::now()?;
        Ok(())
    }
}

/// Removes every image tagged in [`TEST_NAMESPACE`] (layers shared with other images stay).
async fn remove_test_images(docker: &bollard::Docker) -> anyhow::Result<()> {
    use bollard::query_parameters::{ListImagesOptionsBuilder, RemoveImageOptions};
    let filters =
        std::collections::HashMap::from([("reference", vec![format!("{TEST_NAMESPACE}/*")])]);
    let images = docker
        .list_images(Some(
            ListImagesOptionsBuilder::default()
                .filters(&filters)
                .build(),
        ))
        .await
        .context("cannot list the test images")?;
    let mut removed = 0;
    for tag in images.iter().flat_map(|i| &i.repo_tags) {
        if !tag.starts_with(&format!("{TEST_NAMESPACE}/")) {
            continue;
        }
        docker
            .remove_image(tag, None::<RemoveImageOptions>, None)
            .await
            .with_context(|| format!("cannot remove the test image {tag}"))?;
        removed += 1;
    }
    eprintln!("removed the suite's {removed} image tags ({TEST_NAMESPACE}/*)");
    Ok(())
}

/// The stages, in order; stops at the first failure.
async fn suite(docker: &bollard::Docker, passed: &mut Passed) -> anyhow::Result<()> {
    {
        let extra_ca = PathBuf::from(HOST_CA_BUNDLE);
        let args = build::BuildArgs {
            images: ImageArgs {
                assistant: None,
                base: Some(Base::Ubuntu),
                base_images: vec![(Base::Ubuntu, DEBIAN_BASE_IMAGE.to_owned())],
                // A release, so every kind of tag is published and read back.
                tag: Some(E2E_RELEASE.to_owned()),
                local_namespace: TEST_NAMESPACE.to_owned(),
            },
            no_pull: true,
            pull: false,
            slim_only: false,
            no_cache: false,
            extra_ca_certs: extra_ca.is_file().then_some(extra_ca),
            no_test: false,
            push: false,
            target: Target::default(),
        };
        let first = build::build(docker, &args).await?;
        let images = first.all();
        ensure!(
            images.len() == 2,
            "expected the claude-ubuntu and codex-ubuntu images, got {:?}",
            images
                .iter()
                .map(|i| i.variant.to_string())
                .collect::<Vec<_>>()
        );
        stage(passed, "claude-ubuntu and codex-ubuntu are built")?;

        container_checks::test_all(docker, &images).await?;
        stage(passed, "both images pass test-images")?;

        let slim = first
            .slim
            .as_ref()
            .context("the slim entrypoint image was not built")?;
        let slim_report =
            crate::images::slim_image::test(docker, &slim.reference, &slim.plan).await?;
        stage(
            passed,
            &format!(
                "the slim entrypoint image passes its checks: {}",
                slim_report.line()
            ),
        )?;

        // Both assistants run as the sandbox uid either way; the story runs once fenced and
        // once open, and dumps /proc as the CLI's shell each time. The four runs share nothing
        // (each has its own holder container, network namespace, doubles and builds
        // directory) and mostly wait on containers and CLIs, so they run side by side.
        let runs: Vec<_> = images
            .iter()
            .flat_map(|image| [true, false].map(|fenced| (image, fenced)))
            .collect();
        let stories = futures::future::join_all(
            runs.iter()
                .map(|&(image, fenced)| in_image::issue_to_merge_request(docker, image, fenced)),
        )
        .await;
        let mut told = Vec::new();
        for (&(image, _), story) in runs.iter().zip(stories) {
            told.push(format!("[{}] inside the image: {}", image.variant, story?));
        }
        stages_together(passed, &told)?;

        let claude = images
            .iter()
            .find(|i| i.variant.assistant == ai_core::Assistant::Claude)
            .context("the claude-ubuntu image was not built")?;
        let story =
            crate::scenarios::webhook::webhook_mentions(docker, &slim.reference, &claude.reference)
                .await?;
        stage(passed, &format!("webhook mode in the images: {story}"))?;

        let noop = Instant::now();
        let second = build::build(docker, &args).await?;
        ensure!(
            second.built.is_empty() && second.unchanged.len() == 2,
            "a rebuild with no change rebuilt {:?}",
            second
                .built
                .iter()
                .map(|i| i.variant.to_string())
                .collect::<Vec<_>>()
        );
        for (a, b) in images.iter().zip(&second.unchanged) {
            ensure!(
                a.id == b.id && a.hash == b.hash,
                "{} changed on a no-op rebuild",
                a.variant
            );
        }
        stage(
            passed,
            &format!(
                "a rebuild with no change rebuilds nothing ({:.1?})",
                noop.elapsed()
            ),
        )?;

        let registry = LocalRegistry::start()?;
        let keys = tempfile::tempdir()?;
        let signing_key = SigningKey::generate()?;
        let key_file = keys.path().join("cosign.key");
        std::fs::write(&key_file, signing_key.to_pem()?)?;
        // The release job's identity, certified by the Fulcio double: the images are signed with
        // the key and keylessly, as the release pipeline signs them.
        let gitlab = OidcIssuer::new("https://gitlab.com")?;
        let fulcio = FulcioDouble::start(&[&gitlab])?;
        let job = GitLabJob {
            project_path: "gitlab-ai/gitlab-ai".into(),
            git_ref: format!("v{E2E_RELEASE}"),
            ref_type: "tag".into(),
        };
        let id_token = Secret::new(gitlab.gitlab_token(&job)?);
        let target = |password: &str| Target {
            registry_image: Some(format!("{}/gitlab-ai", registry.host)),
            registry_user: Some(registry.user.clone()),
            registry_password: Some(password.to_owned()),
            latest: false,
            signing_key: Some(key_file.clone()),
            keyless: true,
            fulcio_url: fulcio.url.clone(),
            id_token: Some(id_token.clone()),
        };
        let refused = publish::publish(docker, &args.images, &target("not-the-password")).await;
        match refused {
            Ok(_) => bail!("a push with a wrong password succeeded"),
            Err(err) => eprintln!("refused as expected: {err:#}"),
        }
        stage(passed, "a push the registry refuses fails the command")?;

        let published = publish::publish(docker, &args.images, &target(&registry.password)).await?;
        let names: Vec<String> = published.iter().map(|p| p.image.to_string()).collect();
        ensure!(
            names == ["claude-ubuntu", "codex-ubuntu", "entrypoint"],
            "expected claude-ubuntu, codex-ubuntu and the slim entrypoint image published, got {names:?}"
        );
        let credentials = Credentials {
            username: registry.user.clone(),
            password: Secret::new(registry.password.clone()),
        };
        for image in &published {
            let client = RegistryClient::new(
                Repository::parse(&image.repository)?,
                Some(credentials.clone()),
            )?;
            let verified = supply_chain::verify(
                &client,
                E2E_RELEASE,
                &supply_chain::Verifier::Key(signing_key.public_key()),
            )
            .await?;
            ensure!(
                verified.len() == 1 && verified[0].digest == image.digest,
                "{}: verified {verified:?}, published {}",
                image.repository,
                image.digest
            );
            let keyless = supply_chain::verify(
                &client,
                E2E_RELEASE,
                &supply_chain::Verifier::Keyless(KeylessPolicy::new(
                    &fulcio.root_pem,
                    &job.identity("gitlab.com"),
                    "https://gitlab.com",
                )?),
            )
            .await?;
            ensure!(
                keyless.len() == 1 && keyless[0].digest == image.digest,
                "{}: keyless verification gave {keyless:?}",
                image.repository
            );
            // The tag `0.0.0-e2e` is the ubuntu family's unsuffixed version tag.
            eprintln!(
                "[{}] signed; SBOM of {} packages; provenance of {}",
                image.image, verified[0].sbom_packages, verified[0].revision
            );
        }
        stage(
            passed,
            "the published images (claude, codex and the slim entrypoint) are signed with the key and keylessly, with SBOM and provenance, and verify both ways",
        )?;
        for image in &published {
            let wanted: &[&str] = match image.image {
                PublishedImage::Assistant(_) => &["latest", "ubuntu", "0.0.0-e2e-ubuntu"],
                PublishedImage::Entrypoint => &["latest", E2E_RELEASE],
            };
            for &wanted in wanted {
                ensure!(
                    image.tags.iter().any(|t| t == wanted),
                    "{} was not published as {wanted}: {:?}",
                    image.repository,
                    image.tags
                );
            }
        }
        for image in &published {
            let reference = format!("{}:{}", image.repository, image.tags[0]);
            let local = engine::inspect_image(docker, &reference)
                .await?
                .with_context(|| format!("{reference} is not tagged locally"))?;
            let expected = format!("{}@{}", image.repository, image.digest);
            ensure!(
                local.repo_digests.unwrap_or_default().contains(&expected),
                "the engine does not record {expected} for {reference}"
            );
            eprintln!(
                "[{}] {} compressed according to the registry",
                image.image,
                crate::engine::mb(image.compressed_size)
            );
            for tag in &image.tags {
                let _ = docker
                    .remove_image(
                        &format!("{}:{tag}", image.repository),
                        None::<bollard::query_parameters::RemoveImageOptions>,
                        None,
                    )
                    .await;
            }
        }
        stage(
            passed,
            "published to a local registry with htpasswd auth; the manifests read back carry the pushed digests",
        )?;

        Ok(())
    }
}

/// Prints stages that ran side by side as passed, and records their time as one row.
fn stages_together(passed: &mut Passed, whats: &[String]) -> anyhow::Result<()> {
    let first = passed.count + 1;
    for what in whats {
        passed.count += 1;
        eprintln!("e2e ok {}: {what}", passed.count);
    }
    passed.lap(&format!(
        "e2e {first}-{}: {} stories side by side",
        passed.count,
        whats.len()
    ))
}

/// Prints the stage as passed and records its time, named by its first words.
fn stage(passed: &mut Passed, what: &str) -> anyhow::Result<()> {
    passed.count += 1;
    eprintln!("e2e ok {}: {what}", passed.count);
    let short: String = what.chars().take(48).collect();
    passed.lap(&format!("e2e {}: {short}", passed.count))
}
