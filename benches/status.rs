//! `/status` at scale: a store of 1,000,000 tickets of which 1% are open. `open_tickets` (what
//! `/status`, `slawatch status` and the status page run) reads the index of open tickets; the
//! bench also times a scan of every ticket, what it did before the index.
//! Run with `cargo bench --bench status` (SLAWATCH_BENCH_TICKETS to change the size).

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::time::Instant;

use slawatch::config::Config;
use slawatch::engine::directory::Directory;
use slawatch::engine::status::open_tickets;
use slawatch::sla::clock::{Event, Role};
use slawatch::store::{Cursors, Store, StoredEvent, TicketRecord};

/// Monday 2026-11-30 17:00 UTC.
const T0: i64 = 1_796_058_000;

fn ticket(id: u64, open: bool) -> TicketRecord {
    let created = T0 - 86_400 * 30 + (id as i64 % (86_400 * 30));
    let status = if open { "open" } else { "closed" };
    TicketRecord {
        id,
        subject: format!("Connector crashes on start ({id})"),
        status: status.into(),
        created_at: Some(created),
        updated_at: Some(created + 3600),
        requester_id: Some(1_000_000 + id % 5000),
        submitter_id: Some(1_000_000 + id % 5000),
        organization_id: Some(7000 + id % 300),
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
    let config = Config::defaults();
    let store = Store::open(&dir.path().join("store"), config.store.cache_bytes).expect("the store opens");
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
    let directory = Directory::default();
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
}
