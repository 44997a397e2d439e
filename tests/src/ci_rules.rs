//! The subset of GitLab's CI/CD variable expressions that this project's pipelines use, for tests
//! that decide which jobs a pipeline would contain
//! (<https://docs.gitlab.com/ci/jobs/job_rules/#cicd-variable-expressions>): `$VAR` (set and
//! non-empty), `$VAR == "x"`, `$VAR != "x"`, `$VAR == $OTHER`, `$VAR == null` (unset),
//! `$VAR =~ /regex/` (RE2 syntax, which the `regex` crate shares for what the templates use;
//! false when the variable is unset), joined by `&&` (binding tighter) and `||`. An unset
//! variable equals nothing. Anything else is refused loudly rather than guessed.

use std::collections::BTreeMap;

/// The variables of one pipeline.
pub type Vars = BTreeMap<String, String>;

/// A pipeline's variables from `(name, value)` pairs.
pub fn vars(pairs: &[(&str, &str)]) -> Vars {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn operand(text: &str, vars: &Vars) -> Option<String> {
    let text = text.trim();
    if let Some(name) = text.strip_prefix('$') {
        return vars.get(name).cloned();
    }
    let literal = text
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .unwrap_or_else(|| panic!("a quoted literal or a $VARIABLE, not {text:?}"));
    Some(literal.to_owned())
}

fn atom(text: &str, vars: &Vars) -> bool {
    let text = text.trim();
    if let Some((left, right)) = text.split_once("=~") {
        let pattern = right
            .trim()
            .strip_prefix('/')
            .and_then(|p| p.strip_suffix('/'))
            .unwrap_or_else(|| panic!("a /regex/ without flags, not {right:?}"));
        let regex = regex::Regex::new(pattern).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        return operand(left, vars).is_some_and(|value| regex.is_match(&value));
    }
    if let Some((left, right)) = text.split_once("==")
        && right.trim() == "null"
    {
        return operand(left, vars).is_none();
    }
    if let Some((left, right)) = text.split_once("!=") {
        operand(left, vars) != operand(right, vars)
    } else if let Some((left, right)) = text.split_once("==") {
        let (left, right) = (operand(left, vars), operand(right, vars));
        left.is_some() && left == right
    } else {
        let name = text
            .strip_prefix('$')
            .unwrap_or_else(|| panic!("a $VARIABLE, not {text:?}"));
        vars.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// Evaluates an `if:` expression.
pub fn expression(text: &str, vars: &Vars) -> bool {
    assert!(
        !text.contains('('),
        "the evaluator has no parentheses: {text}"
    );
    assert!(!text.contains("!~"), "the evaluator has no !~: {text}");
    text.split("||")
        .any(|all| all.split("&&").all(|a| atom(a, vars)))
}

/// One entry of `rules:`.
#[derive(Clone, Copy, Debug)]
pub struct Rule<'a> {
    /// Its `if:`; `None` matches every pipeline.
    pub condition: Option<&'a str>,
    /// Its `when:`; `None` is `on_success`.
    pub when: Option<&'a str>,
}

/// The `when` a job gets from its rules: the first rule that matches decides, `when: never`
/// and no match leave the job out (`None`) (<https://docs.gitlab.com/ci/yaml/#rules>).
pub fn decide(rules: &[Rule<'_>], vars: &Vars) -> Option<String> {
    let rule = rules
        .iter()
        .find(|r| r.condition.is_none_or(|c| expression(c, vars)))?;
    match rule.when.unwrap_or("on_success") {
        "never" => None,
        when => Some(when.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_and_precedence_follow_gitlab() {
        let v = vars(&[
            ("CI_PIPELINE_SOURCE", "push"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_DEFAULT_BRANCH", "main"),
        ]);
        assert!(expression("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", &v));
        assert!(!expression("$CI_COMMIT_TAG == $CI_DEFAULT_BRANCH", &v));
        assert!(expression("$CI_COMMIT_TAG != \"v1\"", &v));
        assert!(expression(
            "$CI_COMMIT_TAG || $CI_PIPELINE_SOURCE == \"push\" && $CI_COMMIT_BRANCH",
            &v
        ));
        assert!(!expression("$CI_COMMIT_TAG", &v));
        assert!(expression("$CI_COMMIT_TAG == null", &v));
        assert!(!expression("$CI_COMMIT_BRANCH == null", &v));
        assert!(expression("$CI_COMMIT_BRANCH =~ /^ma[a-z]+$/", &v));
        assert!(!expression("$CI_COMMIT_BRANCH =~ /^x/", &v));
        assert!(!expression("$CI_COMMIT_TAG =~ /.*/", &v));
        let rules = [
            Rule {
                condition: Some("$CI_PIPELINE_SOURCE == \"schedule\""),
                when: Some("never"),
            },
            Rule {
                condition: None,
                when: None,
            },
        ];
        assert_eq!(decide(&rules, &v).as_deref(), Some("on_success"));
        let schedule = vars(&[("CI_PIPELINE_SOURCE", "schedule")]);
        assert_eq!(decide(&rules, &schedule), None);
    }
}
