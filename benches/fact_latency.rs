//! Fact latency (issue 20 point 1): from a change in the simulated Zendesk (an agent's first
//! reply) to `status` showing it (the ticket's first-response clock met, its facts complete),
//! through the whole daemon (`engine::daemon::run`: polls, the decider, the push worker), with
//! push mode and with the export polls alone. Run with `cargo bench --bench fact_latency`
//! (about a minute on 2 vCPUs after the build; see docs/PERFORMANCE.md). Nothing here asserts a
//! time.
//!
//! Push: the simulated Zendesk posts each change, signed, to the admin listener; world time
//! runs at the wall clock's pace (Zendesk's signatures carry it). Every Zendesk answer waits
//! `SLAWATCH_BENCH_LATENCY_MS` (100) of real time, as the real API's do; replies come
//! `SLAWATCH_BENCH_SPACING_MS` (200) apart, or all at once with `SLAWATCH_BENCH_BURST=1`.
//! Polling only: no webhook; world time runs `SLAWATCH_BENCH_SPEED` (60) times faster so the
//! polls (every 30 s of world time) and the export's one-minute horizon pass quickly, and the
//! latency is told in world seconds. `SLAWATCH_BENCH_REPLIES` (100) replies in each.

/// jemalloc, as the daemon runs (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::sync::Arc;
use std::time::{Duration, Instant};

use slawatch::clock::Clock;
use slawatch::config::Config;
use slawatch::engine::Engine;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk, WebhookShape};
use slawatch::sla::clock::ClockState;
use slawatch::sla::policy::Metric;
use slawatch::store::Store;
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "bench-signing-secret";

fn setting(name: &str, default: f64) -> f64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let replies = setting("SLAWATCH_BENCH_REPLIES", 100.0) as usize;
    let latency = Duration::from_millis(setting("SLAWATCH_BENCH_LATENCY_MS", 100.0) as u64);
    let spacing = if setting("SLAWATCH_BENCH_BURST", 0.0) > 0.0 {
        Duration::ZERO
    } else {
        Duration::from_millis(setting("SLAWATCH_BENCH_SPACING_MS", 200.0) as u64)
    };
    let push = runtime.block_on(run(true, 1.0, replies, latency, spacing));
    println!(
        "push: {replies} replies {} apart, Zendesk answering in {} ms: p50 {:.2} s, p90 {:.2} s, p99 {:.2} s, max {:.2} s (real time)",
        if spacing.is_zero() {
            "0 ms (a burst)".to_string()
        } else {
            format!("{} ms", spacing.as_millis())
        },
        latency.as_millis(),
        push.0,
        push.1,
        push.2,
        push.3
    );
    let speed = setting("SLAWATCH_BENCH_SPEED", 60.0);
    // Replies spread over the poll interval's phases: 7 world seconds apart.
    let polling = runtime.block_on(run(false, speed, replies, latency, Duration::from_secs_f64(7.0 / speed)));
    let world = |real: f64| real * speed;
    println!(
        "polling only (every 30 s, the export's 1-minute horizon), world time at {speed}x: p50 {:.0} s, p90 {:.0} s, p99 {:.0} s, max {:.0} s",
        world(polling.0),
        world(polling.1),
        world(polling.2),
        world(polling.3)
    );
}

/// p50, p90, p99 and the max of the replies' latencies, in real seconds.
async fn run(push: bool, speed: f64, replies: usize, latency: Duration, spacing: Duration) -> (f64, f64, f64, f64) {
    let start = Clock::system().now();
    let clock = Clock::scaled(start - 3600, speed);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: start - 3600,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .expect("sim");
    let customer = sim.add_user("Casey", "casey@example.com", "end-user", None);
    let agent = sim.add_user("Avery Agent", "avery@support.example", "agent", None);
    let tickets: Vec<u64> = (0..replies)
        .map(|_| {
            sim.create_ticket(NewTicket {
                subject: "Down".into(),
                body: "It is down.".into(),
                requester_id: customer,
                tags: vec!["sev1".into()],
                ..NewTicket::default()
            })
        })
        .collect();
    let dir = tempfile::tempdir().expect("dir");
    let webhook = if push {
        "[zendesk.webhook]\nsecret_env = \"UNUSED\"\n".to_string()
    } else {
        String::new()
    };
    let text = format!(
        r#"
goals = []
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "UNUSED"
poll_interval = "30s"
start_time = "2020-01-01T00:00:00Z"
export_requests_per_minute = 10
{webhook}
[policy]
default_tier = "fast"
[tiers.fast]
schedule = "24x7"
targets.sev1 = {{ first_response = "24h" }}
[store]
path = "{store}"
"#,
        url = sim.base_url(),
        store = dir.path().join("store").display(),
    );
    let config = Config::parse("bench.toml", &text).expect("config");
    let client = ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            auth: Auth::ApiToken {
                email: "agent@example.com".into(),
                token: "sim-token".into(),
            },
            requests_per_minute: 700,
            export_requests_per_minute: 10,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        },
        clock.clone(),
    )
    .expect("client");
    let store = Store::open(&config.store.path, config.store.cache_bytes).expect("store");
    let shutdown = CancellationToken::new();
    let mut engine = Engine::new(config, client, store, clock.clone())
        .expect("engine")
        .with_shutdown(shutdown.clone());
    if push {
        engine = engine.with_push(SECRET.to_string());
    }
    let engine = Arc::new(engine);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let url = format!("http://{}/zendesk/webhook", listener.local_addr().expect("address"));
    tokio::spawn(slawatch::admin::serve(listener, engine.clone(), None, shutdown.clone()));
    let daemon = tokio::spawn(slawatch::engine::daemon::run(engine.clone()));
    // Every ticket stored and its facts complete before the first reply.
    while !tickets.iter().all(|&id| met_or_running(&engine, id).is_some()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    sim.set_delay(latency);
    if push {
        sim.set_webhook(&url, SECRET, WebhookShape::Events);
    }
    let mut pending: Vec<(u64, Instant)> = Vec::new();
    let mut seen: Vec<f64> = Vec::new();
    for &id in &tickets {
        sim.add_comment(id, agent, "We found the failing node and are replacing it now.", true);
        pending.push((id, Instant::now()));
        let until = Instant::now() + spacing;
        loop {
            check(&engine, &mut pending, &mut seen);
            if Instant::now() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs_f64(600.0 / speed + 30.0);
    while !pending.is_empty() && Instant::now() < deadline {
        check(&engine, &mut pending, &mut seen);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    shutdown.cancel();
    let _ = daemon.await;
    assert!(pending.is_empty(), "{} replies never shown", pending.len());
    seen.sort_by(f64::total_cmp);
    let pick = |q: f64| seen[((seen.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    (pick(0.50), pick(0.90), pick(0.99), seen[seen.len() - 1])
}

/// Whether the ticket's first response shows met (Some(true)) or running (Some(false)), with
/// its facts complete, as `status` would show it; None before that.
fn met_or_running(engine: &Engine, id: u64) -> Option<bool> {
    let record = engine.store.ticket(id).ok()??;
    let through = engine.store.cursors().ok()?.events_through;
    if !slawatch::engine::apply::facts_complete(&record, through) {
        return None;
    }
    let clocks = engine.clocks(&record, &engine.directory(), engine.clock.now())?;
    Some(clocks.contract(Metric::FirstResponse)?.state == ClockState::Met)
}

fn check(engine: &Engine, pending: &mut Vec<(u64, Instant)>, seen: &mut Vec<f64>) {
    pending.retain(|&(id, at)| {
        if met_or_running(engine, id) == Some(true) {
            seen.push(at.elapsed().as_secs_f64());
            false
        } else {
            true
        }
    });
}
