//! The bot: who it is, whether its project access token still works, and whether its role in
//! the project lets it push branches and open merge requests.
//!
//! With the bot's own token (in a job, or any token whose user is a bot) the bot is the caller.
//! With a person's token the bot is found among the project's access tokens
//! (`GET /projects/:id/access_tokens`, Maintainer and above,
//! <https://docs.gitlab.com/api/project_access_tokens/>) under the name `entrypoint setup`
//! gives it: the assistant's display name. Its role is its effective membership
//! (`GET /projects/:id/members/all/:user_id`, <https://docs.gitlab.com/api/members/>):
//! Developer may push to unprotected branches and open merge requests
//! (<https://docs.gitlab.com/user/permissions/#project-members-permissions>); a protected
//! default branch does not matter, since the bot never pushes to it.

use chrono::Utc;

use super::report::{Check, Finding, Report};
use super::token::{self, NEW_BOT_TOKEN};
use super::{Place, readable};
use crate::agent::Assistant;
use crate::gitlab::GitLab;
use crate::gitlab::access_tokens::ProjectAccessToken;
use crate::gitlab::ids::{ProjectRef, UserId};
use crate::gitlab::members::AccessLevel;
use crate::gitlab::projects::Project;
use crate::gitlab::users::CurrentUser;

/// Checks the bot's token (when seen from a person's token) and its role.
pub async fn check(
    gitlab: &GitLab,
    project: &Project,
    caller: &CurrentUser,
    place: Place,
    report: &mut Report,
) {
    let bot = if place == Place::Job || caller.bot {
        Some((caller.id, format!("@{}", caller.username)))
    } else {
        bot_from_access_tokens(gitlab, project, place, report).await
    };
    let Some((id, name)) = bot else {
        return;
    };
    report.push(role(gitlab, project, id, &name).await);
}

/// The bot's access token as the project lists it, and a finding about it.
async fn bot_from_access_tokens(
    gitlab: &GitLab,
    project: &Project,
    place: Place,
    report: &mut Report,
) -> Option<(UserId, String)> {
    let tokens = readable(
        gitlab
            .project_access_tokens(&ProjectRef::Id(project.id))
            .await,
        Check::BotToken,
        "the project's access tokens (unavailable on GitLab.com Free)",
        place,
        report,
    )?;
    let names: Vec<&str> = Assistant::ALL.iter().map(|a| a.display_name()).collect();
    let ours: Vec<&ProjectAccessToken> = tokens
        .iter()
        .filter(|t| names.contains(&t.name.as_str()))
        .collect();
    let Some(active) = ours
        .iter()
        .filter(|t| t.active)
        .max_by_key(|t| (t.expires_at, t.id))
    else {
        if ours.is_empty() {
            report.push(Finding::warn(
                Check::BotToken,
                format!("no project access token named {}; the bot may use a user's personal access token, which only a job can check", names.join(" or ")),
                "run entrypoint doctor in a job of the project, or let entrypoint setup create the bot",
            ));
        } else {
            report.push(Finding::fail(
                Check::BotToken,
                format!(
                    "the bot's project access token \"{}\" is revoked or expired",
                    ours[0].name
                ),
                NEW_BOT_TOKEN,
            ));
        }
        return None;
    };
    let label = format!("the bot \"{}\" (user id {})", active.name, active.user_id);
    if !active.scopes.iter().any(|s| s == "api") {
        report.push(Finding::fail(
            Check::BotToken,
            format!(
                "{label} has scopes {}, without api",
                active.scopes.join(", ")
            ),
            NEW_BOT_TOKEN,
        ));
    } else {
        match token::expiry(active.expires_at, Utc::now().date_naive()) {
            Some(mut finding) if finding.status != super::Status::Ok => {
                finding.check = Check::BotToken;
                finding.found = format!("{label}: token {}", finding.found);
                report.push(finding);
            }
            _ => report.push(Finding::ok(
                Check::BotToken,
                format!(
                    "{label} has an active token with scope api{}",
                    active
                        .expires_at
                        .map(|d| format!(", expiring on {d}"))
                        .unwrap_or_default()
                ),
            )),
        }
    }
    Some((active.user_id, label))
}

async fn role(gitlab: &GitLab, project: &Project, id: UserId, name: &str) -> Finding {
    let path = &project.path_with_namespace;
    let fix = format!(
        "give {name} the Developer role in {path} (Manage > Members), or recreate the bot with entrypoint setup"
    );
    match gitlab.project_member(&ProjectRef::Id(project.id), id).await {
        Ok(None) => Finding::fail(
            Check::BotRole,
            format!("{name} is not a member of {path}"),
            fix,
        ),
        Ok(Some(member)) if member.access_level < AccessLevel::DEVELOPER => Finding::fail(
            Check::BotRole,
            format!(
                "{name} is {} in {path}: below Developer it cannot push branches or open merge requests",
                member.access_level
            ),
            fix,
        ),
        Ok(Some(member)) => Finding::ok(
            Check::BotRole,
            format!(
                "{name} is {} in {path} (enough to push branches and open merge requests)",
                member.access_level
            ),
        ),
        Err(e) => Finding::warn(
            Check::BotRole,
            format!("could not read {name}'s role: {e}"),
            "run doctor again; if it persists, check the bot's membership under Manage > Members",
        ),
    }
}
