//! One request through the proxy: check it is ours, swap the credential, send it to the one
//! upstream and stream the answer back as it arrives.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use http::Method;
use http::header::HeaderName;

use crate::budget::Meter;
use crate::budget::meter::StreamUsage;
use crate::error_chain::one_line;
use crate::proxy::ProxyError;
use crate::proxy::headers::{remove_hop_by_hop, service_request_headers, upstream_request_headers};
use crate::proxy::refusal::Refusal;
use crate::proxy::upstream::{ModelApi, Upstream, join_url};
use crate::secret::Secret;

/// Request bodies are buffered up to this size; a model call with a long conversation is a
/// few megabytes.
pub(crate) const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// What every request handler shares.
pub(crate) struct Shared {
    /// The model route's API, whose error shape the proxy's own refusals take.
    pub api: ModelApi,
    /// The model route first, then one per service.
    pub routes: Vec<Route>,
    pub listen: SocketAddr,
    pub http: reqwest::Client,
    /// Where the model API's `Retry-After` is kept ([`super::retry_after`]).
    pub retry_after: Arc<super::retry_after::RetryAfter>,
}

/// One destination behind the proxy.
pub(crate) struct Route {
    /// `/<random token>`: only a client told the route's URL can use it.
    pub prefix: String,
    pub kind: RouteKind,
}

pub(crate) enum RouteKind {
    /// The model API, with the real key and, for Codex, the meter that counts, prices and
    /// limits its calls.
    Model {
        upstream: Upstream,
        key: Secret,
        meter: Option<Arc<Meter>>,
    },
    /// An HTTP MCP server with its headers ready to send.
    Service(ServiceTarget),
}

/// An HTTP service (an MCP server) the proxy forwards to: its name for logs, its URL, and the
/// headers that carry its credential. The header values are secrets (resolved from CI/CD
/// variables by [`crate::agent::mcp`]); the CLI is only ever told the route's URL.
#[derive(Clone)]
pub struct ServiceRoute {
    pub name: String,
    pub base: url::Url,
    pub headers: Vec<(HeaderName, Secret)>,
}

impl std::fmt::Debug for ServiceRoute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceRoute")
            .field("name", &self.name)
            .field("base", &self.base.as_str())
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// A [`ServiceRoute`] with header values checked once, at start.
pub(crate) struct ServiceTarget {
    name: String,
    base: url::Url,
    headers: Vec<(HeaderName, http::HeaderValue)>,
}

impl ServiceRoute {
    pub(crate) fn into_headers(self) -> Result<ServiceTarget, ProxyError> {
        let mut headers = Vec::new();
        for (name, value) in &self.headers {
            let mut value = http::HeaderValue::from_str(value.expose()).map_err(|_| {
                ProxyError::ServiceHeader {
                    server: self.name.clone(),
                    header: name.to_string(),
                }
            })?;
            value.set_sensitive(true);
            headers.push((name.clone(), value));
        }
        Ok(ServiceTarget {
            name: self.name,
            base: self.base,
            headers,
        })
    }
}

pub(crate) async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let api = shared.api;
    if request.method() == Method::CONNECT {
        tracing::warn!(target = %request.uri(), "key proxy refused a CONNECT request");
        return Refusal::Forbidden
            .respond(api, "CONNECT is not supported; this is not an open proxy");
    }
    if let Some(authority) = request.uri().authority()
        && authority.as_str() != shared.listen.to_string()
    {
        tracing::warn!(%authority, "key proxy refused a request for another host");
        return Refusal::Forbidden.respond(
            api,
            &format!("requests for {authority} are refused; only the {api} API is reachable"),
        );
    }
    let found = shared.routes.iter().find_map(|route| {
        below_prefix(request.uri().path(), &route.prefix).map(|rest| (route, rest.to_owned()))
    });
    let Some((route, rest)) = found else {
        tracing::warn!(path = %request.uri().path(), "key proxy refused a request without the run's prefix");
        return Refusal::Forbidden.respond(api, "unknown path");
    };
    let (upstream, key, meter) = match &route.kind {
        RouteKind::Model {
            upstream,
            key,
            meter,
        } => (upstream, key, meter),
        RouteKind::Service(service) => {
            return forward_to_service(&shared, service, &rest, request).await;
        }
    };
    let rest = rest.as_str();
    let target = upstream.target(rest, request.uri().query());
    let meter = match meter {
        Some(meter) if is_model_call(api, request.method(), rest) => {
            if let Err(limit) = meter.admit() {
                let totals = meter.totals();
                tracing::warn!(
                    limit = limit.variable(),
                    calls = totals.calls,
                    cost_usd = totals.cost_usd,
                    "the run reached its limit; the key proxy refuses further model calls"
                );
                return Refusal::LimitReached.respond(
                    api,
                    &format!(
                        "this run reached its limit {} after {} model calls (about ${:.2}); no further model calls are made",
                        limit.variable(),
                        totals.calls,
                        totals.cost_usd
                    ),
                );
            }
            Some(meter.stream())
        }
        _ => None,
    };

    let (parts, body) = request.into_parts();
    let body = match read_body(body, api).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let headers = match upstream_request_headers(parts.headers, api, key) {
        Ok(headers) => headers,
        Err(_) => {
            // KeyProxy::start refuses such keys; kept as an answer rather than a panic.
            return Refusal::BadGateway.respond(
                api,
                &format!(
                    "the key in {} contains characters that cannot be sent in an HTTP header",
                    api.key_variable()
                ),
            );
        }
    };
    tracing::debug!(method = %parts.method, %target, "key proxy forwarding");
    let sent = shared
        .http
        .request(parts.method, target.clone())
        .headers(headers)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(answer) => {
            let wait =
                shared
                    .retry_after
                    .record(answer.status(), answer.headers(), chrono::Utc::now());
            let mut response = stream_back(answer, meter);
            // A long wait is spent queued, not sleeping in the job (crate::quota).
            if wait.is_some_and(|wait| wait > super::retry_after::LONGEST_IN_RUN) {
                tracing::warn!(
                    wait_s = wait.map_or(0, |w| w.as_secs()),
                    "the model API asked to wait; the assistant is told to stop instead"
                );
                super::retry_after::fail_fast(response.headers_mut());
            }
            response
        }
        Err(error) => {
            let reason = one_line(&error);
            tracing::warn!(%target, %reason, "key proxy could not reach the upstream");
            Refusal::BadGateway.respond(
                api,
                &format!(
                    "could not reach the {api} API at {} ({reason}); check {} and the job's network",
                    upstream.base(),
                    api.base_url_variable()
                ),
            )
        }
    }
}

/// A request for an MCP server: the same checks as a model call (the route's prefix, the
/// listener's own authority), only the endpoint itself (the route's URL, any query), the
/// client's credentials dropped and the configured headers added, the answer streamed back
/// (streamable HTTP answers may be Server-Sent Events).
async fn forward_to_service(
    shared: &Shared,
    service: &ServiceTarget,
    rest: &str,
    request: Request,
) -> Response {
    let api = shared.api;
    // The configured endpoint only: a streamable HTTP server has one URL, and the header's
    // credential must not reach the rest of its host (`…/<token>/../../api/v4/…`).
    if !rest.is_empty() {
        tracing::warn!(server = %service.name, "key proxy refused a path below an MCP server's endpoint");
        return Refusal::Forbidden.respond(
            api,
            &format!(
                "only the MCP endpoint of {} is reachable through this route",
                service.name
            ),
        );
    }
    let target = join_url(&service.base, rest, request.uri().query());
    let (parts, body) = request.into_parts();
    let body = match read_body(body, api).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
    };
    let headers = service_request_headers(parts.headers, &service.headers);
    tracing::debug!(method = %parts.method, server = %service.name, "key proxy forwarding to an MCP server");
    let sent = shared
        .http
        .request(parts.method, target)
        .headers(headers)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(answer) => stream_back(answer, None),
        Err(error) => {
            let reason = one_line(&error);
            tracing::warn!(server = %service.name, %reason, "key proxy could not reach an MCP server");
            Refusal::BadGateway.respond(
                api,
                &format!(
                    "could not reach the MCP server {} at {} ({reason}); check its url in the MCP configuration (AI_MCP_CONFIG or AI_MCP_CONFIG_FILE) and the job's network",
                    service.name, service.base
                ),
            )
        }
    }
}

/// The path below `/<token>`, or `None` for a path outside it.
fn below_prefix<'a>(path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = path.strip_prefix(prefix)?;
    (rest.is_empty() || rest.starts_with('/')).then_some(rest)
}

/// Whether a request is a model call the meter counts: the Responses API's `POST
/// …/responses` (Codex's only model endpoint; `wire_api="responses"`).
fn is_model_call(api: ModelApi, method: &Method, path: &str) -> bool {
    api == ModelApi::OpenAi
        && method == Method::POST
        && path.trim_end_matches('/').ends_with("/responses")
}

/// The upstream's status and headers unchanged (minus hop-by-hop ones), and its body chunk by
/// chunk, so Server-Sent Events reach the CLI as the model produces them; a metered answer's
/// chunks are read for its usage on the way.
fn stream_back(answer: reqwest::Response, meter: Option<StreamUsage>) -> Response {
    let status = answer.status();
    let mut headers = answer.headers().clone();
    remove_hop_by_hop(&mut headers);
    let chunks = futures::stream::unfold(Some((answer, meter)), |state| async move {
        let (mut answer, mut meter) = state?;
        match answer.chunk().await {
            Ok(Some(chunk)) => {
                if let Some(meter) = meter.as_mut() {
                    meter.feed(&chunk);
                }
                Some((Ok::<Bytes, reqwest::Error>(chunk), Some((answer, meter))))
            }
            Ok(None) => {
                if let Some(meter) = meter {
                    meter.finish();
                }
                None
            }
            Err(error) => {
                tracing::warn!(reason = %one_line(&error), "key proxy: the upstream broke off a response");
                Some((Err(error), None))
            }
        }
    });
    let mut response = Response::new(Body::from_stream(chunks));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The whole request body, or the refusal to answer when it is over [`BODY_LIMIT`] or
/// breaks off: both the model and the MCP routes send the body on in one piece.
async fn read_body(body: Body, api: ModelApi) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|error| {
            Refusal::TooLarge.respond(
                api,
                &format!("could not read the request body (limit {BODY_LIMIT} bytes): {error}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_below_the_prefix_are_ours() {
        assert_eq!(
            below_prefix("/abc/v1/messages", "/abc"),
            Some("/v1/messages")
        );
        assert_eq!(below_prefix("/abc", "/abc"), Some(""));
        assert_eq!(below_prefix("/abcd/v1", "/abc"), None);
        assert_eq!(below_prefix("/v1/messages", "/abc"), None);
    }
}
