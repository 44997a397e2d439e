//! What an automation run leaves for later jobs: `ai-result.json` (everything, the structured
//! result included) and a dotenv report (`ai-result.env`, for `artifacts:reports:dotenv`) with
//! the few values a later job's `rules:` or script reads as variables.
//!
//! GitLab's dotenv rules (`Ci::ParseDotenvArtifactService` in gitlab-org/gitlab, and
//! <https://docs.gitlab.com/ci/yaml/artifacts_reports/#artifactsreportsdotenv>): every line must
//! be `KEY=VALUE` (a line without `=` fails the whole report), keys and values are stripped of
//! surrounding blanks, quotes are kept as they are, there is no multi-line value, the file must be
//! under 5 KB and hold at most 20 variables by default
//! (<https://docs.gitlab.com/administration/instance_limits/#limit-dotenv-variables>), and the
//! variables are stored with `raw: false`, so a `$NAME` in a value would be expanded in the jobs
//! that receive it. Hence the report holds only values the job itself computed (a conclusion
//! word, a branch name under the assistant's prefix, numbers), each checked against a small
//! alphabet without `$`, quotes, blanks or line breaks; the model's text never goes there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::agent::Assistant;
use crate::agent::events::Usage;
use crate::audit::{self, ArtifactError};
use crate::redact::Redactor;

/// The result artifact's file name, in `CI_PROJECT_DIR`.
pub const RESULT_FILE: &str = "ai-result.json";
/// The dotenv report's file name, in `CI_PROJECT_DIR`.
pub const DOTENV_FILE: &str = "ai-result.env";

/// How the run ended, as later jobs see it (`AI_CONCLUSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskConclusion {
    /// The assistant finished and its result (if a schema was given) matches it.
    Success,
    /// It stopped at `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS`; what it did was published.
    Stopped,
    /// Anything else: the run, the schema check or publishing failed.
    Failure,
}

impl TaskConclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Stopped => "stopped",
            Self::Failure => "failure",
        }
    }
}

/// The merge request the run opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenedMergeRequest {
    pub iid: u64,
    pub web_url: String,
}

/// The note the run posted (`AI_POST_TO`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PostedNote {
    /// `issue` or `merge_request`.
    pub noteable_type: &'static str,
    pub noteable_iid: u64,
    pub note_id: u64,
}

/// Everything `ai-result.json` says.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskResult {
    pub conclusion: TaskConclusion,
    pub assistant: Assistant,
    /// The result matching `AI_OUTPUT_SCHEMA`, when one was given and the run succeeded.
    pub structured_output: Option<Value>,
    /// The assistant's final answer or summary, redacted.
    pub answer: Option<String>,
    /// Why the run failed, or which limit stopped it.
    pub error: Option<String>,
    /// The branch the changes were pushed to.
    pub branch: Option<String>,
    pub merge_request: Option<OpenedMergeRequest>,
    pub note: Option<PostedNote>,
    pub model: Option<String>,
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub duration_seconds: f64,
    pub job_id: Option<u64>,
}

impl TaskResult {
    /// A result with only the essentials; the caller fills in the rest.
    pub fn new(assistant: Assistant, conclusion: TaskConclusion, duration: Duration) -> Self {
        Self {
            conclusion,
            assistant,
            structured_output: None,
            answer: None,
            error: None,
            branch: None,
            merge_request: None,
            note: None,
            model: None,
            input_tokens: None,
            output_tokens: None,
            cost_usd: None,
            duration_seconds: duration.as_secs_f64(),
            job_id: None,
        }
    }

    pub(crate) fn set_usage(&mut self, usage: Option<Usage>) {
        self.input_tokens = usage.map(|u| u.input);
        self.output_tokens = usage.map(|u| u.output);
    }

    /// The dotenv report's text; see the module comment for the rules it follows.
    pub fn dotenv(&self) -> String {
        let number = |value: Option<u64>| value.map(|v| v.to_string()).unwrap_or_default();
        let lines = [
            (
                crate::env::AI_CONCLUSION.name(),
                self.conclusion.as_str().to_owned(),
            ),
            (
                crate::env::AI_BRANCH.name(),
                self.branch.clone().unwrap_or_default(),
            ),
            (
                crate::env::AI_MR_IID.name(),
                number(self.merge_request.as_ref().map(|mr| mr.iid)),
            ),
            (
                crate::env::AI_INPUT_TOKENS.name(),
                number(self.input_tokens),
            ),
            (
                crate::env::AI_OUTPUT_TOKENS.name(),
                number(self.output_tokens),
            ),
            (
                crate::env::AI_COST_USD.name(),
                self.cost_usd.map(|c| format!("{c:.6}")).unwrap_or_default(),
            ),
        ];
        let mut text = String::new();
        for (key, value) in lines {
            let value = if dotenv_safe(&value) {
                value
            } else {
                tracing::warn!(
                    variable = key,
                    "a value unfit for a dotenv report was left out"
                );
                String::new()
            };
            text.push_str(&format!("{key}={value}\n"));
        }
        text
    }

    /// Writes `ai-result.json` and `ai-result.env` into `dir` (the project directory), after
    /// the sandbox uid's processes are gone, without following anything planted there
    /// ([`audit::write_artifact`]). Every string of the structured result is redacted.
    pub fn write(&self, dir: &Path, redactor: &Redactor) -> Result<Vec<PathBuf>, ArtifactError> {
        let mut redacted = self.clone();
        if let Some(value) = redacted.structured_output.as_mut() {
            redact_strings(value, redactor);
        }
        redacted.answer = redacted.answer.map(|a| redactor.remove_secrets(&a));
        redacted.error = redacted.error.map(|e| redactor.remove_secrets(&e));
        let json = serde_json::to_vec_pretty(&redacted).map_err(|error| ArtifactError {
            path: dir.join(RESULT_FILE),
            source: std::io::Error::other(error),
        })?;
        Ok(vec![
            audit::write_artifact(dir, RESULT_FILE, &json)?,
            audit::write_artifact(dir, DOTENV_FILE, self.dotenv().as_bytes())?,
        ])
    }
}

/// A value GitLab keeps as written and a later job can use unquoted: letters, digits and
/// `._/+-_` only (no `$` to expand, no quote, blank, `#` or line break).
fn dotenv_safe(value: &str) -> bool {
    value.len() <= 255
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/+-_".contains(c))
}

fn redact_strings(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(text) => *text = redactor.remove_secrets(text),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, redactor)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::Handles;
    use serde_json::json;

    fn result() -> TaskResult {
        let mut result = TaskResult::new(
            Assistant::Codex,
            TaskConclusion::Success,
            Duration::from_millis(1500),
        );
        result.branch = Some("codex/task-nightly-4242".into());
        result.merge_request = Some(OpenedMergeRequest {
            iid: 7,
            web_url: "https://gitlab.example.com/a/b/-/merge_requests/7".into(),
        });
        result.set_usage(Some(Usage {
            input: 1200,
            output: 80,
        }));
        result.cost_usd = Some(0.0123);
        result
    }

    /// GitLab's parser, as `Ci::ParseDotenvArtifactService#scan_line!` reads a line.
    fn gitlab_parse(text: &str) -> Vec<(String, String)> {
        let line = regex::Regex::new(r"^(.*?)=(.*)$").unwrap();
        text.lines()
            .map(|l| {
                let c = line.captures(l).expect("every line has KEY=VALUE");
                (c[1].trim().to_owned(), c[2].trim().to_owned())
            })
            .collect()
    }

    #[test]
    fn the_dotenv_report_follows_gitlabs_rules() {
        let text = result().dotenv();
        assert!(text.len() < 5 * 1024);
        let vars = gitlab_parse(&text);
        assert!(vars.len() <= 20);
        assert_eq!(
            vars,
            [
                ("AI_CONCLUSION", "success"),
                ("AI_BRANCH", "codex/task-nightly-4242"),
                ("AI_MR_IID", "7"),
                ("AI_INPUT_TOKENS", "1200"),
                ("AI_OUTPUT_TOKENS", "80"),
                ("AI_COST_USD", "0.012300"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let mut failed =
            TaskResult::new(Assistant::Claude, TaskConclusion::Failure, Duration::ZERO);
        failed.branch = Some("x\nAI_CONCLUSION=success $GITLAB_TOKEN".into());
        let mut underscored = result();
        underscored.branch = Some("bots_ai/task-x-1".into());
        assert!(
            underscored
                .dotenv()
                .contains("AI_BRANCH=bots_ai/task-x-1\n")
        );
        let vars = gitlab_parse(&failed.dotenv());
        assert_eq!(vars[0], ("AI_CONCLUSION".into(), "failure".into()));
        assert_eq!(vars[1], ("AI_BRANCH".into(), String::new()));
        assert_eq!(vars.len(), 6);
    }

    #[test]
    fn the_result_file_is_redacted_and_planted_links_are_not_followed() {
        let planted = crate::audit::PlantedLink::new(RESULT_FILE);
        let project = &planted.project;
        let secret = "glpat-AbCdEfGhIjKlMnOpQrSt";
        let redactor = Redactor::new(Handles::default());
        let mut result = result();
        result.structured_output =
            Some(json!({"note": format!("token {secret}"), "n": [1, secret]}));
        result.answer = Some(format!("used {secret}"));

        result.write(project, &redactor).unwrap();

        planted.assert_not_followed();
        let written = std::fs::read_to_string(project.join(RESULT_FILE)).unwrap();
        assert!(!written.contains(secret), "{written}");
        let value: Value = serde_json::from_str(&written).unwrap();
        assert_eq!(value["conclusion"], "success");
        assert_eq!(value["merge_request"]["iid"], 7);
        assert_eq!(value["input_tokens"], 1200);
        assert_eq!(value["structured_output"]["n"][0], 1);
        let dotenv = std::fs::read_to_string(project.join(DOTENV_FILE)).unwrap();
        assert!(dotenv.starts_with("AI_CONCLUSION=success\n"));
    }
}
