//! Alerts: when a ticket's next alert instant comes, decide (and store) what
//! to send, confirming stale facts with a live read first; then deliver
//! from the outbox with retries, each delivery marked once done.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::apply::{apply_live, Directory};
use super::poll::{Engine, EngineError};
use crate::config::{ChannelKind, NoteMode};
use crate::notify::message::{AlertKind, AlertMessage};
use crate::sla::alerting::{decide, still_due, Decision, Verdict};
use crate::sla::clock::{AlertPoint, TicketClocks};
use crate::sla::policy::TargetKind;
use crate::sla::time::{format_rfc3339, Timestamp};
use crate::store::{AlertRecord, AlertStatus, Delivery, TicketRecord};

/// The channel name of internal notes on the ticket.
pub const NOTE_CHANNEL: &str = "zendesk-note";

/// What one pass of the alert timer did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlertReport {
    pub decided: u64,
    /// Live reads of a ticket to confirm an alert.
    pub confirmations: u64,
    pub sent: u64,
    pub failed: u64,
    pub cancelled: u64,
}

fn alert_kind(point: AlertPoint) -> AlertKind {
    match point {
        AlertPoint::Warning(_) => AlertKind::Warning,
        AlertPoint::Breach => AlertKind::Breach,
        AlertPoint::Reminder(_) => AlertKind::Reminder,
    }
}

impl Engine {
    fn message(&self, record: &TicketRecord, clocks: &TicketClocks, decision: &Decision, directory: &Directory) -> AlertMessage {
        let id = &decision.id;
        let clock = clocks.clocks.iter().find(|c| c.metric == id.metric && c.name == id.target_name);
        let mark = clock
            .and_then(|c| c.alerts.iter().find(|a| a.point == id.point))
            .map_or(id.target.0, |a| a.mark);
        let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
        AlertMessage {
            key: id.key(),
            ticket_id: record.id,
            ticket_url: format!("{base_url}/agent/tickets/{}", record.id),
            subject: record.subject.clone(),
            customer: record
                .organization_id
                .and_then(|o| directory.organizations.get(&o))
                .map(|o| o.name.clone())
                .unwrap_or_default(),
            tier: clocks.tier.clone(),
            contract: clocks.contract.clone(),
            severity: clocks.severity.clone(),
            classified: clocks.classified,
            metric: id.metric.to_string(),
            goal: (decision.kind == TargetKind::Goal).then(|| id.target_name.clone()),
            kind: alert_kind(id.point),
            target: id.target.to_string(),
            schedule: clock
                .and_then(|c| c.schedule)
                .map_or(String::new(), |s| self.config.policy.schedule_name(s).to_string()),
            deadline: clock.and_then(|c| c.deadline),
            remaining: id.target.0 - mark,
            assignee: record
                .assignee_id
                .map(|a| directory.agent_names.get(&a).cloned().unwrap_or_else(|| format!("agent {a}"))),
            group_id: record.group_id,
            acknowledged: clock.is_some_and(|c| c.acknowledged_at.is_some()),
        }
    }

    /// The channels an alert goes to: the first matching route's, and the ticket itself.
    fn deliveries(&self, message: &AlertMessage, now_ms: i64) -> Vec<Delivery> {
        let notify = &self.config.notify;
        let kind = if message.goal.is_some() { "goal" } else { "contract" };
        let mut channels = notify.route(&message.severity, &message.tier, message.group_id, kind);
        let note = match notify.internal_notes {
            NoteMode::Off => false,
            NoteMode::Breaches => message.kind != AlertKind::Warning,
            NoteMode::All => true,
        };
        if note {
            channels.push(NOTE_CHANNEL.to_string());
        }
        channels
            .into_iter()
            .map(|channel| Delivery {
                channel,
                sent_at: None,
                attempts: 0,
                next_attempt_ms: now_ms,
                last_error: None,
            })
            .collect()
    }

    /// Re-reads one ticket and its latest comments, so an alert never reports what a reply
    /// the exports have not shown yet already prevented.
    async fn confirm(&self, record: &mut TicketRecord, directory: &Directory) -> Result<(), EngineError> {
        let (ticket, comments) = (self.client.ticket(record.id).await?, self.client.latest_comments(record.id).await?);
        match ticket {
            Some(ticket) => {
                apply_live(record, &ticket, &comments, directory, &self.config.severity);
            }
            None => {
                // Gone since the last export: deleted.
                let mut gone = ticket_stub(record);
                gone.status = Some("deleted".to_string());
                apply_live(record, &gone, &[], directory, &self.config.severity);
            }
        }
        Ok(())
    }

    /// Decides (and records) the alerts a ticket owes at `now`.
    async fn decide_ticket(&self, id: u64, now: Timestamp, report: &mut AlertReport) -> Result<(), EngineError> {
        let Some(mut record) = self.store.ticket(id)? else { return Ok(()) };
        let directory = self.directory();
        let backfill = self.config.notify.backfill_window.as_secs() as i64;
        let known = |key: &str| self.store.has_alert(key).unwrap_or(false);
        let Some(mut clocks) = self.clocks(&record, &directory, now) else {
            return Ok(());
        };
        let mut decisions = decide(id, &clocks, now, backfill, known);
        let facts_as_of = self.store.facts_as_of()?.unwrap_or(i64::MIN);
        // The events export starts at the configured start time: a ticket created before it may
        // have had replies the store never saw, so its alerts are confirmed too.
        let history_start = self.config.zendesk.as_ref().map_or(i64::MIN, |z| z.start_time);
        let partial_history = record.created_at.is_some_and(|c| c < history_start);
        let stale = decisions
            .iter()
            .any(|d| d.verdict == Verdict::Send && (d.at > facts_as_of || partial_history));
        if stale {
            report.confirmations += 1;
            if let Err(error) = self.confirm(&mut record, &directory).await {
                // Unconfirmed, nothing goes out yet: the ticket stays due and is tried again.
                tracing::warn!(ticket = id, %error, "cannot confirm an alert with Zendesk; will retry");
                return Ok(());
            }
            let Some(confirmed) = self.clocks(&record, &directory, now) else {
                return Ok(());
            };
            clocks = confirmed;
            decisions = decide(id, &clocks, now, backfill, known);
        }
        let now_ms = self.clock.now_ms();
        let mut alerts = Vec::new();
        for decision in &decisions {
            let message = self.message(&record, &clocks, decision, &directory);
            let (status, deliveries) = match decision.verdict {
                Verdict::Send => {
                    let deliveries = self.deliveries(&message, now_ms);
                    let status = if deliveries.is_empty() {
                        AlertStatus::Delivered
                    } else {
                        AlertStatus::Pending
                    };
                    tracing::info!(ticket = id, alert = %message.key, channels = deliveries.len(), "{}", message.title());
                    (status, deliveries)
                }
                Verdict::Superseded => (AlertStatus::Superseded, Vec::new()),
                Verdict::TooOld => (AlertStatus::TooOld, Vec::new()),
            };
            alerts.push(AlertRecord {
                key: message.key.clone(),
                ticket_id: id,
                id: decision.id.clone(),
                at: decision.at,
                decided_at: now,
                status,
                message,
                deliveries,
            });
        }
        report.decided += alerts.len() as u64;
        record.next_alert = clocks.next_alert();
        self.store.record_alerts(&alerts, Some(&record))?;
        Ok(())
    }

    async fn send(&self, alert: &AlertRecord, channel: &str) -> Result<(), String> {
        let message = &alert.message;
        if channel == NOTE_CHANNEL {
            // Looked for before it is written: a crash after writing never writes it twice.
            let comments = self.client.latest_comments(alert.ticket_id).await.map_err(|e| e.to_string())?;
            if comments.iter().any(|c| c.body.contains(&message.marker())) {
                return Ok(());
            }
            // A safe update: refused (409) if the ticket changed since it was read; the outbox
            // then tries again, reading it afresh.
            let ticket = self.client.ticket(alert.ticket_id).await.map_err(|e| e.to_string())?;
            let stamp = ticket.and_then(|t| t.updated_at).map(format_rfc3339);
            return self
                .client
                .add_internal_note(alert.ticket_id, &message.note_text(), stamp.as_deref())
                .await
                .map_err(|e| e.to_string());
        }
        let Some((kind, url)) = self.channels.get(channel) else {
            return Err(format!("channel {channel:?} has no URL"));
        };
        let body = match kind {
            ChannelKind::Slack => message.slack(),
            ChannelKind::Webhook => message.webhook(),
        };
        let response = self
            .http
            .post(url)
            .json(&body)
            .send()
            .await
            .map_err(|e| format!("{channel}: {}", e.without_url()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("{channel}: HTTP {}", response.status()))
        }
    }

    fn backoff(&self, attempts: u32) -> Duration {
        Duration::from_secs(1)
            .saturating_mul(1 << attempts.min(16))
            .min(self.config.notify.max_backoff)
    }

    /// Delivers what the outbox owes now; a met clock cancels what is still unsent.
    pub async fn deliver(&self, report: &mut AlertReport) -> Result<(), EngineError> {
        let now = self.clock.now();
        let directory = self.directory();
        for mut alert in self.store.outbox()? {
            if !alert
                .deliveries
                .iter()
                .any(|d| d.sent_at.is_none() && d.next_attempt_ms <= self.clock.now_ms())
            {
                continue;
            }
            let live = match self.store.ticket(alert.ticket_id)? {
                Some(record) => self.clocks(&record, &directory, now).map(|clocks| still_due(&clocks, &alert.id)),
                None => Some(false),
            };
            if live == Some(false) {
                alert.status = AlertStatus::Cancelled {
                    reason: "the clock was met, stopped or deleted before delivery".to_string(),
                };
                report.cancelled += 1;
                self.store.update_alert(&alert)?;
                continue;
            }
            for i in 0..alert.deliveries.len() {
                let due = alert.deliveries[i].sent_at.is_none() && alert.deliveries[i].next_attempt_ms <= self.clock.now_ms();
                if !due {
                    continue;
                }
                let channel = alert.deliveries[i].channel.clone();
                let outcome = self.send(&alert, &channel).await;
                let delivery = &mut alert.deliveries[i];
                delivery.attempts += 1;
                match outcome {
                    Ok(()) => {
                        delivery.sent_at = Some(self.clock.now());
                        delivery.last_error = None;
                        report.sent += 1;
                    }
                    Err(error) => {
                        delivery.next_attempt_ms = self.clock.now_ms() + self.backoff(delivery.attempts).as_millis() as i64;
                        tracing::warn!(alert = %alert.key, channel, error, attempts = delivery.attempts, "delivery failed; will retry");
                        delivery.last_error = Some(error);
                        report.failed += 1;
                    }
                }
                if alert.deliveries.iter().all(|d| d.sent_at.is_some()) {
                    alert.status = AlertStatus::Delivered;
                }
                // Marked at once: a crash from here on never sends this delivery again.
                self.store.update_alert(&alert)?;
            }
        }
        Ok(())
    }

    /// One pass: decide for every ticket whose next alert instant has come, then deliver.
    pub async fn fire_due(&self) -> Result<AlertReport, EngineError> {
        let mut report = AlertReport::default();
        let now = self.clock.now();
        for (_, id) in self.store.due(now)? {
            self.decide_ticket(id, now, &mut report).await?;
        }
        self.deliver(&mut report).await?;
        Ok(report)
    }

    /// When the timer must look next: the earliest next alert or delivery retry (ms).
    pub fn next_wake_ms(&self) -> Result<Option<i64>, EngineError> {
        let due = self.store.next_due()?.map(|at| at * 1000);
        let retry = self
            .store
            .outbox()?
            .iter()
            .flat_map(|a| a.deliveries.iter().filter(|d| d.sent_at.is_none()).map(|d| d.next_attempt_ms))
            .min();
        Ok([due, retry].into_iter().flatten().min())
    }
}

fn ticket_stub(record: &TicketRecord) -> crate::zendesk::models::Ticket {
    crate::zendesk::models::Ticket {
        id: record.id,
        created_at: record.created_at,
        updated_at: record.updated_at,
        subject: Some(record.subject.clone()),
        status: Some(record.status.clone()),
        priority: None,
        requester_id: record.requester_id,
        submitter_id: record.submitter_id,
        assignee_id: record.assignee_id,
        group_id: record.group_id,
        organization_id: record.organization_id,
        tags: Vec::new(),
        custom_fields: Vec::new(),
        generated_timestamp: None,
    }
}

/// The alert timer: sleeps until the earliest next alert instant or delivery retry, or until
/// new facts arrive, then fires; until `shutdown`.
pub async fn alert_loop(engine: std::sync::Arc<Engine>, shutdown: CancellationToken) {
    loop {
        match engine.fire_due().await {
            Ok(report) if report != AlertReport::default() => tracing::info!(?report, "alerts"),
            Ok(_) => {}
            Err(error) => tracing::error!(%error, "alert pass failed; will retry"),
        }
        let wait = match engine.next_wake_ms() {
            Ok(Some(at)) => Duration::from_millis((at - engine.clock.now_ms()).max(0) as u64),
            Ok(None) => Duration::from_secs(3600),
            Err(_) => Duration::from_secs(5),
        };
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = engine.wake.notified() => {}
            _ = engine.clock.sleep(wait.max(Duration::from_millis(1))) => {}
        }
    }
}
