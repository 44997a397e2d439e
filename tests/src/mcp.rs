//! A small MCP server speaking the streamable HTTP transport, standing in for an issue
//! tracker's: one tool, `get_issue`, behind a bearer token.
//!
//! It is no kinder than the specification (revision 2025-06-18,
//! <https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#streamable-http>):
//! - every JSON-RPC message is a `POST` to the one endpoint, whose `Accept` must list both
//!   `application/json` and `text/event-stream`; a notification is answered `202 Accepted` with
//!   no body; a `GET` (the optional server-to-client stream) is `405 Method Not Allowed`;
//! - the `initialize` answer carries an `Mcp-Session-Id`, and every later request must send it
//!   back (`400 Bad Request` otherwise, `404 Not Found` for an unknown one);
//! - a request without the right `Authorization: Bearer` token is `401 Unauthorized` with a
//!   `WWW-Authenticate` header
//!   (<https://modelcontextprotocol.io/specification/2025-06-18/basic/authorization>), and is
//!   not processed;
//! - the protocol version is the client's when the server supports it, else the server's
//!   latest (lifecycle, "Version Negotiation").

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The path the server answers on.
pub const PATH: &str = "/mcp";

/// The tool the double offers.
pub const TOOL: &str = "get_issue";

/// Protocol revisions the double speaks, oldest first.
const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18"];

/// The protocol version a server answers an `initialize` request with: the client's when it is
/// one of [`VERSIONS`], else the newest this double speaks
/// (<https://modelcontextprotocol.io/specification/2025-06-18/basic/lifecycle#version-negotiation>).
/// The HTTP double and the stdio double (`mcp-stdio-double`) negotiate alike.
pub fn negotiated_version(initialize: &Value) -> &str {
    let asked = initialize["params"]["protocolVersion"]
        .as_str()
        .unwrap_or_default();
    if VERSIONS.contains(&asked) {
        asked
    } else {
        VERSIONS[VERSIONS.len() - 1]
    }
}

/// One HTTP request as the double received it.
#[derive(Debug, Clone)]
pub struct McpRequest {
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Whether its bearer token was the right one.
    pub authorized: bool,
}

/// A running MCP double on `127.0.0.1`; it stops when dropped.
pub struct McpDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

struct Shared {
    token: String,
    answer: String,
    session: String,
    requests: Mutex<Vec<McpRequest>>,
    calls: Mutex<Vec<Value>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl McpDouble {
    /// Serves `get_issue`, which answers `answer`, to clients presenting `Bearer token`.
    pub async fn start(token: &str, answer: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            token: token.to_owned(),
            answer: answer.to_owned(),
            session: format!("session-{}", addr.port()),
            requests: Mutex::default(),
            calls: Mutex::default(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<McpRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The arguments of each `tools/call` of [`TOOL`], in order.
    pub fn tool_calls(&self) -> Vec<Value> {
        lock(&self.shared.calls).clone()
    }
}

impl Drop for McpDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).into_owned();
    let authorized = header_value(&parts.headers, header::AUTHORIZATION.as_str())
        == Some(format!("Bearer {}", shared.token));
    lock(&shared.requests).push(McpRequest {
        method: parts.method.to_string(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
            .collect(),
        body: text.clone(),
        authorized,
    });
    if parts.uri.path() != PATH {
        return status(StatusCode::NOT_FOUND, "");
    }
    if !authorized {
        let mut response = status(StatusCode::UNAUTHORIZED, "invalid or missing bearer token");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"mcp-double\""),
        );
        return response;
    }
    match parts.method {
        Method::POST => {}
        Method::DELETE => return status(StatusCode::NO_CONTENT, ""),
        _ => return status(StatusCode::METHOD_NOT_ALLOWED, ""),
    }
    let accept = header_value(&parts.headers, header::ACCEPT.as_str()).unwrap_or_default();
    if !(accept.contains("application/json") && accept.contains("text/event-stream")) {
        return status(
            StatusCode::NOT_ACCEPTABLE,
            "Accept must list application/json and text/event-stream",
        );
    }
    let Ok(message) = serde_json::from_str::<Value>(&text) else {
        return rpc(
            json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "parse error"}}),
            None,
        );
    };
    let method = message["method"].as_str().unwrap_or_default().to_owned();
    let session = header_value(&parts.headers, "mcp-session-id");
    if method == "initialize" {
        let version = negotiated_version(&message);
        return rpc(
            json!({"jsonrpc": "2.0", "id": message["id"], "result": {
                "protocolVersion": version,
                "capabilities": {"tools": {"listChanged": false}},
                "serverInfo": {"name": "tracker-double", "version": "1.0.0"},
            }}),
            Some(&shared.session),
        );
    }
    match session {
        None => return status(StatusCode::BAD_REQUEST, "Mcp-Session-Id is required"),
        Some(id) if id != shared.session => {
            return status(StatusCode::NOT_FOUND, "unknown session");
        }
        Some(_) => {}
    }
    if message.get("id").is_none() {
        // A notification or a response: accepted, nothing to say.
        return status(StatusCode::ACCEPTED, "");
    }
    let id = message["id"].clone();
    let result = match method.as_str() {
        "ping" => json!({}),
        "tools/list" => json!({"tools": [{
            "name": TOOL,
            "description": "Reads an issue of the tracker by its key.",
            "inputSchema": {
                "type": "object",
                "properties": {"key": {"type": "string", "description": "The issue key, such as WEB-7"}},
                "required": ["key"],
            },
        }]}),
        "tools/call" if message["params"]["name"] == TOOL => {
            let arguments = message["params"]["arguments"].clone();
            lock(&shared.calls).push(arguments.clone());
            let key = arguments["key"].as_str().unwrap_or("?");
            json!({"content": [{"type": "text", "text": format!("{key}: {}", shared.answer)}], "isError": false})
        }
        "tools/call" => {
            return rpc(
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32602, "message": "unknown tool"}}),
                None,
            );
        }
        _ => {
            return rpc(
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("method not found: {method}")}}),
                None,
            );
        }
    };
    rpc(json!({"jsonrpc": "2.0", "id": id, "result": result}), None)
}

fn header_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn status(code: StatusCode, text: &str) -> Response {
    let mut response = Response::new(Body::from(text.to_owned()));
    *response.status_mut() = code;
    response
}

fn rpc(message: Value, session: Option<&str>) -> Response {
    let mut response = Response::new(Body::from(message.to_string()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    if let Some(session) = session
        && let Ok(value) = header::HeaderValue::from_str(session)
    {
        response.headers_mut().insert("mcp-session-id", value);
    }
    response
}
