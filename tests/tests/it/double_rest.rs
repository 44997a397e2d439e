//! The GitLab double answers the REST v4 calls the product makes the way GitLab documents them:
//! bodies, statuses, pagination, permissions, notes and threads, merge requests, emoji,
//! pipelines and Note Hook webhooks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::seeded::json_of;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use doubles::gitlab::GitLabDouble;
use doubles::gitlab::access::Visibility;
use doubles::gitlab::double::{
    HookSpec, IssueSpec, MrSpec, NoteSpec, Noteable, ProjectSpec, SeededNoteable, SeededProject,
    SeededUser, UserSpec,
};
use doubles::gitlab::model::PipelineSource;
use doubles::gitlab::repo::{FileChange, Signature};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct World {
    gl: GitLabDouble,
    http: reqwest::Client,
    alice: SeededUser,
    bot: SeededUser,
    guest: SeededUser,
    outsider: SeededUser,
    project: SeededProject,
    issue: SeededNoteable,
    mr: SeededNoteable,
}

fn signature() -> Signature {
    Signature {
        name: "Alice".into(),
        email: "alice@example.com".into(),
    }
}

/// alice: Maintainer via the group; bot: Developer; guest: Guest; outsider: no membership.
/// The project has an issue and a merge request `feature` → `main` changing `src/lib.rs`.
async fn world_with(builder: doubles::gitlab::GitLabDoubleBuilder) -> World {
    let gl = builder.start().await.unwrap();
    let alice = gl.add_user(UserSpec::human("alice").name("Alice")).unwrap();
    let guest = gl.add_user(UserSpec::human("gus")).unwrap();
    let outsider = gl.add_user(UserSpec::human("olga")).unwrap();
    let project = gl
        .add_project(ProjectSpec::new("group/proj").visibility(Visibility::Private))
        .unwrap();
    let bot = gl
        .add_user(UserSpec::project_bot(project.id, "Claude"))
        .unwrap();
    gl.add_group_member("group", alice.id, 40).unwrap();
    gl.add_member(project.id, bot.id, 30).unwrap();
    gl.add_member(project.id, guest.id, 10).unwrap();
    let repo = gl.repo(project.id).unwrap();
    let commit_lib = |branch: &str, content: &[u8], message: &str| {
        let write = FileChange::Write {
            path: "src/lib.rs".into(),
            content: content.to_vec(),
        };
        repo.commit(branch, &[write], message, &signature())
            .unwrap();
    };
    commit_lib("main", b"fn a() {}\nfn b() {}\nfn c() {}\n", "Add lib");
    commit_lib(
        "feature",
        b"fn a() {}\nfn B() {}\nfn c() {}\nfn d() {}\n",
        "Change lib",
    );
    let issue = gl
        .create_issue(
            project.id,
            IssueSpec::new(alice.id, "Bug").description("It breaks"),
        )
        .unwrap();
    let mr = gl
        .create_merge_request(
            project.id,
            MrSpec::new(alice.id, "feature", "main", "Feature"),
        )
        .unwrap();
    World {
        gl,
        http: reqwest::Client::new(),
        alice,
        bot,
        guest,
        outsider,
        project,
        issue,
        mr,
    }
}

async fn world() -> World {
    world_with(GitLabDouble::builder()).await
}

impl World {
    fn url(&self, path: &str) -> String {
        format!("{}{}", self.gl.api_url(), path)
    }

    fn p(&self, rest: &str) -> String {
        self.url(&format!("/projects/{}{}", self.project.id, rest))
    }

    async fn get(&self, token: &str, url: &str) -> (StatusCode, HeaderMap, Value) {
        let r = self
            .http
            .get(url)
            .header("PRIVATE-TOKEN", token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        (status, headers, r.json().await.unwrap_or(Value::Null))
    }

    async fn send(
        &self,
        method: reqwest::Method,
        token: &str,
        url: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let r = self
            .http
            .request(method, url)
            .header("PRIVATE-TOKEN", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, token: &str, url: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, token, url, body).await
    }

    /// POSTs `body` and asserts GitLab's 201, returning the created object.
    async fn created(&self, token: &str, url: &str, body: Value) -> Value {
        let (status, created) = self.post(token, url, body).await;
        assert_eq!(status, StatusCode::CREATED, "POST {url}: {created}");
        created
    }

    /// Posts a note with `body` to the notes collection at `url`, expecting it created.
    async fn note(&self, token: &str, url: &str, body: &str) -> Value {
        self.created(token, url, json!({ "body": body })).await
    }

    /// Triggers a pipeline with a form body (`token`, `ref`, `variables[…]`).
    async fn trigger_with(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.trigger_request().form(form).send().await.unwrap()
    }

    /// How many notes the seeded merge request has.
    fn mr_note_count(&self) -> usize {
        self.gl
            .notes(self.project.id, Noteable::MergeRequest(self.mr.iid))
            .len()
    }

    /// A request to the pipeline trigger endpoint, which authenticates with the trigger token
    /// in its body and nothing else.
    fn trigger_request(&self) -> reqwest::RequestBuilder {
        self.http.post(self.p("/trigger/pipeline"))
    }

    async fn put(&self, token: &str, url: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PUT, token, url, body).await
    }

    async fn delete(&self, token: &str, url: &str) -> StatusCode {
        self.send(reqwest::Method::DELETE, token, url, json!({}))
            .await
            .0
    }

    /// The URL of `rest` under the seeded issue (`"/notes"` → `…/issues/:iid/notes`).
    fn issue_url(&self, rest: &str) -> String {
        self.p(&format!("/issues/{}{rest}", self.issue.iid))
    }

    /// The URL of `rest` under the seeded merge request.
    fn mr_url(&self, rest: &str) -> String {
        self.p(&format!("/merge_requests/{}{rest}", self.mr.iid))
    }

    /// A GET that authenticates with a CI job token (`JOB-TOKEN`) only.
    async fn get_with_job_token(&self, job: &str, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .header("JOB-TOKEN", job)
            .send()
            .await
            .unwrap()
    }

    /// A GET without a token header: anonymous, or authenticated by the URL alone.
    async fn bare_get(&self, url: &str) -> reqwest::Response {
        self.http.get(url).send().await.unwrap()
    }

    /// Waits for the one webhook delivery the test caused and returns the status its
    /// receiver answered.
    async fn only_delivery_status(&self) -> Option<u16> {
        let deliveries = self
            .gl
            .wait_for_deliveries(1, Duration::from_secs(10))
            .await
            .unwrap();
        deliveries[0].status
    }

    /// The project's git URL with `token` as the HTTP password, as CI jobs clone.
    fn git_url_with(&self, token: &str) -> String {
        self.gl
            .git_url(self.project.id)
            .unwrap()
            .replace("http://", &format!("http://oauth2:{token}@"))
    }

    /// `git clone` of the project as `token` into `dest`.
    fn clone_as(&self, token: &str, dest: &std::path::Path) -> std::process::Output {
        std::process::Command::new("git")
            .args(["clone", "--quiet", &self.git_url_with(token)])
            .arg(dest)
            .output()
            .unwrap()
    }
}

/// Asserts that a git command succeeded, showing its stderr when it did not.
fn assert_git_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("<absent>")
}

#[tokio::test]
async fn list_of_45_notes_is_paginated_with_gitlab_headers_and_links() {
    let w = world().await;
    for i in 0..45 {
        w.gl.add_note(
            w.project.id,
            Noteable::Issue(w.issue.iid),
            NoteSpec::new(w.alice.id, &format!("note {i}")),
        )
        .unwrap();
    }
    let url = w.issue_url("/notes?sort=asc&page=2&per_page=20");
    let (status, headers, body) = w.get(&w.alice.token, &url).await;
    assert_eq!(status, StatusCode::OK);
    let items = body.as_array().unwrap();
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["body"], "note 20");
    assert_eq!(header(&headers, "x-page"), "2");
    assert_eq!(header(&headers, "x-per-page"), "20");
    assert_eq!(header(&headers, "x-next-page"), "3");
    assert_eq!(header(&headers, "x-prev-page"), "1");
    assert_eq!(header(&headers, "x-total"), "45");
    assert_eq!(header(&headers, "x-total-pages"), "3");
    let link = header(&headers, "link");
    let base = format!(
        "{}/projects/{}/issues/{}/notes?sort=asc",
        w.gl.api_url(),
        w.project.id,
        w.issue.iid
    );
    for (page, rel) in [(1, "prev"), (3, "next"), (1, "first"), (3, "last")] {
        let want = format!("<{base}&page={page}&per_page=20>; rel=\"{rel}\"");
        assert!(link.contains(&want), "{link}");
    }

    let (_, headers, body) = w.get(&w.alice.token, &w.issue_url("/notes?page=3")).await;
    assert_eq!(body.as_array().unwrap().len(), 5);
    assert_eq!(header(&headers, "x-next-page"), "");
    assert!(!header(&headers, "link").contains("rel=\"next\""));

    let (_, headers, body) = w
        .get(&w.alice.token, &w.issue_url("/notes?per_page=500"))
        .await;
    assert_eq!(body.as_array().unwrap().len(), 45);
    assert_eq!(header(&headers, "x-per-page"), "100");
}

#[tokio::test]
async fn errors_have_gitlab_bodies_for_401_403_404() {
    let w = world().await;
    let (alice, outsider) = (w.alice.token.as_str(), w.outsider.token.as_str());
    let outsider_role = w.p(&format!("/members/all/{}", w.outsider.id));
    // One case a row: what is wrong, who asks, where, GitLab's status and message.
    #[rustfmt::skip]
    let cases = [
        ("a wrong token", "glpat-wrong", w.url("/user"), 401, "401 Unauthorized"),
        ("no such project", alice, w.url("/projects/999999"), 404, "404 Project Not Found"),
        ("private project hidden from non-members", outsider, w.p(""), 404, "404 Project Not Found"),
        ("no such issue", alice, w.p("/issues/77"), 404, "404 Not found"),
        ("no such member", alice, outsider_role, 404, "404 Not found"),
    ];
    for (case, token, url, status, message) in cases {
        let (got, _, body) = w.get(token, &url).await;
        assert_eq!(got.as_u16(), status, "{case}");
        assert_eq!(body, json!({ "message": message }), "{case}");
    }

    let r = w.bare_get(&w.url("/user")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let (status, body) = w
        .post(
            &w.guest.token,
            &w.p("/merge_requests"),
            json!({"source_branch": "feature", "target_branch": "main", "title": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, json!({"message": "403 Forbidden"}));
}

#[tokio::test]
async fn current_user_of_a_project_access_token_is_a_bot() {
    let w = world().await;
    let (status, _, body) = w.get(&w.bot.token, &w.url("/user")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["bot"], true);
    assert_eq!(body["id"], w.bot.id);
    assert_eq!(body["name"], "Claude");
    let username = body["username"].as_str().unwrap();
    assert!(
        username.starts_with(&format!("project_{}_bot_", w.project.id)),
        "{username}"
    );
    let body = json_of(w.http.get(w.url("/user")).bearer_auth(&w.alice.token)).await;
    assert_eq!(body["bot"], false);
    let r = w
        .bare_get(&format!(
            "{}?private_token={}",
            w.url("/user"),
            w.alice.token
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn inherited_group_role_is_reported_by_members_all() {
    let w = world().await;
    let (status, _, body) = w
        .get(&w.bot.token, &w.p(&format!("/members/all/{}", w.alice.id)))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["access_level"], 40);
    assert_eq!(body["username"], "alice");
    let (_, headers, body) = w.get(&w.bot.token, &w.p("/members/all")).await;
    assert_eq!(body.as_array().unwrap().len(), 3);
    assert_eq!(header(&headers, "x-total"), "3");
}

#[tokio::test]
async fn created_note_is_listed_in_notes_and_discussions_and_emits_one_note_hook() {
    let w = world().await;
    let note = w
        .note(&w.bot.token, &w.issue_url("/notes"), "@claude please look")
        .await;
    assert_eq!(note["type"], Value::Null);
    assert_eq!(note["body"], "@claude please look");
    assert_eq!(note["noteable_type"], "Issue");
    assert_eq!(note["noteable_id"], w.issue.id);
    assert_eq!(note["noteable_iid"], w.issue.iid);
    assert_eq!(note["author"]["id"], w.bot.id);
    assert_eq!(note["system"], false);
    assert_eq!(note["internal"], false);
    let note_id = note["id"].as_u64().unwrap();

    let (_, _, notes) = w.get(&w.alice.token, &w.issue_url("/notes")).await;
    assert!(notes.as_array().unwrap().iter().any(|n| n["id"] == note_id));
    let (_, _, single) = w
        .get(&w.alice.token, &w.issue_url(&format!("/notes/{note_id}")))
        .await;
    assert_eq!(single["id"], note_id);

    let (_, _, discussions) = w.get(&w.alice.token, &w.issue_url("/discussions")).await;
    let discussion = discussions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["notes"][0]["id"] == note_id)
        .unwrap();
    assert_eq!(discussion["individual_note"], true);
    assert_eq!(discussion["id"].as_str().unwrap().len(), 40);

    let events = w.gl.note_events();
    assert_eq!(events.len(), 1);
    let payload = &events[0].payload;
    assert_eq!(payload["object_kind"], "note");
    assert_eq!(payload["event_type"], "note");
    assert_eq!(payload["user"]["username"], w.bot.username);
    assert_eq!(payload["project_id"], w.project.id);
    assert_eq!(payload["project"]["path_with_namespace"], "group/proj");
    let attrs = &payload["object_attributes"];
    assert_eq!(attrs["id"], note_id);
    assert_eq!(attrs["note"], "@claude please look");
    assert_eq!(attrs["noteable_type"], "Issue");
    assert_eq!(attrs["action"], "create");
    assert_eq!(attrs["discussion_id"], discussion["id"]);
    assert!(attrs["url"].as_str().unwrap().ends_with(&format!(
        "/group/proj/-/issues/{}#note_{note_id}",
        w.issue.iid
    )));
    let created = attrs["created_at"].as_str().unwrap();
    assert!(
        created.ends_with(" UTC") && created.len() == 23,
        "{created}"
    );
    assert_eq!(payload["issue"]["iid"], w.issue.iid);

    let note_url = w.issue_url(&format!("/notes/{note_id}"));
    let (status, _) = w
        .put(&w.bot.token, &note_url, json!({"body": "edited"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let events = w.gl.note_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].payload["object_attributes"]["action"], "update");

    let (status, body) = w
        .put(&w.alice.token, &note_url, json!({"body": "not mine"}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

#[tokio::test]
async fn note_body_limits_and_missing_body_are_refused_like_gitlab() {
    let w = world().await;
    let url = w.mr_url("/notes");
    let (status, body) = w.post(&w.bot.token, &url, json!({"internal": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "body is missing"}));

    let (status, body) = w
        .post(&w.bot.token, &url, json!({"body": "x".repeat(1_000_001)}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"message": "400 Bad request - Note {:note=>[\"is too long (maximum is 1000000 characters)\"]}"})
    );
    let (status, _) = w
        .post(&w.bot.token, &url, json!({"body": "é".repeat(1_000_000)}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "the limit counts characters");
    assert_eq!(w.mr_note_count(), 1);
}

#[tokio::test]
async fn duplicate_open_merge_request_is_a_409_and_missing_branch_a_400() {
    let w = world().await;
    let url = w.p("/merge_requests");
    let open = |body: Value| w.post(&w.bot.token, &url, body);
    for (case, body, status, answer) in [
        (
            "the source branch already has an open merge request",
            json!({"source_branch": "feature", "target_branch": "main", "title": "Again"}),
            StatusCode::CONFLICT,
            json!({"message": [format!("Another open merge request already exists for this source branch: !{}", w.mr.iid)]}),
        ),
        (
            "the source branch does not exist",
            json!({"source_branch": "nope", "target_branch": "main", "title": "x"}),
            StatusCode::BAD_REQUEST,
            json!({"message": {"source_branch": ["does not exist"]}}),
        ),
        (
            "the branches are missing",
            json!({"title": "x"}),
            StatusCode::BAD_REQUEST,
            json!({"error": "source_branch, target_branch is missing"}),
        ),
    ] {
        assert_eq!(open(body).await, (status, answer), "{case}");
    }

    w.gl.repo(w.project.id)
        .unwrap()
        .create_branch("claude/fix", "main")
        .unwrap();
    let (status, mr) = open(json!({
        "source_branch": "claude/fix", "target_branch": "main", "title": "Draft: fix",
        "labels": "ai,bot", "remove_source_branch": true,
    }))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{mr}");
    assert_eq!(mr["draft"], true);
    assert_eq!(mr["labels"], json!(["ai", "bot"]));
    assert_eq!(mr["author"]["id"], w.bot.id);
    let iid = mr["iid"].as_u64().unwrap();
    let (status, updated) = w
        .put(
            &w.bot.token,
            &w.p(&format!("/merge_requests/{iid}")),
            json!({"title": "fix", "description": "done", "add_labels": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(updated["draft"], false);
    assert_eq!(updated["description"], "done");
    assert_eq!(updated["labels"], json!(["ai", "bot", "x"]));
    let (_, _, list) = w
        .get(
            &w.bot.token,
            &w.p("/merge_requests?source_branch=claude/fix&state=opened"),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["iid"], iid);
}

#[tokio::test]
async fn merge_request_diff_refs_and_diffs_come_from_the_repository() {
    let w = world().await;
    let repo = w.gl.repo(w.project.id).unwrap();
    let head = repo.branch_sha("feature").unwrap().unwrap();
    let start = repo.branch_sha("main").unwrap().unwrap();
    let base = repo.merge_base("main", "feature").unwrap();
    let (_, _, mr) = w.get(&w.bot.token, &w.mr_url("")).await;
    assert_eq!(mr["sha"], head);
    assert_eq!(
        mr["diff_refs"],
        json!({"base_sha": base, "head_sha": head, "start_sha": start})
    );
    assert_eq!(mr["changes_count"], "1");
    assert_eq!(mr["source_project_id"], w.project.id);
    assert_eq!(mr["references"]["full"], format!("group/proj!{}", w.mr.iid));
    let (_, headers, diffs) = w.get(&w.bot.token, &w.mr_url("/diffs")).await;
    assert_eq!(header(&headers, "x-total"), "1");
    assert_eq!(diffs[0]["new_path"], "src/lib.rs");
    assert!(diffs[0]["diff"].as_str().unwrap().contains("+fn B() {}"));
}

#[tokio::test]
async fn diff_thread_with_valid_position_is_accepted_and_invalid_one_refused() {
    let w = world().await;
    let (_, _, mr) = w.get(&w.bot.token, &w.mr_url("")).await;
    let refs = &mr["diff_refs"];
    let url = w.mr_url("/discussions");
    let position = |new_line: Value, old_line: Value, head: &Value| {
        json!({
            "position_type": "text",
            "base_sha": refs["base_sha"],
            "start_sha": refs["start_sha"],
            "head_sha": head,
            "new_path": "src/lib.rs",
            "old_path": "src/lib.rs",
            "new_line": new_line,
            "old_line": old_line,
        })
    };
    let discuss = |body: Value| w.post(&w.bot.token, &url, body);
    let (status, discussion) = discuss(
        json!({"body": "rename?", "position": position(json!(2), Value::Null, &refs["head_sha"])}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{discussion}");
    assert_eq!(discussion["individual_note"], false);
    let note = &discussion["notes"][0];
    assert_eq!(note["type"], "DiffNote");
    assert_eq!(note["position"]["new_line"], 2);
    assert_eq!(note["resolvable"], true);
    assert_eq!(note["resolved"], false);

    let (status, _) = discuss(
        json!({"body": "context", "position": position(json!(1), json!(1), &refs["head_sha"])}),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "unchanged lines take both numbers"
    );

    let refused = json!({"message": "400 Bad request - Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}"});
    for (case, position, answer) in [
        (
            "an unchanged line needs old_line too",
            position(json!(1), Value::Null, &refs["head_sha"]),
            refused.clone(),
        ),
        (
            "a head_sha that is not the merge request's head",
            position(json!(2), Value::Null, &json!("0".repeat(40))),
            refused,
        ),
        (
            "a position without start_sha",
            json!({"position_type": "text", "base_sha": refs["base_sha"]}),
            json!({"error": "position[start_sha] is missing"}),
        ),
    ] {
        let got = discuss(json!({"body": "x", "position": position})).await;
        assert_eq!(got, (StatusCode::BAD_REQUEST, answer), "{case}");
    }

    let discussion_id = discussion["id"].as_str().unwrap();
    let reply = w
        .note(
            &w.alice.token,
            &w.mr_url(&format!("/discussions/{discussion_id}/notes")),
            "agreed",
        )
        .await;
    assert_eq!(reply["type"], "DiffNote");
    let (status, resolved) = w
        .put(
            &w.bot.token,
            &format!(
                "{}?resolved=true",
                w.mr_url(&format!("/discussions/{discussion_id}"))
            ),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        resolved["notes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["resolved"] == true)
    );
}

#[tokio::test]
async fn job_token_reads_merge_request_notes_but_cannot_post_them() {
    let w = world().await;
    w.gl.add_note(
        w.project.id,
        Noteable::MergeRequest(w.mr.iid),
        NoteSpec::new(w.alice.id, "@claude review"),
    )
    .unwrap();
    let job = w.gl.add_job_token(w.project.id, w.alice.id).unwrap();
    assert!(job.starts_with("glcbt-"));
    let notes_url = w.mr_url("/notes");
    let r = w.get_with_job_token(&job, &notes_url).await;
    assert_eq!(r.status(), StatusCode::OK);
    let notes: Value = r.json().await.unwrap();
    assert_eq!(notes[0]["body"], "@claude review");
    let r = w.get_with_job_token(&job, &w.mr_url("")).await;
    assert_eq!(r.status(), StatusCode::OK);

    let r = w
        .http
        .post(&notes_url)
        .header("JOB-TOKEN", &job)
        .json(&json!({"body": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "401 Unauthorized"})
    );
    let r = w.get_with_job_token(&job, &w.issue_url("/notes")).await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "issue notes are not on the allow-list"
    );
    let r = w.get_with_job_token(&job, &w.url("/user")).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(w.mr_note_count(), 1);
}

#[tokio::test]
async fn awarding_the_same_emoji_twice_is_refused() {
    let w = world().await;
    let note =
        w.gl.add_note(
            w.project.id,
            Noteable::Issue(w.issue.iid),
            NoteSpec::new(w.alice.id, "@claude hi"),
        )
        .unwrap();
    let url = w.p(&format!(
        "/issues/{}/notes/{}/award_emoji",
        w.issue.iid, note.id
    ));
    let award = w.created(&w.bot.token, &url, json!({"name": "eyes"})).await;
    assert_eq!(award["name"], "eyes");
    assert_eq!(award["awardable_id"], note.id);
    assert_eq!(award["awardable_type"], "Note");
    assert_eq!(award["user"]["id"], w.bot.id);
    let (status, body) = w.post(&w.bot.token, &url, json!({"name": "eyes"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        json!({"message": "404 Award Emoji Name has already been taken Not Found"})
    );
    assert_eq!(w.gl.award_names(note.id), vec!["eyes"]);
    let award_id = award["id"].as_u64().unwrap();
    let status = w.delete(&w.alice.token, &format!("{url}/{award_id}")).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "only the reacting user may remove it"
    );
    let status = w.delete(&w.bot.token, &format!("{url}/{award_id}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(w.gl.award_names(note.id).is_empty());
}

#[tokio::test]
async fn triggered_pipelines_are_recorded_with_their_variables() {
    let w = world().await;
    let trigger = w
        .created(
            &w.alice.token,
            &w.p("/triggers"),
            json!({"description": "bot"}),
        )
        .await;
    let token = trigger["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("glptt-"));

    let r = w
        .trigger_with(&[
            ("token", token.as_str()),
            ("ref", "main"),
            ("variables[AI_NOTE_ID]", "42"),
            ("variables[AI_FLOW]", "issue"),
        ])
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let pipeline: Value = r.json().await.unwrap();
    assert_eq!(pipeline["ref"], "main");
    assert_eq!(pipeline["source"], "trigger");
    assert_eq!(pipeline["status"], "created");

    let r = w
        .trigger_request()
        .json(&json!({"token": token, "ref": "main", "variables": {"AI_NOTE_ID": "43"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = w
        .trigger_with(&[("token", "glptt-wrong"), ("ref", "main")])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = w
        .trigger_with(&[("token", token.as_str()), ("ref", "nope")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": {"base": ["Reference not found"]}})
    );

    let r = w
        .trigger_request()
        .header("X-Gitlab-Event", "Pipeline Hook")
        .form(&[("token", token.as_str()), ("ref", "main")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "pipeline hooks may not trigger pipelines"
    );

    let variables = json!([{"key": "AI_FLOW_INPUT", "value": "x", "variable_type": "file"}]);
    let pipeline = json!({"ref": "main", "variables": variables});
    let api = w.created(&w.bot.token, &w.p("/pipeline"), pipeline).await;
    assert_eq!(api["source"], "api");

    let pipelines = w.gl.pipelines(w.project.id);
    assert_eq!(pipelines.len(), 3);
    let with_42: Vec<_> = pipelines
        .iter()
        .filter(|p| p.variable("AI_NOTE_ID") == Some("42"))
        .collect();
    assert_eq!(with_42.len(), 1);
    assert_eq!(with_42[0].source, PipelineSource::Trigger);
    assert_eq!(with_42[0].user_id, w.alice.id);
    assert_eq!(with_42[0].variable("AI_FLOW"), Some("issue"));
    assert_eq!(pipelines[2].source, PipelineSource::Api);
    assert_eq!(pipelines[2].variables[0].variable_type, "file");
}

#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, Value)>>>);

async fn receive(
    State(received): State<Received>,
    headers: HeaderMap,
    body: String,
) -> &'static str {
    let body = serde_json::from_str(&body).unwrap_or(Value::Null);
    received.0.lock().unwrap().push((headers, body));
    "ok"
}

#[tokio::test]
async fn note_hook_is_delivered_to_a_local_receiver_with_gitlab_headers() {
    let w = world().await;
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let hook = w
        .created(
            &w.alice.token,
            &w.p("/hooks"),
            json!({"url": receiver_url, "token": "s3cret", "note_events": true}),
        )
        .await;
    assert_eq!(hook["note_events"], true);
    assert!(hook.get("token").is_none(), "the secret is never returned");

    let note = w
        .note(&w.bot.token, &w.mr_url("/notes"), "@claude go")
        .await;
    assert_eq!(w.only_delivery_status().await, Some(200));
    let got = received.0.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    let (headers, body) = &got[0];
    assert_eq!(header(headers, "content-type"), "application/json");
    assert_eq!(header(headers, "x-gitlab-event"), "Note Hook");
    assert_eq!(header(headers, "x-gitlab-token"), "s3cret");
    assert!(header(headers, "user-agent").starts_with("GitLab/"));
    assert_eq!(header(headers, "x-gitlab-event-uuid").len(), 36);
    assert_eq!(header(headers, "x-gitlab-webhook-uuid").len(), 36);
    assert_eq!(header(headers, "idempotency-key").len(), 36);
    assert_eq!(
        header(headers, "x-gitlab-instance"),
        format!("http://{}", w.gl.addr())
    );
    assert_eq!(
        header(headers, "x-gitlab-event-uuid"),
        w.gl.note_events()[0].uuid
    );
    assert_eq!(body["object_attributes"]["id"], note["id"]);
    assert_eq!(body["merge_request"]["iid"], w.mr.iid);
    assert_eq!(body["merge_request"]["source_branch"], "feature");
    assert_eq!(
        body["merge_request"]["last_commit"]["message"]
            .as_str()
            .map(str::trim_end),
        Some("Change lib")
    );
}

#[tokio::test]
async fn internal_note_fires_a_confidential_note_hook_only_for_hooks_that_ask() {
    let w = world().await;
    let mut spec = HookSpec::notes(&format!("{}/nowhere", w.gl.base_url()));
    spec.confidential_note_events = false;
    w.gl.add_hook(w.project.id, spec).unwrap();
    let note = w
        .created(
            &w.bot.token,
            &w.issue_url("/notes"),
            json!({"body": "secret", "internal": true}),
        )
        .await;
    assert_eq!(note["internal"], true);
    assert_eq!(
        w.gl.note_events()[0].payload["event_type"],
        "confidential_note"
    );
    let (_, _, notes) = w.get(&w.guest.token, &w.issue_url("/notes")).await;
    assert_eq!(
        notes.as_array().unwrap().len(),
        0,
        "guests do not see internal notes"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(w.gl.hook_deliveries().is_empty());
}

#[tokio::test]
async fn note_hook_aimed_at_the_ref_trigger_endpoint_starts_one_pipeline_with_the_payload() {
    let w = world().await;
    let token = w.gl.add_trigger(w.project.id, w.alice.id, "notes").unwrap();
    let url = format!(
        "{}/projects/{}/ref/main/trigger/pipeline?token={token}",
        w.gl.api_url(),
        w.project.id
    );
    w.gl.add_hook(w.project.id, HookSpec::notes(&url)).unwrap();
    let note = w
        .note(&w.bot.token, &w.issue_url("/notes"), "@claude fix")
        .await;
    assert_eq!(w.only_delivery_status().await, Some(201));
    let pipelines = w.gl.pipelines(w.project.id);
    assert_eq!(pipelines.len(), 1);
    assert_eq!(pipelines[0].source, PipelineSource::Trigger);
    assert_eq!(pipelines[0].git_ref, "main");
    let payload: Value =
        serde_json::from_str(pipelines[0].variable("TRIGGER_PAYLOAD").unwrap()).unwrap();
    assert_eq!(payload["object_kind"], "note");
    assert_eq!(payload["object_attributes"]["id"], note["id"]);
    assert!(payload.get("token").is_none());
    let file = pipelines[0]
        .variables
        .iter()
        .find(|v| v.key == "TRIGGER_PAYLOAD")
        .unwrap();
    assert_eq!(file.variable_type, "file");
}

#[tokio::test]
async fn project_is_addressed_by_its_url_encoded_path() {
    let w = world().await;
    let (status, _, by_path) = w
        .get(&w.alice.token, &w.url("/projects/group%2Fproj"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_path["id"], w.project.id);
    assert_eq!(by_path["path_with_namespace"], "group/proj");
    assert_eq!(by_path["default_branch"], "main");
    assert_eq!(by_path["visibility"], "private");
    assert_eq!(by_path["namespace"]["full_path"], "group");
    assert_eq!(
        by_path["http_url_to_repo"],
        format!("{}/group/proj.git", w.gl.base_url())
    );
    let (status, _, issue) = w
        .get(
            &w.alice.token,
            &w.url(&format!("/projects/group%2Fproj/issues/{}", w.issue.iid)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(issue["id"], w.issue.id);
    assert_eq!(
        issue["references"]["full"],
        format!("group/proj#{}", w.issue.iid)
    );
}

#[tokio::test]
async fn relative_url_root_prefixes_api_web_urls_and_git() {
    let w = world_with(GitLabDouble::builder().relative_url_root("/gitlab")).await;
    assert!(w.gl.api_url().ends_with("/gitlab/api/v4"));
    let (status, _, me) = w.get(&w.alice.token, &w.url("/user")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    let (_, headers, _) = w.get(&w.alice.token, &w.issue_url("/notes")).await;
    assert!(header(&headers, "link").contains("/gitlab/api/v4/projects/"));
    let (_, _, project) = w.get(&w.alice.token, &w.p("")).await;
    assert!(
        project["web_url"]
            .as_str()
            .unwrap()
            .ends_with("/gitlab/group/proj")
    );
    let (status, _, _) = w
        .get(
            &w.alice.token,
            &format!("http://{}/api/v4/user", w.gl.addr()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "nothing is served outside the root"
    );

    let dir = tempfile::tempdir().unwrap();
    assert_git_ok(&w.clone_as(&w.bot.token, &dir.path().join("proj")));
    assert!(dir.path().join("proj/src/lib.rs").exists());
}

#[tokio::test]
async fn git_push_respects_roles_and_protected_branches() {
    let w = world().await;
    let dir = tempfile::tempdir().unwrap();
    let clone = dir.path().join("proj");
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(["-c", "user.name=Bot", "-c", "user.email=bot@example.com"])
            .args(args)
            .current_dir(&clone)
            .output()
            .unwrap()
    };
    assert_git_ok(&w.clone_as(&w.bot.token, &clone));
    std::fs::write(clone.join("new.txt"), "x\n").unwrap();
    assert!(git(&["add", "."]).status.success());
    assert!(git(&["commit", "-qm", "bot change"]).status.success());

    let out = git(&[
        "push",
        &w.git_url_with(&w.bot.token),
        "HEAD:refs/heads/claude/work",
    ]);
    assert_git_ok(&out);
    assert!(
        w.gl.repo(w.project.id)
            .unwrap()
            .branch_sha("claude/work")
            .unwrap()
            .is_some()
    );
    let out = git(&[
        "push",
        &w.git_url_with(&w.bot.token),
        "HEAD:refs/heads/main",
    ]);
    assert!(
        !out.status.success(),
        "developers cannot push to the protected default branch"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("You are not allowed to push code to protected branches on this project.")
    );
    let out = git(&[
        "push",
        &w.git_url_with(&w.guest.token),
        "HEAD:refs/heads/guest",
    ]);
    assert!(!out.status.success(), "guests cannot push");
    let out = git(&["push", &w.git_url_with("glpat-wrong"), "HEAD:refs/heads/x"]);
    assert!(!out.status.success());
}

#[tokio::test]
async fn public_project_is_readable_without_a_token_but_notes_need_one() {
    let w = world().await;
    let public =
        w.gl.add_project(ProjectSpec::new("group/open").visibility(Visibility::Public))
            .unwrap();
    let issue =
        w.gl.create_issue(public.id, IssueSpec::new(w.alice.id, "Open bug"))
            .unwrap();
    let r = w
        .bare_get(&w.url(&format!("/projects/{}", public.id)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = w
        .bare_get(&w.url(&format!("/projects/{}/issues/{}", public.id, issue.iid)))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = w
        .bare_get(&w.url(&format!(
            "/projects/{}/issues/{}/notes",
            public.id, issue.iid
        )))
        .await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the notes API calls authenticate!"
    );
    let (status, _) = w
        .post(
            &w.outsider.token,
            &w.url(&format!(
                "/projects/{}/issues/{}/notes",
                public.id, issue.iid
            )),
            json!({"body": "drive-by comment"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "anyone signed in may comment on a public issue"
    );
    let r = w.bare_get(&w.url("/no/such/route")).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"error": "404 Not Found"})
    );
}

#[tokio::test]
async fn every_request_is_recorded_with_its_status_and_headers() {
    let w = world().await;
    w.gl.clear_requests();
    let _ = w.get(&w.bot.token, &w.url("/user")).await;
    let _ = w.get("glpat-wrong", &w.url("/user")).await;
    let requests = w.gl.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/api/v4/user");
    assert_eq!(requests[0].status, 200);
    assert_eq!(requests[1].status, 401);
    assert!(
        requests[0]
            .headers
            .iter()
            .any(|(k, v)| k == "private-token" && v == &w.bot.token)
    );
}
