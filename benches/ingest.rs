//! Ingest throughput and memory: export-page JSON → parsed → applied →
//! clocks evaluated → committed to sled, on one thread, for 100,000 tickets.
//! Run with `cargo bench --bench ingest` (prints figures; see docs/PERFORMANCE.md).

/// jemalloc: glibc's allocator spent half of ingestion in malloc and free (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "common/memory.rs"]
mod memory;
use memory::rss_kib;

use std::time::{Duration, Instant};

use serde_json::json;
use slawatch::clock::Clock;
use slawatch::config::Config;
use slawatch::engine::Engine;
use slawatch::store::{Cursors, Store};
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
use slawatch::zendesk::models::{EventPage, Ticket, TicketEvent, TicketPage};

const TICKETS: u64 = 100_000;
const PAGE: u64 = 1000;
/// Monday 2026-11-30 17:00 UTC.
const T0: i64 = 1_796_058_000;

fn ticket_page(first: u64) -> String {
    let tickets: Vec<_> = (first..first + PAGE)
        .map(|id| {
            let created = T0 + (id as i64 % 86_400);
            json!({
                "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"), "id": id, "external_id": null,
                "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": null}},
                "created_at": slawatch::sla::time::format_rfc3339(created), "updated_at": slawatch::sla::time::format_rfc3339(created + 60),
                "type": "incident", "subject": format!("Connector crashes on start ({id})"), "raw_subject": "Connector crashes",
                "description": "The connector crashes on start since this morning; logs attached.",
                "priority": if id % 3 == 0 { "urgent" } else { "normal" }, "status": if id % 5 == 0 { "pending" } else { "open" },
                "recipient": null, "requester_id": 1_000_000 + id % 5000, "submitter_id": 1_000_000 + id % 5000,
                "assignee_id": 42, "organization_id": 7000 + id % 300, "group_id": 9, "collaborator_ids": [], "follower_ids": [],
                "email_cc_ids": [], "forum_topic_id": null, "problem_id": null, "has_incidents": false, "is_public": true, "due_at": null,
                "tags": ["connector", if id % 3 == 0 { "sev1" } else { "sev2" }],
                "custom_fields": [{"id": 360001, "value": null}, {"id": 360002, "value": "product_connector"}],
                "satisfaction_rating": null, "sharing_agreement_ids": [], "fields": [], "followup_ids": [], "ticket_form_id": 1,
                "brand_id": 2, "allow_channelback": false, "allow_attachments": true, "from_messaging_channel": false,
                "generated_timestamp": created + 60
            })
        })
        .collect();
    json!({"tickets": tickets, "after_cursor": format!("cursor-{first}"), "end_of_stream": false}).to_string()
}

fn event_page(first: u64) -> String {
    let events: Vec<_> = (first..first + PAGE)
        .map(|id| {
            let at = T0 + (id as i64 % 86_400) + 600;
            json!({
                "id": 5_000_000 + id, "ticket_id": id, "timestamp": at, "updater_id": 42, "via": "Web form", "event_type": "Audit",
                "child_events": [
                    {"id": 6_000_000 + id, "event_type": "Comment", "author_id": 42, "public": true, "attachments": [],
                     "body": "Please upgrade the connector to 4.2.1; the crash you see is fixed there.",
                     "html_body": "<p>Please upgrade the connector to 4.2.1; the crash you see is fixed there.</p>",
                     "created_at": slawatch::sla::time::format_rfc3339(at)},
                    {"id": 7_000_000 + id, "event_type": "Change", "status": "pending", "previous_value": "open", "via": "Web form"}
                ]
            })
        })
        .collect();
    json!({"ticket_events": events, "end_time": T0 + 200_000, "end_of_stream": false, "count": PAGE}).to_string()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cache_mb: u64 = std::env::var("SLAWATCH_BENCH_CACHE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16);
    let mut config = Config::defaults();
    config.store.cache_bytes = cache_mb << 20;
    let clock = Clock::manual(T0 + 3 * 86_400);
    let options = ClientOptions {
        base_url: "http://127.0.0.1:9".into(),
        auth: Auth::Bearer("unused".into()),
        requests_per_minute: 1,
        export_requests_per_minute: 1,
        timeout: Duration::from_secs(1),
        max_attempts: 1,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(1),
    };
    let client = ZendeskClient::new(options, clock.clone()).expect("client");
    let store = Store::open(&dir.path().join("store"), config.store.cache_bytes).expect("store");
    let engine = Engine::new(config, client, store, clock).expect("engine");

    // Each page is generated just before it is ingested, outside the timing, so that the
    // resident memory measured at the end is the daemon's, not the test data's.
    let pages = TICKETS / PAGE;
    let mut json_bytes = 0;
    let mut tickets_elapsed = Duration::ZERO;
    for p in 0..pages {
        let text = ticket_page(1 + p * PAGE);
        json_bytes += text.len();
        let start = Instant::now();
        let page: TicketPage = serde_json::from_str(&text).expect("page");
        let tickets: Vec<Ticket> = slawatch::zendesk::models::read_tickets(page.tickets).tickets;
        let cursors = Cursors {
            tickets: page.after_cursor,
            events_start: None,
            events_through: None,
        };
        engine.apply_ticket_page(&tickets, &cursors).expect("commit");
        tickets_elapsed += start.elapsed();
    }
    let mut events_elapsed = Duration::ZERO;
    for p in 0..pages {
        let text = event_page(1 + p * PAGE);
        json_bytes += text.len();
        let start = Instant::now();
        let page: EventPage = serde_json::from_str(&text).expect("page");
        let audits: Vec<TicketEvent> = engine.client.read(page.ticket_events);
        let cursors = Cursors {
            tickets: Some("last".into()),
            events_start: page.end_time,
            // Every event before the page's end is in: the tickets' facts are complete.
            events_through: page.end_time.map(|end| end - 1),
        };
        engine.apply_event_page(&audits, &cursors).expect("commit");
        events_elapsed += start.elapsed();
    }
    let start = Instant::now();
    engine.store.flush().expect("flush");
    let flush_elapsed = start.elapsed();
    assert_eq!(engine.store.ticket_count(), TICKETS as usize);
    println!(
        "{pages} ticket pages and {pages} event pages of {PAGE}, {:.1} MB of JSON; store cache {cache_mb} MiB",
        json_bytes as f64 / 1e6
    );

    let per_sec = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
    println!(
        "ticket export: {TICKETS} new tickets in {:.2} s = {:.0} tickets/s",
        tickets_elapsed.as_secs_f64(),
        per_sec(TICKETS, tickets_elapsed)
    );
    println!(
        "events export: {TICKETS} audits (a comment and a status change each) in {:.2} s = {:.0} audits/s",
        events_elapsed.as_secs_f64(),
        per_sec(TICKETS, events_elapsed)
    );
    println!("flush: {:.2} s", flush_elapsed.as_secs_f64());
    println!(
        "resident memory with {TICKETS} tickets tracked: {:.1} MiB (peak {:.1} MiB)",
        rss_kib("VmRSS:") as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    );
}
