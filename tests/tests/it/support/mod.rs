//! What several user stories share, so that a story file holds its story: the CI job that
//! runs `entrypoint` as a GitLab runner would ([`ci_job`]) and what a story keeps of it once
//! finished ([`finished`]), the product's GitLab client as the library stories build it
//! ([`gitlab_client`]), the project the context stories read ([`context_world`]), snapshots
//! of rendered notes ([`snapshot`]), the project a CI-job story plays in ([`story`]), and the
//! spec of a direct `agent::run` ([`runs`]), a Note Hook's trigger ([`trigger`]), what the
//! setup stories share ([`setup`]), the seeded double the library stories play against
//! ([`seeded`]), running a test that changes its process in a process of its own
//! ([`own_process`]), what the stories told once per assistant share ([`per_assistant`]), a doctor finding
//! ([`doctor`]), a Note Hook's comment ([`note_hook`]), a pipeline job's variables
//! ([`pipeline_job`]) and model doubles scripted turn by turn ([`scripted`]).

pub mod ci_job;
pub mod context_world;
pub mod doctor;
pub mod finished;
pub mod gitlab_client;
pub mod note_hook;
pub mod own_process;
pub mod per_assistant;
pub mod pipeline_job;
pub mod runs;
pub mod scripted;
pub mod seeded;
pub mod setup;
pub mod snapshot;
pub mod story;
pub mod trigger;
