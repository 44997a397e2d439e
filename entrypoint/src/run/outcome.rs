//! How the job ended, and what an error that stopped it tells the person who asked.

use crate::assistant::Assistant;
use crate::gitlab::GitLabError;
use crate::gitlab::ids::NoteId;
use crate::publish::result::Failure;
use crate::workspace::WorkspaceError;

/// How one job ended. Everything but [`JobEnd::Failed`] is a success for CI: a skipped,
/// ignored or refused request is the job doing its work.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobEnd {
    /// The trigger is not for this job (no mention, another assistant, a system note…);
    /// nothing was posted.
    Skipped { reason: String },
    /// The guard ignored the request silently (a bot, a vanished note).
    Ignored { reason: String },
    /// The author was told politely why nothing happens.
    Refused { note: NoteId },
    /// The placeholder now holds the answer.
    Answered { note: NoteId },
    /// The placeholder now holds the error.
    Failed { note: NoteId, headline: String },
    /// The model API's quota or rate limit was reached: the placeholder now says when a
    /// scheduled scan retries ([`crate::quota`]).
    Queued {
        note: NoteId,
        retry_at: chrono::DateTime<chrono::Utc>,
    },
}

impl JobEnd {
    /// False only for [`JobEnd::Failed`]; the job's exit status.
    pub fn succeeded(&self) -> bool {
        !matches!(self, JobEnd::Failed { .. })
    }
}

/// The [`Failure`] shown for an error that stopped the job after the placeholder was posted.
pub fn failure_of(error: &anyhow::Error, assistant: Assistant) -> Failure {
    let message = format!("{error:#}");
    for cause in error.chain() {
        if cause.downcast_ref::<GitLabError>().is_some() {
            return Failure::GitLab { message };
        }
        if let Some(WorkspaceError::Git(_)) = cause.downcast_ref::<WorkspaceError>() {
            return Failure::Assistant {
                message: format!("a git command failed: {message}"),
            };
        }
    }
    Failure::from_message(&message, assistant, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_fail_the_job() {
        assert!(
            JobEnd::Skipped {
                reason: "no mention".into()
            }
            .succeeded()
        );
        assert!(JobEnd::Refused { note: NoteId(1) }.succeeded());
        assert!(
            !JobEnd::Failed {
                note: NoteId(1),
                headline: "x".into()
            }
            .succeeded()
        );
    }

    #[test]
    fn other_errors_keep_their_message() {
        let error = anyhow::anyhow!("could not start /usr/bin/claude: No such file");
        assert_eq!(
            failure_of(&error, Assistant::Claude),
            Failure::Assistant {
                message: "could not start /usr/bin/claude: No such file".into()
            }
        );
    }
}
