//! The daemon's loop: poll at the configured interval until shutdown, then
//! flush the store. `--once` polls until current, evaluates, and returns.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;

use super::engine::{Engine, EngineError};
use crate::config::Config;
use crate::sync::blocking;
use crate::zendesk::client::ZendeskError;

/// Everything that decides a stored ticket's clocks and KPI row: the resolved policy as
/// `check-config` prints it, how tickets map to severities and customers, the report's fields,
/// and the shape of the KPI row (so a store written before rows were kept gets them once).
pub fn policy_fingerprint(config: &Config) -> String {
    let text = format!(
        "{}{:?}{:?}{:?}{:?}{:?}kpi-row-3",
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
    // Every schedule the clocks, goals and report regions name, built before the first need.
    for named in &engine.config.policy.schedules {
        named.schedule.prepare();
    }
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
                crate::liveness::beat();
            }
        }
        engine.decide_escalations(&batch)?;
    }
    Ok(())
}

/// A task of the daemon, spawned as the liveness task `name`: its steps and waits are its own,
/// and should it end while the daemon is not stopping (a panic, say), it has stalled for good.
fn spawn<F>(engine: &Engine, name: impl Into<String>, work: F) -> tokio::task::JoinHandle<()>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let task = engine.liveness.task(name);
    let ended = Ended {
        task: task.clone(),
        shutdown: engine.shutdown.clone(),
    };
    tokio::spawn(task.scope(async move {
        let _ended = ended;
        work.await;
    }))
}

/// Dropped when a task's work ends, by returning or by a panic unwinding it.
struct Ended {
    task: crate::liveness::Task,
    shutdown: tokio_util::sync::CancellationToken,
}

impl Drop for Ended {
    fn drop(&mut self) {
        if !self.shutdown.is_cancelled() {
            tracing::error!(task = self.task.name(), "a task of the daemon ended while it was running");
            self.task.exited();
        }
    }
}

/// Polls until shutdown (`engine.shutdown`), with the decider and one delivery worker per
/// channel alongside. A failed poll is logged and retried at the next interval: the cursors
/// stay where the last committed page left them.
pub async fn run(engine: Arc<Engine>) -> Result<(), EngineError> {
    let startup = engine.liveness.task("startup");
    let evaluating = startup.step("evaluating the stored tickets");
    startup.scope(async { blocking(|| evaluate_if_policy_changed(&engine)) }).await?;
    drop(evaluating);
    let interval = engine.config.zendesk.as_ref().map_or(Duration::from_secs(30), |z| z.poll_interval);
    let mut workers = vec![spawn(&engine, "alert decider", super::alerts::decider_loop(engine.clone()))];
    for channel in engine.delivery_channels()? {
        let name = format!("delivery to {channel}");
        workers.push(spawn(&engine, name, super::deliver::delivery_loop(engine.clone(), channel)));
    }
    if engine.github.is_some() {
        // Two workers: a new request is filed at once, never behind a pass over every issue.
        workers.push(spawn(&engine, "escalation filing", super::escalate::filing_loop(engine.clone())));
        workers.push(spawn(&engine, "issue sync", super::escalate::sync_loop(engine.clone())));
    }
    if engine.slack.is_some() {
        workers.push(spawn(&engine, "slack lookups", super::people::people_loop(engine.clone())));
    }
    if engine.push.is_some() {
        let readers = engine
            .config
            .zendesk
            .as_ref()
            .and_then(|z| z.webhook.as_ref())
            .map_or(1, |w| w.readers);
        for reader in 1..=readers {
            let name = format!("pushed tickets ({reader} of {readers})");
            workers.push(spawn(&engine, name, super::push::push_loop(engine.clone())));
        }
    }
    if engine.config.report.digest.is_some() {
        workers.push(spawn(&engine, "digest", super::digest::digest_loop(engine.clone())));
    }
    workers.push(spawn(&engine, "retention", super::retention::retention_loop(engine.clone())));
    engine.liveness.task("poll loop").scope(poll_loop(&engine, interval)).await;
    tracing::info!("shutting down");
    stop(&engine, workers).await
}

/// Polls at `interval` until shutdown.
async fn poll_loop(engine: &Engine, interval: Duration) {
    let backoff = crate::retry::Backoff {
        first: interval,
        max: Duration::from_secs(600).max(interval),
    };
    let (mut failures, mut cycle) = (0, 0u64);
    while !engine.shutdown.is_cancelled() {
        cycle += 1;
        let step = crate::liveness::step("polling the exports");
        let wait = match engine.poll().instrument(tracing::info_span!("poll_cycle", cycle)).await {
            Ok(report) => {
                failures = 0;
                if report.complete {
                    engine.health.poll_succeeded(engine.clock.now_ms());
                }
                tracing::info!(?report, "poll done");
                if let Err(error) = engine.watch_drift().await {
                    tracing::warn!(%error, "could not measure config drift");
                }
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
        drop(step);
        if crate::retry::wait(&engine.clock, &engine.shutdown, wait).await.is_err() {
            break;
        }
    }
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
    blocking(|| engine.store.flush())?;
    tracing::info!("store flushed; stopped");
    Ok(())
}

/// How soon `run --once` tries again to read a linked issue it could not.
const SYNC_RETRY_MS: i64 = 30_000;

/// `run --once`: polls until the exports are current, then decides and delivers the alerts due,
/// files the engineering requests due, syncs the linked issues and posts the digest due,
/// retrying what fails (a confirmation rate-limited, a channel down) as its waits allow, until
/// nothing due is owed or `max_wait` has passed. Then `EngineError::Owed` names what is owed.
pub async fn run_once(engine: Arc<Engine>, max_wait: Duration) -> Result<(), EngineError> {
    let task = engine.liveness.task("run --once");
    task.scope(once(&engine, max_wait)).await
}

async fn once(engine: &Engine, max_wait: Duration) -> Result<(), EngineError> {
    let _step = crate::liveness::step("running one cycle");
    let started_ms = engine.clock.now_ms();
    let deadline_ms = crate::retry::due_ms(started_ms, max_wait);
    let limit = crate::sla::time::Duration(max_wait.as_secs() as i64).to_string();
    blocking(|| evaluate_if_policy_changed(engine))?;
    // No Zendesk wait past the limit: what cannot be done within it is owed, and said.
    engine.client.set_deadline(Some(deadline_ms));
    let result = cycle(engine, deadline_ms, &limit).await;
    engine.client.set_deadline(None);
    blocking(|| engine.store.flush())?;
    let mut owed = result?;
    if owed.is_empty() {
        tracing::info!("everything due done");
        return Ok(());
    }
    if engine.shutdown.is_cancelled() {
        owed.insert(0, "stopped by a signal before everything due was done".to_string());
    }
    Err(EngineError::Owed { limit, owed })
}

/// Polls, then goes over what is due until nothing is owed, `deadline_ms` (`limit` from the
/// start) or shutdown; returns what is still owed then.
async fn cycle(engine: &Engine, deadline_ms: i64, limit: &str) -> Result<Vec<String>, EngineError> {
    let mut not_current = None;
    match engine.poll().await {
        Ok(report) => {
            tracing::info!(?report, "poll done");
            if let Err(error) = engine.watch_drift().await {
                tracing::warn!(%error, "could not measure config drift");
            }
        }
        Err(error) if error.is_cancelled() => {}
        Err(EngineError::Zendesk(ZendeskError::Deadline { waiting, .. })) => {
            not_current = Some(format!("the exports could not be made current within {limit}: {waiting}"));
        }
        // What was decided on complete facts goes out even when the poll failed: the failure
        // is told once that is done.
        Err(error) => {
            if let Err(other) = one_pass(engine).await {
                tracing::error!(error = %other, "delivering what was due failed too");
            }
            return Err(error);
        }
    }
    let mut owed;
    loop {
        let next = match one_pass(engine).await {
            Ok(next) => next,
            Err(error) if error.is_cancelled() => None,
            Err(error) => return Err(error),
        };
        owed = blocking(|| engine.owed_work())?;
        if owed.is_empty() || engine.shutdown.is_cancelled() {
            break;
        }
        let now_ms = engine.clock.now_ms();
        let Some(at) = next.filter(|&at| at <= deadline_ms) else { break };
        let wait = Duration::from_millis((at - now_ms).max(10) as u64);
        tracing::info!(
            owed = owed.len(),
            wait_ms = wait.as_millis() as u64,
            "work owed; trying again when its wait is over"
        );
        if crate::retry::wait(&engine.clock, &engine.shutdown, wait).await.is_err() {
            break;
        }
    }
    owed.splice(0..0, not_current);
    Ok(owed)
}

/// One pass over everything due: alerts decided and delivered, engineering requests filed,
/// linked issues synced, digests posted. Returns when something next needs doing (ms), if ever.
async fn one_pass(engine: &Engine) -> Result<Option<i64>, EngineError> {
    let report = engine.fire_due().await?;
    tracing::info!(?report, "alerts due decided and delivered");
    let escalations = engine.file_escalations().await?;
    let synced = engine.sync_pass().await?;
    blocking(|| engine.decide_digest())?;
    let digests = engine.deliver_digests().await?;
    let alerts = blocking(|| engine.next_wake_ms())?;
    let syncs = (synced.failed > 0).then(|| engine.clock.now_ms() + SYNC_RETRY_MS);
    Ok([alerts, escalations, digests, syncs, synced.next_news_ms]
        .into_iter()
        .flatten()
        .min())
}
