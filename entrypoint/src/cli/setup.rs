//! The `entrypoint setup` command line: flags, environment, and the terminal.

use anyhow::{Context, bail};

use crate::agent::Assistant;
use crate::config::{HandleArgs, TemplateArgs};
pub use crate::contract::api_url;
use crate::env::Env;
use crate::gitlab::ids::ProjectRef;
use crate::gitlab::{ClientConfig, GitLab, GitLabToken};
use crate::secret::Secret;
use crate::setup::{Mode, Options, Outcome, Terminal};

/// How comments reach pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// A Comments webhook calls the project's pipeline trigger URL.
    Webhook,
    /// A Comments webhook calls a relay (--relay-url).
    Relay,
    /// A pipeline schedule scans for mentions every 10 minutes.
    Scan,
}

/// Flags of `entrypoint setup`.
#[derive(Debug, clap::Args)]
pub struct SetupArgs {
    /// The project: numeric id or full path (`group/project`).
    #[arg(long)]
    pub project: ProjectRef,
    /// Which assistant to set up: claude or codex.
    #[arg(long)]
    pub assistant: Assistant,
    /// How comments reach pipelines.
    #[arg(long, value_enum)]
    pub mode: ModeArg,
    /// The relay's URL (mode relay).
    #[arg(long, value_name = "URL")]
    pub relay_url: Option<url::Url>,
    /// Environment variable holding the secret the relay expects in X-Gitlab-Token (mode relay).
    #[arg(long, value_name = "NAME")]
    pub relay_secret_from_env: Option<String>,
    /// Apply the plan without asking.
    #[arg(long)]
    pub yes: bool,
    /// Print the include: block instead of opening a merge request.
    #[arg(long)]
    pub no_mr: bool,
    /// Environment variable holding a token for the bot to reuse (for example a bot user's
    /// personal access token where project access tokens are unavailable).
    #[arg(long, value_name = "NAME")]
    pub gitlab_token_from_env: Option<String>,
    /// Environment variable holding the model key; without it the key is read from stdin.
    #[arg(long, value_name = "NAME")]
    pub model_key_from_env: Option<String>,
    /// GitLab's URL (default: CI_API_V4_URL, else CI_SERVER_URL).
    #[arg(long, value_name = "URL")]
    pub gitlab_url: Option<String>,
    #[command(flatten)]
    pub template: TemplateArgs,
    #[command(flatten)]
    pub handles: HandleArgs,
}

fn secret_from_env(env: &dyn Env, flag: &str, name: &str) -> anyhow::Result<Secret> {
    let value = env
        .var(name)
        .map(Secret::new)
        .filter(|s| !s.is_empty())
        .with_context(|| format!("{flag} {name}: the environment variable {name} is not set"))?;
    Ok(value)
}

/// Builds the options from flags and environment.
pub fn options(args: &SetupArgs, env: &dyn Env) -> anyhow::Result<Options> {
    let mode = match args.mode {
        ModeArg::Webhook => Mode::Webhook,
        ModeArg::Scan => Mode::Scan,
        ModeArg::Relay => {
            let url = args
                .relay_url
                .clone()
                .context("--mode relay needs --relay-url URL")?;
            let name = args
                .relay_secret_from_env
                .as_deref()
                .context("--mode relay needs --relay-secret-from-env NAME: the secret your relay checks in X-Gitlab-Token")?;
            Mode::Relay {
                url,
                secret: secret_from_env(env, "--relay-secret-from-env", name)?,
            }
        }
    };
    let bot_token = args
        .gitlab_token_from_env
        .as_deref()
        .map(|name| secret_from_env(env, "--gitlab-token-from-env", name))
        .transpose()?;
    let model_key = args
        .model_key_from_env
        .as_deref()
        .map(|name| secret_from_env(env, "--model-key-from-env", name))
        .transpose()?;
    Ok(Options {
        project: args.project.clone(),
        assistant: args.assistant,
        mode,
        bot_token,
        model_key,
        yes: args.yes,
        merge_request: !args.no_mr,
        template: args.template.source(),
        handles: args.handles.handles()?,
    })
}

/// `entrypoint setup` over the process environment and terminal.
pub fn run(args: &SetupArgs) -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let options = options(args, &env)?;
    let token = env("GITLAB_TOKEN")
        .map(Secret::new)
        .filter(|s| !s.is_empty())
        .context("GITLAB_TOKEN is not set: export a Maintainer's personal access token (scope api) as GITLAB_TOKEN")?;
    let config = ClientConfig::new(
        api_url(args.gitlab_url.as_deref(), &env)?,
        GitLabToken::new(token),
    );
    let gitlab = GitLab::new(config).context("building the GitLab client")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let outcome = runtime.block_on(crate::setup::run(&gitlab, &options, &mut Terminal))?;
    if outcome == Outcome::Declined {
        bail!("setup was not applied");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        setup: SetupArgs,
    }

    fn args(extra: &[&str]) -> SetupArgs {
        let mut argv = vec!["setup", "--project", "group/proj", "--assistant", "codex"];
        argv.extend_from_slice(extra);
        Cli::try_parse_from(argv).expect("flags parse").setup
    }

    #[test]
    fn the_url_comes_from_the_flag_or_the_ci_variables() {
        let none = |_: &str| None;
        let a = args(&[
            "--mode",
            "webhook",
            "--gitlab-url",
            "https://gl.example.com/sub/",
        ]);
        assert_eq!(
            api_url(a.gitlab_url.as_deref(), &none).unwrap().as_str(),
            "https://gl.example.com/sub/api/v4"
        );
        let a = args(&["--mode", "webhook"]);
        let server = |n: &str| (n == "CI_SERVER_URL").then(|| "https://gl.example.com".to_owned());
        assert_eq!(
            api_url(a.gitlab_url.as_deref(), &server).unwrap().as_str(),
            "https://gl.example.com/api/v4"
        );
        assert!(api_url(a.gitlab_url.as_deref(), &none).is_err());
    }

    #[test]
    fn secrets_come_from_named_variables_and_relay_needs_url_and_secret() {
        let env = |n: &str| match n {
            "KEY" => Some("sk-proj-0123456789".to_owned()),
            "RELAY" => Some("relay-secret-123".to_owned()),
            _ => None,
        };
        let o = options(
            &args(&["--mode", "scan", "--model-key-from-env", "KEY", "--no-mr"]),
            &env,
        )
        .unwrap();
        assert_eq!(o.model_key.unwrap().expose(), "sk-proj-0123456789");
        assert!(!o.merge_request && o.mode == Mode::Scan);
        let missing = options(
            &args(&["--mode", "scan", "--model-key-from-env", "NOPE"]),
            &env,
        )
        .unwrap_err()
        .to_string();
        assert!(missing.contains("NOPE is not set"), "{missing}");
        assert!(options(&args(&["--mode", "relay"]), &env).is_err());
        let relay = options(
            &args(&[
                "--mode",
                "relay",
                "--relay-url",
                "https://relay.example.com/hook",
                "--relay-secret-from-env",
                "RELAY",
            ]),
            &env,
        )
        .unwrap();
        assert_eq!(relay.mode.name(), "relay");
    }
}
