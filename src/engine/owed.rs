//! What is owed: work that came due and is not done yet, with why. `run --once` exits 0 only
//! when nothing is owed, and otherwise names each kind of owed work and its cause in one line
//! (`5 alerts owed: confirmation reads rate-limited (429, Retry-After 57s)`).
//!
//! Most of it is in the store (undelivered alerts and digests, pending engineering requests);
//! what is only in memory is what could not even be decided: alerts whose confirmation Zendesk
//! refused, and linked issues that could not be read.

use std::collections::BTreeMap;
use std::sync::Mutex;

use super::engine::Engine;
use crate::config::ChannelKind;
use crate::store::{Delivery, StoreError};
use crate::sync::lock;
use crate::zendesk::client::ZendeskError;

#[derive(Debug, Default)]
pub struct Owed {
    /// Ticket → (alerts it would send, why they could not be decided).
    alerts: Mutex<BTreeMap<u64, (usize, String)>>,
    /// (Ticket, request number) → why its linked issue could not be read.
    syncs: Mutex<BTreeMap<(u64, u32), String>>,
}

impl Owed {
    pub fn alerts_deferred(&self, ticket: u64, alerts: usize, cause: String) {
        lock(&self.alerts).insert(ticket, (alerts.max(1), cause));
    }

    pub fn alerts_decided(&self, ticket: u64) {
        lock(&self.alerts).remove(&ticket);
    }

    pub fn sync_failed(&self, ticket: u64, request: u32, cause: String) {
        lock(&self.syncs).insert((ticket, request), cause);
    }

    pub fn synced(&self, ticket: u64, request: u32) {
        lock(&self.syncs).remove(&(ticket, request));
    }
}

/// Why Zendesk could not answer `what` (the confirmation reads, the user lookups), in a few words.
pub fn cause(what: &str, error: &ZendeskError) -> String {
    match error {
        ZendeskError::RateLimited { retry_after, .. } => {
            format!("{what} rate-limited (429, Retry-After {}s)", retry_after.as_secs().max(1))
        }
        ZendeskError::Status { status, .. } => format!("{what} refused (HTTP {status})"),
        ZendeskError::Transient { message, .. } => format!("{what} failed ({message})"),
        ZendeskError::Malformed { .. } => format!("{what} answered with unreadable JSON"),
        ZendeskError::Cancelled => format!("{what} stopped by shutdown"),
        ZendeskError::Deadline {
            waiting,
            rate_limited: true,
        } => {
            let after = waiting.find("(429").map_or("(429)", |at| &waiting[at..]);
            format!("{what} rate-limited {after}")
        }
        ZendeskError::Deadline { waiting, .. } => format!("{what} still waiting on {waiting}"),
    }
}

/// Counts of one kind of owed work by cause, as lines: `N {things} owed{place}: {cause}`.
fn lines(out: &mut Vec<String>, counts: BTreeMap<String, usize>, one: &str, many: &str, place: &str) {
    for (cause, n) in counts {
        let noun = if n == 1 { one } else { many };
        out.push(format!("{n} {noun} owed{place}: {cause}"));
    }
}

fn channel_words(kind: Option<ChannelKind>, channel: &str) -> String {
    match kind {
        Some(ChannelKind::Slack) => format!("Slack ({channel})"),
        Some(ChannelKind::Webhook) => format!("the {channel} webhook"),
        None if channel == super::alerts::NOTE_CHANNEL => "Zendesk (internal notes)".to_string(),
        None => format!("channel {channel} (no longer configured)"),
    }
}

/// Why a delivery is still owed: its last error, or that it was refused for good.
fn delivery_cause(delivery: &Delivery) -> String {
    let error = delivery.last_error.clone().unwrap_or_else(|| "not attempted yet".to_string());
    if delivery.gave_up {
        format!("refused for good: {error}")
    } else {
        error
    }
}

impl Engine {
    /// Every kind of work due and not done, one line each with its cause; `since_ms`: the run's
    /// start (a delivery refused for good before it is not this run's to report).
    pub fn owed_work(&self, since_ms: i64) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut deferred: BTreeMap<String, usize> = BTreeMap::new();
        for (alerts, cause) in lock(&self.owed.alerts).values() {
            *deferred.entry(cause.clone()).or_default() += alerts;
        }
        lines(&mut out, deferred, "alert", "alerts", "");

        let owed_delivery = |d: &Delivery| d.is_outstanding() || (d.gave_up && d.failing_since_ms.is_some_and(|at| at >= since_ms));
        for channel in self.store.outbox_channels()? {
            let mut counts: BTreeMap<String, usize> = BTreeMap::new();
            for alert in self.store.outbox(&channel)? {
                for delivery in alert.deliveries.iter().filter(|d| d.channel == channel && owed_delivery(d)) {
                    *counts.entry(delivery_cause(delivery)).or_default() += 1;
                }
            }
            let kind = self.channels.get(&channel).map(|(kind, _)| *kind);
            lines(
                &mut out,
                counts,
                "alert",
                "alerts",
                &format!(" to {}", channel_words(kind, &channel)),
            );
        }

        let mut digests: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for digest in self.store.outstanding_digests()? {
            for delivery in digest.deliveries.iter().filter(|d| d.is_outstanding()) {
                *digests
                    .entry(delivery.channel.clone())
                    .or_default()
                    .entry(delivery_cause(delivery))
                    .or_default() += 1;
            }
        }
        for (channel, counts) in digests {
            let kind = self.channels.get(&channel).map(|(kind, _)| *kind);
            lines(
                &mut out,
                counts,
                "digest",
                "digests",
                &format!(" to {}", channel_words(kind, &channel)),
            );
        }

        if self.github.is_some() {
            let mut requests: BTreeMap<String, usize> = BTreeMap::new();
            for escalation in self.store.escalations()? {
                for request in escalation.requests.iter().filter(|r| r.is_pending()) {
                    let cause = request.last_error.clone().unwrap_or_else(|| "not attempted yet".to_string());
                    *requests.entry(cause).or_default() += 1;
                }
            }
            lines(&mut out, requests, "engineering request", "engineering requests", "");
        }
        let mut syncs: BTreeMap<String, usize> = BTreeMap::new();
        for cause in lock(&self.owed.syncs).values() {
            *syncs.entry(cause.clone()).or_default() += 1;
        }
        lines(&mut out, syncs, "linked issue's sync", "linked issues' syncs", "");
        Ok(out)
    }
}
