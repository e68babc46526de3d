//! Alerts: when a ticket's next alert instant comes, decide (and store) what
//! to send, confirming stale facts with a live read first; then deliver
//! from the outbox with retries, each delivery marked once done.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::apply::{apply_live, mark_deleted, Directory};
use super::poll::{Engine, EngineError};
use crate::config::{ChannelKind, NoteMode};
use crate::notify::message::{AlertKind, AlertMessage};
use crate::sla::alerting::{decide, next_look, still_due, Decision, Sight, Verdict};
use crate::sla::clock::{AlertPoint, TicketClocks};
use crate::sla::policy::TargetKind;
use crate::sla::time::{format_rfc3339, Timestamp};
use crate::store::{AlertRecord, AlertStatus, Delivery, TicketRecord};
use crate::zendesk::client::ZendeskError;
use crate::zendesk::models::{Comment, Ticket};

/// The channel name of internal notes on the ticket.
pub const NOTE_CHANNEL: &str = "zendesk-note";

/// How soon a ticket is looked at again when its alert could not be confirmed or decided.
const CONFIRM_RETRY: Timestamp = 60;

/// Why a delivery failed, and whether (and when) to try again.
struct DeliveryError {
    message: String,
    retry_after: Option<Duration>,
    permanent: bool,
}

impl DeliveryError {
    fn zendesk(error: ZendeskError) -> DeliveryError {
        let (retry_after, permanent) = match &error {
            ZendeskError::RateLimited { retry_after, .. } => (Some(*retry_after), false),
            // 409: the ticket changed since it was read; a retry reads it again.
            ZendeskError::Status { status, .. } => (None, (400..500).contains(status) && !matches!(status, 408 | 409 | 429)),
            _ => (None, false),
        };
        DeliveryError {
            message: error.to_string(),
            retry_after,
            permanent,
        }
    }
}

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
                gave_up: false,
            })
            .collect()
    }

    /// Reads one ticket and its latest comments live, so an alert never reports what a reply
    /// the exports have not shown yet already prevented. None for the ticket: it is gone (404).
    async fn read_live(&self, id: u64) -> Result<(Option<Ticket>, Vec<Comment>), EngineError> {
        Ok((self.client.ticket(id).await?, self.client.latest_comments(id).await?))
    }

    /// Looks at the ticket again at `at` (a confirmation that failed, say), without deciding.
    fn look_again(&self, id: u64, at: Option<Timestamp>) -> Result<(), EngineError> {
        let _writing = self.write_lock();
        if let Some(mut record) = self.store.ticket(id)? {
            record.next_alert = at;
            self.store.record_alerts(&[], Some(&record))?;
        }
        Ok(())
    }

    /// Decides (and records) the alerts a ticket owes at `now`.
    async fn decide_ticket(&self, id: u64, now: Timestamp, report: &mut AlertReport) -> Result<(), EngineError> {
        let directory = self.directory();
        let backfill = self.config.notify.backfill_window.as_secs() as i64;
        let sight = |record: &TicketRecord| Sight {
            first_seen: record.first_seen.unwrap_or(Timestamp::MIN),
            backfill,
        };
        let known = |key: &str| self.store.has_alert(key).unwrap_or(false);

        // On the stored facts: is anything to be sent, and are those facts behind it?
        let Some(record) = self.store.ticket(id)? else { return Ok(()) };
        let Some(clocks) = self.clocks(&record, &directory, now) else {
            return self.look_again(id, None);
        };
        let facts_as_of = self.store.facts_as_of()?.unwrap_or(Timestamp::MIN);
        // The events export starts at the configured start time: a ticket created before it may
        // have had replies the store never saw, so its alerts are confirmed too.
        let history_start = self.config.zendesk.as_ref().map_or(Timestamp::MIN, |z| z.start_time);
        let partial_history = record.created_at.is_some_and(|c| c < history_start);
        let stale = decide(id, &clocks, now, sight(&record), known)
            .iter()
            .any(|d| d.verdict == Verdict::Send && (d.at > facts_as_of || partial_history));

        // The live read awaits the network, so it happens outside the write lock.
        let live = if stale {
            report.confirmations += 1;
            match self.read_live(id).await {
                Ok(live) => Some(live),
                Err(error) => {
                    // Nothing unconfirmed goes out; look again shortly (once a poll has caught up
                    // past the alert, the stored facts suffice).
                    tracing::warn!(ticket = id, %error, "cannot confirm an alert with Zendesk; will retry");
                    return self.look_again(id, Some(now + CONFIRM_RETRY));
                }
            }
        } else {
            None
        };

        // Decide on the freshest stored facts, with the live read on top, under the write lock
        // so that a page a poll committed meanwhile is kept.
        let _writing = self.write_lock();
        let Some(mut record) = self.store.ticket(id)? else { return Ok(()) };
        match &live {
            Some((Some(ticket), comments)) => {
                apply_live(&mut record, ticket, comments, &directory, &self.config.severity);
            }
            // Gone since the last export (404): deleted.
            Some((None, _)) => mark_deleted(&mut record, now),
            None => {}
        }
        let Some(clocks) = self.clocks(&record, &directory, now) else {
            record.next_alert = None;
            self.store.record_alerts(&[], Some(&record))?;
            return Ok(());
        };
        let decisions = decide(id, &clocks, now, sight(&record), known);
        let now_ms = self.clock.now_ms();
        let mut alerts = Vec::new();
        for decision in &decisions {
            let message = self.message(&record, &clocks, decision, &directory);
            let (status, deliveries) = match decision.verdict {
                Verdict::Send => {
                    let deliveries = self.deliveries(&message, now_ms);
                    let status = if deliveries.is_empty() {
                        AlertStatus::Unrouted
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
        let recorded: Vec<&str> = alerts.iter().map(|a| a.key.as_str()).collect();
        record.next_alert = next_look(id, &clocks, |key| recorded.contains(&key) || known(key));
        self.store.record_alerts(&alerts, Some(&record))?;
        Ok(())
    }

    async fn send(&self, alert: &AlertRecord, channel: &str) -> Result<(), DeliveryError> {
        let message = &alert.message;
        if channel == NOTE_CHANNEL {
            // Looked for before it is written: a crash after writing never writes it twice.
            let comments = self.client.latest_comments(alert.ticket_id).await.map_err(DeliveryError::zendesk)?;
            if comments.iter().any(|c| c.body.contains(&message.marker())) {
                return Ok(());
            }
            // A safe update: refused (409) if the ticket changed since it was read; the outbox
            // then tries again, reading it afresh.
            let ticket = self.client.ticket(alert.ticket_id).await.map_err(DeliveryError::zendesk)?;
            let Some(ticket) = ticket else {
                return Err(DeliveryError {
                    message: "the ticket is gone".into(),
                    retry_after: None,
                    permanent: true,
                });
            };
            let stamp = ticket.updated_at.map(format_rfc3339);
            return self
                .client
                .add_internal_note(alert.ticket_id, &message.note_text(), stamp.as_deref())
                .await
                .map_err(DeliveryError::zendesk);
        }
        let Some((kind, url)) = self.channels.get(channel) else {
            return Err(DeliveryError {
                message: format!("channel {channel:?} has no URL"),
                retry_after: None,
                permanent: true,
            });
        };
        let body = match kind {
            ChannelKind::Slack => message.slack(),
            ChannelKind::Webhook => message.webhook(),
        };
        let response = self.http.post(url).json(&body).send().await.map_err(|e| DeliveryError {
            message: format!("{channel}: {}", e.without_url()),
            retry_after: None,
            permanent: false,
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // A 4xx other than a timeout or a rate limit (a revoked webhook, say) will not change.
        let permanent = status.is_client_error() && !matches!(status.as_u16(), 408 | 429);
        Err(DeliveryError {
            message: format!("{channel}: HTTP {status}"),
            retry_after,
            permanent,
        })
    }

    fn backoff(&self, attempts: u32) -> Duration {
        Duration::from_secs(1)
            .saturating_mul(1 << attempts.min(16))
            .min(self.config.notify.max_backoff)
    }

    /// Delivers what the outbox owes now; what a met clock made moot is cancelled.
    pub async fn deliver(&self, report: &mut AlertReport) -> Result<(), EngineError> {
        let now = self.clock.now();
        let directory = self.directory();
        for mut alert in self.store.outbox()? {
            if !alert.deliveries.iter().any(|d| d.is_due(self.clock.now_ms())) {
                continue;
            }
            let due = match self.store.ticket(alert.ticket_id)? {
                Some(record) => self.clocks(&record, &directory, now).map(|clocks| still_due(&clocks, &alert.id)),
                None => Some(false),
            };
            if due == Some(false) {
                alert.status = AlertStatus::Cancelled {
                    reason: "moot before delivery: the clock was met or stopped, or the ticket deleted".to_string(),
                };
                report.cancelled += 1;
                self.store.update_alert(&alert)?;
                continue;
            }
            for i in 0..alert.deliveries.len() {
                if !alert.deliveries[i].is_due(self.clock.now_ms()) {
                    continue;
                }
                let channel = alert.deliveries[i].channel.clone();
                let outcome = self.send(&alert, &channel).await;
                let now_ms = self.clock.now_ms();
                let backoff = self.backoff(alert.deliveries[i].attempts + 1);
                let delivery = &mut alert.deliveries[i];
                delivery.attempts += 1;
                match outcome {
                    Ok(()) => {
                        delivery.sent_at = Some(self.clock.now());
                        delivery.last_error = None;
                        report.sent += 1;
                    }
                    Err(error) => {
                        report.failed += 1;
                        // A channel that is down is waited for, however long: the alert goes out when it is back.
                        if error.permanent {
                            tracing::error!(alert = %alert.key, channel, error = %error.message, attempts = delivery.attempts, "delivery given up");
                            delivery.gave_up = true;
                        } else {
                            let wait = error.retry_after.map_or(backoff, |r| r.max(backoff));
                            tracing::warn!(alert = %alert.key, channel, error = %error.message, attempts = delivery.attempts, "delivery failed; will retry");
                            delivery.next_attempt_ms = now_ms + wait.as_millis() as i64;
                        }
                        delivery.last_error = Some(error.message);
                    }
                }
                if alert.deliveries.iter().all(|d| d.sent_at.is_some() || d.gave_up) {
                    alert.status = match alert.deliveries.iter().find(|d| d.gave_up) {
                        None => AlertStatus::Delivered,
                        Some(d) => AlertStatus::Failed {
                            reason: d.last_error.clone().unwrap_or_default(),
                        },
                    };
                }
                // Marked at once: a crash from here on never sends this delivery again.
                self.store.update_alert(&alert)?;
            }
        }
        Ok(())
    }

    /// One pass: decide for every ticket whose next alert instant has come, then deliver.
    /// One ticket's trouble neither stops the others nor holds up deliveries.
    pub async fn fire_due(&self) -> Result<AlertReport, EngineError> {
        let mut report = AlertReport::default();
        let now = self.clock.now();
        for (_, id) in self.store.due(now)? {
            if let Err(error) = self.decide_ticket(id, now, &mut report).await {
                tracing::error!(ticket = id, %error, "cannot decide the ticket's alerts; will retry");
                self.look_again(id, Some(now + CONFIRM_RETRY))?;
            }
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
            .flat_map(|a| {
                a.deliveries
                    .iter()
                    .filter(|d| d.sent_at.is_none() && !d.gave_up)
                    .map(|d| d.next_attempt_ms)
            })
            .min();
        Ok([due, retry].into_iter().flatten().min())
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
