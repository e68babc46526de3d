//! Alert latency in real time: from a threshold instant to the webhook POST
//! received, through the whole daemon (export polling, the alert timer, the
//! confirming live read, the outbox, HTTP). Run with `cargo bench --bench alert_latency`.
//!
//! World time runs `SPEED` times faster than the wall clock, so 200 tickets
//! with 10-minute targets cross 800 thresholds in under a minute; each
//! threshold instant is mapped back to the wall-clock moment it happened.

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
    let speed: f64 = std::env::var("SLAWATCH_BENCH_SPEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20.0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(speed));
}

async fn run(speed: f64) {
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
poll_interval = "30s"
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
        store = dir.path().join("store").display()
    );
    let config = Config::parse("bench.toml", &text).expect("config");
    let client = ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            auth: Auth::ApiToken {
                email: "agent@example.com".into(),
                token: "sim-token".into(),
            },
            requests_per_minute: 2500,
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
    let daemon = tokio::spawn(slawatch::engine::daemon::run(engine.clone()));

    // One new Severity 1 ticket every 3 world seconds: thresholds at 5, 7.5, 9 and 10 minutes.
    for _ in 0..TICKETS {
        sim.create_ticket(NewTicket {
            subject: "Down".into(),
            body: "It is down.".into(),
            requester_id: customer,
            tags: vec!["sev1".into()],
            ..NewTicket::default()
        });
        clock.sleep(Duration::from_secs(3)).await;
    }
    let expected = TICKETS * 4;
    let deadline = Instant::now() + Duration::from_secs_f64(2.0 * 900.0 / speed + 30.0);
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
    println!("speed {speed}x; {} of {expected} alerts received", latencies.len());
    println!(
        "threshold instant → webhook POST received: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        pick(0.50),
        pick(0.90),
        pick(0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}
