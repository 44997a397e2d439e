//! A GitLab REST v4 double serving real git repositories over smart HTTP: in-process for tests
//! ([`GitLabDouble`]) and as the `gitlab-double` binary. Behaviour follows
//! <https://docs.gitlab.com/api/rest/>; each module names the pages it encodes.

pub mod access;
pub mod admin;
pub mod app;
pub mod auth;
pub mod double;
pub mod errors;
pub mod faults;
pub mod git_http;
pub mod json;
pub mod model;
pub mod pagination;
pub mod params;
pub mod position;
pub mod quick_actions;
pub mod recorder;
pub mod repo;
pub mod routes;
pub mod seed;
pub mod server;
pub mod time;
pub mod version;
pub mod webhooks;

pub use double::{GitLabDouble, GitLabDoubleBuilder};
