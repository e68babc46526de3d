//! Facts that arrive in two halves, late, or not at all: nothing is decided on half a ticket;
//! the directory (agents, organizations) is listed whole and its changes reach the clocks; an
//! author whose role is unknown is asked about before an alert; unreadable records are
//! counted and skipped without wedging anything; an odd field never drops a ticket.

mod common;

use common::{t, titles, Harness, ANSWER, SUPPORT_ONLY};
use serde_json::{json, Map};
use slawatch::engine::status::open_tickets;
use slawatch::store::Cursors;
use slawatch::zendesk::client::ExportStart;

fn status_of(h: &Harness, id: u64) -> slawatch::engine::status::TicketStatus {
    let rows = open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    rows.into_iter().find(|r| r.ticket_id == id).unwrap()
}

#[tokio::test]
async fn nothing_is_decided_for_a_ticket_until_the_events_export_has_passed_it() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.advance(61);
    h.engine.refresh_directory(true).await.unwrap();
    // The ticket export's half only: the snapshot, committed with its cursor.
    let (page, tickets) = h
        .engine
        .client
        .ticket_page(&ExportStart::StartTime(t(common::T0) - 10), 1000)
        .await
        .unwrap();
    let cursors = Cursors {
        tickets: page.after_cursor,
        ..Cursors::default()
    };
    h.engine.apply_ticket_page(&tickets, &cursors).unwrap();
    // Wednesday 15:00: on the snapshot alone the 90% warning would be due.
    h.clock.set(t("2026-12-02T15:00:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert!(h.engine.store.alerts_of(id).unwrap().is_empty(), "decided on half the facts");
    assert_eq!(h.engine.store.awaiting_count(), 1);
    assert!(!status_of(&h, id).facts_complete, "status says the facts are not complete yet");

    // The events export passes the ticket: now it is decided, and only then.
    h.engine.poll().await.unwrap();
    h.engine.fire_due().await.unwrap();
    assert_eq!(h.engine.store.awaiting_count(), 0);
    assert!(status_of(&h, id).facts_complete);
    assert_eq!(
        titles(&h),
        vec![format!("SLA warning: first response on #{id}, 2 business hours left")]
    );
}

#[tokio::test]
async fn directories_larger_than_a_page_are_listed_whole_by_cursor() {
    let h = Harness::new("").await;
    for i in 0..250 {
        h.sim.add_organization(&format!("Org {i}"), &[], Map::new());
    }
    for i in 0..120 {
        h.sim
            .add_user(&format!("Agent {i}"), &format!("agent{i}@support.example"), "agent", None);
    }
    h.engine.refresh_directory(true).await.unwrap();
    let directory = h.engine.directory();
    assert_eq!(directory.organizations.len(), 251);
    // 120 listed agents, the two of the harness, and the sim's API user (an admin).
    assert_eq!(directory.roles.values().filter(|r| r.is_agent()).count(), 123);
    assert_eq!(h.sim.request_count("/api/v2/organizations.json"), 3, "three cursor pages of 100");
    assert_eq!(h.engine.store.organizations().unwrap().len(), 251, "saved as listed");
}

#[tokio::test]
async fn an_organization_changing_tier_moves_its_tickets_clocks_at_once() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    let before = h.engine.store.ticket(id).unwrap().unwrap().next_alert;
    // Business hours: the 50% point is Tuesday 13:00 PST.
    assert_eq!(before, Some(t("2026-12-01T13:00:00-08:00")));
    assert_eq!(status_of(&h, id).tier, "self-hosted");

    // Acme moves to the managed (24x7) tier; the next directory listing sees it.
    h.sim.set_organization_field(h.org, "deployment", json!("managed"));
    h.engine.refresh_directory(true).await.unwrap();
    let after = h.engine.store.ticket(id).unwrap().unwrap().next_alert;
    assert_eq!(after, Some(t("2026-11-30T21:00:00-08:00")), "12 calendar hours after 09:00");
    assert_eq!(h.engine.store.next_due().unwrap(), after, "the timer's index moved too");
    assert_eq!(status_of(&h, id).tier, "managed");
}

#[tokio::test]
async fn a_reply_by_an_agent_added_since_the_listing_is_never_taken_for_a_customers() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    // An agent joins after the directory was listed and answers at once.
    let newcomer = h.sim.add_user("Nova Newcomer", "nova@support.example", "agent", None);
    h.sim.add_comment(id, newcomer, ANSWER, true);
    h.poll().await;
    assert!(h.engine.directory().known_role(newcomer).is_none(), "not listed yet");
    // Long past the breach instant the stored facts imply: before any alert, Zendesk is asked
    // who the author is, and the first response was met.
    h.clock.set(t("2026-12-02T17:30:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert!(titles(&h).iter().all(|t| !t.contains("first response")), "{:?}", titles(&h));
    assert!(h.engine.directory().is_agent(newcomer));
    assert!(h
        .engine
        .store
        .users()
        .unwrap()
        .iter()
        .any(|u| u.id == newcomer && u.role == "agent"));
    assert_eq!(status_of(&h, id).metrics.first_response.state, "met");
}

#[tokio::test]
async fn a_newly_listed_agent_re_evaluates_the_tickets_they_answered() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.poll().await;
    let newcomer = h.sim.add_user("Nova Newcomer", "nova@support.example", "agent", None);
    h.sim.add_comment(id, newcomer, ANSWER, true);
    h.poll().await;
    // Stored as a customer's reply for now: the ticket still waits for its first response.
    assert!(h.engine.store.ticket(id).unwrap().unwrap().next_alert.is_some());
    // The next listing names the agent: the ticket's clocks and due instant follow at once.
    h.engine.refresh_directory(true).await.unwrap();
    let record = h.engine.store.ticket(id).unwrap().unwrap();
    let clocks = h.engine.clocks(&record, &h.engine.directory(), h.clock.now()).unwrap();
    assert_eq!(
        clocks.contract(slawatch::sla::policy::Metric::FirstResponse).unwrap().state,
        slawatch::sla::clock::ClockState::Met
    );
    assert_eq!(
        record.next_alert,
        clocks.next_alert(),
        "the due instant is the resolution clock's now, not the first response's"
    );
}

#[tokio::test]
async fn unreadable_records_are_counted_and_skipped_without_wedging_or_resending() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let sent = h.ticket("sev1");
    let broken = h.ticket("sev1");
    let third = h.ticket("sev1");
    h.poll().await;
    h.clock.set(t("2026-12-01T13:00:00-08:00"));
    h.engine.fire_due().await.unwrap();
    assert_eq!(h.slack.messages().len(), 3, "each ticket's 50% warning");
    let fifty = h.engine.store.alerts_of(sent).unwrap()[0].key.clone();

    // While the daemon is down, a disk error garbles one ticket and one alert record.
    h.restart_with(|db| {
        db.open_tree("tickets")
            .unwrap()
            .insert(broken.to_be_bytes(), &b"\x00garbled"[..])
            .unwrap();
        db.open_tree("alerts").unwrap().insert(fifty.as_bytes(), &b"{not json"[..]).unwrap();
    })
    .await;
    // Everything is evaluated again (as after a policy change) and the timer runs.
    h.engine.evaluate_all().unwrap();
    h.clock.set(t("2026-12-02T11:00:00-08:00"));
    let report = h.engine.fire_due().await.unwrap();
    let texts = titles(&h);
    // The 75% points of the readable tickets go out; the garbled 50% record is not taken as
    // "never decided" (it is not sent again); the garbled ticket is skipped.
    assert_eq!(texts.len(), 5, "{texts:?}");
    assert_eq!(texts.iter().filter(|t| t.contains(&format!("#{sent},"))).count(), 2, "{texts:?}");
    assert_eq!(texts.iter().filter(|t| t.contains(&format!("#{third},"))).count(), 2, "{texts:?}");
    assert!(h.engine.store.stats.unreadable.load(std::sync::atomic::Ordering::Relaxed) >= 2);
    // Nothing is left due now: the timer sleeps rather than spin on the unreadable ticket.
    let next = h.engine.next_wake_ms().unwrap();
    assert!(next.is_none_or(|ms| ms > h.clock.now_ms()), "{next:?} {report:?}");
    // The next export of the ticket brings it back, whole.
    h.sim.add_comment(broken, h.customer, "Any news?", true);
    h.poll().await;
    assert!(h.engine.store.ticket(broken).unwrap().is_some());
}

#[tokio::test]
async fn a_ticket_with_odd_field_values_is_tracked_not_dropped() {
    let h = Harness::new("").await;
    let id = h.ticket("sev1");
    h.sim.set_extra_ticket_fields(Map::from_iter([
        (
            "custom_fields".to_string(),
            json!([
                {"id": 1, "value": ["multi", "select"]},
                {"id": 2, "value": true},
                {"id": 3, "value": 12.5},
                {"id": 4, "value": "2026-12-24"},
                {"id": 5, "value": null},
                {"id": "360000000006", "value": "string id"}
            ]),
        ),
        ("via".to_string(), json!({"channel": "carrier_pigeon"})),
        ("satisfaction_rating".to_string(), json!("unexpected")),
        ("group_id".to_string(), json!({"not": "an id"})),
    ]));
    let report = h.poll().await;
    assert_eq!(report.skipped, 0);
    let row = status_of(&h, id);
    assert_eq!(row.metrics.first_response.state, "running");
    assert_eq!(
        h.engine.store.ticket(id).unwrap().unwrap().via_channel.as_deref(),
        Some("carrier_pigeon")
    );
    assert!(h.engine.client.stats.unknown_values.load(std::sync::atomic::Ordering::Relaxed) >= 2);
}
