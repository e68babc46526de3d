//! The engine: the configuration, the Zendesk client, the store and the clock one daemon works
//! with, and the locks and wake-ups its loops share. What it does lives beside it, one file a
//! step: `poll` (the exports), `evaluate`, `alerts` (deciding), `deliver`, `escalate`,
//! `refresh` (who is who), `digest`, `retention`, `readiness` and `gauges`.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use super::apply::clocks_of;
use super::directory::{load_directory, Directory};
use crate::clock::Clock;
use crate::config::{ChannelKind, Config};
use crate::github::client::GithubClient;
use crate::sla::clock::TicketClocks;
use crate::sla::time::Timestamp;
use crate::store::{Store, StoreError, TicketRecord};
use crate::sync::lock;
use crate::zendesk::client::{ZendeskClient, ZendeskError};

/// How long a webhook post may take: a post in flight at shutdown ends well within the 10 s.
pub const POST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Zendesk(#[from] ZendeskError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `run --once` could not finish what was due within its limit: one line per kind of work.
    #[error("not everything due was done within {limit}:\n{}", .owed.join("\n"))]
    Owed { limit: String, owed: Vec<String> },
}

impl EngineError {
    /// Shutdown interrupted the work: not a failure.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, EngineError::Zendesk(ZendeskError::Cancelled))
    }
}

pub struct Engine {
    pub config: Config,
    pub client: ZendeskClient,
    pub store: Store,
    pub clock: Clock,
    /// Swapped whole on refresh; readers hold the one they started with.
    pub(super) directory: Mutex<Directory>,
    pub(super) directory_fetched_ms: Mutex<Option<i64>>,
    pub(super) unknown_statuses: Mutex<HashSet<String>>,
    /// Resolved alert channels: name → (kind, webhook URL).
    pub(super) channels: BTreeMap<String, (ChannelKind, String)>,
    /// Pager channels, with their keys (see `page`).
    pub(super) pagers: BTreeMap<String, super::page::Pager>,
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
    /// Work due and not done that only memory knows of (for `run --once`'s answer).
    pub(super) owed: super::owed::Owed,
    /// Whether each loop makes progress, for `/healthz` and the watchdog.
    pub liveness: std::sync::Arc<crate::liveness::Liveness>,
    /// The config drift last measured (when, in ms), for `/readyz`, `/metrics` and `status`.
    pub(super) drift: Mutex<Option<(i64, super::drift::Drift)>>,
    /// What the last preflight against the account found, for `/readyz` and `status`.
    pub(super) preflight: Mutex<Option<Vec<crate::preflight::Finding>>>,
    /// When each linked issue (ticket, request) was last read, when that read changed nothing
    /// worth a write to the store.
    pub(super) issue_reads: Mutex<std::collections::HashMap<(u64, u32), i64>>,
    /// Slack's Web API, when `[slack]` is configured: members looked up by e-mail.
    pub(super) slack: Option<crate::slack::SlackClient>,
    /// Agent id → (Slack member id, if Slack has one; when looked up, ms): what `[slack]`
    /// lookups found, for mentions `[people]` does not map.
    pub(super) slack_members: Mutex<std::collections::HashMap<u64, (Option<String>, i64)>>,
    /// Push mode, when `[zendesk.webhook]` is configured: the tickets Zendesk said changed.
    pub push: Option<super::push::Push>,
    /// Every open ticket's `/status` row, kept current at each write (the store tells it).
    pub status_board: std::sync::Arc<super::board::StatusBoard>,
}

impl Engine {
    /// The Zendesk account this daemon serves, as its markers name it (the host).
    pub fn account(&self) -> String {
        crate::marker::account_of(self.config.zendesk.as_ref().map_or("", |z| z.base_url.as_str()))
    }

    /// An engine on an open store; the directory starts from what the store has.
    pub fn new(config: Config, client: ZendeskClient, store: Store, clock: Clock) -> Result<Engine, StoreError> {
        let directory = load_directory(&store)?;
        let shutdown = CancellationToken::new();
        let metrics = std::sync::Arc::new(crate::metrics::Metrics::new());
        let liveness = crate::liveness::Liveness::new(clock.clone(), config.stall_after());
        let status_board = std::sync::Arc::new(super::board::StatusBoard::new(&config, clock.clone()));
        store.watch(status_board.clone());
        Ok(Engine {
            config,
            client: client.with_cancel(shutdown.clone()).with_metrics(metrics.clone()),
            store,
            clock,
            directory: Mutex::new(directory),
            directory_fetched_ms: Mutex::new(None),
            unknown_statuses: Mutex::new(HashSet::new()),
            channels: BTreeMap::new(),
            pagers: BTreeMap::new(),
            http: reqwest::Client::builder().timeout(POST_TIMEOUT).build().unwrap_or_default(),
            wake: tokio::sync::Notify::new(),
            outbox_wake: tokio::sync::watch::Sender::new(0),
            shutdown,
            github: None,
            escalation_wake: tokio::sync::Notify::new(),
            escalation_lock: Mutex::new(()),
            write_lock: Mutex::new(()),
            health: Default::default(),
            owed: Default::default(),
            metrics,
            liveness,
            drift: Mutex::new(None),
            preflight: Mutex::new(None),
            issue_reads: Mutex::new(std::collections::HashMap::new()),
            slack: None,
            slack_members: Mutex::new(std::collections::HashMap::new()),
            push: None,
            status_board,
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

    /// Looks agents up in Slack by e-mail (see `people`).
    pub fn with_slack(mut self, slack: crate::slack::SlackClient) -> Engine {
        self.slack = Some(slack);
        self
    }

    /// Takes Zendesk's webhooks, signed with `secret`, on the admin listener (see `push`).
    pub fn with_push(mut self, secret: String) -> Engine {
        let capacity = self
            .config
            .zendesk
            .as_ref()
            .and_then(|z| z.webhook.as_ref())
            .map_or(10_000, |w| w.queue);
        self.push = Some(super::push::Push {
            secret,
            queue: super::push::PushQueue::new(capacity),
        });
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
}
