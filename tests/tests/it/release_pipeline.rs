//! This project's `.gitlab-ci.yml` as GitLab would read it: `extends` merged, `workflow:rules`
//! and each job's `rules` evaluated for every kind of pipeline the project has, and the jobs'
//! keywords, images, services and variables checked against GitLab's CI/CD YAML reference
//! (<https://docs.gitlab.com/ci/yaml/>) and Docker-in-Docker guide
//! (<https://docs.gitlab.com/ci/docker/using_docker_build/>).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use doubles::ci_rules::{Rule, Vars, decide, expression, vars};
use yaml_rust2::yaml::Hash;
use yaml_rust2::{Yaml, YamlLoader};

/// Global keywords (<https://docs.gitlab.com/ci/yaml/#global-keywords>); every other top-level
/// key is a job (hidden when it starts with `.`).
const GLOBAL_KEYWORDS: [&str; 7] = [
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "cache",
    "image",
];

/// Job keywords this pipeline may use (<https://docs.gitlab.com/ci/yaml/#job-keywords>).
const JOB_KEYWORDS: [&str; 19] = [
    "stage",
    "id_tokens",
    "image",
    "services",
    "variables",
    "rules",
    "tags",
    "script",
    "before_script",
    "after_script",
    "needs",
    "artifacts",
    "cache",
    "extends",
    "interruptible",
    "release",
    "timeout",
    "retry",
    "allow_failure",
];

/// `release:assets:links:link_type` values (<https://docs.gitlab.com/ci/yaml/#releaseassetslinks>).
const LINK_TYPES: [&str; 4] = ["other", "runbook", "image", "package"];

struct Pipeline {
    root: Yaml,
    jobs: BTreeMap<String, Hash>,
}

/// Merges `extends` as GitLab does for maps: the job's own keys win, nested maps are merged
/// (<https://docs.gitlab.com/ci/yaml/#extends>).
fn merge(base: &Hash, own: &Hash) -> Hash {
    let mut out = base.clone();
    for (key, value) in own {
        let merged = match (out.get(key), value) {
            (Some(Yaml::Hash(b)), Yaml::Hash(o)) => Yaml::Hash(merge(b, o)),
            _ => value.clone(),
        };
        out.insert(key.clone(), merged);
    }
    out
}

fn load() -> Pipeline {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.gitlab-ci.yml");
    let text = std::fs::read_to_string(path).expect(".gitlab-ci.yml readable");
    let root = YamlLoader::load_from_str(&text)
        .expect(".gitlab-ci.yml parses")
        .remove(0);
    let top = root.as_hash().expect("a map");
    let mut jobs = BTreeMap::new();
    for (key, value) in top {
        let name = key.as_str().expect("string keys");
        if GLOBAL_KEYWORDS.contains(&name) || name.starts_with('.') {
            continue;
        }
        let own = value.as_hash().expect("a job is a map");
        let job = match own.get(&Yaml::from_str("extends")) {
            Some(Yaml::String(parent)) => {
                let base = root[parent.as_str()]
                    .as_hash()
                    .expect("extends a hidden job");
                let mut own = own.clone();
                own.remove(&Yaml::from_str("extends"));
                merge(base, &own)
            }
            Some(other) => panic!("{name}: extends one template, not {other:?}"),
            None => own.clone(),
        };
        jobs.insert(name.to_owned(), job);
    }
    Pipeline { root, jobs }
}

fn get<'a>(job: &'a Hash, key: &str) -> &'a Yaml {
    job.get(&Yaml::from_str(key)).unwrap_or(&Yaml::BadValue)
}

/// A list of strings (a job's `script`, `needs`, `tags`, the `stages`); anything else is a
/// mistake in the pipeline.
fn strings(list: &Yaml) -> Vec<&str> {
    let items = list.as_vec().map(Vec::as_slice).unwrap_or_default();
    let texts: Vec<&str> = items.iter().filter_map(Yaml::as_str).collect();
    assert_eq!(texts.len(), items.len(), "a list of strings: {list:?}");
    texts
}

fn rules(list: &Yaml) -> Vec<Rule<'_>> {
    list.as_vec()
        .expect("rules is a list")
        .iter()
        .map(|rule| {
            for key in rule.as_hash().expect("a rule is a map").keys() {
                let key = key.as_str().expect("a key");
                assert!(
                    ["if", "when", "variables"].contains(&key),
                    "rules:{key} is not evaluated here"
                );
            }
            Rule {
                condition: rule["if"].as_str(),
                when: rule["when"].as_str(),
            }
        })
        .collect()
}

/// The variables `rules:variables` of the first matching rule adds.
fn rule_variables(job: &Hash, vars: &Vars) -> BTreeMap<String, String> {
    let Some(list) = get(job, "rules").as_vec() else {
        return BTreeMap::new();
    };
    let matched = list.iter().find(|r| {
        r["if"]
            .as_str()
            .is_none_or(|condition| expression(condition, vars))
    });
    matched
        .and_then(|r| r["variables"].as_hash())
        .map(|h| {
            h.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().expect("name").to_owned(),
                        v.as_str().expect("a string value").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Pipeline {
    fn created(&self, vars: &Vars) -> bool {
        decide(&rules(&self.root["workflow"]["rules"]), vars).is_some()
    }

    /// The jobs a pipeline with these variables contains.
    fn jobs_for(&self, vars: &Vars) -> BTreeSet<&str> {
        assert!(self.created(vars), "workflow:rules create no pipeline");
        self.jobs
            .iter()
            .filter(|(_, job)| match get(job, "rules") {
                Yaml::BadValue => true,
                list => decide(&rules(list), vars).is_some(),
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }

    fn job(&self, name: &str) -> &Hash {
        self.jobs
            .get(name)
            .unwrap_or_else(|| panic!("no job {name}"))
    }
}

fn merge_request() -> Vars {
    vars(&[
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_DEFAULT_BRANCH", "main"),
    ])
}

fn default_branch() -> Vars {
    vars(&[
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
    ])
}

fn release_tag() -> Vars {
    vars(&[
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_TAG", "1.2.0"),
        ("CI_DEFAULT_BRANCH", "main"),
    ])
}

fn schedule(job: &str) -> Vars {
    vars(&[
        ("CI_PIPELINE_SOURCE", "schedule"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("SCHEDULED_JOB", job),
    ])
}

fn set(names: &[&'static str]) -> BTreeSet<&'static str> {
    names.iter().copied().collect()
}

const IMAGE_JOBS: [&str; 3] = ["images:amd64", "images:arm64", "images:index"];

#[test]
fn merge_requests_run_only_the_checks_and_feature_branches_no_pipeline() {
    let p = load();
    assert_eq!(p.jobs_for(&merge_request()), set(&["test"]));
    let feature_push = vars(&[
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "feature"),
        ("CI_DEFAULT_BRANCH", "main"),
    ]);
    assert!(!p.created(&feature_push));
}

#[test]
fn the_default_branch_builds_and_pushes_every_image_per_architecture_then_the_index() {
    let p = load();
    let mut expected = set(&IMAGE_JOBS);
    expected.insert("test");
    assert_eq!(p.jobs_for(&default_branch()), expected);
    for job in ["images:amd64", "images:arm64"] {
        let flags = rule_variables(p.job(job), &default_branch());
        assert_eq!(flags["PUBLISH_FLAGS"], "--latest", "{job}");
    }
}

#[test]
fn tags_also_release_the_static_entrypoint_binaries() {
    let p = load();
    let mut expected = set(&IMAGE_JOBS);
    expected.extend([
        "test",
        "entrypoint:x86_64",
        "entrypoint:aarch64",
        "entrypoint:upload",
        "release",
    ]);
    assert_eq!(p.jobs_for(&release_tag()), expected);
    // A release moves `<base>`/`latest` through its version; no --latest needed.
    let flags = rule_variables(p.job("images:amd64"), &release_tag());
    assert_eq!(flags["PUBLISH_FLAGS"], "");
}

#[test]
fn schedules_run_the_weekly_rebuild_or_the_version_bump_and_nothing_else() {
    let p = load();
    assert_eq!(p.jobs_for(&schedule("rebuild")), set(&IMAGE_JOBS));
    let flags = rule_variables(p.job("images:amd64"), &schedule("rebuild"));
    assert!(flags["BUILD_FLAGS"].contains("--no-cache"), "{flags:?}");
    assert!(flags["BUILD_FLAGS"].contains("--pull"), "{flags:?}");
    assert_eq!(
        p.jobs_for(&schedule("bump-versions")),
        set(&["bump-versions"])
    );
    assert!(p.jobs_for(&schedule("")).is_empty());

    let bump = strings(get(p.job("bump-versions"), "script")).join("\n");
    assert!(bump.contains("cargo xtask bump-versions --apply"));
    for option in ["merge_request.create", "merge_request.target="] {
        assert!(bump.contains(option), "the bump push lacks {option}");
    }
    assert!(
        bump.contains("VERSION_BUMP_TOKEN") && !bump.contains("CI_JOB_TOKEN"),
        "a push with the job token would start no pipeline for the merge request"
    );
}

#[test]
fn every_job_uses_known_keywords_a_declared_stage_and_needs_jobs_of_the_same_pipelines() {
    let p = load();
    let stages = strings(&p.root["stages"]);
    let kinds = [
        merge_request(),
        default_branch(),
        release_tag(),
        schedule("rebuild"),
        schedule("bump-versions"),
    ];
    for (name, job) in &p.jobs {
        for key in job.keys() {
            let key = key.as_str().expect("a key");
            assert!(JOB_KEYWORDS.contains(&key), "{name}: unknown keyword {key}");
        }
        let stage = get(job, "stage")
            .as_str()
            .expect("every job names its stage");
        assert!(
            stages.contains(&stage),
            "{name}: stage {stage} is not declared"
        );
        assert!(
            get(job, "script").as_vec().is_some_and(|s| !s.is_empty()),
            "{name} has a script"
        );
        let needs = match get(job, "needs") {
            Yaml::BadValue => continue,
            list => strings(list),
        };
        for kind in &kinds {
            let present = p.jobs_for(kind);
            if present.contains(name.as_str()) {
                for needed in &needs {
                    assert!(
                        present.contains(needed),
                        "{name} needs {needed}, which this pipeline lacks: {present:?}"
                    );
                    let earlier = stages
                        .iter()
                        .position(|s| *s == get(p.job(needed), "stage").as_str().unwrap())
                        < stages.iter().position(|s| *s == stage);
                    assert!(earlier, "{name} needs {needed} of a later stage");
                }
            }
        }
    }
}

#[test]
fn image_jobs_reach_docker_in_docker_over_tls_on_native_runners() {
    let p = load();
    let mut runner_tags = BTreeSet::new();
    for (job, arch) in [("images:amd64", "amd64"), ("images:arm64", "arm64")] {
        let job = p.job(job);
        let service = &get(job, "services")[0];
        let image = service["name"].as_str().expect("a named service");
        assert!(
            image.starts_with("docker:") && image.ends_with("-dind"),
            "{image}"
        );
        assert_eq!(service["alias"].as_str(), Some("docker"));
        let variables = get(job, "variables");
        assert_eq!(variables["DOCKER_HOST"].as_str(), Some("tcp://docker:2376"));
        assert_eq!(variables["DOCKER_TLS_VERIFY"].as_str(), Some("1"));
        let certdir = variables["DOCKER_TLS_CERTDIR"].as_str().expect("TLS on");
        assert!(
            !certdir.is_empty(),
            "an empty DOCKER_TLS_CERTDIR turns TLS off"
        );
        assert_eq!(
            variables["DOCKER_CERT_PATH"].as_str(),
            Some(format!("{certdir}/client").as_str()),
            "the client certificates dind writes"
        );
        assert_eq!(variables["ARCH"].as_str(), Some(arch));
        runner_tags.insert(strings(get(job, "tags"))[0].to_owned());
        let script = strings(get(job, "script")).join("\n");
        assert!(script.contains("cargo xtask build-images"), "{script}");
        assert!(
            script.contains("cargo xtask publish --arch \"$ARCH\""),
            "{script}"
        );
    }
    assert_eq!(runner_tags.len(), 2, "one runner tag per architecture");
    let index = strings(get(p.job("images:index"), "script")).join("\n");
    assert!(index.contains("cargo xtask publish --index"), "{index}");
}

/// Every job that publishes images signs them keylessly: it requests the OIDC ID token Fulcio
/// accepts (`aud: sigstore`, https://docs.gitlab.com/ci/yaml/signing_examples/) under the name
/// `cargo xtask publish --keyless` reads, and passes the flag.
#[test]
fn publishing_jobs_request_a_sigstore_id_token_and_sign_keylessly() {
    let p = load();
    assert_eq!(
        p.root["variables"]["SIGNING_FLAGS"].as_str(),
        Some("--keyless")
    );
    for job in ["images:amd64", "images:arm64", "images:index"] {
        let tokens = get(p.job(job), "id_tokens");
        assert_eq!(
            tokens["SIGSTORE_ID_TOKEN"]["aud"].as_str(),
            Some("sigstore"),
            "{job}"
        );
        let script = strings(get(p.job(job), "script")).join("\n");
        let publish = script
            .lines()
            .find(|l| l.contains("cargo xtask publish"))
            .expect("a publish line");
        assert!(publish.contains("$SIGNING_FLAGS"), "{job}: {publish}");
    }
    // No other job gets a token it does not need.
    for (name, job) in &p.jobs {
        if !["images:amd64", "images:arm64", "images:index"].contains(&name.as_str()) {
            assert!(
                matches!(get(job, "id_tokens"), Yaml::BadValue),
                "{name} requests an ID token"
            );
        }
    }
}

#[test]
fn the_release_links_each_uploaded_binary() {
    let p = load();
    let targets: Vec<String> = ["entrypoint:x86_64", "entrypoint:aarch64"]
        .iter()
        .map(|j| {
            get(p.job(j), "variables")["TARGET"]
                .as_str()
                .expect("a target")
                .to_owned()
        })
        .collect();
    for target in &targets {
        assert!(target.ends_with("-unknown-linux-musl"), "{target}: static");
    }
    let upload = strings(get(p.job("entrypoint:upload"), "script")).join("\n");
    assert!(upload.contains("JOB-TOKEN: ${CI_JOB_TOKEN}"));
    assert!(upload.contains("--fail-with-body"));
    assert!(upload.contains("${ENTRYPOINT_PACKAGE_URL}/"));
    let package_url = p.root["variables"]["ENTRYPOINT_PACKAGE_URL"]
        .as_str()
        .expect("the package URL is a variable");
    assert!(
        package_url.starts_with("${CI_API_V4_URL}/projects/${CI_PROJECT_ID}/packages/generic/"),
        "{package_url}"
    );

    let release = p.job("release");
    assert!(
        get(release, "image")
            .as_str()
            .is_some_and(|i| i.starts_with("registry.gitlab.com/gitlab-org/cli")),
        "the release keyword runs in GitLab's CLI image"
    );
    let spec = get(release, "release");
    assert_eq!(spec["tag_name"].as_str(), Some("$CI_COMMIT_TAG"));
    let links = spec["assets"]["links"].as_vec().expect("asset links");
    let linked: BTreeSet<&str> = links
        .iter()
        .map(|l| {
            let link_type = l["link_type"].as_str().unwrap_or("other");
            assert!(LINK_TYPES.contains(&link_type), "{link_type}");
            let name = l["name"].as_str().expect("a name");
            assert_eq!(
                l["url"].as_str(),
                Some(format!("${{ENTRYPOINT_PACKAGE_URL}}/{name}").as_str())
            );
            name
        })
        .collect();
    let built: BTreeSet<String> = targets.iter().map(|t| format!("entrypoint-{t}")).collect();
    assert_eq!(
        linked,
        built.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );
}
