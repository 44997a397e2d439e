//! Where variables are read from, as one type every crate of ours shares: the GitLab client
//! reads its settings through it as the entrypoint does, so a test hands both the same source.

/// A source of variables: the process environment, a fixed map in tests, or any
/// `Fn(&str) -> Option<String>`.
pub trait Env {
    /// The variable's value, `None` when it is not set (or not valid Unicode, which no setting
    /// of ours can be).
    fn var(&self, name: &str) -> Option<String>;

    /// The value, unless the variable is unset or blank: an empty CI/CD variable (a
    /// template's unset input) means "use the default". The value is returned as it is, not
    /// trimmed; the entrypoint's `env::non_blank` also trims it.
    fn set(&self, name: &str) -> Option<String> {
        self.var(name).filter(|value| !value.trim().is_empty())
    }
}

/// A closure is a source, so a test or a caller that overrides one variable writes
/// `&|name: &str| …` instead of a type.
impl<F: Fn(&str) -> Option<String> + ?Sized> Env for F {
    fn var(&self, name: &str) -> Option<String> {
        self(name)
    }
}
