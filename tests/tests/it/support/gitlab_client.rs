//! The product's GitLab client pointed at the double, as the stories that call the product's
//! library (not its binary) build it: backoff in milliseconds so a test that injects faults
//! does not wait seconds, with the attempts and the time budget the story needs.

use std::time::Duration;

use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken, RetryPolicy};
use entrypoint::secret::Secret;

pub fn fast_retrying_client(
    api_url: &str,
    token: &str,
    max_attempts: u32,
    total_budget: Duration,
) -> GitLab {
    let mut config = ClientConfig::new(
        ApiBaseUrl::parse(api_url).expect("the double's API URL parses"),
        GitLabToken::new(Secret::new(token)),
    );
    config.retry = RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        total_budget,
    };
    GitLab::new(config).expect("client builds")
}

/// The client as a job builds it: GitLab's own retry policy.
pub fn client(api_url: &str, token: &str) -> GitLab {
    GitLab::new(ClientConfig::new(
        ApiBaseUrl::parse(api_url).expect("the double's API URL parses"),
        GitLabToken::new(Secret::new(token)),
    ))
    .expect("client builds")
}
