//! Push mode: a verified Zendesk webhook names a changed ticket; it waits here (once, however
//! many events name it) and is read at once, whole (the ticket, then every audit), through the
//! same apply path as the exports. Its facts are then complete through the change that read
//! saw, so its clocks,
//! alerts, escalations and KPI row move within seconds. The export polls stay the source of
//! truth: what a webhook missed, they bring, as before.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tracing::Instrument;

use super::apply::{apply_audit, apply_ticket, Source};
use super::engine::{Engine, EngineError};
use crate::store::{StoreError, TicketRecord};
use crate::sync::{blocking, lock};
use crate::zendesk::client::{Pacing, ZendeskError};
use crate::zendesk::models::{Ticket, TicketEvent};

/// What became of a ticket a webhook named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// It waits for its read.
    Queued,
    /// A read of it waits already, and will see this change too.
    Coalesced,
    /// As many tickets as the queue holds wait already: Zendesk is asked to retry later.
    Full,
}

/// The tickets waiting for a read, each once, oldest first; bounded, so a flood of events
/// keeps memory flat.
pub struct PushQueue {
    waiting: Mutex<Waiting>,
    capacity: usize,
    /// Woken when a ticket is queued.
    wake: tokio::sync::Notify,
}

#[derive(Default)]
struct Waiting {
    order: VecDeque<(u64, Instant)>,
    queued: HashSet<u64>,
    /// Being read now: not handed to a second reader, whose snapshot could be applied first.
    reading: HashSet<u64>,
}

impl PushQueue {
    pub fn new(capacity: usize) -> PushQueue {
        PushQueue {
            waiting: Mutex::new(Waiting::default()),
            capacity: capacity.max(1),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Queues a read of `ticket` unless one waits already. A ticket being read right now is
    /// queued again: that read may have started before this change.
    pub fn offer(&self, ticket: u64) -> Offer {
        let mut waiting = lock(&self.waiting);
        if waiting.queued.contains(&ticket) {
            return Offer::Coalesced;
        }
        if waiting.order.len() >= self.capacity {
            return Offer::Full;
        }
        waiting.queued.insert(ticket);
        waiting.order.push_back((ticket, Instant::now()));
        drop(waiting);
        self.wake.notify_one();
        Offer::Queued
    }

    /// The ticket waiting longest that no reader holds, and since when; the caller reads it
    /// and says when it is `done`.
    fn next(&self) -> Option<(u64, Instant)> {
        let mut waiting = lock(&self.waiting);
        let position = waiting.order.iter().position(|(id, _)| !waiting.reading.contains(id))?;
        let next = waiting.order.remove(position)?;
        waiting.queued.remove(&next.0);
        waiting.reading.insert(next.0);
        Some(next)
    }

    /// `ticket`'s read is over: a change named meanwhile may now be read.
    fn done(&self, ticket: u64) {
        let mut waiting = lock(&self.waiting);
        waiting.reading.remove(&ticket);
        if waiting.queued.contains(&ticket) {
            drop(waiting);
            self.wake.notify_one();
        }
    }

    pub fn len(&self) -> usize {
        lock(&self.waiting).order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Push mode's state: the signing secret (from the environment) and the queue.
pub struct Push {
    pub secret: String,
    pub queue: PushQueue,
}

impl Engine {
    /// Reads one pushed ticket whole and applies it. A ticket Zendesk no longer shows (deleted,
    /// merged) is left to the exports, which say which.
    pub async fn read_pushed(&self, id: u64) -> Result<bool, EngineError> {
        // The ticket first, then its audits: the audits then hold everything the snapshot shows.
        let Some(ticket) = self.client.ticket(id, Pacing::Wait).await? else {
            return Ok(false);
        };
        let audits = self.client.audits(id, Pacing::Wait).await?;
        let record = blocking(|| self.apply_pushed(&ticket, &audits))?;
        self.wake.notify_one();
        blocking(|| self.decide_escalations(std::slice::from_ref(&record)))?;
        Ok(true)
    }

    /// Applies a ticket read whole, evaluates it and saves it: its facts are complete through
    /// the change the read saw last (unless the exports show a newer one).
    fn apply_pushed(&self, ticket: &Ticket, audits: &[TicketEvent]) -> Result<TicketRecord, StoreError> {
        let _writing = self.write_lock();
        let directory = self.directory();
        let now = self.clock.now();
        let mut record = self.readable_ticket(ticket.id)?.unwrap_or_else(|| TicketRecord {
            id: ticket.id,
            first_seen: Some(now),
            ..TicketRecord::default()
        });
        apply_ticket(&mut record, ticket, &self.config, Source::Push);
        for audit in audits.iter().filter(|a| a.ticket_id == ticket.id) {
            apply_audit(&mut record, audit, &directory, &self.config);
        }
        record.read_through = record.read_through.max(ticket.updated_at);
        let through = self.store.cursors()?.events_through;
        self.evaluate_into(&mut record, &directory, now, through)?;
        self.store.save_tickets(std::slice::from_ref(&record))?;
        Ok(record)
    }
}

/// Reads the pushed tickets as they come, until shutdown; `[zendesk.webhook] readers` of them
/// run at once. Two may read the same ticket (named again while being read): the later read
/// is the newer, and an older snapshot applied after it changes nothing (`apply_ticket`). A
/// read that fails is logged and counted, and left to the exports' catch-up.
pub async fn push_loop(engine: Arc<Engine>) {
    let Some(push) = &engine.push else { return };
    loop {
        let step = crate::liveness::step("reading pushed tickets");
        while let Some((id, queued_at)) = push.queue.next() {
            if engine.shutdown.is_cancelled() {
                return;
            }
            let span = tracing::info_span!("pushed_read", ticket = id);
            let outcome = match engine.read_pushed(id).instrument(span).await {
                Ok(true) => "read",
                Ok(false) => "gone",
                Err(EngineError::Zendesk(ZendeskError::Cancelled)) => {
                    push.queue.done(id);
                    return;
                }
                Err(error) => {
                    tracing::warn!(ticket = id, %error, "cannot read a pushed ticket; the exports will bring it");
                    "failed"
                }
            };
            push.queue.done(id);
            engine.metrics.pushed_read(outcome, queued_at.elapsed());
            crate::liveness::beat();
        }
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => return,
            _ = push.queue.wake.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_waits_once_and_a_full_queue_refuses() {
        let queue = PushQueue::new(2);
        assert_eq!(queue.offer(1), Offer::Queued);
        assert_eq!(queue.offer(1), Offer::Coalesced);
        assert_eq!(queue.offer(2), Offer::Queued);
        assert_eq!(queue.offer(3), Offer::Full);
        // A ticket already waiting is still coalesced when the queue is full.
        assert_eq!(queue.offer(2), Offer::Coalesced);
        assert_eq!(queue.next().map(|n| n.0), Some(1));
        // Being read, ticket 1 is queued again by a new change, but not handed to a second
        // reader until the first is done.
        assert_eq!(queue.offer(1), Offer::Queued);
        assert_eq!(queue.len(), 2);
        assert_eq!(queue.next().map(|n| n.0), Some(2));
        assert_eq!(queue.next(), None);
        queue.done(1);
        assert_eq!(queue.next().map(|n| n.0), Some(1));
        queue.done(2);
        queue.done(1);
        assert!(queue.next().is_none() && queue.is_empty());
    }
}
