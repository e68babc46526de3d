//! What the end-to-end tests share: a simulated Zendesk and Slack, and an
//! engine on a real sled store, all on one virtual clock.
#![allow(dead_code)]

pub mod binary;
pub mod escalation;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Map};
use slawatch::clock::Clock;
use slawatch::config::{ChannelKind, Config};
use slawatch::engine::poll::PollReport;
use slawatch::engine::Engine;
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};
use slawatch::sla::clock::{ClockState, TicketClocks};
use slawatch::sla::policy::Metric;
use slawatch::sla::time::parse_rfc3339;
use slawatch::store::{Store, StoreError};
use slawatch::zendesk::client::{Auth, ClientOptions, ZendeskClient};

/// Each configured channel pointed at the simulated Slack: Slack hooks at `/services/NAME`,
/// generic webhooks at `/hooks/NAME`.
pub fn channels(config: &Config, slack: &SimSlack) -> BTreeMap<String, (ChannelKind, String)> {
    config
        .notify
        .channels
        .iter()
        .map(|(name, channel)| {
            let url = match channel.kind {
                ChannelKind::Slack => slack.url(name),
                ChannelKind::Webhook => slack.generic_url(name),
            };
            (name.clone(), (channel.kind, url))
        })
        .collect()
}

/// An instant from RFC 3339 text.
pub fn t(text: &str) -> i64 {
    parse_rfc3339(text).unwrap()
}

/// One Slack channel (`support`) that every alert is routed to.
pub const SUPPORT_ONLY: &str = r#"
[notify]
max_backoff = "5m"
[notify.channels.support]
kind = "slack"
url_env = "UNUSED"
[[notify.routes]]
channels = ["support"]
"#;

/// Each Slack message's title (its Block Kit header), in the order received.
pub fn titles(h: &Harness) -> Vec<String> {
    h.slack
        .messages()
        .iter()
        .map(|m| m.body["blocks"][0]["text"]["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Monday 2026-11-30 09:00 PST.
pub const T0: &str = "2026-11-30T17:00:00Z";
pub const ANSWER: &str = "Please upgrade the connector to 4.2.1; the crash you see is fixed there.";

/// Opens a store just closed: sled's background flusher lets go of the file lock a moment
/// after the last handle is dropped.
pub async fn reopen(path: &std::path::Path) -> Store {
    let start = std::time::Instant::now();
    loop {
        match Store::open(path, 8 << 20) {
            Ok(store) => return store,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Opens a store just closed (as `reopen`) from a test without a runtime, handing back any
/// refusal other than the lock so that it can be asserted.
pub fn open_unlocked(open: impl Fn() -> Result<Store, StoreError>) -> Result<Store, StoreError> {
    let start = std::time::Instant::now();
    loop {
        match open() {
            Err(StoreError::Locked { .. }) if start.elapsed() < Duration::from_secs(5) => std::thread::sleep(Duration::from_millis(20)),
            other => return other,
        }
    }
}

/// The store's sled database itself, once the daemon has let go of it.
async fn reopen_raw(path: &std::path::Path) -> sled::Db {
    let start = std::time::Instant::now();
    loop {
        match slawatch::store::sled_config(path).open() {
            Ok(db) => return db,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Each stand-in engine's store is its own (an earlier one may still hold its lock).
static SPARES: AtomicUsize = AtomicUsize::new(0);

pub struct Harness {
    pub sim: SimZendesk,
    pub slack: SimSlack,
    pub clock: Clock,
    pub engine: Engine,
    pub dir: tempfile::TempDir,
    /// The configuration's text, as `Harness::build` wrote it.
    pub config_text: String,
    pub customer: u64,
    pub agent: u64,
    pub bot: u64,
    pub org: u64,
    /// The simulated GitHub the engine files issues in, once attached.
    pub github: Option<slawatch::sim::github::SimGithub>,
}

pub fn client(sim: &SimZendesk, clock: &Clock) -> ZendeskClient {
    let options = ClientOptions {
        base_url: sim.base_url(),
        auth: Auth::ApiToken {
            email: "agent@example.com".into(),
            token: "sim-token".into(),
        },
        requests_per_minute: 10_000,
        export_requests_per_minute: 10_000,
        timeout: Duration::from_secs(10),
        max_attempts: 4,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    ZendeskClient::new(options, clock.clone()).unwrap()
}

pub fn github_client(github: &slawatch::sim::github::SimGithub, clock: &Clock) -> slawatch::github::client::GithubClient {
    slawatch::github::client::GithubClient::new(
        slawatch::github::client::GithubOptions {
            api_url: github.api_url(),
            token: "gh-token".into(),
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            backoff: slawatch::retry::Backoff {
                first: Duration::from_millis(1),
                max: Duration::from_millis(5),
            },
        },
        clock.clone(),
    )
    .unwrap()
}

pub fn config(sim: &SimZendesk, dir: &std::path::Path, bot: u64, extra: &str, page_size: usize) -> Config {
    let text = config_text(sim, dir, bot, extra, page_size);
    Config::parse("test.toml", &text).unwrap_or_else(|e| panic!("{e}"))
}

/// The harness's configuration file, as text (the real binary can be pointed at it).
pub fn config_text(sim: &SimZendesk, dir: &std::path::Path, bot: u64, extra: &str, page_size: usize) -> String {
    format!(
        r#"
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "UNUSED_IN_TESTS"
start_time = "2026-11-01T00:00:00Z"
page_size = {page_size}

[first_response]
bot_user_ids = [{bot}]

[store]
path = "{store}"
cache_mb = 8
{extra}
"#,
        url = sim.base_url(),
        store = dir.join("store").display(),
        page_size = page_size,
    )
}

impl Harness {
    pub async fn new(extra: &str) -> Harness {
        Harness::with_page_size(extra, 1000).await
    }

    pub async fn with_page_size(extra: &str, page_size: usize) -> Harness {
        Harness::build(parse_rfc3339(T0).unwrap(), page_size, |_| extra.to_string()).await
    }

    /// A world that starts at `t0`, with the configuration's extra text written once the
    /// simulated Zendesk exists (so it can name ticket fields added to it).
    pub async fn build(t0: i64, page_size: usize, extra: impl FnOnce(&SimZendesk) -> String) -> Harness {
        // One virtual clock for the world and the daemon: a Retry-After waited out moves both.
        let clock = Clock::manual(t0);
        let sim = SimZendesk::start_with_clock(
            SimOptions {
                start_time: t0,
                ..SimOptions::default()
            },
            clock.clone(),
        )
        .await
        .unwrap();
        let org = sim.add_organization("Acme", &[], Map::from_iter([("deployment".to_string(), json!("self_hosted"))]));
        let customer = sim.add_user("Casey Customer", "casey@acme.example", "end-user", Some(org));
        let agent = sim.add_user("Avery Agent", "avery@support.example", "agent", None);
        let bot = sim.add_user("Triage Bot", "bot@support.example", "agent", None);
        let dir = tempfile::tempdir().unwrap();
        let extra = extra(&sim);
        let config_text = config_text(&sim, dir.path(), bot, &extra, page_size);
        let config = Config::parse("test.toml", &config_text).unwrap_or_else(|e| panic!("{e}"));
        let store = Store::open(&config.store.path, config.store.cache_bytes).unwrap();
        let slack = SimSlack::start().await.unwrap();
        let channels = channels(&config, &slack);
        let engine = Engine::new(config, client(&sim, &clock), store, clock.clone())
            .unwrap()
            .with_channels(channels);
        Harness {
            sim,
            slack,
            clock,
            engine,
            dir,
            config_text,
            customer,
            agent,
            bot,
            org,
            github: None,
        }
    }

    /// A new engine on the same store: what a restart after a crash sees.
    pub async fn restart(&mut self) {
        self.restart_with(|_| {}).await;
    }

    /// Takes the engine out (the harness keeps a stand-in on a spare store), to serve it or to
    /// drop it and let go of the store.
    pub fn take_engine(&mut self) -> Engine {
        let placeholder = Engine::new(
            self.engine.config.clone(),
            client(&self.sim, &self.clock),
            Store::open(
                &self.dir.path().join(format!("spare-{}", SPARES.fetch_add(1, Ordering::Relaxed))),
                1 << 20,
            )
            .unwrap(),
            self.clock.clone(),
        )
        .unwrap();
        std::mem::replace(&mut self.engine, placeholder)
    }

    /// A restart, with `tamper` done to the store's raw trees while the daemon is down (a disk
    /// error, say).
    pub async fn restart_with(&mut self, tamper: impl FnOnce(&sled::Db)) {
        let config = self.engine.config.clone();
        drop(self.take_engine());
        {
            let db = reopen_raw(&config.store.path).await;
            tamper(&db);
            db.flush().unwrap();
        }
        let store = reopen(&config.store.path).await;
        let channels = channels(&config, &self.slack);
        let mut engine = Engine::new(config, client(&self.sim, &self.clock), store, self.clock.clone())
            .unwrap()
            .with_channels(channels);
        if let Some(github) = &self.github {
            engine = engine.with_github(github_client(github, &self.clock));
        }
        self.engine = engine;
    }

    /// Starts a simulated GitHub (token `gh-token`, acting as `slawatch-bot`) with `repo`, and
    /// has the engine file its issues there.
    pub async fn attach_github(&mut self, repo: &str) -> slawatch::sim::github::SimGithub {
        let github = slawatch::sim::github::SimGithub::start("gh-token", "slawatch-bot", self.clock.clone())
            .await
            .unwrap();
        github.add_repo(repo);
        self.github = Some(github.clone());
        self.restart().await;
        github
    }

    /// Moves the world and the daemon's clock together.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(Duration::from_secs(secs as u64));
    }

    /// Moves the world and the daemon's clock on to `at` (RFC 3339).
    pub fn at(&self, at: &str) {
        let delta = t(at) - self.clock.now();
        assert!(delta >= 0, "{at} is in the past");
        self.advance(delta);
    }

    /// Past Zendesk's one-minute horizon, then one poll.
    pub async fn poll(&self) -> PollReport {
        self.advance(61);
        self.engine.poll().await.unwrap()
    }

    pub fn ticket(&self, severity_tag: &str) -> u64 {
        self.sim.create_ticket(NewTicket {
            subject: "Connector crashes".into(),
            body: "The connector crashes on start since this morning.".into(),
            requester_id: self.customer,
            tags: vec![severity_tag.into()],
            ..NewTicket::default()
        })
    }

    pub fn clocks(&self, id: u64) -> TicketClocks {
        let record = self
            .engine
            .store
            .ticket(id)
            .unwrap()
            .unwrap_or_else(|| panic!("ticket {id} not stored"));
        self.engine.clocks(&record, &self.engine.directory(), self.clock.now()).unwrap()
    }

    pub fn state(&self, id: u64, metric: Metric) -> ClockState {
        self.clocks(id).contract(metric).unwrap().state
    }
}
