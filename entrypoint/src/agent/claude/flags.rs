//! Which flags of Claude Code `AI_CLAUDE_ARGS` may not pass: the list comes from `claude
//! --help` (2.1.331); [`crate::agent::options`] explains the reasons.

/// Claude flags refused in `AI_CLAUDE_ARGS`, each with the reason given to the user.
pub(crate) const CLAUDE_REFUSED: &[(&str, &str)] = &[
    (
        "--dangerously-skip-permissions",
        "the permission mode is the job's",
    ),
    (
        "--allow-dangerously-skip-permissions",
        "the permission mode is the job's",
    ),
    ("--permission-mode", "the permission mode is the job's"),
    ("--permission-prompts", "the permission mode is the job's"),
    (
        "--settings",
        "settings can set an API key helper, a base URL or environment variables that bypass the key proxy",
    ),
    (
        "--setting-sources",
        "only the trusted settings (target branch, fresh HOME) are read",
    ),
    (
        "--mcp-config",
        "MCP servers come from AI_MCP_CONFIG or AI_MCP_CONFIG_FILE (on the default branch), whose credentials the key proxy adds",
    ),
    ("--strict-mcp-config", "the job sets it"),
    ("--add-dir", "the assistant may work in the checkout only"),
    ("--plugin-dir", "plugins are code the job did not vet"),
    (
        "--plugin-url",
        "plugins are code the job did not vet, fetched past the egress fence",
    ),
    ("--agents", "agent definitions can start MCP servers"),
    ("--agent", "agent definitions can start MCP servers"),
    (
        "--worktree",
        "the assistant works in the checkout the job publishes",
    ),
    (
        "-w",
        "the assistant works in the checkout the job publishes",
    ),
    ("--tmux", "the run is headless"),
    ("--print", "the job sets it"),
    ("-p", "the job sets it"),
    (
        "--output-format",
        "the job reads the CLI's stream-json events",
    ),
    (
        "--input-format",
        "the job passes the prompt as text on stdin",
    ),
    (
        "--replay-user-messages",
        "the job reads the CLI's stream-json events",
    ),
    ("--verbose", "the job sets it"),
    ("--continue", "every job starts a new session"),
    ("-c", "every job starts a new session"),
    ("--resume", "every job starts a new session"),
    ("-r", "every job starts a new session"),
    ("--from-pr", "every job starts a new session"),
    ("--session-id", "every job starts a new session"),
    ("--fork-session", "every job starts a new session"),
    ("--cloud", "the run stays in the job"),
    ("--environment", "the run stays in the job"),
    ("--remote-control", "the run stays in the job"),
    (
        "--remote-control-session-name-prefix",
        "the run stays in the job",
    ),
    ("--teleport", "the run stays in the job"),
    ("--desktop", "the run stays in the job"),
    ("--ide", "the run stays in the job"),
    ("--chrome", "the run stays in the job"),
    ("--bg", "the run stays in the job"),
    ("--background", "the run stays in the job"),
    ("--debug-file", "the assistant writes in the checkout only"),
    ("--model", "set CLAUDE_MODEL instead"),
    ("--fallback-model", "set CLAUDE_FALLBACK_MODEL instead"),
    ("--max-turns", "set AI_MAX_TURNS instead"),
    ("--max-budget-usd", "set AI_MAX_BUDGET_USD instead"),
    ("--allowedTools", "set AI_ALLOWED_TOOLS instead"),
    ("--allowed-tools", "set AI_ALLOWED_TOOLS instead"),
    ("--disallowedTools", "set AI_DISALLOWED_TOOLS instead"),
    ("--disallowed-tools", "set AI_DISALLOWED_TOOLS instead"),
    ("--effort", "set AI_REASONING_EFFORT instead"),
    ("--json-schema", "set AI_OUTPUT_SCHEMA instead"),
];
