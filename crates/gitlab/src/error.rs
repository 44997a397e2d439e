//! What can go wrong talking to GitLab, in terms a person can act on.
//!
//! Errors carry the method, the endpoint path (as in GitLab's docs, without the query, which can
//! hold a trigger token) and the status, plus GitLab's own explanation. GitLab answers errors
//! with `{"message": …}` or `{"error": …}`, where `message` is a string, an array of strings or
//! an object of field → messages.
//! <https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>

use std::fmt;

use reqwest::{Method, StatusCode};

use super::ids::MergeRequestIid;

/// Longest stretch of a non-JSON error body kept in an error (an HTML proxy page says nothing
/// useful past its title).
const MAX_TEXT_BODY: usize = 300;

/// GitLab's explanation of an error response, flattened to one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiMessage(String);

impl ApiMessage {
    /// Reads `message` (string, array or object of field → messages), else `error` (plus
    /// `error_description` for OAuth-style scope errors), else the text itself, shortened.
    pub fn from_body(body: &[u8]) -> Self {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(text) = value.get("message").and_then(flatten) {
                return Self(text);
            }
            if let Some(text) = value.get("error").and_then(flatten) {
                let description = value.get("error_description").and_then(flatten);
                return Self(match description {
                    Some(d) => format!("{text}: {d}"),
                    None => text,
                });
            }
            if let Some(text) = flatten(&value) {
                return Self(text);
            }
        }
        let text = String::from_utf8_lossy(body);
        let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
        Self(match one_line.char_indices().nth(MAX_TEXT_BODY) {
            Some((cut, _)) => format!("{}…", &one_line[..cut]),
            None => one_line,
        })
    }

    /// The flattened text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when GitLab said nothing usable.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ApiMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line from any JSON shape: strings as they are, arrays joined with `; `, objects as
/// `field message, message; field2 message`.
fn flatten(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let text = match value {
        Value::Null => return None,
        Value::String(s) => s.trim().to_owned(),
        Value::Bool(_) | Value::Number(_) => value.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(flatten)
            .collect::<Vec<_>>()
            .join("; "),
        Value::Object(fields) => fields
            .iter()
            .filter_map(|(field, messages)| {
                flatten_joined(messages, ", ").map(|m| format!("{field} {m}"))
            })
            .collect::<Vec<_>>()
            .join("; "),
    };
    (!text.is_empty()).then_some(text)
}

fn flatten_joined(value: &serde_json::Value, separator: &str) -> Option<String> {
    match value {
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(flatten).collect();
            (!parts.is_empty()).then(|| parts.join(separator))
        }
        other => flatten(other),
    }
}

/// What every endpoint method returns: the error is a [`GitLabError`] unless said otherwise.
pub type Result<T, E = GitLabError> = std::result::Result<T, E>;

/// A failed GitLab call.
#[derive(Debug, thiserror::Error)]
pub enum GitLabError {
    /// GitLab answered with a non-success status.
    #[error("GitLab {method} {path} failed with {status}{}{}{}", message_suffix(.message), attempts_suffix(*.attempts), token_hint(*.status, .message))]
    Api {
        /// The HTTP method.
        method: Method,
        /// The endpoint path as in GitLab's docs, without base URL or query.
        path: String,
        /// The final status.
        status: StatusCode,
        /// GitLab's explanation.
        message: ApiMessage,
        /// How many attempts were made (more than one when retries ran out).
        attempts: u32,
    },
    /// No usable HTTP response: connection refused, TLS failure, timeout, broken body. The
    /// whole cause chain is in the message (and not repeated as `source`), so one line says
    /// what went wrong.
    #[error("GitLab {method} {path} could not be completed: {}{}{}", cause_chain(.cause), attempts_suffix(*.attempts), tls_hint(.cause))]
    Transport {
        /// The HTTP method.
        method: Method,
        /// The endpoint path.
        path: String,
        /// The underlying error, with the URL removed.
        cause: reqwest::Error,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A success response whose body is not what GitLab documents.
    #[error("GitLab {method} {path} returned {status} with an unexpected body: {source}")]
    Decode {
        /// The HTTP method.
        method: Method,
        /// The endpoint path.
        path: String,
        /// The status of the response.
        status: StatusCode,
        /// Why it did not parse.
        source: serde_json::Error,
    },
    /// The retry budget ran out before the server's `Retry-After` time; waiting longer would
    /// break the configured total time limit.
    #[error("GitLab {method} {path} answered {status} and asked to retry in {}s, beyond the remaining time budget{}", .retry_after.as_secs(), attempts_suffix(*.attempts))]
    RetryBudgetExhausted {
        /// The HTTP method.
        method: Method,
        /// The endpoint path.
        path: String,
        /// The last status (429 or 503).
        status: StatusCode,
        /// What the server asked for.
        retry_after: std::time::Duration,
        /// How many attempts were made.
        attempts: u32,
    },
    /// A URL could not be built (an invalid path or an unusable `Link` header).
    #[error("GitLab {method} {path}: cannot build the request URL: {reason}")]
    Url {
        /// The HTTP method.
        method: Method,
        /// The endpoint path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// Creating a merge request was refused (409) because one is already open for the source
    /// branch. Look it up with [`super::GitLab::find_open_merge_request`] and update it, or use
    /// [`super::GitLab::create_or_update_merge_request`].
    /// <https://docs.gitlab.com/api/merge_requests/#create-mr>
    #[error("a merge request is already open for source branch {source_branch:?}{}: {message}", .existing.map(|iid| format!(" (!{iid})")).unwrap_or_default())]
    MergeRequestAlreadyExists {
        /// The branch asked for.
        source_branch: String,
        /// The IID GitLab named in its message (`…: !7`), when it did.
        existing: Option<MergeRequestIid>,
        /// GitLab's message.
        message: ApiMessage,
    },
}

fn message_suffix(message: &ApiMessage) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

/// What to do about an authentication or permission failure, which in a CI job almost always
/// means the `GITLAB_TOKEN` variable.
/// <https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>
fn token_hint(status: StatusCode, message: &ApiMessage) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => {
            "; GITLAB_TOKEN was not accepted: check that the token is not expired or revoked"
        }
        StatusCode::FORBIDDEN if message.as_str().contains("insufficient_scope") => {
            "; GITLAB_TOKEN lacks the `api` scope: create a token with scope `api`"
        }
        StatusCode::FORBIDDEN => {
            "; the token's role may be too low: posting notes and opening merge requests needs Developer"
        }
        _ => "",
    }
}

/// `error sending request: client error (Connect): invalid peer certificate: UnknownIssuer`,
/// without repeating a message that a wrapper already printed.
pub fn cause_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = vec![error.to_string()];
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

fn tls_hint(error: &reqwest::Error) -> &'static str {
    if super::retry::is_tls_rejection(error) {
        "; if GitLab uses a private CA, set CI_SERVER_TLS_CA_FILE (or SSL_CERT_FILE) to its PEM bundle"
    } else {
        ""
    }
}

fn attempts_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} attempts)")
    } else {
        String::new()
    }
}

impl GitLabError {
    /// The HTTP status GitLab answered with, when there was an answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            GitLabError::Api { status, .. }
            | GitLabError::Decode { status, .. }
            | GitLabError::RetryBudgetExhausted { status, .. } => Some(*status),
            GitLabError::MergeRequestAlreadyExists { .. } => Some(StatusCode::CONFLICT),
            GitLabError::Transport { .. } | GitLabError::Url { .. } => None,
        }
    }

    /// True for 404, which GitLab also answers for things that exist but are hidden from the
    /// token's user. <https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// True for 404 `{"message":"404 Project Not Found"}`: the project itself is missing or
    /// hidden from the token (`find_project!` → `not_found!('Project')` in GitLab's
    /// `lib/api/helpers.rb`), as opposed to a missing note, issue or merge request inside it
    /// (`404 Not found` from ActiveRecord, or `404 <Thing> Not Found`).
    pub fn is_project_not_found(&self) -> bool {
        self.is_not_found()
            && self
                .api_message()
                .is_some_and(|m| m.to_string().contains("404 Project Not Found"))
    }

    /// GitLab's explanation, when it gave one.
    pub fn api_message(&self) -> Option<&ApiMessage> {
        match self {
            GitLabError::Api { message, .. }
            | GitLabError::MergeRequestAlreadyExists { message, .. } => Some(message),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(body: &str) -> String {
        ApiMessage::from_body(body.as_bytes()).0
    }

    #[test]
    fn string_messages_are_kept() {
        assert_eq!(
            msg(r#"{"message":"404 Project Not Found"}"#),
            "404 Project Not Found"
        );
        assert_eq!(msg(r#"{"error":"body is missing"}"#), "body is missing");
        assert_eq!(
            msg(
                r#"{"error":"insufficient_scope","error_description":"The request requires higher privileges."}"#
            ),
            "insufficient_scope: The request requires higher privileges."
        );
    }

    #[test]
    fn array_messages_are_joined() {
        assert_eq!(
            msg(
                r#"{"message":["Another open merge request already exists for this source branch: !7"]}"#
            ),
            "Another open merge request already exists for this source branch: !7"
        );
        assert_eq!(msg(r#"{"message":["a","b"]}"#), "a; b");
    }

    #[test]
    fn field_messages_name_the_field() {
        assert_eq!(
            msg(r#"{"message":{"body":["is too long"]}}"#),
            "body is too long"
        );
        assert_eq!(
            msg(r#"{"message":{"title":["can't be blank","is too short"],"base":["x"]}}"#),
            "base x; title can't be blank, is too short"
        );
    }

    #[test]
    fn non_json_bodies_are_shortened_to_one_line() {
        assert_eq!(msg("Retry later\n"), "Retry later");
        let long = "x ".repeat(1000);
        let m = msg(&long);
        assert!(m.chars().count() <= MAX_TEXT_BODY + 1 && m.ends_with('…'));
        assert_eq!(msg(""), "");
    }

    #[test]
    fn display_is_one_line_with_method_path_status_and_message() {
        let e = GitLabError::Api {
            method: Method::POST,
            path: "/projects/1/issues/2/notes".into(),
            status: StatusCode::BAD_REQUEST,
            message: ApiMessage::from_body(br#"{"message":{"body":["is too long"]}}"#),
            attempts: 1,
        };
        assert_eq!(
            e.to_string(),
            "GitLab POST /projects/1/issues/2/notes failed with 400 Bad Request: body is too long"
        );
        assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn auth_failures_point_at_gitlab_token() {
        let e = GitLabError::Api {
            method: Method::GET,
            path: "/user".into(),
            status: StatusCode::UNAUTHORIZED,
            message: ApiMessage::from_body(br#"{"message":"401 Unauthorized"}"#),
            attempts: 1,
        };
        assert!(
            e.to_string().contains("GITLAB_TOKEN was not accepted"),
            "{e}"
        );
        let e = GitLabError::Api {
            method: Method::POST,
            path: "/projects/1/issues/1/notes".into(),
            status: StatusCode::FORBIDDEN,
            message: ApiMessage::from_body(br#"{"error":"insufficient_scope"}"#),
            attempts: 1,
        };
        assert!(
            e.to_string().ends_with("create a token with scope `api`"),
            "{e}"
        );
    }
}
