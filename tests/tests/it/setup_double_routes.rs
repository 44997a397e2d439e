//! The double's endpoints that setup relies on, checked against GitLab's documented fields,
//! error bodies and roles with plain HTTP (not through the product's client).

use doubles::gitlab::double::{GitLabDouble, ProjectSpec, SeededUser, UserSpec};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    gl: GitLabDouble,
    project: u64,
    owner: SeededUser,
    maintainer: SeededUser,
    developer: SeededUser,
    http: reqwest::Client,
}

async fn world(spec: ProjectSpec) -> World {
    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(spec).unwrap().id;
    let member = |name, role| {
        gl.add_member_user(project, UserSpec::human(name), role)
            .unwrap()
    };
    World {
        owner: member("olga", 50),
        maintainer: member("alice", 40),
        developer: member("dana", 30),
        gl,
        project,
        http: reqwest::Client::new(),
    }
}

impl World {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.gl.api_url()))
            .header("PRIVATE-TOKEN", token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    async fn post_json(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    async fn put_json(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, token, Some(body))
            .await
    }
}

/// What GitLab answers with `status` and the body `{"message": message}`: its errors' shape.
fn message(status: StatusCode, message: Value) -> (StatusCode, Value) {
    (status, json!({ "message": message }))
}

/// The message of GitLab's `400 Bad request` answer, which `answer` must be.
fn bad_request_message((status, body): (StatusCode, Value)) -> String {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    body["message"].as_str().expect("a message").to_owned()
}

#[tokio::test]
async fn variables_are_maintainer_only_validate_masking_and_never_show_hidden_values() {
    let w = world(ProjectSpec::new("acme/widgets")).await;
    let path = format!("/projects/{}/variables", w.project);
    let (status, body) = w
        .post_json(&path, &w.developer.token, json!({"key": "K", "value": "v"}))
        .await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"message": "403 Forbidden"}))
    );
    assert_eq!(
        w.post_json(
            &path,
            &w.maintainer.token,
            json!({"key": "SHORT", "value": "abc", "masked": true}),
        )
        .await,
        message(StatusCode::BAD_REQUEST, json!({"value": ["is invalid"]}))
    );
    let (status, body) = w
        .post_json(
            &path,
            &w.maintainer.token,
            json!({"key": "TOKEN", "value": "glpat-0123456789", "masked_and_hidden": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        body,
        json!({"variable_type": "env_var", "key": "TOKEN", "value": null, "hidden": true,
               "protected": false, "masked": true, "raw": false, "environment_scope": "*",
               "description": null})
    );
    assert_eq!(
        w.post_json(
            &path,
            &w.maintainer.token,
            json!({"key": "TOKEN", "value": "other-value"}),
        )
        .await,
        message(
            StatusCode::BAD_REQUEST,
            json!({"key": ["(TOKEN) has already been taken"]})
        )
    );
    let (_, listed) = w.get(&path, &w.maintainer.token).await;
    assert_eq!(listed[0]["value"], Value::Null);
    let (status, body) = w
        .put_json(
            &format!("{path}/TOKEN"),
            &w.maintainer.token,
            json!({"masked": false}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(w.gl.variables(w.project)[0].value, "glpat-0123456789");
}

#[tokio::test]
async fn project_access_tokens_make_a_bot_member_and_show_the_token_once() {
    let w = world(ProjectSpec::new("acme/widgets")).await;
    let path = format!("/projects/{}/access_tokens", w.project);
    let body = json!({"name": "Claude", "scopes": ["api"], "access_level": 30, "expires_at": "2099-01-01"});
    let refused = bad_request_message(w.post_json(&path, &w.maintainer.token, body).await);
    assert!(
        refused.starts_with("400 Bad request - Expires at must be before"),
        "{refused}"
    );
    let too_high = json!({"name": "Claude", "scopes": ["api"], "access_level": 50});
    assert_eq!(
        w.post_json(&path, &w.maintainer.token, too_high).await,
        message(
            StatusCode::BAD_REQUEST,
            json!(
                "400 Bad request - Access level of the token contains permissions not held by the creating user"
            )
        )
    );
    let good = json!({"name": "Claude", "scopes": ["api"], "access_level": 30});
    assert_eq!(
        w.post_json(&path, &w.developer.token, good.clone()).await,
        message(
            StatusCode::BAD_REQUEST,
            json!("400 Bad request - User does not have permission to create project access token")
        )
    );
    let (status, created) = w.post_json(&path, &w.maintainer.token, good).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (created["name"].clone(), created["access_level"].clone()),
        (json!("Claude"), json!(30))
    );
    let token = created["token"].as_str().unwrap().to_string();
    let (_, me) = w.get("/user", &token).await;
    assert_eq!(me["bot"], true);
    assert_eq!(me["name"], "Claude");
    assert!(
        me["username"]
            .as_str()
            .unwrap()
            .starts_with(&format!("project_{}_bot_", w.project))
    );
    let (_, member) = w
        .get(
            &format!("/projects/{}/members/all/{}", w.project, me["id"]),
            &w.maintainer.token,
        )
        .await;
    assert_eq!(member["access_level"], 30);
    let (_, listed) = w.get(&path, &w.maintainer.token).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("token").is_none());
    let (status, _) = w.get(&path, &w.developer.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn gitlab_com_free_has_no_project_access_tokens_and_only_owners_lift_no_one_allowed() {
    let w = world(ProjectSpec::new("acme/free").gitlab_com_free()).await;
    let path = format!("/projects/{}/access_tokens", w.project);
    let (status, _) = w.get(&path, &w.owner.token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let claude = json!({"name": "Claude", "scopes": ["api"]});
    let refused = bad_request_message(w.post_json(&path, &w.owner.token, claude).await);
    assert!(refused.contains("does not have permission"), "{refused}");

    let project = format!("/projects/{}", w.project);
    let (_, read) = w.get(&project, &w.maintainer.token).await;
    assert_eq!(
        read["ci_pipeline_variables_minimum_override_role"],
        "no_one_allowed"
    );
    let lift = json!({"ci_pipeline_variables_minimum_override_role": "developer"});
    for (token, expected) in [
        (&w.developer.token, StatusCode::FORBIDDEN),
        (&w.maintainer.token, StatusCode::FORBIDDEN),
        (&w.owner.token, StatusCode::OK),
    ] {
        let (status, _) = w.put_json(&project, token, lift.clone()).await;
        assert_eq!(status, expected);
    }
    let (status, answer) = w
        .put_json(
            &project,
            &w.owner.token,
            json!({"ci_pipeline_variables_minimum_override_role": "everyone"}),
        )
        .await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "ci_pipeline_variables_minimum_override_role does not have a valid value"})
        )
    );
}

#[tokio::test]
async fn schedules_files_branches_and_commits_follow_the_docs() {
    let w = world(ProjectSpec::new("acme/widgets")).await;
    let p = w.project;
    // Everything here is done by dana, a Developer.
    let post = async |path: &str, body: Value| w.post_json(path, &w.developer.token, body).await;
    let get = async |path: &str| w.get(path, &w.developer.token).await;
    let schedules = format!("/projects/{p}/pipeline_schedules");
    let scan = json!({"description": "scan", "ref": "main", "cron": "*/10 * * * *"});
    let (status, schedule) = post(&schedules, scan).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (
            schedule["cron_timezone"].clone(),
            schedule["active"].clone(),
            schedule["owner"]["username"].clone()
        ),
        (json!("UTC"), json!(true), json!("dana"))
    );
    let variables = format!("{schedules}/{}/variables", schedule["id"]);
    let (status, variable) = post(&variables, json!({"key": "AI_SCAN", "value": "1"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(variable["variable_type"], "env_var");
    let bad = json!({"description": "bad", "ref": "main", "cron": "every minute"});
    let (status, _) = post(&schedules, bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let files = format!("/projects/{p}/repository/files");
    let (status, readme) = get(&format!("{files}/README.md?ref=main")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (readme["encoding"].clone(), readme["content"].clone()),
        (json!("base64"), json!("IyB3aWRnZXRzCg=="))
    );
    assert_eq!(
        get(&format!("{files}/.gitlab-ci.yml?ref=main")).await,
        message(StatusCode::NOT_FOUND, json!("404 File Not Found"))
    );

    let branches = format!("/projects/{p}/repository/branches");
    let feature = json!({"branch": "feature", "ref": "main"});
    let (status, branch) = post(&branches, feature.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (branch["name"].clone(), branch["protected"].clone()),
        (json!("feature"), json!(false))
    );
    assert_eq!(
        post(&branches, feature).await,
        message(StatusCode::BAD_REQUEST, json!("Branch already exists"))
    );

    let commits = format!("/projects/{p}/repository/commits");
    let action = |action: &str| {
        json!({"branch": "feature", "commit_message": "Add CI",
               "actions": [{"action": action, "file_path": ".gitlab-ci.yml", "content": "x: 1\n"}]})
    };
    assert_eq!(
        post(&commits, action("update")).await,
        message(
            StatusCode::BAD_REQUEST,
            json!("A file with this name doesn't exist")
        )
    );
    let (status, commit) = post(&commits, action("create")).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        (commit["title"].clone(), commit["author_name"].clone()),
        (json!("Add CI"), json!("dana"))
    );
    let repo = w.gl.repo(p).unwrap();
    assert_eq!(
        repo.file_at("feature", ".gitlab-ci.yml").unwrap().unwrap(),
        b"x: 1\n"
    );
    let to_main = json!({"branch": "main", "commit_message": "direct",
                         "actions": [{"action": "create", "file_path": "y", "content": "y"}]});
    assert_eq!(
        post(&commits, to_main).await,
        message(
            StatusCode::FORBIDDEN,
            json!("403 Forbidden - You are not allowed to push into this branch")
        )
    );
}
