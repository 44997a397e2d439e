//! GitLab: identifiers and the REST v4 client used by every other module.
//!
//! [`GitLab`] is built from a [`ClientConfig`] (usually [`ClientConfig::from_env`] inside a CI
//! job). Request plumbing, retries and pagination live in their own modules; each resource group
//! (notes, discussions, merge requests, …) adds its endpoint methods to [`GitLab`] in a module of
//! its own, next to the serde types that mirror GitLab's JSON.
//!
//! [`quick_action`] is here too: every write method takes its Markdown as an [`quick_action::Inert`],
//! so the neutraliser and the only API that could post un-neutralised text live together.

pub mod access_tokens;
pub mod award_emoji;
pub mod client;
pub mod config;
pub mod diff_position;
pub mod discussions;
pub mod draft_notes;
pub mod error;
pub mod hooks;
pub mod ids;
pub mod issues;
pub mod jobs;
pub mod lenient;
pub mod list_options;
pub mod members;
pub mod merge_request_diffs;
pub mod merge_requests;
pub mod notes;
pub mod pagination;
pub mod personal_access_tokens;
pub mod pipeline_schedules;
pub mod pipelines;
pub mod projects;
pub mod quick_action;
pub mod repository;
pub mod resource_label_events;
pub mod retry;
pub mod todos;
pub mod triggers;
pub mod users;
pub mod variables;
pub mod version;

pub use client::{ClientBuildError, GitLab, Pages, TextTail};
pub use config::{ApiBaseUrl, ClientConfig, ConfigError, GitLabToken};
pub use error::GitLabError;
pub use retry::RetryPolicy;
