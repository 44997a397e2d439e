//! The repository files git reads as configuration, remembered when the checkout is opened and
//! put back before every git command the entrypoint runs.
//!
//! Why: GitLab Runner's Docker and Kubernetes executors check out with `umask 0000`
//! (`FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR`,
//! <https://docs.gitlab.com/runner/configuration/feature-flags/>), so `.git/config` and
//! `.git/hooks/` are world-writable and the assistant's unprivileged uid can plant anything
//! there. After the run our git runs as root with the bot token in its environment and the
//! network fence gone. git executes programs named in its configuration (`core.fsmonitor`,
//! `core.sshCommand`, `core.pager`, `filter.<driver>.clean`, `diff.<driver>.textconv`,
//! `gpg.program`, `credential.helper`…, <https://git-scm.com/docs/git-config>) and sends the
//! token wherever `url.<base>.insteadOf`, `http.proxy` or `http.curloptResolve` point. Listing
//! every such key to override it is a race against each git release, and `include.path` /
//! `includeIf` pull in files that no override reaches. So git reads **no repository
//! configuration written after the checkout**: [`GitDirSnapshot::enforce`] writes back the
//! bytes remembered at [`GitDirSnapshot::capture`] (and removes files that did not exist then),
//! and refuses to go on when `.git` itself was swapped for a symlink, a `gitdir:` file or
//! another directory, which would make git read a configuration we never saw.
//!
//! Files covered, each read by git as configuration or as a redirection of the repository:
//! - `config`: the repository configuration (<https://git-scm.com/docs/git-config#FILES>);
//! - `config.worktree`: read when `extensions.worktreeConfig` is set;
//! - `commondir`: makes git take `config`, objects and refs from another directory, also in
//!   a main working tree (<https://git-scm.com/docs/gitrepository-layout>);
//! - `objects/info/alternates`, `objects/info/http-alternates`: objects borrowed from other
//!   repositories (<https://git-scm.com/docs/gitrepository-layout>);
//! - `info/attributes`: attributes that name filter and diff drivers
//!   (<https://git-scm.com/docs/gitattributes>). Drivers only run when the configuration
//!   defines them, which the restored configuration decides; restoring the file as well keeps
//!   it out of the picture;
//! - `info/exclude`: decides which new files `git add --all` leaves out of our commit (and is
//!   written back through the same link-safe path when [`super::trusted`] edits it).
//!
//! Hooks (`.git/hooks/*`, <https://git-scm.com/docs/githooks>) and the rest are handled on
//! the command line by [`super::git::Git`] (`core.hooksPath=/dev/null`,
//! `core.fsmonitor=false`, protocols limited to HTTP(S), …): those overrides hold even if a
//! file here could not be restored.

use std::io::Write as _;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

/// Files under `.git` that git reads as configuration or as a redirection (module docs).
pub(crate) const TRUSTED_GIT_FILES: &[&str] = &[
    "config",
    "config.worktree",
    "commondir",
    "objects/info/alternates",
    "objects/info/http-alternates",
    "info/attributes",
    "info/exclude",
];

/// `.git` or one of its files is not what the checkout left.
#[derive(Debug, thiserror::Error)]
pub enum GitDirError {
    /// `.git` is missing, a symlink, a `gitdir:` file or a different directory.
    #[error(
        "{path} is no longer the repository the job checked out (it was replaced or turned into a link during the assistant's run); nothing is committed or pushed from this checkout. Check CI_PROJECT_DIR and the assistant's commands in the job log"
    )]
    Replaced {
        /// The `.git` path.
        path: String,
    },
    /// `.git` was not a directory when the checkout was opened.
    #[error(
        "{path} is not a directory: the entrypoint needs the runner's own clone in CI_PROJECT_DIR (GIT_STRATEGY clone or fetch), not a linked worktree or submodule"
    )]
    NotADirectory {
        /// The `.git` path.
        path: String,
    },
    /// A directory on the way to a trusted file was turned into a link.
    #[error(
        "{path} was turned into a link during the assistant's run; nothing is committed or pushed from this checkout"
    )]
    Linked {
        /// The directory.
        path: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot read or restore {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> GitDirError + '_ {
    move |source| GitDirError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One remembered file: its bytes and permission bits, or `None` when it did not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Remembered {
    relative: &'static str,
    content: Option<(Vec<u8>, u32)>,
}

/// `.git` as the checkout left it (see the module docs).
#[derive(Clone, Debug)]
pub struct GitDirSnapshot {
    git_dir: PathBuf,
    device: u64,
    inode: u64,
    files: Vec<Remembered>,
}

impl GitDirSnapshot {
    /// Remembers `<work_tree>/.git`, which must be a real directory (the runner's clone).
    pub fn capture(work_tree: &Path) -> Result<Self, GitDirError> {
        let git_dir = work_tree.join(".git");
        let meta = std::fs::symlink_metadata(&git_dir).map_err(io(&git_dir))?;
        if !meta.file_type().is_dir() {
            return Err(GitDirError::NotADirectory {
                path: git_dir.display().to_string(),
            });
        }
        let mut files = Vec::with_capacity(TRUSTED_GIT_FILES.len());
        for relative in TRUSTED_GIT_FILES {
            let path = git_dir.join(relative);
            let content = match std::fs::symlink_metadata(&path) {
                Ok(m) if m.file_type().is_file() => {
                    let bytes = std::fs::read(&path).map_err(io(&path))?;
                    Some((bytes, m.permissions().mode() & 0o7777))
                }
                Ok(_) => {
                    // A link or directory where git expects a file was not made by the
                    // runner's clone; it is not worth remembering.
                    tracing::warn!(path = %path.display(), "not a regular file; it will be removed before git runs");
                    None
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => return Err(io(&path)(e)),
            };
            files.push(Remembered { relative, content });
        }
        Ok(Self {
            git_dir,
            device: meta.dev(),
            inode: meta.ino(),
            files,
        })
    }

    /// The `.git` directory.
    pub(crate) fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The remembered `config`, if there was one.
    pub fn config(&self) -> Option<&[u8]> {
        self.files
            .iter()
            .find(|f| f.relative == "config")
            .and_then(|f| f.content.as_ref())
            .map(|(bytes, _)| bytes.as_slice())
    }

    /// Replaces the remembered `config` (after the entrypoint itself cleaned it).
    pub(crate) fn remember_config(&mut self) -> Result<(), GitDirError> {
        let path = self.git_dir.join("config");
        let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        for file in &mut self.files {
            if file.relative == "config" {
                file.content = Some((bytes.clone(), meta.permissions().mode() & 0o7777));
            }
        }
        Ok(())
    }

    /// Checks that `.git` is the directory remembered and writes every trusted file back to
    /// its remembered state. Returns the files it had to restore (for the log and tests).
    pub(crate) fn enforce(&self) -> Result<Vec<&'static str>, GitDirError> {
        let replaced = || GitDirError::Replaced {
            path: self.git_dir.display().to_string(),
        };
        let meta = std::fs::symlink_metadata(&self.git_dir).map_err(|_| replaced())?;
        if !meta.file_type().is_dir() || meta.dev() != self.device || meta.ino() != self.inode {
            return Err(replaced());
        }
        let mut restored = Vec::new();
        for file in &self.files {
            if self.restore(file)? {
                tracing::warn!(
                    file = file.relative,
                    "restored .git/{} changed during the assistant's run",
                    file.relative
                );
                restored.push(file.relative);
            }
        }
        Ok(restored)
    }

    /// Puts one file back; true when it had changed.
    fn restore(&self, file: &Remembered) -> Result<bool, GitDirError> {
        let path = self.git_dir.join(file.relative);
        let parents_exist = self.check_parents(file.relative)?;
        let mut changed = false;
        let current = match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_file() => Some((std::fs::read(&path).map_err(io(&path))?, m)),
            Ok(m) => {
                // A symlink (which a write would follow, as root) or a directory.
                if m.file_type().is_dir() {
                    std::fs::remove_dir_all(&path).map_err(io(&path))?;
                } else {
                    std::fs::remove_file(&path).map_err(io(&path))?;
                }
                changed = true;
                None
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(io(&path)(e)),
        };
        match (&file.content, current) {
            (None, None) => Ok(changed),
            (None, Some(_)) => {
                std::fs::remove_file(&path).map_err(io(&path))?;
                Ok(true)
            }
            (Some((bytes, mode)), Some((now, meta)))
                if &now == bytes && meta.permissions().mode() & 0o7777 == *mode =>
            {
                Ok(changed)
            }
            (Some((bytes, mode)), _) => {
                if !parents_exist {
                    self.create_parents(file.relative)?;
                }
                replace_file(&path, bytes, *mode)?;
                Ok(true)
            }
        }
    }

    /// Every directory between `.git` and `relative` must be a real directory, so that no
    /// write or removal is redirected through a link. False when one is missing.
    fn check_parents(&self, relative: &str) -> Result<bool, GitDirError> {
        let mut dir = self.git_dir.clone();
        let parts: Vec<&str> = relative.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_dir() => {}
                Ok(_) => {
                    return Err(GitDirError::Linked {
                        path: dir.display().to_string(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                Err(e) => return Err(io(&dir)(e)),
            }
        }
        Ok(true)
    }

    fn create_parents(&self, relative: &str) -> Result<(), GitDirError> {
        let mut dir = self.git_dir.clone();
        let parts: Vec<&str> = relative.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            dir.push(part);
            match std::fs::create_dir(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(&dir)(e)),
            }
        }
        // Re-checked: nothing may have become a link in between.
        self.check_parents(relative).map(|_| ())
    }
}

/// Writes `bytes` to a new file beside `path` and renames it over `path`: a rename replaces a
/// link instead of writing through it. Group and others never get write permission back,
/// whatever the checkout's umask gave the original.
pub(crate) fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), GitDirError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".gitlab-ai-restore-")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    temp.write_all(bytes).map_err(io(path))?;
    temp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(mode & !0o022))
        .map_err(io(path))?;
    temp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".git/objects/info")).unwrap();
        std::fs::write(dir.path().join(".git/config"), "[core]\n\tbare = false\n").unwrap();
        dir
    }

    #[test]
    fn changed_added_and_linked_files_are_put_back() {
        let dir = repo();
        let snapshot = GitDirSnapshot::capture(dir.path()).unwrap();
        assert_eq!(snapshot.enforce().unwrap(), Vec::<&str>::new());
        let git = dir.path().join(".git");
        std::fs::write(git.join("config"), "[core]\n\tfsmonitor = /tmp/x\n").unwrap();
        std::fs::write(git.join("commondir"), "/tmp/evil\n").unwrap();
        std::fs::write(git.join("objects/info/alternates"), "/tmp/evil\n").unwrap();
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::os::unix::fs::symlink(outside.path(), git.join("config.worktree")).unwrap();
        let restored = snapshot.enforce().unwrap();
        assert_eq!(
            restored,
            [
                "config",
                "config.worktree",
                "commondir",
                "objects/info/alternates"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(git.join("config")).unwrap(),
            "[core]\n\tbare = false\n"
        );
        assert!(!git.join("commondir").exists());
        assert!(std::fs::symlink_metadata(git.join("config.worktree")).is_err());
        assert!(outside.path().exists(), "the link's target is left alone");
    }

    #[test]
    fn a_config_turned_into_a_link_is_replaced_not_written_through() {
        let dir = repo();
        let snapshot = GitDirSnapshot::capture(dir.path()).unwrap();
        let config = dir.path().join(".git/config");
        let outside = dir.path().join("outside");
        std::fs::write(&outside, "victim").unwrap();
        std::fs::remove_file(&config).unwrap();
        std::os::unix::fs::symlink(&outside, &config).unwrap();
        assert_eq!(snapshot.enforce().unwrap(), ["config"]);
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "victim");
        assert!(std::fs::symlink_metadata(&config).unwrap().is_file());
    }

    #[test]
    fn world_writable_files_come_back_without_write_for_others() {
        let dir = repo();
        let config = dir.path().join(".git/config");
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o666)).unwrap();
        let snapshot = GitDirSnapshot::capture(dir.path()).unwrap();
        std::fs::write(&config, "[alias]\n").unwrap();
        snapshot.enforce().unwrap();
        let mode = std::fs::metadata(&config).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
    }

    #[test]
    fn a_replaced_or_linked_git_dir_is_refused() {
        let dir = repo();
        let snapshot = GitDirSnapshot::capture(dir.path()).unwrap();
        let git = dir.path().join(".git");
        std::fs::rename(&git, dir.path().join("old")).unwrap();
        std::fs::write(&git, "gitdir: /tmp/evil\n").unwrap();
        assert!(matches!(
            snapshot.enforce(),
            Err(GitDirError::Replaced { .. })
        ));
        std::fs::remove_file(&git).unwrap();
        std::os::unix::fs::symlink(dir.path().join("old"), &git).unwrap();
        assert!(matches!(
            snapshot.enforce(),
            Err(GitDirError::Replaced { .. })
        ));
        std::fs::remove_file(&git).unwrap();
        std::fs::create_dir_all(git.join("objects/info")).unwrap();
        std::fs::write(git.join("config"), "[core]\n\tbare = false\n").unwrap();
        assert!(
            matches!(snapshot.enforce(), Err(GitDirError::Replaced { .. })),
            "an identical-looking new directory is still another directory"
        );
    }

    #[test]
    fn a_linked_parent_directory_is_refused() {
        let dir = repo();
        let snapshot = GitDirSnapshot::capture(dir.path()).unwrap();
        let info = dir.path().join(".git/objects/info");
        std::fs::remove_dir(&info).unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), &info).unwrap();
        assert!(matches!(
            snapshot.enforce(),
            Err(GitDirError::Linked { .. })
        ));
    }

    #[test]
    fn a_git_file_checkout_is_not_accepted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".git"), "gitdir: ../x\n").unwrap();
        assert!(matches!(
            GitDirSnapshot::capture(dir.path()),
            Err(GitDirError::NotADirectory { .. })
        ));
    }
}
