//! The repository's own files that the docs tests read: the templates' `spec:inputs` headers
//! and the Markdown pages.

#![allow(
    dead_code,
    reason = "each test crate that includes this module uses a part of it"
)]

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The two templates and the assistant each one runs.
pub const TEMPLATES: [(&str, &str); 2] = [("claude.yml", "claude"), ("codex.yml", "codex")];

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// GitLab's heading id for a heading's text: lower case, punctuation other than `-` and `_`
/// dropped, spaces to `-` (<https://docs.gitlab.com/user/markdown/#heading-ids-and-links>).
pub fn heading_id(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Fails with `what`, then each of `found` on a line of its own, unless `found` is empty: the
/// docs checks list every offender at once, so one run shows all there is to fix.
pub fn assert_none_found(found: &[String], what: &str) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

/// Both templates default their `spec:inputs` input `input` to `expected`.
pub fn assert_templates_default(input: &str, expected: &str, why: &str) {
    for (file, _) in TEMPLATES {
        assert_eq!(
            template_inputs(file)[input]["default"].as_str(),
            Some(expected),
            "{file}: {input} defaults to {why}"
        );
    }
}

/// A template's `spec:inputs` map (the header document before `---`).
pub fn template_inputs(file: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join("templates").join(file)).expect("template");
    let docs = YamlLoader::load_from_str(&text).expect("template parses");
    let inputs = docs[0]["spec"]["inputs"].clone();
    assert!(inputs.as_hash().is_some(), "{file}: spec:inputs is a map");
    inputs
}

/// README.md, templates/README.md and every Markdown page under docs/ and examples/, sorted.
pub fn markdown_pages() -> Vec<PathBuf> {
    let root = repo();
    let mut pages = vec![root.join("README.md"), root.join("templates/README.md")];
    let mut pending = vec![root.join("docs"), root.join("examples")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("directory readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}
