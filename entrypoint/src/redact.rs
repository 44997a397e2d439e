//! Making every text we post safe: no secret from the job's environment, no well-known key
//! format, and no mention that could summon an assistant.
//!
//! The GitHub integrations learned both lessons the hard way: the model's process can read
//! tokens (environment, `.git/config`) and may quote them in an answer, and one bot's answer that
//! says `@codex` starts the other bot, which answers `@claude`, and so on (a billed loop). So every
//! note, thread and merge-request description we write passes one [`Redactor`].

use std::borrow::Cow;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::{
    STANDARD, STANDARD_NO_PAD, STANDARD_PAD_INDIFFERENT, URL_SAFE, URL_SAFE_NO_PAD,
};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use regex::Regex;

use crate::agent::Handles;
use crate::mention;

/// What replaces a secret.
pub const REDACTED: &str = "[REDACTED]";

/// Shorter values are not treated as secrets: they would match ordinary words and numbers
/// (`true`, a port), and no real credential is that short.
pub(crate) const MIN_SECRET_CHARS: usize = 8;

/// Variables that hold credentials whatever their name looks like to [`is_secret_name`].
const NAMED_SECRETS: [&str; 7] = [
    "CI_JOB_TOKEN",
    "CI_REGISTRY_PASSWORD",
    "GITLAB_TOKEN",
    crate::env::CLAUDE_API_KEY.name(),
    crate::env::ANTHROPIC_API_KEY.name(),
    crate::env::OPENAI_API_KEY.name(),
    "CI_DEPLOY_PASSWORD",
];

/// Name fragments that mark a variable as a credential.
const SECRET_FRAGMENTS: [&str; 8] = [
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "KEY",
    "AUTH",
    "JWT",
    "CREDENTIAL",
];

/// `AUTH…` words that name people, not credentials (`CI_COMMIT_AUTHOR` holds a name and email
/// that an answer may legitimately quote).
const NOT_CREDENTIALS: [&str; 3] = ["AUTHOR", "AUTHORS", "AUTHORED"];

/// Well-known credential formats, redacted even when no variable holds them (a key pasted into
/// a file the assistant read, a token in a log it printed).
/// GitLab prefixes: <https://docs.gitlab.com/security/tokens/#token-prefixes>.
#[allow(clippy::expect_used)] // a constant pattern, compiled by the unit tests
static KEY_PATTERNS: LazyLock<Regex> = LazyLock::new(|| {
    let patterns = [
        // PEM private keys, whole block; an unterminated block is cut to the end of the text.
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|\z)",
        // GitLab tokens (personal, OAuth, deploy, runner, CI build, trigger, feed, incoming mail,
        // agent, SCIM/OAuth app secret, feature flags client, workspace) and runner registration.
        r"\b(?:glpat|gloas|gldt|glrt|glrtr|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt)-[A-Za-z0-9_.\-]{20,}",
        r"\bGR1348941[A-Za-z0-9_\-]{20,}",
        // Anthropic and OpenAI keys (`sk-ant-…`, `sk-proj-…`, `sk-svcacct-…`, legacy `sk-…`).
        r"\bsk-[A-Za-z0-9_\-]{20,}",
        // AWS access key ids.
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        // GitHub tokens.
        r"\bgh[pousr]_[A-Za-z0-9]{36,}",
        r"\bgithub_pat_[A-Za-z0-9_]{22,}",
        // Slack tokens.
        r"\bxox[abposr]-[A-Za-z0-9\-]{10,}",
        // JSON Web Tokens (CI ID tokens, OAuth access tokens): header.payload.signature.
        r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
    ];
    // The patterns are fixed and tested; failing here would be a programming error.
    Regex::new(&patterns.join("|")).expect("the key patterns are valid regular expressions")
});

/// Runs of base64 long enough to hide a credential (`Authorization: Basic dXNlcjpzZWNyZXQ=`).
#[allow(clippy::expect_used)] // a constant pattern, compiled by the unit tests
static BASE64_RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9+/_\-]{12,}={0,2}").expect("the base64 pattern is a valid expression")
});

/// Characters kept as they are by `encodeURIComponent`-style encoders.
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Removes secrets and neutralises assistant mentions in text we are about to post.
///
/// Build it once per job ([`Redactor::from_process_env`]) and pass every body through
/// [`Redactor::redact`]. `Debug` does not show the secrets.
#[derive(Clone)]
pub struct Redactor {
    /// Every spelling of every secret, longest first so a secret that contains another is
    /// removed whole.
    spellings: Vec<String>,
    /// All spellings as one alternation (longest first), so a text is scanned once however
    /// many secrets there are; `None` while there are none.
    matcher: Option<Regex>,
    handles: Handles,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("spellings", &self.spellings.len())
            .field("handles", &self.handles)
            .finish()
    }
}

/// True for variable names that hold credentials: the well-known ones, and any name with a
/// `_`-separated part containing TOKEN, SECRET, PASSWORD, PASSWD, KEY, AUTH, JWT or CREDENTIAL,
/// except the AUTHOR words.
pub(crate) fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    if NAMED_SECRETS.contains(&upper.as_str()) {
        return true;
    }
    upper.split('_').any(|part| {
        if NOT_CREDENTIALS.contains(&part) {
            return false;
        }
        SECRET_FRAGMENTS
            .iter()
            .any(|fragment| part.contains(fragment))
    })
}

impl Redactor {
    /// A redactor that knows no secret values yet: it still removes well-known key formats and
    /// neutralises mentions of `handles`.
    pub fn new(handles: Handles) -> Self {
        Self {
            spellings: Vec::new(),
            matcher: None,
            handles,
        }
    }

    /// A redactor for the secrets among `vars` (name, value pairs; see [`is_secret_name`]).
    pub fn from_vars<N: AsRef<str>, V: AsRef<str>>(
        vars: impl IntoIterator<Item = (N, V)>,
        handles: Handles,
    ) -> Self {
        let mut redactor = Self::new(handles);
        for (name, value) in vars {
            if is_secret_name(name.as_ref()) {
                redactor.add_secret(value.as_ref());
            }
        }
        redactor
    }

    /// [`Redactor::from_vars`] over the process environment (values that are not UTF-8 cannot
    /// be posted, so they are skipped).
    pub fn from_process_env(handles: Handles) -> Self {
        Self::from_vars(
            std::env::vars_os()
                .filter_map(|(n, v)| Some((n.into_string().ok()?, v.into_string().ok()?))),
            handles,
        )
    }

    /// Adds one secret value (a key read from a file, a token passed by flag). Values shorter
    /// than [`MIN_SECRET_CHARS`] after trimming are ignored.
    ///
    /// Each line of a value of several lines (a PEM key, a JSON key file) is a secret of its
    /// own too: text cut to its end, such as the tail of a job's log, can hold the last lines
    /// of such a value without its first.
    pub(crate) fn add_secret(&mut self, value: &str) {
        let value = value.trim();
        if value.chars().count() < MIN_SECRET_CHARS {
            return;
        }
        let mut parts = vec![value];
        if value.contains('\n') {
            parts.extend(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|line| line.chars().count() >= MIN_SECRET_CHARS),
            );
        }
        for spelling in parts.into_iter().flat_map(spellings) {
            if !self.spellings.contains(&spelling) {
                self.spellings.push(spelling);
            }
        }
        self.spellings
            .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        let alternation: Vec<String> = self.spellings.iter().map(|s| regex::escape(s)).collect();
        // Escaped literals always form a valid expression; the size limit is the only way to
        // fail, and then the slower one-by-one search below still does the job.
        self.matcher = Regex::new(&alternation.join("|")).ok();
    }

    /// The handles whose mentions are neutralised.
    pub fn handles(&self) -> &Handles {
        &self.handles
    }

    /// `text` without secrets and with every assistant mention neutralised (see
    /// [`mention::neutralize`]); text with neither comes back unchanged.
    pub fn redact(&self, text: &str) -> String {
        let without_secrets = self.remove_secrets(text);
        mention::neutralize(&without_secrets, &self.handles)
    }

    /// `text` with secrets replaced by [`REDACTED`], mentions left alone: for the job log,
    /// where a mention summons nobody.
    pub(crate) fn remove_secrets(&self, text: &str) -> String {
        let mut current = Cow::Borrowed(text);
        match &self.matcher {
            Some(matcher) => {
                if let Cow::Owned(replaced) = matcher.replace_all(text, REDACTED) {
                    current = Cow::Owned(replaced);
                }
            }
            None => {
                for spelling in &self.spellings {
                    if current.contains(spelling.as_str()) {
                        current = Cow::Owned(current.replace(spelling.as_str(), REDACTED));
                    }
                }
            }
        }
        if let Cow::Owned(replaced) = KEY_PATTERNS.replace_all(&current, REDACTED) {
            current = Cow::Owned(replaced);
        }
        let encoded = BASE64_RUN.replace_all(&current, |found: &regex::Captures<'_>| {
            let run = &found[0];
            if self.hides_secret(run) {
                REDACTED.to_owned()
            } else {
                run.to_owned()
            }
        });
        if let Cow::Owned(replaced) = encoded {
            current = Cow::Owned(replaced);
        }
        current.into_owned()
    }

    /// True when a base64 run decodes to text holding a known secret or key format, as the
    /// credentials of an HTTP basic-auth header (`user:secret`) do. Text glued to the encoded
    /// value (`token=dXNl…`) shifts its alignment, so every start and end within one quantum is
    /// tried, and both alphabets are read as one.
    fn hides_secret(&self, run: &str) -> bool {
        let unified: String = run
            .trim_end_matches('=')
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                other => other,
            })
            .collect();
        let len = unified.len();
        (0..4.min(len)).any(|start| {
            (0..4.min(len - start)).any(|glued_after| {
                STANDARD_PAD_INDIFFERENT
                    .decode(&unified[start..len - glued_after])
                    .is_ok_and(|bytes| self.reveals_secret(&String::from_utf8_lossy(&bytes)))
            })
        })
    }

    fn reveals_secret(&self, decoded: &str) -> bool {
        let known = match &self.matcher {
            Some(matcher) => matcher.is_match(decoded),
            None => self
                .spellings
                .iter()
                .any(|spelling| decoded.contains(spelling.as_str())),
        };
        known || KEY_PATTERNS.is_match(decoded)
    }
}

/// The ways a secret can appear in text: as is, URL-encoded (in a clone URL or a query),
/// JSON-escaped, and base64'd on its own (a basic-auth header with the secret first).
fn spellings(value: &str) -> Vec<String> {
    let mut all = vec![value.to_owned()];
    for set in [NON_ALPHANUMERIC, URL_COMPONENT] {
        let encoded = utf8_percent_encode(value, set).to_string();
        all.push(lowercase_escapes(&encoded));
        all.push(encoded);
    }
    if let Ok(json) = serde_json::to_string(value) {
        all.push(json.trim_matches('"').to_owned());
    }
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        all.push(engine.encode(value));
    }
    all.sort();
    all.dedup();
    all
}

/// `%2F` → `%2f`: some encoders write lowercase hex.
fn lowercase_escapes(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for hex in chars.by_ref().take(2) {
                out.push(hex.to_ascii_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn redactor(secrets: &[&str]) -> Redactor {
        let mut r = Redactor::new(Handles::default());
        for s in secrets {
            r.add_secret(s);
        }
        r
    }

    #[test]
    fn each_line_of_a_multi_line_secret_is_redacted_alone() {
        let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUA\nQyNTUxOQAAACDx3fX0aGVsbG8td29y\n-----END OPENSSH PRIVATE KEY-----";
        let r = redactor(&[key]);
        assert_eq!(
            r.remove_secrets("log tail: QyNTUxOQAAACDx3fX0aGVsbG8td29y\nEND"),
            format!("log tail: {REDACTED}\nEND")
        );
    }

    #[test]
    fn secret_names_are_recognised() {
        for name in [
            "GITLAB_TOKEN",
            "CI_JOB_TOKEN",
            "CI_REGISTRY_PASSWORD",
            "ANTHROPIC_API_KEY",
            "MY_APIKEY",
            "HTTP_AUTHORIZATION",
            "db_password",
            "AWS_SECRET_ACCESS_KEY",
            "SSH_PRIVATE_KEY",
            "CI_JOB_JWT_V2",
            "GOOGLE_APPLICATION_CREDENTIALS_JSON",
        ] {
            assert!(is_secret_name(name), "{name} should be secret");
        }
        for name in [
            "CI_COMMIT_AUTHOR",
            "CI_JOB_URL",
            "HOME",
            "CI_PROJECT_PATH",
            "GITLAB_USER_NAME",
        ] {
            assert!(!is_secret_name(name), "{name} should not be secret");
        }
    }

    #[test]
    fn environment_secrets_are_removed_in_every_spelling() {
        let token = "s3cr3t/val+ue=x";
        let r = Redactor::from_vars(
            [
                ("GITLAB_TOKEN", token),
                ("CI_COMMIT_AUTHOR", "Jane Doe <jane@example.com>"),
                ("SHORT_TOKEN", "abc"),
            ],
            Handles::default(),
        );
        let url = format!(
            "https://oauth2:{}@gitlab.example.com/g/p.git",
            utf8_percent_encode(token, URL_COMPONENT)
        );
        let basic = format!(
            "Authorization: Basic {}",
            STANDARD.encode(format!("oauth2:{token}"))
        );
        let text = format!(
            "raw {token}\nurl {url}\n{basic}\nlower {}\njson {}\nby Jane Doe <jane@example.com>, abc",
            lowercase_escapes(&utf8_percent_encode(token, NON_ALPHANUMERIC).to_string()),
            serde_json::to_string(token).unwrap()
        );
        let out = r.redact(&text);
        assert!(!out.contains("s3cr3t"), "{out}");
        assert!(!out.contains("s3cr3t%2F"), "{out}");
        assert!(
            !out.contains(&STANDARD.encode(format!("oauth2:{token}"))),
            "{out}"
        );
        assert!(out.contains("Authorization: Basic [REDACTED]"), "{out}");
        assert!(out.contains("Jane Doe <jane@example.com>, abc"), "{out}");
        assert_eq!(out.matches(REDACTED).count(), 5, "{out}");
    }

    #[test]
    fn known_key_formats_are_removed_without_configuration() {
        let r = redactor(&[]);
        let samples = [
            "glpat-AbCdEfGhIjKlMnOpQrSt",
            "glpat-AbCdEfGhIjKlMnOpQrSt.01.0w1q2r3s4",
            "glptt-0123456789abcdef0123456789abcdef01234567",
            "gldt-AbCdEfGhIjKlMnOpQrSt",
            "glcbt-64_AbCdEfGhIjKlMnOpQrStu",
            "glrt-AbCdEfGhIjKlMnOpQrSt",
            "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "sk-AbCdEfGhIjKlMnOpQrStUvWxYz",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "xoxb-123456789012-abcdefghijkl",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqb2IifQ.c2lnbmF0dXJlLXZhbHVl",
        ];
        for key in samples {
            let out = r.redact(&format!("key: {key}, done"));
            assert_eq!(out, "key: [REDACTED], done", "{key}");
        }
        let pem = "before\n-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\nAAAA\n-----END OPENSSH PRIVATE KEY-----\nafter";
        assert_eq!(r.redact(pem), "before\n[REDACTED]\nafter");
        let cut = "x -----BEGIN RSA PRIVATE KEY-----\nMIIEow";
        assert_eq!(r.redact(cut), "x [REDACTED]");
    }

    #[test]
    fn base64_credentials_hiding_a_key_format_are_removed() {
        let r = redactor(&[]);
        let header = STANDARD.encode("gitlab-ci-token:glpat-AbCdEfGhIjKlMnOpQrSt");
        assert_eq!(r.redact(&format!("Basic {header}")), "Basic [REDACTED]");
    }

    #[test]
    fn mentions_of_both_assistants_are_neutralised() {
        let r = redactor(&[]);
        let out = r.redact("Ask @codex and @claude, not @alice");
        assert!(mention::find_mentions(&out, &Handles::default()).is_empty());
        assert!(out.contains("@alice"));
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        let r = redactor(&["supersecretvalue"]);
        let text = "Fixed `src/main.rs` (see https://example.com/a?b=c). sk-short, ABCDEFGHIJKLMNOPQRST, dGVzdGluZw==";
        assert_eq!(r.redact(text), text);
    }

    #[test]
    fn debug_does_not_show_secrets() {
        let r = redactor(&["supersecretvalue"]);
        assert!(!format!("{r:?}").contains("supersecret"));
    }

    #[test]
    fn a_full_size_note_is_redacted_quickly() {
        let mut r = redactor(&[]);
        for i in 0..20 {
            r.add_secret(&format!("secret-value-number-{i:02}"));
        }
        let line =
            "Updated src/publish/create_or_update_merge_request.rs and dGVzdGluZyB0aGluZ3M= here\n";
        let text = line.repeat(1_000_000 / line.len());
        let started = std::time::Instant::now();
        let out = r.redact(&text);
        assert_eq!(out, text);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    proptest! {
        #[test]
        fn embedded_secrets_never_survive(
            secret in "[a-z0-9]{8,40}",
            before in "[ -~\n]{0,80}",
            after in "[ -~\n]{0,80}",
            encoding in 0usize..4,
        ) {
            let r = redactor(&[&secret]);
            let embedded = match encoding {
                0 => secret.clone(),
                1 => STANDARD.encode(format!("user:{secret}")),
                2 => URL_SAFE_NO_PAD.encode(format!("oauth2:{secret}")),
                _ => utf8_percent_encode(&secret, NON_ALPHANUMERIC).to_string(),
            };
            let out = r.redact(&format!("{before}{embedded}{after}"));
            prop_assert!(!out.contains(&secret), "{}", out);
            prop_assert!(!out.contains(&embedded), "{}", out);
        }

        #[test]
        fn secrets_with_punctuation_never_survive(
            secret in "[A-Za-z0-9!#$%&()*+,./:;=?^_{|}~-]{8,40}",
            before in "[ -~\n]{0,80}",
            after in "[ -~\n]{0,80}",
            url_encoded in any::<bool>(),
        ) {
            // The replacement text itself is the one string that cannot be told apart.
            prop_assume!(secret != "REDACTED");
            let r = redactor(&[&secret]);
            let embedded = if url_encoded {
                utf8_percent_encode(&secret, URL_COMPONENT).to_string()
            } else {
                secret.clone()
            };
            let out = r.redact(&format!("{before}{embedded}{after}"));
            prop_assert!(!out.contains(&secret), "{}", out);
        }

        #[test]
        fn text_without_secrets_or_mentions_is_unchanged(
            secret in "[a-z0-9]{8,40}",
            text in "[A-Za-z0-9 .,:;!?()\\[\\]\n/#*_-]{0,200}",
        ) {
            prop_assume!(!text.contains(&secret));
            let r = redactor(&[&secret]);
            prop_assert_eq!(r.redact(&text), text);
        }
    }
}
