//! Following GitLab's paginated lists to the end.
//!
//! GitLab returns at most `per_page` (≤ 100) items and points to the next page with a `Link`
//! header (`<…>; rel="next"`, the only pointer under keyset pagination) and, for offset
//! pagination, with `X-Next-Page` (empty on the last page). `X-Total` and `X-Total-Pages` are
//! left out for large lists, so neither is relied on.
//! <https://docs.gitlab.com/api/rest/#pagination>

use reqwest::header::HeaderMap;
use url::Url;

/// The largest page GitLab serves; fewer round trips for long threads.
pub const PER_PAGE: u32 = 100;

/// The target of the `rel="next"` entry of a `Link` header, if any.
///
/// Entries are `<uri-reference>; param; param`, separated by commas; a URI may itself contain
/// commas, so the text is scanned for `<…>` rather than split blindly (RFC 8288 §3).
pub fn link_next(link: &str) -> Option<&str> {
    let mut rest = link;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_and_more = &after[close + 1..];
        let params_end = params_and_more.find('<').unwrap_or(params_and_more.len());
        // Up to the next entry, without the `,` that separates entries.
        let params = params_and_more[..params_end]
            .trim_end()
            .trim_end_matches(',');
        let is_next = params.split(';').any(|param| {
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_ascii_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target);
        }
        rest = &params_and_more[params_end..];
    }
    None
}

/// Where the page after `current` is, from the response headers; `None` on the last page.
///
/// Only the query of the `Link` target is used, applied to the URL we requested: the token is
/// never sent to another host should the header name one, and an instance whose proxy rewrites
/// scheme or host (a common misconfiguration) still paginates.
pub fn next_page_url(current: &Url, headers: &HeaderMap) -> Result<Option<Url>, String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    if let Some(target) = header("link").and_then(link_next) {
        let parsed = Url::options()
            .base_url(Some(current))
            .parse(target)
            .map_err(|e| format!("unusable Link rel=\"next\" target {target:?}: {e}"))?;
        let mut next = current.clone();
        next.set_query(parsed.query());
        return Ok(Some(next));
    }
    if let Some(page) = header("x-next-page") {
        let page: u64 = page
            .parse()
            .map_err(|_| format!("unusable X-Next-Page value {page:?}"))?;
        let mut next = current.clone();
        let kept: Vec<(String, String)> = current
            .query_pairs()
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        next.query_pairs_mut()
            .clear()
            .extend_pairs(kept)
            .append_pair("page", &page.to_string());
        return Ok(Some(next));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use reqwest::header::HeaderValue;

    use super::*;

    #[test]
    fn link_next_is_found_among_other_relations() {
        let link = r#"<https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="prev", <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3>; rel="next", <https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=1&per_page=3>; rel="first""#;
        assert_eq!(
            link_next(link),
            Some("https://gitlab.example.com/api/v4/projects/8/issues/8/notes?page=3&per_page=3")
        );
    }

    #[test]
    fn link_next_handles_commas_in_urls_unquoted_rels_and_absence() {
        assert_eq!(
            link_next("<https://h/x?a=1,2>; rel=next"),
            Some("https://h/x?a=1,2")
        );
        assert_eq!(link_next(r#"<https://h/x>; rel="first last""#), None);
        assert_eq!(
            link_next(r#"<https://h/y>; rel="prev next""#),
            Some("https://h/y")
        );
        assert_eq!(link_next(""), None);
        assert_eq!(link_next("<broken"), None);
    }

    #[test]
    fn next_url_takes_the_query_from_link_but_keeps_our_origin_and_path() {
        let current =
            Url::parse("https://example.com/gitlab/api/v4/projects/1/notes?per_page=100").unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "link",
            HeaderValue::from_static(
                r#"<http://internal:8080/api/v4/projects/1/notes?id=1&page=2&per_page=100>; rel="next""#,
            ),
        );
        h.insert("x-next-page", HeaderValue::from_static("9"));
        let next = next_page_url(&current, &h).unwrap().unwrap();
        assert_eq!(
            next.as_str(),
            "https://example.com/gitlab/api/v4/projects/1/notes?id=1&page=2&per_page=100"
        );
    }

    #[test]
    fn next_url_from_x_next_page_replaces_the_page() {
        let current =
            Url::parse("https://h/api/v4/projects/1/issues?per_page=100&page=2&state=opened")
                .unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-next-page", HeaderValue::from_static("3"));
        let next = next_page_url(&current, &h).unwrap().unwrap();
        assert_eq!(next.query(), Some("per_page=100&state=opened&page=3"));
    }

    #[test]
    fn last_page_has_no_next() {
        let current = Url::parse("https://h/api/v4/x").unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-next-page", HeaderValue::from_static(""));
        h.insert(
            "link",
            HeaderValue::from_static(r#"<https://h/api/v4/x?page=1>; rel="first""#),
        );
        assert_eq!(next_page_url(&current, &h).unwrap(), None);
        h.insert("x-next-page", HeaderValue::from_static("two"));
        assert!(next_page_url(&current, &h).is_err());
    }
}
