//! The proxy against small local upstreams: what it forwards, what it refuses, and that
//! streams are not buffered.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::response::Response;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::*;

type Seen = Arc<Mutex<Vec<(String, HeaderMap)>>>;

/// An upstream that records each request's path+query and headers and answers `answer()`.
async fn upstream(answer: fn() -> Response) -> (String, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let app = Router::new().fallback(move |request: Request| {
        let record = record.clone();
        async move {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            record
                .lock()
                .unwrap()
                .push((path, request.headers().clone()));
            answer()
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn ok_with_headers() -> Response {
    Response::builder()
        .status(418)
        .header("x-should-retry", "false")
        .header("request-id", "req_123")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"ok":true}"#))
        .unwrap()
}

/// Sends `request_line` to `addr` as written, with a `Host` header of `host`, and returns
/// the whole answer: how a client that ignores the proxy's URL would talk to it.
async fn raw(addr: &str, request_line: &str, host: &str) -> String {
    let request = format!("{request_line} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// A proxy to the OpenAI-shaped upstream at `base`, holding the key `sk-real`.
async fn openai_proxy(base: &str) -> KeyProxy {
    let upstream = Upstream::parse(ModelApi::OpenAi, base).unwrap();
    KeyProxy::start(upstream, Secret::new("sk-real"))
        .await
        .unwrap()
}

fn host_port(base_url: &str) -> (&str, &str) {
    let rest = base_url.strip_prefix("http://").unwrap();
    let slash = rest.find('/').unwrap();
    (&rest[..slash], &rest[slash..])
}

#[tokio::test]
async fn the_real_key_replaces_the_dummy_and_answers_come_back_unchanged() {
    let (base, seen) = upstream(ok_with_headers).await;
    let upstream = Upstream::parse(ModelApi::Anthropic, &format!("{base}/base")).unwrap();
    let proxy = KeyProxy::start(upstream, Secret::new("sk-ant-real"))
        .await
        .unwrap();

    let answer = reqwest::Client::new()
        .post(format!("{}/v1/messages?beta=true", proxy.base_url()))
        .header("x-api-key", "dummy")
        .header("authorization", "Bearer dummy")
        .header("host", "attacker.example")
        .header("anthropic-version", "2023-06-01")
        .body("{}")
        .send()
        .await
        .unwrap();

    assert_eq!(answer.status(), 418);
    assert_eq!(answer.headers()["x-should-retry"], "false");
    assert_eq!(answer.headers()["request-id"], "req_123");
    assert_eq!(answer.text().await.unwrap(), r#"{"ok":true}"#);
    let seen = seen.lock().unwrap();
    let (path, headers) = &seen[0];
    assert_eq!(path, "/base/v1/messages?beta=true");
    assert_eq!(headers["x-api-key"], "sk-ant-real");
    assert!(headers.get("authorization").is_none());
    assert_eq!(headers["anthropic-version"], "2023-06-01");
    assert_eq!(headers["host"], base.strip_prefix("http://").unwrap());
}

#[tokio::test]
async fn other_hosts_connect_and_foreign_paths_are_refused() {
    let (base, seen) = upstream(ok_with_headers).await;
    let proxy = openai_proxy(&base).await;
    let (addr, prefix) = host_port(proxy.base_url());

    let absolute = raw(
        addr,
        &format!("GET http://example.com{prefix}/models"),
        "example.com",
    )
    .await;
    assert!(absolute.starts_with("HTTP/1.1 403"), "{absolute}");
    assert!(absolute.contains("proxy_forbidden"), "{absolute}");

    let connect = raw(addr, "CONNECT example.com:443", "example.com:443").await;
    assert!(connect.starts_with("HTTP/1.1 403"), "{connect}");

    let no_prefix = raw(addr, "GET /v1/models", addr).await;
    assert!(no_prefix.starts_with("HTTP/1.1 403"), "{no_prefix}");

    assert!(seen.lock().unwrap().is_empty(), "nothing was forwarded");
}

#[tokio::test]
async fn a_spoofed_host_header_still_goes_to_the_configured_upstream() {
    let (base, seen) = upstream(ok_with_headers).await;
    let proxy = openai_proxy(&base).await;
    let (addr, prefix) = host_port(proxy.base_url());

    let answer = raw(addr, &format!("GET {prefix}/models"), "example.com").await;

    assert!(answer.starts_with("HTTP/1.1 418"), "{answer}");
    let seen = seen.lock().unwrap();
    assert_eq!(seen[0].0, "/models");
    assert_eq!(seen[0].1["authorization"], "Bearer sk-real");
}

#[tokio::test]
async fn server_sent_events_arrive_before_the_stream_ends() {
    let release = Arc::new(Notify::new());
    let hold = release.clone();
    let app = Router::new().fallback(move || {
        let hold = hold.clone();
        async move {
            let events = futures::stream::unfold(0, move |step| {
                let hold = hold.clone();
                async move {
                    match step {
                        0 => Some((Ok::<_, std::io::Error>("event: one\ndata: {}\n\n"), 1)),
                        1 => {
                            hold.notified().await;
                            Some((Ok("event: two\ndata: {}\n\n"), 2))
                        }
                        _ => None,
                    }
                }
            });
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(events))
                .unwrap()
        }
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let upstream = Upstream::parse(ModelApi::Anthropic, &format!("http://{addr}")).unwrap();
    let proxy = KeyProxy::start(upstream, Secret::new("k")).await.unwrap();

    let mut answer = reqwest::Client::new()
        .post(format!("{}/v1/messages", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), answer.chunk())
        .await
        .expect("the first event must arrive while the upstream still holds the second")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"event: one\ndata: {}\n\n");
    release.notify_one();
    let rest = tokio::time::timeout(Duration::from_secs(5), answer.text())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rest, "event: two\ndata: {}\n\n");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502_in_the_apis_error_shape() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);

    for api in [ModelApi::Anthropic, ModelApi::OpenAi] {
        let upstream = Upstream::parse(api, &dead).unwrap();
        let proxy = KeyProxy::start(upstream, Secret::new("k")).await.unwrap();
        let answer = reqwest::Client::new()
            .post(format!("{}/v1/messages", proxy.base_url()))
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 502);
        let body: serde_json::Value = answer.json().await.unwrap();
        let message = match api {
            ModelApi::Anthropic => {
                assert_eq!(body["type"], "error");
                assert_eq!(body["error"]["type"], "api_error");
                body["error"]["message"].as_str().unwrap().to_owned()
            }
            ModelApi::OpenAi => {
                assert_eq!(body["error"]["code"], "upstream_unreachable");
                body["error"]["message"].as_str().unwrap().to_owned()
            }
        };
        assert!(message.contains("could not reach"), "{message}");
        assert!(message.contains(api.base_url_variable()), "{message}");
    }
}

#[tokio::test]
async fn a_key_that_cannot_be_a_header_is_refused_at_start() {
    let upstream = Upstream::public(ModelApi::OpenAi);
    let error = KeyProxy::start(upstream, Secret::new("sk-one\nsk-two"))
        .await
        .err()
        .expect("a key with a line break must be refused");
    assert!(error.to_string().contains("OPENAI_API_KEY"), "{error}");
}

#[tokio::test]
async fn an_mcp_route_on_the_same_port_adds_its_own_header_and_never_the_model_key() {
    let (model_base, model_seen) = upstream(ok_with_headers).await;
    let (mcp_base, mcp_seen) = upstream(ok_with_headers).await;
    let proxy = KeyProxy::start_with_services(
        Upstream::parse(ModelApi::OpenAi, &model_base).unwrap(),
        Secret::new("sk-real"),
        None,
        vec![ServiceRoute {
            name: "tracker".into(),
            base: url::Url::parse(&format!("{mcp_base}/mcp")).unwrap(),
            headers: vec![(
                http::header::AUTHORIZATION,
                Secret::new("Bearer tracker-secret"),
            )],
        }],
    )
    .await
    .unwrap();
    let mcp_url = proxy.service_url("tracker").unwrap().to_owned();
    assert_eq!(proxy.service_url("other"), None);
    let (model_addr, _) = host_port(proxy.base_url());
    let (mcp_addr, mcp_prefix) = host_port(&mcp_url);
    assert_eq!(model_addr, mcp_addr, "one port for every route");
    assert_ne!(mcp_prefix, host_port(proxy.base_url()).1);

    let answer = reqwest::Client::new()
        .post(format!("{mcp_url}?x=1"))
        .header("authorization", "Bearer planted")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 418);
    let model_answer = reqwest::Client::new()
        .post(format!("{}/responses", proxy.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(model_answer.status(), 418);
    for escape in ["/../api/v4/projects", "/%2e%2e/admin", "/sub"] {
        let refused = reqwest::Client::new()
            .get(format!("{mcp_url}{escape}"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403, "{escape}");
    }

    let mcp_seen = mcp_seen.lock().unwrap();
    assert_eq!(mcp_seen.len(), 1);
    assert_eq!(mcp_seen[0].0, "/mcp?x=1");
    assert_eq!(mcp_seen[0].1["authorization"], "Bearer tracker-secret");
    let model_seen = model_seen.lock().unwrap();
    assert_eq!(model_seen.len(), 1);
    assert_eq!(model_seen[0].1["authorization"], "Bearer sk-real");
}

#[tokio::test]
async fn an_mcp_header_that_cannot_be_sent_is_refused_at_start_naming_the_server() {
    let error = KeyProxy::start_with_services(
        Upstream::public(ModelApi::OpenAi),
        Secret::new("sk-real"),
        None,
        vec![ServiceRoute {
            name: "tracker".into(),
            base: url::Url::parse("http://127.0.0.1:1/mcp").unwrap(),
            headers: vec![(http::header::AUTHORIZATION, Secret::new("Bearer a\nb"))],
        }],
    )
    .await
    .err()
    .expect("a header with a line break must be refused");
    let message = error.to_string();
    assert!(
        message.contains("tracker") && message.contains("authorization"),
        "{message}"
    );
    assert!(!message.contains("Bearer a"), "{message}");
}
