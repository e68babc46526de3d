//! `slawatch demo`: the simulated Zendesk, Slack and GitHub and the real daemon in
//! one process, in accelerated time, with a scripted support week: tickets of both
//! tiers and severities, acknowledgements and real answers, a pending ticket, a
//! custom contract, a reply seconds before a deadline, breaches, and a request for
//! engineering filed as a GitHub issue that engineering answers and closes. Each
//! Slack message is printed as a support engineer would read it, each issue as
//! engineering would, and the Severity 1 breach's page (simulated PagerDuty) as
//! on-call gets it, then its resolve once the ticket is answered.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

/// Prints a line; a reader that went away (`| head`) ends nothing but the printing.
macro_rules! say {
    ($($arg:tt)*) => {
        crate::cli::write_stdout(&format!("{}\n", format_args!($($arg)*)))
    };
}
use chrono::TimeZone;
use serde_json::{json, Map, Value};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{ChannelKind, Config};
use crate::engine::Engine;
use crate::github::client::{GithubClient, GithubOptions};
use crate::sim::github::{IssueView, SimGithub};
use crate::sim::pagerduty::SimPagerDuty;
use crate::sim::slack::SimSlack;
use crate::sim::zendesk::{NewTicket, SimOptions, SimZendesk, WebhookShape};
use crate::sla::time::{parse_rfc3339, Timestamp};
use crate::store::Store;
use crate::zendesk::client::{Auth, ClientOptions, ZendeskClient};

pub struct DemoOptions {
    /// World seconds per real second (3600: one hour a second).
    pub speed: f64,
    /// Where the admin HTTP listens (`slawatch status` asks there).
    pub admin: SocketAddr,
    /// Stop after this much world time; None: run until Ctrl-C.
    pub run_for: Option<Duration>,
}

/// Sunday 2026-11-29 10:00 in Los Angeles: the managed customer's clock runs through the
/// weekend, the self-hosted ones wait for Monday 09:00.
const WORLD_START: &str = "2026-11-29T10:00:00-08:00";

const DEMO_CONFIG: &str = r#"
[zendesk]
url = "{zendesk}"
email = "demo@slawatch.example"
token_env = "SLAWATCH_DEMO_TOKEN"
poll_interval = "5m"
start_time = "2026-11-29T00:00:00Z"
requests_per_minute = 700
export_requests_per_minute = 30

# Push mode: the simulated Zendesk posts each ticket change, signed, to the admin listener.
[zendesk.webhook]
secret_env = "SLAWATCH_DEMO_WEBHOOK_SECRET"

[alerts]
reminder_every = "1d"

[contracts.initech-elite]
tier = "self-hosted"
schedule = "24x7"
targets.sev1 = { first_response = "4h", resolution = "24h" }

[customers]
tier_field = "deployment"
tier_values = { managed = "managed", self_hosted = "self-hosted" }
contract_field = "contract"

[notify]
internal_notes = "breaches"
# Severity 1 breaches page on-call (the simulated PagerDuty), and resolve when answered.
[notify.channels.pager]
kind = "pagerduty"
routing_key_env = "SLAWATCH_DEMO_PAGERDUTY"
url = "{pagerduty}"
[notify.channels.oncall]
kind = "slack"
url_env = "SLAWATCH_DEMO_ONCALL"
[notify.channels.support]
kind = "slack"
url_env = "SLAWATCH_DEMO_SUPPORT"
[[notify.routes]]
severities = ["sev1"]
kinds = ["contract"]
points = ["breach"]
channels = ["pager", "oncall"]
[[notify.routes]]
severities = ["sev1"]
kinds = ["contract"]
channels = ["oncall"]
[[notify.routes]]
channels = ["support"]

# Whom a Slack alert wakes: Avery, by e-mail (Slack shows the member id as @Avery).
[people]
slack_users = { "avery@support.example" = "U0AVERY01" }

[escalation]
token_env = "SLAWATCH_DEMO_GITHUB"
channel = "support"
sync_interval = "15m"
priority_labels = { sev1 = "p1", sev2 = "p2" }
[[escalation.rules]]
name = "help"
tag = "rfh"
repository = "acme/support-escalations"
labels = ["rfh", "customer/{org}", "{priority}"]

# Which tickets are usage questions, and where the documentation lives: the digest says how
# many of the questions solved were answered with a link to it.
[report]
type_field = {type_field}
question_types = ["question"]
docs_url_prefixes = ["https://docs.example.com"]

# The week's KPIs, posted early on Wednesday once the script's tickets are all in.
[report.digest]
cron = "0 0 6 * * Wed"
route = ["support"]

[store]
path = "{store}"
cache_mb = 16

[admin]
listen = "{admin}"
"#;

struct World {
    sim: SimZendesk,
    github: SimGithub,
    agents: [u64; 2],
}

/// The simulated PagerDuty integration's routing key.
const PAGERDUTY_KEY: &str = "demo-routing-key";

/// The repository engineering's issues are filed in.
const REPO: &str = "acme/support-escalations";
/// The demo webhook's signing secret (the simulated Zendesk signs with it).
const WEBHOOK_SECRET: &str = "demo-webhook-signing-secret";

/// Ticket ids the script's steps share, by a short name.
type Tickets = BTreeMap<&'static str, u64>;

/// What a step does to the world.
type Action = Box<dyn Fn(&World, &mut Tickets) + Send>;

/// One scripted change, at a world instant.
struct Step {
    at: &'static str,
    /// What happens, as the demo prints it.
    say: &'static str,
    run: Action,
}

fn step(at: &'static str, say: &'static str, run: impl Fn(&World, &mut Tickets) + Send + 'static) -> Step {
    Step {
        at,
        say,
        run: Box::new(run),
    }
}

fn org_fields(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect()
}

/// The week, as it happens.
fn script(customers: BTreeMap<&'static str, u64>, type_field: u64) -> Vec<Step> {
    let id_of = |name: &str| customers.get(name).copied().unwrap_or_default();
    let (acme, globex, initech) = (id_of("acme"), id_of("globex"), id_of("initech"));
    let ticket = move |subject: &str, body: &str, requester: u64, tags: &[&str]| NewTicket {
        subject: subject.into(),
        body: body.into(),
        requester_id: requester,
        tags: tags.iter().map(|t| t.to_string()).collect(),
        ..NewTicket::default()
    };
    let question = move |subject: &str, body: &str, requester: u64, tags: &[&str]| NewTicket {
        custom_fields: vec![(type_field, json!("question"))],
        ..ticket(subject, body, requester, tags)
    };
    vec![
        step(
            "2026-11-29T10:00:00-08:00",
            "Globex (managed, 24x7) opens a Severity 1 (instance down) and a Severity 2 (SSO question)",
            move |w, t| {
                let id = w.sim.create_ticket(ticket(
                    "Production instance returns 502",
                    "Every request to our managed instance fails with 502 since 09:40.",
                    globex,
                    &["sev1"],
                ));
                t.insert("globex-down", id);
                let id = w.sim.create_ticket(question(
                    "SSO setup question",
                    "Which SAML attributes do you need for group sync?",
                    globex,
                    &["sev2"],
                ));
                t.insert("globex-sso", id);
            },
        ),
        step(
            "2026-11-30T09:05:00-08:00",
            "Acme (self-hosted, business hours) opens a Severity 1 (connector crash, assigned to Avery) and a Severity 2 (typo)",
            move |w, t| {
                let id = w.sim.create_ticket(ticket(
                    "Connector crashes on start",
                    "Since the upgrade the connector crashes at start; log attached.",
                    acme,
                    &["sev1"],
                ));
                w.sim.set_assignee(id, Some(w.agents[0]), w.agents[0]);
                t.insert("acme-crash", id);
                let id = w.sim.create_ticket(ticket(
                    "Typo on the settings page",
                    "The settings page says 'Setings'.",
                    acme,
                    &["sev2"],
                ));
                t.insert("acme-typo", id);
            },
        ),
        step(
            "2026-11-30T09:15:00-08:00",
            "Avery acknowledges the crash: \"Hi! We're on it.\" (not a first response)",
            |w, t| w.sim.add_comment(t["acme-crash"], w.agents[0], "Hi! We're on it.", true),
        ),
        step(
            "2026-11-30T15:00:00-08:00",
            "Sam answers Globex's outage, five hours past its deadline: the page resolves",
            |w, t| {
                w.sim.add_comment(
                    t["globex-down"],
                    w.agents[1],
                    "The load balancer in front of your instance lost its certificate; it is renewed and requests succeed again.",
                    true,
                )
            },
        ),
        step("2026-11-30T09:30:00-08:00", "Sam answers Globex's SSO question", |w, t| {
            w.sim.add_comment(
                t["globex-sso"],
                w.agents[1],
                "We need NameID, email and a groups attribute; the guide is at https://docs.example.com/sso#saml.",
                true,
            )
        }),
        step(
            "2026-11-30T10:00:00-08:00",
            "Initech (custom contract: 4 h first response, 24x7) opens a Severity 1; Acme asks a question with no severity (unclassified)",
            move |w, t| {
                let id = w.sim.create_ticket(ticket(
                    "Data export fails with timeout",
                    "The nightly export times out after 30 minutes.",
                    initech,
                    &["sev1"],
                ));
                t.insert("initech-export", id);
                let id = w.sim.create_ticket(question(
                    "How do I rotate API keys?",
                    "Is there a way to rotate keys without downtime?",
                    acme,
                    &[],
                ));
                t.insert("acme-keys", id);
            },
        ),
        step(
            "2026-11-30T11:00:00-08:00",
            "Sam answers the typo ticket and sets it pending (waiting on Acme)",
            |w, t| {
                w.sim.add_comment(
                    t["acme-typo"],
                    w.agents[1],
                    "Thanks! Fixed in the next release (4.3); could you confirm the page you saw it on?",
                    true,
                );
                w.sim.set_status(t["acme-typo"], "pending", w.agents[1]);
            },
        ),
        step(
            "2026-11-30T13:59:50-08:00",
            "Avery answers Initech ten seconds before its 14:00 deadline: no breach alert will go out",
            |w, t| {
                // Ten seconds before Initech's 4-hour deadline: the exports will not show this for a
                // minute, so only the live read before the breach alert sees it.
                w.sim.add_comment(
                    t["initech-export"],
                    w.agents[0],
                    "Raise export.timeout to 3600 in settings; the fix for the slow query ships Friday.",
                    true,
                )
            },
        ),
        step(
            "2026-11-30T10:30:00-08:00",
            "Avery asks engineering about Acme's crash: an #eng-summary note, and the rfh tag",
            |w, t| {
                w.sim.add_comment(
                    t["acme-crash"],
                    w.agents[0],
                    "#eng-summary Connector 4.2.0 crashes at start on Acme's cluster (Java 17, 3 nodes); 4.1.9 works. Customer contact: casey@acme.example.",
                    false,
                );
                w.sim.set_tags(t["acme-crash"], &["sev1", "rfh"], w.agents[0]);
            },
        ),
        step(
            "2026-12-01T11:00:00-08:00",
            "Engineering (eng-alice) answers on the GitHub issue",
            |w, _| {
                w.github.comment(
                    REPO,
                    1,
                    "eng-alice",
                    "Root cause: the 4.2.0 config loader chokes on an empty `plugins:` list. Fixed in 4.2.1, released today.",
                )
            },
        ),
        step(
            "2026-12-01T16:30:00-08:00",
            "Avery finds the cause of Acme's crash and answers",
            |w, t| {
                w.sim.add_comment(
                    t["acme-crash"],
                    w.agents[0],
                    "Found it: the 4.2.0 config loader; please upgrade to 4.2.1, which fixes the crash.",
                    true,
                )
            },
        ),
        step(
            "2026-12-01T09:00:00-08:00",
            "Gil's SSO works; Sam solves the question (answered with the documentation)",
            |w, t| w.sim.set_status(t["globex-sso"], "solved", w.agents[1]),
        ),
        step("2026-12-02T10:00:00-08:00", "Avery solves Acme's crash ticket", |w, t| {
            w.sim.set_status(t["acme-crash"], "solved", w.agents[0])
        }),
        step("2026-12-02T11:00:00-08:00", "Engineering closes the GitHub issue", |w, _| {
            w.github.set_open(REPO, 1, false)
        }),
    ]
}

fn local(ts: Timestamp) -> String {
    chrono_tz::America::Los_Angeles
        .timestamp_opt(ts, 0)
        .single()
        .map_or_else(|| ts.to_string(), |t| t.format("%a %d %b %H:%M %Z").to_string())
}

fn print_message(clock: &Clock, hook: &str, body: &Value) {
    if body["blocks"][0]["text"]["text"] == "Support KPIs digest" {
        // The digest, as its plain text says it: one line a KPI.
        let text = body["text"].as_str().unwrap_or_default();
        let mut lines = text.lines();
        say!("{}  #{hook:<8} {}", local(clock.now()), lines.next().unwrap_or_default());
        for line in lines {
            say!("{:>30} {line}", "");
        }
        return;
    }
    if body["blocks"][0]["type"] != "header" {
        // Not an alert (escalation news): its text is all there is.
        say!("{}  #{hook:<8} {}", local(clock.now()), body["text"].as_str().unwrap_or_default());
        return;
    }
    let title = body["blocks"][0]["text"]["text"].as_str().unwrap_or_default();
    let summary = body["blocks"][2]["text"]["text"].as_str().unwrap_or_default();
    let fields: Vec<String> = body["blocks"][3]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|x| x["text"].as_str())
                .map(|t| t.replace('\n', ": ").replace('*', ""))
                // The metric and the time left are in the summary line already.
                .filter(|t| !t.starts_with("Metric") && !t.starts_with("Time left") && !t.starts_with("Overdue"))
                .collect()
        })
        .unwrap_or_default();
    say!("{}  #{hook:<8} {title}", local(clock.now()));
    say!(
        "{:>30} {}",
        "",
        summary.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    );
    say!("{:>30} {}", "", fields.join(" · "));
}

/// A page as on-call gets it (its summary and the ticket's link), and its resolve.
fn print_page(clock: &Clock, request: &crate::sim::pagerduty::Request) {
    if request.status != 202 {
        say!("{}  pagerduty refused ({}) an event", local(clock.now()), request.status);
        return;
    }
    let body = &request.body;
    match request.action() {
        "trigger" => {
            say!(
                "{}  pagerduty PAGE ({}): {}",
                local(clock.now()),
                body["payload"]["severity"].as_str().unwrap_or_default(),
                body["payload"]["summary"].as_str().unwrap_or_default()
            );
            say!("{:>30} {}", "", body["links"][0]["href"].as_str().unwrap_or_default());
        }
        action => say!("{}  pagerduty {action}d: {}", local(clock.now()), request.dedup_key()),
    }
}

/// A reply Zendesk pushed, once slawatch has read it (or a second of real time has passed):
/// how long after Zendesk posted it the ticket's clocks had it.
async fn print_push(sim: &SimZendesk, engine: &Engine, clock: &Clock, post: &crate::sim::zendesk::WebhookSent) {
    // The change Zendesk posted, as slawatch's whole read of the ticket saw it.
    let changed_at = sim
        .ticket_json(post.ticket_id)
        .and_then(|t| t["updated_at"].as_str().and_then(|t| parse_rfc3339(t).ok()))
        .unwrap_or(post.at);
    let read = || {
        engine
            .store
            .ticket(post.ticket_id)
            .ok()
            .flatten()
            .and_then(|r| r.read_through)
            .is_some_and(|at| at >= changed_at)
    };
    while !read() && post.sent_at.elapsed() < Duration::from_secs(1) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    if read() {
        say!(
            "{}  push      Zendesk posted #{}'s new comment; slawatch's clocks had it {} ms later (polling alone: at the next 5-minute poll, past the export's 1-minute horizon)",
            local(clock.now()),
            post.ticket_id,
            post.sent_at.elapsed().as_millis()
        );
    } else {
        say!(
            "{}  push      Zendesk posted #{}'s new comment; not read yet: the next export poll brings it",
            local(clock.now()),
            post.ticket_id
        );
    }
}

/// Internal notes slawatch wrote about engineering's issue (the link, engineering's comments,
/// a close), each once, as the ticket shows them.
fn print_engineering_notes(sim: &SimZendesk, clock: &Clock, shown: &mut std::collections::HashSet<u64>) {
    for ticket in 1..=20 {
        for comment in sim.comments(ticket) {
            let (Some(id), Some(body)) = (comment["id"].as_u64(), comment["body"].as_str()) else {
                continue;
            };
            let about_engineering = body.starts_with("slawatch: ")
                && (body.contains(" commented on ") || body.contains("engineering closed") || body.contains("engineering reopened"));
            if comment["public"] == false && about_engineering && shown.insert(id) {
                let mut lines = body
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !crate::marker::is_note_marker_line(l));
                say!(
                    "{}  zendesk   internal note on #{ticket}: {}",
                    local(clock.now()),
                    lines.next().unwrap_or_default()
                );
                for line in lines {
                    say!("{:>30} {line}", "");
                }
            }
        }
    }
}

/// An issue as engineering reads it on GitHub.
fn print_issue(clock: &Clock, issue: &IssueView) {
    say!("{}  github    {REPO} #{} filed: {}", local(clock.now()), issue.number, issue.title);
    say!("{:>30} labels: {}", "", issue.labels.join(", "));
    for line in issue
        .body
        .lines()
        .filter(|l| !l.starts_with("<!--") && !l.trim().is_empty())
        .take(14)
    {
        say!("{:>30} {line}", "");
    }
}

/// Runs the demo until Ctrl-C (or `run_for` of world time).
pub async fn run(options: DemoOptions) -> anyhow::Result<()> {
    let start = parse_rfc3339(WORLD_START).unwrap_or_default();
    let clock = Clock::scaled(start, options.speed);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            email: "demo@slawatch.example".into(),
            token: "demo".into(),
            start_time: start,
            page_size: 1000,
        },
        clock.clone(),
    )
    .await
    .context("cannot start the simulated Zendesk")?;
    let slack = SimSlack::start().await.context("cannot start the simulated Slack")?;
    let pagerduty = SimPagerDuty::start().await.context("cannot start the simulated PagerDuty")?;
    pagerduty.add_routing_key(PAGERDUTY_KEY);
    let github = SimGithub::start("demo-github", "slawatch-bot", clock.clone())
        .await
        .context("cannot start the simulated GitHub")?;
    github.add_repo(REPO);

    let acme = sim.add_organization("Acme Corp", &[], org_fields(&[("deployment", "self_hosted")]));
    let globex = sim.add_organization("Globex", &[], org_fields(&[("deployment", "managed")]));
    let initech = sim.add_organization(
        "Initech",
        &[],
        org_fields(&[("deployment", "self_hosted"), ("contract", "initech-elite")]),
    );
    let agents = [
        sim.add_user("Avery Agent", "avery@support.example", "agent", None),
        sim.add_user("Sam Support", "sam@support.example", "agent", None),
    ];
    let customers = BTreeMap::from([
        ("acme", sim.add_user("Casey (Acme)", "casey@acme.example", "end-user", Some(acme))),
        (
            "globex",
            sim.add_user("Gil (Globex)", "gil@globex.example", "end-user", Some(globex)),
        ),
        (
            "initech",
            sim.add_user("Ivy (Initech)", "ivy@initech.example", "end-user", Some(initech)),
        ),
    ]);

    let type_field = sim.add_ticket_field("Type", "tagger", &[("Question", "question"), ("Incident", "incident")]);
    let dir = tempfile::tempdir().context("cannot make a directory for the demo's store")?;
    let config_path = dir.path().join("demo.toml");
    let text = DEMO_CONFIG
        .replace("{zendesk}", &sim.base_url())
        .replace("{pagerduty}", &pagerduty.enqueue_url())
        .replace("{store}", &dir.path().join("store").display().to_string())
        .replace("{admin}", &options.admin.to_string())
        .replace("{type_field}", &type_field.to_string());
    std::fs::write(&config_path, &text).context("cannot write the demo's configuration")?;
    let config = Config::parse(&config_path.display().to_string(), &text).map_err(|e| anyhow::anyhow!("{e}"))?;
    let channels: BTreeMap<String, (ChannelKind, String)> = config
        .notify
        .channels
        .iter()
        .map(|(name, c)| (name.clone(), (c.kind, slack.url(name))))
        .collect();
    let pagers = crate::engine::page::pagers_from(&config, |_| Some(PAGERDUTY_KEY.to_string())).map_err(anyhow::Error::msg)?;
    let client = ZendeskClient::new(
        ClientOptions {
            base_url: sim.base_url(),
            auth: Auth::ApiToken {
                email: "demo@slawatch.example".into(),
                token: "demo".into(),
            },
            requests_per_minute: 700,
            export_requests_per_minute: 30,
            timeout: Duration::from_secs(10),
            max_attempts: 5,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        },
        clock.clone(),
    )?;
    let store = Store::open(&config.store.path, config.store.cache_bytes)?;
    let admin = config.admin.listen;
    let shutdown = CancellationToken::new();
    let github_client = GithubClient::new(
        GithubOptions {
            api_url: github.api_url(),
            token: "demo-github".into(),
            timeout: Duration::from_secs(10),
            max_attempts: 3,
            backoff: crate::retry::Backoff {
                first: Duration::from_secs(1),
                max: Duration::from_secs(60),
            },
        },
        clock.clone(),
    )?;
    let engine = Arc::new(
        Engine::new(config, client, store, clock.clone())?
            .with_channels(channels)
            .with_pagers(pagers)
            .with_github(github_client)
            .with_push(WEBHOOK_SECRET.to_string())
            .with_shutdown(shutdown.clone()),
    );

    let listener = tokio::net::TcpListener::bind(admin)
        .await
        .with_context(|| format!("cannot listen on {admin} for the admin HTTP (another slawatch running? try --admin 127.0.0.1:0)"))?;
    let admin = listener.local_addr()?;
    sim.set_webhook(
        &format!("http://{admin}{}", crate::config::DEFAULT_WEBHOOK_PATH),
        WEBHOOK_SECRET,
        WebhookShape::Events,
    );
    say!(
        "slawatch demo: a support week at {}x speed ({} of world time a second).",
        options.speed,
        crate::sla::time::Duration(options.speed as i64)
    );
    say!(
        "  simulated Zendesk {}, Slack {}, GitHub {}, PagerDuty {}",
        sim.base_url(),
        slack.base_url(),
        github.api_url(),
        pagerduty.enqueue_url()
    );
    say!(
        "  open tickets now:  slawatch status        (or curl http://{admin}/status; config {})",
        config_path.display()
    );
    say!("  Ctrl-C to stop.\n");

    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(crate::admin::serve(listener, engine.clone(), None, shutdown.clone()).map_ok_unit());
    tasks.spawn({
        let engine = engine.clone();
        async move {
            if let Err(error) = crate::engine::daemon::run(engine).await {
                eprintln!("error: {error}");
            }
        }
    });
    tasks.spawn({
        let (slack, clock, shutdown) = (slack.clone(), clock.clone(), shutdown.clone());
        async move {
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = slack.wait_for(1) => {
                        for message in slack.take_messages() {
                            print_message(&clock, &message.hook, &message.body);
                        }
                    }
                }
            }
        }
    });
    tasks.spawn({
        // On-call's view: each page, and its resolve.
        let (pagerduty, clock, shutdown) = (pagerduty.clone(), clock.clone(), shutdown.clone());
        async move {
            let mut shown = 0;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = pagerduty.wait_for(shown + 1) => {
                        for request in pagerduty.requests().iter().skip(shown) {
                            print_page(&clock, request);
                            shown += 1;
                        }
                    }
                }
            }
        }
    });
    tasks.spawn({
        // Push mode: each reply Zendesk posts, and how soon slawatch's clocks had it.
        let (sim, engine, clock, shutdown) = (sim.clone(), engine.clone(), clock.clone(), shutdown.clone());
        async move {
            let mut shown = 0;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = sim.wait_for_posts(shown + 1) => {
                        let posts = sim.webhook_log();
                        for post in posts.iter().skip(shown) {
                            shown += 1;
                            // A person's comment; slawatch's own notes come back as events too.
                            let by_person = sim.comments(post.ticket_id).last().and_then(|c| c["author_id"].as_u64()) != Some(sim.api_user_id());
                            if post.event_type.ends_with("comment_added") && by_person {
                                print_push(&sim, &engine, &clock, post).await;
                            }
                        }
                    }
                }
            }
        }
    });
    tasks.spawn({
        // Engineering's view: each issue as it is filed.
        let (github, clock, shutdown) = (github.clone(), clock.clone(), shutdown.clone());
        async move {
            let mut shown = 0;
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = clock.sleep(Duration::from_secs(60)) => {
                        for issue in github.issues(REPO).into_iter().skip(shown) {
                            print_issue(&clock, &issue);
                            shown += 1;
                        }
                    }
                }
            }
        }
    });
    tasks.spawn({
        // The ticket's side: the internal notes engineering's news becomes.
        let (sim, clock, shutdown) = (sim.clone(), clock.clone(), shutdown.clone());
        async move {
            let mut shown = std::collections::HashSet::new();
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = clock.sleep(Duration::from_secs(60)) => print_engineering_notes(&sim, &clock, &mut shown),
                }
            }
        }
    });
    tasks.spawn({
        let (clock, shutdown) = (clock.clone(), shutdown.clone());
        let world = World {
            sim: sim.clone(),
            github: github.clone(),
            agents,
        };
        async move {
            let mut tickets = BTreeMap::new();
            let mut steps = script(customers, type_field);
            steps.sort_by_key(|s| parse_rfc3339(s.at).unwrap_or_default());
            for step in steps {
                let at = parse_rfc3339(step.at).unwrap_or_default();
                let wait = Duration::from_secs((at - clock.now()).max(0) as u64);
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = clock.sleep(wait) => {
                        (step.run)(&world, &mut tickets);
                        say!("{}  zendesk   {}", local(clock.now()), step.say);
                    }
                }
            }
        }
    });

    let stop_after = options.run_for;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => say!("\nstopping"),
        _ = async { match stop_after { Some(d) => clock.sleep(d).await, None => std::future::pending().await } } => {}
    }
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    say!("demo stopped; the store was in {} (removed)", dir.path().display());
    Ok(())
}

trait MapOkUnit {
    fn map_ok_unit(self) -> impl std::future::Future<Output = ()> + Send;
}

impl<F: std::future::Future<Output = std::io::Result<()>> + Send> MapOkUnit for F {
    async fn map_ok_unit(self) {
        if let Err(error) = self.await {
            eprintln!("admin HTTP: {error}");
        }
    }
}
