//! The files Claude Code reads as project configuration: memory, settings and MCP servers.

use crate::agent::trusted::{Match, TrustedPath};

/// Every path Claude Code loads as configuration from the project directory.
pub(crate) const TRUSTED_PATHS: &[TrustedPath] = &[
    TrustedPath {
        name: "CLAUDE.md",
        matches: Match::FileAnywhere,
        reason: "project memory: the root file at start, nested ones when Claude reads files in their directory; may import other files with @path",
        doc: "https://code.claude.com/docs/en/memory",
    },
    TrustedPath {
        name: "CLAUDE.local.md",
        matches: Match::FileAnywhere,
        reason: "local project memory, loaded like CLAUDE.md",
        doc: "https://code.claude.com/docs/en/memory",
    },
    TrustedPath {
        name: ".claude",
        matches: Match::DirectoryAnywhere,
        reason: "settings.json and settings.local.json (hooks that run shell commands, permissions, environment, MCP approval), commands, agents, skills, output styles, rules",
        doc: "https://code.claude.com/docs/en/settings",
    },
    TrustedPath {
        name: ".mcp.json",
        matches: Match::RootFile,
        reason: "project MCP servers: programs Claude Code starts",
        doc: "https://code.claude.com/docs/en/mcp",
    },
];
