//! docs/configuration.md names every setting there is: each `AI_*`, `CLAUDE_*`, `CODEX_*` and
//! `OPENAI_*` variable the entrypoint's product code spells, and each `spec:inputs` input of
//! the templates. A variable added to the code without a line in the docs fails here.

use crate::repo_files;
use crate::rust_source;

use std::collections::BTreeSet;

use entrypoint::setup::ci_include::DEFAULT_TEMPLATE_PROJECT;
use regex::Regex;
use repo_files::{TEMPLATES, markdown_pages, repo, template_inputs};

fn configuration_md() -> String {
    std::fs::read_to_string(repo().join("docs/configuration.md")).expect("docs/configuration.md")
}

/// A variable name in our namespaces, as the whole value of a string literal.
fn variable_name() -> Regex {
    Regex::new(r"^(AI|CLAUDE|CODEX|OPENAI)_[A-Z0-9]+(_[A-Z0-9]+)*$").expect("valid regex")
}

/// The names the documentation spells, as whole words.
fn words(text: &str) -> BTreeSet<String> {
    Regex::new(r"[A-Za-z0-9_]+")
        .expect("valid regex")
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

fn code_variables() -> BTreeSet<String> {
    let name = variable_name();
    rust_source::product_files()
        .iter()
        .flat_map(|file| rust_source::scan(file).literals)
        .filter(|literal| name.is_match(literal))
        .collect()
}

fn all_template_inputs() -> BTreeSet<String> {
    let mut inputs = BTreeSet::new();
    for (file, _) in TEMPLATES {
        let spec = template_inputs(file);
        let names = spec.as_hash().expect("spec:inputs").keys();
        inputs.extend(names.filter_map(|k| k.as_str()).map(str::to_owned));
    }
    inputs
}

#[test]
fn every_variable_the_entrypoint_reads_is_documented() {
    let variables = code_variables();
    // The scan itself must see the variables we know are read, or it proves nothing.
    for known in [
        "AI_TIMEOUT",
        "AI_CLAUDE_HANDLE",
        "CODEX_MODEL",
        "OPENAI_API_KEY",
    ] {
        assert!(variables.contains(known), "the source scan missed {known}");
    }
    let documented = words(&configuration_md());
    let missing: Vec<&String> = variables
        .iter()
        .filter(|v| !documented.contains(*v))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not mention {missing:?}; add a row for each"
    );
}

#[test]
fn every_template_input_is_documented() {
    let inputs = all_template_inputs();
    assert!(inputs.contains("image_family") && inputs.contains("stage"));
    let text = configuration_md();
    let missing: Vec<&String> = inputs
        .iter()
        .filter(|input| !text.contains(&format!("`{input}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not mention the template inputs {missing:?}"
    );
}

#[test]
fn the_canonical_project_path_is_the_one_the_templates_and_docs_use() {
    let registry = format!("$CI_REGISTRY/{DEFAULT_TEMPLATE_PROJECT}");
    for (file, _) in TEMPLATES {
        assert_eq!(
            template_inputs(file)["image_registry"]["default"].as_str(),
            Some(registry.as_str()),
            "{file}: image_registry defaults to the canonical project's registry"
        );
    }
    assert!(configuration_md().contains(&format!("`{DEFAULT_TEMPLATE_PROJECT}`")));
    // No page may point at another project path in an include block.
    let include = Regex::new(r"project: '([^']+)'").expect("valid regex");
    for page in markdown_pages() {
        let text = std::fs::read_to_string(&page).expect("page readable");
        for found in include.captures_iter(&text) {
            assert_eq!(
                &found[1],
                DEFAULT_TEMPLATE_PROJECT,
                "{}: an include names another template project",
                page.display()
            );
        }
    }
}

/// One version everywhere: the images are tagged with the workspace version (`cargo xtask
/// publish`), `entrypoint setup` includes the templates at `v<version>`, so the templates'
/// default image tag and every include, component and image reference in the docs and
/// examples must name that same release, or a team that copies them pulls an image or a
/// template that does not exist.
#[test]
fn every_release_reference_names_the_workspace_version() {
    let version = env!("CARGO_PKG_VERSION");
    for (file, _) in TEMPLATES {
        assert_eq!(
            template_inputs(file)["image_tag"]["default"].as_str(),
            Some(version),
            "{file}: image_tag defaults to the workspace version"
        );
    }
    let references = [
        (r"ref: '([^']+)'", format!("v{version}")),
        (
            r"gitlab-ai/gitlab-ai/(?:claude|codex)@([0-9][^\s]*)",
            version.to_owned(),
        ),
        (
            r"/(?:claude|codex):([0-9][^\s:]*)-(?:ubuntu|alpine)",
            version.to_owned(),
        ),
    ];
    let mut files = markdown_pages();
    for example in std::fs::read_dir(repo().join("examples")).expect("examples/") {
        let ci = example.expect("entry").path().join(".gitlab-ci.yml");
        if ci.is_file() {
            files.push(ci);
        }
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        for (pattern, expected) in &references {
            for found in Regex::new(pattern)
                .expect("valid regex")
                .captures_iter(&text)
            {
                checked += 1;
                assert_eq!(&found[1], expected, "{}: {}", file.display(), &found[0]);
            }
        }
    }
    assert!(checked >= 10, "only {checked} release references found");
}
