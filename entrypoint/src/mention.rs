//! Finding `@claude` / `@codex` mentions in a note, with GitLab's username rules and Markdown
//! awareness. (Being written; see issue 2.)
