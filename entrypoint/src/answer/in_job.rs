//! Answering a mention in this job rather than in a pipeline of its own: the scan's
//! `AI_SCAN_MODE=job` runs the run flow ([`crate::run::run`]) once per mention it found, and
//! [`JobEnd`] is how that flow ended.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::assistant::{Assistant, Handles};
use crate::gitlab::ids::NoteId;
use crate::redact::Redactor;
use crate::run::RunOptions;
use crate::scan::discover::Mention;
use crate::scan::handoff::Outcome;
use crate::trigger::ci_vars::names;
use crate::trigger::load::{TRIGGER_PAYLOAD, WEBHOOK_PAYLOAD};

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
}

impl JobEnd {
    /// False only for [`JobEnd::Failed`]; the job's exit status.
    pub fn succeeded(&self) -> bool {
        !matches!(self, JobEnd::Failed { .. })
    }
}

/// The `AI_*` variables that name the mention, as the relay passes them.
pub(crate) fn mention_variables(
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
