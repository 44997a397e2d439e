//! What a Codex run costs: OpenAI's list prices per million tokens, so the entrypoint can stop a
//! run at `AI_MAX_BUDGET_USD` (Codex reports tokens, never dollars).
//!
//! The table is OpenAI's published standard-tier price per 1M tokens
//! (<https://platform.openai.com/docs/pricing>): input, cached input, output. A model it does
//! not list is priced at the highest rate of each column, so an unknown model stops early
//! rather than late; `AI_PRICE_PER_MTOK` sets the rates of the model actually used (a gateway,
//! a negotiated price, a model newer than this table). docs/configuration.md shows the table.

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    /// Prompt tokens served from the cache (the Responses API's
    /// `usage.input_tokens_details.cached_tokens`, part of `input_tokens`).
    pub cached_input: f64,
    pub output: f64,
}

/// `AI_PRICE_PER_MTOK` cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "AI_PRICE_PER_MTOK={0:?} is not a price: write the USD per million tokens as input/cached input/output, for example 1.25/0.125/10"
)]
pub struct PriceError(pub String);

/// OpenAI's list prices (USD per 1M tokens: input, cached input, output), as published on
/// <https://platform.openai.com/docs/pricing>.
pub(crate) const OPENAI_PRICES: &[(&str, Price)] = &[
    ("gpt-5", p(1.25, 0.125, 10.0)),
    ("gpt-5-codex", p(1.25, 0.125, 10.0)),
    ("gpt-5-mini", p(0.25, 0.025, 2.0)),
    ("gpt-5-nano", p(0.05, 0.005, 0.40)),
    ("gpt-5.1", p(1.25, 0.125, 10.0)),
    ("gpt-5.1-codex", p(1.25, 0.125, 10.0)),
    ("gpt-5.1-codex-mini", p(0.25, 0.025, 2.0)),
    ("gpt-4.1", p(2.0, 0.50, 8.0)),
    ("gpt-4.1-mini", p(0.40, 0.10, 1.60)),
    ("o3", p(2.0, 0.50, 8.0)),
    ("o4-mini", p(1.10, 0.275, 4.40)),
    ("codex-mini-latest", p(1.50, 0.375, 6.0)),
];

const fn p(input: f64, cached_input: f64, output: f64) -> Price {
    Price {
        input,
        cached_input,
        output,
    }
}

impl Price {
    /// The listed price of `model` (a dated snapshot such as `o4-mini-2025-04-16` is priced as
    /// its model), or `None`.
    pub fn listed(model: &str) -> Option<Self> {
        let model = model.trim();
        let base = strip_snapshot_date(model);
        OPENAI_PRICES
            .iter()
            .find(|(name, _)| *name == model || *name == base)
            .map(|(_, price)| *price)
    }

    /// The highest rate of each column: what an unlisted model is charged.
    pub fn ceiling() -> Self {
        OPENAI_PRICES
            .iter()
            .fold(p(0.0, 0.0, 0.0), |max, (_, p)| Price {
                input: max.input.max(p.input),
                cached_input: max.cached_input.max(p.cached_input),
                output: max.output.max(p.output),
            })
    }

    /// `AI_PRICE_PER_MTOK`: `input/cached/output` in USD per million tokens.
    pub fn parse(text: &str) -> Result<Self, PriceError> {
        let error = || PriceError(text.to_owned());
        let numbers: Vec<f64> = text
            .split('/')
            .map(|part| part.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|_| error())?;
        match numbers[..] {
            [input, cached_input, output]
                if [input, cached_input, output]
                    .iter()
                    .all(|n| n.is_finite() && *n >= 0.0) =>
            {
                Ok(p(input, cached_input, output))
            }
            _ => Err(error()),
        }
    }

    /// The cost of one answer: `input` counts every prompt token, `cached` of them at the
    /// cached rate.
    pub fn cost(&self, input: u64, cached: u64, output: u64) -> f64 {
        let cached = cached.min(input);
        let million = 1_000_000.0;
        ((input - cached) as f64 * self.input
            + cached as f64 * self.cached_input
            + output as f64 * self.output)
            / million
    }
}

/// `o4-mini-2025-04-16` → `o4-mini`.
fn strip_snapshot_date(model: &str) -> &str {
    let bytes = model.as_bytes();
    if bytes.len() > 11 {
        let (base, date) = model.split_at(model.len() - 11);
        let d = date.as_bytes();
        let digits = |range: std::ops::Range<usize>| d[range].iter().all(u8::is_ascii_digit);
        if d[0] == b'-'
            && digits(1..5)
            && d[5] == b'-'
            && digits(6..8)
            && d[8] == b'-'
            && digits(9..11)
        {
            return base;
        }
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_models_and_their_snapshots_have_a_price() {
        assert_eq!(Price::listed("o4-mini"), Some(p(1.10, 0.275, 4.40)));
        assert_eq!(
            Price::listed("o4-mini-2025-04-16"),
            Some(p(1.10, 0.275, 4.40))
        );
        assert_eq!(Price::listed("gpt-5.5"), None);
        assert_eq!(Price::listed("o4-mini-latest"), None);
        assert_eq!(Price::ceiling(), p(2.0, 0.50, 10.0));
    }

    #[test]
    fn cost_charges_cached_tokens_at_their_rate() {
        let price = p(1.0, 0.1, 10.0);
        // 900k uncached, 100k cached, 10k out.
        let cost = price.cost(1_000_000, 100_000, 10_000);
        assert!((cost - (0.9 + 0.01 + 0.1)).abs() < 1e-9, "{cost}");
        // More cached than input (a confused answer) never goes negative.
        assert!(price.cost(10, 50, 0) >= 0.0);
    }

    #[test]
    fn the_override_reads_three_rates() {
        assert_eq!(
            Price::parse(" 1.25 / 0.125 / 10 "),
            Ok(p(1.25, 0.125, 10.0))
        );
        for bad in ["", "1/2", "1/2/3/4", "a/b/c", "-1/0/0", "NaN/1/1"] {
            assert!(Price::parse(bad).is_err(), "{bad}");
        }
    }
}
