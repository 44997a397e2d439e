//! GitLab's rules for masked CI/CD variables, checked before anything is written so a bad key
//! fails the run up front with a message that names the rule, not halfway with GitLab's terse
//! `value is invalid`.
//!
//! The rules (`Ci::Maskable::REGEX`, <https://docs.gitlab.com/ci/variables/#mask-a-cicd-variable>):
//! one line, at least 8 characters, only the Base64 alphabet (`A-Z a-z 0-9 + / =`, plus `-` and
//! `_` of the URL-safe variant) and `@ : . ~`.

use crate::secret::Secret;

/// A secret GitLab will accept as a masked variable's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaskableSecret(Secret);

/// Why a value cannot be masked; never includes the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MaskError {
    /// Empty input.
    #[error("{name} is empty")]
    Empty {
        /// The variable.
        name: String,
    },
    /// Fewer than 8 characters.
    #[error(
        "{name} is {length} characters long; GitLab masks only values of at least 8 characters"
    )]
    TooShort {
        /// The variable.
        name: String,
        /// Its length.
        length: usize,
    },
    /// A character outside the allowed set (position only, never the character).
    #[error(
        "{name} has a character GitLab cannot mask at position {position}: masked values may only use A-Z a-z 0-9 and + / = - _ @ : . ~ (no spaces or line breaks)"
    )]
    Charset {
        /// The variable.
        name: String,
        /// 1-based character position.
        position: usize,
    },
}

/// Characters allowed besides ASCII letters and digits.
const EXTRA: &str = "+/=-_@:.~";
/// Minimum length of a masked value.
pub(crate) const MIN_LENGTH: usize = 8;

impl MaskableSecret {
    /// Checks `value` against the masking rules; `name` says which variable in errors.
    pub fn new(name: &str, value: Secret) -> Result<Self, MaskError> {
        let text = value.expose();
        if text.is_empty() {
            return Err(MaskError::Empty { name: name.into() });
        }
        if let Some(position) = text
            .chars()
            .position(|c| !(c.is_ascii_alphanumeric() || EXTRA.contains(c)))
        {
            return Err(MaskError::Charset {
                name: name.into(),
                position: position + 1,
            });
        }
        let length = text.chars().count();
        if length < MIN_LENGTH {
            return Err(MaskError::TooShort {
                name: name.into(),
                length,
            });
        }
        Ok(Self(value))
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_real_key_shapes() {
        for key in [
            "sk-ant-api03-abcDEF_123-xyz",
            "sk-proj-AbC123+/=",
            "glpat-0123456789abcdef",
        ] {
            assert!(MaskableSecret::new("K", Secret::new(key)).is_ok(), "{key}");
        }
    }

    #[test]
    fn refuses_without_echoing_the_value() {
        let short = MaskableSecret::new("CLAUDE_API_KEY", Secret::new("abc123")).unwrap_err();
        assert!(matches!(short, MaskError::TooShort { length: 6, .. }));
        let bad =
            MaskableSecret::new("CLAUDE_API_KEY", Secret::new("secret with$dollar")).unwrap_err();
        assert_eq!(
            bad,
            MaskError::Charset {
                name: "CLAUDE_API_KEY".into(),
                position: 7
            }
        );
        assert!(!bad.to_string().contains("secret"));
        assert!(MaskableSecret::new("K", Secret::new("")).is_err());
    }
}
