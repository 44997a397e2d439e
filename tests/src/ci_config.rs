//! The CI templates (`templates/claude.yml`, `templates/codex.yml`) read as GitLab reads an
//! `include:` without `inputs:`: the `spec:inputs` header's defaults interpolated into the jobs
//! (<https://docs.gitlab.com/ci/inputs/>), each job's `rules:` decided with [`crate::ci_rules`],
//! and the job's `resource_group` expanded with the pipeline's variables
//! (<https://docs.gitlab.com/ci/yaml/#resource_group>).
//!
//! The template tests (`tests/tests/it/templates.rs`), the GitLab double (which refuses a trigger
//! whose pipeline would have no job, as GitLab does) and the `webhook_day` benchmark all read the
//! templates through this module, so the three agree with each other and with the files.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

use crate::ci_rules::{Rule, Vars, decide};

/// The repository's `templates/` directory.
pub fn template_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

/// One template: its `spec:inputs` header and its jobs, interpolated with the inputs' defaults.
pub struct Template {
    /// The `spec:inputs` map.
    pub inputs: Yaml,
    /// The jobs document, in file order.
    pub jobs: Yaml,
}

/// Replaces every `$[[ inputs.NAME ]]` with the input's default, as `include:` without
/// `inputs:` does (<https://docs.gitlab.com/ci/inputs/>).
pub fn interpolate(text: &str, inputs: &Yaml) -> String {
    interpolate_with(text, inputs, &[])
}

/// [`interpolate`], except that inputs in `given` take that value instead, as `include: …
/// inputs:` sets them (checked against the input's `options`, as GitLab checks them).
pub fn interpolate_with(text: &str, inputs: &Yaml, given: &[(&str, &str)]) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("$[[") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("]]").expect("an unclosed $[[") + start;
        let name = rest[start + 3..end]
            .trim()
            .strip_prefix("inputs.")
            .expect("only inputs.* are interpolated");
        let value = match given.iter().find(|(n, _)| *n == name) {
            Some((_, value)) => {
                if let Some(options) = inputs[name]["options"].as_vec() {
                    assert!(
                        options.iter().any(|o| o.as_str() == Some(value)),
                        "{name}: {value} is not one of its options"
                    );
                }
                (*value).to_owned()
            }
            None => match &inputs[name]["default"] {
                Yaml::String(s) => s.clone(),
                Yaml::Integer(i) => i.to_string(),
                Yaml::Boolean(b) => b.to_string(),
                other => panic!("input {name} has no scalar default: {other:?}"),
            },
        };
        out.push_str(&value);
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Parses a template's text (header, `---`, jobs).
pub fn parse(name: &str, text: &str) -> Template {
    parse_with(name, text, &[])
}

/// [`parse`] with these `inputs:` given, as `include: … inputs:` reads the template.
pub fn parse_with(name: &str, text: &str, given: &[(&str, &str)]) -> Template {
    let docs = YamlLoader::load_from_str(text).expect("the header parses");
    assert_eq!(docs.len(), 2, "{name}: a spec header and the jobs");
    let inputs = docs[0]["spec"]["inputs"].clone();
    assert!(inputs.as_hash().is_some(), "{name}: spec:inputs is a map");
    let body = text
        .split_once("\n---\n")
        .expect("the header ends with ---")
        .1;
    let body = interpolate_with(body, &inputs, given);
    assert!(!body.contains("$[["), "{name}: every input interpolated");
    let jobs = YamlLoader::load_from_str(&body)
        .expect("the jobs parse")
        .remove(0);
    Template { inputs, jobs }
}

/// Reads `templates/<file>`.
pub fn load(file: &str) -> Template {
    load_with(file, &[])
}

/// Reads `templates/<file>` as `include:` with these `inputs:` does.
pub fn load_with(file: &str, given: &[(&str, &str)]) -> Template {
    let text = std::fs::read_to_string(template_dir().join(file)).expect("template readable");
    parse_with(file, &text, given)
}

/// One job of a pipeline configuration, as far as deciding and scheduling it needs.
#[derive(Clone, Debug)]
pub struct Job {
    /// The job's name.
    pub name: String,
    /// `rules:` as `(if, when)`; `None` for a rule without `if` or without `when`.
    pub rules: Vec<(Option<String>, Option<String>)>,
    /// `image:name` (or `image:`), inputs interpolated, variables not expanded.
    pub image: String,
    /// `resource_group`, variables not expanded.
    pub resource_group: Option<String>,
}

/// The jobs a project's `.gitlab-ci.yml` defines.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Every job, in file order.
    pub jobs: Vec<Job>,
}

/// A job that a pipeline contains, with its `when` and its expanded lock.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct PlannedJob {
    /// The job's name.
    pub name: String,
    /// `on_success`, `manual`, `always`, `delayed`.
    pub when: String,
    /// `image:name`.
    pub image: String,
    /// The resource group with the pipeline's variables expanded.
    pub resource_group: Option<String>,
}

impl Config {
    /// The jobs of the given templates (`templates/<file>`), as a consumer that includes them
    /// without `inputs:` gets them.
    pub fn from_templates(files: &[&str]) -> Self {
        let mut jobs = Vec::new();
        for file in files {
            jobs.extend(jobs_of(&load(file)));
        }
        Self { jobs }
    }

    /// The jobs GitLab adds to a pipeline with these variables: every job whose rules let it
    /// in (<https://docs.gitlab.com/ci/yaml/#rules>).
    pub fn plan(&self, vars: &Vars) -> Vec<PlannedJob> {
        self.jobs
            .iter()
            .filter_map(|job| {
                let rules: Vec<Rule<'_>> = job
                    .rules
                    .iter()
                    .map(|(condition, when)| Rule {
                        condition: condition.as_deref(),
                        when: when.as_deref(),
                    })
                    .collect();
                let when = decide(&rules, vars)?;
                Some(PlannedJob {
                    name: job.name.clone(),
                    when,
                    image: job.image.clone(),
                    resource_group: job
                        .resource_group
                        .as_deref()
                        .map(|group| expand(group, vars)),
                })
            })
            .collect()
    }
}

/// The jobs of one parsed template.
pub fn jobs_of(template: &Template) -> Vec<Job> {
    jobs_in(&template.jobs)
}

impl Config {
    /// The jobs of a plain `.gitlab-ci.yml` made only of jobs (no `spec:` header, no global
    /// keywords).
    pub fn from_yaml(text: &str) -> Self {
        let doc = YamlLoader::load_from_str(text)
            .expect("the configuration parses")
            .remove(0);
        Self {
            jobs: jobs_in(&doc),
        }
    }
}

fn jobs_in(doc: &Yaml) -> Vec<Job> {
    let map = doc.as_hash().expect("a map of jobs");
    map.iter()
        .map(|(name, job)| {
            let name = name.as_str().expect("a job name").to_owned();
            let rules = job["rules"]
                .as_vec()
                .map(|rules| {
                    rules
                        .iter()
                        .map(|rule| {
                            for key in rule.as_hash().expect("a rule is a map").keys() {
                                let key = key.as_str().expect("a key");
                                assert!(
                                    ["if", "when", "allow_failure"].contains(&key),
                                    "{name}: the evaluator knows only if/when/allow_failure, not {key}"
                                );
                            }
                            (
                                rule["if"].as_str().map(str::to_owned),
                                rule["when"].as_str().map(str::to_owned),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let image = job["image"]["name"]
                .as_str()
                .or_else(|| job["image"].as_str())
                .unwrap_or_default()
                .to_owned();
            Job {
                name,
                rules,
                image,
                resource_group: job["resource_group"].as_str().map(str::to_owned),
            }
        })
        .collect()
}

/// Expands `$NAME` and `${NAME}` with the pipeline's variables; an unset variable expands to
/// nothing, as GitLab expands it in `resource_group`
/// (<https://docs.gitlab.com/ci/variables/where_variables_can_be_used/>).
pub fn expand(text: &str, vars: &Vars) -> String {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &text[i + 1..];
        let (name, consumed) = if let Some(braced) = rest.strip_prefix('{') {
            let end = braced.find('}').unwrap_or(braced.len());
            (&braced[..end], end + 2)
        } else {
            let end = rest
                .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], end)
        };
        if name.is_empty() {
            out.push('$');
            continue;
        }
        out.push_str(vars.get(name).map(String::as_str).unwrap_or(""));
        for _ in 0..consumed {
            chars.next();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ci_rules::vars;

    #[test]
    fn unset_variables_expand_to_nothing() {
        let v = vars(&[("A", "issue"), ("B", "7")]);
        assert_eq!(expand("ai-x-$A-${B}-$C", &v), "ai-x-issue-7-");
        assert_eq!(expand("cost $ 5", &v), "cost $ 5");
    }
}
