//! The GitLab client's mechanics (pagination, retries, error bodies, typed outcomes) against a
//! tiny scripted HTTP server on 127.0.0.1.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::own_process::in_own_process;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use entrypoint::gitlab::award_emoji::AwardOutcome;
use entrypoint::gitlab::config::{ApiBaseUrl, ClientConfig, GitLabToken};
use entrypoint::gitlab::diff_position::{DiffPosition, PositionType};
use entrypoint::gitlab::ids::{
    DiscussionId, IssueIid, MergeRequestIid, NoteId, Noteable, ProjectId, ProjectRef, UserId,
};
use entrypoint::gitlab::members::AccessLevel;
use entrypoint::gitlab::merge_requests::{NewMergeRequest, Upsert};
use entrypoint::gitlab::notes::{NewNote, Note, NoteListOptions};
use entrypoint::gitlab::pipelines::PipelineTrigger;
use entrypoint::gitlab::{GitLab, GitLabError, RetryPolicy};
use entrypoint::quick_action::Inert;
use entrypoint::secret::Secret;
use serde_json::{Value, json};

const TOKEN: &str = "glpat-test-token-0123456789";

/// One request as the server saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    token: Option<String>,
    body: String,
    /// How many earlier requests had the same method and path.
    nth: usize,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

struct Server {
    api: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The product's client for this server, retrying fast.
    fn client(&self) -> GitLab {
        client(&self.api)
    }

    /// Every note of `noteable` in project 7, as the client pages through them.
    async fn list_notes(&self, noteable: Noteable) -> Vec<Note> {
        self.client()
            .notes(&project(), noteable, NoteListOptions::default())
            .await
            .unwrap()
    }

    /// Posts `body` as a note on issue 3 of project 7.
    async fn post_note(&self, body: &str) -> Result<Note, GitLabError> {
        self.client()
            .create_note(
                &project(),
                Noteable::Issue(IssueIid(3)),
                &NewNote::new(body),
            )
            .await
    }
}

/// Serves `reply` for every request under `prefix` (e.g. `/api/v4`), recording each request.
async fn serve_at<F>(prefix: &str, reply: F) -> Server
where
    F: Fn(&Seen) -> Response + Send + Sync + 'static,
{
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let reply = Arc::new(reply);
    let prefix_owned = prefix.to_owned();
    let app = axum::Router::new().fallback(move |req: Request<Body>| {
        let log = log.clone();
        let reply = reply.clone();
        let prefix = prefix_owned.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let Some(path) = parts.uri.path().strip_prefix(&prefix) else {
                return (StatusCode::NOT_FOUND, "outside the API prefix").into_response();
            };
            let mut log = log.lock().unwrap();
            let method = parts.method.to_string();
            let nth = log
                .iter()
                .filter(|s| s.method == method && s.path == path)
                .count();
            let seen = Seen {
                method,
                path: path.to_owned(),
                query: parts.uri.query().map(str::to_owned),
                token: parts
                    .headers
                    .get("private-token")
                    .map(|v| v.to_str().unwrap().to_owned()),
                body: String::from_utf8(body.to_vec()).unwrap(),
                nth,
            };
            log.push(seen.clone());
            drop(log);
            reply(&seen)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server {
        api: format!("http://{addr}{prefix}"),
        seen,
    }
}

async fn serve<F>(reply: F) -> Server
where
    F: Fn(&Seen) -> Response + Send + Sync + 'static,
{
    serve_at("/api/v4", reply).await
}

fn reply(status: u16, body: Value, headers: &[(&str, &str)]) -> Response {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    (StatusCode::from_u16(status).unwrap(), map, axum::Json(body)).into_response()
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        total_budget: Duration::from_secs(10),
    }
}

/// Up to `max_attempts` attempts, 20 to 40 ms apart, within `total_budget`.
fn budgeted(max_attempts: u32, total_budget: Duration) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(40),
        total_budget,
    }
}

fn client_with(api: &str, retry: RetryPolicy) -> GitLab {
    let mut config = ClientConfig::new(
        ApiBaseUrl::parse(api).unwrap(),
        GitLabToken::new(Secret::new(TOKEN)),
    );
    config.retry = retry;
    config.request_timeout = Duration::from_secs(5);
    GitLab::new(config).unwrap()
}

fn client(api: &str) -> GitLab {
    client_with(api, fast_retries())
}

fn project() -> ProjectRef {
    ProjectRef::Id(ProjectId(7))
}

fn user(id: u64) -> Value {
    json!({"id": id, "username": format!("user{id}"), "name": format!("User {id}"), "state": "active"})
}

fn note(id: u64) -> Value {
    json!({
        "id": id, "type": null, "body": format!("note {id}"), "attachment": null,
        "author": user(1), "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "system": false, "noteable_id": 99, "noteable_type": "Issue", "project_id": 7,
        "noteable_iid": 3, "resolvable": false, "confidential": false, "internal": false
    })
}

fn issue(iid: u64) -> Value {
    json!({
        "id": 1000 + iid, "iid": iid, "project_id": 7, "title": "t", "description": null,
        "state": "opened", "labels": [], "author": user(1), "assignees": [], "confidential": false,
        "discussion_locked": null, "web_url": format!("http://gitlab/p/-/issues/{iid}"),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"
    })
}

fn merge_request(iid: u64, branch: &str) -> Value {
    json!({
        "id": 2000 + iid, "iid": iid, "project_id": 7, "title": "t", "description": "d",
        "state": "opened", "draft": false, "source_branch": branch, "target_branch": "main",
        "source_project_id": 7, "target_project_id": 7, "sha": "abc",
        "labels": [], "author": user(1), "assignees": [], "reviewers": [],
        "web_url": format!("http://gitlab/p/-/merge_requests/{iid}"),
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-02T00:00:00Z"
    })
}

fn page_of_notes(page: u64) -> Value {
    Value::Array((1..=3).map(|i| note(page * 10 + i)).collect())
}

/// The `x-next-page` of `page` in a listing of three pages: empty on the last one.
fn next_page(page: u64) -> String {
    if page < 3 {
        (page + 1).to_string()
    } else {
        String::new()
    }
}

fn page_param(seen: &Seen) -> u64 {
    seen.query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .find_map(|kv| kv.strip_prefix("page="))
        .map_or(1, |p| p.parse().unwrap())
}

#[tokio::test]
async fn listing_follows_link_headers_to_the_last_page() {
    let server = serve(|seen| {
        let page = page_param(seen);
        let next = next_page(page);
        let mut headers = vec![("x-next-page", next.clone()), ("x-page", page.to_string())];
        if page < 3 {
            headers.push((
                "link",
                format!(
                    "<http://gitlab.invalid/api/v4{}?page={next}&per_page=100&sort=asc>; rel=\"next\", \
                     <http://gitlab.invalid/api/v4{}?page=1&per_page=100>; rel=\"first\"",
                    seen.path, seen.path
                ),
            ));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        reply(200, page_of_notes(page), &headers)
    })
    .await;
    let notes = server.list_notes(Noteable::Issue(IssueIid(3))).await;
    let ids: Vec<u64> = notes.iter().map(|n| n.id.0).collect();
    assert_eq!(ids, [11, 12, 13, 21, 22, 23, 31, 32, 33]);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.path == "/projects/7/issues/3/notes"));
    assert!(seen[0].query.as_deref().unwrap().contains("per_page=100"));
    assert!(seen[2].query.as_deref().unwrap().contains("page=3"));
    assert!(seen.iter().all(|s| s.token.as_deref() == Some(TOKEN)));
}

#[tokio::test]
async fn keyset_listing_follows_link_alone() {
    let server = serve(|seen| {
        let query = seen.query.clone().unwrap_or_default();
        let page = match query.split('&').find_map(|kv| kv.strip_prefix("cursor=")) {
            None => 1,
            Some("eyJpZCI6MjN9") => 2,
            Some("eyJpZCI6MzN9") => 3,
            Some(other) => panic!("unexpected cursor {other}"),
        };
        let link = match page {
            1 => Some("eyJpZCI6MjN9"),
            2 => Some("eyJpZCI6MzN9"),
            _ => None,
        }
        .map(|cursor| {
            format!(
                "<http://gitlab.invalid/api/v4{}?cursor={cursor}&pagination=keyset&per_page=100>; rel=\"next\"",
                seen.path
            )
        });
        let headers: Vec<(&str, &str)> = link.iter().map(|l| ("link", l.as_str())).collect();
        reply(200, page_of_notes(page), &headers)
    })
    .await;
    let notes = server.list_notes(Noteable::Issue(IssueIid(3))).await;
    assert_eq!(notes.len(), 9);
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[2].query.as_deref(),
        Some("cursor=eyJpZCI6MzN9&pagination=keyset&per_page=100")
    );
}

#[tokio::test]
async fn listing_follows_x_next_page_alone() {
    let server = serve(|seen| {
        let page = page_param(seen);
        reply(
            200,
            page_of_notes(page),
            &[("x-next-page", &next_page(page))],
        )
    })
    .await;
    let notes = server
        .list_notes(Noteable::MergeRequest(MergeRequestIid(4)))
        .await;
    assert_eq!(notes.len(), 9);
    assert_eq!(server.seen().len(), 3);
    assert_eq!(server.seen()[0].path, "/projects/7/merge_requests/4/notes");
}

#[tokio::test]
async fn rate_limited_note_waits_for_retry_after_then_posts_once() {
    let server = serve(|seen| match seen.nth {
        0 => reply(429, json!("Retry later"), &[("retry-after", "1")]),
        _ => reply(201, note(55), &[]),
    })
    .await;
    let started = Instant::now();
    let created = server.post_note("hello").await.unwrap();
    assert_eq!(created.id, NoteId(55));
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].json(), json!({"body": "hello"}));
}

#[tokio::test]
async fn unavailable_server_is_retried_until_it_answers() {
    let server = serve(|seen| match seen.nth {
        0 | 1 => reply(503, json!({"message": "503 Service Unavailable"}), &[]),
        _ => reply(200, issue(3), &[]),
    })
    .await;
    let issue = server
        .client()
        .issue(&project(), IssueIid(3))
        .await
        .unwrap();
    assert_eq!(issue.iid, IssueIid(3));
    assert_eq!(server.seen().len(), 3);
}

#[tokio::test]
async fn a_note_is_not_posted_twice_after_a_bad_gateway() {
    let server = serve(|_| reply(502, json!({"message": "502 Bad Gateway"}), &[])).await;
    let error = server.post_note("once").await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn validation_error_surfaces_gitlab_field_messages_without_the_token() {
    let server = serve(|_| reply(400, json!({"message": {"body": ["is too long"]}}), &[])).await;
    let error = server
        .client()
        .update_note(
            &project(),
            Noteable::MergeRequest(MergeRequestIid(4)),
            NoteId(9),
            &Inert::new("x"),
        )
        .await
        .unwrap_err();
    let text = error.to_string();
    assert_eq!(
        text,
        "GitLab PUT /projects/7/merge_requests/4/notes/9 failed with 400 Bad Request: body is too long"
    );
    assert!(!format!("{error:?}").contains(TOKEN));
    assert_eq!(server.seen().len(), 1, "400 is not retried");
}

#[tokio::test]
async fn non_member_is_none_and_member_has_typed_access_level() {
    let server = serve(|seen| match seen.path.as_str() {
        "/projects/7/members/all/5" => reply(
            200,
            json!({"id": 5, "username": "dev", "name": "Dev", "state": "active", "access_level": 30}),
            &[],
        ),
        _ => reply(404, json!({"message": "404 Not found"}), &[]),
    })
    .await;
    let gitlab = server.client();
    let member = gitlab
        .project_member(&project(), UserId(5))
        .await
        .unwrap()
        .unwrap();
    assert!(member.access_level >= AccessLevel::DEVELOPER);
    assert_eq!(
        gitlab.project_member(&project(), UserId(6)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn total_time_budget_is_respected() {
    let server = serve(|_| reply(503, json!({"message": "down"}), &[])).await;
    let policy = budgeted(1000, Duration::from_millis(400));
    let started = Instant::now();
    let error = client_with(&server.api, policy)
        .issue(&project(), IssueIid(1))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    let attempts = server.seen().len();
    assert!(attempts > 2 && attempts < 1000, "{attempts} attempts");
    assert!(error.to_string().contains("attempts"), "{error}");
}

/// The last attempt's timeout is what is left of the budget; when that cut ends it (GitLab
/// answered 503, then stopped answering at all), the error is GitLab's 503, not a bare timeout.
#[tokio::test]
async fn an_attempt_cut_by_the_budget_reports_the_previous_answer() {
    let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let app = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            if counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst) > 0 {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            reply(503, json!({"message": "down"}), &[])
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let policy = budgeted(5, Duration::from_millis(300));
    let started = Instant::now();
    let error = client_with(&format!("http://{address}/api/v4"), policy)
        .issue(&project(), IssueIid(1))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        error.status(),
        Some(StatusCode::SERVICE_UNAVAILABLE),
        "{error}"
    );
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert!(error.to_string().contains("2 attempts"), "{error}");
}

#[tokio::test]
async fn retry_after_beyond_the_budget_fails_at_once() {
    let server = serve(|_| reply(429, json!("Retry later"), &[("retry-after", "120")])).await;
    let started = Instant::now();
    let error = server.client().current_user().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(
        matches!(error, GitLabError::RetryBudgetExhausted { retry_after, .. } if retry_after == Duration::from_secs(120)),
        "{error:?}"
    );
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn refused_connections_are_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let error = client(&format!("http://127.0.0.1:{port}/api/v4"))
        .create_note(&project(), Noteable::Issue(IssueIid(1)), &NewNote::new("x"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, GitLabError::Transport { attempts: 5, .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(!text.contains(TOKEN));
    assert!(
        text.contains("after 5 attempts") && !text.contains('\n'),
        "{text}"
    );
}

#[tokio::test]
async fn sub_path_installations_keep_their_prefix() {
    let server = serve_at("/gitlab/api/v4", |seen| match seen.path.as_str() {
        "/user" => reply(
            200,
            json!({"id": 77, "username": "project_7_bot_abc", "name": "Claude", "state": "active",
                   "bot": true, "web_url": "http://h/gitlab/project_7_bot_abc"}),
            &[],
        ),
        _ => reply(404, json!({"message": "404 Not Found"}), &[]),
    })
    .await;
    assert!(server.api.ends_with("/gitlab/api/v4"));
    let me = server.client().current_user().await.unwrap();
    assert!(me.bot);
    assert_eq!(me.id, UserId(77));
}

#[tokio::test]
async fn project_paths_are_sent_url_encoded() {
    let server = serve(|_| reply(200, issue(2), &[])).await;
    let path = ProjectRef::Path("group/sub/project".into());
    server.client().issue(&path, IssueIid(2)).await.unwrap();
    // axum decodes nothing in the raw path: the encoded form is what went over the wire.
    assert_eq!(
        server.seen()[0].path,
        "/projects/group%2Fsub%2Fproject/issues/2"
    );
}

#[tokio::test]
async fn existing_merge_request_is_typed_and_updated_by_create_or_update() {
    let server = serve(|seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/projects/7/merge_requests") => reply(
            409,
            json!({"message": ["Another open merge request already exists for this source branch: !12"]}),
            &[],
        ),
        ("GET", "/projects/7/merge_requests") => {
            reply(200, json!([merge_request(12, "claude/issue-3")]), &[])
        }
        ("PUT", "/projects/7/merge_requests/12") => {
            let mut mr = merge_request(12, "claude/issue-3");
            mr["title"] = seen.json()["title"].clone();
            reply(200, mr, &[])
        }
        _ => reply(404, json!({"message": "404 Not Found"}), &[]),
    })
    .await;
    let gitlab = server.client();
    let new = NewMergeRequest {
        source_branch: "claude/issue-3".into(),
        target_branch: "main".into(),
        title: Inert::new("Fix #3"),
        description: Some(Inert::new("Closes #3")),
        ..NewMergeRequest::default()
    };
    let error = gitlab
        .create_merge_request(&project(), &new)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            GitLabError::MergeRequestAlreadyExists {
                existing: Some(MergeRequestIid(12)),
                ..
            }
        ),
        "{error:?}"
    );
    let (mr, upsert) = gitlab
        .create_or_update_merge_request(&project(), &new)
        .await
        .unwrap();
    assert_eq!((mr.iid, upsert), (MergeRequestIid(12), Upsert::Updated));
    assert_eq!(mr.title, "Fix #3");
    let seen = server.seen();
    let lookup = seen.iter().find(|s| s.method == "GET").unwrap();
    let query = lookup.query.as_deref().unwrap();
    assert!(
        query.contains("state=opened") && query.contains("source_branch=claude%2Fissue-3"),
        "{query}"
    );
    let put = seen.iter().find(|s| s.method == "PUT").unwrap();
    assert_eq!(
        put.json(),
        json!({"title": "Fix #3", "description": "Closes #3", "target_branch": "main"})
    );
}

#[tokio::test]
async fn awarding_twice_is_an_outcome_not_a_failure() {
    let server = serve(|seen| match seen.nth {
        0 => reply(
            201,
            json!({"id": 345, "name": "eyes", "user": user(77), "created_at": "2026-01-01T00:00:00Z",
                   "updated_at": "2026-01-01T00:00:00Z", "awardable_id": 9, "awardable_type": "Note"}),
            &[],
        ),
        _ => reply(
            404,
            json!({"message": "404 Award Emoji Name has already been taken Not Found"}),
            &[],
        ),
    })
    .await;
    let gitlab = server.client();
    let noteable = Noteable::Issue(IssueIid(3));
    let first = gitlab
        .award_note(&project(), noteable, NoteId(9), "eyes")
        .await
        .unwrap();
    assert!(matches!(first, AwardOutcome::Awarded(ref a) if a.name == "eyes"));
    let second = gitlab
        .award_note(&project(), noteable, NoteId(9), "eyes")
        .await
        .unwrap();
    assert_eq!(second, AwardOutcome::AlreadyAwarded);
    assert_eq!(
        server.seen()[0].path,
        "/projects/7/issues/3/notes/9/award_emoji"
    );
    assert_eq!(server.seen()[0].json(), json!({"name": "eyes"}));
}

#[tokio::test]
async fn trigger_token_travels_in_the_body_and_our_token_stays_home() {
    let server = serve(|_| {
        reply(
            201,
            json!({"id": 61, "iid": 21, "project_id": 7, "sha": "abc", "ref": "main",
                   "status": "created", "web_url": "http://gitlab/p/-/pipelines/61"}),
            &[],
        )
    })
    .await;
    let trigger = PipelineTrigger {
        token: Secret::new("glptt-trigger-secret"),
        git_ref: "main".into(),
        variables: BTreeMap::from([("AI_FLOW_INPUT".to_owned(), "hi".to_owned())]),
    };
    let pipeline = server
        .client()
        .trigger_pipeline(&project(), &trigger)
        .await
        .unwrap();
    assert_eq!(pipeline.iid, 21);
    let seen = &server.seen()[0];
    assert_eq!(seen.path, "/projects/7/trigger/pipeline");
    assert_eq!(seen.query, None);
    assert_eq!(seen.token, None);
    assert_eq!(
        seen.json(),
        json!({"token": "glptt-trigger-secret", "ref": "main", "variables": {"AI_FLOW_INPUT": "hi"}})
    );
}

#[tokio::test]
async fn diff_threads_carry_their_position_and_resolve_with_a_query() {
    let discussion_id = "6a9c1750b37d513a43987b574953fceb50b03ce7";
    let server = serve(move |seen| {
        let mut n = note(5);
        n["type"] = json!("DiffNote");
        n["noteable_type"] = json!("MergeRequest");
        n["resolvable"] = json!(true);
        n["resolved"] = json!(seen.method == "PUT");
        if seen.method == "POST" {
            n["position"] = seen.json()["position"].clone();
        }
        reply(
            if seen.method == "POST" { 201 } else { 200 },
            json!({"id": discussion_id, "individual_note": false, "notes": [n]}),
            &[],
        )
    })
    .await;
    let gitlab = server.client();
    let position = DiffPosition {
        position_type: PositionType::Text,
        base_sha: "b".into(),
        start_sha: "s".into(),
        head_sha: "h".into(),
        old_path: "src/lib.rs".into(),
        new_path: "src/lib.rs".into(),
        old_line: None,
        new_line: Some(18),
        line_range: None,
    };
    let thread = gitlab
        .create_diff_discussion(
            &project(),
            MergeRequestIid(4),
            &Inert::new("nit"),
            &position,
        )
        .await
        .unwrap();
    assert_eq!(thread.notes[0].position.as_ref(), Some(&position));
    let id = DiscussionId::new(discussion_id).unwrap();
    let resolved = gitlab
        .resolve_discussion(&project(), MergeRequestIid(4), &id, true)
        .await
        .unwrap();
    assert_eq!(resolved.notes[0].resolved, Some(true));
    let seen = server.seen();
    assert_eq!(
        seen[0].json(),
        json!({"body": "nit", "position": {"position_type": "text", "base_sha": "b",
               "start_sha": "s", "head_sha": "h", "old_path": "src/lib.rs",
               "new_path": "src/lib.rs", "new_line": 18}})
    );
    assert_eq!(seen[1].method, "PUT");
    assert_eq!(
        seen[1].path,
        format!("/projects/7/merge_requests/4/discussions/{discussion_id}")
    );
    assert_eq!(seen[1].query.as_deref(), Some("resolved=true"));
}

#[tokio::test]
async fn client_debug_never_shows_the_token() {
    let gitlab = client("http://127.0.0.1:9/api/v4");
    let debug = format!("{gitlab:?}");
    assert!(!debug.contains(TOKEN), "{debug}");
    assert!(debug.contains("127.0.0.1:9"));
}

#[tokio::test]
async fn redirects_are_not_followed_with_the_token() {
    let server = serve(|_| {
        reply(
            301,
            json!({}),
            &[("location", "https://elsewhere.example/api/v4/user")],
        )
    })
    .await;
    let error = server.client().current_user().await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::MOVED_PERMANENTLY));
    assert!(
        error
            .to_string()
            .contains("redirected to https://elsewhere.example/api/v4/user"),
        "{error}"
    );
    assert_eq!(server.seen().len(), 1);
}

/// Collects everything the `tracing` fmt layer writes.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Captures what `tracing` logs at debug level and above on this thread, without colours,
    /// until the guard is dropped.
    fn capture() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
        let logs = LogBuffer::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_logs_name_method_path_status_and_attempt_but_never_token_or_body() {
    // A scoped subscriber captures the logs: in a process shared with other tests, their
    // threads can fill `tracing`'s callsite cache without it and the capture misses lines.
    if !in_own_process(
        "gitlab_client::request_logs_name_method_path_status_and_attempt_but_never_token_or_body",
    ) {
        return;
    }
    let (logs, _capturing) = LogBuffer::capture();
    let server = serve(|seen| match seen.nth {
        0 => reply(429, json!("Retry later"), &[("retry-after", "0")]),
        _ => reply(201, note(1), &[]),
    })
    .await;
    server.post_note("confidential reply text").await.unwrap();
    let text = logs.text();
    assert!(text.contains("path=/projects/7/issues/3/notes"), "{text}");
    assert!(
        text.contains("status=429") && text.contains("status=201"),
        "{text}"
    );
    assert!(
        text.contains("attempt=2") && text.contains("elapsed_ms="),
        "{text}"
    );
    assert!(!text.contains(TOKEN), "{text}");
    assert!(!text.contains("confidential reply text"), "{text}");
}
