//! The pinned CLI versions, read from `images/images.toml`: the one place a version is set, so
//! the end-to-end tests drive exactly the CLIs the images ship.

use serde::Deserialize;

/// The images' manifest, compiled in so tests need no path to the source tree at run time.
const MANIFEST: &str = include_str!("../../../../images/images.toml");

/// An assistant CLI distributed on npm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cli {
    Claude,
    Codex,
}

impl Cli {
    pub fn name(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
        }
    }
}

/// An npm package at an exact version.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Pin {
    pub package: String,
    pub version: String,
}

/// The part of `images/images.toml` the tests read; the image tooling (xtask) reads the rest.
#[derive(Deserialize)]
struct Manifest {
    assistants: Assistants,
}

#[derive(Deserialize)]
struct Assistants {
    claude: Pin,
    codex: Pin,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "images/images.toml has no valid [assistants.claude] and [assistants.codex] package and version: {0}"
)]
pub struct VersionsError(#[from] toml::de::Error);

/// The pinned package and version of `cli`.
pub fn pinned(cli: Cli) -> Result<Pin, VersionsError> {
    let manifest: Manifest = toml::from_str(MANIFEST)?;
    Ok(match cli {
        Cli::Claude => manifest.assistants.claude,
        Cli::Codex => manifest.assistants.codex,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_clis_are_pinned_to_exact_versions() {
        for cli in [Cli::Claude, Cli::Codex] {
            let pin = pinned(cli).unwrap();
            assert!(pin.package.starts_with('@'), "{pin:?}");
            assert!(
                pin.version.split('.').count() == 3
                    && pin.version.split('.').all(|p| p.parse::<u32>().is_ok()),
                "{cli:?} must be pinned to an exact x.y.z version, not {:?}",
                pin.version
            );
        }
    }
}
