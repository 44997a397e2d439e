//! `entrypoint serve`: the webhook relay that turns a GitLab comment into a pipeline.
//!
//! GitLab does not start a pipeline when someone comments, so a project or group webhook with
//! "Comments" events points at the relay. For each delivery the relay checks the secret token
//! ([`verify`]), reads the note and decides without any API call whether it asks an assistant
//! ([`intake`]), queues it and answers 202 at once ([`queue`], [`routes`]). A worker then checks
//! who asked, claims the note with the bot's reaction (the lock that holds across replicas and
//! restarts, [`crate::claim`]), posts the placeholder, starts the pipeline with the `AI_*`
//! variables and links it from the placeholder ([`answer`], [`pipeline`]).
//!
//! Issue and merge request events (the bot assigned, its review requested, the trigger label
//! added, a mention in a new description) take the same road, decided by webhook mode's code
//! ([`crate::trigger::event`]) and claimed on the issue or merge request for the event's time.
//! A periodic [`sweep`] retries the requests a model-API quota error queued, as the scan does.
//!
//! The relay keeps no state of its own beyond a short in-memory duplicate check ([`dedup`]), so
//! any number of replicas can run behind a load balancer.

pub mod answer;
pub mod config;
pub mod dedup;
pub mod intake;
pub mod projects;
pub mod queue;
pub mod routes;
pub mod server;
pub mod shutdown;
pub mod spool;
pub mod stats;
pub mod sweep;
pub mod verify;

pub use config::{RelayConfig, RelayConfigError};
pub use server::Relay;
pub use stats::Snapshot;
