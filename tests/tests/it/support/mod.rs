//! What several user stories share, so that a story file holds its story: the CI job that
//! runs `entrypoint` as a GitLab runner would ([`ci_job`]), the product's GitLab client as the
//! library stories build it ([`gitlab_client`]), snapshots of rendered notes ([`snapshot`]),
//! the project a CI-job story plays in ([`story`]), and the spec of a direct `agent::run`
//! ([`runs`]), a Note Hook's trigger ([`trigger`]), what the setup stories share ([`setup`]),
//! the seeded double the library stories play against ([`seeded`]), and running a test that
//! changes its process in a process of its own ([`own_process`]), and running the real
//! assistant CLIs ([`cli`]).

pub mod ci_job;
pub mod cli;
pub mod gitlab_client;
pub mod own_process;
pub mod runs;
pub mod seeded;
pub mod setup;
pub mod snapshot;
pub mod story;
pub mod trigger;
