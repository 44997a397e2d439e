//! An error with its causes on one line: the outer message alone rarely names the actual
//! problem (a refused connection, a DNS failure, a GitLab answer), the innermost cause does.

use std::error::Error;

/// `error`, then each of its causes, joined with `: `.
pub fn one_line(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("sending the request")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn every_cause_follows_its_error() {
        let error = Outer(std::io::Error::other("connection refused"));
        assert_eq!(
            super::one_line(&error),
            "sending the request: connection refused"
        );
    }
}
