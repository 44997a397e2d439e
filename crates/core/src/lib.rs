//! The bottom of the house: types every other crate of ours uses and that depend on nothing of
//! ours. Kept small on purpose, so the GitLab client and the entrypoint can share them without
//! either importing the other.

pub mod assistant;
pub mod env;
pub mod model_api;
pub mod secret;

pub use assistant::Assistant;
pub use model_api::ModelApi;
pub use secret::Secret;
