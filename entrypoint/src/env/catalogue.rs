//! The rows of the catalogue, one constant per variable, in name order. Generated once from
//! docs/configuration.md; kept in step with it by `tests/tests/it/docs_configuration.rs`.

use super::{Cmd, Entry, Kind, Var};

/// What the acknowledgement job (`ai-claude-ack`/`ai-codex-ack`, `entrypoint ack`) left for the assistant job: `posted` …
pub const AI_ACK: Var<String> = Var::new(Entry {
    name: "AI_ACK",
    doc: "what the acknowledgement job (`ai-claude-ack`/`ai-codex-ack`, `entrypoint ack`) left for the assistant job: `posted` …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Run],
});

/// Bot users whose notes are still treated as requests (bots are ignored otherwise).
pub const AI_ALLOWED_BOTS: Var<String> = Var::new(Entry {
    name: "AI_ALLOWED_BOTS",
    doc: "bot users whose notes are still treated as requests (bots are ignored otherwise)",
    default: Some("none"),
    page: "configuration.md#who-may-trigger",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve, Cmd::Ack, Cmd::Run, Cmd::Scan],
});

/// Claude's `--allowedTools`, comma separated.
pub(crate) const AI_ALLOWED_TOOLS: Var<String> = Var::new(Entry {
    name: "AI_ALLOWED_TOOLS",
    doc: "Claude's `--allowedTools`, comma separated",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// `claude` or `codex`.
pub const AI_ASSISTANT: Var<String> = Var::new(Entry {
    name: "AI_ASSISTANT",
    doc: "`claude` or `codex`",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// When `entrypoint review` reviews: `off`, `opened` (once), `ready` (once, not a draft), `every_push` (each push, only …
pub const AI_AUTO_REVIEW: Var<String> = Var::new(Entry {
    name: "AI_AUTO_REVIEW",
    doc: "when `entrypoint review` reviews: `off`, `opened` (once), `ready` (once, not a draft), `every_push` (each push, only …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Webhook mode with the custom template: the bot's username when it is a personal account (GitLab.com Free), so the …
pub const AI_BOT_USERNAME: Var<String> = Var::new(Entry {
    name: "AI_BOT_USERNAME",
    doc: "webhook mode with the custom template: the bot's username when it is a personal account (GitLab.com Free), so the …",
    default: Some("none"),
    page: "configuration.md#who-may-trigger",
    secret: false,
    kind: Kind::Setting,
    read_by: &[],
});

/// The branch the changes were pushed to.
pub const AI_BRANCH: Var<String> = Var::new(Entry {
    name: "AI_BRANCH",
    doc: "the branch the changes were pushed to",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// Prefix of the branches opened for issues (`claude/issue-12-…`).
pub(crate) const AI_BRANCH_PREFIX: Var<String> = Var::new(Entry {
    name: "AI_BRANCH_PREFIX",
    doc: "prefix of the branches opened for issues (`claude/issue-12-…`)",
    default: Some("`claude/` or `codex/`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// How long the bot's claim on a mention (its `eyes`/`robot` reaction) keeps other relays, jobs and scans away before …
pub const AI_CLAIM_LEASE_SECONDS: Var<String> = Var::new(Entry {
    name: "AI_CLAIM_LEASE_SECONDS",
    doc: "how long the bot's claim on a mention (its `eyes`/`robot` reaction) keeps other relays, jobs and scans away before …",
    default: Some("`600`"),
    page: "configuration.md#claims",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve, Cmd::Ack, Cmd::Run, Cmd::Scan],
});

/// More arguments for `claude`, after the job's own, split as `sh` splits words.
pub const AI_CLAUDE_ARGS: Var<String> = Var::new(Entry {
    name: "AI_CLAUDE_ARGS",
    doc: "more arguments for `claude`, after the job's own, split as `sh` splits words",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The CLI to run (the images put it on `PATH`).
pub const AI_CLAUDE_BIN: Var<String> = Var::new(Entry {
    name: "AI_CLAUDE_BIN",
    doc: "the CLI to run (the images put it on `PATH`)",
    default: Some("`claude` / `codex` on `PATH`"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The GitLab username that summons Claude (also `--claude-handle`).
pub const AI_CLAUDE_HANDLE: Var<String> = Var::new(Entry {
    name: "AI_CLAUDE_HANDLE",
    doc: "the GitLab username that summons Claude (also `--claude-handle`)",
    default: Some("`claude`"),
    page: "configuration.md#who-may-trigger",
    secret: false,
    kind: Kind::Setting,
    read_by: &[
        Cmd::Mentions,
        Cmd::Explain,
        Cmd::Finalize,
        Cmd::Setup,
        Cmd::Serve,
        Cmd::Ack,
        Cmd::Run,
        Cmd::Review,
        Cmd::Scan,
    ],
});

/// More arguments for `codex exec`, after the job's own.
pub const AI_CODEX_ARGS: Var<String> = Var::new(Entry {
    name: "AI_CODEX_ARGS",
    doc: "more arguments for `codex exec`, after the job's own",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The CLI to run (the images put it on `PATH`).
pub const AI_CODEX_BIN: Var<String> = Var::new(Entry {
    name: "AI_CODEX_BIN",
    doc: "the CLI to run (the images put it on `PATH`)",
    default: Some("`claude` / `codex` on `PATH`"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The GitLab username that summons Codex (also `--codex-handle`).
pub const AI_CODEX_HANDLE: Var<String> = Var::new(Entry {
    name: "AI_CODEX_HANDLE",
    doc: "the GitLab username that summons Codex (also `--codex-handle`)",
    default: Some("`codex`"),
    page: "configuration.md#who-may-trigger",
    secret: false,
    kind: Kind::Setting,
    read_by: &[
        Cmd::Mentions,
        Cmd::Explain,
        Cmd::Finalize,
        Cmd::Setup,
        Cmd::Serve,
        Cmd::Ack,
        Cmd::Run,
        Cmd::Review,
        Cmd::Scan,
    ],
});

/// Which rule files Codex follows: `codex` (`CODEX.md` only), `agents` (Codex's own `AGENTS.md` / `AGENTS.override.md`, …
pub const AI_CODEX_RULES: Var<String> = Var::new(Entry {
    name: "AI_CODEX_RULES",
    doc: "which rule files Codex follows: `codex` (`CODEX.md` only), `agents` (Codex's own `AGENTS.md` / `AGENTS.override.md`, …",
    default: Some("`codex`"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Commit author email.
pub(crate) const AI_COMMIT_AUTHOR_EMAIL: Var<String> = Var::new(Entry {
    name: "AI_COMMIT_AUTHOR_EMAIL",
    doc: "commit author email",
    default: Some("`noreply@<CI_SERVER_HOST>`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// Commit author.
pub(crate) const AI_COMMIT_AUTHOR_NAME: Var<String> = Var::new(Entry {
    name: "AI_COMMIT_AUTHOR_NAME",
    doc: "commit author",
    default: Some("the assistant's name (`Claude`, `Codex`)"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// `success`, `stopped` (at a per-run limit) or `failure`.
pub const AI_CONCLUSION: Var<String> = Var::new(Entry {
    name: "AI_CONCLUSION",
    doc: "`success`, `stopped` (at a per-run limit) or `failure`",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// The whole context section of the prompt (about 40k tokens).
pub(crate) const AI_CONTEXT_MAX_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_BYTES",
    doc: "the whole context section of the prompt (about 40k tokens)",
    default: Some("`160000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The issue or MR description.
pub(crate) const AI_CONTEXT_MAX_DESCRIPTION_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_DESCRIPTION_BYTES",
    doc: "the issue or MR description",
    default: Some("`24000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// All diffs together.
pub(crate) const AI_CONTEXT_MAX_DIFF_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_DIFF_BYTES",
    doc: "all diffs together",
    default: Some("`64000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Failed jobs whose log end is shown (the others are listed with name, stage and failure reason).
pub const AI_CONTEXT_MAX_FAILED_JOBS: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_FAILED_JOBS",
    doc: "failed jobs whose log end is shown (the others are listed with name, stage and failure reason)",
    default: Some("`5`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// One file's diff.
pub(crate) const AI_CONTEXT_MAX_FILE_DIFF_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_FILE_DIFF_BYTES",
    doc: "one file's diff",
    default: Some("`12000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The end of one job's log, in bytes.
pub const AI_CONTEXT_MAX_LOG_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_LOG_BYTES",
    doc: "the end of one job's log, in bytes",
    default: Some("`8000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The end of one job's log, in lines.
pub const AI_CONTEXT_MAX_LOG_LINES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_LOG_LINES",
    doc: "the end of one job's log, in lines",
    default: Some("`100`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Other comments shown, newest first.
pub(crate) const AI_CONTEXT_MAX_NOTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_NOTES",
    doc: "other comments shown, newest first",
    default: Some("`50`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The thread the mention is in.
pub(crate) const AI_CONTEXT_MAX_THREAD_BYTES: Var<String> = Var::new(Entry {
    name: "AI_CONTEXT_MAX_THREAD_BYTES",
    doc: "the thread the mention is in",
    default: Some("`24000`"),
    page: "configuration.md#branches-commits-and-context",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The run's cost in dollars.
pub const AI_COST_USD: Var<String> = Var::new(Entry {
    name: "AI_COST_USD",
    doc: "the run's cost in dollars",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// Claude's `--disallowedTools`: these tools are refused even though the job runs Claude without permission prompts.
pub const AI_DISALLOWED_TOOLS: Var<String> = Var::new(Entry {
    name: "AI_DISALLOWED_TOOLS",
    doc: "Claude's `--disallowedTools`: these tools are refused even though the job runs Claude without permission prompts",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Its thread, so the answer is a reply.
pub const AI_DISCUSSION_ID: Var<String> = Var::new(Entry {
    name: "AI_DISCUSSION_ID",
    doc: "its thread, so the answer is a reply",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// More variables copied into the assistant's environment, comma or space separated.
pub(crate) const AI_ENV_PASSTHROUGH: Var<String> = Var::new(Entry {
    name: "AI_ENV_PASSTHROUGH",
    doc: "more variables copied into the assistant's environment, comma or space separated",
    default: Some("none"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// A request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …
pub const AI_EVENT: Var<String> = Var::new(Entry {
    name: "AI_EVENT",
    doc: "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// A request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …
pub(crate) const AI_EVENT_ACTOR_ID: Var<String> = Var::new(Entry {
    name: "AI_EVENT_ACTOR_ID",
    doc: "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// A request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …
pub(crate) const AI_EVENT_AT: Var<String> = Var::new(Entry {
    name: "AI_EVENT_AT",
    doc: "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// With `AI_EVENT=labelled`: the label that was added; the job answers only while it is still on the issue or merge request.
pub const AI_EVENT_LABEL: Var<String> = Var::new(Entry {
    name: "AI_EVENT_LABEL",
    doc: "with `AI_EVENT=labelled`: the label that was added; the job answers only while it is still on the issue or merge request",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// House instructions appended to every prompt: the text itself, or (one word with a `/` or ending in `.md`/`.txt`) a …
pub const AI_EXTRA_INSTRUCTIONS: Var<String> = Var::new(Entry {
    name: "AI_EXTRA_INSTRUCTIONS",
    doc: "house instructions appended to every prompt: the text itself, or (one word with a `/` or ending in `.md`/`.txt`) a …",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// The flow's input, context JSON and event (Duo flow).
pub const AI_FLOW_CONTEXT: Var<String> = Var::new(Entry {
    name: "AI_FLOW_CONTEXT",
    doc: "the flow's input, context JSON and event (Duo flow)",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The flow's input, context JSON and event (Duo flow).
pub const AI_FLOW_EVENT: Var<String> = Var::new(Entry {
    name: "AI_FLOW_EVENT",
    doc: "the flow's input, context JSON and event (Duo flow)",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …
pub(crate) const AI_FLOW_GITLAB_HOSTNAME: Var<String> = Var::new(Entry {
    name: "AI_FLOW_GITLAB_HOSTNAME",
    doc: "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …
pub const AI_FLOW_GITLAB_TOKEN: Var<String> = Var::new(Entry {
    name: "AI_FLOW_GITLAB_TOKEN",
    doc: "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: true,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The flow's input, context JSON and event (Duo flow).
pub const AI_FLOW_INPUT: Var<String> = Var::new(Entry {
    name: "AI_FLOW_INPUT",
    doc: "the flow's input, context JSON and event (Duo flow)",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …
pub const AI_FLOW_PROJECT_PATH: Var<String> = Var::new(Entry {
    name: "AI_FLOW_PROJECT_PATH",
    doc: "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_ACTION: Var<String> = Var::new(Entry {
    name: "AI_HOOK_ACTION",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_AUTHOR: Var<String> = Var::new(Entry {
    name: "AI_HOOK_AUTHOR",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_ISSUE_IID: Var<String> = Var::new(Entry {
    name: "AI_HOOK_ISSUE_IID",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_MR_IID: Var<String> = Var::new(Entry {
    name: "AI_HOOK_MR_IID",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_NOTEABLE_TYPE: Var<String> = Var::new(Entry {
    name: "AI_HOOK_NOTEABLE_TYPE",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …
pub const AI_HOOK_NOTE_ID: Var<String> = Var::new(Entry {
    name: "AI_HOOK_NOTE_ID",
    doc: "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// Prompt tokens of the run.
pub const AI_INPUT_TOKENS: Var<String> = Var::new(Entry {
    name: "AI_INPUT_TOKENS",
    doc: "prompt tokens of the run",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// The assistant job's `image:`.
pub const AI_JOB_IMAGE: Var<String> = Var::new(Entry {
    name: "AI_JOB_IMAGE",
    doc: "the assistant job's `image:`",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// The exact label title (case and scope included) whose *adding* to an issue or merge request is a request, as "@bot …
pub const AI_LABEL_TRIGGER: Var<String> = Var::new(Entry {
    name: "AI_LABEL_TRIGGER",
    doc: "the exact label title (case and scope included) whose *adding* to an issue or merge request is a request, as \"@bot …",
    default: Some("none (no label trigger)"),
    page: "configuration.md#triggers-beyond-a-mention",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The dollars one run may spend: Claude's `--max-budget-usd`.
pub const AI_MAX_BUDGET_USD: Var<String> = Var::new(Entry {
    name: "AI_MAX_BUDGET_USD",
    doc: "the dollars one run may spend: Claude's `--max-budget-usd`",
    default: Some("none"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The run's turn limit: Claude's `--max-turns`.
pub(crate) const AI_MAX_TURNS: Var<String> = Var::new(Entry {
    name: "AI_MAX_TURNS",
    doc: "the run's turn limit: Claude's `--max-turns`",
    default: Some("none"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The MCP configuration itself (TOML, format).
pub const AI_MCP_CONFIG: Var<String> = Var::new(Entry {
    name: "AI_MCP_CONFIG",
    doc: "the MCP configuration itself (TOML, format)",
    default: Some("none"),
    page: "configuration.md#mcp-servers",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// A file holding it, read from the **default branch** only.
pub const AI_MCP_CONFIG_FILE: Var<String> = Var::new(Entry {
    name: "AI_MCP_CONFIG_FILE",
    doc: "a file holding it, read from the **default branch** only",
    default: Some("none"),
    page: "configuration.md#mcp-servers",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The least project role whose mention is answered: `guest`, `planner`, `reporter`, `developer`, `maintainer`, `owner` …
pub const AI_MIN_ACCESS_LEVEL: Var<String> = Var::new(Entry {
    name: "AI_MIN_ACCESS_LEVEL",
    doc: "the least project role whose mention is answered: `guest`, `planner`, `reporter`, `developer`, `maintainer`, `owner` …",
    default: Some("`developer`"),
    page: "configuration.md#who-may-trigger",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve, Cmd::Ack, Cmd::Run, Cmd::Scan],
});

/// What the project's runs may spend per calendar month (UTC), summed from the answers' usage lines.
pub const AI_MONTHLY_BUDGET_USD: Var<String> = Var::new(Entry {
    name: "AI_MONTHLY_BUDGET_USD",
    doc: "what the project's runs may spend per calendar month (UTC), summed from the answers' usage lines",
    default: Some("none"),
    page: "configuration.md#limits-over-many-runs",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Doctor, Cmd::Run, Cmd::Scan],
});

/// The merge request opened.
pub const AI_MR_IID: Var<String> = Var::new(Entry {
    name: "AI_MR_IID",
    doc: "the merge request opened",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// The issue's or merge request's IID.
pub const AI_NOTEABLE_IID: Var<String> = Var::new(Entry {
    name: "AI_NOTEABLE_IID",
    doc: "the issue's or merge request's IID",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// `Issue` or `MergeRequest`, GitLab's spelling, which the relay and the scan send so that the job's `resource_group` …
pub const AI_NOTEABLE_TYPE: Var<String> = Var::new(Entry {
    name: "AI_NOTEABLE_TYPE",
    doc: "`Issue` or `MergeRequest`, GitLab's spelling, which the relay and the scan send so that the job's `resource_group` …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// The note that mentioned the assistant.
pub const AI_NOTE_ID: Var<String> = Var::new(Entry {
    name: "AI_NOTE_ID",
    doc: "the note that mentioned the assistant",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// SHA-256 (hex) of the note's body as the relay or scan checked it.
pub const AI_NOTE_SHA256: Var<String> = Var::new(Entry {
    name: "AI_NOTE_SHA256",
    doc: "SHA-256 (hex) of the note's body as the relay or scan checked it",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// A JSON Schema (root `"type": "object"`, at most 64 KiB, no external `$ref`) the result must match: given to Claude …
pub const AI_OUTPUT_SCHEMA: Var<String> = Var::new(Entry {
    name: "AI_OUTPUT_SCHEMA",
    doc: "a JSON Schema (root `\"type\": \"object\"`, at most 64 KiB, no external `$ref`) the result must match: given to Claude …",
    default: Some("none"),
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run],
});

/// Output tokens of the run.
pub const AI_OUTPUT_TOKENS: Var<String> = Var::new(Entry {
    name: "AI_OUTPUT_TOKENS",
    doc: "output tokens of the run",
    default: None,
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Output,
    read_by: &[],
});

/// The placeholder the relay, scan or acknowledgement job already posted.
pub const AI_PLACEHOLDER_NOTE_ID: Var<String> = Var::new(Entry {
    name: "AI_PLACEHOLDER_NOTE_ID",
    doc: "the placeholder the relay, scan or acknowledgement job already posted",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// Where the answer is posted, as one comment through the quick-action neutraliser.
pub const AI_POST_TO: Var<String> = Var::new(Entry {
    name: "AI_POST_TO",
    doc: "where the answer is posted, as one comment through the quick-action neutraliser",
    default: Some("`none`"),
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run],
});

/// Codex only: the USD per million input / cached input / output tokens the proxy prices usage at, for a model the …
pub(crate) const AI_PRICE_PER_MTOK: Var<String> = Var::new(Entry {
    name: "AI_PRICE_PER_MTOK",
    doc: "Codex only: the USD per million input / cached input / output tokens the proxy prices usage at, for a model the …",
    default: Some("OpenAI's list price of the model ([table](budgets.md#codex-prices))"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The task.
pub const AI_PROMPT: Var<String> = Var::new(Entry {
    name: "AI_PROMPT",
    doc: "the task",
    default: Some("none"),
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run],
});

/// The task as a file, read from the default branch through the API.
pub const AI_PROMPT_FILE: Var<String> = Var::new(Entry {
    name: "AI_PROMPT_FILE",
    doc: "the task as a file, read from the default branch through the API",
    default: Some("none"),
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run],
});

/// The attempt a retry of a request queued by a model-API quota error is (the first run is `1`): the run queues again …
pub const AI_QUOTA_ATTEMPT: Var<String> = Var::new(Entry {
    name: "AI_QUOTA_ATTEMPT",
    doc: "the attempt a retry of a request queued by a model-API quota error is (the first run is `1`): the run queues again …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// The wait after the first quota error, in seconds.
pub const AI_QUOTA_BACKOFF_SECONDS: Var<String> = Var::new(Entry {
    name: "AI_QUOTA_BACKOFF_SECONDS",
    doc: "the wait after the first quota error, in seconds",
    default: Some("`300`"),
    page: "configuration.md#model-api-quota-errors",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// How many times a queued request is retried before its note says the limit was still reached and what to do.
pub const AI_QUOTA_RETRIES: Var<String> = Var::new(Entry {
    name: "AI_QUOTA_RETRIES",
    doc: "how many times a queued request is retried before its note says the limit was still reached and what to do",
    default: Some("`3` in the scan's jobs, `0` elsewhere"),
    page: "configuration.md#model-api-quota-errors",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// Requests per period, counted per person in the project and per issue or merge request.
pub const AI_RATE_LIMIT: Var<String> = Var::new(Entry {
    name: "AI_RATE_LIMIT",
    doc: "requests per period, counted per person in the project and per issue or merge request",
    default: Some("none"),
    page: "configuration.md#limits-over-many-runs",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Scan],
});

/// `low`, `medium` or `high`: Claude's `--effort`, Codex's `model_reasoning_effort`.
pub const AI_REASONING_EFFORT: Var<String> = Var::new(Entry {
    name: "AI_REASONING_EFFORT",
    doc: "`low`, `medium` or `high`: Claude's `--effort`, Codex's `model_reasoning_effort`",
    default: Some("the CLI's default"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token.
pub const AI_RELAY_BOT_TOKEN: Var<String> = Var::new(Entry {
    name: "AI_RELAY_BOT_TOKEN",
    doc: "the bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token",
    default: Some("required"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: true,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token.
pub(crate) const AI_RELAY_BOT_TOKEN_FILE: Var<String> = Var::new(Entry {
    name: "AI_RELAY_BOT_TOKEN_FILE",
    doc: "the bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token",
    default: Some("required"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The TOML file (also `--config`).
pub const AI_RELAY_CONFIG: Var<String> = Var::new(Entry {
    name: "AI_RELAY_CONFIG",
    doc: "the TOML file (also `--config`)",
    default: Some("none"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The branch pipelines start on for projects the file does not list (a group webhook).
pub(crate) const AI_RELAY_DEFAULT_REF: Var<String> = Var::new(Entry {
    name: "AI_RELAY_DEFAULT_REF",
    doc: "the branch pipelines start on for projects the file does not list (a group webhook)",
    default: Some("none"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The trigger token for projects the file does not list.
pub const AI_RELAY_DEFAULT_TRIGGER_TOKEN: Var<String> = Var::new(Entry {
    name: "AI_RELAY_DEFAULT_TRIGGER_TOKEN",
    doc: "the trigger token for projects the file does not list",
    default: Some("none (the bot token starts pipelines)"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: true,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The trigger token for projects the file does not list.
pub(crate) const AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE: Var<String> = Var::new(Entry {
    name: "AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE",
    doc: "the trigger token for projects the file does not list",
    default: Some("none (the bot token starts pipelines)"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The assistant that answers an assignment of the bot user, a request for its review and the trigger label from Issue and Merge request events.
pub(crate) const AI_RELAY_EVENT_ASSISTANT: Var<String> = Var::new(Entry {
    name: "AI_RELAY_EVENT_ASSISTANT",
    doc: "the assistant that answers an assignment of the bot user, a request for its review and the trigger label from Issue and Merge request events",
    default: Some("`claude`"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// GitLab, or its `/api/v4` root.
pub const AI_RELAY_GITLAB_URL: Var<String> = Var::new(Entry {
    name: "AI_RELAY_GITLAB_URL",
    doc: "GitLab, or its `/api/v4` root",
    default: Some("required"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The address the relay listens on.
pub const AI_RELAY_LISTEN: Var<String> = Var::new(Entry {
    name: "AI_RELAY_LISTEN",
    doc: "the address the relay listens on",
    default: Some("`0.0.0.0:8080`"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Larger deliveries get `413`.
pub(crate) const AI_RELAY_MAX_BODY_BYTES: Var<String> = Var::new(Entry {
    name: "AI_RELAY_MAX_BODY_BYTES",
    doc: "larger deliveries get `413`",
    default: Some("32 MiB"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Connections open at once.
pub(crate) const AI_RELAY_MAX_CONNECTIONS: Var<String> = Var::new(Entry {
    name: "AI_RELAY_MAX_CONNECTIONS",
    doc: "connections open at once",
    default: Some("1024, less if the open-file limit is lower"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Delivery bytes kept beyond the queue.
pub(crate) const AI_RELAY_OVERFLOW_BYTES: Var<String> = Var::new(Entry {
    name: "AI_RELAY_OVERFLOW_BYTES",
    doc: "delivery bytes kept beyond the queue",
    default: Some("256 MiB"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Mentions waiting in the queue.
pub const AI_RELAY_QUEUE_CAPACITY: Var<String> = Var::new(Entry {
    name: "AI_RELAY_QUEUE_CAPACITY",
    doc: "mentions waiting in the queue",
    default: Some("`1024`"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// How often the relay looks for requests a model-API quota error queued and starts the retry pipeline of each due one; `0` leaves them to a scheduled scan.
pub(crate) const AI_RELAY_QUOTA_SWEEP_SECONDS: Var<String> = Var::new(Entry {
    name: "AI_RELAY_QUOTA_SWEEP_SECONDS",
    doc: "how often the relay looks for requests a model-API quota error queued and starts the retry pipeline of each due one; `0` leaves them to a scheduled scan",
    default: Some("`300`"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Every accepted delivery is written here before the `202` and removed once answered, so a crash or restart loses none.
pub const AI_RELAY_SPOOL_DIR: Var<String> = Var::new(Entry {
    name: "AI_RELAY_SPOOL_DIR",
    doc: "every accepted delivery is written here before the `202` and removed once answered, so a crash or restart loses none",
    default: Some("none (in memory)"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The webhook's secret token (`X-Gitlab-Token`).
pub const AI_RELAY_WEBHOOK_SECRET: Var<String> = Var::new(Entry {
    name: "AI_RELAY_WEBHOOK_SECRET",
    doc: "the webhook's secret token (`X-Gitlab-Token`)",
    default: Some("required"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: true,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// The webhook's secret token (`X-Gitlab-Token`).
pub(crate) const AI_RELAY_WEBHOOK_SECRET_FILE: Var<String> = Var::new(Entry {
    name: "AI_RELAY_WEBHOOK_SECRET_FILE",
    doc: "the webhook's secret token (`X-Gitlab-Token`)",
    default: Some("required"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Mentions handled at the same time.
pub const AI_RELAY_WORKERS: Var<String> = Var::new(Entry {
    name: "AI_RELAY_WORKERS",
    doc: "mentions handled at the same time",
    default: Some("`16`"),
    page: "configuration.md#the-relay-entrypoint-serve",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Serve],
});

/// Changed lines in the diff to review above which the job writes one note saying why instead of reviewing.
pub const AI_REVIEW_MAX_DIFF_LINES: Var<String> = Var::new(Entry {
    name: "AI_REVIEW_MAX_DIFF_LINES",
    doc: "changed lines in the diff to review above which the job writes one note saying why instead of reviewing",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …
pub const AI_REVIEW_PATHS: Var<String> = Var::new(Entry {
    name: "AI_REVIEW_PATHS",
    doc: "comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …
pub const AI_REVIEW_SKIP_AUTHORS: Var<String> = Var::new(Entry {
    name: "AI_REVIEW_SKIP_AUTHORS",
    doc: "comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …
pub const AI_REVIEW_SKIP_LABELS: Var<String> = Var::new(Entry {
    name: "AI_REVIEW_SKIP_LABELS",
    doc: "comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …
pub const AI_REVIEW_SKIP_PATHS: Var<String> = Var::new(Entry {
    name: "AI_REVIEW_SKIP_PATHS",
    doc: "comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Review],
});

/// Fence the assistant's network so it reaches only the key proxy (it runs as its own uid either way).
pub const AI_SANDBOX: Var<String> = Var::new(Entry {
    name: "AI_SANDBOX",
    doc: "fence the assistant's network so it reaches only the key proxy (it runs as its own uid either way)",
    default: Some("`on` for Codex, `off` for Claude"),
    page: "configuration.md#network-sandbox",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Sandbox, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// More hosts the key proxy may forward to, besides the API's own base URL.
pub const AI_SANDBOX_ALLOW: Var<String> = Var::new(Entry {
    name: "AI_SANDBOX_ALLOW",
    doc: "more hosts the key proxy may forward to, besides the API's own base URL",
    default: Some("none"),
    page: "configuration.md#network-sandbox",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Sandbox, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The unprivileged uid the assistant always runs as, fenced or not.
pub const AI_SANDBOX_UID: Var<String> = Var::new(Entry {
    name: "AI_SANDBOX_UID",
    doc: "the unprivileged uid the assistant always runs as, fenced or not",
    default: Some("`64123`"),
    page: "configuration.md#network-sandbox",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Sandbox, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// `1`: a scheduled pipeline that scans for mentions (scan).
pub const AI_SCAN: Var<String> = Var::new(Entry {
    name: "AI_SCAN",
    doc: "`1`: a scheduled pipeline that scans for mentions (scan)",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Setup, Cmd::Doctor, Cmd::Run, Cmd::Scan],
});

/// How far back a scan looks at least, and the first scan at all: seconds or a number with `s`, `m`, `h`.
pub(crate) const AI_SCAN_LOOKBACK: Var<String> = Var::new(Entry {
    name: "AI_SCAN_LOOKBACK",
    doc: "how far back a scan looks at least, and the first scan at all: seconds or a number with `s`, `m`, `h`",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Scan],
});

/// `job` (default): the scan answers each new mention itself, one after the other.
pub const AI_SCAN_MODE: Var<String> = Var::new(Entry {
    name: "AI_SCAN_MODE",
    doc: "`job` (default): the scan answers each new mention itself, one after the other",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Scan],
});

/// The branch `pipeline` mode starts pipelines on.
pub(crate) const AI_SCAN_REF: Var<String> = Var::new(Entry {
    name: "AI_SCAN_REF",
    doc: "the branch `pipeline` mode starts pipelines on",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Scan],
});

/// Where `entrypoint run` records its placeholders for `entrypoint finalize`.
pub const AI_STATE_FILE: Var<String> = Var::new(Entry {
    name: "AI_STATE_FILE",
    doc: "where `entrypoint run` records its placeholders for `entrypoint finalize`",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Finalize, Cmd::Run],
});

/// The title of the merge request the task opens, and the slug of its branch `<prefix>task-<slug>-<job id>`.
pub const AI_TASK_TITLE: Var<String> = Var::new(Entry {
    name: "AI_TASK_TITLE",
    doc: "the title of the merge request the task opens, and the slug of its branch `<prefix>task-<slug>-<job id>`",
    default: Some("the task's first line"),
    page: "configuration.md#automation-tasks",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run],
});

/// The whole assistant run: seconds or a number with `s`, `m`, `h`.
pub const AI_TIMEOUT: Var<String> = Var::new(Entry {
    name: "AI_TIMEOUT",
    doc: "the whole assistant run: seconds or a number with `s`, `m`, `h`",
    default: Some("`20m` in the binary, `25m` from the templates"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The Note Hook body (a file path, or the JSON itself).
pub const AI_WEBHOOK_PAYLOAD: Var<String> = Var::new(Entry {
    name: "AI_WEBHOOK_PAYLOAD",
    doc: "the Note Hook body (a file path, or the JSON itself)",
    default: None,
    page: "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you",
    secret: false,
    kind: Kind::Trigger,
    read_by: &[Cmd::Explain, Cmd::Ack, Cmd::Run],
});

/// Fallback name for the key.
pub const ANTHROPIC_API_KEY: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_API_KEY",
    doc: "fallback name for the key",
    default: None,
    page: "configuration.md#secrets-masked-cicd-variables",
    secret: true,
    kind: Kind::Setting,
    read_by: &[
        Cmd::Explain,
        Cmd::Finalize,
        Cmd::Sandbox,
        Cmd::Ack,
        Cmd::Run,
        Cmd::Review,
        Cmd::Scan,
    ],
});

/// Claude's API, behind the key proxy.
pub const ANTHROPIC_BASE_URL: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_BASE_URL",
    doc: "Claude's API, behind the key proxy",
    default: Some("`https://api.anthropic.com`"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Sandbox, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude on Bedrock: the Bedrock endpoint, copied into the CLI's environment.
pub(crate) const ANTHROPIC_BEDROCK_BASE_URL: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_BEDROCK_BASE_URL",
    doc: "Claude on Bedrock: the Bedrock endpoint, copied into the CLI's environment",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude Code's model setting, copied into the CLI's environment when set.
pub(crate) const ANTHROPIC_MODEL: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_MODEL",
    doc: "Claude Code's model setting, copied into the CLI's environment when set",
    default: None,
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude Code's small model setting, copied into the CLI's environment when set.
pub(crate) const ANTHROPIC_SMALL_FAST_MODEL: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_SMALL_FAST_MODEL",
    doc: "Claude Code's small model setting, copied into the CLI's environment when set",
    default: None,
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude on Vertex AI: the Vertex endpoint, copied into the CLI's environment.
pub(crate) const ANTHROPIC_VERTEX_BASE_URL: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_VERTEX_BASE_URL",
    doc: "Claude on Vertex AI: the Vertex endpoint, copied into the CLI's environment",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude on Vertex AI: the Google Cloud project, copied into the CLI's environment.
pub(crate) const ANTHROPIC_VERTEX_PROJECT_ID: Var<String> = Var::new(Entry {
    name: "ANTHROPIC_VERTEX_PROJECT_ID",
    doc: "Claude on Vertex AI: the Google Cloud project, copied into the CLI's environment",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The Anthropic API key.
pub const CLAUDE_API_KEY: Var<String> = Var::new(Entry {
    name: "CLAUDE_API_KEY",
    doc: "the Anthropic API key",
    default: None,
    page: "configuration.md#secrets-masked-cicd-variables",
    secret: true,
    kind: Kind::Setting,
    read_by: &[
        Cmd::Explain,
        Cmd::Finalize,
        Cmd::Ack,
        Cmd::Run,
        Cmd::Review,
        Cmd::Scan,
    ],
});

/// Set to 1 for Claude Code so that it contacts only its API.
pub const CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
    doc: "set to 1 for Claude Code so that it contacts only its API",
    default: None,
    page: "configuration.md#set-by-the-entrypoint-for-the-clis-do-not-set-them",
    secret: false,
    kind: Kind::ForCli,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude Code's output token limit, copied into the CLI's environment when set.
pub(crate) const CLAUDE_CODE_MAX_OUTPUT_TOKENS: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_MAX_OUTPUT_TOKENS",
    doc: "Claude Code's output token limit, copied into the CLI's environment when set",
    default: None,
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Set for Claude Code when the run bounds its retries.
pub(crate) const CLAUDE_CODE_MAX_RETRIES: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_MAX_RETRIES",
    doc: "set for Claude Code when the run bounds its retries",
    default: None,
    page: "configuration.md#set-by-the-entrypoint-for-the-clis-do-not-set-them",
    secret: false,
    kind: Kind::ForCli,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude on Bedrock: copied into the CLI's environment when set.
pub(crate) const CLAUDE_CODE_SKIP_BEDROCK_AUTH: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_SKIP_BEDROCK_AUTH",
    doc: "Claude on Bedrock: copied into the CLI's environment when set",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude on Vertex AI: copied into the CLI's environment when set.
pub(crate) const CLAUDE_CODE_SKIP_VERTEX_AUTH: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_SKIP_VERTEX_AUTH",
    doc: "Claude on Vertex AI: copied into the CLI's environment when set",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// `1`: Claude Code talks to Bedrock.
pub(crate) const CLAUDE_CODE_USE_BEDROCK: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_USE_BEDROCK",
    doc: "`1`: Claude Code talks to Bedrock",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// `1`: Claude Code talks to Vertex AI.
pub(crate) const CLAUDE_CODE_USE_VERTEX: Var<String> = Var::new(Entry {
    name: "CLAUDE_CODE_USE_VERTEX",
    doc: "`1`: Claude Code talks to Vertex AI",
    default: None,
    page: "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude's `--fallback-model`, used when the main model is busy or unavailable.
pub(crate) const CLAUDE_FALLBACK_MODEL: Var<String> = Var::new(Entry {
    name: "CLAUDE_FALLBACK_MODEL",
    doc: "Claude's `--fallback-model`, used when the main model is busy or unavailable",
    default: Some("none"),
    page: "configuration.md#extra-cli-arguments-tools-and-effort",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Claude's `--model`.
pub const CLAUDE_MODEL: Var<String> = Var::new(Entry {
    name: "CLAUDE_MODEL",
    doc: "Claude's `--model`",
    default: Some("Claude Code's default"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Fallback name for the key.
pub const CODEX_API_KEY: Var<String> = Var::new(Entry {
    name: "CODEX_API_KEY",
    doc: "fallback name for the key",
    default: None,
    page: "configuration.md#secrets-masked-cicd-variables",
    secret: true,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Tried once when `CODEX_MODEL` does not exist for your key.
pub(crate) const CODEX_FALLBACK_MODEL: Var<String> = Var::new(Entry {
    name: "CODEX_FALLBACK_MODEL",
    doc: "tried once when `CODEX_MODEL` does not exist for your key",
    default: Some("`gpt-6.1-sol` (Codex 0.169.0's own default)"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Set for Codex to a fresh directory per run.
pub const CODEX_HOME: Var<String> = Var::new(Entry {
    name: "CODEX_HOME",
    doc: "set for Codex to a fresh directory per run",
    default: None,
    page: "configuration.md#set-by-the-entrypoint-for-the-clis-do-not-set-them",
    secret: false,
    kind: Kind::ForCli,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Codex's `-m`.
pub const CODEX_MODEL: Var<String> = Var::new(Entry {
    name: "CODEX_MODEL",
    doc: "Codex's `-m`",
    default: Some("`o4-mini`"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// The OpenAI API key.
pub const OPENAI_API_KEY: Var<String> = Var::new(Entry {
    name: "OPENAI_API_KEY",
    doc: "the OpenAI API key",
    default: None,
    page: "configuration.md#secrets-masked-cicd-variables",
    secret: true,
    kind: Kind::Setting,
    read_by: &[
        Cmd::Explain,
        Cmd::Finalize,
        Cmd::Sandbox,
        Cmd::Ack,
        Cmd::Run,
        Cmd::Review,
        Cmd::Scan,
    ],
});

/// Codex's API, behind the key proxy.
pub const OPENAI_BASE_URL: Var<String> = Var::new(Entry {
    name: "OPENAI_BASE_URL",
    doc: "Codex's API, behind the key proxy",
    default: Some("`https://api.openai.com/v1`"),
    page: "configuration.md#models-and-the-assistant-run",
    secret: false,
    kind: Kind::Setting,
    read_by: &[Cmd::Sandbox, Cmd::Run, Cmd::Review, Cmd::Scan],
});

/// Every variable above, in name order: the docs test and the literal scan walk it.
pub static CATALOGUE: &[&Entry] = &[
    &AI_ACK.entry,
    &AI_ALLOWED_BOTS.entry,
    &AI_ALLOWED_TOOLS.entry,
    &AI_ASSISTANT.entry,
    &AI_AUTO_REVIEW.entry,
    &AI_BOT_USERNAME.entry,
    &AI_BRANCH.entry,
    &AI_BRANCH_PREFIX.entry,
    &AI_CLAIM_LEASE_SECONDS.entry,
    &AI_CLAUDE_ARGS.entry,
    &AI_CLAUDE_BIN.entry,
    &AI_CLAUDE_HANDLE.entry,
    &AI_CODEX_ARGS.entry,
    &AI_CODEX_BIN.entry,
    &AI_CODEX_HANDLE.entry,
    &AI_CODEX_RULES.entry,
    &AI_COMMIT_AUTHOR_EMAIL.entry,
    &AI_COMMIT_AUTHOR_NAME.entry,
    &AI_CONCLUSION.entry,
    &AI_CONTEXT_MAX_BYTES.entry,
    &AI_CONTEXT_MAX_DESCRIPTION_BYTES.entry,
    &AI_CONTEXT_MAX_DIFF_BYTES.entry,
    &AI_CONTEXT_MAX_FAILED_JOBS.entry,
    &AI_CONTEXT_MAX_FILE_DIFF_BYTES.entry,
    &AI_CONTEXT_MAX_LOG_BYTES.entry,
    &AI_CONTEXT_MAX_LOG_LINES.entry,
    &AI_CONTEXT_MAX_NOTES.entry,
    &AI_CONTEXT_MAX_THREAD_BYTES.entry,
    &AI_COST_USD.entry,
    &AI_DISALLOWED_TOOLS.entry,
    &AI_DISCUSSION_ID.entry,
    &AI_ENV_PASSTHROUGH.entry,
    &AI_EVENT.entry,
    &AI_EVENT_ACTOR_ID.entry,
    &AI_EVENT_AT.entry,
    &AI_EVENT_LABEL.entry,
    &AI_EXTRA_INSTRUCTIONS.entry,
    &AI_FLOW_CONTEXT.entry,
    &AI_FLOW_EVENT.entry,
    &AI_FLOW_GITLAB_HOSTNAME.entry,
    &AI_FLOW_GITLAB_TOKEN.entry,
    &AI_FLOW_INPUT.entry,
    &AI_FLOW_PROJECT_PATH.entry,
    &AI_HOOK_ACTION.entry,
    &AI_HOOK_AUTHOR.entry,
    &AI_HOOK_ISSUE_IID.entry,
    &AI_HOOK_MR_IID.entry,
    &AI_HOOK_NOTEABLE_TYPE.entry,
    &AI_HOOK_NOTE_ID.entry,
    &AI_INPUT_TOKENS.entry,
    &AI_JOB_IMAGE.entry,
    &AI_LABEL_TRIGGER.entry,
    &AI_MAX_BUDGET_USD.entry,
    &AI_MAX_TURNS.entry,
    &AI_MCP_CONFIG.entry,
    &AI_MCP_CONFIG_FILE.entry,
    &AI_MIN_ACCESS_LEVEL.entry,
    &AI_MONTHLY_BUDGET_USD.entry,
    &AI_MR_IID.entry,
    &AI_NOTEABLE_IID.entry,
    &AI_NOTEABLE_TYPE.entry,
    &AI_NOTE_ID.entry,
    &AI_NOTE_SHA256.entry,
    &AI_OUTPUT_SCHEMA.entry,
    &AI_OUTPUT_TOKENS.entry,
    &AI_PLACEHOLDER_NOTE_ID.entry,
    &AI_POST_TO.entry,
    &AI_PRICE_PER_MTOK.entry,
    &AI_PROMPT.entry,
    &AI_PROMPT_FILE.entry,
    &AI_QUOTA_ATTEMPT.entry,
    &AI_QUOTA_BACKOFF_SECONDS.entry,
    &AI_QUOTA_RETRIES.entry,
    &AI_RATE_LIMIT.entry,
    &AI_REASONING_EFFORT.entry,
    &AI_RELAY_BOT_TOKEN.entry,
    &AI_RELAY_BOT_TOKEN_FILE.entry,
    &AI_RELAY_CONFIG.entry,
    &AI_RELAY_DEFAULT_REF.entry,
    &AI_RELAY_DEFAULT_TRIGGER_TOKEN.entry,
    &AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE.entry,
    &AI_RELAY_EVENT_ASSISTANT.entry,
    &AI_RELAY_GITLAB_URL.entry,
    &AI_RELAY_LISTEN.entry,
    &AI_RELAY_MAX_BODY_BYTES.entry,
    &AI_RELAY_MAX_CONNECTIONS.entry,
    &AI_RELAY_OVERFLOW_BYTES.entry,
    &AI_RELAY_QUEUE_CAPACITY.entry,
    &AI_RELAY_QUOTA_SWEEP_SECONDS.entry,
    &AI_RELAY_SPOOL_DIR.entry,
    &AI_RELAY_WEBHOOK_SECRET.entry,
    &AI_RELAY_WEBHOOK_SECRET_FILE.entry,
    &AI_RELAY_WORKERS.entry,
    &AI_REVIEW_MAX_DIFF_LINES.entry,
    &AI_REVIEW_PATHS.entry,
    &AI_REVIEW_SKIP_AUTHORS.entry,
    &AI_REVIEW_SKIP_LABELS.entry,
    &AI_REVIEW_SKIP_PATHS.entry,
    &AI_SANDBOX.entry,
    &AI_SANDBOX_ALLOW.entry,
    &AI_SANDBOX_UID.entry,
    &AI_SCAN.entry,
    &AI_SCAN_LOOKBACK.entry,
    &AI_SCAN_MODE.entry,
    &AI_SCAN_REF.entry,
    &AI_STATE_FILE.entry,
    &AI_TASK_TITLE.entry,
    &AI_TIMEOUT.entry,
    &AI_WEBHOOK_PAYLOAD.entry,
    &ANTHROPIC_API_KEY.entry,
    &ANTHROPIC_BASE_URL.entry,
    &ANTHROPIC_BEDROCK_BASE_URL.entry,
    &ANTHROPIC_MODEL.entry,
    &ANTHROPIC_SMALL_FAST_MODEL.entry,
    &ANTHROPIC_VERTEX_BASE_URL.entry,
    &ANTHROPIC_VERTEX_PROJECT_ID.entry,
    &CLAUDE_API_KEY.entry,
    &CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC.entry,
    &CLAUDE_CODE_MAX_OUTPUT_TOKENS.entry,
    &CLAUDE_CODE_MAX_RETRIES.entry,
    &CLAUDE_CODE_SKIP_BEDROCK_AUTH.entry,
    &CLAUDE_CODE_SKIP_VERTEX_AUTH.entry,
    &CLAUDE_CODE_USE_BEDROCK.entry,
    &CLAUDE_CODE_USE_VERTEX.entry,
    &CLAUDE_FALLBACK_MODEL.entry,
    &CLAUDE_MODEL.entry,
    &CODEX_API_KEY.entry,
    &CODEX_FALLBACK_MODEL.entry,
    &CODEX_HOME.entry,
    &CODEX_MODEL.entry,
    &OPENAI_API_KEY.entry,
    &OPENAI_BASE_URL.entry,
];
