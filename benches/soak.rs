//! Soak: two years of simulated Zendesk traffic, 200,000 tickets a year, through the engine day
//! by day with retention compacting closed tickets once a simulated day, to see whether the store
//! stays bounded. Every 30 simulated days it prints the tickets in the store, the store's size on
//! disk, resident and peak memory, and the time the day's compaction took.
//! Run with `cargo bench --bench soak` (prints figures; about 26 minutes on 2 vCPUs, most of it
//! compacting; see docs/PERFORMANCE.md).
//!
//! Each ticket: created with the customer's description (ticket export and a Create audit), an
//! agent's reply (→ pending) 1–20 hours later, the customer's answer (→ open) 2–48 hours after
//! that, solved by an agent 1–72 hours later, and closed by the automation 4 days after the
//! solve. 2 % are left open for ever and 2 % are deleted within a day. Each simulated day brings
//! the ticket export's snapshots of the tickets changed that day (their state at the day's last
//! change) and the events export's audits of that day, in pages of 1,000, then one pass of the
//! alert decider (`Engine::decide_due`; no channels, so alerts are recorded, not sent: a ticket
//! with an alert still to decide is never compacted) and one `Engine::compact_closed`, with the
//! engine's clock at the day's end.
//!
//! The store is flushed after each page and each compaction (`SLAWATCH_SOAK_FLUSH=page`, the
//! default), as sled's flusher, every 500 ms, would between the daemon's polls; `day` flushes
//! after the compaction only, `none` leaves it to sled's flusher. At the end it checks that the
//! KPI report of the last year (inside the window) counts every ticket created then, and that of
//! the older tickets only those left open remain; then the store is reopened and counted tree by
//! tree (the bytes of live keys and values against the file) and rewritten as `slawatch compact-store` does.
//!
//! `SLAWATCH_SOAK_TICKETS_PER_YEAR` (200,000), `SLAWATCH_SOAK_DAYS` (730),
//! `SLAWATCH_SOAK_RETAIN_DAYS` (400, the default `[store] retain_closed`; at least 32),
//! `SLAWATCH_SOAK_COMPACT_EVERY` (compact every 1 simulated day), `SLAWATCH_SOAK_STORE` (a new
//! directory for the store, kept afterwards), `SLAWATCH_SOAK_EVERY` (print
//! every 30 days) and `SLAWATCH_BENCH_CACHE_MB` (16, the default store cache) change the run.
//! Quick run: `SLAWATCH_SOAK_TICKETS_PER_YEAR=20000 SLAWATCH_SOAK_DAYS=120
//! SLAWATCH_SOAK_RETAIN_DAYS=40 cargo bench --bench soak`.

/// jemalloc, as the daemon runs (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "common/memory.rs"]
mod memory;
use memory::rss_kib;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use slawatch::clock::Clock;
use slawatch::config::Config;
use slawatch::engine::alerts::AlertReport;
use slawatch::engine::Engine;
use slawatch::sla::time::{format_rfc3339, Timestamp};
use slawatch::store::{AgentRecord, Cursors, OrganizationRecord, Store, UserRecord};
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
use slawatch::zendesk::models::{EventPage, Ticket, TicketEvent, TicketPage};

/// 2026-01-01T00:00:00Z, the first simulated day.
const T0: Timestamp = 1_767_225_600;
const DAY: Timestamp = 86_400;
const HOUR: Timestamp = 3_600;
const YEAR: Timestamp = 365 * DAY;
/// Records a page, as Zendesk's exports send at most.
const PAGE: usize = 1000;
/// The longest a ticket's life runs from its creation to its last change (20 h + 48 h + 72 h +
/// 4 days = 236 hours), rounded up.
const LIFE: Timestamp = 10 * DAY;
const AGENTS: u64 = 20;
const FIRST_AGENT: u64 = 42;
const ORGANIZATIONS: u64 = 300;
const REQUESTERS: u64 = 5000;
const FIRST_REQUESTER: u64 = 1_000_000;
const FIRST_ORGANIZATION: u64 = 7000;
/// The automation that closes solved tickets.
const AUTOMATION: i64 = -1;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// SplitMix64 of the ticket id and a salt: every run simulates the same tickets.
fn hash(id: u64, salt: u64) -> u64 {
    let mut z = id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt.wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A duration between `lo` and `hi` seconds.
fn between(id: u64, salt: u64, lo: Timestamp, hi: Timestamp) -> Timestamp {
    lo + (hash(id, salt) % (hi - lo) as u64) as Timestamp
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// The customer's description; status new.
    Create,
    /// An agent's public reply; status pending.
    Reply,
    /// The customer's answer; status open.
    Answer,
    /// An agent's last reply; status solved.
    Solve,
    /// The automation, 4 days after the solve; status closed.
    Close,
    /// Deleted (spam): seen in the ticket export only.
    Delete,
}

impl Step {
    fn status(self) -> &'static str {
        match self {
            Step::Create => "new",
            Step::Reply => "pending",
            Step::Answer => "open",
            Step::Solve => "solved",
            Step::Close => "closed",
            Step::Delete => "deleted",
        }
    }
}

/// The simulated traffic: ticket `id` (from 1) is created at `T0 + (id - 1) * YEAR / per_year`.
struct Traffic {
    per_year: u64,
}

impl Traffic {
    fn created(&self, id: u64) -> Timestamp {
        T0 + ((id - 1) as i128 * YEAR as i128 / self.per_year as i128) as Timestamp
    }

    /// The first ticket created at or after `at`.
    fn first_from(&self, at: Timestamp) -> u64 {
        let mut id = (((at - T0).max(0) as i128 * self.per_year as i128 / YEAR as i128) as u64).max(1);
        while id > 1 && self.created(id - 1) >= at {
            id -= 1;
        }
        while self.created(id) < at {
            id += 1;
        }
        id
    }

    /// Whether ticket `id` is one of those deleted (a day at most after its creation).
    fn deleted(id: u64) -> bool {
        hash(id, 1) % 100 < 2
    }

    /// Whether ticket `id` is one of those never solved.
    fn left_open(id: u64) -> bool {
        (2..4).contains(&(hash(id, 1) % 100))
    }

    /// Whether ticket `id` has been deleted by `at`: deleted tickets have no KPI row.
    fn deleted_by(&self, id: u64, at: Timestamp) -> bool {
        self.life(id).iter().any(|&(when, step)| step == Step::Delete && when < at)
    }

    /// Every change of a ticket's life, in order.
    fn life(&self, id: u64) -> Vec<(Timestamp, Step)> {
        let created = self.created(id);
        let kind = hash(id, 1) % 100;
        if Traffic::deleted(id) {
            return vec![(created, Step::Create), (created + between(id, 2, HOUR, DAY), Step::Delete)];
        }
        let reply = created + between(id, 3, HOUR, 20 * HOUR);
        let answer = reply + between(id, 4, 2 * HOUR, 48 * HOUR);
        if kind < 4 {
            return vec![(created, Step::Create), (reply, Step::Reply), (answer, Step::Answer)];
        }
        let solve = answer + between(id, 5, HOUR, 72 * HOUR);
        vec![
            (created, Step::Create),
            (reply, Step::Reply),
            (answer, Step::Answer),
            (solve, Step::Solve),
            (solve + 4 * DAY, Step::Close),
        ]
    }

    /// The day `[from, to)`: the ticket export's snapshots (each changed ticket once, as it
    /// stands after its last change of the day) and the events export's audits, each by time.
    fn day(&self, from: Timestamp, to: Timestamp) -> (Vec<Value>, Vec<Value>) {
        let (mut snapshots, mut audits) = (Vec::new(), Vec::new());
        let last = self.first_from(to);
        for id in self.first_from(from - LIFE)..last {
            let created = self.created(id);
            let mut latest = None;
            for (at, step) in self.life(id) {
                if (from..to).contains(&at) {
                    latest = Some((at, step));
                    if step != Step::Delete {
                        audits.push((at, audit(id, at, step)));
                    }
                }
            }
            if let Some((at, step)) = latest {
                snapshots.push((at, ticket(id, created, at, step.status())));
            }
        }
        snapshots.sort_by_key(|(at, _)| *at);
        audits.sort_by_key(|(at, _)| *at);
        (
            snapshots.into_iter().map(|(_, t)| t).collect(),
            audits.into_iter().map(|(_, a)| a).collect(),
        )
    }
}

fn requester(id: u64) -> u64 {
    FIRST_REQUESTER + id % REQUESTERS
}

fn agent(id: u64) -> u64 {
    FIRST_AGENT + id % AGENTS
}

/// One ticket in five is Severity 1 (its tag; urgent), the rest Severity 2.
fn sev1(id: u64) -> bool {
    hash(id, 6) % 5 == 0
}

fn priority(id: u64) -> &'static str {
    if sev1(id) {
        "urgent"
    } else {
        "normal"
    }
}

fn tags(id: u64) -> Value {
    json!(["connector", if sev1(id) { "sev1" } else { "sev2" }])
}

/// A ticket in the ticket export's full shape.
fn ticket(id: u64, created: Timestamp, updated: Timestamp, status: &str) -> Value {
    json!({
        "url": format!("https://acme.zendesk.com/api/v2/tickets/{id}.json"), "id": id, "external_id": null,
        "via": {"channel": "email", "source": {"from": {}, "to": {}, "rel": null}},
        "created_at": format_rfc3339(created), "updated_at": format_rfc3339(updated),
        "type": "incident", "subject": format!("Connector crashes on start ({id})"), "raw_subject": "Connector crashes",
        "description": "The connector crashes on start since this morning; logs attached.",
        "priority": priority(id), "status": status,
        "recipient": null, "requester_id": requester(id), "submitter_id": requester(id),
        "assignee_id": agent(id), "organization_id": FIRST_ORGANIZATION + id % ORGANIZATIONS, "group_id": 9,
        "collaborator_ids": [], "follower_ids": [], "email_cc_ids": [], "forum_topic_id": null, "problem_id": null,
        "has_incidents": false, "is_public": true, "due_at": null,
        "tags": tags(id),
        "custom_fields": [{"id": 360001, "value": null}, {"id": 360002, "value": "product_connector"}],
        "satisfaction_rating": null, "sharing_agreement_ids": [], "fields": [], "followup_ids": [], "ticket_form_id": 1,
        "brand_id": 2, "allow_channelback": false, "allow_attachments": true, "from_messaging_channel": false,
        "generated_timestamp": updated
    })
}

/// An audit of the events export: a comment and a status change (the close: a change only).
fn audit(id: u64, at: Timestamp, step: Step) -> Value {
    let audit_id = id * 8 + step as u64;
    let comment = |author: u64, body: &str| {
        json!({"id": audit_id * 4 + 1, "event_type": "Comment", "author_id": author, "public": true, "attachments": [],
               "body": body, "html_body": format!("<p>{body}</p>"), "created_at": format_rfc3339(at)})
    };
    let (updater, via, children) = match step {
        Step::Create => (
            requester(id) as i64,
            "Mail",
            vec![
                comment(requester(id), "The connector crashes on start since this morning; logs attached."),
                json!({"id": audit_id * 4 + 2, "event_type": "Create", "status": "new", "priority": priority(id),
                       "tags": tags(id), "via": "Mail"}),
            ],
        ),
        Step::Reply => (
            agent(id) as i64,
            "Web form",
            vec![
                comment(agent(id), "Thanks for the logs. Which version of the connector do you run?"),
                json!({"id": audit_id * 4 + 2, "event_type": "Change", "status": "pending", "previous_value": "new", "via": "Web form"}),
            ],
        ),
        Step::Answer => (
            requester(id) as i64,
            "Mail",
            vec![
                comment(requester(id), "We run 4.1.0 on three hosts; all of them crash the same way."),
                json!({"id": audit_id * 4 + 2, "event_type": "Change", "status": "open", "previous_value": "pending", "via": "Mail"}),
            ],
        ),
        Step::Solve => (
            agent(id) as i64,
            "Web form",
            vec![
                comment(
                    agent(id),
                    "Please upgrade the connector to 4.2.1; the crash you see is fixed there.",
                ),
                json!({"id": audit_id * 4 + 2, "event_type": "Change", "status": "solved", "previous_value": "open", "via": "Web form"}),
            ],
        ),
        Step::Close => (
            AUTOMATION,
            "Rule",
            vec![json!({"id": audit_id * 4 + 2, "event_type": "Change", "status": "closed", "previous_value": "solved", "via": "Rule"})],
        ),
        Step::Delete => unreachable!("a deletion is in the ticket export only"),
    };
    json!({"id": audit_id, "ticket_id": id, "timestamp": at, "updater_id": updater, "via": via, "event_type": "Audit",
           "child_events": children})
}

/// Bytes the files under `dir` take on the disk (allocated blocks, as `du` counts them).
fn allocated_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => allocated_bytes(&e.path()),
            Ok(m) => m.blocks() * 512,
            Err(_) => 0,
        })
        .sum()
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let per_year = env_or("SLAWATCH_SOAK_TICKETS_PER_YEAR", 200_000).max(1);
    let days = env_or("SLAWATCH_SOAK_DAYS", 730) as Timestamp;
    let retain_days = env_or("SLAWATCH_SOAK_RETAIN_DAYS", 400).max(32);
    let every = env_or("SLAWATCH_SOAK_EVERY", 30).max(1) as Timestamp;
    let cache_mb = env_or("SLAWATCH_BENCH_CACHE_MB", 16);
    let compact_every = env_or("SLAWATCH_SOAK_COMPACT_EVERY", 1).max(1) as Timestamp;
    let flush_mode = std::env::var("SLAWATCH_SOAK_FLUSH").unwrap_or_else(|_| "page".into());
    let (flush_pages, flush_days) = (flush_mode == "page", flush_mode == "day");
    let mut flushing = Duration::ZERO;
    let mut settle = |engine: &Engine, wanted: bool| {
        if wanted {
            let start = Instant::now();
            engine.store.flush().expect("flush");
            flushing += start.elapsed();
        }
    };
    let traffic = Traffic { per_year };

    let dir = tempfile::tempdir().expect("temp dir");
    // SLAWATCH_SOAK_STORE keeps the store for a look afterwards (`slawatch compact-store` on it).
    let store_path = std::env::var_os("SLAWATCH_SOAK_STORE").map_or_else(|| dir.path().join("store"), PathBuf::from);
    let mut config = Config::defaults();
    config.store.cache_bytes = cache_mb << 20;
    config.store.retain_closed = Duration::from_secs(retain_days * DAY as u64);
    let clock = Clock::manual(T0);
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
    let store = Store::open(&store_path, config.store.cache_bytes).expect("store");
    // The directory the daemon would have fetched: the agents, and organizations 40 % managed.
    let agents: Vec<AgentRecord> = (0..AGENTS)
        .map(|i| AgentRecord {
            id: FIRST_AGENT + i,
            name: format!("Agent {i}"),
            role: "agent".into(),
            email: format!("agent{i}@example.com"),
        })
        .collect();
    store.save_agents(&agents).expect("agents");
    let organizations: Vec<OrganizationRecord> = (0..ORGANIZATIONS)
        .map(|i| {
            let mut fields = serde_json::Map::new();
            let tier = if i % 5 < 2 { "managed" } else { "self_hosted" };
            fields.insert("deployment".into(), json!(tier));
            OrganizationRecord {
                id: FIRST_ORGANIZATION + i,
                name: format!("Customer {i:03}"),
                tags: Vec::new(),
                fields,
            }
        })
        .collect();
    store.save_organizations(&organizations).expect("organizations");
    // The customers, as the daemon looks up a comment author it does not know (once).
    let users: Vec<UserRecord> = (0..REQUESTERS)
        .map(|i| UserRecord {
            id: FIRST_REQUESTER + i,
            name: format!("Customer user {i}"),
            role: "end-user".into(),
            looked_up_at: T0,
        })
        .collect();
    store.save_users(&users).expect("users");
    let engine = Engine::new(config, client, store, clock.clone()).expect("engine");

    println!(
        "{per_year} tickets a year ({:.0} a day) for {days} days; retain_closed {retain_days}d, compacted every \
         {compact_every} day(s); store cache {cache_mb} MiB; flush: {flush_mode}",
        per_year as f64 / 365.0
    );
    println!(
        "{:>5} {:>10} {:>8} {:>8} {:>9} {:>9} {:>9} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9}",
        "day",
        "date",
        "created",
        "stored",
        "removed",
        "sled MB",
        "alloc MB",
        "RSS MiB",
        "peak MiB",
        "compact ms",
        "ingest s",
        "decide s",
        "compact s"
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let started = Instant::now();
    let (mut ingest, mut deciding, mut compact) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut total_ingest, mut total_deciding, mut total_compact) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let (mut decided, mut confirmations) = (0u64, 0u64);
    let (mut removed_window, mut removed_total) = (0u64, 0u64);
    let (mut snapshots_total, mut audits_total) = (0usize, 0usize);
    let mut ticket_cursor = 0u64;
    for day in 0..days {
        let (from, to) = (T0 + day * DAY, T0 + (day + 1) * DAY);
        // The day's poll, at midnight, brings everything up to then.
        clock.set(to);
        let (snapshots, audits) = traffic.day(from, to);
        snapshots_total += snapshots.len();
        audits_total += audits.len();

        // Pages are made up as Zendesk sends them (JSON text) just before each is applied, outside
        // the timing, so that memory measured is the daemon's rather than the test data's.
        let mut snapshots = snapshots.into_iter().peekable();
        while snapshots.peek().is_some() {
            let page: Vec<Value> = snapshots.by_ref().take(PAGE).collect();
            ticket_cursor += 1;
            let text = json!({"tickets": page, "after_cursor": format!("cursor-{ticket_cursor}"), "end_of_stream": false}).to_string();
            drop(page);
            let start = Instant::now();
            let page: TicketPage = serde_json::from_str(&text).expect("page");
            let tickets: Vec<Ticket> = slawatch::zendesk::models::read_tickets(page.tickets).tickets;
            let cursors = Cursors {
                tickets: page.after_cursor,
                ..engine.store.cursors().expect("cursors")
            };
            engine.apply_ticket_page(&tickets, &cursors).expect("commit tickets");
            ingest += start.elapsed();
            settle(&engine, flush_pages);
        }
        let mut audits = audits.into_iter().peekable();
        while audits.peek().is_some() {
            let page: Vec<Value> = audits.by_ref().take(PAGE).collect();
            let last_page = audits.peek().is_none();
            let last_at = page.last().and_then(|a| a["timestamp"].as_i64()).unwrap_or(from);
            // A full page ends at its last event's second (the next page starts there); the
            // day's last page holds everything up to the day's end.
            let (end, through) = if last_page { (to, to - 1) } else { (last_at, last_at - 1) };
            let text = json!({"ticket_events": page, "end_time": end, "end_of_stream": last_page, "count": page.len()}).to_string();
            drop(page);
            let start = Instant::now();
            let page: EventPage = serde_json::from_str(&text).expect("page");
            let audits: Vec<TicketEvent> = engine.client.read(page.ticket_events);
            let cursors = Cursors {
                tickets: engine.store.cursors().expect("cursors").tickets,
                events_start: Some(end),
                events_through: Some(through),
            };
            engine.apply_event_page(&audits, &cursors).expect("commit events");
            ingest += start.elapsed();
            settle(&engine, flush_pages);
        }
        engine.store.set_facts_as_of(to).expect("facts as of");

        // The alert decider, which the daemon runs at each alert instant, once a day here: it
        // records the points crossed (no channels are configured, so nothing is sent), and a
        // ticket's next alert moves on. A ticket with an alert still to decide is never compacted.
        let start = Instant::now();
        let mut report = AlertReport::default();
        runtime.block_on(engine.decide_due(&mut report)).expect("decide");
        decided += report.decided;
        confirmations += report.confirmations;
        deciding += start.elapsed();

        let start = Instant::now();
        let removed = if (day + 1) % compact_every == 0 {
            engine.compact_closed().expect("compact")
        } else {
            0
        };
        let compact_today = start.elapsed();
        compact += compact_today;
        removed_window += removed;
        removed_total += removed;
        settle(&engine, flush_pages || flush_days);

        if (day + 1) % every == 0 || day + 1 == days {
            let sled_bytes = engine.store.size_on_disk().expect("size");
            println!(
                "{:>5} {:>10} {:>8} {:>8} {:>9} {:>9.1} {:>9.1} {:>8.1} {:>8.1} {:>10.0} {:>9.2} {:>9.2} {:>9.2}",
                day + 1,
                &format_rfc3339(to)[..10],
                traffic.first_from(to) - 1,
                engine.store.ticket_count(),
                removed_window,
                sled_bytes as f64 / 1e6,
                allocated_bytes(&store_path) as f64 / 1e6,
                mib(rss_kib("VmRSS:")),
                mib(rss_kib("VmHWM:")),
                compact_today.as_secs_f64() * 1000.0,
                ingest.as_secs_f64(),
                deciding.as_secs_f64(),
                compact.as_secs_f64(),
            );
            total_ingest += ingest;
            total_deciding += deciding;
            total_compact += compact;
            (ingest, deciding, compact, removed_window) = (Duration::ZERO, Duration::ZERO, Duration::ZERO, 0);
        }
    }
    let end = T0 + days * DAY;
    println!(
        "{days} days in {:.1} s: ingest {:.1} s ({snapshots_total} ticket snapshots, {audits_total} audits), \
         alert decisions {:.1} s ({decided} alerts recorded, {confirmations} live reads tried), \
         compaction {:.1} s ({removed_total} tickets removed), flushes ({flush_mode}) {:.1} s",
        started.elapsed().as_secs_f64(),
        total_ingest.as_secs_f64(),
        total_deciding.as_secs_f64(),
        total_compact.as_secs_f64(),
        flushing.as_secs_f64(),
    );

    let start = Instant::now();
    engine.store.flush().expect("flush");
    println!(
        "flush {:.2} s; then sled {:.1} MB, allocated {:.1} MB, RSS {:.1} MiB (peak {:.1} MiB)",
        start.elapsed().as_secs_f64(),
        engine.store.size_on_disk().expect("size") as f64 / 1e6,
        allocated_bytes(&store_path) as f64 / 1e6,
        mib(rss_kib("VmRSS:")),
        mib(rss_kib("VmHWM:"))
    );

    // sled relocates live pages and frees segments in its flusher thread too: given time, does
    // the file shrink?
    std::thread::sleep(Duration::from_secs(10));
    println!(
        "after 10 s idle: sled {:.1} MB",
        engine.store.size_on_disk().expect("size") as f64 / 1e6
    );

    // Sanity: inside the retention window every ticket is still there and counted. The last
    // 365 days (or the window, when shorter) must report exactly the tickets created then.
    let from = (end - YEAR.min(retain_days as Timestamp * DAY)).max(T0);
    let expected = (traffic.first_from(from)..traffic.first_from(end))
        .filter(|&id| !traffic.deleted_by(id, end))
        .count() as u64;
    let start = Instant::now();
    let report = slawatch::engine::kpis::report(&engine.config, &engine.store, from, end, clock.now()).expect("report");
    println!(
        "KPI report {} .. {} in {:.2} s: {} tickets created (simulated, not deleted: {expected}); first response (met, breached, running, n/a) {:?}, resolution {:?}",
        &format_rfc3339(from)[..10],
        &format_rfc3339(end)[..10],
        start.elapsed().as_secs_f64(),
        report.tickets_created,
        (report.first_response.met, report.first_response.breached, report.first_response.running, report.first_response.not_applicable),
        (report.resolution.met, report.resolution.breached, report.resolution.running, report.resolution.not_applicable),
    );
    assert_eq!(report.tickets_created, expected, "tickets inside the retention window were lost");
    // And of the tickets older than the window (the longest life and the days between two
    // compactions), only those left open stay.
    let old_to = end - (retain_days as Timestamp + compact_every) * DAY - LIFE;
    if old_to > T0 {
        let old = slawatch::engine::kpis::report(&engine.config, &engine.store, T0, old_to, clock.now()).expect("report");
        let created = traffic.first_from(old_to) - 1;
        let left_open = (1..=created).filter(|&id| Traffic::left_open(id)).count();
        println!(
            "KPI report {} .. {} (outside the window): {} of the {created} tickets created then still stored; \
             {left_open} were left open",
            &format_rfc3339(T0)[..10],
            &format_rfc3339(old_to)[..10],
            old.tickets_created,
        );
        assert_eq!(
            old.tickets_created, left_open as u64,
            "closed tickets outlived the retention window"
        );
    }

    drop(engine);
    census(&store_path, cache_mb << 20);
}

/// What the store holds, tree by tree (entries and bytes of keys and values), against its size
/// on disk; then the store rewritten by `slawatch compact-store`: sled's log keeps what it has
/// not reclaimed.
fn census(path: &Path, cache_bytes: u64) {
    let db = slawatch::store::sled_config(path)
        .cache_capacity(cache_bytes)
        .open()
        .expect("reopen");
    let mut live = 0usize;
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("tree");
        let (mut entries, mut bytes) = (0usize, 0usize);
        for item in tree.iter() {
            let (k, v) = item.expect("entry");
            entries += 1;
            bytes += k.len() + v.len();
        }
        live += bytes;
        if entries > 0 {
            println!(
                "  tree {:<16} {entries:>8} entries {:>9.2} MB",
                String::from_utf8_lossy(&name),
                bytes as f64 / 1e6
            );
        }
    }
    let on_disk = db.size_on_disk().expect("size");
    drop(db);
    let read_peak = mib(rss_kib("VmHWM:"));
    let start = Instant::now();
    let rewritten = slawatch::store::rewrite(path, cache_bytes).expect("compact-store");
    println!(
        "live keys and values {:.1} MB; sled size on disk after reopening {:.1} MB (peak RSS after reading it all \
         {read_peak:.1} MiB); rewritten by compact-store {:.1} MB ({} keys, {:.1} s; peak RSS then {:.1} MiB)",
        live as f64 / 1e6,
        on_disk as f64 / 1e6,
        rewritten.bytes_after as f64 / 1e6,
        rewritten.keys,
        start.elapsed().as_secs_f64(),
        mib(rss_kib("VmHWM:"))
    );
}
