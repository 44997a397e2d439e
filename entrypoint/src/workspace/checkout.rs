//! Fetching and checking out the commit the request is about.
//!
//! The runner's checkout is detached at `CI_COMMIT_SHA` (the pipeline's ref, not the issue's or
//! merge request's) and shallow when `GIT_DEPTH` is set
//! (<https://docs.gitlab.com/ci/runners/configure_runners/#shallow-cloning>). Each fetch here
//! names its refspecs and URL explicitly; in a shallow clone it fetches `shallow_depth` commits,
//! and deepens to the full history only when a merge request's merge base is still missing.

use super::branch::AssistantBranch;
use super::remote::RemoteUrl;
use super::{Workspace, WorkspaceError};

/// What to check out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckoutTarget {
    /// An issue: the project's default branch, from which the caller starts a new branch
    /// ([`Workspace::start_branch`]).
    Issue {
        /// The default branch.
        default_branch: String,
    },
    /// A merge request: its source branch at the merge request's `sha`.
    MergeRequest {
        /// The branch with the changes.
        source_branch: String,
        /// The merge request's `sha` (source head when the event happened).
        sha: String,
        /// The branch it merges into, fetched so that `git diff <target>...HEAD` works.
        target_branch: String,
        /// The target project's default branch, which is never pushed to.
        default_branch: String,
        /// Where the source branch lives.
        source: MergeRequestSource,
    },
}

/// Where a merge request's source branch lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MergeRequestSource {
    /// The same project (`source_project_id == target_project_id`).
    SameProject,
    /// A fork (`source_project_id != target_project_id`), fetched from its own URL.
    Fork {
        /// The fork's repository URL (its project's `http_url_to_repo`).
        url: RemoteUrl,
        /// The merge request has `allow_collaboration: true`, so upstream members (and our
        /// token, if it is one) may push to its source branch.
        /// <https://docs.gitlab.com/user/project/merge_requests/allow_collaboration/>
        allow_collaboration: bool,
    },
}

/// Where the assistant's commits may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushAccess {
    /// Only to a new branch under the assistant's prefix, in the project (issues).
    NewBranch,
    /// Onto the merge request's source branch at `remote`.
    SourceBranch {
        /// The repository holding the branch (the project, or a collaborating fork).
        remote: RemoteUrl,
        /// The branch.
        branch: String,
    },
    /// Nowhere: a fork that does not allow collaboration. The caller posts a patch instead.
    ReadOnly,
}

/// The prepared checkout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    /// The commit checked out, from which the assistant's work is measured.
    pub base: String,
    /// The local branch checked out (`None` while detached).
    pub branch: Option<String>,
    /// The default branch, never pushed to.
    pub default_branch: String,
    /// Where commits may be pushed.
    pub push: PushAccess,
    /// For a merge request: the remote-tracking ref of its target branch
    /// (`refs/remotes/origin/<target>`), for `git diff <it>...HEAD`.
    pub target_ref: Option<String>,
    /// True when a shallow clone had to be deepened to the full history.
    pub unshallowed: bool,
}

fn tracking_ref(remote: &str, branch: &str) -> String {
    format!("refs/remotes/{remote}/{branch}")
}

impl Workspace {
    /// Fetches and checks out `target`. The working tree must be clean (the runner's fresh
    /// checkout is).
    pub async fn checkout(&mut self, target: CheckoutTarget) -> Result<&Checkout, WorkspaceError> {
        let checkout = match target {
            CheckoutTarget::Issue { default_branch } => {
                let origin = self.origin.clone();
                let tracking = tracking_ref("origin", &default_branch);
                self.fetch(&origin, &[(&default_branch, &tracking)]).await?;
                self.trusted_git()?
                    .run(&["checkout", "--quiet", "--detach", &tracking])
                    .await?;
                Checkout {
                    base: self.head().await?,
                    branch: None,
                    default_branch,
                    push: PushAccess::NewBranch,
                    target_ref: None,
                    unshallowed: false,
                }
            }
            CheckoutTarget::MergeRequest {
                source_branch,
                sha,
                target_branch,
                default_branch,
                source,
            } => {
                let origin = self.origin.clone();
                let target_tracking = tracking_ref("origin", &target_branch);
                let (source_url, source_tracking, push) = match source {
                    MergeRequestSource::SameProject => (
                        origin.clone(),
                        tracking_ref("origin", &source_branch),
                        PushAccess::SourceBranch {
                            remote: origin.clone(),
                            branch: source_branch.clone(),
                        },
                    ),
                    MergeRequestSource::Fork {
                        url,
                        allow_collaboration,
                    } if url.same_origin(&origin) => (
                        url.clone(),
                        tracking_ref("fork", &source_branch),
                        if allow_collaboration {
                            PushAccess::SourceBranch {
                                remote: url,
                                branch: source_branch.clone(),
                            }
                        } else {
                            PushAccess::ReadOnly
                        },
                    ),
                    MergeRequestSource::Fork { url, .. } => {
                        return Err(WorkspaceError::ForeignRemote {
                            url: url.to_string(),
                            origin: origin.to_string(),
                        });
                    }
                };
                self.fetch(&origin, &[(&target_branch, &target_tracking)])
                    .await?;
                self.fetch(&source_url, &[(&source_branch, &source_tracking)])
                    .await?;
                let mut unshallowed = false;
                if !self.has_commit(&sha).await? {
                    self.unshallow(&source_url, &[(&source_branch, &source_tracking)])
                        .await?;
                    unshallowed = true;
                    if !self.has_commit(&sha).await? {
                        return Err(WorkspaceError::MissingCommit {
                            sha,
                            branch: source_branch,
                        });
                    }
                }
                if !unshallowed
                    && !self
                        .trusted_git()?
                        .succeeds(&["merge-base", &target_tracking, &sha])
                        .await
                {
                    self.unshallow(&origin, &[(&target_branch, &target_tracking)])
                        .await?;
                    self.fetch(&source_url, &[(&source_branch, &source_tracking)])
                        .await?;
                    unshallowed = true;
                }
                self.trusted_git()?
                    .run(&["checkout", "--quiet", "-B", &source_branch, &sha])
                    .await?;
                Checkout {
                    base: self.head().await?,
                    branch: Some(source_branch),
                    default_branch,
                    push,
                    target_ref: Some(target_tracking),
                    unshallowed,
                }
            }
        };
        Ok(self.checkout.insert(checkout))
    }

    /// Creates and checks out `branch` at the current commit (issues: the branch the work is
    /// pushed to).
    pub async fn start_branch(&mut self, branch: &AssistantBranch) -> Result<(), WorkspaceError> {
        let name = branch.as_str();
        if self.checkout.is_none() {
            return Err(WorkspaceError::NotCheckedOut);
        }
        self.trusted_git()?
            .run(&["checkout", "--quiet", "-B", name])
            .await?;
        if let Some(checkout) = self.checkout.as_mut() {
            checkout.branch = Some(name.to_owned());
        }
        Ok(())
    }

    /// `HEAD`'s commit.
    pub async fn head(&self) -> Result<String, WorkspaceError> {
        Ok(self
            .trusted_git()?
            .text(&["rev-parse", "--verify", "HEAD^{commit}"])
            .await?)
    }

    async fn has_commit(&self, sha: &str) -> Result<bool, WorkspaceError> {
        Ok(self
            .trusted_git()?
            .succeeds(&["cat-file", "-e", &format!("{sha}^{{commit}}")])
            .await)
    }

    async fn is_shallow(&self) -> Result<bool, WorkspaceError> {
        Ok(self
            .trusted_git()?
            .text(&["rev-parse", "--is-shallow-repository"])
            .await?
            == "true")
    }

    async fn fetch(&self, url: &RemoteUrl, refs: &[(&str, &str)]) -> Result<(), WorkspaceError> {
        let depth = format!("--depth={}", self.settings.shallow_depth);
        let mut args = vec!["fetch", "--quiet", "--no-tags", "--no-write-fetch-head"];
        if self.is_shallow().await? {
            args.push(&depth);
        }
        args.push(url.as_str());
        let specs: Vec<String> = refs
            .iter()
            .map(|(branch, tracking)| format!("+refs/heads/{branch}:{tracking}"))
            .collect();
        args.extend(specs.iter().map(String::as_str));
        self.trusted_git()?.remote(&args).await?;
        Ok(())
    }

    async fn unshallow(
        &self,
        url: &RemoteUrl,
        refs: &[(&str, &str)],
    ) -> Result<(), WorkspaceError> {
        if !self.is_shallow().await? {
            return Ok(());
        }
        tracing::info!(
            "fetching the full history: the shallow clone lacks the merge request's commits"
        );
        let specs: Vec<String> = refs
            .iter()
            .map(|(branch, tracking)| format!("+refs/heads/{branch}:{tracking}"))
            .collect();
        let mut args = vec![
            "fetch",
            "--quiet",
            "--no-tags",
            "--no-write-fetch-head",
            "--unshallow",
            url.as_str(),
        ];
        args.extend(specs.iter().map(String::as_str));
        self.trusted_git()?.remote(&args).await?;
        Ok(())
    }
}
