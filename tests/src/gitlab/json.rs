//! Entities as GitLab's REST API renders them (the `lib/api/entities/*.rb` shapes documented in
//! <https://docs.gitlab.com/api/users/>, `/projects/`, `/issues/`, `/merge_requests/`,
//! `/notes/`, `/discussions/`, `/emoji_reactions/`, `/project_webhooks/`, `/pipelines/`,
//! `/pipeline_triggers/`).

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use super::model::{
    Award, Hook, Issue, IssueState, MergeRequest, Model, Note, NoteableKind, Pipeline, Project,
    Trigger, User,
};
use super::time;
use super::version::PIPELINE_VARIABLES_ROLE;

/// `diff_refs` of a merge request, computed from the repository.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DiffRefs {
    pub base_sha: String,
    pub head_sha: String,
    pub start_sha: String,
}

fn avatar_url(user: &User) -> String {
    let digest = Sha1::digest(user.email.trim().to_lowercase().as_bytes());
    format!(
        "https://www.gravatar.com/avatar/{}?s=80&d=identicon",
        hex::encode(digest)
    )
}

/// `UserBasic`: the `author` / `user` object inside other entities.
pub fn user_basic(user: &User, base_url: &str) -> Value {
    json!({
        "id": user.id,
        "username": user.username,
        "public_email": Value::Null,
        "name": user.name,
        "state": "active",
        "locked": false,
        "avatar_url": avatar_url(user),
        "web_url": format!("{base_url}/{}", user.username),
    })
}

fn user_or_ghost(model: &Model, id: u64, base_url: &str) -> Value {
    model
        .user(id)
        .map(|u| user_basic(u, base_url))
        .unwrap_or(Value::Null)
}

/// `GET /user` (<https://docs.gitlab.com/api/users/#retrieve-the-current-user>).
pub fn current_user(user: &User, base_url: &str) -> Value {
    let mut value = user_basic(user, base_url);
    if let Value::Object(map) = &mut value {
        let extra = json!({
            "created_at": time::api(user.created_at),
            "bio": "",
            "location": "",
            "skype": "",
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": "",
            "job_title": "",
            "pronouns": Value::Null,
            "bot": user.bot,
            "work_information": Value::Null,
            "local_time": Value::Null,
            "last_sign_in_at": Value::Null,
            "confirmed_at": time::api(user.created_at),
            "last_activity_on": Value::Null,
            "email": user.email,
            "theme_id": 1,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "current_sign_in_at": Value::Null,
            "identities": [],
            "can_create_group": !user.bot,
            "can_create_project": !user.bot,
            "two_factor_enabled": false,
            "external": false,
            "private_profile": false,
            "commit_email": user.email,
            "is_admin": user.admin,
        });
        if let Value::Object(extra) = extra {
            map.extend(extra);
        }
    }
    value
}

fn namespace_json(model: &Model, project: &Project, base_url: &str) -> Value {
    let group = model.group(&project.namespace);
    let (id, name, kind) = match group {
        Some(g) => (g.id, g.name.clone(), "group"),
        None => match model.user_by_username(&project.namespace) {
            Some(u) => (u.id, u.name.clone(), "user"),
            None => (0, project.namespace.clone(), "group"),
        },
    };
    let path = project
        .namespace
        .rsplit('/')
        .next()
        .unwrap_or(&project.namespace);
    let parent_id = project
        .namespace
        .rsplit_once('/')
        .and_then(|(parent, _)| model.group(parent))
        .map(|g| g.id);
    json!({
        "id": id,
        "name": name,
        "path": path,
        "kind": kind,
        "full_path": project.namespace,
        "parent_id": parent_id,
        "avatar_url": Value::Null,
        "web_url": format!("{base_url}/{}", project.namespace),
    })
}

/// `GET /projects/:id` as the caller sees it: `lib/api/entities/project.rb` exposes the CI
/// settings (`restrict_user_defined_variables`, `ci_pipeline_variables_minimum_override_role`)
/// only `if: admin_project` (Maintainers and above), and the role only exists from 17.1.
pub fn project_for(model: &Model, project: &Project, base_url: &str, admin: bool) -> Value {
    let mut value = self::project(model, project, base_url);
    if let Value::Object(map) = &mut value {
        if !admin {
            map.remove("restrict_user_defined_variables");
            map.remove("ci_pipeline_variables_minimum_override_role");
        } else if !model.gitlab_version.has(PIPELINE_VARIABLES_ROLE) {
            map.remove("ci_pipeline_variables_minimum_override_role");
        }
    }
    value
}

/// Where a project is browsed and cloned over SSH, derived from the instance URL as GitLab does
/// (`web_url` under the relative URL root; `git@host:path.git` with the host alone); the
/// HTTP clone URL is `{web_url}.git`.
pub struct ProjectUrls {
    pub web_url: String,
    pub ssh_url: String,
}

impl ProjectUrls {
    pub fn of(project: &Project, base_url: &str) -> ProjectUrls {
        let host = base_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("localhost");
        ProjectUrls {
            web_url: format!("{base_url}/{}", project.path_with_namespace()),
            ssh_url: format!("git@{host}:{}.git", project.path_with_namespace()),
        }
    }
}

/// The page of an issue or merge request (`…/-/issues/:iid`, `…/-/merge_requests/:iid`): its
/// `web_url`, and the `url` of its hooks.
pub fn noteable_web_url(base_url: &str, project: &Project, kind: NoteableKind, iid: u64) -> String {
    format!(
        "{base_url}/{}/-/{}/{iid}",
        project.path_with_namespace(),
        kind.segment()
    )
}

/// The users behind `ids`, each as [`user_or_ghost`] renders it (assignees, reviewers).
fn users(model: &Model, ids: &[u64], base_url: &str) -> Vec<Value> {
    ids.iter()
        .map(|id| user_or_ghost(model, *id, base_url))
        .collect()
}

/// `GET /projects/:id` with every field (<https://docs.gitlab.com/api/projects/#retrieve-a-project>).
pub fn project(model: &Model, project: &Project, base_url: &str) -> Value {
    let ProjectUrls { web_url, ssh_url } = ProjectUrls::of(project, base_url);
    json!({
        "id": project.id,
        "description": project.description,
        "name": project.name,
        "name_with_namespace": format!("{} / {}", project.namespace.replace('/', " / "), project.name),
        "path": project.path,
        "path_with_namespace": project.path_with_namespace(),
        "created_at": time::api(project.created_at),
        "default_branch": project.default_branch,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": ssh_url,
        "http_url_to_repo": format!("{web_url}.git"),
        "web_url": web_url,
        "readme_url": Value::Null,
        "avatar_url": Value::Null,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": time::api(project.created_at),
        "namespace": namespace_json(model, project, base_url),
        "visibility": project.visibility.as_str(),
        "archived": false,
        "empty_repo": false,
        "issues_enabled": true,
        "merge_requests_enabled": true,
        "jobs_enabled": true,
        "ci_config_path": Value::Null,
        "ci_pipeline_variables_minimum_override_role": project.pipeline_variables_minimum_role,
        "restrict_user_defined_variables": project.restrict_user_defined_variables,
        "_links": {
            "self": format!("{base_url}/api/v4/projects/{}", project.id),
            "issues": format!("{base_url}/api/v4/projects/{}/issues", project.id),
            "merge_requests": format!("{base_url}/api/v4/projects/{}/merge_requests", project.id),
            "repo_branches": format!("{base_url}/api/v4/projects/{}/repository/branches", project.id),
            "members": format!("{base_url}/api/v4/projects/{}/members", project.id),
        },
    })
}

fn user_notes_count(model: &Model, project_id: u64, kind: NoteableKind, iid: u64) -> usize {
    model
        .notes
        .iter()
        .filter(|n| {
            n.noteable.project_id == project_id
                && n.noteable.kind == kind
                && n.noteable.iid == iid
                && !n.system
        })
        .count()
}

fn references(project: &Project, sigil: char, iid: u64) -> Value {
    json!({
        "short": format!("{sigil}{iid}"),
        "relative": format!("{sigil}{iid}"),
        "full": format!("{}{sigil}{iid}", project.path_with_namespace()),
    })
}

/// `GET /projects/:id/issues/:issue_iid` (<https://docs.gitlab.com/api/issues/>).
pub fn issue(model: &Model, project: &Project, issue: &Issue, base_url: &str) -> Value {
    let web_url = noteable_web_url(base_url, project, NoteableKind::Issue, issue.iid);
    let assignees = users(model, &issue.assignee_ids, base_url);
    json!({
        "id": issue.id,
        "iid": issue.iid,
        "project_id": issue.project_id,
        "title": issue.title,
        "description": issue.description,
        "state": issue.state,
        "created_at": time::api(issue.created_at),
        "updated_at": time::api(issue.updated_at),
        "closed_at": issue.closed_at.map(time::api),
        "closed_by": Value::Null,
        "labels": issue.labels,
        "milestone": Value::Null,
        "assignees": assignees,
        "author": user_or_ghost(model, issue.author_id, base_url),
        "type": "ISSUE",
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "user_notes_count": user_notes_count(model, project.id, NoteableKind::Issue, issue.iid),
        "merge_requests_count": 0,
        "upvotes": 0,
        "downvotes": 0,
        "due_date": Value::Null,
        "confidential": issue.confidential,
        "discussion_locked": issue.discussion_locked,
        "issue_type": "issue",
        "web_url": web_url,
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": Value::Null, "human_total_time_spent": Value::Null},
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_tasks": false,
        "_links": {
            "self": format!("{base_url}/api/v4/projects/{}/issues/{}", project.id, issue.iid),
            "notes": format!("{base_url}/api/v4/projects/{}/issues/{}/notes", project.id, issue.iid),
            "award_emoji": format!("{base_url}/api/v4/projects/{}/issues/{}/award_emoji", project.id, issue.iid),
            "project": format!("{base_url}/api/v4/projects/{}", project.id),
            "closed_as_duplicate_of": Value::Null,
        },
        "references": references(project, '#', issue.iid),
        "severity": "UNKNOWN",
        "moved_to_id": Value::Null,
        "service_desk_reply_to": Value::Null,
        "subscribed": false,
    })
}

impl IssueState {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueState::Opened => "opened",
            IssueState::Closed => "closed",
        }
    }
}

/// Repository-derived facts about a merge request, computed before rendering.
#[derive(Clone, Debug, Default)]
pub struct MergeRequestRepoFacts {
    pub sha: Option<String>,
    pub diff_refs: Option<DiffRefs>,
    pub changes_count: Option<usize>,
}

/// `GET /projects/:id/merge_requests/:merge_request_iid`
/// (<https://docs.gitlab.com/api/merge_requests/#retrieve-a-merge-request>).
pub fn merge_request(
    model: &Model,
    project: &Project,
    mr: &MergeRequest,
    facts: &MergeRequestRepoFacts,
    base_url: &str,
) -> Value {
    let web_url = noteable_web_url(base_url, project, NoteableKind::MergeRequest, mr.iid);
    let assignees = users(model, &mr.assignee_ids, base_url);
    let reviewers = users(model, &mr.reviewer_ids, base_url);
    let draft = is_draft(&mr.title);
    let unresolved = model
        .notes_of(super::model::NoteableRef {
            project_id: project.id,
            kind: NoteableKind::MergeRequest,
            iid: mr.iid,
        })
        .any(|n| n.resolvable && n.resolved_by.is_none());
    let detailed = if draft {
        "draft_status"
    } else if unresolved {
        "discussions_not_resolved"
    } else {
        "mergeable"
    };
    json!({
        "id": mr.id,
        "iid": mr.iid,
        "project_id": mr.project_id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state.as_str(),
        "created_at": time::api(mr.created_at),
        "updated_at": time::api(mr.updated_at),
        "merged_by": Value::Null,
        "merge_user": Value::Null,
        "merged_at": Value::Null,
        "closed_by": Value::Null,
        "closed_at": mr.closed_at.map(time::api),
        "target_branch": mr.target_branch,
        "source_branch": mr.source_branch,
        "user_notes_count": user_notes_count(model, project.id, NoteableKind::MergeRequest, mr.iid),
        "upvotes": 0,
        "downvotes": 0,
        "author": user_or_ghost(model, mr.author_id, base_url),
        "assignees": assignees,
        "assignee": assignees.first().cloned().unwrap_or(Value::Null),
        "reviewers": reviewers,
        "source_project_id": mr.source_project_id,
        "target_project_id": mr.project_id,
        "labels": mr.labels,
        "draft": draft,
        "work_in_progress": draft,
        "milestone": Value::Null,
        "merge_when_pipeline_succeeds": false,
        "merge_status": if draft || unresolved { "cannot_be_merged" } else { "can_be_merged" },
        "detailed_merge_status": detailed,
        "sha": facts.sha,
        "merge_commit_sha": Value::Null,
        "squash_commit_sha": Value::Null,
        "discussion_locked": mr.discussion_locked,
        "should_remove_source_branch": Value::Null,
        "force_remove_source_branch": mr.remove_source_branch,
        "prepared_at": time::api(mr.created_at),
        "allow_collaboration": mr.allow_collaboration,
        "allow_maintainer_to_push": mr.allow_collaboration,
        "reference": format!("!{}", mr.iid),
        "references": references(project, '!', mr.iid),
        "web_url": web_url,
        "time_stats": {"time_estimate": 0, "total_time_spent": 0, "human_time_estimate": Value::Null, "human_total_time_spent": Value::Null},
        "squash": mr.squash,
        "squash_on_merge": mr.squash,
        "task_completion_status": {"count": 0, "completed_count": 0},
        "has_conflicts": false,
        "blocking_discussions_resolved": !unresolved,
        "subscribed": false,
        "changes_count": facts.changes_count.map(|c| c.to_string()),
        "latest_build_started_at": Value::Null,
        "latest_build_finished_at": Value::Null,
        "first_deployed_to_production_at": Value::Null,
        "pipeline": Value::Null,
        "head_pipeline": head_pipeline(model, mr, facts.sha.as_deref(), base_url),
        "diff_refs": facts.diff_refs,
        "merge_error": Value::Null,
        "first_contribution": false,
        "user": {"can_merge": false},
    })
}

/// The merge request's head pipeline as GitLab picks it (`MergeRequest#find_actual_head_pipeline`
/// in `app/models/merge_request.rb`): the newest pipeline of the source project, for the source
/// branch or the merge request's own ref, that built the source branch's head commit; `null`
/// when none did (a pipeline of an older commit is not the head pipeline).
fn head_pipeline(model: &Model, mr: &MergeRequest, sha: Option<&str>, base_url: &str) -> Value {
    let Some(sha) = sha else {
        return Value::Null;
    };
    let Some(source) = model.project(mr.source_project_id) else {
        return Value::Null;
    };
    let mr_ref = format!("refs/merge-requests/{}/head", mr.iid);
    model
        .pipelines
        .iter()
        .filter(|p| p.project_id == source.id && p.sha == sha)
        .filter(|p| p.git_ref == mr.source_branch || p.git_ref == mr_ref)
        .max_by_key(|p| p.id)
        .map_or(Value::Null, |p| pipeline(model, source, p, base_url))
}

/// A CI job (<https://docs.gitlab.com/api/jobs/#get-a-single-job>, `Entities::Ci::Job`).
/// `failure_reason` is exposed for failed jobs only (`expose :failure_reason, if: … failed?`
/// in `lib/api/entities/ci/job_basic.rb`).
pub fn job(model: &Model, project: &Project, job: &super::model::Job, base_url: &str) -> Value {
    let pipeline = model.pipelines.iter().find(|p| p.id == job.pipeline_id);
    let mut value = json!({
        "id": job.id,
        "status": job.status,
        "stage": job.stage,
        "name": job.name,
        "ref": pipeline.map(|p| p.git_ref.clone()),
        "tag": false,
        "coverage": Value::Null,
        "allow_failure": job.allow_failure,
        "created_at": time::api(job.created_at),
        "started_at": time::api(job.created_at),
        "finished_at": time::api(job.created_at),
        "erased_at": Value::Null,
        "duration": 1.0,
        "queued_duration": 0.1,
        "user": pipeline.map_or(Value::Null, |p| user_or_ghost(model, p.user_id, base_url)),
        "commit": {"id": pipeline.map(|p| p.sha.clone())},
        "pipeline": pipeline.map_or(Value::Null, |p| json!({
            "id": p.id,
            "iid": p.iid,
            "project_id": p.project_id,
            "ref": p.git_ref,
            "sha": p.sha,
            "status": p.status,
            "source": p.source.as_str(),
        })),
        "failure_reason": job.failure_reason.clone().unwrap_or_else(|| "unknown_failure".to_owned()),
        "web_url": format!("{base_url}/{}/-/jobs/{}", project.path_with_namespace(), job.id),
        "project": {"ci_job_token_scope_enabled": false},
        "artifacts": [],
        "runner": Value::Null,
        "archived": false,
        "tag_list": [],
    });
    if job.status != "failed"
        && let Value::Object(map) = &mut value
    {
        map.remove("failure_reason");
    }
    value
}

/// GitLab treats titles starting with `Draft:`, `[Draft]` or `(Draft)` as drafts
/// (<https://docs.gitlab.com/user/project/merge_requests/drafts/>).
pub fn is_draft(title: &str) -> bool {
    let lower = title.trim_start().to_lowercase();
    lower.starts_with("draft:") || lower.starts_with("[draft]") || lower.starts_with("(draft)")
}

/// A note (<https://docs.gitlab.com/api/notes/>).
pub fn note(model: &Model, note: &Note, base_url: &str) -> Value {
    let mut value = json!({
        "id": note.id,
        "type": note.note_type.json(),
        "body": note.body,
        "attachment": Value::Null,
        "author": user_or_ghost(model, note.author_id, base_url),
        "created_at": time::api(note.created_at),
        "updated_at": time::api(note.updated_at),
        "system": note.system,
        "noteable_id": note.noteable_id,
        "noteable_type": note.noteable.kind.type_name(),
        "project_id": note.noteable.project_id,
        "commit_id": Value::Null,
        "resolvable": note.resolvable,
        "confidential": note.internal,
        "internal": note.internal,
        "imported": false,
        "imported_from": "none",
        "noteable_iid": note.noteable.iid,
        "commands_changes": {},
    });
    if let Value::Object(map) = &mut value {
        if note.note_type == super::model::NoteType::DiffNote {
            map.insert(
                "position".into(),
                note.position.clone().unwrap_or(Value::Null),
            );
        }
        if note.resolvable {
            map.insert("resolved".into(), Value::Bool(note.resolved_by.is_some()));
            map.insert(
                "resolved_by".into(),
                note.resolved_by
                    .map(|id| user_or_ghost(model, id, base_url))
                    .unwrap_or(Value::Null),
            );
            map.insert(
                "resolved_at".into(),
                note.resolved_at
                    .map(|t| Value::from(time::api(t)))
                    .unwrap_or(Value::Null),
            );
        }
    }
    value
}

/// A discussion (<https://docs.gitlab.com/api/discussions/>).
pub fn discussion(model: &Model, notes: &[&Note], base_url: &str) -> Value {
    let first = notes.first();
    json!({
        "id": first.map(|n| n.discussion_id.clone()),
        "individual_note": first.is_some_and(|n| n.individual),
        "notes": notes.iter().map(|n| note(model, n, base_url)).collect::<Vec<_>>(),
    })
}

/// An emoji reaction (<https://docs.gitlab.com/api/emoji_reactions/>).
pub fn award(model: &Model, award: &Award, base_url: &str) -> Value {
    json!({
        "id": award.id,
        "name": award.name,
        "user": user_or_ghost(model, award.user_id, base_url),
        "created_at": time::api(award.created_at),
        "updated_at": time::api(award.updated_at),
        "awardable_id": award.on.api().1,
        "awardable_type": award.on.api().0,
        "url": Value::Null,
    })
}

/// A project hook (<https://docs.gitlab.com/api/project_webhooks/>); the secret token is never
/// returned. `alert_status` and `disabled_until` follow the auto-disabling state
/// (`WebHooks::AutoDisabling#alert_status`).
pub fn hook(hook: &Hook, auto_disabling: bool) -> Value {
    let now = time::now();
    json!({
        "id": hook.id,
        "url": hook.url,
        "name": hook.name,
        "description": hook.description,
        "project_id": hook.project_id,
        "push_events": hook.push_events,
        "push_events_branch_filter": Value::Null,
        "issues_events": hook.issues_events,
        "confidential_issues_events": hook.confidential_issues_events,
        "merge_requests_events": hook.merge_requests_events,
        "tag_push_events": false,
        "note_events": hook.note_events,
        "confidential_note_events": hook.confidential_note_events,
        "job_events": false,
        "pipeline_events": hook.pipeline_events,
        "wiki_page_events": false,
        "deployment_events": false,
        "releases_events": false,
        "emoji_events": false,
        "enable_ssl_verification": hook.enable_ssl_verification,
        "repository_update_events": false,
        "alert_status": super::webhooks::alert_status(hook, auto_disabling, now),
        "disabled_until": hook.disabled_until.filter(|_| auto_disabling).map(time::api),
        "url_variables": [],
        "created_at": time::api(hook.created_at),
        "custom_webhook_template": hook.custom_webhook_template,
    })
}

/// A pipeline (<https://docs.gitlab.com/api/pipelines/#retrieve-a-single-pipeline>).
pub fn pipeline(model: &Model, project: &Project, pipeline: &Pipeline, base_url: &str) -> Value {
    json!({
        "id": pipeline.id,
        "iid": pipeline.iid,
        "project_id": pipeline.project_id,
        "sha": pipeline.sha,
        "ref": pipeline.git_ref,
        "status": pipeline.status,
        "source": pipeline.source.as_str(),
        "created_at": time::api(pipeline.created_at),
        "updated_at": time::api(pipeline.created_at),
        "web_url": format!("{base_url}/{}/-/pipelines/{}", project.path_with_namespace(), pipeline.id),
        "before_sha": "0000000000000000000000000000000000000000",
        "tag": false,
        "yaml_errors": Value::Null,
        "user": user_or_ghost(model, pipeline.user_id, base_url),
        "started_at": Value::Null,
        "finished_at": Value::Null,
        "committed_at": Value::Null,
        "duration": Value::Null,
        "queued_duration": Value::Null,
        "coverage": Value::Null,
        "detailed_status": {
            "icon": format!("status_{}", pipeline.status),
            "text": pipeline.status,
            "label": pipeline.status,
            "group": pipeline.status,
            "tooltip": pipeline.status,
            "has_details": true,
            "details_path": format!("/{}/-/pipelines/{}", project.path_with_namespace(), pipeline.id),
            "illustration": Value::Null,
            "favicon": format!("/assets/ci_favicons/favicon_status_{}.png", pipeline.status),
        },
    })
}

/// A pipeline trigger token (<https://docs.gitlab.com/api/pipeline_triggers/>).
pub fn trigger(model: &Model, trigger: &Trigger, base_url: &str) -> Value {
    json!({
        "id": trigger.id,
        "description": trigger.description,
        "created_at": time::api(trigger.created_at),
        "last_used": Value::Null,
        "token": trigger.token,
        "updated_at": time::api(trigger.created_at),
        "owner": user_or_ghost(model, trigger.owner_id, base_url),
        "expires_at": Value::Null,
    })
}
