//! Deciding alerts: when a ticket's next alert instant comes (and its facts are complete), decide
//! which points it owes and record them, with one outbox delivery per channel, before anything
//! is sent. Facts older than the alert are confirmed with a live read first, and authors whose
//! role is unknown are asked about, so nothing false is decided. Delivery is `deliver.rs`.

use std::time::Duration;

use super::apply::{apply_live, clocks_and_kpi, facts_complete, known_through, mark_deleted, unknown_authors};
use super::directory::Directory;
use super::engine::{Engine, EngineError};
use crate::config::NoteMode;
use crate::notify::message::AlertKind;
use crate::retry::Backoff;
use crate::sla::alerting::{decide, next_look, Decision, Recorded, Sight, Verdict};
use crate::sla::policy::TargetKind;
use crate::sla::time::Timestamp;
use crate::store::{AlertRecord, AlertStatus, Delivery, StoreError, TicketRecord};
use crate::sync::blocking;
use crate::zendesk::client::ZendeskError;
use crate::zendesk::models::{Comment, Ticket};

/// The channel name of internal notes on the ticket.
pub const NOTE_CHANNEL: &str = "zendesk-note";
/// The pseudo-channel of Slack direct messages to a ticket's assignee (`direct = true`).
pub const DIRECT_CHANNEL: &str = "slack-direct";

/// How soon a ticket is looked at again when its alert could not be confirmed or decided.
const CONFIRM_RETRY: Timestamp = 60;

/// How long a 404 is given before it is believed: a ticket just merged or moved can answer 404
/// for a moment, and a deletion must not silence a breach.
const NOT_FOUND_RECHECK: Duration = Duration::from_secs(5);

/// What the decider and the deliveries did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct AlertReport {
    pub decided: u64,
    /// Live reads of a ticket to confirm an alert.
    pub confirmations: u64,
    pub sent: u64,
    pub failed: u64,
    /// Deliveries not made: superseded or moot by delivery time.
    pub dropped: u64,
}

/// A live read of a ticket: None when Zendesk says (twice) it is gone.
type Live = (Option<Ticket>, Vec<Comment>);

/// A ticket due for a decision, as its stored facts stand.
struct Prepared {
    record: TicketRecord,
    directory: Directory,
    /// How many alerts it would send.
    sends: usize,
    /// Whether they rest on facts to be confirmed with a live read first.
    confirm: bool,
}

impl Engine {
    /// The channels an alert goes to: the first matching route's, and the ticket itself.
    fn deliveries(&self, record: &AlertRecord, severity: &str, tier: &str, group: Option<u64>, now_ms: i64) -> Vec<Delivery> {
        let notify = &self.config.notify;
        let kind = if record.goal { "goal" } else { "contract" };
        let route = notify.route(severity, tier, group, kind, Some(record.id.point));
        let mut channels = route.map(|r| r.channels.clone()).unwrap_or_default();
        let note = match notify.internal_notes {
            NoteMode::Off => false,
            NoteMode::Breaches => AlertKind::of(record.id.point) != AlertKind::Warning,
            NoteMode::All => true,
        };
        if note {
            channels.push(NOTE_CHANNEL.to_string());
        }
        if route.is_some_and(|r| r.direct) {
            channels.push(DIRECT_CHANNEL.to_string());
        }
        channels
            .into_iter()
            .map(|channel| {
                let mut delivery = Delivery::new(channel, now_ms);
                if notify.pagers.contains_key(&delivery.channel) {
                    delivery.pager_severity = route.map(|r| r.pager_severity.key().to_string());
                }
                delivery
            })
            .collect()
    }

    /// Reads one ticket and its latest comments live, so an alert never reports what a reply the
    /// exports have not shown yet already prevented. A 404 is read again before it is believed.
    /// Ahead of routine requests, waiting out Zendesk's 429s.
    async fn read_live(&self, id: u64) -> Result<Live, ZendeskError> {
        use crate::zendesk::client::Pacing::Urgent;
        let mut ticket = self.client.ticket(id, Urgent).await?;
        if ticket.is_none() {
            crate::retry::wait(&self.clock, &self.shutdown, NOT_FOUND_RECHECK)
                .await
                .map_err(|_| ZendeskError::Cancelled)?;
            ticket = self.client.ticket(id, Urgent).await?;
        }
        let comments = match ticket {
            Some(_) => self.client.latest_comments(id, Urgent).await?,
            None => Vec::new(),
        };
        Ok((ticket, comments))
    }

    /// Looks at the ticket again at `at` without deciding (a confirmation that failed, say).
    /// Under the write lock, off the async workers.
    pub(super) fn look_again(&self, id: u64, at: Option<Timestamp>) -> Result<(), StoreError> {
        blocking(|| {
            let _writing = self.write_lock();
            if let Some(mut record) = self.readable_ticket(id)? {
                record.next_alert = at;
                self.store.save_tickets(std::slice::from_ref(&record))?;
            }
            Ok(())
        })
    }

    /// After Zendesk could not answer `what` (the confirmation reads, the user lookups): shutdown
    /// ends the pass; otherwise the ticket's `alerts` are owed, and it is looked at again after a
    /// 429's `Retry-After`, or a minute later.
    fn retry_later(&self, id: u64, now: Timestamp, alerts: usize, what: &str, error: ZendeskError) -> Result<(), EngineError> {
        let at = match &error {
            ZendeskError::Cancelled => return Err(error.into()),
            ZendeskError::RateLimited { retry_after, .. } => now + retry_after.as_secs().max(1) as i64,
            _ => now + CONFIRM_RETRY,
        };
        tracing::warn!(ticket = id, %error, "cannot confirm an alert with Zendesk; will look again");
        self.owed.alerts_deferred(id, alerts, super::owed::cause(what, &error));
        Ok(self.look_again(id, Some(at))?)
    }

    fn sight(&self, record: &TicketRecord) -> Sight {
        Sight {
            first_seen: record.first_seen.unwrap_or(Timestamp::MIN),
            backfill: self.config.notify.backfill_window.as_secs() as i64,
        }
    }

    /// Whether the decisions to send rest on facts the exports may not have shown yet: a point
    /// crossed after the last complete poll's horizon, or a ticket older than the history read.
    fn needs_confirmation(&self, record: &TicketRecord, sends: &[&Decision]) -> Result<bool, StoreError> {
        // A pushed change read the whole ticket live: its facts are as of that read.
        let facts_as_of = self.store.facts_as_of()?.max(record.read_through).unwrap_or(Timestamp::MIN);
        let history_start = self.config.zendesk.as_ref().map_or(Timestamp::MIN, |z| z.start_time);
        let partial_history = record.created_at.is_some_and(|c| c < history_start);
        Ok(sends.iter().any(|d| d.effective_at > facts_as_of || partial_history))
    }

    /// What a ticket would send at `now` on its stored facts: None when nothing is to be decided
    /// for it now (facts incomplete, clocks unknown: it is set to wait).
    fn prepare(&self, id: u64, now: Timestamp) -> Result<Option<Prepared>, EngineError> {
        let Some(record) = self.readable_ticket(id)? else { return Ok(None) };
        if !facts_complete(&record, self.store.cursors()?.events_through) {
            // Back to waiting for the events export; decided once it has passed the ticket.
            self.reevaluate(&[id])?;
            return Ok(None);
        }
        let directory = self.directory();
        let Some(clocks) = self.clocks(&record, &directory, now) else {
            self.look_again(id, None)?;
            return Ok(None);
        };
        let recorded = self.store.recorded_alerts(id)?;
        let pending = decide(id, &clocks, now, self.sight(&record), |k| recorded.get(k).copied());
        let sends: Vec<&Decision> = pending.decided.iter().filter(|d| d.verdict == Verdict::Send).collect();
        let confirm = !sends.is_empty() && self.needs_confirmation(&record, &sends)?;
        Ok(Some(Prepared {
            sends: sends.len(),
            confirm,
            record,
            directory,
        }))
    }

    /// Decides (and records) the alerts a ticket owes at `now`. Nothing is decided while its
    /// facts are incomplete; a decision to send is confirmed first when it must be. The store's
    /// work runs off the async workers; the network is awaited outside the write lock.
    async fn decide_ticket(&self, id: u64, now: Timestamp, report: &mut AlertReport) -> Result<(), EngineError> {
        let Some(Prepared {
            record,
            mut directory,
            sends,
            confirm,
        }) = blocking(|| self.prepare(id, now))?
        else {
            // Nothing to decide now (its facts are on their way): nothing owed either.
            self.owed.alerts_decided(id);
            return Ok(());
        };
        // Only what would be sent is confirmed, ahead of every routine request: a poll may wait,
        // a breach may not.
        let mut live: Option<Live> = None;
        if sends > 0 {
            let _first = self.client.urgent();
            let unknown = unknown_authors(&record, &directory);
            if !unknown.is_empty() {
                match self.look_up_users(&unknown).await {
                    Ok(known) => directory = known,
                    Err(error) => return self.retry_later(id, now, sends, "user lookups", error),
                }
            }
            if confirm {
                report.confirmations += 1;
                let read = match self.read_live(id).await {
                    Ok(read) => read,
                    Err(error) => return self.retry_later(id, now, sends, "confirmation reads", error),
                };
                let authors: Vec<u64> = read
                    .1
                    .iter()
                    .filter_map(|c| c.author_id)
                    .filter(|&a| a != 0 && directory.known_role(a).is_none())
                    .collect();
                if !authors.is_empty() {
                    match self.look_up_users(&authors).await {
                        Ok(known) => directory = known,
                        Err(error) => return self.retry_later(id, now, sends, "user lookups", error),
                    }
                }
                live = Some(read);
            }
        }
        blocking(|| self.decide_on(id, now, live, &directory, report))?;
        self.owed.alerts_decided(id);
        Ok(())
    }

    /// Decides on the freshest stored facts (with a live read on top), under the write lock so
    /// that a page a poll committed meanwhile is kept.
    fn decide_on(
        &self,
        id: u64,
        now: Timestamp,
        live: Option<Live>,
        directory: &Directory,
        report: &mut AlertReport,
    ) -> Result<(), EngineError> {
        let _writing = self.write_lock();
        let Some(mut record) = self.readable_ticket(id)? else {
            return Ok(());
        };
        match &live {
            Some((Some(ticket), comments)) => {
                apply_live(&mut record, ticket, comments, directory, &self.config);
            }
            Some((None, _)) => mark_deleted(&mut record, now),
            None => {}
        }
        let through = self.store.cursors()?.events_through;
        if !facts_complete(&record, through) {
            // A poll committed a newer snapshot meanwhile: wait for its events.
            self.evaluate_into(&mut record, directory, now, through)?;
            self.store.save_tickets(std::slice::from_ref(&record))?;
            return Ok(());
        }
        // A live read makes the facts current to now; without one, to the events export.
        let known = if live.is_some() {
            now
        } else {
            known_through(&record, through).unwrap_or(Timestamp::MIN).min(now)
        };
        let Some((clocks, kpi)) = clocks_and_kpi(&self.config, &record, directory, now, known) else {
            record.next_alert = None;
            self.store.save_tickets(std::slice::from_ref(&record))?;
            return Ok(());
        };
        // The KPI row follows what was just confirmed (a breach told is a breach reported).
        record.kpi = kpi;
        self.owe_resolves(id, &clocks)?;
        let recorded = self.store.recorded_alerts(id)?;
        let decisions = decide(id, &clocks, now, self.sight(&record), |k| recorded.get(k).copied());
        let now_ms = self.clock.now_ms();
        let mut alerts = Vec::new();
        for decision in &decisions.decided {
            let mut alert = AlertRecord {
                key: decision.id.key(),
                ticket_id: id,
                id: decision.id.clone(),
                goal: decision.kind == TargetKind::Goal,
                at: decision.at,
                effective_at: decision.effective_at,
                decided_at: now,
                status: AlertStatus::Pending,
                deliveries: Vec::new(),
            };
            alert.status = match decision.verdict {
                Verdict::Send => {
                    self.metrics
                        .alert_decided(decision.id.point, alert.goal, decision.id.metric.key(), &clocks.tier);
                    alert.deliveries = self.deliveries(&alert, &clocks.severity, &clocks.tier, record.group_id, now_ms);
                    tracing::info!(ticket = id, alert = %alert.key, channels = alert.deliveries.len(), "alert decided");
                    if alert.deliveries.is_empty() {
                        AlertStatus::Unrouted
                    } else {
                        AlertStatus::Pending
                    }
                }
                Verdict::Superseded => AlertStatus::Superseded,
                Verdict::TooOld => AlertStatus::TooOld,
            };
            alerts.push(alert);
        }
        report.decided += alerts.len() as u64;
        let known = |key: &str| -> Option<Recorded> {
            match alerts.iter().find(|a| a.key == key) {
                Some(a) => Some(Recorded {
                    at: a.at,
                    binding: a.status.is_binding(),
                }),
                None if decisions.voided.iter().any(|v| v == key) => None,
                None => recorded.get(key).copied(),
            }
        };
        record.next_alert = next_look(id, &clocks, known);
        if record.next_alert.is_some_and(|at| at <= now) {
            // Never the case when every crossed point is recorded; guard the timer against a spin.
            tracing::error!(ticket = id, "the ticket's next alert did not move on; looking again in a minute");
            record.next_alert = Some(now + CONFIRM_RETRY);
        }
        self.store.record_alerts(&alerts, &decisions.voided, Some(&record))?;
        if alerts.iter().any(|a| a.status == AlertStatus::Pending) {
            self.outbox_wake.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }

    /// Decides for every ticket whose next alert instant has come. One ticket's trouble does not
    /// stop the others.
    pub async fn decide_due(&self, report: &mut AlertReport) -> Result<(), EngineError> {
        let now = self.clock.now();
        let due = blocking(|| self.store.due(now))?;
        // The whole pass goes before routine requests, not one ticket at a time with a poll's
        // request slipping in between.
        let _first = (!due.is_empty()).then(|| self.client.urgent());
        for (at, id) in due {
            if self.shutdown.is_cancelled() {
                return Err(ZendeskError::Cancelled.into());
            }
            if blocking(|| self.store.remove_stale_due(at, id))? {
                continue;
            }
            match self.decide_ticket(id, now, report).await {
                Ok(()) => {}
                Err(error) if error.is_cancelled() => return Err(error),
                Err(error) => {
                    tracing::error!(ticket = id, %error, "cannot decide the ticket's alerts; will retry");
                    self.owed.alerts_deferred(id, 1, format!("could not be decided: {error}"));
                    self.look_again(id, Some(now + CONFIRM_RETRY))?;
                }
            }
            crate::liveness::beat();
        }
        Ok(())
    }

    /// One pass, for `run --once` and tests: decide what is due, then deliver everything owed.
    pub async fn fire_due(&self) -> Result<AlertReport, EngineError> {
        let mut report = AlertReport::default();
        self.decide_due(&mut report).await?;
        self.deliver_all(&mut report).await?;
        Ok(report)
    }
}

/// The decider: sleeps until the earliest next alert instant, or until new facts arrive, then
/// decides; until shutdown. A failing pass backs off rather than spin.
pub async fn decider_loop(engine: std::sync::Arc<Engine>) {
    let backoff = Backoff {
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    let mut failures = 0;
    loop {
        let mut report = AlertReport::default();
        let step = crate::liveness::step("deciding the alerts due");
        match engine.decide_due(&mut report).await {
            Ok(()) => failures = 0,
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                failures += 1;
                tracing::error!(%error, failures, "alert pass failed; will retry");
            }
        }
        if report != AlertReport::default() {
            tracing::info!(?report, "alerts decided");
        }
        let wait = if failures > 0 {
            backoff.delay(failures)
        } else {
            match blocking(|| engine.store.next_due()) {
                // To the millisecond: a wait rounded to whole seconds would be up to a second late.
                Ok(Some(at)) => Duration::from_millis((at * 1000 - engine.clock.now_ms()).max(0) as u64),
                Ok(None) => Duration::from_secs(3600),
                Err(_) => backoff.delay(1),
            }
        };
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.wake.notified() => {}
            // A wait of zero means due now, already handled: never spin.
            _ = engine.clock.sleep(wait.max(Duration::from_millis(5))) => {}
        }
    }
}
