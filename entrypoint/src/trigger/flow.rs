//! GitLab Duo external-agent flows: GitLab runs our image as the flow's image and passes the
//! comment in `AI_FLOW_INPUT`, the issue or merge request serialised as JSON in `AI_FLOW_CONTEXT`,
//! and the event type (`mention`, `assign`, `assign_reviewer`…) in `AI_FLOW_EVENT`.
//! <https://docs.gitlab.com/user/duo_agent_platform/agents/external/>
//!
//! GitLab documents the context only as "the parent object serialised", so this reader is
//! deliberately tolerant: it accepts the object at the top level or under an `issue`,
//! `merge_request`, `noteable` or `parent_object` key, and `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`
//! set in the flow's commands override what it infers.

use std::str::FromStr;

use serde_json::Value;

use super::{Source, Trigger, ci_vars};
use crate::agent::{Assistant, Handles};
use crate::env::Env;
use crate::gitlab::ids::{IssueIid, MergeRequestIid, Noteable, ProjectId, ProjectRef};
use crate::mention::find_mentions;

/// The variable names GitLab uses for flows.
pub mod names {
    /// The user's comment.
    pub(crate) const INPUT: &str = crate::env::AI_FLOW_INPUT.name();
    /// The issue or merge request, as JSON.
    pub(crate) const CONTEXT: &str = crate::env::AI_FLOW_CONTEXT.name();
    /// The event type.
    pub(crate) const EVENT: &str = crate::env::AI_FLOW_EVENT.name();
}

/// The credentials and location GitLab injects into flows: the flow's own GitLab token (a
/// composite identity of the service account and the user), the instance's host name and the
/// project's path.
/// <https://docs.gitlab.com/user/duo_agent_platform/flows/execution_variables/> (custom CI/CD
/// variables such as a stored `GITLAB_TOKEN` are not available in flow jobs).
pub mod injected {
    /// The flow's GitLab token.
    pub const TOKEN: &str = crate::env::AI_FLOW_GITLAB_TOKEN.name();
    /// The GitLab host name (no scheme).
    pub(crate) const HOSTNAME: &str = crate::env::AI_FLOW_GITLAB_HOSTNAME.name();
    /// The project's full path.
    pub const PROJECT_PATH: &str = crate::env::AI_FLOW_PROJECT_PATH.name();
}

/// `vars` with the flow's injected values standing in for the job variables they replace,
/// where those are not set: `AI_FLOW_GITLAB_TOKEN` for `GITLAB_TOKEN` (so a flow needs no
/// stored personal access token; a `GITLAB_TOKEN` the flow lists still wins),
/// `https://<AI_FLOW_GITLAB_HOSTNAME>` for `CI_SERVER_URL` and the host for `CI_SERVER_HOST`,
/// `AI_FLOW_PROJECT_PATH` for `CI_PROJECT_PATH`. The token is kept from the model like
/// `GITLAB_TOKEN`: the assistant's environment is an allowlist
/// ([`crate::agent::env`]) and the redactor treats every `…TOKEN` variable as a secret.
pub(crate) fn with_injected<'a>(vars: &'a dyn Env) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| {
        if let Some(value) = vars.set(name) {
            return Some(value);
        }
        match name {
            "GITLAB_TOKEN" => vars.set(injected::TOKEN),
            "CI_SERVER_URL" => vars
                .set(injected::HOSTNAME)
                .map(|h| format!("https://{}", h.trim())),
            "CI_SERVER_HOST" => vars.set(injected::HOSTNAME).map(|h| h.trim().to_owned()),
            "CI_PROJECT_PATH" => vars.set(injected::PROJECT_PATH),
            _ => vars.var(name),
        }
    }
}

/// Why the flow variables cannot become a trigger.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The context is not JSON.
    #[error(
        "AI_FLOW_CONTEXT is not valid JSON ({0}): GitLab sets it for Duo flows; do not override it"
    )]
    Context(serde_json::Error),
    /// Nothing says which issue or merge request this is about.
    #[error(
        "AI_FLOW_CONTEXT names no issue or merge request: set AI_NOTEABLE_TYPE and AI_NOTEABLE_IID in the flow's commands"
    )]
    NoNoteable,
    /// Nothing says which assistant to run.
    #[error(
        "the flow does not say which assistant to run: set AI_ASSISTANT=claude or AI_ASSISTANT=codex in the flow's commands"
    )]
    NoAssistant,
    /// A variable is malformed.
    #[error(transparent)]
    Var(#[from] ci_vars::VarError),
}

/// True when the environment carries a Duo flow.
pub fn present(vars: &dyn Env) -> bool {
    [names::INPUT, names::CONTEXT, names::EVENT]
        .iter()
        .any(|n| vars.var(n).is_some_and(|v| !v.trim().is_empty()))
}

/// Reads the flow variables into a [`Trigger`] without a note (flows carry no note id).
pub fn parse(vars: &dyn Env, handles: &Handles) -> Result<Trigger, FlowError> {
    let input = vars.var(names::INPUT).unwrap_or_default();
    let context: Value = match vars.var(names::CONTEXT).filter(|c| !c.trim().is_empty()) {
        Some(text) => serde_json::from_str(&text).map_err(FlowError::Context)?,
        None => Value::Null,
    };
    let object = noteable_object(&context);
    let noteable = explicit_noteable(vars)?
        .or_else(|| object.and_then(infer_noteable))
        .ok_or(FlowError::NoNoteable)?;
    let project = match ci_vars::project(vars) {
        Ok(p) => p,
        Err(e) => object
            .and_then(|o| o.get("project_id"))
            .and_then(Value::as_u64)
            .map(|id| ProjectRef::Id(ProjectId(id)))
            .ok_or(e)?,
    };
    let mentions = find_mentions(&input, handles);
    let assistants: Vec<Assistant> = match vars
        .var(ci_vars::names::ASSISTANT)
        .filter(|a| !a.trim().is_empty())
    {
        Some(text) => vec![Assistant::from_str(&text).map_err(|_| FlowError::NoAssistant)?],
        None if !mentions.is_empty() => mentions.iter().map(|m| m.assistant).collect(),
        None => return Err(FlowError::NoAssistant),
    };
    let instruction = match mentions.first() {
        Some(m) => m.instruction.clone(),
        None => strip_leading_mention(&input),
    };
    Ok(Trigger {
        source: Source::DuoFlow,
        project,
        noteable,
        note: None,
        assistants,
        instruction,
        placeholder: None,
        confidential: object
            .and_then(|o| o.get("confidential"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        event: None,
    })
}

/// The flow was summoned through a service account whose username is not one of our handles
/// (`@ai-claude-acme`); that leading mention is addressing, not instruction.
fn strip_leading_mention(input: &str) -> String {
    let trimmed = input.trim_start();
    match trimmed.strip_prefix('@') {
        Some(rest) => rest
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
            .trim()
            .to_owned(),
        None => input.trim().to_owned(),
    }
}

fn explicit_noteable(vars: &dyn Env) -> Result<Option<Noteable>, FlowError> {
    let kind = vars.set(ci_vars::names::NOTEABLE_TYPE);
    let iid = vars.set(ci_vars::names::NOTEABLE_IID);
    let (Some(kind), Some(iid_text)) = (kind, iid) else {
        return Ok(None);
    };
    let iid = iid_text
        .trim()
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ci_vars::VarError {
            name: ci_vars::names::NOTEABLE_IID,
            problem: format!("has an invalid value {iid_text:?}"),
            fix: "set it to the issue or merge request number (IID)",
        })?;
    Noteable::from_type(&kind, iid).map(Some).ok_or_else(|| {
        ci_vars::VarError::invalid(
            ci_vars::names::NOTEABLE_TYPE,
            kind.trim(),
            ci_vars::NOTEABLE_TYPE_FIX,
        )
        .into()
    })
}

fn noteable_object(context: &Value) -> Option<&Value> {
    let object = context.as_object()?;
    for key in ["merge_request", "issue", "noteable", "parent_object"] {
        if let Some(inner) = object.get(key).filter(|v| v.is_object()) {
            return Some(inner);
        }
    }
    object.contains_key("iid").then_some(context)
}

fn infer_noteable(object: &Value) -> Option<Noteable> {
    let iid = object
        .get("iid")
        .and_then(Value::as_u64)
        .filter(|n| *n > 0)?;
    let is_mr = [
        "source_branch",
        "target_branch",
        "diff_refs",
        "merge_status",
    ]
    .iter()
    .any(|k| object.get(k).is_some())
        || object.get("type").and_then(Value::as_str) == Some("MergeRequest");
    Some(if is_mr {
        Noteable::MergeRequest(MergeRequestIid(iid))
    } else {
        Noteable::Issue(IssueIid(iid))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn injected_values_stand_in_for_unset_job_variables_only() {
        let env = crate::test_support::vars(&[
            ("AI_FLOW_GITLAB_TOKEN", "glcbt-flow-token"),
            ("AI_FLOW_GITLAB_HOSTNAME", "gitlab.example.com"),
            ("AI_FLOW_PROJECT_PATH", "acme/widgets"),
            ("CI_SERVER_HOST", "runner-view.example.com"),
        ]);
        let vars = with_injected(&env);
        assert_eq!(vars("GITLAB_TOKEN").as_deref(), Some("glcbt-flow-token"));
        assert_eq!(
            vars("CI_SERVER_URL").as_deref(),
            Some("https://gitlab.example.com")
        );
        assert_eq!(
            vars("CI_SERVER_HOST").as_deref(),
            Some("runner-view.example.com")
        );
        assert_eq!(vars("CI_PROJECT_PATH").as_deref(), Some("acme/widgets"));
        let env = crate::test_support::vars(&[
            ("AI_FLOW_GITLAB_TOKEN", "glcbt-flow-token"),
            ("GITLAB_TOKEN", "glpat-listed"),
        ]);
        let vars = with_injected(&env);
        assert_eq!(vars("GITLAB_TOKEN").as_deref(), Some("glpat-listed"));
        assert_eq!(vars("CI_PROJECT_PATH"), None);
    }
    use crate::test_support::vars as env;

    #[test]
    fn a_merge_request_context_with_a_service_account_mention() {
        let vars = env(&[
            ("CI_PROJECT_ID", "5"),
            ("AI_ASSISTANT", "claude"),
            ("AI_FLOW_EVENT", "mention"),
            ("AI_FLOW_INPUT", "@ai-claude-acme please tidy the README"),
            (
                "AI_FLOW_CONTEXT",
                r#"{"iid":12,"project_id":5,"source_branch":"feat","target_branch":"main","title":"Feat"}"#,
            ),
        ]);
        let t = parse(&vars, &Handles::default()).unwrap();
        assert_eq!(t.source, Source::DuoFlow);
        assert_eq!(t.noteable, Noteable::MergeRequest(MergeRequestIid(12)));
        assert_eq!(t.assistants, vec![Assistant::Claude]);
        assert_eq!(t.instruction, "please tidy the README");
        assert!(t.note.is_none());
    }

    #[test]
    fn a_nested_issue_context_and_a_handle_mention_need_no_assistant_variable() {
        let vars = env(&[
            ("AI_FLOW_INPUT", "@codex why does this fail?"),
            (
                "AI_FLOW_CONTEXT",
                r#"{"issue":{"iid":4,"project_id":9,"confidential":true}}"#,
            ),
        ]);
        let t = parse(&vars, &Handles::default()).unwrap();
        assert_eq!(t.project, ProjectRef::Id(ProjectId(9)));
        assert_eq!(t.noteable, Noteable::Issue(IssueIid(4)));
        assert_eq!(t.assistants, vec![Assistant::Codex]);
        assert_eq!(t.instruction, "why does this fail?");
        assert!(t.confidential);
    }

    #[test]
    fn explicit_variables_override_the_context() {
        let vars = env(&[
            ("CI_PROJECT_ID", "5"),
            ("AI_ASSISTANT", "codex"),
            ("AI_NOTEABLE_TYPE", "merge_request"),
            ("AI_NOTEABLE_IID", "8"),
            ("AI_FLOW_EVENT", "assign_reviewer"),
            ("AI_FLOW_CONTEXT", r#"{"iid":1}"#),
        ]);
        let t = parse(&vars, &Handles::default()).unwrap();
        assert_eq!(t.noteable, Noteable::MergeRequest(MergeRequestIid(8)));
        assert_eq!(t.instruction, "");
    }

    #[test]
    fn missing_pieces_give_one_line_with_the_fix() {
        let no_noteable = env(&[
            ("AI_ASSISTANT", "claude"),
            ("AI_FLOW_INPUT", "hi"),
            ("CI_PROJECT_ID", "1"),
        ]);
        let e = parse(&no_noteable, &Handles::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("AI_NOTEABLE_TYPE and AI_NOTEABLE_IID"), "{e}");
        let no_assistant = env(&[
            ("AI_FLOW_INPUT", "hi"),
            ("AI_FLOW_CONTEXT", r#"{"iid":3}"#),
            ("CI_PROJECT_ID", "1"),
        ]);
        let e = parse(&no_assistant, &Handles::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("AI_ASSISTANT=claude"), "{e}");
        let bad_json = env(&[("AI_FLOW_CONTEXT", "{not json"), ("CI_PROJECT_ID", "1")]);
        let e = parse(&bad_json, &Handles::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("AI_FLOW_CONTEXT is not valid JSON"), "{e}");
    }
}
