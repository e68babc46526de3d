//! Paging (PagerDuty, Opsgenie): a page is one more delivery of an alert, to a pager channel,
//! through the same outbox, worker, retries and classification as a Slack message; the alert's
//! key is its dedup key (PagerDuty) or alias (Opsgenie). It has a second duty, the resolve (an
//! Opsgenie close), owed once the alert's clock is met or stops: decided wherever the ticket
//! is evaluated, recorded on disk before it is sent, sent by the same worker after the page.
//!
//! Exactly once by key: a page never sent is never resolved; one whose clock was met before it
//! went out is not sent; a crash between a send and its record sends that one request again,
//! which both services fold into the same incident by its key.

use std::collections::BTreeMap;

use super::alerts::AlertReport;
use super::deliver::DeliveryError;
use super::engine::{Engine, EngineError, POST_TIMEOUT};
use crate::config::{Config, PagerConfig, PagerService, PagerSeverity};
use crate::notify::message::AlertMessage;
use crate::notify::page;
use crate::retry::{self, Backoff};
use crate::sla::alerting::settled;
use crate::sla::clock::TicketClocks;
use crate::store::{AlertRecord, Delivery, StoreError};
use crate::sync::blocking;

/// A pager channel, with its key read from the environment (a secret: never shown).
#[derive(Clone)]
pub struct Pager {
    pub service: PagerService,
    /// PagerDuty: the enqueue URL; Opsgenie: the API's base URL.
    pub url: String,
    key: String,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("service", &self.service)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// One request to a pager: where, with which `Authorization` (Opsgenie's key), what.
pub struct PageRequest {
    pub url: String,
    pub authorization: Option<String>,
    pub body: serde_json::Value,
}

impl Pager {
    pub fn new(service: PagerService, url: impl Into<String>, key: impl Into<String>) -> Pager {
        Pager {
            service,
            url: url.into(),
            key: key.into(),
        }
    }

    fn genie_key(&self) -> Option<String> {
        (self.service == PagerService::Opsgenie).then(|| format!("GenieKey {}", self.key))
    }

    /// The page for an alert rendered now (PagerDuty `trigger`, Opsgenie create).
    pub fn trigger(&self, message: &AlertMessage, severity: PagerSeverity) -> PageRequest {
        let (url, body) = match self.service {
            PagerService::PagerDuty => (self.url.clone(), page::pagerduty_trigger(&self.key, message, severity)),
            PagerService::Opsgenie => (format!("{}/v2/alerts", self.url), page::opsgenie_create(message, severity)),
        };
        PageRequest {
            url,
            authorization: self.genie_key(),
            body,
        }
    }

    /// The resolve of the page `key` opened (PagerDuty `resolve`, Opsgenie close by alias).
    pub fn resolve(&self, key: &str, reason: &str) -> Result<PageRequest, String> {
        let (url, body) = match self.service {
            PagerService::PagerDuty => (self.url.clone(), page::pagerduty_resolve(&self.key, key)),
            PagerService::Opsgenie => {
                let mut url = reqwest::Url::parse(&self.url).map_err(|e| format!("the Opsgenie URL is not valid: {e}"))?;
                // The alias holds `/`: one path segment, escaped.
                url.path_segments_mut()
                    .map_err(|_| "the Opsgenie URL cannot take a path".to_string())?
                    .pop_if_empty()
                    .extend(["v2", "alerts", key, "close"]);
                url.set_query(Some("identifierType=alias"));
                (url.to_string(), page::opsgenie_close(reason))
            }
        };
        Ok(PageRequest {
            url,
            authorization: self.genie_key(),
            body,
        })
    }

    /// A test page (`slawatch test-alert`): the lowest severity, about no ticket, under `key`.
    pub fn test(&self, key: &str, text: &str) -> PageRequest {
        let (url, body) = match self.service {
            PagerService::PagerDuty => (self.url.clone(), page::pagerduty_test(&self.key, key, text)),
            PagerService::Opsgenie => (format!("{}/v2/alerts", self.url), page::opsgenie_test(key, text)),
        };
        PageRequest {
            url,
            authorization: self.genie_key(),
            body,
        }
    }
}

/// Each pager channel with its key from the environment variable the configuration names;
/// an unset one is named by its variable.
pub fn pagers_from_env(config: &Config) -> Result<BTreeMap<String, Pager>, String> {
    pagers_from(config, |variable| std::env::var(variable).ok())
}

/// As [`pagers_from_env`], reading variables through `read`.
pub fn pagers_from(config: &Config, read: impl Fn(&str) -> Option<String>) -> Result<BTreeMap<String, Pager>, String> {
    config
        .notify
        .pagers
        .iter()
        .map(|(name, pager): (&String, &PagerConfig)| {
            let key = read(&pager.key_env)
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty())
                .ok_or_else(|| {
                    format!(
                        "the environment variable {} (named by notify.channels.{name}.{}) is not set",
                        pager.key_env, pager.key_name
                    )
                })?;
            Ok((name.clone(), Pager::new(pager.service, pager.url.clone(), key)))
        })
        .collect()
}

impl Engine {
    /// Pages through these pager channels (see `pagers_from_env`).
    pub fn with_pagers(mut self, pagers: BTreeMap<String, Pager>) -> Engine {
        self.pagers = pagers;
        self
    }

    /// Records the resolves a ticket's pages now owe: each page (sent, or still to be) whose
    /// clock `clocks` says is met or stopped. On disk before it returns, so a resolve decided is
    /// never forgotten; the pager's worker is woken.
    pub(super) fn owe_resolves(&self, ticket_id: u64, clocks: &TicketClocks) -> Result<(), StoreError> {
        if self.config.notify.pagers.is_empty() {
            return Ok(());
        }
        let now_ms = self.clock.now_ms();
        let mut owed = 0;
        for alert in self.store.alerts_of(ticket_id)? {
            let pages = |d: &Delivery| {
                self.config.notify.pagers.contains_key(&d.channel) && d.resolve.is_none() && d.dropped.is_none() && !d.gave_up
            };
            if !alert.deliveries.iter().any(pages) {
                continue;
            }
            let Some(reason) = settled(clocks, &alert.id) else { continue };
            tracing::info!(ticket = ticket_id, alert = %alert.key, reason, "page to be resolved");
            self.store.update_alert(&alert.key, |a| {
                for delivery in a.deliveries.iter_mut().filter(|d| pages(d)) {
                    delivery.resolve = Some(Box::new(Delivery::new(delivery.channel.clone(), now_ms)));
                }
                a.settle();
            })?;
            owed += 1;
        }
        if owed > 0 {
            self.outbox_wake.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(())
    }

    /// Triggers the page (PagerDuty `trigger`, Opsgenie create) for an alert rendered now.
    pub(super) async fn trigger_page(
        &self,
        pager: &Pager,
        channel: &str,
        message: &AlertMessage,
        delivery: &Delivery,
    ) -> Result<(), DeliveryError> {
        let severity = delivery
            .pager_severity
            .as_deref()
            .and_then(PagerSeverity::parse)
            .unwrap_or_default();
        self.post_page(channel, pager.trigger(message, severity)).await
    }

    /// Resolves the page the alert's key opened (PagerDuty `resolve`, Opsgenie close by alias).
    async fn resolve_page(&self, pager: &Pager, channel: &str, alert_key: &str, reason: &str) -> Result<(), DeliveryError> {
        let request = pager
            .resolve(alert_key, reason)
            .map_err(|e| DeliveryError::permanent(format!("{channel}: {e}")))?;
        self.post_page(channel, request).await
    }

    async fn post_page(&self, channel: &str, request: PageRequest) -> Result<(), DeliveryError> {
        // A wait on purpose, bounded by the post's timeout: not a stall.
        let _post = crate::liveness::waiting(POST_TIMEOUT);
        crate::notify::post::post_with(
            &self.http,
            channel,
            &request.url,
            request.authorization.as_deref(),
            &request.body,
            POST_TIMEOUT,
            self.clock.now(),
        )
        .await
        .map(|_| ())
        .map_err(DeliveryError::from)
    }

    /// Sends (or settles) the resolve a page owes; returns when to try again, if it failed for
    /// now. A page never sent is never resolved; a clock running again (a reopened ticket) takes
    /// the resolve back, to be owed again when the clock is met or stops.
    pub(super) async fn deliver_resolve(
        &self,
        alert: &AlertRecord,
        delivery: &Delivery,
        backoff: &Backoff,
        report: &mut AlertReport,
    ) -> Result<Option<i64>, EngineError> {
        let channel = delivery.channel.as_str();
        let Some(resolve) = delivery.resolve_owed() else { return Ok(None) };
        if !resolve.is_due(self.clock.now_ms()) {
            return Ok(Some(resolve.next_attempt_ms));
        }
        if delivery.sent_at.is_none() {
            // Never the case once settled (`AlertRecord::settle` drops it with the page); kept
            // because a resolve for a page never sent must never go out.
            self.mark(&alert.key, channel, |d| {
                if let Some(r) = d.resolve.as_mut() {
                    r.dropped = Some("no page was sent".into());
                }
            })?;
            return Ok(None);
        }
        let reason = match blocking(|| self.settled_now(alert))? {
            Now::Settled(reason) => reason,
            Now::Running => {
                tracing::info!(alert = %alert.key, channel, "the clock runs again: the page stays open");
                self.mark(&alert.key, channel, |d| d.resolve = None)?;
                return Ok(None);
            }
            Now::Unknown => {
                // Never resolved on a read error: the exports bring the ticket back.
                let at = retry::due_ms(self.clock.now_ms(), std::time::Duration::from_secs(60));
                self.mark(&alert.key, channel, |d| {
                    if let Some(r) = d.resolve.as_mut() {
                        r.next_attempt_ms = at;
                        r.last_error = Some("the ticket's stored record cannot be read".to_string());
                    }
                })?;
                return Ok(Some(at));
            }
        };
        let Some(pager) = self.pagers.get(channel) else {
            let error = DeliveryError::permanent(format!("{channel}: no such pager channel is configured"));
            return self.resolve_failed(alert, channel, resolve, error, backoff, report);
        };
        let span = tracing::info_span!("resolve", ticket = alert.ticket_id, alert = %alert.key, channel);
        let outcome = tracing::Instrument::instrument(self.resolve_page(pager, channel, &alert.key, &reason), span).await;
        match outcome {
            Ok(()) => {
                report.sent += 1;
                self.metrics.page(channel, "resolved");
                tracing::info!(ticket = alert.ticket_id, alert = %alert.key, channel, reason, "page resolved");
                let now = self.clock.now();
                self.mark(&alert.key, channel, |d| {
                    if let Some(r) = d.resolve.as_mut() {
                        r.attempts += 1;
                        r.sent_at = Some(now);
                        r.last_error = None;
                    }
                })?;
                Ok(None)
            }
            Err(error) => self.resolve_failed(alert, channel, resolve, error, backoff, report),
        }
    }

    fn resolve_failed(
        &self,
        alert: &AlertRecord,
        channel: &str,
        resolve: &Delivery,
        error: DeliveryError,
        backoff: &Backoff,
        report: &mut AlertReport,
    ) -> Result<Option<i64>, EngineError> {
        report.failed += 1;
        self.metrics.page(channel, "failed");
        let now_ms = self.clock.now_ms();
        let attempts = resolve.attempts + 1;
        let at = retry::due_ms(now_ms, backoff.after(attempts, error.retry_after));
        if error.permanent {
            tracing::error!(ticket = alert.ticket_id, alert = %alert.key, channel, error = %error.message, attempts, "resolve given up: the page stays open");
            self.owed.refused("page resolve", channel, &error.message);
        } else {
            tracing::warn!(ticket = alert.ticket_id, alert = %alert.key, channel, error = %error.message, attempts, "resolve failed; will retry");
        }
        self.mark(&alert.key, channel, |d| {
            if let Some(r) = d.resolve.as_mut() {
                r.record_failure(attempts, at, error.permanent, now_ms, &error.message);
            }
        })?;
        Ok((!error.permanent).then_some(at))
    }

    /// Whether the alert's clock still needs anyone, as the ticket's record stands now.
    fn settled_now(&self, alert: &AlertRecord) -> Result<Now, EngineError> {
        // A resolve is owed while the ticket is evaluated, before its new facts are saved (the
        // write lock is held from one to the other): wait for them, or the old facts would
        // take the resolve back.
        let _writing = self.write_lock();
        let record = match self.store.ticket(alert.ticket_id) {
            Ok(Some(record)) => record,
            Ok(None) => return Ok(Now::Settled("the ticket is gone".into())),
            Err(StoreError::Corrupt { .. }) => return Ok(Now::Unknown),
            Err(other) => return Err(other.into()),
        };
        let Some(clocks) = self.clocks(&record, &self.directory(), self.clock.now()) else {
            return Ok(Now::Unknown);
        };
        Ok(settled(&clocks, &alert.id).map_or(Now::Running, |reason| Now::Settled(reason.to_string())))
    }
}

/// A paged clock, at the moment its resolve is due.
enum Now {
    /// Met or stopped, for this reason: the page is resolved.
    Settled(String),
    /// Running again (a reopened ticket): the page stays open.
    Running,
    /// The ticket's record cannot be read or evaluated now: looked at again later.
    Unknown,
}
