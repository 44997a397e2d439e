//! What several user stories share, so that a story file holds its story: the CI job that
//! runs `entrypoint` as a GitLab runner would ([`ci_job`]), the product's GitLab client as the
//! library stories build it ([`gitlab_client`]), and snapshots of rendered notes
//! ([`snapshot`]).

pub mod ci_job;
pub mod gitlab_client;
pub mod own_process;
pub mod seeded;
pub mod setup;
pub mod snapshot;
