//! The simulated account's data (users, organizations, ticket fields, tickets and
//! their audits), how it changes, and how it renders as Zendesk JSON.
//!
//! Everything here is synchronous and takes the world's `now` as an argument; the
//! HTTP layer and the public handle own the lock and the clock.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::NewTicket;

mod render;

use render::{render_api_audit, render_audit, render_comment};

/// `updater_id` Zendesk reports for changes made by the system rather than a person.
pub(super) const SYSTEM_UPDATER: i64 = -1;

pub(super) struct World {
    base_url: String,
    ids: Ids,
    users: BTreeMap<u64, User>,
    organizations: BTreeMap<u64, Organization>,
    fields: BTreeMap<u64, TicketField>,
    organization_fields: BTreeMap<u64, OrganizationField>,
    groups: BTreeMap<u64, Group>,
    schedules: BTreeMap<u64, Schedule>,
    /// Whether the plan has business hours: without, the schedules endpoints answer 403.
    business_hours: bool,
    tickets: BTreeMap<u64, Ticket>,
    audits: Vec<Audit>,
    extra_ticket_fields: Map<String, Value>,
    /// While a webhook listens: each change (ticket, Zendesk event type) not yet posted.
    changed: Option<Vec<(u64, &'static str)>>,
}

/// Separate, increasing id ranges per kind, so an id of the wrong kind never matches by accident.
struct Ids {
    ticket: u64,
    user: u64,
    organization: u64,
    field: u64,
    option: u64,
    organization_field: u64,
    group: u64,
    schedule: u64,
    holiday: u64,
    /// Audits, their child events and comments share one sequence (a comment's id is its event's id).
    event: u64,
}

fn take(counter: &mut u64) -> u64 {
    let id = *counter;
    *counter += 1;
    id
}

struct User {
    id: u64,
    name: String,
    email: String,
    role: String,
    organization_id: Option<u64>,
    created_at: i64,
}

struct Organization {
    id: u64,
    name: String,
    tags: Vec<String>,
    fields: Map<String, Value>,
    created_at: i64,
    updated_at: i64,
}

struct TicketField {
    id: u64,
    title: String,
    field_type: String,
    options: Vec<FieldOption>,
    /// Zendesk's built-in fields (subject, status...) are listed but never in `custom_fields`.
    system: bool,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

/// An organization field: organizations hold values under its `key`.
struct OrganizationField {
    id: u64,
    key: String,
    title: String,
    field_type: String,
    options: Vec<FieldOption>,
    active: bool,
    created_at: i64,
    updated_at: i64,
}

struct Group {
    id: u64,
    name: String,
    deleted: bool,
    created_at: i64,
    updated_at: i64,
}

/// A business-hours schedule: `time_zone` in Rails' names, intervals in minutes from Sunday 00:00.
struct Schedule {
    id: u64,
    name: String,
    time_zone: String,
    intervals: Vec<(u32, u32)>,
    holidays: Vec<Holiday>,
    created_at: i64,
    updated_at: i64,
}

struct Holiday {
    id: u64,
    name: String,
    start_date: String,
    end_date: String,
}

struct FieldOption {
    id: u64,
    name: String,
    value: String,
}

/// How a change reached the account: the Rust-side mutators stand for agents in the web UI,
/// the HTTP write endpoints for an API client.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Via {
    Web,
    Api,
}

#[derive(Clone)]
struct Comment {
    id: u64,
    audit_id: u64,
    author_id: u64,
    body: String,
    public: bool,
    created_at: i64,
    via: Via,
}

struct Ticket {
    id: u64,
    created_at: i64,
    updated_at: i64,
    generated_timestamp: i64,
    subject: String,
    status: String,
    priority: Option<String>,
    requester_id: u64,
    submitter_id: u64,
    assignee_id: Option<u64>,
    organization_id: Option<u64>,
    group_id: Option<u64>,
    tags: Vec<String>,
    custom_fields: BTreeMap<u64, Value>,
    comments: Vec<Comment>,
    /// `satisfaction_rating.score` once the customer rated (or was offered a rating).
    satisfaction: Option<String>,
}

struct Audit {
    id: u64,
    ticket_id: u64,
    timestamp: i64,
    updater_id: i64,
    via: Via,
    children: Vec<Child>,
}

struct Child {
    id: u64,
    kind: ChildKind,
}

enum ChildKind {
    Comment(Comment),
    /// The field-specific members, e.g. `{"status": "new"}`.
    Create(Map<String, Value>),
    /// The field-specific members, e.g. `{"status": "open", "previous_value": "new"}`.
    Change(Map<String, Value>),
}

/// One ticket update through the API (`PUT /api/v2/tickets/{id}.json`, the tags endpoints):
/// everything it changes lands in one audit.
#[derive(Default)]
pub(super) struct ApiUpdate {
    pub comment: Option<ApiComment>,
    pub status: Option<String>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    pub additional_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// (field id, value) for plain (non-dropdown) custom fields.
    pub custom_fields: Vec<(u64, Value)>,
}

pub(super) struct ApiComment {
    pub body: String,
    pub public: bool,
    /// The API user when None.
    pub author_id: Option<u64>,
}

/// Why an API write is refused.
pub(super) enum Refusal {
    /// Unknown or deleted.
    NotFound,
    /// `closed` tickets take no more updates.
    Closed,
    /// `safe_update` with an `updated_stamp` other than the ticket's `updated_at`.
    Conflict,
    /// A comment `author_id` that names no user.
    UnknownAuthor,
}

/// One page of the cursor ticket export.
pub(super) struct TicketPage {
    pub tickets: Vec<Value>,
    /// (generated_timestamp, id) of the last ticket on the page.
    pub last: Option<(i64, u64)>,
    pub end_of_stream: bool,
}

/// One page of the time-based ticket events export.
pub(super) struct EventPage {
    pub events: Vec<Value>,
    pub end_time: i64,
    pub end_of_stream: bool,
}

impl World {
    pub(super) fn new(base_url: String, now: i64) -> World {
        let mut world = World {
            base_url,
            ids: Ids {
                ticket: 1,
                user: 1_000_001,
                organization: 2_000_001,
                field: 3_000_001,
                option: 4_000_001,
                organization_field: 5_000_001,
                group: 6_000_001,
                schedule: 7_000_001,
                holiday: 8_000_001,
                event: 10_000_001,
            },
            users: BTreeMap::new(),
            organizations: BTreeMap::new(),
            fields: BTreeMap::new(),
            organization_fields: BTreeMap::new(),
            groups: BTreeMap::new(),
            schedules: BTreeMap::new(),
            business_hours: true,
            tickets: BTreeMap::new(),
            audits: Vec::new(),
            extra_ticket_fields: Map::new(),
            changed: None,
        };
        for (title, field_type) in [
            ("Subject", "subject"),
            ("Description", "description"),
            ("Status", "status"),
            ("Priority", "priority"),
        ] {
            let id = take(&mut world.ids.field);
            let field = TicketField {
                id,
                title: title.to_string(),
                field_type: field_type.to_string(),
                options: Vec::new(),
                system: true,
                active: true,
                created_at: now,
                updated_at: now,
            };
            world.fields.insert(id, field);
        }
        // The account slawatch's default config is written for: organizations by deployment.
        world.add_organization_field(
            "deployment",
            "Deployment",
            "dropdown",
            &[("Managed instance", "managed"), ("Self-hosted", "self_hosted")],
            now,
        );
        world
    }

    // ---- the world's setup -------------------------------------------------------------

    pub(super) fn add_user(&mut self, name: &str, email: &str, role: &str, organization_id: Option<u64>, now: i64) -> u64 {
        let id = take(&mut self.ids.user);
        let user = User {
            id,
            name: name.to_string(),
            email: email.to_string(),
            role: role.to_string(),
            organization_id,
            created_at: now,
        };
        self.users.insert(id, user);
        id
    }

    pub(super) fn add_organization(&mut self, name: &str, tags: &[&str], fields: Map<String, Value>, now: i64) -> u64 {
        for key in fields.keys() {
            self.define_organization_field(key, now);
        }
        let id = take(&mut self.ids.organization);
        let organization = Organization {
            id,
            name: name.to_string(),
            tags: unique(tags.iter().copied()),
            fields,
            created_at: now,
            updated_at: now,
        };
        self.organizations.insert(id, organization);
        id
    }

    pub(super) fn set_organization_field(&mut self, org: u64, key: &str, value: Value, now: i64) {
        if self.organizations.contains_key(&org) {
            self.define_organization_field(key, now);
        }
        match self.organizations.get_mut(&org) {
            Some(o) => {
                o.fields.insert(key.to_string(), value);
                o.updated_at = now;
            }
            None => tracing::warn!(org, "sim zendesk: set_organization_field on an unknown organization"),
        }
    }

    pub(super) fn set_organization_tags(&mut self, org: u64, tags: &[&str], now: i64) {
        match self.organizations.get_mut(&org) {
            Some(o) => {
                o.tags = unique(tags.iter().copied());
                o.updated_at = now;
            }
            None => tracing::warn!(org, "sim zendesk: set_organization_tags on an unknown organization"),
        }
    }

    pub(super) fn add_ticket_field(&mut self, title: &str, field_type: &str, options: &[(&str, &str)], now: i64) -> u64 {
        let id = take(&mut self.ids.field);
        let options = options
            .iter()
            .map(|(name, value)| FieldOption {
                id: take(&mut self.ids.option),
                name: name.to_string(),
                value: value.to_string(),
            })
            .collect();
        let field = TicketField {
            id,
            title: title.to_string(),
            field_type: field_type.to_string(),
            options,
            system: false,
            active: true,
            created_at: now,
            updated_at: now,
        };
        self.fields.insert(id, field);
        id
    }

    pub(super) fn set_ticket_field_active(&mut self, id: u64, active: bool, now: i64) {
        match self.fields.get_mut(&id) {
            Some(f) => {
                f.active = active;
                f.updated_at = now;
            }
            None => tracing::warn!(id, "sim zendesk: set_ticket_field_active on an unknown field"),
        }
    }

    /// Appends an option to a field's list; None for an unknown field.
    pub(super) fn add_ticket_field_option(&mut self, field_id: u64, name: &str, value: &str, now: i64) -> Option<u64> {
        let Some(field) = self.fields.get_mut(&field_id) else {
            tracing::warn!(field_id, "sim zendesk: add_ticket_field_option on an unknown field");
            return None;
        };
        let id = take(&mut self.ids.option);
        field.options.push(FieldOption {
            id,
            name: name.to_string(),
            value: value.to_string(),
        });
        field.updated_at = now;
        Some(id)
    }

    /// Defines an organization field; a key defined already (say, as `text` by an organization
    /// holding it) is redefined in place, keeping its id.
    pub(super) fn add_organization_field(&mut self, key: &str, title: &str, field_type: &str, options: &[(&str, &str)], now: i64) -> u64 {
        let options: Vec<FieldOption> = options
            .iter()
            .map(|(name, value)| FieldOption {
                id: take(&mut self.ids.option),
                name: name.to_string(),
                value: value.to_string(),
            })
            .collect();
        if let Some(field) = self.organization_fields.values_mut().find(|f| f.key == key) {
            field.title = title.to_string();
            field.field_type = field_type.to_string();
            field.options = options;
            field.updated_at = now;
            return field.id;
        }
        let id = take(&mut self.ids.organization_field);
        let field = OrganizationField {
            id,
            key: key.to_string(),
            title: title.to_string(),
            field_type: field_type.to_string(),
            options,
            active: true,
            created_at: now,
            updated_at: now,
        };
        self.organization_fields.insert(id, field);
        id
    }

    pub(super) fn set_organization_field_active(&mut self, id: u64, active: bool, now: i64) {
        match self.organization_fields.get_mut(&id) {
            Some(f) => {
                f.active = active;
                f.updated_at = now;
            }
            None => tracing::warn!(id, "sim zendesk: set_organization_field_active on an unknown field"),
        }
    }

    /// An organization can hold values of defined fields only: a key not defined yet gets a
    /// `text` field titled after it.
    fn define_organization_field(&mut self, key: &str, now: i64) {
        if !self.organization_fields.values().any(|f| f.key == key) {
            self.add_organization_field(key, &title_of(key), "text", &[], now);
        }
    }

    /// Adds a group; its id is the next free one.
    pub(super) fn add_group(&mut self, name: &str, now: i64) -> u64 {
        let mut id = take(&mut self.ids.group);
        while self.groups.contains_key(&id) {
            id = take(&mut self.ids.group);
        }
        self.insert_group(id, name, now);
        id
    }

    fn insert_group(&mut self, id: u64, name: &str, now: i64) {
        let group = Group {
            id,
            name: name.to_string(),
            deleted: false,
            created_at: now,
            updated_at: now,
        };
        self.groups.insert(id, group);
    }

    /// A group a ticket names must exist: one never added is added as "Group <id>".
    fn define_group(&mut self, id: u64, now: i64) {
        if !self.groups.contains_key(&id) {
            self.insert_group(id, &format!("Group {id}"), now);
        }
    }

    /// Deletes a group: still listed, with `deleted: true`.
    pub(super) fn delete_group(&mut self, id: u64, now: i64) {
        match self.groups.get_mut(&id) {
            Some(g) => {
                g.deleted = true;
                g.updated_at = now;
            }
            None => tracing::warn!(id, "sim zendesk: delete_group on an unknown group"),
        }
    }

    pub(super) fn add_schedule(&mut self, name: &str, time_zone: &str, intervals: &[(u32, u32)], now: i64) -> u64 {
        let id = take(&mut self.ids.schedule);
        let schedule = Schedule {
            id,
            name: name.to_string(),
            time_zone: time_zone.to_string(),
            intervals: intervals.to_vec(),
            holidays: Vec::new(),
            created_at: now,
            updated_at: now,
        };
        self.schedules.insert(id, schedule);
        id
    }

    /// Adds a holiday (dates `YYYY-MM-DD`, inclusive) to a schedule; None for an unknown one.
    pub(super) fn add_schedule_holiday(&mut self, schedule: u64, name: &str, start_date: &str, end_date: &str, now: i64) -> Option<u64> {
        let Some(s) = self.schedules.get_mut(&schedule) else {
            tracing::warn!(schedule, "sim zendesk: add_schedule_holiday on an unknown schedule");
            return None;
        };
        let id = take(&mut self.ids.holiday);
        s.holidays.push(Holiday {
            id,
            name: name.to_string(),
            start_date: start_date.to_string(),
            end_date: end_date.to_string(),
        });
        s.updated_at = now;
        Some(id)
    }

    pub(super) fn set_business_hours_plan(&mut self, available: bool) {
        self.business_hours = available;
    }

    pub(super) fn has_business_hours(&self) -> bool {
        self.business_hours
    }

    /// The user's role, if the user exists.
    pub(super) fn user_role(&self, id: u64) -> Option<&str> {
        self.users.get(&id).map(|u| u.role.as_str())
    }

    pub(super) fn set_user_role(&mut self, id: u64, role: &str) {
        match self.users.get_mut(&id) {
            Some(u) => u.role = role.to_string(),
            None => tracing::warn!(id, "sim zendesk: set_user_role on an unknown user"),
        }
    }

    pub(super) fn set_extra_ticket_fields(&mut self, extra: Map<String, Value>) {
        self.extra_ticket_fields = extra;
    }

    // ---- tickets ---------------------------------------------------------------------

    pub(super) fn create_ticket(&mut self, new: NewTicket, now: i64) -> u64 {
        if let Some(group_id) = new.group_id {
            self.define_group(group_id, now);
        }
        let id = take(&mut self.ids.ticket);
        let audit_id = take(&mut self.ids.event);
        let submitter_id = new.submitter_id.unwrap_or(new.requester_id);
        let organization_id = new
            .organization_id
            .or_else(|| self.users.get(&new.requester_id).and_then(|u| u.organization_id));

        let mut tags = unique(new.tags.iter().map(String::as_str));
        let mut custom_fields = BTreeMap::new();
        for (field_id, value) in new.custom_fields {
            if let Some(tag) = self.fields.get(&field_id).and_then(|f| option_tag(f, &value)) {
                push_unique(&mut tags, tag);
            }
            custom_fields.insert(field_id, value);
        }
        let comment = Comment {
            id: take(&mut self.ids.event),
            audit_id,
            author_id: submitter_id,
            body: new.body,
            public: new.public,
            created_at: now,
            via: Via::Web,
        };
        let mut ticket = Ticket {
            id,
            created_at: now,
            updated_at: now,
            generated_timestamp: now,
            subject: new.subject,
            status: new.status,
            priority: new.priority,
            requester_id: new.requester_id,
            submitter_id,
            assignee_id: new.assignee_id,
            organization_id,
            group_id: new.group_id,
            tags,
            custom_fields,
            comments: vec![comment.clone()],
            satisfaction: None,
        };
        // Tags that name a dropdown option set that dropdown, as in Zendesk.
        sync_tagger_fields(&mut ticket, &self.fields);

        let mut created = vec![ChildKind::Comment(comment)];
        let mut create = |key: &str, value: Value| created.push(ChildKind::Create(member(key, value)));
        create("subject", json!(ticket.subject));
        create("requester_id", json!(ticket.requester_id));
        create("status", json!(ticket.status));
        if let Some(priority) = &ticket.priority {
            create("priority", json!(priority));
        }
        if let Some(assignee_id) = ticket.assignee_id {
            create("assignee_id", json!(assignee_id));
        }
        if let Some(group_id) = ticket.group_id {
            create("group_id", json!(group_id));
        }
        if let Some(organization_id) = ticket.organization_id {
            create("organization_id", json!(organization_id));
        }
        if !ticket.tags.is_empty() {
            create("tags", json!(ticket.tags));
        }
        for (field_id, value) in ticket.custom_fields.iter().filter(|(_, v)| !v.is_null()) {
            create("custom_ticket_fields", json!({ field_id.to_string(): value }));
        }
        let children = created.into_iter().map(|kind| child(&mut self.ids, kind)).collect();
        let updater_id = as_updater(submitter_id);
        self.note_change(id, "zen:event-type:ticket.created");
        self.audits.push(Audit {
            id: audit_id,
            ticket_id: id,
            timestamp: now,
            updater_id,
            via: Via::Web,
            children,
        });
        self.tickets.insert(id, ticket);
        id
    }

    /// Applies one update to a ticket: `change` edits it and returns what changed. An update
    /// that changes nothing leaves the ticket and its history alone, as Zendesk does.
    fn update(&mut self, ticket_id: u64, updater_id: i64, now: i64, change: impl FnOnce(&mut Ticket, &Fields, u64) -> Vec<ChildKind>) {
        self.update_via(ticket_id, updater_id, now, Via::Web, change);
    }

    /// `update` through a given channel; the new audit's id, if anything changed.
    fn update_via(
        &mut self,
        ticket_id: u64,
        updater_id: i64,
        now: i64,
        via: Via,
        change: impl FnOnce(&mut Ticket, &Fields, u64) -> Vec<ChildKind>,
    ) -> Option<u64> {
        let Some(ticket) = self.tickets.get_mut(&ticket_id) else {
            tracing::warn!(ticket_id, "sim zendesk: update of an unknown ticket ignored");
            return None;
        };
        let audit_id = take(&mut self.ids.event);
        let changes = change(ticket, &self.fields, audit_id);
        if changes.is_empty() {
            return None;
        }
        ticket.updated_at = now;
        ticket.generated_timestamp = now;
        for kind in &changes {
            self.note_change(ticket_id, event_type(kind));
        }
        let children = changes.into_iter().map(|kind| child(&mut self.ids, kind)).collect();
        self.audits.push(Audit {
            id: audit_id,
            ticket_id,
            timestamp: now,
            updater_id,
            via,
            children,
        });
        Some(audit_id)
    }

    /// Starts (or stops) keeping the changes a webhook posts.
    pub(super) fn keep_changes(&mut self, keep: bool) {
        self.changed = keep.then(|| self.changed.take().unwrap_or_default());
    }

    fn note_change(&mut self, ticket_id: u64, event_type: &'static str) {
        if let Some(changed) = &mut self.changed {
            changed.push((ticket_id, event_type));
        }
    }

    pub(super) fn has_changed(&self) -> bool {
        self.changed.as_ref().is_some_and(|c| !c.is_empty())
    }

    /// The changes not yet posted, oldest first.
    pub(super) fn take_changed(&mut self) -> Vec<(u64, &'static str)> {
        self.changed.as_mut().map(std::mem::take).unwrap_or_default()
    }

    pub(super) fn add_comment(&mut self, ticket_id: u64, author_id: u64, body: &str, public: bool, now: i64) {
        let comment_id = take(&mut self.ids.event);
        self.update(ticket_id, as_updater(author_id), now, |ticket, _, audit_id| {
            let comment = Comment {
                id: comment_id,
                audit_id,
                author_id,
                body: body.to_string(),
                public,
                created_at: now,
                via: Via::Web,
            };
            ticket.comments.push(comment.clone());
            vec![ChildKind::Comment(comment)]
        });
    }

    pub(super) fn set_status(&mut self, ticket_id: u64, status: &str, updater_id: i64, now: i64) {
        self.update(ticket_id, updater_id, now, |ticket, _, _| {
            if ticket.status == status {
                return Vec::new();
            }
            let previous = std::mem::replace(&mut ticket.status, status.to_string());
            vec![change("status", json!(status), json!(previous))]
        });
    }

    pub(super) fn set_priority(&mut self, ticket_id: u64, priority: Option<&str>, updater_id: u64, now: i64) {
        self.update(ticket_id, as_updater(updater_id), now, |ticket, _, _| {
            if ticket.priority.as_deref() == priority {
                return Vec::new();
            }
            let previous = std::mem::replace(&mut ticket.priority, priority.map(str::to_string));
            vec![change("priority", json!(priority), json!(previous))]
        });
    }

    pub(super) fn set_tags(&mut self, ticket_id: u64, tags: &[&str], updater_id: u64, now: i64) {
        self.update(ticket_id, as_updater(updater_id), now, |ticket, fields, _| {
            let previous = std::mem::replace(&mut ticket.tags, unique(tags.iter().copied()));
            let mut changes: Vec<ChildKind> = tags_change(&previous, &ticket.tags).into_iter().collect();
            for (field_id, old, new) in sync_tagger_fields(ticket, fields) {
                changes.push(custom_field_change(field_id, new, old));
            }
            changes
        });
    }

    pub(super) fn set_custom_field(&mut self, ticket_id: u64, field_id: u64, value: Value, updater_id: u64, now: i64) {
        self.update(ticket_id, as_updater(updater_id), now, |ticket, fields, _| {
            let previous = ticket.custom_fields.get(&field_id).cloned().unwrap_or(Value::Null);
            if previous == value {
                return Vec::new();
            }
            let mut changes = Vec::new();
            // A dropdown's value is its option's tag: swap the tags along with the value.
            if let Some(field) = fields.get(&field_id) {
                let old_tags = ticket.tags.clone();
                if let Some(old_tag) = option_tag(field, &previous) {
                    ticket.tags.retain(|t| t != old_tag);
                }
                if let Some(new_tag) = option_tag(field, &value) {
                    push_unique(&mut ticket.tags, new_tag);
                }
                changes.extend(tags_change(&old_tags, &ticket.tags));
            }
            ticket.custom_fields.insert(field_id, value.clone());
            changes.insert(0, custom_field_change(field_id, value, previous));
            changes
        });
    }

    pub(super) fn set_assignee(&mut self, ticket_id: u64, assignee_id: Option<u64>, updater_id: u64, now: i64) {
        self.update(ticket_id, as_updater(updater_id), now, |ticket, _, _| {
            if ticket.assignee_id == assignee_id {
                return Vec::new();
            }
            let previous = std::mem::replace(&mut ticket.assignee_id, assignee_id);
            vec![change("assignee_id", json!(assignee_id), json!(previous))]
        });
    }

    /// The customer's satisfaction rating (`good`, `bad`, `offered`...): a change of the ticket,
    /// exported like any other, solved or closed as it may be.
    pub(super) fn rate(&mut self, ticket_id: u64, score: &str, updater_id: u64, now: i64) {
        self.update(ticket_id, as_updater(updater_id), now, |ticket, _, _| {
            if ticket.satisfaction.as_deref() == Some(score) {
                return Vec::new();
            }
            let previous = ticket.satisfaction.replace(score.to_string());
            vec![change("satisfaction_score", json!(score), json!(previous))]
        });
    }

    pub(super) fn set_group(&mut self, ticket_id: u64, group_id: Option<u64>, updater_id: u64, now: i64) {
        if let Some(group_id) = group_id.filter(|_| self.tickets.contains_key(&ticket_id)) {
            self.define_group(group_id, now);
        }
        self.update(ticket_id, as_updater(updater_id), now, |ticket, _, _| {
            if ticket.group_id == group_id {
                return Vec::new();
            }
            let previous = std::mem::replace(&mut ticket.group_id, group_id);
            vec![change("group_id", json!(group_id), json!(previous))]
        });
    }

    // ---- writes through the API --------------------------------------------------------

    /// Whether live reads and writes find the ticket (it exists and is not deleted).
    pub(super) fn is_live(&self, ticket_id: u64) -> bool {
        self.tickets.get(&ticket_id).is_some_and(|t| t.status != "deleted")
    }

    /// Whether an API write may go ahead: the ticket is live and not closed, and `stamp` (the
    /// `updated_stamp` of a safe update, Unix seconds) is still its `updated_at`.
    pub(super) fn check_write(&self, ticket_id: u64, stamp: Option<i64>) -> Result<(), Refusal> {
        let ticket = self
            .tickets
            .get(&ticket_id)
            .filter(|t| t.status != "deleted")
            .ok_or(Refusal::NotFound)?;
        if ticket.status == "closed" {
            return Err(Refusal::Closed);
        }
        if stamp.is_some_and(|stamp| stamp != ticket.updated_at) {
            return Err(Refusal::Conflict);
        }
        Ok(())
    }

    /// Applies an API update by `updater` (the API user) as one audit, via the API; the audit's
    /// id when anything changed. Checks nothing `check_write` checks.
    pub(super) fn api_update(&mut self, ticket_id: u64, update: ApiUpdate, updater: u64, now: i64) -> Result<Option<u64>, Refusal> {
        if !self.is_live(ticket_id) {
            return Err(Refusal::NotFound);
        }
        if let Some(author) = update.comment.as_ref().and_then(|c| c.author_id) {
            if !self.users.contains_key(&author) {
                return Err(Refusal::UnknownAuthor);
            }
        }
        let comment_id = update.comment.as_ref().map(|_| take(&mut self.ids.event));
        let audit = self.update_via(ticket_id, as_updater(updater), now, Via::Api, |ticket, fields, audit_id| {
            let mut changes = Vec::new();
            if let (Some(new), Some(id)) = (update.comment, comment_id) {
                let comment = Comment {
                    id,
                    audit_id,
                    author_id: new.author_id.unwrap_or(updater),
                    body: new.body,
                    public: new.public,
                    created_at: now,
                    via: Via::Api,
                };
                ticket.comments.push(comment.clone());
                changes.push(ChildKind::Comment(comment));
            }
            if let Some(status) = update.status {
                if ticket.status != status {
                    let previous = std::mem::replace(&mut ticket.status, status.clone());
                    changes.push(change("status", json!(status), json!(previous)));
                }
            }
            let mut tags = match update.tags {
                Some(tags) => unique(tags.iter().map(String::as_str)),
                None => ticket.tags.clone(),
            };
            for tag in &update.additional_tags {
                push_unique(&mut tags, tag);
            }
            tags.retain(|t| !update.remove_tags.contains(t));
            if let Some(tags_changed) = tags_change(&ticket.tags, &tags) {
                ticket.tags = tags;
                changes.push(tags_changed);
                for (field_id, old, new) in sync_tagger_fields(ticket, fields) {
                    changes.push(custom_field_change(field_id, new, old));
                }
            }
            for (field_id, value) in update.custom_fields {
                let previous = ticket.custom_fields.insert(field_id, value.clone()).unwrap_or(Value::Null);
                if previous != value {
                    changes.push(custom_field_change(field_id, value, previous));
                }
            }
            changes
        });
        Ok(audit)
    }

    /// An audit as the write endpoints answer it (`{"ticket": ..., "audit": ...}`).
    pub(super) fn api_audit_json(&self, audit_id: u64) -> Option<Value> {
        self.audits.iter().rev().find(|a| a.id == audit_id).map(render_api_audit)
    }

    // ---- reads -----------------------------------------------------------------------

    /// The ticket as the API shows it, deleted or not.
    pub(super) fn ticket_json(&self, ticket_id: u64) -> Option<Value> {
        self.tickets.get(&ticket_id).map(|t| self.render_ticket(t))
    }

    /// The ticket for a live read (`/tickets/{id}.json`): deleted tickets are not found there.
    pub(super) fn live_ticket_json(&self, ticket_id: u64) -> Option<Value> {
        self.tickets
            .get(&ticket_id)
            .filter(|t| t.status != "deleted")
            .map(|t| self.render_ticket(t))
    }

    pub(super) fn live_comments_json(&self, ticket_id: u64) -> Option<Vec<Value>> {
        let ticket = self.tickets.get(&ticket_id).filter(|t| t.status != "deleted")?;
        Some(ticket.comments.iter().map(render_comment).collect())
    }

    /// The ticket's audits, oldest first, as the ticket audits API renders them (a live read).
    pub(super) fn live_audits_json(&self, ticket_id: u64) -> Option<Vec<Value>> {
        self.tickets.get(&ticket_id).filter(|t| t.status != "deleted")?;
        Some(
            self.audits
                .iter()
                .filter(|a| a.ticket_id == ticket_id)
                .map(render_api_audit)
                .collect(),
        )
    }

    /// The ticket's tags for a live read (`/tickets/{id}/tags.json`).
    pub(super) fn live_tags(&self, ticket_id: u64) -> Option<Vec<String>> {
        let ticket = self.tickets.get(&ticket_id).filter(|t| t.status != "deleted")?;
        Some(ticket.tags.clone())
    }

    /// Every comment of the ticket, deleted or not; none for an unknown ticket.
    pub(super) fn comments_json(&self, ticket_id: u64) -> Vec<Value> {
        self.tickets
            .get(&ticket_id)
            .map_or_else(Vec::new, |t| t.comments.iter().map(render_comment).collect())
    }

    /// Tickets strictly after `after` in (generated_timestamp, id) order, none newer than `horizon`.
    pub(super) fn export_tickets(&self, after: (i64, u64), horizon: i64, limit: usize) -> TicketPage {
        let mut due: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| (t.generated_timestamp, t.id) > after && t.generated_timestamp <= horizon)
            .collect();
        due.sort_by_key(|t| (t.generated_timestamp, t.id));
        let end_of_stream = due.len() <= limit;
        due.truncate(limit);
        TicketPage {
            last: due.last().map(|t| (t.generated_timestamp, t.id)),
            tickets: due.into_iter().map(|t| self.render_ticket(t)).collect(),
            end_of_stream,
        }
    }

    /// Audits from `start` to `horizon` (inclusive) in (timestamp, id) order. A page holds whole
    /// seconds only: it stops before the second that would overflow `limit`, except that it always
    /// spans at least two seconds (when there are two), so that a next page starting at `end_time`
    /// (which re-delivers the last second) always gets further.
    pub(super) fn export_events(&self, start: i64, horizon: i64, limit: usize, with_comments: bool) -> EventPage {
        let mut due: Vec<&Audit> = self
            .audits
            .iter()
            .filter(|a| a.timestamp >= start && a.timestamp <= horizon)
            .collect();
        due.sort_by_key(|a| (a.timestamp, a.id));
        let (mut end, mut seconds) = (0, 0);
        while end < due.len() {
            let second = due[end].timestamp;
            let second_end = end + due[end..].iter().take_while(|a| a.timestamp == second).count();
            if seconds >= 2 && second_end > limit {
                break;
            }
            end = second_end;
            seconds += 1;
        }
        let page = &due[..end];
        EventPage {
            end_time: page.last().map_or(start, |a| a.timestamp),
            end_of_stream: end == due.len(),
            events: page.iter().map(|a| render_audit(a, with_comments)).collect(),
        }
    }

    /// Users in id order, only those with one of `roles` when any is given.
    pub(super) fn users_json(&self, roles: &[String]) -> Vec<Value> {
        self.users
            .values()
            .filter(|u| roles.is_empty() || roles.contains(&u.role))
            .map(|u| self.render_user(u))
            .collect()
    }

    pub(super) fn users_by_id(&self, ids: &[u64]) -> Vec<Value> {
        ids.iter()
            .filter_map(|id| self.users.get(id))
            .map(|u| self.render_user(u))
            .collect()
    }

    pub(super) fn organizations_json(&self) -> Vec<Value> {
        self.organizations.values().map(|o| self.render_organization(o)).collect()
    }

    pub(super) fn organization_fields_json(&self) -> Vec<Value> {
        self.organization_fields
            .values()
            .enumerate()
            .map(|(position, f)| self.render_organization_field(f, position))
            .collect()
    }

    pub(super) fn groups_json(&self, exclude_deleted: bool) -> Vec<Value> {
        self.groups
            .values()
            .filter(|g| !(exclude_deleted && g.deleted))
            .map(|g| self.render_group(g))
            .collect()
    }

    /// The API user as `/users/me` shows it.
    pub(super) fn user_json(&self, id: u64) -> Option<Value> {
        self.users.get(&id).map(|u| self.render_user(u))
    }

    pub(super) fn schedules_json(&self) -> Vec<Value> {
        self.schedules.values().map(|s| self.render_schedule(s)).collect()
    }

    /// A schedule's holidays; None for an unknown schedule.
    pub(super) fn holidays_json(&self, schedule: u64) -> Option<Vec<Value>> {
        let schedule = self.schedules.get(&schedule)?;
        Some(schedule.holidays.iter().map(|h| self.render_holiday(schedule.id, h)).collect())
    }

    pub(super) fn ticket_fields_json(&self) -> Vec<Value> {
        self.fields
            .values()
            .enumerate()
            .map(|(position, f)| self.render_field(f, position))
            .collect()
    }
}

type Fields = BTreeMap<u64, TicketField>;

/// A child event with its id: a comment's event shares the comment's id, as in Zendesk.
fn child(ids: &mut Ids, kind: ChildKind) -> Child {
    let id = match &kind {
        ChildKind::Comment(c) => c.id,
        _ => take(&mut ids.event),
    };
    Child { id, kind }
}

fn as_updater(user_id: u64) -> i64 {
    i64::try_from(user_id).unwrap_or(i64::MAX)
}

fn member(key: &str, value: Value) -> Map<String, Value> {
    let mut members = Map::new();
    members.insert(key.to_string(), value);
    members
}

/// The Zendesk ticket event a child of an update is.
fn event_type(kind: &ChildKind) -> &'static str {
    let ChildKind::Change(members) = kind else {
        return "zen:event-type:ticket.comment_added";
    };
    let field = members.keys().find(|k| k.as_str() != "previous_value").map(String::as_str);
    match field {
        Some("status") => "zen:event-type:ticket.status_changed",
        Some("priority") => "zen:event-type:ticket.priority_changed",
        Some("tags") => "zen:event-type:ticket.tags_changed",
        Some("assignee_id") => "zen:event-type:ticket.agent_assignment_changed",
        Some("group_id") => "zen:event-type:ticket.group_assignment_changed",
        Some("subject") => "zen:event-type:ticket.subject_changed",
        _ => "zen:event-type:ticket.custom_field_changed",
    }
}

fn change(key: &str, value: Value, previous: Value) -> ChildKind {
    let mut members = member(key, value);
    members.insert("previous_value".to_string(), previous);
    ChildKind::Change(members)
}

fn custom_field_change(field_id: u64, value: Value, previous: Value) -> ChildKind {
    change("custom_ticket_fields", json!({ field_id.to_string(): value }), previous)
}

fn tags_change(previous: &[String], tags: &[String]) -> Option<ChildKind> {
    let added: Vec<&String> = tags.iter().filter(|t| !previous.contains(t)).collect();
    let removed: Vec<&String> = previous.iter().filter(|t| !tags.contains(t)).collect();
    if added.is_empty() && removed.is_empty() {
        return None;
    }
    let mut members = member("tags", json!(tags));
    members.insert("added_tags".to_string(), json!(added));
    members.insert("removed_tags".to_string(), json!(removed));
    members.insert("previous_value".to_string(), json!(previous));
    Some(ChildKind::Change(members))
}

/// The tag a dropdown value stands for, when `value` is one of the field's options.
fn option_tag<'a>(field: &'a TicketField, value: &Value) -> Option<&'a str> {
    let value = value.as_str()?;
    if field.field_type != "tagger" {
        return None;
    }
    field.options.iter().find(|o| o.value == value).map(|o| o.value.as_str())
}

/// Keeps dropdowns in step with the tags the way Zendesk does: a dropdown whose option tag
/// was removed is cleared, an empty one takes the option whose tag is present. A value that
/// is not one of the field's options is left alone. Returns (field, old, new) per change.
fn sync_tagger_fields(ticket: &mut Ticket, fields: &Fields) -> Vec<(u64, Value, Value)> {
    let mut changes = Vec::new();
    for field in fields.values().filter(|f| f.field_type == "tagger") {
        let current = ticket.custom_fields.get(&field.id).cloned().unwrap_or(Value::Null);
        let current_tag = option_tag(field, &current);
        if !current.is_null() && current_tag.is_none() {
            continue;
        }
        if current_tag.is_some_and(|tag| ticket.tags.iter().any(|t| t == tag)) {
            continue;
        }
        let wanted = field
            .options
            .iter()
            .find(|o| ticket.tags.contains(&o.value))
            .map_or(Value::Null, |o| json!(o.value));
        if wanted != current {
            ticket.custom_fields.insert(field.id, wanted.clone());
            changes.push((field.id, current, wanted));
        }
    }
    changes
}

/// "support_tier" → "Support tier": the title Zendesk's admin would likely have given a key.
fn title_of(key: &str) -> String {
    let words = key.replace(['_', '-'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn push_unique(tags: &mut Vec<String>, tag: &str) {
    if !tags.iter().any(|t| t == tag) {
        tags.push(tag.to_string());
    }
}

fn unique<'a>(tags: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for tag in tags {
        push_unique(&mut out, tag);
    }
    out
}
