//! The [`GitLab`] client and its request plumbing: authentication, retries, pagination, error
//! mapping and request logging. Endpoint methods live in one module per resource group.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::config::{ApiBaseUrl, ClientConfig};
use super::error::{ApiMessage, GitLabError, Result};
use super::lenient;
use super::pagination::{PER_PAGE, next_page_url};
use super::retry::{self, RetryPolicy};

/// The header GitLab reads access tokens from.
/// <https://docs.gitlab.com/api/rest/authentication/#personalprojectgroup-access-tokens>
const PRIVATE_TOKEN: &str = "private-token";

/// Why a [`GitLab`] client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// The token cannot be sent in an HTTP header (a control character, usually a pasted
    /// newline inside the value).
    #[error(
        "GITLAB_TOKEN contains characters that cannot be sent in an HTTP header; copy the token again without line breaks"
    )]
    TokenNotAHeader,
    /// reqwest refused the TLS or HTTP settings.
    #[error("cannot set up the HTTPS client for GitLab: {0}")]
    Http(#[source] reqwest::Error),
}

/// An authenticated GitLab REST v4 client.
///
/// Cheap to clone (the connection pool is shared). Requests are retried per
/// [`RetryPolicy`]; lists are followed to their last page. `Debug` never shows the token.
#[derive(Clone)]
pub struct GitLab {
    http: reqwest::Client,
    base_url: ApiBaseUrl,
    token: HeaderValue,
    request_timeout: std::time::Duration,
    retry: RetryPolicy,
    /// Requests sent by this client and its clones (retries included), for commands that report
    /// what they cost, such as the scheduled scan.
    sent: Arc<AtomicU64>,
}

impl fmt::Debug for GitLab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GitLab")
            .field("base_url", &self.base_url)
            .field("token", &"***")
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .finish()
    }
}

/// One request as the retry loop repeats it.
struct Call {
    method: Method,
    /// Endpoint path as in GitLab's docs, for logs and errors.
    path: String,
    url: Url,
    body: Option<Bytes>,
    authenticated: bool,
}

/// A success response.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl GitLab {
    /// Builds the client: system trust store plus `config.extra_roots`, no redirects (a redirect
    /// could carry the token to another host; GitLab's API does not redirect), the configured
    /// connect timeout.
    pub fn new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let mut token = HeaderValue::from_str(config.token.secret().expose())
            .map_err(|_| ClientBuildError::TokenNotAHeader)?;
        token.set_sensitive(true);
        let extra: Vec<reqwest::Certificate> = config
            .extra_roots
            .iter()
            .flat_map(|bundle| bundle.certificates.iter().cloned())
            .collect();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent)
            .redirect(reqwest::redirect::Policy::none());
        if !extra.is_empty() {
            builder = builder.tls_certs_merge(extra);
        }
        let http = builder.build().map_err(ClientBuildError::Http)?;
        Ok(Self {
            http,
            base_url: config.base_url,
            token,
            request_timeout: config.request_timeout,
            retry: config.retry,
            sent: Arc::default(),
        })
    }

    /// How many HTTP requests this client and its clones have sent so far, retries included:
    /// what GitLab counts against rate limits.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// The REST v4 root this client talks to.
    pub fn base_url(&self) -> &ApiBaseUrl {
        &self.base_url
    }

    /// `GET path?query` decoded as `T`.
    ///
    /// For every request helper, `path` is relative to the API root and starts with `/`
    /// (`/projects/42/issues/7`), with `:id` segments already encoded
    /// ([`super::ids::ProjectRef::segment`]); it appears as given in logs and errors, so it must
    /// never carry a secret. Query values are encoded here.
    pub async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        self.fetch(&self.call(Method::GET, path, query, None)?)
            .await
    }

    /// Like [`GitLab::get`], but a 404 is `None`: GitLab's answer for "no such thing" and for
    /// "exists but hidden from you" alike.
    pub async fn get_optional<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>> {
        match self.get(path, query).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every item of a paginated list, `per_page=100`, following `Link`/`X-Next-Page` to the end.
    pub async fn get_all<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>> {
        let mut pages = self.pages::<T>(path, query)?;
        let mut all = Vec::new();
        while let Some(page) = pages.next_page().await? {
            all.extend(page);
        }
        Ok(all)
    }

    /// A paginated list read one page at a time, for callers that can stop early.
    pub fn pages<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Pages<'_, T>> {
        let mut query: Vec<(&str, String)> = query
            .iter()
            .filter(|(k, _)| *k != "per_page")
            .cloned()
            .collect();
        query.push(("per_page", PER_PAGE.to_string()));
        let call = self.call(Method::GET, path, &query, None)?;
        Ok(Pages {
            client: self,
            path: call.path,
            next: Some(call.url),
            pages_read: 0,
            _items: PhantomData,
        })
    }

    /// `POST path` with a JSON body, decoded as `T`.
    pub async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        self.fetch(&self.post_call(path, body)?).await
    }

    /// `POST path` without the `PRIVATE-TOKEN` header, for endpoints that authenticate with a
    /// token in the body (pipeline triggers): our token is not sent where it is not needed.
    pub async fn post_unauthenticated<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T> {
        let mut call = self.post_call(path, body)?;
        call.authenticated = false;
        self.fetch(&call).await
    }

    /// `PUT path?query` with an optional JSON body, decoded as `T`.
    pub async fn put<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T> {
        let body = body.map(|b| json_body(&Method::PUT, path, b)).transpose()?;
        self.fetch(&self.call(Method::PUT, path, query, body)?)
            .await
    }

    /// `GET path` for an endpoint that answers plain text (a job's log), keeping only the last
    /// `keep` bytes while the body streams in, so a log of any size costs `keep` bytes of
    /// memory. Reading stops after `max_read` bytes ([`TextTail::complete`] is then false and
    /// the bytes kept are not the end of the text). Sent once, without retries: callers use it
    /// for optional context, where a failure is reported, not waited out.
    pub async fn get_text_tail(&self, path: &str, keep: usize, max_read: u64) -> Result<TextTail> {
        self.stream_tail(path, "text/plain", keep, max_read).await
    }

    /// `GET path` for an endpoint that answers a file (an upload): the whole body when it has
    /// at most `max` bytes, `None` when it is larger (reading stops there). Sent once.
    pub async fn get_bytes_capped(&self, path: &str, max: usize) -> Result<Option<Vec<u8>>> {
        let tail = self
            .stream_tail(path, "*/*", max.saturating_add(1), max as u64 + 1)
            .await?;
        Ok((tail.complete && tail.bytes.len() <= max).then_some(tail.bytes))
    }

    async fn stream_tail(
        &self,
        path: &str,
        accept: &'static str,
        keep: usize,
        max_read: u64,
    ) -> Result<TextTail> {
        let call = self.call(Method::GET, path, &[], None)?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        let transport = |cause: reqwest::Error| GitLabError::Transport {
            method: call.method.clone(),
            path: call.path.clone(),
            cause: cause.without_url(),
            attempts: 1,
        };
        let mut response = self
            .http
            .get(call.url.clone())
            .timeout(self.request_timeout)
            .header(ACCEPT, HeaderValue::from_static(accept))
            .header(PRIVATE_TOKEN, self.token.clone())
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let body = response.bytes().await.map_err(transport)?;
            return Err(api_error(
                &call,
                Answer {
                    status,
                    headers,
                    body,
                },
                1,
            ));
        }
        let mut tail = TextTail::default();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            tail.push(&chunk, keep);
            if tail.total_bytes >= max_read {
                tail.trim_to(keep);
                return Ok(tail);
            }
        }
        tail.complete = true;
        tail.trim_to(keep);
        Ok(tail)
    }

    /// `POST path` for endpoints that answer 204 No Content (draft notes' `bulk_publish`): the
    /// answer's body, if any, is ignored.
    pub async fn post_expecting_no_content<B: Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<()> {
        self.execute(&self.post_call(path, body)?).await.map(|_| ())
    }

    /// `DELETE path`; the body (GitLab sends 204 or the deleted object) is ignored.
    pub async fn delete(&self, path: &str) -> Result<()> {
        let call = self.call(Method::DELETE, path, &[], None)?;
        self.execute(&call).await.map(|_| ())
    }

    /// `POST path` with `body` encoded as JSON, ready to send.
    fn post_call<B: Serialize + ?Sized>(&self, path: &str, body: &B) -> Result<Call> {
        let body = json_body(&Method::POST, path, body)?;
        self.call(Method::POST, path, &[], Some(body))
    }

    /// Sends `call` (see [`GitLab::execute`]) and decodes GitLab's JSON answer as `T`.
    async fn fetch<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let answer = self.execute(call).await?;
        decode(call, &answer)
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Bytes>,
    ) -> Result<Call> {
        let mut url = self.base_url.endpoint(path).map_err(|e| GitLabError::Url {
            method: method.clone(),
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        Ok(Call {
            method,
            path: path.to_owned(),
            url,
            body,
            authenticated: true,
        })
    }

    /// Sends `call`, retrying per the policy, within the policy's total time budget.
    ///
    /// The last attempt's timeout is cut to what is left of the budget. When that cut, and not
    /// GitLab, ends the last attempt, the error reported is GitLab's previous answer (say the
    /// 503 it kept sending): "the budget ran out while GitLab was unavailable" is the truth, a
    /// bare timeout would hide it.
    async fn execute(&self, call: &Call) -> Result<Answer> {
        let started = Instant::now();
        let deadline = started + self.retry.total_budget;
        let mut attempt: u32 = 0;
        let mut last_refusal: Option<Answer> = None;
        loop {
            attempt += 1;
            let remaining = deadline.saturating_duration_since(Instant::now());
            let timeout = self.request_timeout.min(remaining);
            let cut_by_budget = timeout < self.request_timeout;
            let sent = Instant::now();
            let outcome = self.send_once(call, timeout).await;
            let elapsed_ms = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX);
            let may_retry = attempt < self.retry.max_attempts.max(1);
            match outcome {
                Ok(answer) if answer.status.is_success() => {
                    tracing::debug!(method = %call.method, path = %call.path, status = answer.status.as_u16(), elapsed_ms, attempt, "GitLab request");
                    return Ok(answer);
                }
                Ok(answer) => {
                    tracing::debug!(method = %call.method, path = %call.path, status = answer.status.as_u16(), elapsed_ms, attempt, "GitLab request failed");
                    if !(may_retry
                        && retry::status_is_retryable(answer.status, &call.method, &answer.headers))
                    {
                        return Err(api_error(call, answer, attempt));
                    }
                    let hint =
                        retry::server_delay(answer.status, &answer.headers, SystemTime::now());
                    let wait = hint.unwrap_or_else(|| self.retry.backoff(attempt - 1));
                    if Instant::now() + wait >= deadline {
                        return Err(match hint {
                            Some(retry_after) => GitLabError::RetryBudgetExhausted {
                                method: call.method.clone(),
                                path: call.path.clone(),
                                status: answer.status,
                                retry_after,
                                attempts: attempt,
                            },
                            None => api_error(call, answer, attempt),
                        });
                    }
                    retry_log(call, wait);
                    last_refusal = Some(answer);
                    tokio::time::sleep(wait).await;
                }
                Err(error) if cut_by_budget && error.is_timeout() && last_refusal.is_some() => {
                    tracing::debug!(method = %call.method, path = %call.path, elapsed_ms, attempt, "GitLab request outlived the retry budget");
                    if let Some(answer) = last_refusal.take() {
                        return Err(api_error(call, answer, attempt));
                    }
                }
                Err(error) => {
                    let error = error.without_url();
                    tracing::debug!(method = %call.method, path = %call.path, error = %error, elapsed_ms, attempt, "GitLab request failed without a response");
                    let wait = self.retry.backoff(attempt - 1);
                    if !(may_retry && retry::transport_is_retryable(&error, &call.method))
                        || Instant::now() + wait >= deadline
                    {
                        return Err(GitLabError::Transport {
                            method: call.method.clone(),
                            path: call.path.clone(),
                            cause: error,
                            attempts: attempt,
                        });
                    }
                    retry_log(call, wait);
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn send_once(
        &self,
        call: &Call,
        timeout: std::time::Duration,
    ) -> Result<Answer, reqwest::Error> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let mut request = self
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(timeout)
            .header(ACCEPT, HeaderValue::from_static("application/json"));
        if call.authenticated {
            request = request.header(PRIVATE_TOKEN, self.token.clone());
        }
        if let Some(body) = &call.body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn retry_log(call: &Call, wait: std::time::Duration) {
    let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
    tracing::debug!(method = %call.method, path = %call.path, wait_ms, "GitLab request will be retried");
}

fn json_body<B: Serialize + ?Sized>(method: &Method, path: &str, body: &B) -> Result<Bytes> {
    serde_json::to_vec(body)
        .map(Bytes::from)
        .map_err(|e| GitLabError::Url {
            method: method.clone(),
            path: path.to_owned(),
            reason: format!("cannot encode the request body: {e}"),
        })
}

fn decode<T: DeserializeOwned>(call: &Call, answer: &Answer) -> Result<T> {
    serde_json::from_slice(&answer.body).map_err(|source| GitLabError::Decode {
        method: call.method.clone(),
        path: call.path.clone(),
        status: answer.status,
        source,
    })
}

fn api_error(call: &Call, answer: Answer, attempts: u32) -> GitLabError {
    let mut message = ApiMessage::from_body(&answer.body);
    if answer.status.is_redirection() {
        let location = answer
            .headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("an unnamed location");
        message = ApiMessage::from_body(
            format!(
                "redirected to {location}; set CI_API_V4_URL to the API root GitLab really serves"
            )
            .as_bytes(),
        );
    }
    GitLabError::Api {
        method: call.method.clone(),
        path: call.path.clone(),
        status: answer.status,
        message,
        attempts,
    }
}

/// The end of a text response; see [`GitLab::get_text_tail`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextTail {
    /// The last bytes read (at most the `keep` asked for); may start inside a line or a
    /// UTF-8 character when the text was longer.
    pub bytes: Vec<u8>,
    /// Bytes read in all.
    pub total_bytes: u64,
    /// Line breaks read in all.
    pub total_lines: u64,
    /// True when the whole body was read, so `bytes` is its end.
    pub complete: bool,
}

impl TextTail {
    /// Appends `chunk`, dropping what falls out of the last `keep` bytes. The buffer is
    /// compacted only when it doubles, so the cost stays linear in the bytes read.
    fn push(&mut self, chunk: &[u8], keep: usize) {
        self.total_bytes += chunk.len() as u64;
        self.total_lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        if chunk.len() >= keep {
            self.bytes.clear();
            self.bytes.extend_from_slice(&chunk[chunk.len() - keep..]);
            return;
        }
        self.bytes.extend_from_slice(chunk);
        if self.bytes.len() > keep.saturating_mul(2).max(64 * 1024) {
            let excess = self.bytes.len() - keep;
            self.bytes.drain(..excess);
        }
    }

    /// Drops all but the last `keep` bytes.
    pub fn trim_to(&mut self, keep: usize) {
        if self.bytes.len() > keep {
            let excess = self.bytes.len() - keep;
            self.bytes.drain(..excess);
        }
    }

    /// True when `bytes` begins where the text begins.
    pub fn is_whole(&self) -> bool {
        self.complete && self.bytes.len() as u64 == self.total_bytes
    }
}

/// A paginated list being read; see [`GitLab::pages`].
pub struct Pages<'a, T> {
    client: &'a GitLab,
    path: String,
    next: Option<Url>,
    pages_read: u32,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<'_, T> {
    /// The next page's items, or `None` after the last page.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>> {
        let Some(url) = self.next.take() else {
            return Ok(None);
        };
        let call = Call {
            method: Method::GET,
            path: self.path.clone(),
            url,
            body: None,
            authenticated: true,
        };
        let answer = self.client.execute(&call).await?;
        // The page must be a JSON array; each record in it is decoded on its own so that one
        // this version cannot read costs that record only (see [`super::lenient`]).
        let raw: Vec<serde_json::Value> = decode(&call, &answer)?;
        let items: Vec<T> = lenient::decode_items(raw, &self.path);
        self.pages_read += 1;
        let broken_pointer = |reason| GitLabError::Url {
            method: Method::GET,
            path: self.path.clone(),
            reason,
        };
        let next = next_page_url(&call.url, &answer.headers).map_err(broken_pointer)?;
        self.next = match next {
            Some(next) if next == call.url => {
                return Err(broken_pointer(format!(
                    "the next-page pointer after page {} points at the same page",
                    self.pages_read
                )));
            }
            // An empty page that still points onwards would loop forever on a broken server.
            Some(_) if items.is_empty() => None,
            other => other,
        };
        Ok(Some(items))
    }
}
