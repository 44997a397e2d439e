//! URLs as they may be shown: without the userinfo part (`user:token@`).
//!
//! A clone made with `git clone https://oauth2:glpat-…@gitlab.example.com/group/project.git`
//! keeps the token in its `origin` remote, and npm/Debian mirrors are often configured as
//! `https://user:password@mirror/…`. Anything that reaches an image label, a log line or an
//! artifact (SBOM, provenance) goes through [`without_userinfo`] first, so no credential is baked
//! into a published image or printed in a CI log.

/// `text` with the userinfo of a URL removed: `https://user:pw@host/p` → `https://host/p`,
/// scp-like `user@host:path` (git's SSH shorthand) → `host:path`. Text that is not a URL is
/// returned unchanged unless it still contains an `@` before the first `/` of its path, which
/// is dropped with everything before it (the safe reading of something URL-like that the URL
/// parser refused).
pub fn without_userinfo(text: &str) -> String {
    if let Ok(mut url) = url::Url::parse(text)
        && url.has_host()
    {
        if url.username().is_empty() && url.password().is_none() {
            return text.to_owned();
        }
        // Both setters only fail for URLs without a host, excluded above.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return url.to_string();
    }
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, text),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let host_and_path = &rest[at + 1..];
            match scheme {
                Some(scheme) => format!("{scheme}://{host_and_path}"),
                None => host_and_path.to_owned(),
            }
        }
        None => text.to_owned(),
    }
}

/// `line` with every whitespace-separated word passed through [`without_userinfo`] (for
/// command lines echoed to the log).
pub fn line_without_userinfo(line: &str) -> String {
    line.split(' ')
        .map(without_userinfo)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_clone_urls_never_survive() {
        let cases = [
            (
                "https://oauth2:glpat-SECRETSECRET@gitlab.example.com/group/project.git",
                "https://gitlab.example.com/group/project.git",
            ),
            (
                "https://gitlab-ci-token:SECRET@gitlab.example.com:8443/g/p.git",
                "https://gitlab.example.com:8443/g/p.git",
            ),
            (
                "http://SECRET@mirror.example/debian",
                "http://mirror.example/debian",
            ),
            (
                "ssh://git:SECRET@gitlab.example.com/g/p.git",
                "ssh://gitlab.example.com/g/p.git",
            ),
            (
                "git@gitlab.example.com:group/project.git",
                "gitlab.example.com:group/project.git",
            ),
            ("deploy:SECRET@host:g/p.git", "host:g/p.git"),
        ];
        for (input, expected) in cases {
            let shown = without_userinfo(input);
            assert_eq!(shown, expected, "{input}");
            assert!(!shown.contains("SECRET"), "{shown}");
        }
    }

    #[test]
    fn urls_without_credentials_and_plain_words_are_unchanged() {
        for text in [
            "https://gitlab.example.com/group/project",
            "unix:///var/run/docker.sock",
            "tcp://docker:2376",
            "unknown",
            "--release",
            "/tmp/dir/with@sign",
            "https://registry.npmjs.org/@anthropic-ai/claude-code/-/claude-code-9.8.7.tgz",
        ] {
            assert_eq!(without_userinfo(text), text);
        }
    }

    #[test]
    fn echoed_command_lines_lose_every_credential() {
        let line = "debootstrap --variant=minbase bookworm /tmp/r https://u:SECRET@mirror/debian";
        let shown = line_without_userinfo(line);
        assert_eq!(
            shown,
            "debootstrap --variant=minbase bookworm /tmp/r https://mirror/debian"
        );
    }
}
