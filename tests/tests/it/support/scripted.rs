//! A model double started from its turns in one call, for the stories whose script is only a
//! list of turns (the doubles themselves take a [`Script`], built turn by turn).

use doubles::model::{ModelDouble, Script, Turn, anthropic, openai};

/// The Anthropic double (what Claude Code talks to) answering `turns` in order.
pub async fn claude(turns: impl IntoIterator<Item = Turn>) -> ModelDouble {
    anthropic::start(script(turns)).await.unwrap()
}

/// The OpenAI double (what Codex talks to) answering `turns` in order.
pub async fn codex(turns: impl IntoIterator<Item = Turn>) -> ModelDouble {
    openai::start(script(turns)).await.unwrap()
}

/// [`claude`] answering each model request with the next of `texts`.
pub async fn claude_saying(texts: &[&str]) -> ModelDouble {
    claude(texts.iter().map(|text| Turn::text(*text))).await
}

fn script(turns: impl IntoIterator<Item = Turn>) -> Script {
    turns.into_iter().fold(Script::new(), Script::then)
}
