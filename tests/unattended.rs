//! The real binary left alone: a wedged store fails `/healthz` and ends the process for its
//! supervisor to restart (nothing decided is lost); a slow disk holds up neither `/healthz`
//! nor a due alert; `run --once` finishes what it owes through a fault storm, or exits 3
//! naming it; a due breach goes before routine reads when the request budget is tight.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::binary::{daemon_config, eventually, free_port, slawatch, Running, Start};
use slawatch::clock::Clock;
use slawatch::sim::slack::SimSlack;
use slawatch::sim::zendesk::{NewTicket, SimOptions, SimZendesk};

const HOUR: i64 = 3600;

/// A world and the daemon's surroundings: world time `speed` times the wall clock's, a simulated
/// Zendesk with `ids` Severity 1 tickets on the test tier's 1-hour first-response target, a
/// simulated Slack, and the daemon's configuration, store and log in `dir`.
struct Scene {
    speed: f64,
    clock: Clock,
    sim: SimZendesk,
    ids: Vec<u64>,
    slack: SimSlack,
    dir: tempfile::TempDir,
    port: u16,
    config: String,
    log: std::path::PathBuf,
}

/// A scene whose `n` tickets were created `ago` seconds before now; `extra` goes on after
/// `[admin] listen` in the configuration.
async fn scene(speed: f64, n: usize, ago: i64, extra: &str) -> Scene {
    let clock = Clock::scaled(Clock::system().now(), speed);
    let now = clock.now();
    clock.set(now - ago - 60);
    let sim = SimZendesk::start_with_clock(SimOptions::default(), clock.clone()).await.unwrap();
    let customer = sim.add_user("Casey", "casey@example.com", "end-user", None);
    clock.set(now - ago);
    let ids = (0..n)
        .map(|i| {
            sim.create_ticket(NewTicket {
                subject: format!("Down {i}"),
                body: "It is down.".into(),
                requester_id: customer,
                tags: vec!["sev1".into()],
                ..NewTicket::default()
            })
        })
        .collect();
    clock.set(now);
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = daemon_config(dir.path(), &sim, port, extra);
    let log = dir.path().join("daemon.log");
    Scene {
        speed,
        clock,
        sim,
        ids,
        slack: SimSlack::start().await.unwrap(),
        dir,
        port,
        config,
        log,
    }
}

impl Scene {
    /// The binary with `args` and `--config`, on the scene's accelerated clock and Slack,
    /// logging at info.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut command = slawatch(&[args, &["--config", &self.config]].concat());
        command
            .env("SLAWATCH_TEST_CLOCK", format!("{}:{}", self.clock.now(), self.speed))
            .env("SIM_SLACK_ONCALL", self.slack.url("oncall"))
            .env("RUST_LOG", "info");
        command
    }

    /// `command` in the background, its log appended to `log`.
    fn start(&self, command: &mut std::process::Command) -> Running {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        command.stdout(Stdio::null()).stderr(file).start()
    }

    /// `run`, in the background.
    fn run(&self) -> Running {
        self.start(&mut self.command(&["run"]))
    }

    /// `run --once` with `args`, to its end.
    fn run_once(&self, args: &[&str]) -> std::process::Output {
        self.command(&[&["run", "--once"], args].concat()).output().unwrap()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn breaches(&self, ticket: usize) -> usize {
        breaches(&self.slack, self.ids[ticket])
    }
}

async fn get(url: &str, timeout: Duration) -> Result<(u16, String), String> {
    let response = reqwest::Client::new()
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap_or_default()))
}

/// Whether `text` names ticket `id` after `prefix` (`#1` is not `#10`).
fn names(text: &str, prefix: &str, id: u64) -> bool {
    let needle = format!("{prefix} #{id}");
    text.match_indices(&needle)
        .any(|(at, _)| !text[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

fn breaches(slack: &SimSlack, id: u64) -> usize {
    slack
        .messages()
        .iter()
        .filter(|m| names(&m.text, "SLA breached: first response on", id))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wedged_store_fails_healthz_and_the_process_exits_to_be_restarted_losing_nothing() {
    const SPEED: f64 = 30.0;
    // A ticket whose 50% warning is due at first sight (its 75% one 14 minutes later), and a
    // Slack that is down: the warning is decided and waits in the outbox.
    let scene = scene(SPEED, 1, 31 * 60, "stall_after = \"2m\"").await;
    let (slack, log) = (&scene.slack, &scene.log);
    slack.set_down(true);
    let wedge = scene.dir.path().join("wedge");
    // systemd's side of the notify protocol: what the daemon tells it, as systemd would read it.
    let socket = tokio::net::UnixDatagram::bind(scene.dir.path().join("notify.sock")).unwrap();
    let told_systemd = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let listening = told_systemd.clone();
    tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        while let Ok(n) = socket.recv(&mut buffer).await {
            listening
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buffer[..n]).trim_end().to_string());
        }
    });
    let mut daemon = scene.start(
        scene
            .command(&["run"])
            .env("NOTIFY_SOCKET", scene.dir.path().join("notify.sock"))
            .env("WATCHDOG_USEC", "1000000")
            .env("SLAWATCH_TEST_STORE", format!("wedge-when:{}", wedge.display())),
    );
    let healthz = format!("http://127.0.0.1:{}/healthz", scene.port);
    eventually("the warning decided and waiting for Slack", log, || {
        scene.log_text().contains("delivery failed; will retry")
    })
    .await;
    assert_eq!(get(&healthz, Duration::from_secs(5)).await, Ok((200, "ok\n".to_string())));

    // Ready, and the watchdog pinged (every half second, half of WATCHDOG_USEC) while healthy.
    let pings = || told_systemd.lock().unwrap().iter().filter(|m| m.as_str() == "WATCHDOG=1").count();
    eventually("two watchdog pings", log, || pings() >= 2).await;
    assert_eq!(told_systemd.lock().unwrap()[0], "READY=1");

    // The store wedges: every write and flush blocks for ever from now on.
    std::fs::write(&wedge, b"").unwrap();
    let wedged = Instant::now();
    let mut told = None;
    let status = loop {
        if let Some(status) = daemon.try_wait().unwrap() {
            break status;
        }
        if let Ok((503, body)) = get(&healthz, Duration::from_secs(1)).await {
            told.get_or_insert(body);
        }
        assert!(
            wedged.elapsed() < Duration::from_secs(30),
            "still running 30 s after the wedge:\n{}",
            scene.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let text = scene.log_text();
    // The bound: stall_after (2 min) past the last sign of life, which a request's 30 s timeout
    // or a 30 s poll interval can move on, then 2 s of 503 and at most 1 s for a last flush.
    let bound = Duration::from_secs_f64((120.0 + 30.0 + 30.0) / SPEED) + Duration::from_secs(3);
    assert!(
        wedged.elapsed() <= bound + Duration::from_secs(2),
        "exited after {:?}:\n{text}",
        wedged.elapsed()
    );
    assert_eq!(status.code(), Some(70), "{text}");
    let told = told.unwrap_or_else(|| panic!("/healthz never answered 503:\n{text}"));
    assert!(told.contains("stalled while") && told.contains("no progress for"), "{told}");
    assert!(text.contains("a loop makes no progress: exiting"), "{text}");
    // systemd heard why, and no ping after it.
    let messages = told_systemd.lock().unwrap().clone();
    let stalled = messages
        .iter()
        .position(|m| m.starts_with("STATUS=stalled: "))
        .expect("a stall told to systemd");
    assert!(!messages[stalled..].iter().any(|m| m == "WATCHDOG=1"), "{messages:?}");

    // The supervisor starts it again on the same store, healthy this time, with Slack back: the
    // warning decided before the wedge goes out, once.
    slack.set_down(false);
    let mut daemon = scene.run();
    slack.wait_for(1).await;
    let shown = scene.clock.now();
    eventually("two minutes more of world time", log, || scene.clock.now() > shown + 120).await;
    let texts: Vec<String> = slack.messages().iter().map(|m| m.text.clone()).collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(names(&texts[0], "SLA warning: first response on", scene.ids[0]), "{texts:#?}");
    daemon.kill().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_disk_holds_up_neither_healthz_nor_a_due_breach() {
    const SPEED: f64 = 10.0;
    // One async worker, as on a small machine, and every write and flush of the store taking
    // two seconds: run on the worker, one of them would hold up everything else.
    let scene = scene(SPEED, 1, HOUR - 40, "").await;
    let due = scene.clock.now() + 40;
    let _daemon = scene.start(
        scene
            .command(&["run"])
            .env("SLAWATCH_TEST_STORE", "slow:2000")
            .env("TOKIO_WORKER_THREADS", "1"),
    );
    let healthz = format!("http://127.0.0.1:{}/healthz", scene.port);
    let started = Instant::now();
    let mut answered = 0;
    while scene.breaches(0) == 0 {
        // Once it listens, /healthz answers at once (well within the two seconds a write takes)
        // however busy the store is.
        let asked = Instant::now();
        match get(&healthz, Duration::from_secs(1)).await {
            Ok(answer) => {
                answered += 1;
                assert_eq!(answer, (200, "ok\n".to_string()));
            }
            Err(error) if answered > 0 => panic!(
                "/healthz did not answer within 1 s ({:?}) while the store was slow: {error}\n{}",
                asked.elapsed(),
                scene.log_text()
            ),
            Err(_) => {} // not listening yet
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no breach after 60 s:\n{}",
            scene.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(answered > 5, "{answered}");
    assert_eq!(scene.breaches(0), 1);
    // The breach waited on its own writes (its decision, the flush before the post, a poll's
    // commit holding the write lock), not on every other slow write in the daemon: within
    // 15 s of its instant (150 s of world time), not the minutes a queue behind them takes.
    let message = scene
        .slack
        .messages()
        .into_iter()
        .find(|m| m.text.contains("SLA breached"))
        .unwrap();
    let late = message
        .received_at
        .saturating_duration_since(scene.clock.real_instant_of(due * 1000).unwrap());
    assert!(late < Duration::from_secs(15), "the breach reached Slack {late:?} after it was due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_through_a_fault_storm_delivers_every_alert_due_and_exits_0() {
    const SPEED: f64 = 60.0;
    // Ten tickets whose first-response breach comes due 10 s after the start, so each needs a
    // live read to confirm it; Zendesk allows 6 requests a minute (with an honest Retry-After),
    // answers every 3rd 503 and cuts every 4th answer short.
    let scene = scene(SPEED, 10, HOUR - 10, "").await;
    scene.sim.set_rate_limit(Some(6));
    scene.sim.set_storm(Some((3, 503)), Some(4));
    let out = scene.run_once(&["--max-wait", "30m"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot confirm an alert") || stderr.contains("Zendesk request failed"),
        "the storm was felt:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for ticket in 0..10 {
        assert_eq!(scene.breaches(ticket), 1, "#{}:\n{stderr}", scene.ids[ticket]);
    }
    assert_eq!(scene.slack.messages().len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_that_cannot_deliver_exits_3_naming_what_is_owed_and_why() {
    const SPEED: f64 = 60.0;
    let scene = scene(SPEED, 2, HOUR + 60, "").await;
    scene.slack.fail_next(1000, 503);
    let out = scene.run_once(&["--max-wait", "5m"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("error: not everything due was done within 5m:\n2 alerts owed to Slack (oncall): oncall: HTTP 503"),
        "{stderr}"
    );
    assert!(scene.slack.messages().is_empty());
    // Slack back: the next run delivers both breaches and exits 0.
    scene.slack.fail_next(0, 503);
    let out = scene.run_once(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    for ticket in 0..2 {
        assert_eq!(scene.breaches(ticket), 1);
    }
}

/// A managed Severity 1 ticket whose first-response breach is due 150 s after the daemon starts,
/// against a Zendesk that allows 3 requests a minute (the polls alone nearly use them): how late
/// (world seconds) the breach reaches Slack.
async fn breach_lateness(poll_interval: &str) -> f64 {
    const SPEED: f64 = 5.0;
    let scene = scene(SPEED, 1, HOUR - 150, "").await;
    let due = scene.clock.now() + 150;
    scene.sim.set_rate_limit(Some(3));
    let text = std::fs::read_to_string(&scene.config)
        .unwrap()
        .replace("poll_interval = \"30s\"", &format!("poll_interval = \"{poll_interval}\""));
    std::fs::write(&scene.config, text).unwrap();
    let mut daemon = scene.run();
    // (150 s, then at most 65 s, of world time: 43 s of real time, more than `eventually` waits.)
    let started = Instant::now();
    while scene.breaches(0) == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no breach in Slack after 90 s:\n{}",
            scene.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon.kill().unwrap();
    let message = scene
        .slack
        .messages()
        .into_iter()
        .find(|m| m.text.contains("SLA breached"))
        .unwrap();
    let due_real = scene.clock.real_instant_of(due * 1000).unwrap();
    let late = message.received_at.saturating_duration_since(due_real).as_secs_f64() * SPEED;
    eprintln!("poll_interval {poll_interval}: the breach reached Slack {late:.0} s after it was due");
    late
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_breach_goes_before_routine_reads_with_30s_polls() {
    let late = breach_lateness("30s").await;
    assert!(late <= 65.0, "the breach reached Slack {late:.0} s after it was due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_breach_goes_before_routine_reads_with_10s_polls() {
    let late = breach_lateness("10s").await;
    assert!(late <= 65.0, "the breach reached Slack {late:.0} s after it was due");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_stopped_by_a_signal_says_what_it_owes_and_exits_3() {
    const SPEED: f64 = 60.0;
    let scene = scene(SPEED, 1, HOUR + 60, "").await;
    scene.slack.set_down(true);
    let mut once = scene.start(&mut scene.command(&["run", "--once"]));
    eventually("the breach failing to reach Slack", &scene.log, || {
        scene.log_text().contains("delivery failed; will retry")
    })
    .await;
    common::binary::terminate(&once);
    let status = once.wait().unwrap();
    let text = scene.log_text();
    assert_eq!(status.code(), Some(3), "{text}");
    assert!(
        text.contains(
            "not everything due was done within 10m:\nstopped by a signal before everything due was done\n1 alert owed to Slack (oncall): "
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_once_whose_alert_is_refused_for_good_exits_3_saying_so() {
    const SPEED: f64 = 60.0;
    let scene = scene(SPEED, 1, HOUR + 60, "").await;
    // A revoked webhook: 404, for good.
    scene.slack.fail_next(1, 404);
    let out = scene.run_once(&[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("1 alert not delivered to Slack (oncall), refused for good: oncall: HTTP 404"),
        "{stderr}"
    );
}

#[tokio::test]
async fn run_once_names_the_confirmations_zendesk_held_back_with_their_retry_after() {
    // The exports are current, the 50% warning of a Severity 1 ticket is due, and Zendesk has
    // let the poll through but allows nothing more this minute: within --max-wait 30s the
    // warning cannot be confirmed, and the run says so instead of claiming it done.
    let mut h = common::Harness::new(common::SUPPORT_ONLY).await;
    let id = h.ticket("sev1");
    h.clock.set(common::t("2026-12-01T12:55:00-08:00"));
    h.engine.poll().await.unwrap();
    h.clock.set(common::t("2026-12-01T13:00:00-08:00"));
    h.sim.set_rate_limit(Some(2));
    let engine = std::sync::Arc::new(h.take_engine());
    let owed = match slawatch::engine::daemon::run_once(engine, Duration::from_secs(30)).await {
        Err(slawatch::engine::EngineError::Owed { owed, .. }) => owed,
        other => panic!("expected work owed, got {other:?}"),
    };
    assert_eq!(owed.len(), 1, "{owed:?}");
    assert!(
        owed[0].starts_with("1 alert owed: ") && owed[0].contains("rate-limited (429, Retry-After 60s)"),
        "{owed:?}"
    );
    assert!(h.slack.messages().is_empty(), "nothing unconfirmed went out (#{id})");
}
