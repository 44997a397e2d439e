//! Where the key proxy forwards to: one model API at one base URL, and how that API wants its
//! key presented.

use url::Url;

pub use ai_core::ModelApi;

/// The base URL is not something the proxy can forward to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Not a URL at all.
    #[error(
        "{variable}={value:?} is not a URL ({problem}): give the API's base URL, for example {example}"
    )]
    NotAUrl {
        variable: &'static str,
        value: String,
        problem: url::ParseError,
        example: &'static str,
    },
    /// A URL, but not plain http(s) to a host, or one carrying credentials, a query or a
    /// fragment that the proxy would have to merge with every request.
    #[error("{variable}={value:?} is not usable: {problem}")]
    Unusable {
        variable: &'static str,
        value: String,
        problem: &'static str,
    },
}

/// The single upstream a proxy serves: the API and its base URL (with any base path kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    api: ModelApi,
    base: Url,
}

impl Upstream {
    /// The API's public endpoint.
    pub fn public(api: ModelApi) -> Self {
        Self::parse(api, api.default_base_url())
            .unwrap_or_else(|e| unreachable!("the built-in base URL of {api} is valid: {e}"))
    }

    /// A configured base URL such as `https://gateway.example/anthropic` or
    /// `http://127.0.0.1:8080/v1`.
    pub fn parse(api: ModelApi, value: &str) -> Result<Self, UpstreamError> {
        let variable = api.base_url_variable();
        let unusable = |problem| UpstreamError::Unusable {
            variable,
            value: value.to_owned(),
            problem,
        };
        let base = Url::parse(value.trim()).map_err(|problem| UpstreamError::NotAUrl {
            variable,
            value: value.to_owned(),
            problem,
            example: api.default_base_url(),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(unusable(
                "only http:// and https:// base URLs are supported",
            ));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(unusable("the URL has no host"));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(unusable(
                "the URL carries credentials; put the key in the API key variable instead",
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(unusable("a base URL cannot have a query or a fragment"));
        }
        Ok(Self { api, base })
    }

    pub fn api(&self) -> ModelApi {
        self.api
    }

    /// The base URL as configured.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The upstream URL for a request whose path below the proxy's prefix is `rest` (starting
    /// with `/`, or empty) and whose query is `query`: the base path followed by `rest`.
    pub fn target(&self, rest: &str, query: Option<&str>) -> Url {
        join_url(&self.base, rest, query)
    }
}

/// `base` with `rest` (starting with `/`, or empty) appended to its path and `query` as its
/// query: where a request below a proxy route's prefix goes.
pub(crate) fn join_url(base: &Url, rest: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    let base_path = base.path().trim_end_matches('/');
    url.set_path(&format!("{base_path}{rest}"));
    url.set_query(query);
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_the_base_path_and_the_query() {
        let up = Upstream::parse(ModelApi::OpenAi, "https://gw.example/openai/v1/").unwrap();
        assert_eq!(
            up.target("/responses", None).as_str(),
            "https://gw.example/openai/v1/responses"
        );
        let up = Upstream::public(ModelApi::Anthropic);
        assert_eq!(
            up.target("/v1/messages", Some("beta=true")).as_str(),
            "https://api.anthropic.com/v1/messages?beta=true"
        );
        assert_eq!(
            Upstream::public(ModelApi::OpenAi)
                .target("/models", None)
                .as_str(),
            "https://api.openai.com/v1/models"
        );
    }

    #[test]
    fn unusable_base_urls_are_refused_with_the_variable_named() {
        for bad in [
            "api.anthropic.com",
            "ftp://x.example",
            "https://user:pw@x.example",
            "https://x.example/?a=1",
            "file:///tmp/x",
        ] {
            let error = Upstream::parse(ModelApi::Anthropic, bad).unwrap_err();
            assert!(
                error.to_string().contains("ANTHROPIC_BASE_URL"),
                "{bad}: {error}"
            );
        }
    }
}
