//! Alert latency in real time: from a threshold instant to the webhook POST
//! received, through the whole daemon (export polling, the alert timer, the
//! confirming live read, the outbox, HTTP). Run with `cargo bench --bench alert_latency`.
//!
//! World time runs `SPEED` times faster than the wall clock, so 200 tickets
//! with 10-minute targets cross 800 thresholds in under a minute; each
//! threshold instant is mapped back to the wall-clock moment it happened.
//!
//! With `SLAWATCH_BENCH_ZENDESK_RPM=10` Zendesk allows that many requests a minute (429 with
//! `Retry-After` past it, and the daemon's budget set to it unless `SLAWATCH_BENCH_CLIENT_RPM`
//! says otherwise), a ticket opens every
//! `SLAWATCH_BENCH_SPACING` world seconds and each gets a customer follow-up two minutes in:
//! the polls, the confirmations and the user lookups share the budget, and the delay from a
//! threshold to its delivery is told in world seconds. `SLAWATCH_BENCH_POLL` sets the poll
//! interval (30s).

/// jemalloc: glibc's allocator spent half of ingestion in malloc and free (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slawatch::clock::Clock;
use slawatch::config::{ChannelKind, Config};
use slawatch::engine::Engine;
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};
use slawatch::store::Store;
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
use tokio_util::sync::CancellationToken;

const TICKETS: usize = 200;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let setting = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<f64>().ok());
    let budget = setting("SLAWATCH_BENCH_ZENDESK_RPM").map(|rpm| rpm as u32);
    let bench = Bench {
        speed: setting("SLAWATCH_BENCH_SPEED").unwrap_or(20.0),
        budget,
        own_budget: setting("SLAWATCH_BENCH_CLIENT_RPM").map(|rpm| rpm as u32).or(budget),
        spacing: setting("SLAWATCH_BENCH_SPACING").map_or(if budget.is_some() { 180 } else { 3 }, |s| s as u64),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(bench));
}

struct Bench {
    speed: f64,
    /// Zendesk's requests a minute, if limited.
    budget: Option<u32>,
    /// The daemon's own budget (`requests_per_minute`), if limited: Zendesk's unless told.
    own_budget: Option<u32>,
    /// World seconds between two new tickets.
    spacing: u64,
}

async fn run(
    Bench {
        speed,
        budget,
        own_budget,
        spacing,
    }: Bench,
) {
    let start = Clock::system().now();
    let clock = Clock::scaled(start, speed);
    let options = SimOptions {
        start_time: start,
        ..SimOptions::default()
    };
    let sim = SimZendesk::start_with_clock(options, clock.clone()).await.expect("sim");
    let hooks = SimSlack::start().await.expect("slack");
    let customer = sim.add_user("Casey", "casey@example.com", "end-user", None);
    let dir = tempfile::tempdir().expect("dir");
    let text = format!(
        r#"
goals = []
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "UNUSED"
poll_interval = "{poll}"
start_time = "2020-01-01T00:00:00Z"
export_requests_per_minute = 30
[policy]
default_tier = "fast"
[tiers.fast]
schedule = "24x7"
targets.sev1 = {{ first_response = "10m" }}
[notify.channels.hook]
kind = "webhook"
url_env = "UNUSED"
[[notify.routes]]
channels = ["hook"]
[store]
path = "{store}"
"#,
        url = sim.base_url(),
        store = dir.path().join("store").display(),
        poll = std::env::var("SLAWATCH_BENCH_POLL").unwrap_or_else(|_| "30s".to_string()),
    );
    let config = Config::parse("bench.toml", &text).expect("config");
    let client = ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            auth: Auth::ApiToken {
                email: "agent@example.com".into(),
                token: "sim-token".into(),
            },
            requests_per_minute: own_budget.unwrap_or(2500),
            export_requests_per_minute: 30,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        },
        clock.clone(),
    )
    .expect("client");
    let store = Store::open(&config.store.path, config.store.cache_bytes).expect("store");
    let channels = BTreeMap::from([("hook".to_string(), (ChannelKind::Webhook, hooks.generic_url("hook")))]);
    let shutdown = CancellationToken::new();
    let engine = Arc::new(
        Engine::new(config, client, store, clock.clone())
            .expect("engine")
            .with_channels(channels)
            .with_shutdown(shutdown.clone()),
    );
    sim.set_rate_limit(budget);
    let daemon = tokio::spawn(slawatch::engine::daemon::run(engine.clone()));

    // One new Severity 1 ticket every `spacing` world seconds (thresholds at 5, 7.5, 9 and 10
    // minutes), each with a customer's follow-up two minutes in (when the budget is limited).
    let mut follow_ups = std::collections::VecDeque::new();
    for _ in 0..TICKETS {
        let id = sim.create_ticket(NewTicket {
            subject: "Down".into(),
            body: "It is down.".into(),
            requester_id: customer,
            tags: vec!["sev1".into()],
            ..NewTicket::default()
        });
        if budget.is_some() {
            follow_ups.push_back((clock.now() + 120, id));
        }
        for _ in 0..spacing {
            while follow_ups.front().is_some_and(|(at, _)| *at <= clock.now()) {
                if let Some((_, id)) = follow_ups.pop_front() {
                    sim.add_comment(id, customer, "Any news? We are still down.", true);
                }
            }
            clock.sleep(Duration::from_secs(1)).await;
        }
    }
    for (_, id) in follow_ups {
        sim.add_comment(id, customer, "Any news? We are still down.", true);
    }
    let expected = TICKETS * 4;
    let deadline = Instant::now() + Duration::from_secs_f64(3600.0 / speed + 30.0);
    while hooks.messages().len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    let _ = daemon.await;

    let mut latencies: Vec<f64> = Vec::new();
    for message in hooks.messages() {
        let key = message.body["alert"]["key"].as_str().unwrap_or_default().to_string();
        let Some(alert) = engine.store.alert(&key).ok().flatten() else {
            continue;
        };
        let Some(instant) = clock.real_instant_of(alert.at * 1000) else {
            continue;
        };
        latencies.push(message.received_at.saturating_duration_since(instant).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(f64::NAN)
    };
    // What became of the thresholds not received (superseded by a later point by the time
    // they were decided, say).
    let mut fates: BTreeMap<String, usize> = BTreeMap::new();
    for id in 1..=TICKETS as u64 {
        for alert in engine.store.alerts_of(id).unwrap_or_default() {
            let fate = format!("{:?}", alert.status);
            *fates
                .entry(fate.split([' ', '{']).next().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    println!(
        "speed {speed}x; {} of {expected} alerts received; decided: {fates:?}",
        latencies.len()
    );
    println!(
        "threshold instant → webhook POST received: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pick(0.50),
        pick(0.90),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    if let Some(rpm) = budget {
        let world = |ms: f64| ms * speed / 1000.0;
        println!(
            "at {rpm} Zendesk requests a minute, in world time: p50 {:.1} s, p90 {:.1} s, p99 {:.1} s, max {:.1} s; {} requests, {} answered 429",
            world(pick(0.50)),
            world(pick(0.90)),
            world(pick(0.99)),
            world(latencies.last().copied().unwrap_or(f64::NAN)),
            sim.total_requests(),
            engine.client.stats.rate_limited.load(std::sync::atomic::Ordering::Relaxed),
        );
    }
}
