//! Bringing a store of an older schema forward, in place.
//!
//! Version 1 kept comment bodies and each alert's message text; version 2 keeps a comment's
//! facts (length, acknowledgement) instead, renders messages at delivery, indexes tickets by
//! organization and by the events they wait for, and keeps one outbox entry per channel.
//! Version 3 keeps KPI rows with a version byte and the figures the quarterly reports need
//! (contract, documentation link, clock times), in `kpi_rows`.
//!
//! A migration stopped anywhere (killed, a disk error) runs again from its start at the next
//! open and ends as one never stopped: what a step derives (the ticket indexes, the outbox) is
//! emptied and built anew from the records, records are rewritten a batch to a transaction, and
//! a record an earlier run already rewrote is read as it is. `Store::upgrade` writes the schema
//! version only after every step.

use serde_json::Value;

use serde::Deserialize;

use super::{AlertRecord, ReadComment, Store, StoreError, TicketRecord};
use crate::kpi::{KpiRow, Outcome, Satisfaction, Waits};
use crate::sla::time::Timestamp;

/// Records rewritten in one transaction.
pub(super) const BATCH: usize = 1000;

/// Called after each of a migration's writes that stands on its own (a tree emptied, a batch's
/// transaction); an error from it stops the migration there, as a kill would (tests stop it at
/// each in turn).
pub(super) type Checkpoint<'a> = &'a mut dyn FnMut() -> Result<(), StoreError>;

pub(super) fn from_v1(store: &Store, read_comment: ReadComment, batch: usize, checkpoint: Checkpoint) -> Result<(), StoreError> {
    tracing::info!(path = %store.path.display(), "migrating the store to schema 2: comment bodies become facts and are dropped");
    tickets_from_v1(store, read_comment, batch, checkpoint)?;
    alerts_from_v1(store, batch, checkpoint)
}

/// A KPI row as schema 2 kept it (postcard, field order matters).
#[derive(Deserialize)]
struct KpiRowV2 {
    id: u64,
    created_at: Timestamp,
    severity: String,
    classified: bool,
    tier: String,
    organization_id: Option<u64>,
    ticket_type: Option<String>,
    product_area: Option<String>,
    first_response: Outcome,
    resolution: Outcome,
    solved_at: Option<Timestamp>,
    help_requested: bool,
    satisfaction: Satisfaction,
    replies: u32,
    support_waits: Waits,
    customer_waits: Waits,
}

impl From<KpiRowV2> for KpiRow {
    /// What schema 2 did not keep is unknown: no contract, no documentation link, no clock
    /// times. A stored ticket's row is written anew at the daemon's start (the KPI rows'
    /// fingerprint changed); a compacted ticket's row keeps these gaps.
    fn from(v2: KpiRowV2) -> KpiRow {
        KpiRow {
            id: v2.id,
            created_at: v2.created_at,
            severity: v2.severity.into(),
            classified: v2.classified,
            tier: v2.tier.into(),
            contract: None,
            organization_id: v2.organization_id,
            ticket_type: v2.ticket_type.map(Into::into),
            product_area: v2.product_area.map(Into::into),
            first_response: v2.first_response,
            resolution: v2.resolution,
            solved_at: v2.solved_at,
            help_requested: v2.help_requested,
            satisfaction: v2.satisfaction,
            replies: v2.replies,
            support_waits: v2.support_waits,
            customer_waits: v2.customer_waits,
            docs_linked: false,
            first_response_time: None,
            resolution_time: None,
        }
    }
}

/// Schema 2's KPI rows, rewritten into `kpi_rows` (a batch at a time, each under the same key,
/// so a run stopped half way writes the same rows again), then their old tree dropped.
pub(super) fn from_v2(store: &Store, batch: usize, checkpoint: Checkpoint) -> Result<(), StoreError> {
    if !store.db.tree_names().iter().any(|name| name.as_ref() == b"kpi") {
        return Ok(());
    }
    tracing::info!(path = %store.path.display(), "migrating the store to schema 3: KPI rows gain a version and the quarterly figures");
    let old = store.db.open_tree("kpi")?;
    let mut rows: Vec<KpiRow> = Vec::new();
    for entry in old.iter() {
        let (key, bytes) = entry?;
        match postcard::from_bytes::<KpiRowV2>(&bytes) {
            Ok(row) => rows.push(row.into()),
            Err(e) => store.skip_unreadable(&StoreError::Corrupt {
                key: format!("kpi {}", super::read_instant_key(&key).map_or(0, |(_, id)| id)),
                message: e.to_string(),
            }),
        }
        if rows.len() >= batch {
            store.put_kpi_rows(&std::mem::take(&mut rows))?;
            checkpoint()?;
        }
    }
    store.put_kpi_rows(&rows)?;
    checkpoint()?;
    store.flush()?;
    store.db.drop_tree("kpi")?;
    checkpoint()
}

/// Each ticket's comment bodies become facts, and the ticket indexes are built from the tickets.
fn tickets_from_v1(store: &Store, read_comment: ReadComment, batch: usize, checkpoint: Checkpoint) -> Result<(), StoreError> {
    // Emptied whole: a save writes only the index entries that differ from the ticket's old ones,
    // so a ticket an interrupted run saved would otherwise stay out of the emptied `due`.
    for tree in [&store.due, &store.index, &store.awaiting, &store.org_tickets] {
        tree.clear()?;
    }
    checkpoint()?;
    let mut tickets: Vec<TicketRecord> = Vec::new();
    for entry in store.tickets.iter() {
        let (key, bytes) = entry?;
        let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
        let ticket = serde_json::from_slice::<Value>(&bytes)
            .map(|mut value| {
                drop_bodies(&mut value, read_comment);
                value
            })
            .and_then(serde_json::from_value::<TicketRecord>);
        match ticket {
            Ok(ticket) => tickets.push(ticket),
            Err(e) => store.skip_unreadable(&StoreError::Corrupt {
                key: format!("ticket {id}"),
                message: e.to_string(),
            }),
        }
        if tickets.len() >= batch {
            store.save_tickets(&std::mem::take(&mut tickets))?;
            checkpoint()?;
        }
    }
    if !tickets.is_empty() {
        store.save_tickets(&tickets)?;
        checkpoint()?;
    }
    Ok(())
}

/// Each alert's message text goes, and the outbox is built from the alerts' outstanding
/// deliveries, one entry per channel.
fn alerts_from_v1(store: &Store, batch: usize, checkpoint: Checkpoint) -> Result<(), StoreError> {
    store.outbox.clear()?;
    checkpoint()?;
    let mut alerts: Vec<AlertRecord> = Vec::new();
    for entry in store.alerts.iter() {
        let (key, bytes) = entry?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let alert = serde_json::from_slice::<Value>(&bytes)
            .map(alert_without_message)
            .and_then(serde_json::from_value::<AlertRecord>);
        match alert {
            Ok(alert) => alerts.push(alert),
            Err(e) => store.skip_unreadable(&StoreError::Corrupt {
                key,
                message: e.to_string(),
            }),
        }
        if alerts.len() >= batch {
            store.record_alerts(&std::mem::take(&mut alerts), &[], None)?;
            checkpoint()?;
        }
    }
    if !alerts.is_empty() {
        store.record_alerts(&alerts, &[], None)?;
        checkpoint()?;
    }
    Ok(())
}

/// A v1 alert in version 2's shape: whether it is a goal's, read from its message, which goes;
/// told as crossed when it was. One already in that shape (an interrupted run rewrote it) has
/// no message and keeps what it holds.
fn alert_without_message(mut alert: Value) -> Value {
    if let Some(object) = alert.as_object_mut() {
        if let Some(message) = object.remove("message") {
            let goal = message.get("goal").is_some_and(|g| !g.is_null());
            object.insert("goal".into(), Value::Bool(goal));
        }
        if !object.contains_key("effective_at") {
            if let Some(at) = object.get("at").cloned() {
                object.insert("effective_at".into(), at);
            }
        }
    }
    alert
}

/// Replaces each stored comment's body with its facts (a comment without a body, one an
/// interrupted run rewrote, is left as it is).
fn drop_bodies(ticket: &mut Value, read_comment: ReadComment) {
    let Some(events) = ticket.get_mut("events").and_then(Value::as_array_mut) else {
        return;
    };
    for stored in events {
        let Some(event) = stored.get_mut("event").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(Value::String(body)) = event.remove("body") {
            let (length, acknowledgement) = read_comment(&body);
            event.insert("length".into(), Value::from(length));
            event.insert("acknowledgement".into(), Value::Bool(acknowledgement));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use serde_json::json;

    use super::*;
    use crate::sla::alerting::AlertId;
    use crate::sla::clock::AlertPoint;
    use crate::sla::policy::{Metric, Threshold};
    use crate::store::{AlertStatus, Delivery};

    const CACHE: u64 = 1 << 20;
    /// Small batches, so a migration has several to stop between.
    const TEST_BATCH: usize = 2;

    fn read_comment(body: &str) -> (u32, bool) {
        (body.chars().count() as u32, body.contains("looking into"))
    }

    fn v1_ticket(id: u64, status: &str, next_alert: Option<i64>, organization: Option<u64>) -> Value {
        json!({
            "id": id, "subject": format!("Ticket {id}"), "status": status,
            "created_at": 1_796_058_000 + id as i64, "updated_at": 1_796_058_600 + id as i64,
            "requester_id": 3, "submitter_id": 3, "assignee_id": null, "group_id": null,
            "organization_id": organization, "severity": "sev1", "exported": true, "next_alert": next_alert,
            "events": [
                {"audit_id": 10 * id + 1, "event": {"kind": "comment", "at": 1_796_058_000, "author_id": 3, "role": "end_user", "public": true, "body": "It crashes, my password is hunter2"}},
                {"audit_id": 10 * id + 2, "event": {"kind": "status", "at": 1_796_058_100, "status": "open"}},
                {"audit_id": 10 * id + 3, "event": {"kind": "comment", "at": 1_796_058_600, "author_id": 4, "role": "agent", "public": true, "body": "We are looking into this."}}
            ]
        })
    }

    /// An alert as version 1 kept it: its message text, no goal flag, no effective instant.
    fn v1_alert(ticket_id: u64, percent: u8, goal: Option<&str>, sent: bool) -> (String, Value) {
        let id = AlertId {
            ticket_id,
            metric: Metric::FirstResponse,
            target_name: goal.unwrap_or("contract").to_string(),
            target: crate::sla::time::Duration(86_400),
            point: AlertPoint::Warning(Threshold::Percent(percent)),
        };
        let mut delivery = Delivery::new("support".into(), 1_796_100_000_000);
        if sent {
            delivery.sent_at = Some(1_796_100_001);
        }
        let record = AlertRecord {
            key: id.key(),
            ticket_id,
            id,
            goal: false,
            at: 1_796_100_000,
            effective_at: 0,
            decided_at: 1_796_100_000,
            status: if sent { AlertStatus::Delivered } else { AlertStatus::Pending },
            deliveries: vec![delivery],
        };
        let mut value = serde_json::to_value(&record).unwrap();
        let object = value.as_object_mut().unwrap();
        object.remove("goal");
        object.remove("effective_at");
        object.insert("message".into(), json!({"goal": goal, "text": "First response due in 12 hours"}));
        (record.key, value)
    }

    /// A store of schema 1 at `path`: tickets with comment bodies and alerts with message text,
    /// one of each garbled.
    fn write_v1(path: &Path) {
        let db = crate::store::sled_config(path).open().unwrap();
        let tickets = db.open_tree("tickets").unwrap();
        for (id, status, next_alert, organization) in [
            (1, "open", Some(1_796_100_000), Some(7)),
            (2, "solved", None, Some(7)),
            (4, "open", Some(1_796_200_000), None),
            (5, "pending", Some(1_796_150_000), Some(8)),
            (6, "open", None, None),
        ] {
            let ticket = v1_ticket(id, status, next_alert, organization);
            tickets.insert(id.to_be_bytes(), serde_json::to_vec(&ticket).unwrap()).unwrap();
        }
        tickets.insert(3u64.to_be_bytes(), &b"\x00garbled"[..]).unwrap();
        let alerts = db.open_tree("alerts").unwrap();
        for (ticket, percent, goal, sent) in [(1, 50, None, true), (1, 75, None, false), (4, 50, Some("fast-first-reply"), false)] {
            let (key, value) = v1_alert(ticket, percent, goal, sent);
            alerts.insert(key.as_bytes(), serde_json::to_vec(&value).unwrap()).unwrap();
        }
        alerts.insert(&b"00000000000000000005/garbled"[..], &b"{not json"[..]).unwrap();
        // Version 1's outbox: one entry per alert, whatever its channels.
        db.open_tree("outbox")
            .unwrap()
            .insert(&b"00000000000000000001/first_response"[..], &[][..])
            .unwrap();
        db.flush().unwrap();
    }

    /// Each tree's name and entries.
    type Trees = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

    /// Every tree of the store, every key and value, byte for byte.
    fn trees(store: &Store) -> Trees {
        let mut names = store.db.tree_names();
        names.sort();
        names
            .into_iter()
            .map(|name| {
                let tree = store.db.open_tree(&name).unwrap();
                let entries = tree.iter().map(|e| e.unwrap()).map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
                (name.to_vec(), entries)
            })
            .collect()
    }

    /// The name of the first tree whose entries differ, if any.
    fn differing(a: &Trees, b: &Trees) -> Option<String> {
        let names = |t: &Trees| t.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>();
        if names(a) != names(b) {
            return Some(format!(
                "the tree names: {:?}",
                names(a).iter().map(|n| String::from_utf8_lossy(n).into_owned()).collect::<Vec<_>>()
            ));
        }
        a.iter()
            .zip(b)
            .find(|(x, y)| x != y)
            .map(|((name, _), _)| String::from_utf8_lossy(name).into_owned())
    }

    /// Opens a store just closed: sled's flusher lets go of the file lock a moment after the
    /// last handle is dropped.
    fn retrying(open: impl Fn() -> Result<Store, StoreError>) -> Result<Store, StoreError> {
        let start = Instant::now();
        loop {
            match open() {
                Err(StoreError::Locked { .. }) if start.elapsed() < Duration::from_secs(5) => std::thread::sleep(Duration::from_millis(20)),
                other => return other,
            }
        }
    }

    fn migrated(path: &Path) -> Store {
        retrying(|| Store::open_migrating(path, CACHE, &read_comment)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs the migration on the store at `path`, stopped at its `stop`-th checkpoint (never
    /// when None); returns how many checkpoints it passed.
    fn run_stopped(path: &Path, stop: Option<usize>) -> (usize, Result<(), StoreError>) {
        let store = retrying(|| Store::open_trees(path, CACHE)).unwrap();
        let mut passed = 0;
        let result = from_v1(&store, &read_comment, TEST_BATCH, &mut || {
            if Some(passed) == stop {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    message: format!("interrupted at checkpoint {passed}"),
                });
            }
            passed += 1;
            Ok(())
        });
        (passed, result)
    }

    /// The trees of the v1 store migrated in one go.
    fn reference() -> Trees {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        write_v1(&path);
        let store = migrated(&path);
        // What the comparison stands on: the indexes, the outbox and the alerts were rewritten.
        assert_eq!(
            store.due(i64::MAX).unwrap(),
            vec![(1_796_100_000, 1), (1_796_150_000, 5), (1_796_200_000, 4)]
        );
        assert_eq!(store.tickets_of_organization(7).unwrap(), vec![1, 2]);
        assert_eq!(store.open_ticket_ids().unwrap(), vec![1, 4, 5, 6]);
        assert_eq!(store.outbox_len(), 2, "one entry per outstanding delivery");
        let goals: Vec<bool> = [1, 4].iter().flat_map(|&t| store.alerts_of(t).unwrap()).map(|a| a.goal).collect();
        assert_eq!(goals, vec![false, false, true]);
        trees(&store)
    }

    #[test]
    fn a_migration_stopped_after_any_step_and_run_again_ends_as_one_never_stopped() {
        let reference = reference();
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole");
        write_v1(&whole);
        let (steps, result) = run_stopped(&whole, None);
        result.unwrap();
        assert!(steps >= 7, "a checkpoint after each emptied tree and each batch: {steps}");

        for stop in 0..steps {
            let path = dir.path().join(format!("stopped-{stop}"));
            write_v1(&path);
            let (_, result) = run_stopped(&path, Some(stop));
            assert!(result.is_err(), "stopped at checkpoint {stop}");
            // The version is not written yet: a plain open still finds schema 1.
            assert!(
                matches!(retrying(|| Store::open(&path, CACHE)), Err(StoreError::Schema { found: 1, .. })),
                "stopped at checkpoint {stop}"
            );
            let store = migrated(&path);
            assert_eq!(
                differing(&trees(&store), &reference),
                None,
                "stopped at checkpoint {stop}, then run again"
            );
        }
    }

    #[test]
    fn a_migration_stopped_again_and_again_each_time_a_step_later_ends_the_same() {
        let reference = reference();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        write_v1(&path);
        let mut stop = 0;
        while run_stopped(&path, Some(stop)).1.is_err() {
            stop += 1;
        }
        assert!(stop >= 7, "{stop}");
        let store = migrated(&path);
        assert_eq!(differing(&trees(&store), &reference), None);
    }

    /// A KPI row as schema 2 wrote it: `KpiRow` before version 3 (commit ed82016's parent), in
    /// its own words here so that a slip in `KpiRowV2` shows.
    #[derive(serde::Serialize)]
    struct SchemaTwoRow {
        id: u64,
        created_at: Timestamp,
        severity: String,
        classified: bool,
        tier: String,
        organization_id: Option<u64>,
        ticket_type: Option<String>,
        product_area: Option<String>,
        first_response: Outcome,
        resolution: Outcome,
        solved_at: Option<Timestamp>,
        help_requested: bool,
        satisfaction: Satisfaction,
        replies: u32,
        support_waits: Waits,
        customer_waits: Waits,
    }

    /// Schema 2's row of ticket `id` and the version-3 row it becomes (the new fields at their
    /// defaults).
    fn v2_row(id: u64) -> (SchemaTwoRow, KpiRow) {
        let created_at = 1_796_058_000 + 3_600 * id as i64;
        let solved_at = (id % 3 != 0).then_some(created_at + 86_400);
        let old = SchemaTwoRow {
            id,
            created_at,
            severity: if id % 2 == 0 { "sev1" } else { "sev2" }.to_string(),
            classified: id != 4,
            tier: "managed".to_string(),
            organization_id: (id % 4 != 0).then_some(7 + id % 2),
            ticket_type: Some("question".to_string()),
            product_area: (id % 2 == 1).then(|| "api".to_string()),
            first_response: Outcome::Met,
            resolution: match id % 3 {
                0 => Outcome::Running {
                    deadline: Some(created_at + 72 * 3_600),
                },
                1 => Outcome::Met,
                _ => Outcome::Breached,
            },
            solved_at,
            help_requested: id == 5,
            satisfaction: if id == 2 { Satisfaction::Bad } else { Satisfaction::Good },
            replies: id as u32,
            support_waits: Waits {
                seconds: 600 * id as i64,
                count: 1,
            },
            customer_waits: Waits::default(),
        };
        let new = KpiRow {
            id,
            created_at,
            severity: old.severity.as_str().into(),
            classified: old.classified,
            tier: old.tier.as_str().into(),
            contract: None,
            organization_id: old.organization_id,
            ticket_type: old.ticket_type.as_deref().map(Into::into),
            product_area: old.product_area.as_deref().map(Into::into),
            first_response: old.first_response,
            resolution: old.resolution,
            solved_at,
            help_requested: old.help_requested,
            satisfaction: old.satisfaction,
            replies: old.replies,
            support_waits: old.support_waits,
            customer_waits: old.customer_waits,
            docs_linked: false,
            first_response_time: None,
            resolution_time: None,
        };
        (old, new)
    }

    /// Tickets whose schema-2 rows `write_v2` stores (one more, 4, is garbled).
    const V2_IDS: [u64; 6] = [1, 2, 3, 5, 6, 7];

    /// A store of schema 2 at `path`: KPI rows unversioned in `kpi`, one of them garbled, and
    /// the version in `meta`.
    fn write_v2(path: &Path) {
        let db = crate::store::sled_config(path).open().unwrap();
        let kpi = db.open_tree("kpi").unwrap();
        for id in V2_IDS {
            let (old, _) = v2_row(id);
            kpi.insert(crate::store::instant_key(old.created_at, id), postcard::to_stdvec(&old).unwrap())
                .unwrap();
        }
        let garbled_at = v2_row(4).0.created_at;
        kpi.insert(crate::store::instant_key(garbled_at, 4), &b"\xff\xff\xff"[..]).unwrap();
        db.open_tree("meta")
            .unwrap()
            .insert(crate::store::SCHEMA, &2u64.to_be_bytes())
            .unwrap();
        db.flush().unwrap();
    }

    /// The store's schema version as written.
    fn schema_version(store: &Store) -> Option<u64> {
        let bytes = store.meta.get(crate::store::SCHEMA).unwrap()?;
        bytes.as_ref().try_into().ok().map(u64::from_be_bytes)
    }

    /// What a schema-2 store migrated holds: every readable row in its version-3 shape, in
    /// creation order, the old tree gone, schema 4 (which adds only the packed days' tree).
    fn assert_migrated_from_v2(store: &Store, context: &str) {
        let rows: Vec<KpiRow> = store.kpi_rows(Timestamp::MIN, Timestamp::MAX).map(|r| r.unwrap()).collect();
        let expected: Vec<KpiRow> = V2_IDS.iter().map(|&id| v2_row(id).1).collect();
        assert_eq!(rows, expected, "{context}");
        assert!(
            !store.db.tree_names().iter().any(|name| name.as_ref() == b"kpi"),
            "{context}: the old tree is dropped"
        );
        assert_eq!(schema_version(store), Some(4), "{context}");
        assert_eq!(crate::store::SCHEMA_VERSION, 4, "this test migrates to schema 4");
    }

    /// Runs `from_v2` on the store at `path`, stopped at its `stop`-th checkpoint (never when
    /// None); returns how many checkpoints it passed.
    fn run_v2_stopped(path: &Path, stop: Option<usize>) -> (usize, Result<(), StoreError>) {
        let store = retrying(|| Store::open_trees(path, CACHE)).unwrap();
        let mut passed = 0;
        let result = from_v2(&store, TEST_BATCH, &mut || {
            if Some(passed) == stop {
                return Err(StoreError::Open {
                    path: path.to_path_buf(),
                    message: format!("interrupted at checkpoint {passed}"),
                });
            }
            passed += 1;
            Ok(())
        });
        (passed, result)
    }

    #[test]
    fn a_plain_open_migrates_a_schema_2_store_no_comment_reader_needed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store");
        write_v2(&path);
        let store = retrying(|| Store::open(&path, CACHE)).unwrap_or_else(|e| panic!("{e}"));
        assert_migrated_from_v2(&store, "opened");
        drop(store);
        let store = retrying(|| Store::open(&path, CACHE)).unwrap_or_else(|e| panic!("{e}"));
        assert_migrated_from_v2(&store, "opened again");
    }

    #[test]
    fn a_schema_2_migration_stopped_after_any_step_and_run_again_ends_as_one_never_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let reference = {
            let path = dir.path().join("reference");
            write_v2(&path);
            let store = retrying(|| Store::open(&path, CACHE)).unwrap_or_else(|e| panic!("{e}"));
            assert_migrated_from_v2(&store, "migrated in one go");
            trees(&store)
        };
        let whole = dir.path().join("whole");
        write_v2(&whole);
        let (steps, result) = run_v2_stopped(&whole, None);
        result.unwrap();
        // Six readable rows in batches of two: three batches, the rest (none), the old tree dropped.
        assert!(steps >= 5, "a checkpoint after each batch and after the drop: {steps}");

        for stop in 0..steps {
            let path = dir.path().join(format!("stopped-{stop}"));
            write_v2(&path);
            let (_, result) = run_v2_stopped(&path, Some(stop));
            assert!(result.is_err(), "stopped at checkpoint {stop}");
            {
                let store = retrying(|| Store::open_trees(&path, CACHE)).unwrap();
                assert_eq!(schema_version(&store), Some(2), "stopped at checkpoint {stop}: not written yet");
            }
            let store = retrying(|| Store::open(&path, CACHE)).unwrap_or_else(|e| panic!("{e}"));
            let context = format!("stopped at checkpoint {stop}, then opened");
            assert_migrated_from_v2(&store, &context);
            assert_eq!(differing(&trees(&store), &reference), None, "{context}");
        }
    }
}
