//! The engine and one poll cycle: refresh the directory when stale, read the ticket export
//! and the events export until both are current, apply each page, evaluate the changed
//! tickets' clocks, and commit each page with its cursor. A ticket whose last change the
//! events export has not passed yet waits (in the store's awaiting index) and is evaluated
//! for alerts once it has.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use super::apply::{apply_audit, apply_ticket, clocks_and_kpi, clocks_of, facts_complete, Directory, Source};
use crate::clock::Clock;
use crate::config::{ChannelKind, Config};
use crate::github::client::GithubClient;
use crate::sla::alerting::next_look;
use crate::sla::clock::{Event, TicketClocks};
use crate::sla::time::Timestamp;
use crate::store::{Cursors, Store, StoreError, TicketRecord};
use crate::zendesk::client::{ExportStart, ZendeskClient, ZendeskError};
use crate::zendesk::models::{Ticket, TicketEvent};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `run --once` could not bring the exports up to date within its limit.
    #[error("the exports could not be made current within {limit}: {waiting}")]
    NotCurrent { limit: String, waiting: String },
}

impl EngineError {
    /// Shutdown interrupted the work: not a failure.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, EngineError::Zendesk(ZendeskError::Cancelled))
    }
}

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

/// Tickets evaluated and written per transaction outside a page.
const BATCH: usize = 1000;

const KNOWN_STATUSES: [&str; 7] = ["new", "open", "pending", "hold", "solved", "closed", "deleted"];

pub struct Engine {
    pub config: Config,
    pub client: ZendeskClient,
    pub store: Store,
    pub clock: Clock,
    /// Swapped whole on refresh; readers hold the one they started with.
    pub(super) directory: Mutex<Directory>,
    pub(super) directory_fetched_ms: Mutex<Option<i64>>,
    unknown_statuses: Mutex<HashSet<String>>,
    /// Resolved alert channels: name → (kind, webhook URL).
    pub(super) channels: BTreeMap<String, (ChannelKind, String)>,
    pub(super) http: reqwest::Client,
    /// Woken when new facts arrive, so the alert timer looks again.
    pub wake: tokio::sync::Notify,
    /// Bumped when alerts are recorded, so each channel's delivery worker looks again (a watch:
    /// a worker busy when it moves still sees it).
    pub(super) outbox_wake: tokio::sync::watch::Sender<u64>,
    /// Shutdown: every loop, wait and request of the engine (and its client) ends with it.
    pub shutdown: CancellationToken,
    /// GitHub, when escalation is configured.
    pub github: Option<GithubClient>,
    /// Woken when a request for engineering is decided.
    pub(super) escalation_wake: tokio::sync::Notify,
    /// Held while an escalation record is read, changed and written back, by the poll and by
    /// the escalation worker alike.
    pub(super) escalation_lock: Mutex<()>,
    /// Held while a ticket is read, changed and written back, by the poll and by the alert
    /// timer alike, so neither overwrites what the other committed.
    write_lock: Mutex<()>,
    /// How the polls are going, for `/readyz`.
    pub health: super::health::Health,
    /// What `/metrics` shows; the clients count their requests here too.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Engine {
    /// An engine on an open store; the directory starts from what the store has.
    pub fn new(config: Config, client: ZendeskClient, store: Store, clock: Clock) -> Result<Engine, StoreError> {
        let directory = super::directory::load_directory(&store)?;
        let shutdown = CancellationToken::new();
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
        Ok(Engine {
            config,
            client: client.with_cancel(shutdown.clone()).with_metrics(metrics.clone()),
            store,
            clock,
            directory: Mutex::new(directory),
            directory_fetched_ms: Mutex::new(None),
            unknown_statuses: Mutex::new(HashSet::new()),
            channels: BTreeMap::new(),
            http: reqwest::Client::builder()
                .timeout(super::deliver::POST_TIMEOUT)
                .build()
                .unwrap_or_default(),
            wake: tokio::sync::Notify::new(),
            outbox_wake: tokio::sync::watch::Sender::new(0),
            shutdown,
            github: None,
            escalation_wake: tokio::sync::Notify::new(),
            escalation_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
            health: Default::default(),
            metrics,
        })
    }

    /// Alert channels by name, with their webhook URLs (secrets, read from the environment at start).
    pub fn with_channels(mut self, channels: BTreeMap<String, (ChannelKind, String)>) -> Engine {
        self.channels = channels;
        self
    }

    /// Files engineering's issues through `github`.
    pub fn with_github(mut self, github: GithubClient) -> Engine {
        self.github = Some(github.with_cancel(self.shutdown.clone()).with_metrics(self.metrics.clone()));
        self
    }

    /// Ends with `shutdown` rather than a token of its own.
    pub fn with_shutdown(mut self, shutdown: CancellationToken) -> Engine {
        self.client = self.client.with_cancel(shutdown.clone());
        self.github = self.github.map(|g| g.with_cancel(shutdown.clone()));
        self.shutdown = shutdown;
        self
    }

    pub(super) fn write_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        lock(&self.write_lock)
    }

    pub fn directory(&self) -> Directory {
        lock(&self.directory).clone()
    }

    /// The clocks of a stored ticket at `now`.
    pub fn clocks(&self, record: &TicketRecord, directory: &Directory, now: Timestamp) -> Option<TicketClocks> {
        clocks_of(&self.config, record, directory, now)
    }

    /// A stored ticket; None when it is not stored, or when its record cannot be read (counted,
    /// and taken out of the timer's index so it cannot wedge it).
    pub(super) fn readable_ticket(&self, id: u64) -> Result<Option<TicketRecord>, StoreError> {
        match self.store.ticket(id) {
            Err(error @ StoreError::Corrupt { .. }) => {
                self.store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::error!(ticket = id, %error, "a stored ticket cannot be read: skipped until the exports bring it again");
                self.store.unindex(id)?;
                Ok(None)
            }
            other => other,
        }
    }

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
        let known = events_through.unwrap_or(Timestamp::MIN).min(now);
        if let Some((clocks, kpi)) = clocks_and_kpi(&self.config, record, directory, now, known) {
            record.next_alert = next_look(record.id, &clocks, |key| recorded.get(key).copied());
            record.kpi = kpi;
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
            report.tickets_changed += self.apply_ticket_page(&tickets, &cursors)?;
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
            let (changed, applied) = self.apply_event_page(&audits, &cursors)?;
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
        self.store.set_facts_as_of(started - HORIZON)?;
        self.wake.notify_one();
        Ok(report)
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
