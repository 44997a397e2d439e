//! `AI_RATE_LIMIT` and `AI_MONTHLY_BUDGET_USD`: limits over many runs, checked before the model
//! runs against the bot's own past answers ([`super::ledger`]).
//!
//! `AI_RATE_LIMIT=3/hour` lets each person ask at most 3 times per hour in the project, and
//! each issue or merge request be answered at most 3 times per hour, whoever asks. The period is
//! `hour`, `day`, or a duration (`30m`, `2h`, `90s`). The window slides: a refused person may
//! ask again when their oldest counted answer leaves it.

use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::ledger::Answer;
use crate::env::parse_duration;
use crate::gitlab::ids::Noteable;

/// `AI_RATE_LIMIT` cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LimitError {
    #[error(
        "AI_RATE_LIMIT={0:?} is not a rate: write requests per period, for example 3/hour, 20/day or 5/30m"
    )]
    Rate(String),
    #[error(
        "AI_MONTHLY_BUDGET_USD={0:?} is not an amount of dollars: use a positive number such as 50"
    )]
    Monthly(String),
}

/// `AI_RATE_LIMIT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window: Duration,
    /// As written, for the note.
    text: String,
}

impl RateLimit {
    pub fn parse(text: &str) -> Result<Self, LimitError> {
        let error = || LimitError::Rate(text.to_owned());
        let (count, period) = text.trim().split_once('/').ok_or_else(error)?;
        let requests: u32 = count
            .trim()
            .parse()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(error)?;
        let window = match period.trim() {
            "hour" | "h" => Duration::from_secs(3600),
            "day" | "d" => Duration::from_secs(24 * 3600),
            other => parse_duration(other).ok_or_else(error)?,
        };
        Ok(Self {
            requests,
            window,
            text: text.trim().to_owned(),
        })
    }

    /// The start of the window that ends `now`.
    pub fn since(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX)
    }

    /// Whether a request by `requester` on `noteable` at `now` is over the limit, given the
    /// answers in the window; `None` lets it through.
    pub fn check(
        &self,
        answers: &[Answer],
        requester: Option<&str>,
        noteable: Noteable,
        now: DateTime<Utc>,
    ) -> Option<Limited> {
        let since = self.since(now);
        let window = chrono::Duration::from_std(self.window).unwrap_or(chrono::Duration::MAX);
        let recent = answers.iter().filter(|a| a.at > since);
        let by_requester: Vec<&Answer> = match requester {
            Some(who) => recent
                .clone()
                .filter(|a| {
                    a.usage
                        .by
                        .as_deref()
                        .is_some_and(|by| by.eq_ignore_ascii_case(who))
                })
                .collect(),
            None => Vec::new(),
        };
        let on_noteable: Vec<&Answer> = recent.filter(|a| a.noteable == noteable).collect();
        let over = |counted: &[&Answer]| {
            (counted.len() >= self.requests as usize).then(|| {
                // The oldest answers leave the window first; the request fits again once
                // enough of them have left.
                let mut times: Vec<DateTime<Utc>> = counted.iter().map(|a| a.at).collect();
                times.sort();
                times[counted.len() - self.requests as usize] + window
            })
        };
        if let Some(retry_at) = over(&by_requester) {
            return Some(Limited {
                reason: format!(
                    "you have asked {} times in the last {}, the most this project allows (`AI_RATE_LIMIT={}`)",
                    by_requester.len(),
                    human(self.window),
                    self.text
                ),
                retry_at,
            });
        }
        over(&on_noteable).map(|retry_at| Limited {
            reason: format!(
                "this {} was answered {} times in the last {}, the most this project allows (`AI_RATE_LIMIT={}`)",
                match noteable {
                    Noteable::Issue(_) => "issue",
                    Noteable::MergeRequest(_) => "merge request",
                },
                on_noteable.len(),
                human(self.window),
                self.text
            ),
            retry_at,
        })
    }
}

/// `AI_MONTHLY_BUDGET_USD`: what the project's runs may spend per calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonthlyBudget {
    pub usd: f64,
}

impl MonthlyBudget {
    pub fn parse(text: &str) -> Result<Self, LimitError> {
        text.trim()
            .trim_start_matches('$')
            .parse::<f64>()
            .ok()
            .filter(|usd| usd.is_finite() && *usd > 0.0)
            .map(|usd| Self { usd })
            .ok_or_else(|| LimitError::Monthly(text.to_owned()))
    }

    /// The first instant of `now`'s month and of the next one (UTC).
    pub fn month_of(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = |year: i32, month: u32| {
            Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0)
                .single()
                .unwrap_or(now)
        };
        let (year, month) = (now.year(), now.month());
        let next = if month == 12 {
            start(year + 1, 1)
        } else {
            start(year, month + 1)
        };
        (start(year, month), next)
    }

    /// What this month's answers cost (answers without a cost count nothing).
    pub fn spent(answers: &[Answer], now: DateTime<Utc>) -> f64 {
        let (start, _) = Self::month_of(now);
        answers
            .iter()
            .filter(|a| a.at >= start)
            .filter_map(|a| a.usage.usd)
            .filter(|usd| usd.is_finite() && *usd > 0.0)
            .sum()
    }

    /// Whether the month's budget is spent; `None` lets the request through.
    pub fn check(&self, answers: &[Answer], now: DateTime<Utc>) -> Option<Limited> {
        let spent = Self::spent(answers, now);
        (spent >= self.usd).then(|| Limited {
            reason: format!(
                "this project's assistants have spent about ${spent:.2} this month, its whole monthly budget (`AI_MONTHLY_BUDGET_USD={:.2}`)",
                self.usd
            ),
            retry_at: Self::month_of(now).1,
        })
    }
}

/// A request over a limit: why, and when it may be made again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limited {
    /// A clause for the polite note ("you have asked 3 times in the last hour, …").
    pub reason: String,
    pub retry_at: DateTime<Utc>,
}

fn human(window: Duration) -> String {
    match window.as_secs() {
        3600 => "hour".to_owned(),
        86_400 => "day".to_owned(),
        s if s % 3600 == 0 => format!("{} hours", s / 3600),
        s if s % 60 == 0 => format!("{} minutes", s / 60),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{RunOutcome, UsageLine};
    use crate::gitlab::ids::{IssueIid, MergeRequestIid};

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, 10, minute, 0).unwrap()
    }

    fn answer(by: &str, noteable: Noteable, minute: u32, usd: f64) -> Answer {
        Answer {
            noteable,
            at: at(minute),
            usage: UsageLine {
                v: 1,
                by: Some(by.into()),
                usd: Some(usd),
                input: None,
                out: None,
                outcome: RunOutcome::Answered,
            },
        }
    }

    #[test]
    fn rates_read_as_requests_per_period() {
        let rate = RateLimit::parse("3/hour").unwrap();
        assert_eq!((rate.requests, rate.window.as_secs()), (3, 3600));
        assert_eq!(RateLimit::parse("20/day").unwrap().window.as_secs(), 86_400);
        assert_eq!(
            RateLimit::parse(" 5 / 30m ").unwrap().window.as_secs(),
            1800
        );
        for bad in ["", "3", "0/hour", "x/hour", "3/fortnight", "3/0", "-1/h"] {
            assert!(RateLimit::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_fourth_request_in_an_hour_waits_for_the_oldest_to_leave() {
        let rate = RateLimit::parse("3/hour").unwrap();
        let issue = Noteable::Issue(IssueIid(1));
        let other = Noteable::Issue(IssueIid(2));
        let answers = vec![
            answer("dana", issue, 5, 0.0),
            answer("dana", other, 10, 0.0),
            answer("dana", issue, 20, 0.0),
        ];
        let limited = rate
            .check(&answers, Some("dana"), issue, at(30))
            .expect("the 4th request");
        assert_eq!(limited.retry_at, at(5) + chrono::Duration::hours(1));
        assert!(
            limited.reason.contains("asked 3 times in the last hour"),
            "{}",
            limited.reason
        );
        assert!(limited.reason.contains("`AI_RATE_LIMIT=3/hour`"));
        // Someone else may ask on another item; the issue itself had only two answers.
        assert_eq!(rate.check(&answers, Some("gus"), issue, at(30)), None);
        // An hour after the first, it fits again.
        assert_eq!(
            rate.check(
                &answers,
                Some("dana"),
                issue,
                at(5) + chrono::Duration::hours(1)
            ),
            None
        );
    }

    #[test]
    fn an_issue_answered_often_is_limited_whoever_asks() {
        let rate = RateLimit::parse("2/hour").unwrap();
        let mr = Noteable::MergeRequest(MergeRequestIid(4));
        let answers = vec![answer("dana", mr, 1, 0.0), answer("gus", mr, 2, 0.0)];
        let limited = rate.check(&answers, Some("ann"), mr, at(3)).unwrap();
        assert!(
            limited
                .reason
                .starts_with("this merge request was answered 2 times")
        );
        assert_eq!(limited.retry_at, at(1) + chrono::Duration::hours(1));
    }

    #[test]
    fn the_monthly_budget_sums_this_months_answers() {
        let budget = MonthlyBudget::parse("$1.00").unwrap();
        let issue = Noteable::Issue(IssueIid(1));
        let mut answers = vec![answer("dana", issue, 1, 0.6), answer("gus", issue, 2, 0.3)];
        // Last month's and nonsense costs count nothing.
        answers.push(Answer {
            at: Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).unwrap(),
            ..answer("dana", issue, 0, 5.0)
        });
        answers.push(answer("eve", issue, 3, -10.0));
        assert_eq!(budget.check(&answers, at(10)), None);
        answers.push(answer("dana", issue, 4, 0.2));
        let limited = budget.check(&answers, at(10)).expect("spent");
        assert_eq!(
            limited.retry_at,
            Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
        );
        assert!(
            limited.reason.contains("about $1.10 this month"),
            "{}",
            limited.reason
        );
        for bad in ["0", "-3", "lots"] {
            assert!(MonthlyBudget::parse(bad).is_err());
        }
    }
}
