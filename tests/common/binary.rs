//! Running the real binary against the simulators: its command line, waiting on what it does,
//! and stopping it with a signal.

use std::ops::{Deref, DerefMut};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;
use slawatch::sim::zendesk::SimZendesk;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub fn slawatch(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slawatch"));
    command.args(args).env("SIM_ZENDESK_TOKEN", "sim-token").env("RUST_LOG", "warn");
    command
}

/// Waits (briefly, polling) until `check` holds; the daemon runs on the wall clock. On a
/// timeout the daemon's log is shown.
pub async fn eventually(what: &str, log: &std::path::Path, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        if start.elapsed() > Duration::from_secs(30) {
            panic!(
                "timed out waiting for {what}; daemon log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn status_json(config: &str) -> Option<Vec<Value>> {
    let out = slawatch(&["status", "--json", "--config", config]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

pub fn terminate(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

/// A config file in `dir` for the binary: the simulated Zendesk, one managed 24x7 tier (sev1: first
/// response in 1 h, resolution in 72 h), Slack channel `oncall` from `SIM_SLACK_ONCALL`, the
/// store in `dir/store`, the admin listener on `port`; `extra` goes on after `[admin] listen`.
pub fn daemon_config(dir: &std::path::Path, sim: &SimZendesk, port: u16, extra: &str) -> String {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            r#"
goals = []
[zendesk]
url = "{url}"
email = "agent@example.com"
token_env = "SIM_ZENDESK_TOKEN"
poll_interval = "30s"
start_time = "2020-01-01T00:00:00Z"
export_requests_per_minute = 1000
[policy]
default_tier = "managed"
[tiers.managed]
schedule = "24x7"
targets.sev1 = {{ first_response = "1h", resolution = "72h" }}
[notify.channels.oncall]
kind = "slack"
url_env = "SIM_SLACK_ONCALL"
[[notify.routes]]
channels = ["oncall"]
[store]
path = "{store}"
[admin]
listen = "127.0.0.1:{port}"
{extra}
"#,
            url = sim.base_url(),
            store = dir.join("store").display(),
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// A daemon started by a test: killed when dropped, so a failing assertion does not leave it
/// running (and polling the simulators) after the test has ended.
pub struct Running(Child);

pub trait Start {
    fn start(&mut self) -> Running;
}

impl Start for Command {
    fn start(&mut self) -> Running {
        Running(self.spawn().unwrap())
    }
}

impl Deref for Running {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl DerefMut for Running {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}
