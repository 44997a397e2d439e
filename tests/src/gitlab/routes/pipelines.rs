//! Starting pipelines: trigger tokens (<https://docs.gitlab.com/api/pipeline_triggers/>),
//! `POST /projects/:id/trigger/pipeline` and its webhook form
//! `POST /projects/:id/ref/:ref/trigger/pipeline?token=…`
//! (<https://docs.gitlab.com/ci/triggers/#use-a-webhook>), and `POST /projects/:id/pipeline`
//! (<https://docs.gitlab.com/api/pipelines/#create-a-new-pipeline>), and the list with `source`,
//! `status`, `ref`, `order_by` and `sort`
//! (<https://docs.gitlab.com/api/pipelines/#list-project-pipelines>). Pipelines are recorded
//! with their variables and source; nothing runs.
//!
//! When a test gave the project a CI configuration ([`crate::ci_config::Config`]), a pipeline
//! holds the jobs whose rules let them in, evaluated on the pipeline's variables, the
//! project's CI/CD variables and the predefined ones rules read; a pipeline with none is not
//! created: `Gitlab::Ci::Pipeline::Chain::Populate` fails it with "Pipeline will not run for the
//! selected trigger. The rules configuration prevented any jobs from being added to the
//! pipeline." and `Ci::PipelineTriggerService` answers 400 with that message under `base`
//! (`error(pipeline.errors.messages, 400)`). A webhook calling the trigger URL counts that 400
//! as a failed delivery.
//!
//! As `Ci::PipelineTriggerService` does, every triggered pipeline gets the file variable
//! `TRIGGER_PAYLOAD` holding the request parameters (minus the token) as JSON, which is how a
//! webhook's body reaches the job.

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use rand::Rng;
use serde_json::{Value, json};

use super::{created, ok};
use crate::gitlab::access::AccessLevel;
use crate::gitlab::app::{AppState, Ctx};
use crate::gitlab::auth::JobTokens;
use crate::gitlab::errors::{ApiError, ApiResult};
use crate::gitlab::json;
use crate::gitlab::model::{
    Model, Pipeline, PipelineSource, PipelineVariable, Project, TokenKind, Trigger,
};
use crate::gitlab::time;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{id}/triggers",
            get(list_triggers).post(create_trigger),
        )
        .route("/projects/{id}/trigger/pipeline", post(trigger_pipeline))
        .route("/projects/{id}/ref/{*rest}", post(trigger_pipeline_for_ref))
        .route("/projects/{id}/pipeline", post(create_pipeline))
        .route("/projects/{id}/pipelines", get(list_pipelines))
        .route("/projects/{id}/pipelines/{pipeline_id}", get(one_pipeline))
}

/// A fresh trigger token: `glptt-` and 40 hex digits.
pub fn new_trigger_token() -> String {
    let bytes: [u8; 20] = rand::rng().random();
    format!("glptt-{}", hex::encode(bytes))
}

/// The commit a ref names: a branch (optionally `refs/heads/…`) or a merge request's
/// `refs/merge-requests/:iid/head`.
pub fn resolve_ref(model: &Model, project: &Project, git_ref: &str) -> Option<String> {
    let branch = ref_branch(model, project, git_ref)?;
    project.repo.branch_sha(&branch).ok().flatten()
}

/// The branch a ref names, read from the model alone: [`resolve_ref`] without running git.
fn ref_branch(model: &Model, project: &Project, git_ref: &str) -> Option<String> {
    if let Some(rest) = git_ref.strip_prefix("refs/merge-requests/") {
        let iid = rest.strip_suffix("/head")?.parse::<u64>().ok()?;
        return Some(model.merge_request(project.id, iid)?.source_branch.clone());
    }
    Some(
        git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(git_ref)
            .to_owned(),
    )
}

/// [`resolve_ref`] with git run outside the model lock, so one pipeline being created does not
/// hold up every other request to the double for the length of a git subprocess.
fn resolve_ref_unlocked<'a>(
    app: &'a AppState,
    model: std::sync::MutexGuard<'a, Model>,
    project: &Project,
    git_ref: &str,
) -> ApiResult<(String, std::sync::MutexGuard<'a, Model>)> {
    let branch = ref_branch(&model, project, git_ref);
    drop(model);
    let sha = branch
        .and_then(|branch| project.repo.branch_sha(&branch).ok().flatten())
        .ok_or_else(reference_not_found)?;
    Ok((sha, app.lock()))
}

fn reference_not_found() -> ApiError {
    ApiError::Message(
        StatusCode::BAD_REQUEST,
        json!({"base": ["Reference not found"]}),
    )
}

/// A pipeline with variables (a trigger's `TRIGGER_PAYLOAD` counts as one) needs the minimum
/// role of [`super::project_settings::may_set_pipeline_variables`]; GitLab refuses it as a
/// validation error on `base`.
fn require_may_set_variables(model: &Model, project: &Project, user_id: u64) -> ApiResult<()> {
    if super::project_settings::may_set_pipeline_variables(
        project,
        model.access_level(project, user_id),
        model.gitlab_version,
    ) {
        Ok(())
    } else {
        Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!({"base": ["Insufficient permissions to set pipeline variables"]}),
        ))
    }
}

async fn create_trigger(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let mut model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let owner_id = access.caller.require_user()?;
    let description = ctx.params.required_str("description")?;
    access.require(AccessLevel::Maintainer)?;
    let trigger = Trigger {
        id: model.next_trigger_id(),
        project_id: access.project.id,
        token: new_trigger_token(),
        description,
        owner_id,
        created_at: time::now(),
    };
    let value = json::trigger(&model, &trigger, ctx.app.base_url());
    model.triggers.push(trigger);
    Ok(created(value))
}

/// Tokens created by someone else are shortened to four characters
/// (<https://docs.gitlab.com/api/pipeline_triggers/#list-project-trigger-tokens>).
async fn list_triggers(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let caller = access.caller.require_user()?;
    access.require(AccessLevel::Maintainer)?;
    let items = access
        .own(&model.triggers)
        .map(|t| {
            let mut value = json::trigger(&model, t, ctx.app.base_url());
            if t.owner_id != caller {
                value["token"] = Value::from(t.token.chars().take(4).collect::<String>());
            }
            value
        })
        .collect();
    Ok(ctx.page(items))
}

async fn trigger_pipeline(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    trigger(&ctx.app, &id, None, &ctx)
}

async fn trigger_pipeline_for_ref(
    Path((id, rest)): Path<(String, String)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let git_ref = rest
        .strip_suffix("/trigger/pipeline")
        .filter(|r| !r.is_empty())
        .ok_or(ApiError::NotFound(None))?;
    trigger(&ctx.app, &id, Some(git_ref.to_string()), &ctx)
}

/// GitLab refuses triggers that come from its own Pipeline Hooks (`forbidden! if
/// gitlab_pipeline_hook_request?` in `lib/api/ci/triggers.rb`) so a pipeline webhook cannot loop.
fn trigger(app: &AppState, id: &str, path_ref: Option<String>, ctx: &Ctx) -> ApiResult<Response> {
    if ctx
        .headers
        .get("x-gitlab-event")
        .is_some_and(|v| v.as_bytes() == b"Pipeline Hook")
    {
        return Err(ApiError::Forbidden(None));
    }
    let p = &ctx.params;
    let git_ref = path_ref.clone().or_else(|| p.str("ref"));
    let token = p.str("token");
    let missing: Vec<&str> = [("ref", git_ref.is_none()), ("token", token.is_none())]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::MissingParam(missing.join(", ")));
    }
    let (Some(git_ref), Some(token)) = (git_ref, token) else {
        return Err(ApiError::missing("ref"));
    };
    let mut variables = Vec::new();
    match p.get("variables") {
        None => {}
        Some(Value::Object(map)) => {
            for (key, value) in map {
                let Value::String(value) = value else {
                    return Err(ApiError::Message(
                        StatusCode::BAD_REQUEST,
                        Value::from("variables needs to be a map of key-valued strings"),
                    ));
                };
                variables.push(PipelineVariable {
                    key: key.clone(),
                    value: value.clone(),
                    variable_type: "env_var".into(),
                });
            }
        }
        Some(_) => {
            return Err(ApiError::Message(
                StatusCode::BAD_REQUEST,
                Value::from("variables needs to be a map of key-valued strings"),
            ));
        }
    }
    let model = app.lock();
    let project = model
        .project_by_ref(id)
        .cloned()
        .ok_or(ApiError::NotFound(None))?;
    let (user_id, trigger_id, source) = if let Some(trigger) = model
        .triggers
        .iter()
        .find(|t| t.token == token && t.project_id == project.id)
    {
        (trigger.owner_id, Some(trigger.id), PipelineSource::Trigger)
    } else if let Some(job) = model
        .token(&token)
        .filter(|t| matches!(t.kind, TokenKind::Job { .. }))
    {
        (job.user_id, None, PipelineSource::Pipeline)
    } else {
        return Err(ApiError::NotFound(None));
    };
    if model
        .access_level(&project, user_id)
        .is_none_or(|l| l < AccessLevel::Developer)
    {
        return Err(ApiError::Forbidden(None));
    }
    // `TRIGGER_PAYLOAD` counts as a pipeline variable, so "minimum role to use pipeline
    // variables" applies to every trigger (`Ci::PipelineTriggerService`, `Chain::Build`).
    require_may_set_variables(&model, &project, user_id)?;
    let (sha, mut model) = resolve_ref_unlocked(app, model, &project, &git_ref)?;
    let mut payload = p.clone().into_value();
    if let Value::Object(map) = &mut payload {
        map.remove("token");
        map.remove("job_token");
        map.insert("id".into(), Value::from(id.to_string()));
        map.insert("ref".into(), Value::from(git_ref.clone()));
    }
    variables.push(PipelineVariable {
        key: "TRIGGER_PAYLOAD".into(),
        value: payload.to_string(),
        variable_type: "file".into(),
    });
    let jobs = plan_jobs(&model, &project, source, &git_ref, &variables)?;
    let value = record(
        &mut model, app, &project, sha, git_ref, source, variables, user_id, trigger_id, jobs,
    );
    Ok(created(value))
}

/// The jobs a new pipeline gets from the project's CI configuration, or GitLab's refusal when
/// it would get none. No configuration given: no jobs recorded, nothing refused.
fn plan_jobs(
    model: &Model,
    project: &Project,
    source: PipelineSource,
    git_ref: &str,
    variables: &[PipelineVariable],
) -> ApiResult<Vec<crate::ci_config::PlannedJob>> {
    let Some(config) = model.ci_configs.get(&project.id) else {
        return Ok(Vec::new());
    };
    let branch = git_ref.strip_prefix("refs/heads/").unwrap_or(git_ref);
    let mut vars = crate::ci_rules::Vars::new();
    // Lowest precedence first: predefined, project variables, then the pipeline's own
    // (<https://docs.gitlab.com/ci/variables/#cicd-variable-precedence>).
    vars.insert("CI_PIPELINE_SOURCE".into(), source.as_str().into());
    vars.insert("CI_COMMIT_BRANCH".into(), branch.into());
    vars.insert("CI_COMMIT_REF_NAME".into(), branch.into());
    vars.insert("CI_DEFAULT_BRANCH".into(), project.default_branch.clone());
    for variable in model
        .variables
        .iter()
        .filter(|v| v.project_id == project.id)
    {
        vars.insert(variable.key.clone(), variable.value.clone());
    }
    for variable in variables {
        vars.insert(variable.key.clone(), variable.value.clone());
    }
    let jobs = config.plan(&vars);
    if jobs.is_empty() {
        return Err(ApiError::Message(
            StatusCode::BAD_REQUEST,
            json!({"base": [NO_JOBS]}),
        ));
    }
    Ok(jobs)
}

/// `Gitlab::Ci::Pipeline::Chain::Populate`'s error when rules leave a pipeline without jobs.
pub const NO_JOBS: &str = "Pipeline will not run for the selected trigger. The rules configuration prevented any jobs from being added to the pipeline.";

#[allow(clippy::too_many_arguments)]
fn record(
    model: &mut Model,
    app: &AppState,
    project: &Project,
    sha: String,
    git_ref: String,
    source: PipelineSource,
    variables: Vec<PipelineVariable>,
    user_id: u64,
    trigger_id: Option<u64>,
    jobs: Vec<crate::ci_config::PlannedJob>,
) -> Value {
    let pipeline = Pipeline {
        id: model.next_pipeline_id(),
        iid: model.next_pipeline_iid(project.id),
        project_id: project.id,
        sha,
        git_ref: git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&git_ref)
            .to_string(),
        status: "created".into(),
        source,
        variables,
        user_id,
        trigger_id,
        created_at: time::now(),
        jobs,
    };
    let value = json::pipeline(model, project, &pipeline, app.base_url());
    model.pipelines.push(pipeline);
    value
}

/// `POST /projects/:id/pipeline` with `ref` and `variables` as
/// `[{"key":…,"value":…,"variable_type":"env_var"|"file"}]`; needs Developer.
async fn create_pipeline(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project_signed_in(&model, &id, JobTokens::Ignored)?;
    let user_id = access.caller.require_user()?;
    let git_ref = ctx.params.required_str("ref")?;
    access.require(AccessLevel::Developer)?;
    let mut variables = Vec::new();
    match ctx.params.get("variables") {
        None => {}
        Some(Value::Array(items)) => {
            for item in items {
                let key = item.get("key").and_then(Value::as_str);
                let value = item.get("value").and_then(Value::as_str);
                let (Some(key), Some(value)) = (key, value) else {
                    return Err(ApiError::InvalidParam("variables".into(), "is invalid"));
                };
                let variable_type = item
                    .get("variable_type")
                    .and_then(Value::as_str)
                    .unwrap_or("env_var");
                if variable_type != "env_var" && variable_type != "file" {
                    return Err(ApiError::InvalidParam(
                        "variables[variable_type]".into(),
                        "does not have a valid value",
                    ));
                }
                variables.push(PipelineVariable {
                    key: key.into(),
                    value: value.into(),
                    variable_type: variable_type.into(),
                });
            }
        }
        Some(_) => {
            return Err(ApiError::InvalidParam("variables".into(), "is invalid"));
        }
    }
    let project = access.project;
    // The same rule as for triggers: any user-defined variable needs the minimum role
    // (`Gitlab::Ci::Pipeline::Chain::Validate::Abilities`), rendered as a validation error.
    if !variables.is_empty() {
        require_may_set_variables(&model, &project, user_id)?;
    }
    let (sha, mut model) = resolve_ref_unlocked(&ctx.app, model, &project, &git_ref)?;
    let jobs = plan_jobs(&model, &project, PipelineSource::Api, &git_ref, &variables)?;
    let value = record(
        &mut model,
        &ctx.app,
        &project,
        sha,
        git_ref,
        PipelineSource::Api,
        variables,
        user_id,
        None,
        jobs,
    );
    Ok(created(value))
}

async fn list_pipelines(Path(id): Path<String>, ctx: Ctx) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    access.require_read_code()?;
    let params = &ctx.params;
    let source = params.str("source");
    let status = params.str("status");
    let git_ref = params.str("ref");
    let mut pipelines: Vec<&Pipeline> = access
        .own(&model.pipelines)
        .filter(|p| source.as_deref().is_none_or(|s| p.source.as_str() == s))
        .filter(|p| status.as_deref().is_none_or(|s| p.status == s))
        .filter(|p| git_ref.as_deref().is_none_or(|r| p.git_ref == r))
        .collect();
    // `order_by` defaults to `id`; the double keeps no other order (`updated_at` equals
    // `created_at` here, which follows the id).
    match params.str("order_by").as_deref() {
        None | Some("id") | Some("updated_at") => {}
        Some(_) => {
            return Err(ApiError::InvalidParam(
                "order_by".into(),
                "does not have a valid value",
            ));
        }
    }
    pipelines.sort_by_key(|p| std::cmp::Reverse(p.id));
    if !super::issues::sort_param(params)? {
        pipelines.reverse();
    }
    let items = pipelines
        .into_iter()
        .map(|p| {
            basic(json::pipeline(
                &model,
                &access.project,
                p,
                ctx.app.base_url(),
            ))
        })
        .collect();
    Ok(ctx.page(items))
}

/// The list entity, `Entities::Ci::PipelineBasic` (`lib/api/entities/ci/pipeline_basic.rb`):
/// what only `GET …/pipelines/:id` answers (`Entities::Ci::Pipeline`) is left out, so code that
/// reads it from a list fails here as against GitLab.
fn basic(mut full: Value) -> Value {
    const SINGLE_ONLY: &[&str] = &[
        "before_sha",
        "tag",
        "yaml_errors",
        "user",
        "started_at",
        "finished_at",
        "committed_at",
        "duration",
        "queued_duration",
        "coverage",
        "detailed_status",
    ];
    if let Value::Object(map) = &mut full {
        for key in SINGLE_ONLY {
            map.remove(*key);
        }
    }
    full
}

async fn one_pipeline(
    Path((id, pipeline_id)): Path<(String, u64)>,
    ctx: Ctx,
) -> ApiResult<Response> {
    let model = ctx.lock();
    let access = ctx.project(&model, &id, JobTokens::Ignored)?;
    access.require_read_code()?;
    let pipeline = access.find_own(&model.pipelines, ApiError::NotFound(None), |p| {
        p.id == pipeline_id
    })?;
    Ok(ok(json::pipeline(
        &model,
        &access.project,
        pipeline,
        ctx.app.base_url(),
    )))
}
