//! The catalogue of every variable the product reads, and the one way to read them.
//!
//! Each variable is one [`Var`] constant in [`catalogue`]: its name, a one-line description,
//! the default as docs/configuration.md states it, the section of that page that documents it,
//! whether it holds a secret, who sets it and which commands read it. Code reads a variable
//! through its constant (`env::AI_TIMEOUT.value(env)`), never through a string literal, so
//! this file is the one place a name is spelled; `tests/tests/it/docs_configuration.rs` checks
//! the page against [`CATALOGUE`] in both directions.
//!
//! Where the values come from is one type, [`Env`]: the process environment in the binary
//! ([`ProcessEnv`]), a map in tests ([`MapEnv`]), or any `Fn(&str) -> Option<String>` (a
//! test's or an override's closure).

mod catalogue;

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::time::Duration;

pub use catalogue::*;

pub use ai_core::env::Env;

/// The value of `name` when set to something other than blanks, trimmed: an empty CI/CD
/// variable (a template's unset input) means "use the default". For names the catalogue does
/// not hold as constants (GitLab's `CI_*`, a profile's variable); otherwise [`Var::non_blank`].
pub fn non_blank(env: &dyn Env, name: &str) -> Option<String> {
    env.var(name)
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// The process environment: the job's CI/CD variables, the relay's container environment.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// A fixed set of variables: the test double, and the way a command overrides one setting
/// (`sandbox verify` is fenced whatever `AI_SANDBOX` says).
#[derive(Clone, Debug, Default)]
pub struct MapEnv(BTreeMap<String, String>);

impl MapEnv {
    /// The variables `pairs` set, and no other.
    pub fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        )
    }
}

impl Env for MapEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

/// Who sets a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A setting people choose (a CI/CD variable, a template input, the relay's environment).
    Setting,
    /// Set by the relay, the scan, setup, a template or GitLab to say what started the job.
    Trigger,
    /// Written by the entrypoint for later jobs (a dotenv report); listed because people read
    /// them and must not set them.
    Output,
    /// Set by the entrypoint in the assistant CLI's environment; listed so nobody sets them.
    ForCli,
}

/// The entrypoint's commands, as `read_by` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// `entrypoint mentions`.
    Mentions,
    /// `entrypoint explain`.
    Explain,
    /// `entrypoint finalize`.
    Finalize,
    /// `entrypoint setup`.
    Setup,
    /// `entrypoint sandbox`.
    Sandbox,
    /// `entrypoint doctor`.
    Doctor,
    /// `entrypoint serve`.
    Serve,
    /// `entrypoint ack`.
    Ack,
    /// `entrypoint run`.
    Run,
    /// `entrypoint review`.
    Review,
    /// `entrypoint scan`.
    Scan,
}

/// One row of the catalogue: everything a reader of docs/configuration.md is told about a
/// variable, so the page can be checked against it.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The variable's name, exactly as GitLab passes it.
    pub name: &'static str,
    /// What it does, in one line.
    pub doc: &'static str,
    /// The default as the page's `default` column states it; `None` where the page's table
    /// has no such column (variables set for us rather than by people).
    pub default: Option<&'static str>,
    /// The page and anchor that document it, relative to `docs/`.
    pub page: &'static str,
    /// Whether the value is a credential: never logged, never copied to the assistant.
    pub secret: bool,
    /// Who sets it.
    pub kind: Kind,
    /// The commands that read it (empty for outputs and for variables only the templates'
    /// `rules:` read).
    pub read_by: &'static [Cmd],
}

/// A variable of the catalogue whose value parses as `T`.
#[derive(Debug)]
pub struct Var<T> {
    /// The catalogue row.
    pub entry: Entry,
    parse: PhantomData<fn() -> T>,
}

// Manual impls: a derive would demand `T: Clone`, which a marker never needs.
impl<T> Clone for Var<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Var<T> {}

impl<T> Var<T> {
    /// A catalogue row read as `T`.
    pub const fn new(entry: Entry) -> Self {
        Self {
            entry,
            parse: PhantomData,
        }
    }

    /// The variable's name, for messages and for setting it in another process's environment.
    pub const fn name(&self) -> &'static str {
        self.entry.name
    }

    /// The value exactly as set (`None` when unset), for readers with their own rules about
    /// blanks and whitespace.
    pub fn value(&self, env: &dyn Env) -> Option<String> {
        env.var(self.entry.name)
    }

    /// The value when set to something other than blanks, trimmed: an empty CI/CD variable (a
    /// template's unset input) means "use the default".
    pub fn non_blank(&self, env: &dyn Env) -> Option<String> {
        non_blank(env, self.entry.name)
    }
}

impl<T: FromVar> Var<T> {
    /// The parsed value, `None` when unset or blank; an error names the variable, the value
    /// and what it should look like.
    pub fn get(&self, env: &dyn Env) -> Result<Option<T>, VarError> {
        self.non_blank(env)
            .map(|value| {
                T::from_var(&value).map_err(|expected| VarError {
                    name: self.entry.name,
                    value,
                    expected,
                    page: self.entry.page,
                })
            })
            .transpose()
    }
}

/// How a variable's text becomes a value.
pub trait FromVar: Sized {
    /// The value, or what the text should have looked like ("a whole number of seconds").
    fn from_var(text: &str) -> Result<Self, &'static str>;
}

impl FromVar for String {
    fn from_var(text: &str) -> Result<Self, &'static str> {
        Ok(text.to_owned())
    }
}

impl FromVar for u64 {
    fn from_var(text: &str) -> Result<Self, &'static str> {
        text.parse().map_err(|_| "a whole number, such as 600")
    }
}

impl FromVar for u32 {
    fn from_var(text: &str) -> Result<Self, &'static str> {
        text.parse().map_err(|_| "a whole number, such as 600")
    }
}

/// A variable is set to something its reader cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{name}={value:?} is not {expected} (see docs/{page}): fix the CI/CD variable or unset it for the default"
)]
pub struct VarError {
    /// The variable.
    pub name: &'static str,
    /// What it was set to (never a secret: secrets are not parsed).
    pub value: String,
    /// What it should look like.
    pub expected: &'static str,
    /// Where it is documented.
    pub page: &'static str,
}

/// A duration setting (`AI_TIMEOUT`, `AI_RATE_LIMIT`'s window, `AI_SCAN_LOOKBACK`): `1200`,
/// `90s`, `20m`, `2h`; zero is refused.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => number,
        "m" => number.checked_mul(60)?,
        "h" => number.checked_mul(3600)?,
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_seconds_or_with_a_unit() {
        assert_eq!(parse_duration("1200"), Some(Duration::from_secs(1200)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("20m"), Some(Duration::from_secs(1200)));
        assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
        for bad in ["", "0", "m", "20 minutes", "-5", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_catalogue_lists_each_name_once_in_order() {
        let names: Vec<&str> = CATALOGUE.iter().map(|entry| entry.name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(names.len() > 100, "only {} entries", names.len());
    }

    #[test]
    fn every_entry_points_at_a_section_and_says_what_it_does() {
        for entry in CATALOGUE {
            assert!(entry.page.starts_with("configuration.md#"), "{entry:?}");
            assert!(!entry.doc.trim().is_empty(), "{entry:?}");
            if entry.kind == Kind::Output {
                assert!(entry.read_by.is_empty(), "{entry:?}");
            }
        }
    }

    /// A credential's name says so (`…_KEY`, `…_TOKEN`, `…_SECRET`), and only credentials are
    /// marked secret: a `*_FILE` variant holds a path, not the secret.
    #[test]
    fn exactly_the_credentials_are_secrets() {
        let credential = |name: &str| {
            ["_KEY", "_TOKEN", "_SECRET"]
                .iter()
                .any(|suffix| name.ends_with(suffix))
        };
        for entry in CATALOGUE {
            assert_eq!(entry.secret, credential(entry.name), "{}", entry.name);
        }
        assert!(CATALOGUE.iter().filter(|entry| entry.secret).count() >= 8);
    }

    #[test]
    fn a_bad_value_names_the_variable_and_the_fix() {
        const LEASE: Var<u64> = Var::new(AI_CLAIM_LEASE_SECONDS.entry);
        let env = MapEnv::new([("AI_CLAIM_LEASE_SECONDS", "ten minutes")]);
        let error = LEASE.get(&env).unwrap_err().to_string();
        assert_eq!(
            error,
            "AI_CLAIM_LEASE_SECONDS=\"ten minutes\" is not a whole number, such as 600 (see docs/configuration.md#claims): fix the CI/CD variable or unset it for the default"
        );
        assert_eq!(
            LEASE.get(&MapEnv::new([("AI_CLAIM_LEASE_SECONDS", " 30 ")])),
            Ok(Some(30))
        );
        assert_eq!(
            LEASE.get(&MapEnv::new([("AI_CLAIM_LEASE_SECONDS", " ")])),
            Ok(None)
        );
        assert_eq!(LEASE.get(&MapEnv::default()), Ok(None));
    }

    #[test]
    fn closures_and_the_map_are_the_same_source() {
        let closure = |name: &str| (name == "AI_TIMEOUT").then(|| "5m".to_owned());
        let map = MapEnv::new([("AI_TIMEOUT", "5m")]);
        assert_eq!(AI_TIMEOUT.value(&closure), AI_TIMEOUT.value(&map));
        assert_eq!(AI_TIMEOUT.value(&MapEnv::default()), None);
    }
}
