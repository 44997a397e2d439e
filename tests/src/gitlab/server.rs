//! The double's HTTP server: an accept loop of its own (hyper + hyper-util rather than
//! `axum::serve`) so that faults apply before routing and a `Drop` fault can really abort the
//! TCP connection instead of answering.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

use super::faults::{FaultAction, Faults};

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and waits for the
/// requests in flight to finish (idle keep-alive connections are closed at once).
///
/// Every request is first shown to `faults`; handlers can read the peer address with
/// `axum::extract::ConnectInfo<SocketAddr>`. HTTP/1.1 and HTTP/2 (prior knowledge) are both
/// served, with upgrades. Returns an error only when accepting fails for a reason other than one
/// client's connection going away.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    faults: Faults,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(error) if is_per_connection(&error) => {
                    tracing::debug!(%error, "a client connection failed during accept");
                    continue;
                }
                Err(error) => return Err(error),
            },
            () = &mut shutdown => break,
        };
        spawn_connection(
            &builder,
            &graceful,
            stream,
            peer,
            app.clone(),
            faults.clone(),
        );
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

fn is_per_connection(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    )
}

fn spawn_connection(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    peer: SocketAddr,
    app: axum::Router,
    faults: Faults,
) {
    // A `Drop` fault wakes this to abandon the connection: dropping the hyper connection closes
    // the socket without writing a response.
    let hangup = Arc::new(Notify::new());
    let service = {
        let hangup = Arc::clone(&hangup);
        hyper::service::service_fn(move |request: http::Request<Incoming>| {
            let app = app.clone();
            let faults = faults.clone();
            let hangup = Arc::clone(&hangup);
            async move {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                Ok::<_, Infallible>(respond(app, &faults, &hangup, request).await)
            }
        })
    };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    let connection = graceful.watch(connection.into_owned());
    tokio::spawn(async move {
        tokio::select! {
            result = connection => {
                if let Err(error) = result {
                    tracing::debug!(%peer, %error, "connection ended with an error");
                }
            }
            () = hangup.notified() => tracing::debug!(%peer, "connection dropped by a fault"),
        }
    });
}

async fn respond(
    app: axum::Router,
    faults: &Faults,
    hangup: &Notify,
    request: http::Request<Body>,
) -> Response {
    match faults.decide(request.method(), request.uri().path()) {
        None => route(app, request).await,
        Some(FaultAction::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            route(app, request).await
        }
        Some(FaultAction::Status { code }) => status_response(code),
        Some(FaultAction::RateLimited { retry_after_secs }) => {
            rate_limited_response(retry_after_secs, SystemTime::now())
        }
        Some(FaultAction::Drop) => {
            hangup.notify_one();
            std::future::pending().await
        }
    }
}

async fn route(app: axum::Router, request: http::Request<Body>) -> Response {
    match app.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// GitLab's API error shape: `{"message":"<code> <reason>"}`
/// (<https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>).
pub fn status_response(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let body = serde_json::json!({ "message": message }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The throttle the double pretends to be: GitLab's authenticated API request limit.
const THROTTLE_NAME: &str = "throttle_authenticated_api";
/// Requests per minute the pretended throttle allows (the example value in GitLab's docs).
const THROTTLE_LIMIT: u64 = 60;

/// A `Rack::Attack` throttle answer: `429`, plain-text `Retry later`, `RateLimit-Limit`,
/// `RateLimit-Name`, `RateLimit-Observed`, `RateLimit-Remaining`, `RateLimit-Reset` (Unix time),
/// `RateLimit-ResetTime` (HTTP date) and `Retry-After` (seconds)
/// (<https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers>).
pub fn rate_limited_response(retry_after_secs: u64, now: SystemTime) -> Response {
    let reset = now + Duration::from_secs(retry_after_secs);
    let reset_unix = reset
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let headers = [
        ("RateLimit-Limit", THROTTLE_LIMIT.to_string()),
        ("RateLimit-Name", THROTTLE_NAME.to_owned()),
        ("RateLimit-Observed", (THROTTLE_LIMIT + 1).to_string()),
        ("RateLimit-Remaining", "0".to_owned()),
        ("RateLimit-Reset", reset_unix.to_string()),
        ("RateLimit-ResetTime", httpdate::fmt_http_date(reset)),
        ("Retry-After", retry_after_secs.to_string()),
    ];
    let mut response = Response::new(Body::from("Retry later"));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let map = response.headers_mut();
    map.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            map.insert(name, value);
        }
    }
    response
}
