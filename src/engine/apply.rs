//! Turning what the exports say into ticket records, and records into the
//! facts the clocks read. No I/O: the poll cycle feeds it pages.

use serde_json::Value;

use super::directory::Directory;
use crate::config::{Config, CustomerMapping, SeverityMapping};
use crate::kpi::docs::links_to_docs;
use crate::kpi::{KpiRow, RowInputs};
use crate::sla::clock::{Event, TicketClocks, TicketFacts};
use crate::sla::policy::Customer;
use crate::sla::time::Timestamp;
use crate::store::{KpiChange, OrganizationRecord, SeverityInputs, StoredEvent, TicketRecord};
use crate::zendesk::models::{Change, Comment, Ticket, TicketEvent};

/// Where a ticket's snapshot came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The ticket export: its `updated_at` is what the events export must pass.
    Export,
    /// A live read before an alert: newer than the exports, and not a step of them.
    Live,
    /// A live read of a ticket Zendesk pushed, with its audits: a whole snapshot, like the
    /// export's.
    Push,
}

/// The one predicate of complete facts, asked by the timer, status and reports: a ticket's
/// facts are complete once the ticket export has shown it and the events export has passed its
/// `updated_at` (Zendesk delivers a ticket in two halves, the events often a minute or more
/// behind the snapshot). Until then nothing is decided or recorded for it.
pub fn facts_complete(record: &TicketRecord, events_through: Option<Timestamp>) -> bool {
    let Some(through) = known_through(record, events_through) else {
        return false;
    };
    record.exported && record.updated_at.or(record.created_at).is_some_and(|updated| updated <= through)
}

/// How far a ticket's history is known: through the events export's position, or through the
/// last change a live read of the whole ticket saw (a pushed change), whichever is later.
pub fn known_through(record: &TicketRecord, events_through: Option<Timestamp>) -> Option<Timestamp> {
    events_through.max(record.read_through)
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
    let field = mapping
        .field_id
        .and_then(|id| ticket.custom_fields.iter().find(|f| f.id == id))
        .and_then(|f| f.value.as_str());
    severity_from(field, &ticket.tags, ticket.priority.as_deref(), mapping)
}

fn severity_from(field: Option<&str>, tags: &[String], priority: Option<&str>, mapping: &SeverityMapping) -> Option<String> {
    field
        .and_then(|value| mapping.field_values.get(value).cloned())
        .or_else(|| tags.iter().find_map(|t| mapping.tags.get(t).cloned()))
        .or_else(|| priority.and_then(|p| mapping.priorities.get(&p.to_ascii_lowercase()).cloned()))
}

fn inputs_severity(inputs: &SeverityInputs, mapping: &SeverityMapping) -> Option<String> {
    let field = mapping.field_id.and_then(|id| inputs.fields.get(&id)).map(String::as_str);
    severity_from(field, &inputs.tags, inputs.priority.as_deref(), mapping)
}

/// Follows the severity through the events export: from the ticket's creation audit on, each
/// audit that changes what the mapping reads is a severity change at its instant. It replaces
/// what snapshots assumed up to then (a ticket first seen after an upgrade was taken to have
/// its current severity since creation). Returns true when the record changed.
fn follow_severity(record: &mut TicketRecord, audit: &TicketEvent, changes: &[Change], mapping: &SeverityMapping) -> bool {
    if audit.creates() {
        record.severity_inputs = Some(SeverityInputs::default());
    }
    let Some(inputs) = record.severity_inputs.as_mut() else {
        // Its history began before the export's start: the snapshots say what they can.
        return false;
    };
    let mut touched = audit.creates();
    for change in changes {
        let Change::Field { name, value } = change else { continue };
        let text = value.as_str().map(str::to_string);
        match name.as_str() {
            "tags" => {
                inputs.tags = value
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            }
            "priority" => inputs.priority = text,
            id => match (id.parse::<u64>().ok(), text) {
                (Some(id), Some(text)) => {
                    inputs.fields.insert(id, text);
                }
                (Some(id), None) => {
                    inputs.fields.remove(&id);
                }
                (None, _) => continue,
            },
        }
        touched = true;
    }
    if !touched {
        return false;
    }
    let severity = inputs_severity(inputs, mapping);
    let at = audit.timestamp;
    let last_followed = record
        .events
        .iter()
        .rev()
        .filter(|e| e.audit_id != SNAPSHOT)
        .find_map(|e| match &e.event {
            Event::Severity { severity, .. } => Some(severity.clone()),
            _ => None,
        });
    if !audit.creates() && last_followed.as_ref() == Some(&severity) {
        return false;
    }
    record
        .events
        .retain(|e| !(e.audit_id == SNAPSHOT && matches!(e.event, Event::Severity { .. }) && e.event.at() <= at));
    insert_sorted(
        record,
        StoredEvent {
            audit_id: audit.id,
            event: Event::Severity { at, severity },
        },
    );
    true
}

/// Applies one ticket from the ticket export (or a live read). Returns true when the record changed.
pub fn apply_ticket(record: &mut TicketRecord, ticket: &Ticket, config: &Config, source: Source) -> bool {
    let severity_mapping = &config.severity;
    // A snapshot older than the one stored (an export page read before a pushed change was
    // applied) would take the ticket back in time.
    let older = matches!((ticket.updated_at, record.updated_at), (Some(new), Some(stored)) if new < stored);
    if older && record.exported && source != Source::Live {
        return false;
    }
    let before = record.clone();
    record.tags = ticket.tags.clone();
    // Only the fields escalation and reports read are kept (custom fields can be many, and free text).
    let escalation = config.escalation.as_ref();
    let wanted: Vec<u64> = escalation
        .into_iter()
        .flat_map(|e| [e.request_type_field, e.team_field, e.version_field])
        .flatten()
        .chain(config.report.fields())
        .collect();
    record.fields = ticket
        .custom_fields
        .iter()
        .filter(|f| wanted.contains(&f.id))
        .filter_map(|f| f.value.as_str().map(|v| (f.id, v.to_string())))
        .collect();
    if escalation.is_some_and(|e| crate::escalate::issue::requests_help(e, &record.tags, &record.fields)) {
        record.help_requested = true;
    }
    record.id = ticket.id;
    record.subject = ticket.subject.clone().unwrap_or_default();
    record.created_at = ticket.created_at.or(record.created_at);
    if source != Source::Live {
        record.exported = true;
        record.updated_at = ticket.updated_at.or(record.updated_at);
    }
    record.requester_id = ticket.requester_id;
    record.submitter_id = ticket.submitter_id;
    record.assignee_id = ticket.assignee_id;
    record.group_id = ticket.group_id;
    record.organization_id = ticket.organization_id;
    if ticket.via_channel.is_some() {
        record.via_channel = ticket.via_channel.clone();
    }
    if ticket.satisfaction.is_some() {
        record.satisfaction = ticket.satisfaction.clone();
    }
    let changed_at = ticket.updated_at.or(record.updated_at).or(record.created_at).unwrap_or_default();

    let severity = severity_of(ticket, severity_mapping);
    record.severity_fallback = severity
        .is_none()
        .then(|| super::drift::severity_fallback(ticket, severity_mapping));
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

/// Applies one audit from the events export, once: a re-delivered audit is ignored. A comment
/// is kept as facts (author, role, public, length, acknowledgement), never its body.
/// Returns true when the record changed.
pub fn apply_audit(record: &mut TicketRecord, audit: &TicketEvent, directory: &Directory, config: &Config) -> bool {
    let rules = &config.policy.first_response;
    record.id = audit.ticket_id;
    if audit.id != SNAPSHOT && record.events.iter().any(|e| e.audit_id == audit.id) {
        return false;
    }
    if record.created_at.is_none() {
        record.created_at = Some(audit.timestamp);
    }
    let changes = audit.changes();
    let mut changed = follow_severity(record, audit, &changes, &config.severity);
    for change in changes {
        let event = match change {
            Change::Comment {
                author_id,
                body,
                html_body,
                public,
                created_at,
            } => {
                let author = author_id.unwrap_or_default();
                let prefixes = &config.report.docs_url_prefixes;
                let docs_link = public && (links_to_docs(prefixes, &body) || links_to_docs(prefixes, &html_body));
                Event::comment(
                    rules,
                    created_at.unwrap_or(audit.timestamp),
                    author,
                    directory.role(author),
                    public,
                    &body,
                )
                .with_docs_link(docs_link)
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
            Change::Field { .. } => continue,
        };
        // A comment read live before an alert (see `apply_live`) comes again in the export, its
        // author's role perhaps learnt in between: the same comment whatever role it was given.
        if let Some(stored) = record.events.iter_mut().find(|e| same_comment(&e.event, &event)) {
            // A read that saw the rich text may find the documentation link another did not.
            if let (Event::Comment { docs_link: kept, .. }, Event::Comment { docs_link: true, .. }) = (&mut stored.event, &event) {
                changed |= !*kept;
                *kept = true;
            }
            continue;
        }
        insert_sorted(record, StoredEvent { audit_id: audit.id, event });
        changed = true;
    }
    changed
}

/// Two comment facts of the same comment: everything but the author's role, which the
/// directory may have learnt since the first was stored.
fn same_comment(a: &Event, b: &Event) -> bool {
    let key = |e: &Event| match *e {
        Event::Comment {
            at,
            author_id,
            public,
            length,
            acknowledgement,
            ..
        } => Some((at, author_id, public, length, acknowledgement)),
        _ => None,
    };
    key(a).is_some() && key(a) == key(b)
}

/// Applies a live read of a ticket and its latest comments (before an alert goes out), so a
/// reply the exports have not shown yet counts. The export later re-delivers the same
/// comments; `apply_audit` recognises them.
pub fn apply_live(record: &mut TicketRecord, ticket: &Ticket, comments: &[Comment], directory: &Directory, config: &Config) -> bool {
    let mut changed = apply_ticket(record, ticket, config, Source::Live);
    for comment in comments {
        let author = comment.author_id.unwrap_or_default();
        let audit = TicketEvent {
            id: comment.id,
            ticket_id: record.id,
            timestamp: comment.created_at.unwrap_or_default(),
            updater_id: None,
            child_events: vec![serde_json::json!({
                "event_type": "Comment", "author_id": author, "body": comment.body, "html_body": comment.html_body, "public": comment.public,
                "created_at": comment.created_at.map(crate::sla::time::format_rfc3339),
            })],
        };
        changed |= apply_audit(record, &audit, directory, config);
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

pub(crate) fn field_text(fields: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    match fields.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The customer a ticket is for: tier and contract from its organization.
pub fn customer_of(record: &TicketRecord, directory: &Directory, mapping: &CustomerMapping) -> Customer {
    match record.organization_id.and_then(|id| directory.organizations.get(&id)) {
        Some(org) => customer_of_organization(org, mapping),
        None => Customer::default(),
    }
}

/// An organization's tier and contract, from its fields or tags.
pub fn customer_of_organization(org: &OrganizationRecord, mapping: &CustomerMapping) -> Customer {
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
pub fn facts_of(record: &TicketRecord, directory: &Directory, config: &Config) -> TicketFacts {
    let rules = &config.policy.first_response;
    // A ticket a bot or integration opened for a customer is the customer's from its creation:
    // only a person on the support team opening it on their behalf waits for their first word.
    let opened_by_agent = match (record.submitter_id, record.requester_id) {
        (Some(submitter), Some(requester)) => submitter != requester && directory.is_agent(submitter) && !rules.is_bot(submitter),
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
                length,
                acknowledgement,
                docs_link,
            } => Event::Comment {
                at: *at,
                author_id: *author_id,
                role: if directory.is_agent(*author_id) {
                    directory.role(*author_id)
                } else {
                    *role
                },
                public: *public,
                length: *length,
                acknowledgement: *acknowledgement,
                docs_link: *docs_link,
            },
            other => other.clone(),
        })
        .collect();
    TicketFacts {
        created_at,
        opened_by_agent,
        customer: customer_of(record, directory, &config.customers),
        events,
    }
}

/// The clocks of a stored ticket at `now`; None (logged) when they cannot be evaluated.
pub fn clocks_of(config: &Config, record: &TicketRecord, directory: &Directory, now: Timestamp) -> Option<TicketClocks> {
    clocks_of_facts(config, record.id, &facts_of(record, directory, config), now)
}

fn clocks_of_facts(config: &Config, id: u64, facts: &TicketFacts, now: Timestamp) -> Option<TicketClocks> {
    match crate::sla::clock::evaluate(&config.policy, facts, now) {
        Ok(clocks) => Some(clocks),
        Err(error) => {
            tracing::warn!(ticket = id, %error, "cannot evaluate the ticket's clocks");
            None
        }
    }
}

/// The clocks of a stored ticket at `now`, and what its KPI row becomes (`known`: the instant
/// its facts are complete through).
pub fn clocks_and_kpi(
    config: &Config,
    record: &TicketRecord,
    directory: &Directory,
    now: Timestamp,
    known: Timestamp,
) -> Option<(TicketClocks, KpiChange)> {
    let facts = facts_of(record, directory, config);
    let clocks = clocks_of_facts(config, record.id, &facts, now)?;
    if clocks.deleted {
        return Some((
            clocks,
            KpiChange::Remove {
                created_at: facts.created_at,
            },
        ));
    }
    let field = |id: Option<u64>| id.and_then(|id| record.fields.get(&id)).filter(|v| !v.is_empty()).cloned();
    let row = KpiRow::of(
        RowInputs {
            id: record.id,
            created_at: facts.created_at,
            organization_id: record.organization_id,
            events: &facts.events,
            rules: &config.policy.first_response,
            ticket_type: field(config.report.type_field),
            product_area: field(config.report.product_area_field),
            // Once asked, it counts; the current rules decide for a ticket never flagged before.
            help_requested: record.help_requested
                || config
                    .escalation
                    .as_ref()
                    .is_some_and(|e| crate::escalate::issue::requests_help(e, &record.tags, &record.fields)),
            satisfaction: record.satisfaction.as_deref(),
        },
        &clocks,
        known,
    );
    Some((clocks, KpiChange::Put(Box::new(row))))
}

/// The public comment authors (and the submitter) whose role is not known: neither listed as
/// agents nor looked up. Before an alert goes out they are looked up, so that an agent added
/// since the last listing never yields a false breach.
pub fn unknown_authors(record: &TicketRecord, directory: &Directory) -> Vec<u64> {
    let mut ids: Vec<u64> = record
        .events
        .iter()
        .filter_map(|e| match e.event {
            Event::Comment {
                author_id, public: true, ..
            } => Some(author_id),
            _ => None,
        })
        .chain(record.submitter_id)
        .filter(|&id| id != 0 && directory.known_role(id).is_none())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sla::clock::Role;

    #[test]
    fn a_comment_stored_under_another_role_is_the_same_comment() {
        let comment = |role| Event::Comment {
            at: 100,
            author_id: 7,
            role,
            public: true,
            length: 40,
            acknowledgement: false,
            docs_link: false,
        };
        assert!(same_comment(&comment(Role::EndUser), &comment(Role::Agent)));
        let later = Event::Comment {
            at: 101,
            author_id: 7,
            role: Role::Agent,
            public: true,
            length: 40,
            acknowledgement: false,
            docs_link: false,
        };
        assert!(!same_comment(&comment(Role::Agent), &later));
        let status = Event::Status {
            at: 100,
            status: "open".into(),
        };
        assert!(!same_comment(&status, &status), "only comments are compared");
    }

    fn snapshot(status: &str, updated_at: &str) -> Ticket {
        let value = serde_json::json!({
            "id": 9, "subject": "Down", "status": status,
            "created_at": "2026-12-01T09:00:00Z", "updated_at": updated_at,
        });
        Ticket::read(&value, &mut Vec::new()).unwrap()
    }

    #[test]
    fn an_export_page_read_before_a_pushed_change_does_not_take_the_ticket_back() {
        let config = Config::defaults();
        let mut record = TicketRecord::default();
        assert!(apply_ticket(
            &mut record,
            &snapshot("open", "2026-12-01T09:05:00Z"),
            &config,
            Source::Export
        ));
        // The pushed read: solved at 09:10, the whole ticket read.
        assert!(apply_ticket(
            &mut record,
            &snapshot("solved", "2026-12-01T09:10:00Z"),
            &config,
            Source::Push
        ));
        assert!(record.exported && record.status == "solved");
        // The export's page, read at 09:06 and applied after: older, ignored.
        assert!(!apply_ticket(
            &mut record,
            &snapshot("open", "2026-12-01T09:06:00Z"),
            &config,
            Source::Export
        ));
        assert_eq!(record.status, "solved");
        assert_eq!(
            record.updated_at,
            Some(crate::sla::time::parse_rfc3339("2026-12-01T09:10:00Z").unwrap())
        );
        // The same snapshot again, or a newer one, is applied as ever.
        assert!(apply_ticket(
            &mut record,
            &snapshot("open", "2026-12-01T09:20:00Z"),
            &config,
            Source::Export
        ));
        assert_eq!(record.status, "open");
    }

    #[test]
    fn a_pushed_read_completes_the_facts_through_the_change_it_saw() {
        let mut record = TicketRecord {
            exported: true,
            updated_at: Some(1_000),
            ..TicketRecord::default()
        };
        assert!(!facts_complete(&record, Some(900)));
        record.read_through = Some(1_000);
        assert!(facts_complete(&record, Some(900)) && facts_complete(&record, None));
        assert_eq!(known_through(&record, Some(900)), Some(1_000));
        // A change the export shows after the read waits for the events export again.
        record.updated_at = Some(1_005);
        assert!(!facts_complete(&record, Some(900)));
        assert!(facts_complete(&record, Some(1_005)));
    }
}
