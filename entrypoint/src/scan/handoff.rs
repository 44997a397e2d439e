//! Handing one mention over: to the run flow in this job, or to a pipeline of its own, both
//! through [`crate::answer`].

use std::sync::Arc;

use crate::agent::{Assistant, Handles};
use crate::answer::in_job::JobEnd;
use crate::answer::pipeline::{Launch, PipelineStart};
use crate::answer::{Answered, Ask, Retry, in_pipeline};
use crate::claim::ClaimSettings;
use crate::env::Env;
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;
use crate::guard::GuardSettings;
use crate::publish::JobLink;
use crate::redact::Redactor;
use crate::trigger::ci_vars::CiRequest;
use crate::trigger::resolve::{Location, from_note};

use super::discover::Mention;

/// What became of one mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The run flow handled it in this job (answered, refused, skipped because someone else
    /// claimed it meanwhile, or failed with the error in its placeholder).
    Ran(JobEnd),
    /// It was handed to a pipeline of its own ([`in_pipeline`] with [`Retry::NextScan`]):
    /// started with the placeholder the scan posted, refused, ignored, claimed first (or taken
    /// over after our lease ran out) by a webhook job, a relay or a concurrent scan, or failed
    /// with the claim given back.
    Handed(Answered),
    /// The run flow could not run in this job, or a queued request could not be claimed; any
    /// claim was given back, so the next scan tries again.
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl Outcome {
    /// The outcome of a run flow in this job.
    pub(crate) fn of_run(run: anyhow::Result<JobEnd>) -> Self {
        match run {
            Ok(end) => Outcome::Ran(end),
            Err(error) => Outcome::Failed {
                error: format!("{error:#}"),
            },
        }
    }

    /// What went wrong, when the mention could not be answered nor handed over.
    pub(crate) fn error(&self) -> Option<&str> {
        match self {
            Outcome::Failed { error } | Outcome::Handed(Answered::Failed { error, .. }) => {
                Some(error)
            }
            Outcome::Ran(_) | Outcome::Handed(_) => None,
        }
    }

    /// True when the next scan must try this mention again (so its to-do stays pending).
    pub(crate) fn retry_later(&self) -> bool {
        self.error().is_some()
    }
}

/// The request that names `mention` for `assistant`, with the digest of the body the scan
/// listed (and, in pipeline mode, its guard checked): the run refuses the note if it was edited
/// since.
pub fn request(project: &ProjectRef, assistant: Assistant, mention: &Mention) -> CiRequest {
    CiRequest {
        project: project.clone(),
        assistant,
        noteable: mention.noteable,
        note: mention.note.id,
        discussion: mention.discussion.clone(),
        placeholder: None,
        checked_body: Some(crate::guard::edit::body_digest(&mention.note.body)),
    }
}

/// Answers the mention in this job ([`crate::in_job`]).
pub async fn in_job(
    request: &CiRequest,
    handles: &Handles,
    vars: &dyn Env,
    redactor: Arc<Redactor>,
) -> Outcome {
    Outcome::of_run(crate::in_job::in_job(request, handles, vars, redactor).await)
}

/// What [`PipelineHandoff::hand_over`] needs besides the mention.
pub(crate) struct PipelineHandoff<'a> {
    /// The scan's client.
    pub gitlab: &'a GitLab,
    /// The project.
    pub project: &'a ProjectRef,
    /// The scan's assistant.
    pub assistant: Assistant,
    /// The handles.
    pub handles: &'a Handles,
    /// Who may ask.
    pub guard: &'a GuardSettings,
    /// The branch to start pipelines on.
    pub git_ref: &'a str,
    /// The scan job, linked from the placeholder until the pipeline's job takes it over.
    pub job: Option<&'a JobLink>,
    /// For the refusal.
    pub redactor: &'a Redactor,
    /// The claim's lease.
    pub claim: &'a ClaimSettings,
}

impl PipelineHandoff<'_> {
    /// Answers the mention in a pipeline of its own ([`crate::answer::in_pipeline`]), started
    /// with the bot token. A claim whose placeholder or pipeline could not be made is given
    /// back and the placeholder deleted, so the next scan tries again.
    pub(crate) async fn hand_over(&self, mention: &Mention) -> Outcome {
        let trigger = from_note(
            Location {
                project: self.project.clone(),
                noteable: mention.noteable,
                discussion: mention.discussion.clone(),
                confidential: mention.confidential,
                placeholder: None,
            },
            mention.note.clone(),
            self.handles,
        );
        let ask = Ask {
            gitlab: self.gitlab,
            trigger: &trigger,
            assistant: self.assistant,
            claim: self.claim,
            job: self.job,
            pipeline: None,
            redactor: self.redactor,
        };
        let start = PipelineStart::BotToken;
        let launch = Launch {
            gitlab: self.gitlab,
            start: &start,
            git_ref: self.git_ref,
        };
        Outcome::Handed(in_pipeline(ask, self.guard, launch, Retry::NextScan, |_| {}).await)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::gitlab::ids::{DiscussionId, MergeRequestIid, NoteId, Noteable};

    #[test]
    fn a_mention_is_named_by_the_variables_the_run_reads() {
        let note: crate::gitlab::notes::Note = serde_json::from_value(serde_json::json!({
            "id": 901, "type": "DiffNote", "body": "@claude rename",
            "author": {"id": 1, "username": "dana", "name": "D", "state": "active"},
            "created_at": Utc::now(), "updated_at": Utc::now(), "system": false,
            "noteable_id": 5, "noteable_type": "MergeRequest", "resolvable": true
        }))
        .unwrap();
        let mention = Mention {
            noteable: Noteable::MergeRequest(MergeRequestIid(3)),
            confidential: false,
            discussion: Some(
                DiscussionId::new("6a9c1750b37d513a43987b574953fceb50b03ce7").unwrap(),
            ),
            note,
            todo: None,
        };
        let mut request = request(
            &ProjectRef::Id(crate::gitlab::ids::ProjectId(7)),
            Assistant::Codex,
            &mention,
        );
        request.placeholder = Some(NoteId(902));
        let vars = request.variables();
        let lookup = |name: &str| {
            vars.get(name)
                .cloned()
                .or_else(|| (name == "CI_PROJECT_ID").then(|| "7".to_owned()))
        };
        let request = crate::trigger::ci_vars::parse(&lookup).unwrap();
        assert_eq!(request.assistant, Assistant::Codex);
        assert_eq!(request.noteable, mention.noteable);
        assert_eq!(request.note, NoteId(901));
        assert_eq!(request.discussion, mention.discussion);
        assert_eq!(request.placeholder, Some(NoteId(902)));
        assert_eq!(
            request.checked_body,
            Some(crate::guard::edit::body_digest("@claude rename"))
        );
    }
}
