//! Config drift: tickets that fell back to the default severity or tier because a field or
//! value the config names is missing, empty or unmapped in the account. Counted over the last
//! day's tickets, for `/metrics`, `status`, `/readyz` and one message per change of state.

use std::collections::BTreeMap;

use serde::Serialize;

use super::directory::Directory;
use crate::config::Config;
use crate::config::{CustomerMapping, SeverityMapping};
use crate::sla::policy::{Fallback, Policy};
use crate::sla::time::Timestamp;
use crate::store::{OrganizationRecord, Store, StoreError};
use crate::zendesk::models::Ticket;

fn is_empty(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Why a ticket whose mapping found no severity got the default.
pub fn severity_fallback(ticket: &Ticket, mapping: &SeverityMapping) -> Fallback {
    if let Some(id) = mapping.field_id {
        // Zendesk lists every active custom field on every ticket, null when unset.
        return match ticket.custom_fields.iter().find(|f| f.id == id) {
            None => Fallback::FieldMissing,
            Some(field) if is_empty(&field.value) => Fallback::FieldEmpty,
            Some(_) => Fallback::NotMapped,
        };
    }
    // Without a field, only a priority the mapping does not know is drift; tags unrelated to
    // severity (web_widget...) and an unset priority are the default by design.
    match &ticket.priority {
        Some(p) if !mapping.priorities.is_empty() && !mapping.priorities.contains_key(&p.to_ascii_lowercase()) => Fallback::NotMapped,
        _ => Fallback::FieldEmpty,
    }
}

/// Why a ticket of `organization` is on the default tier, if it is (None: its tier or contract
/// is mapped). `organization` None: the ticket has none.
pub fn tier_fallback(organization: Option<&OrganizationRecord>, mapping: &CustomerMapping, policy: &Policy) -> Option<Fallback> {
    let Some(org) = organization else {
        return Some(Fallback::NoOrganization);
    };
    let customer = super::apply::customer_of_organization(org, mapping);
    let has_contract = customer.contract.as_ref().is_some_and(|c| policy.contracts.contains_key(c));
    if has_contract || customer.tier.as_ref().is_some_and(|t| policy.tiers.contains_key(t)) {
        return None;
    }
    let Some(key) = mapping.tier_field.as_deref() else {
        return Some(if org.tags.is_empty() {
            Fallback::FieldEmpty
        } else {
            Fallback::NotMapped
        });
    };
    // Zendesk lists every organization field on every organization, null when unset.
    Some(match org.fields.get(key) {
        None => Fallback::FieldMissing,
        Some(value) if is_empty(value) => Fallback::FieldEmpty,
        Some(_) => Fallback::NotMapped,
    })
}

/// Fewer tickets than this in the last day never degrade readiness: one unclassified ticket
/// on a quiet Sunday is not a broken config.
pub const MIN_TICKETS: u64 = 5;

/// The last day's tickets and how many fell back, by dimension and reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Drift {
    /// The window's start (created at or after).
    pub since: Timestamp,
    pub tickets: u64,
    /// Tickets that fell back on severity or tier (for a reason that is drift).
    pub fell_back: u64,
    /// ("severity" | "tier", reason label) → tickets.
    pub reasons: BTreeMap<String, BTreeMap<String, u64>>,
    /// The share above which readiness degrades.
    pub max_share: f64,
}

impl Drift {
    pub fn new(since: Timestamp, max_share: f64) -> Drift {
        Drift {
            since,
            max_share,
            ..Drift::default()
        }
    }

    /// Counts one ticket with why it fell back on each dimension, if it did.
    pub fn count(&mut self, severity: Option<Fallback>, tier: Option<Fallback>) {
        self.tickets += 1;
        for (dimension, reason) in [("severity", severity), ("tier", tier)] {
            if let Some(reason) = reason {
                *self
                    .reasons
                    .entry(dimension.to_string())
                    .or_default()
                    .entry(reason.label().to_string())
                    .or_default() += 1;
            }
        }
        if severity.is_some_and(Fallback::is_drift) || tier.is_some_and(Fallback::is_drift) {
            self.fell_back += 1;
        }
    }

    pub fn share(&self) -> f64 {
        if self.tickets == 0 {
            0.0
        } else {
            self.fell_back as f64 / self.tickets as f64
        }
    }

    pub fn degraded(&self) -> bool {
        self.tickets >= MIN_TICKETS && self.share() > self.max_share
    }

    /// "14 of 16 tickets created since … fell back to default targets (severity: field missing
    /// 16; tier: value not mapped 3)".
    /// `summary` with the window's start shown in `zone`.
    pub fn summary_in(&self, zone: chrono_tz::Tz) -> String {
        self.summary(&crate::notify::wording::local(self.since, zone))
    }

    pub fn summary(&self, since: &str) -> String {
        let mut parts = Vec::new();
        for (dimension, reasons) in &self.reasons {
            let listed: Vec<String> = reasons
                .iter()
                .filter(|(label, _)| {
                    [Fallback::FieldMissing, Fallback::NotMapped]
                        .iter()
                        .any(|f| f.label() == label.as_str())
                })
                .map(|(label, n)| format!("{} {n}", words(label)))
                .collect();
            if !listed.is_empty() {
                parts.push(format!("{dimension}: {}", listed.join(", ")));
            }
        }
        let why = if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join("; "))
        };
        format!(
            "{} of {} tickets created since {since} fell back to the default severity or tier{why}",
            self.fell_back, self.tickets
        )
    }
}

fn words(label: &str) -> &'static str {
    [
        Fallback::FieldMissing,
        Fallback::FieldEmpty,
        Fallback::NotMapped,
        Fallback::NoOrganization,
    ]
    .into_iter()
    .find(|f| f.label() == label)
    .map_or("other", Fallback::words)
}

/// The tickets created in the day before `now` and why each that did fell back to a default
/// (the tier judged by the directory as it is now).
pub fn measure(config: &Config, store: &Store, directory: &Directory, now: Timestamp) -> Result<Drift, StoreError> {
    let mut drift = Drift::new(now - 86_400, config.admin.fallback_max);
    for row in store.kpi_rows(drift.since, now + 1) {
        let row = row?;
        let severity = match row.classified {
            true => None,
            // A record that cannot be read is counted elsewhere; its reason is unknown.
            false => Some(
                store
                    .ticket(row.id)
                    .ok()
                    .flatten()
                    .and_then(|t| t.severity_fallback)
                    .unwrap_or(Fallback::FieldEmpty),
            ),
        };
        let tier = match row.organization_id {
            None => Some(Fallback::NoOrganization),
            // An organization the directory has not listed yet cannot be judged.
            Some(id) => directory
                .organizations
                .get(&id)
                .and_then(|org| tier_fallback(Some(org), &config.customers, &config.policy)),
        };
        drift.count(severity, tier);
    }
    Ok(drift)
}
