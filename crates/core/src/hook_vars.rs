//! The custom template of the Comments webhook (webhook mode on GitLab 16.10+, docs/modes.md):
//! the body GitLab sends to the trigger URL, whose `variables` become the pipeline's `AI_HOOK_*`
//! variables. The entrypoint sets it (`entrypoint setup --mode webhook`), checks it (`entrypoint
//! doctor`) and reads the variables (`entrypoint::trigger::hook_vars`); the image scenarios
//! (`xtask`) give it to the GitLab double's hook. It lives here so they need not build the
//! entrypoint for one string.
//!
//! GitLab renders a hook's `custom_webhook_template` by replacing each `{{field.path}}` with
//! that field of the event (`WebHookService#render_custom_template`,
//! <https://docs.gitlab.com/user/project/integrations/webhooks/#custom-webhook-template>).
//! The template carries no note text: until the `custom_webhook_template_serialization` flag
//! (beta, off by default) a value is pasted in unescaped, so a `"` or a line break in a comment
//! would make the body invalid JSON and the delivery a failure. Every field used here is a
//! number, a username or a fixed word. The job reads the note back through the API, so a
//! variable can never smuggle in a body the author did not write.

/// The body `entrypoint setup --mode webhook` gives the Comments webhook as its
/// `custom_webhook_template`. The ref comes from the trigger URL's path
/// (`…/ref/<branch>/trigger/pipeline`), so the body holds only `variables`. Its keys are the
/// names the entrypoint reads (its `trigger::hook_vars::names`, tested there).
pub const TEMPLATE: &str = concat!(
    r#"{"variables":{"#,
    r#""AI_HOOK_ACTION":"{{object_attributes.action}}","#,
    r#""AI_HOOK_AUTHOR":"{{user.username}}","#,
    r#""AI_HOOK_NOTEABLE_TYPE":"{{object_attributes.noteable_type}}","#,
    r#""AI_HOOK_NOTE_ID":"{{object_attributes.id}}","#,
    r#""AI_HOOK_ISSUE_IID":"{{issue.iid}}","#,
    r#""AI_HOOK_MR_IID":"{{merge_request.iid}}""#,
    r#"}}"#
);
