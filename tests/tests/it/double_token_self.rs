//! The GitLab double's `GET /personal_access_tokens/self` and its refusal of revoked and expired
//! tokens, checked on the wire against GitLab's documented bodies, without the product's client.

use doubles::gitlab::GitLabDouble;
use doubles::gitlab::double::{ProjectSpec, UserSpec};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Sends `request` with `token` as `PRIVATE-TOKEN`; the status and the JSON body.
async fn call(request: reqwest::RequestBuilder, token: &str) -> (StatusCode, Value) {
    let response = request.header("PRIVATE-TOKEN", token).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn get(gl: &GitLabDouble, path: &str, token: &str) -> (StatusCode, Value) {
    let url = format!("{}{path}", gl.api_url());
    call(reqwest::Client::new().get(url), token).await
}

#[tokio::test]
async fn self_inform_describes_the_token_that_authenticates() {
    let gl = GitLabDouble::start().await.unwrap();
    let alice = gl.add_user(UserSpec::human("alice")).unwrap();
    let (status, body) = get(&gl, "/personal_access_tokens/self", &alice.token).await;
    assert_eq!(status, StatusCode::OK);
    for field in [
        "id",
        "name",
        "revoked",
        "created_at",
        "description",
        "scopes",
        "user_id",
        "last_used_at",
        "active",
        "expires_at",
    ] {
        assert!(body.get(field).is_some(), "no {field} in {body}");
    }
    assert_eq!(body["user_id"], alice.id);
    assert_eq!(body["scopes"], json!(["api"]));
    assert_eq!(body["active"], true);
    assert!(
        body.get("token").is_none(),
        "the value is never shown again"
    );

    gl.update_token(&alice.token, |t| {
        t.scopes = vec!["read_api".into()];
        t.expires_at = chrono::NaiveDate::from_ymd_opt(2999, 1, 31);
    })
    .unwrap();
    let (_, body) = get(&gl, "/personal_access_tokens/self", &alice.token).await;
    assert_eq!(body["scopes"], json!(["read_api"]));
    assert_eq!(body["expires_at"], "2999-01-31");
}

#[tokio::test]
async fn a_project_access_token_answers_for_itself_like_its_listing() {
    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(ProjectSpec::new("acme/widgets")).unwrap();
    let alice = gl.add_user(UserSpec::human("alice")).unwrap();
    gl.add_member(project.id, alice.id, 40).unwrap();
    let expires = chrono::Utc::now()
        .date_naive()
        .checked_add_days(chrono::Days::new(100))
        .unwrap()
        .format("%Y-%m-%d")
        .to_string();
    let url = format!("{}/projects/{}/access_tokens", gl.api_url(), project.id);
    let new =
        json!({"name": "Claude", "scopes": ["api"], "access_level": 30, "expires_at": expires});
    let (status, created) = call(reqwest::Client::new().post(url).json(&new), &alice.token).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap();
    let (status, body) = get(&gl, "/personal_access_tokens/self", token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            &body["id"],
            &body["name"],
            &body["user_id"],
            &body["expires_at"]
        ),
        (
            &created["id"],
            &created["name"],
            &created["user_id"],
            &created["expires_at"]
        )
    );

    // Revoked: every endpoint refuses it, and the project's list shows it inactive.
    gl.update_token(token, |t| t.revoked = true).unwrap();
    let (_, listed) = get(
        &gl,
        &format!("/projects/{}/access_tokens", project.id),
        &alice.token,
    )
    .await;
    assert_eq!(
        (&listed[0]["active"], &listed[0]["revoked"]),
        (&json!(false), &json!(true))
    );
    for path in ["/personal_access_tokens/self", "/user"] {
        assert_eq!(
            get(&gl, path, token).await,
            (
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_token", "error_description": "Token was revoked. You have to re-authorize from the user."})
            )
        );
    }
}

#[tokio::test]
async fn expired_unknown_and_job_tokens_are_refused() {
    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(ProjectSpec::new("acme/widgets")).unwrap();
    let alice = gl.add_user(UserSpec::human("alice")).unwrap();
    gl.update_token(&alice.token, |t| {
        t.expires_at = Some(chrono::Utc::now().date_naive());
    })
    .unwrap();
    assert_eq!(
        get(&gl, "/user", &alice.token).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "invalid_token", "error_description": "Token is expired. You can either do re-authorization or token refresh."})
        )
    );
    assert_eq!(
        get(&gl, "/personal_access_tokens/self", "glpat-unknown").await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"message": "401 Unauthorized"})
        )
    );
    let job = gl.add_job_token(project.id, alice.id).unwrap();
    let response = reqwest::Client::new()
        .get(format!("{}/personal_access_tokens/self", gl.api_url()))
        .header("JOB-TOKEN", job)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}
