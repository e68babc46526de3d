//! The KPI report over a year of stored tickets: 1,000,000 KPI rows written straight into a
//! sled store (`Store::put_kpi_rows`), then `kpi::report` over the whole year and over one
//! month in the process that wrote them, then, in a new process (this bench run again), the
//! store reopened and the whole-year report made cold, and where its time goes: sled's range
//! scan alone, postcard decoding alone, `ReportBuilder::add` and `finish` alone. Last, the same
//! rows written as schema 2 kept them (unversioned, in `kpi`) and, in a new process, the store
//! opened and so migrated to schema 3.
//! Run with `cargo bench --bench report` (prints figures; see docs/PERFORMANCE.md).
//!
//! `SLAWATCH_BENCH_TICKETS` sets the number of rows (1,000,000), `SLAWATCH_BENCH_RUNS` how many
//! times each report of the writing process is timed (3), `SLAWATCH_BENCH_CACHE_MB` the store
//! cache (the default configuration's, 16 MiB), `SLAWATCH_BENCH_DROP_CACHE=1` drops the
//! store's files from the OS page cache before the cold part, and `SLAWATCH_BENCH_MIGRATION=0`
//! skips the migration.

/// jemalloc, as the daemon runs (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[path = "common/memory.rs"]
mod memory;
use memory::rss_kib;

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use slawatch::config::Config;
use slawatch::kpi::{KpiRow, Outcome, Report, ReportBuilder, Satisfaction, Waits};
use slawatch::sla::time::Timestamp;
use slawatch::store::{OrganizationRecord, Store};

/// 2026-01-01T00:00:00Z.
const FROM: Timestamp = 1_767_225_600;
/// 2027-01-01T00:00:00Z.
const TO: Timestamp = FROM + 365 * DAY;
/// 2026-06-01T00:00:00Z and 2026-07-01T00:00:00Z: the month report.
const MONTH_FROM: Timestamp = 1_780_272_000;
const MONTH_TO: Timestamp = MONTH_FROM + 30 * DAY;
/// The report is made three days after the year's end.
const NOW: Timestamp = TO + 3 * DAY;
const DAY: Timestamp = 86_400;
const HOUR: Timestamp = 3_600;

/// Organizations, of very different sizes: the largest opens about 2 % of the tickets
/// (60 a day), the smallest about 250 a year.
const ORGANIZATIONS: u64 = 2_000;
const FIRST_ORGANIZATION: u64 = 360_000_000;
const BATCH: usize = 10_000;

/// Custom contracts, with the share of organizations on each in percent; the rest have none.
const CONTRACTS: [(&str, u64); 2] = [("enterprise-plus", 5), ("elite", 3)];

/// The report's documentation share: tickets of these types, links under these prefixes.
const QUESTION_TYPES: [&str; 1] = ["question"];
const DOCS_URL_PREFIXES: [&str; 1] = ["https://docs.example.com"];

const TYPES: [Option<&str>; 5] = [Some("incident"), Some("question"), Some("problem"), Some("task"), None];
/// Shares in percent of `TYPES`.
const TYPE_SHARES: [u64; 5] = [45, 35, 10, 5, 5];
const AREAS: [Option<&str>; 7] = [
    Some("connector"),
    Some("api"),
    Some("ui"),
    Some("auth"),
    Some("billing"),
    Some("deployment"),
    None,
];
const AREA_SHARES: [u64; 7] = [30, 20, 15, 10, 5, 15, 5];

/// SplitMix64: a tiny deterministic generator, so every run measures the same rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index into `shares` (percentages summing to 100).
    fn pick(&mut self, shares: &[u64]) -> usize {
        let mut r = self.below(100);
        for (i, &share) in shares.iter().enumerate() {
            if r < share {
                return i;
            }
            r -= share;
        }
        shares.len() - 1
    }
}

/// An organization's tier and contract, fixed by its index: 40 % managed, the rest
/// self-hosted; 8 % on a custom contract.
fn account(index: u64) -> (&'static str, Option<&'static str>) {
    let mut rng = Rng(0xACC0_0000 + index);
    let tier = if rng.below(100) < 40 { "managed" } else { "self-hosted" };
    let mut r = rng.below(100);
    let mut contract = None;
    for (name, share) in CONTRACTS {
        if r < share {
            contract = Some(name);
            break;
        }
        r -= share;
    }
    (tier, contract)
}

/// The first-response target in hours of a ticket (the default policy's; the contracts'
/// tighter).
fn first_response_target(tier: &str, contract: Option<&str>, sev1: bool) -> u64 {
    match (contract, sev1) {
        (Some("elite"), true) => 4,
        (Some("elite"), false) => 8,
        (Some(_), true) => 8,
        (Some(_), false) => 24,
        (None, true) => 24,
        (None, false) if tier == "managed" => 7 * 24,
        (None, false) => 40,
    }
}

/// A uniform draw in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next() >> 11) as f64 / (1u64 << 53) as f64
}

/// Row `index` of `total`, created at an even pace over the year with some jitter (so rows
/// come in creation order, as ids do).
fn row(rng: &mut Rng, index: u64, total: u64) -> KpiRow {
    let step = (TO - FROM) as u64 / total;
    let created_at = FROM + (index * step + rng.below(step.max(1))) as Timestamp;
    let sev1 = rng.below(100) < 20;
    let severity = if sev1 { "sev1" } else { "sev2" };
    // Large accounts open more tickets: an organization's index drawn as u² (the first ones the
    // largest).
    let organization = (rng.below(100) >= 2).then(|| (unit(rng).powi(2) * ORGANIZATIONS as f64) as u64);
    let (tier, contract) = organization.map_or(("self-hosted", None), account);
    let organization_id = organization.map(|i| FIRST_ORGANIZATION + i);
    let first_response = match rng.below(100) {
        0..=85 => Outcome::Met,
        86..=93 => Outcome::Breached,
        94..=96 => Outcome::NotApplicable,
        _ => Outcome::Running {
            deadline: Some(created_at + 24 * HOUR),
        },
    };
    let resolution = match rng.below(100) {
        0..=74 => Outcome::Met,
        75..=84 => Outcome::Breached,
        85..=94 => Outcome::Running {
            deadline: Some(created_at + 72 * HOUR),
        },
        95..=97 => Outcome::Running { deadline: None },
        _ => Outcome::NotApplicable,
    };
    // Solved within three days mostly, within a week usually.
    let solved_after = match rng.below(100) {
        0..=79 => rng.below(3 * DAY as u64),
        80..=91 => 3 * DAY as u64 + rng.below(4 * DAY as u64),
        _ => 7 * DAY as u64 + rng.below(14 * DAY as u64),
    };
    let solved_at = matches!(resolution, Outcome::Met | Outcome::Breached).then_some(created_at + solved_after as Timestamp);
    let satisfaction = match rng.below(100) {
        0..=24 => Satisfaction::Good,
        25..=29 => Satisfaction::Bad,
        _ => Satisfaction::Unrated,
    };
    let replies = rng.below(13) as u32;
    let support_count = replies.div_ceil(2);
    let customer_count = replies / 2;
    let ticket_type = TYPES[rng.pick(&TYPE_SHARES)];
    // Answered within the target mostly well within it (a median an eighth of the target), a
    // breach up to half the target late; on the ticket's own clock (business seconds for
    // self-hosted tiers).
    let target = (first_response_target(tier, contract, sev1) * HOUR as u64) as f64;
    let first_response_time = match first_response {
        Outcome::Met => Some((target * unit(rng).powi(3)) as i64),
        Outcome::Breached => Some((target * (1.0 + unit(rng) / 2.0)) as i64),
        _ => None,
    };
    // To the solve on the ticket's clock: business hours are 40 of a week's 168; a 24x7 clock
    // leaves out the time pending on the customer (about a fifth).
    let resolution_time = solved_at.map(|at| {
        let calendar = (at - created_at) as f64;
        (if tier == "managed" {
            calendar * 0.8
        } else {
            calendar * 40.0 / 168.0
        }) as i64
    });
    // A public agent reply linking to the documentation: most answered questions, a few others.
    let docs_share = if ticket_type == Some("question") { 60 } else { 12 };
    let docs_linked = replies > 0 && rng.below(100) < docs_share;
    KpiRow {
        id: 1 + index,
        created_at,
        severity: severity.into(),
        classified: true,
        tier: tier.into(),
        contract: contract.map(Into::into),
        organization_id,
        ticket_type: ticket_type.map(Into::into),
        product_area: AREAS[rng.pick(&AREA_SHARES)].map(Into::into),
        first_response,
        resolution,
        solved_at,
        help_requested: rng.below(100) < 8,
        satisfaction,
        replies,
        support_waits: Waits {
            seconds: i64::from(support_count) * (600 + rng.below(8 * HOUR as u64) as i64),
            count: support_count,
        },
        customer_waits: Waits {
            seconds: i64::from(customer_count) * (1_800 + rng.below(DAY as u64) as i64),
            count: customer_count,
        },
        docs_linked,
        first_response_time,
        resolution_time,
    }
}

/// A KPI row as schema 2 kept it (postcard, unversioned, in the tree `kpi`): version 3's
/// fields without the contract, documentation link and clock times.
#[derive(serde::Serialize)]
struct SchemaTwoRow<'a> {
    id: u64,
    created_at: Timestamp,
    severity: &'a str,
    classified: bool,
    tier: &'a str,
    organization_id: Option<u64>,
    ticket_type: Option<&'a str>,
    product_area: Option<&'a str>,
    first_response: Outcome,
    resolution: Outcome,
    solved_at: Option<Timestamp>,
    help_requested: bool,
    satisfaction: Satisfaction,
    replies: u32,
    support_waits: Waits,
    customer_waits: Waits,
}

impl<'a> From<&'a KpiRow> for SchemaTwoRow<'a> {
    fn from(row: &'a KpiRow) -> Self {
        SchemaTwoRow {
            id: row.id,
            created_at: row.created_at,
            severity: &row.severity,
            classified: row.classified,
            tier: &row.tier,
            organization_id: row.organization_id,
            ticket_type: row.ticket_type.as_deref(),
            product_area: row.product_area.as_deref(),
            first_response: row.first_response,
            resolution: row.resolution,
            solved_at: row.solved_at,
            help_requested: row.help_requested,
            satisfaction: row.satisfaction,
            replies: row.replies,
            support_waits: row.support_waits,
            customer_waits: row.customer_waits,
        }
    }
}

/// Resident now and the process's peak, in MiB.
fn memory() -> String {
    format!(
        "resident {:.1} MiB, peak {:.1} MiB",
        rss_kib("VmRSS:") as f64 / 1024.0,
        rss_kib("VmHWM:") as f64 / 1024.0
    )
}

/// Bytes of the files under `dir`: (length, allocated on disk).
fn disk_usage(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dir).expect("read store dir").flatten() {
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            let (len, blocks) = disk_usage(&entry.path());
            total = (total.0 + len, total.1 + blocks);
        } else {
            total = (total.0 + meta.len(), total.1 + meta.blocks() * 512);
        }
    }
    total
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rate(rows: u64, elapsed: Duration) -> String {
    format!("{:.2} s = {:.0} rows/s", elapsed.as_secs_f64(), rows as f64 / elapsed.as_secs_f64())
}

/// Times one `kpi::report` and checks it counted `expected` tickets.
fn timed_report(config: &Config, store: &Store, from: Timestamp, to: Timestamp, expected: u64) -> (Report, Duration) {
    let start = Instant::now();
    let report = slawatch::engine::kpis::report(config, store, from, to, NOW).expect("report");
    let elapsed = start.elapsed();
    assert_eq!(report.tickets_created, expected);
    (black_box(report), elapsed)
}

/// What the generated year looks like through the report.
fn describe(report: &Report) -> String {
    let percent = |share: Option<f64>| share.map_or("-".to_string(), |s| format!("{:.1}%", s * 100.0));
    let hours = |seconds: Option<f64>| seconds.map_or("-".to_string(), |s| format!("{:.1}h", s / 3_600.0));
    let times = |name: &str, clocks: &slawatch::kpi::report::Clocks| {
        let (f, r) = (&clocks.first_response_time, &clocks.resolution_time);
        format!(
            "{name}: first response median {} p90 {} ({}), resolution median {} p90 {} ({})",
            hours(f.median_seconds),
            hours(f.p90_seconds),
            f.count,
            hours(r.median_seconds),
            hours(r.p90_seconds),
            r.count
        )
    };
    let distributions: Vec<String> = report
        .per_severity
        .iter()
        .chain(&report.per_tier)
        .filter(|(_, clocks)| clocks.first_response_time.count + clocks.resolution_time.count > 0)
        .map(|(name, clocks)| times(name, clocks))
        .collect();
    let at_risk = report.customers.first().map_or("-".to_string(), |c| {
        format!(
            "{} ({} tickets, {} breached, contract {:?})",
            c.name, c.tickets_created, c.breached_tickets, c.contract
        )
    });
    let docs = &report.documentation;
    format!(
        "first response {}, resolution {}, sev2 within a week {}, engineering help {} ({:.0} a month), CSAT {} ({} rated), \
         documentation {} of {} solved questions ({} open), {} customers ({} with vitals; most at risk {at_risk}), \
         {} on a contract, replies median {:?}, regions {:?}; {}",
        percent(report.first_response.attainment),
        percent(report.resolution.attainment),
        percent(report.sev2_resolved_within_week.share),
        percent(report.engineering_help.share),
        report.engineering_help.requests_per_month.unwrap_or_default(),
        percent(report.csat.score),
        report.csat.good + report.csat.bad,
        percent(docs.share),
        docs.solved_questions,
        docs.open_questions,
        report.volume.by_customer.len(),
        report.customers.len(),
        report.customers.iter().filter(|c| c.contract.is_some()).count(),
        report.replies_per_ticket_median,
        report.volume.by_region,
        distributions.join("; ")
    )
}

/// The configuration the bench reports under: the defaults, the documentation share
/// configured, and the cache from `SLAWATCH_BENCH_CACHE_MB`.
fn bench_config(cache_bytes: Option<u64>) -> Config {
    let mut config = Config::defaults();
    config.report.question_types = QUESTION_TYPES.iter().map(|s| s.to_string()).collect();
    config.report.docs_url_prefixes = DOCS_URL_PREFIXES.iter().map(|s| s.to_string()).collect();
    if let Some(bytes) = cache_bytes {
        config.store.cache_bytes = bytes;
    }
    config
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if let Ok(path) = std::env::var(REOPEN) {
        reopened(Path::new(&path));
        return;
    }
    if let Ok(path) = std::env::var(MIGRATE) {
        migrating(Path::new(&path));
        return;
    }
    let tickets = env_u64("SLAWATCH_BENCH_TICKETS", 1_000_000).max(1);
    let runs = env_u64("SLAWATCH_BENCH_RUNS", 3).max(1);
    let config = bench_config(
        std::env::var("SLAWATCH_BENCH_CACHE_MB")
            .ok()
            .map(|mb| mb.parse::<u64>().expect("SLAWATCH_BENCH_CACHE_MB: a number") << 20),
    );
    let cache_bytes = config.store.cache_bytes;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store");

    // Building the store.
    let start = Instant::now();
    let store = Store::open(&path, cache_bytes).expect("store");
    let organizations: Vec<OrganizationRecord> = (0..ORGANIZATIONS)
        .map(|i| OrganizationRecord {
            id: FIRST_ORGANIZATION + i,
            name: format!("Customer {i:04}"),
            tags: Vec::new(),
            fields: serde_json::Map::new(),
        })
        .collect();
    store.save_organizations(&organizations).expect("organizations");
    let opened = memory();
    let mut rng = Rng(0x5EED);
    let mut month_rows = 0;
    let mut batch = Vec::with_capacity(BATCH);
    for index in 0..tickets {
        let row = row(&mut rng, index, tickets);
        month_rows += u64::from((MONTH_FROM..MONTH_TO).contains(&row.created_at));
        batch.push(row);
        if batch.len() == BATCH || index + 1 == tickets {
            store.put_kpi_rows(&batch).expect("put rows");
            batch.clear();
        }
    }
    let written = memory();
    store.flush().expect("flush");
    let (length, allocated) = disk_usage(&path);
    println!(
        "store: {tickets} KPI rows over 2026 ({ORGANIZATIONS} organizations), written in batches of {BATCH} and flushed in {:.1} s; \
         cache {} MiB",
        start.elapsed().as_secs_f64(),
        cache_bytes >> 20
    );
    println!(
        "store on disk: {:.1} MB of files, {:.1} MB allocated ({:.0} bytes a row)",
        length as f64 / 1e6,
        allocated as f64 / 1e6,
        length as f64 / tickets as f64
    );
    println!("memory: store opened: {opened}; rows written: {written}; flushed: {}", memory());

    // (a) The whole year, in the process that wrote the rows; the first run also builds the
    // regions' schedule tables.
    for run in 1..=runs {
        let (report, elapsed) = timed_report(&config, &store, FROM, TO, tickets);
        if run == 1 {
            println!("the year: {}", describe(&report));
        }
        println!("report, whole year, run {run}: {tickets} tickets in {}", rate(tickets, elapsed));
    }
    println!("memory after the year reports: {}", memory());

    // (b) One month.
    for run in 1..=runs {
        let (_, elapsed) = timed_report(&config, &store, MONTH_FROM, MONTH_TO, month_rows);
        println!(
            "report, June 2026, run {run}: {month_rows} tickets in {:.1} ms = {:.0} rows/s",
            elapsed.as_secs_f64() * 1e3,
            month_rows as f64 / elapsed.as_secs_f64()
        );
    }
    drop(store);

    // (c) Cold: the store reopened by a new process (this bench again), so the sled cache, the
    // configuration's schedule tables and the allocator start empty and the peak resident size
    // is the report's alone. First with every row live, as written.
    cold(&path, tickets, cache_bytes, "rows live");

    // (d) The days packed as the daemon's daily job packs them (those that ended a day before
    // the freeze horizon, `[report] freeze_after` 7 days), then cold again.
    let store = reopen(&path, cache_bytes);
    let start = Instant::now();
    let packed = store.pack_kpi_days(NOW - 8 * DAY, &mut || ()).expect("pack");
    store.flush().expect("flush");
    let (length, _) = disk_usage(&path);
    println!(
        "packing: {} days, {} rows in {:.1} s (flushed); {:.1} MB of files after; memory {}",
        packed.days,
        packed.rows,
        start.elapsed().as_secs_f64(),
        length as f64 / 1e6,
        memory()
    );
    drop(store);
    cold(&path, tickets, cache_bytes, "days packed");
    drop(dir);

    // (d) Schema 2 → 3: the same rows as schema 2 kept them, then opened in a new process.
    if std::env::var("SLAWATCH_BENCH_MIGRATION").is_ok_and(|v| v == "0") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("store-v2");
    let start = Instant::now();
    write_schema_two(&path, tickets, cache_bytes);
    let (length, _) = disk_usage(&path);
    println!(
        "schema 2 store: {tickets} unversioned KPI rows in `kpi`, written and flushed in {:.1} s, {:.1} MB of files",
        start.elapsed().as_secs_f64(),
        length as f64 / 1e6
    );
    let status = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .env(MIGRATE, &path)
        .env(REOPEN_EXPECT, tickets.to_string())
        .env(REOPEN_CACHE, cache_bytes.to_string())
        .status()
        .expect("run the migrating process");
    assert!(status.success(), "the migrating process failed: {status}");
}

/// Runs the cold part (`reopened`) in a new process, the store's files first dropped from the
/// OS page cache if SLAWATCH_BENCH_DROP_CACHE=1.
fn cold(path: &Path, tickets: u64, cache_bytes: u64, label: &str) {
    if std::env::var("SLAWATCH_BENCH_DROP_CACHE").is_ok_and(|v| v == "1") {
        drop_page_cache(path);
    }
    println!("-- cold, {label}");
    let status = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .env(REOPEN, path)
        .env(REOPEN_EXPECT, tickets.to_string())
        .env(REOPEN_CACHE, cache_bytes.to_string())
        .status()
        .expect("run the reopening process");
    assert!(status.success(), "the reopening process failed: {status}");
}

/// Set (to the store's path) in the process that reopens the store.
const REOPEN: &str = "SLAWATCH_BENCH_REOPEN";
const REOPEN_EXPECT: &str = "SLAWATCH_BENCH_REOPEN_EXPECT";
const REOPEN_CACHE: &str = "SLAWATCH_BENCH_REOPEN_CACHE";
/// Set (to the schema-2 store's path) in the process that opens it and so migrates it.
const MIGRATE: &str = "SLAWATCH_BENCH_MIGRATE";

/// A store of schema 2 at `path`, written with sled directly: the same rows as the bench's
/// store, postcard without a version byte in the tree `kpi`, and `schema_version` 2.
fn write_schema_two(path: &Path, tickets: u64, cache_bytes: u64) {
    let db = slawatch::store::sled_config(path).cache_capacity(cache_bytes).open().expect("sled");
    let tree = db.open_tree("kpi").expect("kpi tree");
    let mut rng = Rng(0x5EED);
    let mut batch = sled::Batch::default();
    for index in 0..tickets {
        let row = row(&mut rng, index, tickets);
        let bytes = postcard::to_stdvec(&SchemaTwoRow::from(&row)).expect("encode");
        let mut key = instant_key(row.created_at);
        key[8..].copy_from_slice(&row.id.to_be_bytes());
        batch.insert(&key[..], bytes);
        if (index + 1) % BATCH as u64 == 0 || index + 1 == tickets {
            tree.apply_batch(std::mem::take(&mut batch)).expect("write rows");
        }
    }
    db.open_tree("meta")
        .expect("meta tree")
        .insert("schema_version", &2u64.to_be_bytes())
        .expect("schema version");
    db.flush().expect("flush");
}

/// The migration, in its own process: `Store::open` of the schema-2 store (which migrates it),
/// then the whole-year report over the migrated rows.
fn migrating(path: &Path) {
    let tickets = env_u64(REOPEN_EXPECT, 0);
    let cache_bytes = env_u64(REOPEN_CACHE, 16 << 20);
    let config = bench_config(Some(cache_bytes));
    let start = Instant::now();
    let store = Store::open(path, cache_bytes).expect("open and migrate");
    let elapsed = start.elapsed();
    println!(
        "migration: Store::open of the schema 2 store (rows rewritten into kpi_rows, kpi dropped): {}",
        rate(tickets, elapsed)
    );
    println!("memory of the migrating process after the open: {}", memory());
    store.flush().expect("flush");
    let (length, _) = disk_usage(path);
    println!("migrated store: {:.1} MB of files", length as f64 / 1e6);
    let (report, elapsed) = timed_report(&config, &store, FROM, TO, tickets);
    println!(
        "report, whole year, over the migrated rows: {tickets} tickets in {} (documentation measured: {:?})",
        rate(tickets, elapsed),
        report.documentation.share
    );
    drop(store);
    let start = Instant::now();
    let store = reopen(path, cache_bytes);
    println!(
        "migrated store closed and opened again (nothing to migrate): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    drop(store);
    println!("memory of the migrating process at the end: {}", memory());
}

/// Opens a store just closed: sled's flusher lets go of the file lock a moment after the last
/// handle is dropped.
fn reopen(path: &Path, cache_bytes: u64) -> Store {
    let start = Instant::now();
    loop {
        match Store::open(path, cache_bytes) {
            Err(slawatch::store::StoreError::Locked { .. }) if start.elapsed() < Duration::from_secs(5) => {
                std::thread::sleep(Duration::from_millis(5))
            }
            other => return other.expect("reopen"),
        }
    }
}

/// Asks the kernel to drop the store's files from its page cache (`dd iflag=nocache`:
/// `posix_fadvise(DONTNEED)`; the files are clean after the flush).
fn drop_page_cache(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("read store dir").flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            drop_page_cache(&entry.path());
            continue;
        }
        let dropped = std::process::Command::new("dd")
            .arg(format!("if={}", entry.path().display()))
            .args(["iflag=nocache", "count=0", "status=none"])
            .status()
            .is_ok_and(|s| s.success());
        if !dropped {
            println!("could not drop {} from the page cache", entry.path().display());
        }
    }
}

/// The cold part, in its own process: open, the whole-year report, the report again (warm),
/// then where the time goes.
fn reopened(path: &Path) {
    let tickets = env_u64(REOPEN_EXPECT, 0);
    let cache_bytes = env_u64(REOPEN_CACHE, 16 << 20);
    let start = Instant::now();
    let config = bench_config(Some(cache_bytes));
    let store = Store::open(path, cache_bytes).expect("reopen");
    let opened = start.elapsed();
    let (_, elapsed) = timed_report(&config, &store, FROM, TO, tickets);
    println!(
        "cold (new process): config + open {:.1} ms, then report, whole year: {tickets} tickets in {}; together {:.2} s",
        opened.as_secs_f64() * 1e3,
        rate(tickets, elapsed),
        (opened + elapsed).as_secs_f64()
    );
    println!("memory of the new process after the cold report: {}", memory());
    let (_, elapsed) = timed_report(&config, &store, FROM, TO, tickets);
    println!(
        "report, whole year, again in that process: {tickets} tickets in {}",
        rate(tickets, elapsed)
    );
    println!("memory after it: {}", memory());

    // Where the time goes. Through the store: the iterator alone (sled's range scan and
    // postcard decoding, each row dropped at once), then `ReportBuilder::add` alone over rows
    // already in memory.
    let start = Instant::now();
    let mut scanned = 0u64;
    for row in store.kpi_rows(FROM, TO) {
        black_box(row.expect("row"));
        scanned += 1;
    }
    println!(
        "pieces: Store::kpi_rows (sled range scan + postcard decode): {}",
        rate(scanned, start.elapsed())
    );
    let mut rows = Vec::with_capacity(tickets as usize);
    rows.extend(store.kpi_rows(FROM, TO).map(|row| row.expect("row")));
    let organizations = slawatch::engine::kpis::organization_names(&store).expect("organizations");
    let start = Instant::now();
    let mut builder = ReportBuilder::new(&config, &organizations, FROM, TO, NOW);
    for row in &rows {
        builder.add(row);
    }
    let added = start.elapsed();
    let start = Instant::now();
    black_box(builder.finish());
    let finished = start.elapsed();
    println!(
        "pieces: ReportBuilder::add over rows in memory: {}; then finish (distributions selected, customers): {:.1} ms",
        rate(rows.len() as u64, added),
        finished.as_secs_f64() * 1e3
    );
    // One row at a time, as evaluating a frozen ticket reads it: 20,000 rows in creation order
    // (as evaluating every ticket goes, by id), then 20,000 picked at random.
    let mut rng = Rng(0xF00D);
    for (order, picks) in [
        (
            "in creation order",
            (0..20_000).map(|i| i * rows.len() / 20_000).collect::<Vec<_>>(),
        ),
        ("at random", (0..20_000).map(|_| rng.below(rows.len() as u64) as usize).collect()),
    ] {
        let start = Instant::now();
        for &i in &picks {
            let row = &rows[i];
            assert!(store.kpi_row(row.created_at, row.id).expect("kpi_row").is_some());
        }
        println!(
            "pieces: Store::kpi_row, {} rows {order}: {:.1} µs a row",
            picks.len(),
            start.elapsed().as_secs_f64() * 1e6 / picks.len() as f64
        );
    }
    let start = Instant::now();
    drop(rows);
    println!("pieces: dropping those rows: {:.2} s", start.elapsed().as_secs_f64());
    drop(store);

    // sled alone, on the same files and range (the store closed): the scan without decoding,
    // twice (an empty and a used cache), of the live rows and of the packed days, then
    // decoding alone over values already in memory.
    let db = slawatch::store::sled_config(path).cache_capacity(cache_bytes).open().expect("sled");
    let tree = db.open_tree("kpi_rows").expect("kpi_rows tree");
    let bounds = instant_key(FROM)..instant_key(TO);
    for pass in ["reopened", "again"] {
        let start = Instant::now();
        let (mut count, mut bytes) = (0u64, 0usize);
        for entry in tree.range(bounds.clone()) {
            let (_, value) = entry.expect("entry");
            count += 1;
            bytes += value.len();
        }
        println!(
            "pieces: sled range scan alone ({pass}): {} ({:.0} bytes a value)",
            rate(count, start.elapsed()),
            bytes as f64 / count as f64
        );
    }
    let days = db.open_tree("kpi_days").expect("kpi_days tree");
    for pass in ["reopened", "again"] {
        let start = Instant::now();
        let (mut count, mut bytes) = (0u64, 0usize);
        for entry in days.iter() {
            count += 1;
            bytes += entry.expect("entry").1.len();
        }
        println!(
            "pieces: sled scan of the packed days alone ({pass}): {count} days, {:.1} MB, in {:.1} ms",
            bytes as f64 / 1e6,
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    let mut values = Vec::with_capacity(tickets as usize);
    values.extend(tree.range(bounds).map(|entry| entry.expect("entry").1));
    let start = Instant::now();
    let mut replies = 0u64;
    for value in &values {
        // The version byte, then postcard.
        let row: KpiRow = postcard::from_bytes(&value[1..]).expect("decode");
        replies += u64::from(black_box(row).replies);
    }
    black_box(replies);
    println!(
        "pieces: postcard decode alone (rows dropped as they go): {}",
        rate(values.len() as u64, start.elapsed())
    );
}

/// The KPI rows' key of the first ticket created at `at` (as the store writes it: the
/// instant, sign bit flipped, big-endian, then the ticket id).
fn instant_key(at: Timestamp) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&((at as u64) ^ (1 << 63)).to_be_bytes());
    key
}
