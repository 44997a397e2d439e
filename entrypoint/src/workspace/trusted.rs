//! The assistant's rules, settings, hooks, MCP servers and skills come from the merge
//! request's **target** branch, never from the source branch under review.
//!
//! On a merge request the job checks out the source branch, which its author (maybe an
//! outsider with a fork) controls. Both CLIs read configuration from the project directory at
//! start: Claude Code runs `.claude/settings.json` hooks as shell commands and starts the MCP
//! servers of `.mcp.json`; both follow the instructions of their rules files. A Developer who
//! asks `@claude` on a stranger's merge request must not run the stranger's configuration with
//! the job's credentials (claude-code-action had exactly this: a pull request's `.mcp.json`
//! ran with the workflow's secrets, and it now restores these files from the base branch;
//! codex-action reads its instructions from the default branch).
//!
//! So, before the CLI starts, [`Workspace::use_target_configuration`] replaces every path of
//! [`trusted_paths`] (and the files the target's `CLAUDE.md` files import with `@path`) in the
//! working tree by the target branch's version, removing those the target does not have. The
//! index keeps the merge request's versions, marked `skip-worktree` so that neither
//! `git status` nor a `git add --all` (the model's or ours) sees the swap; paths only the
//! target has are listed in `.git/info/exclude` for the same reason. The merge request's
//! versions stay readable as code under review: `git show HEAD:CLAUDE.md`, the diff, and the
//! context.
//!
//! After the run, [`Workspace::restore_reviewed_configuration`] puts `HEAD`'s versions back,
//! before anything is committed. The decision for changes the model made to these paths: they
//! are **not committed** on a merge request (they were made to the target's versions, so
//! committing them would silently revert the merge request's own changes to those files);
//! they are listed in the job log and in the answer so the person who asked can apply them by
//! hand. On an issue the checkout is the default branch itself, nothing is swapped and the
//! model's changes to these files are committed like any other (to a new branch, for review).

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Component, Path, PathBuf};

use super::{GitDirError, Workspace, WorkspaceError};
pub use crate::agent::trusted::{Match, TrustedPath};
use crate::agent::{Assistant, agent};

/// Every path taken from the target branch on a merge request, with the assistant that reads
/// it: each assistant's own list (`Agent::trusted_paths`, in its folder), in
/// [`Assistant::ALL`] order (docs/security.md quotes this table).
pub fn trusted_paths() -> impl Iterator<Item = (Assistant, &'static TrustedPath)> {
    Assistant::ALL.into_iter().flat_map(|assistant| {
        agent(assistant)
            .trusted_paths()
            .iter()
            .map(move |t| (assistant, t))
    })
}

/// How many `@path` hops Claude Code follows from a memory file.
/// <https://code.claude.com/docs/en/memory>
const IMPORT_DEPTH: usize = 5;

/// True when `path` (relative, `/`-separated) is configuration `assistant` loads.
pub(crate) fn is_trusted(assistant: Assistant, path: &str) -> bool {
    let parts: Vec<&str> = path.split('/').collect();
    let Some((file, dirs)) = parts.split_last() else {
        return false;
    };
    agent(assistant)
        .trusted_paths()
        .iter()
        .any(|t| match t.matches {
            Match::RootFile => dirs.is_empty() && *file == t.name,
            Match::FileAnywhere => *file == t.name,
            Match::DirectoryAnywhere => dirs.contains(&t.name),
        })
}

/// The `@path` imports of a Claude memory file, relative to the repository root: outside code
/// spans and blocks, relative to the importing file's directory, inside the repository only
/// (`@~/…` points into the fresh, empty home).
fn imports(from: &str, text: &str) -> Vec<String> {
    let dir = Path::new(from).parent().unwrap_or(Path::new(""));
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop inline code spans.
        let plain: String = line
            .split('`')
            .enumerate()
            .filter(|(i, _)| i % 2 == 0)
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" ");
        for word in plain.split_whitespace() {
            let Some(target) = word.strip_prefix('@') else {
                continue;
            };
            let target = target.trim_end_matches(['.', ',', ';', ':', ')', '!', '?']);
            if target.is_empty() || target.starts_with('~') || target.starts_with('/') {
                continue;
            }
            if let Some(path) = normalize(&dir.join(target)) {
                found.push(path);
            }
        }
    }
    found
}

/// `path` without `.` and `..`, or `None` when it leaves the repository.
fn normalize(path: &Path) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// One blob of a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    mode: String,
    sha: String,
}

/// What [`Workspace::use_target_configuration`] did, for
/// [`Workspace::restore_reviewed_configuration`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigurationSwap {
    /// Each swapped path and the bytes written there (`None`: removed, the target lacks it).
    written: BTreeMap<String, Option<Vec<u8>>>,
    /// Paths marked `skip-worktree` in the index.
    skipped: Vec<String>,
    /// `.git/info/exclude` before paths were added to it.
    exclude: Option<Vec<u8>>,
    /// The commit whose versions the model sees.
    pub target_commit: String,
}

impl ConfigurationSwap {
    /// The paths swapped.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.written.keys().map(String::as_str)
    }
}

impl Workspace {
    /// Blobs of `rev` under the trusted paths of `assistant`, with the files the target's
    /// Claude memory files import.
    async fn trusted_entries(
        &self,
        rev: &str,
        assistant: Assistant,
    ) -> Result<BTreeMap<String, Entry>, WorkspaceError> {
        let all = self.tree(rev).await?;
        let mut chosen: BTreeMap<String, Entry> = all
            .iter()
            .filter(|(path, _)| is_trusted(assistant, path))
            .map(|(p, e)| (p.clone(), e.clone()))
            .collect();
        if agent(assistant).imports_with_at() {
            let mut frontier: Vec<String> = chosen
                .keys()
                .filter(|p| p.ends_with(".md"))
                .cloned()
                .collect();
            for _ in 0..IMPORT_DEPTH {
                let mut next = Vec::new();
                for path in &frontier {
                    let Some(entry) = all.get(path) else { continue };
                    let text = self.blob(&entry.sha).await?;
                    for import in imports(path, &String::from_utf8_lossy(&text)) {
                        if let Some(entry) = all.get(&import)
                            && !chosen.contains_key(&import)
                        {
                            chosen.insert(import.clone(), entry.clone());
                            next.push(import);
                        }
                    }
                }
                frontier = next;
            }
        }
        Ok(chosen)
    }

    /// Every blob and link of `rev`'s tree.
    async fn tree(&self, rev: &str) -> Result<BTreeMap<String, Entry>, WorkspaceError> {
        let output = self
            .trusted_git()?
            .run(&["ls-tree", "-r", "-z", "--full-tree", rev])
            .await?;
        let mut entries = BTreeMap::new();
        for record in output.stdout.split(|b| *b == 0).filter(|r| !r.is_empty()) {
            let text = String::from_utf8_lossy(record);
            let Some((meta, path)) = text.split_once('\t') else {
                continue;
            };
            let fields: Vec<&str> = meta.split(' ').collect();
            if let [mode, "blob", sha] = fields.as_slice() {
                entries.insert(
                    path.to_owned(),
                    Entry {
                        mode: (*mode).to_owned(),
                        sha: (*sha).to_owned(),
                    },
                );
            }
        }
        Ok(entries)
    }

    async fn blob(&self, sha: &str) -> Result<Vec<u8>, WorkspaceError> {
        Ok(self
            .trusted_git()?
            .run(&["cat-file", "blob", sha])
            .await?
            .stdout)
    }

    /// Merge requests: replaces the trusted paths of `assistant` in the working tree by the
    /// target branch's versions (module docs). Call after [`Workspace::checkout`], before the
    /// CLI starts.
    pub async fn use_target_configuration(
        &self,
        assistant: Assistant,
    ) -> Result<ConfigurationSwap, WorkspaceError> {
        let checkout = self
            .checkout
            .as_ref()
            .ok_or(WorkspaceError::NotCheckedOut)?;
        let Some(target_ref) = checkout.target_ref.clone() else {
            return Ok(ConfigurationSwap::default());
        };
        let target_commit = self
            .trusted_git()?
            .text(&["rev-parse", "--verify", &format!("{target_ref}^{{commit}}")])
            .await?;
        let target = self.trusted_entries(&target_commit, assistant).await?;
        let head = self.trusted_entries("HEAD", assistant).await?;
        // Everything tracked: a file the target's memory imports may be ordinary code here.
        let tracked = self.tree("HEAD").await?;
        let mut swap = ConfigurationSwap {
            target_commit,
            ..ConfigurationSwap::default()
        };
        let paths: BTreeSet<&String> = target.keys().chain(head.keys()).collect();
        for path in paths {
            if !self.remove_in_tree(path)? {
                continue;
            }
            let content = match target.get(path) {
                Some(entry) => {
                    let bytes = self.blob(&entry.sha).await?;
                    self.write_in_tree(path, &entry.mode, &bytes)?;
                    Some(bytes)
                }
                None => None,
            };
            swap.written.insert(path.clone(), content);
        }
        swap.skipped = swap
            .written
            .keys()
            .filter(|p| tracked.contains_key(*p))
            .cloned()
            .collect();
        self.update_index("--skip-worktree", &swap.skipped).await?;
        let new: Vec<&String> = swap
            .written
            .iter()
            .filter(|(p, c)| c.is_some() && !tracked.contains_key(*p))
            .map(|(p, _)| p)
            .collect();
        if !new.is_empty() {
            let exclude = self.git_dir.git_dir().join("info/exclude");
            let before = match std::fs::symlink_metadata(&exclude) {
                Ok(meta) if meta.file_type().is_file() => std::fs::read(&exclude).ok(),
                _ => None,
            };
            let mut text = before.clone().unwrap_or_default();
            if !text.is_empty() && !text.ends_with(b"\n") {
                text.push(b'\n');
            }
            for path in new {
                text.extend_from_slice(format!("/{}\n", glob_escape(path)).as_bytes());
            }
            self.write_exclude(&text)?;
            swap.exclude = Some(before.unwrap_or_default());
        }
        tracing::info!(
            paths = swap.written.len(),
            target = %swap.target_commit,
            "the assistant's configuration comes from the target branch"
        );
        Ok(swap)
    }

    /// After the run: puts `HEAD`'s versions of every trusted path back, removes the ones
    /// `HEAD` lacks, and returns the paths the model changed (which are therefore not
    /// committed; module docs).
    pub async fn restore_reviewed_configuration(
        &self,
        assistant: Assistant,
        swap: &ConfigurationSwap,
    ) -> Result<Vec<String>, WorkspaceError> {
        if swap.target_commit.is_empty() {
            return Ok(Vec::new());
        }
        self.update_index("--no-skip-worktree", &swap.skipped)
            .await?;
        if let Some(before) = &swap.exclude {
            self.write_exclude(before)?;
        }
        let head = self.trusted_entries("HEAD", assistant).await?;
        let tracked = self.tree("HEAD").await?;
        let untracked = self
            .trusted_git()?
            .run(&[
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ])
            .await?;
        // New files the model made there, staged or not.
        let created: Vec<String> = untracked
            .stdout
            .split(|b| *b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .filter(|p| is_trusted(assistant, p) && !tracked.contains_key(p))
            .collect();
        let mut changed = Vec::new();
        let paths: BTreeSet<&String> = swap
            .written
            .keys()
            .chain(head.keys())
            .chain(created.iter())
            .collect();
        for path in paths {
            let expected = match swap.written.get(path) {
                Some(written) => written.clone(),
                None => match head.get(path) {
                    Some(entry) => Some(self.blob(&entry.sha).await?),
                    None => None,
                },
            };
            if self.read_in_tree(path)? != expected {
                changed.push(path.clone());
            }
            if !self.remove_in_tree(path)? {
                continue;
            }
            if let Some(entry) = tracked.get(path) {
                let bytes = self.blob(&entry.sha).await?;
                self.write_in_tree(path, &entry.mode, &bytes)?;
            }
        }
        // Whatever the model staged under these paths goes back to `HEAD`'s entry too.
        let literal: Vec<String> = swap
            .written
            .keys()
            .chain(head.keys())
            .chain(created.iter())
            .map(|p| format!(":(literal){p}"))
            .collect();
        if !literal.is_empty() {
            let mut args = vec!["reset", "--quiet", "HEAD", "--"];
            args.extend(literal.iter().map(String::as_str));
            self.trusted_git()?.run(&args).await?;
        }
        if !changed.is_empty() {
            tracing::warn!(
                paths = ?changed,
                "the assistant changed its own configuration files; on a merge request those changes are not committed"
            );
        }
        Ok(changed)
    }

    /// Replaces `.git/info/exclude` without following a link the model may have left there
    /// (this runs as root).
    fn write_exclude(&self, bytes: &[u8]) -> Result<(), WorkspaceError> {
        let info = self.git_dir.git_dir().join("info");
        match std::fs::symlink_metadata(&info) {
            Ok(meta) if meta.file_type().is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir(&info).map_err(|source| tree_error(&info, source))?;
            }
            _ => {
                return Err(GitDirError::Linked {
                    path: info.display().to_string(),
                }
                .into());
            }
        }
        super::gitdir::replace_file(&info.join("exclude"), bytes, 0o644)?;
        Ok(())
    }

    async fn update_index(&self, flag: &str, paths: &[String]) -> Result<(), WorkspaceError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut args = vec!["update-index", flag, "--"];
        args.extend(paths.iter().map(String::as_str));
        self.trusted_git()?.run(&args).await?;
        Ok(())
    }

    /// `path` in the working tree, when every directory on the way is a real one.
    fn in_tree(&self, path: &str) -> Option<PathBuf> {
        let mut dir = self.dir().to_owned();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            dir.push(part);
            match std::fs::symlink_metadata(&dir) {
                Ok(meta) if meta.file_type().is_dir() => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                _ => {
                    tracing::warn!(
                        path,
                        "a directory on the way to a configuration file is a link or a file; left alone"
                    );
                    return None;
                }
            }
        }
        Some(self.dir().join(path))
    }

    /// Removes `path` (a file, link or directory) from the working tree; false when it
    /// cannot be reached safely.
    fn remove_in_tree(&self, path: &str) -> Result<bool, WorkspaceError> {
        let Some(full) = self.in_tree(path) else {
            return Ok(false);
        };
        let result = match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_dir() => std::fs::remove_dir_all(&full),
            Ok(_) => std::fs::remove_file(&full),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        };
        result.map_err(|source| tree_error(&full, source))?;
        Ok(true)
    }

    fn read_in_tree(&self, path: &str) -> Result<Option<Vec<u8>>, WorkspaceError> {
        let Some(full) = self.in_tree(path) else {
            return Ok(None);
        };
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_symlink() => std::fs::read_link(&full)
                .map(|target| Some(target.into_os_string().into_encoded_bytes()))
                .map_err(|source| tree_error(&full, source)),
            Ok(meta) if meta.file_type().is_file() => std::fs::read(&full)
                .map(Some)
                .map_err(|source| tree_error(&full, source)),
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(tree_error(&full, source)),
        }
    }

    /// Writes a blob of mode `mode` (`100644`, `100755` or `120000`, a link) at `path`,
    /// creating real directories on the way.
    fn write_in_tree(&self, path: &str, mode: &str, bytes: &[u8]) -> Result<(), WorkspaceError> {
        let Some(full) = self.in_tree(path) else {
            return Ok(());
        };
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|source| tree_error(parent, source))?;
        }
        if mode == "120000" {
            use std::os::unix::ffi::OsStrExt as _;
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(bytes), &full)
                .map_err(|source| tree_error(&full, source))
        } else {
            let perms = if mode == "100755" { 0o755 } else { 0o644 };
            write_file(&full, bytes, perms)
        }
    }
}

fn tree_error(path: &Path, source: std::io::Error) -> WorkspaceError {
    WorkspaceError::Tree {
        path: path.display().to_string(),
        source,
    }
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WorkspaceError> {
    std::fs::write(path, bytes).map_err(|source| tree_error(path, source))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|source| tree_error(path, source))
}

/// `path` as a gitignore pattern that matches only itself.
fn glob_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_assistant_trusts_its_own_files() {
        for path in [
            "CLAUDE.md",
            "src/CLAUDE.md",
            "CLAUDE.local.md",
            ".claude/settings.json",
            ".claude/commands/x.md",
            "pkg/.claude/skills/s/SKILL.md",
            ".mcp.json",
        ] {
            assert!(is_trusted(Assistant::Claude, path), "{path}");
            assert!(!is_trusted(Assistant::Codex, path), "{path} is not Codex's");
        }
        for path in [
            "CODEX.md",
            "AGENTS.md",
            "a/b/AGENTS.override.md",
            ".codex/config.toml",
            ".agents/skills/x/SKILL.md",
        ] {
            assert!(is_trusted(Assistant::Codex, path), "{path}");
        }
        for path in [
            "src/lib.rs",
            "docs/CLAUDE.md.bak",
            "sub/.mcp.json",
            "x/CODEX.md",
            ".claude",
        ] {
            assert!(
                !is_trusted(Assistant::Claude, path) && !is_trusted(Assistant::Codex, path),
                "{path}"
            );
        }
    }

    #[test]
    fn imports_are_relative_and_stay_in_the_repository() {
        let text = "See @docs/rules.md and @../outside.md.\n`@code/span.md`\n```\n@fenced.md\n```\n@~/home.md @/etc/passwd @./same.md";
        assert_eq!(
            imports("sub/CLAUDE.md", text),
            ["sub/docs/rules.md", "outside.md", "sub/same.md"]
        );
        assert_eq!(
            imports("CLAUDE.md", "@../../escape.md"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn exclude_patterns_match_only_the_path() {
        assert_eq!(glob_escape(".claude/a b[1].md"), ".claude/a\\ b\\[1\\].md");
    }
}
