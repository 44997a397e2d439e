//! This month's spending against `AI_MONTHLY_BUDGET_USD`: summed from the usage lines of the
//! bot's answers ([`crate::budget::ledger`]), as `entrypoint run` sums them before it refuses a
//! request. Runs when doctor knows the bot (in a job, or with the bot's own token) and the budget
//! is set in its environment.

use chrono::Utc;

use super::{Check, Finding, Inputs, Report};
use crate::budget::{MonthlyBudget, ledger};
use crate::gitlab::GitLab;
use crate::gitlab::ids::{ProjectRef, UserId};

pub async fn check(
    gitlab: &GitLab,
    project: &ProjectRef,
    bot: UserId,
    inputs: &Inputs<'_>,
    report: &mut Report,
) {
    let Some(text) = inputs.var(crate::env::AI_MONTHLY_BUDGET_USD.name()) else {
        return;
    };
    let budget = match MonthlyBudget::parse(&text) {
        Ok(budget) => budget,
        Err(error) => {
            report.push(Finding::fail(
                Check::Spending,
                error.to_string(),
                "set AI_MONTHLY_BUDGET_USD to the dollars the project may spend per month, for example 50",
            ));
            return;
        }
    };
    let now = Utc::now();
    let (start, next) = MonthlyBudget::month_of(now);
    let answers = match ledger::answers_since(gitlab, project, bot, start).await {
        Ok(answers) => answers,
        Err(error) => {
            report.push(Finding::warn(
                Check::Spending,
                format!("could not read this month's answers: {error}"),
                "check that the bot's token can read the project's issues and merge requests",
            ));
            return;
        }
    };
    let spent = MonthlyBudget::spent(&answers, now);
    let found = format!(
        "about ${spent:.2} of ${:.2} spent this month ({} answers since {})",
        budget.usd,
        answers.len(),
        start.format("%Y-%m-%d")
    );
    report.push(if spent >= budget.usd {
        Finding::warn(
            Check::Spending,
            found,
            format!(
                "requests are refused until {} UTC; raise AI_MONTHLY_BUDGET_USD to answer them sooner",
                next.format("%Y-%m-%d %H:%M")
            ),
        )
    } else {
        Finding::ok(Check::Spending, found)
    });
}
