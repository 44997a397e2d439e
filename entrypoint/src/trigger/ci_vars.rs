//! The `AI_*` CI/CD variables our relay (`entrypoint serve`) and scheduled scan (`entrypoint scan`)
//! pass to the pipeline they start. They name the note; its text is read back through the API,
//! so a variable can never smuggle in a body the author did not write.

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;

use crate::agent::Assistant;
use crate::env::Env;
use crate::gitlab::ids::{DiscussionId, NoteId, Noteable, ProjectRef};

/// The names, in one place, because the relay and the scan write them and this module reads them.
/// What `AI_NOTEABLE_TYPE` may say ([`Noteable::from_type`]).
pub(crate) const NOTEABLE_TYPE_FIX: &str =
    "set it to \"Issue\" or \"MergeRequest\" (\"issue\" and \"merge_request\" are read too)";

pub mod names {
    /// `claude` or `codex`.
    pub const ASSISTANT: &str = crate::env::AI_ASSISTANT.name();
    /// `issue` or `merge_request`.
    pub const NOTEABLE_TYPE: &str = crate::env::AI_NOTEABLE_TYPE.name();
    /// The issue or merge request IID.
    pub const NOTEABLE_IID: &str = crate::env::AI_NOTEABLE_IID.name();
    /// The triggering note's id.
    pub const NOTE_ID: &str = crate::env::AI_NOTE_ID.name();
    /// The triggering note's thread (optional).
    pub const DISCUSSION_ID: &str = crate::env::AI_DISCUSSION_ID.name();
    /// A placeholder the relay already posted (optional).
    pub const PLACEHOLDER_NOTE_ID: &str = crate::env::AI_PLACEHOLDER_NOTE_ID.name();
    /// SHA-256 (hex) of the note's body as the relay or scan checked it (optional); the job
    /// refuses a note whose body no longer matches ([`crate::guard::edit::body_digest`]).
    pub const NOTE_SHA256: &str = crate::env::AI_NOTE_SHA256.name();
}

/// A mention named by CI variables, not yet read back from GitLab.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CiRequest {
    /// The job's project (`CI_PROJECT_ID`, else `CI_PROJECT_PATH`).
    pub project: ProjectRef,
    /// The assistant the relay or scan chose for this pipeline.
    pub assistant: Assistant,
    /// Where the note is.
    pub noteable: Noteable,
    /// The note to answer.
    pub note: NoteId,
    /// Its thread, when the relay knew it.
    pub discussion: Option<DiscussionId>,
    /// A placeholder to reuse.
    pub placeholder: Option<NoteId>,
    /// The digest of the body the relay or scan checked, when it passed one.
    pub checked_body: Option<String>,
}

impl CiRequest {
    /// The variables that name this request, as [`parse`] reads them back: what the relay and
    /// the scan pass to the pipeline they start and the scan's in-job run lays over its own
    /// job's variables. The project is the pipeline's own (`CI_PROJECT_ID`), never a variable.
    pub fn variables(&self) -> BTreeMap<&'static str, String> {
        let mut vars = BTreeMap::from([
            (names::ASSISTANT, self.assistant.name().to_owned()),
            (names::NOTEABLE_TYPE, self.noteable.gitlab_type().to_owned()),
            (names::NOTEABLE_IID, self.noteable.iid().to_string()),
            (names::NOTE_ID, self.note.to_string()),
        ]);
        if let Some(discussion) = &self.discussion {
            vars.insert(names::DISCUSSION_ID, discussion.to_string());
        }
        if let Some(placeholder) = self.placeholder {
            vars.insert(names::PLACEHOLDER_NOTE_ID, placeholder.to_string());
        }
        if let Some(digest) = &self.checked_body {
            vars.insert(names::NOTE_SHA256, digest.clone());
        }
        vars
    }

    /// A note named by id alone (our webhook template's variables): no thread, placeholder or
    /// checked body known yet; reading it back fills in the rest.
    pub(crate) fn for_note(
        project: ProjectRef,
        assistant: Assistant,
        noteable: Noteable,
        note: NoteId,
    ) -> Self {
        Self {
            project,
            assistant,
            noteable,
            note,
            discussion: None,
            placeholder: None,
            checked_body: None,
        }
    }
}

/// A variable is missing or malformed. `Display` is the one line the job log shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} {problem}: {fix}")]
pub struct VarError {
    /// The variable's name.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
    /// What to do about it.
    pub fix: &'static str,
}

impl VarError {
    fn missing(name: &'static str, fix: &'static str) -> Self {
        Self {
            name,
            problem: "is not set".to_owned(),
            fix,
        }
    }

    pub(crate) fn invalid(name: &'static str, value: &str, fix: &'static str) -> Self {
        Self {
            name,
            problem: format!("has an invalid value {value:?}"),
            fix,
        }
    }
}

/// True when the environment carries our variables at all (the entry point is then this one).
pub fn present(vars: &dyn Env) -> bool {
    [names::NOTE_ID, names::NOTEABLE_TYPE, names::NOTEABLE_IID]
        .iter()
        .any(|n| non_empty(vars, n).is_some())
}

/// Reads and validates the variables.
pub fn parse(vars: &dyn Env) -> Result<CiRequest, VarError> {
    let assistant_text = required(
        vars,
        names::ASSISTANT,
        "set it to \"claude\" or \"codex\" in the pipeline's variables",
    )?;
    let assistant = Assistant::from_str(&assistant_text).map_err(|_| {
        VarError::invalid(
            names::ASSISTANT,
            &assistant_text,
            "expected \"claude\" or \"codex\"",
        )
    })?;
    let kind = required(vars, names::NOTEABLE_TYPE, NOTEABLE_TYPE_FIX)?;
    const IID_FIX: &str =
        "set it to the issue or merge request number (IID), e.g. 12 for #12 or !12";
    let iid_text = required(vars, names::NOTEABLE_IID, IID_FIX)?;
    let iid = positive(&iid_text)
        .ok_or_else(|| VarError::invalid(names::NOTEABLE_IID, &iid_text, IID_FIX))?;
    let noteable = Noteable::from_type(&kind, iid)
        .ok_or_else(|| VarError::invalid(names::NOTEABLE_TYPE, &kind, NOTEABLE_TYPE_FIX))?;
    const NOTE_FIX: &str = "set it to the id of the note that mentions the assistant";
    let note = note_id(vars, names::NOTE_ID, NOTE_FIX)?
        .ok_or_else(|| VarError::missing(names::NOTE_ID, NOTE_FIX))?;
    let discussion = match non_empty(vars, names::DISCUSSION_ID) {
        None => None,
        Some(text) => Some(DiscussionId::new(&text).map_err(|_| {
            VarError::invalid(
                names::DISCUSSION_ID,
                &text,
                "expected the 40-character thread id, or leave it unset",
            )
        })?),
    };
    let placeholder = note_id(
        vars,
        names::PLACEHOLDER_NOTE_ID,
        "expected a note id, or leave it unset",
    )?;
    let checked_body = match non_empty(vars, names::NOTE_SHA256) {
        None => None,
        Some(text) if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(text.to_ascii_lowercase())
        }
        Some(text) => {
            return Err(VarError::invalid(
                names::NOTE_SHA256,
                &text,
                "expected the 64-character SHA-256 of the note body in hex, or leave it unset",
            ));
        }
    };
    Ok(CiRequest {
        project: project(vars)?,
        assistant,
        noteable,
        note,
        discussion,
        placeholder,
        checked_body,
    })
}

/// The job's own project: GitLab always sets `CI_PROJECT_ID` in a job; `CI_PROJECT_PATH` is
/// accepted for runs outside CI.
pub fn project(vars: &dyn Env) -> Result<ProjectRef, VarError> {
    if let Some(id) = non_empty(vars, "CI_PROJECT_ID") {
        return match positive(&id) {
            Some(n) => Ok(ProjectRef::Id(crate::gitlab::ids::ProjectId(n))),
            None => Err(VarError::invalid(
                "CI_PROJECT_ID",
                &id,
                "GitLab sets it to the numeric project id; do not override it",
            )),
        };
    }
    match non_empty(vars, "CI_PROJECT_PATH") {
        Some(path) => Ok(ProjectRef::Path(path)),
        None => Err(VarError::missing(
            "CI_PROJECT_ID",
            "run inside a GitLab CI job, or set CI_PROJECT_ID (or CI_PROJECT_PATH) yourself",
        )),
    }
}

fn non_empty(vars: &dyn Env, name: &str) -> Option<String> {
    vars.var(name)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn required(vars: &dyn Env, name: &'static str, fix: &'static str) -> Result<String, VarError> {
    non_empty(vars, name).ok_or_else(|| VarError::missing(name, fix))
}

fn positive(text: &str) -> Option<u64> {
    text.parse::<u64>().ok().filter(|n| *n > 0)
}

pub(crate) fn note_id(
    vars: &dyn Env,
    name: &'static str,
    fix: &'static str,
) -> Result<Option<NoteId>, VarError> {
    match non_empty(vars, name) {
        None => Ok(None),
        Some(text) => positive(&text)
            .map(|n| Some(NoteId(n)))
            .ok_or_else(|| VarError::invalid(name, &text, fix)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gitlab::ids::{MergeRequestIid, ProjectId};
    use crate::test_support::vars as env;

    const FULL: &[(&str, &str)] = &[
        ("CI_PROJECT_ID", "7"),
        ("AI_ASSISTANT", "codex"),
        ("AI_NOTEABLE_TYPE", "merge_request"),
        ("AI_NOTEABLE_IID", "3"),
        ("AI_NOTE_ID", "901"),
        (
            "AI_DISCUSSION_ID",
            "6a9c1750b37d513a43987b574953fceb50b03ce7",
        ),
        ("AI_PLACEHOLDER_NOTE_ID", "902"),
        (
            "AI_NOTE_SHA256",
            "2CF24DBA5FB0A30E26E83B2AC5B9E29E1B161E5C1FA7425E73043362938B9824",
        ),
    ];

    #[test]
    fn a_complete_set_parses() {
        let r = parse(&env(FULL)).unwrap();
        assert_eq!(r.project, ProjectRef::Id(ProjectId(7)));
        assert_eq!(r.assistant, Assistant::Codex);
        assert_eq!(r.noteable, Noteable::MergeRequest(MergeRequestIid(3)));
        assert_eq!(r.note, NoteId(901));
        assert_eq!(r.placeholder, Some(NoteId(902)));
        assert!(r.discussion.is_some());
        assert_eq!(
            r.checked_body.as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
    }

    #[test]
    fn optional_variables_may_be_empty() {
        let mut pairs = FULL.to_vec();
        pairs.retain(|(k, _)| {
            !k.starts_with("AI_DISCUSSION")
                && !k.starts_with("AI_PLACEHOLDER")
                && !k.starts_with("AI_NOTE_SHA")
        });
        pairs.push(("AI_PLACEHOLDER_NOTE_ID", ""));
        let r = parse(&env(&pairs)).unwrap();
        assert_eq!((r.discussion, r.placeholder), (None, None));
        assert_eq!(r.checked_body, None);
    }

    #[test]
    fn each_problem_names_its_variable_and_the_fix() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            (
                "AI_ASSISTANT",
                None,
                "AI_ASSISTANT is not set: set it to \"claude\" or \"codex\"",
            ),
            (
                "AI_ASSISTANT",
                Some("gemini"),
                "AI_ASSISTANT has an invalid value \"gemini\"",
            ),
            (
                "AI_NOTEABLE_TYPE",
                Some("epic"),
                "AI_NOTEABLE_TYPE has an invalid value \"epic\"",
            ),
            (
                "AI_NOTEABLE_IID",
                Some("0"),
                "AI_NOTEABLE_IID has an invalid value \"0\"",
            ),
            (
                "AI_NOTEABLE_IID",
                Some("#12"),
                "AI_NOTEABLE_IID has an invalid value \"#12\"",
            ),
            ("AI_NOTE_ID", None, "AI_NOTE_ID is not set"),
            (
                "AI_DISCUSSION_ID",
                Some("xyz"),
                "AI_DISCUSSION_ID has an invalid value \"xyz\"",
            ),
            (
                "AI_PLACEHOLDER_NOTE_ID",
                Some("-1"),
                "AI_PLACEHOLDER_NOTE_ID has an invalid value",
            ),
            (
                "AI_NOTE_SHA256",
                Some("abc"),
                "AI_NOTE_SHA256 has an invalid value \"abc\": expected the 64-character",
            ),
            (
                "CI_PROJECT_ID",
                None,
                "CI_PROJECT_ID is not set: run inside a GitLab CI job",
            ),
        ];
        for (name, value, expected) in cases {
            let mut pairs: Vec<(&str, &str)> =
                FULL.iter().copied().filter(|(k, _)| k != name).collect();
            if let Some(v) = value {
                pairs.push((name, v));
            }
            let err = parse(&env(&pairs)).unwrap_err();
            assert_eq!(err.name, *name);
            let line = err.to_string();
            assert!(
                line.starts_with(expected),
                "{line:?} should start with {expected:?}"
            );
            assert!(!line.contains('\n'));
        }
    }

    #[test]
    fn the_project_path_is_a_fallback() {
        let vars = env(&[("CI_PROJECT_PATH", "group/proj")]);
        assert_eq!(
            project(&vars).unwrap(),
            ProjectRef::Path("group/proj".into())
        );
        assert!(present(&env(&[("AI_NOTE_ID", "1")])));
        assert!(!present(&env(&[("AI_NOTE_ID", " ")])));
    }

    #[test]
    fn what_the_relay_and_scan_write_reads_back_as_the_same_request() {
        let full = parse(&env(FULL)).unwrap();
        let minimal = CiRequest::for_note(
            ProjectRef::Id(ProjectId(7)),
            Assistant::Claude,
            Noteable::Issue(crate::gitlab::ids::IssueIid(4)),
            NoteId(55),
        );
        for request in [full, minimal] {
            let vars = request.variables();
            let lookup = |name: &str| {
                vars.get(name)
                    .cloned()
                    .or_else(|| (name == "CI_PROJECT_ID").then(|| "7".to_owned()))
            };
            assert_eq!(parse(&lookup).unwrap(), request, "{vars:?}");
            // Only our own variables: nothing that would override GitLab's.
            assert!(vars.keys().all(|name| name.starts_with("AI_")), "{vars:?}");
        }
    }
}
