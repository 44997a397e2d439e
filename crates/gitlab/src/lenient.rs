//! Reading what GitLab really returns, not what its newest docs promise.
//!
//! Records in GitLab's lists come from many versions and many writers: a diff note left by
//! another tool, or stored by a GitLab release that wrote `line_range` lines as strings
//! (`lib/api/entities/position.rb` exposes whatever was stored), must not make the whole
//! discussions list undecodable, or every scan and run on that merge request fails. The rule:
//! one odd record costs that record at most (see [`decode_items`]), and an odd optional part of a
//! record costs that part only (see [`optional`]).

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::Value;

/// `deserialize_with` for an optional field whose shape varies between GitLab versions: a value
/// that does not decode becomes `None` (and a warning) instead of failing the whole record.
pub fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = Value::deserialize(deserializer)?;
    if value.is_null() {
        return Ok(None);
    }
    match serde_json::from_value(value) {
        Ok(decoded) => Ok(Some(decoded)),
        Err(error) => {
            tracing::warn!(%error, "ignoring a field GitLab sent in a shape this version cannot read");
            Ok(None)
        }
    }
}

/// `deserialize_with` for a line number GitLab sends as a number, or (positions stored by older
/// versions) as a string; `null` and `""` mean "no such line".
pub fn line_number<'de, D>(deserializer: D) -> Result<Option<u32>, D::Error>
where
    D: Deserializer<'de>,
{
    match Value::deserialize(deserializer)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| D::Error::custom(format!("line number {n} is out of range"))),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| D::Error::custom(format!("line number {s:?} is not a number"))),
        other => Err(D::Error::custom(format!(
            "line number must be a number or a string, not {other}"
        ))),
    }
}

/// Decodes each item of a list on its own; an item that does not decode is logged (with
/// `what`, the endpoint path) and left out, so the rest of the list still arrives.
pub fn decode_items<T: DeserializeOwned>(items: Vec<Value>, what: &str) -> Vec<T> {
    items
        .into_iter()
        .enumerate()
        .filter_map(|(index, item)| match serde_json::from_value(item) {
            Ok(decoded) => Some(decoded),
            Err(error) => {
                tracing::warn!(path = what, index, %error, "skipping a list item GitLab sent in a shape this version cannot read");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        id: u64,
    }

    #[test]
    fn one_odd_item_costs_only_that_item() {
        let items = serde_json::from_str(r#"[{"id": 1}, {"id": "two"}, {"id": 3}]"#).unwrap();
        let decoded: Vec<Item> = decode_items(items, "/things");
        assert_eq!(decoded, vec![Item { id: 1 }, Item { id: 3 }]);
    }
}
