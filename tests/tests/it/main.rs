//! The integration tests of the `doubles` crate, linked as ONE test binary: each user story is a
//! module here. One binary links once instead of once per file (linking dominated the test
//! build on a 2-core machine), and nextest still runs every test in its own process, so the
//! doubles' servers and child processes never share state between tests.
//!
//! Run one story with `cargo nextest run -p doubles --test it <module>::`.

mod relay_support;
mod repo_files;
mod rust_source;
mod support;

mod ack_job;
mod assistant_run;
mod assistant_secrets;
mod automation_run;
mod ci_context;
mod claim_against_double;
mod client_against_double;
mod docs_adding_an_assistant;
mod docs_configuration;
mod docs_links;
mod docs_troubleshooting;
mod docs_trusted_configuration;
mod doctor_findings;
mod doctor_image;
mod double_binary;
mod double_faults_server;
mod double_git_http;
mod double_rest;
mod double_token_self;
mod draft_notes_against_double;
mod duo_flow_example;
mod examples_ci;
mod explain_against_double;
mod gitlab_fidelity;
mod guard_roles_and_bots;
mod key_proxy;
mod mcp_servers;
mod model_claude;
mod model_codex;
mod model_double_wire;
mod module_layers;
mod publish_against_double;
mod quick_actions;
mod quota_queue;
mod relay_events;
mod relay_metrics;
mod relay_quota_sweep;
mod relay_replicas;
mod relay_resilience;
mod relay_serve_binary;
mod relay_webhooks;
mod release_pipeline;
mod run_context;
mod run_mentions;
mod sandbox_real_clis;
mod scan_against_double;
mod setup_double_routes;
mod setup_mention_round_trip;
mod setup_project;
mod templates;
mod triggers_beyond_mentions;
mod webhook_delivery_fidelity;
mod webhook_mode_template;
mod workspace_git;
mod workspace_git_trust;
mod workspace_token_exposure;
