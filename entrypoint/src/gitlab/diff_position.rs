//! Where on a merge request diff a thread is anchored.
//! <https://docs.gitlab.com/api/discussions/#create-a-new-thread-in-the-merge-request-diff>

use serde::{Deserialize, Serialize};

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

/// One end of a multi-line range.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct LinePoint {
    /// `<sha1 of the path>_<old line>_<new line>`.
    pub line_code: String,
    /// Side of the diff; `null` for unchanged lines.
    #[serde(rename = "type")]
    pub line_type: Option<LineType>,
    /// Line in the old file, if the line exists there.
    pub old_line: Option<u32>,
    /// Line in the new file, if the line exists there.
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_line: Option<u32>,
    /// Line in the new file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_line: Option<u32>,
    /// For multi-line comments; absent on single-line positions and older GitLab versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_range: Option<LineRange>,
}
