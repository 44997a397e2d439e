//! Merge requests (<https://docs.gitlab.com/api/merge_requests/>): list, get (job tokens
//! allowed), create, update, and `/diffs`. `sha`, `diff_refs` and `changes_count` come from the
//! project's real repository: `head_sha` is the source branch head, `start_sha` the target
//! branch head and `base_sha` their merge base.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{created, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json::{self, DiffRefs, MergeRequestRepoFacts};
use crate::gitlab::model::{MergeRequest, MergeRequestState, NoteableKind, NoteableRef, Project};
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::quick_actions::{self, QuickActionSource};
use crate::gitlab::routes::issues::{DateWindow, ListOrder, state_param};
use crate::gitlab::routes::noteable::resolve;
use crate::gitlab::time;
use crate::gitlab::version::UNIDIFF;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/merge_requests", get(list).post(create))
        .route(
            "/projects/{id}/merge_requests/{merge_request_iid}",
            get(one).put(update),
        )
        .route(
            "/projects/{id}/merge_requests/{merge_request_iid}/diffs",
            get(diffs),
        )
}

/// `diff_refs` of a source/target pair, or `None` when a branch is gone.
pub fn diff_refs(project: &Project, source: &str, target: &str) -> Option<DiffRefs> {
    let head = project.repo.branch_sha(source).ok()??;
    let start = project.repo.branch_sha(target).ok()??;
    let base = project.repo.merge_base(&start, &head).ok()?;
    Some(DiffRefs {
        base_sha: base,
        head_sha: head,
        start_sha: start,
    })
}

pub fn repo_facts(project: &Project, mr: &MergeRequest) -> MergeRequestRepoFacts {
    let refs = diff_refs(project, &mr.source_branch, &mr.target_branch);
    let changes_count = refs
        .as_ref()
        .and_then(|r| project.repo.diffs(&r.base_sha, &r.head_sha).ok())
        .map(|d| d.len());
    MergeRequestRepoFacts {
        sha: refs.as_ref().map(|r| r.head_sha.clone()),
        diff_refs: refs,
        changes_count,
    }
}

fn render(
    model: &crate::gitlab::model::Model,
    project: &Project,
    mr: &MergeRequest,
    base_url: &str,
) -> Value {
    json::merge_request(model, project, mr, &repo_facts(project, mr), base_url)
}

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Allowed)?;
    access.require_read_code()?;
    let p = &ctx.params;
    let state = state_param(
        p,
        &[
            ("opened", MergeRequestState::Opened),
            ("closed", MergeRequestState::Closed),
            ("locked", MergeRequestState::Locked),
            ("merged", MergeRequestState::Merged),
        ],
    )?;
    let window = DateWindow::read(p, &["updated_after", "updated_before", "created_after"])?;
    let source_branch = p.str("source_branch");
    let target_branch = p.str("target_branch");
    let labels = p.labels("labels").unwrap_or_default();
    let order = ListOrder::read(
        p,
        &[
            "created_at",
            "updated_at",
            "title",
            "merged_at",
            "label_priority",
            "milestone_due",
            "popularity",
            "priority",
        ],
    )?;
    let mut mrs: Vec<_> = access
        .own(&model.merge_requests)
        .filter(|m| state.is_none_or(|s| m.state == s))
        .filter(|m| window.admits(*m))
        .filter(|m| source_branch.as_ref().is_none_or(|b| &m.source_branch == b))
        .filter(|m| target_branch.as_ref().is_none_or(|b| &m.target_branch == b))
        .filter(|m| labels.iter().all(|l| m.labels.contains(l)))
        .collect();
    order.sort(&mut mrs);
    let items = mrs
        .into_iter()
        .map(|m| basic(render(&model, &access.project, m, ctx.app.base_url())))
        .collect();
    Ok(paginate(items, PageRequest::from_params(p), &ctx.url))
}

/// What only the single merge request answers (`Entities::MergeRequest` over
/// `Entities::MergeRequestBasic`, `lib/api/entities/merge_request.rb`): lists leave them out, so
/// code that reads one of them from a list fails here as it would against GitLab.
const SINGLE_ONLY: &[&str] = &[
    "subscribed",
    "changes_count",
    "latest_build_started_at",
    "latest_build_finished_at",
    "first_deployed_to_production_at",
    "pipeline",
    "head_pipeline",
    "diff_refs",
    "merge_error",
    "rebase_in_progress",
    "diverged_commits_count",
    "first_contribution",
    "user",
];

/// The list entity of a merge request.
fn basic(mut full: Value) -> Value {
    if let Value::Object(map) = &mut full {
        for key in SINGLE_ONLY {
            map.remove(*key);
        }
    }
    full
}

async fn one(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Allowed)?;
    resolve(&model, &access, NoteableKind::MergeRequest, iid)?;
    let mr = model
        .merge_request(access.project.id, iid)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(render(&model, &access.project, mr, ctx.app.base_url())))
}

/// `PUT …/merge_requests/:iid` needs at least one of these (`at_least_one_of` in
/// `lib/api/merge_requests.rb`, `update_params_at_least_one_of`); without any, Grape answers 400
/// `{"error":"<all of them> are missing, at least one parameter must be provided"}`.
const UPDATE_AT_LEAST_ONE_OF: &[&str] = &[
    "assignee_id",
    "assignee_ids",
    "reviewer_ids",
    "description",
    "labels",
    "add_labels",
    "remove_labels",
    "milestone_id",
    "milestone",
    "remove_source_branch",
    "allow_collaboration",
    "allow_maintainer_to_push",
    "squash",
    "target_branch",
    "title",
    "state_event",
    "discussion_locked",
    "merge_after",
];

/// Grape lists every missing required parameter in one message.
fn missing(names: &[&str]) -> ApiError {
    ApiError::MissingParam(names.join(", "))
}

fn conflict_message(existing_iid: u64) -> ApiError {
    ApiError::Message(
        StatusCode::CONFLICT,
        json!([format!(
            "Another open merge request already exists for this source branch: !{existing_iid}"
        )]),
    )
}

/// Branch validation as `MergeRequest#validate_branches` reports it: 422 for identical
/// branches, 400 `{"message":{"source_branch":["does not exist"]}}` for missing ones.
fn validate_branches(project: &Project, source: &str, target: &str) -> ApiResult<()> {
    if source == target {
        return Err(ApiError::Message(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!(["You can't use same project/branch for source and target"]),
        ));
    }
    let mut errors = serde_json::Map::new();
    for (field, branch) in [("source_branch", source), ("target_branch", target)] {
        if project.repo.branch_sha(branch).ok().flatten().is_none() {
            errors.insert(field.into(), json!(["does not exist"]));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            Value::Object(errors),
        ))
    }
}

fn id_list(value: Option<&Value>) -> Option<Vec<u64>> {
    let value = value?;
    Some(match value {
        Value::Array(items) => items
            .iter()
            .filter_map(|i| {
                i.as_u64()
                    .or_else(|| i.as_str().and_then(|s| s.parse().ok()))
            })
            .collect(),
        Value::String(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Value::Number(n) => n.as_u64().into_iter().collect(),
        _ => Vec::new(),
    })
}

async fn create(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let author_id = access.caller.require_user()?;
    let p = &ctx.params;
    let names = ["title", "source_branch", "target_branch"];
    let absent: Vec<&str> = names.into_iter().filter(|n| !p.contains(n)).collect();
    if !absent.is_empty() {
        return Err(missing(&absent));
    }
    access.require(AccessLevel::Developer)?;
    let title = p.required_str("title")?;
    let source = p.required_str("source_branch")?;
    let target = p.required_str("target_branch")?;
    validate_branches(&access.project, &source, &target)?;
    // GitLab's uniqueness is per target project, source project and source branch
    // (`MergeRequest#validate_branches`): a fork's branch of the same name is another branch.
    if let Some(existing) = model.merge_requests.iter().find(|m| {
        m.project_id == access.project.id
            && m.source_project_id == access.project.id
            && m.source_branch == source
            && m.state == MergeRequestState::Opened
    }) {
        return Err(conflict_message(existing.iid));
    }
    let now = time::now();
    // Quick actions in the description run once the merge request exists, as its author
    // (`IssuableBaseService#handle_quick_actions`); the stored description is what is left.
    let extracted = quick_actions::extract(&p.str("description").unwrap_or_default());
    let mr = MergeRequest {
        id: model.next_merge_request_id(),
        iid: model.next_iid(NoteableKind::MergeRequest, access.project.id),
        project_id: access.project.id,
        source_project_id: access.project.id,
        title,
        description: extracted.content.clone(),
        state: MergeRequestState::Opened,
        source_branch: source,
        target_branch: target,
        labels: p.labels("labels").unwrap_or_default(),
        author_id,
        assignee_ids: id_list(p.get("assignee_ids"))
            .or_else(|| id_list(p.get("assignee_id")))
            .unwrap_or_default(),
        reviewer_ids: id_list(p.get("reviewer_ids")).unwrap_or_default(),
        remove_source_branch: p.bool("remove_source_branch")?.unwrap_or(false),
        squash: p.bool("squash")?.unwrap_or(false),
        allow_collaboration: p.bool("allow_collaboration")?.unwrap_or(false),
        discussion_locked: false,
        created_at: now,
        updated_at: now,
        closed_at: None,
    };
    let noteable = NoteableRef {
        project_id: mr.project_id,
        kind: NoteableKind::MergeRequest,
        iid: mr.iid,
    };
    let labels = mr.labels.clone();
    model.merge_requests.push(mr);
    model.record_label_changes(noteable, author_id, &[], &labels, now);
    quick_actions::execute(
        &mut model,
        noteable,
        author_id,
        &extracted,
        QuickActionSource::Description,
    );
    let mr = model
        .merge_request(noteable.project_id, noteable.iid)
        .cloned()
        .ok_or(ApiError::RecordNotFound)?;
    Ok(created(render(
        &model,
        &access.project,
        &mr,
        ctx.app.base_url(),
    )))
}

async fn update(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let caller = access.caller.require_user()?;
    let resolved = resolve(&model, &access, NoteableKind::MergeRequest, iid)?;
    if !access.at_least(AccessLevel::Developer) && resolved.author_id != caller {
        return Err(ApiError::Forbidden(None));
    }
    let p = &ctx.params;
    if !UPDATE_AT_LEAST_ONE_OF.iter().any(|name| p.contains(name)) {
        return Err(ApiError::InvalidParam(
            UPDATE_AT_LEAST_ONE_OF.join(", "),
            "are missing, at least one parameter must be provided",
        ));
    }
    let current = model
        .merge_request(access.project.id, iid)
        .cloned()
        .ok_or(ApiError::RecordNotFound)?;
    let mut next = current.clone();
    p.update_str("title", &mut next.title);
    let extracted = p.str("description").map(|d| quick_actions::extract(&d));
    if let Some(extracted) = &extracted {
        next.description = extracted.content.clone();
    }
    if let Some(target) = p.str("target_branch") {
        validate_branches(&access.project, &next.source_branch, &target)?;
        next.target_branch = target;
    }
    if let Some(labels) = p.labels("labels") {
        next.labels = labels;
    }
    for label in p.labels("add_labels").unwrap_or_default() {
        if !next.labels.contains(&label) {
            next.labels.push(label);
        }
    }
    let remove = p.labels("remove_labels").unwrap_or_default();
    next.labels.retain(|l| !remove.contains(l));
    if let Some(ids) = id_list(p.get("assignee_ids")) {
        next.assignee_ids = ids;
    }
    if let Some(ids) = id_list(p.get("reviewer_ids")) {
        next.reviewer_ids = ids;
    }
    p.update_bool("remove_source_branch", &mut next.remove_source_branch)?;
    p.update_bool("squash", &mut next.squash)?;
    p.update_bool("allow_collaboration", &mut next.allow_collaboration)?;
    p.update_bool("discussion_locked", &mut next.discussion_locked)?;
    let now = time::now();
    match p.str("state_event").as_deref() {
        None => {}
        Some("close") if next.state == MergeRequestState::Opened => {
            next.state = MergeRequestState::Closed;
            next.closed_at = Some(now);
        }
        Some("reopen") if next.state == MergeRequestState::Closed => {
            if let Some(existing) = model.merge_requests.iter().find(|m| {
                m.project_id == next.project_id
                    && m.source_project_id == next.source_project_id
                    && m.iid != next.iid
                    && m.source_branch == next.source_branch
                    && m.state == MergeRequestState::Opened
            }) {
                return Err(conflict_message(existing.iid));
            }
            next.state = MergeRequestState::Opened;
            next.closed_at = None;
        }
        Some("close" | "reopen") => {}
        Some(_) => {
            return Err(ApiError::InvalidParam(
                "state_event".into(),
                "does not have a valid value",
            ));
        }
    }
    next.updated_at = now;
    let labels = next.labels.clone();
    if let Some(slot) = model.merge_requests.iter_mut().find(|m| m.id == current.id) {
        *slot = next;
    }
    model.record_label_changes(resolved.noteable, caller, &current.labels, &labels, now);
    if let Some(extracted) = &extracted {
        quick_actions::execute(
            &mut model,
            resolved.noteable,
            caller,
            extracted,
            QuickActionSource::Description,
        );
    }
    let mr = model
        .merge_request(access.project.id, iid)
        .cloned()
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(render(&model, &access.project, &mr, ctx.app.base_url())))
}

/// `GET /projects/:id/merge_requests/:iid/diffs`, paginated
/// (<https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs>).
async fn diffs(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let (project, mr) = {
        let model = ctx.lock();
        let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
        resolve(&model, &access, NoteableKind::MergeRequest, iid)?;
        let mr = model
            .merge_request(access.project.id, iid)
            .cloned()
            .ok_or(ApiError::RecordNotFound)?;
        (access.project, mr)
    };
    // `unidiff=true` (16.5+) puts the `---`/`+++` header lines in front of each diff
    // (<https://docs.gitlab.com/api/merge_requests/#list-merge-request-diffs>,
    // `Gitlab::Git::Diff#unidiff`); older releases ignore the parameter.
    let unidiff =
        ctx.params.bool("unidiff")?.unwrap_or(false) && ctx.lock().gitlab_version.has(UNIDIFF);
    let items = match diff_refs(&project, &mr.source_branch, &mr.target_branch) {
        Some(refs) => project
            .repo
            .diffs(&refs.base_sha, &refs.head_sha)
            .map_err(|e| {
                ApiError::Message(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Value::from(format!("500 Internal Server Error - {e:#}")),
                )
            })?
            .into_iter()
            .map(|mut d| {
                if unidiff && !d.diff.is_empty() {
                    let old = if d.new_file {
                        "/dev/null".to_owned()
                    } else {
                        format!("a/{}", d.old_path)
                    };
                    let new = if d.deleted_file {
                        "/dev/null".to_owned()
                    } else {
                        format!("b/{}", d.new_path)
                    };
                    d.diff = format!("--- {old}\n+++ {new}\n{}", d.diff);
                }
                d
            })
            .filter_map(|d| serde_json::to_value(d).ok())
            .collect(),
        None => Vec::new(),
    };
    Ok(ctx.page(items))
}
