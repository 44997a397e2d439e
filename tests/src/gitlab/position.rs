//! Validation of a diff `position` when a merge request thread is started on a line
//! (<https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>).
//!
//! Grape first checks the shape (`position[base_sha] is missing`, `position[position_type] does
//! not have a valid value`). GitLab then looks the line up in the diff the shas describe:
//! an added line is addressed by `new_line` alone, a removed line by `old_line` alone, an
//! unchanged line by both; anything else leaves the note without a line code and the API
//! answers `400 Bad request - Note {:line_code=>["can't be blank", "must be a valid line
//! code"]}`. The double is stricter than GitLab in one respect: shas that are not the merge
//! request's current `diff_refs` are refused the same way instead of producing an outdated
//! comment, so a client that sends stale shas is caught.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::errors::{ApiError, ApiResult};
use super::json::DiffRefs;
use super::params::Params;
use super::repo::FileDiff;

const LINE_CODE_ERROR: &str =
    "Note {:line_code=>[\"can't be blank\", \"must be a valid line code\"]}";

fn line_code_error() -> ApiError {
    ApiError::BadRequest(LINE_CODE_ERROR.into())
}

/// `(old_line, new_line)` pairs of every line shown in a unified diff's hunks.
pub fn diff_lines(diff: &str) -> HashSet<(Option<u64>, Option<u64>)> {
    let mut lines = HashSet::new();
    let (mut old, mut new) = (0u64, 0u64);
    for line in diff.lines() {
        if let Some(header) = line.strip_prefix("@@ ") {
            let mut parts = header.split_whitespace();
            let start = |part: Option<&str>, sigil: char| {
                part.and_then(|p| p.strip_prefix(sigil))
                    .and_then(|p| p.split(',').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            old = start(parts.next(), '-');
            new = start(parts.next(), '+');
            continue;
        }
        match line.chars().next() {
            Some('+') => {
                lines.insert((None, Some(new)));
                new += 1;
            }
            Some('-') => {
                lines.insert((Some(old), None));
                old += 1;
            }
            Some(' ') => {
                lines.insert((Some(old), Some(new)));
                old += 1;
                new += 1;
            }
            _ => {}
        }
    }
    lines
}

fn line(params: &Params, name: &str) -> ApiResult<Option<u64>> {
    params
        .u64(name)
        .map_err(|_| ApiError::InvalidParam(format!("position[{name}]"), "is invalid"))
}

/// The position's shape as Grape checks it (`params :positional`): the required fields, a
/// known `position_type`, and line numbers that are numbers, returned as `(old_line,
/// new_line)`. The lines are not looked up in the diff here.
pub fn check_shape(position: &Params) -> ApiResult<(Option<u64>, Option<u64>)> {
    for name in ["base_sha", "start_sha", "head_sha", "position_type"] {
        if position.str(name).is_none() {
            return Err(ApiError::MissingParam(format!("position[{name}]")));
        }
    }
    let position_type = position.str("position_type").unwrap_or_default();
    if !["text", "image", "file"].contains(&position_type.as_str()) {
        return Err(ApiError::InvalidParam(
            "position[position_type]".into(),
            "does not have a valid value",
        ));
    }
    Ok((line(position, "old_line")?, line(position, "new_line")?))
}

/// Checks `position` against the merge request's `diff_refs` and diff and returns it as the
/// note will carry it.
pub fn validate(position: &Params, refs: &DiffRefs, diffs: &[FileDiff]) -> ApiResult<Value> {
    let (old_line, new_line) = check_shape(position)?;
    let position_type = position.str("position_type").unwrap_or_default();
    let shas_match = position.str("base_sha").as_deref() == Some(refs.base_sha.as_str())
        && position.str("start_sha").as_deref() == Some(refs.start_sha.as_str())
        && position.str("head_sha").as_deref() == Some(refs.head_sha.as_str());
    if !shas_match {
        return Err(line_code_error());
    }
    let new_path = position.str("new_path");
    let old_path = position.str("old_path");
    let file = diffs
        .iter()
        .find(|d| {
            new_path.as_deref() == Some(d.new_path.as_str())
                || (new_path.is_none() && old_path.as_deref() == Some(d.old_path.as_str()))
        })
        .ok_or_else(line_code_error)?;
    if position_type == "text" {
        if old_line.is_none() && new_line.is_none() {
            return Err(line_code_error());
        }
        if !diff_lines(&file.diff).contains(&(old_line, new_line)) {
            return Err(line_code_error());
        }
    }
    let mut value = json!({
        "base_sha": refs.base_sha,
        "start_sha": refs.start_sha,
        "head_sha": refs.head_sha,
        "old_path": old_path.unwrap_or_else(|| file.old_path.clone()),
        "new_path": new_path.unwrap_or_else(|| file.new_path.clone()),
        "position_type": position_type,
        "old_line": old_line,
        "new_line": new_line,
        "line_range": position.get("line_range").cloned(),
        "ignore_whitespace_change": false,
    });
    if position_type == "image"
        && let Value::Object(map) = &mut value
    {
        for name in ["width", "height", "x", "y"] {
            map.insert(
                name.into(),
                position
                    .u64(name)
                    .ok()
                    .flatten()
                    .map_or(Value::Null, Value::from),
            );
        }
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_lines_are_numbered_per_side() {
        let diff = "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n";
        let lines = diff_lines(diff);
        assert!(lines.contains(&(Some(1), Some(1))));
        assert!(lines.contains(&(Some(2), None)));
        assert!(lines.contains(&(None, Some(2))));
        assert!(lines.contains(&(Some(3), Some(3))));
        assert!(!lines.contains(&(None, Some(3))));
    }
}
