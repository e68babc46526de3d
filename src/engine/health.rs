//! What `/readyz` answers: whether the store reads, whether polls succeed, and whether the
//! outbox moves. The daemon's loop reports each poll here.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use super::poll::{lock, Engine};
use crate::sla::time::format_rfc3339;

/// How the polls are going.
#[derive(Debug, Default)]
pub struct Health {
    /// When the last complete poll finished (ms); 0 before the first.
    last_success_ms: AtomicI64,
    last_error: Mutex<Option<String>>,
}

impl Health {
    pub fn poll_succeeded(&self, at_ms: i64) {
        self.last_success_ms.store(at_ms, Ordering::Relaxed);
        *lock(&self.last_error) = None;
    }

    pub fn poll_failed(&self, error: String) {
        *lock(&self.last_error) = Some(error);
    }

    pub fn last_success_ms(&self) -> Option<i64> {
        Some(self.last_success_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }

    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub ok: bool,
    /// What was found, in words an operator acts on.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    pub store: Check,
    pub poll: Check,
    pub outbox: Check,
}

impl Engine {
    /// Ready: the store reads, the last poll succeeded within three poll intervals, and no alert
    /// has waited for delivery longer than `admin.outbox_stuck_after`.
    pub fn readiness(&self) -> Readiness {
        let now_ms = self.clock.now_ms();
        let store = match self.store.cursors() {
            Ok(_) => Check {
                ok: true,
                detail: format!("{} open", self.store.path().display()),
            },
            Err(error) => Check {
                ok: false,
                detail: error.to_string(),
            },
        };
        let interval = self.config.zendesk.as_ref().map_or(30_000, |z| z.poll_interval.as_millis() as i64);
        let poll = match (self.health.last_success_ms(), self.health.last_error()) {
            (Some(at), error) if now_ms - at <= 3 * interval => Check {
                ok: true,
                detail: format!(
                    "last complete poll {}s ago{}",
                    (now_ms - at) / 1000,
                    error.map_or(String::new(), |e| format!(" (the one since failed: {e})"))
                ),
            },
            (Some(at), error) => Check {
                ok: false,
                detail: format!(
                    "no complete poll for {}s (since {}, more than 3 poll intervals){}",
                    (now_ms - at) / 1000,
                    format_rfc3339(at / 1000),
                    error.map_or(String::new(), |e| format!(": {e}"))
                ),
            },
            (None, Some(error)) => Check {
                ok: false,
                detail: format!("no poll has completed yet: {error}"),
            },
            (None, None) => Check {
                ok: false,
                detail: "starting: no poll has completed yet".to_string(),
            },
        };
        let limit = self.config.admin.outbox_stuck_after.as_secs() as i64;
        let outbox = match self.store.oldest_undelivered() {
            Ok(None) => Check {
                ok: true,
                detail: "nothing waiting for delivery".to_string(),
            },
            Ok(Some(since)) => {
                let age = now_ms / 1000 - since;
                Check {
                    ok: age <= limit,
                    detail: format!("oldest undelivered alert decided {age}s ago (limit {limit}s)"),
                }
            }
            Err(error) => Check {
                ok: false,
                detail: error.to_string(),
            },
        };
        Readiness {
            ready: store.ok && poll.ok && outbox.ok,
            store,
            poll,
            outbox,
        }
    }
}

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
        for row in super::status::open_tickets(&self.config, &self.store, &self.directory(), now)? {
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
        }
        m.open_clocks.clear();
        for (labels, n) in clocks {
            m.open_clocks.get_or_create(&labels).set(n);
        }
        m.outbox_depth.set(self.store.outbox_len() as i64);
        let oldest = self.store.oldest_undelivered()?;
        m.outbox_oldest_age.set(oldest.map_or(0, |at| (now - at).max(0)));
        let through = self.store.cursors()?.events_through;
        m.poll_lag.set(through.map_or(0, |t| (now - t).max(0)));
        let skipped = self.store.stats.unreadable.load(Ordering::Relaxed) + self.client.stats.skipped_records.load(Ordering::Relaxed);
        m.records_skipped.set(skipped as i64);

        let zone = self.config.report.time_zone;
        let month = chrono::TimeZone::timestamp_opt(&zone, now, 0)
            .single()
            .map(|local| local.format("%Y-%m").to_string());
        m.kpi_month.clear();
        if let Some(Ok((from, to))) = month.map(|m| crate::kpi::range::month(&m, zone)) {
            let report = crate::kpi::report(&self.config, &self.store, from, to, now)?;
            for (kpi, value) in [
                ("first_response", report.first_response.attainment),
                ("resolution", report.resolution.attainment),
                ("sev2_resolved_within_week", report.sev2_resolved_within_week.share),
                ("engineering_help", report.engineering_help.share),
                ("csat", report.csat.score),
            ] {
                if let Some(value) = value {
                    m.kpi_month.get_or_create(&KpiLabels { kpi: kpi.to_string() }).set(value);
                }
            }
        }
        Ok(())
    }
}
