//! Ordering and time filters shared by GitLab's list endpoints.

use chrono::{DateTime, SecondsFormat, Utc};

/// `order_by` values every list used here accepts (issues, merge requests, notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderBy {
    /// `created_at`.
    CreatedAt,
    /// `updated_at`.
    UpdatedAt,
}

impl OrderBy {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderBy::CreatedAt => "created_at",
            OrderBy::UpdatedAt => "updated_at",
        }
    }
}

/// `sort` direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    /// `asc`: oldest first.
    Asc,
    /// `desc`: newest first (GitLab's default).
    Desc,
}

impl Sort {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Asc => "asc",
            Sort::Desc => "desc",
        }
    }
}

/// A timestamp as GitLab's `*_after`/`*_before` filters take it (ISO 8601, UTC).
pub(crate) fn iso8601(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Appends `order_by` and `sort` when set.
pub(crate) fn push_order(
    query: &mut Vec<(&'static str, String)>,
    order_by: Option<OrderBy>,
    sort: Option<Sort>,
) {
    if let Some(order_by) = order_by {
        query.push(("order_by", order_by.as_str().to_owned()));
    }
    if let Some(sort) = sort {
        query.push(("sort", sort.as_str().to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_are_utc_iso8601() {
        let at = Utc.with_ymd_and_hms(2026, 11, 25, 6, 40, 57).unwrap();
        assert_eq!(iso8601(at), "2026-11-25T06:40:57Z");
    }
}
