//! Peak memory of mention detection on a large note: what a maximal comment costs the relay
//! (which parses every delivery) and the job.
//!
//! `cargo run --release -p entrypoint --example mention_memory -- KIND MEGABYTES`, one note per
//! process so the peak (`VmHWM` from `/proc/self/status`) belongs to that note alone. KIND:
//! `prose` (sentences with a mention per line), `markdown` (emphasis, code, links, lists and
//! quotes on every line), `wide` (4-byte characters, the most bytes per GitLab character),
//! `brackets` (unclosed `[`, `*` and `` ` ``), `words` (one-letter words), `mentions` (nothing
//! but mentions), `list` (one-character list items), `emphasis` (`*a*_b_`: a delimiter every
//! other byte).
//!
//! Prints the note's size, the resident peak before and after, and the ratio of the growth to
//! the note's size.

use std::time::Instant;

use entrypoint::agent::Handles;
use entrypoint::mention::find_mentions;

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

fn note(kind: &str, bytes: usize) -> Option<String> {
    let line = match kind {
        "prose" => "please @claude look at the failing build on this branch, line {n}\n",
        "markdown" => "- *a* **b** `c` [d](https://e.example/{n}) ~~f~~ > g @claude\n",
        "wide" => "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝔱𝔢𝔵𝔱 {n} @claude 𝔞𝔫𝔡 𝔪𝔬𝔯𝔢\n",
        "brackets" => "[a *b `c [d *e `f @claude {n} ",
        "words" => "a b c d e f g h i j k l m n o p q r s t u v w x y z @claude {n}\n",
        "mentions" => "@claude @codex ",
        "list" => "- a\n",
        "emphasis" => "*a*_b_",
        _ => return None,
    };
    let mut text = String::with_capacity(bytes + 128);
    text.push_str("@claude please read all of this\n\n");
    let mut n = 0u64;
    while text.len() < bytes {
        text.push_str(&line.replace("{n}", &n.to_string()));
        n += 1;
    }
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    Some(text)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let kind = args.next().unwrap_or_else(|| "prose".to_owned());
    let megabytes: f64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let Some(text) = note(&kind, (megabytes * 1_000_000.0) as usize) else {
        eprintln!(
            "unknown KIND {kind:?}: prose, markdown, wide, brackets, words, mentions, list or emphasis"
        );
        std::process::exit(2);
    };
    let before = vm_hwm_kib();
    let started = Instant::now();
    let mentions = find_mentions(&text, &Handles::default());
    let elapsed = started.elapsed();
    let after = vm_hwm_kib();
    let growth = after.saturating_sub(before) as f64 * 1024.0;
    println!(
        "{kind:9} note {:>9} bytes: peak RSS {:>7} KiB -> {:>7} KiB (+{:.1} MB, {:.2}x the note), {} mention(s), {:.0} ms",
        text.len(),
        before,
        after,
        growth / 1e6,
        growth / text.len() as f64,
        mentions.len(),
        elapsed.as_secs_f64() * 1000.0
    );
}
