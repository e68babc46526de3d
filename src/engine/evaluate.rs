//! Evaluating stored tickets: each one's next alert instant (or, while its facts are
//! incomplete, what the events export must pass first) and its KPI row; again for every
//! ticket when the policy changed, and for the tickets whose facts are now complete.

use super::apply::{clocks_and_kpi, facts_complete, known_through};
use super::directory::Directory;
use super::engine::Engine;
use crate::kpi::freeze::RowState;
use crate::sla::alerting::next_look;
use crate::sla::clock::Event;
use crate::sla::time::Timestamp;
use crate::store::{KpiChange, StoreError, TicketRecord};
use crate::sync::lock;

/// Tickets evaluated and written per transaction outside a page.
const BATCH: usize = 1000;

const KNOWN_STATUSES: [&str; 7] = ["new", "open", "pending", "hold", "solved", "closed", "deleted"];

impl Engine {
    fn note_unknown_status(&self, record: &TicketRecord) {
        for event in &record.events {
            if let Event::Status { status, .. } = &event.event {
                if !KNOWN_STATUSES.contains(&status.as_str()) && lock(&self.unknown_statuses).insert(status.clone()) {
                    tracing::warn!(
                        ticket = record.id,
                        status,
                        "unknown ticket status: kept, and the ticket's clocks keep running"
                    );
                }
            }
        }
    }

    /// Sets the ticket's next alert instant, or (while its facts are incomplete) the instant
    /// the events export must pass before anything is decided for it.
    pub(super) fn evaluate_into(
        &self,
        record: &mut TicketRecord,
        directory: &Directory,
        now: Timestamp,
        events_through: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        self.note_unknown_status(record);
        record.next_alert = None;
        record.awaiting_events = None;
        // A ticket known only from the events export waits for its first ticket-export page
        // (its organization, severity and subject) before any alert.
        if !record.exported {
            return Ok(());
        }
        if !facts_complete(record, events_through) {
            record.awaiting_events = record.updated_at.or(record.created_at);
            return Ok(());
        }
        let recorded = self.store.recorded_alerts(record.id)?;
        let known = known_through(record, events_through).unwrap_or(Timestamp::MIN).min(now);
        if let Some((clocks, kpi)) = clocks_and_kpi(&self.config, record, directory, now, known) {
            record.next_alert = next_look(record.id, &clocks, |key| recorded.get(key).copied());
            let freeze = crate::kpi::freeze::decide(
                RowState {
                    status: &record.status,
                    updated_at: record.updated_at,
                    frozen: record.kpi_frozen,
                    row_of: record.kpi_row_of,
                },
                self.config.report.freeze_after.0,
                now,
            );
            record.kpi_frozen = freeze.frozen;
            if freeze.write {
                record.kpi = kpi;
                record.kpi_row_of = record.updated_at;
            } else if let KpiChange::Put(fresh) = kpi {
                // A frozen row keeps its judgement; a satisfaction rating the customer gives
                // later is a new fact, not a re-judgement, and is taken. A row that is not there
                // (lost, or never written) is written from these facts rather than left out.
                match self.store.kpi_row(fresh.created_at, fresh.id)? {
                    Some(mut stored) if stored.satisfaction != fresh.satisfaction => {
                        stored.satisfaction = fresh.satisfaction;
                        record.kpi = KpiChange::Put(Box::new(stored));
                    }
                    Some(_) => {}
                    None => {
                        record.kpi = KpiChange::Put(fresh);
                        record.kpi_row_of = record.updated_at;
                    }
                }
            }
            // A page whose clock these facts meet or stop is resolved.
            self.owe_resolves(record.id, &clocks)?;
        }
        Ok(())
    }

    /// Evaluates stored tickets again (a directory change, facts now complete) and saves them.
    pub(super) fn reevaluate(&self, ids: &[u64]) -> Result<u64, StoreError> {
        let mut count = 0;
        for chunk in ids.chunks(BATCH) {
            let _writing = self.write_lock();
            let directory = self.directory();
            let now = self.clock.now();
            let through = self.store.cursors()?.events_through;
            let mut batch = Vec::with_capacity(chunk.len());
            for &id in chunk {
                if let Some(mut record) = self.readable_ticket(id)? {
                    self.evaluate_into(&mut record, &directory, now, through)?;
                    batch.push(record);
                }
            }
            self.store.save_tickets(&batch)?;
            count += batch.len() as u64;
            crate::liveness::beat();
        }
        if count > 0 {
            self.wake.notify_one();
        }
        Ok(count)
    }

    /// Evaluates the tickets whose facts the events export has now passed.
    pub fn release_awaiting(&self) -> Result<u64, StoreError> {
        let Some(through) = self.store.cursors()?.events_through else {
            return Ok(0);
        };
        let mut released = 0;
        loop {
            let ids = self.store.awaiting_through(through, BATCH)?;
            if ids.is_empty() {
                return Ok(released);
            }
            let evaluated = self.reevaluate(&ids)?;
            released += evaluated;
            if evaluated < ids.len() as u64 {
                // Unreadable records were taken out of the index; the rest are done.
                continue;
            }
        }
    }

    /// Evaluates every stored ticket again (the policy may have changed since it was stored).
    pub fn evaluate_all(&self) -> Result<u64, StoreError> {
        let _writing = self.write_lock();
        let directory = self.directory();
        let now = self.clock.now();
        let through = self.store.cursors()?.events_through;
        let helped = self.help_requests()?;
        let (mut batch, mut rows) = (Vec::new(), Vec::new());
        let mut count = 0;
        for record in self.store.tickets() {
            let mut record = record?;
            let before = (record.next_alert, record.awaiting_events, record.help_requested);
            // Stores written before the flag was kept: the requests already filed say it.
            record.help_requested |= helped.contains(&record.id);
            self.evaluate_into(&mut record, &directory, now, through)?;
            if (record.next_alert, record.awaiting_events, record.help_requested) != before {
                batch.push(record);
            } else {
                // Only the KPI row can have changed (a report field, a new row shape).
                rows.push((record.id, std::mem::take(&mut record.kpi)));
            }
            if batch.len() >= BATCH {
                count += batch.len() as u64;
                self.store.save_tickets(&std::mem::take(&mut batch))?;
                crate::liveness::beat();
            }
            if rows.len() >= BATCH {
                self.store.save_kpi(&std::mem::take(&mut rows))?;
            }
        }
        count += batch.len() as u64;
        self.store.save_tickets(&batch)?;
        self.store.save_kpi(&rows)?;
        Ok(count)
    }

    /// The tickets with an engineering request filed under a help-request rule.
    fn help_requests(&self) -> Result<std::collections::HashSet<u64>, StoreError> {
        let Some(escalation) = &self.config.escalation else {
            return Ok(Default::default());
        };
        let is_help = |rule: &str| {
            escalation
                .rules
                .iter()
                .any(|r| r.name == rule && r.kind == crate::config::RequestKind::HelpRequest)
        };
        Ok(self
            .store
            .escalations()?
            .into_iter()
            .filter(|e| e.requests.iter().any(|r| is_help(&r.rule)))
            .map(|e| e.ticket_id)
            .collect())
    }
}
