//! The two escalation workers: one files what is pending (woken the moment a request is
//! decided), one follows the linked issues; neither waits behind the other.

use std::sync::Arc;
use std::time::Duration;

use super::super::engine::{Engine, EngineError};
use super::StepError;
use crate::config::EscalationConfig;
use crate::github::client::GithubClient;
use crate::retry::{self, Backoff};
use crate::store::{EscalationRecord, StoreError};
use crate::zendesk::client::ZendeskError;

/// A closed issue (of a ticket still open) is read this many times less often than an open one:
/// only to see it reopened.
pub const CLOSED_ISSUE_PACE: i64 = 10;

/// Failed steps are tried again after 5 s, doubling to 10 min.
pub(super) const STEP_BACKOFF: Backoff = Backoff {
    first: Duration::from_secs(5),
    max: Duration::from_secs(600),
};

impl Engine {
    async fn step(
        &self,
        github: &GithubClient,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
    ) -> Result<(), StepError> {
        let request = &escalation.requests[index];
        if request.failed.is_none() && request.issue.is_none() {
            self.file_issue(github, config, escalation, index).await?;
        }
        // The note and the channel each on their own: a ticket Zendesk is slow on does not keep
        // the channel from hearing of its issue.
        let request = &escalation.requests[index];
        let linked = match request.failed.is_none() && !request.noted {
            true => self.link_back(config, escalation, index).await,
            false => Ok(()),
        };
        if linked.as_ref().is_err_and(StepError::cancelled) {
            return linked;
        }
        if !escalation.requests[index].announced {
            self.announce(config, escalation, index).await?;
        }
        linked
    }

    /// A filing GitHub refused for good: marked failed with GitHub's words, counted, and to be
    /// told to the channel once (the announce step); never tried again.
    fn mark_failed(
        &self,
        config: &EscalationConfig,
        escalation: &mut EscalationRecord,
        index: usize,
        reason: String,
    ) -> Result<(), StoreError> {
        let request = &escalation.requests[index];
        tracing::error!(ticket = escalation.ticket_id, request = request.number, repository = %request.repository, %reason, "the request's issue cannot be filed, for good: not retried");
        // A deleted ticket sends nothing more, not even this.
        let ticket_deleted = self
            .readable_ticket(escalation.ticket_id)
            .ok()
            .flatten()
            .is_none_or(|t| t.status == "deleted");
        let request = &mut escalation.requests[index];
        request.failed = Some(reason.clone());
        request.last_error = Some(reason);
        request.announced = config.channel.is_none() || ticket_deleted;
        request.next_attempt_ms = self.clock.now_ms();
        self.metrics.escalations_failed.inc();
        self.save_request(escalation, index)?;
        Ok(())
    }

    /// Does every pending step that is due; returns when the next one is (ms), if any.
    pub async fn file_escalations(&self) -> Result<Option<i64>, EngineError> {
        let (Some(config), Some(github)) = (&self.config.escalation, &self.github) else {
            return Ok(None);
        };
        let mut next: Option<i64> = None;
        for mut escalation in crate::sync::blocking(|| self.store.escalations())?
            .into_iter()
            .filter(EscalationRecord::has_pending)
        {
            for index in 0..escalation.requests.len() {
                let request = &escalation.requests[index];
                if !request.is_pending() {
                    continue;
                }
                if self.shutdown.is_cancelled() {
                    return Err(ZendeskError::Cancelled.into());
                }
                if request.next_attempt_ms > self.clock.now_ms() {
                    next = super::super::deliver::earliest(next, request.next_attempt_ms);
                    continue;
                }
                let filing = request.issue.is_none() && request.failed.is_none();
                let mut outcome = self.step(github, config, &mut escalation, index).await;
                let refused = match &outcome {
                    Err(StepError::Refused(reason)) => Some(reason.clone()),
                    Err(error) => error.refused_by_github(),
                    Ok(()) => None,
                };
                if let Some(reason) = refused.filter(|_| filing) {
                    // Refused for good: marked failed, then told (the step's last part).
                    self.mark_failed(config, &mut escalation, index, reason)?;
                    outcome = self.step(github, config, &mut escalation, index).await;
                }
                match outcome {
                    Ok(()) => {}
                    Err(error) if error.cancelled() => return Err(ZendeskError::Cancelled.into()),
                    Err(error) => {
                        let request = &mut escalation.requests[index];
                        request.attempts += 1;
                        let wait = STEP_BACKOFF.after(request.attempts, error.retry_after());
                        request.next_attempt_ms = retry::due_ms(self.clock.now_ms(), wait);
                        request.last_error = Some(error.to_string());
                        tracing::warn!(ticket = escalation.ticket_id, request = request.number, %error, attempts = request.attempts, "escalation step failed; will retry");
                        next = super::super::deliver::earliest(next, request.next_attempt_ms);
                        self.save_request(&escalation, index)?;
                    }
                }
            }
        }
        Ok(next)
    }
}

/// Files what is pending, then sleeps until the next retry or a new request; until shutdown.
pub async fn filing_loop(engine: Arc<Engine>) {
    loop {
        let step = crate::liveness::step("filing engineering issues");
        let next = match engine.file_escalations().await {
            Ok(next) => next,
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                tracing::error!(%error, "escalation pass failed; will retry");
                Some(engine.clock.now_ms() + 30_000)
            }
        };
        let wait = next.map_or(Duration::from_secs(3600), |at| {
            Duration::from_millis((at - engine.clock.now_ms()).clamp(0, 3_600_000) as u64)
        });
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.escalation_wake.notified() => {}
            _ = engine.clock.sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}

/// Reads the linked issues that are due and tells their news; until shutdown.
pub async fn sync_loop(engine: Arc<Engine>) {
    let sync_every = engine
        .config
        .escalation
        .as_ref()
        .map_or(Duration::from_secs(300), |e| e.sync_interval);
    loop {
        let step = crate::liveness::step("following engineering issues");
        let next = match engine.sync_pass().await {
            Err(error) if error.is_cancelled() => break,
            Err(error) => {
                tracing::error!(%error, "issue sync failed; will retry");
                None
            }
            Ok(pass) => pass.next_news_ms,
        };
        let wait = next
            .map_or(sync_every, |at| {
                Duration::from_millis((at - engine.clock.now_ms()).clamp(0, 3_600_000) as u64)
            })
            .min(sync_every);
        drop(step);
        tokio::select! {
            _ = engine.shutdown.cancelled() => break,
            _ = engine.clock.sleep(wait.max(Duration::from_millis(10))) => {}
        }
    }
}
