//! What several user stories share, so that a story file holds its story:
//! - the CI job that runs `entrypoint` as a GitLab runner would ([`ci_job`]), what a story keeps
//!   of it once finished ([`finished`]), a pipeline job's variables ([`pipeline_job`]) and the
//!   project a CI-job story plays in ([`story`]);
//! - the product's GitLab client as the library stories build it ([`gitlab_client`]), the
//!   seeded double the library stories play against ([`seeded`]), the project the context
//!   stories read ([`context_world`]) and the project's git over smart HTTP that the workspace
//!   stories push to ([`git_remote`]);
//! - the spec of a direct `agent::run` ([`runs`]), what the stories running a real CLI as the
//!   sandbox uid share ([`real_cli`]), installing and running a CLI outside a job ([`cli`]),
//!   what the stories told once per assistant share ([`per_assistant`]) and model doubles
//!   scripted turn by turn ([`scripted`]);
//! - a Note Hook's trigger ([`trigger`]) and comment ([`note_hook`]), what the setup stories
//!   share ([`setup`]), a doctor finding ([`doctor`]) and snapshots of rendered notes
//!   ([`snapshot`]);
//! - running a test that changes its process in a process of its own ([`own_process`]) or a
//!   network namespace of its own ([`fresh_netns`]).

pub mod ci_job;
pub mod cli;
pub mod context_world;
pub mod doctor;
pub mod finished;
pub mod fresh_netns;
pub mod git_remote;
pub mod gitlab_client;
pub mod note_hook;
pub mod own_process;
pub mod per_assistant;
pub mod pipeline_job;
pub mod real_cli;
pub mod runs;
pub mod scripted;
pub mod seeded;
pub mod setup;
pub mod snapshot;
pub mod story;
pub mod trigger;
