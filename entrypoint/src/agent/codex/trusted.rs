//! The files Codex reads as project configuration: rules, instructions, config and skills.

use crate::agent::trusted::{Match, TrustedPath};

/// Every path Codex loads as configuration from the project directory.
pub(crate) const TRUSTED_PATHS: &[TrustedPath] = &[
    TrustedPath {
        name: "CODEX.md",
        matches: Match::RootFile,
        reason: "the rules the entrypoint passes to Codex as developer_instructions",
        doc: "https://developers.openai.com/codex/guides/agents-md",
    },
    TrustedPath {
        name: "AGENTS.md",
        matches: Match::FileAnywhere,
        reason: "Codex project instructions, read when AI_CODEX_RULES is agents or both (off by default with project_doc_max_bytes=0)",
        doc: "https://developers.openai.com/codex/guides/agents-md",
    },
    TrustedPath {
        name: "AGENTS.override.md",
        matches: Match::FileAnywhere,
        reason: "Codex project instructions that win over AGENTS.md",
        doc: "https://developers.openai.com/codex/guides/agents-md",
    },
    TrustedPath {
        name: ".codex",
        matches: Match::DirectoryAnywhere,
        reason: "project config.toml (MCP servers, providers, sandbox), hooks and rules",
        doc: "https://developers.openai.com/codex/config-basic",
    },
    TrustedPath {
        name: ".agents",
        matches: Match::DirectoryAnywhere,
        reason: "repository skills (.agents/skills): instructions and scripts Codex may run",
        doc: "https://developers.openai.com/codex/skills",
    },
];
