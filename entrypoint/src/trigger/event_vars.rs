//! The `AI_EVENT*` variables that name a trigger without a note (the scan's `assigned`,
//! `review_requested` and description-mention to-dos, the trigger label's resource label events,
//! and every such request the relay turns into a pipeline), next to `AI_NOTEABLE_TYPE` and
//! `AI_NOTEABLE_IID`, and, from the relay, `AI_PLACEHOLDER_NOTE_ID`. Like `AI_NOTE_ID` they name the request without carrying it: the job reads
//! the issue or merge request back and answers only if the bot is still assigned, still asked
//! for its review, or the description still mentions the assistant, so a variable can never
//! smuggle in a request nobody made.

use chrono::{DateTime, Utc};

use super::Author;
use super::ci_vars::{self, NOTEABLE_TYPE_FIX, VarError};
use super::decision::BotIdentity;
use super::event::{self, HookChange, HookUser, Rules, Verdict};
use crate::agent::{Assistant, Handles};
use crate::env::Env;
use crate::gitlab::ids::{NoteId, Noteable, ProjectRef, UserId};
use crate::gitlab::{GitLab, GitLabError};

/// The names, in one place: the scan writes them, this module reads them.
pub mod names {
    /// `assigned`, `review_requested`, `labelled` or `description_mention`.
    pub(crate) const EVENT: &str = crate::env::AI_EVENT.name();
    /// The label added, for `labelled`.
    pub const LABEL: &str = crate::env::AI_EVENT_LABEL.name();
    /// The user who assigned, requested the review or wrote the description.
    pub(crate) const ACTOR_ID: &str = crate::env::AI_EVENT_ACTOR_ID.name();
    /// When it happened (RFC 3339): the claim on the issue or merge request is for this event.
    pub(crate) const AT: &str = crate::env::AI_EVENT_AT.name();
}

/// Which request the variables name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Requested {
    /// The bot user was assigned to the issue.
    Assigned,
    /// The bot user's review was requested on the merge request.
    ReviewRequested,
    /// The trigger label (`AI_LABEL_TRIGGER`) was added: seen by the relay in a hook, by the
    /// scan in the resource label events (GitLab files no to-do for a label).
    Labelled {
        /// The label's title.
        label: String,
    },
    /// The issue's or merge request's description mentions the assistant.
    DescriptionMention,
}

impl Requested {
    /// The value of `AI_EVENT`.
    pub fn name(&self) -> &'static str {
        match self {
            Requested::Assigned => "assigned",
            Requested::ReviewRequested => "review_requested",
            Requested::Labelled { .. } => "labelled",
            Requested::DescriptionMention => "description_mention",
        }
    }

    /// The request as one field of a queued note's hidden line ([`crate::quota::Queued::line`]):
    /// its [`Requested::name`], and for a label `labelled=` and the label's title
    /// percent-encoded (a title may hold `;`, spaces or `-->`, which would end the line or the
    /// HTML comment that hides it).
    pub fn field(&self) -> String {
        match self {
            Requested::Labelled { label } => format!(
                "labelled={}",
                percent_encoding::utf8_percent_encode(label, percent_encoding::NON_ALPHANUMERIC)
            ),
            other => other.name().to_owned(),
        }
    }

    /// The request a [`Requested::field`] names.
    pub(crate) fn from_field(field: &str) -> Option<Self> {
        if let Some(encoded) = field.strip_prefix("labelled=") {
            let label = percent_encoding::percent_decode_str(encoded)
                .decode_utf8()
                .ok()?
                .into_owned();
            return (!label.is_empty()).then_some(Requested::Labelled { label });
        }
        [
            Requested::Assigned,
            Requested::ReviewRequested,
            Requested::DescriptionMention,
        ]
        .into_iter()
        .find(|r| r.name() == field)
    }

    /// The request an event stands for.
    pub fn of(kind: &event::EventKind) -> Self {
        match kind {
            event::EventKind::Assigned => Requested::Assigned,
            event::EventKind::ReviewRequested => Requested::ReviewRequested,
            event::EventKind::Labelled { label } => Requested::Labelled {
                label: label.clone(),
            },
            event::EventKind::DescriptionMention => Requested::DescriptionMention,
        }
    }
}

/// A request without a note, named by variables, not yet read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRequest {
    /// The job's project.
    pub project: ProjectRef,
    /// The issue or merge request.
    pub noteable: Noteable,
    /// What was asked.
    pub requested: Requested,
    /// Who asked.
    pub actor: UserId,
    /// When.
    pub at: DateTime<Utc>,
    /// The note to answer in (`AI_PLACEHOLDER_NOTE_ID`): the placeholder the relay posted after
    /// claiming the request, or a queued request's note, which the retry claimed. The job takes
    /// it over and does not claim again (as for a note, [`ci_vars::names::PLACEHOLDER_NOTE_ID`]).
    pub placeholder: Option<NoteId>,
}

impl EventRequest {
    /// The request a relay or webhook trigger without a note stands for; `None` for a trigger
    /// with a note (or without an event).
    pub fn of(trigger: &super::Trigger, placeholder: Option<NoteId>) -> Option<Self> {
        let event = trigger.event.as_ref().filter(|_| trigger.note.is_none())?;
        Some(Self {
            project: trigger.project.clone(),
            noteable: trigger.noteable,
            requested: Requested::of(&event.kind),
            actor: event.actor.id,
            at: event.at,
            placeholder,
        })
    }

    /// The variables that name this request, for the scan's in-job run and the relay's
    /// pipeline.
    pub fn variables(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            (names::EVENT, self.requested.name().to_owned()),
            (names::ACTOR_ID, self.actor.0.to_string()),
            (
                names::AT,
                self.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ),
            (
                ci_vars::names::NOTEABLE_TYPE,
                self.noteable.gitlab_type().to_owned(),
            ),
            (
                ci_vars::names::NOTEABLE_IID,
                self.noteable.iid().to_string(),
            ),
        ];
        if let Requested::Labelled { label } = &self.requested {
            vars.push((names::LABEL, label.clone()));
        }
        if let Some(placeholder) = self.placeholder {
            vars.push((ci_vars::names::PLACEHOLDER_NOTE_ID, placeholder.to_string()));
        }
        vars
    }
}

/// True when the environment names an event.
pub fn present(vars: &dyn Env) -> bool {
    non_empty(vars, names::EVENT).is_some()
}

/// Reads and validates the variables.
pub fn parse(vars: &dyn Env) -> Result<EventRequest, VarError> {
    const EVENT_FIX: &str = "set it to \"assigned\", \"review_requested\", \"labelled\" or \"description_mention\", or leave it unset";
    const LABEL_FIX: &str = "set it to the title of the label that was added (the relay sets it with AI_EVENT=labelled)";
    let text = non_empty(vars, names::EVENT).unwrap_or_default();
    let requested = match text.as_str() {
        "assigned" => Requested::Assigned,
        "review_requested" => Requested::ReviewRequested,
        "labelled" => Requested::Labelled {
            label: non_empty(vars, names::LABEL)
                .ok_or_else(|| VarError::invalid(names::LABEL, "", LABEL_FIX))?,
        },
        "description_mention" => Requested::DescriptionMention,
        _ => return Err(VarError::invalid(names::EVENT, &text, EVENT_FIX)),
    };
    const ACTOR_FIX: &str = "set it to the id of the user who assigned the bot, requested its review or wrote the description";
    let actor_text = non_empty(vars, names::ACTOR_ID).unwrap_or_default();
    let actor = actor_text
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| VarError::invalid(names::ACTOR_ID, &actor_text, ACTOR_FIX))?;
    const AT_FIX: &str = "set it to the event's time in RFC 3339, e.g. 2026-12-07T08:00:00Z";
    let at_text = non_empty(vars, names::AT).unwrap_or_default();
    let at = DateTime::parse_from_rfc3339(&at_text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| VarError::invalid(names::AT, &at_text, AT_FIX))?;
    const IID_FIX: &str = "set it to the issue or merge request number (IID)";
    let kind = non_empty(vars, ci_vars::names::NOTEABLE_TYPE).unwrap_or_default();
    let iid_text = non_empty(vars, ci_vars::names::NOTEABLE_IID).unwrap_or_default();
    let iid = iid_text
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| VarError::invalid(ci_vars::names::NOTEABLE_IID, &iid_text, IID_FIX))?;
    let noteable = Noteable::from_type(&kind, iid).ok_or_else(|| {
        VarError::invalid(ci_vars::names::NOTEABLE_TYPE, &kind, NOTEABLE_TYPE_FIX)
    })?;
    const PLACEHOLDER_FIX: &str = "the relay sets it to the id of the placeholder it posted; remove it from the CI/CD variables";
    let placeholder = match non_empty(vars, ci_vars::names::PLACEHOLDER_NOTE_ID) {
        None => None,
        Some(text) => Some(
            text.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(NoteId)
                .ok_or_else(|| {
                    VarError::invalid(ci_vars::names::PLACEHOLDER_NOTE_ID, &text, PLACEHOLDER_FIX)
                })?,
        ),
    };
    Ok(EventRequest {
        project: ci_vars::project(vars)?,
        noteable,
        requested,
        actor,
        at,
        placeholder,
    })
}

/// Reads the issue or merge request back and decides as for a hook: `Ok(Err(reason))` when the
/// request no longer holds (the bot was unassigned meanwhile, the description was edited), or
/// when it is a label request for another label than the job's own `job_label`
/// (`AI_LABEL_TRIGGER`, when set).
pub async fn confirm(
    gitlab: &GitLab,
    request: &EventRequest,
    assistant: Assistant,
    handles: &Handles,
    bot: &BotIdentity,
    job_label: Option<&str>,
) -> Result<Result<super::Trigger, String>, GitLabError> {
    // A label request names its label (the relay's or the scan's trigger label); a job whose
    // own AI_LABEL_TRIGGER is another label does not take it: a variable alone never makes a
    // label a trigger the project did not choose.
    if let (Requested::Labelled { label }, Some(trigger)) = (&request.requested, job_label)
        && label != trigger
    {
        return Ok(Err(format!(
            "the label request on {} names the label {label:?}, but this job's AI_LABEL_TRIGGER is {trigger:?}",
            request.noteable.reference()
        )));
    }
    let (confidential, description, labels, assignees, reviewers) = match request.noteable {
        Noteable::Issue(iid) => {
            let issue = gitlab.issue(&request.project, iid).await?;
            (
                issue.confidential,
                issue.description,
                issue.labels,
                issue.assignees,
                Vec::new(),
            )
        }
        Noteable::MergeRequest(iid) => {
            let mr = gitlab.merge_request(&request.project, iid).await?;
            (false, mr.description, mr.labels, mr.assignees, mr.reviewers)
        }
    };
    let users = |list: Vec<crate::gitlab::users::UserBasic>| -> Vec<HookUser> {
        list.into_iter()
            .map(|u| HookUser {
                id: Some(u.id.0),
                username: u.username,
            })
            .collect()
    };
    let change = HookChange {
        project: request.project.clone(),
        noteable: request.noteable,
        confidential,
        actor: Author {
            id: request.actor,
            username: None,
        },
        action: request.requested.name().to_owned(),
        at: request.at,
        added_assignees: match request.requested {
            Requested::Assigned => users(assignees),
            _ => Vec::new(),
        },
        added_reviewers: match request.requested {
            Requested::ReviewRequested => users(reviewers),
            _ => Vec::new(),
        },
        added_labels: match &request.requested {
            Requested::Labelled { label } => labels.into_iter().filter(|l| l == label).collect(),
            _ => Vec::new(),
        },
        opened_description: match request.requested {
            Requested::DescriptionMention => description,
            _ => None,
        },
    };
    let label = match &request.requested {
        Requested::Labelled { label } => Some(label.as_str()),
        _ => None,
    };
    let rules = Rules {
        assistant,
        bot,
        label,
        handles,
    };
    Ok(match change.verdict(rules) {
        Verdict::Answer(found) => {
            let mut trigger = event::into_trigger(&change, found, assistant, handles);
            trigger.source = super::Source::CiVariables;
            trigger.placeholder = request.placeholder;
            Ok(trigger)
        }
        Verdict::Ignore(_) => Err(format!(
            "the {} request on {} no longer holds (the bot was unassigned, the review request withdrawn, the label removed or the description changed)",
            request.requested.name(),
            request.noteable.reference()
        )),
    })
}

/// Whether the request a hook reported still holds on GitLab now: the bot still an assignee
/// or reviewer, the label still on, the description still mentioning the assistant. A webhook
/// body is read back like a note is, so a stale delivery (the bot unassigned before the job
/// started) or a body nobody's action produced starts nothing.
pub(crate) async fn still_holds(
    gitlab: &GitLab,
    trigger: &super::Trigger,
    kind: &event::EventKind,
    bot: &BotIdentity,
    handles: &Handles,
) -> Result<bool, GitLabError> {
    let (description, labels, assignees, reviewers) = match trigger.noteable {
        Noteable::Issue(iid) => {
            let issue = gitlab.issue(&trigger.project, iid).await?;
            (issue.description, issue.labels, issue.assignees, Vec::new())
        }
        Noteable::MergeRequest(iid) => {
            let mr = gitlab.merge_request(&trigger.project, iid).await?;
            (mr.description, mr.labels, mr.assignees, mr.reviewers)
        }
    };
    let has_bot = |users: &[crate::gitlab::users::UserBasic]| users.iter().any(|u| u.id == bot.id);
    Ok(match kind {
        event::EventKind::Assigned => has_bot(&assignees),
        event::EventKind::ReviewRequested => has_bot(&reviewers),
        event::EventKind::Labelled { label } => labels.iter().any(|l| l == label),
        event::EventKind::DescriptionMention => description.is_some_and(|text| {
            crate::mention::find_mentions(&text, handles)
                .iter()
                .any(|m| trigger.assistants.contains(&m.assistant))
        }),
    })
}

fn non_empty(vars: &dyn Env, name: &str) -> Option<String> {
    vars.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::{IssueIid, ProjectId};
    use crate::test_support::vars as env;

    #[test]
    fn the_variables_the_scan_writes_are_the_ones_read_back() {
        let request = EventRequest {
            project: ProjectRef::Id(ProjectId(7)),
            noteable: Noteable::Issue(IssueIid(3)),
            requested: Requested::Assigned,
            actor: UserId(5),
            at: DateTime::parse_from_rfc3339("2026-12-07T08:00:00.250Z")
                .unwrap()
                .with_timezone(&Utc),
            placeholder: None,
        };
        let mut written: Vec<(&str, String)> = request.variables();
        written.push(("CI_PROJECT_ID", "7".into()));
        let pairs: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let vars = env(&pairs);
        assert!(present(&vars));
        assert_eq!(parse(&vars).unwrap(), request);

        // The relay's: a label, and the placeholder it posted.
        let relayed = EventRequest {
            requested: Requested::Labelled {
                label: "ai::claude".into(),
            },
            placeholder: Some(NoteId(902)),
            ..request
        };
        let mut written: Vec<(&str, String)> = relayed.variables();
        written.push(("CI_PROJECT_ID", "7".into()));
        let pairs: Vec<(&str, &str)> = written.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(parse(&env(&pairs)).unwrap(), relayed);
        let unlabelled: Vec<(&str, &str)> = pairs
            .iter()
            .copied()
            .filter(|(k, _)| *k != names::LABEL)
            .collect();
        assert_eq!(parse(&env(&unlabelled)).unwrap_err().name, names::LABEL);
    }

    #[test]
    fn a_wrong_variable_is_named_with_what_to_do() {
        let vars = env(&[
            ("CI_PROJECT_ID", "7"),
            (names::EVENT, "closed"),
            (names::ACTOR_ID, "5"),
            (names::AT, "2026-12-07T08:00:00Z"),
        ]);
        let error = parse(&vars).unwrap_err();
        assert_eq!(error.name, names::EVENT);
        assert!(error.to_string().contains("review_requested"));
        let vars = env(&[
            ("CI_PROJECT_ID", "7"),
            (names::EVENT, "assigned"),
            (names::ACTOR_ID, "5"),
            (names::AT, "yesterday"),
        ]);
        assert_eq!(parse(&vars).unwrap_err().name, names::AT);
    }
}
