//! The key proxy's meter for Codex: counts model calls, reads the usage of every answer as it
//! streams through, prices it ([`super::price`]) and refuses the next model call once the run
//! reached `AI_MAX_BUDGET_USD` or `AI_MAX_TURNS`.
//!
//! Codex's own `--json` output reports usage once, when the whole task is over
//! (`turn.completed`), too late to stop anything; the proxy sees each answer's usage as it
//! arrives. An answer in flight is never cut: the limit takes effect at the next call, so a run
//! may exceed its budget by at most one model call (Claude Code's `--max-budget-usd` behaves the
//! same way). The refusal is an HTTP 400, on which Codex 0.169.0 gives up at once.
//!
//! Usage comes from the Responses API's terminal stream events (`response.completed`,
//! `response.incomplete`, `response.failed`), whose `response.usage` holds `input_tokens`
//! (cached ones included), `input_tokens_details.cached_tokens` and `output_tokens`
//! (<https://platform.openai.com/docs/api-reference/responses-streaming>).

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::price::Price;
use super::usage::{Limit, Usage};

/// The limits one run is held to.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunLimits {
    /// `AI_MAX_BUDGET_USD`.
    pub max_usd: Option<f64>,
    /// `AI_MAX_TURNS`: for Codex, model calls.
    pub max_turns: Option<u32>,
}

/// What the meter counted.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeterTotals {
    /// Model calls let through.
    pub calls: u32,
    pub usage: Usage,
    pub cost_usd: f64,
    /// The limit that refused a call, if one did.
    pub stopped: Option<Limit>,
}

/// Shared by the proxy's request handlers and the run that reads the totals afterwards.
#[derive(Debug)]
pub struct Meter {
    limits: RunLimits,
    /// `AI_PRICE_PER_MTOK`, which wins over the table.
    price_override: Option<Price>,
    totals: Mutex<MeterTotals>,
}

impl Meter {
    pub fn new(limits: RunLimits, price_override: Option<Price>) -> Self {
        Self {
            limits,
            price_override,
            totals: Mutex::new(MeterTotals::default()),
        }
    }

    fn totals_mut(&self) -> std::sync::MutexGuard<'_, MeterTotals> {
        // A handler that panicked mid-update leaves numbers that are still the best we have.
        self.totals.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lets one model call through and counts it, or names the limit that refuses it.
    pub(crate) fn admit(&self) -> Result<(), Limit> {
        let mut totals = self.totals_mut();
        if let Some(limit) = totals.stopped {
            return Err(limit);
        }
        let reached = if self
            .limits
            .max_usd
            .is_some_and(|max| totals.cost_usd >= max)
        {
            Some(Limit::Budget)
        } else if self.limits.max_turns.is_some_and(|max| totals.calls >= max) {
            Some(Limit::Turns)
        } else {
            None
        };
        match reached {
            Some(limit) => {
                totals.stopped = Some(limit);
                Err(limit)
            }
            None => {
                totals.calls += 1;
                Ok(())
            }
        }
    }

    /// Adds one answer's usage, priced for the model the answer names.
    pub fn record(&self, model: Option<&str>, input: u64, cached: u64, output: u64) {
        let price = self
            .price_override
            .or_else(|| model.and_then(Price::listed))
            .unwrap_or_else(Price::ceiling);
        let mut totals = self.totals_mut();
        totals.usage.input += input;
        totals.usage.output += output;
        totals.cost_usd += price.cost(input, cached, output);
    }

    pub(crate) fn totals(&self) -> MeterTotals {
        *self.totals_mut()
    }

    /// A reader for one streamed answer.
    pub fn stream(self: &Arc<Self>) -> StreamUsage {
        StreamUsage {
            meter: Arc::clone(self),
            line: Vec::new(),
        }
    }
}

/// Reads the Server-Sent Events of one answer chunk by chunk (a chunk may end mid-line) and
/// records the usage its terminal event carries.
pub struct StreamUsage {
    meter: Arc<Meter>,
    line: Vec<u8>,
}

impl StreamUsage {
    pub fn feed(&mut self, chunk: &[u8]) {
        for byte in chunk {
            if *byte == b'\n' {
                let line = std::mem::take(&mut self.line);
                self.line_done(&line);
            } else {
                self.line.push(*byte);
            }
        }
    }

    /// An answer that is not a stream (`stream: false`) is one JSON body.
    pub fn finish(mut self) {
        let rest = std::mem::take(&mut self.line);
        self.line_done(&rest);
    }

    fn line_done(&mut self, line: &[u8]) {
        let Ok(line) = std::str::from_utf8(line) else {
            return;
        };
        let line = line.trim_end_matches('\r');
        let Some(data) = line.strip_prefix("data:") else {
            return;
        };
        let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
            return;
        };
        let terminal = matches!(
            event.get("type").and_then(Value::as_str),
            Some("response.completed" | "response.incomplete" | "response.failed")
        );
        if !terminal {
            return;
        }
        let Some(response) = event.get("response") else {
            return;
        };
        let Some(usage) = response.get("usage").filter(|u| u.is_object()) else {
            return;
        };
        let count = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
        self.meter.record(
            response.get("model").and_then(Value::as_str),
            count("/input_tokens"),
            count("/input_tokens_details/cached_tokens"),
            count("/output_tokens"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn completed(model: &str, input: u64, cached: u64, output: u64) -> String {
        format!(
            "event: response.completed\ndata: {}\n\n",
            serde_json::json!({
                "type": "response.completed",
                "response": {"model": model, "usage": {
                    "input_tokens": input,
                    "input_tokens_details": {"cached_tokens": cached},
                    "output_tokens": output,
                }}
            })
        )
    }

    #[test]
    fn usage_is_read_across_chunk_boundaries_and_priced_by_model() {
        let meter = Arc::new(Meter::new(RunLimits::default(), None));
        let text = format!(
            "event: response.created\ndata: {{\"type\":\"response.created\",\"response\":{{\"usage\":null}}}}\n\n{}",
            completed("o4-mini", 1_000_000, 0, 100_000)
        );
        let mut stream = meter.stream();
        for chunk in text.as_bytes().chunks(7) {
            stream.feed(chunk);
        }
        stream.finish();
        let totals = meter.totals();
        assert_eq!(
            totals.usage,
            Usage {
                input: 1_000_000,
                output: 100_000
            }
        );
        assert!((totals.cost_usd - (1.10 + 0.44)).abs() < 1e-9, "{totals:?}");
    }

    #[test]
    fn an_unlisted_model_is_charged_the_ceiling_unless_a_price_is_set() {
        let meter = Arc::new(Meter::new(RunLimits::default(), None));
        let mut stream = meter.stream();
        stream.feed(completed("gpt-9", 1_000_000, 0, 0).as_bytes());
        assert!((meter.totals().cost_usd - Price::ceiling().input).abs() < 1e-9);
        let priced = Arc::new(Meter::new(
            RunLimits::default(),
            Some(Price {
                input: 0.5,
                cached_input: 0.0,
                output: 0.0,
            }),
        ));
        priced
            .stream()
            .feed(completed("o4-mini", 1_000_000, 0, 0).as_bytes());
        assert!((priced.totals().cost_usd - 0.5).abs() < 1e-9);
    }

    #[test]
    fn the_call_after_the_budget_is_spent_is_refused_and_stays_refused() {
        let meter = Meter::new(
            RunLimits {
                max_usd: Some(1.0),
                max_turns: None,
            },
            None,
        );
        assert_eq!(meter.admit(), Ok(()));
        meter.record(Some("o4-mini"), 500_000, 0, 0);
        assert_eq!(meter.admit(), Ok(()), "$0.55 of $1 spent");
        meter.record(Some("o4-mini"), 500_000, 0, 0);
        assert_eq!(meter.admit(), Err(Limit::Budget));
        assert_eq!(meter.admit(), Err(Limit::Budget));
        let totals = meter.totals();
        assert_eq!(totals.calls, 2);
        assert_eq!(totals.stopped, Some(Limit::Budget));
    }

    #[test]
    fn turns_count_model_calls() {
        let meter = Meter::new(
            RunLimits {
                max_usd: None,
                max_turns: Some(2),
            },
            None,
        );
        assert_eq!(meter.admit(), Ok(()));
        assert_eq!(meter.admit(), Ok(()));
        assert_eq!(meter.admit(), Err(Limit::Turns));
        assert_eq!(meter.totals().calls, 2);
    }
}
