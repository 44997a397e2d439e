//! The release job as the keyless tests and the end-to-end scenario see it: GitLab's OIDC issuer
//! (a double), a Fulcio double that trusts it, and the tag pipeline of the release, whose ID
//! token Fulcio certifies, as the release pipeline's `id_tokens` are in CI.

use crate::supply_chain::keyless::{KeylessError, KeylessPolicy};
use ai_core::Secret;
use doubles::sigstore::{FulcioDouble, GitLabJob, OidcIssuer};

/// GitLab's issuer, Fulcio and the release's tag job, started together.
pub(crate) struct ReleaseJob {
    /// The `https://gitlab.com` issuer that signs the job's ID token.
    pub(crate) gitlab: OidcIssuer,
    /// A Fulcio that certifies tokens of `gitlab`.
    pub(crate) fulcio: FulcioDouble,
    /// The tag pipeline `v<version>` of `gitlab-ai/gitlab-ai`.
    pub(crate) job: GitLabJob,
}

impl ReleaseJob {
    /// Starts the issuer and Fulcio for the release `version` (without the `v`).
    pub(crate) fn start(version: &str) -> anyhow::Result<Self> {
        let gitlab = OidcIssuer::new("https://gitlab.com")?;
        let fulcio = FulcioDouble::start(&[&gitlab])?;
        let job = GitLabJob {
            project_path: "gitlab-ai/gitlab-ai".into(),
            git_ref: format!("v{version}"),
            ref_type: "tag".into(),
        };
        Ok(Self {
            gitlab,
            fulcio,
            job,
        })
    }

    /// The job's ID token (`SIGSTORE_ID_TOKEN` in the release pipeline).
    pub(crate) fn id_token(&self) -> anyhow::Result<Secret> {
        Ok(Secret::new(self.gitlab.gitlab_token(&self.job)?))
    }

    /// What a user verifies the release with: Fulcio's root, the job's identity on gitlab.com
    /// and GitLab's issuer (`cosign verify --certificate-identity … --certificate-oidc-issuer …`).
    pub(crate) fn policy(&self) -> Result<KeylessPolicy, KeylessError> {
        KeylessPolicy::new(
            &self.fulcio.root_pem,
            &self.job.identity("gitlab.com"),
            "https://gitlab.com",
        )
    }
}
