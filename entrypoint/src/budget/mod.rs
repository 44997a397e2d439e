//! When and how much the assistant may work: the per-run limits (`AI_MAX_BUDGET_USD`,
//! `AI_MAX_TURNS`), what a run cost ([`usage`]), and the limits over many runs
//! (`AI_RATE_LIMIT`, `AI_MONTHLY_BUDGET_USD`, [`rate`]) read back from the bot's own answers
//! ([`ledger`]).
//!
//! Claude Code enforces both limits itself (`--max-budget-usd`, `--max-turns`) and reports its
//! cost. Codex has neither and reports tokens only, so for Codex the key proxy meters every
//! model answer ([`meter`]) against the documented [`price`] table and refuses the next model
//! call once a limit is reached; Codex then ends its run and the job publishes what it did.

pub mod ledger;
pub mod meter;
pub mod price;
pub mod rate;
pub mod usage;

pub use meter::{Meter, MeterTotals, RunLimits};
pub use price::{Price, PriceError};
pub use rate::{LimitError, Limited, MonthlyBudget, RateLimit};
pub use usage::{RunOutcome, UsageLine, UsageRecord};
