//! Settings shared by several commands, read from flags or the job's CI/CD variables.

use std::sync::LazyLock;

use crate::agent::{Assistant, Handle, Handles, InvalidHandle, SharedHandle};

/// Which GitLab usernames summon the assistants, for teams whose bot users are not called
/// after them: one `--<name>-handle` flag per row of [`ai_core::assistant::PROFILES`]
/// (`--claude-handle`, default `claude`, or its variable `AI_CLAUDE_HANDLE`), so a new
/// assistant brings its flag with its row. clap's derive wants a field per flag, hence the
/// hand-written [`clap::Args`] below.
#[derive(Debug, Clone)]
pub struct HandleArgs {
    /// The usernames as given, one per assistant in [`Assistant::ALL`] order.
    values: [String; Assistant::ALL.len()],
}

/// The names clap shows for one assistant's handle flag: built once, kept for the process,
/// because clap takes them as `&'static str`.
struct HandleFlag {
    /// `claude-handle`: the flag without `--`, and its id in the matches.
    long: String,
    /// `GitLab username that summons Claude`.
    help: String,
}

static FLAGS: LazyLock<[HandleFlag; Assistant::ALL.len()]> = LazyLock::new(|| {
    Assistant::ALL.map(|assistant| HandleFlag {
        long: format!("{}-handle", assistant.name()),
        help: format!("GitLab username that summons {}", assistant.display_name()),
    })
});

/// The handle flag of `assistant`.
fn flag(assistant: Assistant) -> &'static HandleFlag {
    let flags: &'static [HandleFlag; Assistant::ALL.len()] = &FLAGS;
    &flags[assistant as usize]
}

/// Every assistant's `what`, joined as a sentence lists them (`--claude-handle and
/// --codex-handle`).
fn listed(what: impl Fn(Assistant) -> String) -> String {
    Assistant::ALL.map(what).join(" and ")
}

/// The configured handles cannot be used: a usage error (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// One handle is not a GitLab username.
    #[error("--{flag}-handle (or {variable}): {problem}")]
    Invalid {
        /// The assistant's name (`claude`).
        flag: &'static str,
        /// The CI/CD variable behind the flag.
        variable: &'static str,
        /// What is wrong with the value.
        problem: InvalidHandle,
    },
    /// Two assistants were given the same username.
    #[error("{flags} (or {variables}): {shared}")]
    Shared {
        /// Every handle flag (`--claude-handle and --codex-handle`).
        flags: String,
        /// Every handle variable (`AI_CLAUDE_HANDLE and AI_CODEX_HANDLE`).
        variables: String,
        /// The username given twice.
        shared: SharedHandle,
    },
}

impl HandleArgs {
    /// The handles `given` holds, one per assistant in [`Assistant::ALL`] order; `None` is the
    /// default, the assistant's name (as when neither flag nor variable is set).
    pub fn new(given: [Option<String>; Assistant::ALL.len()]) -> Self {
        let mut given = given.into_iter();
        Self {
            values: Assistant::ALL.map(|assistant| {
                given
                    .next()
                    .flatten()
                    .unwrap_or_else(|| assistant.name().to_owned())
            }),
        }
    }

    /// The validated handles, or a [`HandleError`] naming the flag and variable to fix.
    pub fn handles(&self) -> Result<Handles, HandleError> {
        let mut handles = Vec::with_capacity(Assistant::ALL.len());
        for (assistant, value) in Assistant::ALL.into_iter().zip(&self.values) {
            handles.push(Handle::new(value).map_err(|problem| HandleError::Invalid {
                flag: assistant.name(),
                variable: assistant.profile().handle_variable,
                problem,
            })?);
        }
        let handles: [Handle; Assistant::ALL.len()] = handles
            .try_into()
            .unwrap_or_else(|_| unreachable!("one handle per assistant, by construction"));
        Handles::new(handles).map_err(|shared| HandleError::Shared {
            flags: listed(|a| format!("--{}", flag(a).long)),
            variables: listed(|a| a.profile().handle_variable.to_owned()),
            shared,
        })
    }
}

impl clap::Args for HandleArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        Assistant::ALL
            .into_iter()
            .fold(command, |command, assistant| {
                let flag = flag(assistant);
                command.arg(
                    clap::Arg::new(flag.long.as_str())
                        .long(flag.long.as_str())
                        .env(assistant.profile().handle_variable)
                        .default_value(assistant.name())
                        .value_name("USERNAME")
                        .help(flag.help.as_str()),
                )
            })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl clap::FromArgMatches for HandleArgs {
    /// Every flag has a default, so clap holds a value for each; were one missing, the
    /// default would be the same.
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self::new(Assistant::ALL.map(|assistant| {
            matches
                .get_one::<String>(flag(assistant).long.as_str())
                .cloned()
        })))
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for (assistant, value) in Assistant::ALL.into_iter().zip(&mut self.values) {
            if let Some(given) = matches.get_one::<String>(flag(assistant).long.as_str()) {
                value.clone_from(given);
            }
        }
        Ok(())
    }
}

/// `--template-project` and `--template-ref`: the CI templates `setup` includes and `doctor`
/// names in the fix for a missing include.
#[derive(Debug, Clone, clap::Args)]
pub struct TemplateArgs {
    /// The project that hosts the CI templates.
    #[arg(long, default_value = crate::contract::DEFAULT_TEMPLATE_PROJECT)]
    pub template_project: String,
    /// The ref of the template project to include.
    #[arg(long, default_value = concat!("v", env!("CARGO_PKG_VERSION")))]
    pub template_ref: String,
}

impl TemplateArgs {
    /// Where the templates come from.
    pub fn source(&self) -> crate::contract::TemplateSource {
        crate::contract::TemplateSource {
            project: self.template_project.clone(),
            git_ref: self.template_ref.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory as _, Parser as _};

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        handles: HandleArgs,
    }

    #[test]
    fn each_profile_brings_its_handle_flag() {
        let cli = Cli::try_parse_from(["entrypoint", "--codex-handle", "@CX"]).unwrap();
        let handles = cli.handles.handles().unwrap();
        assert_eq!(handles.handle(Assistant::Claude).as_str(), "claude");
        assert_eq!(handles.handle(Assistant::Codex).as_str(), "cx");
        let mut updated = cli.handles.clone();
        clap::FromArgMatches::update_from_arg_matches(
            &mut updated,
            &Cli::command().get_matches_from(["entrypoint", "--claude-handle", "ai-bot"]),
        )
        .unwrap();
        assert_eq!(updated.values, ["ai-bot", "codex"]);
    }

    #[test]
    fn errors_name_the_flags_and_variables_of_the_profiles() {
        let shared = Cli::try_parse_from([
            "entrypoint",
            "--claude-handle",
            "bot",
            "--codex-handle",
            "BOT",
        ])
        .unwrap()
        .handles
        .handles()
        .unwrap_err();
        assert_eq!(
            shared.to_string(),
            "--claude-handle and --codex-handle (or AI_CLAUDE_HANDLE and AI_CODEX_HANDLE): \
             both assistants have the handle @bot: give each assistant its own handle"
        );
        let invalid = HandleArgs::new([None, Some("codex.".to_owned())])
            .handles()
            .unwrap_err();
        assert!(
            invalid
                .to_string()
                .starts_with("--codex-handle (or AI_CODEX_HANDLE): invalid handle"),
            "{invalid}"
        );
    }
}
