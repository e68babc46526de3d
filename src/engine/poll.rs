//! One poll cycle: refresh the directory when stale, read the ticket export
//! and the events export until both are current, apply each page, evaluate
//! the changed tickets' clocks, and commit each page with its cursor.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use super::apply::{apply_audit, apply_ticket, clocks_of, Directory};
use crate::clock::Clock;
use crate::config::{ChannelKind, Config};
use crate::sla::alerting::next_look;
use crate::sla::clock::{Event, Role, TicketClocks};
use crate::sla::time::Timestamp;
use crate::store::{AgentRecord, Cursors, OrganizationRecord, Store, StoreError, TicketRecord};
use crate::zendesk::client::{ExportStart, ZendeskClient, ZendeskError};
use crate::zendesk::models::{Ticket, TicketEvent};

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
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
const HORIZON: i64 = 60;

const KNOWN_STATUSES: [&str; 7] = ["new", "open", "pending", "hold", "solved", "closed", "deleted"];

pub struct Engine {
    pub config: Config,
    pub client: ZendeskClient,
    pub store: Store,
    pub clock: Clock,
    /// Swapped whole on refresh; readers hold the one they started with.
    directory: Mutex<Arc<Directory>>,
    directory_fetched_ms: Mutex<Option<i64>>,
    unknown_statuses: Mutex<HashSet<String>>,
    /// Resolved alert channels: name → (kind, webhook URL).
    pub(super) channels: BTreeMap<String, (ChannelKind, String)>,
    pub(super) http: reqwest::Client,
    /// Woken when new facts arrive, so the alert timer looks again.
    pub wake: tokio::sync::Notify,
    /// Held while a ticket is read, changed and written back, by the poll and by the alert
    /// timer alike, so neither overwrites what the other committed.
    write_lock: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn role_of(role: &str) -> Role {
    match role {
        "admin" => Role::Admin,
        "agent" => Role::Agent,
        "end-user" => Role::EndUser,
        _ => Role::Other,
    }
}

/// The agents and organizations last saved in the store.
pub fn load_directory(store: &Store) -> Result<Directory, StoreError> {
    Ok(directory_of(&store.agents()?, store.organizations()?))
}

fn directory_of(agents: &[AgentRecord], organizations: Vec<OrganizationRecord>) -> Directory {
    let mut directory = Directory::default();
    for agent in agents {
        directory.agents.insert(agent.id, role_of(&agent.role));
        directory.agent_names.insert(agent.id, agent.name.clone());
    }
    for org in organizations {
        directory.organizations.insert(org.id, org);
    }
    directory
}

impl Engine {
    /// An engine on an open store; the directory starts from what the store has.
    pub fn new(config: Config, client: ZendeskClient, store: Store, clock: Clock) -> Result<Engine, StoreError> {
        let directory = load_directory(&store)?;
        Ok(Engine {
            config,
            client,
            store,
            clock,
            directory: Mutex::new(Arc::new(directory)),
            directory_fetched_ms: Mutex::new(None),
            unknown_statuses: Mutex::new(HashSet::new()),
            channels: BTreeMap::new(),
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            wake: tokio::sync::Notify::new(),
            write_lock: Mutex::new(()),
        })
    }

    /// Alert channels by name, with their webhook URLs (secrets, read from the environment at start).
    pub fn with_channels(mut self, channels: BTreeMap<String, (ChannelKind, String)>) -> Engine {
        self.channels = channels;
        self
    }

    pub(super) fn write_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        lock(&self.write_lock)
    }

    pub fn directory(&self) -> Arc<Directory> {
        lock(&self.directory).clone()
    }

    /// Lists agents and organizations again when the last listing is older than the refresh interval.
    pub async fn refresh_directory(&self, force: bool) -> Result<(), EngineError> {
        let now = self.clock.now_ms();
        let refresh_ms = self
            .config
            .zendesk
            .as_ref()
            .map_or(600_000, |z| z.directory_refresh.as_millis() as i64);
        let stale = lock(&self.directory_fetched_ms).is_none_or(|at| now - at >= refresh_ms);
        if !force && !stale {
            return Ok(());
        }
        let agents = self.client.agents().await?;
        let organizations = self.client.organizations().await?;
        let agent_records: Vec<AgentRecord> = agents
            .iter()
            .map(|u| AgentRecord {
                id: u.id,
                name: u.name.clone().unwrap_or_default(),
                role: u.role.clone().unwrap_or_default(),
            })
            .collect();
        let org_records: Vec<OrganizationRecord> = organizations
            .into_iter()
            .map(|o| OrganizationRecord {
                id: o.id,
                name: o.name.unwrap_or_default(),
                tags: o.tags,
                fields: o.organization_fields,
            })
            .collect();
        self.store.save_agents(&agent_records)?;
        self.store.save_organizations(&org_records)?;
        *lock(&self.directory) = Arc::new(directory_of(&agent_records, org_records));
        *lock(&self.directory_fetched_ms) = Some(now);
        Ok(())
    }

    /// The clocks of a stored ticket at `now`.
    pub fn clocks(&self, record: &TicketRecord, directory: &Directory, now: Timestamp) -> Option<TicketClocks> {
        clocks_of(&self.config, record, directory, now)
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

    fn evaluate_into(&self, record: &mut TicketRecord, directory: &Directory, now: Timestamp) {
        self.note_unknown_status(record);
        // A ticket known only from the events export waits for its first ticket-export page
        // (its organization, severity and subject) before any alert.
        record.next_alert = match self.clocks(record, directory, now) {
            Some(clocks) if record.exported => next_look(record.id, &clocks, |key| self.store.has_alert(key).unwrap_or(false)),
            _ => None,
        };
    }

    fn start_time(&self) -> i64 {
        let configured = self.config.zendesk.as_ref().map_or(0, |z| z.start_time);
        configured.min(self.clock.now() - HORIZON - 1)
    }

    fn page_size(&self) -> usize {
        self.config.zendesk.as_ref().map_or(1000, |z| z.page_size)
    }

    /// The record of ticket `id` among this page's, read from the store on first use.
    fn load<'a>(&self, changed: &'a mut BTreeMap<u64, TicketRecord>, id: u64) -> Result<&'a mut TicketRecord, StoreError> {
        match changed.entry(id) {
            std::collections::btree_map::Entry::Occupied(entry) => Ok(entry.into_mut()),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let first_seen = Some(self.clock.now());
                let record = self.store.ticket(id)?.unwrap_or_else(|| TicketRecord {
                    id,
                    first_seen,
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
            if apply_ticket(record, ticket, &self.config.severity) {
                ids.push(ticket.id);
            }
        }
        let records = self.finish(changed, &ids, &directory, now);
        self.store.commit(&records, cursors)?;
        // New facts can move a ticket's next alert earlier: let the timer look.
        self.wake.notify_one();
        Ok(records.len() as u64)
    }

    /// Applies one page of the events export and commits it with the start time after it.
    pub fn apply_event_page(&self, audits: &[TicketEvent], cursors: &Cursors) -> Result<(u64, u64), StoreError> {
        let _writing = self.write_lock();
        let directory = self.directory();
        let now = self.clock.now();
        let mut changed = BTreeMap::new();
        let mut ids = Vec::new();
        let mut applied = 0;
        for audit in audits {
            let record = self.load(&mut changed, audit.ticket_id)?;
            if apply_audit(record, audit, &directory) {
                applied += 1;
                ids.push(audit.ticket_id);
            }
        }
        let records = self.finish(changed, &ids, &directory, now);
        self.store.commit(&records, cursors)?;
        self.wake.notify_one();
        Ok((records.len() as u64, applied))
    }

    fn finish(&self, mut changed: BTreeMap<u64, TicketRecord>, ids: &[u64], directory: &Directory, now: Timestamp) -> Vec<TicketRecord> {
        let ids: HashSet<u64> = ids.iter().copied().collect();
        changed.retain(|id, _| ids.contains(id));
        changed
            .into_values()
            .map(|mut record| {
                self.evaluate_into(&mut record, directory, now);
                record
            })
            .collect()
    }

    /// Polls both exports until they are current (or `shutdown` is cancelled between pages).
    pub async fn poll(&self, shutdown: &CancellationToken) -> Result<PollReport, EngineError> {
        let mut report = PollReport::default();
        let started = self.clock.now();
        let skipped_before = self.client.stats.skipped_records.load(std::sync::atomic::Ordering::Relaxed);
        if let Err(error) = self.refresh_directory(false).await {
            // Stale agents and organizations are better than no poll: keep going.
            tracing::warn!(%error, "could not refresh agents and organizations");
        }

        loop {
            if shutdown.is_cancelled() {
                return Ok(report);
            }
            let mut cursors = self.store.cursors()?;
            let start = match &cursors.tickets {
                Some(cursor) => ExportStart::Cursor(cursor.clone()),
                None => ExportStart::StartTime(self.start_time()),
            };
            let page = self.client.ticket_page(&start, self.page_size()).await?;
            let tickets: Vec<Ticket> = self.client.read(page.tickets);
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
            if shutdown.is_cancelled() {
                return Ok(report);
            }
            let mut cursors = self.store.cursors()?;
            let start = cursors.events_start.unwrap_or_else(|| self.start_time());
            let page = self.client.event_page(start).await?;
            let audits: Vec<TicketEvent> = self.client.read(page.ticket_events);
            let end = page.end_time.unwrap_or(start).max(start);
            cursors.events_start = Some(end);
            let (changed, applied) = self.apply_event_page(&audits, &cursors)?;
            report.tickets_changed += changed;
            report.audits_applied += applied;
            report.event_pages += 1;
            if page.end_of_stream {
                break;
            }
            if end == start {
                // Zendesk never splits a second: a page that ends where it started held that
                // whole second, so the next one starts after it.
                cursors.events_start = Some(start + 1);
                self.store.commit(&[], &cursors)?;
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
        let cursors = self.store.cursors()?;
        let mut batch = Vec::new();
        let mut count = 0;
        for record in self.store.tickets() {
            let mut record = record?;
            let before = record.next_alert;
            self.evaluate_into(&mut record, &directory, now);
            if record.next_alert != before {
                batch.push(record);
            }
            if batch.len() >= 1000 {
                count += batch.len() as u64;
                self.store.commit(&std::mem::take(&mut batch), &cursors)?;
            }
        }
        count += batch.len() as u64;
        self.store.commit(&batch, &cursors)?;
        Ok(count)
    }
}
