//! One poll cycle: refresh the directory when stale, read the ticket export and the events
//! export until both are current, apply each page, evaluate the changed tickets' clocks, and
//! commit each page with its cursor. A ticket whose last change the events export has not
//! passed yet waits (in the store's awaiting index) and is evaluated for alerts once it has.

use std::collections::{BTreeMap, HashSet};

use super::apply::{apply_audit, apply_ticket, Source};
use super::directory::Directory;
use super::engine::{Engine, EngineError};
use crate::sla::time::Timestamp;
use crate::store::{Cursors, StoreError, TicketRecord};
use crate::sync::blocking;
use crate::zendesk::client::ExportStart;
use crate::zendesk::models::{Ticket, TicketEvent};

/// What one poll did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollReport {
    pub ticket_pages: u64,
    pub event_pages: u64,
    pub tickets_changed: u64,
    pub audits_applied: u64,
    /// Records that could not be read and were skipped.
    pub skipped: u64,
    /// False when shutdown interrupted the cycle (what was committed stays).
    pub complete: bool,
}

/// Zendesk's exports refuse a start time within the last minute.
pub(super) const HORIZON: i64 = 60;

impl Engine {
    fn start_time(&self) -> i64 {
        let configured = self.config.zendesk.as_ref().map_or(0, |z| z.start_time);
        configured.min(self.clock.now() - HORIZON - 1)
    }

    fn page_size(&self) -> usize {
        self.config.zendesk.as_ref().map_or(1000, |z| z.page_size)
    }

    /// The record of ticket `id` among this page's, read from the store on first use. A stored
    /// record that cannot be read is started afresh from what the exports bring (counted).
    fn load<'a>(&self, changed: &'a mut BTreeMap<u64, TicketRecord>, id: u64) -> Result<&'a mut TicketRecord, StoreError> {
        match changed.entry(id) {
            std::collections::btree_map::Entry::Occupied(entry) => Ok(entry.into_mut()),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let record = self.readable_ticket(id)?.unwrap_or_else(|| TicketRecord {
                    id,
                    first_seen: Some(self.clock.now()),
                    ..TicketRecord::default()
                });
                Ok(entry.insert(record))
            }
        }
    }

    /// Applies one page of the ticket export and commits it with the cursor after it.
    pub fn apply_ticket_page(&self, tickets: &[Ticket], cursors: &Cursors) -> Result<u64, StoreError> {
        let _writing = self.write_lock();
        let directory = self.directory();
        let now = self.clock.now();
        let mut changed = BTreeMap::new();
        let mut ids = Vec::new();
        for ticket in tickets {
            let record = self.load(&mut changed, ticket.id)?;
            if apply_ticket(record, ticket, &self.config, Source::Export) {
                ids.push(ticket.id);
            }
        }
        let records = self.finish(changed, &ids, &directory, now, cursors.events_through)?;
        self.store.commit(&records, cursors)?;
        // New facts can move a ticket's next alert earlier: let the timer look.
        self.wake.notify_one();
        // A crash before this is made good at the next start, which decides over every ticket.
        self.decide_escalations(&records)?;
        Ok(records.len() as u64)
    }

    /// Applies one page of the events export and commits it with the position after it; then
    /// the tickets whose facts are now complete are evaluated for alerts.
    pub fn apply_event_page(&self, audits: &[TicketEvent], cursors: &Cursors) -> Result<(u64, u64), StoreError> {
        let (changed, applied) = {
            let _writing = self.write_lock();
            let directory = self.directory();
            let now = self.clock.now();
            let mut changed = BTreeMap::new();
            let mut ids = Vec::new();
            let mut applied = 0;
            for audit in audits {
                let record = self.load(&mut changed, audit.ticket_id)?;
                if apply_audit(record, audit, &directory, &self.config) {
                    applied += 1;
                    ids.push(audit.ticket_id);
                }
            }
            let records = self.finish(changed, &ids, &directory, now, cursors.events_through)?;
            self.store.commit(&records, cursors)?;
            (records.len() as u64, applied)
        };
        self.release_awaiting()?;
        self.wake.notify_one();
        Ok((changed, applied))
    }

    fn finish(
        &self,
        mut changed: BTreeMap<u64, TicketRecord>,
        ids: &[u64],
        directory: &Directory,
        now: Timestamp,
        events_through: Option<Timestamp>,
    ) -> Result<Vec<TicketRecord>, StoreError> {
        let ids: HashSet<u64> = ids.iter().copied().collect();
        changed.retain(|id, _| ids.contains(id));
        changed
            .into_values()
            .map(|mut record| {
                self.evaluate_into(&mut record, directory, now, events_through)?;
                Ok(record)
            })
            .collect()
    }

    /// Polls both exports until they are current (or shutdown, between pages and inside any
    /// wait).
    pub async fn poll(&self) -> Result<PollReport, EngineError> {
        let mut report = PollReport::default();
        let started = self.clock.now();
        let skipped_before = self.client.stats.skipped_records.load(std::sync::atomic::Ordering::Relaxed);
        match self.refresh_directory(false).await {
            Err(error) if error.is_cancelled() => return Ok(report),
            // Stale agents and organizations are better than no poll: keep going.
            Err(error) => tracing::warn!(%error, "could not refresh agents and organizations"),
            Ok(()) => {}
        }

        loop {
            if self.shutdown.is_cancelled() {
                return Ok(report);
            }
            let mut cursors = self.store.cursors()?;
            let start = match &cursors.tickets {
                Some(cursor) => ExportStart::Cursor(cursor.clone()),
                None => ExportStart::StartTime(self.start_time()),
            };
            let (page, tickets) = self.client.ticket_page(&start, self.page_size()).await?;
            let moved = page.after_cursor.is_some() && page.after_cursor != cursors.tickets;
            if let Some(after) = page.after_cursor {
                cursors.tickets = Some(after);
            }
            report.tickets_changed += blocking(|| self.apply_ticket_page(&tickets, &cursors))?;
            crate::liveness::beat();
            report.ticket_pages += 1;
            if page.end_of_stream || !moved {
                break;
            }
        }

        loop {
            if self.shutdown.is_cancelled() {
                return Ok(report);
            }
            let mut cursors = self.store.cursors()?;
            let start = cursors.events_start.unwrap_or_else(|| self.start_time());
            let requested_at = self.clock.now();
            let page = self.client.event_page(start).await?;
            let audits: Vec<TicketEvent> = self.client.read(page.ticket_events);
            let end = page.end_time.unwrap_or(start).max(start);
            // Zendesk never splits a second across pages: every event before `end` is in. A
            // page that ends where it started held that whole second, so the next one starts
            // after it; the last page holds everything up to the export's one-minute horizon.
            let (next_start, through) = if page.end_of_stream {
                (end, (requested_at - HORIZON).max(end - 1))
            } else if end == start {
                (start + 1, start)
            } else {
                (end, end - 1)
            };
            cursors.events_start = Some(next_start);
            cursors.events_through = cursors.events_through.max(Some(through));
            let (changed, applied) = blocking(|| self.apply_event_page(&audits, &cursors))?;
            crate::liveness::beat();
            report.tickets_changed += changed;
            report.audits_applied += applied;
            report.event_pages += 1;
            if page.end_of_stream {
                break;
            }
        }
        report.skipped = self.client.stats.skipped_records.load(std::sync::atomic::Ordering::Relaxed) - skipped_before;
        report.complete = true;
        // Zendesk's exports show everything up to a minute before they were asked.
        blocking(|| self.store.set_facts_as_of(started - HORIZON))?;
        self.wake.notify_one();
        Ok(report)
    }
}
