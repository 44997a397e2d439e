//! docs/adding-an-assistant.md says that adding an assistant touches its row of `PROFILES`
//! (crates/core), its folder `entrypoint/src/agent/<name>/`, an image and a template. These
//! tests keep that true: no product code elsewhere branches on a named assistant, every file
//! the page names exists (and the example assistant's do not: it is not part of the product),
//! no product code elsewhere spells an assistant's name or keeps a constant named after it,
//! and the page covers every field of a profile and every method of the `Agent` trait.

use crate::repo_files::{assert_none_found, repo};
use crate::rust_source;

use std::path::{Path, PathBuf};

use entrypoint::agent::Assistant;
use regex::Regex;

const PAGE: &str = "docs/adding-an-assistant.md";

/// The assistant the page adds as its example.
const EXAMPLE: &str = "gemini";

fn page() -> String {
    std::fs::read_to_string(repo().join(PAGE)).expect("docs/adding-an-assistant.md")
}

/// Where code may name one assistant and act on it: the profile table and each assistant's
/// own folder of the agent module.
fn may_branch(relative: &Path) -> bool {
    let path = relative.to_string_lossy();
    path.starts_with("crates/core/")
        || (path.starts_with("entrypoint/src/agent/")
            && Path::new(path.trim_start_matches("entrypoint/src/agent/"))
                .components()
                .count()
                > 1)
}

/// Every product file outside the profile table and the assistants' folders, with its path
/// relative to the repository.
fn outside_row_and_folder() -> Vec<(String, PathBuf)> {
    let root = repo();
    rust_source::product_files()
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap_or(&file).to_string_lossy();
            (relative.trim_start_matches("../").to_owned(), file)
        })
        .filter(|(relative, _)| !may_branch(Path::new(relative)))
        .collect()
}

/// A Rust file holding `source`, in a directory that lives as long as the first element.
fn sample(source: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sample.rs");
    std::fs::write(&file, source).unwrap();
    (dir, file)
}

#[test]
fn adding_an_assistant_touches_only_its_row_and_its_folder() {
    let mut branches = Vec::new();
    for (relative, file) in outside_row_and_folder() {
        for branch in rust_source::assistant_branches(&file) {
            branches.push(format!("{relative}: {branch}"));
        }
    }
    assert_none_found(
        &branches,
        &format!(
            "product code outside crates/core and entrypoint/src/agent/<name>/ branches on a \
             named assistant; move the difference into the PROFILES row or the Agent trait \
             ({PAGE})"
        ),
    );
}

#[test]
fn the_branch_scan_finds_arms_and_comparisons() {
    let (_dir, file) = sample(
        "fn f(a: Assistant) -> u8 {\n\
         if a == Assistant::Codex { return 0; }\n\
         for b in Assistant::ALL { let _ = b; }\n\
         match a { Assistant::Claude => 1, _ => 2 }\n\
         }\n\
         #[cfg(test)]\n\
         mod tests { fn g(a: Assistant) -> bool { a != Assistant::Claude } }\n",
    );
    assert_eq!(
        rust_source::assistant_branches(&file),
        ["== Assistant::Codex", "Assistant::Claude =>"]
    );
}

/// The variable catalogue: its constants are named after the variables they hold
/// (`CLAUDE_API_KEY`), one per variable, so a constant there may start with an assistant's name.
const CATALOGUE: &str = "entrypoint/src/env/catalogue.rs";

/// The files of modules declared under `#[cfg(test)]` (`#[cfg(test)] mod examples;`): test
/// code, though they are not named `tests.rs`.
fn test_only_modules() -> Vec<PathBuf> {
    let declared =
        Regex::new(r"#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(\w+)\s*;").unwrap();
    let mut files = Vec::new();
    for file in rust_source::product_files() {
        let text = std::fs::read_to_string(&file).expect("source readable");
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let dir = file.parent().expect("a file has a directory");
        let dir = if matches!(stem, "mod" | "lib" | "main") {
            dir.to_path_buf()
        } else {
            dir.join(stem)
        };
        for found in declared.captures_iter(&text) {
            files.push(dir.join(format!("{}.rs", &found[1])));
            files.push(dir.join(&found[1]).join("mod.rs"));
        }
    }
    files
}

/// Every `"claude"`-like string literal and `CLAUDE_…`-like constant of `file`'s product code,
/// for each assistant's name in `names`.
fn per_assistant_spellings(file: &Path, names: &[&str], constants_too: bool) -> Vec<String> {
    let mut found: Vec<String> = rust_source::scan(file)
        .literals
        .into_iter()
        .filter(|literal| names.contains(&literal.as_str()))
        .map(|literal| format!("the literal {literal:?}"))
        .collect();
    if constants_too {
        found.extend(
            rust_source::constants(file)
                .into_iter()
                .filter(|constant| {
                    names.iter().any(|name| {
                        constant.starts_with(&format!("{}_", name.to_ascii_uppercase()))
                    })
                })
                .map(|constant| format!("the constant {constant}")),
        );
    }
    found
}

#[test]
fn per_assistant_names_and_constants_live_in_the_row_or_the_folder() {
    let names = Assistant::ALL.map(Assistant::name);
    let test_only = test_only_modules();
    let mut found = Vec::new();
    for (relative, file) in outside_row_and_folder() {
        if test_only.contains(&file) {
            continue;
        }
        for spelling in per_assistant_spellings(&file, &names, relative != CATALOGUE) {
            found.push(format!("{relative}: {spelling}"));
        }
    }
    assert_none_found(
        &found,
        &format!(
            "product code outside crates/core and entrypoint/src/agent/<name>/ spells a named \
             assistant's own fact; take it from the PROFILES row (Assistant::name, the profile's \
             variables) or move it into the assistant's folder ({PAGE})"
        ),
    );
}

#[test]
fn the_spelling_scan_finds_names_and_constants_outside_tests() {
    let (_dir, file) = sample(
        "const CODEX_KEYS: &[&str] = &[];\n\
         static CLAUDE_ONLY: u8 = 0;\n\
         const CLAUDETTE: u8 = 0;\n\
         fn f() -> &'static str { let _ = \"claude-handle\"; \"codex\" }\n\
         #[cfg(test)]\n\
         mod tests { const CLAUDE_SAMPLE: &str = \"claude\"; }\n",
    );
    assert_eq!(
        per_assistant_spellings(&file, &["claude", "codex"], true),
        [
            "the literal \"codex\"",
            "the constant CODEX_KEYS",
            "the constant CLAUDE_ONLY"
        ]
    );
    assert_eq!(
        per_assistant_spellings(&file, &["claude", "codex"], false),
        ["the literal \"codex\""]
    );
}

#[test]
fn every_file_the_walk_through_names_exists() {
    let page = page();
    let path = Regex::new(r"`([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.<>-]*)+)`").unwrap();
    let mut named = 0;
    for found in path.captures_iter(&page) {
        let name = &found[1];
        if name.contains('<') || name.starts_with("http") {
            continue;
        }
        named += 1;
        let exists = repo().join(name).exists();
        if name.contains(EXAMPLE) {
            assert!(
                !exists,
                "{PAGE} names {name} as the example's: it must not be in the product"
            );
        } else {
            assert!(exists, "{PAGE} names {name}, which does not exist");
        }
    }
    assert!(named >= 20, "{PAGE} names only {named} files");
}

/// The `pub` fields of `struct Profile` and the `fn`s of `trait Agent`, read from their source.
fn items(file: &str, opening: &str, item: &Regex) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(file)).expect("source readable");
    let start = text
        .find(opening)
        .unwrap_or_else(|| panic!("{file} has no `{opening}`"));
    let body = &text[start..];
    let end = body.find("\n}").expect("the block closes");
    item.captures_iter(&body[..end])
        .map(|c| c[1].to_owned())
        .collect()
}

#[test]
fn the_walk_through_covers_every_profile_field_and_agent_method() {
    let page = page();
    let fields = items(
        "crates/core/src/assistant.rs",
        "pub struct Profile {",
        &Regex::new(r"\n    pub ([a-z_]+):").unwrap(),
    );
    let methods = items(
        "entrypoint/src/agent/mod.rs",
        "pub(crate) trait Agent",
        &Regex::new(r"\n    fn ([a-z_]+)").unwrap(),
    );
    assert!(
        fields.len() >= 10 && methods.len() >= 8,
        "{fields:?} {methods:?}"
    );
    for name in fields.iter().chain(&methods) {
        assert!(
            page.contains(&format!("`{name}`")),
            "{PAGE} does not say what goes in `{name}`"
        );
    }
}
