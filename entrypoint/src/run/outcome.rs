//! What an error that stopped the job tells the person who asked.

use crate::agent::Assistant;
use crate::gitlab::GitLabError;
use crate::publish::result::Failure;
use crate::workspace::WorkspaceError;

/// The [`Failure`] shown for an error that stopped the job after the placeholder was posted.
pub(crate) fn failure_of(error: &anyhow::Error, assistant: Assistant) -> Failure {
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
