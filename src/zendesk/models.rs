//! The parts of Zendesk's JSON that slawatch reads. Every struct accepts
//! unknown fields, and enumerations (status, role, event type) are kept as
//! strings so a value Zendesk adds later is carried, not refused. Pages are
//! read record by record: one record that cannot be read is skipped and
//! counted, never fatal to its page.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::sla::time::{parse_rfc3339, Timestamp};

fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.and_then(|t| parse_rfc3339(&t).ok()))
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct CustomField {
    pub id: u64,
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Ticket {
    pub id: u64,
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<Timestamp>,
    #[serde(default, deserialize_with = "timestamp")]
    pub updated_at: Option<Timestamp>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub requester_id: Option<u64>,
    #[serde(default)]
    pub submitter_id: Option<u64>,
    #[serde(default)]
    pub assignee_id: Option<u64>,
    #[serde(default)]
    pub group_id: Option<u64>,
    #[serde(default)]
    pub organization_id: Option<u64>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub custom_fields: Vec<CustomField>,
    #[serde(default)]
    pub generated_timestamp: Option<i64>,
}

/// A comment, as the live comments endpoint lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub author_id: Option<u64>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub public: bool,
    #[serde(default, deserialize_with = "timestamp")]
    pub created_at: Option<Timestamp>,
}

/// A page of the cursor-based incremental ticket export.
#[derive(Debug, Deserialize)]
pub struct TicketPage {
    #[serde(default)]
    pub tickets: Vec<Value>,
    #[serde(default)]
    pub after_cursor: Option<String>,
    #[serde(default)]
    pub end_of_stream: bool,
}

/// A page of the time-based incremental ticket events export.
#[derive(Debug, Deserialize)]
pub struct EventPage {
    #[serde(default)]
    pub ticket_events: Vec<Value>,
    #[serde(default)]
    pub end_time: Option<i64>,
    #[serde(default)]
    pub end_of_stream: bool,
}

/// One audit of a ticket: several child events that happened together.
#[derive(Debug, Clone, Deserialize)]
pub struct TicketEvent {
    pub id: u64,
    pub ticket_id: u64,
    pub timestamp: i64,
    #[serde(default)]
    pub updater_id: Option<i64>,
    #[serde(default)]
    pub child_events: Vec<Value>,
}

/// What slawatch takes from a child event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Comment {
        author_id: Option<u64>,
        body: String,
        public: bool,
        created_at: Option<Timestamp>,
    },
    Status(String),
}

impl TicketEvent {
    /// The comments and status changes among the child events; other kinds are ignored.
    pub fn changes(&self) -> Vec<Change> {
        let mut out = Vec::new();
        for child in &self.child_events {
            let kind = child
                .get("event_type")
                .or_else(|| child.get("type"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            match kind {
                "Comment" => out.push(Change::Comment {
                    author_id: child.get("author_id").and_then(Value::as_u64),
                    body: child
                        .get("body")
                        .or_else(|| child.get("plain_body"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    public: child
                        .get("public")
                        .or_else(|| child.get("comment_public"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    created_at: child.get("created_at").and_then(Value::as_str).and_then(|t| parse_rfc3339(t).ok()),
                }),
                "Create" | "Change" => {
                    // The export names the field as the key ("status": "open"); audits use field_name/value.
                    let status = match child.get("field_name").and_then(Value::as_str) {
                        Some("status") => child.get("value").and_then(Value::as_str),
                        Some(_) => None,
                        None => child.get("status").and_then(Value::as_str),
                    };
                    if let Some(status) = status {
                        out.push(Change::Status(status.to_ascii_lowercase()));
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct User {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub organization_id: Option<u64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Organization {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub organization_fields: serde_json::Map<String, Value>,
}

/// A classic offset-paginated listing (users, organizations).
#[derive(Debug, Deserialize)]
pub struct Listing {
    #[serde(default)]
    pub users: Vec<Value>,
    #[serde(default)]
    pub organizations: Vec<Value>,
    #[serde(default)]
    pub next_page: Option<String>,
}

/// Reads each record of a page, skipping (and counting) the ones that cannot be read.
pub fn read_records<T: serde::de::DeserializeOwned>(values: Vec<Value>, skipped: &mut u64) -> Vec<T> {
    let mut out = Vec::with_capacity(values.len());
    for value in values {
        match serde_json::from_value::<T>(value) {
            Ok(record) => out.push(record),
            Err(error) => {
                *skipped += 1;
                tracing::warn!(%error, "skipped a record that could not be read");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_values_are_carried() {
        let ticket: Ticket = serde_json::from_value(serde_json::json!({
            "id": 7, "status": "archived_v2", "created_at": "2026-11-30T17:00:00Z",
            "brand_new_field": {"x": 1}, "custom_fields": [{"id": 1, "value": null}, {"id": 2, "value": ["a"]}],
        }))
        .unwrap();
        assert_eq!(ticket.status.as_deref(), Some("archived_v2"));
        assert_eq!(ticket.created_at, Some(1_796_058_000));
        let mut skipped = 0;
        let read: Vec<Ticket> = read_records(
            vec![serde_json::json!({"id": "not a number"}), serde_json::json!({"id": 3})],
            &mut skipped,
        );
        assert_eq!((read.len(), skipped), (1, 1));
    }

    #[test]
    fn child_events_give_comments_and_status_changes() {
        let event: TicketEvent = serde_json::from_value(serde_json::json!({
            "id": 1, "ticket_id": 2, "timestamp": 100, "updater_id": 5,
            "child_events": [
                {"id": 3, "event_type": "Comment", "author_id": 5, "body": "hi", "public": true, "created_at": "2026-11-30T17:00:00Z"},
                {"id": 4, "event_type": "Change", "status": "Solved", "previous_value": "open"},
                {"id": 5, "event_type": "Change", "priority": "high", "previous_value": "low"},
                {"id": 6, "type": "Change", "field_name": "status", "value": "pending"},
                {"id": 7, "event_type": "SomethingNew"}
            ]
        }))
        .unwrap();
        assert_eq!(
            event.changes(),
            vec![
                Change::Comment {
                    author_id: Some(5),
                    body: "hi".into(),
                    public: true,
                    created_at: Some(1_796_058_000)
                },
                Change::Status("solved".into()),
                Change::Status("pending".into()),
            ]
        );
    }
}
