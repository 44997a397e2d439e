//! The `include:` block that brings this tool's CI template into a project's
//! `.gitlab-ci.yml` (<https://docs.gitlab.com/ci/yaml/#includeproject>), and how it is added
//! to an existing file.

use crate::assistant::Assistant;

/// Where the templates come from: this tool's own GitLab project, pinned to a ref.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateSource {
    /// Full path of the project that hosts `templates/<assistant>.yml`.
    pub project: String,
    /// Tag, branch or sha to pin (a tag of this tool's version by default).
    pub git_ref: String,
}

/// The default template project; override with `--template-project`.
pub const DEFAULT_TEMPLATE_PROJECT: &str = "gitlab-assistants/entrypoint";

impl TemplateSource {
    /// The template file for `assistant`, as `include:file` wants it.
    pub fn file(&self, assistant: Assistant) -> String {
        format!("/templates/{}.yml", assistant.name())
    }

    /// The block, as printed with `--no-mr` and as added to the file.
    pub fn block(&self, assistant: Assistant) -> String {
        format!(
            "include:\n  - project: '{}'\n    ref: '{}'\n    file: '{}'\n",
            self.project,
            self.git_ref,
            self.file(assistant)
        )
    }
}

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
    /// The file has its own top-level `include:`; a second one would be a duplicate key, so
    /// the entry must be added to that list by hand.
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
    if text
        .lines()
        .any(|line| line.starts_with("include:") || line.starts_with("\"include\":"))
    {
        return IncludeChange::Manual;
    }
    IncludeChange::Write {
        content: format!("{block}\n{text}"),
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
            change(Some("include:\n  - local: a.yml\n"), &s, Assistant::Claude),
            IncludeChange::Manual
        );
    }
}
