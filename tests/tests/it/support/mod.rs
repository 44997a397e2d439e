//! What several user stories share, so that a story file holds its story: the CI job that
//! runs `entrypoint` as a GitLab runner would ([`ci_job`]).

pub mod ci_job;
