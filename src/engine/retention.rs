//! Retention: closed and deleted tickets unchanged for `[store] retain_closed` are compacted
//! away in the background, a chunk at a time, so the store stays bounded over years. The same
//! daily job packs finished days' KPI rows (`store::kpi_days`), so a year's report stays fast.

use std::sync::Arc;
use std::time::Duration;

use super::engine::{Engine, EngineError};
use crate::store::TicketRecord;

/// Tickets read (and written) per step, under the write lock.
const CHUNK: usize = 1000;

/// How often the job runs.
pub const EVERY: Duration = Duration::from_secs(24 * 3600);

impl Engine {
    /// Whether a ticket may go: closed or deleted, unchanged since before `cutoff`, and with no
    /// engineering issue still open or step still to do.
    fn is_expired(&self, ticket: &TicketRecord, cutoff: i64) -> bool {
        let done = matches!(ticket.status.as_str(), "closed" | "deleted");
        let quiet = ticket.updated_at.or(ticket.created_at).is_some_and(|at| at < cutoff);
        if !(done && quiet && ticket.next_alert.is_none()) {
            return false;
        }
        // An unreadable escalation record keeps the ticket: it may name an open issue.
        match self.store.escalation(ticket.id) {
            Ok(None) => true,
            // Open issues are still followed; news still owed is still to be told.
            Ok(Some(e)) => {
                !(e.has_pending()
                    || e.requests
                        .iter()
                        .any(|r| r.issue.as_ref().is_some_and(|i| i.open || !i.news.is_empty())))
            }
            Err(_) => false,
        }
    }

    /// Removes the expired tickets; returns how many.
    pub fn compact_closed(&self) -> Result<u64, EngineError> {
        let cutoff = self.clock.now() - self.config.store.retain_closed.as_secs() as i64;
        let (mut removed, mut after) = (0u64, None);
        while !self.shutdown.is_cancelled() {
            let _writing = self.write_lock();
            let chunk = self.store.tickets_after(after, CHUNK)?;
            let Some(last) = chunk.last() else { break };
            after = Some(last.id);
            let expired: Vec<TicketRecord> = chunk.into_iter().filter(|t| self.is_expired(t, cutoff)).collect();
            removed += self.store.remove_tickets(&expired)? as u64;
            crate::liveness::beat();
        }
        Ok(removed)
    }
}

impl Engine {
    /// Packs the KPI rows of the UTC days that ended a day before the freeze horizon: by then
    /// nearly all of them are frozen, and the few written again (a late rating, a reopened
    /// ticket) shadow their packed copy until the next packing.
    pub fn pack_kpi_days(&self) -> Result<crate::store::Packed, EngineError> {
        let before = self.clock.now() - self.config.report.freeze_after.0 - 86_400;
        Ok(self.store.pack_kpi_days(before, &mut crate::liveness::beat)?)
    }
}

/// Compacts once a day (the first time an hour after the start), off the async workers.
pub async fn retention_loop(engine: Arc<Engine>) {
    let mut wait = Duration::from_secs(3600);
    loop {
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.clock.sleep(wait) => {}
        }
        let _step = crate::liveness::step("compacting closed tickets");
        // Off the async workers, on this task (whose liveness each chunk's beat keeps up).
        match crate::sync::blocking(|| engine.compact_closed().map(|removed| (removed, engine.store.ticket_count()))) {
            Ok((removed, tickets)) => {
                let size = engine.store.size_on_disk().unwrap_or_default();
                tracing::info!(removed, tickets, store_bytes = size, "closed tickets compacted");
            }
            Err(error) if error.is_cancelled() => break,
            Err(error) => tracing::error!(%error, "compacting closed tickets failed; will try again tomorrow"),
        }
        let _step = crate::liveness::step("packing KPI days");
        match crate::sync::blocking(|| engine.pack_kpi_days()) {
            Ok(packed) => tracing::info!(
                days = packed.days,
                rows = packed.rows,
                deleted = packed.deleted,
                changed_meanwhile = packed.changed_meanwhile,
                "KPI rows of finished days packed"
            ),
            Err(error) if error.is_cancelled() => break,
            Err(error) => tracing::error!(%error, "packing KPI days failed; will try again tomorrow"),
        }
        wait = EVERY;
    }
}
