//! Handing one mention over: to the run flow in this job, or to a pipeline of its own.

use crate::answer::in_job::{JobEnd, mention_variables};
use crate::assistant::{Assistant, Handles};
use crate::claim::{self, Claim, ClaimSettings, HandOver, Target};
use crate::gitlab::GitLab;
use crate::gitlab::ids::{NoteId, PipelineId, ProjectRef};
use crate::gitlab::pipelines::{NewPipeline, PipelineVariable, VariableType};
use crate::guard::{self, GuardOutcome, GuardSettings};
use crate::publish::JobLink;
use crate::publish::placeholder::{placeholder_body, post_where_asked};
use crate::redact::Redactor;
use crate::trigger::resolve::{Location, from_note};

use super::discover::Mention;

/// What became of one mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The run flow handled it in this job (answered, refused, skipped because someone else
    /// claimed it meanwhile, or failed with the error in its placeholder).
    Ran(JobEnd),
    /// A pipeline was started for it, with the placeholder the scan posted.
    Started {
        /// The pipeline.
        pipeline: PipelineId,
        /// The placeholder it takes over.
        placeholder: NoteId,
    },
    /// The author may not ask; they were told so (pipeline mode).
    Refused {
        /// The refusal note.
        note: NoteId,
    },
    /// The guard ignored it silently (a bot wrote it; the note is gone).
    Ignored {
        /// Why.
        reason: String,
    },
    /// Someone else (a webhook job, a relay, a concurrent scan) claimed it first, or took it
    /// over from us after our lease ran out.
    Taken,
    /// It could not be handed over; any claim was given back, so the next scan tries again.
    Failed {
        /// What went wrong.
        error: String,
    },
}

impl Outcome {
    /// True when the next scan must try this mention again (so its to-do stays pending).
    pub fn retry_later(&self) -> bool {
        matches!(self, Outcome::Failed { .. })
    }
}

/// The placeholder the scan posted for a pipeline.
struct Placeholder {
    note: NoteId,
}

/// What [`in_pipeline`] needs besides the mention.
pub struct PipelineHandoff<'a> {
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
    /// Guards, claims, posts the placeholder and starts the pipeline. A claim whose placeholder
    /// or pipeline could not be made is given back (and the placeholder deleted), so that
    /// nothing is left claimed but unanswered.
    pub async fn hand_over(&self, mention: &Mention) -> Outcome {
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
        let target = Target {
            project: self.project,
            noteable: mention.noteable,
            note: mention.note.id,
        };
        let failed = |what: &str, error: &dyn std::fmt::Display| Outcome::Failed {
            error: format!("{what}: {error}"),
        };
        let refusal = match guard::check(self.gitlab, &trigger, self.guard).await {
            Ok(GuardOutcome::Proceed { .. }) => None,
            Ok(GuardOutcome::Ignore(reason)) => {
                return Outcome::Ignored {
                    reason: reason.message(),
                };
            }
            Ok(GuardOutcome::Refuse(refusal)) => Some(refusal),
            Err(error) => return failed("checking who asked", &error),
        };
        let award = match claim::claim(self.gitlab, target, self.assistant, self.claim).await {
            Ok(Claim::Won(award)) => award,
            Ok(Claim::Taken) => return Outcome::Taken,
            Err(error) => return failed("claiming the note", &error),
        };
        let give_back = |handover: Option<crate::gitlab::ids::AwardId>| async move {
            if let Err(error) = claim::release(self.gitlab, target, award, handover).await {
                tracing::warn!(note = %mention.note.id, %error, "the claim could not be given back; remove the bot's reactions to have the mention answered");
            }
        };
        let hand_over = || async {
            match claim::hand_over(self.gitlab, target, self.assistant, award).await {
                Ok(HandOver::Done(handover)) => Ok(handover),
                Ok(HandOver::Lost) => Err(Outcome::Taken),
                Err(error) => {
                    give_back(None).await;
                    Err(failed("handing the claim over", &error))
                }
            }
        };
        if let Some(refusal) = refusal {
            let handover = match hand_over().await {
                Ok(handover) => handover,
                Err(outcome) => return outcome,
            };
            return match crate::answer::refusal::refuse(
                self.gitlab,
                &trigger,
                self.assistant,
                &refusal,
                self.redactor,
            )
            .await
            {
                Ok(note) => Outcome::Refused { note },
                Err(error) => {
                    give_back(Some(handover)).await;
                    failed("posting the refusal", &format!("{error:#}"))
                }
            };
        }
        // Tied to the claim, so whoever takes over an expired claim can remove it.
        let body = format!(
            "{}\n{}",
            placeholder_body(self.assistant, self.job),
            crate::marker::claim_line(award)
        );
        let placeholder = match post_where_asked(
            self.gitlab,
            &trigger,
            &crate::quick_action::Inert::new(&body),
        )
        .await
        {
            Ok((note, _thread)) => Placeholder { note: note.id },
            Err(error) => {
                give_back(None).await;
                return failed("posting the placeholder", &error);
            }
        };
        let delete_placeholder = || async {
            if let Err(delete) = self
                .gitlab
                .delete_note(self.project, mention.noteable, placeholder.note)
                .await
            {
                tracing::warn!(note = %placeholder.note, error = %delete, "the placeholder of a pipeline that did not start could not be deleted");
            }
        };
        let handover = match hand_over().await {
            Ok(handover) => handover,
            Err(outcome) => {
                delete_placeholder().await;
                return outcome;
            }
        };
        let variables = mention_variables(self.assistant, mention, Some(placeholder.note))
            .into_iter()
            .map(|(key, value)| PipelineVariable {
                key: key.to_owned(),
                value,
                variable_type: VariableType::EnvVar,
            })
            .collect();
        let pipeline = NewPipeline {
            git_ref: self.git_ref.to_owned(),
            variables,
        };
        match self.gitlab.create_pipeline(self.project, &pipeline).await {
            Ok(pipeline) => Outcome::Started {
                pipeline: pipeline.id,
                placeholder: placeholder.note,
            },
            Err(error) => {
                delete_placeholder().await;
                give_back(Some(handover)).await;
                failed("starting the pipeline", &error)
            }
        }
    }
}
