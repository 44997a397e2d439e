//! The sample repositories under `examples/`: each is complete (source, `CLAUDE.md`, `CODEX.md`,
//! README) and its `.gitlab-ci.yml` includes our templates the way GitLab would accept:
//! `include:project` with `ref` and one of the template files, or `include:component` at the
//! canonical project, with only inputs the template declares and values its `options` allow.
//! <https://docs.gitlab.com/ci/yaml/#includeproject>, <https://docs.gitlab.com/ci/components/>,
//! <https://docs.gitlab.com/ci/inputs/>

use crate::repo_files;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use entrypoint::setup::ci_include::DEFAULT_TEMPLATE_PROJECT;
use repo_files::{TEMPLATES, repo, template_inputs};
use yaml_rust2::{Yaml, YamlLoader};

fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn ci_file(example: &Path) -> Yaml {
    let path = example.join(".gitlab-ci.yml");
    let text = std::fs::read_to_string(&path).expect(".gitlab-ci.yml readable");
    let mut docs = YamlLoader::load_from_str(&text)
        .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

/// The assistant a template file path names (`/templates/claude.yml` → `claude.yml`).
fn template_file(path: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .map(|(file, _)| *file)
        .find(|file| path == format!("/templates/{file}"))
}

/// `$CI_SERVER_FQDN/<project>/<assistant>@<version>` → the template file.
fn component_file(reference: &str) -> Option<&'static str> {
    let rest = reference.strip_prefix("$CI_SERVER_FQDN/")?;
    let (path, version) = rest.split_once('@')?;
    let (project, name) = path.rsplit_once('/')?;
    let released = !version.is_empty() && version.split('.').all(|p| p.parse::<u32>().is_ok());
    (project == DEFAULT_TEMPLATE_PROJECT && released)
        .then(|| TEMPLATES.iter().find(|(_, a)| *a == name).map(|(f, _)| *f))
        .flatten()
}

/// Checks one `include:` entry and returns the template it brings in.
fn included_template(entry: &Yaml, example: &str) -> &'static str {
    let file = if let Some(project) = entry["project"].as_str() {
        assert_eq!(
            project, DEFAULT_TEMPLATE_PROJECT,
            "{example}: include:project"
        );
        let git_ref = entry["ref"].as_str().expect("include:project pins a ref");
        assert!(
            git_ref.starts_with('v'),
            "{example}: ref {git_ref} is a release tag"
        );
        let path = entry["file"]
            .as_str()
            .expect("include:project names a file");
        template_file(path).unwrap_or_else(|| panic!("{example}: {path} is not a template"))
    } else if let Some(reference) = entry["component"].as_str() {
        component_file(reference)
            .unwrap_or_else(|| panic!("{example}: {reference} is not one of our components"))
    } else {
        panic!("{example}: an include that is neither project nor component: {entry:?}");
    };
    check_inputs(entry, file, example);
    file
}

fn check_inputs(entry: &Yaml, file: &str, example: &str) {
    let Some(inputs) = entry["inputs"].as_hash() else {
        return;
    };
    let spec = template_inputs(file);
    for (name, value) in inputs {
        let name = name.as_str().expect("input names are strings");
        let declared = &spec[name];
        assert!(
            declared.as_hash().is_some(),
            "{example}: {file} has no input {name}"
        );
        let value = value.as_str().expect("input values are strings here");
        if let Some(options) = declared["options"].as_vec() {
            assert!(
                options.iter().any(|o| o.as_str() == Some(value)),
                "{example}: {name}: {value} is not one of {options:?}"
            );
        }
        if name == "stage" {
            assert_stage_declared(value, example);
        }
    }
}

/// A `stage` input must name a stage the consumer declares (or a default stage when it does
/// not declare `stages:`).
fn assert_stage_declared(stage: &str, example: &str) {
    let ci = ci_file(&repo().join("examples").join(example));
    let declared: Vec<&str> = match ci["stages"].as_vec() {
        Some(list) => list.iter().filter_map(Yaml::as_str).collect(),
        None => vec!["build", "test", "deploy"],
    };
    assert!(
        declared.contains(&stage),
        "{example}: stage {stage} is not in {declared:?}"
    );
}

#[test]
fn every_example_is_a_complete_repository() {
    let examples = examples();
    assert_eq!(
        examples.len(),
        4,
        "fix a bug, review an MR, iterate in a thread, a nightly task"
    );
    for example in examples {
        for file in ["README.md", "CLAUDE.md", "CODEX.md", ".gitlab-ci.yml"] {
            let path = example.join(file);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|_| panic!("{} is missing", path.display()));
            assert!(!text.trim().is_empty(), "{} is empty", path.display());
        }
        let sources = std::fs::read_dir(&example)
            .expect("example dir")
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .count();
        assert!(sources >= 2, "{}: source and tests", example.display());
    }
}

#[test]
fn every_example_includes_our_templates_with_valid_inputs() {
    let mut seen = BTreeSet::new();
    for example in examples() {
        let name = example
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_owned();
        let ci = ci_file(&example);
        let includes = ci["include"]
            .as_vec()
            .unwrap_or_else(|| panic!("{name}: include is a list"));
        assert!(!includes.is_empty(), "{name}: includes a template");
        for entry in includes {
            seen.insert(included_template(entry, &name));
        }
        let jobs = ci.as_hash().expect("a map");
        for (_, assistant) in TEMPLATES {
            let job = Yaml::String(format!("ai-{assistant}"));
            assert!(
                !jobs.contains_key(&job),
                "{name}: defines the template's job name {job:?}"
            );
        }
    }
    assert_eq!(seen.len(), 2, "the examples use both templates: {seen:?}");
}

#[test]
fn a_wrong_include_is_caught() {
    let wrong = YamlLoader::load_from_str(
        "- project: 'group/gitlab-ai'\n  ref: 'v1.0.0'\n  file: '/templates/claude.yml'\n",
    )
    .expect("parses")
    .remove(0);
    let entry = &wrong[0];
    let caught = std::panic::catch_unwind(|| included_template(entry, "probe"));
    assert!(caught.is_err(), "another project path must be refused");
    assert_eq!(
        component_file("$CI_SERVER_FQDN/gitlab-ai/gitlab-ai/codex@main"),
        None
    );
    assert_eq!(
        component_file("$CI_SERVER_FQDN/gitlab-ai/gitlab-ai/codex@1.0.0"),
        Some("codex.yml")
    );
}

/// The nightly task's inputs name files the example has, on its default branch as the task
/// reads them; its schema is one the entrypoint accepts; and its report job waits for the
/// template's task job by name, reading the dotenv variables the task writes.
#[test]
fn the_nightly_task_example_names_its_task_and_schema_files() {
    let example = repo().join("examples/nightly-task");
    let ci = ci_file(&example);
    let include = &ci["include"][0];
    assert_eq!(included_template(include, "nightly-task"), "claude.yml");
    let inputs = &include["inputs"];
    let prompt = inputs["task_prompt_file"].as_str().expect("a task file");
    let task = std::fs::read_to_string(example.join(prompt)).expect("the task file exists");
    assert!(task.contains("requirements.txt"), "{task}");
    let schema_path = inputs["task_output_schema"]
        .as_str()
        .expect("a schema file");
    let schema = std::fs::read_to_string(example.join(schema_path)).expect("the schema exists");
    entrypoint::automation::schema::OutputSchema::parse(&schema, "")
        .unwrap_or_else(|e| panic!("{schema_path}: {e}"));
    assert_eq!(inputs["task_post_to"].as_str(), Some("none"));
    let report = &ci["deps-report"];
    assert_eq!(report["needs"][0]["job"].as_str(), Some("ai-claude-task"));
    let script = report["script"][0].as_str().expect("a script line");
    for variable in ["AI_CONCLUSION", "AI_MR_IID", "AI_BRANCH", "AI_COST_USD"] {
        assert!(script.contains(variable), "{variable}: {script}");
        assert!(
            entrypoint::automation::artifacts::TaskResult::new(
                entrypoint::agent::Assistant::Claude,
                entrypoint::automation::artifacts::TaskConclusion::Success,
                std::time::Duration::ZERO,
            )
            .dotenv()
            .contains(&format!("{variable}=")),
            "the task writes {variable}"
        );
    }
    let template = doubles::ci_config::load_with(
        "claude.yml",
        &[
            ("task_prompt_file", prompt),
            ("task_output_schema", schema_path),
        ],
    );
    assert!(
        template.jobs["ai-claude-task"].as_hash().is_some(),
        "the template defines the job the report needs"
    );
}
