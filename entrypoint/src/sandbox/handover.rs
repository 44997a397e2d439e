//! Lending the checkout to the sandbox uid for the run and taking it back afterwards.
//!
//! We chown the checkout rather than copying it: no second tree to sync, and the CLI sees the
//! real paths. `.git` stays with the entrypoint's user, readable but not writable by the
//! sandbox uid, because the entrypoint runs git there afterwards as root: a hook or a
//! `core.fsmonitor` the model wrote into `.git` would otherwise run outside the fence. After the
//! run everything (including files the CLI created) goes back to the checkout's owner, so git
//! does not see "dubious ownership".

use std::os::unix::fs::{MetadataExt, lchown};
use std::path::{Path, PathBuf};

use super::SandboxUid;

/// A file's ownership could not be changed.
#[derive(Debug, thiserror::Error)]
#[error("could not change the owner of {path}: {source}")]
pub struct HandoverError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A directory lent to the sandbox uid; [`Lent::give_back`] returns it.
#[derive(Debug)]
pub struct Lent {
    root: PathBuf,
    owner: (u32, u32),
    returned: bool,
}

impl Lent {
    /// Makes `root` and everything below it, except a top-level `.git`, owned by `uid`.
    pub fn lend(root: &Path, uid: SandboxUid) -> Result<Self, HandoverError> {
        let meta = std::fs::symlink_metadata(root).map_err(|source| HandoverError {
            path: root.to_owned(),
            source,
        })?;
        let lent = Self {
            root: root.to_owned(),
            owner: (meta.uid(), meta.gid()),
            returned: false,
        };
        chown_tree(root, (uid.get(), uid.get()))?;
        Ok(lent)
    }

    /// Gives every file below the root back to the root's original owner.
    pub fn give_back(mut self) -> Result<(), HandoverError> {
        self.returned = true;
        chown_tree(&self.root, self.owner)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if !self.returned
            && let Err(error) = chown_tree(&self.root, self.owner)
        {
            tracing::error!(%error, "could not give the workspace back to its owner");
        }
    }
}

/// Gives `root` and everything below it to `uid` for good (the assistant's own home, deleted
/// after the run).
pub fn give(root: &Path, uid: SandboxUid) -> Result<(), HandoverError> {
    chown_tree(root, (uid.get(), uid.get()))
}

/// Changes the owner of `root` and below without following symbolic links, skipping a
/// top-level `.git`.
fn chown_tree(root: &Path, (uid, gid): (u32, u32)) -> Result<(), HandoverError> {
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        let failed = |source| HandoverError {
            path: path.clone(),
            source,
        };
        lchown(&path, Some(uid), Some(gid)).map_err(failed)?;
        let meta = std::fs::symlink_metadata(&path).map_err(failed)?;
        if meta.is_dir() {
            for entry in std::fs::read_dir(&path).map_err(failed)? {
                let entry = entry.map_err(failed)?;
                if path == root && entry.file_name() == ".git" {
                    continue;
                }
                pending.push(entry.path());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs root, as the CI jobs and the entrypoint in the image run.
    #[test]
    fn the_checkout_is_lent_without_its_git_directory_and_returned_whole() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::write(root.join("src/main.rs"), "fn main() {}\n").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        let me = std::fs::metadata(root).unwrap().uid();
        let uid = SandboxUid::new(64999).unwrap();

        let lent = Lent::lend(root, uid).unwrap();
        let owner = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap().uid();
        assert_eq!(owner("src/main.rs"), 64999);
        assert_eq!(owner("link"), 64999);
        assert_eq!(owner(".git/hooks"), me);
        assert_eq!(std::fs::metadata("/etc/passwd").unwrap().uid(), 0);
        std::fs::write(root.join("new.txt"), "x").unwrap();
        lchown(root.join("new.txt"), Some(64999), Some(64999)).unwrap();
        lent.give_back().unwrap();
        for path in ["", "src", "src/main.rs", "link", ".git/hooks", "new.txt"] {
            assert_eq!(owner(path), me, "{path}");
        }
    }
}
