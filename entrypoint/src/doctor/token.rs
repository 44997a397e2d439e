//! The token doctor runs with: is it accepted (`GET /user`), does it carry the `api` scope,
//! and when does it expire (`GET /personal_access_tokens/self`).
//!
//! GitLab refuses a revoked or expired token with `401` and
//! `{"error":"invalid_token","error_description":"Token was revoked. …"}` (or `"Token is
//! expired. …"`), on every endpoint (`lib/api/api_guard.rb`;
//! <https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>).
//! `self` answers for personal, project and group access tokens alike, since the latter two
//! are personal access tokens of their bot user
//! (<https://docs.gitlab.com/api/personal_access_tokens/#self-inform>).

use chrono::{NaiveDate, Utc};
use reqwest::StatusCode;

use super::Place;
use super::report::{Check, Finding, Report};
use crate::gitlab::GitLab;
use crate::gitlab::personal_access_tokens::TokenSelf;
use crate::gitlab::users::CurrentUser;

/// A token expiring within this many days is a warning: the bot stops answering that day.
pub(crate) const EXPIRY_WARNING_DAYS: i64 = 30;

/// The fix for a token GitLab no longer accepts or that lacks `api`.
pub(crate) const NEW_BOT_TOKEN: &str = "create a new project access token (role Developer, scope api) and store it in the masked, hidden CI/CD variable GITLAB_TOKEN (entrypoint setup does both after you delete the old variable)";

/// Checks the token; `None` when GitLab does not accept it, and then no other API check runs.
pub async fn check(gitlab: &GitLab, place: Place, report: &mut Report) -> Option<CurrentUser> {
    let user = match gitlab.current_user().await {
        Ok(user) => user,
        Err(e) if e.status() == Some(StatusCode::UNAUTHORIZED) => {
            let reason = e.api_message().map(|m| m.to_string()).unwrap_or_default();
            report.push(Finding::fail(
                Check::Token,
                format!(
                    "GitLab refused the token (401 {reason}): it is revoked, expired or mistyped"
                ),
                NEW_BOT_TOKEN,
            ));
            return None;
        }
        Err(e) => {
            report.push(Finding::fail(
                Check::Token,
                format!("cannot ask GitLab who the token belongs to: {e}"),
                "check the GitLab URL (--gitlab-url, CI_API_V4_URL) and that this machine or runner reaches it",
            ));
            return None;
        }
    };
    // In a job the token is the bot's whoever it belongs to; locally a person's token only
    // needs to read, and the bot's own token is checked through the project's access tokens.
    let is_bot_token = place == Place::Job || user.bot;
    report.push(Finding::ok(
        Check::Token,
        format!(
            "accepted; it belongs to @{}{}",
            user.username,
            if user.bot {
                " (a bot)"
            } else if is_bot_token {
                ""
            } else {
                " (a person; the bot's token is checked below)"
            }
        ),
    ));
    match gitlab.token_self().await {
        Ok(token) => {
            report.push(scope(&token, is_bot_token));
            if let Some(expiry) = expiry(token.expires_at, Utc::now().date_naive()) {
                report.push(expiry);
            }
        }
        Err(e) => report.push(Finding::warn(
            Check::TokenScope,
            format!("cannot read the token's scopes (GET /personal_access_tokens/self: {e})"),
            "make sure the token has the api scope (GitLab 15.5 and later can check this)",
        )),
    }
    Some(user)
}

fn scope(token: &TokenSelf, is_bot_token: bool) -> Finding {
    let scopes = token.scopes.join(", ");
    if token.has_api_scope() {
        Finding::ok(Check::TokenScope, format!("scopes {scopes}"))
    } else if is_bot_token {
        Finding::fail(
            Check::TokenScope,
            format!(
                "scopes {scopes}: without api the bot cannot post notes, push branches or open merge requests"
            ),
            NEW_BOT_TOKEN,
        )
    } else {
        Finding::ok(
            Check::TokenScope,
            format!("scopes {scopes} (enough for doctor; setup needs api)"),
        )
    }
}

/// The expiry finding; `None` for a token without expiry.
pub fn expiry(expires_at: Option<NaiveDate>, today: NaiveDate) -> Option<Finding> {
    let date = expires_at?;
    let days = (date - today).num_days();
    Some(if days <= EXPIRY_WARNING_DAYS {
        Finding::warn(
            Check::TokenExpiry,
            format!("expires on {date}, in {days} day(s); the bot stops answering then"),
            "rotate the token (Settings > Access tokens > Rotate) and update the GITLAB_TOKEN variable",
        )
    } else {
        Finding::ok(Check::TokenExpiry, format!("expires on {date}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    #[test]
    fn expiry_warns_within_thirty_days() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        assert_eq!(expiry(None, today), None);
        let soon = expiry(NaiveDate::from_ymd_opt(2026, 12, 10), today).unwrap();
        assert_eq!(soon.status, Status::Warn);
        assert!(soon.found.contains("in 15 day(s)"), "{}", soon.found);
        let later = expiry(NaiveDate::from_ymd_opt(2027, 6, 1), today).unwrap();
        assert_eq!(later.status, Status::Ok);
    }

    #[test]
    fn a_bot_token_without_api_fails_a_persons_does_not() {
        let token = TokenSelf {
            id: 1,
            name: "t".into(),
            scopes: vec!["read_api".into()],
            user_id: crate::gitlab::ids::UserId(3),
            active: true,
            revoked: false,
            expires_at: None,
        };
        assert_eq!(scope(&token, true).status, Status::Fail);
        assert_eq!(scope(&token, false).status, Status::Ok);
    }
}
