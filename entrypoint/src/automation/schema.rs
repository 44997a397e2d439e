//! `AI_OUTPUT_SCHEMA`: the JSON Schema an automation run's final result must match.
//!
//! The schema goes to the CLI (Claude `--json-schema`, Codex `--output-schema`), which steers
//! the model towards it; the entrypoint then checks the result itself with the `jsonschema`
//! crate, because neither CLI guarantees one: Claude Code 2.1.331 ends a run successfully
//! without `structured_output` when the model answers in text instead of calling its
//! `StructuredOutput` tool, and Codex passes the schema to the API without checking the answer.
//! A result that is missing or does not match is a failed run, never a silently accepted one.
//!
//! The validator is built offline: a `$ref` to a URL or a file is refused rather than fetched
//! or read (the crate is built without its `resolve-http` and `resolve-file` features, and
//! [`jsonschema::ValidationOptions::offline`] is set), so a schema can make the job neither
//! reach the network nor read the job's files.

use serde_json::Value;

/// Largest schema accepted, in bytes: Claude gets it as one command-line argument, and Linux
/// refuses a single argument over 128 KiB (`MAX_ARG_STRLEN`).
pub(crate) const MAX_SCHEMA_BYTES: usize = 64 * 1024;

/// At most this many violations are named in the failure message.
const MAX_REPORTED: usize = 5;

/// `AI_OUTPUT_SCHEMA` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Not JSON.
    #[error(
        "AI_OUTPUT_SCHEMA{origin} is not JSON: {reason}. Set it to a JSON Schema object, or to the path of a .json file on the default branch"
    )]
    NotJson { origin: String, reason: String },
    /// Larger than [`MAX_SCHEMA_BYTES`].
    #[error(
        "AI_OUTPUT_SCHEMA{origin} is {size} bytes, more than the {MAX_SCHEMA_BYTES} bytes a schema may have; shorten it"
    )]
    TooLarge { origin: String, size: usize },
    /// The root is not an object schema.
    #[error(
        "AI_OUTPUT_SCHEMA{origin} must describe a JSON object (\"type\": \"object\" at its root): both CLIs return the structured result as an object"
    )]
    NotAnObject { origin: String },
    /// Not a valid JSON Schema, or it refers to something outside itself.
    #[error(
        "AI_OUTPUT_SCHEMA{origin} is not a usable JSON Schema: {reason}. External $ref (URLs, files) are not followed; inline them in the schema"
    )]
    Invalid { origin: String, reason: String },
}

/// Why a result was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    /// The assistant gave no JSON result at all.
    #[error("the assistant gave no structured result; AI_OUTPUT_SCHEMA asks for one: {detail}")]
    Missing { detail: String },
    /// It gave JSON that does not match.
    #[error("the assistant's result does not match AI_OUTPUT_SCHEMA: {violations}")]
    Mismatch { violations: String },
}

/// A checked, compiled output schema.
pub struct OutputSchema {
    /// The schema as given (compact JSON), for the CLIs.
    text: String,
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for OutputSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutputSchema")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

impl OutputSchema {
    /// Parses and compiles `text`; `origin` says where it came from for the messages (empty for
    /// the variable's own text, ` (the file docs/schema.json)` for a file).
    pub fn parse(text: &str, origin: &str) -> Result<Self, SchemaError> {
        let origin = origin.to_owned();
        if text.len() > MAX_SCHEMA_BYTES {
            return Err(SchemaError::TooLarge {
                origin,
                size: text.len(),
            });
        }
        let schema: Value = serde_json::from_str(text).map_err(|error| SchemaError::NotJson {
            origin: origin.clone(),
            reason: error.to_string(),
        })?;
        if schema.get("type").and_then(Value::as_str) != Some("object") {
            return Err(SchemaError::NotAnObject { origin });
        }
        let validator = jsonschema::options()
            .offline()
            .build(&schema)
            .map_err(|error| SchemaError::Invalid {
                origin: origin.clone(),
                reason: error.to_string(),
            })?;
        Ok(Self {
            text: schema.to_string(),
            validator,
        })
    }

    /// The schema as compact JSON text, as the CLIs get it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Checks a result; `Ok` with the value when it matches.
    pub fn check(&self, result: Option<Value>) -> Result<Value, ResultError> {
        let Some(value) = result else {
            return Err(ResultError::Missing {
                detail: "its final answer was not a JSON value".to_owned(),
            });
        };
        let violations: Vec<String> = self
            .validator
            .iter_errors(&value)
            .map(|error| {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() {
                    "/".to_owned()
                } else {
                    path
                };
                format!("at {at}: {error}")
            })
            .collect();
        if violations.is_empty() {
            return Ok(value);
        }
        let mut text = violations
            .iter()
            .take(MAX_REPORTED)
            .cloned()
            .collect::<Vec<_>>()
            .join("; ");
        if violations.len() > MAX_REPORTED {
            text.push_str(&format!("; and {} more", violations.len() - MAX_REPORTED));
        }
        Err(ResultError::Mismatch { violations: text })
    }
}

/// The structured result of a run: Claude's `structured_output` when it gave one, else the
/// final answer read as JSON (Codex's answer is the JSON text; a fenced ```json block is
/// accepted too, since models like to wrap JSON that way).
pub(crate) fn result_value(structured: Option<Value>, final_text: &str) -> Option<Value> {
    if structured.is_some() {
        return structured;
    }
    let text = final_text.trim();
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        return Some(value);
    }
    let inner = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))?
        .strip_suffix("```")?;
    serde_json::from_str(inner.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"{"type":"object","properties":{"outdated":{"type":"integer","minimum":0},"summary":{"type":"string"}},"required":["outdated","summary"],"additionalProperties":false}"#;

    #[test]
    fn a_matching_result_passes_and_a_mismatch_names_each_violation() {
        let schema = OutputSchema::parse(SCHEMA, "").unwrap();
        let good = json!({"outdated": 2, "summary": "two crates"});
        assert_eq!(schema.check(Some(good.clone())), Ok(good));
        let error = schema
            .check(Some(json!({"outdated": "two", "extra": true})))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("the assistant's result does not match AI_OUTPUT_SCHEMA: "),
            "{error}"
        );
        assert!(error.contains("at /outdated: "), "{error}");
        assert!(error.contains("summary"), "{error}");
        assert!(error.contains("extra"), "{error}");
        let missing = schema.check(None).unwrap_err();
        assert!(matches!(missing, ResultError::Missing { .. }));
    }

    #[test]
    fn unusable_schemas_are_refused_before_the_run_with_the_variable_named() {
        let not_json = OutputSchema::parse("{type: object}", " (the file s.json)").unwrap_err();
        assert!(
            not_json
                .to_string()
                .starts_with("AI_OUTPUT_SCHEMA (the file s.json) is not JSON")
        );
        let array = OutputSchema::parse(r#"{"type":"array"}"#, "").unwrap_err();
        assert!(matches!(array, SchemaError::NotAnObject { .. }));
        let bad = OutputSchema::parse(r#"{"type":"object","minProperties":"x"}"#, "").unwrap_err();
        assert!(matches!(bad, SchemaError::Invalid { .. }), "{bad}");
        let huge = format!(
            r#"{{"type":"object","description":"{}"}}"#,
            "x".repeat(MAX_SCHEMA_BYTES)
        );
        assert!(matches!(
            OutputSchema::parse(&huge, ""),
            Err(SchemaError::TooLarge { .. })
        ));
    }

    #[test]
    fn external_references_are_neither_fetched_nor_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("other.json");
        std::fs::write(&file, r#"{"type":"integer"}"#).unwrap();
        for target in [
            format!("file://{}", file.display()),
            "http://127.0.0.1:9/schema.json".to_owned(),
        ] {
            let schema =
                format!(r#"{{"type":"object","properties":{{"x":{{"$ref":"{target}"}}}}}}"#);
            let error = OutputSchema::parse(&schema, "").unwrap_err();
            assert!(
                matches!(error, SchemaError::Invalid { .. }),
                "{target}: {error}"
            );
        }
    }

    #[test]
    fn the_result_is_the_structured_output_or_the_answer_as_json() {
        let structured = json!({"a": 1});
        assert_eq!(
            result_value(Some(structured.clone()), "not json"),
            Some(structured)
        );
        assert_eq!(result_value(None, " {\"a\": 2} "), Some(json!({"a": 2})));
        assert_eq!(
            result_value(None, "```json\n{\"a\": 3}\n```"),
            Some(json!({"a": 3}))
        );
        assert_eq!(result_value(None, "Done: {\"a\": 4}"), None);
    }
}
