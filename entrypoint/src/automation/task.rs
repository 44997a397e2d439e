//! The settings of an automation run: the prompt (`AI_PROMPT` or `--prompt-file`), the output
//! schema (`AI_OUTPUT_SCHEMA`), where the answer is posted (`AI_POST_TO`), the merge request's
//! title (`AI_TASK_TITLE`), and the pipeline source, read and checked before anything runs.
//!
//! Who can write what the model is told (docs/security.md, "Automation mode"):
//! - `AI_PROMPT`, `AI_OUTPUT_SCHEMA` as text, `AI_POST_TO` and `AI_TASK_TITLE` are CI/CD
//!   variables: set in the project's settings or schedule (Maintainers), or passed with a
//!   pipeline by someone who holds the project's "minimum role to use pipeline variables"
//!   (<https://docs.gitlab.com/ci/variables/#restrict-pipeline-variables>).
//! - A prompt file and a schema file are read from the **default branch** through the API,
//!   never from the checkout, as `AI_EXTRA_INSTRUCTIONS` is ([`crate::run::house`]): a merge
//!   request, or a branch a schedule or API call runs on, cannot change what the task says
//!   until it is merged.
//! - Only pipelines started by a schedule, the API, the web form or another project's pipeline
//!   run a task (`CI_PIPELINE_SOURCE`, <https://docs.gitlab.com/ci/jobs/job_rules/#ci_pipeline_source-predefined-variable>):
//!   a push or merge request pipeline runs the branch's own `.gitlab-ci.yml`, and a child
//!   pipeline's configuration can come from such a pipeline.

use crate::env::Env;
use crate::gitlab::ids::{IssueIid, MergeRequestIid, Noteable};

/// The variable holding the prompt text.
pub(crate) const PROMPT_VARIABLE: &str = crate::env::AI_PROMPT.name();
/// The variable holding the output schema or its path.
pub(crate) const SCHEMA_VARIABLE: &str = crate::env::AI_OUTPUT_SCHEMA.name();
/// The variable saying where to post the answer.
pub(crate) const POST_TO_VARIABLE: &str = crate::env::AI_POST_TO.name();
/// The variable holding the merge request's title.
pub(crate) const TITLE_VARIABLE: &str = crate::env::AI_TASK_TITLE.name();

/// The pipeline sources a task runs in.
pub(crate) const SOURCES: &[&str] = &["schedule", "api", "web", "pipeline"];

/// Variables that say the job was started for a comment.
const MENTION_VARIABLES: &[&str] = &[
    crate::env::AI_NOTE_ID.name(),
    crate::env::AI_HOOK_NOTE_ID.name(),
    crate::env::AI_WEBHOOK_PAYLOAD.name(),
    "TRIGGER_PAYLOAD",
    crate::env::AI_FLOW_INPUT.name(),
];

/// A setting of the task cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TaskError {
    /// Both a prompt text and a prompt file.
    #[error(
        "both AI_PROMPT and --prompt-file are set: an automation run takes one prompt; remove one of them"
    )]
    TwoPrompts,
    /// Neither.
    #[error(
        "no prompt: set AI_PROMPT to the task, or pass --prompt-file with the path of a file on the default branch"
    )]
    NoPrompt,
    /// The prompt file is not a path inside the repository.
    #[error(
        "--prompt-file {path:?} is not a path inside the repository: give a relative path such as .gitlab/ai/nightly.md (the file is read from the default branch)"
    )]
    PromptPath { path: String },
    /// `AI_OUTPUT_SCHEMA` is neither JSON nor a path.
    #[error(
        "AI_OUTPUT_SCHEMA is neither a JSON Schema (text starting with {{) nor the path of a .json file in the repository: set it to one of them"
    )]
    SchemaValue,
    /// `AI_POST_TO` is not understood.
    #[error(
        "AI_POST_TO is {value:?}: set it to none, issue:<iid> or mr:<iid> (for example issue:12)"
    )]
    PostTo { value: String },
    /// The job was started for a mention, yet a task is set.
    #[error(
        "AI_PROMPT or AI_PROMPT_FILE is set in a job started for a comment ({variable} is set): set them on the schedule or the pipeline that runs the task, never as project or group CI/CD variables, or every mention becomes that task"
    )]
    MentionJob { variable: &'static str },
    /// The pipeline was not started by a schedule, the API, the web form or a pipeline.
    #[error(
        "automation runs only in pipelines started by a schedule, the API, the web form or another pipeline, and CI_PIPELINE_SOURCE is {pipeline_source:?}: a push or merge request pipeline runs the branch's own configuration. Start the task from a schedule, or limit the job with rules: to those sources (the templates' ai-<assistant>-task job does)"
    )]
    Source { pipeline_source: String },
}

/// Where a text comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TextSource {
    /// The variable holds it.
    Text(String),
    /// A file on the default branch, by its repository path.
    File(String),
}

/// Where the answer is posted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PostTo {
    /// Nowhere: the artifacts and the job log hold it.
    Nowhere,
    /// A comment on this issue or merge request.
    Noteable(Noteable),
}

/// Every setting of the task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TaskSettings {
    pub prompt: TextSource,
    pub schema: Option<TextSource>,
    pub post_to: PostTo,
    pub title: Option<String>,
}

impl TaskSettings {
    /// Reads and checks the settings; `prompt_file` is `--prompt-file`.
    pub(crate) fn from_env(vars: &dyn Env, prompt_file: Option<&str>) -> Result<Self, TaskError> {
        let set = |name: &str| crate::env::non_blank(vars, name);
        // What the relay, the scan, the webhook template and a Duo flow set for a comment
        // ([`crate::trigger::load`]).
        if let Some(variable) = MENTION_VARIABLES.iter().find(|name| set(name).is_some()) {
            return Err(TaskError::MentionJob { variable });
        }
        let source = set("CI_PIPELINE_SOURCE").unwrap_or_default();
        if !SOURCES.contains(&source.as_str()) {
            return Err(TaskError::Source {
                pipeline_source: source,
            });
        }
        let prompt_file = prompt_file.map(str::trim).filter(|p| !p.is_empty());
        let prompt = match (set(PROMPT_VARIABLE), prompt_file) {
            (Some(_), Some(_)) => return Err(TaskError::TwoPrompts),
            (None, None) => return Err(TaskError::NoPrompt),
            (Some(text), None) => TextSource::Text(text),
            (None, Some(path)) => {
                TextSource::File(repository_path(path).ok_or_else(|| TaskError::PromptPath {
                    path: path.to_owned(),
                })?)
            }
        };
        let schema = set(SCHEMA_VARIABLE)
            .map(|value| {
                if value.starts_with('{') {
                    Ok(TextSource::Text(value))
                } else {
                    repository_path(&value)
                        .map(TextSource::File)
                        .ok_or(TaskError::SchemaValue)
                }
            })
            .transpose()?;
        let post_to = match set(POST_TO_VARIABLE) {
            None => PostTo::Nowhere,
            Some(value) => parse_post_to(&value).ok_or(TaskError::PostTo { value })?,
        };
        Ok(Self {
            prompt,
            schema,
            post_to,
            title: set(TITLE_VARIABLE),
        })
    }
}

/// `none`, `issue:<iid>`, `mr:<iid>` or `merge_request:<iid>`.
fn parse_post_to(value: &str) -> Option<PostTo> {
    if value.eq_ignore_ascii_case("none") {
        return Some(PostTo::Nowhere);
    }
    let (kind, iid) = value.split_once(':')?;
    let iid: u64 = iid.trim().parse().ok().filter(|iid| *iid > 0)?;
    let noteable = match kind.trim().to_ascii_lowercase().as_str() {
        "issue" => Noteable::Issue(IssueIid(iid)),
        "mr" | "merge_request" => Noteable::MergeRequest(MergeRequestIid(iid)),
        _ => return None,
    };
    Some(PostTo::Noteable(noteable))
}

/// `path` as a repository path (`./` dropped), or `None` when it is absolute, empty, has
/// blanks or a `..` component, or names a directory.
fn repository_path(path: &str) -> Option<String> {
    let path = path.trim().trim_start_matches("./");
    let fits = !path.is_empty()
        && !path.starts_with('/')
        && !path.ends_with('/')
        && !path.chars().any(|c| c.is_whitespace() || c.is_control())
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    fits.then(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn a_task_runs_only_in_scheduled_api_web_and_pipeline_pipelines() {
        for source in SOURCES {
            let env = vars(&[("CI_PIPELINE_SOURCE", *source), ("AI_PROMPT", "check deps")]);
            assert!(TaskSettings::from_env(&env, None).is_ok(), "{source}");
        }
        for source in [
            "merge_request_event",
            "push",
            "parent_pipeline",
            "trigger",
            "",
        ] {
            let env = vars(&[("CI_PIPELINE_SOURCE", source), ("AI_PROMPT", "check deps")]);
            let error = TaskSettings::from_env(&env, None).unwrap_err();
            assert!(matches!(error, TaskError::Source { .. }), "{source}");
            assert!(error.to_string().contains("CI_PIPELINE_SOURCE"));
        }
    }

    #[test]
    fn a_prompt_set_for_every_job_does_not_turn_mentions_into_tasks() {
        for variable in MENTION_VARIABLES {
            let env = vars(&[
                ("CI_PIPELINE_SOURCE", "api"),
                ("AI_PROMPT", "check deps"),
                (*variable, "77"),
            ]);
            assert_eq!(
                TaskSettings::from_env(&env, None),
                Err(TaskError::MentionJob { variable })
            );
        }
    }

    #[test]
    fn the_prompt_is_one_text_or_one_repository_file() {
        let text = vars(&[("CI_PIPELINE_SOURCE", "schedule"), ("AI_PROMPT", " check ")]);
        assert_eq!(
            TaskSettings::from_env(&text, None).unwrap().prompt,
            TextSource::Text("check".into())
        );
        assert_eq!(
            TaskSettings::from_env(&text, Some("a.md")),
            Err(TaskError::TwoPrompts)
        );
        let none = vars(&[("CI_PIPELINE_SOURCE", "schedule")]);
        assert_eq!(
            TaskSettings::from_env(&none, None),
            Err(TaskError::NoPrompt)
        );
        assert_eq!(
            TaskSettings::from_env(&none, Some("./.gitlab/ai/nightly.md"))
                .unwrap()
                .prompt,
            TextSource::File(".gitlab/ai/nightly.md".into())
        );
        for bad in ["/etc/passwd", "../x.md", "a/../../b", "dir/", "a b.md"] {
            assert!(
                matches!(
                    TaskSettings::from_env(&none, Some(bad)),
                    Err(TaskError::PromptPath { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn schema_post_target_and_title_are_read() {
        let env = vars(&[
            ("CI_PIPELINE_SOURCE", "api"),
            ("AI_PROMPT", "x"),
            ("AI_OUTPUT_SCHEMA", r#" {"type":"object"} "#),
            ("AI_POST_TO", "issue:12"),
            ("AI_TASK_TITLE", "Nightly dependency check"),
        ]);
        let settings = TaskSettings::from_env(&env, None).unwrap();
        assert_eq!(
            settings.schema,
            Some(TextSource::Text(r#"{"type":"object"}"#.into()))
        );
        assert_eq!(
            settings.post_to,
            PostTo::Noteable(Noteable::Issue(IssueIid(12)))
        );
        assert_eq!(settings.title.as_deref(), Some("Nightly dependency check"));
        let file = vars(&[
            ("CI_PIPELINE_SOURCE", "web"),
            ("AI_PROMPT", "x"),
            ("AI_OUTPUT_SCHEMA", "schemas/deps.json"),
            ("AI_POST_TO", "mr:3"),
        ]);
        let settings = TaskSettings::from_env(&file, None).unwrap();
        assert_eq!(
            settings.schema,
            Some(TextSource::File("schemas/deps.json".into()))
        );
        assert_eq!(
            settings.post_to,
            PostTo::Noteable(Noteable::MergeRequest(MergeRequestIid(3)))
        );
        for bad in ["issue", "issue:", "issue:0", "epic:3", "#12"] {
            let env = vars(&[
                ("CI_PIPELINE_SOURCE", "web"),
                ("AI_PROMPT", "x"),
                ("AI_POST_TO", bad),
            ]);
            assert!(
                matches!(
                    TaskSettings::from_env(&env, None),
                    Err(TaskError::PostTo { .. })
                ),
                "{bad}"
            );
        }
        let none = vars(&[
            ("CI_PIPELINE_SOURCE", "web"),
            ("AI_PROMPT", "x"),
            ("AI_POST_TO", "None"),
            ("AI_OUTPUT_SCHEMA", "not a schema"),
        ]);
        assert_eq!(
            TaskSettings::from_env(&none, None),
            Err(TaskError::SchemaValue)
        );
    }
}
