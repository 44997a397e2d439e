//! Project access tokens (<https://docs.gitlab.com/api/project_access_tokens/>,
//! `lib/api/resource_access_tokens.rb`, `ResourceAccessTokens::CreateService`).
//!
//! Creating one makes a bot user `project_<id>_bot_<hex>` named after the token, adds it to the
//! project with the token's role (default Maintainer) and returns the token value once. Reading
//! needs Maintainer (`401` otherwise, as `unauthorized!`); creating without the permission, or on
//! GitLab.com Free where the feature is unavailable, answers
//! `400 Bad request - User does not have permission to create project access token`.

use axum::Router;
use axum::extract::Path;
use axum::response::Response;
use axum::routing::get;
use chrono::{Days, NaiveDate, Utc};
use rand::Rng;
use serde_json::{Value, json};

use super::created;
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::{Model, ProjectAccessToken, Token, TokenDetails, TokenKind, User};
use crate::gitlab::time;

/// `Gitlab::Auth.resource_bot_scopes` as of GitLab 18.
const SCOPES: &[&str] = &[
    "api",
    "read_api",
    "read_repository",
    "write_repository",
    "read_registry",
    "write_registry",
    "create_runner",
    "manage_runner",
    "ai_features",
    "k8s_proxy",
    "self_rotate",
];

/// Longest lifetime GitLab allows without an instance override (365 days).
const MAX_LIFETIME_DAYS: u64 = 365;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{id}/access_tokens", get(list).post(create))
}

/// The entity; revocation and expiry come from the token's own record, which
/// `GET /personal_access_tokens/self` reads too, so both always agree.
fn token_json(model: &Model, t: &ProjectAccessToken) -> Value {
    let record = model
        .tokens
        .iter()
        .find(|token| token.user_id == t.user_id && token.details.id == t.id)
        .map(|token| &token.details);
    let revoked = t.revoked || record.is_some_and(|d| d.revoked);
    let expired = record.is_some_and(|d| d.expired());
    json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "revoked": revoked,
        "created_at": time::api(t.created_at),
        "scopes": record.map_or(t.scopes.clone(), |d| d.scopes.clone()),
        "user_id": t.user_id,
        "last_used_at": Value::Null,
        "active": !revoked && !expired,
        "expires_at": record
            .and_then(|d| d.expires_at)
            .map_or(t.expires_at.clone(), |d| d.format("%Y-%m-%d").to_string()),
        "access_level": t.access_level.value(),
    })
}

fn no_permission() -> ApiError {
    ApiError::BadRequest("User does not have permission to create project access token".into())
}

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    if !access.project.access_tokens_available || !access.at_least(AccessLevel::Maintainer) {
        return Err(ApiError::Unauthorized);
    }
    let items = access
        .own(&model.access_tokens)
        .map(|t| token_json(&model, t))
        .collect();
    Ok(ctx.page(items))
}

async fn create(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let p = &ctx.params;
    let name = p.required_str("name")?;
    let scopes: Vec<String> = match p.get("scopes") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(one)) => vec![one.clone()],
        _ => return Err(ApiError::missing("scopes")),
    };
    if scopes.is_empty() || scopes.iter().any(|s| !SCOPES.contains(&s.as_str())) {
        return Err(ApiError::InvalidParam(
            "scopes".into(),
            "does not have a valid value",
        ));
    }
    let access_level = match p.u64("access_level")? {
        None => AccessLevel::Maintainer,
        Some(raw) => u8::try_from(raw)
            .ok()
            .and_then(|v| AccessLevel::try_from(v).ok())
            .ok_or(ApiError::InvalidParam(
                "access_level".into(),
                "does not have a valid value",
            ))?,
    };
    let today = Utc::now().date_naive();
    let lifetime = model.max_token_lifetime_days.unwrap_or(MAX_LIFETIME_DAYS);
    let latest = today.checked_add_days(Days::new(lifetime)).unwrap_or(today);
    let expires_at = match p.str("expires_at") {
        None => latest,
        Some(raw) => NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
            .map_err(|_| ApiError::InvalidParam("expires_at".into(), "is invalid"))?,
    };
    if !access.project.access_tokens_available || !access.at_least(AccessLevel::Maintainer) {
        return Err(no_permission());
    }
    if access.level.is_none_or(|l| l < access_level) {
        return Err(ApiError::BadRequest(
            "Access level of the token contains permissions not held by the creating user".into(),
        ));
    }
    if expires_at > latest {
        return Err(ApiError::BadRequest(format!(
            "Expires at must be before {}",
            latest.format("%Y-%m-%d")
        )));
    }
    let project_id = access.project.id;
    let user_id = model.next_user_id();
    let suffix: [u8; 16] = rand::rng().random();
    let username = format!("project_{project_id}_bot_{}", hex::encode(suffix));
    model.users.push(User {
        id: user_id,
        email: format!("{username}@noreply.localhost"),
        username,
        name: name.clone(),
        bot: true,
        admin: false,
        created_at: time::now(),
    });
    if let Some(project) = model.projects.iter_mut().find(|p| p.id == project_id) {
        project.members.insert(user_id, access_level);
    }
    let secret: [u8; 16] = rand::rng().random();
    let value = format!("glpat-{}", hex::encode(secret));
    let id = model.next_access_token_id();
    model.tokens.push(Token {
        value: value.clone(),
        user_id,
        kind: TokenKind::Access,
        details: TokenDetails {
            id,
            name: name.clone(),
            scopes: scopes.clone(),
            expires_at: Some(expires_at),
            revoked: false,
            created_at: time::now(),
        },
    });
    let token = ProjectAccessToken {
        id,
        project_id,
        user_id,
        name,
        description: p.str("description"),
        scopes,
        access_level,
        expires_at: expires_at.format("%Y-%m-%d").to_string(),
        revoked: false,
        created_at: time::now(),
    };
    let mut body = token_json(&model, &token);
    body["token"] = Value::from(value);
    model.access_tokens.push(token);
    Ok(created(body))
}
