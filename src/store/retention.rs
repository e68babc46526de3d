//! Compacting tickets away: a ticket, its index entries, KPI row, escalation record, alerts and
//! their outbox entries go together, so nothing is left pointing at a ticket that is gone.

use sled::transaction::TransactionError;
use sled::Transactional;

use super::{id_key, instant_key, pair_key, transaction_result, IndexEntry, Store, StoreError, TicketRecord};
use crate::sla::time::Timestamp;

/// The instant a ticket's KPI row is keyed by: its creation, or its first event's.
fn row_instant(ticket: &TicketRecord) -> Timestamp {
    ticket
        .created_at
        .or_else(|| ticket.events.first().map(|e| e.event.at()))
        .unwrap_or_default()
}

impl Store {
    /// Removes tickets and everything kept for them. Returns how many were removed.
    pub fn remove_tickets(&self, tickets: &[TicketRecord]) -> Result<usize, StoreError> {
        let trees = (
            &self.tickets,
            &self.index,
            &self.due,
            &self.awaiting,
            &self.org_tickets,
            &self.kpi,
            &self.escalations,
            &self.open,
        );
        let removed: Vec<u64> = tickets.iter().map(|t| t.id).collect();
        let transaction = || {
            let result: Result<(), TransactionError<StoreError>> =
                trees.transaction(|(tickets_tree, index, due, awaiting, org_tickets, kpi, escalations, open)| {
                    for ticket in tickets {
                        let id = ticket.id;
                        let entry = index
                            .remove(&id_key(id))?
                            .and_then(|bytes| IndexEntry::from_bytes(&bytes))
                            .unwrap_or_default();
                        if let Some(at) = entry.next_alert {
                            due.remove(&instant_key(at, id))?;
                        }
                        if let Some(at) = entry.awaiting {
                            awaiting.remove(&instant_key(at, id))?;
                        }
                        if let Some(org) = entry.organization {
                            org_tickets.remove(&pair_key(org, id))?;
                        }
                        tickets_tree.remove(&id_key(id))?;
                        open.remove(&id_key(id))?;
                        // A tombstone: the row may be packed in its day's block too.
                        kpi.insert(&instant_key(row_instant(ticket), id), super::kpi_days::TOMBSTONE)?;
                        escalations.remove(&id_key(id))?;
                    }
                    Ok(())
                });
            transaction_result(result)
        };
        self.watched(transaction, |watcher, store| watcher.removed(store, &removed))?;
        // The alerts after: one left by a crash in between names a ticket that is gone, which
        // delivery already treats as moot.
        let mut batch = sled::Batch::default();
        let mut keys = Vec::new();
        for ticket in tickets {
            for key in self.alerts.scan_prefix(format!("{:020}/", ticket.id).as_bytes()).keys() {
                let key = key?;
                keys.push(key.to_vec());
                batch.remove(key);
            }
        }
        self.alerts.apply_batch(batch)?;
        let mut outbox = sled::Batch::default();
        for entry in self.outbox.iter().keys() {
            let entry = entry?;
            let alert_key = entry.iter().position(|&b| b == 0).map(|i| &entry[i + 1..]);
            if alert_key.is_some_and(|k| keys.iter().any(|removed| removed.as_slice() == k)) {
                outbox.remove(entry);
            }
        }
        self.outbox.apply_batch(outbox)?;
        Ok(tickets.len())
    }

    /// The store's size on disk, in bytes.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}
