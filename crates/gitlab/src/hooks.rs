//! Project webhooks: the Comments hook that turns a note into a pipeline (directly through
//! the trigger URL, or through a relay, which also takes the issue and merge request events).
//! <https://docs.gitlab.com/api/project_webhooks/>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::ProjectRef;
use ai_core::secret::Secret;

/// A project hook as listed. The URL can carry a trigger token in its query, so it is kept
/// as a [`Secret`]; GitLab never returns the hook's secret token.
#[derive(Clone, Debug)]
pub struct ProjectHook {
    /// Id.
    pub id: u64,
    /// Where GitLab posts events.
    pub url: Secret,
    /// Comments.
    pub note_events: bool,
    /// Internal notes and comments on confidential issues.
    pub confidential_note_events: bool,
    /// Issues events (opened, updated: assignees, labels, description).
    pub issues_events: bool,
    /// The same for confidential issues, sent only to hooks with this flag
    /// (`Confidential Issue Hook`).
    pub confidential_issues_events: bool,
    /// Merge request events (opened, updated: assignees, reviewers, labels, description).
    pub merge_requests_events: bool,
    /// The body sent instead of the event (GitLab 16.10+; absent before).
    pub custom_webhook_template: Option<String>,
}

impl ProjectHook {
    /// Whether the hook sends every event `events` asks for.
    pub fn sends(&self, events: HookEvents) -> bool {
        self.note_events
            && self.confidential_note_events
            && (!events.issues_and_merge_requests()
                || (self.issues_events
                    && self.confidential_issues_events
                    && self.merge_requests_events))
    }

    /// The URL without its query string, safe to print and to compare.
    pub fn url_without_query(&self) -> &str {
        let url = self.url.expose();
        url.split_once('?').map_or(url, |(base, _)| base)
    }
}

#[derive(Deserialize)]
struct Raw {
    id: u64,
    url: String,
    #[serde(default)]
    note_events: bool,
    #[serde(default)]
    confidential_note_events: bool,
    #[serde(default)]
    issues_events: bool,
    #[serde(default)]
    confidential_issues_events: bool,
    #[serde(default)]
    merge_requests_events: bool,
    #[serde(default)]
    custom_webhook_template: Option<String>,
}

/// Which events a hook setup creates or updates sends, besides comments and internal comments
/// (always on). <https://docs.gitlab.com/api/project_webhooks/#add-a-webhook-to-a-project>
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookEvents {
    /// Comments only: the trigger URL's hook, whose template is for notes.
    Comments,
    /// Comments, issues (confidential ones too) and merge requests: the relay's hook, which
    /// answers assignments, review requests, the trigger label and description mentions.
    CommentsIssuesAndMergeRequests,
}

impl HookEvents {
    fn issues_and_merge_requests(self) -> bool {
        self == HookEvents::CommentsIssuesAndMergeRequests
    }
}

/// The event switches setup writes, the same on create and on update: comments and internal
/// comments always, push events never (GitLab turns them on by default), issues and merge
/// requests as [`HookEvents`] says.
#[derive(Serialize)]
struct EventSwitches {
    push_events: bool,
    note_events: bool,
    confidential_note_events: bool,
    issues_events: bool,
    confidential_issues_events: bool,
    merge_requests_events: bool,
}

impl From<HookEvents> for EventSwitches {
    fn from(events: HookEvents) -> Self {
        let issues_and_merge_requests = events.issues_and_merge_requests();
        Self {
            push_events: false,
            note_events: true,
            confidential_note_events: true,
            issues_events: issues_and_merge_requests,
            confidential_issues_events: issues_and_merge_requests,
            merge_requests_events: issues_and_merge_requests,
        }
    }
}

/// Body of `POST /projects/:id/hooks` for a Comments hook.
#[derive(Clone, Debug)]
pub struct NewNoteHook {
    /// Target URL (may carry a trigger token).
    pub url: Secret,
    /// Sent back as `X-Gitlab-Token`.
    pub secret_token: Secret,
    /// Shown in the settings page (GitLab 17.1+).
    pub name: String,
    /// `custom_webhook_template` (GitLab 16.10+; older releases ignore the parameter and send
    /// the event).
    pub custom_webhook_template: Option<String>,
    /// The events besides comments.
    pub events: HookEvents,
}

#[derive(Serialize)]
struct Body<'a> {
    url: &'a str,
    token: &'a str,
    name: &'a str,
    #[serde(flatten)]
    events: EventSwitches,
    enable_ssl_verification: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_webhook_template: Option<&'a str>,
}

/// Body of `PUT /projects/:id/hooks/:hook_id`: the URL (GitLab requires it) and the events and
/// template setup manages; the secret token is left as it is.
#[derive(Serialize)]
struct Update<'a> {
    url: &'a str,
    #[serde(flatten)]
    events: EventSwitches,
    custom_webhook_template: &'a str,
}

impl GitLab {
    /// `GET /projects/:id/hooks` (every page). Maintainer and above.
    pub async fn project_hooks(&self, project: &ProjectRef) -> Result<Vec<ProjectHook>> {
        let raw: Vec<Raw> = self.get_all(&project.api("hooks"), &[]).await?;
        Ok(raw
            .into_iter()
            .map(|r| ProjectHook {
                id: r.id,
                url: Secret::new(r.url),
                note_events: r.note_events,
                confidential_note_events: r.confidential_note_events,
                issues_events: r.issues_events,
                confidential_issues_events: r.confidential_issues_events,
                merge_requests_events: r.merge_requests_events,
                custom_webhook_template: r.custom_webhook_template.filter(|t| !t.is_empty()),
            })
            .collect())
    }

    /// `POST /projects/:id/hooks` with comment events and `hook.events` (push events are on by
    /// default in GitLab, so they are switched off explicitly).
    pub async fn create_note_hook(&self, project: &ProjectRef, hook: &NewNoteHook) -> Result<u64> {
        let body = Body {
            url: hook.url.expose(),
            token: hook.secret_token.expose(),
            name: &hook.name,
            events: hook.events.into(),
            enable_ssl_verification: true,
            custom_webhook_template: hook.custom_webhook_template.as_deref(),
        };
        let raw: Raw = self.post(&project.api("hooks"), &body).await?;
        Ok(raw.id)
    }

    /// `PUT /projects/:id/hooks/:hook_id`: comment events and `events`, with `template` as the
    /// body (an empty template sends the event again). Maintainer and above.
    pub async fn update_note_hook(
        &self,
        project: &ProjectRef,
        hook_id: u64,
        url: &Secret,
        events: HookEvents,
        template: &str,
    ) -> Result<()> {
        let body = Update {
            url: url.expose(),
            events: events.into(),
            custom_webhook_template: template,
        };
        let _: Raw = self
            .put(&project.api(format!("hooks/{hook_id}")), &[], Some(&body))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_and_update_bodies_switch_the_same_events() {
        let body = Body {
            url: "https://relay.example/hook",
            token: "t",
            name: "ai",
            events: HookEvents::CommentsIssuesAndMergeRequests.into(),
            enable_ssl_verification: true,
            custom_webhook_template: None,
        };
        assert_eq!(
            serde_json::to_value(&body).unwrap(),
            serde_json::json!({"url": "https://relay.example/hook", "token": "t", "name": "ai",
                "push_events": false, "note_events": true, "confidential_note_events": true,
                "issues_events": true, "confidential_issues_events": true,
                "merge_requests_events": true, "enable_ssl_verification": true})
        );
        let update = Update {
            url: "https://gitlab.example/trigger",
            events: HookEvents::Comments.into(),
            custom_webhook_template: "{}",
        };
        assert_eq!(
            serde_json::to_value(&update).unwrap(),
            serde_json::json!({"url": "https://gitlab.example/trigger", "push_events": false,
                "note_events": true, "confidential_note_events": true, "issues_events": false,
                "confidential_issues_events": false, "merge_requests_events": false,
                "custom_webhook_template": "{}"})
        );
    }
}
