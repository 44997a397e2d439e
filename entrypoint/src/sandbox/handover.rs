//! Lending the checkout to the sandbox uid for the run and taking it back afterwards, while
//! every git directory stays the entrypoint's and out of the sandbox uid's reach.
//!
//! We chown the checkout rather than copying it: no second tree to sync, and the CLI sees the
//! real paths. Every `.git` (the top-level directory, a worktree's or submodule's `.git` file,
//! `.git/modules/…`) stays with the entrypoint's user and loses its group and world write bits,
//! because the entrypoint runs git there afterwards as itself: a hook, a `core.fsmonitor`, an
//! `include.path` or a replaced `packed-refs` the model wrote into `.git` would otherwise run or
//! be believed outside the sandbox.
//!
//! The modes matter as much as the owner. GitLab Runner's Docker and Kubernetes executors check
//! out with `umask 0000`, so `.git`, `.git/config` and `.git/hooks` arrive world-writable
//! (GitLab Runner's `FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR` feature flag exists because of it:
//! <https://docs.gitlab.com/runner/configuration/feature-flags/>). Owner and modes are fixed
//! whatever the runner left.
//!
//! The checkout's root directory itself stays the entrypoint's, with the sandbox uid's group,
//! group-writable and sticky (like `/tmp`, `chmod(2)` on `S_ISVTX`): the sandbox uid may create
//! and remove its own files at the top level but can neither unlink nor rename the
//! entrypoint's `.git` there (a `.git` file could otherwise be swapped for one pointing at a
//! git directory the model wrote). After the run everything outside the git directories
//! (including files the CLI created) goes back to the checkout's owner, so git does not see
//! "dubious ownership"; `chown(2)` by root also clears any set-user-ID bit the model set.

use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown};
use std::path::{Path, PathBuf};

use super::SandboxUid;

/// Group and world write bits.
const SHARED_WRITE: u32 = 0o022;

/// The checkout root's mode while lent: the owner's, the sandbox group's (write included), sticky.
const LENT_ROOT_MODE: u32 = 0o1775;

/// A file's ownership or mode could not be changed.
#[derive(Debug, thiserror::Error)]
#[error("could not change the owner or mode of {path}: {source}")]
pub struct HandoverError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// A directory lent to the sandbox uid; [`Lent::give_back`] returns it.
#[derive(Debug)]
pub(crate) struct Lent {
    root: PathBuf,
    owner: (u32, u32),
    mode: u32,
    returned: bool,
}

/// The entrypoint's own user and group, which keep the git directories.
fn keeper() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

impl Lent {
    /// Makes everything below `root` except the git directories owned by `uid`, the root
    /// writable by `uid` but sticky, and every `.git` the entrypoint's and not writable by
    /// anyone else.
    pub(crate) fn lend(root: &Path, uid: SandboxUid) -> Result<Self, HandoverError> {
        let meta = std::fs::symlink_metadata(root).map_err(|source| HandoverError {
            path: root.to_owned(),
            source,
        })?;
        let lent = Self {
            root: root.to_owned(),
            owner: (meta.uid(), meta.gid()),
            mode: meta.mode() & 0o7777,
            returned: false,
        };
        let git_dirs = chown_tree(root, (uid.get(), uid.get()))?;
        let (me, _) = keeper();
        lchown(root, Some(me), Some(uid.get())).map_err(failed(root))?;
        set_mode(root, LENT_ROOT_MODE)?;
        for git in git_dirs {
            secure(&git, keeper())?;
        }
        Ok(lent)
    }

    /// Gives every file below the root, except the git directories, back to the root's
    /// original owner, and the root its original mode.
    pub(crate) fn give_back(mut self) -> Result<(), HandoverError> {
        self.returned = true;
        self.restore()
    }

    fn restore(&self) -> Result<(), HandoverError> {
        chown_tree(&self.root, self.owner)?;
        set_mode(&self.root, self.mode)
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if !self.returned
            && let Err(error) = self.restore()
        {
            tracing::error!(%error, "could not give the workspace back to its owner");
        }
    }
}

/// Gives `root` and everything below it to `uid` for good (the assistant's own home, deleted
/// after the run).
pub(super) fn give(root: &Path, uid: SandboxUid) -> Result<(), HandoverError> {
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        lchown(&path, Some(uid.get()), Some(uid.get())).map_err(failed(&path))?;
        pending.extend(children(&path)?);
    }
    Ok(())
}

fn failed(path: &Path) -> impl Fn(std::io::Error) -> HandoverError + '_ {
    move |source| HandoverError {
        path: path.to_owned(),
        source,
    }
}

/// The entries of `path` if it is a directory (not a symbolic link to one).
fn children(path: &Path) -> Result<Vec<PathBuf>, HandoverError> {
    let meta = std::fs::symlink_metadata(path).map_err(failed(path))?;
    if !meta.is_dir() {
        return Ok(Vec::new());
    }
    std::fs::read_dir(path)
        .map_err(failed(path))?
        .map(|entry| entry.map(|e| e.path()).map_err(failed(path)))
        .collect()
}

/// Changes the owner of `root` and below without following symbolic links, skipping every
/// entry named `.git`, which it returns.
fn chown_tree(root: &Path, (uid, gid): (u32, u32)) -> Result<Vec<PathBuf>, HandoverError> {
    let mut git_dirs = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        lchown(&path, Some(uid), Some(gid)).map_err(failed(&path))?;
        for child in children(&path)? {
            if child.file_name().is_some_and(|name| name == ".git") {
                git_dirs.push(child);
            } else {
                pending.push(child);
            }
        }
    }
    Ok(git_dirs)
}

/// Makes `root` and everything below it owned by `owner` and not writable by group or world
/// (symbolic links are re-owned but have no mode of their own).
fn secure(root: &Path, (uid, gid): (u32, u32)) -> Result<(), HandoverError> {
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        lchown(&path, Some(uid), Some(gid)).map_err(failed(&path))?;
        let meta = std::fs::symlink_metadata(&path).map_err(failed(&path))?;
        if !meta.file_type().is_symlink() {
            let mode = meta.mode() & 0o7777;
            if mode & SHARED_WRITE != 0 {
                set_mode(&path, mode & !SHARED_WRITE)?;
            }
        }
        pending.extend(children(&path)?);
    }
    Ok(())
}

/// `chmod` of a path known not to be a symbolic link.
fn set_mode(path: &Path, mode: u32) -> Result<(), HandoverError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(failed(path))
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
        let mode = std::fs::metadata(root).unwrap().mode() & 0o7777;
        let uid = SandboxUid::new(64999).unwrap();

        let lent = Lent::lend(root, uid).unwrap();
        let owner = |p: &str| std::fs::symlink_metadata(root.join(p)).unwrap().uid();
        assert_eq!(owner("src/main.rs"), 64999);
        assert_eq!(owner("link"), 64999);
        assert_eq!(owner(".git/hooks"), me);
        assert_eq!(owner(""), me);
        assert_eq!(std::fs::metadata(root).unwrap().gid(), 64999);
        assert_eq!(std::fs::metadata("/etc/passwd").unwrap().uid(), 0);
        std::fs::write(root.join("new.txt"), "x").unwrap();
        lchown(root.join("new.txt"), Some(64999), Some(64999)).unwrap();
        lent.give_back().unwrap();
        for path in ["", "src", "src/main.rs", "link", ".git/hooks", "new.txt"] {
            assert_eq!(owner(path), me, "{path}");
        }
        assert_eq!(std::fs::metadata(root).unwrap().mode() & 0o7777, mode);
    }

    #[test]
    fn world_writable_git_directories_of_another_owner_are_taken_back_and_closed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for d in [".git/hooks", ".git/modules/sub/hooks", "sub"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
        std::fs::write(root.join("sub/.git"), "gitdir: ../.git/modules/sub\n").unwrap();
        let stranger = 64777;
        let mut all = vec![root.join(".git")];
        while let Some(path) = all.pop() {
            lchown(&path, Some(stranger), Some(stranger)).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
            all.extend(children(&path).unwrap());
        }
        std::fs::set_permissions(
            root.join("sub/.git"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();

        let lent = Lent::lend(root, SandboxUid::new(64998).unwrap()).unwrap();
        let (me, _) = keeper();
        for path in [
            ".git",
            ".git/config",
            ".git/hooks",
            ".git/modules/sub/hooks",
            "sub/.git",
        ] {
            let meta = std::fs::symlink_metadata(root.join(path)).unwrap();
            assert_eq!(meta.uid(), me, "{path}");
            assert_eq!(meta.mode() & SHARED_WRITE, 0, "{path}");
        }
        assert_eq!(std::fs::metadata(root.join("sub")).unwrap().uid(), 64998);
        lent.give_back().unwrap();
        assert_eq!(
            std::fs::metadata(root.join(".git/config")).unwrap().uid(),
            me
        );
    }
}
