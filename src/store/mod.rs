//! The one module that touches sled: typed trees for tickets, export
//! cursors, agents and organizations, an index of each ticket's next alert
//! instant, and a schema version. A page of the export and the cursor after
//! it are committed in one transaction, so a crash never skips or re-applies
//! a page.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::sla::clock::Event;
use crate::sla::time::Timestamp;

/// Bumped when a stored shape changes incompatibly.
pub const SCHEMA_VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: in use by another process (is slawatch already running?)")]
    Locked { path: PathBuf },
    #[error("store {path}: cannot open: {message}")]
    Open { path: PathBuf, message: String },
    #[error("store {path}: schema version {found}, this slawatch reads {SCHEMA_VERSION}")]
    Schema { path: PathBuf, found: u64 },
    #[error("store: {0}")]
    Sled(#[from] sled::Error),
    #[error("store: record {key} cannot be read: {message}")]
    Corrupt { key: String, message: String },
}

/// One event of a ticket with the audit it came from, so re-delivered audits are applied once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub audit_id: u64,
    pub event: Event,
}

/// Everything slawatch keeps about a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    pub id: u64,
    pub subject: String,
    /// Zendesk's status as last exported (lower case; unknown values kept).
    pub status: String,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub requester_id: Option<u64>,
    pub submitter_id: Option<u64>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub organization_id: Option<u64>,
    /// The severity mapped from the ticket's fields, tags or priority.
    pub severity: Option<String>,
    /// Seen in the ticket export (events can arrive first).
    pub exported: bool,
    /// Comments, status and severity changes, in order.
    pub events: Vec<StoredEvent>,
    /// The next alert instant of any of its clocks, as last evaluated.
    pub next_alert: Option<Timestamp>,
    /// When slawatch first stored the ticket (None in stores written before this was kept).
    #[serde(default)]
    pub first_seen: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: u64,
    pub name: String,
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Where an alert stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AlertStatus {
    /// Decided; deliveries outstanding.
    Pending,
    /// Every channel has it.
    Delivered,
    /// Not sent: a later alert of the same clock went instead.
    Superseded,
    /// Not sent: crossed longer ago than the backfill window when first seen.
    TooOld,
    /// Not sent (or not to every channel): the clock was met, stopped or deleted first.
    Cancelled { reason: String },
    /// Decided, but no route sends it anywhere: recorded and shown only.
    Unrouted,
    /// A channel refused it for good (or kept failing): given up.
    Failed { reason: String },
}

/// One channel's delivery of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: String,
    pub sent_at: Option<Timestamp>,
    pub attempts: u32,
    /// Milliseconds since the epoch: the next attempt, while unsent.
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    /// Refused for good, or failing too long: no more attempts.
    #[serde(default)]
    pub gave_up: bool,
}

impl Delivery {
    /// Unsent, not given up, and its next attempt has come.
    pub fn is_due(&self, now_ms: i64) -> bool {
        self.sent_at.is_none() && !self.gave_up && self.next_attempt_ms <= now_ms
    }
}

/// An alert decided for a ticket's clock: recorded before any delivery, so a restart
/// replays deliveries, never decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// `sla::alerting::AlertId::key`.
    pub key: String,
    pub ticket_id: u64,
    pub id: crate::sla::alerting::AlertId,
    /// When the alert point was crossed.
    pub at: Timestamp,
    pub decided_at: Timestamp,
    #[serde(flatten)]
    pub status: AlertStatus,
    pub message: crate::notify::message::AlertMessage,
    pub deliveries: Vec<Delivery>,
}

/// The export positions committed with the data they led to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    /// The ticket export's `after_cursor`; None until the first page.
    pub tickets: Option<String>,
    /// The events export's next `start_time`; None until the first page.
    pub events_start: Option<i64>,
}

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    tickets: sled::Tree,
    meta: sled::Tree,
    agents: sled::Tree,
    organizations: sled::Tree,
    /// (next alert instant, ticket id) → (): the timer's ordered index.
    due: sled::Tree,
    /// Alert key → AlertRecord.
    alerts: sled::Tree,
    /// Alert key → () while some delivery of it is outstanding.
    outbox: sled::Tree,
}

fn id_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// Sorts by instant (negative ones first), then by ticket.
fn due_key(at: Timestamp, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing plain data structs to JSON cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        message: e.to_string(),
    })
}

const CURSORS: &[u8] = b"cursors";
const POLICY: &[u8] = b"policy_fingerprint";
const FACTS_AS_OF: &[u8] = b"facts_as_of";
const SCHEMA: &[u8] = b"schema_version";

impl Store {
    /// Opens (or creates) the store at `path` with a page cache of `cache_bytes`.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| match e {
                sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
                    StoreError::Locked { path: path.to_path_buf() }
                }
                other => StoreError::Open {
                    path: path.to_path_buf(),
                    message: other.to_string(),
                },
            })?;
        let tree = |name: &str| db.open_tree(name);
        let store = Store {
            path: path.to_path_buf(),
            tickets: tree("tickets")?,
            meta: tree("meta")?,
            agents: tree("agents")?,
            organizations: tree("organizations")?,
            due: tree("due")?,
            alerts: tree("alerts")?,
            outbox: tree("outbox")?,
            db,
        };
        match store.meta.get(SCHEMA)? {
            None => {
                store.meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
            }
            Some(bytes) => {
                let found = bytes.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                if found != SCHEMA_VERSION {
                    return Err(StoreError::Schema {
                        path: path.to_path_buf(),
                        found,
                    });
                }
            }
        }
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes everything to disk; called on shutdown.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    pub fn cursors(&self) -> Result<Cursors, StoreError> {
        match self.meta.get(CURSORS)? {
            None => Ok(Cursors::default()),
            Some(bytes) => decode("cursors", &bytes),
        }
    }

    /// What the stored clocks were evaluated under (see `engine::daemon`).
    pub fn policy_fingerprint(&self) -> Result<Option<String>, StoreError> {
        Ok(self.meta.get(POLICY)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    pub fn set_policy_fingerprint(&self, fingerprint: &str) -> Result<(), StoreError> {
        self.meta.insert(POLICY, fingerprint.as_bytes())?;
        Ok(())
    }

    /// The instant the stored facts are complete up to: the last complete poll's start, less
    /// Zendesk's one-minute export horizon.
    pub fn facts_as_of(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .meta
            .get(FACTS_AS_OF)?
            .and_then(|v| v.as_ref().try_into().ok().map(i64::from_be_bytes)))
    }

    pub fn set_facts_as_of(&self, at: Timestamp) -> Result<(), StoreError> {
        self.meta.insert(FACTS_AS_OF, &at.to_be_bytes())?;
        Ok(())
    }

    pub fn ticket(&self, id: u64) -> Result<Option<TicketRecord>, StoreError> {
        match self.tickets.get(id_key(id))? {
            None => Ok(None),
            Some(bytes) => decode(&format!("ticket {id}"), &bytes).map(Some),
        }
    }

    /// Every ticket, in id order.
    pub fn tickets(&self) -> impl Iterator<Item = Result<TicketRecord, StoreError>> + '_ {
        self.tickets.iter().map(|entry| {
            let (key, bytes) = entry?;
            let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            decode(&format!("ticket {id}"), &bytes)
        })
    }

    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    /// Saves changed tickets and the cursors that follow them, all or nothing, and keeps the
    /// due index in step with each ticket's `next_alert`.
    pub fn commit(&self, tickets: &[TicketRecord], cursors: &Cursors) -> Result<(), StoreError> {
        let encoded: Vec<(u64, Vec<u8>, Option<Timestamp>)> = tickets.iter().map(|t| (t.id, encode(t), t.next_alert)).collect();
        let cursor_bytes = encode(cursors);
        let result: Result<(), TransactionError<StoreError>> =
            (&self.tickets, &self.meta, &self.due).transaction(|(tickets, meta, due)| {
                for (id, bytes, next_alert) in &encoded {
                    put_ticket(tickets, due, *id, bytes, *next_alert)?;
                }
                meta.insert(CURSORS, cursor_bytes.as_slice())?;
                Ok(())
            });
        transaction_result(result)
    }

    /// Tickets whose next alert is at or before `until`, earliest first.
    pub fn due(&self, until: Timestamp) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        let mut out = Vec::new();
        for entry in self.due.range(..=due_key(until, u64::MAX)) {
            let (key, _) = entry?;
            let at = u64::from_be_bytes(key[..8].try_into().unwrap_or_default()) ^ (1 << 63);
            let id = u64::from_be_bytes(key[8..16].try_into().unwrap_or_default());
            out.push((at as i64, id));
        }
        Ok(out)
    }

    /// The earliest next alert instant of any ticket.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self
            .due
            .first()?
            .map(|(key, _)| (u64::from_be_bytes(key[..8].try_into().unwrap_or_default()) ^ (1 << 63)) as i64))
    }

    /// Records new alerts (and their outstanding deliveries) in one transaction, with the
    /// ticket whose next alert instant moved on; on disk before it returns, since deliveries
    /// follow at once.
    pub fn record_alerts(&self, alerts: &[AlertRecord], ticket: Option<&TicketRecord>) -> Result<(), StoreError> {
        let encoded: Vec<(String, Vec<u8>, bool)> = alerts
            .iter()
            .map(|a| (a.key.clone(), encode(a), a.status == AlertStatus::Pending))
            .collect();
        let ticket = ticket.map(|t| (t.id, encode(t), t.next_alert));
        let result: Result<(), TransactionError<StoreError>> =
            (&self.alerts, &self.outbox, &self.tickets, &self.due).transaction(|(alerts, outbox, tickets, due)| {
                for (key, bytes, pending) in &encoded {
                    alerts.insert(key.as_bytes(), bytes.as_slice())?;
                    if *pending {
                        outbox.insert(key.as_bytes(), &[])?;
                    }
                }
                if let Some((id, bytes, next_alert)) = &ticket {
                    put_ticket(tickets, due, *id, bytes, *next_alert)?;
                }
                Ok(())
            });
        transaction_result(result)?;
        self.db.flush()?;
        Ok(())
    }

    /// Saves an alert after a delivery attempt; it leaves the outbox once nothing is outstanding.
    pub fn update_alert(&self, alert: &AlertRecord) -> Result<(), StoreError> {
        let bytes = encode(alert);
        let pending = alert.status == AlertStatus::Pending;
        let key = alert.key.as_bytes();
        let result: Result<(), TransactionError<StoreError>> = (&self.alerts, &self.outbox).transaction(|(alerts, outbox)| {
            alerts.insert(key, bytes.as_slice())?;
            if pending {
                outbox.insert(key, &[])?;
            } else {
                outbox.remove(key)?;
            }
            Ok(())
        });
        transaction_result(result)?;
        // A delivery marked done must stay marked through a power loss, or it goes out again.
        self.db.flush()?;
        Ok(())
    }

    pub fn alert(&self, key: &str) -> Result<Option<AlertRecord>, StoreError> {
        match self.alerts.get(key.as_bytes())? {
            None => Ok(None),
            Some(bytes) => decode(key, &bytes).map(Some),
        }
    }

    pub fn has_alert(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.alerts.contains_key(key.as_bytes())?)
    }

    /// Every alert of a ticket, in key order.
    pub fn alerts_of(&self, ticket_id: u64) -> Result<Vec<AlertRecord>, StoreError> {
        let prefix = format!("{ticket_id:020}/");
        self.alerts
            .scan_prefix(prefix.as_bytes())
            .map(|entry| {
                let (key, bytes) = entry?;
                decode(&String::from_utf8_lossy(&key), &bytes)
            })
            .collect()
    }

    /// Alerts with a delivery outstanding.
    pub fn outbox(&self) -> Result<Vec<AlertRecord>, StoreError> {
        let mut out = Vec::new();
        for key in self.outbox.iter().keys() {
            let key = key?;
            if let Some(bytes) = self.alerts.get(&key)? {
                out.push(decode(&String::from_utf8_lossy(&key), &bytes)?);
            }
        }
        Ok(out)
    }

    pub fn save_agents(&self, agents: &[AgentRecord]) -> Result<(), StoreError> {
        replace_all(&self.agents, agents.iter().map(|a| (a.id, encode(a))))
    }

    pub fn agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        read_all(&self.agents, "agent")
    }

    pub fn save_organizations(&self, organizations: &[OrganizationRecord]) -> Result<(), StoreError> {
        replace_all(&self.organizations, organizations.iter().map(|o| (o.id, encode(o))))
    }

    pub fn organizations(&self) -> Result<Vec<OrganizationRecord>, StoreError> {
        read_all(&self.organizations, "organization")
    }
}

fn transaction_result(result: Result<(), TransactionError<StoreError>>) -> Result<(), StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

/// Writes a ticket inside a transaction, keeping the due index in step with its next alert.
fn put_ticket(
    tickets: &TransactionalTree,
    due: &TransactionalTree,
    id: u64,
    bytes: &[u8],
    next_alert: Option<Timestamp>,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    let previous = tickets.insert(&id_key(id), bytes)?;
    let old_alert = match previous {
        Some(old) => {
            decode::<TicketRecord>(&format!("ticket {id}"), &old)
                .map_err(ConflictableTransactionError::Abort)?
                .next_alert
        }
        None => None,
    };
    if old_alert != next_alert {
        if let Some(at) = old_alert {
            due.remove(&due_key(at, id))?;
        }
        if let Some(at) = next_alert {
            due.insert(&due_key(at, id), &[])?;
        }
    }
    Ok(())
}

fn replace_all(tree: &sled::Tree, records: impl Iterator<Item = (u64, Vec<u8>)>) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    for key in tree.iter().keys() {
        batch.remove(key?);
    }
    for (id, bytes) in records {
        batch.insert(&id_key(id), bytes);
    }
    tree.apply_batch(batch)?;
    Ok(())
}

fn read_all<T: DeserializeOwned>(tree: &sled::Tree, what: &str) -> Result<Vec<T>, StoreError> {
    tree.iter()
        .map(|entry| {
            let (key, bytes) = entry?;
            decode(&format!("{what} {:?}", key.as_ref()), &bytes)
        })
        .collect()
}
