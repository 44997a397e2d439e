//! The registry the images come from answers: `GET /v2/` is the registry API's version check,
//! answered `200` (open) or `401` with a `WWW-Authenticate` challenge (sign in first); either
//! means the registry is reachable and speaks the API
//! (<https://distribution.github.io/distribution/spec/api/#api-version-check>). The templates
//! pin their image under `$CI_REGISTRY` (`templates/claude.yml`), the instance's registry
//! (<https://docs.gitlab.com/ci/variables/predefined_variables/>); locally the project's
//! `container_registry_image_prefix` names the same host
//! (<https://docs.gitlab.com/api/projects/#retrieve-a-project>).
//!
//! No credential is sent: reachability is the question, and a `401` answers it.

use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

use super::report::{Check, Finding, Report};
use super::{Inputs, Place};
use crate::gitlab::projects::Project;

/// How long the probe may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the registry is: `--registry`, else `CI_REGISTRY` in a job, else the project's image
/// prefix. A bare `host[:port]` means HTTPS.
pub fn target(inputs: &Inputs<'_>, project: Option<&Project>) -> Option<Url> {
    if let Some(url) = &inputs.registry {
        return Some(url.clone());
    }
    let host = match inputs.place {
        Place::Job => inputs.var("CI_REGISTRY"),
        Place::Local => None,
    }
    .or_else(|| {
        project
            .and_then(|p| p.container_registry_image_prefix.as_deref())
            .and_then(|prefix| prefix.split('/').next())
            .filter(|host| !host.is_empty())
            .map(str::to_owned)
    })?;
    let host = host.trim();
    if host.contains("://") {
        Url::parse(host).ok()
    } else {
        Url::parse(&format!("https://{host}")).ok()
    }
}

/// Probes the registry.
pub async fn check(inputs: &Inputs<'_>, project: Option<&Project>, report: &mut Report) {
    let Some(base) = target(inputs, project) else {
        report.push(Finding::warn(
            Check::Registry,
            "the image registry is unknown (no --registry, no CI_REGISTRY, and the project shows no registry)",
            "pass --registry https://registry.example.com to check it",
        ));
        return;
    };
    report.push(probe(&base).await);
}

/// `GET {base}/v2/`.
pub async fn probe(base: &Url) -> Finding {
    let shown = base.as_str().trim_end_matches('/').to_owned();
    let fix = format!(
        "make sure the runners (and you) reach {shown}: DNS, firewall, proxy (HTTPS_PROXY/NO_PROXY), and the registry's TLS certificate; the job's image is pulled from there"
    );
    let endpoint = match Url::parse(&format!("{shown}/v2/")) {
        Ok(url) => url,
        Err(e) => {
            return Finding::fail(
                Check::Registry,
                format!("{shown} is not a usable URL: {e}"),
                fix,
            );
        }
    };
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(TIMEOUT)
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            return Finding::fail(Check::Registry, format!("cannot set up HTTPS: {e}"), fix);
        }
    };
    match client.get(endpoint).send().await {
        Ok(response) => match response.status() {
            status @ (StatusCode::OK | StatusCode::UNAUTHORIZED) => Finding::ok(
                Check::Registry,
                format!("{shown} answers the registry API (GET /v2/: {status})"),
            ),
            status => Finding::fail(
                Check::Registry,
                format!(
                    "{shown} answered GET /v2/ with {status}, not as a container registry does (200 or 401)"
                ),
                fix,
            ),
        },
        Err(e) => Finding::fail(
            Check::Registry,
            format!(
                "{shown} is unreachable: {}",
                crate::gitlab::error::cause_chain(&e.without_url())
            ),
            fix,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::TemplateSource;
    use crate::env::Env;

    fn inputs<'a>(place: Place, env: &'a dyn Env) -> Inputs<'a> {
        Inputs {
            project: crate::gitlab::ids::ProjectRef::Id(crate::gitlab::ids::ProjectId(1)),
            place,
            assistants: Vec::new(),
            template: TemplateSource {
                project: "tools/ai".into(),
                git_ref: "v1".into(),
            },
            registry: None,
            image: None,
            capabilities: None,
            env,
        }
    }

    fn project(prefix: Option<&str>) -> Project {
        let mut value = serde_json::json!({
            "id": 1, "path_with_namespace": "g/p", "default_branch": "main",
            "http_url_to_repo": "https://gl.example.com/g/p.git", "web_url": "https://gl.example.com/g/p"
        });
        if let Some(prefix) = prefix {
            value["container_registry_image_prefix"] = prefix.into();
        }
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn the_registry_comes_from_the_flag_the_job_or_the_project() {
        let ci =
            |name: &str| (name == "CI_REGISTRY").then(|| "registry.example.com:5050".to_owned());
        let with_prefix = project(Some("registry.gl.example.com/g/p"));
        assert_eq!(
            target(&inputs(Place::Job, &ci), Some(&with_prefix))
                .unwrap()
                .as_str(),
            "https://registry.example.com:5050/"
        );
        // Locally CI_REGISTRY means nothing; the project's prefix names the host.
        assert_eq!(
            target(&inputs(Place::Local, &ci), Some(&with_prefix))
                .unwrap()
                .as_str(),
            "https://registry.gl.example.com/"
        );
        assert_eq!(
            target(&inputs(Place::Local, &ci), Some(&project(None))),
            None
        );
        let none = |_: &str| None;
        let mut explicit = inputs(Place::Job, &none);
        explicit.registry = Some(Url::parse("http://127.0.0.1:5000").unwrap());
        assert_eq!(
            target(&explicit, None).unwrap().as_str(),
            "http://127.0.0.1:5000/"
        );
    }
}
