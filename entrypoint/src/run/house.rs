//! House instructions (`AI_EXTRA_INSTRUCTIONS`): what a team tells every run, appended to the
//! prompt after the request and the context.
//!
//! The value is the instructions themselves, or the path of a file on the **default branch**
//! (read through the API, never from the checkout: on a merge request the checkout is the
//! source branch, which its author controls). A value is a path when it is one word that
//! looks like one (a `/`, or a `.md` / `.txt` ending); a path the default branch does not have
//! stops the run with a message naming it, rather than sending the path as an instruction.
//! Either way the text comes from the project's maintainers (CI/CD variables, the default
//! branch), so it is not wrapped as untrusted data.
//!
//! The MCP configuration file (`AI_MCP_CONFIG_FILE`, [`mcp_config`]) is read the same way,
//! from the default branch only.

use crate::agent::mcp::{self, McpConfig};
use crate::env::Env;
use crate::gitlab::GitLab;
use crate::gitlab::ids::ProjectRef;

/// The variable.
pub const VARIABLE: &str = crate::env::AI_EXTRA_INSTRUCTIONS.name();

/// At most this much is used, as for `CODEX.md`: instructions, not a manual.
pub(crate) const LIMIT: usize = 32 * 1024;

/// Where the instructions come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The variable holds them.
    Text(String),
    /// A file on the default branch.
    File(String),
}

/// Reading the instructions failed.
#[derive(Debug, thiserror::Error)]
pub enum HouseError {
    /// The named file is not on the default branch.
    #[error(
        "{} names the file {path}, which the default branch {branch} does not have: {}",
        variable.name(),
        variable.when_missing()
    )]
    Missing {
        variable: FileVariable,
        path: String,
        branch: String,
    },
    /// The file is not text.
    #[error("{} names the file {path}, which cannot be read as text: {reason}", variable.name())]
    Unreadable {
        variable: FileVariable,
        path: String,
        reason: String,
    },
    /// The MCP configuration cannot be used.
    #[error(transparent)]
    Mcp(#[from] crate::agent::mcp::McpError),
    /// GitLab failed.
    #[error(transparent)]
    GitLab(#[from] crate::gitlab::GitLabError),
}

/// A variable that names a file of the default branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileVariable {
    /// `AI_EXTRA_INSTRUCTIONS`, when it holds a path.
    ExtraInstructions,
    /// `AI_MCP_CONFIG_FILE`.
    McpConfigFile,
}

impl FileVariable {
    fn name(self) -> &'static str {
        match self {
            FileVariable::ExtraInstructions => VARIABLE,
            FileVariable::McpConfigFile => mcp::FILE_VARIABLE,
        }
    }

    /// What to do when the default branch lacks the file.
    fn when_missing(self) -> &'static str {
        match self {
            FileVariable::ExtraInstructions => {
                "add it there, or put the instructions themselves in AI_EXTRA_INSTRUCTIONS"
            }
            FileVariable::McpConfigFile => {
                "add it there (the MCP configuration is read from the default branch only, never from the branch under review), or put the configuration itself in AI_MCP_CONFIG"
            }
        }
    }

    /// The text of the file `path` on `default_branch`, read through the API.
    async fn read(
        self,
        gitlab: &GitLab,
        project: &ProjectRef,
        default_branch: &str,
        path: String,
    ) -> Result<String, HouseError> {
        match gitlab.file_text(project, &path, default_branch).await? {
            None => Err(HouseError::Missing {
                variable: self,
                path,
                branch: default_branch.to_owned(),
            }),
            Some(Err(error)) => Err(HouseError::Unreadable {
                variable: self,
                path,
                reason: error.reason,
            }),
            Some(Ok(text)) => Ok(text),
        }
    }
}

/// What `value` names (see the module comment); `None` when it is empty.
pub(crate) fn classify(value: &str) -> Option<Source> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let one_word = !value.chars().any(char::is_whitespace);
    let looks_like_path = value.contains('/') || value.ends_with(".md") || value.ends_with(".txt");
    Some(if one_word && looks_like_path && !value.contains("://") {
        Source::File(value.trim_start_matches("./").to_owned())
    } else {
        Source::Text(value.to_owned())
    })
}

/// The instructions for this run, cut to [`LIMIT`] bytes; `None` when the variable is unset.
pub async fn read(
    gitlab: &GitLab,
    project: &ProjectRef,
    default_branch: &str,
    value: Option<&str>,
) -> Result<Option<String>, HouseError> {
    let text = match value.and_then(classify) {
        None => return Ok(None),
        Some(Source::Text(text)) => text,
        Some(Source::File(path)) => {
            FileVariable::ExtraInstructions
                .read(gitlab, project, default_branch, path)
                .await?
        }
    };
    Ok(Some(crate::context::budget::truncate(&text, LIMIT)))
}

/// The MCP configuration in the file `path` (`AI_MCP_CONFIG_FILE`) of the **default branch**,
/// read through the API like the house instructions: on a merge request the checkout is the
/// source branch, whose author must not choose the servers the job's credentials are sent to.
pub(crate) async fn mcp_config(
    gitlab: &GitLab,
    project: &ProjectRef,
    default_branch: &str,
    path: &str,
) -> Result<McpConfig, HouseError> {
    let path = path.trim().trim_start_matches("./").to_owned();
    let text = FileVariable::McpConfigFile
        .read(gitlab, project, default_branch, path.clone())
        .await?;
    Ok(McpConfig::parse(
        &format!("{}={path} on {default_branch}", mcp::FILE_VARIABLE),
        &text,
    )?)
}

/// The MCP configuration of `AI_MCP_CONFIG_FILE` when it is set (the mention run and the
/// review job both call this; `AI_MCP_CONFIG` itself is read with the other settings).
pub(crate) async fn mcp_config_from_file_variable(
    vars: &dyn Env,
    gitlab: &GitLab,
    project: &ProjectRef,
) -> anyhow::Result<Option<McpConfig>> {
    let Some(path) = vars.set(mcp::FILE_VARIABLE) else {
        return Ok(None);
    };
    let branch = super::workspace::default_branch(vars, gitlab, project).await?;
    Ok(Some(mcp_config(gitlab, project, &branch, &path).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_a_path_only_when_it_looks_like_one() {
        let file = |path: &str| Some(Source::File(path.into()));
        let text = |text: &str| Some(Source::Text(text.into()));
        for (value, expected) in [
            (" docs/AI.md ", file("docs/AI.md")),
            ("./HOUSE.txt", file("HOUSE.txt")),
            ("Answer in French.", text("Answer in French.")),
            ("Follow docs/STYLE.md", text("Follow docs/STYLE.md")),
            (
                "https://example.com/rules.md",
                text("https://example.com/rules.md"),
            ),
        ] {
            assert_eq!(classify(value), expected, "{value:?}");
        }
        assert_eq!(classify("  "), None);
    }
}
