//! The status board: every open ticket's `/status` row, kept in memory and current at each
//! write, so `/status`, the status page and `/metrics` read it instead of evaluating every open
//! ticket's clocks per request.
//!
//! A row holds what does not move with time (states, deadlines as instants, targets, subject)
//! and the instant until which that stays true: the first running clock's deadline (its breach),
//! or a stored event still ahead. A request re-derives only the figures that move with time, a
//! running clock's elapsed and remaining time (on a business clock through its schedule: two
//! table lookups), and evaluates again from the store the few rows whose instant has passed.
//! The store tells the board of every ticket written (`store::TicketWatcher`), whichever path
//! wrote it; a directory change re-evaluates the rows that read what changed.
//!
//! Each change a reader could see bumps a version: `/status` answers `If-None-Match` with 304
//! and `?since=` with the rows changed or removed since.

use std::collections::{HashMap, HashSet, VecDeque};
use std::io::Write as _;
use std::sync::{Arc, Mutex};

use super::apply::{clocks_of, facts_complete};
use super::directory::Directory;
use super::status::{engineering_issue, ticket_status, MetricStatus, TicketStatus};
use crate::clock::Clock;
use crate::config::Config;
use crate::sla::clock::{ClockState, Event, TicketClocks};
use crate::sla::policy::{Metric, ScheduleId, TargetKind};
use crate::sla::time::Timestamp;
use crate::store::{Store, StoreError, TicketRecord, TicketWatcher};
use crate::sync::lock;

/// Removals remembered for `?since=`; a reader further behind is given every row again.
const REMEMBERED_REMOVALS: usize = 100_000;

/// Where a clock's figures are shown in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Contract(Metric),
    Goal(usize),
    /// Read by the order only (a second contractual clock of a metric, if a policy had one).
    None,
}

/// One clock of a row, as evaluated, with what its time-moving figures need.
#[derive(Debug, Clone)]
struct Live {
    slot: Slot,
    contract: bool,
    state: ClockState,
    /// Met or stopped: a breach no longer waits for an answer.
    completed: bool,
    deadline: Option<Timestamp>,
    goal: i64,
    /// Clock time counted at the row's instant.
    elapsed: i64,
    running: bool,
    schedule: Option<ScheduleId>,
}

/// An open ticket's row.
#[derive(Debug, Clone)]
struct Row {
    /// The row as evaluated; its running clocks' figures are re-derived at each read.
    status: TicketStatus,
    clocks: Vec<Live>,
    /// The instant the clocks were evaluated at (a ticket's creation, when asked before it).
    at: Timestamp,
    /// The instant asked: a read before it (a clock set back) evaluates again.
    asked: Timestamp,
    /// The first instant the evaluation may no longer hold: a running clock's breach, or an
    /// event (or the creation) still ahead of `asked`.
    valid_until: Timestamp,
    /// What `facts_complete` reads, asked again at each read against the events cursor.
    facts: TicketRecord,
    /// The organization and people (submitter, comment authors) the directory says who they are.
    organization: Option<u64>,
    people: Vec<u64>,
    /// The board's version when a reader last could see this row change.
    version: u64,
    /// `status` as JSON, cut where the running clocks' figures go.
    json: Json,
}

/// A row's JSON with holes for the figures that move with time: `bytes` with the marks it was
/// written with at `holes` (start, end: the mark's digits), which a read replaces with the
/// figures at its instant, without building and serializing the row again.
#[derive(Debug, Clone, Default)]
struct Json {
    bytes: Vec<u8>,
    /// (start, end, index into `clocks`, the remaining time rather than the elapsed).
    holes: Vec<(usize, usize, usize, bool)>,
}

/// Stands in for a figure while the JSON is cut: i64::MIN + 2 × clock (+ 1 for the remaining).
fn mark(clock: usize, remaining: bool) -> i64 {
    i64::MIN + 2 * clock as i64 + i64::from(remaining)
}

impl Row {
    /// Cuts the row's JSON (again, after `status` changed).
    fn seal(&mut self) {
        let mut status = self.status.clone();
        let mut holes = Vec::new();
        for (i, clock) in self.clocks.iter().enumerate().filter(|(_, c)| c.running) {
            if let Some(target) = slot_of(&mut status, clock.slot) {
                target.elapsed_seconds = mark(i, false);
                target.remaining_seconds = mark(i, true);
                holes.push((i, false));
                holes.push((i, true));
            }
        }
        let bytes = serde_json::to_vec(&status).unwrap_or_default();
        // Where each mark stands (its key first: customer text, always quoted and escaped,
        // cannot hold `"elapsed_seconds":` bare).
        let mut found: Vec<(usize, usize, (usize, bool))> = holes
            .into_iter()
            .filter_map(|(i, remaining)| {
                let key = if remaining { "remaining_seconds" } else { "elapsed_seconds" };
                let needle = format!("\"{key}\":{}", mark(i, remaining));
                let at = bytes.windows(needle.len()).position(|w| w == needle.as_bytes())?;
                let value = at + key.len() + 3;
                Some((value, at + needle.len(), (i, remaining)))
            })
            .collect();
        found.sort_unstable();
        self.json = Json {
            bytes,
            holes: found
                .into_iter()
                .map(|(start, end, (i, remaining))| (start, end, i, remaining))
                .collect(),
        };
    }
}

/// The figures of `slot` in a row.
fn slot_of(status: &mut TicketStatus, slot: Slot) -> Option<&mut MetricStatus> {
    match slot {
        Slot::Contract(Metric::FirstResponse) => Some(&mut status.metrics.first_response),
        Slot::Contract(Metric::Resolution) => Some(&mut status.metrics.resolution),
        Slot::Goal(i) => status.goals.get_mut(i).map(|g| &mut g.clock),
        Slot::None => None,
    }
}

/// What the board has built so far.
enum Phase {
    /// Nothing yet: writes are not followed until the first read builds the board.
    Cold,
    /// Being built from the store: the tickets written meanwhile, read again at the end.
    Building(HashSet<u64>),
    Built,
}

struct State {
    phase: Phase,
    version: u64,
    rows: HashMap<u64, Arc<Row>>,
    /// (version, ticket) of the rows removed, oldest first.
    removed: VecDeque<(u64, u64)>,
    /// A `since` older than this has missed removals no longer remembered.
    floor: u64,
    /// The directory the rows were evaluated with.
    directory: Directory,
}

/// The rows at one instant, most urgent first.
pub struct Snapshot {
    /// The board's version, as a `since` cursor and ETag take it.
    pub version: String,
    pub rows: Vec<TicketStatus>,
}

/// What changed since a reader's version.
#[derive(Debug, serde::Serialize)]
pub struct Delta {
    /// The version to ask from next time.
    pub version: String,
    /// True when `since` was not this board's (another run, or too far behind): `changed` holds
    /// every row, and the reader drops what it had.
    pub full: bool,
    /// Rows changed since (or every row, when `full`), most urgent first, figures as of now.
    pub changed: Vec<TicketStatus>,
    /// Tickets no longer open (or no longer shown) since.
    pub removed: Vec<u64>,
}

pub struct StatusBoard {
    config: Config,
    clock: Clock,
    /// Names this run's versions: a cursor of another run is never taken for one of this run.
    epoch: u32,
    building: Mutex<()>,
    state: Mutex<State>,
}

impl StatusBoard {
    pub fn new(config: &Config, clock: Clock) -> StatusBoard {
        StatusBoard {
            config: config.clone(),
            clock,
            epoch: rand::random::<u32>(),
            building: Mutex::new(()),
            state: Mutex::new(State {
                phase: Phase::Cold,
                version: 0,
                rows: HashMap::new(),
                removed: VecDeque::new(),
                floor: 0,
                directory: Directory::default(),
            }),
        }
    }

    fn cursor(&self, version: u64) -> String {
        format!("{:08x}-{version}", self.epoch)
    }

    /// This run's version of a cursor, if it is one of this run's.
    fn parse_cursor(&self, cursor: &str) -> Option<u64> {
        let (epoch, version) = cursor
            .trim_matches('"')
            .trim_start_matches("W/")
            .trim_matches('"')
            .split_once('-')?;
        (u32::from_str_radix(epoch, 16).ok()? == self.epoch).then_some(())?;
        version.parse().ok()
    }

    /// The current version, after bringing the board up to `now` (the ETag of `/status`).
    pub fn version(&self, store: &Store, directory: &Directory) -> Result<String, StoreError> {
        let now = self.clock.now();
        let mut state = self.current(store, directory, now)?;
        self.refresh(&mut state, store, now)?;
        Ok(self.cursor(state.version))
    }

    /// Every open ticket's row at now, most urgent first: what `open_tickets` would say.
    pub fn snapshot(&self, store: &Store, directory: &Directory) -> Result<Snapshot, StoreError> {
        let now = self.clock.now();
        let (version, rows) = {
            let mut state = self.current(store, directory, now)?;
            self.refresh(&mut state, store, now)?;
            (state.version, state.rows.values().cloned().collect::<Vec<_>>())
        };
        Ok(Snapshot {
            version: self.cursor(version),
            rows: self.ordered(&rows, now),
        })
    }

    /// Calls `each` with every open ticket's row at now, in no order, its time-moving figures
    /// as evaluated (what a count of clock states by tier and severity needs, without copying
    /// the rows).
    pub fn for_each_row(&self, store: &Store, directory: &Directory, mut each: impl FnMut(&TicketStatus)) -> Result<(), StoreError> {
        let now = self.clock.now();
        let rows: Vec<Arc<Row>> = {
            let mut state = self.current(store, directory, now)?;
            self.refresh(&mut state, store, now)?;
            state.rows.values().cloned().collect()
        };
        rows.iter().for_each(|row| each(&row.status));
        Ok(())
    }

    /// Rows `offset..offset + limit` of every open ticket's at now, most urgent first, as the
    /// JSON array `/status` answers: what `snapshot` serializes, written from each row's JSON
    /// cut around its time-moving figures.
    pub fn snapshot_json(
        &self,
        store: &Store,
        directory: &Directory,
        offset: usize,
        limit: usize,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let now = self.clock.now();
        let (version, rows) = {
            let mut state = self.current(store, directory, now)?;
            self.refresh(&mut state, store, now)?;
            (state.version, state.rows.values().cloned().collect::<Vec<_>>())
        };
        let mut keyed: Vec<((u8, i64), u64, &Row)> = rows
            .iter()
            .map(|r| (self.urgency(r, now), r.status.ticket_id, r.as_ref()))
            .collect();
        keyed.sort_unstable_by_key(|&(urgency, id, _)| (urgency, id));
        let shown = keyed.iter().skip(offset).take(limit);
        let mut out = Vec::with_capacity(rows.iter().map(|r| r.json.bytes.len() + 1).sum::<usize>() + 2);
        out.push(b'[');
        for (n, (_, _, row)) in shown.enumerate() {
            if n > 0 {
                out.push(b',');
            }
            let json = &row.json;
            let mut from = 0;
            for &(start, end, clock, remaining) in &json.holes {
                out.extend_from_slice(&json.bytes[from..start]);
                let live = &row.clocks[clock];
                let elapsed = self.elapsed_at(row, live, now).unwrap_or(live.elapsed);
                let figure = if remaining { live.goal - elapsed } else { elapsed };
                let _ = write!(out, "{figure}");
                from = end;
            }
            out.extend_from_slice(&json.bytes[from..]);
        }
        out.push(b']');
        Ok((self.cursor(version), out))
    }

    /// The rows changed and the tickets removed since `since` (a version this board gave).
    pub fn since(&self, store: &Store, directory: &Directory, since: &str) -> Result<Delta, StoreError> {
        let now = self.clock.now();
        let (version, rows, removed, full) = {
            let mut state = self.current(store, directory, now)?;
            self.refresh(&mut state, store, now)?;
            let since = self.parse_cursor(since).filter(|&v| v >= state.floor && v <= state.version);
            match since {
                None => (state.version, state.rows.values().cloned().collect::<Vec<_>>(), Vec::new(), true),
                Some(since) => {
                    let rows: Vec<Arc<Row>> = state.rows.values().filter(|r| r.version > since).cloned().collect();
                    let mut removed: Vec<u64> = state
                        .removed
                        .iter()
                        .rev()
                        .take_while(|(v, _)| *v > since)
                        .map(|&(_, id)| id)
                        .filter(|id| !state.rows.contains_key(id))
                        .collect();
                    removed.sort_unstable();
                    removed.dedup();
                    (state.version, rows, removed, false)
                }
            }
        };
        Ok(Delta {
            version: self.cursor(version),
            full,
            changed: self.ordered(&rows, now),
            removed,
        })
    }

    /// Rows at `now`, most urgent first: breached (longest overdue first), then running by
    /// deadline, then the rest; ties by ticket.
    fn ordered(&self, rows: &[Arc<Row>], now: Timestamp) -> Vec<TicketStatus> {
        let mut keyed: Vec<((u8, i64), TicketStatus)> = rows.iter().map(|row| (self.urgency(row, now), self.status_at(row, now))).collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ticket_id.cmp(&b.1.ticket_id)));
        keyed.into_iter().map(|(_, status)| status).collect()
    }

    /// A running clock's elapsed time at `now` (its evaluated figure, plus the schedule's time
    /// since); None when the schedule cannot say (out of its range: evaluate again).
    fn elapsed_at(&self, row: &Row, clock: &Live, now: Timestamp) -> Option<i64> {
        if !clock.running || now <= row.at {
            return Some(clock.elapsed);
        }
        let schedule = self.config.policy.schedule(clock.schedule?);
        Some(clock.elapsed + schedule.elapsed(row.at, now).ok()?)
    }

    fn urgency(&self, row: &Row, now: Timestamp) -> (u8, i64) {
        let contract = || row.clocks.iter().filter(|c| c.contract);
        let overdue = contract()
            .filter(|c| c.state == ClockState::Breached && !c.completed)
            .map(|c| c.goal - self.elapsed_at(row, c, now).unwrap_or(c.elapsed))
            .min();
        if let Some(overdue) = overdue {
            return (0, overdue);
        }
        match contract()
            .filter(|c| c.state == ClockState::Running)
            .filter_map(|c| c.deadline)
            .min()
        {
            Some(deadline) => (1, deadline),
            None => (2, 0),
        }
    }

    /// The row as `open_tickets` would show it at `now`.
    fn status_at(&self, row: &Row, now: Timestamp) -> TicketStatus {
        let mut status = row.status.clone();
        for clock in row.clocks.iter().filter(|c| c.running) {
            let Some(target) = slot_of(&mut status, clock.slot) else { continue };
            let elapsed = self.elapsed_at(row, clock, now).unwrap_or(clock.elapsed);
            target.elapsed_seconds = elapsed;
            target.remaining_seconds = clock.goal - elapsed;
        }
        status
    }

    /// The state, built from the store if it is not yet.
    fn current<'a>(&'a self, store: &Store, directory: &Directory, now: Timestamp) -> Result<std::sync::MutexGuard<'a, State>, StoreError> {
        let mut state = lock(&self.state);
        if !matches!(state.phase, Phase::Built) {
            drop(state);
            self.build(store, directory, now)?;
            state = lock(&self.state);
        }
        self.follow_directory(&mut state, store, directory, now)?;
        Ok(state)
    }

    /// Evaluates every open ticket, while the writes go on: a ticket written meanwhile is read
    /// again at the end.
    fn build(&self, store: &Store, directory: &Directory, now: Timestamp) -> Result<(), StoreError> {
        let _one_builder = lock(&self.building);
        {
            let mut state = lock(&self.state);
            if matches!(state.phase, Phase::Built) {
                return Ok(());
            }
            state.phase = Phase::Building(HashSet::new());
        }
        let built = (|| {
            let through = store.cursors()?.events_through;
            let mut rows = HashMap::new();
            for id in store.open_ticket_ids()? {
                if let Some(row) = self.evaluate_stored(store, directory, id, now, through)? {
                    rows.insert(id, Arc::new(row));
                }
            }
            Ok::<_, StoreError>(rows)
        })();
        let mut state = lock(&self.state);
        let mut rows = match built {
            Ok(rows) => rows,
            Err(error) => {
                state.phase = Phase::Cold;
                return Err(error);
            }
        };
        let written = match std::mem::replace(&mut state.phase, Phase::Built) {
            Phase::Building(written) => written,
            _ => HashSet::new(),
        };
        let through = match store.cursors() {
            Ok(cursors) => cursors.events_through,
            Err(error) => {
                state.phase = Phase::Cold;
                return Err(error);
            }
        };
        for id in written {
            match self.evaluate_stored(store, directory, id, now, through) {
                Ok(Some(row)) => {
                    rows.insert(id, Arc::new(row));
                }
                Ok(None) => {
                    rows.remove(&id);
                }
                Err(error) => {
                    state.phase = Phase::Cold;
                    return Err(error);
                }
            }
        }
        state.version += 1;
        let version = state.version;
        state.rows = rows
            .into_iter()
            .map(|(id, mut row)| {
                Arc::make_mut(&mut row).version = version;
                (id, row)
            })
            .collect();
        state.floor = version;
        state.directory = directory.clone();
        Ok(())
    }

    /// Evaluates again the rows that read what changed in the directory.
    fn follow_directory(&self, state: &mut State, store: &Store, directory: &Directory, now: Timestamp) -> Result<(), StoreError> {
        let same_roles = Arc::ptr_eq(&state.directory.roles, &directory.roles);
        let same_organizations = Arc::ptr_eq(&state.directory.organizations, &directory.organizations);
        if same_roles && same_organizations {
            return Ok(());
        }
        let people: HashSet<u64> = if same_roles {
            HashSet::new()
        } else {
            changed_keys(&state.directory.roles, &directory.roles)
        };
        let organizations: HashSet<u64> = if same_organizations {
            HashSet::new()
        } else {
            changed_keys(&state.directory.organizations, &directory.organizations)
        };
        let stale: Vec<u64> = state
            .rows
            .values()
            .filter(|r| r.organization.is_some_and(|o| organizations.contains(&o)) || r.people.iter().any(|p| people.contains(p)))
            .map(|r| r.status.ticket_id)
            .collect();
        state.directory = directory.clone();
        let through = store.cursors()?.events_through;
        for id in stale {
            let row = self.evaluate_stored(store, directory, id, now, through)?;
            self.put(state, id, row, now);
        }
        Ok(())
    }

    /// Evaluates again the rows whose evaluation no longer holds at `now`, and notes the rows
    /// whose facts the events cursor has now passed.
    fn refresh(&self, state: &mut State, store: &Store, now: Timestamp) -> Result<(), StoreError> {
        let through = store.cursors()?.events_through;
        let mut expired = Vec::new();
        let mut completed = Vec::new();
        for row in state.rows.values() {
            if now < row.asked || now >= row.valid_until {
                expired.push(row.status.ticket_id);
            } else if facts_complete(&row.facts, through) != row.status.facts_complete {
                completed.push(row.status.ticket_id);
            }
        }
        let directory = state.directory.clone();
        for id in expired {
            let row = self.evaluate_stored(store, &directory, id, now, through)?;
            self.put(state, id, row, now);
        }
        if !completed.is_empty() {
            state.version += 1;
            let version = state.version;
            for id in completed {
                if let Some(row) = state.rows.get_mut(&id) {
                    let row = Arc::make_mut(row);
                    row.status.facts_complete = !row.status.facts_complete;
                    row.version = version;
                    row.seal();
                }
            }
        }
        Ok(())
    }

    /// Puts a ticket's new row (None: no longer shown), under a new version if a reader would
    /// see a difference.
    fn put(&self, state: &mut State, id: u64, row: Option<Row>, now: Timestamp) {
        match (state.rows.get(&id), row) {
            (None, None) => {}
            (Some(_), None) => {
                state.rows.remove(&id);
                state.version += 1;
                let version = state.version;
                state.removed.push_back((version, id));
                while state.removed.len() > REMEMBERED_REMOVALS {
                    if let Some((dropped, _)) = state.removed.pop_front() {
                        state.floor = state.floor.max(dropped);
                    }
                }
            }
            (old, Some(mut row)) => {
                let same = old.is_some_and(|old| {
                    self.status_at(old, now) == self.status_at(&row, now) && self.urgency(old, now) == self.urgency(&row, now)
                });
                row.version = match old {
                    Some(old) if same => old.version,
                    _ => {
                        state.version += 1;
                        state.version
                    }
                };
                state.rows.insert(id, Arc::new(row));
            }
        }
    }

    /// A stored ticket's row at `now`; None when it is not open (or not stored, or unreadable:
    /// counted, as `open_tickets` skips it).
    fn evaluate_stored(
        &self,
        store: &Store,
        directory: &Directory,
        id: u64,
        now: Timestamp,
        through: Option<Timestamp>,
    ) -> Result<Option<Row>, StoreError> {
        match store.ticket(id) {
            Ok(Some(record)) => self.evaluate(store, directory, &record, now, through),
            Ok(None) => Ok(None),
            Err(StoreError::Corrupt { .. }) => {
                store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    fn evaluate(
        &self,
        store: &Store,
        directory: &Directory,
        record: &TicketRecord,
        now: Timestamp,
        through: Option<Timestamp>,
    ) -> Result<Option<Row>, StoreError> {
        if !record.is_open() {
            return Ok(None);
        }
        let Some(clocks) = clocks_of(&self.config, record, directory, now) else {
            return Ok(None);
        };
        let mut status = ticket_status(&self.config, record, &clocks, facts_complete(record, through));
        if self.config.escalation.is_some() {
            (status.engineering_issue, status.engineering_failed) = engineering_issue(store, record.id)?;
        }
        Ok(Some(self.row(record, &clocks, status, now)))
    }

    fn row(&self, record: &TicketRecord, clocks: &TicketClocks, status: TicketStatus, now: Timestamp) -> Row {
        let created_at = record
            .created_at
            .or_else(|| record.events.first().map(|e| e.event.at()))
            .unwrap_or_default();
        let at = now.max(created_at);
        let mut seen = HashSet::new();
        let mut goals = 0;
        let live: Vec<Live> = clocks
            .clocks
            .iter()
            .map(|c| {
                let slot = match c.kind {
                    TargetKind::Goal => {
                        goals += 1;
                        Slot::Goal(goals - 1)
                    }
                    TargetKind::Contract if seen.insert(c.metric) => Slot::Contract(c.metric),
                    TargetKind::Contract => Slot::None,
                };
                Live {
                    slot,
                    contract: c.kind == TargetKind::Contract,
                    state: c.state,
                    completed: c.completed_at.is_some(),
                    deadline: c.deadline,
                    goal: c.target.map_or(0, |t| t.0),
                    elapsed: c.elapsed,
                    running: c.running,
                    schedule: c.schedule,
                }
            })
            .collect();
        // What time alone changes: a running clock's breach at its deadline, and an event (or
        // the creation) not yet reached.
        let breach = live
            .iter()
            .filter(|c| c.running && c.state == ClockState::Running)
            .filter_map(|c| c.deadline)
            .min();
        let ahead = record.events.iter().map(|e| e.event.at()).filter(|&at| at > now).min();
        let created = Some(created_at).filter(|&c| c > now);
        let valid_until = [breach, ahead, created].into_iter().flatten().min().unwrap_or(Timestamp::MAX);
        let mut people: Vec<u64> = record
            .events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Comment { author_id, .. } => Some(*author_id),
                _ => None,
            })
            .chain(record.submitter_id)
            .collect();
        people.sort_unstable();
        people.dedup();
        let mut row = Row {
            status,
            clocks: live,
            at,
            asked: now,
            valid_until,
            facts: TicketRecord {
                id: record.id,
                exported: record.exported,
                updated_at: record.updated_at,
                created_at: record.created_at,
                read_through: record.read_through,
                ..TicketRecord::default()
            },
            organization: record.organization_id,
            people,
            version: 0,
            json: Json::default(),
        };
        row.seal();
        row
    }
}

/// The keys added, removed or changed between two maps.
fn changed_keys<V: PartialEq>(old: &HashMap<u64, V>, new: &HashMap<u64, V>) -> HashSet<u64> {
    let mut keys: HashSet<u64> = new.iter().filter(|(k, v)| old.get(k) != Some(v)).map(|(k, _)| *k).collect();
    keys.extend(old.keys().filter(|k| !new.contains_key(k)));
    keys
}

impl TicketWatcher for StatusBoard {
    fn saved(&self, store: &Store, tickets: &[TicketRecord]) {
        let mut state = lock(&self.state);
        match &mut state.phase {
            Phase::Cold => {}
            Phase::Building(written) => written.extend(tickets.iter().map(|t| t.id)),
            Phase::Built => {
                let now = self.clock.now();
                let directory = state.directory.clone();
                let through = match store.cursors() {
                    Ok(cursors) => cursors.events_through,
                    Err(error) => return self.reset(&mut state, tickets.first().map_or(0, |t| t.id), &error),
                };
                for record in tickets {
                    let row = match self.evaluate(store, &directory, record, now, through) {
                        Ok(row) => row,
                        Err(error) => return self.reset(&mut state, record.id, &error),
                    };
                    self.put(&mut state, record.id, row, now);
                }
            }
        }
    }

    fn removed(&self, _store: &Store, ids: &[u64]) {
        let mut state = lock(&self.state);
        match &mut state.phase {
            Phase::Cold => {}
            Phase::Building(written) => written.extend(ids),
            Phase::Built => {
                let now = self.clock.now();
                for &id in ids {
                    self.put(&mut state, id, None, now);
                }
            }
        }
    }

    fn escalation_saved(&self, store: &Store, ticket_id: u64) {
        let mut state = lock(&self.state);
        match &mut state.phase {
            Phase::Cold => {}
            Phase::Building(written) => {
                written.insert(ticket_id);
            }
            Phase::Built => {
                let Some(row) = state.rows.get(&ticket_id) else { return };
                let mut row = Row::clone(row);
                match engineering_issue(store, ticket_id) {
                    Ok((issue, failed)) => {
                        row.status.engineering_issue = issue;
                        row.status.engineering_failed = failed;
                        row.seal();
                        let now = self.clock.now();
                        self.put(&mut state, ticket_id, Some(row), now);
                    }
                    Err(error) => self.reset(&mut state, ticket_id, &error),
                }
            }
        }
    }
}

impl StatusBoard {
    /// Forgets everything, to be built again from the store at the next read: what a write
    /// could not be followed by (a read of the store failed meanwhile). Every reader's cursor
    /// is then behind the floor, and gets every row again.
    fn reset(&self, state: &mut State, id: u64, error: &StoreError) {
        tracing::warn!(ticket = id, %error, "status board: a write could not be followed; built again at the next read");
        state.phase = Phase::Cold;
        state.rows.clear();
        state.removed.clear();
        state.version += 1;
        state.floor = state.version + 1;
    }
}
