//! `/status` at scale: a store of 1,000,000 tickets of which 1% are open.
//!
//! First the evaluation per request (`open_tickets`, what `/status` did before the status
//! board and `slawatch status` still does on a store without its daemon), and, for comparison,
//! a scan of every ticket. Then the status board: its build, a read in-process, and `/status`
//! over real HTTP on 127.0.0.1 (the whole list, `If-None-Match` answered 304, `?since=` after
//! a few tickets changed), p50 and p99, with the daemon's clock moving 30 s between requests as
//! the page's would; and what following the writes costs a writer.
//! Run with `cargo bench --bench status` (SLAWATCH_BENCH_TICKETS to change the size,
//! SLAWATCH_BENCH_REQUESTS the requests per measure).

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::time::Instant;

use serde_json::json;
use slawatch::clock::Clock;
use slawatch::config::Config;
use slawatch::engine::directory::load_directory;
use slawatch::engine::status::open_tickets;
use slawatch::engine::Engine;
use slawatch::sla::clock::{Event, Role};
use slawatch::store::{Cursors, OrganizationRecord, Store, StoredEvent, TicketRecord};
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};

/// Monday 2026-11-30 17:00 UTC.
const T0: i64 = 1_796_058_000;

fn ticket(id: u64, open: bool) -> TicketRecord {
    // The open ones over the last ten days (some clocks running, some breached), the closed
    // ones over the last month.
    let window = if open { 86_400 * 10 } else { 86_400 * 30 };
    let created = T0 - window + (id as i64 * 7919 % window);
    let status = if open { "open" } else { "closed" };
    TicketRecord {
        id,
        subject: format!("Connector crashes on start ({id})"),
        status: status.into(),
        created_at: Some(created),
        updated_at: Some(created + 3600),
        requester_id: Some(1_000_000 + id % 5000),
        submitter_id: Some(1_000_000 + id % 5000),
        // Open tickets are every hundredth: spread them over the customers too.
        organization_id: Some(7000 + (if open { id / 100 } else { id }) % 300),
        severity: Some(if id % 3 == 0 { "sev1" } else { "sev2" }.into()),
        exported: true,
        events: vec![
            StoredEvent {
                audit_id: id * 10,
                event: Event::Comment {
                    at: created,
                    author_id: 1_000_000 + id % 5000,
                    role: Role::EndUser,
                    public: true,
                    length: 60,
                    acknowledgement: false,
                    docs_link: false,
                },
            },
            StoredEvent {
                audit_id: id * 10 + 1,
                event: Event::Status {
                    at: created + 3600,
                    status: status.into(),
                },
            },
        ],
        ..TicketRecord::default()
    }
}

/// 300 customers, 40 % of them managed (calendar clocks), the rest self-hosted (business hours).
fn organizations() -> Vec<OrganizationRecord> {
    (0..300)
        .map(|i| {
            let mut fields = serde_json::Map::new();
            fields.insert("deployment".into(), json!(if i % 5 < 2 { "managed" } else { "self_hosted" }));
            OrganizationRecord {
                id: 7000 + i,
                name: format!("Customer {i:03}"),
                tags: Vec::new(),
                fields,
            }
        })
        .collect()
}

/// p50, p99 and max of `samples` (ms).
fn spread(samples: &mut [f64]) -> String {
    samples.sort_by(|a, b| a.total_cmp(b));
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", at(0.5), at(0.99), at(1.0))
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn main() {
    let total: u64 = std::env::var("SLAWATCH_BENCH_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("a temporary directory");
    // The defaults read the tier from the organization field `deployment`.
    let config = Config::defaults();
    let store = Store::open(&dir.path().join("store"), config.store.cache_bytes).expect("the store opens");
    store.save_organizations(&organizations()).expect("organizations");
    let started = Instant::now();
    for first in (1..=total).step_by(10_000) {
        let batch: Vec<TicketRecord> = (first..(first + 10_000).min(total + 1))
            .map(|id| ticket(id, id % 100 == 0))
            .collect();
        store.save_tickets(&batch).expect("saved");
    }
    store
        .commit(
            &[],
            &Cursors {
                events_through: Some(T0),
                ..Cursors::default()
            },
        )
        .expect("cursors");
    store.flush().expect("flushed");
    println!(
        "store: {total} tickets ({} open) written in {:.1} s; RSS {:.0} MiB",
        store.open_ticket_ids().map(|ids| ids.len()).unwrap_or(0),
        started.elapsed().as_secs_f64(),
        rss_mib()
    );
    let directory = load_directory(&store).expect("directory");
    for run in 1..=3 {
        let started = Instant::now();
        let rows = open_tickets(&config, &store, &directory, T0).expect("status");
        println!(
            "open_tickets (the /status work), run {run}: {} rows in {:.0} ms",
            rows.len(),
            started.elapsed().as_secs_f64() * 1000.0
        );
    }
    let started = Instant::now();
    let open = store.tickets().filter_map(Result::ok).filter(TicketRecord::is_open).count();
    println!(
        "for comparison, a scan of every ticket (no clocks evaluated): {open} open found in {:.0} ms; RSS {:.0} MiB",
        started.elapsed().as_secs_f64() * 1000.0,
        rss_mib()
    );

    board(config, store);
}

/// The status board on the same store, in an engine whose clock moves 30 s a request.
fn board(config: Config, store: Store) {
    let requests: usize = std::env::var("SLAWATCH_BENCH_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let clock = Clock::manual(T0);
    let options = ClientOptions {
        base_url: "http://127.0.0.1:9".into(),
        auth: Auth::Bearer("unused".into()),
        requests_per_minute: 1,
        export_requests_per_minute: 1,
        timeout: std::time::Duration::from_secs(1),
        max_attempts: 1,
        backoff: std::time::Duration::from_millis(1),
        max_backoff: std::time::Duration::from_millis(1),
    };
    let client = ZendeskClient::new(options, clock.clone()).expect("client");
    let engine = std::sync::Arc::new(Engine::new(config, client, store, clock.clone()).expect("engine"));

    // What following the writes costs a writer: 1,000 open tickets saved in one transaction (an
    // export page), before the board is built (nothing followed) and after.
    let ids: Vec<u64> = engine.store.open_ticket_ids().expect("ids").into_iter().take(1000).collect();
    let page: Vec<TicketRecord> = ids.iter().filter_map(|&id| engine.store.ticket(id).ok().flatten()).collect();
    let save_page = |what: &str| {
        let mut times = Vec::new();
        for _ in 0..7 {
            let started = Instant::now();
            engine.store.save_tickets(&page).expect("saved");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        println!("saving 1,000 open tickets in one transaction, {what}: {}", spread(&mut times));
    };
    save_page("no board yet");

    let started = Instant::now();
    let rows = engine.status_rows().expect("board").rows;
    println!(
        "status board built (every open ticket evaluated once): {} rows in {:.0} ms; RSS {:.0} MiB",
        rows.len(),
        started.elapsed().as_secs_f64() * 1000.0,
        rss_mib()
    );
    let fresh = open_tickets(&engine.config, &engine.store, &engine.directory(), clock.now()).expect("status");
    assert!(rows == fresh, "the board differs from a fresh evaluation");
    let breached = rows
        .iter()
        .filter(|r| r.metrics.first_response.state == "breached" || r.metrics.resolution.state == "breached")
        .count();
    let running = rows
        .iter()
        .filter(|r| r.metrics.first_response.state == "running" || r.metrics.resolution.state == "running")
        .count();
    let business = rows.iter().filter(|r| r.metrics.first_response.business_clock).count();
    println!("  of them {breached} breached, {running} with a clock running, {business} on business hours");

    let mut read = Vec::new();
    let mut serialize = Vec::new();
    let mut bytes = 0;
    for _ in 0..requests {
        clock.advance(std::time::Duration::from_secs(30));
        let started = Instant::now();
        let snapshot = engine.status_rows().expect("board");
        read.push(started.elapsed().as_secs_f64() * 1000.0);
        drop(snapshot);
        clock.advance(std::time::Duration::from_secs(30));
        let started = Instant::now();
        bytes = engine.status_json(0, usize::MAX).expect("json").1.len();
        serialize.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let at = clock.now();
    let fresh = open_tickets(&engine.config, &engine.store, &engine.directory(), at).expect("status");
    assert!(
        engine.status_rows().expect("board").rows == fresh,
        "the board differs from a fresh evaluation"
    );
    println!("in-process, {requests} reads, the clock 30 s further each time:");
    println!(
        "  the rows at now, ordered, as values (a since answer that is full): {}",
        spread(&mut read)
    );
    println!(
        "  the same as /status's JSON ({:.1} MB), written from each row's cut JSON: {}",
        bytes as f64 / 1e6,
        spread(&mut serialize)
    );

    save_page("the board following");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}/status", listener.local_addr().expect("address"));
        let stop = engine.shutdown.clone();
        tokio::spawn(slawatch::admin::serve(listener, engine.clone(), None, stop.clone()));
        let http = reqwest::Client::new();

        let mut full = Vec::new();
        let mut size = 0;
        let mut etag = String::new();
        for _ in 0..requests {
            clock.advance(std::time::Duration::from_secs(30));
            let started = Instant::now();
            let response = http.get(&base).send().await.expect("status");
            etag = response.headers()["etag"].to_str().expect("etag").to_string();
            size = response.bytes().await.expect("body").len();
            full.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let mut unchanged = Vec::new();
        let mut not_modified = 0;
        for _ in 0..requests {
            clock.advance(std::time::Duration::from_secs(30));
            let started = Instant::now();
            let response = http.get(&base).header("if-none-match", &etag).send().await.expect("status");
            not_modified += usize::from(response.status() == 304);
            if let Some(tag) = response.headers().get("etag") {
                etag = tag.to_str().expect("etag").to_string();
            }
            let _ = response.bytes().await;
            unchanged.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        let mut since = Vec::new();
        let mut delta_size = 0;
        let mut changed_rows = 0;
        let mut version = etag.trim_start_matches("W/").trim_matches('"').to_string();
        for round in 0..requests {
            // Ten tickets change between two reads (an agent's replies): saved as a poll would.
            let mut batch: Vec<TicketRecord> = page[(round * 10) % 990..][..10].to_vec();
            for record in &mut batch {
                let at = clock.now() - 5;
                record.events.push(StoredEvent {
                    audit_id: record.id * 10 + 2 + round as u64,
                    event: Event::Comment {
                        at,
                        author_id: 5,
                        role: Role::Agent,
                        public: true,
                        length: 300,
                        acknowledgement: false,
                        docs_link: false,
                    },
                });
                record.updated_at = Some(at);
            }
            engine.store.save_tickets(&batch).expect("saved");
            clock.advance(std::time::Duration::from_secs(30));
            let started = Instant::now();
            let response = http.get(format!("{base}?since={version}")).send().await.expect("status");
            let body: serde_json::Value = response.json().await.expect("delta");
            since.push(started.elapsed().as_secs_f64() * 1000.0);
            version = body["version"].as_str().expect("version").to_string();
            changed_rows += body["changed"].as_array().map_or(0, Vec::len);
            delta_size += serde_json::to_vec(&body).map_or(0, |b| b.len());
        }
        println!("over HTTP (127.0.0.1, reqwest, 2 runtime threads shared with the server), {requests} requests each:");
        println!("  GET /status, every row ({:.1} MB): {}", size as f64 / 1e6, spread(&mut full));
        println!(
            "  GET /status with If-None-Match, the clock 30 s on ({not_modified} answered 304, the rest every row: a breach by time): {}",
            spread(&mut unchanged)
        );
        println!(
            "  GET /status?since=, 10 tickets changed since ({:.1} rows, {:.1} KB an answer on average): {}",
            changed_rows as f64 / requests as f64,
            delta_size as f64 / requests as f64 / 1e3,
            spread(&mut since)
        );
        stop.cancel();
    });
}
