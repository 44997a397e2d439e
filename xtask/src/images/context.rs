//! The build context: an allowlist of files assembled by the xtask (the daemon applies no
//! `.dockerignore` to a hand-built context), written as a deterministic tar and identified by a
//! content hash.
//!
//! Determinism is what makes "skip unchanged images" and the daemon's layer cache work across
//! runs and machines: entries are sorted by path, every header has uid/gid 0, empty owner names,
//! one fixed mtime and a mode of 0755 (directories, executables) or 0644, and parent directories
//! are written explicitly.
//!
//! The hash covers each entry's path, kind, mode and content digest plus every other build input
//! (build args, labels, the base image's id), so two contexts with the same hash build the same
//! image. Files from verified npm artifacts are identified by the tarball's integrity and their
//! path in it, which avoids re-hashing hundreds of megabytes on every no-op run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::{Digest, Sha256};

use crate::images::integrity::Integrity;

/// The mtime of every entry (tar's own deterministic value; 0 confuses some tools).
const MTIME: u64 = 1_153_704_088;

/// Where an entry's bytes come from.
#[derive(Clone, Debug)]
enum Source {
    /// A file on disk, with a digest standing for its content.
    File { path: PathBuf, digest: String },
    /// Bytes held in memory (Dockerfile, CA bundle).
    Bytes(Vec<u8>),
    /// A symbolic link to this target.
    Symlink(String),
}

#[derive(Clone, Debug)]
struct Entry {
    executable: bool,
    source: Source,
}

/// A build context under construction.
#[derive(Clone, Debug, Default)]
pub struct BuildContext {
    entries: BTreeMap<String, Entry>,
    inputs: BTreeMap<String, String>,
}

/// The sha256 identifying a context and all build inputs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContextHash([u8; 32]);

impl ContextHash {
    /// The first 16 hex digits, used in tags (`ctx-<short>`).
    pub fn short(&self) -> String {
        hex::encode(&self.0[..8])
    }
}

impl fmt::Display for ContextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for ContextHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

fn check_path(path: &str) -> anyhow::Result<()> {
    if path.is_empty()
        || path.starts_with('/')
        || path.ends_with('/')
        || path
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        bail!("invalid build-context path {path:?}: relative, `/`-separated, no `.`/`..`");
    }
    Ok(())
}

impl BuildContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, path: &str, entry: Entry) -> anyhow::Result<()> {
        check_path(path)?;
        if self.entries.insert(path.to_owned(), entry).is_some() {
            bail!("the build context would hold {path} twice");
        }
        Ok(())
    }

    /// Adds in-memory bytes.
    pub fn add_bytes(
        &mut self,
        path: &str,
        bytes: Vec<u8>,
        executable: bool,
    ) -> anyhow::Result<()> {
        self.insert(
            path,
            Entry {
                executable,
                source: Source::Bytes(bytes),
            },
        )
    }

    /// Adds a local file, hashing its content.
    pub fn add_local_file(
        &mut self,
        path: &str,
        file: &Path,
        executable: bool,
    ) -> anyhow::Result<()> {
        let digest = format!("sha256:{}", sha256_file(file)?);
        self.insert_file(path, file, digest, executable)
    }

    /// Adds a file of a verified artifact: its content is identified by the artifact's integrity
    /// and the file's path inside it.
    pub fn add_artifact_file(
        &mut self,
        path: &str,
        file: &Path,
        integrity: &Integrity,
        path_in_artifact: &str,
        executable: bool,
    ) -> anyhow::Result<()> {
        if !file.is_file() {
            bail!("{} is missing from the unpacked artifact", file.display());
        }
        let digest = format!("{integrity}:{path_in_artifact}");
        self.insert_file(path, file, digest, executable)
    }

    /// Adds the file `file` at `path`, its content identified by `digest` in the context hash.
    fn insert_file(
        &mut self,
        path: &str,
        file: &Path,
        digest: String,
        executable: bool,
    ) -> anyhow::Result<()> {
        let source = Source::File {
            path: file.to_owned(),
            digest,
        };
        self.insert(path, Entry { executable, source })
    }

    /// Adds a symbolic link.
    pub fn add_symlink(&mut self, path: &str, target: &str) -> anyhow::Result<()> {
        self.insert(
            path,
            Entry {
                executable: false,
                source: Source::Symlink(target.to_owned()),
            },
        )
    }

    /// Records a build input that is not a file (build arg, label, base image id).
    pub fn add_input(&mut self, key: &str, value: &str) {
        self.inputs.insert(key.to_owned(), value.to_owned());
    }

    /// The paths of the context, sorted.
    #[cfg(test)]
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// The hash of every entry and input.
    pub fn hash(&self) -> ContextHash {
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        };
        field(b"gitlab-ai build context v1");
        for (path, entry) in &self.entries {
            field(path.as_bytes());
            match &entry.source {
                Source::File { digest, .. } => {
                    field(b"file");
                    field(&[u8::from(entry.executable)]);
                    field(digest.as_bytes());
                }
                Source::Bytes(bytes) => {
                    field(b"bytes");
                    field(&[u8::from(entry.executable)]);
                    field(&Sha256::digest(bytes));
                }
                Source::Symlink(target) => {
                    field(b"symlink");
                    field(target.as_bytes());
                }
            }
        }
        for (key, value) in &self.inputs {
            field(b"input");
            field(key.as_bytes());
            field(value.as_bytes());
        }
        ContextHash(h.finalize().into())
    }

    /// Writes the context as a tar: sorted entries, explicit parent directories, normalised
    /// headers.
    pub fn write_tar<W: Write>(&self, out: W) -> anyhow::Result<W> {
        let mut dirs = BTreeSet::new();
        for path in self.entries.keys() {
            let mut prefix = String::new();
            let parts: Vec<&str> = path.split('/').collect();
            for part in &parts[..parts.len() - 1] {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                dirs.insert(prefix.clone());
            }
        }
        let mut all: Vec<(&str, Option<&Entry>)> =
            dirs.iter().map(|d| (d.as_str(), None)).collect();
        all.extend(self.entries.iter().map(|(p, e)| (p.as_str(), Some(e))));
        all.sort_by(|a, b| a.0.cmp(b.0));

        let mut builder = tar::Builder::new(out);
        for (path, entry) in all {
            let mut header = tar::Header::new_gnu();
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(MTIME);
            header.set_username("")?;
            header.set_groupname("")?;
            match entry {
                None => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{path}/"), io::empty())?;
                }
                Some(entry) => {
                    let mode = if entry.executable { 0o755 } else { 0o644 };
                    match &entry.source {
                        Source::Bytes(bytes) => {
                            header.set_entry_type(tar::EntryType::Regular);
                            header.set_mode(mode);
                            header.set_size(bytes.len() as u64);
                            builder.append_data(&mut header, path, bytes.as_slice())?;
                        }
                        Source::File { path: file, .. } => {
                            let f = std::fs::File::open(file)
                                .with_context(|| format!("cannot open {}", file.display()))?;
                            let len = f.metadata()?.len();
                            header.set_entry_type(tar::EntryType::Regular);
                            header.set_mode(mode);
                            header.set_size(len);
                            builder
                                .append_data(&mut header, path, f.take(len))
                                .with_context(|| {
                                    format!("cannot add {} to the context", file.display())
                                })?;
                        }
                        Source::Symlink(target) => {
                            header.set_entry_type(tar::EntryType::Symlink);
                            header.set_mode(0o777);
                            header.set_size(0);
                            builder.append_link(&mut header, path, target)?;
                        }
                    }
                }
            }
        }
        Ok(builder.into_inner()?)
    }
}

/// The hex sha256 of a file's content.
pub fn sha256_file(path: &Path) -> anyhow::Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the same context from files created and added in the given order.
    fn context_in_order(dir: &Path, order: &[usize]) -> BuildContext {
        let files = [
            (
                "rootfs/usr/local/bin/entrypoint",
                b"ELF entrypoint".as_slice(),
                true,
            ),
            ("Dockerfile", b"FROM scratch\n".as_slice(), false),
            ("rootfs/opt/tool/share/readme", b"docs".as_slice(), false),
            ("extra-ca-certificates.crt", b"".as_slice(), false),
        ];
        let mut ctx = BuildContext::new();
        for &i in order {
            let (path, content, exec) = files[i];
            let on_disk = dir.join(format!("f{i}"));
            std::fs::write(&on_disk, content).unwrap();
            ctx.add_local_file(path, &on_disk, exec).unwrap();
        }
        ctx.add_symlink("rootfs/usr/local/bin/tool", "/opt/tool/bin/tool")
            .unwrap();
        ctx.add_input("build-arg:PACKAGES", "git bash");
        ctx
    }

    fn tar_bytes(ctx: &BuildContext) -> Vec<u8> {
        ctx.write_tar(Vec::new()).unwrap()
    }

    #[test]
    fn hash_and_tar_are_stable_under_shuffled_file_order() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let first = context_in_order(a.path(), &[0, 1, 2, 3]);
        let second = context_in_order(b.path(), &[3, 1, 0, 2]);
        assert_eq!(first.hash(), second.hash());
        assert_eq!(tar_bytes(&first), tar_bytes(&second));
    }

    #[test]
    fn any_content_mode_or_input_change_changes_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        let base = context_in_order(dir.path(), &[0, 1, 2, 3]).hash();

        let other = tempfile::tempdir().unwrap();
        let mut changed_input = context_in_order(other.path(), &[0, 1, 2, 3]);
        changed_input.add_input("build-arg:PACKAGES", "git bash iptables");
        assert_ne!(changed_input.hash(), base);

        let mut changed_mode = BuildContext::new();
        let mut same_but_exec = BuildContext::new();
        let f = dir.path().join("x");
        std::fs::write(&f, b"x").unwrap();
        changed_mode.add_local_file("x", &f, false).unwrap();
        same_but_exec.add_local_file("x", &f, true).unwrap();
        assert_ne!(changed_mode.hash(), same_but_exec.hash());

        let mut changed_content = BuildContext::new();
        std::fs::write(&f, b"y").unwrap();
        changed_content.add_local_file("x", &f, false).unwrap();
        assert_ne!(changed_content.hash(), changed_mode.hash());
    }

    #[test]
    fn tar_headers_are_normalised_and_directories_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tar_bytes(&context_in_order(dir.path(), &[2, 0, 3, 1]));
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            let h = entry.header();
            assert_eq!((h.uid().unwrap(), h.gid().unwrap()), (0, 0));
            assert_eq!(h.mtime().unwrap(), MTIME);
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mode = h.mode().unwrap();
            match path.as_str() {
                "rootfs/usr/local/bin/entrypoint" | "rootfs/usr/" => assert_eq!(mode, 0o755),
                "Dockerfile" => assert_eq!(mode, 0o644),
                _ => {}
            }
            seen.push(path);
        }
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted);
        assert!(seen.contains(&"rootfs/usr/local/bin/".to_owned()));
        let dir_pos = seen
            .iter()
            .position(|p| p == "rootfs/usr/local/bin/")
            .unwrap();
        let file_pos = seen
            .iter()
            .position(|p| p == "rootfs/usr/local/bin/entrypoint")
            .unwrap();
        assert!(dir_pos < file_pos);
    }

    #[test]
    fn duplicate_or_escaping_paths_are_refused() {
        let mut ctx = BuildContext::new();
        ctx.add_bytes("a", vec![], false).unwrap();
        assert!(ctx.add_bytes("a", vec![], false).is_err());
        assert!(ctx.add_bytes("../a", vec![], false).is_err());
        assert!(ctx.add_bytes("/etc/passwd", vec![], false).is_err());
    }
}
