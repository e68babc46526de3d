//! `slawatch test-alert` run as the real binary against the simulated Slack (and generic
//! webhook): what the channel received (exactly one message, marked as a test), what the
//! operator reads, and the exit status for each answer: accepted, refused for good, down,
//! unreachable, no such channel, no URL. It never needs the store.

mod common;

use std::process::Output;

use common::binary::slawatch;
use slawatch::sim::slack::SimSlack;

/// A configuration with a Slack channel `oncall` (URL in `TEST_ALERT_ONCALL`) and a generic
/// webhook `chat` (URL in `TEST_ALERT_CHAT`), deadlines shown in Berlin time.
fn config(dir: &std::path::Path) -> String {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[notify]
time_zone = "Europe/Berlin"
[notify.channels.oncall]
kind = "slack"
url_env = "TEST_ALERT_ONCALL"
[notify.channels.chat]
kind = "webhook"
url_env = "TEST_ALERT_CHAT"
[[notify.routes]]
channels = ["oncall", "chat"]
[store]
path = "{store}"
"#,
            store = dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

struct Scene {
    slack: SimSlack,
    dir: tempfile::TempDir,
    config: String,
}

async fn scene() -> Scene {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    Scene {
        slack: SimSlack::start().await.unwrap(),
        dir,
        config,
    }
}

impl Scene {
    /// `test-alert --channel channel`, both URLs pointed at the simulated Slack (the binary runs
    /// on a blocking thread, so the simulator keeps answering meanwhile).
    async fn test_alert(&self, channel: &str) -> Output {
        let mut command = slawatch(&["test-alert", "--config", &self.config, "--channel", channel]);
        command
            .env("TEST_ALERT_ONCALL", self.slack.url("T0001/B0001/oncall-secret"))
            .env("TEST_ALERT_CHAT", self.slack.generic_url("chat-secret"));
        self.run(command).await
    }

    async fn run(&self, mut command: std::process::Command) -> Output {
        tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
    }
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Neither what was printed nor the message names the webhook's secret path.
fn assert_no_secret(stdout: &str, stderr: &str) {
    for secret in ["oncall-secret", "chat-secret", "/services/", "/hooks/"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret}:\n{stdout}\n{stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_accepts_one_test_message_that_says_so_and_names_no_ticket() {
    let scene = scene().await;
    let output = scene.test_alert("oncall").await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("sending a test message to channel oncall (Slack incoming webhook) at 127.0.0.1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("Slack answered HTTP 200: ok\naccepted"), "{stdout}");
    assert_no_secret(&stdout, &stderr);

    let received = scene.slack.messages();
    assert_eq!(received.len(), 1, "exactly one message");
    let message = &received[0];
    assert_eq!(message.hook, "T0001/B0001/oncall-secret");
    assert!(!message.generic);
    assert!(
        message.text.contains("slawatch test message: no ticket is affected"),
        "{}",
        message.text
    );
    let all = message.body.to_string();
    assert!(all.contains("This is a test message from slawatch on "), "{all}");
    assert!(
        all.contains(&format!("(config {})", std::fs::canonicalize(&scene.config).unwrap().display())),
        "{all}"
    );
    // The instant in [notify] time_zone: Berlin is CET or CEST.
    assert!(all.contains(" CET (") || all.contains(" CEST ("), "{all}");
    assert!(all.contains("No ticket is affected"), "{all}");
    assert!(!all.contains("agent/tickets") && !all.contains("SLA"), "{all}");
    // Nothing was opened or created: the store is not needed (the daemon may hold it).
    assert!(!scene.dir.path().join("store").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generic_webhook_gets_the_test_as_json_marked_test() {
    let scene = scene().await;
    let output = scene.test_alert("chat").await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("(generic JSON webhook)"), "{stdout}");
    assert!(stdout.contains(r#"the webhook answered HTTP 200: {"ok":true}"#), "{stdout}");
    assert_no_secret(&stdout, &stderr);
    let received = scene.slack.messages();
    assert_eq!(received.len(), 1);
    let body = &received[0].body;
    assert!(received[0].generic);
    assert_eq!(body["event"], "slawatch_test");
    assert_eq!(body["test"], true);
    assert_eq!(body["channel"], "chat");
    assert!(body.get("alert").is_none() && body.get("ticket_id").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_runs_while_the_daemon_holds_the_store() {
    let scene = scene().await;
    let held = slawatch::store::Store::open(&scene.dir.path().join("store"), 8 << 20).unwrap();
    let output = scene.test_alert("oncall").await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(scene.slack.messages().len(), 1);
    drop(held);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_refusing_for_good_is_exit_1_with_its_code_and_what_it_means() {
    let scene = scene().await;
    // A removed webhook: Slack answers 404 `no_service`.
    scene.slack.fail_next(1, 404);
    let output = scene.test_alert("oncall").await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("Slack answered HTTP 404: no_service\n"), "{stderr}");
    let verdict = stderr.lines().last().unwrap();
    assert!(
        verdict.starts_with("error: refused for good (Slack knows no webhook at this URL"),
        "{verdict}"
    );
    assert!(verdict.contains("alerts to oncall would be given up, not retried"), "{verdict}");
    assert_no_secret(&stdout, &stderr);
    assert_eq!(scene.slack.request_count(), 1, "one attempt, no retry");
    assert!(scene.slack.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_down_is_exit_1_and_transient() {
    let scene = scene().await;
    scene.slack.set_down(true);
    let output = scene.test_alert("oncall").await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("Slack answered HTTP 503: service unavailable\n"), "{stderr}");
    assert!(
        stderr.contains("error: refused for now (a transient failure): alerts to oncall would wait in the outbox and be retried"),
        "{stderr}"
    );
    assert_eq!(scene.slack.request_count(), 1, "one attempt, no retry");
    assert!(scene.slack.messages().is_empty());
    // Rate limited: the wait Slack asked for is told.
    scene.slack.set_down(false);
    scene.slack.fail_next(1, 429);
    let (_, stderr) = text(&scene.test_alert("oncall").await);
    assert!(stderr.contains("HTTP 429: rate_limited\n"), "{stderr}");
    assert!(stderr.contains("(a transient failure, asked to wait 1s)"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_channel_is_exit_1_naming_its_host_only() {
    let scene = scene().await;
    let port = common::binary::free_port();
    let mut command = slawatch(&["test-alert", "--config", &scene.config, "--channel", "oncall"]);
    command.env("TEST_ALERT_ONCALL", format!("http://127.0.0.1:{port}/services/T0/B0/oncall-secret"));
    let output = scene.run(command).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    let verdict = stderr.lines().last().unwrap();
    assert!(
        verdict.starts_with("error: could not reach 127.0.0.1 (could not connect: "),
        "{verdict}"
    );
    assert!(
        verdict.ends_with("alerts to oncall would wait in the outbox and be retried until it answers"),
        "{verdict}"
    );
    assert_no_secret(&stdout, &stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_channel_is_exit_2_listing_the_configured_ones() {
    let scene = scene().await;
    let output = scene.test_alert("pager").await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.trim_end(),
        r#"error: no channel "pager" in [notify.channels]; the configured ones: chat, oncall"#
    );
    assert_eq!(scene.slack.request_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_url_is_exit_2_naming_its_variable() {
    let scene = scene().await;
    let mut command = slawatch(&["test-alert", "--config", &scene.config, "--channel", "oncall"]);
    command.env_remove("TEST_ALERT_ONCALL");
    let output = scene.run(command).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stdout}\n{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: channel oncall (Slack incoming webhook): the environment variable TEST_ALERT_ONCALL \
         (named by notify.channels.oncall.url_env) is not set"
    );
    // Set, but not a URL: said so, its value not shown.
    let mut command = slawatch(&["test-alert", "--config", &scene.config, "--channel", "oncall"]);
    command.env("TEST_ALERT_ONCALL", "xoxb-not-a-url-secret");
    let output = scene.run(command).await;
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TEST_ALERT_ONCALL does not hold an http(s) URL"), "{stderr}");
    assert!(!stderr.contains("xoxb"), "{stderr}");
    assert_eq!(scene.slack.request_count(), 0);
}

/// A configuration with one PagerDuty and one Opsgenie channel on the simulators.
fn pager_config(dir: &std::path::Path, pagerduty: &str, opsgenie: &str) -> String {
    let path = dir.join("pagers.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[notify.channels.pager]
kind = "pagerduty"
routing_key_env = "TEST_PAGER_KEY"
url = "{pagerduty}"
[notify.channels.genie]
kind = "opsgenie"
api_key_env = "TEST_GENIE_KEY"
url = "{opsgenie}"
[[notify.routes]]
channels = ["pager", "genie"]
[store]
path = "{store}"
"#,
            store = dir.join("store").display()
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pager_takes_one_test_page_and_its_resolve_and_a_wrong_key_is_told() {
    let pagerduty = slawatch::sim::pagerduty::SimPagerDuty::start().await.unwrap();
    pagerduty.add_routing_key("good-key");
    let opsgenie = slawatch::sim::opsgenie::SimOpsgenie::start().await.unwrap();
    opsgenie.add_api_key("genie-key");
    let dir = tempfile::tempdir().unwrap();
    let config = pager_config(dir.path(), &pagerduty.enqueue_url(), &opsgenie.base_url());
    let run = |channel: &'static str, pager_key: &'static str| {
        let config = config.clone();
        tokio::task::spawn_blocking(move || {
            slawatch(&["test-alert", "--config", &config, "--channel", channel])
                .env("TEST_PAGER_KEY", pager_key)
                .env("TEST_GENIE_KEY", "genie-key")
                .output()
                .unwrap()
        })
    };
    let out = run("pager", "good-key").await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        text.contains("PagerDuty took the test page") && text.contains("PagerDuty took its resolve"),
        "{text}"
    );
    assert!(!text.contains("good-key"), "the key is a secret: {text}");
    let incidents = pagerduty.incidents();
    assert_eq!(incidents.len(), 1);
    assert!(pagerduty.open_incidents().is_empty(), "resolved at once");
    let trigger = &pagerduty.requests()[0];
    assert_eq!(trigger.body["payload"]["severity"], "info");
    assert!(trigger.dedup_key().starts_with("slawatch-test/"), "{}", trigger.dedup_key());

    let out = run("genie", "good-key").await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(opsgenie.alerts().len(), 1);
    assert!(opsgenie.open_alerts().is_empty());

    // A wrong routing key: PagerDuty's 400, for good, and nothing to resolve.
    let out = run("pager", "wrong-key").await.unwrap();
    let errors = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(1), "{errors}");
    assert!(errors.contains("refused the test page for good"), "{errors}");
    assert_eq!(pagerduty.incidents().len(), 1);
    // An unknown channel lists the pagers too; an unset key is named by its variable.
    let unknown = slawatch(&["test-alert", "--config", &config, "--channel", "nope"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("genie, pager"),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    let unset = slawatch(&["test-alert", "--config", &config, "--channel", "pager"])
        .output()
        .unwrap();
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("TEST_PAGER_KEY (named by notify.channels.pager.routing_key_env) is not set"));
}
