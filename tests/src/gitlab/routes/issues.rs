//! Project issues (<https://docs.gitlab.com/api/issues/>): list with `state`, `updated_after`,
//! `updated_before`, `created_after`, `labels`, `iids[]`, `order_by`, `sort`, and get one.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;

use super::noteable::resolve;
use super::ok;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{Issue, IssueState, MergeRequest, Note, NoteableKind};
use crate::gitlab::pagination::{PageRequest, paginate};
use crate::gitlab::params::Params;
use crate::gitlab::time::Timestamp;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/issues", get(list))
        .route("/projects/{id}/issues/{issue_iid}", get(one))
}

/// Parses an ISO 8601 filter such as `updated_after`; Grape answers `… is invalid` otherwise.
pub fn time_param(params: &Params, name: &str) -> ApiResult<Option<Timestamp>> {
    match params.str(name) {
        None => Ok(None),
        Some(raw) => chrono::DateTime::parse_from_rfc3339(&raw)
            .map(|t| Some(t.with_timezone(&chrono::Utc)))
            .or_else(|_| {
                chrono::NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
                    .map(|d| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
            })
            .map_err(|_| ApiError::InvalidParam(name.to_string(), "is invalid")),
    }
}

/// The `updated_after`, `updated_before`, `created_after` and `created_before` filters of a list
/// endpoint, each `None` when the request leaves it out or the endpoint does not take it.
#[derive(Clone, Copy, Debug, Default)]
pub struct DateWindow {
    updated_after: Option<Timestamp>,
    updated_before: Option<Timestamp>,
    created_after: Option<Timestamp>,
    created_before: Option<Timestamp>,
}

impl DateWindow {
    /// Reads the filters an endpoint takes, `names` (of the four above), in that order, so the
    /// first invalid one is the one refused.
    pub fn read(params: &Params, names: &[&str]) -> ApiResult<DateWindow> {
        let mut window = DateWindow::default();
        for name in names {
            let slot = match *name {
                "updated_after" => &mut window.updated_after,
                "updated_before" => &mut window.updated_before,
                "created_after" => &mut window.created_after,
                "created_before" => &mut window.created_before,
                _ => continue,
            };
            *slot = time_param(params, name)?;
        }
        Ok(window)
    }

    /// Whether `item` was created and last updated inside the window.
    pub fn admits<T: Dated>(&self, item: &T) -> bool {
        let (created, updated) = (item.created_at(), item.updated_at());
        self.updated_after.is_none_or(|t| updated >= t)
            && self.updated_before.is_none_or(|t| updated <= t)
            && self.created_after.is_none_or(|t| created >= t)
            && self.created_before.is_none_or(|t| created <= t)
    }
}

/// `sort` (`asc`|`desc`, default `desc`).
pub fn sort_param(params: &Params) -> ApiResult<bool> {
    match params.str("sort").as_deref() {
        None | Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(ApiError::InvalidParam(
            "sort".into(),
            "does not have a valid value",
        )),
    }
}

/// The `state` filter of a list: absent or `all` for every state, else one of `states` by
/// name; 400 for another value, as Grape's `values:` check answers.
pub fn state_param<T: Copy>(params: &Params, states: &[(&str, T)]) -> ApiResult<Option<T>> {
    match params.str("state").as_deref() {
        None | Some("all") => Ok(None),
        Some(name) => states
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, state)| Some(*state))
            .ok_or_else(|| ApiError::InvalidParam("state".into(), "does not have a valid value")),
    }
}

/// `order_by` restricted to `created_at` / `updated_at` (default `created_at`); returns whether
/// to order by `updated_at`.
fn order_by_updated(params: &Params, allowed: &[&str]) -> ApiResult<bool> {
    match params.str("order_by") {
        None => Ok(false),
        Some(value) if allowed.contains(&value.as_str()) => Ok(value == "updated_at"),
        Some(_) => Err(ApiError::InvalidParam(
            "order_by".into(),
            "does not have a valid value",
        )),
    }
}

/// The order of a list of issues, merge requests or notes: `order_by` (restricted to
/// `allowed`; every value but `updated_at` sorts by creation time here) and `sort` (default
/// `desc`), ties broken by id as GitLab's keyset ordering does.
#[derive(Clone, Copy, Debug)]
pub struct ListOrder {
    by_updated: bool,
    descending: bool,
}

/// What a [`ListOrder`] sorts by.
pub trait Dated {
    fn created_at(&self) -> Timestamp;
    fn updated_at(&self) -> Timestamp;
    fn id(&self) -> u64;
}

impl ListOrder {
    /// Reads `order_by` then `sort`, answering 400 for a value GitLab refuses.
    pub fn read(params: &Params, allowed: &[&str]) -> ApiResult<ListOrder> {
        let by_updated = order_by_updated(params, allowed)?;
        let descending = sort_param(params)?;
        Ok(ListOrder {
            by_updated,
            descending,
        })
    }

    pub fn sort<T: Dated>(self, items: &mut [&T]) {
        items.sort_by_key(|item| {
            let at = if self.by_updated {
                item.updated_at()
            } else {
                item.created_at()
            };
            (at, item.id())
        });
        if self.descending {
            items.reverse();
        }
    }
}

macro_rules! dated {
    ($($record:ty),*) => {$(
        impl Dated for $record {
            fn created_at(&self) -> Timestamp {
                self.created_at
            }
            fn updated_at(&self) -> Timestamp {
                self.updated_at
            }
            fn id(&self) -> u64 {
                self.id
            }
        }
    )*};
}

dated!(Issue, MergeRequest, Note);

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    access.require_read()?;
    let p = &ctx.params;
    let state = state_param(
        p,
        &[
            ("opened", IssueState::Opened),
            ("closed", IssueState::Closed),
        ],
    )?;
    let window = DateWindow::read(
        p,
        &[
            "updated_after",
            "updated_before",
            "created_after",
            "created_before",
        ],
    )?;
    let labels = p.labels("labels").unwrap_or_default();
    let iids: Option<Vec<u64>> = p.get("iids").map(|v| match v {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().and_then(|s| s.parse().ok()).or(i.as_u64()))
            .collect(),
        other => other
            .as_str()
            .and_then(|s| s.parse().ok())
            .into_iter()
            .collect(),
    });
    let order = ListOrder::read(
        p,
        &[
            "created_at",
            "updated_at",
            "priority",
            "due_date",
            "relative_position",
            "label_priority",
            "milestone_due",
            "popularity",
            "weight",
            "title",
        ],
    )?;
    let caller = access.caller.user_id();
    let reporter = access.at_least(AccessLevel::Reporter);
    let mut issues: Vec<_> = access
        .own(&model.issues)
        .filter(|i| {
            !i.confidential
                || reporter
                || caller == Some(i.author_id)
                || caller.is_some_and(|c| i.assignee_ids.contains(&c))
        })
        .filter(|i| state.is_none_or(|s| i.state == s))
        .filter(|i| window.admits(*i))
        .filter(|i| labels.iter().all(|l| i.labels.contains(l)))
        .filter(|i| iids.as_ref().is_none_or(|set| set.contains(&i.iid)))
        .collect();
    order.sort(&mut issues);
    let items = issues
        .into_iter()
        .map(|i| json::issue(&model, &access.project, i, ctx.app.base_url()))
        .collect();
    Ok(paginate(items, PageRequest::from_params(p), &ctx.url))
}

async fn one(Path((id, iid)): Path<(String, u64)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    resolve(&model, &access, NoteableKind::Issue, iid)?;
    let issue = model
        .issue(access.project.id, iid)
        .ok_or(ApiError::RecordNotFound)?;
    Ok(ok(json::issue(
        &model,
        &access.project,
        issue,
        ctx.app.base_url(),
    )))
}
