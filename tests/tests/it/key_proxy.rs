//! The key proxy in front of the model doubles, without a CLI: what the API receives and what
//! comes back to the client.

use doubles::model::{ApiError, Fault, ModelDouble, Script, Turn};
use entrypoint::agent::Assistant;
use entrypoint::proxy::{KeyProxy, Upstream};
use entrypoint::secret::Secret;

use crate::support::real_cli::model_double;
use crate::support::runs::api_of;

/// The key proxy with the real `key`, in front of `double` (the API `assistant`'s CLI speaks).
async fn proxy_in_front_of(double: &ModelDouble, assistant: Assistant, key: &str) -> KeyProxy {
    let (api, base) = api_of(assistant, &double.base_url());
    KeyProxy::start(Upstream::parse(api, &base).unwrap(), Secret::new(key))
        .await
        .unwrap()
}

#[tokio::test]
async fn anthropic_sees_only_the_real_key_and_its_retry_header_comes_back() {
    let script = Script::new().then(Turn::fault(Fault::Status(
        ApiError::new(500, "Internal server error").should_retry(false),
    )));
    let double = model_double(Assistant::Claude, script).await;
    let proxy = proxy_in_front_of(&double, Assistant::Claude, "sk-ant-real-1").await;

    let answer = reqwest::Client::new()
        .post(format!("{}/v1/messages?beta=true", proxy.base_url()))
        .header("x-api-key", "dummy-from-the-cli")
        .header("anthropic-version", "2023-06-01")
        .json(&serde_json::json!({"model": "claude-sonnet-4-6", "stream": true, "messages": []}))
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 500);
    assert_eq!(answer.headers()["x-should-retry"], "false");
    assert_eq!(answer.headers()["request-id"], "req_double_error");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Internal server error");
    let requests = double.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, "/v1/messages");
    assert_eq!(requests[0].query.as_deref(), Some("beta=true"));
    assert_eq!(requests[0].credential(), Some("sk-ant-real-1"));
    assert!(!requests[0].contains("dummy-from-the-cli"));
    assert_eq!(requests[0].header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn openai_gets_a_bearer_token_and_streams_back_its_events() {
    let double = model_double(Assistant::Codex, Script::new().then(Turn::text("streamed"))).await;
    let proxy = proxy_in_front_of(&double, Assistant::Codex, "sk-real-2").await;

    let answer = reqwest::Client::new()
        .post(format!("{}/responses", proxy.base_url()))
        .bearer_auth("dummy-from-the-cli")
        .json(&serde_json::json!({"model": "gpt-5.5", "stream": true, "input": []}))
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    assert_eq!(answer.headers()["cache-control"], "no-cache");
    let text = answer.text().await.unwrap();
    assert!(text.contains("event: response.completed"), "{text}");
    assert!(text.contains("streamed"), "{text}");
    let requests = double.requests();
    assert_eq!(requests[0].path, "/v1/responses");
    assert_eq!(requests[0].credential(), Some("sk-real-2"));
    assert!(!requests[0].contains("dummy-from-the-cli"));
}
