//! Picks the entry point from the job's environment.
//!
//! Precedence: a webhook body (`AI_WEBHOOK_PAYLOAD` from our relay, then GitLab's own
//! `TRIGGER_PAYLOAD` when it is a Note Hook), then our `AI_*` variables, then the `AI_HOOK_*`
//! variables of our webhook template, then a Duo flow. GitLab passes file-type CI/CD
//! variables as the path of a file holding the value, so payload variables are read from that
//! file; a value that is itself JSON (a test, a manual run) is taken as is.
//! <https://docs.gitlab.com/ci/variables/#use-file-type-cicd-variables>

use std::path::Path;

use super::Trigger;
use super::ci_vars::{self, CiRequest, VarError};
use super::event;
use super::event_vars;
use super::flow::{self, FlowError};
use super::hook_vars::{self, HookEvent};
use super::webhook::{self, WebhookError};
use crate::agent::Handles;
use crate::env::Env;
use crate::gitlab::ids::ProjectRef;

/// The webhook payload variable our relay sets.
pub(crate) const WEBHOOK_PAYLOAD: &str = crate::env::AI_WEBHOOK_PAYLOAD.name();
/// The variable GitLab fills with the webhook body when a webhook calls the trigger URL.
pub const TRIGGER_PAYLOAD: &str = "TRIGGER_PAYLOAD";

/// The entry point found, parsed as far as it can be without the API.
#[derive(Debug)]
pub enum Entry {
    /// A webhook body, with the variable it came from.
    Webhook {
        /// `AI_WEBHOOK_PAYLOAD` or `TRIGGER_PAYLOAD`.
        variable: &'static str,
        /// The parsed trigger, or why a comment was refused (a commit or snippet comment).
        trigger: Result<Trigger, WebhookError>,
    },
    /// Our `AI_*` variables, to be resolved through the API.
    Ci(CiRequest),
    /// The `AI_HOOK_*` variables of our webhook template: the note is resolved through the API
    /// like [`Entry::Ci`], for the assistant of the job that reads them.
    Hook(HookEvent),
    /// A Duo flow.
    Flow(Trigger),
    /// The `AI_EVENT*` variables of the scan: read back through the API
    /// ([`event_vars::confirm`]).
    EventVars(event_vars::EventRequest),
    /// An Issue Hook or Merge Request Hook body: decided once the bot user is known
    /// ([`event::HookChange::verdict`]).
    Event {
        /// `AI_WEBHOOK_PAYLOAD` or `TRIGGER_PAYLOAD`.
        variable: &'static str,
        /// What changed, and who changed it.
        change: event::HookChange,
    },
    /// A pipeline started by a trigger token for something other than a comment: GitLab fills
    /// `TRIGGER_PAYLOAD` for every trigger-token pipeline (the request's own parameters when no
    /// webhook called it), so a relay's or a team's own trigger calls carry one too. Nothing to
    /// answer.
    NotAComment {
        /// What the payload is, in one sentence.
        reason: String,
    },
}

/// No trigger could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Nothing in the environment describes a trigger.
    #[error(
        "no trigger found: this job needs AI_WEBHOOK_PAYLOAD, TRIGGER_PAYLOAD, the AI_NOTE_ID/AI_NOTEABLE_* variables or a Duo flow's AI_FLOW_* variables; start it through the relay, the scheduled scan, a webhook trigger or a Duo flow"
    )]
    NoTrigger,
    /// A payload variable points at a file that cannot be read.
    #[error(
        "{variable} names the file {path:?}, which cannot be read ({source}): pass the webhook body as a file-type variable"
    )]
    Unreadable {
        /// The variable.
        variable: &'static str,
        /// Its value.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The payload is not a Note Hook at all.
    #[error("{variable}: {source}")]
    Payload {
        /// The variable.
        variable: &'static str,
        /// What is wrong.
        source: WebhookError,
    },
    /// An Issue Hook or Merge Request Hook body that cannot be read.
    #[error("{variable}: {source}")]
    Event {
        /// The variable.
        variable: &'static str,
        /// What is wrong.
        source: event::EventError,
    },
    /// The payload is about another project than the one the job runs in.
    #[error(
        "{variable} is a comment in project {payload} but this job runs in project {job}: point the webhook at the project it belongs to"
    )]
    ProjectMismatch {
        /// The variable.
        variable: &'static str,
        /// The payload's project.
        payload: ProjectRef,
        /// `CI_PROJECT_ID`.
        job: ProjectRef,
    },
    /// A CI variable is wrong.
    #[error(transparent)]
    Var(#[from] VarError),
    /// The Duo flow variables are wrong.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

/// Finds and parses the trigger in `vars`.
pub fn detect(vars: &dyn Env, handles: &Handles) -> Result<Entry, LoadError> {
    let mut unrelated = None;
    for variable in [WEBHOOK_PAYLOAD, TRIGGER_PAYLOAD] {
        let Some(value) = vars.set(variable) else {
            continue;
        };
        let body = payload_text(variable, &value)?;
        // An Issues or Merge request events webhook (the bot assigned, a label added, …).
        if object_kind(&body).is_some_and(|kind| event::is_issuable_event(&kind)) {
            let change = event::parse(&body)
                .map_err(|source| LoadError::Event { variable, source })?
                .ok_or(LoadError::NoTrigger)?;
            check_project(variable, &change.project_ref(), vars)?;
            return Ok(Entry::Event { variable, change });
        }
        // Our relay only ever sends Note Hooks; GitLab's TRIGGER_PAYLOAD is a Note Hook only
        // when a Comments webhook called the trigger URL.
        if variable == TRIGGER_PAYLOAD
            && let Some(kind) = not_a_note(&body)
        {
            unrelated = Some(kind);
            continue;
        }
        let trigger = match webhook::parse(&body, handles) {
            Ok(trigger) => {
                check_project(variable, &trigger.project, vars)?;
                Ok(trigger)
            }
            Err(refused @ WebhookError::UnsupportedNoteable(_)) => Err(refused),
            Err(source) => return Err(LoadError::Payload { variable, source }),
        };
        return Ok(Entry::Webhook { variable, trigger });
    }
    // Before `AI_NOTEABLE_*` alone: an event shares them but has no note.
    if event_vars::present(vars) {
        return Ok(Entry::EventVars(event_vars::parse(vars)?));
    }
    if ci_vars::present(vars) {
        return Ok(Entry::Ci(ci_vars::parse(vars)?));
    }
    if hook_vars::present(vars) {
        return Ok(Entry::Hook(hook_vars::parse(vars)?));
    }
    if flow::present(vars) {
        return Ok(Entry::Flow(flow::parse(vars, handles)?));
    }
    match unrelated {
        Some(reason) => Ok(Entry::NotAComment { reason }),
        None => Err(LoadError::NoTrigger),
    }
}

/// `Some(description)` when a JSON body is not a Note Hook: a trigger call's own parameters
/// (`{"ref":…,"variables":…}`, no `object_kind`) or another event's webhook. Text that is not
/// JSON at all is left to the Note Hook parser, which reports it as malformed.
fn not_a_note(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    match value.get("object_kind").and_then(serde_json::Value::as_str) {
        Some("note") => None,
        Some(kind) => Some(format!(
            "TRIGGER_PAYLOAD is a {kind:?} webhook event, not a comment"
        )),
        None => Some(
            "TRIGGER_PAYLOAD holds a trigger call's parameters, not a comment: this pipeline was not started by a Comments webhook"
                .to_owned(),
        ),
    }
}

/// The `object_kind` of a JSON body, if it is JSON with one.
fn object_kind(body: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value
        .get("object_kind")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
}

/// The text of a payload variable: inline JSON, or the content of the file it names.
fn payload_text(variable: &'static str, value: &str) -> Result<String, LoadError> {
    if value.trim_start().starts_with('{') {
        return Ok(value.to_owned());
    }
    std::fs::read_to_string(Path::new(value.trim())).map_err(|source| LoadError::Unreadable {
        variable,
        path: value.trim().to_owned(),
        source,
    })
}

/// A webhook for project A must not drive a job in project B (a misrouted relay or a copied
/// webhook URL): the job's token and checkout belong to B.
fn check_project(
    variable: &'static str,
    payload: &ProjectRef,
    vars: &dyn Env,
) -> Result<(), LoadError> {
    let Some(job) = vars
        .var("CI_PROJECT_ID")
        .and_then(|v| v.trim().parse::<u64>().ok())
    else {
        return Ok(());
    };
    let job = ProjectRef::Id(crate::gitlab::ids::ProjectId(job));
    if &job == payload {
        Ok(())
    } else {
        Err(LoadError::ProjectMismatch {
            variable,
            payload: payload.clone(),
            job,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::ProjectId;
    use crate::test_support::vars as env;

    fn issue_hook() -> String {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/note_hooks/issue_note.json"
        );
        std::fs::read_to_string(path).unwrap()
    }

    /// The CI variables that name a note (issue 12's note 5001 for Claude), plus `other`.
    fn ci_note_with(other: (&'static str, &str)) -> Vec<(&'static str, String)> {
        let mut vars: Vec<(&'static str, String)> = [
            ("CI_PROJECT_ID", "42"),
            ("AI_ASSISTANT", "claude"),
            ("AI_NOTEABLE_TYPE", "issue"),
            ("AI_NOTEABLE_IID", "12"),
            ("AI_NOTE_ID", "5001"),
        ]
        .map(|(name, value)| (name, value.to_owned()))
        .to_vec();
        vars.push((other.0, other.1.to_owned()));
        vars
    }

    #[test]
    fn a_file_type_trigger_payload_is_read_from_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("TRIGGER_PAYLOAD");
        std::fs::write(&file, issue_hook()).unwrap();
        let vars = env(&[
            (TRIGGER_PAYLOAD, file.display().to_string()),
            ("CI_PROJECT_ID", "42".to_string()),
        ]);
        let Entry::Webhook { variable, trigger } = detect(&vars, &Handles::default()).unwrap()
        else {
            panic!("expected a webhook entry");
        };
        assert_eq!(variable, TRIGGER_PAYLOAD);
        assert_eq!(trigger.unwrap().project, ProjectRef::Id(ProjectId(42)));
    }

    #[test]
    fn the_relay_payload_wins_over_everything_else_and_may_be_inline() {
        let vars = env(&[
            (WEBHOOK_PAYLOAD, issue_hook()),
            (TRIGGER_PAYLOAD, "/nonexistent".to_string()),
            ("AI_NOTE_ID", "1".to_string()),
        ]);
        let entry = detect(&vars, &Handles::default()).unwrap();
        assert!(matches!(
            entry,
            Entry::Webhook {
                variable: WEBHOOK_PAYLOAD,
                ..
            }
        ));
    }

    #[test]
    fn ci_variables_come_before_a_duo_flow() {
        let vars = env(&ci_note_with(("AI_FLOW_INPUT", "@claude hi")));
        assert!(matches!(
            detect(&vars, &Handles::default()).unwrap(),
            Entry::Ci(_)
        ));
    }

    #[test]
    fn commit_comments_are_a_refusal_not_an_error() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/note_hooks/commit_note.json"
        );
        let vars = env(&[(WEBHOOK_PAYLOAD, std::fs::read_to_string(path).unwrap())]);
        let Entry::Webhook { trigger, .. } = detect(&vars, &Handles::default()).unwrap() else {
            panic!("expected a webhook entry");
        };
        assert!(matches!(trigger, Err(WebhookError::UnsupportedNoteable(_))));
    }

    #[test]
    fn a_trigger_calls_own_payload_defers_to_the_ci_variables() {
        let relay_call = r#"{"ref":"main","id":"7","variables":{"AI_ASSISTANT":"claude"}}"#;
        let vars = env(&ci_note_with((TRIGGER_PAYLOAD, relay_call)));
        assert!(matches!(
            detect(&vars, &Handles::default()).unwrap(),
            Entry::Ci(_)
        ));
    }

    #[test]
    fn a_trigger_pipeline_that_is_not_about_a_comment_has_nothing_to_answer() {
        for (payload, expected) in [
            (r#"{"ref":"main","id":"7"}"#, "trigger call's parameters"),
            (
                r#"{"object_kind":"push","ref":"refs/heads/main"}"#,
                "\"push\" webhook event",
            ),
        ] {
            let vars = env(&[(TRIGGER_PAYLOAD, payload.to_string())]);
            let Entry::NotAComment { reason } = detect(&vars, &Handles::default()).unwrap() else {
                panic!("{payload} should be recognised as unrelated");
            };
            assert!(reason.contains(expected), "{reason}");
        }
        let strict = env(&[(WEBHOOK_PAYLOAD, r#"{"ref":"main"}"#.to_string())]);
        assert!(
            detect(&strict, &Handles::default()).is_err(),
            "the relay's payload stays strict"
        );
    }

    #[test]
    fn problems_are_one_clear_line() {
        let problem = |vars: &[(&str, &str)]| {
            detect(&env(vars), &Handles::default())
                .unwrap_err()
                .to_string()
        };
        let none = problem(&[]);
        assert!(none.starts_with("no trigger found"), "{none}");
        let missing = problem(&[(TRIGGER_PAYLOAD, "/no/such/file")]);
        assert!(
            missing.starts_with("TRIGGER_PAYLOAD names the file \"/no/such/file\""),
            "{missing}"
        );
        let garbage = problem(&[(WEBHOOK_PAYLOAD, "{\"object_kind\":")]);
        assert!(
            garbage
                .starts_with("AI_WEBHOOK_PAYLOAD: the webhook payload is not a GitLab Note Hook"),
            "{garbage}"
        );
        let other = problem(&[(WEBHOOK_PAYLOAD, &issue_hook()), ("CI_PROJECT_ID", "43")]);
        assert!(
            other.contains("comment in project 42 but this job runs in project 43"),
            "{other}"
        );
        for line in [none, missing, garbage, other] {
            assert!(!line.contains('\n'), "{line}");
        }
    }
}
