//! The bottom of the house: what every other crate of ours shares and that depends on nothing of
//! ours (the assistants and their profiles, the secret type, the source of variables, the
//! hidden note marker, the webhook template). Kept small on purpose, so the GitLab client, the
//! entrypoint and the image tooling can share it without importing each other: `xtask` needs
//! the marker and the template, not the whole entrypoint.

pub mod assistant;
pub mod env;
pub mod hook_vars;
pub mod marker;
pub mod model_api;
pub mod secret;

pub use assistant::Assistant;
pub use model_api::ModelApi;
pub use secret::Secret;
