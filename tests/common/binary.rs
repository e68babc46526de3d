//! Running the real binary against the simulators: its command line, waiting on what it does,
//! and stopping it with a signal.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

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
