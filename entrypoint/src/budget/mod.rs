//! When and how much the assistant may work: the per-run limits (`AI_MAX_BUDGET_USD`,
//! `AI_MAX_TURNS`), and what a run cost.
//!
//! Claude Code enforces both limits itself (`--max-budget-usd`, `--max-turns`) and reports its
//! cost. Codex has neither and reports tokens only, so for Codex the key proxy meters every
//! model answer ([`meter`]) against the documented [`price`] table and refuses the next model
//! call once a limit is reached; Codex then ends its run and the job publishes what it did.

pub mod meter;
pub mod price;
pub mod usage;

pub use meter::{Meter, MeterTotals, RunLimits};
pub use price::{Price, PriceError};
pub use usage::{RunOutcome, UsageLine, UsageRecord};
