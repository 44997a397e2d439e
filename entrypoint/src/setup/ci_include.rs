//! The `include:` block that brings this tool's CI template into a project's
//! `.gitlab-ci.yml` (<https://docs.gitlab.com/ci/yaml/#includeproject>), and how it is added
//! to an existing file.

use crate::agent::Assistant;
pub use crate::contract::{DEFAULT_TEMPLATE_PROJECT, TemplateSource};

/// What to do with the current `.gitlab-ci.yml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncludeChange {
    /// The file already includes the template.
    Present,
    /// Write this content (a new file, or the old one with the block in front).
    Write {
        /// Full new content.
        content: String,
        /// Whether the file exists (commit action `update`) or not (`create`).
        exists: bool,
    },
    /// The file has a top-level `include:` that is not a block list (a string or a flow
    /// list); a second key would be a duplicate, so the entry must be added by hand.
    Manual,
}

/// Decides the change for `current` (the file's text, `None` if it does not exist).
pub fn change(
    current: Option<&str>,
    source: &TemplateSource,
    assistant: Assistant,
) -> IncludeChange {
    let block = source.block(assistant);
    let Some(text) = current else {
        return IncludeChange::Write {
            content: block,
            exists: false,
        };
    };
    let template = format!("templates/{}.yml", assistant.name());
    if text.contains(&source.project) && text.contains(&template) {
        return IncludeChange::Present;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(at) = lines
        .iter()
        .position(|line| line.starts_with("include:") || line.starts_with("\"include\":"))
    else {
        return IncludeChange::Write {
            content: format!("{block}\n{text}"),
            exists: true,
        };
    };
    // `include:` followed by a block list (`  - …`): our entry goes first in that list.
    let block_list = lines[at].trim_end() == "include:"
        && lines
            .get(at + 1)
            .is_some_and(|next| next.trim_start().starts_with("- "));
    if !block_list {
        return IncludeChange::Manual;
    }
    let entry: String = block.lines().skip(1).map(|l| format!("{l}\n")).collect();
    let mut content = String::with_capacity(text.len() + entry.len());
    for (n, line) in lines.iter().enumerate() {
        content.push_str(line);
        if n == at {
            content.push_str(&entry);
        }
    }
    IncludeChange::Write {
        content,
        exists: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> TemplateSource {
        TemplateSource {
            project: "tools/ai".into(),
            git_ref: "v1.2.0".into(),
        }
    }

    #[test]
    fn block_names_project_ref_and_file() {
        assert_eq!(
            source().block(Assistant::Codex),
            "include:\n  - project: 'tools/ai'\n    ref: 'v1.2.0'\n    file: '/templates/codex.yml'\n"
        );
    }

    #[test]
    fn new_existing_present_and_manual_files() {
        let s = source();
        assert!(matches!(
            change(None, &s, Assistant::Claude),
            IncludeChange::Write { exists: false, .. }
        ));
        let IncludeChange::Write { content, exists } =
            change(Some("test:\n  script: make\n"), &s, Assistant::Claude)
        else {
            panic!("expected a write");
        };
        assert!(exists && content.ends_with("test:\n  script: make\n"));
        assert!(content.starts_with("include:\n"));
        assert_eq!(
            change(Some(&content), &s, Assistant::Claude),
            IncludeChange::Present
        );
        assert_eq!(
            change(Some("include: 'a.yml'\n"), &s, Assistant::Claude),
            IncludeChange::Manual
        );
    }

    #[test]
    fn an_existing_include_list_gets_the_entry_and_both_assistants_fit() {
        let s = source();
        let IncludeChange::Write { content, .. } = change(
            Some("include:\n  - local: a.yml\nstages: [x]\n"),
            &s,
            Assistant::Claude,
        ) else {
            panic!("expected a write");
        };
        assert_eq!(
            content,
            "include:\n  - project: 'tools/ai'\n    ref: 'v1.2.0'\n    file: '/templates/claude.yml'\n  - local: a.yml\nstages: [x]\n"
        );
        let IncludeChange::Write { content: both, .. } =
            change(Some(&content), &s, Assistant::Codex)
        else {
            panic!("expected a write");
        };
        assert!(both.contains("/templates/claude.yml") && both.contains("/templates/codex.yml"));
        assert_eq!(both.matches("include:").count(), 1);
        assert_eq!(
            change(Some(&both), &s, Assistant::Codex),
            IncludeChange::Present
        );
    }
}
