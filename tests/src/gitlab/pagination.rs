//! Offset pagination as documented in <https://docs.gitlab.com/api/rest/#offset-based-pagination>:
//! `page` (default 1) and `per_page` (default 20, at most 100), answered with `X-Page`,
//! `X-Per-Page`, `X-Next-Page`, `X-Prev-Page`, `X-Total`, `X-Total-Pages` and a `Link` header
//! (`rel="prev"`, `"next"`, `"first"`, `"last"`) whose URLs repeat the request's own query with
//! only `page`/`per_page` changed.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::params::Params;

pub const DEFAULT_PER_PAGE: usize = 20;
pub const MAX_PER_PAGE: usize = 100;

/// The absolute URL a request was made to, used to build `Link` headers.
#[derive(Clone, Debug)]
pub struct RequestUrl {
    /// `http://host:port` as the client addressed the double (from `Host`).
    pub origin: String,
    /// The full original URI (path including any relative URL root, and query).
    pub uri: Uri,
}

impl RequestUrl {
    pub fn new(headers: &HeaderMap, uri: Uri, fallback_origin: &str) -> RequestUrl {
        let origin = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(|host| format!("http://{host}"))
            .unwrap_or_else(|| fallback_origin.to_string());
        RequestUrl { origin, uri }
    }

    fn with_page(&self, page: usize, per_page: usize) -> String {
        let mut pairs: Vec<(String, String)> = self
            .uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .filter(|(k, _)| k != "page" && k != "per_page")
                    .collect()
            })
            .unwrap_or_default();
        pairs.push(("page".into(), page.to_string()));
        pairs.push(("per_page".into(), per_page.to_string()));
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("{}{}?{}", self.origin, self.uri.path(), query)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: usize,
    pub per_page: usize,
}

impl PageRequest {
    /// Out-of-range values fall back the way GitLab's Kaminari setup does: `per_page` is capped
    /// at 100, non-positive values use the defaults.
    pub fn from_params(params: &Params) -> PageRequest {
        let number = |name: &str| {
            params
                .str(name)
                .and_then(|s| s.parse::<i64>().ok())
                .filter(|n| *n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        PageRequest {
            page: number("page").unwrap_or(1),
            per_page: number("per_page")
                .unwrap_or(DEFAULT_PER_PAGE)
                .min(MAX_PER_PAGE),
        }
    }
}

/// One page of `items` with GitLab's pagination headers.
pub fn paginate(items: Vec<Value>, request: PageRequest, url: &RequestUrl) -> Response {
    let total = items.len();
    let PageRequest { page, per_page } = request;
    let total_pages = total.div_ceil(per_page).max(1);
    let start = (page - 1).saturating_mul(per_page);
    let slice: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();

    let next = (page < total_pages).then_some(page + 1);
    let prev = (page > 1).then(|| (page - 1).min(total_pages));
    let mut links = Vec::new();
    if let Some(prev) = prev {
        links.push(format!("<{}>; rel=\"prev\"", url.with_page(prev, per_page)));
    }
    if let Some(next) = next {
        links.push(format!("<{}>; rel=\"next\"", url.with_page(next, per_page)));
    }
    links.push(format!("<{}>; rel=\"first\"", url.with_page(1, per_page)));
    links.push(format!(
        "<{}>; rel=\"last\"",
        url.with_page(total_pages, per_page)
    ));

    let mut response = Json(Value::Array(slice)).into_response();
    let headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("x-page", page.to_string());
    set("x-per-page", per_page.to_string());
    set(
        "x-next-page",
        next.map(|n| n.to_string()).unwrap_or_default(),
    );
    set(
        "x-prev-page",
        prev.map(|n| n.to_string()).unwrap_or_default(),
    );
    set("x-total", total.to_string());
    set("x-total-pages", total_pages.to_string());
    set("link", links.join(", "));
    response
}
