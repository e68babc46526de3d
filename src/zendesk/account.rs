//! What the account is set up with, as a config preflight and `slawatch init` read it:
//! ticket fields and their options, organization fields, groups, the token's own user,
//! business-hours schedules and their holidays. Read with unknown members ignored and
//! members Zendesk may omit (or send as null) defaulted; a record that cannot be read at
//! all is skipped and counted by the client.

use serde::{Deserialize, Deserializer};

/// Text that may be null or absent: empty then.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A flag that may be null or absent: true then (fields are active unless they say not).
fn active<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

fn yes() -> bool {
    true
}

/// A flag that may be null: false then.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or_default())
}

/// A list that may be null or absent: empty then.
fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One option of a dropdown (`tagger`, `multiselect`, an organization's `dropdown`):
/// `name` is what agents see, `value` the tag it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct FieldOption {
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub value: String,
}

/// A ticket field (`GET /api/v2/ticket_fields`), system ones (subject, status...) included.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TicketField {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub title: String,
    /// `text`, `tagger`, `multiselect`, `checkbox`, `subject`, `status`... as Zendesk writes it.
    #[serde(rename = "type", default, deserialize_with = "text")]
    pub field_type: String,
    #[serde(default = "yes", deserialize_with = "active")]
    pub active: bool,
    #[serde(rename = "custom_field_options", default, deserialize_with = "list")]
    pub options: Vec<FieldOption>,
}

/// An organization field (`GET /api/v2/organization_fields`): organizations hold their values
/// in `organization_fields` under the field's `key`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct OrganizationField {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub key: String,
    #[serde(default, deserialize_with = "text")]
    pub title: String,
    /// `text`, `dropdown`, `checkbox`, `integer`, `decimal`, `date`, `regexp`, `lookup`...
    #[serde(rename = "type", default, deserialize_with = "text")]
    pub field_type: String,
    #[serde(default = "yes", deserialize_with = "active")]
    pub active: bool,
    #[serde(rename = "custom_field_options", default, deserialize_with = "list")]
    pub options: Vec<FieldOption>,
}

/// A group of agents (`GET /api/v2/groups`); deleted ones are listed too.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Group {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "flag")]
    pub deleted: bool,
}

/// The user the API token (or OAuth token) acts as (`GET /api/v2/users/me`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Me {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub email: String,
    /// `end-user`, `agent` or `admin`; the incremental exports need `admin`.
    #[serde(default, deserialize_with = "text")]
    pub role: String,
}

/// A business-hours schedule (`GET /api/v2/business_hours/schedules`) with its holidays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BusinessSchedule {
    pub id: u64,
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    /// Rails' zone name, e.g. "Pacific Time (US & Canada)".
    #[serde(default, deserialize_with = "text")]
    pub time_zone: String,
    /// (start, end) in minutes from Sunday 00:00 in `time_zone`.
    #[serde(default, deserialize_with = "intervals")]
    pub intervals: Vec<(u32, u32)>,
    /// Read from the schedule's own holidays endpoint.
    #[serde(default)]
    pub holidays: Vec<ScheduleHoliday>,
}

/// A holiday of a schedule: whole days from `start_date` to `end_date` (both `YYYY-MM-DD`,
/// inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScheduleHoliday {
    #[serde(default, deserialize_with = "text")]
    pub name: String,
    #[serde(default, deserialize_with = "text")]
    pub start_date: String,
    #[serde(default, deserialize_with = "text")]
    pub end_date: String,
}

/// `[{"start_time": 1980, "end_time": 2460}, ...]` as (start, end) pairs.
fn intervals<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, u32)>, D::Error> {
    #[derive(Deserialize)]
    struct Interval {
        start_time: u32,
        end_time: u32,
    }
    let read: Vec<Interval> = list(d)?;
    Ok(read.into_iter().map(|i| (i.start_time, i.end_time)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dropdown_reads_its_options_and_null_members_default() {
        let field: TicketField = serde_json::from_value(json!({
            "id": 7, "type": "tagger", "title": "Severity", "active": null, "tag": null, "key": null,
            "custom_field_options": [{"id": 1, "name": "Severity 1", "raw_name": "Severity 1", "value": "sev_1", "default": false}],
        }))
        .unwrap();
        assert_eq!(field.field_type, "tagger");
        assert!(field.active);
        assert_eq!(
            field.options,
            vec![FieldOption {
                name: "Severity 1".into(),
                value: "sev_1".into()
            }]
        );
        let plain: TicketField = serde_json::from_value(json!({"id": 8, "type": "text", "title": null, "active": false})).unwrap();
        assert!(!plain.active && plain.options.is_empty() && plain.title.is_empty());
    }

    #[test]
    fn a_schedule_reads_its_intervals_as_pairs() {
        let schedule: BusinessSchedule = serde_json::from_value(json!({
            "id": 122106, "name": "Business Hours", "time_zone": "Central Time (US & Canada)",
            "intervals": [{"start_time": 1980, "end_time": 2460}, {"start_time": 3420, "end_time": 3900}],
        }))
        .unwrap();
        assert_eq!(schedule.intervals, vec![(1980, 2460), (3420, 3900)]);
        assert!(schedule.holidays.is_empty());
    }
}
