//! The real binary: `run` against the simulated Zendesk, `status` while it
//! runs (asking its admin endpoint) and after it stops (reading the store),
//! and a clean exit on SIGTERM.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::binary::{eventually, free_port, slawatch, status_json, terminate, Start};

use serde_json::Value;
use slawatch::clock::Clock;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_polls_status_answers_while_running_and_sigterm_stops_it_cleanly() {
    // The world's clock is virtual; the daemon's is the wall clock. Tickets are made an hour
    // ago in world time, then the world catches up with now so the exports show them.
    let now = Clock::system().now();
    let clock = Clock::manual(now - 3600);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: now - 3600,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .unwrap();
    let org = sim.add_organization(
        "Globex",
        &[],
        serde_json::Map::from_iter([("deployment".to_string(), Value::from("managed"))]),
    );
    let customer = sim.add_user("Gil", "gil@globex.example", "end-user", Some(org));
    sim.add_user("Avery Agent", "avery@support.example", "agent", None);
    let urgent = sim.create_ticket(NewTicket {
        subject: "Instance down".into(),
        body: "Our managed instance returns 502 for every request.".into(),
        requester_id: customer,
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    let minor = sim.create_ticket(NewTicket {
        subject: "Typo in the UI".into(),
        body: "The settings page says 'Setings'.".into(),
        requester_id: customer,
        tags: vec!["sev2".into()],
        ..NewTicket::default()
    });
    clock.set(now);

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    let port = free_port();
    std::fs::write(
        &config_path,
        format!(
            r#"
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "SIM_ZENDESK_TOKEN"
poll_interval = "1s"
export_requests_per_minute = 1000
start_time = "2020-01-01T00:00:00Z"

[store]
path = "{store}"
cache_mb = 8

[admin]
listen = "127.0.0.1:{port}"
"#,
            url = sim.base_url(),
            store = dir.path().join("store").display()
        ),
    )
    .unwrap();
    let config = config_path.to_str().unwrap().to_string();

    let log = dir.path().join("daemon.log");
    let mut daemon = slawatch(&["run", "--config", &config])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .start();
    eventually("status from the running daemon to list both tickets", &log, || {
        status_json(&config).is_some_and(|rows| rows.len() == 2)
    })
    .await;

    let rows = status_json(&config).unwrap();
    // Most urgent first: the Severity 1 ticket.
    assert_eq!(rows[0]["ticket_id"], urgent);
    assert_eq!(rows[0]["tier"], "managed");
    assert_eq!(rows[0]["severity"], "sev1");
    assert_eq!(rows[0]["metrics"]["first_response"]["state"], "running");
    assert!(rows[0]["metrics"]["first_response"]["deadline"].as_str().unwrap().ends_with('Z'));
    assert_eq!(rows[1]["ticket_id"], minor);
    assert_eq!(rows[1]["metrics"]["resolution"]["state"], "not_applicable");
    assert_eq!(rows[1]["metrics"]["resolution"]["deadline"], Value::Null);

    // A change in the world reaches the daemon at its next poll.
    clock.set(Clock::system().now() - 120);
    sim.set_status(minor, "solved", customer);
    clock.set(Clock::system().now());
    eventually("the solved ticket to leave the status", &log, || {
        status_json(&config).is_some_and(|rows| rows.len() == 1)
    })
    .await;

    let asked = Instant::now();
    terminate(&daemon);
    let status = daemon.wait().unwrap();
    assert!(status.success(), "exit status {status:?}");
    assert!(asked.elapsed() < Duration::from_secs(10), "took {:?} to stop", asked.elapsed());

    // Stopped: status reads the store itself, and shows the same.
    let rows = status_json(&config).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["ticket_id"], urgent);
    let table = slawatch(&["status", "--config", &config]).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains(&format!("#{urgent}")) && table.contains("managed") && table.contains("left"),
        "{table}"
    );

    // `run --once` resumes from the stored cursors and exits 0 on its own.
    let once = slawatch(&["run", "--once", "--config", &config]).output().unwrap();
    assert!(once.status.success(), "{}", String::from_utf8_lossy(&once.stderr));
}

#[tokio::test]
async fn run_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        "[zendesk]\nsubdomain = \"acme\"\nemail = \"a@b.c\"\ntoken_env = \"SLAWATCH_TEST_NO_SUCH_VARIABLE\"\n",
    )
    .unwrap();
    let out = slawatch(&["run", "--once", "--config", config_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the environment variable SLAWATCH_TEST_NO_SUCH_VARIABLE (named by zendesk.token_env) is not set\n"
    );

    std::fs::write(&config_path, "[alerts]\nthresholds = [\"50%\"]\n").unwrap();
    let out = slawatch(&["run", "--once", "--config", config_path.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: the configuration has no [zendesk] section: `run` needs one\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_delivery_the_alert_goes_out_after_restart_and_nothing_else_repeats() {
    let now = Clock::system().now();
    let clock = Clock::manual(now - 200);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: now - 200,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .unwrap();
    let slack = slawatch::sim::slack::SimSlack::start().await.unwrap();
    let customer = sim.add_user("Casey", "casey@example.com", "end-user", None);
    // Created 115 s ago on a 2-minute target: 90% is behind it (sent at first sight), the
    // breach comes 5 s from now.
    clock.set(now - 115);
    sim.create_ticket(NewTicket {
        subject: "Down".into(),
        body: "It is down.".into(),
        requester_id: customer,
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    clock.set(now);

    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    std::fs::write(
        &config_path,
        format!(
            r#"
goals = []
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "SIM_ZENDESK_TOKEN"
poll_interval = "1s"
start_time = "2020-01-01T00:00:00Z"
export_requests_per_minute = 1000
[policy]
default_tier = "fast"
[tiers.fast]
schedule = "24x7"
targets.sev1 = {{ first_response = "2m" }}
[notify.channels.support]
kind = "slack"
url_env = "SIM_SLACK_SUPPORT"
[[notify.routes]]
channels = ["support"]
[store]
path = "{store}"
[admin]
listen = "127.0.0.1:{port}"
"#,
            url = sim.base_url(),
            store = dir.path().join("store").display(),
            port = free_port()
        ),
    )
    .unwrap();
    let config = config_path.to_str().unwrap().to_string();
    let log = dir.path().join("daemon.log");
    let start = |log: &std::path::Path| {
        slawatch(&["run", "--config", &config])
            .env("SIM_SLACK_SUPPORT", slack.url("support"))
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap())
            .start()
    };
    let mut daemon = start(&log);
    let warning_sent = || slack.messages().iter().any(|m| m.text.contains("warning"));
    eventually("the 90% warning at first sight", &log, warning_sent).await;

    // The breach POST hangs in Slack; the daemon is killed (SIGKILL) while it is in flight.
    slack.set_delay(Duration::from_secs(3));
    let requests = slack.request_count();
    eventually("the breach POST to be in flight", &log, || slack.request_count() > requests).await;
    daemon.kill().unwrap();
    daemon.wait().unwrap();
    slack.set_delay(Duration::ZERO);

    let mut daemon = start(&log);
    eventually("the breach alert after the restart", &log, || {
        slack.messages().iter().any(|m| m.text.contains("breached"))
    })
    .await;
    // Give a repeat every chance to show, then stop cleanly.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    terminate(&daemon);
    assert!(daemon.wait().unwrap().success());
    let texts: Vec<String> = slack.messages().iter().map(|m| m.text.clone()).collect();
    let breaches = texts.iter().filter(|t| t.contains("breached")).count();
    let warnings = texts.iter().filter(|t| t.contains("warning")).count();
    assert_eq!(warnings, 1, "{texts:?}");
    assert!(
        (1..=2).contains(&breaches),
        "the in-flight post may repeat once, no more: {texts:?}"
    );
}
