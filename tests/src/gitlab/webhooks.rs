//! Note Hook events and their delivery.
//!
//! Payload shape: <https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>
//! (`object_kind: "note"`, `event_type` `note` or `confidential_note`, hook-format timestamps,
//! `object_attributes.action` `create`/`update`, plus `issue` or `merge_request`).
//! Headers: <https://docs.gitlab.com/user/project/integrations/webhooks/#delivery-headers>.
//! Every event is recorded; delivery to registered hooks runs in the background so the API call
//! that caused it is not held up, as GitLab queues hook executions in Sidekiq.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::app::Shared;
use super::json::{ProjectUrls, is_draft, noteable_web_url};
use super::model::{
    Hook, HookDelivery, Issue, MergeRequest, Model, Note, NoteAction, NoteEvent, NoteType,
    NoteableKind, Project,
};
use super::time;
use super::version::IDEMPOTENCY_KEY;

/// GitLab's webhook timeout on GitLab.com.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

fn hook_user(model: &Model, user_id: u64) -> Value {
    match model.user(user_id) {
        Some(u) => json!({
            "id": u.id,
            "name": u.name,
            "username": u.username,
            "avatar_url": format!("https://www.gravatar.com/avatar/{}?s=80&d=identicon", hex::encode(Sha1::digest(u.email.as_bytes()))),
            "email": "[REDACTED]",
        }),
        None => Value::Null,
    }
}

fn hook_project(model: &Model, project: &Project, base_url: &str) -> Value {
    let ProjectUrls { web_url, ssh_url } = ProjectUrls::of(project, base_url);
    let namespace_name = model
        .group(&project.namespace)
        .map(|g| g.name.clone())
        .unwrap_or_else(|| project.namespace.clone());
    json!({
        "id": project.id,
        "name": project.name,
        "description": project.description,
        "web_url": web_url,
        "avatar_url": Value::Null,
        "git_ssh_url": ssh_url,
        "git_http_url": format!("{web_url}.git"),
        "namespace": namespace_name,
        "visibility_level": project.visibility.level(),
        "path_with_namespace": project.path_with_namespace(),
        "default_branch": project.default_branch,
        "ci_config_path": "",
        "homepage": web_url,
        "url": format!("{web_url}.git"),
        "ssh_url": ssh_url,
        "http_url": format!("{web_url}.git"),
    })
}

fn label_objects(project_id: u64, labels: &[String], at: &str) -> Value {
    labels
        .iter()
        .map(|title| {
            json!({
                "id": super::model::label_id(title),
                "title": title,
                "color": "#6699cc",
                "project_id": project_id,
                "created_at": at,
                "updated_at": at,
                "template": false,
                "description": Value::Null,
                "type": "ProjectLabel",
                "group_id": Value::Null,
            })
        })
        .collect()
}

/// Builds the Note Hook payload for `note`.
pub fn note_payload(model: &Model, note: &Note, action: NoteAction, base_url: &str) -> Value {
    let Some(project) = model.project(note.noteable.project_id) else {
        return Value::Null;
    };
    let project_url = format!("{base_url}/{}", project.path_with_namespace());
    let confidential_issue = note.noteable.kind == NoteableKind::Issue
        && model
            .issue(project.id, note.noteable.iid)
            .is_some_and(|i| i.confidential);
    let event_type = if note.internal || confidential_issue {
        "confidential_note"
    } else {
        "note"
    };
    let noteable_url = noteable_web_url(base_url, project, note.noteable.kind, note.noteable.iid);
    let url = format!("{noteable_url}#note_{}", note.id);
    let line_code = note.position.as_ref().and_then(|p| {
        let path = p.get("new_path").or_else(|| p.get("old_path"))?.as_str()?;
        let old = p.get("old_line").and_then(Value::as_u64).unwrap_or(0);
        let new = p.get("new_line").and_then(Value::as_u64).unwrap_or(0);
        Some(format!(
            "{}_{old}_{new}",
            hex::encode(Sha1::digest(path.as_bytes()))
        ))
    });
    let object_attributes = json!({
        "attachment": Value::Null,
        "author_id": note.author_id,
        "change_position": Value::Null,
        "commit_id": "",
        "created_at": time::hook(note.created_at),
        "discussion_id": note.discussion_id,
        "id": note.id,
        "internal": note.internal,
        "line_code": line_code,
        "note": note.body,
        "noteable_id": note.noteable_id,
        "noteable_type": note.noteable.kind.type_name(),
        "original_position": note.position,
        "position": note.position,
        "project_id": project.id,
        "resolved_at": note.resolved_at.map(time::hook),
        "resolved_by_id": note.resolved_by,
        "resolved_by_push": Value::Null,
        "st_diff": Value::Null,
        "system": note.system,
        "type": match note.note_type {
            NoteType::Plain => Value::Null,
            NoteType::DiscussionNote => "DiscussionNote".into(),
            NoteType::DiffNote => "DiffNote".into(),
        },
        "updated_at": time::hook(note.updated_at),
        "updated_by_id": Value::Null,
        "description": note.body,
        "url": url,
        "action": action,
    });
    let mut payload = json!({
        "object_kind": "note",
        "event_type": event_type,
        "user": hook_user(model, note.author_id),
        "project_id": project.id,
        "project": hook_project(model, project, base_url),
        "repository": {
            "name": project.name,
            "url": format!("{project_url}.git"),
            "description": project.description,
            "homepage": project_url,
        },
        "object_attributes": object_attributes,
    });
    let target = match note.noteable.kind {
        NoteableKind::Issue => model.issue(project.id, note.noteable.iid).map(|issue| {
            let extra = json!({
                "closed_at": issue.closed_at.map(time::hook),
                "milestone_id": Value::Null,
                "position": 0,
                "branch_name": Value::Null,
            });
            ("issue", issue_hook_attrs(project, issue, base_url, extra))
        }),
        NoteableKind::MergeRequest => model
            .merge_request(project.id, note.noteable.iid)
            .map(|mr| {
                let head = project.repo.branch_sha(&mr.source_branch).ok().flatten();
                let last_commit = head.as_ref().map(|sha| {
                    let message = project.repo.commit_message(sha).unwrap_or_default();
                    let author = project.repo.commit_author(sha).ok();
                    json!({
                        "id": sha,
                        "message": message,
                        "title": message.lines().next().unwrap_or(""),
                        "timestamp": time::api(mr.updated_at),
                        "url": format!("{project_url}/-/commit/{sha}"),
                        "author": author.map(|a| json!({"name": a.name, "email": a.email})),
                    })
                });
                let draft = is_draft(&mr.title);
                let unresolved = model
                    .notes_of(note.noteable)
                    .any(|n| n.resolvable && n.resolved_by.is_none());
                let extra = json!({
                    "milestone_id": Value::Null,
                    "merge_status": if draft || unresolved { "cannot_be_merged" } else { "can_be_merged" },
                    "detailed_merge_status": if draft { "draft_status" } else if unresolved { "discussions_not_resolved" } else { "mergeable" },
                    "last_commit": last_commit,
                    "head_pipeline_id": Value::Null,
                    "blocking_discussions_resolved": !unresolved,
                    "position": 0,
                });
                (
                    "merge_request",
                    merge_request_hook_attrs(model, project, mr, base_url, extra),
                )
            }),
    };
    if let (Value::Object(map), Some((key, value))) = (&mut payload, target) {
        map.insert(key.to_string(), value);
    }
    payload
}

/// `User#hook_attrs` as the association lists of an issuable hook show a user (`id`, `name`,
/// `username`, `avatar_url`, `email`).
fn hook_person(model: &Model, user_id: u64) -> Value {
    hook_user(model, user_id)
}

/// The change of an issue's or merge request's people and labels that an update made, as
/// `Issuable#hook_association_changes` reports it (`changes.assignees`, `changes.reviewers`,
/// `changes.labels`, each `{"previous": [...], "current": [...]}` and present only when it
/// changed), plus `updated_at` and `updated_by_id` from the attribute changes.
#[derive(Clone, Debug, Default)]
pub struct IssuableBefore {
    pub assignee_ids: Vec<u64>,
    pub reviewer_ids: Vec<u64>,
    pub labels: Vec<String>,
    pub updated_at: Option<time::Timestamp>,
}

impl IssuableBefore {
    /// What an issue or merge request holds now, taken before a change; a merge request adds
    /// its reviewers.
    pub fn of(assignee_ids: &[u64], labels: &[String], updated_at: time::Timestamp) -> Self {
        Self {
            assignee_ids: assignee_ids.to_vec(),
            reviewer_ids: Vec::new(),
            labels: labels.to_vec(),
            updated_at: Some(updated_at),
        }
    }
}

/// The `object_attributes` a Merge Request Hook and the `merge_request` of a Note Hook on a
/// merge request share (`MergeRequest#hook_attrs`); each event adds its own fields.
fn merge_request_hook_attrs(
    model: &Model,
    project: &Project,
    mr: &MergeRequest,
    base_url: &str,
    extra: Value,
) -> Value {
    let at = time::hook(mr.created_at);
    let draft = is_draft(&mr.title);
    let hook_proj = hook_project(model, project, base_url);
    let attrs = json!({
        "id": mr.id,
        "iid": mr.iid,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state.as_str(),
        "source_branch": mr.source_branch,
        "target_branch": mr.target_branch,
        "source_project_id": project.id,
        "target_project_id": project.id,
        "author_id": mr.author_id,
        "assignee_ids": mr.assignee_ids,
        "assignee_id": mr.assignee_ids.first(),
        "reviewer_ids": mr.reviewer_ids,
        "created_at": at,
        "updated_at": time::hook(mr.updated_at),
        "draft": draft,
        "work_in_progress": draft,
        "source": hook_proj,
        "target": hook_proj,
        "labels": label_objects(project.id, &mr.labels, &at),
        "url": noteable_web_url(base_url, project, NoteableKind::MergeRequest, mr.iid),
    });
    with_extra(attrs, extra)
}

/// The `object_attributes` an Issue Hook and the `issue` of a Note Hook on an issue share
/// (`Issue#hook_attrs`); each event adds its own fields (`extra`).
fn issue_hook_attrs(project: &Project, issue: &Issue, base_url: &str, extra: Value) -> Value {
    let at = time::hook(issue.created_at);
    let attrs = json!({
        "id": issue.id,
        "iid": issue.iid,
        "title": issue.title,
        "description": issue.description,
        "state": issue.state.as_str(),
        "confidential": issue.confidential,
        "author_id": issue.author_id,
        "assignee_ids": issue.assignee_ids,
        "assignee_id": issue.assignee_ids.first(),
        "project_id": project.id,
        "created_at": at,
        "updated_at": time::hook(issue.updated_at),
        "discussion_locked": issue.discussion_locked,
        "labels": label_objects(project.id, &issue.labels, &at),
        "url": noteable_web_url(base_url, project, NoteableKind::Issue, issue.iid),
        "type": "Issue",
    });
    with_extra(attrs, extra)
}

/// `attrs` with the fields of the object `extra` added.
fn with_extra(mut attrs: Value, extra: Value) -> Value {
    if let (Value::Object(map), Value::Object(extra)) = (&mut attrs, extra) {
        map.extend(extra);
    }
    attrs
}

/// The action of an Issue Hook or Merge Request Hook (`object_attributes.action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuableAction {
    /// `open`: built without old associations, so `changes` has no association entries.
    Open,
    /// `update`, with what the issue or merge request looked like before.
    Update,
}

/// Builds and records the Issue Hook or Merge Request Hook for an issue or merge request that
/// `actor` just opened or changed, and returns its deliveries: hooks with `issues_events` for
/// issues, `merge_requests_events` for merge requests. A confidential issue's hook goes only to
/// hooks with `confidential_issues_events`, as `Confidential Issue Hook`, never to an ordinary
/// hook (`Issues::BaseService#execute_hooks`: `issue.confidential? ? :confidential_issue_hooks :
/// :issue_hooks`; the `X-Gitlab-Event` header is the scope singularized and titleized, `WebHookService.hook_to_event`).
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#work-item-events>,
/// <https://docs.gitlab.com/user/project/integrations/webhook_events/#merge-request-events>
pub fn record_issuable_event(
    model: &mut Model,
    target: super::model::NoteableRef,
    actor: u64,
    action: IssuableAction,
    before: &IssuableBefore,
    base_url: &str,
) -> Option<Outgoing> {
    let project = model.project(target.project_id)?;
    let project_url = format!("{base_url}/{}", project.path_with_namespace());
    let hook_proj = hook_project(model, project, base_url);
    let action_name = match action {
        IssuableAction::Open => "open",
        IssuableAction::Update => "update",
    };
    let people = |ids: &[u64]| -> Value { ids.iter().map(|id| hook_person(model, *id)).collect() };
    let (kind, attributes, labels, assignees, reviewers, updated_at, confidential) =
        match target.kind {
            NoteableKind::Issue => {
                let issue = model.issue(project.id, target.iid)?;
                let extra = json!({ "updated_by_id": actor, "action": action_name });
                let attrs = issue_hook_attrs(project, issue, base_url, extra);
                let labels = attrs["labels"].clone();
                (
                    "issue",
                    attrs,
                    labels,
                    issue.assignee_ids.clone(),
                    Vec::new(),
                    issue.updated_at,
                    issue.confidential,
                )
            }
            NoteableKind::MergeRequest => {
                let mr = model.merge_request(project.id, target.iid)?;
                let extra = json!({ "action": action_name });
                let attrs = merge_request_hook_attrs(model, project, mr, base_url, extra);
                let labels = attrs["labels"].clone();
                (
                    "merge_request",
                    attrs,
                    labels,
                    mr.assignee_ids.clone(),
                    mr.reviewer_ids.clone(),
                    mr.updated_at,
                    false,
                )
            }
        };
    let mut changes = serde_json::Map::new();
    if action == IssuableAction::Update {
        if let Some(previous) = before.updated_at.filter(|p| *p != updated_at) {
            changes.insert(
                "updated_at".into(),
                json!({"previous": time::hook(previous), "current": time::hook(updated_at)}),
            );
        }
        if before.assignee_ids != assignees {
            changes.insert(
                "assignees".into(),
                json!({"previous": people(&before.assignee_ids), "current": people(&assignees)}),
            );
        }
        if target.kind == NoteableKind::MergeRequest && before.reviewer_ids != reviewers {
            changes.insert(
                "reviewers".into(),
                json!({"previous": people(&before.reviewer_ids), "current": people(&reviewers)}),
            );
        }
        let labels_before = label_objects(project.id, &before.labels, &time::hook(updated_at));
        let titles = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l["title"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        if titles(&labels_before) != titles(&labels) {
            changes.insert(
                "labels".into(),
                json!({"previous": labels_before, "current": labels}),
            );
        }
    }
    let mut payload = json!({
        "object_kind": kind,
        "event_type": kind,
        "user": hook_user(model, actor),
        "project": hook_proj,
        "object_attributes": attributes,
        "labels": labels,
        "changes": Value::Object(changes),
        "repository": {
            "name": project.name,
            "url": format!("{project_url}.git"),
            "description": project.description,
            "homepage": project_url,
        },
    });
    if let Value::Object(map) = &mut payload {
        // `IssuableBuilder#build`: issues list their assignees (when any); merge requests their
        // assignees and reviewers.
        if !assignees.is_empty() {
            map.insert("assignees".into(), people(&assignees));
        }
        if target.kind == NoteableKind::MergeRequest {
            map.insert("reviewers".into(), people(&reviewers));
        }
    }
    let targets = targets(model, target.project_id, |h| match target.kind {
        NoteableKind::Issue if confidential => h.confidential_issues_events,
        NoteableKind::Issue => h.issues_events,
        NoteableKind::MergeRequest => h.merge_requests_events,
    });
    Some(Outgoing {
        event_uuid: new_uuid(),
        payload,
        serialize: model.custom_webhook_template_serialization,
        event_header: match target.kind {
            NoteableKind::Issue if confidential => "Confidential Issue Hook",
            NoteableKind::Issue => "Issue Hook",
            NoteableKind::MergeRequest => "Merge Request Hook",
        },
        targets,
    })
}

/// One hook an event goes to: its id, URL, secret token and custom template.
struct Target {
    hook_id: u64,
    url: String,
    token: Option<String>,
    template: Option<String>,
}

/// A recorded event waiting to be POSTed to the project's hooks.
pub struct Outgoing {
    event_uuid: String,
    payload: Value,
    event_header: &'static str,
    targets: Vec<Target>,
    serialize: bool,
}

/// `WebHookService::CUSTOM_TEMPLATE_INTERPOLATION_REGEX`.
fn placeholder_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| regex::Regex::new(r"\{\{(.+?)\}\}").expect("a valid regex"))
}

/// Renders a hook's `custom_webhook_template` (GitLab 16.10+, MR !142738) as
/// `WebHookService#render_custom_template` and `#request_payload` do
/// (`app/services/web_hook_service.rb`): every `{{a.b.c}}` is replaced by `payload.dig("a",
/// "b", "c")`, then the text must parse as JSON, which is what GitLab sends (re-encoded, with
/// `Content-Type: application/json` as for any hook).
///
/// Without the `custom_webhook_template_serialization` flag (beta in 18.4, off by default) a
/// value is inserted as Ruby's `to_s`: a string raw (a `"` or a line break in it breaks the
/// JSON), a missing field as nothing, a hash as Ruby's `inspect` (not JSON). With the flag a
/// value is inserted as its JSON, a string without its surrounding quotes and a missing field
/// as `null`. Digging through a value that is not a hash is a `TypeError`, which GitLab reports
/// as an array access. Every error is a failed delivery, counted as one.
pub fn render_custom_template(
    template: &str,
    payload: &Value,
    serialize: bool,
) -> Result<Value, String> {
    let mut type_error = false;
    let rendered = placeholder_regex().replace_all(template, |caps: &regex::Captures<'_>| {
        let mut value = Some(payload);
        for key in caps[1].split('.') {
            value = match value {
                None => None,
                Some(Value::Object(map)) => map.get(key),
                Some(Value::Null) => None,
                Some(_) => {
                    type_error = true;
                    None
                }
            };
        }
        let value = value.filter(|v| !v.is_null());
        match (value, serialize) {
            (None, true) => "null".to_owned(),
            (None, false) => String::new(),
            (Some(Value::String(s)), false) => s.clone(),
            (Some(v @ (Value::Object(_) | Value::Array(_))), false) => {
                v.to_string().replace("\":", "\"=>")
            }
            (Some(v), false) => v.to_string(),
            (Some(Value::String(s)), true) => {
                let json = Value::String(s.clone()).to_string();
                json[1..json.len() - 1].to_owned()
            }
            (Some(v), true) => v.to_string(),
        }
    });
    const PREFIX: &str = "Error while parsing rendered custom webhook template";
    if type_error {
        return Err(format!(
            "{PREFIX}: You may be trying to access an array value, which is not supported."
        ));
    }
    serde_json::from_str(&rendered).map_err(|e| format!("{PREFIX}: {e}"))
}

/// Where an event of project `project_id` goes: its hooks that `wants` it, less those
/// auto-disabled when the instance disables failing hooks (`hooks.executable` in
/// `Project#execute_hooks`: a disabled hook gets nothing).
fn targets(model: &Model, project_id: u64, wants: impl Fn(&Hook) -> bool) -> Vec<Target> {
    let now = time::now();
    let auto_disabling = model.auto_disabling_web_hooks;
    model
        .hooks
        .iter()
        .filter(|h| h.project_id == project_id && wants(h))
        .filter(|h| !auto_disabling || executable(h, now))
        .map(|h| Target {
            hook_id: h.id,
            url: h.url.clone(),
            token: h.token.clone(),
            template: h.custom_webhook_template.clone(),
        })
        .collect()
}

fn new_uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Records the Note Hook event for `note_id` and returns the deliveries it triggers: hooks
/// with `note_events` for ordinary notes, `confidential_note_events` for internal notes and
/// notes on confidential issues (`X-Gitlab-Event: Confidential Note Hook`).
pub fn record_note_event(
    model: &mut Model,
    note_id: u64,
    action: NoteAction,
    base_url: &str,
) -> Option<Outgoing> {
    let note = model.note_by_id(note_id)?.clone();
    let payload = note_payload(model, &note, action, base_url);
    let confidential =
        payload.get("event_type").and_then(Value::as_str) == Some("confidential_note");
    let event_uuid = new_uuid();
    model.note_events.push(NoteEvent {
        uuid: event_uuid.clone(),
        project_id: note.noteable.project_id,
        note_id,
        action,
        payload: payload.clone(),
    });
    let targets = targets(model, note.noteable.project_id, |h| {
        if confidential {
            h.confidential_note_events
        } else {
            h.note_events
        }
    });
    Some(Outgoing {
        event_uuid,
        payload,
        serialize: model.custom_webhook_template_serialization,
        event_header: if confidential {
            "Confidential Note Hook"
        } else {
            "Note Hook"
        },
        targets,
    })
}

/// Sends each delivery on the double's runtime without waiting for it.
pub fn dispatch(app: &Arc<Shared>, outgoing: Option<Outgoing>) {
    let Some(outgoing) = outgoing else { return };
    let instance = app
        .base_url()
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let version = app.lock().gitlab_version;
    for Target {
        hook_id,
        url,
        token,
        template,
    } in outgoing.targets
    {
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("User-Agent".to_string(), format!("GitLab/{version}")),
            (
                "X-Gitlab-Event".to_string(),
                outgoing.event_header.to_string(),
            ),
            (
                "X-Gitlab-Event-UUID".to_string(),
                outgoing.event_uuid.clone(),
            ),
            ("X-Gitlab-Webhook-UUID".to_string(), new_uuid()),
            ("X-Gitlab-Instance".to_string(), instance.clone()),
        ];
        if version.has(IDEMPOTENCY_KEY) {
            headers.push(("Idempotency-Key".to_string(), new_uuid()));
        }
        if let Some(token) = token {
            headers.push(("X-Gitlab-Token".to_string(), token));
        }
        let app = app.clone();
        let rendered = match &template {
            None => Ok(outgoing.payload.to_string()),
            Some(template) => {
                render_custom_template(template, &outgoing.payload, outgoing.serialize)
                    .map(|value| value.to_string())
            }
        };
        let event_uuid = outgoing.event_uuid.clone();
        app.runtime.clone().spawn(async move {
            let (body, status, error) = match rendered {
                // No request is made: `WebHookService#execute` logs an internal error.
                Err(error) => (String::new(), None, Some(error)),
                Ok(body) => {
                    let mut request = app.http.post(&url).timeout(DELIVERY_TIMEOUT);
                    for (name, value) in &headers {
                        request = request.header(name, value);
                    }
                    match request.body(body.clone()).send().await {
                        Ok(response) => (body, Some(response.status().as_u16()), None),
                        Err(e) => (body, None, Some(e.to_string())),
                    }
                }
            };
            let mut model = app.lock();
            let succeeded = status.is_some_and(|s| (200..400).contains(&s));
            if model.auto_disabling_web_hooks
                && let Some(hook) = model.hooks.iter_mut().find(|h| h.id == hook_id)
            {
                record_outcome(hook, succeeded, time::now());
            }
            model.deliveries.push(HookDelivery {
                hook_id,
                url,
                event_uuid,
                headers,
                body,
                status,
                error,
            });
            drop(model);
            app.deliveries_changed.notify_waiters();
        });
    }
}

/// `TEMPORARILY_DISABLED_FAILURE_THRESHOLD` in `app/models/concerns/web_hooks/auto_disabling.rb`:
/// the fourth consecutive failure disables a hook for a while.
pub const TEMPORARILY_DISABLED_FAILURE_THRESHOLD: u32 = 3;
/// `PERMANENTLY_DISABLED_FAILURE_THRESHOLD`: the fortieth disables it until someone re-enables
/// it (MR !166329 made 4xx and 5xx count alike).
pub const PERMANENTLY_DISABLED_FAILURE_THRESHOLD: u32 = 39;

/// `WebHooks::AutoDisabling#executable?`.
pub fn executable(hook: &super::model::Hook, now: time::Timestamp) -> bool {
    let temporarily = hook.disabled_until.is_some_and(|until| until >= now)
        && (TEMPORARILY_DISABLED_FAILURE_THRESHOLD + 1..=PERMANENTLY_DISABLED_FAILURE_THRESHOLD)
            .contains(&hook.recent_failures);
    let permanently = hook.recent_failures > PERMANENTLY_DISABLED_FAILURE_THRESHOLD;
    !temporarily && !permanently
}

/// `WebHooks::LogExecutionService#update_hook_failure_state`: a 2xx or 3xx answer re-enables
/// the hook (`enable!`), anything else, an internal error included, backs it off (`backoff!`):
/// one minute after the fourth consecutive failure, doubling up to a day.
pub fn record_outcome(hook: &mut super::model::Hook, succeeded: bool, now: time::Timestamp) {
    if succeeded {
        hook.recent_failures = 0;
        hook.disabled_until = None;
        return;
    }
    if !executable(hook, now) {
        return;
    }
    let previous = hook.recent_failures;
    hook.recent_failures = (previous + 1).clamp(1, PERMANENTLY_DISABLED_FAILURE_THRESHOLD + 1);
    if hook.recent_failures > TEMPORARILY_DISABLED_FAILURE_THRESHOLD {
        let exponent = previous.saturating_sub(TEMPORARILY_DISABLED_FAILURE_THRESHOLD);
        let minutes = 2f64
            .powi(i32::try_from(exponent).unwrap_or(i32::MAX))
            .clamp(1.0, 24.0 * 60.0);
        // Whole seconds, as `.seconds` does; the clamp keeps the cast in range.
        let backoff = chrono::Duration::seconds((minutes * 60.0) as i64);
        hook.disabled_until = Some(now + backoff);
    }
}

/// `alert_status` of the hooks API: `executable`, `temporarily_disabled` or `disabled`.
pub fn alert_status(
    hook: &super::model::Hook,
    auto_disabling: bool,
    now: time::Timestamp,
) -> &'static str {
    if !auto_disabling {
        "executable"
    } else if hook.disabled_until.is_some_and(|until| until >= now)
        && (TEMPORARILY_DISABLED_FAILURE_THRESHOLD + 1..=PERMANENTLY_DISABLED_FAILURE_THRESHOLD)
            .contains(&hook.recent_failures)
    {
        "temporarily_disabled"
    } else if hook.recent_failures > PERMANENTLY_DISABLED_FAILURE_THRESHOLD {
        "disabled"
    } else {
        "executable"
    }
}
