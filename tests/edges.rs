//! The edges of the policy and of the store: a severity upgrade already past its new target, a
//! ticket restored from deletion, a single 404, a ticket a bot opened, and a store that keeps a
//! comment's facts, never its text.

mod common;

use common::{t, titles, Harness, ANSWER};
use slawatch::engine::status::open_tickets;
use slawatch::sim::zendesk::NewTicket;
use slawatch::store::Store;

const SUPPORT_ONLY: &str = r#"
[notify]
backfill_window = "24h"
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[[notify.routes]]
channels = ["support"]
"#;

#[tokio::test]
async fn an_upgrade_past_its_new_target_breaches_at_once_even_when_first_seen_days_later() {
    let h = Harness::new(SUPPORT_ONLY).await;
    // A Severity 2 ticket from Monday 09:00, raised to Severity 1 on Friday 10:00: by then 24
    // business hours (sev1's target) were behind it since Wednesday 17:00, two days before.
    let id = h.ticket("sev2");
    h.clock.set(t("2026-12-04T10:00:00-08:00"));
    h.sim.set_tags(id, &["sev1"], h.agent);
    // slawatch first sees it five minutes later.
    h.clock.set(t("2026-12-04T10:05:00-08:00"));
    h.poll().await;
    h.engine.fire_due().await.unwrap();
    let breaches: Vec<String> = titles(&h)
        .into_iter()
        .filter(|t| t == &format!("SLA breached: first response on #{id}"))
        .collect();
    assert_eq!(
        breaches.len(),
        1,
        "told at the upgrade, not dropped as two days old: {:?}",
        titles(&h)
    );
    h.advance(3600);
    h.engine.fire_due().await.unwrap();
    assert_eq!(
        titles(&h).iter().filter(|t| t.starts_with("SLA breached: first response")).count(),
        1
    );
}

#[tokio::test]
async fn a_ticket_restored_from_deletion_resumes_its_clocks() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    h.sim.delete_ticket(id);
    h.poll().await;
    assert!(h.clocks(id).deleted);
    h.sim.restore_ticket(id);
    h.poll().await;
    let clocks = h.clocks(id);
    assert!(!clocks.deleted);
    assert_eq!(
        h.state(id, slawatch::sla::policy::Metric::FirstResponse),
        slawatch::sla::clock::ClockState::Running
    );
    assert!(
        h.engine.store.ticket(id).unwrap().unwrap().next_alert.is_some(),
        "back in the timer"
    );
    // Its breach is told like any other (the two minutes it spent deleted did not count: due
    // Thursday 09:02 rather than Wednesday 17:00).
    h.clock.set(t("2026-12-03T10:00:00-08:00"));
    h.poll().await;
    h.engine.fire_due().await.unwrap();
    assert!(
        titles(&h).contains(&format!("SLA breached: first response on #{id}")),
        "{:?}",
        titles(&h)
    );
}

#[tokio::test]
async fn one_404_on_a_live_read_is_confirmed_before_the_ticket_is_taken_as_deleted() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    // The 50% warning: the requester's role is looked up once.
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert_eq!(titles(&h).len(), 1);
    // The breach comes after the last poll's facts: confirmed live, and the first read says 404.
    h.clock.set(t("2026-12-02T16:55:00-08:00"));
    h.poll().await;
    h.clock.set(t("2026-12-02T17:00:00-08:00"));
    h.sim.fail_next(1, 404);
    h.engine.fire_due().await.unwrap();
    assert!(!h.clocks(id).deleted, "one 404 is not a deletion");
    assert!(
        titles(&h).contains(&format!("SLA breached: first response on #{id}")),
        "{:?}",
        titles(&h)
    );
}

#[tokio::test]
async fn a_ticket_a_bot_opened_for_a_customer_starts_its_first_response_clock_at_creation() {
    let h = Harness::new("").await;
    let id = h.sim.create_ticket(NewTicket {
        subject: "Alert from monitoring: connector down".into(),
        body: "Automated: the connector has been down for 5 minutes.".into(),
        requester_id: h.customer,
        submitter_id: Some(h.bot),
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    h.poll().await;
    let rows = open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    let row = rows.iter().find(|r| r.ticket_id == id).unwrap();
    assert_eq!(
        row.metrics.first_response.state, "running",
        "not waiting for the customer's first word"
    );
    // 24 business hours from Monday 09:00 PST.
    assert_eq!(row.metrics.first_response.deadline.as_deref(), Some("2026-12-03T01:00:00Z"));
    assert_eq!(row.metrics.first_response.deadline_local.as_deref(), Some("Wed 2 Dec 17:00 PST"));
}

#[tokio::test]
async fn the_store_keeps_a_comments_facts_never_its_text() {
    let mut h = Harness::new("").await;
    let id = h.ticket("sev1");
    h.sim
        .add_comment(id, h.customer, "My password is hunter2 and the server is db7.acme.internal", true);
    h.sim.add_comment(id, h.agent, ANSWER, true);
    h.poll().await;
    assert_eq!(
        h.state(id, slawatch::sla::policy::Metric::FirstResponse),
        slawatch::sla::clock::ClockState::Met
    );
    let mut found = Vec::new();
    h.restart_with(|db| {
        for name in db.tree_names() {
            for entry in db.open_tree(&name).unwrap().iter() {
                let (key, value) = entry.unwrap();
                for needle in ["hunter2", "crashes on start", "4.2.1"] {
                    if value.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                        found.push(format!("{} {key:?}: {needle}", String::from_utf8_lossy(&name)));
                    }
                }
            }
        }
    })
    .await;
    assert!(found.is_empty(), "customer text at rest: {found:?}");
    // Still met after the restart: the facts suffice.
    assert_eq!(
        h.state(id, slawatch::sla::policy::Metric::FirstResponse),
        slawatch::sla::clock::ClockState::Met
    );
}

#[test]
fn a_store_of_schema_1_is_migrated_its_bodies_read_into_facts_and_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    {
        let db = sled::open(&path).unwrap();
        let ticket = serde_json::json!({
            "id": 5, "subject": "Crash", "status": "open", "created_at": 1_796_058_000, "updated_at": 1_796_058_600,
            "requester_id": 3, "submitter_id": 3, "assignee_id": null, "group_id": null, "organization_id": null,
            "severity": "sev1", "exported": true, "next_alert": 1_796_100_000,
            "events": [
                {"audit_id": 11, "event": {"kind": "comment", "at": 1_796_058_000, "author_id": 3, "role": "end_user", "public": true, "body": "It crashes, my password is hunter2"}},
                {"audit_id": 12, "event": {"kind": "comment", "at": 1_796_058_600, "author_id": 4, "role": "agent", "public": true, "body": "We are looking into this."}}
            ]
        });
        db.open_tree("tickets")
            .unwrap()
            .insert(5u64.to_be_bytes(), serde_json::to_vec(&ticket).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    // Opened as it is, it is refused and named; migrated, its comments keep their facts.
    // (sled lets go of the file's lock a moment after the handle above is dropped.)
    assert!(matches!(
        common::open_unlocked(|| Store::open(&path, 1 << 20)),
        Err(slawatch::store::StoreError::Schema { found: 1, .. })
    ));
    let config = slawatch::config::Config::parse("test.toml", "").unwrap();
    let rules = &config.policy.first_response;
    let store = common::open_unlocked(|| Store::open_migrating(&path, 1 << 20, &|body: &str| rules.read(body))).unwrap();
    let record = store.ticket(5).unwrap().unwrap();
    let facts: Vec<(u32, bool)> = record
        .events
        .iter()
        .filter_map(|e| match e.event {
            slawatch::sla::clock::Event::Comment {
                length, acknowledgement, ..
            } => Some((length, acknowledgement)),
            _ => None,
        })
        .collect();
    assert_eq!(facts, vec![(34, false), (25, true)]);
    let raw = serde_json::to_string(&record).unwrap();
    assert!(!raw.contains("hunter2"), "{raw}");
}
