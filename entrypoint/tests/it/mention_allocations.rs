//! What mention detection allocates on a maximal comment: a counting global allocator records
//! the peak of live heap bytes while `find_mentions` reads a 1 MB note written as one single
//! line, which the relay does for every delivery. Counting bytes is deterministic (no timing,
//! no resident-set noise): the bound fails when the parser's tree grows with the note again
//! (one whole parse of such a line kept 24-80 bytes per byte of note).
//!
//! The allocator is the whole test binary's (every story of `entrypoint/tests/it`), which costs
//! the other stories two atomic additions per allocation; the peak is this test's alone because
//! nextest runs each test in a process of its own.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use entrypoint::agent::Handles;
use entrypoint::mention::find_mentions;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on to `System`.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on to `System`.
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// `unit` repeated on one line to `bytes`, after a first line that mentions the assistant.
fn one_line(unit: &str, bytes: usize) -> String {
    let mut text = String::from("@claude please read all of this\n\n");
    while text.len() < bytes {
        text.push_str(unit);
    }
    text
}

/// The peak of heap bytes live at once while `find_mentions` reads `note`, above what was live
/// before.
fn peak_while_reading(note: &str) -> usize {
    let handles = Handles::default();
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let mentions = find_mentions(note, &handles);
    assert!(!mentions.is_empty(), "the first line's mention is found");
    drop(mentions);
    PEAK.load(Ordering::SeqCst) - before
}

// One test in this binary, so no other test allocates while it counts.
#[test]
fn a_one_megabyte_single_line_note_costs_a_few_times_its_size() {
    // The bound: a few bytes per byte of note. A note of nothing but mentions costs more, for
    // the mentions found (one record, and the removal ranges, per mention), not for the parse.
    for (kind, unit, bound) in [
        ("emphasis", "*a*_b_", 8.0),
        (
            "words",
            "a b c d e f g h i j k l m n o p q r s t u v w x y z @claude ",
            8.0,
        ),
        (
            "markdown",
            "*a* **b** `c` [d](https://e.example/f) ~~g~~ <i>h</i> @claude ",
            8.0,
        ),
        ("mentions", "@claude @codex ", 20.0),
    ] {
        let note = one_line(unit, 1_000_000);
        let peak = peak_while_reading(&note);
        let ratio = peak as f64 / note.len() as f64;
        eprintln!(
            "{kind:9} {} bytes: peak {peak} bytes live ({ratio:.1}x)",
            note.len()
        );
        assert!(
            ratio < bound,
            "{kind}: {peak} bytes for a {} byte note ({ratio:.1}x)",
            note.len()
        );
    }
}
