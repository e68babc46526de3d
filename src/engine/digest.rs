//! The digest through its outbox: at each firing of `[report.digest] cron` the digest owed is
//! recorded first (once per firing, whatever restarts), then sent to each channel of its route
//! once the stored facts reach the period's end, rendered from the store as it is then, and
//! marked on disk. A firing missed while slawatch was down is sent late, never twice.

use std::sync::Arc;
use std::time::Duration;

use super::deliver::earliest;
use super::engine::{Engine, EngineError};
use super::kpis::organization_names;
use crate::config::ChannelKind;
use crate::kpi::digest::{firings_back, next_firing, owed_since, schedule_key, BreachedTicket, Decided, Digest, Owed};
use crate::kpi::ReportBuilder;
use crate::retry::{self, Backoff};
use crate::store::{Delivery, DigestRecord};
use crate::sync::blocking;
use crate::zendesk::client::ZendeskError;

/// The breached tickets a digest lists by name (the rest are counted).
const LISTED_BREACHES: usize = 20;

/// The most missed periods sent after downtime (a year of weekly digests).
const MISSED_PERIODS: usize = 53;

/// How often a digest whose period's facts are not all in yet is looked at again.
const FACTS_WAIT_MS: i64 = 60_000;

impl Engine {
    /// Records the digests owed for the firings up to now that are not recorded yet (one a
    /// period: after downtime, each missed period is sent late), back to when slawatch first ran
    /// with this digest's schedule: a new cron or zone owes its firings from the change on, not
    /// every past one. Returns how many were recorded now.
    pub fn decide_digest(&self) -> Result<usize, EngineError> {
        let Some(digest) = &self.config.report.digest else { return Ok(0) };
        let now = self.clock.now();
        let schedule = self.store.digest_schedule()?;
        // Only a store from before the schedule was kept needs its latest digest to tell.
        let latest = match schedule {
            None => self.store.latest_digest()?.map(|r| (r.fired_at, r.from)),
            Some(_) => None,
        };
        let decided = Decided {
            schedule: schedule.as_deref(),
            since: self.store.digest_since()?,
            latest,
        };
        let start = owed_since(decided, &digest.cron, digest.time_zone, now);
        if start.is_new() {
            let key = schedule_key(&digest.cron, digest.time_zone);
            self.store.set_digest_schedule(&key, start.since())?;
            if let Owed::Changed(_) = start {
                tracing::info!(schedule = key, was = ?schedule, "digest schedule changed: its firings from now on are owed");
            }
        }
        let since = start.since();
        let mut owed = Vec::new();
        for firing in firings_back(&digest.cron, digest.time_zone, now).take(MISSED_PERIODS) {
            if firing.at < since || self.store.digest(firing.at)?.is_some() {
                break;
            }
            owed.push(firing);
        }
        let now_ms = self.clock.now_ms();
        let mut recorded = 0;
        // Oldest first: the periods go out in their order.
        for firing in owed.into_iter().rev() {
            let record = DigestRecord {
                fired_at: firing.at,
                from: firing.previous,
                before: firing.before,
                decided_at: now,
                deliveries: digest.channels.iter().map(|c| Delivery::new(c.clone(), now_ms)).collect(),
            };
            if self.store.record_digest(&record)? {
                recorded += 1;
                tracing::info!(fired_at = firing.at, late_seconds = now - firing.at, "digest decided");
            }
        }
        Ok(recorded)
    }

    /// The digest of a record, from the store as it is now.
    fn render_digest(&self, record: &DigestRecord) -> Result<(serde_json::Value, serde_json::Value), EngineError> {
        let now = crate::engine::kpis::known_through(&self.store, self.clock.now())?;
        let organizations = organization_names(&self.store)?;
        let mut current =
            ReportBuilder::new(&self.config, &organizations, record.from, record.fired_at, now).keep_breaches(LISTED_BREACHES);
        for row in self.store.kpi_rows(record.from, record.fired_at) {
            current.add(&row?);
        }
        let (report, breaches) = current.finish_with_breaches();
        let mut previous = ReportBuilder::new(&self.config, &organizations, record.before, record.from, now);
        for row in self.store.kpi_rows(record.before, record.from) {
            previous.add(&row?);
        }
        let previous = previous.finish();
        let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
        let breached: Vec<BreachedTicket> = breaches
            .tickets
            .into_iter()
            .map(|(id, metrics)| BreachedTicket {
                id,
                subject: self.store.ticket(id).ok().flatten().map(|t| t.subject).unwrap_or_default(),
                url: format!("{base_url}/agent/tickets/{id}"),
                metrics,
            })
            .collect();
        let zone = self
            .config
            .report
            .digest
            .as_ref()
            .map_or(self.config.report.time_zone, |d| d.time_zone);
        let digest = Digest {
            report: &report,
            previous: &previous,
            breached: &breached,
            breached_total: breaches.total,
            zone,
            from: record.from,
            to: record.fired_at,
        };
        Ok((digest.slack(), digest.webhook()))
    }

    /// Sends what the recorded digests still owe; returns when to look again (ms), if ever.
    pub async fn deliver_digests(&self) -> Result<Option<i64>, EngineError> {
        let backoff = Backoff {
            first: Duration::from_secs(1),
            max: self.config.notify.max_backoff,
        };
        let mut next = None;
        for record in blocking(|| self.store.outstanding_digests())? {
            crate::liveness::beat();
            if self.shutdown.is_cancelled() {
                return Err(ZendeskError::Cancelled.into());
            }
            let now_ms = self.clock.now_ms();
            // Tickets created just before the firing may still be on their way: the digest
            // waits until the stored facts reach the period's end.
            if self.store.facts_as_of()?.is_none_or(|at| at < record.fired_at) {
                next = earliest(next, now_ms + FACTS_WAIT_MS);
                continue;
            }
            let mut rendered = None;
            for delivery in record.deliveries.iter().filter(|d| d.is_outstanding()) {
                if !delivery.is_due(now_ms) {
                    next = earliest(next, delivery.next_attempt_ms);
                    continue;
                }
                let (slack, webhook) = match &rendered {
                    Some(bodies) => bodies,
                    None => rendered.insert(blocking(|| self.render_digest(&record))?),
                };
                let channel = delivery.channel.as_str();
                let body = match self.channels.get(channel).map(|(kind, _)| *kind) {
                    Some(ChannelKind::Webhook) => webhook,
                    _ => slack,
                };
                let outcome = self.post(channel, body).await;
                let now_ms = self.clock.now_ms();
                let now = self.clock.now();
                // Marked on disk (an fsync): off the async workers.
                let mark = |change: &dyn Fn(&mut Delivery)| {
                    blocking(|| {
                        self.store.update_digest(record.fired_at, |r| {
                            if let Some(d) = r.deliveries.iter_mut().find(|d| d.channel == channel) {
                                change(d);
                            }
                        })
                    })
                };
                match outcome {
                    Ok(()) => {
                        tracing::info!(fired_at = record.fired_at, channel, "digest sent");
                        mark(&|d| {
                            d.attempts += 1;
                            d.sent_at = Some(now);
                            d.last_error = None;
                        })?;
                    }
                    Err(error) => {
                        let attempts = delivery.attempts + 1;
                        let at = retry::due_ms(now_ms, backoff.after(attempts, error.retry_after));
                        if error.permanent {
                            tracing::error!(fired_at = record.fired_at, channel, error = %error.message, "digest given up");
                            self.owed.refused("digest", channel, &error.message);
                        } else {
                            tracing::warn!(fired_at = record.fired_at, channel, error = %error.message, attempts, "digest failed; will retry");
                            next = earliest(next, at);
                        }
                        mark(&|d| d.record_failure(attempts, at, error.permanent, now_ms, &error.message))?;
                    }
                }
            }
        }
        Ok(next)
    }
}

/// Decides and delivers digests until shutdown: wakes at each firing and at each retry.
pub async fn digest_loop(engine: Arc<Engine>) {
    let Some(digest) = engine.config.report.digest.clone() else {
        return;
    };
    let mut failures = 0;
    loop {
        let step = crate::liveness::step("posting the digest");
        let result = match blocking(|| engine.decide_digest()) {
            Ok(_) => engine.deliver_digests().await,
            Err(error) => Err(error),
        };
        let retry_at = match result {
            Ok(next) => {
                failures = 0;
                next
            }
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                failures += 1;
                tracing::error!(%error, "digest pass failed; will retry");
                let backoff = Backoff {
                    first: Duration::from_secs(1),
                    max: Duration::from_secs(60),
                };
                Some(retry::due_ms(engine.clock.now_ms(), backoff.delay(failures)))
            }
        };
        let firing = next_firing(&digest.cron, digest.time_zone, engine.clock.now()).map(|at| at * 1000);
        let wake = [retry_at, firing].into_iter().flatten().min();
        let wait = wake.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis((at - engine.clock.now_ms()).clamp(0, 3_600_000) as u64)
        });
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.clock.sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}
