//! Handing one mention over: to the run flow in this job, or to a pipeline of its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::assistant::{Assistant, Handles};
use crate::claim::{self, Claim, ClaimSettings, HandOver, Target};
use crate::gitlab::GitLab;
use crate::gitlab::ids::{NoteId, PipelineId, ProjectRef};
use crate::gitlab::pipelines::{NewPipeline, PipelineVariable, VariableType};
use crate::guard::{self, GuardOutcome, GuardSettings};
use crate::publish::JobLink;
use crate::publish::placeholder::{placeholder_body, post_where_asked};
use crate::redact::Redactor;
use crate::run::{JobEnd, RunOptions};
use crate::trigger::ci_vars::names;
use crate::trigger::load::{TRIGGER_PAYLOAD, WEBHOOK_PAYLOAD};
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

/// The `AI_*` variables that name the mention, as the relay passes them.
fn mention_variables(
    assistant: Assistant,
    mention: &Mention,
    placeholder: Option<NoteId>,
) -> BTreeMap<&'static str, String> {
    let mut vars = BTreeMap::from([
        (names::ASSISTANT, assistant.name().to_owned()),
        (
            names::NOTEABLE_TYPE,
            mention.noteable.gitlab_type().to_owned(),
        ),
        (names::NOTEABLE_IID, mention.noteable.iid().to_string()),
        (names::NOTE_ID, mention.note.id.to_string()),
        // The body the scan listed (and, in pipeline mode, its guard checked): the run refuses
        // the note if it was edited since.
        (
            names::NOTE_SHA256,
            crate::guard::edit::body_digest(&mention.note.body),
        ),
    ]);
    if let Some(discussion) = &mention.discussion {
        vars.insert(names::DISCUSSION_ID, discussion.to_string());
    }
    if let Some(placeholder) = placeholder {
        vars.insert(names::PLACEHOLDER_NOTE_ID, placeholder.to_string());
    }
    vars
}

/// Runs the run flow for the mention in this job: the job's own variables, with the mention's
/// `AI_*` variables on top and every other trigger hidden. The run claims the note itself (no
/// placeholder is passed), so a mention someone else took meanwhile is skipped there.
pub async fn in_job(
    mention: &Mention,
    assistant: Assistant,
    handles: &Handles,
    vars: &dyn Fn(&str) -> Option<String>,
    redactor: Arc<Redactor>,
) -> Outcome {
    let overlay = mention_variables(assistant, mention, None);
    let hidden = [
        WEBHOOK_PAYLOAD,
        TRIGGER_PAYLOAD,
        names::DISCUSSION_ID,
        names::PLACEHOLDER_NOTE_ID,
        names::NOTE_SHA256,
        crate::trigger::flow::names::INPUT,
        crate::trigger::flow::names::CONTEXT,
        crate::trigger::flow::names::EVENT,
    ];
    let job_vars = |name: &str| match overlay.get(name) {
        Some(value) => Some(value.clone()),
        None if hidden.contains(&name) => None,
        None => vars(name),
    };
    let options = RunOptions {
        assistant,
        handles: handles.clone(),
    };
    match crate::run::run(&options, &job_vars, redactor).await {
        Ok(end) => Outcome::Ran(end),
        Err(error) => Outcome::Failed {
            error: format!("{error:#}"),
        },
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
            subject: claim::Subject::Note(mention.note.id),
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
            return match crate::run::refuse(
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

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::gitlab::ids::{DiscussionId, MergeRequestIid, Noteable};

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
        let vars = mention_variables(Assistant::Codex, &mention, Some(NoteId(902)));
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
