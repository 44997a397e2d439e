//! Where on a merge request diff a thread is anchored.
//! <https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>

use serde::{Deserialize, Serialize};

use super::lenient::line_number;

/// `position_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionType {
    /// A line of a text diff.
    Text,
    /// A point on an image.
    Image,
    /// A whole file.
    File,
    /// A kind GitLab may add that this client does not know; read only, never worth sending.
    #[serde(other)]
    Unknown,
}

/// Which side of the diff a line belongs to, in a [`LineRange`] end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineType {
    /// The new (added) side.
    New,
    /// The old (removed) side.
    Old,
    /// A kind GitLab may add that this client does not know; read only, never worth sending.
    #[serde(other)]
    Other,
}

/// One end of a multi-line range. GitLab documents `line_code` as optional, and versions before
/// the line-range API settled stored `old_line`/`new_line` here as strings
/// (<https://docs.gitlab.com/api/discussions/#parameters-for-multiline-comments>).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LinePoint {
    /// `<sha1 of the path>_<old line>_<new line>`; optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_code: Option<String>,
    /// Side of the diff; `null` for unchanged lines.
    #[serde(rename = "type")]
    pub line_type: Option<LineType>,
    /// Line in the old file, if the line exists there.
    #[serde(default, deserialize_with = "line_number")]
    pub old_line: Option<u32>,
    /// Line in the new file, if the line exists there.
    #[serde(default, deserialize_with = "line_number")]
    pub new_line: Option<u32>,
}

/// A multi-line selection.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LineRange {
    /// First line.
    pub start: LinePoint,
    /// Last line.
    pub end: LinePoint,
}

/// A diff position. The SHAs come from the merge request's `diff_refs`. An added line has only
/// `new_line`, a removed line only `old_line`, an unchanged line needs both.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct DiffPosition {
    /// Text, image or file.
    pub position_type: PositionType,
    /// `diff_refs.base_sha`.
    pub base_sha: String,
    /// `diff_refs.start_sha`.
    pub start_sha: String,
    /// `diff_refs.head_sha`.
    pub head_sha: String,
    /// Path before the change.
    pub old_path: String,
    /// Path after the change.
    pub new_path: String,
    /// Line in the old file.
    #[serde(
        default,
        deserialize_with = "line_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub old_line: Option<u32>,
    /// Line in the new file.
    #[serde(
        default,
        deserialize_with = "line_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub new_line: Option<u32>,
    /// For multi-line comments; absent on single-line positions and older GitLab versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_range: Option<LineRange>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A multi-line diff note as another tool (or an older GitLab) left it: no `line_code`, the
    /// lines as strings, a `position_type` this client does not know.
    const FOREIGN: &str = r#"{
      "base_sha": "b", "start_sha": "s", "head_sha": "h",
      "old_path": "a.rs", "new_path": "a.rs", "position_type": "text",
      "old_line": null, "new_line": "12",
      "line_range": {
        "start": {"type": "new", "old_line": null, "new_line": "10"},
        "end": {"line_code": null, "type": "new", "old_line": "", "new_line": 12}
      }
    }"#;

    #[test]
    fn optional_and_retyped_line_range_fields_decode() {
        let position: DiffPosition = serde_json::from_str(FOREIGN).unwrap();
        assert_eq!(position.new_line, Some(12));
        let range = position.line_range.unwrap();
        assert_eq!(range.start.line_code, None);
        assert_eq!(range.start.new_line, Some(10));
        assert_eq!(range.end.old_line, None);
        assert_eq!(range.end.new_line, Some(12));
    }

    #[test]
    fn unknown_position_types_decode() {
        let json = FOREIGN.replace(r#""position_type": "text""#, r#""position_type": "pdf""#);
        let position: DiffPosition = serde_json::from_str(&json).unwrap();
        assert_eq!(position.position_type, PositionType::Unknown);
    }

    #[test]
    fn line_numbers_that_are_not_numbers_fail() {
        let json = FOREIGN.replace(r#""new_line": "12""#, r#""new_line": "twelve""#);
        assert!(serde_json::from_str::<DiffPosition>(&json).is_err());
    }
}
