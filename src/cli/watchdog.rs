//! The supervisor's side of liveness: a thread of its own (so that a wedged runtime cannot
//! silence it) that tells systemd the daemon is up (`READY=1`), pings its watchdog
//! (`WATCHDOG=1`) only while every loop makes progress, and ends the process when one has
//! stalled, so that systemd (`Restart=on-failure`) or Kubernetes (the `/healthz` probe, then
//! the exit) starts it again. What the loops decided is in the store; the restart resumes it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::liveness::Liveness;

/// The exit status of a daemon that stopped making progress (EX_SOFTWARE).
pub const STALLED: i32 = 70;

/// How long `/healthz` answers 503 before the process exits: long enough for a probe to see
/// why, short enough that nothing waits on a daemon that cannot do its job.
const EXIT_AFTER: Duration = Duration::from_secs(2);

/// How often the loops' progress is looked at.
const TICK: Duration = Duration::from_millis(200);

/// Tells systemd, when it started us with `Type=notify`, that the daemon is ready.
pub fn ready() {
    notify(&[sd_notify::NotifyState::Ready]);
}

/// Tells systemd the daemon is stopping.
pub fn stopping() {
    notify(&[sd_notify::NotifyState::Stopping]);
}

fn notify(state: &[sd_notify::NotifyState]) {
    if let Err(error) = sd_notify::notify(state) {
        tracing::warn!(%error, "cannot notify systemd");
    }
}

/// Starts the watchdog thread. `flush` is tried (in a thread of its own, for at most a second)
/// before a stalled process exits: a store that still answers loses nothing it had not fsynced.
pub fn start(liveness: Arc<Liveness>, flush: impl Fn() + Send + Sync + 'static) -> std::io::Result<()> {
    // Half systemd's WatchdogSec, when it set one for us.
    let ping_every = sd_notify::watchdog_enabled().map(|d| d / 2);
    let flush = Arc::new(flush);
    std::thread::Builder::new().name("slawatch-watchdog".to_string()).spawn(move || {
        let mut pinged = Instant::now();
        loop {
            std::thread::sleep(TICK);
            let stalled = liveness.stalled_now();
            if stalled.is_empty() {
                if ping_every.is_some_and(|every| pinged.elapsed() >= every) {
                    notify(&[sd_notify::NotifyState::Watchdog]);
                    pinged = Instant::now();
                }
                continue;
            }
            let what: Vec<String> = stalled.iter().map(ToString::to_string).collect();
            for stall in &what {
                tracing::error!(stall, "a loop makes no progress: exiting so that the supervisor restarts slawatch");
            }
            notify(&[sd_notify::NotifyState::Status(&format!("stalled: {}", what.join("; ")))]);
            std::thread::sleep(EXIT_AFTER);
            let flush = flush.clone();
            let (done, flushed) = std::sync::mpsc::channel();
            let _ = std::thread::Builder::new().name("slawatch-last-flush".to_string()).spawn(move || {
                flush();
                let _ = done.send(());
            });
            if flushed.recv_timeout(Duration::from_secs(1)).is_err() {
                tracing::error!("the store did not flush within a second: exiting without it (what was fsynced stays)");
            }
            std::process::exit(STALLED);
        }
    })?;
    Ok(())
}
