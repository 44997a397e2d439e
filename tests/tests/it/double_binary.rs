//! The `gitlab-double` binary starts from a seed file, prints its URL on one JSON line, serves
//! the seeded users and projects, and exposes its admin endpoints behind the admin token.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::seeded::json_of;
use serde_json::{Value, json};

struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const SEED: &str = r#"
admin_token = "double-admin"

[[users]]
username = "alice"
name = "Alice"
token = "glpat-alice-seeded"

[[users]]
username = "project_1001_bot_abc"
name = "Claude"
token = "glpat-bot-seeded"
bot = true

[[groups]]
path = "group"
members = [{ username = "alice", access_level = 40 }]

[[projects]]
path = "group/proj"
members = [{ username = "project_1001_bot_abc", access_level = 30 }]
files = [{ branch = "feature", path = "a.txt", content = "hello\n" }]

[[triggers]]
project = "group/proj"
owner = "alice"
token = "glptt-seeded"

[[issues]]
project = "group/proj"
author = "alice"
title = "Bug"

[[merge_requests]]
project = "group/proj"
author = "alice"
source_branch = "feature"
target_branch = "main"
title = "Feature"
"#;

/// The binary started on [`SEED`] (written into `dir`) with `args` beside the listen address
/// and the seed, and the JSON line it printed once ready.
async fn start(dir: &Path, args: &[&OsStr]) -> (Child, Value) {
    let seed = dir.join("seed.toml");
    std::fs::write(&seed, SEED).unwrap();
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_gitlab-double"))
            .args(["--listen", "127.0.0.1:0"])
            .arg("--seed")
            .arg(&seed)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map(|_| line)
    })
    .await
    .unwrap()
    .unwrap();
    (child, serde_json::from_str(&line).unwrap())
}

/// `GET url` as the holder of the access token `token`, its body as JSON.
async fn get_as(url: &str, token: &str) -> Value {
    json_of(
        reqwest::Client::new()
            .get(url)
            .header("PRIVATE-TOKEN", token),
    )
    .await
}

/// The HTTP status the double answers `request` with.
async fn status_of(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.unwrap().status().as_u16()
}

/// `GET path` of the double's admin endpoints below `base`, with the admin token.
async fn admin_get(base: &str, path: &str) -> Value {
    let url = format!("{base}{path}");
    json_of(reqwest::Client::new().get(url).bearer_auth("double-admin")).await
}

#[tokio::test]
async fn binary_starts_from_a_seed_and_serves_the_current_user() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (_child, ready) = start(
        dir.path(),
        &[
            OsStr::new("--relative-url-root"),
            OsStr::new("/gitlab"),
            OsStr::new("--data-dir"),
            data.as_os_str(),
        ],
    )
    .await;
    let api = ready["api_url"].as_str().unwrap().to_string();
    assert!(api.ends_with("/gitlab/api/v4"), "{api}");

    let http = reqwest::Client::new();
    let me = get_as(&format!("{api}/user"), "glpat-bot-seeded").await;
    assert_eq!(me["username"], "project_1001_bot_abc");
    assert_eq!(me["bot"], true);

    let mr = get_as(
        &format!("{api}/projects/group%2Fproj/merge_requests/1"),
        "glpat-bot-seeded",
    )
    .await;
    assert_eq!(mr["source_branch"], "feature");
    assert_eq!(mr["changes_count"], "1");

    assert_eq!(
        status_of(
            http.post(format!("{api}/projects/group%2Fproj/trigger/pipeline"))
                .form(&[
                    ("token", "glptt-seeded"),
                    ("ref", "main"),
                    ("variables[AI_NOTE_ID]", "7"),
                ])
        )
        .await,
        201
    );

    let base = ready["url"].as_str().unwrap();
    assert_eq!(
        status_of(http.get(format!("{base}/-/double/state"))).await,
        401
    );
    let state = admin_get(base, "/-/double/state").await;
    assert_eq!(
        state["pipelines"][0]["variables"][0],
        json!({"key": "AI_NOTE_ID", "value": "7", "variable_type": "env_var"})
    );
    assert_eq!(status_of(http
        .post(format!("{base}/-/double/faults"))
        .bearer_auth("double-admin")
        .json(&json!({"path": "/gitlab/api/v4/user", "action": {"kind": "status", "code": 503}, "schedule": {"kind": "always"}}))).await, 201);
    assert_eq!(
        status_of(
            http.get(format!("{api}/user"))
                .header("PRIVATE-TOKEN", "glpat-bot-seeded")
        )
        .await,
        503
    );
    let requests = admin_get(base, "/-/double/requests").await;
    assert!(
        requests
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["path"] == "/gitlab/api/v4/projects/group%2Fproj/trigger/pipeline")
    );
}

#[tokio::test]
async fn the_binary_answers_as_the_gitlab_version_it_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let version_args = ["--gitlab-version", "16.10.3"].map(OsStr::new);
    let (_child, ready) = start(dir.path(), &version_args).await;
    let api = ready["api_url"].as_str().unwrap().to_string();
    let version = get_as(&format!("{api}/version"), "glpat-alice-seeded").await;
    assert_eq!(version["version"], "16.10.3-ee");

    let refused = Command::new(env!("CARGO_BIN_EXE_gitlab-double"))
        .args(["--gitlab-version", "sixteen"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is not a GitLab version"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
