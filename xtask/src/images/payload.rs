//! What goes into a variant's build context: the Dockerfile, the extra CA certificates, and a
//! `rootfs/` tree (our entrypoint, the assistant CLI, Node where needed) that the Dockerfile
//! copies onto `/` in one layer.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use ai_core::Assistant;
use anyhow::{Context, bail};
use serde::Deserialize;

use crate::images::artifacts::Artifact;
use crate::images::context::BuildContext;
use crate::images::manifest::ArtifactRole;
use crate::images::variants::VariantPlan;
use crate::util::cmd;
use crate::util::prerequisites;

/// The name of the extra CA bundle inside the context (may be empty).
pub const EXTRA_CA_FILE: &str = "extra-ca-certificates.crt";

/// Everything a variant's context is made from.
pub struct PayloadInputs<'a> {
    /// The variant's row.
    pub plan: &'a VariantPlan,
    /// The Dockerfile's text.
    pub dockerfile: String,
    /// PEM certificates to trust in the build and the image (empty for none).
    pub extra_ca: Vec<u8>,
    /// The release `entrypoint` binary.
    pub entrypoint: &'a Path,
    /// The variant's unpacked artifacts with their role.
    pub artifacts: &'a [(ArtifactRole, Artifact)],
}

/// A variant's context.
pub struct Payload {
    /// The assembled context, inputs recorded.
    pub context: BuildContext,
}

/// Codex's `codex-package.json`: where the native binary and its helpers are in the package.
/// Its layout changes between releases, so paths are read, never assumed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodexPackage {
    entrypoint: String,
    resources_dir: String,
}

fn rootfs(path_in_image: &str) -> String {
    format!("rootfs/{}", path_in_image.trim_start_matches('/'))
}

fn is_executable(path: &Path) -> anyhow::Result<bool> {
    Ok(std::fs::metadata(path)
        .with_context(|| format!("cannot stat {}", path.display()))?
        .permissions()
        .mode()
        & 0o111
        != 0)
}

/// Every regular file under `dir`, as paths relative to it, sorted.
fn files_under(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in
            std::fs::read_dir(&d).with_context(|| format!("cannot read {}", d.display()))?
        {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                stack.push(entry.path());
            } else if kind.is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .context("walked outside the artifact")?
                    .to_string_lossy()
                    .into_owned();
                out.push(rel);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn add_artifact_file(
    ctx: &mut BuildContext,
    artifact: &Artifact,
    path_in_artifact: &str,
    path_in_image: &str,
) -> anyhow::Result<PathBuf> {
    let file = artifact.root.join(path_in_artifact);
    let executable = is_executable(&file)?;
    ctx.add_artifact_file(
        &rootfs(path_in_image),
        &file,
        &artifact.integrity,
        path_in_artifact,
        executable,
    )?;
    Ok(file)
}

/// Adds Claude Code's single native binary (`claude` at the package root).
fn add_claude(ctx: &mut BuildContext, artifact: &Artifact, binary: &str) -> anyhow::Result<()> {
    add_artifact_file(ctx, artifact, "claude", binary).map(drop)
}

/// The code-mode host in Codex's `bin/`: it runs model-written JavaScript for the `code_mode`
/// feature, which is "under development" and off by default in the pinned release (`codex
/// features list`), and `entrypoint run` never turns it on. At 70 MB (27 MB gzipped) it is left
/// out; the image's end-to-end story proves Codex works without it.
const CODEX_CODE_MODE_HOST: &str = "codex-code-mode-host";

/// Adds Codex under `/opt/codex` as its package lays it out (binary, bundled `rg` and `bwrap`),
/// without the voice runtime (glibc GStreamer libraries a headless CI job never uses) and the
/// code-mode host ([`CODEX_CODE_MODE_HOST`]), and links the CLI onto PATH.
fn add_codex(ctx: &mut BuildContext, artifact: &Artifact, binary: &str) -> anyhow::Result<()> {
    let vendor = artifact.root.join("vendor");
    let mut targets = Vec::new();
    for entry in std::fs::read_dir(&vendor)
        .with_context(|| format!("{} has no vendor/ directory", artifact.package))?
    {
        let entry = entry?;
        if entry.path().join("codex-package.json").is_file() {
            targets.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    let [target] = targets.as_slice() else {
        bail!(
            "{} should hold exactly one vendor/<target>/codex-package.json, found {targets:?}",
            artifact.package
        );
    };
    let dir = vendor.join(target);
    let layout: CodexPackage =
        serde_json::from_slice(&std::fs::read(dir.join("codex-package.json"))?)
            .with_context(|| format!("unexpected codex-package.json in {}", artifact.package))?;
    let voice = format!("{}/voice/", layout.resources_dir);
    let mut cli_found = false;
    for rel in files_under(&dir)? {
        let name = rel.rsplit('/').next().unwrap_or(&rel);
        if rel.starts_with(&voice) || name == CODEX_CODE_MODE_HOST {
            continue;
        }
        add_artifact_file(
            ctx,
            artifact,
            &format!("vendor/{target}/{rel}"),
            &format!("/opt/codex/{rel}"),
        )?;
        cli_found |= rel == layout.entrypoint;
    }
    if !cli_found {
        bail!(
            "codex-package.json names {} but the package lacks it",
            layout.entrypoint
        );
    }
    ctx.add_symlink(
        &rootfs(binary),
        &format!("/opt/codex/{}", layout.entrypoint),
    )
}

/// How Node's binary is stripped; part of the file's identity in the context hash.
const NODE_STRIP: [&str; 1] = ["--strip-all"];

/// npm's Node build carries its symbol table and DWARF debug information (18 MB raw, 4 MB
/// gzipped in the pinned release), which only a debugger reads. The stripped copy is made once,
/// beside the unpacked artifact whose cache directory is named after its integrity.
fn stripped_node(artifact: &Artifact) -> anyhow::Result<PathBuf> {
    let original = artifact.root.join("bin/node");
    let stripped = artifact.root.with_file_name("node.stripped");
    if stripped.is_file() {
        return Ok(stripped);
    }
    if !cmd::available("strip") {
        prerequisites::apt_install(&["binutils"])?;
    }
    let partial = stripped.with_extension("partial");
    let dir = artifact.root.parent().unwrap_or(&artifact.root);
    cmd::run(
        dir,
        "strip",
        NODE_STRIP.iter().map(std::ffi::OsStr::new).chain([
            "-o".as_ref(),
            partial.as_os_str(),
            original.as_os_str(),
        ]),
    )?;
    std::fs::rename(&partial, &stripped)
        .with_context(|| format!("cannot move the stripped Node to {}", stripped.display()))?;
    Ok(stripped)
}

/// Adds npm's Node build (its binary stripped) under `/opt/node` and links `node` onto PATH.
fn add_node(ctx: &mut BuildContext, artifact: &Artifact) -> anyhow::Result<()> {
    ctx.add_artifact_file(
        &rootfs("/opt/node/bin/node"),
        &stripped_node(artifact)?,
        &artifact.integrity,
        &format!("bin/node (strip {})", NODE_STRIP.join(" ")),
        true,
    )?;
    add_artifact_file(ctx, artifact, "LICENSE", "/opt/node/LICENSE")?;
    ctx.add_symlink(&rootfs("/usr/local/bin/node"), "/opt/node/bin/node")
}

/// Assembles a variant's context.
pub fn assemble(inputs: PayloadInputs<'_>) -> anyhow::Result<Payload> {
    let plan = inputs.plan;
    let mut ctx = BuildContext::new();
    ctx.add_bytes(plan.dockerfile, inputs.dockerfile.into_bytes(), false)?;
    ctx.add_bytes(EXTRA_CA_FILE, inputs.extra_ca, false)?;
    ctx.add_local_file(
        &rootfs("/usr/local/bin/entrypoint"),
        inputs.entrypoint,
        true,
    )?;
    let mut has_assistant = false;
    for (role, artifact) in inputs.artifacts {
        match role {
            ArtifactRole::Assistant => {
                match plan.variant.assistant {
                    Assistant::Claude => add_claude(&mut ctx, artifact, &plan.binary)?,
                    Assistant::Codex => add_codex(&mut ctx, artifact, &plan.binary)?,
                }
                has_assistant = true;
            }
            ArtifactRole::Node => add_node(&mut ctx, artifact)?,
        }
    }
    if !has_assistant {
        bail!("no assistant artifact given for {}", plan.variant);
    }
    for (key, value) in &plan.build_args {
        ctx.add_input(&format!("build-arg:{key}"), value);
    }
    for (key, value) in &plan.labels {
        ctx.add_input(&format!("label:{key}"), value);
    }
    Ok(Payload { context: ctx })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::images::integrity::Integrity;
    use crate::images::manifest::{Base, Manifest, NpmPackage};
    use crate::images::variants::{BuildSettings, Variant};

    fn write(path: &Path, content: &[u8], mode: u32) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn codex_is_laid_out_from_its_package_json_without_voice_or_code_mode_host() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("package");
        let vendor = pkg.join("vendor/x86_64-unknown-linux-musl");
        write(
            &vendor.join("codex-package.json"),
            br#"{"entrypoint":"bin/codex","resourcesDir":"res","pathDir":"path"}"#,
            0o644,
        );
        write(&vendor.join("bin/codex"), b"codex", 0o755);
        write(&vendor.join("bin/codex-code-mode-host"), b"host", 0o755);
        write(&vendor.join("res/bwrap"), b"bwrap", 0o755);
        write(&vendor.join("res/voice/lib/libgst.so"), b"gst", 0o755);
        write(&vendor.join("path/rg"), b"rg", 0o755);
        let entrypoint = dir.path().join("entrypoint");
        write(&entrypoint, b"ep", 0o755);

        let root = crate::util::cmd::workspace_root().unwrap();
        let manifest = Manifest::load(&root).unwrap();
        let settings = BuildSettings {
            version: "1.0.0".into(),
            revision: "abc".into(),
            source: "s".into(),
            base_images: Default::default(),
            local_namespace: crate::images::variants::LOCAL_NAMESPACE.into(),
        };
        let variant = Variant {
            assistant: Assistant::Codex,
            base: Base::Alpine,
        };
        let plan = VariantPlan::new(&manifest, &settings, variant).unwrap();
        let artifact = Artifact {
            package: NpmPackage::parse("@openai/codex@1.0.0-linux-x64").unwrap(),
            integrity: Integrity::of(b"tgz"),
            root: pkg.clone(),
        };
        let payload = assemble(PayloadInputs {
            plan: &plan,
            dockerfile: "FROM x\n".into(),
            extra_ca: vec![],
            entrypoint: &entrypoint,
            artifacts: &[(ArtifactRole::Assistant, artifact)],
        })
        .unwrap();
        let paths: Vec<&str> = payload.context.paths().collect();
        assert!(paths.contains(&"rootfs/opt/codex/bin/codex"));
        assert!(paths.contains(&"rootfs/opt/codex/res/bwrap"));
        assert!(paths.contains(&"rootfs/opt/codex/path/rg"));
        assert!(paths.contains(&"rootfs/usr/local/bin/codex"));
        assert!(paths.contains(&"rootfs/usr/local/bin/entrypoint"));
        assert!(!paths.iter().any(|p| p.contains("voice")), "{paths:?}");
        assert!(
            !paths.iter().any(|p| p.contains("code-mode-host")),
            "{paths:?}"
        );
    }
}
