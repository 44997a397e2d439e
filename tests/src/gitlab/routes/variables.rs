//! Project CI/CD variables (<https://docs.gitlab.com/api/project_level_variables/>), Maintainer
//! and above (`authorize! :admin_build` in `lib/api/ci/variables.rb`).
//!
//! Masked values must match `Ci::Maskable::REGEX`: one line of at least 8 characters from the
//! Base64 alphabet plus `@`, `:`, `.`, `~` (and `-`, `_`, `+`, `=`, `/`). A hidden variable
//! (`masked_and_hidden`, 17.4+) never shows its value again (`value: null`), must be masked,
//! and cannot change its masked/hidden flags later (`Ci::HidableVariable`).

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{created, no_content, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::model::Variable;
use crate::gitlab::version::{GitLabVersion, MASKED_AND_HIDDEN};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/variables", get(list).post(create))
        .route(
            "/projects/{id}/variables/{key}",
            get(one).put(update).delete(delete),
        )
}

/// The variable entity; a hidden variable's value is `null`. Releases before 17.4 have no
/// `hidden` field.
pub fn variable_json(v: &Variable, version: GitLabVersion) -> Value {
    let mut value = json!({
        "variable_type": v.variable_type,
        "key": v.key,
        "value": if v.hidden { Value::Null } else { Value::from(v.value.clone()) },
        "hidden": v.hidden,
        "protected": v.protected,
        "masked": v.masked,
        "raw": v.raw,
        "environment_scope": v.environment_scope,
        "description": v.description,
    });
    if !version.has(MASKED_AND_HIDDEN)
        && let Value::Object(map) = &mut value
    {
        map.remove("hidden");
    }
    value
}

/// `Ci::Maskable::REGEX`: `\A[a-zA-Z0-9_+=/@:.~-]{8,}\z`.
pub fn maskable(value: &str) -> bool {
    value.chars().count() >= 8
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=/@:.~-".contains(c))
}

fn validation(errors: Value) -> ApiError {
    ApiError::Message(StatusCode::BAD_REQUEST, errors)
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 255
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn variable_type(ctx: &Ctx, default: &str) -> ApiResult<String> {
    match ctx.params.str("variable_type") {
        None => Ok(default.to_string()),
        Some(t) if t == "env_var" || t == "file" => Ok(t),
        Some(_) => Err(ApiError::InvalidParam(
            "variable_type".into(),
            "does not have a valid value",
        )),
    }
}

async fn list(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let items = access
        .own(&model.variables)
        .map(|v| variable_json(v, model.gitlab_version))
        .collect();
    Ok(ctx.page(items))
}

async fn one(Path((id, key)): Path<(String, String)>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let variable = access.find_own(
        &model.variables,
        ApiError::NotFound(Some("Variable")),
        |v| v.key == key,
    )?;
    Ok(ok(variable_json(variable, model.gitlab_version)))
}

async fn create(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let p = &ctx.params;
    let key = p.required_str("key")?;
    let value = p.required_str("value")?;
    let variable_type = variable_type(&ctx, "env_var")?;
    // Before 17.4 Grape drops the unknown `masked_and_hidden` silently: the variable is
    // created masked (if `masked` says so) but not hidden, with 201.
    let hidden = model.gitlab_version.has(MASKED_AND_HIDDEN)
        && p.bool("masked_and_hidden")?.unwrap_or(false);
    let masked = hidden || p.bool("masked")?.unwrap_or(false);
    let environment_scope = p.str("environment_scope").unwrap_or_else(|| "*".into());
    if !valid_key(&key) {
        return Err(validation(json!({"key": [
            "can contain only letters, digits and '_'."
        ]})));
    }
    if masked && !maskable(&value) {
        return Err(validation(json!({"value": ["is invalid"]})));
    }
    if model.variables.iter().any(|v| {
        v.project_id == access.project.id
            && v.key == key
            && v.environment_scope == environment_scope
    }) {
        return Err(validation(
            json!({"key": [format!("({key}) has already been taken")]}),
        ));
    }
    let variable = Variable {
        project_id: access.project.id,
        key,
        value,
        variable_type,
        protected: p.bool("protected")?.unwrap_or(false),
        masked,
        hidden,
        raw: p.bool("raw")?.unwrap_or(false),
        environment_scope,
        description: p.str("description"),
    };
    let value = variable_json(&variable, model.gitlab_version);
    model.variables.push(variable);
    Ok(created(value))
}

async fn update(Path((id, key)): Path<(String, String)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let p = &ctx.params;
    let project_id = access.project.id;
    let position = model
        .variables
        .iter()
        .position(|v| v.project_id == project_id && v.key == key)
        .ok_or(ApiError::NotFound(Some("Variable")))?;
    let mut variable = model.variables[position].clone();
    if let Some(masked) = p.bool("masked")?
        && variable.hidden
        && !masked
    {
        return Err(validation(json!({"base": [
            "Updating masked attribute is not allowed on updates for hidden variables."
        ]})));
    }
    if p.contains("masked_and_hidden") || p.contains("hidden") {
        return Err(validation(json!({"base": [
            "Updating hidden attribute is not allowed on updates."
        ]})));
    }
    p.update_str("value", &mut variable.value);
    variable.variable_type = variable_type(&ctx, &variable.variable_type)?;
    p.update_bool("masked", &mut variable.masked)?;
    p.update_bool("protected", &mut variable.protected)?;
    p.update_bool("raw", &mut variable.raw)?;
    if let Some(description) = p.str("description") {
        variable.description = Some(description);
    }
    if variable.masked && !maskable(&variable.value) {
        return Err(validation(json!({"value": ["is invalid"]})));
    }
    let value = variable_json(&variable, model.gitlab_version);
    model.variables[position] = variable;
    Ok(ok(value))
}

async fn delete(Path((id, key)): Path<(String, String)>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_at_least(&model, &id, AccessLevel::Maintainer)?;
    let before = model.variables.len();
    let project_id = access.project.id;
    model
        .variables
        .retain(|v| !(v.project_id == project_id && v.key == key));
    if model.variables.len() == before {
        return Err(ApiError::NotFound(Some("Variable")));
    }
    Ok(no_content())
}

#[cfg(test)]
mod tests {
    use super::maskable;

    #[test]
    fn masking_rules_follow_ci_maskable() {
        assert!(maskable("glpat-abc_DEF.123"));
        assert!(maskable("sk-ant-api03-AAAA+/=@:~"));
        assert!(!maskable("short7c"));
        assert!(!maskable("has space inside"));
        assert!(!maskable("line\nbreak-here"));
        assert!(!maskable("dollar$sign1"));
    }
}
