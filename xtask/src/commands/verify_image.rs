//! `cargo xtask verify-image IMAGE --key cosign.pub`: checks that a published image (or index,
//! and then every platform image in it) is signed with the key and carries a signed SBOM and
//! provenance naming exactly the manifest the reference resolves to now. Users can check the
//! same with the standard tool: `cosign verify --key cosign.pub IMAGE` and
//! `cosign verify-attestation --key cosign.pub --type spdxjson IMAGE` (see images/README.md).
//!
//! Keyless: `--certificate-identity ID --certificate-oidc-issuer URL` (cosign's flag names)
//! accept a signature whose Fulcio certificate chains to the public Sigstore root (or the roots in
//! `--fulcio-root PEM`) and names exactly that identity and issuer (see [`crate::supply_chain::keyless`]).
//!
//! `--generate-key DIR` writes a new key pair (`cosign.key`, PKCS#8; `cosign.pub`, SPKI) for
//! local signing and tests.

use std::path::PathBuf;

use ai_core::Secret;
use anyhow::{Context, bail};
use clap::Parser;

use crate::registry::{Credentials, RegistryClient, Repository};
use crate::supply_chain::keyless::{KeylessPolicy, PUBLIC_FULCIO_ROOT};
use crate::supply_chain::signing::{PublicKey, SigningKey};
use crate::supply_chain::{self, Verifier};

/// Flags of `cargo xtask verify-image`.
#[derive(Debug, Parser)]
pub struct Args {
    /// The image: `HOST/PATH:TAG` or `HOST/PATH@sha256:…`.
    #[arg(required_unless_present = "generate_key")]
    image: Option<String>,
    /// The public key (SPKI PEM, as `cosign.pub`).
    #[arg(
        long,
        env = "IMAGE_SIGNING_PUBLIC_KEY_FILE",
        value_name = "PEM",
        conflicts_with = "certificate_identity"
    )]
    key: Option<PathBuf>,
    /// Keyless: the identity the signing certificate must name (its SAN), e.g.
    /// `https://gitlab.com/GROUP/PROJECT//.gitlab-ci.yml@refs/tags/v1.0.0`.
    #[arg(long, value_name = "ID", requires = "certificate_oidc_issuer")]
    certificate_identity: Option<String>,
    /// Keyless: the OIDC issuer the certificate must name, e.g. `https://gitlab.com`.
    #[arg(long, value_name = "URL", requires = "certificate_identity")]
    certificate_oidc_issuer: Option<String>,
    /// Keyless: trust the Fulcio roots in this PEM file instead of the public Sigstore root.
    #[arg(long, value_name = "PEM", requires = "certificate_identity")]
    fulcio_root: Option<PathBuf>,
    /// Registry user, for private registries.
    #[arg(long, env = "CI_REGISTRY_USER")]
    registry_user: Option<String>,
    /// Registry password or token.
    #[arg(long, env = "CI_REGISTRY_PASSWORD", hide_env_values = true)]
    registry_password: Option<String>,
    /// Instead of verifying, write a new key pair (cosign.key, cosign.pub) into DIR.
    #[arg(long, value_name = "DIR", conflicts_with = "image")]
    generate_key: Option<PathBuf>,
}

/// Verifies, or generates a key pair.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(dir) = &args.generate_key {
        return generate(dir);
    }
    let image = args.image.clone().context("name the image to verify")?;
    let verifier = verifier(&args)?;
    let (repository, reference) = split_reference(&image)?;
    let credentials = match (args.registry_user, args.registry_password) {
        (Some(username), Some(password)) => Some(Credentials {
            username,
            password: Secret::new(password),
        }),
        _ => None,
    };
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = RegistryClient::new(Repository::parse(&repository)?, credentials)?;
        let verified = supply_chain::verify(&client, &reference, &verifier).await?;
        for image in &verified {
            println!(
                "ok {repository}@{}: signed with {}, SBOM of {} packages, provenance of revision {}",
                image.digest,
                verifier.describe(),
                image.sbom_packages,
                image.revision
            );
        }
        Ok(())
    })
}

/// The key, or the keyless policy, the flags ask for.
fn verifier(args: &Args) -> anyhow::Result<Verifier> {
    if let (Some(identity), Some(issuer)) =
        (&args.certificate_identity, &args.certificate_oidc_issuer)
    {
        let roots = match &args.fulcio_root {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the Fulcio roots {}", path.display()))?,
            None => PUBLIC_FULCIO_ROOT.to_owned(),
        };
        return Ok(Verifier::Keyless(KeylessPolicy::new(
            &roots, identity, issuer,
        )?));
    }
    let key_path = args.key.as_ref().context(
        "no public key: pass --key cosign.pub or set IMAGE_SIGNING_PUBLIC_KEY_FILE (the project publishes its key beside the images, see images/README.md), or --certificate-identity and --certificate-oidc-issuer for a keyless signature",
    )?;
    let text = std::fs::read_to_string(key_path)
        .with_context(|| format!("cannot read the public key {}", key_path.display()))?;
    Ok(Verifier::Key(PublicKey::from_pem(
        &text,
        &key_path.display().to_string(),
    )?))
}

/// `host/path:tag` → (`host/path`, `tag`); `host/path@sha256:…` → (`host/path`, digest).
fn split_reference(image: &str) -> anyhow::Result<(String, String)> {
    if let Some((repository, digest)) = image.split_once('@') {
        return Ok((repository.to_owned(), digest.to_owned()));
    }
    let slash = image.rfind('/').unwrap_or(0);
    match image[slash..].rfind(':') {
        Some(colon) => Ok((
            image[..slash + colon].to_owned(),
            image[slash + colon + 1..].to_owned(),
        )),
        None => {
            bail!("{image:?} names no tag or digest: write HOST/PATH:TAG or HOST/PATH@sha256:…")
        }
    }
}

fn generate(dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let key = SigningKey::generate()?;
    let private = dir.join("cosign.key");
    if private.exists() {
        bail!(
            "{} exists; not overwriting a signing key",
            private.display()
        );
    }
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&private)
            .with_context(|| format!("cannot create {}", private.display()))?;
        file.write_all(key.to_pem()?.as_bytes())?;
    }
    std::fs::write(dir.join("cosign.pub"), key.public_key().to_pem())?;
    eprintln!(
        "wrote {} (keep it secret) and {} (key {})",
        private.display(),
        dir.join("cosign.pub").display(),
        key.public_key().fingerprint()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_into_repository_and_tag_or_digest() {
        assert_eq!(
            split_reference("127.0.0.1:5000/gitlab-ai/claude:1.0.0").unwrap(),
            ("127.0.0.1:5000/gitlab-ai/claude".into(), "1.0.0".into())
        );
        assert_eq!(
            split_reference("registry.example.com/g/p/codex@sha256:ab").unwrap(),
            ("registry.example.com/g/p/codex".into(), "sha256:ab".into())
        );
        assert!(split_reference("127.0.0.1:5000/gitlab-ai/claude").is_err());
    }

    #[test]
    fn the_flags_choose_a_key_or_a_keyless_policy_and_name_both_when_missing() {
        let parse = |flags: &[&str]| {
            Args::try_parse_from(
                ["verify-image", "127.0.0.1:5000/g/claude:1.0.0"]
                    .iter()
                    .chain(flags),
            )
        };
        let dir = tempfile::tempdir().unwrap();
        let roots = dir.path().join("roots.pem");
        std::fs::write(&roots, crate::supply_chain::keyless::PUBLIC_FULCIO_ROOT).unwrap();
        let args = parse(&[
            "--certificate-identity",
            "https://gitlab.com/g/p//.gitlab-ci.yml@refs/tags/v1.0.0",
            "--certificate-oidc-issuer",
            "https://gitlab.com",
            "--fulcio-root",
            roots.to_str().unwrap(),
        ])
        .unwrap();
        let Verifier::Keyless(policy) = verifier(&args).unwrap() else {
            panic!("keyless flags give a keyless policy");
        };
        assert_eq!(policy.issuer, "https://gitlab.com");
        assert_eq!(policy.roots.len(), 1);
        // One without the other is refused by the parser.
        assert!(parse(&["--certificate-identity", "x"]).is_err());
        assert!(parse(&["--certificate-oidc-issuer", "https://gitlab.com"]).is_err());

        let key = dir.path().join("cosign.pub");
        std::fs::write(&key, SigningKey::generate().unwrap().public_key().to_pem()).unwrap();
        let args = parse(&["--key", key.to_str().unwrap()]).unwrap();
        assert!(matches!(verifier(&args).unwrap(), Verifier::Key(_)));

        if std::env::var_os("IMAGE_SIGNING_PUBLIC_KEY_FILE").is_none() {
            let err = verifier(&parse(&[]).unwrap()).unwrap_err().to_string();
            assert!(
                err.contains("--key") && err.contains("--certificate-identity"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_generated_key_pair_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        generate(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join("cosign.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
        let key = SigningKey::from_pem(
            &std::fs::read_to_string(dir.path().join("cosign.key")).unwrap(),
            "k",
        )
        .unwrap();
        let public = PublicKey::from_pem(
            &std::fs::read_to_string(dir.path().join("cosign.pub")).unwrap(),
            "p",
        )
        .unwrap();
        assert_eq!(key.public_key(), public);
        assert!(generate(dir.path()).is_err());
    }
}
