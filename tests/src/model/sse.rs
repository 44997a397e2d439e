//! Server-Sent Events bodies as both model APIs stream them: `event: NAME` and one `data:`
//! line of JSON per event, events separated by a blank line.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use serde_json::Value;

const RESET_AFTER: Duration = Duration::from_millis(100);

/// One named event with its JSON payload.
pub(crate) struct SseEvent {
    pub name: String,
    pub data: Value,
}

impl SseEvent {
    pub fn new(name: impl Into<String>, data: Value) -> Self {
        Self {
            name: name.into(),
            data,
        }
    }

    fn encode(&self) -> Bytes {
        Bytes::from(format!("event: {}\ndata: {}\n\n", self.name, self.data))
    }
}

/// How the stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Complete,
    /// The body fails after the events, so the server resets the connection mid-stream.
    Reset,
}

/// A `200 text/event-stream` response carrying `events`.
pub(crate) fn stream(events: Vec<SseEvent>, ending: Ending) -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        events.iter().map(|e| Ok(e.encode())).collect();
    let body = match ending {
        Ending::Complete => Body::from_stream(futures::stream::iter(chunks)),
        Ending::Reset => Body::from_stream(futures::stream::iter(chunks).chain(
            futures::stream::once(async {
                // Lets the status line and the events reach the client before the reset.
                tokio::time::sleep(RESET_AFTER).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "scripted fault: connection dropped mid-stream",
                ))
            }),
        )),
    };
    let mut response = body.into_response();
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// Splits `text` in two at a character boundary, so clients must join deltas.
pub(crate) fn halves(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid += 1;
    }
    [&text[..mid], &text[mid..]]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect()
}
