//! The local Debian base image (debootstrap + import) that stands in for `ubuntu:24.04` where
//! no registry serves it: made by `cargo xtask bootstrap-base`, and on demand by `build-images`,
//! the e2e suite and the index tests.

use std::time::Instant;

use anyhow::Context;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;
use tokio_util::io::ReaderStream;

use crate::engine::progress::Step;
use crate::engine::{self, mb};
use crate::images::cache;
use crate::util::cmd;
use crate::util::prerequisites;

/// The image `--base-image ubuntu=…` points at in tests.
pub const DEBIAN_BASE_IMAGE: &str = "local/debian-bookworm";

const SUITE: &str = "bookworm";

/// The version of how the rootfs is made: bump it when `make_rootfs_tarball` changes, so cached
/// tarballs and imported images from the old recipe are replaced.
const RECIPE: &str = "r2";
const RECIPE_LABEL: &str = "gitlab-ai.base-recipe";

/// Left out of the stand-in, as Ubuntu's minimized images leave them out: package lists and
/// caches, documentation, man pages, translations.
const PRUNED: [&str; 6] = [
    "var/lib/apt/lists",
    "var/cache/apt",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
];

/// Debian's own mirror network, reachable over plain HTTP from the build machines.
pub const DEFAULT_MIRROR: &str = "http://deb.debian.org/debian";

/// Imports the base unless present; makes the rootfs tarball unless cached.
pub async fn ensure(docker: &Docker, force: bool, mirror: &str) -> anyhow::Result<()> {
    // Two processes may want the base at once (`cargo xtask test` runs the image suite beside
    // the workspace tests, one of which pushes the base through a registry): the second waits
    // for the first's bootstrap and import, then finds the image, instead of running its own.
    let lock_path = cache::cache_dir("base")?.join(".lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    let _lock = tokio::task::spawn_blocking(move || lock.lock().map(|()| lock))
        .await
        .context("the task waiting for the base image's lock panicked")?
        .with_context(|| format!("cannot lock {}", lock_path.display()))?;
    let existing = engine::inspect_image(docker, DEBIAN_BASE_IMAGE).await?;
    let current = existing.as_ref().is_some_and(|image| {
        image
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref())
            .and_then(|l| l.get(RECIPE_LABEL))
            .is_some_and(|v| v == RECIPE)
    });
    if !force
        && current
        && let Some(image) = existing
    {
        eprintln!(
            "{DEBIAN_BASE_IMAGE} is present ({}, {}); nothing to do",
            image.id.unwrap_or_default(),
            mb(image.size.unwrap_or(0).max(0) as u64)
        );
        return Ok(());
    }
    let dir = cache::cache_dir("base")?;
    let tarball = dir.join(format!("debian-{SUITE}-minbase-{RECIPE}.tar"));
    if force || !tarball.is_file() {
        make_rootfs_tarball(&dir, &tarball, mirror)?;
    } else {
        eprintln!("using the cached rootfs {}", tarball.display());
    }
    import(docker, &tarball).await
}

fn make_rootfs_tarball(
    dir: &std::path::Path,
    tarball: &std::path::Path,
    mirror: &str,
) -> anyhow::Result<()> {
    if !cmd::available("debootstrap") && !std::path::Path::new("/usr/sbin/debootstrap").exists() {
        prerequisites::apt_install(&["debootstrap"])?;
    }
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("rootfs-")
        .tempdir_in(dir)
        .context("cannot create a directory for debootstrap")?;
    let rootfs = work.path().join("rootfs");
    // debootstrap installs the core packages for minutes without a line.
    let step = Step::plain("bootstrapping the Debian stand-in (debootstrap, tar)");
    cmd::run(
        dir,
        "debootstrap",
        [
            "--variant=minbase".as_ref(),
            SUITE.as_ref(),
            rootfs.as_os_str(),
            mirror.as_ref(),
        ],
    )?;
    prune(&rootfs)?;
    let partial = work.path().join("rootfs.tar");
    cmd::run(
        dir,
        "tar",
        [
            "--numeric-owner".as_ref(),
            "-C".as_ref(),
            rootfs.as_os_str(),
            "-cf".as_ref(),
            partial.as_os_str(),
            ".".as_ref(),
        ],
    )?;
    drop(step);
    std::fs::rename(&partial, tarball)
        .with_context(|| format!("cannot move the rootfs tarball to {}", tarball.display()))?;
    eprintln!("made {} in {:.0?}", tarball.display(), started.elapsed());
    Ok(())
}

/// Empties the [`PRUNED`] directories (keeping the directories themselves, which apt expects).
fn prune(rootfs: &std::path::Path) -> anyhow::Result<()> {
    for dir in PRUNED {
        let dir = rootfs.join(dir);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let path = entry?.path();
            let removed = if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.with_context(|| format!("cannot prune {}", path.display()))?;
        }
    }
    Ok(())
}

async fn import(docker: &Docker, tarball: &std::path::Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let (repo, tag) = DEBIAN_BASE_IMAGE
        .rsplit_once(':')
        .unwrap_or((DEBIAN_BASE_IMAGE, "latest"));
    let options = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(repo)
        .tag(tag)
        .changes(vec![
            "CMD [\"/bin/bash\"]".to_owned(),
            format!("LABEL {RECIPE_LABEL}={RECIPE}"),
        ])
        .build();
    let file = tokio::fs::File::open(tarball)
        .await
        .with_context(|| format!("cannot open {}", tarball.display()))?;
    let body = bollard::body_try_stream(ReaderStream::new(file));
    let _step = Step::spinner(&format!("importing {DEBIAN_BASE_IMAGE}"));
    let mut stream = docker.create_image(Some(options), Some(body), None);
    while let Some(item) = stream.next().await {
        item.with_context(|| format!("importing {} as {DEBIAN_BASE_IMAGE}", tarball.display()))?;
    }
    let image = engine::inspect_image(docker, DEBIAN_BASE_IMAGE)
        .await?
        .with_context(|| format!("the import finished but {DEBIAN_BASE_IMAGE} does not exist"))?;
    eprintln!(
        "imported {DEBIAN_BASE_IMAGE} ({}, {}) in {:.0?}",
        image.id.unwrap_or_default(),
        mb(image.size.unwrap_or(0).max(0) as u64),
        started.elapsed()
    );
    Ok(())
}
