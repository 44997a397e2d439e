//! Project CI/CD variables: where setup stores the bot's token and the model key.
//! <https://docs.gitlab.com/api/project_level_variables/>

use serde::{Deserialize, Serialize};

use super::client::GitLab;
use super::error::Result;
use super::ids::ProjectRef;
use super::pipelines::VariableType;
use ai_core::secret::Secret;

/// A project variable as listed. `value` is `None` for hidden variables, whose value GitLab
/// never shows again after creation.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct ProjectVariable {
    /// Name.
    pub key: String,
    /// Environment variable or file.
    pub variable_type: String,
    /// Only on protected branches and tags.
    pub protected: bool,
    /// Masked in job logs.
    pub masked: bool,
    /// Hidden: masked, and never shown again (GitLab 17.4+; older versions omit the field).
    #[serde(default)]
    pub hidden: bool,
    /// Not expanded (`$` kept as is).
    #[serde(default)]
    pub raw: bool,
    /// Environments the variable applies to (`*` for all).
    pub environment_scope: String,
}

/// Body of `POST /projects/:id/variables`. The value is a [`Secret`]: the one request that
/// stores it is the only place it goes.
#[derive(Clone, Debug)]
pub struct NewVariable {
    /// Name: letters, digits and `_`, at most 255 characters.
    pub key: String,
    /// The value.
    pub value: Secret,
    /// Masked in job logs (the value must then be maskable).
    pub masked: bool,
    /// Masked and never shown again (`masked_and_hidden`, GitLab 17.4+).
    pub hidden: bool,
    /// Only on protected refs: off for the bot, whose pipelines run on any branch.
    pub protected: bool,
    /// Keep `$` as is.
    pub raw: bool,
    /// Shown in the settings page.
    pub description: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    key: &'a str,
    value: &'a str,
    masked: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    masked_and_hidden: bool,
    protected: bool,
    raw: bool,
    variable_type: VariableType,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

impl GitLab {
    /// `GET /projects/:id/variables` (every page). Maintainer and above.
    pub async fn project_variables(&self, project: &ProjectRef) -> Result<Vec<ProjectVariable>> {
        self.get_all(&project.api("variables"), &[]).await
    }

    /// `POST /projects/:id/variables`.
    pub async fn create_project_variable(
        &self,
        project: &ProjectRef,
        variable: &NewVariable,
    ) -> Result<ProjectVariable> {
        let body = Body {
            key: &variable.key,
            value: variable.value.expose(),
            masked: variable.masked || variable.hidden,
            masked_and_hidden: variable.hidden,
            protected: variable.protected,
            raw: variable.raw,
            variable_type: VariableType::EnvVar,
            description: variable.description.as_deref(),
        };
        self.post(&project.api("variables"), &body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_variable_lists_without_value() {
        let v: ProjectVariable = serde_json::from_str(
            r#"{"variable_type":"env_var","key":"GITLAB_TOKEN","value":null,"hidden":true,
                "protected":false,"masked":true,"raw":false,"environment_scope":"*","description":null}"#,
        )
        .unwrap();
        assert!(v.hidden && v.masked);
        let new = NewVariable {
            key: "K".into(),
            value: Secret::new("supersecretvalue"),
            masked: true,
            hidden: true,
            protected: false,
            raw: true,
            description: None,
        };
        assert!(!format!("{new:?}").contains("supersecretvalue"));
    }
}
