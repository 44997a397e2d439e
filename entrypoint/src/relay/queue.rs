//! The queue between the HTTP handler and the workers. The handler only enqueues, so it answers
//! GitLab within milliseconds.
//!
//! A full queue must not lose a mention: GitLab never sends a delivery again by itself (a
//! non-2xx answer or a timeout is logged as a failure by `WebHookService#execute`,
//! `app/services/web_hook_service.rb`, and counts toward disabling the hook; only a person's
//! "Resend request" repeats it: <https://docs.gitlab.com/user/project/integrations/webhooks/#troubleshooting>).
//! So beyond `queue_capacity` mentions the relay keeps deliveries as **overflow**, in memory, up
//! to `overflow_bytes` of delivery bodies. (With a spool directory every accepted delivery is
//! also on disk until answered, queue and overflow alike: [`super::spool`].) Only past that bound
//! is a delivery refused (503, with a log line naming the note, see [`super::routes`]).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;

use super::answer::{Context, answer};
use super::intake::Mention;
use super::stats::bump;

/// The sending side, held by the HTTP handler and the spool's replay.
#[derive(Clone, Debug)]
pub struct Queue {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    wake: Notify,
    capacity: usize,
    overflow_budget: usize,
}

#[derive(Debug, Default)]
struct State {
    waiting: VecDeque<(Mention, Tier)>,
    in_queue: usize,
    overflow_bytes: usize,
    closed: bool,
}

/// Where a waiting mention is counted.
#[derive(Clone, Copy, Debug)]
enum Tier {
    /// One of the `capacity` queue places.
    Queue,
    /// Overflow, charged this many bytes (the delivery's size on its first mention, 0 on the
    /// others).
    Overflow(usize),
}

/// The queue and its overflow have no room for a delivery's mentions.
#[derive(Debug, thiserror::Error)]
#[error("the relay's queue and its overflow (overflow_bytes / AI_RELAY_OVERFLOW_BYTES) are full")]
pub struct Full;

/// Where a delivery's mentions went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admitted {
    /// Into the queue.
    Queued,
    /// Into the overflow, behind the queue.
    Overflow,
}

impl Queue {
    /// Takes all of `mentions` (from one delivery of `bytes` bytes) into the queue if there is
    /// room, else into the overflow if its budget allows, else none of them.
    pub(crate) fn push_all(
        &self,
        mentions: Vec<Mention>,
        bytes: usize,
        ctx: &Context,
    ) -> Result<Admitted, Full> {
        let admitted = {
            let mut state = self.lock();
            if state.closed {
                return Err(Full);
            }
            if state.in_queue + mentions.len() <= self.shared.capacity {
                state.in_queue += mentions.len();
                for mention in mentions {
                    state.waiting.push_back((mention, Tier::Queue));
                }
                Admitted::Queued
            } else if state.overflow_bytes + bytes <= self.shared.overflow_budget {
                state.overflow_bytes += bytes;
                for (index, mention) in mentions.into_iter().enumerate() {
                    let charge = if index == 0 { bytes } else { 0 };
                    state.waiting.push_back((mention, Tier::Overflow(charge)));
                }
                Admitted::Overflow
            } else {
                return Err(Full);
            }
        };
        bump(&ctx.stats.queued);
        if admitted == Admitted::Overflow {
            bump(&ctx.stats.overflowed);
        }
        self.shared.wake.notify_one();
        Ok(admitted)
    }

    /// Takes mentions read back from the spool at start, whatever the budget: they were
    /// accepted before, and refusing them now would lose them.
    pub(crate) fn push_recovered(&self, mentions: Vec<Mention>, bytes: usize, ctx: &Context) {
        {
            let mut state = self.lock();
            state.overflow_bytes += bytes;
            for (index, mention) in mentions.into_iter().enumerate() {
                let charge = if index == 0 { bytes } else { 0 };
                state.waiting.push_back((mention, Tier::Overflow(charge)));
            }
        }
        bump(&ctx.stats.queued);
        self.shared.wake.notify_one();
    }

    /// No more deliveries: the dispatcher ends once everything waiting is handled.
    pub fn close(&self) {
        self.lock().closed = true;
        self.shared.wake.notify_one();
    }

    /// Mentions waiting for a worker, in the queue and in the overflow.
    pub fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-changed (every change is
        // a push or pop plus counters), so a poisoned lock is still usable.
        self.shared
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next mention, waiting for one; `None` once closed and empty.
    async fn next(&self) -> Option<Mention> {
        loop {
            {
                let mut state = self.lock();
                if let Some((mention, tier)) = state.waiting.pop_front() {
                    match tier {
                        Tier::Queue => state.in_queue -= 1,
                        Tier::Overflow(bytes) => state.overflow_bytes -= bytes,
                    }
                    return Some(mention);
                }
                if state.closed {
                    return None;
                }
            }
            self.shared.wake.notified().await;
        }
    }
}

/// Starts `workers` workers behind a queue of `capacity` mentions plus `overflow_budget` bytes
/// of overflow. The returned task ends when [`Queue::close`] was called and every waiting
/// mention has been handled: that is the drain.
pub fn start(
    capacity: usize,
    overflow_budget: usize,
    workers: usize,
    ctx: Arc<Context>,
) -> (Queue, JoinHandle<()>) {
    let queue = Queue {
        shared: Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            capacity: capacity.max(1),
            overflow_budget,
        }),
    };
    let workers = workers.max(1);
    let reader = queue.clone();
    let dispatcher = tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(workers));
        loop {
            // A slot first, then the mention: a mention stays counted as waiting (and in the
            // budget) until a worker really takes it.
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let Some(mention) = reader.next().await else {
                break;
            };
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                answer(&ctx, &mention).await;
                drop(mention);
                drop(slot);
            });
        }
        // Every worker holds a slot until it is done; taking them all waits for the last.
        let total = u32::try_from(workers).unwrap_or(u32::MAX);
        let _ = slots.acquire_many(total).await;
    });
    (queue, dispatcher)
}
