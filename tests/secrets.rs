//! The real binary through a scenario with every secret set, logging at debug level: no log
//! line, no `status` output and no `/metrics` scrape holds a secret or a comment's body; the
//! logs carry a span per poll cycle and per delivery, with the ticket's id.

mod common;

use std::process::Stdio;

use common::binary::{daemon_config, eventually, free_port, slawatch, terminate, Start};
use slawatch::clock::Clock;
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

const HOUR: i64 = 3600;
const ADMIN_TOKEN: &str = "adm-7Qx2-never-in-a-log";
const CUSTOMER_WORDS: &str = "our passphrase is hunter2 and the instance is down";
const PRIVATE_NOTE: &str = "internal: the customer's DBA password is swordfish";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_and_no_comment_body_reaches_a_log_line_status_or_metrics() {
    let start = Clock::system().now();
    let clock = Clock::scaled(start - 2 * HOUR, 30.0);
    let sim = SimZendesk::start_with_clock(
        SimOptions {
            start_time: start - 2 * HOUR,
            ..SimOptions::default()
        },
        clock.clone(),
    )
    .await
    .unwrap();
    let slack = SimSlack::start().await.unwrap();
    let customer = sim.add_user("Gil", "gil@globex.example", "end-user", None);
    let agent = sim.add_user("Avery Agent", "avery@support.example", "agent", None);
    // A managed sev1 whose 1-hour first response breaches about a world minute after the start.
    clock.set(start - HOUR + 60);
    let id = sim.create_ticket(NewTicket {
        subject: "Instance down".into(),
        body: CUSTOMER_WORDS.into(),
        requester_id: customer,
        tags: vec!["sev1".into()],
        ..NewTicket::default()
    });
    clock.set(start - HOUR + 120);
    sim.add_comment(id, agent, PRIVATE_NOTE, false);
    clock.set(start);

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let extra = "token_env = \"SLAWATCH_ADMIN_TOKEN\"\n[notify]\ninternal_notes = \"breaches\"\n[log]\nformat = \"json\"";
    let config = daemon_config(dir.path(), &sim, port, extra);
    let webhook = slack.url("oncall");
    let log = dir.path().join("daemon.log");
    let mut daemon = slawatch(&["run", "--config", &config])
        .env("SLAWATCH_TEST_CLOCK", format!("{}:30", clock.now()))
        .env("SIM_SLACK_ONCALL", &webhook)
        .env("SLAWATCH_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .start();
    let breached = || {
        slack
            .messages()
            .iter()
            .any(|m| m.text.contains(&format!("SLA breached: first response on #{id}")))
    };
    eventually("the breach in Slack", &log, breached).await;
    eventually("the breach's internal note", &log, || {
        sim.comments(id)
            .iter()
            .any(|c| c["body"].as_str().unwrap_or_default().contains("breached"))
    })
    .await;

    let status = slawatch(&["status", "--json", "--config", &config])
        .env("SLAWATCH_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let status = String::from_utf8(status.stdout).unwrap();
    assert!(status.contains(&format!("\"ticket_id\": {id}")), "{status}");
    let metrics = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("slawatch_breaches_total{metric=\"first_response\",tier=\"managed\"} 1"),
        "{metrics}"
    );
    terminate(&daemon);
    assert!(daemon.wait().unwrap().success());
    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.lines().count() > 20, "{logs}");
    for (what, text) in [("the logs", &logs), ("status", &status), ("/metrics", &metrics)] {
        for secret in [
            "sim-token",
            ADMIN_TOKEN,
            webhook.as_str(),
            "/services/oncall",
            CUSTOMER_WORDS,
            "hunter2",
            PRIVATE_NOTE,
            "swordfish",
        ] {
            assert!(!text.contains(secret), "{secret:?} in {what}");
        }
    }
    // A span per poll cycle and per delivery, the delivery's with the ticket's id.
    assert!(logs.lines().any(|l| l.contains("\"name\":\"poll_cycle\"")), "{logs}");
    let delivery = logs
        .lines()
        .find(|l| l.contains("\"name\":\"delivery\"") && l.contains(&format!("\"ticket\":{id}")));
    assert!(delivery.is_some(), "no delivery span with the ticket's id:\n{logs}");
}
