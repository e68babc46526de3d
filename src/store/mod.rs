//! The one module that touches sled: typed trees for tickets and their
//! indexes (the next alert instant, tickets waiting for the events export,
//! tickets by organization), export cursors, agents, organizations and
//! looked-up users, alerts and their per-channel outbox, and a schema
//! version. A page of the export and the cursor after it are committed in one
//! transaction, so a crash never skips or re-applies a page.
//!
//! A record that cannot be read is counted and skipped where skipping loses
//! nothing (and reported where it would): it never wedges a commit or a timer.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::Transactional;

use crate::sla::time::Timestamp;

mod alerts;
mod digests;
mod drift;
mod faults;
mod kpi_days;
mod migrate;
mod records;
mod retention;
mod rewrite;
mod segments;
mod watch;

pub use records::{
    AgentRecord, AlertRecord, AlertStatus, Cursors, Delivery, DigestRecord, EscalationRecord, KpiChange, LinkedIssue, News, NewsWhat,
    OrganizationRecord, Owed, RequestRecord, SeverityInputs, StoredEvent, TicketRecord, UserRecord,
};

pub use drift::DriftNotice;
pub use kpi_days::{KpiRows, Packed};
pub use rewrite::{rewrite, Rewritten};
pub use segments::sled_config;
pub use watch::TicketWatcher;

use crate::kpi::KpiRow;

/// Bumped when a stored shape changes incompatibly; `migrate` brings older stores forward.
pub const SCHEMA_VERSION: u64 = 4;

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
    #[error("store: record {key} cannot be written: {message}")]
    Encode { key: String, message: String },
}

/// Counters of what the store could not read (and skipped), for logs and metrics, and of the
/// flushes that wrote to disk (each ending in an fdatasync).
#[derive(Debug, Default)]
pub struct StoreStats {
    pub unreadable: AtomicU64,
    pub syncs: AtomicU64,
}

/// How the comments of a store written before comment bodies were dropped are read into facts:
/// a body's length and whether it is an acknowledgement.
pub type ReadComment<'a> = &'a dyn Fn(&str) -> (u32, bool);

pub struct Store {
    path: PathBuf,
    db: sled::Db,
    tickets: sled::Tree,
    /// Ticket id → its index entries (next alert, awaiting, organization), so a commit keeps the
    /// indexes in step without reading the old record.
    index: sled::Tree,
    /// (next alert instant, ticket id) → (): the timer's ordered index.
    due: sled::Tree,
    /// (updated_at, ticket id) → (): tickets whose facts wait for the events export.
    awaiting: sled::Tree,
    /// (organization id, ticket id) → ().
    org_tickets: sled::Tree,
    meta: sled::Tree,
    agents: sled::Tree,
    organizations: sled::Tree,
    users: sled::Tree,
    /// Alert key → AlertRecord.
    alerts: sled::Tree,
    /// `channel \0 alert key` → () while that channel's delivery of the alert is outstanding.
    outbox: sled::Tree,
    /// Ticket id → EscalationRecord.
    escalations: sled::Tree,
    /// (created_at, ticket id) → KpiRow (`KPI_ROW_VERSION`, then postcard): what the reports
    /// read, in creation order.
    kpi: sled::Tree,
    /// UTC day → the KPI rows created that day, packed (`kpi_days`); `kpi` shadows them.
    kpi_days: sled::Tree,
    /// Held by the one packing of KPI days at a time.
    packing: std::sync::Mutex<()>,
    /// Firing instant → DigestRecord.
    digests: sled::Tree,
    /// Ticket id → () while the ticket is open: what `status` lists, without a scan of them all.
    open: sled::Tree,
    pub stats: StoreStats,
    /// Who is told of each ticket written (see `watch`).
    watch: watch::Watch,
}

fn id_key(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// Sorts by instant (negative ones first), then by id.
fn instant_key(at: Timestamp, id: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    key[8..].copy_from_slice(&id.to_be_bytes());
    key
}

fn read_instant_key(key: &[u8]) -> Option<(Timestamp, u64)> {
    let at = u64::from_be_bytes(key.get(..8)?.try_into().ok()?) ^ (1 << 63);
    let id = u64::from_be_bytes(key.get(8..16)?.try_into().ok()?);
    Some((at as i64, id))
}

fn pair_key(a: u64, b: u64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&a.to_be_bytes());
    key[8..].copy_from_slice(&b.to_be_bytes());
    key
}

fn encode<T: Serialize>(key: &str, value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Encode {
        key: key.to_string(),
        message: e.to_string(),
    })
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        message: e.to_string(),
    })
}

/// What a ticket contributes to the indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct IndexEntry {
    next_alert: Option<Timestamp>,
    awaiting: Option<Timestamp>,
    organization: Option<u64>,
}

impl IndexEntry {
    fn of(ticket: &TicketRecord) -> IndexEntry {
        IndexEntry {
            next_alert: ticket.next_alert,
            awaiting: ticket.awaiting_events,
            organization: ticket.organization_id,
        }
    }

    fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.next_alert.unwrap_or(i64::MIN).to_be_bytes());
        out[8..16].copy_from_slice(&self.awaiting.unwrap_or(i64::MIN).to_be_bytes());
        out[16..].copy_from_slice(&self.organization.unwrap_or(0).to_be_bytes());
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<IndexEntry> {
        let field = |range: std::ops::Range<usize>| bytes.get(range).and_then(|b| b.try_into().ok()).map(i64::from_be_bytes);
        let (next_alert, awaiting, organization) = (field(0..8)?, field(8..16)?, field(16..24)?);
        Some(IndexEntry {
            next_alert: (next_alert != i64::MIN).then_some(next_alert),
            awaiting: (awaiting != i64::MIN).then_some(awaiting),
            organization: (organization != 0).then_some(organization as u64),
        })
    }
}

/// The KPI rows' tree. Schema 2 kept rows of another shape, unversioned, in `kpi`.
const KPI_TREE: &str = "kpi_rows";

/// The first byte of every stored KPI row: postcard is not self-describing, so a row of
/// another shape is told by its version rather than misread.
const KPI_ROW_VERSION: u8 = 3;

fn encode_kpi(id: u64, row: &KpiRow) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![KPI_ROW_VERSION];
    postcard::to_io(row, &mut bytes).map_err(|e| StoreError::Encode {
        key: format!("kpi {id}"),
        message: e.to_string(),
    })?;
    Ok(bytes)
}

fn decode_kpi(bytes: &[u8]) -> Result<KpiRow, String> {
    match bytes.split_first() {
        Some((&KPI_ROW_VERSION, row)) => postcard::from_bytes(row).map_err(|e| e.to_string()),
        Some((version, _)) => Err(format!("KPI row version {version}, this slawatch reads {KPI_ROW_VERSION}")),
        None => Err("empty".to_string()),
    }
}

/// What a save does to the ticket's KPI row, encoded.
enum EncodedKpi {
    Keep,
    Put([u8; 16], Vec<u8>),
    Remove([u8; 16]),
}

/// A ticket ready to be written: its bytes, index entry and KPI row.
struct EncodedTicket {
    id: u64,
    bytes: Vec<u8>,
    entry: IndexEntry,
    kpi: EncodedKpi,
    open: bool,
}

fn encode_ticket(ticket: &TicketRecord) -> Result<EncodedTicket, StoreError> {
    let kpi = match &ticket.kpi {
        KpiChange::Keep => EncodedKpi::Keep,
        KpiChange::Put(row) => EncodedKpi::Put(instant_key(row.created_at, ticket.id), encode_kpi(ticket.id, row)?),
        KpiChange::Remove { created_at } => EncodedKpi::Remove(instant_key(*created_at, ticket.id)),
    };
    Ok(EncodedTicket {
        id: ticket.id,
        bytes: encode(&format!("ticket {}", ticket.id), ticket)?,
        entry: IndexEntry::of(ticket),
        kpi,
        open: ticket.is_open(),
    })
}

/// The ticket trees inside one transaction.
struct TicketTx<'a> {
    tickets: &'a TransactionalTree,
    index: &'a TransactionalTree,
    due: &'a TransactionalTree,
    awaiting: &'a TransactionalTree,
    org_tickets: &'a TransactionalTree,
    kpi: &'a TransactionalTree,
    open: &'a TransactionalTree,
}

type TxResult = Result<(), ConflictableTransactionError<StoreError>>;

impl TicketTx<'_> {
    /// Writes a ticket, keeping each index in step with its entry.
    fn put(&self, ticket: &EncodedTicket) -> TxResult {
        let id = ticket.id;
        let old = self
            .index
            .insert(&id_key(id), &ticket.entry.to_bytes())?
            .and_then(|bytes| IndexEntry::from_bytes(&bytes))
            .unwrap_or_default();
        self.tickets.insert(&id_key(id), ticket.bytes.as_slice())?;
        if ticket.open {
            self.open.insert(&id_key(id), &[])?;
        } else {
            self.open.remove(&id_key(id))?;
        }
        match &ticket.kpi {
            EncodedKpi::Keep => {}
            EncodedKpi::Put(key, row) => {
                self.kpi.insert(key, row.as_slice())?;
            }
            // A tombstone: the row may be packed in its day's block too.
            EncodedKpi::Remove(key) => {
                self.kpi.insert(key, kpi_days::TOMBSTONE)?;
            }
        }
        let new = ticket.entry;
        for (tree, old, new) in [
            (self.due, old.next_alert, new.next_alert),
            (self.awaiting, old.awaiting, new.awaiting),
        ] {
            if old != new {
                if let Some(at) = old {
                    tree.remove(&instant_key(at, id))?;
                }
                if let Some(at) = new {
                    tree.insert(&instant_key(at, id), &[])?;
                }
            }
        }
        if old.organization != new.organization {
            if let Some(org) = old.organization {
                self.org_tickets.remove(&pair_key(org, id))?;
            }
            if let Some(org) = new.organization {
                self.org_tickets.insert(&pair_key(org, id), &[])?;
            }
        }
        Ok(())
    }
}

const CURSORS: &[u8] = b"cursors";
const POLICY: &[u8] = b"policy_fingerprint";
const FACTS_AS_OF: &[u8] = b"facts_as_of";
const SCHEMA: &[u8] = b"schema_version";
const OPEN_INDEX: &[u8] = b"open_index";

fn open_error(path: &Path, e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(ref io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
            StoreError::Locked { path: path.to_path_buf() }
        }
        other => StoreError::Open {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    }
}

impl Store {
    /// Opens (or creates) the store at `path` with a page cache of `cache_bytes`. A store of
    /// an older schema is refused; `open_migrating` brings it forward.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        Store::open_with(path, cache_bytes, None)
    }

    /// Opens the store, migrating one of an older schema (its comment bodies read into facts
    /// by `read_comment`, then dropped).
    pub fn open_migrating(path: &Path, cache_bytes: u64, read_comment: ReadComment) -> Result<Store, StoreError> {
        Store::open_with(path, cache_bytes, Some(read_comment))
    }

    fn open_with(path: &Path, cache_bytes: u64, read_comment: Option<ReadComment>) -> Result<Store, StoreError> {
        let store = Store::open_trees(path, cache_bytes)?;
        match store.meta.get(SCHEMA)? {
            None if store.tickets.is_empty() && store.alerts.is_empty() => {
                store.meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
            }
            // Written before the version was kept: the first schema.
            None => store.upgrade(1, read_comment)?,
            Some(bytes) => {
                let found = bytes.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
                if found != SCHEMA_VERSION {
                    store.upgrade(found, read_comment)?;
                }
            }
        }
        store.build_open_index()?;
        Ok(store)
    }

    /// Opens the database and its trees, whatever the schema.
    fn open_trees(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        if let Some(size) = segments::existing_segment_size(path).filter(|&size| size != segments::SEGMENT_BYTES) {
            tracing::warn!(
                store = %path.display(),
                segment_bytes = size,
                "the store was created with sled's small segments, with which its file grows without bound; \
                 `slawatch compact-store` (with the daemon stopped) rewrites it with {} MiB segments",
                segments::SEGMENT_BYTES >> 20
            );
        }
        let db = sled_config(path)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|e| open_error(path, e))?;
        rewrite::remove_leftover(path)?;
        let tree = |name: &str| db.open_tree(name);
        Ok(Store {
            path: path.to_path_buf(),
            tickets: tree("tickets")?,
            index: tree("ticket_index")?,
            due: tree("due")?,
            awaiting: tree("awaiting")?,
            org_tickets: tree("org_tickets")?,
            meta: tree("meta")?,
            agents: tree("agents")?,
            organizations: tree("organizations")?,
            users: tree("users")?,
            alerts: tree("alerts")?,
            outbox: tree("outbox")?,
            escalations: tree("escalations")?,
            kpi: tree(KPI_TREE)?,
            kpi_days: tree("kpi_days")?,
            packing: Default::default(),
            digests: tree("digests")?,
            open: tree("open_tickets")?,
            stats: StoreStats::default(),
            watch: Default::default(),
            db,
        })
    }

    /// Builds the index of open tickets once, for a store written before it was kept.
    fn build_open_index(&self) -> Result<(), StoreError> {
        if self.meta.get(OPEN_INDEX)?.is_some() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        let mut count = 0u64;
        for ticket in self.tickets() {
            let ticket = ticket?;
            if ticket.is_open() {
                batch.insert(&id_key(ticket.id), &[]);
                count += 1;
            }
        }
        self.open.apply_batch(batch)?;
        self.meta.insert(OPEN_INDEX, &[1])?;
        if count > 0 {
            tracing::info!(open = count, "index of open tickets built");
        }
        Ok(())
    }

    /// The open tickets' ids, in id order.
    pub fn open_ticket_ids(&self) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for key in self.open.iter().keys() {
            let key = key?;
            out.extend(key.as_ref().try_into().ok().map(u64::from_be_bytes));
        }
        Ok(out)
    }

    /// How many tickets are open now, by organization (None: no organization), read from the
    /// open tickets' index entries rather than their records.
    pub fn open_by_organization(&self) -> Result<std::collections::HashMap<Option<u64>, u64>, StoreError> {
        let mut out = std::collections::HashMap::new();
        for key in self.open.iter().keys() {
            let key = key?;
            let organization = self
                .index
                .get(&key)?
                .and_then(|bytes| IndexEntry::from_bytes(&bytes))
                .and_then(|e| e.organization);
            *out.entry(organization).or_default() += 1;
        }
        Ok(out)
    }

    /// Brings a store of schema `found` forward. A migration stopped anywhere (killed, a disk
    /// error) is run again from its start at the next open and ends the same: each of its steps
    /// can be repeated, and the version is written only once every step is on disk.
    fn upgrade(&self, found: u64, read_comment: Option<ReadComment>) -> Result<(), StoreError> {
        let schema_error = || StoreError::Schema {
            path: self.path.clone(),
            found,
        };
        match (found, read_comment) {
            (1, Some(read_comment)) => {
                migrate::from_v1(self, read_comment, migrate::BATCH, &mut || Ok(()))?;
                migrate::from_v2(self, migrate::BATCH, &mut || Ok(()))?;
            }
            (2, _) => migrate::from_v2(self, migrate::BATCH, &mut || Ok(()))?,
            // Schema 4 packs finished days' KPI rows into `kpi_days` (empty until the first
            // packing) and marks deleted rows with tombstones, which schema 3 would misread.
            (3, _) => {}
            _ => return Err(schema_error()),
        }
        self.flush()?;
        self.meta.insert(SCHEMA, &SCHEMA_VERSION.to_be_bytes())?;
        self.flush()?;
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes everything to disk and fdatasyncs the file: once it returns, every earlier write
    /// is on stable storage (the vendored sled's flush; the published 0.34.7 ended in a
    /// `sync_file_range`, vendor/sled/README.md). Only a flush with something new to write
    /// counts in `syncs`.
    pub fn flush(&self) -> Result<(), StoreError> {
        faults::before_write();
        if self.db.flush()? > 0 {
            self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Counts (and logs) a record that could not be read and is skipped.
    fn skip_unreadable(&self, error: &StoreError) {
        self.stats.unreadable.fetch_add(1, Ordering::Relaxed);
        tracing::error!(%error, "skipped a stored record that cannot be read");
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

    /// A ticket; an error (never None) when its record cannot be read.
    pub fn ticket(&self, id: u64) -> Result<Option<TicketRecord>, StoreError> {
        match self.tickets.get(id_key(id))? {
            None => Ok(None),
            Some(bytes) => decode(&format!("ticket {id}"), &bytes).map(Some),
        }
    }

    /// Every readable ticket, in id order; unreadable ones are counted and skipped.
    pub fn tickets(&self) -> impl Iterator<Item = Result<TicketRecord, StoreError>> + '_ {
        self.tickets.iter().filter_map(move |entry| {
            let (key, bytes) = match entry {
                Ok(entry) => entry,
                Err(e) => return Some(Err(e.into())),
            };
            let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            match decode(&format!("ticket {id}"), &bytes) {
                Ok(record) => Some(Ok(record)),
                Err(error) => {
                    self.skip_unreadable(&error);
                    None
                }
            }
        })
    }

    /// Up to `limit` readable tickets with ids above `after`, in id order (unreadable ones are
    /// counted and skipped).
    pub fn tickets_after(&self, after: Option<u64>, limit: usize) -> Result<Vec<TicketRecord>, StoreError> {
        let start = after.map_or(0, |id| id.saturating_add(1));
        let mut out = Vec::with_capacity(limit);
        for entry in self.tickets.range(id_key(start)..) {
            let (key, bytes) = entry?;
            let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            match decode(&format!("ticket {id}"), &bytes) {
                Ok(record) => out.push(record),
                Err(error) => self.skip_unreadable(&error),
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    pub fn ticket_count(&self) -> usize {
        self.tickets.len()
    }

    fn ticket_transaction(&self, tickets: &[EncodedTicket], meta: Option<(&[u8], &[u8])>) -> Result<(), StoreError> {
        faults::before_write();
        let trees = (
            &self.tickets,
            &self.index,
            &self.due,
            &self.awaiting,
            &self.org_tickets,
            &self.kpi,
            &self.open,
            &self.meta,
        );
        let result: Result<(), TransactionError<StoreError>> =
            trees.transaction(|(tickets_tree, index, due, awaiting, org_tickets, kpi, open, meta_tree)| {
                let tx = TicketTx {
                    tickets: tickets_tree,
                    index,
                    due,
                    awaiting,
                    org_tickets,
                    kpi,
                    open,
                };
                for ticket in tickets {
                    tx.put(ticket)?;
                }
                if let Some((key, value)) = meta {
                    meta_tree.insert(key, value)?;
                }
                Ok(())
            });
        transaction_result(result)
    }

    /// Saves changed tickets and the cursors that follow them, all or nothing, and keeps the
    /// indexes in step with each ticket.
    pub fn commit(&self, tickets: &[TicketRecord], cursors: &Cursors) -> Result<(), StoreError> {
        let encoded = tickets.iter().map(encode_ticket).collect::<Result<Vec<_>, _>>()?;
        let cursor_bytes = encode("cursors", cursors)?;
        self.watched(
            || self.ticket_transaction(&encoded, Some((CURSORS, &cursor_bytes))),
            |watcher, store| watcher.saved(store, tickets),
        )
    }

    /// Saves tickets re-evaluated outside a page (the cursors stay as they are).
    pub fn save_tickets(&self, tickets: &[TicketRecord]) -> Result<(), StoreError> {
        let encoded = tickets.iter().map(encode_ticket).collect::<Result<Vec<_>, _>>()?;
        self.watched(
            || self.ticket_transaction(&encoded, None),
            |watcher, store| watcher.saved(store, tickets),
        )
    }

    /// Removes a ticket whose record cannot be read from the timer's and the awaiting index,
    /// so it is not looked at again until the exports bring it anew.
    pub fn unindex(&self, id: u64) -> Result<(), StoreError> {
        let entry = self
            .index
            .get(id_key(id))?
            .and_then(|b| IndexEntry::from_bytes(&b))
            .unwrap_or_default();
        if let Some(at) = entry.next_alert {
            self.due.remove(instant_key(at, id))?;
        }
        if let Some(at) = entry.awaiting {
            self.awaiting.remove(instant_key(at, id))?;
        }
        self.index.insert(
            id_key(id),
            &IndexEntry {
                organization: entry.organization,
                ..IndexEntry::default()
            }
            .to_bytes(),
        )?;
        Ok(())
    }

    /// Removes one entry of the timer's index that the ticket's own index no longer names (left
    /// by an interrupted write): it must not fire again and again.
    pub fn remove_stale_due(&self, at: Timestamp, id: u64) -> Result<bool, StoreError> {
        let entry = self.index.get(id_key(id))?.and_then(|b| IndexEntry::from_bytes(&b));
        if entry.is_some_and(|e| e.next_alert == Some(at)) {
            return Ok(false);
        }
        self.due.remove(instant_key(at, id))?;
        Ok(true)
    }

    /// Tickets whose next alert is at or before `until`, earliest first.
    pub fn due(&self, until: Timestamp) -> Result<Vec<(Timestamp, u64)>, StoreError> {
        let mut out = Vec::new();
        for key in self.due.range(..=instant_key(until, u64::MAX)).keys() {
            out.extend(read_instant_key(&key?));
        }
        Ok(out)
    }

    /// The earliest next alert instant of any ticket.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        Ok(self.due.first()?.and_then(|(key, _)| read_instant_key(&key)).map(|(at, _)| at))
    }

    /// Tickets waiting for the events export, whose `updated_at` is at or before `through`.
    pub fn awaiting_through(&self, through: Timestamp, limit: usize) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for key in self.awaiting.range(..=instant_key(through, u64::MAX)).keys().take(limit) {
            out.extend(read_instant_key(&key?).map(|(_, id)| id));
        }
        Ok(out)
    }

    /// How many tickets wait for the events export.
    pub fn awaiting_count(&self) -> usize {
        self.awaiting.len()
    }

    /// The tickets of an organization, by id.
    pub fn tickets_of_organization(&self, org: u64) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for key in self.org_tickets.scan_prefix(org.to_be_bytes()).keys() {
            let key = key?;
            out.extend(key.get(8..16).and_then(|b| b.try_into().ok()).map(u64::from_be_bytes));
        }
        Ok(out)
    }

    /// Tickets with a next alert instant (in the timer's index), in instant order.
    pub fn tickets_with_alerts(&self) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::new();
        for key in self.due.iter().keys() {
            out.extend(read_instant_key(&key?).map(|(_, id)| id));
        }
        Ok(out)
    }

    pub fn save_agents(&self, agents: &[AgentRecord]) -> Result<(), StoreError> {
        let records = agents
            .iter()
            .map(|a| Ok((a.id, encode(&format!("agent {}", a.id), a)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        replace_all(&self.agents, records)
    }

    pub fn agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        self.read_all(&self.agents, "agent")
    }

    pub fn save_organizations(&self, organizations: &[OrganizationRecord]) -> Result<(), StoreError> {
        let records = organizations
            .iter()
            .map(|o| Ok((o.id, encode(&format!("organization {}", o.id), o)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        replace_all(&self.organizations, records)
    }

    pub fn organizations(&self) -> Result<Vec<OrganizationRecord>, StoreError> {
        self.read_all(&self.organizations, "organization")
    }

    /// Remembers users whose role was looked up live.
    pub fn save_users(&self, users: &[UserRecord]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for user in users {
            batch.insert(&id_key(user.id), encode(&format!("user {}", user.id), user)?);
        }
        self.users.apply_batch(batch)?;
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.read_all(&self.users, "user")
    }

    pub fn escalation(&self, ticket_id: u64) -> Result<Option<EscalationRecord>, StoreError> {
        match self.escalations.get(id_key(ticket_id))? {
            None => Ok(None),
            Some(bytes) => decode(&format!("escalation {ticket_id}"), &bytes).map(Some),
        }
    }

    /// Saves a ticket's escalation record, on disk before it returns: a step marked done must
    /// stay done, or it is done twice.
    pub fn save_escalation(&self, record: &EscalationRecord) -> Result<(), StoreError> {
        let bytes = encode(&format!("escalation {}", record.ticket_id), record)?;
        self.watched(
            || self.escalations.insert(id_key(record.ticket_id), bytes),
            |watcher, store| watcher.escalation_saved(store, record.ticket_id),
        )?;
        self.flush()?;
        Ok(())
    }

    /// Every readable escalation record (unreadable ones counted and skipped).
    pub fn escalations(&self) -> Result<Vec<EscalationRecord>, StoreError> {
        self.read_all(&self.escalations, "escalation")
    }

    /// The KPI rows of the tickets created in `[from, to)`, in creation order, live and packed;
    /// unreadable ones are counted and skipped.
    pub fn kpi_rows(&self, from: Timestamp, to: Timestamp) -> KpiRows<'_> {
        KpiRows::new(self, from, to)
    }

    /// Writes tickets' KPI rows alone (the tickets themselves unchanged).
    pub fn save_kpi(&self, rows: &[(u64, KpiChange)]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (id, change) in rows {
            match change {
                KpiChange::Keep => {}
                KpiChange::Put(row) => batch.insert(&instant_key(row.created_at, *id), encode_kpi(*id, row)?),
                KpiChange::Remove { created_at } => batch.insert(&instant_key(*created_at, *id), kpi_days::TOMBSTONE),
            }
        }
        self.kpi.apply_batch(batch)?;
        Ok(())
    }

    /// Writes KPI rows directly (benchmarks and tests building a large history).
    pub fn put_kpi_rows(&self, rows: &[KpiRow]) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for row in rows {
            batch.insert(&instant_key(row.created_at, row.id), encode_kpi(row.id, row)?);
        }
        self.kpi.apply_batch(batch)?;
        Ok(())
    }

    /// Every readable record of a small tree; unreadable ones are counted and skipped.
    fn read_all<T: DeserializeOwned>(&self, tree: &sled::Tree, what: &str) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        for entry in tree.iter() {
            let (key, bytes) = entry?;
            let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
            match decode(&format!("{what} {id}"), &bytes) {
                Ok(record) => out.push(record),
                Err(error) => self.skip_unreadable(&error),
            }
        }
        Ok(out)
    }
}

fn transaction_result(result: Result<(), TransactionError<StoreError>>) -> Result<(), StoreError> {
    result.map_err(|e| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    })
}

fn replace_all(tree: &sled::Tree, records: Vec<(u64, Vec<u8>)>) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_that_cannot_be_encoded_is_an_error_not_empty_bytes() {
        // JSON object keys must be strings: this map cannot be written.
        let map: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1u8], 1u8)].into();
        match encode("k", &map) {
            Err(StoreError::Encode { key, .. }) => assert_eq!(key, "k"),
            other => panic!("expected an encode error, got {other:?}"),
        }
    }

    #[test]
    fn index_entries_round_trip() {
        for entry in [
            IndexEntry::default(),
            IndexEntry {
                next_alert: Some(-5),
                awaiting: Some(1_796_000_000),
                organization: Some(42),
            },
        ] {
            assert_eq!(IndexEntry::from_bytes(&entry.to_bytes()), Some(entry));
        }
        assert_eq!(IndexEntry::from_bytes(b"short"), None);
        assert_eq!(read_instant_key(&instant_key(-3, 9)), Some((-3, 9)));
    }
}
