//! docs/troubleshooting.md explains every message a person can meet when a job or `setup`
//! stops: the configuration errors of the modules below (their `#[error]`, `.context()` and
//! `bail!` texts) and every failure headline and advice of the result note. A new message in
//! those modules without an entry in the page fails here.

mod rust_source;

use std::time::Duration;

use entrypoint::publish::result::Failure;

/// Modules whose errors reach people as the job's or setup's last line: settings read from
/// variables and flags, the trigger, the sandbox, setup's refusals.
const MODULES: &[&str] = &[
    "assistant/mod.rs",
    "assistant/options.rs",
    "assistant/settings.rs",
    "claim.rs",
    "config.rs",
    "context/budget.rs",
    "gitlab/config.rs",
    "guard/settings.rs",
    "proxy/upstream.rs",
    "publish/finalize.rs",
    "run/house.rs",
    "review/mod.rs",
    "review/paths.rs",
    "run/settings.rs",
    "sandbox/mod.rs",
    "sandbox/policy.rs",
    "sandbox/tables.rs",
    "setup/command.rs",
    "setup/plan.rs",
    "trigger/ci_vars.rs",
    "trigger/flow.rs",
    "trigger/event.rs",
    "trigger/load.rs",
    "workspace/gitdir.rs",
    "workspace/mod.rs",
    "workspace/remote.rs",
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
    let sources = rust_source::rust_files(&rust_source::entrypoint_src());
    let mut checked = 0;
    let mut missing = Vec::new();
    for module in MODULES {
        let path = rust_source::entrypoint_src().join(module);
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
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md does not explain:\n{}",
        missing.join("\n")
    );
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
            | Failure::Assistant { .. } => {}
        }
    }
    all
}

#[test]
fn every_failure_in_the_result_note_is_explained() {
    let page = troubleshooting_md();
    let mut missing = Vec::new();
    for failure in every_failure() {
        // The sample values above are placeholders already; the duration is made one here.
        let texts = [
            failure.headline().replace("25m 0s", "{after}"),
            failure.advice(),
        ];
        for text in texts.iter().filter_map(|t| longest_fragment(t)) {
            if !page.contains(&text) {
                missing.push(text);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/troubleshooting.md does not explain:\n{}",
        missing.join("\n")
    );
}
