//! What is owed that only memory knows: work that came due and is not done yet, with why
//! (`owed_work.rs` adds what the store knows, for `run --once`'s answer).
//!
//! Most of it is in the store (undelivered alerts and digests, pending engineering requests);
//! what is only in memory is what could not even be decided (alerts whose confirmation Zendesk
//! refused), linked issues that could not be read, and deliveries refused for good while this
//! process ran (the store no longer counts them as owed: nothing will send them).

use std::collections::BTreeMap;
use std::sync::Mutex;

use crate::sync::lock;
use crate::zendesk::client::ZendeskError;

#[derive(Debug, Default)]
pub struct Owed {
    /// Ticket → (alerts it would send, why they could not be decided).
    pub(super) alerts: Mutex<BTreeMap<u64, (usize, String)>>,
    /// (Ticket, request number) → why its linked issue could not be read.
    pub(super) syncs: Mutex<BTreeMap<(u64, u32), String>>,
    /// (What, channel) → how many deliveries were refused for good, and the last reason.
    pub(super) refused: Mutex<BTreeMap<(&'static str, String), Refusals>>,
}

/// How many deliveries were refused for good, and the last reason given.
type Refusals = (usize, String);

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

    /// A delivery of `what` (an alert, a digest) to `channel` was refused for good.
    pub fn refused(&self, what: &'static str, channel: &str, reason: &str) {
        let mut refused = lock(&self.refused);
        let entry = refused.entry((what, channel.to_string())).or_default();
        entry.0 += 1;
        entry.1 = reason.to_string();
    }
}

/// Why Zendesk could not answer `what` (the confirmation reads, the user lookups), in a few words.
pub fn cause(what: &str, error: &ZendeskError) -> String {
    match error {
        ZendeskError::RateLimited { retry_after, .. }
        | ZendeskError::Deadline {
            retry_after: Some(retry_after),
            ..
        } => format!("{what} rate-limited (429, Retry-After {}s)", retry_after.as_secs().max(1)),
        ZendeskError::Status { status, .. } => format!("{what} refused (HTTP {status})"),
        ZendeskError::Transient { message, .. } => format!("{what} failed ({message})"),
        ZendeskError::Malformed { .. } => format!("{what} answered with unreadable JSON"),
        ZendeskError::Cancelled => format!("{what} stopped by shutdown"),
        ZendeskError::Deadline {
            waiting,
            retry_after: None,
        } => format!("{what} still waiting on {waiting}"),
    }
}
