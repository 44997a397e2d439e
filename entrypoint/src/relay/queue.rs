//! The bounded queue between the HTTP handler and the workers. The handler only enqueues, so it
//! answers GitLab within milliseconds; when the queue is full it says so (503) and GitLab retries
//! later, instead of the relay dropping a mention silently.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;

use super::answer::{Context, answer};
use super::intake::Mention;
use super::stats::bump;

/// The sending side, held by the HTTP handler.
#[derive(Clone, Debug)]
pub struct Queue {
    tx: mpsc::Sender<Mention>,
}

/// The queue has no room for a delivery's mentions.
#[derive(Debug, thiserror::Error)]
#[error("the relay's queue is full")]
pub struct Full;

impl Queue {
    /// Queues all of `mentions` or none of them.
    pub fn push_all(&self, mentions: Vec<Mention>, ctx: &Context) -> Result<(), Full> {
        let permits = self.tx.try_reserve_many(mentions.len()).map_err(|_| Full)?;
        for (permit, mention) in permits.zip(mentions) {
            bump(&ctx.stats.queued);
            permit.send(mention);
        }
        Ok(())
    }
}

/// Starts `workers` workers behind a queue of `capacity` mentions. The returned task ends when
/// every [`Queue`] is dropped and every queued mention has been handled: that is the drain.
pub fn start(capacity: usize, workers: usize, ctx: Arc<Context>) -> (Queue, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Mention>(capacity.max(1));
    let workers = workers.max(1);
    let dispatcher = tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(workers));
        while let Some(mention) = rx.recv().await {
            let Ok(slot) = Arc::clone(&slots).acquire_owned().await else {
                break;
            };
            let ctx = Arc::clone(&ctx);
            tokio::spawn(async move {
                answer(&ctx, &mention).await;
                drop(slot);
            });
        }
        // Every worker holds a slot until it is done; taking them all waits for the last.
        let total = u32::try_from(workers).unwrap_or(u32::MAX);
        let _ = slots.acquire_many(total).await;
    });
    (Queue { tx }, dispatcher)
}
