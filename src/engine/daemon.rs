//! The daemon's loop: poll at the configured interval until shutdown, then
//! flush the store. `--once` polls until current, evaluates, and returns.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::poll::{Engine, EngineError};
use crate::config::Config;

/// Everything that decides a stored ticket's clocks: the resolved policy as `check-config`
/// prints it, and how tickets map to severities and customers.
pub fn policy_fingerprint(config: &Config) -> String {
    let text = format!(
        "{}{:?}{:?}",
        crate::config::describe::describe(config, None),
        config.severity,
        config.customers
    );
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let hash = text
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// How long a poll in flight may go on after shutdown is asked for.
const GRACE: Duration = Duration::from_secs(5);

/// Polls until `shutdown` (or once). A failed poll is logged and retried at the next interval:
/// the cursors stay where the last committed page left them.
pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken, once: bool) -> Result<(), EngineError> {
    let interval = engine.config.zendesk.as_ref().map_or(Duration::from_secs(30), |z| z.poll_interval);
    // Stored alert instants stay right while the policy does; re-evaluate every ticket only
    // when it changed, so a restart of a large store takes seconds.
    let fingerprint = policy_fingerprint(&engine.config);
    if engine.store.policy_fingerprint()?.as_deref() != Some(fingerprint.as_str()) {
        let changed = engine.evaluate_all()?;
        engine.store.set_policy_fingerprint(&fingerprint)?;
        tracing::info!(
            tickets = engine.store.ticket_count(),
            changed,
            "policy new or changed: every ticket's clocks evaluated"
        );
    } else {
        tracing::info!(tickets = engine.store.ticket_count(), "store open; policy unchanged");
    }
    let alerts = (!once).then(|| tokio::spawn(super::alerts::alert_loop(engine.clone(), shutdown.clone())));
    let mut result = Ok(());
    loop {
        let poll = engine.poll(&shutdown);
        let outcome = tokio::select! {
            outcome = poll => Some(outcome),
            _ = async { shutdown.cancelled().await; tokio::time::sleep(GRACE).await } => None,
        };
        match outcome {
            Some(Ok(report)) => tracing::info!(?report, "poll done"),
            Some(Err(error)) => {
                tracing::error!(%error, "poll failed; the cursors stay where they were");
                if once {
                    result = Err(error);
                }
            }
            None => tracing::warn!("shutdown interrupted a poll; its committed pages stay"),
        }
        if once || shutdown.is_cancelled() {
            break;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = engine.clock.sleep(interval) => {}
        }
    }
    if once && result.is_ok() {
        let report = engine.fire_due().await?;
        tracing::info!(?report, "alerts due delivered");
    }
    shutdown.cancel();
    if let Some(mut alerts) = alerts {
        // A delivery in flight to a slow webhook is dropped rather than hold the exit: it is
        // still in the outbox and goes out (at most once more) after the restart.
        if tokio::time::timeout(Duration::from_secs(2), &mut alerts).await.is_err() {
            alerts.abort();
        }
    }
    engine.store.flush()?;
    tracing::info!("store flushed; stopped");
    result
}
