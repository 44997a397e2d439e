//! docs/troubleshooting.md explains every message a person can meet when a job or `setup`
//! stops: the configuration errors of the modules below (their `#[error]`, `.context()` and
//! `bail!` texts) and every failure headline and advice of the result note. A new message in
//! those modules without an entry in the page fails here.

use crate::repo_files::assert_none_found;
use crate::rust_source;

use std::time::Duration;

use entrypoint::publish::result::Failure;

/// Product files (relative to the repository root) whose errors reach people as the job's or
/// setup's last line: settings read from variables and flags, the trigger, the sandbox, setup's
/// refusals.
const MODULES: &[&str] = &[
    "entrypoint/src/agent/mcp.rs",
    "entrypoint/src/agent/mod.rs",
    "entrypoint/src/agent/options.rs",
    "entrypoint/src/agent/settings.rs",
    "entrypoint/src/automation/mod.rs",
    "entrypoint/src/automation/schema.rs",
    "entrypoint/src/automation/task.rs",
    "entrypoint/src/claim.rs",
    "entrypoint/src/cli/setup.rs",
    "entrypoint/src/config.rs",
    "entrypoint/src/context/budget.rs",
    "entrypoint/src/contract.rs",
    "entrypoint/src/env/mod.rs",
    "entrypoint/src/guard/settings.rs",
    "entrypoint/src/proxy/upstream.rs",
    "entrypoint/src/publish/finalize.rs",
    "entrypoint/src/quota/mod.rs",
    "entrypoint/src/review/mod.rs",
    "entrypoint/src/review/paths.rs",
    "entrypoint/src/run/house.rs",
    "entrypoint/src/run/settings.rs",
    "entrypoint/src/sandbox/mod.rs",
    "entrypoint/src/sandbox/policy.rs",
    "entrypoint/src/sandbox/tables.rs",
    "entrypoint/src/scan/retry.rs",
    "entrypoint/src/setup/plan.rs",
    "entrypoint/src/trigger/ci_vars.rs",
    "entrypoint/src/trigger/event.rs",
    "entrypoint/src/trigger/flow.rs",
    "entrypoint/src/trigger/load.rs",
    "entrypoint/src/workspace/gitdir.rs",
    "entrypoint/src/workspace/mod.rs",
    "entrypoint/src/workspace/remote.rs",
    "crates/gitlab/src/config.rs",
];

/// Fragments shorter than this say too little to look for ("{variable}: {source}").
const SHORTEST_FRAGMENT: usize = 16;

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn troubleshooting_md() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/troubleshooting.md");
    squash(&std::fs::read_to_string(path).expect("docs/troubleshooting.md"))
}

/// The longest fixed part of a format string: the text between `{…}` placeholders, trimmed
/// of the punctuation around them.
fn longest_fragment(message: &str) -> Option<String> {
    let mut fragments = Vec::new();
    let mut rest = message;
    while let Some(open) = rest.find('{') {
        fragments.push(&rest[..open]);
        rest = rest[open..]
            .find('}')
            .map_or("", |close| &rest[open + close + 1..]);
    }
    fragments.push(rest);
    fragments
        .into_iter()
        .map(|f| squash(f.trim_matches(|c: char| c.is_whitespace() || ":;,.()\"'".contains(c))))
        .filter(|f| f.len() >= SHORTEST_FRAGMENT)
        .max_by_key(String::len)
}

#[test]
fn every_configuration_error_is_explained() {
    let page = troubleshooting_md();
    let sources = rust_source::product_files();
    let mut checked = 0;
    let mut missing = Vec::new();
    for module in MODULES {
        let path = rust_source::repository_root().join(module);
        assert!(
            sources.contains(&path),
            "{module} is no product module: update MODULES"
        );
        let scan = rust_source::scan(&path);
        assert!(
            !scan.messages.is_empty(),
            "{module} has no messages any more: update MODULES"
        );
        for message in scan.messages {
            if let Some(fragment) = longest_fragment(&message) {
                checked += 1;
                if !page.contains(&fragment) {
                    missing.push(format!("{module}: {fragment}"));
                }
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} messages found: the scan is broken"
    );
    assert_none_found(&missing, "docs/troubleshooting.md does not explain");
}

/// Every variant, so a new one must be added here (and to the page) to compile.
fn every_failure() -> Vec<Failure> {
    let all = vec![
        Failure::TimedOut {
            after: Duration::from_secs(1500),
        },
        Failure::ModelUnauthorized {
            key_variable: "{key}".into(),
        },
        Failure::ModelForbidden {
            key_variable: "{key}".into(),
        },
        Failure::ModelRateLimited,
        Failure::ModelNotFound {
            model: "{model}".into(),
            model_variable: "{variable}".into(),
        },
        Failure::ModelApiDown,
        Failure::TurnLimit,
        Failure::GitLab {
            message: String::new(),
        },
        Failure::PushRejected {
            message: String::new(),
        },
        Failure::Assistant {
            message: String::new(),
        },
        Failure::QuotaExhausted { attempts: 4 },
    ];
    for failure in &all {
        match failure {
            Failure::TimedOut { .. }
            | Failure::ModelUnauthorized { .. }
            | Failure::ModelForbidden { .. }
            | Failure::ModelRateLimited
            | Failure::ModelNotFound { .. }
            | Failure::ModelApiDown
            | Failure::TurnLimit
            | Failure::GitLab { .. }
            | Failure::PushRejected { .. }
            | Failure::Assistant { .. }
            | Failure::QuotaExhausted { .. } => {}
        }
    }
    all
}

#[test]
fn every_failure_in_the_result_note_is_explained() {
    let page = troubleshooting_md();
    let mut missing = Vec::new();
    for failure in every_failure() {
        // The sample values above are placeholders already; the duration and the attempts are
        // made ones here.
        let texts = [
            failure
                .headline()
                .replace("25m 0s", "{after}")
                .replace("after 4 attempts", "after {attempts} attempts"),
            failure.advice(),
        ];
        for text in texts.iter().filter_map(|t| longest_fragment(t)) {
            if !page.contains(&text) {
                missing.push(text);
            }
        }
    }
    assert_none_found(&missing, "docs/troubleshooting.md does not explain");
}
