//! How much context goes into the prompt: a total byte budget with caps per part, read from
//! `AI_CONTEXT_*` variables.

use crate::env::{
    AI_CONTEXT_MAX_BYTES, AI_CONTEXT_MAX_DESCRIPTION_BYTES, AI_CONTEXT_MAX_DIFF_BYTES,
    AI_CONTEXT_MAX_FAILED_JOBS, AI_CONTEXT_MAX_FILE_DIFF_BYTES, AI_CONTEXT_MAX_LOG_BYTES,
    AI_CONTEXT_MAX_LOG_LINES, AI_CONTEXT_MAX_NOTES, AI_CONTEXT_MAX_THREAD_BYTES, Env,
};

/// Size limits of the context section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextBudget {
    /// Everything together (`AI_CONTEXT_MAX_BYTES`).
    pub max_bytes: usize,
    /// The description (`AI_CONTEXT_MAX_DESCRIPTION_BYTES`).
    pub max_description_bytes: usize,
    /// The triggering thread (`AI_CONTEXT_MAX_THREAD_BYTES`).
    pub max_thread_bytes: usize,
    /// One file's diff (`AI_CONTEXT_MAX_FILE_DIFF_BYTES`); larger ones are only listed.
    pub max_file_diff_bytes: usize,
    /// All diffs together (`AI_CONTEXT_MAX_DIFF_BYTES`).
    pub max_diff_bytes: usize,
    /// Other comments shown at most (`AI_CONTEXT_MAX_NOTES`), newest first.
    pub max_notes: usize,
    /// Failed jobs whose log is read at most (`AI_CONTEXT_MAX_FAILED_JOBS`); the others are
    /// listed with name, stage and failure reason.
    pub max_failed_jobs: usize,
    /// The end of one job's log shown at most, in bytes (`AI_CONTEXT_MAX_LOG_BYTES`).
    pub max_log_bytes: usize,
    /// ... and in lines (`AI_CONTEXT_MAX_LOG_LINES`).
    pub max_log_lines: usize,
}

impl Default for ContextBudget {
    /// About 40k tokens: room for the request and its surroundings while leaving most of the
    /// model's window to the work itself, which can read more with `git` and files.
    fn default() -> Self {
        Self {
            max_bytes: 160_000,
            max_description_bytes: 24_000,
            max_thread_bytes: 24_000,
            max_file_diff_bytes: 12_000,
            max_diff_bytes: 64_000,
            max_notes: 50,
            // A failure's cause is nearly always in the last screenful of its log; five jobs
            // of 8 kB stay within a quarter of the total.
            max_failed_jobs: 5,
            max_log_bytes: 8_000,
            max_log_lines: 100,
        }
    }
}

/// A budget variable is not a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is not a whole number of bytes (or items)")]
pub struct BudgetError {
    /// The variable.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
}

impl ContextBudget {
    /// The defaults, overridden by any `AI_CONTEXT_*` variable set.
    pub fn from_env(env: &dyn Env) -> Result<Self, BudgetError> {
        let mut budget = Self::default();
        let fields: [(&'static str, &mut usize); 9] = [
            (AI_CONTEXT_MAX_BYTES.name(), &mut budget.max_bytes),
            (
                AI_CONTEXT_MAX_DESCRIPTION_BYTES.name(),
                &mut budget.max_description_bytes,
            ),
            (
                AI_CONTEXT_MAX_THREAD_BYTES.name(),
                &mut budget.max_thread_bytes,
            ),
            (
                AI_CONTEXT_MAX_FILE_DIFF_BYTES.name(),
                &mut budget.max_file_diff_bytes,
            ),
            (AI_CONTEXT_MAX_DIFF_BYTES.name(), &mut budget.max_diff_bytes),
            (AI_CONTEXT_MAX_NOTES.name(), &mut budget.max_notes),
            (
                AI_CONTEXT_MAX_FAILED_JOBS.name(),
                &mut budget.max_failed_jobs,
            ),
            (AI_CONTEXT_MAX_LOG_BYTES.name(), &mut budget.max_log_bytes),
            (AI_CONTEXT_MAX_LOG_LINES.name(), &mut budget.max_log_lines),
        ];
        for (variable, field) in fields {
            if let Some(value) = env.set(variable) {
                *field = value.trim().parse().map_err(|_| BudgetError {
                    variable,
                    value: value.clone(),
                })?;
            }
        }
        Ok(budget)
    }
}

/// `text` cut to at most `max` bytes at a character boundary, with a visible marker when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    const MARK: &str = "\n[… truncated]";
    let mut cut = max.saturating_sub(MARK.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{MARK}", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::vars;

    #[test]
    fn variables_override_defaults() {
        let budget = ContextBudget::from_env(&vars(&[
            ("AI_CONTEXT_MAX_BYTES", "1000"),
            ("AI_CONTEXT_MAX_NOTES", " 3 "),
        ]))
        .unwrap();
        assert_eq!(budget.max_bytes, 1000);
        assert_eq!(budget.max_notes, 3);
        assert_eq!(
            budget.max_diff_bytes,
            ContextBudget::default().max_diff_bytes
        );
        let error = ContextBudget::from_env(&vars(&[("AI_CONTEXT_MAX_BYTES", "lots")]));
        assert_eq!(error.unwrap_err().variable, "AI_CONTEXT_MAX_BYTES");
    }

    #[test]
    fn truncation_respects_characters_and_marks_the_cut() {
        assert_eq!(truncate("short", 10), "short");
        let cut = truncate(&"é".repeat(100), 50);
        assert!(cut.len() <= 50 && cut.ends_with("[… truncated]"), "{cut}");
    }
}
