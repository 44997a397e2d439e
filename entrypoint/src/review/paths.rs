//! Which changed files an automatic review looks at: `AI_REVIEW_PATHS` (only these) and
//! `AI_REVIEW_SKIP_PATHS` (never these), comma-separated globs.
//!
//! The globs read as GitLab reads `rules:changes` paths, so a team writes them once for both:
//! Ruby's `File.fnmatch?` with `File::FNM_PATHNAME | File::FNM_DOTMATCH | File::FNM_EXTGLOB`
//! (`lib/gitlab/ci/build/rules/rule/clause/changes.rb`), where `*` stops at `/`, `**/` spans
//! directories, `{a,b}` alternates and dot files match
//! (<https://docs.gitlab.com/ci/yaml/#ruleschanges>). A merge request whose changed files are
//! all filtered out is not reviewed automatically; the others are reviewed on the files that
//! remain, so a lockfile or generated code neither costs tokens nor counts toward
//! `AI_REVIEW_MAX_DIFF_LINES`.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// A glob in `AI_REVIEW_PATHS` or `AI_REVIEW_SKIP_PATHS` that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{variable} has a glob that does not parse, {glob:?}: {reason}; write globs as in rules:changes, e.g. src/**/*.rs, comma-separated"
)]
pub(crate) struct PathGlobError {
    variable: &'static str,
    glob: String,
    reason: String,
}

/// The two lists, compiled.
#[derive(Clone, Debug, Default)]
pub(crate) struct PathFilter {
    only: Option<GlobSet>,
    skip: Option<GlobSet>,
    /// The globs as written, for the job log.
    described: String,
}

impl PathFilter {
    /// Reads the two variables (`None` or blank: no filter).
    pub(crate) fn from_values(
        only: Option<&str>,
        skip: Option<&str>,
    ) -> Result<Self, PathGlobError> {
        let only_set = compile(crate::env::AI_REVIEW_PATHS.name(), only)?;
        let skip_set = compile(crate::env::AI_REVIEW_SKIP_PATHS.name(), skip)?;
        let mut described = Vec::new();
        if only_set.is_some() {
            described.push(format!(
                "AI_REVIEW_PATHS={}",
                only.unwrap_or_default().trim()
            ));
        }
        if skip_set.is_some() {
            described.push(format!(
                "AI_REVIEW_SKIP_PATHS={}",
                skip.unwrap_or_default().trim()
            ));
        }
        Ok(Self {
            only: only_set,
            skip: skip_set,
            described: described.join(", "),
        })
    }

    /// No glob in either list.
    pub(crate) fn is_empty(&self) -> bool {
        self.only.is_none() && self.skip.is_none()
    }

    /// Whether a changed file at `path` (as in the repository, no leading `/`) is reviewed.
    pub(crate) fn keeps(&self, path: &str) -> bool {
        self.only.as_ref().is_none_or(|set| set.is_match(path))
            && self.skip.as_ref().is_none_or(|set| !set.is_match(path))
    }

    /// A changed file is reviewed when its path before or after the change is kept: a rename
    /// out of a reviewed directory is still a change there.
    pub(crate) fn keeps_change(&self, old_path: &str, new_path: &str) -> bool {
        self.keeps(new_path) || self.keeps(old_path)
    }

    /// The settings, for the job log and the "nothing to review" reason.
    pub(crate) fn describe(&self) -> &str {
        &self.described
    }
}

/// Two filters are the same when they were written the same (the compiled sets cannot be
/// compared).
impl PartialEq for PathFilter {
    fn eq(&self, other: &Self) -> bool {
        self.described == other.described
    }
}

impl Eq for PathFilter {}

fn compile(variable: &'static str, value: Option<&str>) -> Result<Option<GlobSet>, PathGlobError> {
    let globs: Vec<&str> = split_list(value.unwrap_or_default())
        .into_iter()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .collect();
    if globs.is_empty() {
        return Ok(None);
    }
    let mut set = GlobSetBuilder::new();
    for glob in &globs {
        set.add(parse(variable, glob)?);
    }
    set.build().map(Some).map_err(|e| PathGlobError {
        variable,
        glob: globs.join(","),
        reason: e.to_string(),
    })
}

/// Splits a comma-separated list of globs at the commas outside `{…}`, which separate the
/// alternatives of one glob (`{docs,guides}/**`).
fn split_list(list: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (at, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                items.push(&list[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.push(&list[start..]);
    items
}

/// One glob with `rules:changes` semantics: `*` and `?` stop at `/`, `{a,b}` alternates, and a
/// leading `/` or `./` is dropped (GitLab matches paths relative to the repository root).
fn parse(variable: &'static str, glob: &str) -> Result<Glob, PathGlobError> {
    let relative = glob.trim_start_matches("./").trim_start_matches('/');
    GlobBuilder::new(relative)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| PathGlobError {
            variable,
            glob: glob.to_owned(),
            reason: e.kind().to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(only: &str, skip: &str) -> PathFilter {
        PathFilter::from_values(Some(only), Some(skip)).unwrap()
    }

    #[test]
    fn globs_read_as_rules_changes_reads_them() {
        let f = filter("src/**/*.rs, *.md, {docs,guides}/**/*", "");
        assert!(f.keeps("src/main.rs"));
        assert!(f.keeps("src/a/b/c.rs"));
        assert!(f.keeps("README.md"));
        // `*` stops at `/`, as with FNM_PATHNAME.
        assert!(!f.keeps("docs2/README.md"));
        assert!(!f.keeps("lib/x.md"));
        assert!(f.keeps("docs/setup.md"));
        assert!(f.keeps("guides/a/b.txt"));
        assert!(!f.keeps("tests/main.rs"));
        // Dot files match, as with FNM_DOTMATCH.
        assert!(f.keeps("src/.hidden/x.rs"));
    }

    #[test]
    fn skipped_paths_win_and_a_rename_counts_on_either_side() {
        let f = filter("", "Cargo.lock, vendor/**, /generated/*.rs");
        assert!(!f.keeps("Cargo.lock"));
        assert!(!f.keeps("vendor/a/b.c"));
        assert!(!f.keeps("generated/api.rs"));
        assert!(f.keeps("generated/sub/api.rs"));
        assert!(f.keeps("src/lib.rs"));
        assert!(f.keeps_change("vendor/old.rs", "src/new.rs"));
        assert!(!f.keeps_change("vendor/old.rs", "vendor/new.rs"));
        let both = filter("src/**", "src/gen/**");
        assert!(both.keeps("src/a.rs"));
        assert!(!both.keeps("src/gen/a.rs"));
    }

    #[test]
    fn blank_settings_filter_nothing_and_a_bad_glob_names_its_variable() {
        let none = PathFilter::from_values(None, Some(" , ")).unwrap();
        assert!(none.is_empty());
        assert!(none.keeps("anything/at/all"));
        assert_eq!(none.describe(), "");
        let described = filter("src/**", "*.lock");
        assert_eq!(
            described.describe(),
            "AI_REVIEW_PATHS=src/**, AI_REVIEW_SKIP_PATHS=*.lock"
        );
        let error = PathFilter::from_values(None, Some("src/[a-")).unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("AI_REVIEW_SKIP_PATHS has a glob that does not parse, \"src/[a-\""),
            "{text}"
        );
    }
}
