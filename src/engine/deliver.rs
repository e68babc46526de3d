//! Delivering recorded alerts: one worker per channel reads its own outbox entries, so a slow
//! Zendesk (note writes) never holds up Slack. Each message is rendered at delivery from the
//! clock as it is then; a warning superseded or made moot by then is dropped, a decision later
//! facts contradict is undone. Each delivery is marked, on disk, once done. A pager channel's
//! worker also sends the resolves its pages owe (`page.rs`).

use std::sync::Arc;

use std::time::Duration;
use tracing::Instrument;

use super::alerts::{AlertReport, DIRECT_CHANNEL, NOTE_CHANNEL};
use super::directory::Directory;
use super::engine::{Engine, EngineError, POST_TIMEOUT};
use super::status::clock_display;
use crate::config::ChannelKind;
use crate::notify::message::{AlertMessage, Render, TicketLine};
use crate::notify::wording;
use crate::retry::{self, Backoff};
use crate::sla::alerting::{at_delivery, settled, AtDelivery};
use crate::sla::clock::TicketClocks;
use crate::sla::time::Timestamp;
use crate::store::{AlertRecord, TicketRecord};
use crate::sync::blocking;
use crate::zendesk::client::ZendeskError;

/// A message sent this much after its point was crossed says that it is late, and why.
const LATE: Timestamp = 120;

/// Why a delivery failed, and whether (and when) to try again.
pub(super) struct DeliveryError {
    pub(super) message: String,
    pub(super) retry_after: Option<Duration>,
    pub(super) permanent: bool,
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

    pub(super) fn permanent(message: String) -> DeliveryError {
        DeliveryError {
            message,
            retry_after: None,
            permanent: true,
        }
    }
}

impl From<crate::notify::post::PostError> for DeliveryError {
    fn from(error: crate::notify::post::PostError) -> DeliveryError {
        DeliveryError {
            message: error.message,
            retry_after: error.retry_after,
            permanent: error.permanent,
        }
    }
}

/// What to do with one due delivery, from the clock at delivery time.
enum Plan {
    Send(Box<AlertMessage>),
    Drop(String),
    /// The facts say the point was never crossed: undo the decision.
    Undo,
    /// The ticket's record cannot be read now: try again later, never drop on that.
    Later,
}

/// The earlier of a wake-up instant so far (if any) and `at`.
pub(super) fn earliest(next: Option<i64>, at: i64) -> Option<i64> {
    Some(next.map_or(at, |next| next.min(at)))
}

fn channel_words(kind: Option<ChannelKind>, channel: &str) -> String {
    match kind {
        Some(ChannelKind::Slack) => format!("Slack ({channel})"),
        Some(ChannelKind::Webhook) => format!("the {channel} webhook"),
        None if channel == NOTE_CHANNEL => "Zendesk".to_string(),
        None => channel.to_string(),
    }
}

impl Engine {
    /// Why a message is late, when it is: the channel was unreachable, the ticket was first seen
    /// after the point, or slawatch was down or behind.
    fn delay_text(&self, alert: &AlertRecord, channel: &str, record: &TicketRecord, now: Timestamp) -> Option<String> {
        let delivery = alert.deliveries.iter().find(|d| d.channel == channel)?;
        if let Some(since) = delivery.failing_since_ms {
            let down = (self.clock.now_ms() - since) / 1000;
            if down >= LATE {
                let kind = self.channels.get(channel).map(|(k, _)| *k);
                return Some(format!(
                    "delayed: {} was unreachable for {}",
                    channel_words(kind, channel),
                    wording::calendar(down)
                ));
            }
        }
        let late = now - alert.effective_at;
        if late < LATE {
            return None;
        }
        Some(match record.first_seen {
            Some(seen) if seen > alert.effective_at => format!(
                "delayed: slawatch first saw this ticket {} after this point was crossed",
                wording::calendar(seen - alert.effective_at)
            ),
            _ => format!(
                "delayed: this point was crossed {} ago (slawatch was down or behind)",
                wording::calendar(late)
            ),
        })
    }

    /// Whom Slack notifies for a ticket: its assignee, or when nobody holds it its group's
    /// on-call handle, as `[people]` maps them.
    fn mention(&self, record: &TicketRecord, directory: &Directory) -> Option<String> {
        let people = &self.config.people;
        match record.assignee_id {
            Some(agent) => people
                .slack_member(agent, directory.emails.get(&agent).map(String::as_str))
                .map(str::to_string)
                .or_else(|| self.looked_up_member(agent))
                .map(|member| format!("<@{member}>")),
            None => record
                .group_id
                .and_then(|group| people.groups.get(&group))
                .map(|handle| format!("<!subteam^{handle}>")),
        }
    }

    fn ticket_line(&self, record: &TicketRecord, clocks: &TicketClocks, directory: &Directory) -> TicketLine {
        let base_url = self.config.zendesk.as_ref().map_or(String::new(), |z| z.base_url.clone());
        TicketLine {
            id: record.id,
            url: format!("{base_url}/agent/tickets/{}", record.id),
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
            assignee: record
                .assignee_id
                .map(|a| directory.names.get(&a).cloned().unwrap_or_else(|| format!("agent {a}"))),
            mention: self.mention(record, directory),
            group_id: record.group_id,
        }
    }

    /// Whether (and what) to send now, from the ticket's clock as it is at `now`.
    fn plan(&self, alert: &AlertRecord, channel: &str, now: Timestamp) -> Result<Plan, EngineError> {
        let record = match self.store.ticket(alert.ticket_id) {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(Plan::Drop("the ticket is gone".into())),
            // An unreadable record is not a gone ticket: the export brings it back, and then it
            // is told (never cancelled on a read error).
            Err(crate::store::StoreError::Corrupt { .. }) => return Ok(Plan::Later),
            Err(other) => return Err(other.into()),
        };
        let directory = self.directory();
        let Some(clocks) = self.clocks(&record, &directory, now) else {
            return Ok(Plan::Drop("the ticket's clocks cannot be evaluated".into()));
        };
        match at_delivery(&clocks, &alert.id, now) {
            AtDelivery::Superseded => return Ok(Plan::Drop("superseded: a later point of the same clock was crossed".into())),
            AtDelivery::Moot(reason) => return Ok(Plan::Drop(format!("moot: {reason}"))),
            AtDelivery::Contradicted => return Ok(Plan::Undo),
            AtDelivery::Deliver => {}
        }
        if self.pagers.contains_key(channel) {
            // A breach answered before its page went out is told in the channels; nobody is woken.
            if let Some(reason) = settled(&clocks, &alert.id) {
                return Ok(Plan::Drop(format!("moot: {reason} before the page went out")));
            }
        }
        let Some(clock) = clocks
            .clocks
            .iter()
            .find(|c| c.metric == alert.id.metric && c.name == alert.id.target_name && c.target == Some(alert.id.target))
        else {
            return Ok(Plan::Drop("moot: the ticket's target changed".into()));
        };
        let display = clock_display(&self.config, clock.schedule);
        let key = alert.key.clone();
        let message = AlertMessage::render(Render {
            key: &key,
            ticket: self.ticket_line(&record, &clocks, &directory),
            clock,
            point: alert.id.point,
            goal: alert.goal.then_some(alert.id.target_name.as_str()),
            schedule: &display.name,
            business_clock: display.business,
            zone: display.zone,
            crossed_at: alert.effective_at,
            now,
            delayed: self.delay_text(alert, channel, &record, now),
        });
        Ok(Plan::Send(Box::new(message)))
    }

    /// Writes the alert as an internal note, unless it is there already (a crash after writing).
    async fn send_note(&self, ticket_id: u64, message: &AlertMessage) -> Result<(), DeliveryError> {
        let about = crate::marker::NoteAbout::Alert(message.key.clone());
        let account = self.account();
        let written = self
            .client
            .add_internal_note_once(
                ticket_id,
                &message.note_text(),
                &crate::marker::note_line(&account, &about),
                |body| crate::marker::note_carries(body, &account, &about),
                &[],
                &[],
            )
            .await
            .map_err(DeliveryError::zendesk)?;
        if written {
            Ok(())
        } else {
            Err(DeliveryError::permanent("the ticket is gone".into()))
        }
    }

    async fn send(&self, message: &AlertMessage, ticket_id: u64, channel: &str) -> Result<(), DeliveryError> {
        if channel == NOTE_CHANNEL {
            return self.send_note(ticket_id, message).await;
        }
        if channel == DIRECT_CHANNEL {
            return self.send_direct(message).await;
        }
        let Some((kind, _)) = self.channels.get(channel) else {
            return Err(DeliveryError::permanent(format!("channel {channel:?} has no URL")));
        };
        let body = match kind {
            ChannelKind::Slack => message.slack(),
            ChannelKind::Webhook => message.webhook(),
        };
        self.post(channel, &body).await
    }

    /// The alert as a Slack direct message to the ticket's assignee (`chat.postMessage` to their
    /// member id). A ticket nobody holds, or whose assignee Slack does not know, has no one to
    /// message: refused for good, the channels still tell it.
    async fn send_direct(&self, message: &AlertMessage) -> Result<(), DeliveryError> {
        let Some(slack) = &self.slack else {
            return Err(DeliveryError::permanent("no [slack] bot token: no direct message".into()));
        };
        let member = message
            .mention
            .as_deref()
            .and_then(|m| m.strip_prefix("<@"))
            .and_then(|m| m.strip_suffix('>'))
            .ok_or_else(|| DeliveryError::permanent("no Slack member for the ticket's assignee".into()))?;
        let _post = crate::liveness::waiting(POST_TIMEOUT);
        slack.post_message(member, &message.slack()).await.map_err(|error| DeliveryError {
            permanent: !error.is_transient(),
            message: error.to_string(),
            retry_after: None,
        })
    }

    /// Posts `body` to a channel's webhook.
    pub(super) async fn post(&self, channel: &str, body: &serde_json::Value) -> Result<(), DeliveryError> {
        let Some((_, url)) = self.channels.get(channel) else {
            return Err(DeliveryError::permanent(format!("channel {channel:?} has no URL")));
        };
        // A wait on purpose, bounded by the post's timeout: not a stall.
        let _post = crate::liveness::waiting(POST_TIMEOUT);
        // Classified there, once, for alerts, digests and `slawatch test-alert` alike.
        crate::notify::post::post(&self.http, channel, url, body, POST_TIMEOUT, self.clock.now())
            .await
            .map(|_| ())
            .map_err(DeliveryError::from)
    }

    /// Delivers `channel`'s due deliveries; returns when its next one is due (ms), if any.
    pub async fn deliver_channel(&self, channel: &str, report: &mut AlertReport) -> Result<Option<i64>, EngineError> {
        let backoff = Backoff {
            first: Duration::from_secs(1),
            max: self.config.notify.max_backoff,
        };
        let mut next: Option<i64> = None;
        for alert in blocking(|| self.store.outbox(channel))? {
            crate::liveness::beat();
            // Nothing new goes out after the signal; what is left is sent after the restart.
            if self.shutdown.is_cancelled() {
                return Err(ZendeskError::Cancelled.into());
            }
            let Some(delivery) = alert.deliveries.iter().find(|d| d.channel == channel && d.is_owed()) else {
                continue;
            };
            if !delivery.is_outstanding() {
                // The page went out (or was settled); its resolve is owed.
                if let Some(at) = self.deliver_resolve(&alert, delivery, &backoff, report).await? {
                    next = earliest(next, at);
                }
                continue;
            }
            if !delivery.is_due(self.clock.now_ms()) {
                next = earliest(next, delivery.next_attempt_ms);
                continue;
            }
            let now = self.clock.now();
            let message = match blocking(|| self.plan(&alert, channel, now))? {
                Plan::Send(message) => message,
                Plan::Drop(reason) => {
                    tracing::info!(alert = %alert.key, channel, reason, "delivery dropped");
                    report.dropped += 1;
                    self.mark(&alert.key, channel, |d| d.dropped = Some(reason.clone()))?;
                    continue;
                }
                Plan::Undo => {
                    blocking(|| self.undo(&alert, channel, now, report))?;
                    continue;
                }
                Plan::Later => {
                    let at = retry::due_ms(self.clock.now_ms(), Duration::from_secs(60));
                    next = earliest(next, at);
                    self.mark(&alert.key, channel, |d| {
                        d.next_attempt_ms = at;
                        d.last_error = Some("the ticket's stored record cannot be read".to_string());
                    })?;
                    continue;
                }
            };
            // The decider does not flush each ticket's alerts: they reach the disk here, before
            // anything goes out, or a power loss after the send forgets the alert and sends it again.
            blocking(|| self.store.flush())?;
            let span = tracing::info_span!("delivery", ticket = alert.ticket_id, alert = %alert.key, channel);
            let pager = self.pagers.get(channel);
            let outcome = match pager {
                Some(pager) => self.trigger_page(pager, channel, &message, delivery).instrument(span).await,
                None => self.send(&message, alert.ticket_id, channel).instrument(span).await,
            };
            let now_ms = self.clock.now_ms();
            self.metrics.delivery(channel, alert.id.point, outcome.is_ok());
            if pager.is_some() {
                self.metrics.page(channel, if outcome.is_ok() { "triggered" } else { "failed" });
            }
            match outcome {
                Ok(()) => {
                    report.sent += 1;
                    tracing::info!(ticket = alert.ticket_id, alert = %alert.key, channel, "{}", message.title());
                    let marked = blocking(|| {
                        self.store.update_alert(&alert.key, |a| {
                            if let Some(d) = a.deliveries.iter_mut().find(|d| d.channel == channel) {
                                d.attempts += 1;
                                d.sent_at = Some(now);
                                d.last_error = None;
                            }
                            a.settle();
                        })
                    })?;
                    if marked.is_none() {
                        // Undone by another channel's worker while this post was in flight: it
                        // went out, so the record stands (binding), or it would be decided again.
                        let mut restored = alert.clone();
                        for d in &mut restored.deliveries {
                            if d.channel == channel {
                                d.sent_at = Some(now);
                            } else if d.sent_at.is_none() {
                                d.dropped = Some("contradicted by later facts".into());
                            }
                        }
                        restored.settle();
                        blocking(|| {
                            self.store.record_alerts(&[restored], &[], None)?;
                            self.store.flush()
                        })?;
                    }
                }
                Err(error) => {
                    report.failed += 1;
                    let attempts = delivery.attempts + 1;
                    let wait = backoff.after(attempts, error.retry_after);
                    let at = retry::due_ms(now_ms, wait);
                    if error.permanent {
                        tracing::error!(ticket = alert.ticket_id, alert = %alert.key, channel, error = %error.message, attempts, "delivery given up");
                        self.owed.refused("alert", channel, &error.message);
                    } else {
                        // A channel that is down is waited for, however long: the alert goes out when it is back.
                        tracing::warn!(ticket = alert.ticket_id, alert = %alert.key, channel, error = %error.message, attempts, "delivery failed; will retry");
                        next = earliest(next, at);
                    }
                    self.mark(&alert.key, channel, |d| {
                        d.record_failure(attempts, at, error.permanent, now_ms, &error.message)
                    })?;
                }
            }
        }
        Ok(next)
    }

    /// Changes one channel's delivery of an alert (and settles its status), on disk at once: a
    /// crash from here on never sends this delivery again.
    pub(super) fn mark(&self, key: &str, channel: &str, change: impl Fn(&mut crate::store::Delivery)) -> Result<(), EngineError> {
        blocking(|| {
            self.store.update_alert(key, |alert| {
                if let Some(delivery) = alert.deliveries.iter_mut().find(|d| d.channel == channel) {
                    change(delivery);
                }
                alert.settle();
            })
        })?;
        Ok(())
    }

    /// Later facts say the point was never crossed. If nothing of the alert went out, the
    /// decision is removed and the ticket looked at again (its point is decided afresh if it is
    /// crossed later); otherwise this channel's delivery is dropped.
    fn undo(&self, alert: &AlertRecord, channel: &str, now: Timestamp, report: &mut AlertReport) -> Result<(), EngineError> {
        report.dropped += 1;
        let current = self.store.alert(&alert.key)?;
        let sent = current.as_ref().is_some_and(|a| a.deliveries.iter().any(|d| d.sent_at.is_some()));
        if sent {
            tracing::info!(alert = %alert.key, channel, "later facts contradict the alert: this delivery dropped");
            return self.mark(&alert.key, channel, |d| d.dropped = Some("contradicted by later facts".into()));
        }
        tracing::info!(alert = %alert.key, "later facts contradict the alert, and nothing went out: decision undone");
        if let Some(current) = current {
            self.store.remove_alert(&current)?;
        }
        self.look_again(alert.ticket_id, Some(now))?;
        self.wake.notify_one();
        Ok(())
    }

    /// The channels with something to deliver: the configured ones, the ticket notes, and any
    /// left in the outbox by an earlier configuration.
    pub fn delivery_channels(&self) -> Result<Vec<String>, EngineError> {
        let mut channels: Vec<String> = self.channels.keys().chain(self.pagers.keys()).cloned().collect();
        channels.push(NOTE_CHANNEL.to_string());
        if self.slack.is_some() {
            channels.push(DIRECT_CHANNEL.to_string());
        }
        for channel in self.store.outbox_channels()? {
            if !channels.contains(&channel) {
                channels.push(channel);
            }
        }
        Ok(channels)
    }

    /// When anything next needs doing: the earliest next alert instant or delivery retry (ms).
    pub fn next_wake_ms(&self) -> Result<Option<i64>, EngineError> {
        let mut next = self.store.next_due()?.map(|at| at * 1000);
        for channel in self.store.outbox_channels()? {
            for alert in self.store.outbox(&channel)? {
                let retry = alert
                    .deliveries
                    .iter()
                    .filter(|d| d.channel == channel)
                    .filter_map(|d| d.next_duty_ms())
                    .min();
                next = [next, retry].into_iter().flatten().min();
            }
        }
        Ok(next)
    }

    /// Delivers what every channel owes now (one after another: `run --once` and tests).
    pub async fn deliver_all(&self, report: &mut AlertReport) -> Result<(), EngineError> {
        for channel in blocking(|| self.store.outbox_channels())? {
            self.deliver_channel(&channel, report).await?;
        }
        Ok(())
    }
}

/// One channel's worker: delivers what is due, then sleeps until its next retry or until new
/// alerts are recorded; until shutdown.
pub async fn delivery_loop(engine: Arc<Engine>, channel: String) {
    let mut recorded = engine.outbox_wake.subscribe();
    let backoff = Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    let mut failures = 0;
    loop {
        recorded.borrow_and_update();
        let mut report = AlertReport::default();
        let step = crate::liveness::step("delivering alerts");
        let next = match engine.deliver_channel(&channel, &mut report).await {
            Ok(next) => {
                failures = 0;
                next
            }
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                failures += 1;
                tracing::error!(channel, %error, "delivery pass failed; will retry");
                Some(retry::due_ms(engine.clock.now_ms(), backoff.delay(failures)))
            }
        };
        let wait = next.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis((at - engine.clock.now_ms()).clamp(0, 3_600_000) as u64)
        });
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = recorded.changed() => {}
            _ = engine.clock.sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}
