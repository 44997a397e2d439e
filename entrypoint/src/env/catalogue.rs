//! The rows of the catalogue, one line per variable, in name order. Generated once from
//! docs/configuration.md; kept in step with it by `tests/tests/it/docs_configuration.rs`.

use super::{Entry, Var};

/// Declares each variable's [`Var`] constant and [`CATALOGUE`] from one row per variable:
///
/// `visibility CONSTANT = "NAME", kind [secret], [commands that read it], default, section, "doc";`
///
/// The name is written as a string as well as the constant: the docs test finds the names the
/// code spells by its string literals, and a compile-time check keeps the two equal. A default
/// of `-` means the page's table has no `default` column for it; the section is one of the
/// anchors below; the doc becomes the constant's documentation.
macro_rules! catalogue {
    ($(
        $vis:vis $constant:ident = $name:literal, $kind:ident $($secret:ident)?,
        [$($cmd:ident),*], $default:tt, $section:ident, $doc:literal;
    )*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $doc)]
            $vis const $constant: Var<String> = Var::new(Entry {
                name: $name,
                doc: $doc,
                default: catalogue!(@default $default),
                page: $section,
                secret: catalogue!(@secret $($secret)?),
                kind: super::Kind::$kind,
                read_by: &[$(super::Cmd::$cmd),*],
            });
            const _: () = assert!(
                same_text(stringify!($constant), $name),
                concat!("the constant ", stringify!($constant), " is not named ", $name),
            );
        )*

        /// Every variable above, in name order: the docs test and the literal scan walk it.
        pub static CATALOGUE: &[&Entry] = &[$(&$constant.entry),*];
    };
    (@default -) => { None };
    (@default $default:literal) => { Some($default) };
    (@secret secret) => { true };
    (@secret) => { false };
}

/// Whether two names are equal, where `==` on `str` is not yet allowed (a `const` check).
const fn same_text(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

const fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    match (a, b) {
        ([], []) => true,
        ([x, a @ ..], [y, b @ ..]) => *x == *y && same_bytes(a, b),
        _ => false,
    }
}

/// The sections of docs/configuration.md that document variables, as `page` names them.
const TRIGGER_VARIABLES: &str =
    "configuration.md#trigger-variables-set-by-the-relay-the-scan-setup-or-gitlab-not-by-you";
const RELAY: &str = "configuration.md#the-relay-entrypoint-serve";
const MODELS: &str = "configuration.md#models-and-the-assistant-run";
const BRANCHES: &str = "configuration.md#branches-commits-and-context";
const AUTOMATION: &str = "configuration.md#automation-tasks";
const CLI_ARGUMENTS: &str = "configuration.md#extra-cli-arguments-tools-and-effort";
const BEDROCK_VERTEX: &str = "configuration.md#claude-on-amazon-bedrock-or-google-vertex-ai";
const WHO_MAY_TRIGGER: &str = "configuration.md#who-may-trigger";
const SECRETS: &str = "configuration.md#secrets-masked-cicd-variables";
const SANDBOX: &str = "configuration.md#network-sandbox";
const FOR_THE_CLIS: &str = "configuration.md#set-by-the-entrypoint-for-the-clis-do-not-set-them";
const MCP: &str = "configuration.md#mcp-servers";
const LIMITS: &str = "configuration.md#limits-over-many-runs";
const QUOTA: &str = "configuration.md#model-api-quota-errors";
const CLAIMS: &str = "configuration.md#claims";
const BEYOND_MENTIONS: &str = "configuration.md#triggers-beyond-a-mention";

catalogue! {
    pub AI_ACK = "AI_ACK", Trigger, [Run], -, TRIGGER_VARIABLES, "what the acknowledgement job (`ai-claude-ack`/`ai-codex-ack`, `entrypoint ack`) left for the assistant job: `posted` …";
    pub AI_ALLOWED_BOTS = "AI_ALLOWED_BOTS", Setting, [Serve, Ack, Run, Scan], "none", WHO_MAY_TRIGGER, "bot users whose notes are still treated as requests (bots are ignored otherwise)";
    pub(crate) AI_ALLOWED_TOOLS = "AI_ALLOWED_TOOLS", Setting, [Run, Review, Scan], "none", CLI_ARGUMENTS, "Claude's `--allowedTools`, comma separated";
    pub AI_ASSISTANT = "AI_ASSISTANT", Trigger, [Explain, Ack, Run, Review, Scan], -, TRIGGER_VARIABLES, "`claude` or `codex`";
    pub AI_AUTO_REVIEW = "AI_AUTO_REVIEW", Trigger, [Review], -, TRIGGER_VARIABLES, "when `entrypoint review` reviews: `off`, `opened` (once), `ready` (once, not a draft), `every_push` (each push, only …";
    pub AI_BOT_USERNAME = "AI_BOT_USERNAME", Setting, [], "none", WHO_MAY_TRIGGER, "webhook mode with the custom template: the bot's username when it is a personal account (GitLab.com Free), so the …";
    pub AI_BRANCH = "AI_BRANCH", Output, [], -, AUTOMATION, "the branch the changes were pushed to";
    pub(crate) AI_BRANCH_PREFIX = "AI_BRANCH_PREFIX", Setting, [Run, Scan], "`claude/` or `codex/`", BRANCHES, "prefix of the branches opened for issues (`claude/issue-12-…`)";
    pub AI_CLAIM_LEASE_SECONDS = "AI_CLAIM_LEASE_SECONDS", Setting, [Serve, Ack, Run, Scan], "`600`", CLAIMS, "how long the bot's claim on a mention (its `eyes`/`robot` reaction) keeps other relays, jobs and scans away before …";
    pub AI_CLAUDE_ARGS = "AI_CLAUDE_ARGS", Setting, [Run, Review, Scan], "none", CLI_ARGUMENTS, "more arguments for `claude`, after the job's own, split as `sh` splits words";
    pub AI_CLAUDE_BIN = "AI_CLAUDE_BIN", Setting, [Run, Review, Scan], "`claude` / `codex` on `PATH`", MODELS, "the CLI to run (the images put it on `PATH`)";
    pub AI_CLAUDE_HANDLE = "AI_CLAUDE_HANDLE", Setting, [Mentions, Explain, Finalize, Setup, Serve, Ack, Run, Review, Scan], "`claude`", WHO_MAY_TRIGGER, "the GitLab username that summons Claude (also `--claude-handle`)";
    pub AI_CODEX_ARGS = "AI_CODEX_ARGS", Setting, [Run, Review, Scan], "none", CLI_ARGUMENTS, "more arguments for `codex exec`, after the job's own";
    pub AI_CODEX_BIN = "AI_CODEX_BIN", Setting, [Run, Review, Scan], "`claude` / `codex` on `PATH`", MODELS, "the CLI to run (the images put it on `PATH`)";
    pub AI_CODEX_HANDLE = "AI_CODEX_HANDLE", Setting, [Mentions, Explain, Finalize, Setup, Serve, Ack, Run, Review, Scan], "`codex`", WHO_MAY_TRIGGER, "the GitLab username that summons Codex (also `--codex-handle`)";
    pub AI_CODEX_RULES = "AI_CODEX_RULES", Setting, [Run, Review, Scan], "`codex`", CLI_ARGUMENTS, "which rule files Codex follows: `codex` (`CODEX.md` only), `agents` (Codex's own `AGENTS.md` / `AGENTS.override.md`, …";
    pub(crate) AI_COMMIT_AUTHOR_EMAIL = "AI_COMMIT_AUTHOR_EMAIL", Setting, [Run, Scan], "`noreply@<CI_SERVER_HOST>`", BRANCHES, "commit author email";
    pub(crate) AI_COMMIT_AUTHOR_NAME = "AI_COMMIT_AUTHOR_NAME", Setting, [Run, Scan], "the assistant's name (`Claude`, `Codex`)", BRANCHES, "commit author";
    pub AI_CONCLUSION = "AI_CONCLUSION", Output, [], -, AUTOMATION, "`success`, `stopped` (at a per-run limit) or `failure`";
    pub(crate) AI_CONTEXT_MAX_BYTES = "AI_CONTEXT_MAX_BYTES", Setting, [Run, Review, Scan], "`160000`", BRANCHES, "the whole context section of the prompt (about 40k tokens)";
    pub(crate) AI_CONTEXT_MAX_DESCRIPTION_BYTES = "AI_CONTEXT_MAX_DESCRIPTION_BYTES", Setting, [Run, Review, Scan], "`24000`", BRANCHES, "the issue or MR description";
    pub(crate) AI_CONTEXT_MAX_DIFF_BYTES = "AI_CONTEXT_MAX_DIFF_BYTES", Setting, [Run, Review, Scan], "`64000`", BRANCHES, "all diffs together";
    pub AI_CONTEXT_MAX_FAILED_JOBS = "AI_CONTEXT_MAX_FAILED_JOBS", Setting, [Run, Review, Scan], "`5`", BRANCHES, "failed jobs whose log end is shown (the others are listed with name, stage and failure reason)";
    pub(crate) AI_CONTEXT_MAX_FILE_DIFF_BYTES = "AI_CONTEXT_MAX_FILE_DIFF_BYTES", Setting, [Run, Review, Scan], "`12000`", BRANCHES, "one file's diff";
    pub AI_CONTEXT_MAX_LOG_BYTES = "AI_CONTEXT_MAX_LOG_BYTES", Setting, [Run, Review, Scan], "`8000`", BRANCHES, "the end of one job's log, in bytes";
    pub AI_CONTEXT_MAX_LOG_LINES = "AI_CONTEXT_MAX_LOG_LINES", Setting, [Run, Review, Scan], "`100`", BRANCHES, "the end of one job's log, in lines";
    pub(crate) AI_CONTEXT_MAX_NOTES = "AI_CONTEXT_MAX_NOTES", Setting, [Run, Review, Scan], "`50`", BRANCHES, "other comments shown, newest first";
    pub(crate) AI_CONTEXT_MAX_THREAD_BYTES = "AI_CONTEXT_MAX_THREAD_BYTES", Setting, [Run, Review, Scan], "`24000`", BRANCHES, "the thread the mention is in";
    pub AI_COST_USD = "AI_COST_USD", Output, [], -, AUTOMATION, "the run's cost in dollars";
    pub AI_DISALLOWED_TOOLS = "AI_DISALLOWED_TOOLS", Setting, [Run, Review, Scan], "none", CLI_ARGUMENTS, "Claude's `--disallowedTools`: these tools are refused even though the job runs Claude without permission prompts";
    pub AI_DISCUSSION_ID = "AI_DISCUSSION_ID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "its thread, so the answer is a reply";
    pub(crate) AI_ENV_PASSTHROUGH = "AI_ENV_PASSTHROUGH", Setting, [Run, Review, Scan], "none", MODELS, "more variables copied into the assistant's environment, comma or space separated";
    pub AI_EVENT = "AI_EVENT", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …";
    pub(crate) AI_EVENT_ACTOR_ID = "AI_EVENT_ACTOR_ID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …";
    pub(crate) AI_EVENT_AT = "AI_EVENT_AT", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "a request without a note, with `AI_NOTEABLE_TYPE`/`AI_NOTEABLE_IID`: `assigned`, `review_requested` or …";
    pub AI_EVENT_LABEL = "AI_EVENT_LABEL", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "with `AI_EVENT=labelled`: the label that was added; the job answers only while it is still on the issue or merge request";
    pub AI_EXTRA_INSTRUCTIONS = "AI_EXTRA_INSTRUCTIONS", Setting, [Run, Scan], "none", CLI_ARGUMENTS, "house instructions appended to every prompt: the text itself, or (one word with a `/` or ending in `.md`/`.txt`) a …";
    pub AI_FLOW_CONTEXT = "AI_FLOW_CONTEXT", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's input, context JSON and event (Duo flow)";
    pub AI_FLOW_EVENT = "AI_FLOW_EVENT", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's input, context JSON and event (Duo flow)";
    pub(crate) AI_FLOW_GITLAB_HOSTNAME = "AI_FLOW_GITLAB_HOSTNAME", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …";
    pub AI_FLOW_GITLAB_TOKEN = "AI_FLOW_GITLAB_TOKEN", Trigger secret, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …";
    pub AI_FLOW_INPUT = "AI_FLOW_INPUT", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's input, context JSON and event (Duo flow)";
    pub AI_FLOW_PROJECT_PATH = "AI_FLOW_PROJECT_PATH", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the flow's GitLab token, host name (for example `gitlab.example.com`) and project path, used when `GITLAB_TOKEN`, …";
    pub AI_HOOK_ACTION = "AI_HOOK_ACTION", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_HOOK_AUTHOR = "AI_HOOK_AUTHOR", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_HOOK_ISSUE_IID = "AI_HOOK_ISSUE_IID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_HOOK_MR_IID = "AI_HOOK_MR_IID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_HOOK_NOTEABLE_TYPE = "AI_HOOK_NOTEABLE_TYPE", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_HOOK_NOTE_ID = "AI_HOOK_NOTE_ID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the comment's `create`/`update`, its author's username, `Issue`/`MergeRequest`/`Commit`/`Snippet`, its id, and the …";
    pub AI_INPUT_TOKENS = "AI_INPUT_TOKENS", Output, [], -, AUTOMATION, "prompt tokens of the run";
    pub AI_JOB_IMAGE = "AI_JOB_IMAGE", Output, [], -, TRIGGER_VARIABLES, "the assistant job's `image:`";
    pub AI_LABEL_TRIGGER = "AI_LABEL_TRIGGER", Setting, [Explain, Ack, Run], "none (no label trigger)", BEYOND_MENTIONS, "the exact label title (case and scope included) whose *adding* to an issue or merge request is a request, as \"@bot …";
    pub AI_MAX_BUDGET_USD = "AI_MAX_BUDGET_USD", Setting, [Run, Review, Scan], "none", MODELS, "the dollars one run may spend: Claude's `--max-budget-usd`";
    pub(crate) AI_MAX_TURNS = "AI_MAX_TURNS", Setting, [Run, Review, Scan], "none", MODELS, "the run's turn limit: Claude's `--max-turns`";
    pub AI_MCP_CONFIG = "AI_MCP_CONFIG", Setting, [Run, Review, Scan], "none", MCP, "the MCP configuration itself (TOML, format)";
    pub AI_MCP_CONFIG_FILE = "AI_MCP_CONFIG_FILE", Setting, [Run, Review, Scan], "none", MCP, "a file holding it, read from the **default branch** only";
    pub AI_MIN_ACCESS_LEVEL = "AI_MIN_ACCESS_LEVEL", Setting, [Serve, Ack, Run, Scan], "`developer`", WHO_MAY_TRIGGER, "the least project role whose mention is answered: `guest`, `planner`, `reporter`, `developer`, `maintainer`, `owner` …";
    pub AI_MONTHLY_BUDGET_USD = "AI_MONTHLY_BUDGET_USD", Setting, [Doctor, Run, Scan], "none", LIMITS, "what the project's runs may spend per calendar month (UTC), summed from the answers' usage lines";
    pub AI_MR_IID = "AI_MR_IID", Output, [], -, AUTOMATION, "the merge request opened";
    pub AI_NOTEABLE_IID = "AI_NOTEABLE_IID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the issue's or merge request's IID";
    pub AI_NOTEABLE_TYPE = "AI_NOTEABLE_TYPE", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "`Issue` or `MergeRequest`, GitLab's spelling, which the relay and the scan send so that the job's `resource_group` …";
    pub AI_NOTE_ID = "AI_NOTE_ID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the note that mentioned the assistant";
    pub AI_NOTE_SHA256 = "AI_NOTE_SHA256", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "SHA-256 (hex) of the note's body as the relay or scan checked it";
    pub AI_OUTPUT_SCHEMA = "AI_OUTPUT_SCHEMA", Setting, [Run], "none", AUTOMATION, "a JSON Schema (root `\"type\": \"object\"`, at most 64 KiB, no external `$ref`) the result must match: given to Claude …";
    pub AI_OUTPUT_TOKENS = "AI_OUTPUT_TOKENS", Output, [], -, AUTOMATION, "output tokens of the run";
    pub AI_PLACEHOLDER_NOTE_ID = "AI_PLACEHOLDER_NOTE_ID", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the placeholder the relay, scan or acknowledgement job already posted";
    pub AI_POST_TO = "AI_POST_TO", Setting, [Run], "`none`", AUTOMATION, "where the answer is posted, as one comment through the quick-action neutraliser";
    pub(crate) AI_PRICE_PER_MTOK = "AI_PRICE_PER_MTOK", Setting, [Run, Review, Scan], "OpenAI's list price of the model ([table](budgets.md#codex-prices))", MODELS, "Codex only: the USD per million input / cached input / output tokens the proxy prices usage at, for a model the …";
    pub AI_PROMPT = "AI_PROMPT", Setting, [Run], "none", AUTOMATION, "the task";
    pub AI_PROMPT_FILE = "AI_PROMPT_FILE", Setting, [Run], "none", AUTOMATION, "the task as a file, read from the default branch through the API";
    pub AI_QUOTA_ATTEMPT = "AI_QUOTA_ATTEMPT", Trigger, [Run, Scan], -, TRIGGER_VARIABLES, "the attempt a retry of a request queued by a model-API quota error is (the first run is `1`): the run queues again …";
    pub AI_QUOTA_BACKOFF_SECONDS = "AI_QUOTA_BACKOFF_SECONDS", Setting, [Run, Scan], "`300`", QUOTA, "the wait after the first quota error, in seconds";
    pub AI_QUOTA_RETRIES = "AI_QUOTA_RETRIES", Setting, [Run, Scan], "`3` in the scan's jobs, `0` elsewhere", QUOTA, "how many times a queued request is retried before its note says the limit was still reached and what to do";
    pub AI_RATE_LIMIT = "AI_RATE_LIMIT", Setting, [Run, Scan], "none", LIMITS, "requests per period, counted per person in the project and per issue or merge request";
    pub AI_REASONING_EFFORT = "AI_REASONING_EFFORT", Setting, [Run, Review, Scan], "the CLI's default", CLI_ARGUMENTS, "`low`, `medium` or `high`: Claude's `--effort`, Codex's `model_reasoning_effort`";
    pub AI_RELAY_BOT_TOKEN = "AI_RELAY_BOT_TOKEN", Setting secret, [Serve], "required", RELAY, "the bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token";
    pub(crate) AI_RELAY_BOT_TOKEN_FILE = "AI_RELAY_BOT_TOKEN_FILE", Setting, [Serve], "required", RELAY, "the bot's token (Developer, `api`): claims, placeholders, and pipelines of projects without a trigger token";
    pub AI_RELAY_CONFIG = "AI_RELAY_CONFIG", Setting, [Serve], "none", RELAY, "the TOML file (also `--config`)";
    pub(crate) AI_RELAY_DEFAULT_REF = "AI_RELAY_DEFAULT_REF", Setting, [Serve], "none", RELAY, "the branch pipelines start on for projects the file does not list (a group webhook)";
    pub AI_RELAY_DEFAULT_TRIGGER_TOKEN = "AI_RELAY_DEFAULT_TRIGGER_TOKEN", Setting secret, [Serve], "none (the bot token starts pipelines)", RELAY, "the trigger token for projects the file does not list";
    pub(crate) AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE = "AI_RELAY_DEFAULT_TRIGGER_TOKEN_FILE", Setting, [Serve], "none (the bot token starts pipelines)", RELAY, "the trigger token for projects the file does not list";
    pub(crate) AI_RELAY_EVENT_ASSISTANT = "AI_RELAY_EVENT_ASSISTANT", Setting, [Serve], "`claude`", RELAY, "the assistant that answers an assignment of the bot user, a request for its review and the trigger label from Issue and Merge request events";
    pub AI_RELAY_GITLAB_URL = "AI_RELAY_GITLAB_URL", Setting, [Serve], "required", RELAY, "GitLab, or its `/api/v4` root";
    pub AI_RELAY_LISTEN = "AI_RELAY_LISTEN", Setting, [Serve], "`0.0.0.0:8080`", RELAY, "the address the relay listens on";
    pub(crate) AI_RELAY_MAX_BODY_BYTES = "AI_RELAY_MAX_BODY_BYTES", Setting, [Serve], "32 MiB", RELAY, "larger deliveries get `413`";
    pub(crate) AI_RELAY_MAX_CONNECTIONS = "AI_RELAY_MAX_CONNECTIONS", Setting, [Serve], "1024, less if the open-file limit is lower", RELAY, "connections open at once";
    pub(crate) AI_RELAY_OVERFLOW_BYTES = "AI_RELAY_OVERFLOW_BYTES", Setting, [Serve], "256 MiB", RELAY, "delivery bytes kept beyond the queue";
    pub AI_RELAY_QUEUE_CAPACITY = "AI_RELAY_QUEUE_CAPACITY", Setting, [Serve], "`1024`", RELAY, "mentions waiting in the queue";
    pub(crate) AI_RELAY_QUOTA_SWEEP_SECONDS = "AI_RELAY_QUOTA_SWEEP_SECONDS", Setting, [Serve], "`300`", RELAY, "how often the relay looks for requests a model-API quota error queued and starts the retry pipeline of each due one; `0` leaves them to a scheduled scan";
    pub AI_RELAY_SPOOL_DIR = "AI_RELAY_SPOOL_DIR", Setting, [Serve], "none (in memory)", RELAY, "every accepted delivery is written here before the `202` and removed once answered, so a crash or restart loses none";
    pub AI_RELAY_WEBHOOK_SECRET = "AI_RELAY_WEBHOOK_SECRET", Setting secret, [Serve], "required", RELAY, "the webhook's secret token (`X-Gitlab-Token`)";
    pub(crate) AI_RELAY_WEBHOOK_SECRET_FILE = "AI_RELAY_WEBHOOK_SECRET_FILE", Setting, [Serve], "required", RELAY, "the webhook's secret token (`X-Gitlab-Token`)";
    pub AI_RELAY_WORKERS = "AI_RELAY_WORKERS", Setting, [Serve], "`16`", RELAY, "mentions handled at the same time";
    pub AI_REVIEW_MAX_DIFF_LINES = "AI_REVIEW_MAX_DIFF_LINES", Trigger, [Review], -, TRIGGER_VARIABLES, "changed lines in the diff to review above which the job writes one note saying why instead of reviewing";
    pub AI_REVIEW_PATHS = "AI_REVIEW_PATHS", Trigger, [Review], -, TRIGGER_VARIABLES, "comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …";
    pub AI_REVIEW_SKIP_AUTHORS = "AI_REVIEW_SKIP_AUTHORS", Trigger, [Review], -, TRIGGER_VARIABLES, "comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …";
    pub AI_REVIEW_SKIP_LABELS = "AI_REVIEW_SKIP_LABELS", Trigger, [Review], -, TRIGGER_VARIABLES, "comma-separated labels (`~` optional) and usernames (`@` optional), compared without case, whose merge requests the …";
    pub AI_REVIEW_SKIP_PATHS = "AI_REVIEW_SKIP_PATHS", Trigger, [Review], -, TRIGGER_VARIABLES, "comma-separated globs read as GitLab reads `rules:changes` (`*` stops at `/`, `**/` spans directories, `{a,b}` …";
    pub AI_SANDBOX = "AI_SANDBOX", Setting, [Sandbox, Run, Review, Scan], "`on` for Codex, `off` for Claude", SANDBOX, "fence the assistant's network so it reaches only the key proxy (it runs as its own uid either way)";
    pub AI_SANDBOX_ALLOW = "AI_SANDBOX_ALLOW", Setting, [Sandbox, Run, Review, Scan], "none", SANDBOX, "more hosts the key proxy may forward to, besides the API's own base URL";
    pub AI_SANDBOX_UID = "AI_SANDBOX_UID", Setting, [Sandbox, Run, Review, Scan], "`64123`", SANDBOX, "the unprivileged uid the assistant always runs as, fenced or not";
    pub AI_SCAN = "AI_SCAN", Trigger, [Setup, Doctor, Run, Scan], -, TRIGGER_VARIABLES, "`1`: a scheduled pipeline that scans for mentions (scan)";
    pub(crate) AI_SCAN_LOOKBACK = "AI_SCAN_LOOKBACK", Trigger, [Scan], -, TRIGGER_VARIABLES, "how far back a scan looks at least, and the first scan at all: seconds or a number with `s`, `m`, `h`";
    pub AI_SCAN_MODE = "AI_SCAN_MODE", Trigger, [Scan], -, TRIGGER_VARIABLES, "`job` (default): the scan answers each new mention itself, one after the other";
    pub(crate) AI_SCAN_REF = "AI_SCAN_REF", Trigger, [Scan], -, TRIGGER_VARIABLES, "the branch `pipeline` mode starts pipelines on";
    pub AI_STATE_FILE = "AI_STATE_FILE", Trigger, [Finalize, Run], -, TRIGGER_VARIABLES, "where `entrypoint run` records its placeholders for `entrypoint finalize`";
    pub AI_TASK_TITLE = "AI_TASK_TITLE", Setting, [Run], "the task's first line", AUTOMATION, "the title of the merge request the task opens, and the slug of its branch `<prefix>task-<slug>-<job id>`";
    pub AI_TIMEOUT = "AI_TIMEOUT", Setting, [Run, Review, Scan], "`20m` in the binary, `25m` from the templates", MODELS, "the whole assistant run: seconds or a number with `s`, `m`, `h`";
    pub AI_WEBHOOK_PAYLOAD = "AI_WEBHOOK_PAYLOAD", Trigger, [Explain, Ack, Run], -, TRIGGER_VARIABLES, "the Note Hook body (a file path, or the JSON itself)";
    pub ANTHROPIC_API_KEY = "ANTHROPIC_API_KEY", Setting secret, [Explain, Finalize, Sandbox, Ack, Run, Review, Scan], -, SECRETS, "fallback name for the key";
    pub ANTHROPIC_BASE_URL = "ANTHROPIC_BASE_URL", Setting, [Sandbox, Run, Review, Scan], "`https://api.anthropic.com`", MODELS, "Claude's API, behind the key proxy";
    pub(crate) ANTHROPIC_BEDROCK_BASE_URL = "ANTHROPIC_BEDROCK_BASE_URL", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "Claude on Bedrock: the Bedrock endpoint, copied into the CLI's environment";
    pub(crate) ANTHROPIC_MODEL = "ANTHROPIC_MODEL", Setting, [Run, Review, Scan], -, MODELS, "Claude Code's model setting, copied into the CLI's environment when set";
    pub(crate) ANTHROPIC_SMALL_FAST_MODEL = "ANTHROPIC_SMALL_FAST_MODEL", Setting, [Run, Review, Scan], -, MODELS, "Claude Code's small model setting, copied into the CLI's environment when set";
    pub(crate) ANTHROPIC_VERTEX_BASE_URL = "ANTHROPIC_VERTEX_BASE_URL", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "Claude on Vertex AI: the Vertex endpoint, copied into the CLI's environment";
    pub(crate) ANTHROPIC_VERTEX_PROJECT_ID = "ANTHROPIC_VERTEX_PROJECT_ID", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "Claude on Vertex AI: the Google Cloud project, copied into the CLI's environment";
    pub CLAUDE_API_KEY = "CLAUDE_API_KEY", Setting secret, [Explain, Finalize, Ack, Run, Review, Scan], -, SECRETS, "the Anthropic API key";
    pub CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC = "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", ForCli, [Run, Review, Scan], -, FOR_THE_CLIS, "set to 1 for Claude Code so that it contacts only its API";
    pub(crate) CLAUDE_CODE_MAX_OUTPUT_TOKENS = "CLAUDE_CODE_MAX_OUTPUT_TOKENS", Setting, [Run, Review, Scan], -, MODELS, "Claude Code's output token limit, copied into the CLI's environment when set";
    pub(crate) CLAUDE_CODE_MAX_RETRIES = "CLAUDE_CODE_MAX_RETRIES", ForCli, [Run, Review, Scan], -, FOR_THE_CLIS, "set for Claude Code when the run bounds its retries";
    pub(crate) CLAUDE_CODE_SKIP_BEDROCK_AUTH = "CLAUDE_CODE_SKIP_BEDROCK_AUTH", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "Claude on Bedrock: copied into the CLI's environment when set";
    pub(crate) CLAUDE_CODE_SKIP_VERTEX_AUTH = "CLAUDE_CODE_SKIP_VERTEX_AUTH", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "Claude on Vertex AI: copied into the CLI's environment when set";
    pub(crate) CLAUDE_CODE_USE_BEDROCK = "CLAUDE_CODE_USE_BEDROCK", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "`1`: Claude Code talks to Bedrock";
    pub(crate) CLAUDE_CODE_USE_VERTEX = "CLAUDE_CODE_USE_VERTEX", Setting, [Run, Review, Scan], -, BEDROCK_VERTEX, "`1`: Claude Code talks to Vertex AI";
    pub(crate) CLAUDE_FALLBACK_MODEL = "CLAUDE_FALLBACK_MODEL", Setting, [Run, Review, Scan], "none", CLI_ARGUMENTS, "Claude's `--fallback-model`, used when the main model is busy or unavailable";
    pub CLAUDE_MODEL = "CLAUDE_MODEL", Setting, [Run, Review, Scan], "Claude Code's default", MODELS, "Claude's `--model`";
    pub CODEX_API_KEY = "CODEX_API_KEY", Setting secret, [Run, Review, Scan], -, SECRETS, "fallback name for the key";
    pub(crate) CODEX_FALLBACK_MODEL = "CODEX_FALLBACK_MODEL", Setting, [Run, Review, Scan], "`gpt-6.1-sol` (Codex 0.169.0's own default)", MODELS, "tried once when `CODEX_MODEL` does not exist for your key";
    pub CODEX_HOME = "CODEX_HOME", ForCli, [Run, Review, Scan], -, FOR_THE_CLIS, "set for Codex to a fresh directory per run";
    pub CODEX_MODEL = "CODEX_MODEL", Setting, [Run, Review, Scan], "`o4-mini`", MODELS, "Codex's `-m`";
    pub OPENAI_API_KEY = "OPENAI_API_KEY", Setting secret, [Explain, Finalize, Sandbox, Ack, Run, Review, Scan], -, SECRETS, "the OpenAI API key";
    pub OPENAI_BASE_URL = "OPENAI_BASE_URL", Setting, [Sandbox, Run, Review, Scan], "`https://api.openai.com/v1`", MODELS, "Codex's API, behind the key proxy";
}
