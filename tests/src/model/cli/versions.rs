//! The pinned CLI versions, read from `tests/cli-versions.toml`, the one place they are set.

use serde::Deserialize;

/// The table, compiled in so tests need no path to the source tree at run time.
const PINS: &str = include_str!("../../../cli-versions.toml");

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

#[derive(Deserialize)]
struct Pins {
    claude: Pin,
    codex: Pin,
}

#[derive(Debug, thiserror::Error)]
#[error("tests/cli-versions.toml is not a valid table of [claude] and [codex] pins: {0}")]
pub struct VersionsError(#[from] toml::de::Error);

/// The pinned package and version of `cli`.
pub fn pinned(cli: Cli) -> Result<Pin, VersionsError> {
    let pins: Pins = toml::from_str(PINS)?;
    Ok(match cli {
        Cli::Claude => pins.claude,
        Cli::Codex => pins.codex,
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
