//! Why a run failed, read from what the CLI reported: the CLIs report model-API errors only as
//! text, so the text is matched against the status codes and error types both APIs document.
//! The note that explains a failure to people ([`crate::publish::result`]) adds its headline
//! and advice.

use std::time::Duration;

use crate::agent::Assistant;
use crate::agent::run::Outcome;

/// Why a run failed, one variant per failure we know how to explain.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// The run hit `AI_TIMEOUT`.
    TimedOut { after: Duration },
    /// The model API refused the key (401).
    ModelUnauthorized { key_variable: String },
    /// The model API forbade the request (403): the key lacks access to the model or project.
    ModelForbidden { key_variable: String },
    /// The model API rate-limited the run or the quota is used up (429).
    ModelRateLimited,
    /// The model asked for does not exist or the key cannot use it.
    ModelNotFound {
        model: String,
        model_variable: String,
    },
    /// The model API failed on its side (5xx, overloaded).
    ModelApiDown,
    /// Claude stopped at `AI_MAX_TURNS`.
    TurnLimit,
    /// A GitLab call the job needed failed.
    GitLab { message: String },
    /// The changes could not be pushed.
    PushRejected { message: String },
    /// Anything else the assistant reported, in its own words.
    Assistant { message: String },
    /// Every attempt of a queued request met the model API's limit ([`crate::quota`]).
    QuotaExhausted { attempts: u32 },
}

impl Failure {
    /// Reads a failed or timed-out run: the CLIs report API errors only as text, so the text is
    /// matched against the status codes and error types both APIs document
    /// (<https://docs.anthropic.com/en/api/errors>,
    /// <https://platform.openai.com/docs/guides/error-codes>).
    /// `None` for a run that succeeded.
    pub fn from_outcome(
        outcome: &Outcome,
        assistant: Assistant,
        model: Option<&str>,
    ) -> Option<Self> {
        match outcome {
            Outcome::Succeeded { .. } | Outcome::LimitReached { .. } => None,
            Outcome::TimedOut { after } => Some(Self::TimedOut { after: *after }),
            Outcome::Failed { message } => Some(Self::from_message(message, assistant, model)),
        }
    }

    /// Reads the failure message a CLI reported.
    pub(crate) fn from_message(message: &str, assistant: Assistant, model: Option<&str>) -> Self {
        let lower = message.to_ascii_lowercase();
        let has = |needles: &[&str]| {
            needles.iter().any(|n| {
                if n.bytes().all(|b| b.is_ascii_digit()) {
                    contains_number(&lower, n)
                } else {
                    lower.contains(n)
                }
            })
        };
        // The names the templates and `entrypoint setup` use (`ANTHROPIC_API_KEY` and
        // `CODEX_API_KEY` are accepted too, but the advice names the one to check first).
        let key_variable = assistant.profile().key_variable().to_owned();
        if has(&[
            "401",
            "authentication_error",
            "invalid x-api-key",
            "invalid api key",
            "incorrect api key",
            "unauthorized",
        ]) {
            Self::ModelUnauthorized { key_variable }
        } else if has(&[
            "model_not_found",
            "does not exist or you do not have access",
            "not_found_error",
        ]) {
            Self::ModelNotFound {
                model: model.unwrap_or("the default model").to_owned(),
                model_variable: assistant.profile().model_variable.to_owned(),
            }
        } else if has(&["403", "permission_error", "forbidden"]) {
            Self::ModelForbidden { key_variable }
        } else if has(&[
            "429",
            "rate_limit",
            "rate limit",
            "insufficient_quota",
            "quota",
        ]) {
            Self::ModelRateLimited
        } else if has(&["max_turns", "max turns", "maximum number of turns"]) {
            Self::TurnLimit
        } else if has(&[
            "overloaded",
            "500",
            "502",
            "503",
            "529",
            "internal server error",
            "api_error",
        ]) {
            Self::ModelApiDown
        } else {
            Self::Assistant {
                message: message.to_owned(),
            }
        }
    }
}

/// True when `number` appears in `text` as a whole number (`401`, not `4010` or `v1.401`'s
/// neighbours' digits).
fn contains_number(text: &str, number: &str) -> bool {
    text.match_indices(number).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + number.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit()) && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_recognised_from_the_clis_messages() {
        let failed = |m: &str| Outcome::Failed { message: m.into() };
        let classify = |o: &Outcome, a| Failure::from_outcome(o, a, Some("o4-mini"));
        assert_eq!(
            classify(
                &failed("API Error: 401 {\"type\":\"authentication_error\"}"),
                Assistant::Claude
            ),
            Some(Failure::ModelUnauthorized {
                key_variable: "CLAUDE_API_KEY".into()
            })
        );
        assert!(matches!(
            classify(&failed("The model `o4-mini` does not exist or you do not have access to it."), Assistant::Codex),
            Some(Failure::ModelNotFound { ref model, ref model_variable }) if model == "o4-mini" && model_variable == "CODEX_MODEL"
        ));
        assert_eq!(
            classify(&failed("429 rate_limit_error"), Assistant::Claude),
            Some(Failure::ModelRateLimited)
        );
        assert_eq!(
            classify(&failed("error_max_turns"), Assistant::Claude),
            Some(Failure::TurnLimit)
        );
        assert_eq!(
            classify(&failed("API Error: 529 overloaded"), Assistant::Claude),
            Some(Failure::ModelApiDown)
        );
        assert_eq!(
            classify(&failed("wrote 5000 lines on port 4010"), Assistant::Claude),
            Some(Failure::Assistant {
                message: "wrote 5000 lines on port 4010".into()
            })
        );
        assert_eq!(
            classify(&failed("something odd"), Assistant::Claude),
            Some(Failure::Assistant {
                message: "something odd".into()
            })
        );
        assert_eq!(
            classify(
                &Outcome::TimedOut {
                    after: Duration::from_secs(5)
                },
                Assistant::Codex
            ),
            Some(Failure::TimedOut {
                after: Duration::from_secs(5)
            })
        );
        let ok = Outcome::Succeeded {
            final_text: String::new(),
            usage: None,
            cost_usd: None,
        };
        assert_eq!(classify(&ok, Assistant::Codex), None);
    }
}
