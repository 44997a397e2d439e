//! Request parameters merged the way Grape (GitLab's API framework) sees them: query string,
//! then a JSON or form-encoded body, with form keys in bracket notation (`variables[KEY]=v`,
//! `position[base_sha]=…`, `labels[]=a`) folded into nested objects and arrays.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

use super::errors::{ApiError, ApiResult};

#[derive(Clone, Debug, Default)]
pub struct Params {
    values: Map<String, Value>,
}

impl Params {
    pub fn parse(query: Option<&str>, headers: &HeaderMap, body: &[u8]) -> ApiResult<Params> {
        let mut values = Map::new();
        if let Some(query) = query {
            insert_form(&mut values, query.as_bytes());
        }
        if !body.is_empty() {
            let content_type = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(object)) => values.extend(object),
                    Ok(_) | Err(_) => {
                        return Err(ApiError::Message(
                            axum::http::StatusCode::BAD_REQUEST,
                            Value::from(
                                "400 Bad request - The provided content-type 'application/json' is not supported or the body is not valid JSON.",
                            ),
                        ));
                    }
                }
            } else if content_type.starts_with("application/x-www-form-urlencoded")
                || content_type.is_empty()
            {
                insert_form(&mut values, body);
            }
        }
        Ok(Params { values })
    }

    pub fn from_value(value: Value) -> Params {
        match value {
            Value::Object(values) => Params { values },
            _ => Params::default(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name).filter(|v| !v.is_null())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.get(name).and_then(scalar_string)
    }

    pub fn required_str(&self, name: &str) -> ApiResult<String> {
        self.str(name).ok_or_else(|| ApiError::missing(name))
    }

    /// Grape's Boolean coercion: `true`/`false`, `1`/`0`, `yes`/`no` and friends.
    pub fn bool(&self, name: &str) -> ApiResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(value) => match scalar_string(value).as_deref() {
                Some("true" | "1" | "yes" | "t" | "y" | "on") => Ok(Some(true)),
                Some("false" | "0" | "no" | "f" | "n" | "off") => Ok(Some(false)),
                _ => Err(ApiError::InvalidParam(name.to_string(), "is invalid")),
            },
        }
    }

    /// For an update: sets `field` to the Boolean `name` when the request sends it, and leaves
    /// it as it is when it does not.
    pub fn update_bool(&self, name: &str, field: &mut bool) -> ApiResult<()> {
        if let Some(value) = self.bool(name)? {
            *field = value;
        }
        Ok(())
    }

    /// For an update: sets `field` to the string `name` when the request sends it.
    pub fn update_str(&self, name: &str, field: &mut String) {
        if let Some(value) = self.str(name) {
            *field = value;
        }
    }

    pub fn u64(&self, name: &str) -> ApiResult<Option<u64>> {
        match self.get(name) {
            None => Ok(None),
            Some(value) => scalar_string(value)
                .and_then(|s| s.parse().ok())
                .map(Some)
                .ok_or_else(|| ApiError::InvalidParam(name.to_string(), "is invalid")),
        }
    }

    /// Labels as GitLab takes them: a comma-separated string or an array.
    pub fn labels(&self, name: &str) -> Option<Vec<String>> {
        match self.get(name)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(scalar_string)
                    .flat_map(|s| split_labels(&s))
                    .collect(),
            ),
            value => scalar_string(value).map(|s| split_labels(&s)),
        }
    }

    pub fn nested(&self, name: &str) -> Option<Params> {
        match self.get(name)? {
            Value::Object(values) => Some(Params {
                values: values.clone(),
            }),
            _ => None,
        }
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.values)
    }
}

fn split_labels(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn insert_form(values: &mut Map<String, Value>, raw: &[u8]) {
    for (key, value) in url::form_urlencoded::parse(raw) {
        let mut segments = Vec::new();
        let (head, mut rest) = match key.find('[') {
            Some(i) => (&key[..i], &key[i..]),
            None => (&key[..], ""),
        };
        segments.push(head.to_string());
        while let Some(stripped) = rest.strip_prefix('[') {
            match stripped.find(']') {
                Some(end) => {
                    segments.push(stripped[..end].to_string());
                    rest = &stripped[end + 1..];
                }
                None => break,
            }
        }
        insert_path(values, &segments, Value::String(value.into_owned()));
    }
}

fn insert_path(values: &mut Map<String, Value>, segments: &[String], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    if rest.is_empty() {
        values.insert(first.clone(), value);
        return;
    }
    if rest.len() == 1 && rest[0].is_empty() {
        let slot = values
            .entry(first.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(items) = slot {
            items.push(value);
        } else {
            *slot = Value::Array(vec![value]);
        }
        return;
    }
    let slot = values
        .entry(first.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        insert_path(inner, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracket_keys_become_nested_objects_and_arrays() {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let params = Params::parse(
            Some("token=t"),
            &headers,
            b"variables[AI_NOTE_ID]=42&position[line_range][start][new_line]=3&labels[]=a&labels[]=b",
        )
        .unwrap();
        assert_eq!(params.str("token").as_deref(), Some("t"));
        let vars = params.nested("variables").unwrap();
        assert_eq!(vars.str("AI_NOTE_ID").as_deref(), Some("42"));
        let start = params
            .nested("position")
            .and_then(|p| p.nested("line_range"))
            .and_then(|p| p.nested("start"))
            .unwrap();
        assert_eq!(start.str("new_line").as_deref(), Some("3"));
        assert_eq!(params.labels("labels").unwrap(), vec!["a", "b"]);
    }
}
