//! Issue sync at scale (issue 19 point 4): what following 5,000 linked issues costs in GitHub
//! requests and time, and how long a new request for engineering waits to be filed while a sync
//! pass over them runs. Run with `cargo bench --bench issue_sync` (prints figures; about 45 s
//! on 2 vCPUs after the build; see docs/PERFORMANCE.md). Nothing here asserts a time.
//!
//! The state is built directly: 5,000 tickets in the simulated Zendesk (tagged `rfh`), one issue
//! each in the simulated GitHub, filed as the token's own login with the request's marker on
//! its first line, and each ticket's `EscalationRecord` written with `Store::save_escalation` as
//! filing would have left it (noted, announced, no ETags yet), then one poll stores the tickets.
//! 500 issues are open (their tickets on hold), 500 closed whose tickets are still open (read
//! at a tenth of the pace, to see a reopen), and 4,000 closed whose tickets are solved or closed
//! (never read again).
//!
//! Part 1, as the sync worker calls it: `Engine::sync_pass`, then the world's clock moved on by
//! `sync_interval` (5 minutes, the default), as the worker's sleep would. A first pass reads
//! every issue without an ETag; then an hour (12 passes) with nothing changing; then an hour in
//! which 50 open issues get an engineer's comment before each pass (each told to its ticket as
//! a note and to the escalation channel). GitHub's requests are counted by the client (`stats`:
//! sent, 304s) and by the simulated GitHub (per path); a 304 costs no rate limit. No latency is
//! added here: the wall time is the daemon's own (and the simulated services', on the same two
//! cores).
//!
//! Part 2, with the daemon's two workers (`filing_loop`, `sync_loop`) spawned on a new engine on
//! the same store, and every GitHub and Zendesk answer delayed by `SLAWATCH_BENCH_LATENCY_MS`
//! (25 ms) of real time: the simulated GitHub has no delay switch of its own, so a small proxy
//! here holds each request that long before passing it on; the simulated Zendesk has one
//! (`SimZendesk::set_delay`). The open issues are made due, the workers spawned, and while the
//! sync pass runs a ticket is tagged `rfh`, the world moved past Zendesk's one-minute export
//! horizon, and the engine polls; the delay is timed from the poll's start until the simulated
//! GitHub has the issue (in wall time and in the world's time), then the same once the pass is
//! over. The world runs `SLAWATCH_BENCH_SPEED` (10) times faster than the wall clock, so the
//! workers' 5-minute sleeps pass in 30 s.
//!
//! `SLAWATCH_BENCH_ISSUES` (5,000), `SLAWATCH_BENCH_OPEN_ISSUES` (500),
//! `SLAWATCH_BENCH_REOPENABLE` (500: closed issues of tickets still open) and
//! `SLAWATCH_BENCH_COMMENTED` (50 a pass) change the world.

/// jemalloc, as the daemon runs (docs/PERFORMANCE.md).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map};
use slawatch::clock::Clock;
use slawatch::config::{ChannelKind, Config};
use slawatch::engine::Engine;
use slawatch::github::client::{GithubClient, GithubOptions};
use slawatch::marker::IssueMarker;
use slawatch::sim::github::SimGithub;
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};
use slawatch::sla::time::parse_rfc3339;
use slawatch::store::{EscalationRecord, LinkedIssue, RequestRecord, Store};
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};
use tokio_util::sync::CancellationToken;

const REPO: &str = "acme/support-escalations";
const TOKEN: &str = "gh-token";
/// The token's own login: the issues slawatch filed are its.
const BOT: &str = "slawatch-bot";
const ENGINEER: &str = "eng-ana";
/// The world's clock when the state is built (Tuesday 2026-12-01, 00:00 UTC).
const SETUP_AT: &str = "2026-12-01T00:00:00Z";
/// `sync_interval`'s default.
const SYNC_INTERVAL: i64 = 300;
/// Passes in an hour at that interval.
const PASSES: usize = 12;
/// Requests filed while the sync pass runs, and after it.
const FILED_DURING: usize = 4;
const FILED_AFTER: usize = 3;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct World {
    issues: u64,
    open: u64,
    reopenable: u64,
    commented: u64,
    latency: Duration,
    speed: f64,
}

impl World {
    /// Issue `n` (= ticket index `n`, from 1): open; closed with its ticket open; or closed with
    /// its ticket solved or closed.
    fn kind(&self, n: u64) -> (&'static str, bool) {
        if n <= self.open {
            ("hold", true)
        } else if n <= self.open + self.reopenable {
            ("open", false)
        } else if n % 2 == 0 {
            ("solved", false)
        } else {
            ("closed", false)
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let issues = setting("SLAWATCH_BENCH_ISSUES", 5000);
    let open = setting("SLAWATCH_BENCH_OPEN_ISSUES", 500).min(issues);
    let world = World {
        issues,
        open,
        reopenable: setting("SLAWATCH_BENCH_REOPENABLE", 500).min(issues - open),
        commented: setting("SLAWATCH_BENCH_COMMENTED", 50).min(open),
        latency: Duration::from_millis(setting("SLAWATCH_BENCH_LATENCY_MS", 25)),
        speed: setting("SLAWATCH_BENCH_SPEED", 10).max(1) as f64,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(run(world));
}

fn config_text(zendesk: &str, store: &std::path::Path) -> String {
    format!(
        r#"
[zendesk]
url = "{zendesk}"
email = "agent@example.com"
token_env = "UNUSED"
start_time = "2026-11-30T00:00:00Z"

[store]
path = "{store}"

[notify.channels.eng]
kind = "slack"
url_env = "UNUSED"

[escalation]
token_env = "UNUSED_GH"
channel = "eng"
priority_labels = {{ sev1 = "p1", sev2 = "p2" }}

[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "{REPO}"
labels = ["rfh", "customer/{{org}}", "{{priority}}"]
"#,
        store = store.display(),
    )
}

fn zendesk_client(sim: &SimZendesk, clock: &Clock) -> ZendeskClient {
    ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            auth: Auth::ApiToken {
                email: "agent@example.com".into(),
                token: "sim-token".into(),
            },
            // Wide budgets: what is timed is the daemon, not its pacing (see docs/PERFORMANCE.md).
            requests_per_minute: 2500,
            export_requests_per_minute: 1000,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        },
        clock.clone(),
    )
    .expect("zendesk client")
}

/// The daemon's GitHub client options (`cli::daemon`), pointed at `api_url`.
fn github_client(api_url: String, clock: &Clock) -> GithubClient {
    GithubClient::new(
        GithubOptions {
            api_url,
            token: TOKEN.into(),
            timeout: Duration::from_secs(30),
            max_attempts: 4,
            backoff: slawatch::retry::Backoff {
                first: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
        },
        clock.clone(),
    )
    .expect("github client")
}

/// Opens the store (waiting for the last engine's sled to let go of its lock) and an engine on it.
async fn engine(
    config: &Config,
    sim: &SimZendesk,
    slack: &SimSlack,
    github_url: String,
    clock: &Clock,
    shutdown: &CancellationToken,
) -> Engine {
    let started = Instant::now();
    let store = loop {
        match Store::open(&config.store.path, config.store.cache_bytes) {
            Ok(store) => break store,
            Err(error) if started.elapsed() < Duration::from_secs(10) => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("{error}"),
        }
    };
    let channels = BTreeMap::from([("eng".to_string(), (ChannelKind::Slack, slack.url("eng")))]);
    Engine::new(config.clone(), zendesk_client(sim, clock), store, clock.clone())
        .expect("engine")
        .with_channels(channels)
        .with_github(github_client(github_url, clock))
        .with_shutdown(shutdown.clone())
}

/// A proxy in front of the simulated GitHub that holds each request `latency_ms` of real time
/// before passing it on (the simulated GitHub has no delay switch).
struct Proxy {
    target: String,
    http: reqwest::Client,
    latency_ms: AtomicU64,
}

async fn forward(
    axum::extract::State(proxy): axum::extract::State<Arc<Proxy>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let latency = proxy.latency_ms.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let url = format!("{}{}", proxy.target, uri.path_and_query().map_or("", |pq| pq.as_str()));
    let mut request = proxy.http.request(method, url).body(body);
    for (name, value) in &headers {
        if name != axum::http::header::HOST && name != axum::http::header::CONTENT_LENGTH {
            request = request.header(name, value);
        }
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(error) => return (StatusCode::BAD_GATEWAY, error.to_string()).into_response(),
    };
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();
    let mut answer = (status, bytes).into_response();
    for (name, value) in &headers {
        if name != axum::http::header::CONTENT_LENGTH && name != axum::http::header::TRANSFER_ENCODING {
            answer.headers_mut().insert(name, value.clone());
        }
    }
    answer
}

async fn start_proxy(target: String) -> (Arc<Proxy>, String) {
    let proxy = Arc::new(Proxy {
        target,
        http: reqwest::Client::new(),
        latency_ms: AtomicU64::new(0),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let app = axum::Router::new().fallback(forward).with_state(proxy.clone());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (proxy, url)
}

fn issue_path(n: u64) -> String {
    format!("/repos/{REPO}/issues/{n}")
}

/// GitHub requests, as the client and the simulated GitHub counted them, and what else a pass
/// sent: Zendesk requests, Slack posts.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    requests: u64,
    not_modified: u64,
    errors: u64,
    held_back: u64,
    /// Requests the simulated GitHub received (every path the daemon uses).
    received: u64,
    zendesk: u64,
    slack: u64,
    /// The store's flushes (each an fdatasync).
    flushes: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, o: Counts) -> Counts {
        Counts {
            requests: self.requests - o.requests,
            not_modified: self.not_modified - o.not_modified,
            errors: self.errors - o.errors,
            held_back: self.held_back - o.held_back,
            received: self.received - o.received,
            zendesk: self.zendesk - o.zendesk,
            slack: self.slack - o.slack,
            flushes: self.flushes - o.flushes,
        }
    }
}

struct Services {
    sim: SimZendesk,
    github: SimGithub,
    slack: SimSlack,
    /// The highest issue number filed so far.
    numbers: u64,
}

impl Services {
    fn counts(&self, engine: &Engine) -> Counts {
        let stats = &engine.github.as_ref().expect("github").stats;
        let mut received = ["/user".to_string(), "/search/issues".to_string(), format!("/repos/{REPO}/issues")]
            .iter()
            .map(|p| self.github.request_count(p))
            .sum::<u64>();
        for n in 1..=self.numbers {
            received += self.github.request_count(&issue_path(n)) + self.github.request_count(&format!("{}/comments", issue_path(n)));
        }
        Counts {
            requests: stats.requests.load(Ordering::Relaxed),
            not_modified: stats.not_modified.load(Ordering::Relaxed),
            errors: stats.errors.load(Ordering::Relaxed),
            held_back: stats.held_back.load(Ordering::Relaxed),
            received,
            zendesk: self.sim.total_requests(),
            slack: self.slack.messages().len() as u64,
            flushes: engine.store.stats.syncs.load(Ordering::Relaxed),
        }
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One row of the first table: passes of the sync as the worker makes them.
struct Hour {
    label: String,
    total: Counts,
    /// Each pass: wall time, GitHub requests, of which 304.
    passes: Vec<(Duration, u64, u64)>,
    remaining: i64,
}

/// `passes` sync passes, each followed by the worker's sleep (the world's clock moved on by
/// `sync_interval`); before each, `comment(pass)` lets engineering comment.
async fn passes(services: &Services, engine: &Engine, label: String, count: usize, comment: impl Fn(usize)) -> Hour {
    let clock = &engine.clock;
    let before = services.counts(engine);
    let mut passes = Vec::with_capacity(count);
    for pass in 0..count {
        comment(pass);
        let stats = &engine.github.as_ref().expect("github").stats;
        let (requests, not_modified) = (stats.requests.load(Ordering::Relaxed), stats.not_modified.load(Ordering::Relaxed));
        let started = Instant::now();
        let done = engine.sync_pass().await.expect("sync pass");
        let took = started.elapsed();
        if done.failed > 0 {
            eprintln!("warning: {label}, pass {}: {} issues could not be read", pass + 1, done.failed);
        }
        passes.push((
            took,
            stats.requests.load(Ordering::Relaxed) - requests,
            stats.not_modified.load(Ordering::Relaxed) - not_modified,
        ));
        clock.set(clock.now() + SYNC_INTERVAL);
    }
    Hour {
        label,
        total: services.counts(engine) - before,
        passes,
        remaining: engine.github.as_ref().expect("github").stats.rate_remaining.load(Ordering::Relaxed),
    }
}

/// One filing timed: from the poll that sees the tag to the issue in the simulated GitHub.
struct Filing {
    poll: Duration,
    /// Zendesk requests the poll made.
    poll_requests: u64,
    total: Duration,
    world_ms: i64,
    github_requests: u64,
    /// Issues the running sync pass had read when the issue was filed (of those due).
    sync_progress: usize,
}

async fn run(world: World) {
    let setup_at = parse_rfc3339(SETUP_AT).expect("setup instant");
    let clock = Clock::scaled(setup_at, world.speed);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: setup_at,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .expect("sim zendesk");
    let github = SimGithub::start(TOKEN, BOT, clock.clone()).await.expect("sim github");
    github.add_repo(REPO);
    let slack = SimSlack::start().await.expect("sim slack");
    let org = sim.add_organization("Acme", &[], Map::from_iter([("deployment".to_string(), json!("self_hosted"))]));
    let customer = sim.add_user("Casey Customer", "casey@acme.example", "end-user", Some(org));
    let dir = tempfile::tempdir().expect("dir");
    let config = Config::parse("bench.toml", &config_text(&sim.base_url(), &dir.path().join("store"))).expect("config");
    let mut services = Services {
        sim,
        github,
        slack,
        numbers: world.issues,
    };
    let shutdown = CancellationToken::new();
    let engine_a = engine(
        &config,
        &services.sim,
        &services.slack,
        services.github.api_url(),
        &clock,
        &shutdown,
    )
    .await;
    let account = engine_a.account();

    // The state: tickets, their issues (numbered as the tickets, from 1), their records.
    let started = Instant::now();
    let mut records = Vec::with_capacity(world.issues as usize);
    for n in 1..=world.issues {
        let (status, open) = world.kind(n);
        let ticket = services.sim.create_ticket(NewTicket {
            subject: format!("Connector crash {n}"),
            body: "The connector crashes on start.".into(),
            requester_id: customer,
            status: status.into(),
            tags: vec![
                "sev2".into(),
                "rfh".into(),
                config.escalation.as_ref().expect("escalation").filed_tag.clone(),
            ],
            ..NewTicket::default()
        });
        let body = format!(
            "{}\n### Connector crash {n}\nZendesk ticket #{ticket}, customer Acme.",
            IssueMarker::new(&account, ticket, 1).line()
        );
        let number = services
            .github
            .create_issue_as(REPO, BOT, &format!("[rfh] Connector crash {n}"), &body);
        assert_eq!(number, n, "issues are numbered as their tickets");
        if !open {
            services.github.set_open(REPO, number, false);
        }
        records.push(EscalationRecord {
            ticket_id: ticket,
            matching: true,
            requests: vec![RequestRecord {
                number: 1,
                rule: "help".into(),
                repository: REPO.into(),
                decided_at: clock.now(),
                issue: Some(LinkedIssue {
                    number,
                    url: format!("https://github.example/{REPO}/issues/{number}"),
                    open,
                    ..LinkedIssue::default()
                }),
                noted: true,
                announced: true,
                next_attempt_ms: clock.now_ms(),
                ..RequestRecord::default()
            }],
        });
    }
    let world_built = started.elapsed();
    let started = Instant::now();
    slawatch::sync::blocking(|| {
        for record in &records {
            engine_a.store.save_escalation(record).expect("save escalation");
        }
    });
    let records_written = started.elapsed();
    // Past Zendesk's one-minute export horizon, then the poll that stores the tickets.
    clock.set(clock.now() + 3600);
    let started = Instant::now();
    let report = engine_a.poll().await.expect("poll");
    let polled = started.elapsed();
    let stored = engine_a.store.ticket_count();
    let pending = engine_a
        .store
        .escalations()
        .expect("escalations")
        .iter()
        .filter(|e| e.has_pending())
        .count();
    println!(
        "issue sync: {} linked issues ({} open; {} closed with the ticket open; {} closed, ticket solved or closed); \
         sync_interval {} s; world {}x the wall clock",
        thousands(world.issues),
        world.open,
        world.reopenable,
        thousands(world.issues - world.open - world.reopenable),
        SYNC_INTERVAL,
        world.speed
    );
    println!(
        "setup: tickets and issues {:.1} s; {} records through save_escalation {:.1} s ({:.2} ms each); \
         poll {:.1} s ({} tickets changed, {} stored); requests still pending: {pending}",
        world_built.as_secs_f64(),
        thousands(world.issues),
        records_written.as_secs_f64(),
        ms(records_written) / world.issues as f64,
        polled.as_secs_f64(),
        report.tickets_changed,
        stored,
    );

    // Part 1: the passes as the worker makes them, no latency.
    let cold = passes(&services, &engine_a, "first pass (no ETags yet)".into(), 1, |_| {}).await;
    let quiet = passes(&services, &engine_a, "an hour, nothing changes".into(), PASSES, |_| {}).await;
    let commented = passes(
        &services,
        &engine_a,
        format!("an hour, {} new comments an interval", world.commented),
        PASSES,
        |pass| {
            for j in 0..world.commented {
                let n = 1 + (pass as u64 * world.commented + j) % world.open;
                services
                    .github
                    .comment(REPO, n, ENGINEER, "Reproduced on 4.2.0; a fix is in review.");
            }
        },
    )
    .await;
    // What every pass reads besides GitHub: every escalation record, and the ticket of each
    // closed issue (to know whether it is done with).
    let (mut reads, mut ticket_reads) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let started = Instant::now();
        let all = slawatch::sync::blocking(|| engine_a.store.escalations()).expect("escalations");
        reads.push(ms(started.elapsed()));
        assert_eq!(all.len() as u64, world.issues);
        let started = Instant::now();
        let done = slawatch::sync::blocking(|| {
            records[world.open as usize..]
                .iter()
                .filter(|r| engine_a.store.ticket(r.ticket_id).ok().flatten().is_none_or(|t| !t.is_open()))
                .count()
        });
        ticket_reads.push(ms(started.elapsed()));
        assert_eq!(done as u64, world.issues - world.open - world.reopenable);
    }

    println!();
    println!("| sync passes, no added latency | passes | GitHub requests | 304 (free) | cost rate limit | x-ratelimit-remaining after | pass wall time, median (max) | store flushes | Zendesk requests | Slack posts |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for hour in [&cold, &quiet, &commented] {
        let times: Vec<f64> = hour.passes.iter().map(|p| ms(p.0)).collect();
        let max = times.iter().copied().fold(0.0, f64::max);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} ms ({:.0} ms) | {} | {} | {} |",
            hour.label,
            hour.passes.len(),
            thousands(hour.total.requests),
            thousands(hour.total.not_modified),
            thousands(hour.total.requests - hour.total.not_modified),
            hour.remaining,
            median(&times),
            max,
            thousands(hour.total.flushes),
            thousands(hour.total.zendesk),
            hour.total.slack,
        );
        if hour.total.received != hour.total.requests || hour.total.errors + hour.total.held_back > 0 {
            println!(
                "  (the simulated GitHub received {}; errors {}, held back {})",
                hour.total.received, hour.total.errors, hour.total.held_back
            );
        }
    }
    for hour in [&quiet, &commented] {
        let each: Vec<String> = hour
            .passes
            .iter()
            .map(|(took, requests, not_modified)| format!("{requests}/{} in {:.0} ms", requests - not_modified, ms(*took)))
            .collect();
        println!("{}, pass by pass (requests / cost rate limit): {}", hour.label, each.join(", "));
    }
    println!(
        "reading every escalation record (Store::escalations, {} records): median {:.1} ms of 5; \
         the tickets of the {} closed issues: median {:.1} ms of 5",
        thousands(world.issues),
        median(&reads),
        thousands(world.issues - world.open),
        median(&ticket_reads),
    );

    // Part 2: the two workers, on a new engine behind the latency.
    drop(engine_a);
    let (proxy, proxy_url) = start_proxy(services.github.api_url()).await;
    proxy.latency_ms.store(world.latency.as_millis() as u64, Ordering::Relaxed);
    services.sim.set_delay(world.latency);
    let engine_b = Arc::new(engine(&config, &services.sim, &services.slack, proxy_url, &clock, &shutdown).await);
    // What a daemon running for a while knows: the directory, and its GitHub login.
    engine_b.poll().await.expect("poll");
    let login = engine_b.github.as_ref().expect("github").own_login().await.expect("login");
    assert_eq!(login, BOT);
    // The open issues (and the closed ones of open tickets, if their time has come) due now.
    clock.set(clock.now() + SYNC_INTERVAL);
    let now_ms = clock.now_ms();
    let due: Vec<u64> = engine_b
        .store
        .escalations()
        .expect("escalations")
        .iter()
        .filter_map(|e| e.requests[0].issue.as_ref())
        .filter(|i| {
            let every = match (i.open, world.kind(i.number).0) {
                (true, _) => Some(SYNC_INTERVAL * 1000),
                (false, "open") => Some(SYNC_INTERVAL * 1000 * slawatch::engine::escalate::CLOSED_ISSUE_PACE),
                _ => None,
            };
            every.is_some_and(|every| now_ms - i.synced_at_ms >= every)
        })
        .map(|i| i.number)
        .collect();
    let baseline: Vec<u64> = due.iter().map(|&n| services.github.request_count(&issue_path(n))).collect();
    let progress = |github: &SimGithub| -> usize {
        due.iter()
            .zip(&baseline)
            .filter(|(&n, &before)| github.request_count(&issue_path(n)) > before)
            .count()
    };
    let pass_started = Instant::now();
    let filing = tokio::spawn(slawatch::engine::escalate::filing_loop(engine_b.clone()));
    let syncing = tokio::spawn(slawatch::engine::escalate::sync_loop(engine_b.clone()));
    while progress(&services.github) < due.len().min(20) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut during = Vec::new();
    let mut filed_tickets = Vec::new();
    let mut pass_took = None;
    for round in 0..FILED_DURING + FILED_AFTER {
        if round == FILED_DURING {
            while progress(&services.github) < due.len() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            pass_took = Some(pass_started.elapsed());
        }
        let ticket = services.sim.create_ticket(NewTicket {
            subject: "Exports hang".into(),
            body: "Exports hang at 99%.".into(),
            requester_id: customer,
            tags: vec!["sev1".into(), "rfh".into()],
            ..NewTicket::default()
        });
        filed_tickets.push(ticket);
        clock.set(clock.now() + 61);
        let created = services.github.create_count();
        let requests = services.github.request_count("/search/issues") + services.github.request_count(&format!("/repos/{REPO}/issues"));
        let zendesk = services.sim.total_requests();
        let (started, world_started) = (Instant::now(), clock.now_ms());
        engine_b.poll().await.expect("poll");
        let poll = started.elapsed();
        let poll_requests = services.sim.total_requests() - zendesk;
        while services.github.create_count() == created {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let total = started.elapsed();
        let world_ms = clock.now_ms() - world_started;
        services.numbers += 1;
        during.push(Filing {
            poll,
            poll_requests,
            total,
            world_ms,
            github_requests: services.github.request_count("/search/issues")
                + services.github.request_count(&format!("/repos/{REPO}/issues"))
                - requests,
            sync_progress: progress(&services.github),
        });
        // The link-back and the announcement, before the next ticket.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    shutdown.cancel();
    let _ = filing.await;
    let _ = syncing.await;
    let issues = services.github.issues(REPO);
    let duplicates: Vec<u64> = filed_tickets
        .iter()
        .copied()
        .filter(|&t| {
            let marker = IssueMarker::new(&account, t, 1).line();
            issues.iter().filter(|i| i.body.starts_with(&marker)).count() != 1
        })
        .collect();

    let latency = world.latency.as_millis();
    println!();
    println!(
        "filing while the sync worker runs (every GitHub and Zendesk answer after {latency} ms; {} issues due in the pass; \
         the pass read them in {:.1} s, {:.0} ms an issue)",
        due.len(),
        pass_took.map_or(f64::NAN, |d| d.as_secs_f64()),
        pass_took.map_or(f64::NAN, |d| ms(d) / due.len().max(1) as f64),
    );
    println!("| ticket tagged `rfh` | poll (wall; Zendesk requests) | poll start → issue created (wall) | same, world time | GitHub requests to file | sync pass: issues read when filed |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (round, f) in during.iter().enumerate() {
        println!(
            "| {} {} | {:.0} ms ({}) | {:.0} ms | {:.1} s | {} | {} of {} |",
            if round < FILED_DURING {
                "during the pass,"
            } else {
                "after the pass,"
            },
            round + 1,
            ms(f.poll),
            f.poll_requests,
            ms(f.total),
            f.world_ms as f64 / 1000.0,
            f.github_requests,
            f.sync_progress,
            due.len(),
        );
    }
    if !duplicates.is_empty() {
        println!("warning: tickets without exactly one issue: {duplicates:?}");
    }
    println!(
        "(world time runs {}x the wall clock; Zendesk's one-minute export horizon and the poll interval come before the poll)",
        world.speed
    );
}
