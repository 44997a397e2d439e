//! Real bare git repositories behind the double's projects, driven through the `git` CLI.
//!
//! Commits are made with plumbing (`hash-object`, `update-index` on a temporary index,
//! `write-tree`, `commit-tree`, `update-ref`), so no worktree is ever checked out and concurrent
//! pushes cannot be overwritten: every ref update is a compare-and-swap against the sha read
//! before. Every git process runs with the host's git configuration and `GIT_*` environment shut
//! out, so the double behaves the same on a fresh machine as on a developer's laptop.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

/// A bare repository on disk.
#[derive(Clone, Debug)]
pub struct Repo {
    path: PathBuf,
}

/// Who wrote a commit (used for both author and committer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub name: String,
    pub email: String,
}

impl Signature {
    /// The same person as author and committer of a seeded commit.
    pub fn new(name: &str, email: &str) -> Signature {
        Signature {
            name: name.to_owned(),
            email: email.to_owned(),
        }
    }
}

/// One change to the tree in a [`Repo::commit`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileChange {
    /// Create or overwrite a file. An existing file keeps its mode; a new one is `100644`.
    Write { path: String, content: Vec<u8> },
    /// Remove a file that exists on the branch.
    Delete { path: String },
    /// Set or clear the executable bit of a file that exists (`100755` / `100644`).
    SetExecutable { path: String, executable: bool },
}

impl FileChange {
    /// [`FileChange::Write`] of `content` to `path`.
    pub fn write(path: impl Into<String>, content: impl Into<Vec<u8>>) -> FileChange {
        FileChange::Write {
            path: path.into(),
            content: content.into(),
        }
    }
}

/// One changed file, exactly as an item of GitLab's `GET
/// /projects/:id/merge_requests/:merge_request_iid/diffs`
/// (<https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs>).
///
/// `diff` is the hunk text only (from the first `@@` line on), without the `diff --git`,
/// `index`, `---` and `+++` header lines, as GitLab returns it. Modes are octal strings; the
/// side where the file does not exist is `"0"` (GitLab prints Gitaly's numeric mode in octal).
/// The double never marks files generated, collapsed or too large.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDiff {
    pub old_path: String,
    pub new_path: String,
    pub a_mode: String,
    pub b_mode: String,
    pub diff: String,
    pub new_file: bool,
    pub renamed_file: bool,
    pub deleted_file: bool,
    pub generated_file: bool,
    pub collapsed: bool,
    pub too_large: bool,
}

/// One commit as git records it, with GitLab's field names. Dates are ISO 8601 with the offset
/// the commit was made in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitInfo {
    pub id: String,
    pub parent_ids: Vec<String>,
    /// The first line of the message.
    pub title: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
}

/// Why a git process failed; wrapped in `anyhow` context at the public methods.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not start `git {args}` (is git installed and on PATH?)")]
    Spawn {
        args: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`git {args}` failed ({status}): {stderr}")]
    Failed {
        args: String,
        status: std::process::ExitStatus,
        stderr: String,
    },
    #[error("`git {args}` printed something that is not UTF-8")]
    NotUtf8 { args: String },
}

/// The sha git uses as "no object" in ref updates (sha1 repositories, git's default).
const NULL_SHA: &str = "0000000000000000000000000000000000000000";

const MODE_FILE: &str = "100644";
const MODE_EXECUTABLE: &str = "100755";

/// Author identity for processes that only need one to run (never recorded in commits here).
const FALLBACK_IDENTITY: (&str, &str) = ("GitLab double", "gitlab-double@localhost");

/// A `git` command with the host's configuration and `GIT_*` environment removed.
pub fn git_command() -> Command {
    let mut command = Command::new("git");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("GIT_") {
            command.env_remove(name);
        }
    }
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_LITERAL_PATHSPECS", "1")
        .env("GIT_AUTHOR_NAME", FALLBACK_IDENTITY.0)
        .env("GIT_AUTHOR_EMAIL", FALLBACK_IDENTITY.1)
        .env("GIT_COMMITTER_NAME", FALLBACK_IDENTITY.0)
        .env("GIT_COMMITTER_EMAIL", FALLBACK_IDENTITY.1)
        .env("LC_ALL", "C");
    command
}

/// Runs a prepared git command, feeding `stdin`, and returns its standard output.
fn run(mut command: Command, stdin: Option<&[u8]>) -> Result<Vec<u8>, GitError> {
    let args = command
        .get_args()
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(|source| GitError::Spawn {
        args: args.clone(),
        source,
    })?;
    let output = std::thread::scope(|scope| {
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A writer thread so a command that answers while still reading cannot deadlock.
            scope.spawn(move || {
                // A failed write shows up as the command's own failure below.
                let _ = pipe.write_all(input);
            });
        }
        child.wait_with_output()
    })
    .map_err(|source| GitError::Spawn {
        args: args.clone(),
        source,
    })?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitError::Failed {
            args,
            status: output.status,
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

fn text(args: &str, bytes: Vec<u8>) -> Result<String, GitError> {
    String::from_utf8(bytes).map_err(|_| GitError::NotUtf8 {
        args: args.to_owned(),
    })
}

fn git_mode(raw: &str) -> String {
    u32::from_str_radix(raw, 8).map_or_else(|_| raw.to_owned(), |mode| format!("{mode:o}"))
}

impl Repo {
    /// Creates a bare repository whose `HEAD` (GitLab's default branch) is `default_branch`.
    pub fn init_bare(path: &Path, default_branch: &str) -> anyhow::Result<Repo> {
        std::fs::create_dir_all(path)
            .with_context(|| format!("creating the directory for repository {}", path.display()))?;
        let mut command = git_command();
        command
            .arg("init")
            .arg("--bare")
            .arg("--quiet")
            .arg(format!("--initial-branch={default_branch}"))
            .arg(path);
        run(command, None)
            .with_context(|| format!("initialising bare repository {}", path.display()))?;
        Ok(Repo {
            path: path.to_owned(),
        })
    }

    /// Opens an existing bare repository.
    pub fn open(path: &Path) -> anyhow::Result<Repo> {
        let repo = Repo {
            path: path.to_owned(),
        };
        let bare = repo.git_text(&["rev-parse", "--is-bare-repository"])?;
        if bare.trim() != "true" {
            bail!("{} is not a bare git repository", path.display());
        }
        Ok(repo)
    }

    /// Where the bare repository lives (what `serve_git` serves).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The branch `HEAD` points at: new branches start from it.
    pub fn default_branch(&self) -> anyhow::Result<String> {
        let head = self.git_text(&["symbolic-ref", "HEAD"])?;
        let head = head.trim();
        head.strip_prefix("refs/heads/")
            .map(str::to_owned)
            .with_context(|| {
                format!(
                    "HEAD of {} points outside refs/heads: {head}",
                    self.describe()
                )
            })
    }

    /// Commits `changes` on `branch` as `author` (also the committer) and returns the new sha.
    ///
    /// A missing branch is created from the default branch (or as a root commit in an empty
    /// repository). Fails without moving the branch if a change is invalid or the branch moved
    /// meanwhile (for example a concurrent push).
    pub fn commit(
        &self,
        branch: &str,
        changes: &[FileChange],
        message: &str,
        author: &Signature,
    ) -> anyhow::Result<String> {
        self.check_branch_name(branch)?;
        let existing = self.branch_sha(branch)?;
        let parent = match &existing {
            Some(sha) => Some(sha.clone()),
            None => self.branch_sha(&self.default_branch()?)?,
        };
        let index_dir = tempfile::tempdir().context("creating a temporary index directory")?;
        let index = index_dir.path().join("index");
        match &parent {
            Some(sha) => self.git_with_index(&index, &["read-tree", sha], None)?,
            None => self.git_with_index(&index, &["read-tree", "--empty"], None)?,
        };
        for change in changes {
            self.apply_change(&index, change)
                .with_context(|| format!("committing to branch {branch} of {}", self.describe()))?;
        }
        let tree = text(
            "write-tree",
            self.git_with_index(&index, &["write-tree"], None)?,
        )?;
        let mut command = self.git();
        command.arg("commit-tree").arg(tree.trim());
        if let Some(sha) = &parent {
            command.arg("-p").arg(sha);
        }
        command
            .env("GIT_AUTHOR_NAME", &author.name)
            .env("GIT_AUTHOR_EMAIL", &author.email)
            .env("GIT_COMMITTER_NAME", &author.name)
            .env("GIT_COMMITTER_EMAIL", &author.email);
        let sha = text("commit-tree", run(command, Some(message.as_bytes()))?)?;
        let sha = sha.trim().to_owned();
        let expected_old = existing.as_deref().unwrap_or(NULL_SHA);
        self.git_text(&[
            "update-ref",
            &format!("refs/heads/{branch}"),
            &sha,
            expected_old,
        ])
        .with_context(|| format!("moving branch {branch} to the new commit {sha}"))?;
        Ok(sha)
    }

    fn apply_change(&self, index: &Path, change: &FileChange) -> anyhow::Result<()> {
        match change {
            FileChange::Write { path, content } => {
                let blob = text("hash-object", {
                    let mut command = self.git();
                    command.args(["hash-object", "-w", "--stdin"]);
                    run(command, Some(content))?
                })?;
                let mode = match self.index_entry(index, path)? {
                    Some((mode, _)) if mode == MODE_EXECUTABLE => MODE_EXECUTABLE,
                    _ => MODE_FILE,
                };
                self.set_index_entry(index, mode, blob.trim(), path)
                    .with_context(|| format!("writing {path}"))
            }
            FileChange::Delete { path } => {
                if self.index_entry(index, path)?.is_none() {
                    bail!("cannot delete {path}: no such file");
                }
                self.set_index_entry(index, "0", NULL_SHA, path)
                    .with_context(|| format!("deleting {path}"))
            }
            FileChange::SetExecutable { path, executable } => {
                let Some((_, blob)) = self.index_entry(index, path)? else {
                    bail!("cannot change the mode of {path}: no such file");
                };
                let mode = if *executable {
                    MODE_EXECUTABLE
                } else {
                    MODE_FILE
                };
                self.set_index_entry(index, mode, &blob, path)
                    .with_context(|| format!("changing the mode of {path}"))
            }
        }
    }

    /// `(mode, sha)` of `path` in the temporary index, if present.
    fn index_entry(&self, index: &Path, path: &str) -> anyhow::Result<Option<(String, String)>> {
        let listing = self.git_with_index(index, &["ls-files", "-s", "-z", "--", path], None)?;
        for record in listing
            .split(|byte| *byte == 0)
            .filter(|record| !record.is_empty())
        {
            let record = String::from_utf8_lossy(record);
            let Some((meta, name)) = record.split_once('\t') else {
                continue;
            };
            if name != path {
                continue;
            }
            let mut fields = meta.split(' ');
            if let (Some(mode), Some(sha)) = (fields.next(), fields.next()) {
                return Ok(Some((mode.to_owned(), sha.to_owned())));
            }
        }
        Ok(None)
    }

    fn set_index_entry(
        &self,
        index: &Path,
        mode: &str,
        sha: &str,
        path: &str,
    ) -> anyhow::Result<()> {
        let line = format!("{mode} {sha}\t{path}\0");
        self.git_with_index(
            index,
            &["update-index", "-z", "--index-info"],
            Some(line.as_bytes()),
        )?;
        Ok(())
    }

    /// Every branch as `(name, sha)`, sorted by name.
    pub fn branches(&self) -> anyhow::Result<Vec<(String, String)>> {
        let listing = self.git_text(&[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/heads/",
        ])?;
        let mut branches = listing
            .lines()
            .filter_map(|line| {
                let (sha, name) = line.split_once(' ')?;
                Some((name.strip_prefix("refs/heads/")?.to_owned(), sha.to_owned()))
            })
            .collect::<Vec<_>>();
        branches.sort();
        Ok(branches)
    }

    /// The commit a branch points at, or `None` if there is no such branch.
    pub fn branch_sha(&self, name: &str) -> anyhow::Result<Option<String>> {
        self.resolve_commit(&format!("refs/heads/{name}"))
    }

    /// Creates branch `name` at `from` (a branch name or a commit sha); fails if it exists.
    pub fn create_branch(&self, name: &str, from: &str) -> anyhow::Result<String> {
        self.check_branch_name(name)?;
        let sha = match self.branch_sha(from)? {
            Some(sha) => sha,
            None => self.resolve_commit(from)?.with_context(|| {
                format!("cannot create branch {name}: {from} is not a branch or commit")
            })?,
        };
        self.git_text(&["update-ref", &format!("refs/heads/{name}"), &sha, NULL_SHA])
            .with_context(|| {
                format!(
                    "creating branch {name} in {} (does it already exist?)",
                    self.describe()
                )
            })?;
        Ok(sha)
    }

    /// Deletes a branch; fails if it does not exist.
    pub fn delete_branch(&self, name: &str) -> anyhow::Result<()> {
        let sha = self.branch_sha(name)?.with_context(|| {
            format!(
                "cannot delete branch {name} of {}: no such branch",
                self.describe()
            )
        })?;
        self.git_text(&["update-ref", "-d", &format!("refs/heads/{name}"), &sha])
            .with_context(|| format!("deleting branch {name}"))?;
        Ok(())
    }

    /// The best common ancestor of two revisions (GitLab's MR `base_sha`).
    pub fn merge_base(&self, a: &str, b: &str) -> anyhow::Result<String> {
        let sha = self.git_text(&["merge-base", a, b]).with_context(|| {
            format!("finding the merge base of {a} and {b} (unrelated histories?)")
        })?;
        Ok(sha.trim().to_owned())
    }

    /// The per-file changes from `base` to `head`, with rename detection, in git's path order.
    pub fn diffs(&self, base: &str, head: &str) -> anyhow::Result<Vec<FileDiff>> {
        let context = || format!("diffing {base}..{head} in {}", self.describe());
        let raw = self
            .git_bytes(&["diff", "--raw", "-z", "-M", "--no-abbrev", base, head, "--"])
            .with_context(context)?;
        let entries = parse_raw_diff(&raw).with_context(context)?;
        let patch = self
            .git_bytes(&[
                "diff",
                "-M",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--full-index",
                base,
                head,
                "--",
            ])
            .with_context(context)?;
        let hunks = split_patch(&String::from_utf8_lossy(&patch));
        if hunks.len() != entries.len() {
            bail!(
                "{}: git listed {} changed files but printed {} patches",
                context(),
                entries.len(),
                hunks.len()
            );
        }
        Ok(entries
            .into_iter()
            .zip(hunks)
            .map(|(entry, diff)| FileDiff {
                new_file: entry.status == 'A',
                renamed_file: entry.status == 'R',
                deleted_file: entry.status == 'D',
                a_mode: git_mode(&entry.old_mode),
                b_mode: git_mode(&entry.new_mode),
                old_path: entry.old_path,
                new_path: entry.new_path,
                diff,
                generated_file: false,
                collapsed: false,
                too_large: false,
            })
            .collect())
    }

    /// The content of file `path` at `rev`, or `None` when there is no file there.
    /// Fails if `rev` itself does not exist.
    pub fn file_at(&self, rev: &str, path: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let commit = self.resolve_commit(rev)?.with_context(|| {
            format!(
                "reading {path}: {rev} is not a commit in {}",
                self.describe()
            )
        })?;
        let listing = self.git_bytes(&["ls-tree", "-z", &commit, "--", path])?;
        let blob = listing
            .split(|byte| *byte == 0)
            .filter_map(|record| {
                let record = std::str::from_utf8(record).ok()?;
                let (meta, name) = record.split_once('\t')?;
                let mut fields = meta.split(' ');
                let (_mode, kind, sha) = (fields.next()?, fields.next()?, fields.next()?);
                (name == path && kind == "blob").then(|| sha.to_owned())
            })
            .next();
        match blob {
            Some(sha) => Ok(Some(self.git_bytes(&["cat-file", "blob", &sha])?)),
            None => Ok(None),
        }
    }

    /// The full commit message as stored (subject, body and trailers).
    pub fn commit_message(&self, sha: &str) -> anyhow::Result<String> {
        let object = self
            .git_bytes(&["cat-file", "commit", sha])
            .with_context(|| format!("reading commit {sha} of {}", self.describe()))?;
        let object = String::from_utf8_lossy(&object);
        Ok(object
            .split_once("\n\n")
            .map(|(_, message)| message.to_owned())
            .unwrap_or_default())
    }

    /// The author recorded in commit `sha` (pushed commits carry the client's identity).
    pub fn commit_author(&self, sha: &str) -> anyhow::Result<Signature> {
        let format = "--format=%an%x00%ae";
        let shown = self
            .git_text(&["show", "-s", format, sha, "--"])
            .with_context(|| format!("reading the author of {sha} in {}", self.describe()))?;
        let (name, email) = shown
            .trim_end_matches('\n')
            .split_once('\0')
            .with_context(|| format!("unexpected author line for {sha}: {shown:?}"))?;
        Ok(Signature::new(name, email))
    }

    /// Everything GitLab's commit entity needs about commit `sha`
    /// (<https://docs.gitlab.com/api/commits/#get-a-single-commit>).
    pub fn commit_info(&self, sha: &str) -> anyhow::Result<CommitInfo> {
        let format = "--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI";
        let shown = self
            .git_text(&["show", "-s", format, sha, "--"])
            .with_context(|| format!("reading commit {sha} in {}", self.describe()))?;
        let fields: Vec<&str> = shown.trim_end_matches('\n').split('\0').collect();
        let [
            id,
            parents,
            author_name,
            author_email,
            authored_date,
            committer_name,
            committer_email,
            committed_date,
        ] = fields[..]
        else {
            bail!("unexpected `git show` output for {sha}: {shown:?}");
        };
        let message = self.commit_message(sha)?;
        Ok(CommitInfo {
            id: id.to_owned(),
            parent_ids: parents.split_whitespace().map(str::to_owned).collect(),
            title: message.lines().next().unwrap_or_default().to_owned(),
            message,
            author_name: author_name.to_owned(),
            author_email: author_email.to_owned(),
            authored_date: authored_date.to_owned(),
            committer_name: committer_name.to_owned(),
            committer_email: committer_email.to_owned(),
            committed_date: committed_date.to_owned(),
        })
    }

    /// The commits reachable from `head` but not from `base`, newest first.
    pub fn commits_between(&self, base: &str, head: &str) -> anyhow::Result<Vec<String>> {
        let listing = self
            .git_text(&["rev-list", &format!("{base}..{head}"), "--"])
            .with_context(|| format!("listing commits {base}..{head} in {}", self.describe()))?;
        Ok(listing.lines().map(str::to_owned).collect())
    }

    fn resolve_commit(&self, rev: &str) -> anyhow::Result<Option<String>> {
        let mut command = self.git();
        command
            .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
            .arg(format!("{rev}^{{commit}}"));
        match run(command, None) {
            Ok(out) => Ok(Some(text("rev-parse", out)?.trim().to_owned())),
            Err(GitError::Failed { status, .. }) if status.code() == Some(1) => Ok(None),
            Err(error) => {
                Err(error).with_context(|| format!("resolving {rev} in {}", self.describe()))
            }
        }
    }

    fn check_branch_name(&self, name: &str) -> anyhow::Result<()> {
        let mut command = git_command();
        command.args(["check-ref-format", &format!("refs/heads/{name}")]);
        run(command, None)
            .map(drop)
            .with_context(|| format!("{name:?} is not a valid branch name"))
    }

    fn describe(&self) -> String {
        format!("repository {}", self.path.display())
    }

    fn git(&self) -> Command {
        let mut command = git_command();
        command.arg(OsStr::new("--git-dir")).arg(&self.path);
        command
    }

    fn git_bytes(&self, args: &[&str]) -> Result<Vec<u8>, GitError> {
        let mut command = self.git();
        command.args(args);
        run(command, None)
    }

    fn git_text(&self, args: &[&str]) -> anyhow::Result<String> {
        Ok(text(&args.join(" "), self.git_bytes(args)?)?)
    }

    fn git_with_index(
        &self,
        index: &Path,
        args: &[&str],
        stdin: Option<&[u8]>,
    ) -> anyhow::Result<Vec<u8>> {
        let mut command = self.git();
        command.env("GIT_INDEX_FILE", index).args(args);
        Ok(run(command, stdin)?)
    }
}

struct RawEntry {
    old_mode: String,
    new_mode: String,
    status: char,
    old_path: String,
    new_path: String,
}

/// Parses `git diff --raw -z` output: `:<old mode> <new mode> <old sha> <new sha> <status>\0`
/// followed by one path, or two (source, destination) for renames and copies.
fn parse_raw_diff(raw: &[u8]) -> anyhow::Result<Vec<RawEntry>> {
    let mut fields = raw
        .split(|byte| *byte == 0)
        .map(|field| String::from_utf8_lossy(field).into_owned());
    let mut entries = Vec::new();
    while let Some(header) = fields.next() {
        if header.is_empty() {
            continue;
        }
        let meta = header
            .strip_prefix(':')
            .with_context(|| format!("unexpected raw diff record {header:?}"))?;
        let parts: Vec<&str> = meta.split(' ').collect();
        let [old_mode, new_mode, _old_sha, _new_sha, status] = parts[..] else {
            bail!("unexpected raw diff record {header:?}");
        };
        let status = status
            .chars()
            .next()
            .with_context(|| format!("no status in {header:?}"))?;
        let old_path = fields
            .next()
            .with_context(|| format!("no path after {header:?}"))?;
        let new_path = if matches!(status, 'R' | 'C') {
            fields
                .next()
                .with_context(|| format!("no destination path after {header:?}"))?
        } else {
            old_path.clone()
        };
        entries.push(RawEntry {
            old_mode: old_mode.to_owned(),
            new_mode: new_mode.to_owned(),
            status,
            old_path,
            new_path,
        });
    }
    Ok(entries)
}

/// Splits `git diff -p` output into one text per file, keeping only what GitLab shows in `diff`:
/// the hunks from the first `@@` line on, or git's `Binary files … differ` line, or nothing (a
/// pure rename or mode change).
fn split_patch(patch: &str) -> Vec<String> {
    let mut files: Vec<Vec<&str>> = Vec::new();
    for line in patch.split_inclusive('\n') {
        if line.starts_with("diff --git ") {
            files.push(Vec::new());
        } else if let Some(current) = files.last_mut() {
            current.push(line);
        }
    }
    files
        .into_iter()
        .map(|lines| {
            if let Some(first_hunk) = lines.iter().position(|line| line.starts_with("@@")) {
                lines[first_hunk..].concat()
            } else {
                lines
                    .iter()
                    .filter(|line| line.starts_with("Binary files "))
                    .copied()
                    .collect()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author() -> Signature {
        Signature::new("Ada Lovelace", "ada@example.com")
    }

    /// Commits one written file to `branch` as [`author`], returning the new commit.
    #[track_caller]
    fn commit_file(repo: &Repo, branch: &str, path: &str, content: &str, message: &str) -> String {
        repo.commit(
            branch,
            &[FileChange::write(path, content)],
            message,
            &author(),
        )
        .expect("commit")
    }

    fn repo() -> (tempfile::TempDir, Repo) {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = Repo::init_bare(&dir.path().join("group/proj.git"), "main").expect("init");
        (dir, repo)
    }

    #[test]
    fn init_sets_the_default_branch_and_starts_empty() {
        let (_dir, repo) = repo();
        assert_eq!(repo.default_branch().expect("HEAD"), "main");
        assert!(repo.branches().expect("branches").is_empty());
        assert_eq!(repo.branch_sha("main").expect("lookup"), None);
        assert!(Repo::open(repo.path()).is_ok());
    }

    #[test]
    fn first_commit_creates_the_default_branch() {
        let (_dir, repo) = repo();
        let sha = commit_file(&repo, "main", "README.md", "hello\n", "Initial commit\n");
        assert_eq!(sha.len(), 40);
        assert_eq!(
            repo.branches().expect("branches"),
            [("main".to_owned(), sha.clone())]
        );
        assert_eq!(
            repo.file_at("main", "README.md").expect("read"),
            Some(b"hello\n".to_vec())
        );
        assert_eq!(repo.file_at(&sha, "missing.txt").expect("read"), None);
        assert!(repo.file_at("no-such-branch", "README.md").is_err());
    }

    #[test]
    fn commit_on_a_new_branch_starts_from_the_default_branch() {
        let (_dir, repo) = repo();
        let base = commit_file(&repo, "main", "a.txt", "a\n", "base");
        let tip = commit_file(&repo, "feature/x", "b.txt", "b\n", "feature");
        assert_eq!(
            repo.merge_base("main", "feature/x").expect("merge base"),
            base
        );
        assert_eq!(
            repo.file_at(&tip, "a.txt").expect("read"),
            Some(b"a\n".to_vec())
        );
        assert_eq!(repo.file_at("main", "b.txt").expect("read"), None);
        let names: Vec<String> = repo
            .branches()
            .expect("branches")
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["feature/x", "main"]);
        assert_eq!(
            repo.commits_between("main", "feature/x").expect("commits"),
            [tip]
        );
    }

    #[test]
    fn message_and_author_are_kept_verbatim() {
        let (_dir, repo) = repo();
        let message = "Fix the parser\n\nLonger body.\n\nCo-authored-by: Bob <bob@example.com>\n";
        let sha = commit_file(&repo, "main", "x", "1", message);
        assert_eq!(repo.commit_message(&sha).expect("message"), message);
        assert_eq!(repo.commit_author(&sha).expect("author"), author());
    }

    #[test]
    fn commit_info_has_parents_title_and_dates() {
        let (_dir, repo) = repo();
        let first = commit_file(&repo, "main", "x", "1", "one");
        let second = commit_file(&repo, "main", "x", "2", "Two\n\nbody\n");
        let info = repo.commit_info(&second).expect("info");
        assert_eq!(info.id, second);
        assert_eq!(info.parent_ids, std::slice::from_ref(&first));
        assert_eq!(info.title, "Two");
        assert_eq!(info.message, "Two\n\nbody\n");
        assert_eq!(
            (info.author_name.as_str(), info.committer_email.as_str()),
            ("Ada Lovelace", "ada@example.com")
        );
        assert!(
            chrono::DateTime::parse_from_rfc3339(&info.committed_date).is_ok(),
            "{}",
            info.committed_date
        );
        assert!(
            repo.commit_info(&first)
                .expect("root")
                .parent_ids
                .is_empty()
        );
    }

    #[test]
    fn create_and_delete_branches() {
        let (_dir, repo) = repo();
        let sha = commit_file(&repo, "main", "x", "1", "one");
        assert_eq!(repo.create_branch("topic", "main").expect("create"), sha);
        assert_eq!(repo.branch_sha("topic").expect("lookup"), Some(sha.clone()));
        assert!(
            repo.create_branch("topic", "main").is_err(),
            "existing branch"
        );
        assert!(
            repo.create_branch("other", "nope").is_err(),
            "unknown start point"
        );
        assert!(
            repo.create_branch("bad..name", "main").is_err(),
            "invalid name"
        );
        assert_eq!(
            repo.create_branch("from-sha", &sha)
                .expect("create from sha"),
            sha
        );
        repo.delete_branch("topic").expect("delete");
        assert_eq!(repo.branch_sha("topic").expect("lookup"), None);
        assert!(repo.delete_branch("topic").is_err(), "already gone");
    }

    #[test]
    fn deleting_a_missing_file_fails_and_leaves_the_branch_alone() {
        let (_dir, repo) = repo();
        let sha = commit_file(&repo, "main", "x", "1", "one");
        let delete = FileChange::Delete {
            path: "nope".to_owned(),
        };
        assert!(repo.commit("main", &[delete], "two", &author()).is_err());
        assert_eq!(repo.branch_sha("main").expect("lookup"), Some(sha));
    }

    #[test]
    fn diffs_report_added_modified_deleted_renamed_and_mode_changes() {
        let (_dir, repo) = repo();
        let long = "line 1\nline 2\nline 3\nline 4\nline 5\nline 6\n";
        let base = repo
            .commit(
                "main",
                &[
                    FileChange::write("keep.txt", "one\ntwo\n"),
                    FileChange::write("gone.txt", "bye\n"),
                    FileChange::write("old.txt", long),
                    FileChange::write("run.sh", "echo\n"),
                ],
                "base",
                &author(),
            )
            .expect("base");
        let head = repo
            .commit(
                "main",
                &[
                    FileChange::write("keep.txt", "one\nTWO\n"),
                    FileChange::Delete {
                        path: "gone.txt".to_owned(),
                    },
                    FileChange::Delete {
                        path: "old.txt".to_owned(),
                    },
                    FileChange::write("new.txt", long),
                    FileChange::write("added.txt", "fresh\n"),
                    FileChange::SetExecutable {
                        path: "run.sh".to_owned(),
                        executable: true,
                    },
                ],
                "change",
                &author(),
            )
            .expect("head");
        let diffs = repo.diffs(&base, &head).expect("diffs");
        let by_path = |path: &str| {
            diffs
                .iter()
                .find(|d| d.new_path == path)
                .unwrap_or_else(|| panic!("no diff for {path}: {diffs:#?}"))
                .clone()
        };

        let added = by_path("added.txt");
        assert!(added.new_file && !added.deleted_file && !added.renamed_file);
        assert_eq!(
            (added.a_mode.as_str(), added.b_mode.as_str()),
            ("0", "100644")
        );
        assert_eq!(added.diff, "@@ -0,0 +1 @@\n+fresh\n");

        let modified = by_path("keep.txt");
        assert!(!modified.new_file && !modified.deleted_file && !modified.renamed_file);
        assert_eq!(modified.diff, "@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n");
        assert_eq!(
            (modified.a_mode.as_str(), modified.b_mode.as_str()),
            ("100644", "100644")
        );

        let deleted = by_path("gone.txt");
        assert!(deleted.deleted_file && !deleted.new_file);
        assert_eq!(
            (deleted.a_mode.as_str(), deleted.b_mode.as_str()),
            ("100644", "0")
        );
        assert_eq!(deleted.diff, "@@ -1 +0,0 @@\n-bye\n");

        let renamed = by_path("new.txt");
        assert!(renamed.renamed_file && !renamed.new_file && !renamed.deleted_file);
        assert_eq!(renamed.old_path, "old.txt");
        assert_eq!(renamed.diff, "");

        let chmod = by_path("run.sh");
        assert_eq!(
            (chmod.a_mode.as_str(), chmod.b_mode.as_str()),
            ("100644", "100755")
        );
        assert_eq!(chmod.diff, "");

        assert_eq!(diffs.len(), 5, "{diffs:#?}");
        for diff in &diffs {
            assert!(
                !diff.diff.contains("diff --git")
                    && !diff.diff.contains("+++ ")
                    && !diff.diff.contains("--- ")
            );
            assert!(!diff.generated_file && !diff.collapsed && !diff.too_large);
        }
    }

    #[test]
    fn written_files_keep_an_executable_mode() {
        let (_dir, repo) = repo();
        let base = commit_file(&repo, "main", "run.sh", "echo 1\n", "base");
        let exec = FileChange::SetExecutable {
            path: "run.sh".to_owned(),
            executable: true,
        };
        repo.commit("main", &[exec], "chmod", &author())
            .expect("chmod");
        let head = commit_file(&repo, "main", "run.sh", "echo 2\n", "edit");
        let diffs = repo.diffs(&base, &head).expect("diffs");
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].b_mode, "100755");
        assert_eq!(diffs[0].diff, "@@ -1 +1 @@\n-echo 1\n+echo 2\n");
    }

    #[test]
    fn diff_serializes_with_gitlab_field_names() {
        let (_dir, repo) = repo();
        let base = commit_file(&repo, "main", "a", "1\n", "base");
        let head = commit_file(&repo, "main", "a", "2\n", "head");
        let value =
            serde_json::to_value(&repo.diffs(&base, &head).expect("diffs")[0]).expect("json");
        let mut keys: Vec<&str> = value
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "a_mode",
                "b_mode",
                "collapsed",
                "deleted_file",
                "diff",
                "generated_file",
                "new_file",
                "new_path",
                "old_path",
                "renamed_file",
                "too_large"
            ]
        );
    }
}
