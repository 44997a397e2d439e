//! How a job that answers a mention in itself ended ([`JobEnd`]): `entrypoint run`
//! ([`crate::run::run`], which acknowledges through [`super::acknowledge_verdict`]) and the
//! scan's `AI_SCAN_MODE=job` runs ([`crate::in_job`]) both end this way.

use crate::gitlab::ids::NoteId;

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
}
