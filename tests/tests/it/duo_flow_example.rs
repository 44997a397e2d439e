//! The Duo external-agent flow in docs/duo-flow.md, as GitLab would run it: the flow file's
//! `export` lines and listed variables, GitLab's `AI_FLOW_*` variables for a mention of the
//! agent's service account, and `entrypoint explain` (the run's own path up to its decision)
//! against the GitLab double.

use std::collections::HashMap;
use std::path::Path;

use doubles::gitlab::double::{GitLabDouble, IssueSpec, ProjectSpec, UserSpec};
use entrypoint::agent::{Assistant, Handles};
use entrypoint::gitlab::ids::{IssueIid, Noteable};
use entrypoint::trigger::Source;
use entrypoint::trigger::decision::Decision;
use entrypoint::trigger::explain::{Options, explain};
use yaml_rust2::{Yaml, YamlLoader};

/// The first ```yaml block of docs/duo-flow.md.
fn flow_file() -> yaml_rust2::Yaml {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/duo-flow.md"))
            .expect("docs/duo-flow.md is readable");
    let block = doc
        .split("```yaml\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("a yaml block");
    YamlLoader::load_from_str(block)
        .expect("the flow file parses")
        .remove(0)
}

/// The list of strings `list` (the flow file's `what`).
fn strings<'a>(list: &'a Yaml, what: &str) -> Vec<&'a str> {
    let items = list.as_vec().unwrap_or_else(|| panic!("{what} is a list"));
    let text = |item: &'a Yaml| item.as_str().unwrap_or_else(|| panic!("{what}: {item:?}"));
    items.iter().map(text).collect()
}

#[tokio::test]
async fn the_documented_flow_answers_a_mention_of_the_service_account_with_claude() {
    let flow = flow_file();
    let image = flow["image"].as_str().expect("image");
    assert!(image.contains("/claude:"), "{image}");
    let commands = strings(&flow["commands"], "commands");
    assert_eq!(commands.last(), Some(&"entrypoint run --assistant claude"));
    let listed = strings(&flow["variables"], "variables");
    assert!(listed.contains(&"GITLAB_TOKEN") && listed.contains(&"CLAUDE_API_KEY"));

    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(ProjectSpec::new("acme/widgets")).unwrap().id;
    let agent = gl
        .add_user(UserSpec::human("ai-claude-acme").name("Claude agent"))
        .unwrap();
    gl.add_member(project, agent.id, 30).unwrap();
    let dev = gl.add_user(UserSpec::human("dana")).unwrap();
    gl.add_member(project, dev.id, 30).unwrap();
    let iid = gl
        .create_issue(project, IssueSpec::new(dev.id, "Flaky test"))
        .unwrap()
        .iid;
    // GitLab serialises the issue into AI_FLOW_CONTEXT (its REST fields, and its comments).
    let context = serde_json::json!({
        "id": 5001, "iid": iid, "project_id": project, "title": "Flaky test",
        "state": "opened", "confidential": false, "notes": []
    })
    .to_string();

    let project_variables = HashMap::from([
        ("GITLAB_TOKEN", agent.token.clone()),
        ("CLAUDE_API_KEY", "sk-ant-flow-key".to_owned()),
    ]);
    let mut vars: HashMap<String, String> = HashMap::from([
        ("CI_PROJECT_ID".to_owned(), project.to_string()),
        ("CI_API_V4_URL".to_owned(), gl.api_url()),
        ("CI_SERVER_URL".to_owned(), gl.base_url()),
        ("AI_FLOW_EVENT".to_owned(), "mention".to_owned()),
        (
            "AI_FLOW_INPUT".to_owned(),
            "@ai-claude-acme please find why the test is flaky".to_owned(),
        ),
        ("AI_FLOW_CONTEXT".to_owned(), context),
    ]);
    for name in listed {
        let value = project_variables
            .get(name)
            .unwrap_or_else(|| panic!("the test provides {name}"));
        vars.insert(name.to_owned(), value.clone());
    }
    for line in &commands[..commands.len() - 1] {
        let assignment = line
            .strip_prefix("export ")
            .unwrap_or_else(|| panic!("only exports come before the run: {line}"));
        let (name, value) = assignment.split_once('=').expect("NAME=value");
        vars.insert(name.to_owned(), value.trim_matches('"').to_owned());
    }

    let lookup = |name: &str| vars.get(name).cloned();
    let explanation = explain(
        &Options {
            assistant: Some(Assistant::Claude),
            ..Options::default()
        },
        &lookup,
        &Handles::default(),
    )
    .await
    .expect("explain succeeds");

    assert_eq!(explanation.source, Source::DuoFlow);
    assert_eq!(
        explanation.decision,
        Decision::Run {
            assistants: vec![Assistant::Claude]
        }
    );
    let trigger = explanation.trigger.expect("a trigger");
    assert_eq!(trigger.noteable, Noteable::Issue(IssueIid(iid)));
    assert_eq!(trigger.instruction, "please find why the test is flaky");
    assert!(
        explanation.unchecked.is_empty(),
        "{:?}",
        explanation.unchecked
    );
}
