//! A wrapper for values that must never reach a log line, an error message or a posted note.

use std::fmt;

/// A secret string (a GitLab token, a model API key, a webhook secret).
///
/// `Debug` and `Display` print `***`, so a secret inside a config struct, an error or a
/// `tracing` field cannot leak by accident; the value is only reachable through [`Secret::expose`],
/// which makes every real use easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value. Leading and trailing whitespace is removed, because CI/CD variables pasted
    /// from a browser often carry a trailing newline that GitLab would then reject as a bad token.
    pub fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        let trimmed = value.trim();
        if trimmed.len() == value.len() {
            Self(value)
        } else {
            Self(trimmed.to_owned())
        }
    }

    /// The value itself, for the one place that must send it (an HTTP header, a child's stdin).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True for the empty string, which every caller treats as "not set".
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Secret::new("glpat-abcdefghijklmnop");
        assert_eq!(format!("{s:?}"), "***");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{:?}", Some(&s)), "Some(***)");
        assert_eq!(s.expose(), "glpat-abcdefghijklmnop");
    }

    #[test]
    fn surrounding_whitespace_is_dropped() {
        assert_eq!(Secret::new("  tok\n").expose(), "tok");
        assert!(Secret::new(" \n").is_empty());
    }
}
