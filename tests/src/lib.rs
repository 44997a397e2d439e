//! Test doubles: a GitLab REST v4 double ([`gitlab`]) and scripted doubles of the Anthropic and
//! OpenAI model APIs that the real `claude` and `codex` CLIs run against ([`model`]).

pub mod gitlab;
pub mod model;
