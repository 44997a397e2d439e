//! The `entrypoint doctor` command line: where it runs, which token it uses, and how the
//! report is printed. The exit status is non-zero when a check fails.

use anyhow::{Context, bail};
use url::Url;

use crate::agent::Assistant;
use crate::config::TemplateArgs;
use crate::contract::api_url;
use crate::doctor::{Inputs, Place, Status, summary};
use crate::env::Env;
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::{ClientConfig, GitLab, GitLabToken};
use crate::sandbox::capability::Capabilities;
use crate::secret::Secret;
use crate::ui::{Terminal, Ui};

/// Flags of `entrypoint doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The project: numeric id or full path (`group/project`); in a job, CI_PROJECT_ID.
    #[arg(long)]
    pub project: Option<ProjectRef>,
    /// GitLab's URL (default: CI_API_V4_URL, else CI_SERVER_URL).
    #[arg(long, value_name = "URL")]
    pub gitlab_url: Option<String>,
    /// Check this assistant (repeat for both); default: those the project is set up for.
    #[arg(long, value_name = "ASSISTANT")]
    pub assistant: Vec<Assistant>,
    /// The image registry to probe (default: CI_REGISTRY in a job, else the project's).
    #[arg(long, value_name = "URL")]
    pub registry: Option<Url>,
    /// The image to check for a signature and newer patch releases (default in a job:
    /// CI_JOB_IMAGE).
    #[arg(long, value_name = "IMAGE")]
    pub image: Option<String>,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `entrypoint doctor` over the process environment.
pub fn run(args: &DoctorArgs) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let place = if env("GITLAB_CI").as_deref() == Some("true") {
        Place::Job
    } else {
        Place::Local
    };
    let project = match (&args.project, env("CI_PROJECT_ID")) {
        (Some(project), _) => project.clone(),
        (None, Some(id)) if place == Place::Job => id
            .parse()
            .with_context(|| format!("CI_PROJECT_ID {id:?} is not a project id"))?,
        _ => bail!("which project? pass --project group/project (or its numeric id)"),
    };
    let gitlab = client(args, place, &env)?;
    let inputs = Inputs {
        project,
        place,
        assistants: args.assistant.clone(),
        template: args.template.source(),
        registry: args.registry.clone(),
        image: args.image.clone(),
        capabilities: match place {
            Place::Job => Capabilities::current().ok(),
            Place::Local => None,
        },
        env: &env,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(crate::doctor::run(gitlab.as_ref(), &inputs));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        for line in report.lines() {
            println!("{line}");
        }
        println!("{}", summary(&report));
    }
    if report.failed() {
        bail!(
            "{} check(s) failed; the fix is on each fail line",
            report.count(Status::Fail)
        );
    }
    Ok(())
}

/// The client: in a job from the job's variables (`None` without `GITLAB_TOKEN`, which the
/// report then names), locally from the flags with the token from `GITLAB_TOKEN` or stdin.
fn client(args: &DoctorArgs, place: Place, env: &dyn Env) -> anyhow::Result<Option<GitLab>> {
    let token = env.var("GITLAB_TOKEN").filter(|t| !t.trim().is_empty());
    let config = match (place, token) {
        (Place::Job, None) => return Ok(None),
        (Place::Job, Some(_)) if args.gitlab_url.is_none() => {
            ClientConfig::from_env(env).context("reading the job's GitLab settings")?
        }
        (_, Some(token)) => ClientConfig::new(
            api_url(args.gitlab_url.as_deref(), env)?,
            GitLabToken::new(Secret::new(token)),
        ),
        (Place::Local, None) => {
            let token = Terminal
                .read_secret("GitLab token (not echoed)")
                .context("reading the token from stdin")?;
            if token.is_empty() {
                bail!(
                    "no token: set GITLAB_TOKEN or pass one on stdin (a Maintainer's token sees the most)"
                );
            }
            ClientConfig::new(
                api_url(args.gitlab_url.as_deref(), env)?,
                GitLabToken::new(token),
            )
        }
    };
    Ok(Some(
        GitLab::new(config).context("building the GitLab client")?,
    ))
}
