//! The status board (`/status` from rows kept current at each write) never shows what the store
//! does not say: after a change through each path that writes tickets (the exports' pages, an
//! alert decision, a pushed read, a directory change and the re-evaluation it brings, an
//! escalation, retention), and at instants around every deadline, its rows are exactly those of
//! a fresh `open_tickets` evaluation. And `/status` answers `If-None-Match` and `?since=`.

mod common;

use std::sync::Arc;

use common::{Harness, SUPPORT_ONLY};
use serde_json::{json, Map, Value};
use slawatch::engine::alerts::AlertReport;
use slawatch::engine::status::{open_tickets, TicketStatus};
use slawatch::engine::Engine;
use slawatch::sim::zendesk::NewTicket;
use slawatch::sla::clock::{Event, Role};
use slawatch::store::{StoredEvent, TicketRecord};

/// The board's rows are a fresh evaluation's, at the engine's now.
#[track_caller]
fn same_as_fresh(engine: &Engine, what: &str) -> Vec<TicketStatus> {
    let fast = engine.status_rows().unwrap().rows;
    let fresh = open_tickets(&engine.config, &engine.store, &engine.directory(), engine.clock.now()).unwrap();
    if fast != fresh {
        let ids = |rows: &[TicketStatus]| rows.iter().map(|r| r.ticket_id).collect::<Vec<_>>();
        for (a, b) in fast.iter().zip(&fresh) {
            if a != b {
                panic!("{what}: the board differs from a fresh evaluation:\nboard: {a:#?}\nfresh: {b:#?}");
            }
        }
        panic!("{what}: the board lists {:?}, a fresh evaluation {:?}", ids(&fast), ids(&fresh));
    }
    // The JSON `/status` answers, written from each row's cut JSON, says the same.
    let (_, json) = engine.status_json(0, usize::MAX).unwrap();
    let written: Vec<TicketStatus> = serde_json::from_slice(&json).unwrap();
    assert!(written == fresh, "{what}: the board's JSON differs from a fresh evaluation");
    assert_eq!(json, serde_json::to_vec(&fresh).unwrap(), "{what}: not byte for byte");
    fresh
}

/// Every deadline shown, a second before, at and after it.
fn around_deadlines(rows: &[TicketStatus]) -> Vec<i64> {
    let mut instants: Vec<i64> = rows
        .iter()
        .flat_map(|r| {
            [&r.metrics.first_response, &r.metrics.resolution]
                .into_iter()
                .chain(r.goals.iter().map(|g| &g.clock))
                .filter_map(|m| m.deadline.as_deref())
                .map(|d| slawatch::sla::time::parse_rfc3339(d).unwrap())
                .collect::<Vec<_>>()
        })
        .flat_map(|d| [d - 1, d, d + 1])
        .collect();
    instants.sort_unstable();
    instants.dedup();
    instants
}

fn ticket(h: &Harness, requester: u64, tags: &[&str]) -> u64 {
    h.sim.create_ticket(NewTicket {
        subject: "Connector crashes".into(),
        body: "The connector crashes on start since this morning.".into(),
        requester_id: requester,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..NewTicket::default()
    })
}

const SUBSTANTIVE: &str = "Thanks for the details: the crash comes from the new TLS defaults; set tls.legacy = true and restart.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_every_write_path_the_board_is_a_fresh_evaluation() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let managed = h
        .sim
        .add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    let managed_customer = h.sim.add_user("Gale Customer", "gale@globex.example", "end-user", Some(managed));
    let business_sev1 = ticket(&h, h.customer, &["sev1"]);
    let business_sev2 = ticket(&h, h.customer, &["sev2"]);
    let calendar_sev1 = ticket(&h, managed_customer, &["sev1"]);
    let calendar_sev2 = ticket(&h, managed_customer, &["sev2"]);
    let unclassified = ticket(&h, managed_customer, &[]);
    h.poll().await;
    // Built at the first read.
    let rows = same_as_fresh(&h.engine, "after the first poll");
    assert_eq!(rows.len(), 5);
    let version = h.engine.status_version().unwrap();

    // The exports' pages: a reply meets a first response, a pending ticket pauses, a solved
    // one goes.
    h.sim.add_comment(business_sev1, h.agent, SUBSTANTIVE, true);
    h.sim.set_status(calendar_sev2, "pending", h.agent);
    h.sim.set_status(unclassified, "solved", h.agent);
    h.poll().await;
    let rows = same_as_fresh(&h.engine, "after a poll with a reply, a pending and a solved ticket");
    assert_eq!(rows.len(), 4);
    let delta = h.engine.status_since(&version).unwrap();
    assert!(!delta.full);
    assert_eq!(delta.removed, [unclassified]);
    let mut changed: Vec<u64> = delta.changed.iter().map(|r| r.ticket_id).collect();
    changed.sort_unstable();
    assert_eq!(changed, [business_sev1, calendar_sev2]);
    let version = delta.version;
    assert!(h.engine.status_since(&version).unwrap().changed.is_empty());

    // Time alone: through every deadline (a breach changes the row), with the alert decider's
    // saves along the way.
    for at in around_deadlines(&rows) {
        if at <= h.clock.now() {
            continue;
        }
        h.clock.set(at);
        same_as_fresh(&h.engine, &format!("at {at}"));
        h.engine.decide_due(&mut AlertReport::default()).await.unwrap();
        same_as_fresh(&h.engine, &format!("at {at}, after the alert decisions"));
    }
    let delta = h.engine.status_since(&version).unwrap();
    assert!(
        delta
            .changed
            .iter()
            .any(|r| r.ticket_id == calendar_sev1 && r.metrics.first_response.state == "breached"),
        "a breach by time alone is a change: {:?}",
        delta.changed.iter().map(|r| r.ticket_id).collect::<Vec<_>>()
    );

    // A pushed read (the whole ticket, at once).
    h.sim.set_status(business_sev2, "hold", h.agent);
    h.sim.add_comment(business_sev2, h.customer, "Any news? We are still down.", true);
    assert!(h.engine.read_pushed(business_sev2).await.unwrap());
    same_as_fresh(&h.engine, "after a pushed read");

    // A directory change: the customer moves to the managed tier. The board follows the
    // directory before the tickets are evaluated again, and after.
    h.sim.set_organization_field(h.org, "deployment", json!("managed"));
    h.engine.refresh_directory(true).await.unwrap();
    same_as_fresh(&h.engine, "after a directory refresh");
    h.poll().await;
    same_as_fresh(&h.engine, "after the poll that follows it");

    // Retention: a closed ticket compacted away.
    h.sim.set_status(calendar_sev2, "solved", h.agent);
    h.poll().await;
    h.sim.set_status(calendar_sev2, "closed", h.agent);
    h.poll().await;
    h.advance(500 * 86_400);
    h.poll().await;
    h.engine.decide_due(&mut AlertReport::default()).await.unwrap();
    let before = h.engine.store.ticket_count();
    h.engine.compact_closed().unwrap();
    assert!(h.engine.store.ticket_count() < before, "retention removed nothing");
    same_as_fresh(&h.engine, "after retention");

    // A restart builds the board afresh; a cursor of the last run gives every row.
    h.restart().await;
    let delta = h.engine.status_since(&version).unwrap();
    assert!(delta.full);
    assert_eq!(delta.changed, same_as_fresh(&h.engine, "after a restart"));
}

const ESCALATION: &str = r#"
[notify.channels.eng]
kind = "slack"
url_env = "UNUSED"

[escalation]
token_env = "UNUSED_GH"
channel = "eng"

[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "acme/support-escalations"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_issue_filed_shows_on_its_row() {
    let mut h = Harness::new(ESCALATION).await;
    h.attach_github("acme/support-escalations").await;
    let id = ticket(&h, h.customer, &["sev1", "rfh"]);
    h.poll().await;
    let rows = same_as_fresh(&h.engine, "before filing");
    assert_eq!(rows[0].engineering_issue, None);
    let version = h.engine.status_version().unwrap();
    h.engine.file_escalations().await.unwrap();
    let rows = same_as_fresh(&h.engine, "after filing");
    assert!(rows[0].engineering_issue.is_some(), "{:?}", rows[0]);
    let delta = h.engine.status_since(&version).unwrap();
    assert_eq!(delta.changed.iter().map(|r| r.ticket_id).collect::<Vec<_>>(), [id]);
}

/// A small deterministic generator (SplitMix64).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Tickets of every shape saved straight to the store (the re-evaluation's write path): both
/// tiers, pauses, holds, reopens, late and early replies, acknowledgements, severity changes,
/// agent-opened tickets, events still ahead of now; then read at a thousand instants (every
/// deadline's second before, at and after among them), nights and weekends included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_any_instant_the_derived_figures_are_those_of_a_fresh_evaluation() {
    let h = Harness::new(SUPPORT_ONLY).await;
    let managed = h
        .sim
        .add_organization("Globex", &[], Map::from_iter([("deployment".to_string(), json!("managed"))]));
    h.engine.refresh_directory(true).await.unwrap();
    let t0 = h.clock.now();
    let mut mix = Mix(20_261_204);
    let mut records = Vec::new();
    for id in 1..=120u64 {
        let created = t0 - mix.below(10 * 86_400) as i64;
        let mut events = Vec::new();
        let mut at = created;
        let customer = 900_000 + id;
        let opened_by_agent = mix.below(6) == 0;
        events.push(StoredEvent {
            audit_id: id * 100,
            event: Event::Status { at, status: "new".into() },
        });
        let mut status = "open".to_string();
        for n in 1..mix.below(7) {
            at += mix.below(3 * 86_400) as i64;
            let event = match mix.below(6) {
                0 => Event::Comment {
                    at,
                    author_id: h.agent,
                    role: Role::Agent,
                    public: true,
                    length: 200,
                    acknowledgement: mix.below(2) == 0,
                    docs_link: false,
                },
                1 => Event::Comment {
                    at,
                    author_id: customer,
                    role: Role::EndUser,
                    public: true,
                    length: 40,
                    acknowledgement: false,
                    docs_link: false,
                },
                2 => Event::Severity {
                    at,
                    severity: Some(if mix.below(2) == 0 { "sev1" } else { "sev2" }.into()),
                },
                _ => {
                    status = ["open", "pending", "hold", "open"][mix.below(4) as usize].to_string();
                    Event::Status {
                        at,
                        status: status.clone(),
                    }
                }
            };
            events.push(StoredEvent {
                audit_id: id * 100 + n,
                event,
            });
        }
        events.sort_by_key(|e| e.event.at());
        records.push(TicketRecord {
            id,
            subject: format!("Ticket {id}"),
            status,
            created_at: Some(created),
            updated_at: Some(at),
            requester_id: Some(customer),
            submitter_id: Some(if opened_by_agent { h.agent } else { customer }),
            organization_id: Some(if mix.below(2) == 0 { h.org } else { managed }),
            severity: Some(if id % 3 == 0 { "sev1" } else { "sev2" }.into()),
            exported: true,
            events,
            ..TicketRecord::default()
        });
    }
    h.engine.store.save_tickets(&records).unwrap();
    let rows = same_as_fresh(&h.engine, "at the start");
    assert!(rows.len() > 100, "{} open", rows.len());
    let mut instants = around_deadlines(&rows);
    let last = instants.last().copied().unwrap_or(t0);
    for _ in 0..300 {
        instants.push(t0 + mix.below((last - t0 + 3 * 86_400) as u64) as i64);
    }
    instants.sort_unstable();
    instants.dedup();
    for at in instants.into_iter().filter(|&at| at > t0) {
        h.clock.set(at);
        same_as_fresh(&h.engine, &format!("at {at}"));
    }
    // A clock set back (a test, a correction) evaluates again rather than trust its rows.
    h.clock.set(t0 + 3600);
    same_as_fresh(&h.engine, "with the clock set back");
}

async fn get(url: &str, if_none_match: Option<&str>) -> (u16, Option<String>, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let etag = response.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    (status, etag, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_answers_etags_and_since_cursors() {
    let mut h = Harness::new(SUPPORT_ONLY).await;
    let first = h.ticket("sev1");
    let second = h.ticket("sev2");
    h.poll().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let engine = Arc::new(h.take_engine());
    let stop = engine.shutdown.clone();
    tokio::spawn(slawatch::admin::serve(listener, engine.clone(), None, stop.clone()));

    let (status, etag, body) = get(&format!("{base}/status"), None).await;
    assert_eq!(status, 200);
    let etag = etag.expect("an ETag");
    assert!(etag.starts_with("W/\""), "{etag}");
    let rows: Vec<TicketStatus> = serde_json::from_str(&body).unwrap();
    assert_eq!(rows.len(), 2);
    // Nothing changed: 304, even as time left moves.
    h.advance(60);
    let (status, again, body) = get(&format!("{base}/status"), Some(&etag)).await;
    assert_eq!((status, again.as_deref(), body.as_str()), (304, Some(etag.as_str()), ""));
    let version = etag.trim_start_matches("W/").trim_matches('"').to_string();
    let (status, _, _) = get(&format!("{base}/status?since={version}"), None).await;
    assert_eq!(status, 304);

    // A reply: the ticket's row comes in the delta, and the ETag moves.
    h.sim.add_comment(first, h.agent, SUBSTANTIVE, true);
    h.advance(61);
    engine.poll().await.unwrap();
    let (status, moved, _) = get(&format!("{base}/status"), Some(&etag)).await;
    assert_eq!(status, 200);
    assert_ne!(moved.as_deref(), Some(etag.as_str()));
    let (status, _, body) = get(&format!("{base}/status?since={version}"), None).await;
    assert_eq!(status, 200);
    let delta: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(delta["full"], false);
    assert_eq!(delta["removed"], json!([]));
    let changed = delta["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["ticket_id"], first);
    assert_eq!(changed[0]["metrics"]["first_response"]["state"], "met");
    let next = delta["version"].as_str().unwrap().to_string();

    // Solved: removed.
    h.sim.set_status(second, "solved", h.agent);
    h.advance(61);
    engine.poll().await.unwrap();
    let (_, _, body) = get(&format!("{base}/status?since={next}"), None).await;
    let delta: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((delta["full"].clone(), delta["removed"].clone()), (json!(false), json!([second])));
    assert_eq!(delta["changed"], json!([]));

    // A cursor this run never gave: every row, marked full.
    for bogus in ["0-0", "nonsense", "ffffffff-99999999"] {
        let (status, _, body) = get(&format!("{base}/status?since={bogus}"), None).await;
        assert_eq!(status, 200, "{bogus}");
        let delta: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(delta["full"], true, "{bogus}");
        assert_eq!(delta["changed"].as_array().unwrap().len(), 1, "{bogus}");
    }
    // The full answer and its pages are as before.
    let (_, _, body) = get(&format!("{base}/status?limit=1&offset=0"), None).await;
    assert_eq!(serde_json::from_str::<Vec<Value>>(&body).unwrap().len(), 1);
    stop.cancel();
}
