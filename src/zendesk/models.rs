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

#[derive(Debug, Clone, PartialEq)]
pub struct CustomField {
    pub id: u64,
    /// Any JSON Zendesk holds: a dropdown's tag, a multi-select's array, a checkbox's bool, a
    /// decimal, a date, null.
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ticket {
    pub id: u64,
    pub created_at: Option<Timestamp>,
    pub updated_at: Option<Timestamp>,
    pub subject: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub requester_id: Option<u64>,
    pub submitter_id: Option<u64>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub organization_id: Option<u64>,
    pub tags: Vec<String>,
    pub custom_fields: Vec<CustomField>,
    /// `via.channel` (email, web, api, ...), kept as Zendesk wrote it, known or not.
    pub via_channel: Option<String>,
    /// `satisfaction_rating.score` (good, bad, offered, unoffered, ...).
    pub satisfaction: Option<String>,
    pub generated_timestamp: Option<i64>,
}

/// An id: a JSON number, or a number written as a string (`"360012345"`).
fn id_of(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads one field of a record, noting it as unknown when it has a value that does not parse.
struct Fields<'a> {
    object: &'a serde_json::Map<String, Value>,
    unknown: &'a mut Vec<&'static str>,
}

impl Fields<'_> {
    fn get<T>(&mut self, name: &'static str, read: impl Fn(&Value) -> Option<T>) -> Option<T> {
        match self.object.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => {
                let read = read(value);
                if read.is_none() {
                    self.unknown.push(name);
                }
                read
            }
        }
    }

    fn text(&mut self, name: &'static str) -> Option<String> {
        self.get(name, |v| v.as_str().map(str::to_string))
    }

    fn id(&mut self, name: &'static str) -> Option<u64> {
        self.get(name, id_of)
    }

    /// An array whose readable items are kept; one unreadable item marks the field unknown.
    fn list<T>(&mut self, name: &'static str, read: impl Fn(&Value) -> Option<T>) -> Vec<T> {
        let Some(items) = self.get(name, |v| v.as_array().cloned()) else {
            return Vec::new();
        };
        let read: Vec<Option<T>> = items.iter().map(read).collect();
        if read.iter().any(Option::is_none) {
            self.unknown.push(name);
        }
        read.into_iter().flatten().collect()
    }
}

impl Ticket {
    /// Reads a ticket field by field: a value that does not parse is left out and its field
    /// named in `unknown`; only a ticket without a readable id or timestamps is refused.
    pub fn read(value: &Value, unknown: &mut Vec<&'static str>) -> Result<Ticket, String> {
        let object = value.as_object().ok_or("not a JSON object")?;
        let id = object.get("id").and_then(id_of).ok_or("no readable id")?;
        let time = |name: &str| object.get(name).and_then(Value::as_str).and_then(|t| parse_rfc3339(t).ok());
        let created_at = time("created_at").ok_or("no readable created_at")?;
        let updated_at = time("updated_at").ok_or("no readable updated_at")?;
        let mut fields = Fields { object, unknown };
        Ok(Ticket {
            id,
            created_at: Some(created_at),
            updated_at: Some(updated_at),
            subject: fields.text("subject"),
            status: fields.text("status"),
            priority: fields.text("priority"),
            requester_id: fields.id("requester_id"),
            submitter_id: fields.id("submitter_id"),
            assignee_id: fields.id("assignee_id"),
            group_id: fields.id("group_id"),
            organization_id: fields.id("organization_id"),
            tags: fields.list("tags", |t| t.as_str().map(str::to_string)),
            custom_fields: fields.list("custom_fields", |f| {
                Some(CustomField {
                    id: f.get("id").and_then(id_of)?,
                    value: f.get("value").cloned().unwrap_or(Value::Null),
                })
            }),
            via_channel: fields.get("via", |v| match v.get("channel") {
                Some(Value::String(channel)) => Some(channel.clone()),
                // Zendesk has sent numeric channel codes in places.
                Some(Value::Number(code)) => Some(code.to_string()),
                _ => None,
            }),
            satisfaction: fields.get("satisfaction_rating", |v| {
                v.get("score").and_then(Value::as_str).map(str::to_string)
            }),
            generated_timestamp: fields.get("generated_timestamp", Value::as_i64),
        })
    }
}

/// A comment, as the live comments endpoint lists it.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Comment {
    pub id: u64,
    #[serde(default)]
    pub author_id: Option<u64>,
    #[serde(default)]
    pub body: String,
    /// Its rich text, where a link's address may be only in an `href`.
    #[serde(default)]
    pub html_body: String,
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

/// One audit as the ticket audits API gives it (`events` for `child_events`, an RFC 3339
/// `created_at`): the same audit, with the same id, as the events export's.
#[derive(Debug, Clone, Deserialize)]
pub struct Audit {
    pub id: u64,
    pub ticket_id: u64,
    #[serde(deserialize_with = "rfc3339_required")]
    pub created_at: Timestamp,
    #[serde(default)]
    pub author_id: Option<i64>,
    #[serde(default)]
    pub events: Vec<Value>,
}

fn rfc3339_required<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_rfc3339(&text).map_err(serde::de::Error::custom)
}

impl From<Audit> for TicketEvent {
    fn from(audit: Audit) -> TicketEvent {
        TicketEvent {
            id: audit.id,
            ticket_id: audit.ticket_id,
            timestamp: audit.created_at,
            updater_id: audit.author_id,
            child_events: audit.events,
        }
    }
}

/// What slawatch takes from a child event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Comment {
        author_id: Option<u64>,
        body: String,
        html_body: String,
        public: bool,
        created_at: Option<Timestamp>,
    },
    Status(String),
    /// A field the severity mapping may read: `tags` (the whole list), `priority`, or a custom
    /// field by its id; `created` when set by the ticket's creation.
    Field {
        name: String,
        value: Value,
    },
}

/// The tags, priority and custom field changes of one child event, in either form.
fn field_changes(child: &Value) -> Vec<Change> {
    let field = |name: &str, value: &Value| Change::Field {
        name: name.to_string(),
        value: value.clone(),
    };
    match (child.get("field_name").and_then(Value::as_str), child.get("value")) {
        (Some(name @ ("tags" | "priority")), Some(value)) => vec![field(name, value)],
        (Some(name), Some(value)) if name.parse::<u64>().is_ok() => vec![field(name, value)],
        (Some(_), _) => Vec::new(),
        (None, _) => {
            let mut out: Vec<Change> = ["tags", "priority"]
                .into_iter()
                .filter_map(|name| child.get(name).map(|value| field(name, value)))
                .collect();
            if let Some(Value::Object(fields)) = child.get("custom_ticket_fields") {
                out.extend(fields.iter().map(|(id, value)| field(id, value)));
            }
            out
        }
    }
}

impl TicketEvent {
    /// Whether this audit created the ticket: its field values are the ticket's first.
    pub fn creates(&self) -> bool {
        self.child_events
            .iter()
            .any(|c| c.get("event_type").or_else(|| c.get("type")).and_then(Value::as_str) == Some("Create"))
    }

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
                    html_body: child.get("html_body").and_then(Value::as_str).unwrap_or_default().to_string(),
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
                    out.extend(field_changes(child));
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

/// What reading a page of tickets found: the tickets, those skipped, and the fields whose values
/// did not parse (kept as unknown), with how often.
#[derive(Debug, Default)]
pub struct TicketsRead {
    pub tickets: Vec<Ticket>,
    pub skipped: u64,
    pub unknown: Vec<(u64, &'static str)>,
}

/// Reads a page of tickets field by field (see `Ticket::read`).
pub fn read_tickets(values: Vec<Value>) -> TicketsRead {
    let mut read = TicketsRead::default();
    for value in values {
        let mut unknown = Vec::new();
        match Ticket::read(&value, &mut unknown) {
            Ok(ticket) => {
                read.unknown.extend(unknown.into_iter().map(|field| (ticket.id, field)));
                read.tickets.push(ticket);
            }
            Err(reason) => {
                read.skipped += 1;
                tracing::warn!(reason, "skipped a ticket that could not be read");
            }
        }
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_and_values_are_carried() {
        let read = read_tickets(vec![
            serde_json::json!({
                "id": 7, "status": "archived_v2", "created_at": "2026-11-30T17:00:00Z", "updated_at": "2026-11-30T17:00:00Z",
                "brand_new_field": {"x": 1}, "custom_fields": [{"id": 1, "value": null}, {"id": 2, "value": ["a"]}],
            }),
            serde_json::json!({"id": "not a number", "created_at": "2026-11-30T17:00:00Z", "updated_at": "2026-11-30T17:00:00Z"}),
            serde_json::json!({"id": 3, "created_at": "yesterday", "updated_at": "2026-11-30T17:00:00Z"}),
        ]);
        assert_eq!((read.tickets.len(), read.skipped), (1, 2));
        let ticket = &read.tickets[0];
        assert_eq!(ticket.status.as_deref(), Some("archived_v2"));
        assert_eq!(ticket.created_at, Some(1_796_058_000));
        assert_eq!(ticket.custom_fields[1].value, serde_json::json!(["a"]));
        assert!(read.unknown.is_empty());
    }

    #[test]
    fn one_odd_field_never_drops_the_ticket() {
        let read = read_tickets(vec![serde_json::json!({
            "id": "41", "created_at": "2026-11-30T17:00:00Z", "updated_at": "2026-11-30T18:00:00Z",
            "subject": {"unexpected": "object"}, "status": "open", "requester_id": "9",
            "assignee_id": -3, "organization_id": null,
            "tags": ["sev1", 7, "vip"],
            "custom_fields": [
                {"id": 1, "value": ["multi", "select"]},
                {"id": 2, "value": true},
                {"id": 3, "value": 12.5},
                {"id": 4, "value": "2026-12-24"},
                {"id": 5, "value": null},
                {"id": "360000000006", "value": "string id"},
                {"value": "no id"}
            ],
            "via": {"channel": "carrier_pigeon", "source": {}},
            "satisfaction_rating": "not an object"
        })]);
        assert_eq!((read.tickets.len(), read.skipped), (1, 0), "the ticket is kept");
        let ticket = &read.tickets[0];
        assert_eq!(
            (ticket.id, ticket.requester_id, ticket.status.as_deref()),
            (41, Some(9), Some("open"))
        );
        assert_eq!(ticket.subject, None);
        assert_eq!(ticket.assignee_id, None);
        assert_eq!(ticket.tags, vec!["sev1".to_string(), "vip".to_string()]);
        let ids: Vec<u64> = ticket.custom_fields.iter().map(|f| f.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 360_000_000_006]);
        assert_eq!(ticket.custom_fields[2].value, serde_json::json!(12.5));
        assert_eq!(ticket.via_channel.as_deref(), Some("carrier_pigeon"));
        let mut unknown: Vec<&str> = read.unknown.iter().map(|(_, field)| *field).collect();
        unknown.sort_unstable();
        assert_eq!(
            unknown,
            vec!["assignee_id", "custom_fields", "satisfaction_rating", "subject", "tags"]
        );
    }

    #[test]
    fn severity_inputs_are_read_in_either_form() {
        let event: TicketEvent = serde_json::from_value(serde_json::json!({
            "id": 1, "ticket_id": 2, "timestamp": 100,
            "child_events": [
                {"id": 3, "event_type": "Create", "tags": ["sev2", "vip"], "priority": "normal",
                 "custom_ticket_fields": {"360001": "severity_2"}},
                {"id": 4, "type": "Change", "field_name": "tags", "value": ["sev1"], "previous_value": ["sev2"]},
                {"id": 5, "type": "Change", "field_name": "360001", "value": "severity_1"},
                {"id": 6, "type": "Change", "field_name": "subject", "value": "not read"}
            ]
        }))
        .unwrap();
        assert!(event.creates());
        let field = |name: &str, value: Value| Change::Field { name: name.into(), value };
        assert_eq!(
            event.changes(),
            vec![
                field("tags", serde_json::json!(["sev2", "vip"])),
                field("priority", serde_json::json!("normal")),
                field("360001", serde_json::json!("severity_2")),
                field("tags", serde_json::json!(["sev1"])),
                field("360001", serde_json::json!("severity_1")),
            ]
        );
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
                    html_body: String::new(),
                    public: true,
                    created_at: Some(1_796_058_000)
                },
                Change::Status("solved".into()),
                Change::Field {
                    name: "priority".into(),
                    value: Value::from("high")
                },
                Change::Status("pending".into()),
            ]
        );
    }
}
