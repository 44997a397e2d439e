#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report
//! The integration tests of the `entrypoint` crate, linked as ONE test binary (one module per
//! story): one link instead of one per file, while nextest still runs every test in its own
//! process (several of these tests kill process groups, switch uids or make network namespaces);
//! under plain `cargo test` the few that change the process itself run in one of their own
//! ([`own_process`]); the sandbox stories enter a network namespace of their own
//! ([`fresh_netns`]), as the doubles' stories do (both files live in `tests/tests/it/support`).
//!
//! Run one story with `cargo nextest run -p entrypoint --test it <module>::`.

#[path = "../../../tests/tests/it/support/fresh_netns.rs"]
mod fresh_netns;
#[path = "../../../tests/tests/it/support/own_process.rs"]
mod own_process;

mod cancel_kills_everything;
mod cli_invocation;
mod finalize_cli;
mod gitlab_client;
mod gitlab_tls;
mod mention_allocations;
mod mentions_cli;
mod run_guard;
mod sandbox_netns;
mod shared;
mod trigger_from_webhook;
mod uid_isolation;
