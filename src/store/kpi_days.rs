//! KPI rows of finished days, packed: one value per UTC day of creation in the tree
//! `kpi_days`, beside the live rows in `kpi_rows`. A year of a million rows is then a few
//! hundred reads instead of a million: sled's cost per entry was most of a year's report
//! (docs/PERFORMANCE.md § KPI report).
//!
//! A live entry always wins over a packed one under the same key: a row written after its day
//! was packed (a late rating, a reopened ticket) shadows the packed row, and a deleted ticket's
//! row is shadowed by a tombstone. `Store::pack_kpi_days` folds a day's live entries into its
//! block, writes the block to disk, then removes each live entry only if it is still the value
//! it folded (compare-and-swap): a row written in between stays, and shadows.
//!
//! Readers take no lock. For each day they read its live entries first and its block after,
//! and packing writes a block before it removes the entries folded into it, so a row present
//! throughout a read is seen exactly once, live or packed.

use sled::IVec;

use super::{decode_kpi, instant_key, read_instant_key, Store, StoreError};
use crate::kpi::KpiRow;
use crate::sla::time::Timestamp;

/// A live entry that hides the packed row under its key: the ticket was deleted.
pub(super) const TOMBSTONE: &[u8] = &[0];

/// The first byte of a block. Then the number of its entries and each entry's offset from
/// the end of that index (u32s, little-endian): a single row is found by a binary search. Then
/// the entries in key order, each the 16-byte key, the value's length (u32, little-endian) and
/// the value as `kpi_rows` held it.
const BLOCK_VERSION: u8 = 1;

const DAY: Timestamp = 86_400;

/// Live entries folded before their blocks are flushed and the entries removed.
const FOLD_BATCH: usize = 20_000;

/// What one packing did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Packed {
    /// Days whose block was written (or removed, every row of it deleted).
    pub days: u64,
    /// Rows moved into blocks (new or replacing the packed one).
    pub rows: u64,
    /// Tombstones folded: rows taken out of their blocks.
    pub deleted: u64,
    /// Live entries left because they changed while being packed: they shadow the block.
    pub changed_meanwhile: u64,
}

fn day_of(at: Timestamp) -> i64 {
    at.div_euclid(DAY)
}

fn day_of_key(key: &[u8]) -> i64 {
    read_instant_key(key).map_or(0, |(at, _)| day_of(at))
}

/// The first key of `day`.
fn day_start(day: i64) -> [u8; 16] {
    instant_key(day.saturating_mul(DAY), 0)
}

/// A block's key: its day, ordered as instants are.
fn block_key(day: i64) -> [u8; 8] {
    ((day as u64) ^ (1 << 63)).to_be_bytes()
}

fn block_day(key: &[u8]) -> i64 {
    key.get(..8)
        .and_then(|k| k.try_into().ok())
        .map_or(0, |k: [u8; 8]| (u64::from_be_bytes(k) ^ (1 << 63)) as i64)
}

/// A key and its value, as bytes.
type Entry<'a> = (&'a [u8], &'a [u8]);

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let word = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes(word.try_into().ok()?) as usize)
}

/// A block, read in place.
struct Block<'a> {
    count: usize,
    offsets: &'a [u8],
    body: &'a [u8],
}

impl<'a> Block<'a> {
    fn parse(block: &'a [u8]) -> Result<Block<'a>, String> {
        let Some((&BLOCK_VERSION, rest)) = block.split_first() else {
            return Err(format!("block version {:?}, this slawatch reads {BLOCK_VERSION}", block.first()));
        };
        let count = u32_at(rest, 0).ok_or("block without its index")?;
        let offsets = rest.get(4..4 + count.saturating_mul(4)).ok_or("block index truncated")?;
        let body = &rest[4 + offsets.len()..];
        Ok(Block { count, offsets, body })
    }

    /// The `index`-th entry.
    fn entry(&self, index: usize) -> Result<Entry<'a>, String> {
        let broken = || format!("block entry {index} of {} truncated", self.count);
        let at = u32_at(self.offsets, index * 4).ok_or_else(broken)?;
        let key = self.body.get(at..at + 16).ok_or_else(broken)?;
        let length = u32_at(self.body, at + 16).ok_or_else(broken)?;
        let value = self.body.get(at + 20..at + 20 + length).ok_or_else(broken)?;
        Ok((key, value))
    }

    /// Every entry, in key order.
    fn entries(&self) -> Result<Vec<Entry<'a>>, String> {
        (0..self.count).map(|index| self.entry(index)).collect()
    }

    /// The value under `key`, by binary search.
    fn find(&self, key: &[u8]) -> Result<Option<&'a [u8]>, String> {
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let middle = (low + high) / 2;
            let (at, value) = self.entry(middle)?;
            match at.cmp(key) {
                std::cmp::Ordering::Equal => return Ok(Some(value)),
                std::cmp::Ordering::Less => low = middle + 1,
                std::cmp::Ordering::Greater => high = middle,
            }
        }
        Ok(None)
    }
}

/// A block's entries, in key order; an error names where it is broken.
fn entries(block: &[u8]) -> Result<Vec<Entry<'_>>, String> {
    Block::parse(block)?.entries()
}

fn encode_block<'a>(entries: impl ExactSizeIterator<Item = Entry<'a>>) -> Vec<u8> {
    let count = entries.len();
    let mut offsets = Vec::with_capacity(4 + count * 4);
    offsets.extend_from_slice(&(count as u32).to_le_bytes());
    let mut body = Vec::new();
    for (key, value) in entries {
        offsets.extend_from_slice(&(body.len() as u32).to_le_bytes());
        body.extend_from_slice(key);
        body.extend_from_slice(&(value.len() as u32).to_le_bytes());
        body.extend_from_slice(value);
    }
    let mut block = Vec::with_capacity(1 + offsets.len() + body.len());
    block.push(BLOCK_VERSION);
    block.extend_from_slice(&offsets);
    block.extend_from_slice(&body);
    block
}

/// Live entries over packed ones, both in key order: each key once, the live one where both
/// have it.
fn overlay<'a>(live: &'a [(IVec, IVec)], packed: &[Entry<'a>]) -> Vec<Entry<'a>> {
    let mut out = Vec::with_capacity(live.len() + packed.len());
    let (mut l, mut p) = (0, 0);
    loop {
        let live_entry = live.get(l).map(|(key, value)| (key.as_ref(), value.as_ref()));
        match (live_entry, packed.get(p)) {
            (None, None) => break,
            (Some(entry), None) => {
                out.push(entry);
                l += 1;
            }
            (Some(entry), Some(&(packed_key, _))) if entry.0 <= packed_key => {
                out.push(entry);
                l += 1;
                p += usize::from(entry.0 == packed_key);
            }
            (_, Some(&entry)) => {
                out.push(entry);
                p += 1;
            }
        }
    }
    out
}

#[cfg(test)]
thread_local! {
    /// Run by a reader between its read of a day's live entries and its read of the block.
    static BETWEEN_READS: std::cell::RefCell<Option<Box<dyn FnMut()>>> = std::cell::RefCell::new(None);
}

/// Where a test packs the day under a reader's feet.
fn between_reads() {
    #[cfg(test)]
    BETWEEN_READS.with(|hook| {
        if let Some(hook) = hook.borrow_mut().as_mut() {
            hook()
        }
    });
}

/// The KPI rows of `[from, to)` in creation order, live and packed, a day at a time.
pub struct KpiRows<'a> {
    store: &'a Store,
    cursor: [u8; 16],
    to: [u8; 16],
    ready: std::vec::IntoIter<KpiRow>,
    done: bool,
}

impl<'a> KpiRows<'a> {
    pub(super) fn new(store: &'a Store, from: Timestamp, to: Timestamp) -> Self {
        KpiRows {
            store,
            cursor: instant_key(from, 0),
            to: instant_key(to, 0),
            ready: Vec::new().into_iter(),
            done: from >= to,
        }
    }

    /// The rows of the next day that has any, from the cursor on.
    fn next_day(&mut self) -> Result<Vec<KpiRow>, StoreError> {
        let store = self.store;
        // The next live key first, then the next block: a row moved in between is in the block.
        let live = store.kpi.range(self.cursor..self.to).keys().next().transpose()?;
        let blocks = block_key(day_of_key(&self.cursor))..=block_key(day_of_key(&self.to));
        let packed = store.kpi_days.range(blocks).keys().next().transpose()?;
        let day = match (live.map(|k| day_of_key(&k)), packed.map(|k| block_day(&k))) {
            (Some(a), Some(b)) => a.min(b),
            (Some(day), None) | (None, Some(day)) => day,
            (None, None) => {
                self.done = true;
                return Ok(Vec::new());
            }
        };
        let (start, end) = (self.cursor.max(day_start(day)), self.to.min(day_start(day + 1)));
        let live: Vec<(IVec, IVec)> = store.kpi.range(start..end).collect::<Result<_, _>>()?;
        between_reads();
        let block = store.kpi_days.get(block_key(day))?;
        let packed = match block.as_deref().map(entries) {
            None => Vec::new(),
            Some(Ok(entries)) => entries,
            Some(Err(message)) => {
                store.skip_unreadable(&StoreError::Corrupt {
                    key: format!("kpi day {day}"),
                    message,
                });
                Vec::new()
            }
        };
        let in_range = |key: &[u8]| key >= start.as_slice() && key < end.as_slice();
        let packed: Vec<_> = packed.into_iter().filter(|(key, _)| in_range(key)).collect();
        let mut rows = Vec::with_capacity(live.len() + packed.len());
        for (key, value) in overlay(&live, &packed) {
            if value == TOMBSTONE {
                continue;
            }
            match decode_kpi(value) {
                Ok(row) => rows.push(row),
                Err(message) => store.skip_unreadable(&StoreError::Corrupt {
                    key: format!("kpi {}", read_instant_key(key).map_or(0, |(_, id)| id)),
                    message,
                }),
            }
        }
        // (`end` is past the cursor unless the instants saturated at the end of time.)
        self.done = end >= self.to || end <= self.cursor;
        self.cursor = end;
        Ok(rows)
    }
}

impl Iterator for KpiRows<'_> {
    type Item = Result<KpiRow, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(row) = self.ready.next() {
                return Some(Ok(row));
            }
            if self.done {
                return None;
            }
            match self.next_day() {
                Ok(rows) => self.ready = rows.into_iter(),
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            }
        }
    }
}

impl Store {
    /// One ticket's KPI row, live or packed. An unreadable block is counted and read as
    /// holding nothing, so the ticket's row is judged again rather than every evaluation of
    /// that day failing.
    pub fn kpi_row(&self, created_at: Timestamp, id: u64) -> Result<Option<KpiRow>, StoreError> {
        let key = instant_key(created_at, id);
        let corrupt = |message| StoreError::Corrupt {
            key: format!("kpi {id}"),
            message,
        };
        // Live first, then the block: a row moved in between is in the block.
        if let Some(value) = self.kpi.get(key)? {
            return match value.as_ref() == TOMBSTONE {
                true => Ok(None),
                false => decode_kpi(&value).map(Some).map_err(corrupt),
            };
        }
        between_reads();
        let day = day_of(created_at);
        let Some(block) = self.kpi_days.get(block_key(day))? else {
            return Ok(None);
        };
        match Block::parse(&block).and_then(|b| b.find(&key)) {
            Ok(None) => Ok(None),
            Ok(Some(value)) => decode_kpi(value).map(Some).map_err(corrupt),
            Err(message) => {
                self.skip_unreadable(&StoreError::Corrupt {
                    key: format!("kpi day {day}"),
                    message,
                });
                Ok(None)
            }
        }
    }

    /// Packs the live KPI rows (and tombstones) of every UTC day that ended by `before` into
    /// their days' blocks, calling `progress` after each batch. Safe beside writers and
    /// readers; one packing at a time.
    pub fn pack_kpi_days(&self, before: Timestamp, progress: &mut dyn FnMut()) -> Result<Packed, StoreError> {
        let _one_at_a_time = self.packing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let end = day_start(day_of(before));
        let mut packed = Packed::default();
        let mut cursor = instant_key(Timestamp::MIN, 0);
        let mut folded: Vec<(IVec, IVec)> = Vec::new();
        while let Some(first) = self.kpi.range(cursor..end).keys().next().transpose()? {
            let day = day_of_key(&first);
            let (start, stop) = (day_start(day), end.min(day_start(day + 1)));
            if stop <= cursor {
                break; // the end of time
            }
            cursor = stop;
            let live: Vec<(IVec, IVec)> = self.kpi.range(start..stop).collect::<Result<_, _>>()?;
            let block = self.kpi_days.get(block_key(day))?;
            let old = match block.as_deref().map(entries).transpose() {
                Ok(old) => old.unwrap_or_default(),
                // Left as it is, its rows live: nothing more is lost than already was.
                Err(message) => {
                    self.skip_unreadable(&StoreError::Corrupt {
                        key: format!("kpi day {day}"),
                        message,
                    });
                    continue;
                }
            };
            let kept: Vec<_> = overlay(&live, &old).into_iter().filter(|(_, v)| *v != TOMBSTONE).collect();
            super::faults::before_write();
            if kept.is_empty() {
                self.kpi_days.remove(block_key(day))?;
            } else {
                self.kpi_days.insert(block_key(day), encode_block(kept.into_iter()))?;
            }
            packed.days += 1;
            for (_, value) in &live {
                match value.as_ref() == TOMBSTONE {
                    true => packed.deleted += 1,
                    false => packed.rows += 1,
                }
            }
            folded.extend(live);
            if folded.len() >= FOLD_BATCH {
                packed.changed_meanwhile += self.remove_folded(&mut folded)?;
                progress();
            }
        }
        packed.changed_meanwhile += self.remove_folded(&mut folded)?;
        Ok(packed)
    }

    /// Once the blocks are on disk, removes the live entries folded into them that are still
    /// what was folded; returns how many changed meanwhile (and stay, shadowing the block).
    fn remove_folded(&self, folded: &mut Vec<(IVec, IVec)>) -> Result<u64, StoreError> {
        if folded.is_empty() {
            return Ok(0);
        }
        self.flush()?;
        let mut changed = 0;
        for (key, value) in folded.drain(..) {
            super::faults::before_write();
            if self.kpi.compare_and_swap(key, Some(value), None as Option<&[u8]>)?.is_err() {
                changed += 1;
            }
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::kpi::{Outcome, Satisfaction, Waits};
    use crate::store::KpiChange;

    const BASE: Timestamp = 1_790_000_000;

    fn row(id: u64, created_at: Timestamp, replies: u32) -> KpiRow {
        KpiRow {
            id,
            created_at,
            severity: "sev2".into(),
            classified: true,
            tier: "managed".into(),
            contract: None,
            organization_id: Some(id % 3),
            ticket_type: None,
            product_area: None,
            first_response: Outcome::Met,
            resolution: Outcome::Running { deadline: None },
            solved_at: None,
            help_requested: false,
            satisfaction: Satisfaction::Unrated,
            replies,
            support_waits: Waits::default(),
            customer_waits: Waits::default(),
            docs_linked: false,
            first_response_time: None,
            resolution_time: None,
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), 4 << 20).unwrap();
        (dir, store)
    }

    fn put(store: &Store, row: &KpiRow) {
        store.save_kpi(&[(row.id, KpiChange::Put(Box::new(row.clone())))]).unwrap();
    }

    fn delete(store: &Store, id: u64, created_at: Timestamp) {
        store.save_kpi(&[(id, KpiChange::Remove { created_at })]).unwrap();
    }

    fn read(store: &Store, from: Timestamp, to: Timestamp) -> Vec<KpiRow> {
        store.kpi_rows(from, to).map(|r| r.unwrap()).collect()
    }

    /// A small xorshift: the same sequence of operations on every run.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Writes, deletions and packings in a random order, each followed by reads of random
    /// ranges and rows, against a map of what should be there.
    #[test]
    fn packed_and_live_rows_read_as_one_store_whatever_the_order_of_writes_and_packings() {
        let (_dir, store) = store();
        let mut model: BTreeMap<(Timestamp, u64), KpiRow> = BTreeMap::new();
        let mut rng = Rng(0x5EED_CAFE);
        // Ticket ids 1..=120 over 12 days; a ticket's creation never changes.
        let created = |id: u64| BASE + ((id * 7_919) % (12 * DAY as u64)) as Timestamp;
        let (mut packings, mut latest) = (0, Timestamp::MIN);
        for step in 0..600 {
            match rng.below(10) {
                0..=5 => {
                    let id = 1 + rng.below(120);
                    let row = row(id, created(id), rng.below(1_000) as u32);
                    put(&store, &row);
                    model.insert((row.created_at, id), row);
                }
                6..=7 => {
                    let id = 1 + rng.below(120);
                    delete(&store, id, created(id));
                    model.remove(&(created(id), id));
                }
                _ => {
                    let before = BASE + rng.below(14 * DAY as u64) as Timestamp;
                    store.pack_kpi_days(before, &mut || ()).unwrap();
                    (packings, latest) = (packings + 1, latest.max(before));
                    // Nothing of a day that had not ended by then was packed.
                    let open_day = day_start(day_of(latest));
                    assert!(store.kpi_days.iter().keys().all(|k| day_start(block_day(&k.unwrap())) < open_day));
                }
            }
            let whole: Vec<KpiRow> = model.values().cloned().collect();
            assert_eq!(read(&store, Timestamp::MIN, Timestamp::MAX), whole, "step {step}");
            let from = BASE - DAY + rng.below(14 * DAY as u64) as Timestamp;
            let to = from + rng.below(5 * DAY as u64) as Timestamp;
            let expected: Vec<KpiRow> = model.range((from, 0)..(to, 0)).map(|(_, r)| r.clone()).collect();
            assert_eq!(read(&store, from, to), expected, "step {step}: [{from}, {to})");
            let id = 1 + rng.below(120);
            assert_eq!(
                store.kpi_row(created(id), id).unwrap().as_ref(),
                model.get(&(created(id), id)),
                "step {step}: ticket {id}"
            );
        }
        assert!(packings > 50, "{packings}");
        // Everything packed: no live entry is left, and no block holds a deleted row.
        store.pack_kpi_days(BASE + 20 * DAY, &mut || ()).unwrap();
        assert_eq!(store.kpi.len(), 0);
        let packed: usize = store.kpi_days.iter().values().map(|b| entries(&b.unwrap()).unwrap().len()).sum();
        assert_eq!(packed, model.len());
        assert_eq!(store.stats.unreadable.load(std::sync::atomic::Ordering::Relaxed), 0);
    }

    /// Readers while a packer and a writer run: rows rewritten as they were, days packed one
    /// after another, and every read sees each row once.
    #[test]
    fn a_read_during_packing_sees_every_row_once() {
        let (_dir, store) = store();
        let rows: Vec<KpiRow> = (0..600).map(|i| row(i, BASE + (i as Timestamp) * 1_440, 1)).collect();
        rows.iter().for_each(|r| put(&store, r));
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut rng = Rng(7);
                for round in 0..60 {
                    for _ in 0..20 {
                        put(&store, &rows[rng.below(rows.len() as u64) as usize]);
                    }
                    store.pack_kpi_days(BASE + (round % 12) * DAY, &mut || ()).unwrap();
                }
                done.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            let mut reads = 0;
            while !done.load(std::sync::atomic::Ordering::Relaxed) || reads < 20 {
                assert_eq!(read(&store, Timestamp::MIN, Timestamp::MAX), rows, "read {reads}");
                let row = &rows[reads % rows.len()];
                assert_eq!(store.kpi_row(row.created_at, row.id).unwrap().as_ref(), Some(row));
                reads += 1;
            }
        });
    }

    /// The order the lock-free reads rest on: a packing that runs between a reader's read of a
    /// day's live entries and its read of the block misses nothing and doubles nothing.
    #[test]
    fn a_day_packed_between_a_readers_two_reads_is_read_whole() {
        let (_dir, store) = store();
        let store = std::sync::Arc::new(store);
        let rows: Vec<KpiRow> = (0..30).map(|i| row(i, BASE + (i as Timestamp) * 2_800, 1)).collect();
        let install = |store: &std::sync::Arc<Store>| {
            let packer = store.clone();
            BETWEEN_READS.with(|hook| {
                *hook.borrow_mut() = Some(Box::new(move || {
                    packer.pack_kpi_days(BASE + 3 * DAY, &mut || ()).unwrap();
                }))
            });
        };
        rows.iter().for_each(|r| put(&store, r));
        install(&store);
        assert_eq!(read(&store, BASE, BASE + DAY), rows);
        assert_eq!(store.kpi.len(), 0, "the hook packed the day");
        // And a single row, live when looked up, packed before its block is read.
        put(&store, &rows[3]);
        install(&store);
        assert_eq!(store.kpi_row(rows[3].created_at, rows[3].id).unwrap().as_ref(), Some(&rows[3]));
        for r in &rows[..5] {
            store.kpi.insert(instant_key(r.created_at, r.id), TOMBSTONE).unwrap();
        }
        // Tombstones folded between the two reads: the rows are gone, not half gone.
        install(&store);
        assert_eq!(read(&store, BASE, BASE + DAY), rows[5..].to_vec());
        BETWEEN_READS.with(|hook| *hook.borrow_mut() = None);
    }

    #[test]
    fn a_row_written_while_its_day_is_packed_stays_live_and_wins() {
        let (_dir, store) = store();
        let first = row(7, BASE, 1);
        put(&store, &first);
        let key = instant_key(BASE, 7);
        // Packing read and folded the first row; the second is written before it is removed.
        let mut folded = vec![(IVec::from(key.as_slice()), store.kpi.get(key).unwrap().unwrap())];
        store
            .kpi_days
            .insert(
                block_key(day_of(BASE)),
                encode_block([(key.as_slice(), folded[0].1.as_ref())].into_iter()),
            )
            .unwrap();
        let second = row(7, BASE, 2);
        put(&store, &second);
        assert_eq!(store.remove_folded(&mut folded).unwrap(), 1, "changed meanwhile");
        assert_eq!(read(&store, BASE, BASE + DAY), vec![second.clone()]);
        assert_eq!(store.kpi_row(BASE, 7).unwrap(), Some(second.clone()));
        // The next packing folds it.
        let packed = store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap();
        assert_eq!((packed.rows, packed.changed_meanwhile), (1, 0));
        assert_eq!((store.kpi.len(), read(&store, BASE, BASE + DAY)), (0, vec![second]));
    }

    #[test]
    fn a_packing_stopped_before_it_removed_the_live_rows_leaves_each_row_once() {
        let (_dir, store) = store();
        let rows = [row(1, BASE, 1), row(2, BASE + 10, 2)];
        rows.iter().for_each(|r| put(&store, r));
        store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap();
        // As if killed after the block was written: the live entries are back, byte for byte.
        rows.iter().for_each(|r| put(&store, r));
        assert_eq!(read(&store, BASE, BASE + DAY), rows.to_vec());
        store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap();
        assert_eq!((store.kpi.len(), read(&store, BASE, BASE + DAY)), (0, rows.to_vec()));
    }

    #[test]
    fn a_deleted_ticket_leaves_its_packed_day_and_an_emptied_day_goes() {
        let (_dir, store) = store();
        put(&store, &row(1, BASE, 1));
        store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap();
        delete(&store, 1, BASE);
        assert_eq!((read(&store, BASE, BASE + DAY), store.kpi_row(BASE, 1).unwrap()), (vec![], None));
        let packed = store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap();
        assert_eq!((packed.days, packed.rows, packed.deleted), (1, 0, 1));
        assert_eq!((store.kpi.len(), store.kpi_days.len()), (0, 0));
    }

    #[test]
    fn an_unreadable_block_is_counted_and_its_days_live_rows_are_kept() {
        let (_dir, store) = store();
        let live = row(2, BASE + 5, 1);
        put(&store, &live);
        store
            .kpi_days
            .insert(block_key(day_of(BASE)), &[BLOCK_VERSION, 1, 2, 3][..])
            .unwrap();
        assert_eq!(read(&store, BASE, BASE + DAY), vec![live.clone()]);
        assert_eq!(store.pack_kpi_days(BASE + DAY, &mut || ()).unwrap(), Packed::default());
        assert_eq!(read(&store, BASE, BASE + DAY), vec![live.clone()]);
        // A row looked up in it is not there (and is judged again), no error.
        assert_eq!(store.kpi_row(BASE, 1).unwrap(), None);
        assert_eq!(store.kpi_row(live.created_at, live.id).unwrap(), Some(live));
        // Each of the two reads, the packing and the lookup.
        assert_eq!(store.stats.unreadable.load(std::sync::atomic::Ordering::Relaxed), 4);
    }

    #[test]
    fn a_block_reads_back_and_a_broken_one_says_where() {
        let (k1, k2) = (instant_key(10, 1), instant_key(10, 2));
        let block = encode_block([(k1.as_slice(), b"one".as_slice()), (k2.as_slice(), b"".as_slice())].into_iter());
        assert_eq!(
            entries(&block),
            Ok(vec![(k1.as_slice(), b"one".as_slice()), (k2.as_slice(), b"".as_slice())])
        );
        assert_eq!(entries(&block[..block.len() - 1]), Err("block entry 1 of 2 truncated".to_string()));
        assert!(entries(&[9]).is_err());
    }

    #[test]
    fn a_row_is_found_in_its_block_by_its_key() {
        let keys: Vec<[u8; 16]> = (0..101).map(|i| instant_key(BASE + i * 7, 1_000 - i as u64)).collect();
        let values: Vec<Vec<u8>> = (0..101).map(|i| vec![i as u8; i % 5]).collect();
        let block = encode_block(keys.iter().zip(&values).map(|(k, v)| (k.as_slice(), v.as_slice())));
        let block = Block::parse(&block).unwrap();
        for (key, value) in keys.iter().zip(&values) {
            assert_eq!(block.find(key), Ok(Some(value.as_slice())));
        }
        for missing in [instant_key(BASE - 1, 0), instant_key(BASE + 3, 0), instant_key(BASE + 10_000, 0)] {
            assert_eq!(block.find(&missing), Ok(None));
        }
        let empty = encode_block(std::iter::empty());
        assert_eq!(Block::parse(&empty).unwrap().find(&keys[0]), Ok(None));
    }

    #[test]
    fn days_are_utc_and_negative_instants_sort_first() {
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_of(86_399), 0);
        assert!(block_key(-1) < block_key(0));
        assert_eq!(block_day(&block_key(-3)), -3);
        assert_eq!(day_of_key(&day_start(19_000)), 19_000);
        // The extremes saturate rather than wrap.
        assert!(day_start(day_of(Timestamp::MIN)) <= instant_key(Timestamp::MIN, 0));
    }
}
