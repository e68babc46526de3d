//! Ingestion end to end: the engine polls the simulated Zendesk over real
//! HTTP into a real sled store, in virtual time.

mod common;

use common::{client, reopen, Harness, ANSWER};
use serde_json::{json, Map, Value};
use slawatch::engine::status::open_tickets;
use slawatch::engine::Engine;
use slawatch::sim::zendesk::NewTicket;
use slawatch::sla::clock::ClockState;
use slawatch::sla::policy::Metric;
use slawatch::sla::time::format_rfc3339;
use slawatch::store::Store;

#[tokio::test]
async fn a_ticket_is_tracked_responded_to_and_solved() {
    let h = Harness::new("").await;
    let id = h.ticket("sev1");
    let report = h.poll().await;
    assert!(report.complete);
    let clocks = h.clocks(id);
    assert_eq!(
        (clocks.tier.as_str(), clocks.severity.as_str(), clocks.classified),
        ("self-hosted", "sev1", true)
    );
    let fr = clocks.contract(Metric::FirstResponse).unwrap();
    assert_eq!(fr.state, ClockState::Running);
    // 24 business hours from Monday 09:00 PST.
    assert_eq!(fr.deadline.map(format_rfc3339).as_deref(), Some("2026-12-03T01:00:00Z"));

    h.advance(3600);
    h.sim.add_comment(id, h.agent, ANSWER, true);
    h.poll().await;
    let fr = h.clocks(id);
    let fr = fr.contract(Metric::FirstResponse).unwrap();
    assert_eq!(fr.state, ClockState::Met);
    assert_eq!(fr.completed_at.map(format_rfc3339).as_deref(), Some("2026-11-30T18:01:01Z"));

    h.advance(3600);
    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    assert_eq!(h.state(id, Metric::Resolution), ClockState::Met);
    assert!(
        open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now())
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn acknowledgements_and_bot_comments_do_not_meet_first_response() {
    let h = Harness::new("").await;
    let id = h.ticket("sev1");
    h.sim.add_comment(id, h.agent, "Hi Casey, we're on it!", true);
    h.sim.add_comment(
        id,
        h.bot,
        "Thank you for your message. Our team reviews every ticket in order of severity.",
        true,
    );
    h.sim.add_comment(id, h.agent, ANSWER, false);
    h.poll().await;
    let clocks = h.clocks(id);
    let fr = clocks.contract(Metric::FirstResponse).unwrap();
    assert_eq!(fr.state, ClockState::Running);
    assert!(fr.acknowledged_at.is_some(), "the acknowledgement is remembered");
    let rows = open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now()).unwrap();
    assert_eq!(rows[0].metrics.first_response.state, "running");
    assert!(rows[0].metrics.first_response.acknowledged_at.is_some());
}

#[tokio::test]
async fn pending_pauses_resolution_and_a_reopen_resumes_it() {
    let h = Harness::new("").await;
    let id = h.ticket("sev1");
    h.poll().await;
    h.sim.set_status(id, "pending", h.agent);
    h.poll().await;
    let res = h.clocks(id);
    let res = res.contract(Metric::Resolution).unwrap();
    assert_eq!((res.state, res.deadline), (ClockState::Paused, None));
    let paused_elapsed = res.elapsed;
    h.advance(4 * 3600);
    h.poll().await;
    assert_eq!(
        h.clocks(id).contract(Metric::Resolution).unwrap().elapsed,
        paused_elapsed,
        "no time counts while pending"
    );

    h.sim.set_status(id, "solved", h.agent);
    h.poll().await;
    assert_eq!(h.state(id, Metric::Resolution), ClockState::Met);
    h.sim.set_status(id, "open", h.customer);
    h.poll().await;
    let res = h.clocks(id);
    let res = res.contract(Metric::Resolution).unwrap();
    assert_eq!(res.state, ClockState::Running);
    assert!(res.elapsed >= paused_elapsed, "the reopened clock keeps the time already spent");
}

#[tokio::test]
async fn a_severity_upgrade_rederives_the_deadline() {
    let h = Harness::new("").await;
    let id = h.ticket("sev2");
    h.poll().await;
    // 40 business hours: the week's five days, ending at Friday's closing instant (17:00 PST).
    assert_eq!(
        h.clocks(id)
            .contract(Metric::FirstResponse)
            .unwrap()
            .deadline
            .map(format_rfc3339)
            .as_deref(),
        Some("2026-12-05T01:00:00Z")
    );
    h.sim.set_tags(id, &["sev1"], h.agent);
    h.poll().await;
    let clocks = h.clocks(id);
    assert_eq!(clocks.severity, "sev1");
    assert_eq!(
        clocks
            .contract(Metric::FirstResponse)
            .unwrap()
            .deadline
            .map(format_rfc3339)
            .as_deref(),
        Some("2026-12-03T01:00:00Z")
    );
    assert_eq!(clocks.contract(Metric::Resolution).unwrap().state, ClockState::Running);
}

#[tokio::test]
async fn a_deleted_ticket_stops_its_clocks_and_leaves_status() {
    let h = Harness::new("").await;
    let id = h.ticket("sev1");
    h.poll().await;
    h.sim.delete_ticket(id);
    h.poll().await;
    let clocks = h.clocks(id);
    assert!(clocks.deleted);
    assert!(clocks.clocks.iter().all(|c| c.next_alert.is_none()));
    assert_eq!(h.engine.store.ticket(id).unwrap().unwrap().next_alert, None);
    assert!(
        open_tickets(&h.engine.config, &h.engine.store, &h.engine.directory(), h.clock.now())
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn tier_comes_from_the_organization_and_a_contract_overrides_it() {
    let extra = r#"
[customers]
tier_field = "deployment"
tier_values = { managed = "managed", self_hosted = "self-hosted" }
contract_field = "contract"

[contracts.acme-elite]
tier = "self-hosted"
schedule = "24x7"
targets.sev1 = { first_response = "4h" }
"#;
    let h = Harness::new(extra).await;
    let managed = h
        .sim
        .add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    let globex_user = h.sim.add_user("Gil", "gil@globex.example", "end-user", Some(managed));
    let globex_ticket = h.sim.create_ticket(NewTicket {
        subject: "Down".into(),
        body: "Our instance is down.".into(),
        requester_id: globex_user,
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    let acme_ticket = h.ticket("sev1");
    h.poll().await;
    assert_eq!(h.clocks(globex_ticket).tier, "managed");
    assert_eq!(h.clocks(acme_ticket).tier, "self-hosted");
    assert_eq!(h.clocks(acme_ticket).contract, None);

    // The organization signs a custom contract: the next directory refresh picks it up.
    h.sim.set_organization_field(h.org, "contract", json!("acme-elite"));
    h.engine.refresh_directory(true).await.unwrap();
    let clocks = h.clocks(acme_ticket);
    assert_eq!(clocks.contract.as_deref(), Some("acme-elite"));
    let fr = clocks.contract(Metric::FirstResponse).unwrap();
    assert_eq!(fr.target.map(|t| t.0), Some(4 * 3600));
    assert_eq!(fr.deadline.map(format_rfc3339).as_deref(), Some("2026-11-30T21:00:00Z"));
}

#[tokio::test]
async fn unknown_fields_and_statuses_are_ingested() {
    let h = Harness::new("").await;
    h.sim
        .set_extra_ticket_fields(Map::from_iter([("brand_new_field".to_string(), json!({"nested": [1, 2]}))]));
    let id = h.ticket("sev1");
    h.sim.set_status(id, "awaiting_vendor", h.agent);
    let report = h.poll().await;
    assert_eq!(report.skipped, 0);
    let record = h.engine.store.ticket(id).unwrap().unwrap();
    assert_eq!(record.status, "awaiting_vendor");
    assert_eq!(
        h.state(id, Metric::Resolution),
        ClockState::Running,
        "an unknown status keeps the clock running"
    );
}

#[tokio::test]
async fn one_garbled_string_never_breaks_a_page() {
    // A lone surrogate escape in one ticket's subject: no strict JSON reader takes the page. The
    // page is read with that text replaced, every ticket on it kept, and the poll completes.
    let h = Harness::new("").await;
    let ids: Vec<u64> = (0..3).map(|_| h.ticket("sev1")).collect();
    h.sim.set_garble(Some("Connector crashes"));
    let report = h.poll().await;
    assert!(report.complete);
    for id in &ids {
        let record = h.engine.store.ticket(*id).unwrap().expect("kept");
        assert!(record.subject.contains('\u{FFFD}'), "{:?}", record.subject);
    }
}

#[tokio::test]
async fn server_errors_and_unreadable_pages_are_retried_and_lose_nothing() {
    let h = Harness::new("").await;
    let ids: Vec<u64> = (0..5).map(|_| h.ticket("sev1")).collect();
    h.sim.fail_next(3, 503);
    let report = h.poll().await;
    assert!(report.complete);
    for id in &ids {
        assert!(h.engine.store.ticket(*id).unwrap().is_some(), "ticket {id} lost");
    }
    h.sim.add_comment(ids[0], h.agent, ANSWER, true);
    h.sim.malformed_next(2);
    h.poll().await;
    assert_eq!(h.state(ids[0], Metric::FirstResponse), ClockState::Met);
    assert!(h.engine.client.stats.errors.load(std::sync::atomic::Ordering::Relaxed) >= 5);

    // More failures than attempts: the poll fails, reports it, and keeps its cursor.
    let cursors = h.engine.store.cursors().unwrap();
    h.sim.fail_next(50, 500);
    h.advance(61);
    assert!(h.engine.poll().await.is_err());
    assert_eq!(h.engine.store.cursors().unwrap(), cursors);
    h.sim.fail_next(0, 500);
}

#[tokio::test]
async fn a_rate_limit_storm_is_waited_out_and_loses_nothing() {
    let h = Harness::new("").await;
    let ids: Vec<u64> = (0..40).map(|_| h.ticket("sev1")).collect();
    h.poll().await;
    for id in &ids {
        h.sim.add_comment(*id, h.agent, ANSWER, true);
    }
    // Three requests a minute: the directory refresh and both exports all hit 429 and wait.
    h.sim.set_rate_limit(Some(3));
    h.advance(600);
    let report = h.poll().await;
    assert!(report.complete);
    assert!(
        h.engine.client.stats.rate_limited.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the limit was hit"
    );
    for id in &ids {
        assert_eq!(h.state(*id, Metric::FirstResponse), ClockState::Met, "ticket {id}");
    }
}

#[tokio::test]
async fn a_poll_costs_pages_not_tickets() {
    let h = Harness::new("").await;
    for _ in 0..2500 {
        h.ticket("sev2");
    }
    h.poll().await;
    h.sim.reset_counters();
    // 1200 tickets change: 2 ticket pages, and their 1200 events fit in 2 event pages.
    let changed: Vec<u64> = h.engine.store.tickets().map(|r| r.unwrap().id).take(1200).collect();
    for id in &changed {
        h.sim.set_status(*id, "open", h.agent);
    }
    h.poll().await;
    let ticket_requests = h.sim.request_count("/api/v2/incremental/tickets/cursor.json");
    let event_requests = h.sim.request_count("/api/v2/incremental/ticket_events.json");
    assert!(
        ticket_requests <= 2,
        "{ticket_requests} ticket export requests for 1200 changed tickets"
    );
    assert!(event_requests <= 2, "{event_requests} event export requests for 1200 events");
    assert!(
        h.sim.total_requests() <= ticket_requests + event_requests + 4,
        "{} requests in all",
        h.sim.total_requests()
    );
}

#[tokio::test]
async fn a_poll_dropped_midway_then_resumed_matches_an_uninterrupted_one() {
    /// 30 tickets with comments, polled in pages of 10; `interrupt` drops the first poll while
    /// its second ticket page is in flight (a crash, as far as the store can tell), then a new
    /// engine on the same store polls again.
    async fn run(interrupt: bool) -> Vec<Value> {
        let h = Harness::with_page_size("", 10).await;
        for i in 0..30 {
            let id = h.ticket(if i % 2 == 0 { "sev1" } else { "sev2" });
            h.sim.add_comment(id, h.agent, ANSWER, i % 3 == 0);
        }
        h.advance(61);
        let Harness {
            sim, clock, engine, dir, ..
        } = h;
        let engine = if interrupt {
            let tickets_path = "/api/v2/incremental/tickets/cursor.json";
            let second_page_asked = async {
                while sim.request_count(tickets_path) < 2 {
                    tokio::task::yield_now().await;
                }
            };
            tokio::select! {
                _ = engine.poll() => panic!("the poll should have been dropped mid-way"),
                _ = second_page_asked => {}
            }
            let committed = engine.store.ticket_count();
            assert!(committed > 0 && committed < 30, "{committed} tickets committed before the drop");
            let config = engine.config.clone();
            drop(engine);
            let store = reopen(&config.store.path).await;
            Engine::new(config, client(&sim, &clock), store, clock.clone()).unwrap()
        } else {
            engine
        };
        let report = engine.poll().await.unwrap();
        assert!(report.complete);
        let _ = &dir;
        engine.store.tickets().map(|r| serde_json::to_value(r.unwrap()).unwrap()).collect()
    }
    let uninterrupted = run(false).await;
    assert_eq!(uninterrupted.len(), 30);
    assert_eq!(run(true).await, uninterrupted);
}

#[test]
fn a_store_in_use_or_of_another_schema_is_named_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let first = Store::open(&path, 1 << 20).unwrap();
    let error = Store::open(&path, 1 << 20).err().expect("a second open must fail");
    assert_eq!(
        error.to_string(),
        format!("store {}: in use by another process (is slawatch already running?)", path.display())
    );
    drop(first);

    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, "x").unwrap();
    let error = Store::open(&file, 1 << 20).err().expect("a file is not a store");
    assert!(
        error.to_string().starts_with(&format!("store {}: cannot open:", file.display())),
        "{error}"
    );
}
