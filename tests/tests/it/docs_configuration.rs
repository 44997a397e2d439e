//! docs/configuration.md names every setting there is: each variable of the catalogue
//! (`entrypoint/src/env`), with the catalogue's default, and each `spec:inputs` input of the
//! templates; every variable the page names is catalogued, and the entrypoint spells variable
//! names nowhere but in the catalogue. A variable added to the code without a catalogue entry
//! and a line in the docs fails here.

use crate::repo_files;
use crate::rust_source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use entrypoint::env::CATALOGUE;
use entrypoint::setup::ci_include::DEFAULT_TEMPLATE_PROJECT;
use regex::Regex;
use repo_files::{
    TEMPLATES, assert_none_found, assert_templates_default, heading_id, markdown_pages, repo,
    template_inputs,
};

fn configuration_md() -> String {
    std::fs::read_to_string(repo().join("docs/configuration.md")).expect("docs/configuration.md")
}

/// A variable name in our namespaces, as the whole value of a string literal.
fn variable_name() -> Regex {
    Regex::new(r"^(AI|CLAUDE|CODEX|OPENAI|ANTHROPIC)_[A-Z0-9]+(_[A-Z0-9]+)*$").expect("valid regex")
}

/// The names the documentation spells, as whole words.
fn words(text: &str) -> BTreeSet<String> {
    Regex::new(r"[A-Za-z0-9_]+")
        .expect("valid regex")
        .find_iter(text)
        .map(|m| m.as_str().to_owned())
        .collect()
}

/// One table row of docs/configuration.md that documents variables.
struct Row {
    /// The anchor of the section the row is in.
    section: String,
    /// The variables its first cell names.
    names: Vec<String>,
    /// Its `default` cell, when the table has that column.
    default: Option<String>,
}

/// The page's sections (anchor → text) and its variable rows.
fn configuration_page() -> (BTreeMap<String, String>, Vec<Row>) {
    let name = Regex::new(r"`((?:AI|CLAUDE|CODEX|OPENAI|ANTHROPIC)_[A-Z0-9_]+)`").expect("regex");
    let mut sections = BTreeMap::new();
    let mut rows = Vec::new();
    let mut section = String::new();
    let mut header: Option<Vec<String>> = None;
    for line in configuration_md().lines() {
        if line.starts_with('#') {
            section = heading_id(line.trim_start_matches('#'));
            header = None;
            continue;
        }
        sections
            .entry(section.clone())
            .or_insert_with(String::new)
            .push_str(&format!("{line}\n"));
        if !line.starts_with('|') {
            // A table ends at the first line that is not a row; the next starts with a header.
            header = None;
            continue;
        }
        if line.starts_with("|---") {
            continue;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|cell| cell.trim().to_owned())
            .collect();
        match &header {
            None => header = Some(cells),
            Some(columns) if columns[0] == "variable" => rows.push(Row {
                section: section.clone(),
                names: name
                    .captures_iter(&cells[0])
                    .map(|c| c[1].to_owned())
                    .collect(),
                default: columns
                    .iter()
                    .position(|column| column == "default")
                    .map(|at| cells[at].clone()),
            }),
            Some(_) => {}
        }
    }
    (sections, rows)
}

/// The variable names the product code spells, per file.
fn code_variables() -> BTreeMap<PathBuf, BTreeSet<String>> {
    let name = variable_name();
    rust_source::product_files()
        .into_iter()
        .map(|file| {
            let names = rust_source::scan(&file)
                .literals
                .into_iter()
                .filter(|literal| name.is_match(literal))
                .collect();
            (file, names)
        })
        .collect()
}

fn catalogued() -> BTreeSet<&'static str> {
    CATALOGUE.iter().map(|entry| entry.name).collect()
}

#[test]
fn every_catalogued_variable_is_documented_with_its_default() {
    let (sections, rows) = configuration_page();
    for entry in CATALOGUE {
        let anchor = entry
            .page
            .strip_prefix("configuration.md#")
            .unwrap_or_else(|| {
                panic!(
                    "{}: page {} is not configuration.md",
                    entry.name, entry.page
                )
            });
        let section = sections.get(anchor).unwrap_or_else(|| {
            panic!(
                "{}: docs/configuration.md has no section #{anchor}",
                entry.name
            )
        });
        assert!(
            words(section).contains(entry.name),
            "{}: not mentioned in docs/configuration.md#{anchor}; add a row there",
            entry.name
        );
        let row = rows
            .iter()
            .find(|row| row.names.iter().any(|n| n == entry.name));
        match (row, entry.default) {
            (Some(row), _) => {
                assert_eq!(
                    row.section, anchor,
                    "{}: its row is in another section",
                    entry.name
                );
                assert_eq!(
                    row.default.as_deref(),
                    entry.default,
                    "{}: the default in docs/configuration.md and in entrypoint/src/env differ",
                    entry.name
                );
            }
            (None, Some(default)) => {
                panic!(
                    "{}: the catalogue's default {default:?} is in no table row",
                    entry.name
                )
            }
            (None, None) => {}
        }
    }
}

#[test]
fn every_documented_variable_is_in_the_catalogue() {
    let catalogue = catalogued();
    let name = variable_name();
    let missing: Vec<String> = words(&configuration_md())
        .into_iter()
        .filter(|word| name.is_match(word) && !catalogue.contains(word.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md documents {missing:?}, which entrypoint/src/env/catalogue.rs lacks"
    );
}

#[test]
fn every_variable_the_code_spells_is_in_the_catalogue() {
    let catalogue = catalogued();
    let spelled = code_variables();
    // The scan itself must see names in the crates the catalogue cannot serve (crates/core's
    // assistant profiles), or it proves nothing.
    assert!(spelled.values().flatten().any(|name| name == "CODEX_MODEL"));
    for (file, names) in &spelled {
        for name in names {
            assert!(
                catalogue.contains(name.as_str()),
                "{} reads {name}, which entrypoint/src/env/catalogue.rs lacks; add an entry (and a row in docs/configuration.md)",
                file.display()
            );
        }
    }
}

#[test]
fn the_entrypoint_spells_variable_names_only_in_the_catalogue() {
    let entrypoint = rust_source::repository_root().join("entrypoint/src");
    let mut in_catalogue = 0;
    let mut offenders = Vec::new();
    for (file, names) in code_variables() {
        let Ok(relative) = file.strip_prefix(&entrypoint) else {
            continue;
        };
        if relative.starts_with("env") {
            in_catalogue += names.len();
        } else if !names.is_empty() {
            offenders.push(format!("{}: {names:?}", relative.display()));
        }
    }
    // The scan must see the catalogue's own names, or it proves nothing.
    assert!(
        in_catalogue > 100,
        "the scan found only {in_catalogue} names in entrypoint/src/env"
    );
    assert_none_found(
        &offenders,
        "variable names spelled outside entrypoint/src/env (use the catalogue's constants)",
    );
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
    assert_templates_default(
        "image_registry",
        &registry,
        "the canonical project's registry",
    );
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
    assert_templates_default("image_tag", version, "the workspace version");
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
