//! The daemon's loop: poll at the configured interval until shutdown, then
//! flush the store. `--once` polls until current, evaluates, and returns.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::engine::{Engine, EngineError};
use crate::config::Config;

/// Everything that decides a stored ticket's clocks and KPI row: the resolved policy as
/// `check-config` prints it, how tickets map to severities and customers, the report's fields,
/// and the shape of the KPI row (so a store written before rows were kept gets them once).
pub fn policy_fingerprint(config: &Config) -> String {
    let text = format!(
        "{}{:?}{:?}{:?}{:?}{:?}kpi-row-2",
        crate::config::describe::describe(config, None),
        config.severity,
        config.customers,
        config.report.type_field,
        config.report.product_area_field,
        config.escalation.as_ref().map(|e| (&e.rules, e.request_type_field)),
    );
    // FNV-1a: stable across builds, unlike the standard library's hasher.
    let hash = text
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("{hash:016x}")
}

/// How long the workers get to finish after shutdown (a post in flight, say) before the store
/// is flushed without them.
const GRACE: Duration = Duration::from_secs(3);

/// `run --once`'s default limit on making the exports current.
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(600);

/// Evaluates every ticket again when the policy changed since the store was last written.
fn evaluate_if_policy_changed(engine: &Engine) -> Result<(), EngineError> {
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
    // Tickets a crash left waiting although the events export had passed them.
    engine.release_awaiting()?;
    // Requests a crash left undecided (a page committed, its escalations not yet stored).
    if engine.config.escalation.is_some() {
        // In batches: a large store is not held in memory at once.
        let mut batch = Vec::with_capacity(1000);
        for ticket in engine.store.tickets() {
            batch.push(ticket?);
            if batch.len() == 1000 {
                engine.decide_escalations(&std::mem::take(&mut batch))?;
            }
        }
        engine.decide_escalations(&batch)?;
    }
    Ok(())
}

/// Polls until shutdown (`engine.shutdown`), with the decider and one delivery worker per
/// channel alongside. A failed poll is logged and retried at the next interval: the cursors
/// stay where the last committed page left them.
pub async fn run(engine: Arc<Engine>) -> Result<(), EngineError> {
    evaluate_if_policy_changed(&engine)?;
    let interval = engine.config.zendesk.as_ref().map_or(Duration::from_secs(30), |z| z.poll_interval);
    let mut workers = vec![tokio::spawn(super::alerts::decider_loop(engine.clone()))];
    for channel in engine.delivery_channels()? {
        workers.push(tokio::spawn(super::deliver::delivery_loop(engine.clone(), channel)));
    }
    if engine.github.is_some() {
        workers.push(tokio::spawn(super::escalate::escalation_loop(engine.clone())));
    }
    if engine.config.report.digest.is_some() {
        workers.push(tokio::spawn(super::digest::digest_loop(engine.clone())));
    }
    workers.push(tokio::spawn(super::retention::retention_loop(engine.clone())));
    let backoff = crate::retry::Backoff {
        first: interval,
        max: Duration::from_secs(600).max(interval),
    };
    let (mut failures, mut cycle) = (0, 0u64);
    while !engine.shutdown.is_cancelled() {
        cycle += 1;
        let wait = match engine.poll().instrument(tracing::info_span!("poll_cycle", cycle)).await {
            Ok(report) => {
                failures = 0;
                if report.complete {
                    engine.health.poll_succeeded(engine.clock.now_ms());
                }
                tracing::info!(?report, "poll done");
                interval
            }
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                failures += 1;
                engine.health.poll_failed(error.to_string());
                engine.metrics.polls_failed.inc();
                tracing::error!(%error, "poll failed; the cursors stay where they were");
                backoff.delay(failures)
            }
        };
        if crate::retry::wait(&engine.clock, &engine.shutdown, wait).await.is_err() {
            break;
        }
    }
    tracing::info!("shutting down");
    stop(&engine, workers).await
}

async fn stop(engine: &Engine, workers: Vec<tokio::task::JoinHandle<()>>) -> Result<(), EngineError> {
    engine.shutdown.cancel();
    for mut worker in workers {
        // A post in flight to a slow webhook is dropped rather than hold the exit: it is still in
        // the outbox and goes out (at most once more) after the restart.
        if tokio::time::timeout(GRACE, &mut worker).await.is_err() {
            worker.abort();
        }
    }
    engine.store.flush()?;
    tracing::info!("store flushed; stopped");
    Ok(())
}

/// `run --once`: polls until the exports are current, then decides and delivers what is due.
/// When the exports cannot be made current within `max_wait`, it says what it waited for.
pub async fn run_once(engine: Arc<Engine>, max_wait: Duration) -> Result<(), EngineError> {
    evaluate_if_policy_changed(&engine)?;
    let polled = tokio::select! {
        polled = engine.poll() => Some(polled),
        _ = engine.clock.sleep(max_wait) => None,
    };
    let result = match polled {
        Some(Ok(report)) => {
            tracing::info!(?report, "poll done");
            Ok(())
        }
        Some(Err(error)) if error.is_cancelled() => Ok(()),
        Some(Err(error)) => Err(error),
        None => Err(EngineError::NotCurrent {
            limit: crate::sla::time::Duration(max_wait.as_secs() as i64).to_string(),
            waiting: engine.client.waiting_for().unwrap_or_else(|| "Zendesk's responses".to_string()),
        }),
    };
    // What was decided on complete facts goes out even when the exports fell behind.
    if !engine.shutdown.is_cancelled() {
        match engine.fire_due().await {
            Ok(report) => tracing::info!(?report, "alerts due delivered"),
            Err(error) if error.is_cancelled() => {}
            Err(error) => return Err(error),
        }
        match engine.file_escalations().await {
            Ok(_) => {}
            Err(error) if error.is_cancelled() => {}
            Err(error) => return Err(error),
        }
        engine.decide_digest()?;
        match engine.deliver_digests().await {
            Ok(_) => {}
            Err(error) if error.is_cancelled() => {}
            Err(error) => return Err(error),
        }
    }
    engine.store.flush()?;
    result
}
