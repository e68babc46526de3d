//! The gauges of state `/metrics` shows, set from the store at each scrape.

use std::sync::atomic::Ordering;

use super::engine::Engine;

impl Engine {
    /// Sets the gauges of state from the store, for a scrape: tickets, open clocks, outbox, poll
    /// lag, skipped records, and this month's KPIs.
    pub fn refresh_gauges(&self) -> Result<(), crate::store::StoreError> {
        use crate::metrics::{KpiLabels, TicketLabels};
        let m = &self.metrics;
        let now = self.clock.now();
        m.tickets_tracked.set(self.store.ticket_count() as i64);
        m.store_size.set(self.store.size_on_disk()? as i64);
        let mut clocks: std::collections::HashMap<TicketLabels, i64> = std::collections::HashMap::new();
        // The status board's rows: their clock states (what moves with time alone, a breach, has
        // been evaluated again as of now).
        self.status_board.for_each_row(&self.store, &self.directory(), |row| {
            for (metric, status) in [
                ("first_response", &row.metrics.first_response),
                ("resolution", &row.metrics.resolution),
            ] {
                let labels = TicketLabels {
                    tier: row.tier.clone(),
                    severity: row.severity.clone(),
                    metric: metric.to_string(),
                    state: status.state.clone(),
                };
                *clocks.entry(labels).or_default() += 1;
            }
        })?;
        m.open_clocks.clear();
        for (labels, n) in clocks {
            m.open_clocks.get_or_create(&labels).set(n);
        }
        m.outbox_depth.set(self.store.outbox_len() as i64);
        m.push_queue_depth.set(self.push.as_ref().map_or(0, |p| p.queue.len() as i64));
        let oldest = self.store.oldest_undelivered()?;
        m.outbox_oldest_age.set(oldest.map_or(0, |at| (now - at).max(0)));
        let through = self.store.cursors()?.events_through;
        m.poll_lag.set(through.map_or(0, |t| (now - t).max(0)));
        let skipped = self.store.stats.unreadable.load(Ordering::Relaxed) + self.client.stats.skipped_records.load(Ordering::Relaxed);
        m.records_skipped.set(skipped as i64);

        if self.config.escalation.is_some() {
            let mut states: std::collections::BTreeMap<&str, i64> = ["pending", "open", "closed", "failed", "gone"].map(|s| (s, 0)).into();
            let mut refused_notes = 0;
            for escalation in self.store.escalations()? {
                for request in &escalation.requests {
                    refused_notes += request.issue.as_ref().map_or(0, |i| i.undeliverable.len() as i64);
                    let state = match (&request.failed, &request.issue) {
                        (Some(_), _) => "failed",
                        (None, Some(issue)) if issue.gone.is_some() => "gone",
                        _ if request.is_pending() => "pending",
                        (None, Some(issue)) if issue.open => "open",
                        _ => "closed",
                    };
                    *states.entry(state).or_default() += 1;
                }
            }
            for (state, n) in states {
                let labels = crate::metrics::EscalationLabels { state: state.to_string() };
                m.escalation_requests.get_or_create(&labels).set(n);
            }
            m.escalation_notes_refused.set(refused_notes);
        }

        if let Some(drift) = self.drift() {
            m.fallback_tickets.clear();
            for (dimension, reasons) in &drift.reasons {
                for (reason, n) in reasons {
                    let labels = crate::metrics::FallbackLabels {
                        dimension: dimension.clone(),
                        reason: reason.clone(),
                    };
                    m.fallback_tickets.get_or_create(&labels).set(*n as i64);
                }
            }
            m.fallback_share.set(drift.share());
        }

        let zone = self.config.report.time_zone;
        let month = chrono::TimeZone::timestamp_opt(&zone, now, 0)
            .single()
            .map(|local| local.format("%Y-%m").to_string());
        m.kpi_month.clear();
        if let Some(Ok((from, to))) = month.map(|m| crate::kpi::range::month(&m, zone)) {
            let report = crate::engine::kpis::report(&self.config, &self.store, from, to, now)?;
            for (kpi, value) in [
                ("first_response", report.first_response.attainment),
                ("resolution", report.resolution.attainment),
                ("sev2_resolved_within_week", report.sev2_resolved_within_week.share),
                ("engineering_help", report.engineering_help.share),
                ("csat", report.csat.score),
                // None when not configured (or no question solved yet).
                ("documentation", report.documentation.share),
            ] {
                if let Some(value) = value {
                    m.kpi_month.get_or_create(&KpiLabels { kpi: kpi.to_string() }).set(value);
                }
            }
        }
        Ok(())
    }
}
