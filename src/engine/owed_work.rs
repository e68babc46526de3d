//! What is owed: work that came due and is not done yet, with why. `run --once` exits 0 only
//! when nothing is owed, and otherwise names each kind of owed work and its cause in one line
//! (`5 alerts owed: confirmation reads rate-limited (429, Retry-After 57s)`).

use std::collections::BTreeMap;

use super::alerts::{DIRECT_CHANNEL, NOTE_CHANNEL};
use super::engine::Engine;
use crate::config::ChannelKind;
use crate::store::{Delivery, StoreError};
use crate::sync::lock;

/// Owed work counted by the kind of its cause: the cause's words before any parenthesis
/// (`confirmation reads rate-limited`), with the latest cause of that kind in full.
#[derive(Default)]
struct Causes(BTreeMap<String, (usize, String)>);

impl Causes {
    fn add(&mut self, cause: &str, n: usize) {
        let kind = cause.split(" (").next().unwrap_or(cause).to_string();
        let entry = self.0.entry(kind).or_default();
        entry.0 += n;
        entry.1 = cause.to_string();
    }

    /// One line a kind: `N {things} owed{place}: {cause}`.
    fn lines(self, out: &mut Vec<String>, one: &str, many: &str, place: &str) {
        for (n, cause) in self.0.into_values() {
            let noun = if n == 1 { one } else { many };
            out.push(format!("{n} {noun} owed{place}: {cause}"));
        }
    }
}

fn channel_words(kind: Option<ChannelKind>, channel: &str) -> String {
    match kind {
        Some(ChannelKind::Slack) => format!("Slack ({channel})"),
        Some(ChannelKind::Webhook) => format!("the {channel} webhook"),
        None if channel == NOTE_CHANNEL => "Zendesk (internal notes)".to_string(),
        None if channel == DIRECT_CHANNEL => "Slack (direct messages to the assignee)".to_string(),
        None => format!("channel {channel} (no longer configured)"),
    }
}

/// Why a delivery is still owed: its last error.
fn delivery_cause(delivery: &Delivery) -> String {
    delivery.last_error.clone().unwrap_or_else(|| "not attempted yet".to_string())
}

impl Engine {
    /// Every kind of work due and not done, one line each with its cause.
    pub fn owed_work(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut deferred = Causes::default();
        for (alerts, cause) in lock(&self.owed.alerts).values() {
            deferred.add(cause, *alerts);
        }
        deferred.lines(&mut out, "alert", "alerts", "");

        let channel_words = |channel: &str| match self.pagers.get(channel) {
            Some(pager) => format!("{} ({channel})", pager.service.name()),
            None => channel_words(self.channels.get(channel).map(|(kind, _)| *kind), channel),
        };
        for channel in self.store.outbox_channels()? {
            let (mut causes, mut resolves) = (Causes::default(), Causes::default());
            for alert in self.store.outbox(&channel)? {
                for delivery in alert.deliveries.iter().filter(|d| d.channel == channel) {
                    if delivery.is_outstanding() {
                        causes.add(&delivery_cause(delivery), 1);
                    } else if let Some(resolve) = delivery.resolve_owed() {
                        resolves.add(&delivery_cause(resolve), 1);
                    }
                }
            }
            let place = format!(" to {}", channel_words(&channel));
            causes.lines(&mut out, "alert", "alerts", &place);
            resolves.lines(&mut out, "page's resolve", "pages' resolves", &place);
        }
        for ((what, channel), (n, reason)) in lock(&self.owed.refused).iter() {
            let noun = if *n == 1 { what.to_string() } else { format!("{what}s") };
            out.push(format!(
                "{n} {noun} not delivered to {}, refused for good: {reason}",
                channel_words(channel)
            ));
        }

        let mut digests: BTreeMap<String, Causes> = BTreeMap::new();
        for digest in self.store.outstanding_digests()? {
            for delivery in digest.deliveries.iter().filter(|d| d.is_outstanding()) {
                digests
                    .entry(delivery.channel.clone())
                    .or_default()
                    .add(&delivery_cause(delivery), 1);
            }
        }
        for (channel, causes) in digests {
            causes.lines(&mut out, "digest", "digests", &format!(" to {}", channel_words(&channel)));
        }

        if self.github.is_some() {
            let mut requests = Causes::default();
            let mut news = Causes::default();
            for escalation in self.store.escalations()? {
                for request in &escalation.requests {
                    if request.is_pending() {
                        requests.add(request.last_error.as_deref().unwrap_or("not attempted yet"), 1);
                    }
                    for told in request.issue.iter().flat_map(|i| &i.news).filter(|n| !n.is_done()) {
                        news.add(told.last_error.as_deref().unwrap_or("not attempted yet"), 1);
                    }
                }
            }
            requests.lines(&mut out, "engineering request", "engineering requests", "");
            news.lines(&mut out, "piece of an issue's news", "pieces of issues' news", "");
        }
        let mut syncs = Causes::default();
        for cause in lock(&self.owed.syncs).values() {
            syncs.add(cause, 1);
        }
        syncs.lines(&mut out, "linked issue's sync", "linked issues' syncs", "");
        Ok(out)
    }
}
