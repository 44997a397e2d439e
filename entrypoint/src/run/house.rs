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
        "AI_EXTRA_INSTRUCTIONS names the file {path}, which the default branch {branch} does not have: add it there, or put the instructions themselves in AI_EXTRA_INSTRUCTIONS"
    )]
    Missing { path: String, branch: String },
    /// The file is not text.
    #[error("AI_EXTRA_INSTRUCTIONS names the file {path}, which cannot be read as text: {reason}")]
    Unreadable { path: String, reason: String },
    /// The MCP configuration file is not on the default branch.
    #[error(
        "AI_MCP_CONFIG_FILE names the file {path}, which the default branch {branch} does not have: add it there (the MCP configuration is read from the default branch only, never from the branch under review), or put the configuration itself in AI_MCP_CONFIG"
    )]
    McpMissing { path: String, branch: String },
    /// The MCP configuration file is not text.
    #[error("AI_MCP_CONFIG_FILE names the file {path}, which cannot be read as text: {reason}")]
    McpUnreadable { path: String, reason: String },
    /// The MCP configuration cannot be used.
    #[error(transparent)]
    Mcp(#[from] crate::agent::mcp::McpError),
    /// GitLab failed.
    #[error(transparent)]
    GitLab(#[from] crate::gitlab::GitLabError),
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
        Some(Source::File(path)) => match gitlab.file_text(project, &path, default_branch).await? {
            None => {
                return Err(HouseError::Missing {
                    path,
                    branch: default_branch.to_owned(),
                });
            }
            Some(Err(error)) => {
                return Err(HouseError::Unreadable {
                    path,
                    reason: error.reason,
                });
            }
            Some(Ok(text)) => text,
        },
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
    let text = match gitlab.file_text(project, &path, default_branch).await? {
        None => {
            return Err(HouseError::McpMissing {
                path,
                branch: default_branch.to_owned(),
            });
        }
        Some(Err(error)) => {
            return Err(HouseError::McpUnreadable {
                path,
                reason: error.reason,
            });
        }
        Some(Ok(text)) => text,
    };
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
    let Some(path) = vars
        .var(mcp::FILE_VARIABLE)
        .filter(|v| !v.trim().is_empty())
    else {
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
        assert_eq!(
            classify(" docs/AI.md "),
            Some(Source::File("docs/AI.md".into()))
        );
        assert_eq!(
            classify("./HOUSE.txt"),
            Some(Source::File("HOUSE.txt".into()))
        );
        assert_eq!(
            classify("Answer in French."),
            Some(Source::Text("Answer in French.".into()))
        );
        assert_eq!(
            classify("Follow docs/STYLE.md"),
            Some(Source::Text("Follow docs/STYLE.md".into()))
        );
        assert_eq!(
            classify("https://example.com/rules.md"),
            Some(Source::Text("https://example.com/rules.md".into()))
        );
        assert_eq!(classify("  "), None);
    }
}
