//! `cargo xtask bump-versions [--apply]`: finds newer releases of what the images pin (the
//! Claude Code and Codex CLIs at their `latest` dist-tag, Node at the newest release of the
//! pinned major line) on the npm registry (`NPM_CONFIG_REGISTRY` honoured), prints what would
//! change, and with `--apply` rewrites `images/images.toml` (only the version values: comments
//! and layout stay, through `toml_edit`) and `images/images.lock`; the tests install the CLIs
//! pinned there, so nothing else holds a version.
//!
//! Nothing is written unless every artifact of the new versions is published with an integrity:
//! a CLI release whose platform packages are not out yet leaves the tree untouched. The scheduled
//! release-pipeline job runs this and proposes the result as a merge request, where the image
//! suite smoke-tests the new CLIs (`--version`) before anyone merges.

use std::fmt;
use std::path::Path;

use ai_core::Assistant;
use anyhow::Context;
use clap::Parser;
use semver::Version;

use crate::images::lockfile::lock_for;
use crate::images::lockfile::lock_path;
use crate::images::manifest::{Manifest, NpmPackage, manifest_path};
use crate::images::npm_registry::{NpmRegistry, Packument};
use crate::registry::oci::Arch;
use crate::util::cmd;

/// Flags of `cargo xtask bump-versions`.
#[derive(Debug, Parser)]
pub struct Args {
    /// Write the new versions (images.toml, images.lock); without it
    /// only print what would change.
    #[arg(long)]
    apply: bool,
}

/// One pinned thing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pinned {
    /// An assistant CLI (`[assistants.<name>].version`).
    Assistant(Assistant),
    /// Node (`[node].version`), kept on its major line.
    Node,
}

impl fmt::Display for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pinned::Assistant(assistant) => write!(f, "{assistant}"),
            Pinned::Node => f.write_str("node"),
        }
    }
}

/// A pinned version and the newest release it may move to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bump {
    /// What is pinned.
    pub pinned: Pinned,
    /// The npm package its releases are read from.
    pub package: String,
    /// The pinned version.
    pub from: String,
    /// The newest release (equal to `from` when up to date).
    pub to: String,
}

impl Bump {
    /// Whether a newer release exists.
    pub fn changes(&self) -> bool {
        self.from != self.to
    }
}

fn stable(text: &str) -> Option<Version> {
    Version::parse(text).ok().filter(|v| v.pre.is_empty())
}

/// The `latest` dist-tag when it is a stable release newer than `current`, else `current`.
fn newest_latest(packument: &Packument, name: &str, current: &str) -> anyhow::Result<String> {
    let latest = packument
        .dist_tags
        .get("latest")
        .with_context(|| format!("{name} has no `latest` dist-tag"))?;
    let pinned = Version::parse(current)
        .with_context(|| format!("the pinned version {current:?} of {name} is not semver"))?;
    Ok(match stable(latest) {
        Some(latest_version) if latest_version > pinned => latest.clone(),
        _ => current.to_owned(),
    })
}

/// The newest stable version on `current`'s major line.
fn newest_in_major(packument: &Packument, name: &str, current: &str) -> anyhow::Result<String> {
    let pinned = Version::parse(current)
        .with_context(|| format!("the pinned version {current:?} of {name} is not semver"))?;
    Ok(packument
        .versions
        .keys()
        .filter_map(|v| stable(v).map(|parsed| (parsed, v)))
        .filter(|(parsed, _)| parsed.major == pinned.major && *parsed > pinned)
        .max_by(|a, b| a.0.cmp(&b.0))
        .map_or_else(|| current.to_owned(), |(_, v)| v.clone()))
}

/// The newest release of everything the manifest pins.
pub async fn find_bumps(manifest: &Manifest, registry: &NpmRegistry) -> anyhow::Result<Vec<Bump>> {
    let mut bumps = Vec::new();
    for assistant in Assistant::ALL {
        let spec = manifest.assistant(assistant)?;
        let packument = registry.packument(&spec.package).await?;
        bumps.push(Bump {
            pinned: Pinned::Assistant(assistant),
            package: spec.package.clone(),
            from: spec.version.clone(),
            to: newest_latest(&packument, &spec.package, &spec.version)?,
        });
    }
    // The Node artifacts' own packages carry the releases (`node-linux-{arch}@{version}`): the
    // newest version on the pinned major line that every architecture has.
    let mut node_packages = Vec::new();
    let mut newest: Option<(Version, String)> = None;
    for arch in Arch::ALL {
        let name = NpmPackage::parse(
            &manifest
                .node
                .artifact
                .replace("{version}", &manifest.node.version)
                .replace("{arch}", arch.npm_name()),
        )?
        .name;
        let packument = registry.packument(&name).await?;
        let candidate = newest_in_major(&packument, &name, &manifest.node.version)?;
        let parsed = Version::parse(&candidate)?;
        if newest.as_ref().is_none_or(|(v, _)| parsed < *v) {
            newest = Some((parsed, candidate));
        }
        node_packages.push(name);
    }
    bumps.push(Bump {
        pinned: Pinned::Node,
        to: newest.map_or_else(|| manifest.node.version.clone(), |(_, v)| v),
        package: node_packages.join(", "),
        from: manifest.node.version.clone(),
    });
    Ok(bumps)
}

/// Sets one version value in a TOML document, keeping the value's surrounding comments.
fn set_version(doc: &mut toml_edit::DocumentMut, path: &[&str], to: &str) -> anyhow::Result<()> {
    let mut item = doc.as_item_mut();
    for key in path {
        item = item
            .get_mut(key)
            .with_context(|| format!("`{}` is missing", path.join(".")))?;
    }
    let value = item
        .as_value_mut()
        .with_context(|| format!("`{}` is not a value", path.join(".")))?;
    let decor = value.decor().clone();
    *value = toml_edit::Value::from(to);
    *value.decor_mut() = decor;
    Ok(())
}

/// `images/images.toml` with the bumped versions.
pub fn bump_manifest_text(text: &str, bumps: &[Bump]) -> anyhow::Result<String> {
    let mut doc: toml_edit::DocumentMut = text.parse().context("images.toml is not TOML")?;
    for bump in bumps.iter().filter(|b| b.changes()) {
        match bump.pinned {
            Pinned::Assistant(assistant) => set_version(
                &mut doc,
                &["assistants", assistant.to_string().as_str(), "version"],
                &bump.to,
            )?,
            Pinned::Node => set_version(&mut doc, &["node", "version"], &bump.to)?,
        }
    }
    Ok(doc.to_string())
}

/// Finds the bumps and, with `apply`, writes them; returns them.
pub async fn bump(root: &Path, registry: &NpmRegistry, apply: bool) -> anyhow::Result<Vec<Bump>> {
    let manifest = Manifest::load(root)?;
    let bumps = find_bumps(&manifest, registry).await?;
    for bump in &bumps {
        if bump.changes() {
            eprintln!(
                "{}: {} → {} ({})",
                bump.pinned, bump.from, bump.to, bump.package
            );
        } else {
            eprintln!(
                "{}: {} is the newest ({})",
                bump.pinned, bump.from, bump.package
            );
        }
    }
    if !bumps.iter().any(Bump::changes) {
        eprintln!("everything is up to date on {}", registry.base());
        return Ok(bumps);
    }
    if !apply {
        eprintln!("run with --apply to write images/images.toml and images/images.lock");
        return Ok(bumps);
    }
    let manifest_file = manifest_path(root);
    let manifest_text = std::fs::read_to_string(&manifest_file)
        .with_context(|| format!("cannot read {}", manifest_file.display()))?;
    let new_manifest_text = bump_manifest_text(&manifest_text, &bumps)?;
    let new_manifest =
        Manifest::parse(&new_manifest_text).context("the bumped images.toml does not validate")?;
    let lock = lock_for(&new_manifest, registry)
        .await
        .context("an artifact of the new versions is not published (yet): nothing was written")?;
    for (path, text) in [
        (manifest_file, new_manifest_text),
        (lock_path(root), lock.render()?),
    ] {
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(bumps)
}

/// Runs the command against the registry named by the environment.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = cmd::workspace_root()?;
    let registry = NpmRegistry::from_env()?;
    tokio::runtime::Runtime::new()?.block_on(bump(&root, &registry, args.apply))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Write as _;
    use std::sync::Arc;

    use super::*;
    use crate::images::integrity::Integrity;
    use crate::images::lockfile::Lock;

    /// One package on the registry double: its versions and `latest` tag.
    struct Package {
        name: String,
        versions: Vec<String>,
        latest: String,
    }

    fn package(name: &str, versions: &[&str], latest: &str) -> Package {
        Package {
            name: name.to_owned(),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            latest: latest.to_owned(),
        }
    }

    fn tarball(name: &str, version: &str) -> Vec<u8> {
        let json = serde_json::json!({"name": name, "version": version}).to_string();
        let mut tar = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "package/package.json", json.as_bytes())
            .unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar.into_inner().unwrap()).unwrap();
        gz.finish().unwrap()
    }

    /// An npm-registry double on loopback serving package documents, version documents and
    /// generated tarballs; returns its base URL and the integrity of each `name@version`.
    async fn npm_double(packages: Vec<Package>) -> (String, HashMap<String, String>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut routes: HashMap<String, Vec<u8>> = HashMap::new();
        let mut integrities = HashMap::new();
        for p in &packages {
            let escaped = p.name.replace('/', "%2f");
            let mut versions = serde_json::Map::new();
            for v in &p.versions {
                let bytes = tarball(&p.name, v);
                let integrity = Integrity::of(&bytes).to_string();
                let file = p.name.rsplit('/').next().unwrap();
                let tarball_path = format!("/{}/-/{file}-{v}.tgz", p.name);
                let doc = serde_json::json!({
                    "name": p.name,
                    "version": v,
                    "dist": {"tarball": format!("{base}{tarball_path}"), "integrity": integrity},
                });
                routes.insert(format!("/{escaped}/{v}"), doc.to_string().into_bytes());
                routes.insert(tarball_path, bytes);
                versions.insert(v.clone(), doc);
                integrities.insert(format!("{}@{v}", p.name), integrity);
            }
            let packument = serde_json::json!({
                "name": p.name,
                "dist-tags": {"latest": p.latest},
                "versions": versions,
            });
            routes.insert(format!("/{escaped}"), packument.to_string().into_bytes());
        }
        let routes = Arc::new(routes);
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let routes = routes.clone();
            async move {
                match routes.get(uri.path()) {
                    Some(body) => (axum::http::StatusCode::OK, body.clone()),
                    None => (axum::http::StatusCode::NOT_FOUND, b"{}".to_vec()),
                }
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (base, integrities)
    }

    /// A copy of the two files the command edits, in a scratch workspace.
    fn scratch_workspace() -> (tempfile::TempDir, Manifest) {
        let real = cmd::workspace_root().unwrap();
        let dir = tempfile::tempdir().unwrap();
        for file in ["images/images.toml", "images/images.lock"] {
            let to = dir.path().join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(real.join(file), to).unwrap();
        }
        let manifest = Manifest::load(dir.path()).unwrap();
        (dir, manifest)
    }

    fn next_patch(version: &str) -> String {
        let mut v = Version::parse(version).unwrap();
        v.patch += 7;
        v.to_string()
    }

    /// The registry as it would look after new CLI and Node releases; `with_codex_platform`
    /// false leaves out the new Codex platform package (published minutes after the CLI).
    fn released(manifest: &Manifest, with_codex_platform: bool) -> (Vec<Package>, [String; 3]) {
        let claude = &manifest.assistant(Assistant::Claude).unwrap().version;
        let codex = &manifest.assistant(Assistant::Codex).unwrap().version;
        let node = &manifest.node.version;
        let (new_claude, new_codex, new_node) =
            (next_patch(claude), next_patch(codex), next_patch(node));
        let node_major = Version::parse(node).unwrap().major;
        let next_major = format!("{}.0.0", node_major + 2);
        let beta = format!("{}-beta.1", next_patch(&new_claude));
        let mut codex_versions = vec![codex.clone(), new_codex.clone()];
        let mut packages = vec![package(
            "@anthropic-ai/claude-code",
            &[claude, &new_claude, &beta],
            &new_claude,
        )];
        for arch in Arch::ALL {
            let npm = arch.npm_name();
            codex_versions.push(format!("{codex}-linux-{npm}"));
            if with_codex_platform {
                codex_versions.push(format!("{new_codex}-linux-{npm}"));
            }
            for suffix in ["", "-musl"] {
                packages.push(package(
                    &format!("@anthropic-ai/claude-code-linux-{npm}{suffix}"),
                    &[claude, &new_claude],
                    &new_claude,
                ));
            }
            packages.push(package(
                &format!("node-linux-{npm}"),
                &[node, &new_node, &next_major],
                &next_major,
            ));
        }
        let codex_refs: Vec<&str> = codex_versions.iter().map(String::as_str).collect();
        packages.push(package("@openai/codex", &codex_refs, &new_codex));
        (packages, [new_claude, new_codex, new_node])
    }

    #[tokio::test]
    async fn new_releases_are_printed_then_written_with_their_integrities_and_comments_kept() {
        let (dir, manifest) = scratch_workspace();
        let root = dir.path();
        let (packages, [new_claude, new_codex, new_node]) = released(&manifest, true);
        let (base, integrities) = npm_double(packages).await;
        let registry = NpmRegistry::new(&base).unwrap();
        let before = std::fs::read_to_string(manifest_path(root)).unwrap();

        let dry = bump(root, &registry, false).await.unwrap();
        let targets: Vec<&str> = dry.iter().map(|b| b.to.as_str()).collect();
        // Node stays on its major line; the CLIs follow `latest`, never a prerelease.
        assert_eq!(
            targets,
            [new_claude.as_str(), new_codex.as_str(), new_node.as_str()]
        );
        assert_eq!(
            std::fs::read_to_string(manifest_path(root)).unwrap(),
            before
        );

        bump(root, &registry, true).await.unwrap();
        let after = std::fs::read_to_string(manifest_path(root)).unwrap();
        let changed: Vec<(&str, &str)> = before
            .lines()
            .zip(after.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(before.lines().count(), after.lines().count());
        assert_eq!(
            changed.len(),
            3,
            "only the three version lines change: {changed:#?}"
        );
        let bumped = Manifest::load(root).unwrap();
        assert_eq!(
            bumped.assistant(Assistant::Claude).unwrap().version,
            new_claude
        );
        assert_eq!(bumped.node.version, new_node);

        let lock = Lock::load(root).unwrap();
        lock.check_matches(&bumped).unwrap();
        for artifact in &lock.artifacts {
            let key = format!("{}@{}", artifact.package, artifact.version);
            assert_eq!(artifact.integrity, integrities[&key], "{key}");
        }

        let again = bump(root, &registry, true).await.unwrap();
        assert!(again.iter().all(|b| !b.changes()), "{again:?}");
    }

    #[tokio::test]
    async fn a_release_whose_platform_package_is_missing_writes_nothing() {
        let (dir, manifest) = scratch_workspace();
        let root = dir.path();
        let (packages, _) = released(&manifest, false);
        let (base, _) = npm_double(packages).await;
        let registry = NpmRegistry::new(&base).unwrap();
        let files = ["images/images.toml", "images/images.lock"];
        let before: Vec<String> = files
            .iter()
            .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
            .collect();
        let err = bump(root, &registry, true).await.unwrap_err();
        assert!(
            format!("{err:#}").contains("nothing was written"),
            "{err:#}"
        );
        for (file, text) in files.iter().zip(&before) {
            assert_eq!(
                &std::fs::read_to_string(root.join(file)).unwrap(),
                text,
                "{file}"
            );
        }
    }
}
