//! Turning what the exports say into ticket records, and records into the
//! facts the clocks read. No I/O: the poll cycle feeds it pages.

use std::collections::HashMap;

use serde_json::Value;

use crate::config::{CustomerMapping, SeverityMapping};
use crate::sla::clock::{Event, Role, TicketFacts};
use crate::sla::policy::Customer;
use crate::store::{OrganizationRecord, StoredEvent, TicketRecord};
use crate::zendesk::models::{Change, Comment, Ticket, TicketEvent};

/// Agents by id (their role), and organizations by id.
#[derive(Debug, Default, Clone)]
pub struct Directory {
    pub agents: HashMap<u64, Role>,
    pub agent_names: HashMap<u64, String>,
    pub organizations: HashMap<u64, OrganizationRecord>,
}

impl Directory {
    pub fn role(&self, user: u64) -> Role {
        self.agents.get(&user).copied().unwrap_or(Role::EndUser)
    }
}

/// Audit id of events slawatch derives itself from the ticket export.
const SNAPSHOT: u64 = 0;

/// Keeps events in time order. Within one second, a snapshot (the ticket's state when the
/// export read it) stays after the events of that second, which it already reflects.
fn insert_sorted(record: &mut TicketRecord, event: StoredEvent) {
    let at = event.event.at();
    let position = if event.audit_id == SNAPSHOT {
        record.events.partition_point(|e| e.event.at() <= at)
    } else {
        record
            .events
            .partition_point(|e| e.event.at() < at || (e.event.at() == at && e.audit_id != SNAPSHOT))
    };
    record.events.insert(position, event);
}

fn last_status(record: &TicketRecord) -> Option<&str> {
    record.events.iter().rev().find_map(|e| match &e.event {
        Event::Status { status, .. } => Some(status.as_str()),
        _ => None,
    })
}

/// The ticket's severity by the configured mapping: dropdown field, then tags, then priority.
pub fn severity_of(ticket: &Ticket, mapping: &SeverityMapping) -> Option<String> {
    let from_field = mapping.field_id.and_then(|id| {
        let field = ticket.custom_fields.iter().find(|f| f.id == id)?;
        mapping.field_values.get(field.value.as_str()?).cloned()
    });
    from_field
        .or_else(|| ticket.tags.iter().find_map(|t| mapping.tags.get(t).cloned()))
        .or_else(|| {
            ticket
                .priority
                .as_ref()
                .and_then(|p| mapping.priorities.get(&p.to_ascii_lowercase()).cloned())
        })
}

/// Applies one ticket from the ticket export. Returns true when the record changed.
pub fn apply_ticket(record: &mut TicketRecord, ticket: &Ticket, severity_mapping: &SeverityMapping) -> bool {
    let before = record.clone();
    record.id = ticket.id;
    record.exported = true;
    record.subject = ticket.subject.clone().unwrap_or_default();
    record.created_at = ticket.created_at.or(record.created_at);
    record.updated_at = ticket.updated_at.or(record.updated_at);
    record.requester_id = ticket.requester_id;
    record.submitter_id = ticket.submitter_id;
    record.assignee_id = ticket.assignee_id;
    record.group_id = ticket.group_id;
    record.organization_id = ticket.organization_id;
    let changed_at = record.updated_at.or(record.created_at).unwrap_or_default();

    let severity = severity_of(ticket, severity_mapping);
    let has_severity_event = record.events.iter().any(|e| matches!(e.event, Event::Severity { .. }));
    if severity != record.severity || !has_severity_event {
        // The severity first seen is taken as the ticket's from its creation.
        let at = if has_severity_event {
            changed_at
        } else {
            record.created_at.unwrap_or(changed_at)
        };
        insert_sorted(
            record,
            StoredEvent {
                audit_id: SNAPSHOT,
                event: Event::Severity {
                    at,
                    severity: severity.clone(),
                },
            },
        );
        record.severity = severity;
    }

    // The events export carries each status change with its time; the snapshot fills in what
    // it has not shown (a ticket changed before the export's start, or a deletion).
    if let Some(status) = ticket.status.as_deref().map(str::to_ascii_lowercase) {
        if last_status(record) != Some(status.as_str()) {
            insert_sorted(
                record,
                StoredEvent {
                    audit_id: SNAPSHOT,
                    event: Event::Status {
                        at: changed_at,
                        status: status.clone(),
                    },
                },
            );
        }
        record.status = status;
    }
    *record != before
}

/// Applies one audit from the events export, once: a re-delivered audit is ignored.
/// Returns true when the record changed.
pub fn apply_audit(record: &mut TicketRecord, audit: &TicketEvent, directory: &Directory) -> bool {
    record.id = audit.ticket_id;
    if audit.id != SNAPSHOT && record.events.iter().any(|e| e.audit_id == audit.id) {
        return false;
    }
    if record.created_at.is_none() {
        record.created_at = Some(audit.timestamp);
    }
    let mut changed = false;
    for change in audit.changes() {
        let event = match change {
            Change::Comment {
                author_id,
                body,
                public,
                created_at,
            } => {
                let author = author_id.unwrap_or_default();
                Event::Comment {
                    at: created_at.unwrap_or(audit.timestamp),
                    author_id: author,
                    role: directory.role(author),
                    public,
                    body,
                }
            }
            Change::Status(status) => {
                // The status the snapshot recorded as the last one of this instant is not a
                // second change.
                let last_of_instant = record
                    .events
                    .iter()
                    .rev()
                    .find(|e| e.event.at() == audit.timestamp && matches!(e.event, Event::Status { .. }));
                let duplicate = last_of_instant
                    .is_some_and(|e| e.audit_id == SNAPSHOT && matches!(&e.event, Event::Status { status: s, .. } if *s == status));
                if duplicate {
                    continue;
                }
                Event::Status {
                    at: audit.timestamp,
                    status,
                }
            }
        };
        // A comment read live before an alert (see `apply_live`) comes again in the export.
        if matches!(event, Event::Comment { .. }) && record.events.iter().any(|e| e.event == event) {
            continue;
        }
        insert_sorted(record, StoredEvent { audit_id: audit.id, event });
        changed = true;
    }
    changed
}

/// Applies a live read of a ticket and its latest comments (before an alert goes out), so a
/// reply the exports have not shown yet counts. The export later re-delivers the same
/// comments; `apply_audit` recognises them.
pub fn apply_live(
    record: &mut TicketRecord,
    ticket: &Ticket,
    comments: &[Comment],
    directory: &Directory,
    severity: &SeverityMapping,
) -> bool {
    let mut changed = apply_ticket(record, ticket, severity);
    for comment in comments {
        let author = comment.author_id.unwrap_or_default();
        let audit = TicketEvent {
            id: comment.id,
            ticket_id: record.id,
            timestamp: comment.created_at.unwrap_or_default(),
            updater_id: None,
            child_events: vec![serde_json::json!({
                "event_type": "Comment", "author_id": author, "body": comment.body, "public": comment.public,
                "created_at": comment.created_at.map(crate::sla::time::format_rfc3339),
            })],
        };
        changed |= apply_audit(record, &audit, directory);
    }
    changed
}

/// Records that a live read found the ticket gone: deleted at `at`.
pub fn mark_deleted(record: &mut TicketRecord, at: crate::sla::time::Timestamp) {
    if record.status != "deleted" {
        insert_sorted(
            record,
            StoredEvent {
                audit_id: SNAPSHOT,
                event: Event::Status {
                    at,
                    status: "deleted".to_string(),
                },
            },
        );
        record.status = "deleted".to_string();
    }
}

fn field_text(fields: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The customer a ticket is for: tier and contract from its organization.
pub fn customer_of(record: &TicketRecord, directory: &Directory, mapping: &CustomerMapping) -> Customer {
    let Some(org) = record.organization_id.and_then(|id| directory.organizations.get(&id)) else {
        return Customer::default();
    };
    let tier = mapping
        .tier_field
        .as_deref()
        .and_then(|key| field_text(&org.fields, key))
        .and_then(|value| mapping.tier_values.get(&value).cloned())
        .or_else(|| org.tags.iter().find_map(|t| mapping.tier_tags.get(t).cloned()));
    let contract = mapping
        .contract_field
        .as_deref()
        .and_then(|key| field_text(&org.fields, key))
        .or_else(|| org.tags.iter().find_map(|t| mapping.contract_tags.get(t).cloned()));
    Customer { tier, contract }
}

/// The facts the clocks read.
pub fn facts_of(record: &TicketRecord, directory: &Directory, mapping: &CustomerMapping) -> TicketFacts {
    let opened_by_agent = match (record.submitter_id, record.requester_id) {
        (Some(submitter), Some(requester)) => submitter != requester && directory.role(submitter).is_agent(),
        _ => false,
    };
    let created_at = record
        .created_at
        .or_else(|| record.events.first().map(|e| e.event.at()))
        .unwrap_or_default();
    // A comment's author is looked up in the current directory: an agent added since the
    // comment was stored (or a directory that could not be read then) counts as an agent now.
    let events = record
        .events
        .iter()
        .map(|e| match &e.event {
            Event::Comment {
                at,
                author_id,
                role,
                public,
                body,
            } => Event::Comment {
                at: *at,
                author_id: *author_id,
                role: directory.agents.get(author_id).copied().unwrap_or(*role),
                public: *public,
                body: body.clone(),
            },
            other => other.clone(),
        })
        .collect();
    TicketFacts {
        created_at,
        opened_by_agent,
        customer: customer_of(record, directory, mapping),
        events,
    }
}

/// The clocks of a stored ticket at `now`; None (logged) when they cannot be evaluated.
pub fn clocks_of(
    config: &crate::config::Config,
    record: &TicketRecord,
    directory: &Directory,
    now: crate::sla::time::Timestamp,
) -> Option<crate::sla::clock::TicketClocks> {
    let facts = facts_of(record, directory, &config.customers);
    match crate::sla::clock::evaluate(&config.policy, &facts, now) {
        Ok(clocks) => Some(clocks),
        Err(error) => {
            tracing::warn!(ticket = record.id, %error, "cannot evaluate the ticket's clocks");
            None
        }
    }
}
