//! What `entrypoint scan` reads from its job's variables.

use std::time::Duration;

use crate::env::Env;
use crate::env::parse_duration;
use crate::guard::{GuardSettings, GuardSettingsError};

/// A scan that finds no earlier successful scheduled pipeline looks back this far; so does
/// every scan at least, so that a schedule that runs every few minutes never leaves a gap even
/// when the previous pipeline's time is unknown.
pub(crate) const DEFAULT_LOOKBACK: Duration = Duration::from_secs(60 * 60);

/// What the scan does with each new mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer each mention in the scan job itself, one after the other, with the run flow. The
    /// default: it needs nothing beyond what the scan job already has, whereas starting
    /// pipelines with variables needs the project's "minimum role to use pipeline variables"
    /// to let the bot do so, which new GitLab.com projects refuse by default.
    InJob,
    /// Start one pipeline per mention (`POST /projects/:id/pipeline` with the `AI_*`
    /// variables and `AI_PLACEHOLDER_NOTE_ID`): mentions are answered in parallel, each with
    /// its own job log and timeout.
    Pipeline,
}

/// The scan's settings.
#[derive(Clone, Debug)]
pub struct ScanSettings {
    /// In the job or one pipeline per mention.
    pub mode: Mode,
    /// The least window.
    pub lookback: Duration,
    /// Where `pipeline` mode starts pipelines (`AI_SCAN_REF`, else `CI_DEFAULT_BRANCH`).
    pub git_ref: Option<String>,
    /// The guard's settings, applied before a pipeline is started.
    pub guard: GuardSettings,
}

/// A scan setting cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanSettingsError {
    /// `AI_SCAN_MODE` is neither `job` nor `pipeline`.
    #[error(
        "AI_SCAN_MODE={0:?} is not a scan mode: use \"job\" (answer in the scan job) or \"pipeline\" (one pipeline per mention)"
    )]
    Mode(String),
    /// `AI_SCAN_LOOKBACK` is not a duration.
    #[error(
        "AI_SCAN_LOOKBACK={0:?} is not a duration: use seconds or a number with s, m or h, such as 2h"
    )]
    Lookback(String),
    /// `pipeline` mode without a ref.
    #[error(
        "AI_SCAN_MODE=pipeline needs the branch to start pipelines on: set AI_SCAN_REF, or run the scan in a CI job (CI_DEFAULT_BRANCH)"
    )]
    NoRef,
    /// A guard setting is wrong.
    #[error(transparent)]
    Guard(#[from] GuardSettingsError),
}

impl ScanSettings {
    /// Reads the settings; empty values count as unset.
    pub fn from_env(vars: &dyn Env) -> Result<Self, ScanSettingsError> {
        let mode = match crate::env::AI_SCAN_MODE
            .non_blank(vars)
            .map(|m| m.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("job") => Mode::InJob,
            Some("pipeline") => Mode::Pipeline,
            Some(other) => return Err(ScanSettingsError::Mode(other.to_owned())),
        };
        let lookback = match crate::env::AI_SCAN_LOOKBACK.non_blank(vars) {
            None => DEFAULT_LOOKBACK,
            Some(text) => parse_duration(&text).ok_or(ScanSettingsError::Lookback(text))?,
        };
        let git_ref = crate::env::AI_SCAN_REF.non_blank(vars).or_else(|| {
            vars.var("CI_DEFAULT_BRANCH")
                .map(|b| b.trim().to_owned())
                .filter(|b| !b.is_empty())
        });
        if mode == Mode::Pipeline && git_ref.is_none() {
            return Err(ScanSettingsError::NoRef);
        }
        Ok(Self {
            mode,
            lookback,
            git_ref,
            guard: GuardSettings::from_env(vars)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn defaults_answer_in_the_job_and_look_back_an_hour() {
        let settings = ScanSettings::from_env(&vars::<&str>(&[])).unwrap();
        assert_eq!(settings.mode, Mode::InJob);
        assert_eq!(settings.lookback, DEFAULT_LOOKBACK);
        assert_eq!(settings.git_ref, None);
    }

    #[test]
    fn pipeline_mode_starts_pipelines_on_the_default_branch_unless_told() {
        let settings = ScanSettings::from_env(&vars(&[
            ("AI_SCAN_MODE", "Pipeline"),
            ("CI_DEFAULT_BRANCH", "main"),
            ("AI_SCAN_LOOKBACK", "3h"),
        ]))
        .unwrap();
        assert_eq!(settings.mode, Mode::Pipeline);
        assert_eq!(settings.git_ref.as_deref(), Some("main"));
        assert_eq!(settings.lookback, Duration::from_secs(3 * 3600));
        let error = ScanSettings::from_env(&vars(&[("AI_SCAN_MODE", "pipeline")])).unwrap_err();
        assert_eq!(error, ScanSettingsError::NoRef);
    }

    #[test]
    fn wrong_values_name_their_variable() {
        let mode = ScanSettings::from_env(&vars(&[("AI_SCAN_MODE", "cron")])).unwrap_err();
        assert!(mode.to_string().starts_with("AI_SCAN_MODE=\"cron\""));
        let lookback =
            ScanSettings::from_env(&vars(&[("AI_SCAN_LOOKBACK", "a while")])).unwrap_err();
        assert!(lookback.to_string().starts_with("AI_SCAN_LOOKBACK"));
    }
}
