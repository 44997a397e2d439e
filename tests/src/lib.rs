//! Test doubles.
//!
//! `gitlab` is a GitLab REST v4 double serving real git repositories over smart HTTP, written
//! from GitLab's documentation independently of the product's client so that a misreading in
//! the client is not mirrored here. `model` holds scripted doubles of the Anthropic and OpenAI
//! model APIs that the real `claude` and `codex` CLIs run against. `binaries` builds the
//! product's binary for tests that run it as a CI job would. `mcp` is an MCP server (streamable
//! HTTP, bearer token) standing in for an issue tracker's.

#![recursion_limit = "256"]

pub mod binaries;
pub mod ci_config;
pub mod ci_rules;
pub mod gitlab;
pub mod mcp;
pub mod model;
pub mod registry;
pub mod replicas;
pub mod sandbox;
pub mod sigstore;
