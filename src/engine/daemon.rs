//! The daemon's loop: poll at the configured interval until shutdown, then
//! flush the store. `--once` polls until current, evaluates, and returns.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::poll::{Engine, EngineError};

/// How long a poll in flight may go on after shutdown is asked for.
const GRACE: Duration = Duration::from_secs(5);

/// Polls until `shutdown` (or once). A failed poll is logged and retried at the next interval:
/// the cursors stay where the last committed page left them.
pub async fn run(engine: Arc<Engine>, shutdown: CancellationToken, once: bool) -> Result<(), EngineError> {
    let interval = engine.config.zendesk.as_ref().map_or(Duration::from_secs(30), |z| z.poll_interval);
    let evaluated = engine.evaluate_all()?;
    tracing::info!(tickets = engine.store.ticket_count(), evaluated, "store open; clocks evaluated");
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
        engine.evaluate_all()?;
    }
    engine.store.flush()?;
    tracing::info!("store flushed; stopped");
    result
}
