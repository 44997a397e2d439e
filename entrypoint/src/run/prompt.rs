//! The prompt the assistant reads on stdin: the request, the context gathered from GitLab, and
//! for a merge request how to hand a review over. The project's own rules (`CLAUDE.md`,
//! `AGENTS.md`/`CODEX.md`) are read by the CLIs themselves from the checkout, so they are not
//! repeated here.

use std::fmt::Write as _;
use std::path::Path;

use crate::publish::review::handover_instructions;

/// What the prompt is made of.
#[derive(Clone, Copy, Debug)]
pub struct PromptParts<'a> {
    /// The request with the mentions removed; may be empty.
    pub instruction: &'a str,
    /// The rendered context section ([`crate::context::render`]).
    pub context: &'a str,
    /// For a merge request: where a review goes (outside the repository).
    pub review_file: Option<&'a Path>,
    /// The project's house instructions (`AI_EXTRA_INSTRUCTIONS`, see [`super::house`]).
    pub house: Option<&'a str>,
    /// For a merge request: `REVIEW.md` of its target branch, guidance for reviews only.
    pub review_rules: Option<&'a str>,
}

/// Builds the prompt.
pub fn build(parts: PromptParts<'_>) -> String {
    let mut prompt = String::from(
        "You are working in a CI job on a checkout of this GitLab project, because someone asked for you in a comment.\n\n## The request\n\n",
    );
    let instruction = parts.instruction.trim();
    if instruction.is_empty() {
        prompt.push_str(
            "The comment gives no instruction beyond the mention: work out from the context below what is being asked, and do it.\n",
        );
    } else {
        let _ = writeln!(prompt, "{instruction}");
    }
    let _ = write!(prompt, "\n## Context\n\n{}\n", parts.context.trim_end());
    if let Some(house) = parts.house.map(str::trim).filter(|h| !h.is_empty()) {
        let _ = write!(
            prompt,
            "\n## House instructions\n\nThe project's maintainers ask every run to follow these:\n\n{house}\n"
        );
    }
    if let Some(file) = parts.review_file {
        let _ = write!(
            prompt,
            "\n## Reviews\n\nIf you are asked to review this merge request, do not change files. Give each finding a severity: must_fix for bugs, security holes and data loss, should_fix for real problems worth fixing here, nit for style and small improvements. {}\n",
            handover_instructions(file)
        );
        if let Some(rules) = parts.review_rules {
            prompt.push_str(&crate::publish::review::rules_section(rules));
        }
    }
    prompt.push_str(
        "\n## Finishing\n\nChange files in the working tree when the request needs changes; the job commits them, pushes them and links them for the person who asked, so you need not commit or push. Do not print environment variables or credentials. End with a short answer or summary of what you did, addressed to the person who asked; it is posted as your reply.\n",
    );
    prompt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_instruction_asks_to_work_from_the_context() {
        let prompt = build(PromptParts {
            instruction: "  ",
            context: "# Issue #3: Crash on start",
            review_file: None,
            house: None,
            review_rules: Some("never shown without a review file"),
        });
        assert!(prompt.contains("work out from the context"));
        assert!(prompt.contains("# Issue #3: Crash on start"));
        assert!(!prompt.contains("## Reviews"));
        assert!(!prompt.contains("never shown"));
    }

    #[test]
    fn a_merge_request_prompt_names_the_review_file() {
        let file = Path::new("/tmp/ai-review-x/review.json");
        let prompt = build(PromptParts {
            instruction: "review this MR",
            context: "ctx",
            review_file: Some(file),
            house: Some("Answer in French."),
            review_rules: Some("Flag every unwrap."),
        });
        assert!(prompt.contains("review this MR"));
        assert!(
            prompt
                .contains("## Review rules (REVIEW.md of the target branch)\n\nFlag every unwrap.")
        );
        assert!(prompt.contains("/tmp/ai-review-x/review.json"));
        assert!(!prompt.contains("work out from the context"));
        assert!(prompt.contains("## House instructions"));
        assert!(prompt.contains("Answer in French."));
    }
}
