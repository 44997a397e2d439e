//! Publishing the assistant's commits, and the patch to post when publishing is impossible.
//!
//! Rules: a new branch is only ever created (never overwritten) under the assistant's prefix;
//! a merge request's source branch is fast-forwarded, or force-pushed with a lease only when it
//! lives under the prefix and the caller says the assistant created it; the default branch is
//! never pushed to. GitLab refuses pushes to protected branches in its pre-receive check
//! (`GitLab: You are not allowed to push code to protected branches on this project.`,
//! <https://docs.gitlab.com/user/project/repository/branches/protected/>); every refusal comes
//! back as [`PushOutcome::Impossible`] with the patch, so the work is never lost.

use super::branch::AssistantBranch;
use super::checkout::PushAccess;
use super::{Workspace, WorkspaceError};

/// Where to push.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushDestination {
    /// Create this branch in the project (issues, or a follow-up branch for a merge request
    /// the assistant may not push to).
    NewBranch(AssistantBranch),
    /// The merge request's source branch, as prepared by [`Workspace::checkout`].
    SourceBranch {
        /// The assistant created the branch (it is the merge request's author, for example):
        /// with a name under the prefix, this allows a force-push with lease.
        created_by_assistant: bool,
    },
}

/// Why a push did not happen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushRefusal {
    /// The branch is the default branch; we never push there.
    DefaultBranch,
    /// The branch is protected against our pushes.
    Protected,
    /// The token may not push to this repository (a fork without collaboration, or a role
    /// below Developer).
    NotAllowed,
    /// The branch moved since the checkout (someone pushed) or, for a new branch, already
    /// exists.
    Stale,
    /// The checkout is read-only (a fork that does not allow collaboration).
    ReadOnly,
    /// Any other failure (network, server error); `detail` says which.
    Failed,
}

/// What [`Workspace::push`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// The commits are on `branch`.
    Pushed {
        /// The branch pushed to.
        branch: String,
        /// Its new head.
        sha: String,
    },
    /// Nothing was committed since the checkout.
    NothingToPush,
    /// The push was refused or failed; post `patch` instead.
    Impossible {
        /// Why.
        reason: PushRefusal,
        /// git's message or our own explanation.
        detail: String,
        /// The commits as a mailbox patch series (`git format-patch`), ready for `git am`.
        patch: String,
    },
}

/// Reads git's complaint. The texts are GitLab's and git's own (see the module docs).
fn classify(stderr: &str) -> PushRefusal {
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("protected branch") {
        PushRefusal::Protected
    } else if lower.contains("not allowed to push")
        || lower.contains("403")
        || lower.contains("authentication failed")
    {
        PushRefusal::NotAllowed
    } else if lower.contains("stale info")
        || lower.contains("non-fast-forward")
        || lower.contains("fetch first")
        || lower.contains("already exists")
    {
        PushRefusal::Stale
    } else {
        PushRefusal::Failed
    }
}

impl Workspace {
    /// The commits since the checkout as a patch series; empty when there are none.
    pub async fn patch(&self) -> Result<String, WorkspaceError> {
        let checkout = self
            .checkout
            .as_ref()
            .ok_or(WorkspaceError::NotCheckedOut)?;
        let range = format!("{}..HEAD", checkout.base);
        let output = self
            .trusted_git()?
            .run(&[
                "format-patch",
                "--stdout",
                "--no-signature",
                "--no-ext-diff",
                "--no-textconv",
                &range,
            ])
            .await?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Pushes `HEAD` to `destination` under the rules above.
    pub async fn push(&self, destination: &PushDestination) -> Result<PushOutcome, WorkspaceError> {
        let checkout = self
            .checkout
            .as_ref()
            .ok_or(WorkspaceError::NotCheckedOut)?;
        let head = self.head().await?;
        if head == checkout.base {
            return Ok(PushOutcome::NothingToPush);
        }
        let (remote, branch, lease) = match destination {
            PushDestination::NewBranch(branch) => (
                self.origin.clone(),
                branch.as_str().to_owned(),
                // An empty expected value: the branch must not exist yet.
                Some(String::new()),
            ),
            PushDestination::SourceBranch {
                created_by_assistant,
            } => match &checkout.push {
                PushAccess::SourceBranch { remote, branch } => {
                    let own = *created_by_assistant && self.settings.branch_prefix.owns(branch);
                    (
                        remote.clone(),
                        branch.clone(),
                        own.then(|| checkout.base.clone()),
                    )
                }
                PushAccess::ReadOnly => {
                    return self
                        .impossible(
                            PushRefusal::ReadOnly,
                            "the merge request comes from a fork that does not allow commits from upstream members".to_owned(),
                        )
                        .await;
                }
                PushAccess::NewBranch => {
                    return self
                        .impossible(
                            PushRefusal::Failed,
                            "this checkout is for an issue; push to a new branch".to_owned(),
                        )
                        .await;
                }
            },
        };
        if branch == checkout.default_branch {
            return self
                .impossible(
                    PushRefusal::DefaultBranch,
                    format!("{branch} is the default branch, which the assistant never pushes to"),
                )
                .await;
        }
        let refspec = format!("HEAD:refs/heads/{branch}");
        let lease_arg =
            lease.map(|expected| format!("--force-with-lease=refs/heads/{branch}:{expected}"));
        let mut args = vec!["push", "--no-verify"];
        if let Some(lease) = &lease_arg {
            args.push(lease);
        }
        args.extend([remote.as_str(), refspec.as_str()]);
        match self.trusted_git()?.remote(&args).await {
            Ok(_) => Ok(PushOutcome::Pushed { branch, sha: head }),
            Err(error) => {
                let detail = match &error {
                    super::GitError::Failed { stderr, .. } if !stderr.is_empty() => stderr.clone(),
                    other => other.to_string(),
                };
                self.impossible(classify(&detail), detail).await
            }
        }
    }

    async fn impossible(
        &self,
        reason: PushRefusal,
        detail: String,
    ) -> Result<PushOutcome, WorkspaceError> {
        tracing::warn!(?reason, %detail, "push impossible; the patch will be posted instead");
        Ok(PushOutcome::Impossible {
            reason,
            detail,
            patch: self.patch().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_and_git_refusals_are_told_apart() {
        assert_eq!(
            classify(
                "remote: GitLab: You are not allowed to push code to protected branches on this project.\n ! [remote rejected] HEAD -> main (pre-receive hook declined)"
            ),
            PushRefusal::Protected
        );
        assert_eq!(
            classify(
                "remote: You are not allowed to push code to this project.\nfatal: unable to access 'x': The requested URL returned error: 403"
            ),
            PushRefusal::NotAllowed
        );
        assert_eq!(
            classify(" ! [rejected]        HEAD -> f (stale info)"),
            PushRefusal::Stale
        );
        assert_eq!(
            classify("fatal: unable to access: Connection refused"),
            PushRefusal::Failed
        );
    }
}
