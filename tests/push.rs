//! Push mode: the simulated Zendesk posts each ticket change to the admin listener, signed as
//! Zendesk signs it; the daemon reads that ticket whole at once, so its clocks, alerts and KPI
//! row move without waiting for the exports, which stay the catch-up. Unverified requests get
//! 401 and change nothing; a flood coalesces per ticket; a full queue answers 429.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Harness, SUPPORT_ONLY};
use slawatch::engine::Engine;
use slawatch::sim::zendesk::WebhookShape;
use slawatch::sla::clock::ClockState;
use slawatch::sla::policy::Metric;
use slawatch::zendesk::webhook::{sign, SIGNATURE_HEADER, TIMESTAMP_HEADER};

const SECRET: &str = "sim-signing-secret";

fn push_config(queue: usize) -> String {
    format!("{SUPPORT_ONLY}\n[zendesk.webhook]\nsecret_env = \"UNUSED\"\nqueue = {queue}\n")
}

/// The engine served on the admin listener with push mode on; `reading`: one push reader runs.
async fn serve(h: &mut Harness, reading: bool) -> (Arc<Engine>, String, tokio_util::sync::CancellationToken) {
    serve_with(h, usize::from(reading)).await
}

async fn serve_with(h: &mut Harness, readers: usize) -> (Arc<Engine>, String, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/zendesk/webhook", listener.local_addr().unwrap());
    let engine = Arc::new(h.take_engine().with_push(SECRET.to_string()));
    let stop = engine.shutdown.clone();
    tokio::spawn(slawatch::admin::serve(listener, engine.clone(), None, stop.clone()));
    for _ in 0..readers {
        tokio::spawn(slawatch::engine::push::push_loop(engine.clone()));
    }
    (engine, url, stop)
}

/// Waits (in short real steps, at most 10 s) until `done` holds; the test fails naming `what`.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let outcome = tokio::time::timeout(Duration::from_secs(10), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(outcome.is_ok(), "timed out waiting for {what}");
}

fn state(engine: &Engine, id: u64, metric: Metric) -> Option<ClockState> {
    let record = engine.store.ticket(id).unwrap()?;
    let clocks = engine.clocks(&record, &engine.directory(), engine.clock.now())?;
    clocks.contract(metric).map(|c| c.state)
}

fn complete(engine: &Engine, id: u64) -> bool {
    let through = engine.store.cursors().unwrap().events_through;
    engine
        .store
        .ticket(id)
        .unwrap()
        .is_some_and(|r| slawatch::engine::apply::facts_complete(&r, through))
}

async fn post(url: &str, body: &str, timestamp: &str, signature: Option<String>) -> (u16, String, Option<String>) {
    let mut request = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header(TIMESTAMP_HEADER, timestamp)
        .body(body.to_string());
    if let Some(signature) = signature {
        request = request.header(SIGNATURE_HEADER, signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (status, response.text().await.unwrap(), retry_after)
}

async fn signed(url: &str, engine: &Engine, body: &str) -> (u16, String, Option<String>) {
    let timestamp = slawatch::sla::time::format_rfc3339(engine.clock.now());
    post(url, body, &timestamp, Some(sign(SECRET, &timestamp, body.as_bytes()))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_pushed_by_zendesk_meets_the_clock_without_a_poll() {
    let mut h = Harness::new(&push_config(100)).await;
    let id = h.ticket("sev1");
    h.poll().await;
    let (engine, url, stop) = serve(&mut h, true).await;
    assert_eq!(state(&engine, id, Metric::FirstResponse), Some(ClockState::Running));
    h.sim.set_webhook(&url, SECRET, WebhookShape::Events);
    h.advance(600);
    h.sim.add_comment(id, h.agent, common::ANSWER, true);
    // No poll: the events export has not passed the reply, yet the pushed read made the
    // ticket's facts complete, and the reply counts.
    until("the pushed reply to meet the clock", || {
        state(&engine, id, Metric::FirstResponse) == Some(ClockState::Met)
    })
    .await;
    assert!(complete(&engine, id));
    let through = engine.store.cursors().unwrap().events_through.unwrap();
    assert!(through < h.sim.now() - 60, "the events export was not polled again");
    let log = h.sim.webhook_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0].ticket_id, log[0].status), (id, Some(200)));
    assert_eq!(log[0].event_type, "zen:event-type:ticket.comment_added");
    // The KPI row followed: the ticket's first response is on record.
    let rows = slawatch::engine::status::open_tickets(&engine.config, &engine.store, &engine.directory(), h.sim.now()).unwrap();
    let row = rows.iter().find(|r| r.ticket_id == id).unwrap();
    assert!(row.facts_complete);
    assert_eq!(row.metrics.first_response.state, "met", "{row:?}");
    // The export polls later bring the same reply: applied once, nothing changes.
    h.advance(120);
    let before = engine.store.ticket(id).unwrap().unwrap().events;
    engine.poll().await.unwrap();
    assert_eq!(engine.store.ticket(id).unwrap().unwrap().events.len(), before.len());
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_known_only_from_a_push_is_tracked_and_breaches_on_time() {
    let mut h = Harness::new(&push_config(100)).await;
    let (engine, url, stop) = serve(&mut h, true).await;
    h.sim.set_webhook(&url, SECRET, WebhookShape::Trigger);
    let id = h.ticket("sev1");
    until("the pushed ticket to be stored with complete facts", || complete(&engine, id)).await;
    assert_eq!(engine.store.cursors().unwrap().events_through, None, "never polled");
    let record = engine.store.ticket(id).unwrap().unwrap();
    assert!(record.exported && record.severity.as_deref() == Some("sev1"), "{record:?}");
    // Severity 1 self-hosted: 24 business hours of first response from Monday 09:00, so due
    // Wednesday 17:00; its breach is decided on pushed facts alone.
    h.advance(3 * 86_400 + 3600);
    let report = engine.fire_due().await.unwrap();
    assert!(report.sent >= 1, "{report:?}");
    let titles = common::titles(&h);
    assert!(titles.iter().any(|t| t.to_lowercase().contains("breach")), "{titles:?}");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unverified_request_gets_401_and_changes_nothing() {
    let mut h = Harness::new(&push_config(100)).await;
    let id = h.ticket("sev1");
    let (engine, url, stop) = serve(&mut h, true).await;
    let body = format!(r#"{{"ticket_id":"{id}"}}"#);
    let now = slawatch::sla::time::format_rfc3339(engine.clock.now());
    let stale = slawatch::sla::time::format_rfc3339(engine.clock.now() - 301);
    let cases = [
        ("unsigned", now.clone(), None),
        ("wrong secret", now.clone(), Some(sign("guess", &now, body.as_bytes()))),
        ("another body", now.clone(), Some(sign(SECRET, &now, b"{\"ticket_id\":\"999\"}"))),
        ("replayed", stale.clone(), Some(sign(SECRET, &stale, body.as_bytes()))),
    ];
    for (case, timestamp, signature) in cases {
        let (status, text, _) = post(&url, &body, &timestamp, signature).await;
        assert_eq!(status, 401, "{case}: {text}");
    }
    // The admin token does not guard the webhook, and the webhook does not open the rest.
    let (status, text, _) = signed(&url, &engine, &body).await;
    assert_eq!((status, text.as_str()), (200, "queued\n"));
    until("the one verified request's read", || complete(&engine, id)).await;
    assert_eq!(h.sim.request_count(&format!("/api/v2/tickets/{id}.json")), 1);
    let metrics = engine.metrics.encode();
    assert!(
        metrics.contains(r#"slawatch_webhook_events_total{outcome="unverified"} 4"#),
        "{metrics}"
    );
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_coalesces_per_ticket_and_a_full_queue_answers_429() {
    let mut h = Harness::new(&push_config(2)).await;
    // No reader: what is queued stays queued.
    let (engine, url, stop) = serve(&mut h, false).await;
    let mut statuses = Vec::new();
    for ticket in [7, 7, 7, 8, 7, 9] {
        let (status, _, retry_after) = signed(&url, &engine, &format!(r#"{{"ticket_id":"{ticket}"}}"#)).await;
        statuses.push((status, retry_after));
    }
    let ok = (200, None);
    assert_eq!(
        statuses,
        vec![ok.clone(), ok.clone(), ok.clone(), ok.clone(), ok, (429, Some("30".to_string()))]
    );
    assert_eq!(engine.push.as_ref().unwrap().queue.len(), 2);
    // A verified request about no ticket is answered and ignored.
    let (status, text, _) = signed(&url, &engine, r#"{"type":"zen:event-type:user.created","detail":{"id":"5"}}"#).await;
    assert_eq!((status, text.as_str()), (200, "verified; it names no ticket\n"));
    let metrics = engine.metrics.encode();
    for line in [
        r#"slawatch_webhook_events_total{outcome="queued"} 2"#,
        r#"slawatch_webhook_events_total{outcome="coalesced"} 3"#,
        r#"slawatch_webhook_events_total{outcome="full"} 1"#,
        r#"slawatch_webhook_events_total{outcome="ignored"} 1"#,
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_webhook_missed_the_export_brings() {
    let mut h = Harness::new(&push_config(100)).await;
    let id = h.ticket("sev1");
    h.poll().await;
    let (engine, url, stop) = serve(&mut h, true).await;
    // The webhook is set after the reply: Zendesk never tells of it.
    h.advance(600);
    h.sim.add_comment(id, h.agent, common::ANSWER, true);
    h.sim.set_webhook(&url, SECRET, WebhookShape::Events);
    h.advance(120);
    assert_eq!(state(&engine, id, Metric::FirstResponse), Some(ClockState::Running));
    engine.poll().await.unwrap();
    assert_eq!(state(&engine, id, Metric::FirstResponse), Some(ClockState::Met));
    assert!(h.sim.webhook_log().is_empty());
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_setup_creates_one_webhook_and_the_real_daemon_takes_its_pushes_in_seconds() {
    use common::binary::{daemon_config, eventually, free_port, slawatch, status_json, Start};
    use slawatch::clock::Clock;
    use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};
    let start = Clock::system().now();
    let clock = Clock::scaled(start, 1.0);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: start,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .unwrap();
    let customer = sim.add_user("Gil", "gil@globex.example", "end-user", None);
    let agent = sim.add_user("Avery Agent", "avery@support.example", "agent", None);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}/zendesk/webhook");
    let webhook = format!("[zendesk.webhook]\nsecret_env = \"SIM_WEBHOOK_SECRET\"\nendpoint = \"{endpoint}\"\n");
    let config = daemon_config(dir.path(), &sim, port, &webhook);
    let text = |out: &std::process::Output| format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    // Without --apply: the request, nothing created.
    let plan = slawatch(&["webhook-setup", "--config", &config]).output().unwrap();
    assert!(plan.status.success(), "{}", text(&plan));
    let printed = text(&plan);
    assert!(printed.contains(&format!("POST {}/api/v2/webhooks", sim.base_url())), "{printed}");
    assert!(
        printed.contains(&endpoint) && printed.contains("zen:event-type:ticket.comment_added"),
        "{printed}"
    );
    // Twice with --apply: one webhook, and the second run checks the secret it is given.
    let first = slawatch(&["webhook-setup", "--apply", "--config", &config]).output().unwrap();
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains(": created\n") && text(&first).contains("SIM_WEBHOOK_SECRET is not set"),
        "{}",
        text(&first)
    );
    let secret = "sim-signing-secret-01SIMWEBHOOK00000000000001";
    let second = slawatch(&["webhook-setup", "--apply", "--config", &config])
        .env("SIM_WEBHOOK_SECRET", secret)
        .output()
        .unwrap();
    assert!(text(&second).contains(": there already\n"), "{}", text(&second));
    assert!(
        text(&second).contains("SIM_WEBHOOK_SECRET holds the webhook's signing secret: ready"),
        "{}",
        text(&second)
    );
    assert_eq!(sim.request_count("/api/v2/webhooks"), 3, "a list and a create, then a list");

    let log = dir.path().join("daemon.log");
    let _daemon = slawatch(&["run", "--config", &config])
        .env("SLAWATCH_TEST_CLOCK", format!("{}:1", clock.now()))
        .env("SIM_SLACK_ONCALL", "http://127.0.0.1:9/unused")
        .env("SIM_WEBHOOK_SECRET", secret)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .start();
    eventually("the daemon's first poll", &log, || status_json(&config).is_some()).await;
    let id = sim.create_ticket(NewTicket {
        subject: "Instance down".into(),
        body: "Our managed instance returns 502 for every request.".into(),
        requester_id: customer,
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    let row = |id: u64| status_json(&config).and_then(|rows| rows.into_iter().find(|r| r["ticket_id"] == id));
    eventually("the new ticket in status", &log, || row(id).is_some()).await;
    let answered = std::time::Instant::now();
    sim.add_comment(id, agent, "We found the failing node and are replacing it now.", true);
    eventually("the reply in status", &log, || {
        row(id).is_some_and(|r| r["metrics"]["first_response"]["state"] == "met")
    })
    .await;
    // Well inside a poll interval (30 s) plus the export's minute: the push brought it.
    let took = answered.elapsed();
    assert!(took < Duration::from_secs(25), "{took:?}");
    let log_of_posts = sim.webhook_log();
    assert!(
        !log_of_posts.is_empty() && log_of_posts.iter().all(|p| p.status == Some(200)),
        "{log_of_posts:?}"
    );
}

#[test]
fn webhook_setup_names_the_missing_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.toml");
    std::fs::write(
        &path,
        "[zendesk]\nsubdomain = \"acme\"\nemail = \"a@b.c\"\ntoken_env = \"T\"\n[zendesk.webhook]\nsecret_env = \"S\"\n",
    )
    .unwrap();
    let out = common::binary::slawatch(&["webhook-setup", "--config", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("zendesk.webhook.endpoint is not set"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_pushed_before_the_directory_is_read_is_judged_again_once_it_is() {
    let mut h = Harness::new(&push_config(100)).await;
    let globex = h.sim.add_organization(
        "Globex",
        &[],
        serde_json::Map::from_iter([("deployment".to_string(), serde_json::json!("managed"))]),
    );
    let gil = h.sim.add_user("Gil", "gil@globex.example", "end-user", Some(globex));
    let (engine, url, stop) = serve(&mut h, true).await;
    h.sim.set_webhook(&url, SECRET, WebhookShape::Events);
    let id = h.sim.create_ticket(slawatch::sim::zendesk::NewTicket {
        subject: "Instance down".into(),
        body: "Every request fails with 502.".into(),
        requester_id: gil,
        tags: vec!["sev1".into()],
        ..Default::default()
    });
    until("the pushed ticket", || complete(&engine, id)).await;
    let tier = || {
        let record = engine.store.ticket(id).unwrap().unwrap();
        engine.clocks(&record, &engine.directory(), engine.clock.now()).unwrap().tier
    };
    // No organization known yet: the default tier, for now.
    assert_eq!(tier(), "self-hosted");
    engine.poll().await.unwrap();
    assert_eq!(tier(), "managed");
    let next = engine.store.ticket(id).unwrap().unwrap().next_alert;
    // Managed, 24x7: the 50% warning of 24 h comes 12 h after creation, not Monday's hours.
    assert_eq!(next, Some(h.sim.now() + 12 * 3600), "{next:?}");
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_readers_take_a_burst_and_leave_what_the_exports_would() {
    let mut h = Harness::new(&push_config(100)).await;
    // The agents known, so that their replies count.
    h.poll().await;
    let (engine, url, stop) = serve_with(&mut h, 4).await;
    h.sim.set_webhook(&url, SECRET, WebhookShape::Events);
    let tickets: Vec<u64> = (0..20).map(|_| h.ticket("sev1")).collect();
    h.advance(600);
    for &id in &tickets {
        h.sim.add_comment(id, h.agent, common::ANSWER, true);
        h.sim.set_status(id, "pending", h.agent);
    }
    until("every reply read", || {
        tickets
            .iter()
            .all(|&id| state(&engine, id, Metric::FirstResponse) == Some(ClockState::Met))
    })
    .await;
    until("every status change read", || {
        tickets
            .iter()
            .all(|&id| engine.store.ticket(id).unwrap().is_some_and(|r| r.status == "pending"))
    })
    .await;
    let pushed: Vec<_> = tickets.iter().map(|&id| engine.store.ticket(id).unwrap().unwrap().events).collect();
    // The exports bring the same history: nothing is added or changed.
    h.advance(120);
    engine.poll().await.unwrap();
    let exported: Vec<_> = tickets.iter().map(|&id| engine.store.ticket(id).unwrap().unwrap().events).collect();
    assert_eq!(pushed, exported);
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_setup_in_trigger_mode_creates_the_webhook_and_its_trigger_once() {
    use common::binary::{daemon_config, free_port, slawatch};
    use slawatch::sim::zendesk::{SimOptions, SimZendesk};
    let sim = SimZendesk::start(SimOptions::default()).await.unwrap();
    let customer = sim.add_user("Gil", "gil@globex.example", "end-user", None);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}/zendesk/webhook");
    let webhook = format!("[zendesk.webhook]\nsecret_env = \"SIM_WEBHOOK_SECRET\"\nendpoint = \"{endpoint}\"\nmode = \"trigger\"\n");
    let config = daemon_config(dir.path(), &sim, port, &webhook);
    let plan = slawatch(&["webhook-setup", "--config", &config]).output().unwrap();
    let printed = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(
        printed.contains("\"conditional_ticket_events\"") && printed.contains("POST ") && printed.contains("/api/v2/triggers.json"),
        "{printed}"
    );
    assert!(printed.contains("{{ticket.id}}"), "{printed}");
    for _ in 0..2 {
        let out = slawatch(&["webhook-setup", "--apply", "--print-secret", "--config", &config])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            text.contains("signing secret: sim-signing-secret-01SIMWEBHOOK00000000000001"),
            "{text}"
        );
    }
    let triggers: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v2/triggers.json", sim.base_url()))
        .basic_auth("agent@example.com/token", Some("sim-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(triggers["triggers"].as_array().unwrap().len(), 1, "{triggers}");
    // The trigger's webhook posts the ticket's id on a change (nobody listens at the endpoint).
    sim.create_ticket(slawatch::sim::zendesk::NewTicket {
        subject: "Down".into(),
        body: "It is down.".into(),
        requester_id: customer,
        ..Default::default()
    });
    until("the trigger's post", || !sim.webhook_log().is_empty()).await;
    assert_eq!(sim.webhook_log()[0].status, None);
}

#[test]
fn push_mode_config_is_checked_and_a_loopback_listener_is_warned_of() {
    let base = "[zendesk]\nsubdomain = \"acme\"\nemail = \"a@b.c\"\ntoken_env = \"T\"\n";
    let config = slawatch::config::Config::parse("c.toml", &format!("{base}[zendesk.webhook]\nsecret_env = \"S\"\n")).unwrap();
    let webhook = config.zendesk.as_ref().unwrap().webhook.clone().unwrap();
    assert_eq!(
        (webhook.path.as_str(), webhook.queue, webhook.readers),
        ("/zendesk/webhook", 10_000, 4)
    );
    let warnings = config.warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("zendesk.webhook: the admin listener (127.0.0.1:")),
        "{warnings:?}"
    );
    let outside = format!("{base}[zendesk.webhook]\nsecret_env = \"S\"\n[admin]\nlisten = \"0.0.0.0:9187\"\ntoken_env = \"ADMIN\"\n");
    assert!(slawatch::config::Config::parse("c.toml", &outside).unwrap().warnings().is_empty());
    for (line, expected) in [
        ("path = \"/status\"", "zendesk.webhook.path"),
        ("mode = \"poll\"", "zendesk.webhook.mode"),
        ("queue = 0", "zendesk.webhook.queue"),
        ("readers = 64", "zendesk.webhook.readers"),
        ("endpoint = \"slawatch.example.com\"", "zendesk.webhook.endpoint"),
        ("secret = \"in the file\"", "secret"),
    ] {
        let text = format!("{base}[zendesk.webhook]\nsecret_env = \"S\"\n{line}\n");
        let errors = slawatch::config::Config::parse("c.toml", &text).unwrap_err().to_string();
        assert!(errors.contains(expected) && errors.contains("c.toml:7"), "{line}: {errors}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_push_did_not_see_waits_for_the_events_export() {
    let mut h = Harness::new(&push_config(100)).await;
    h.poll().await;
    let (engine, url, stop) = serve(&mut h, true).await;
    h.sim.set_webhook(&url, SECRET, WebhookShape::Events);
    let id = h.ticket("sev1");
    until("the pushed ticket", || complete(&engine, id)).await;
    // A reply Zendesk never posts (a webhook lost): the ticket export shows the change before
    // the events export does.
    h.sim.set_webhook("http://127.0.0.1:9/nobody", SECRET, WebhookShape::Events);
    h.advance(600);
    h.sim.add_comment(id, h.agent, common::ANSWER, true);
    h.advance(120);
    const EVENTS: &str = "/api/v2/incremental/ticket_events.json";
    h.sim.refuse(Some(EVENTS), 503);
    assert!(engine.poll().await.is_err(), "the events export refused");
    // The pushed read saw the ticket as it was; the newer snapshot waits for its events.
    assert!(!complete(&engine, id));
    let record = engine.store.ticket(id).unwrap().unwrap();
    assert!(record.read_through < record.updated_at, "{record:?}");
    h.sim.refuse(None, 0);
    engine.poll().await.unwrap();
    assert!(complete(&engine, id));
    assert_eq!(state(&engine, id, Metric::FirstResponse), Some(ClockState::Met));
    stop.cancel();
}
