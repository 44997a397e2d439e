//! The double's server applies scripted faults before routing, the way a flaky GitLab would look
//! to a client on the wire.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use doubles::gitlab::faults::{FaultAction, FaultRule, Faults, Schedule};
use doubles::gitlab::server::serve;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

struct Running {
    addr: SocketAddr,
    faults: Faults,
    client: reqwest::Client,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A GET of `path` with the test's client, answered.
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("a response")
    }

    /// The status of a GET of `path`.
    async fn status(&self, path: &str) -> u16 {
        self.get(path).await.status().as_u16()
    }

    /// The statuses of `count` GETs of `path`, one after the other.
    async fn statuses(&self, path: &str, count: usize) -> Vec<u16> {
        let mut statuses = Vec::new();
        for _ in 0..count {
            statuses.push(self.status(path).await);
        }
        statuses
    }

    /// From now on only `rule` is scripted.
    fn script(&self, rule: FaultRule) {
        self.faults.clear();
        self.faults.add(rule);
    }

    async fn stop(self) {
        self.stop.send(()).expect("server still running");
        let result = tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("graceful shutdown finishes")
            .expect("server task did not panic");
        result.expect("serve returns Ok after shutdown");
    }
}

fn app() -> Router {
    Router::new()
        .route(
            "/api/v4/projects/{id}/issues",
            get(|| async { "[]" }).post(|| async { "{}" }),
        )
        .route(
            "/api/v4/projects/{id}/issues/{iid}/notes",
            get(|| async { "[]" }),
        )
        .route(
            "/api/v4/version",
            get(|| async { r#"{"version":"17.0.0"}"# }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(400)).await;
                "slow done"
            }),
        )
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
}

async fn start() -> Running {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("bound address");
    let faults = Faults::default();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, app(), faults.clone(), async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        faults,
        client: client(),
        stop,
        task,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

fn rule(method: Option<&str>, path: &str, action: FaultAction, schedule: Schedule) -> FaultRule {
    FaultRule {
        method: method.map(str::to_owned),
        path: path.to_owned(),
        action,
        schedule,
    }
}

/// `action` on every request to `path`, whatever its method.
fn always(path: &str, action: FaultAction) -> FaultRule {
    rule(None, path, action, Schedule::Always)
}

#[tokio::test]
async fn status_fault_answers_with_gitlab_error_json() {
    let server = start().await;
    server.faults.add(always(
        "/api/v4/projects/*/issues/**",
        FaultAction::Status { code: 503 },
    ));
    let response = server
        .get("/api/v4/projects/group%2Fproj/issues/3/notes")
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: serde_json::Value = response.json().await.expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({"message": "503 Service Unavailable"})
    );

    assert_eq!(server.status("/api/v4/version").await, 200);
    assert_eq!(server.faults.injected(), 1);
    server.stop().await;
}

#[tokio::test]
async fn status_fault_500_and_502_messages() {
    let server = start().await;
    for (code, message) in [(500, "500 Internal Server Error"), (502, "502 Bad Gateway")] {
        server.script(always("/api/v4/version", FaultAction::Status { code }));
        let response = server.get("/api/v4/version").await;
        assert_eq!(response.status().as_u16(), code);
        let body: serde_json::Value = response.json().await.expect("JSON body");
        assert_eq!(body["message"], message);
    }
    server.stop().await;
}

#[tokio::test]
async fn rate_limited_fault_answers_429_with_gitlab_headers() {
    let server = start().await;
    server.faults.add(rule(
        Some("GET"),
        "/api/v4/**",
        FaultAction::RateLimited {
            retry_after_secs: 7,
        },
        Schedule::Times { n: 1 },
    ));
    let before = SystemTime::now();
    let response = server.get("/api/v4/version").await;
    assert_eq!(response.status(), 429);
    let header = |name: &str| {
        response.headers()[name]
            .to_str()
            .expect("ASCII header")
            .to_owned()
    };
    assert_eq!(header("retry-after"), "7");
    assert_eq!(header("content-type"), "text/plain");
    assert_eq!(header("ratelimit-remaining"), "0");
    assert_eq!(header("ratelimit-name"), "throttle_authenticated_api");
    let limit: u64 = header("ratelimit-limit").parse().expect("numeric limit");
    let observed: u64 = header("ratelimit-observed")
        .parse()
        .expect("numeric observed");
    assert!(
        observed > limit,
        "a throttled client has used more than its limit"
    );
    let reset: u64 = header("ratelimit-reset").parse().expect("Unix time");
    let reset_time = httpdate::parse_http_date(&header("ratelimit-resettime")).expect("HTTP date");
    let reset_time_unix = reset_time
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs();
    assert_eq!(reset, reset_time_unix);
    let expected = before
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch")
        .as_secs()
        + 7;
    assert!(
        (expected..=expected + 2).contains(&reset),
        "reset {reset} vs expected {expected}"
    );
    assert_eq!(response.text().await.expect("text body"), "Retry later");

    assert_eq!(server.status("/api/v4/version").await, 200);
    server.stop().await;
}

#[tokio::test]
async fn latency_fault_delays_then_lets_the_request_through() {
    let server = start().await;
    server
        .faults
        .add(always("/api/v4/version", FaultAction::Latency { ms: 300 }));
    let started = Instant::now();
    let response = server.get("/api/v4/version").await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.expect("body"),
        r#"{"version":"17.0.0"}"#
    );
    assert!(
        elapsed >= Duration::from_millis(300),
        "answered after {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_secs(5),
        "answered after {elapsed:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn drop_fault_closes_the_connection_without_a_response() {
    let server = start().await;
    server.faults.add(rule(
        None,
        "/api/v4/version",
        FaultAction::Drop,
        Schedule::Times { n: 2 },
    ));

    let mut raw = TcpStream::connect(server.addr).await.expect("connect");
    raw.write_all(b"GET /api/v4/version HTTP/1.1\r\nHost: double\r\n\r\n")
        .await
        .expect("send");
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), raw.read_to_end(&mut received))
        .await
        .expect("the server hangs up instead of leaving the connection open");
    if read.is_ok() {
        assert!(
            received.is_empty(),
            "got bytes: {:?}",
            String::from_utf8_lossy(&received)
        );
    }

    let client = client();
    let error = client
        .get(server.url("/api/v4/version"))
        .send()
        .await
        .expect_err("a dropped connection is an error, not a response");
    assert!(
        error.status().is_none() && !error.is_timeout(),
        "unexpected error kind: {error:?}"
    );

    assert_eq!(server.status("/api/v4/version").await, 200);
    assert_eq!(server.faults.injected(), 2);
    server.stop().await;
}

#[tokio::test]
async fn schedules_fire_the_right_number_of_times_over_http() {
    let server = start().await;
    server.faults.add(rule(
        None,
        "/api/v4/projects/*/issues",
        FaultAction::Status { code: 500 },
        Schedule::EveryNth { n: 3 },
    ));
    assert_eq!(
        server.statuses("/api/v4/projects/1/issues", 6).await,
        [200, 200, 500, 200, 200, 500]
    );

    let half_failing = || {
        rule(
            None,
            "/api/v4/version",
            FaultAction::Status { code: 502 },
            Schedule::Fraction {
                ratio: 0.5,
                seed: 42,
            },
        )
    };
    server.script(half_failing());
    let first = server.statuses("/api/v4/version", 40).await;
    server.script(half_failing());
    let second = server.statuses("/api/v4/version", 40).await;
    assert_eq!(first, second, "the same seed gives the same sequence");
    assert!(
        first.contains(&200) && first.contains(&502),
        "a 0.5 ratio mixes: {first:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn method_filter_leaves_other_methods_alone() {
    let server = start().await;
    server.faults.add(rule(
        Some("POST"),
        "/api/v4/projects/*/issues",
        FaultAction::Status { code: 500 },
        Schedule::Always,
    ));
    let client = client();
    let url = server.url("/api/v4/projects/1/issues");
    assert_eq!(
        client.get(&url).send().await.expect("response").status(),
        200
    );
    assert_eq!(
        client.post(&url).send().await.expect("response").status(),
        500
    );
    assert_eq!(server.faults.injected(), 1);
    server.stop().await;
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let server = start().await;
    let body = client()
        .get(server.url("/peer"))
        .send()
        .await
        .expect("response")
        .text()
        .await;
    assert_eq!(body.expect("text"), "127.0.0.1");
    server.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_requests_in_flight_and_stops_accepting() {
    let server = start().await;
    let addr = server.addr;
    let in_flight = tokio::spawn({
        let url = server.url("/slow");
        async move { client().get(url).send().await?.text().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.stop().await;
    assert_eq!(
        in_flight
            .await
            .expect("no panic")
            .expect("the slow request completes"),
        "slow done"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is closed after shutdown"
    );
}
