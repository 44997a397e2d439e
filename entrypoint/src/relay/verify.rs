//! Is a delivery from our GitLab? GitLab sends the webhook's secret token as it was entered, in
//! plain text, in `X-Gitlab-Token`; the relay compares it with each configured secret.
//! <https://docs.gitlab.com/user/project/integrations/webhooks/#create-a-webhook>
//!
//! Both sides are hashed first and the digests compared with [`subtle`], so neither the
//! secret's length nor the position of the first wrong byte shows in the response time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::secret::Secret;

/// The header GitLab puts the secret token in.
pub(crate) const TOKEN_HEADER: &str = "x-gitlab-token";

/// The configured secrets, kept as digests.
#[derive(Clone)]
pub struct TokenVerifier {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("secrets", &self.digests.len())
            .finish()
    }
}

impl TokenVerifier {
    /// Accepts any of `secrets` (several while one is being rotated).
    pub fn new(secrets: &[Secret]) -> Self {
        Self {
            digests: secrets
                .iter()
                .map(|s| digest(s.expose().as_bytes()))
                .collect(),
        }
    }

    /// True when `presented` (the header's raw bytes, `None` when absent) equals a secret. Every
    /// secret is compared, whichever matches, so the time does not say which one did.
    pub fn verify(&self, presented: Option<&[u8]>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let presented = digest(presented);
        self.digests
            .iter()
            .fold(subtle::Choice::from(0), |found, secret| {
                found | secret.ct_eq(&presented)
            })
            .into()
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_configured_secret_passes() {
        let verifier = TokenVerifier::new(&[Secret::new("old-secret"), Secret::new("new-secret")]);
        assert!(verifier.verify(Some(b"old-secret")));
        assert!(verifier.verify(Some(b"new-secret")));
        assert!(!verifier.verify(Some(b"new-secre")));
        assert!(!verifier.verify(Some(b"new-secret ")));
        assert!(!verifier.verify(Some(b"")));
        assert!(!verifier.verify(None));
        assert!(!format!("{verifier:?}").contains("secret\""));
    }
}
