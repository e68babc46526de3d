//! Who is told of every change to a ticket, once it is written: the one place every path that
//! writes tickets (a page of the exports, a re-evaluation, an alert decision, a pushed read,
//! retention) passes through, so a view kept in memory (the status board) cannot miss one.

use std::sync::{Arc, Mutex, RwLock};

use super::{Store, TicketRecord};
use crate::sync::lock;

/// Told of each write after it is in the store, in the order the writes were made.
pub trait TicketWatcher: Send + Sync {
    /// These tickets were saved, as they now are.
    fn saved(&self, store: &Store, tickets: &[TicketRecord]);
    /// These tickets are gone from the store.
    fn removed(&self, store: &Store, ids: &[u64]);
    /// The ticket's escalation record was saved.
    fn escalation_saved(&self, store: &Store, ticket_id: u64);
}

/// The watcher, and the lock that keeps the writes and their notices in one order: two writers
/// of one ticket are told in the order their writes landed.
#[derive(Default)]
pub(super) struct Watch {
    watcher: RwLock<Option<Arc<dyn TicketWatcher>>>,
    order: Mutex<()>,
}

impl Watch {
    fn watcher(&self) -> Option<Arc<dyn TicketWatcher>> {
        self.watcher.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl Store {
    /// Tells `watcher` of every later write of a ticket (one watcher; a second replaces it).
    pub fn watch(&self, watcher: Arc<dyn TicketWatcher>) {
        *self.watch.watcher.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(watcher);
    }

    /// Runs the write `write`, then tells the watcher what `tell` says it did, the two under
    /// one lock so notices keep the writes' order.
    pub(super) fn watched<T, E>(
        &self,
        write: impl FnOnce() -> Result<T, E>,
        tell: impl FnOnce(&dyn TicketWatcher, &Store),
    ) -> Result<T, E> {
        let _order = lock(&self.watch.order);
        let done = write()?;
        if let Some(watcher) = self.watch.watcher() {
            tell(watcher.as_ref(), self);
        }
        Ok(done)
    }
}
