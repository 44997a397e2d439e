//! Which headers cross the proxy.
//!
//! Hop-by-hop headers describe one connection, not the message, so a proxy must drop them and
//! any header the `Connection` header names (RFC 9110 §7.6.1). Everything else passes
//! unchanged, in both directions, because the CLIs depend on API headers: Claude Code stops
//! retrying only when the API says `x-should-retry: false`.

use http::HeaderMap;
use http::header::{self, HeaderName};

use crate::proxy::upstream::ModelApi;
use crate::secret::Secret;

/// The fixed hop-by-hop headers (RFC 9110 §7.6.1, plus the obsolete `keep-alive` and
/// `proxy-connection` that clients still send).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers through which a client presents a credential. Whatever the CLI sent (the dummy key,
/// or anything a prompt-injected command adds) is dropped; only the real key is sent on.
const CREDENTIALS: &[&str] = &["authorization", "x-api-key", "api-key", "cookie"];

/// Drops hop-by-hop headers, including those listed in `Connection`.
pub(crate) fn remove_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(*name);
    }
}

/// The headers of a request as they go upstream: hop-by-hop, `Host` (the client may name any
/// host; the upstream's own is used), `Content-Length` (recomputed from the body) and every
/// credential removed, then the real key added the way `api` expects it.
pub(crate) fn upstream_request_headers(
    mut headers: HeaderMap,
    api: ModelApi,
    key: &Secret,
) -> Result<HeaderMap, http::header::InvalidHeaderValue> {
    remove_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    for name in CREDENTIALS {
        headers.remove(*name);
    }
    let (name, value) = match api {
        ModelApi::Anthropic => (
            HeaderName::from_static("x-api-key"),
            key.expose().to_owned(),
        ),
        ModelApi::OpenAi => (header::AUTHORIZATION, format!("Bearer {}", key.expose())),
    };
    let mut value = http::HeaderValue::from_str(&value)?;
    value.set_sensitive(true);
    headers.insert(name, value);
    Ok(headers)
}

/// The headers of a request for an MCP server: as for a model call, hop-by-hop, `Host`,
/// `Content-Length` and every client credential removed (and any header the configuration
/// sets, so the client cannot add a second value), then the configured headers added.
pub(crate) fn service_request_headers(
    mut headers: HeaderMap,
    configured: &[(HeaderName, http::HeaderValue)],
) -> HeaderMap {
    remove_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    for name in CREDENTIALS {
        headers.remove(*name);
    }
    for (name, _) in configured {
        headers.remove(name);
    }
    for (name, value) in configured {
        headers.append(name.clone(), value.clone());
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (n, v) in pairs {
            headers.append(
                HeaderName::from_bytes(n.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        headers
    }

    #[test]
    fn connection_named_and_fixed_hop_by_hop_headers_are_dropped() {
        let mut headers = map(&[
            ("connection", "keep-alive, x-private-hop"),
            ("x-private-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("x-should-retry", "false"),
            ("content-type", "text/event-stream"),
        ]);
        remove_hop_by_hop(&mut headers);
        let names: Vec<_> = headers.keys().map(HeaderName::as_str).collect();
        assert_eq!(names, ["x-should-retry", "content-type"]);
    }

    #[test]
    fn every_client_credential_is_replaced_by_the_real_key() {
        let client = map(&[
            ("x-api-key", "dummy"),
            ("authorization", "Bearer dummy"),
            ("cookie", "a=b"),
            ("host", "evil.example"),
            ("content-length", "12"),
            ("anthropic-version", "2023-06-01"),
        ]);
        let key = Secret::new("sk-real");

        let anthropic =
            upstream_request_headers(client.clone(), ModelApi::Anthropic, &key).unwrap();
        assert_eq!(anthropic.get("x-api-key").unwrap(), "sk-real");
        assert!(anthropic.get("authorization").is_none());
        assert!(anthropic.get("host").is_none() && anthropic.get("cookie").is_none());
        assert_eq!(anthropic.get("anthropic-version").unwrap(), "2023-06-01");

        let openai = upstream_request_headers(client, ModelApi::OpenAi, &key).unwrap();
        assert_eq!(openai.get("authorization").unwrap(), "Bearer sk-real");
        assert!(openai.get("x-api-key").is_none());
        assert!(openai.get("authorization").unwrap().is_sensitive());
    }

    #[test]
    fn a_service_gets_its_configured_headers_and_none_of_the_clients_credentials() {
        let client = map(&[
            ("authorization", "Bearer planted"),
            ("x-tracker-token", "planted"),
            ("cookie", "a=b"),
            ("mcp-session-id", "s1"),
            ("accept", "application/json, text/event-stream"),
        ]);
        let configured = [
            (
                HeaderName::from_static("authorization"),
                HeaderValue::from_static("Bearer real"),
            ),
            (
                HeaderName::from_static("x-tracker-token"),
                HeaderValue::from_static("real"),
            ),
        ];
        let sent = service_request_headers(client, &configured);
        assert_eq!(sent.get_all("authorization").iter().count(), 1);
        assert_eq!(sent["authorization"], "Bearer real");
        assert_eq!(sent.get_all("x-tracker-token").iter().count(), 1);
        assert_eq!(sent["x-tracker-token"], "real");
        assert!(sent.get("cookie").is_none());
        assert_eq!(sent["mcp-session-id"], "s1");
        assert_eq!(sent["accept"], "application/json, text/event-stream");
    }
}
