//! The in-memory fast path against duplicates: a delivery GitLab re-sends (same
//! `Idempotency-Key`, <https://gitlab.com/gitlab-org/gitlab/-/issues/388692>), the same event
//! reaching a project and a group webhook (same `X-Gitlab-Event-UUID`), or the same note arriving
//! again under a new id. It only saves API calls inside one process: the lock that holds across
//! replicas and restarts is the claim ([`crate::claim`]), which every mention still takes.
//!
//! It remembers only what this process answered (pipeline started, or refused) or is answering
//! now. A mention that failed, or that another replica, job or scan held
//! ([`super::answer::Outcome::ClaimedElsewhere`]), is forgotten at once: that claimer may die
//! before handing over, and GitLab's "Resend request" after its lease expired must reach the
//! claim, which then takes the mention over, instead of being swallowed here for the TTL.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// What identifies a delivery or a mention, each for one assistant (a note asking both is two
/// mentions, remembered and forgotten separately).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    /// `Idempotency-Key`: stable across GitLab's retries and "Resend request".
    Delivery(String, &'static str),
    /// `X-Gitlab-Event-UUID`: one per event, shared by every hook it is sent to.
    Event(String, &'static str),
    /// A note id.
    Mention(u64, &'static str),
    /// An issue or merge request event: project, issue or merge request and the event's time,
    /// as the claim names it ([`crate::claim::Subject::Event`]).
    Request(String, &'static str),
}

/// Keys seen recently, forgotten after a time-to-live so memory stays bounded.
#[derive(Debug)]
pub struct Seen {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    at: HashMap<Key, Instant>,
    /// Insertion order, oldest first, for expiry and eviction in constant time per key.
    order: VecDeque<(Key, Instant)>,
}

impl Entries {
    fn pop_oldest(&mut self) {
        if let Some((key, at)) = self.order.pop_front()
            && self.at.get(&key) == Some(&at)
        {
            self.at.remove(&key);
        }
    }
}

impl Seen {
    /// Remembers keys for `ttl`, at most `capacity` of them (the oldest go first when full).
    pub fn new(ttl: Duration, capacity: usize) -> Self {
        Self {
            ttl,
            capacity: capacity.max(1),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Records `keys`; false (and nothing recorded) when any of them was seen within the TTL.
    pub(crate) fn first_time(&self, keys: &[Key]) -> bool {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let fresh = |at: &Instant| now.duration_since(*at) < self.ttl;
        while entries.order.front().is_some_and(|(_, at)| !fresh(at)) {
            entries.pop_oldest();
        }
        if keys.iter().any(|k| entries.at.contains_key(k)) {
            return false;
        }
        while !entries.order.is_empty() && entries.order.len() + keys.len() > self.capacity {
            entries.pop_oldest();
        }
        for key in keys {
            entries.at.insert(key.clone(), now);
            entries.order.push_back((key.clone(), now));
        }
        true
    }

    /// Forgets `keys`, so a re-sent delivery is tried again (after a refused or failed attempt).
    pub fn forget(&self, keys: &[Key]) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            entries.at.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_seen_once_is_a_duplicate_until_forgotten_or_expired() {
        let seen = Seen::new(Duration::from_secs(60), 100);
        let a = [
            Key::Delivery("a".into(), "claude"),
            Key::Mention(1, "claude"),
        ];
        assert!(seen.first_time(&a));
        assert!(!seen.first_time(&[
            Key::Delivery("b".into(), "claude"),
            Key::Mention(1, "claude")
        ]));
        assert!(seen.first_time(&[Key::Mention(1, "codex")]));
        seen.forget(&a);
        assert!(seen.first_time(&a));

        let short = Seen::new(Duration::ZERO, 100);
        assert!(short.first_time(&a));
        assert!(short.first_time(&a));
    }

    #[test]
    fn the_oldest_keys_make_room_when_full() {
        let seen = Seen::new(Duration::from_secs(60), 2);
        assert!(seen.first_time(&[Key::Event("1".into(), "codex")]));
        assert!(seen.first_time(&[Key::Event("2".into(), "codex")]));
        assert!(seen.first_time(&[Key::Event("3".into(), "codex")]));
        assert!(
            seen.first_time(&[Key::Event("1".into(), "codex")]),
            "evicted"
        );
        assert!(!seen.first_time(&[Key::Event("3".into(), "codex")]));
    }
}
