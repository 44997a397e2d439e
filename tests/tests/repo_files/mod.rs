//! The repository's own files that the docs tests read: the templates' `spec:inputs` headers
//! and the Markdown pages.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// The two templates and the assistant each one runs.
pub const TEMPLATES: [(&str, &str); 2] = [("claude.yml", "claude"), ("codex.yml", "codex")];

/// The workspace root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A template's `spec:inputs` map (the header document before `---`).
pub fn template_inputs(file: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join("templates").join(file)).expect("template");
    let docs = YamlLoader::load_from_str(&text).expect("template parses");
    let inputs = docs[0]["spec"]["inputs"].clone();
    assert!(inputs.as_hash().is_some(), "{file}: spec:inputs is a map");
    inputs
}
