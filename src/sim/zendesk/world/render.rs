//! How the world's records render as Zendesk JSON, member for member as the
//! real API answers them.

use serde_json::{json, Map, Value};

use super::{
    Audit, Child, ChildKind, Comment, FieldOption, Group, Holiday, Organization, OrganizationField, Schedule, Ticket, TicketField, User,
    Via, World,
};

impl World {
    pub(super) fn render_ticket(&self, t: &Ticket) -> Value {
        // Every custom field of the account is listed, null when unset; values for
        // fields the account does not define (yet) come after them.
        let mut custom_fields: Vec<Value> = self
            .fields
            .values()
            .filter(|f| !f.system)
            .map(|f| json!({"id": f.id, "value": t.custom_fields.get(&f.id).cloned().unwrap_or(Value::Null)}))
            .collect();
        for (id, value) in t.custom_fields.iter().filter(|(id, _)| !self.fields.contains_key(id)) {
            custom_fields.push(json!({"id": id, "value": value}));
        }
        let first = t.comments.first();
        let mut ticket = json!({
            "url": format!("{}/api/v2/tickets/{}.json", self.base_url, t.id),
            "id": t.id,
            "external_id": null,
            "via": {"channel": "web", "source": {"from": {}, "to": {}, "rel": null}},
            "created_at": rfc3339(t.created_at),
            "updated_at": rfc3339(t.updated_at),
            "type": null,
            "subject": t.subject,
            "raw_subject": t.subject,
            "description": first.map_or("", |c| c.body.as_str()),
            "priority": t.priority,
            "status": t.status,
            "recipient": null,
            "requester_id": t.requester_id,
            "submitter_id": t.submitter_id,
            "assignee_id": t.assignee_id,
            "organization_id": t.organization_id,
            "group_id": t.group_id,
        });
        let rest = json!({
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": null,
            "problem_id": null,
            "has_incidents": false,
            "is_public": first.is_some_and(|c| c.public),
            "due_at": null,
            "tags": t.tags,
            "custom_fields": custom_fields,
            "satisfaction_rating": t.satisfaction.as_ref().map(|score| json!({ "score": score })),
            "sharing_agreement_ids": [],
            "fields": custom_fields,
            "followup_ids": [],
            "ticket_form_id": null,
            "brand_id": null,
            "allow_channelback": false,
            "allow_attachments": true,
            "from_messaging_channel": false,
            "generated_timestamp": t.generated_timestamp,
        });
        if let (Some(ticket), Value::Object(rest)) = (ticket.as_object_mut(), rest) {
            ticket.extend(rest);
            ticket.extend(self.extra_ticket_fields.clone());
        }
        ticket
    }

    pub(super) fn render_user(&self, u: &User) -> Value {
        let end_user = u.role == "end-user";
        let mut user = json!({
            "id": u.id,
            "url": format!("{}/api/v2/users/{}.json", self.base_url, u.id),
            "name": u.name,
            "email": u.email,
            "created_at": rfc3339(u.created_at),
            "updated_at": rfc3339(u.created_at),
            "time_zone": "Pacific Time (US & Canada)",
            "iana_time_zone": "America/Los_Angeles",
            "phone": null,
            "shared_phone_number": null,
            "photo": null,
            "locale_id": 1,
            "locale": "en-US",
            "organization_id": u.organization_id,
            "role": u.role,
            "verified": true,
            "external_id": null,
            "tags": [],
            "alias": null,
            "active": true,
        });
        let rest = json!({
            "shared": false,
            "shared_agent": false,
            "last_login_at": null,
            "two_factor_auth_enabled": null,
            "signature": null,
            "details": null,
            "notes": null,
            "role_type": null,
            "custom_role_id": null,
            "moderator": u.role == "admin",
            "ticket_restriction": if end_user { json!("requested") } else { Value::Null },
            "only_private_comments": false,
            "restricted_agent": end_user,
            "suspended": false,
            "default_group_id": null,
            "report_csv": false,
            "user_fields": {},
        });
        if let (Some(user), Value::Object(rest)) = (user.as_object_mut(), rest) {
            user.extend(rest);
        }
        user
    }

    pub(super) fn render_organization(&self, o: &Organization) -> Value {
        json!({
            "url": format!("{}/api/v2/organizations/{}.json", self.base_url, o.id),
            "id": o.id,
            "name": o.name,
            "shared_tickets": false,
            "shared_comments": false,
            "external_id": null,
            "created_at": rfc3339(o.created_at),
            "updated_at": rfc3339(o.updated_at),
            "domain_names": [],
            "details": null,
            "notes": null,
            "group_id": null,
            "tags": o.tags,
            "organization_fields": o.fields,
        })
    }

    pub(super) fn render_field(&self, f: &TicketField, position: usize) -> Value {
        let options = self.render_options(&format!("ticket_fields/{}", f.id), &f.options);
        let mut field = json!({
            "url": format!("{}/api/v2/ticket_fields/{}.json", self.base_url, f.id),
            "id": f.id,
            "type": f.field_type,
            "title": f.title,
            "raw_title": f.title,
            "description": "",
            "raw_description": "",
            "position": position,
            "active": f.active,
            "required": false,
            "collapsed_for_agents": false,
            "regexp_for_validation": null,
            "title_in_portal": f.title,
            "raw_title_in_portal": f.title,
            "visible_in_portal": f.system,
            "editable_in_portal": f.system,
            "required_in_portal": false,
            "tag": null,
            "created_at": rfc3339(f.created_at),
            "updated_at": rfc3339(f.updated_at),
            "removable": !f.system,
            "key": null,
            "agent_description": null,
        });
        // Dropdowns always list their options (an empty list when they have none).
        if !options.is_empty() || matches!(f.field_type.as_str(), "tagger" | "multiselect") {
            if let Some(field) = field.as_object_mut() {
                field.insert("custom_field_options".to_string(), Value::Array(options));
            }
        }
        field
    }
}

impl World {
    /// A dropdown's `custom_field_options`, under `/api/v2/{owner}/options/`.
    fn render_options(&self, owner: &str, options: &[FieldOption]) -> Vec<Value> {
        options
            .iter()
            .enumerate()
            .map(|(position, o)| {
                json!({
                    "url": format!("{}/api/v2/{owner}/options/{}.json", self.base_url, o.id),
                    "id": o.id, "name": o.name, "raw_name": o.name, "value": o.value, "position": position, "default": false,
                })
            })
            .collect()
    }

    pub(super) fn render_organization_field(&self, f: &OrganizationField, position: usize) -> Value {
        let mut field = json!({
            "url": format!("{}/api/v2/organization_fields/{}.json", self.base_url, f.id),
            "id": f.id,
            "type": f.field_type,
            "key": f.key,
            "title": f.title,
            "raw_title": f.title,
            "description": "",
            "raw_description": "",
            "position": position,
            "active": f.active,
            "system": false,
            "regexp_for_validation": null,
            "created_at": rfc3339(f.created_at),
            "updated_at": rfc3339(f.updated_at),
        });
        if f.field_type == "dropdown" || f.field_type == "multiselect" || !f.options.is_empty() {
            let options = self.render_options(&format!("organization_fields/{}", f.id), &f.options);
            if let Some(field) = field.as_object_mut() {
                field.insert("custom_field_options".to_string(), Value::Array(options));
            }
        }
        field
    }

    pub(super) fn render_group(&self, g: &Group) -> Value {
        json!({
            "url": format!("{}/api/v2/groups/{}.json", self.base_url, g.id),
            "id": g.id,
            "is_public": true,
            "name": g.name,
            "description": "",
            "default": false,
            "deleted": g.deleted,
            "created_at": rfc3339(g.created_at),
            "updated_at": rfc3339(g.updated_at),
        })
    }

    pub(super) fn render_schedule(&self, s: &Schedule) -> Value {
        let intervals: Vec<Value> = s
            .intervals
            .iter()
            .map(|(start, end)| json!({"start_time": start, "end_time": end}))
            .collect();
        json!({
            "url": format!("{}/api/v2/business_hours/schedules/{}.json", self.base_url, s.id),
            "id": s.id,
            "name": s.name,
            "time_zone": s.time_zone,
            "created_at": rfc3339(s.created_at),
            "updated_at": rfc3339(s.updated_at),
            "intervals": intervals,
        })
    }

    pub(super) fn render_holiday(&self, schedule: u64, h: &Holiday) -> Value {
        json!({
            "url": format!("{}/api/v2/business_hours/schedules/{schedule}/holidays/{}.json", self.base_url, h.id),
            "id": h.id,
            "name": h.name,
            "start_date": h.start_date,
            "end_date": h.end_date,
        })
    }
}

pub(super) fn render_audit(a: &Audit, with_comments: bool) -> Value {
    let children: Vec<Value> = a.children.iter().map(|c| render_child(c, a.via, with_comments)).collect();
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "timestamp": a.timestamp,
        "created_at": rfc3339(a.timestamp),
        "updater_id": a.updater_id,
        "via": via_name(a.via),
        "system": {},
        "merged_ticket_ids": [],
        "event_type": "Audit",
        "child_events": children,
    })
}

/// An audit as the write endpoints (and the ticket audits API) render it: `events` with
/// `type`, `field_name`, `value` and `previous_value`, ids of `*_id` fields as strings.
pub(super) fn render_api_audit(a: &Audit) -> Value {
    let events: Vec<Value> = a
        .children
        .iter()
        .map(|child| match &child.kind {
            ChildKind::Comment(c) => {
                let mut event = render_comment(c);
                if let Some(event) = event.as_object_mut() {
                    event.retain(|k, _| k != "via" && k != "created_at" && k != "metadata");
                }
                event
            }
            ChildKind::Create(members) => api_field_event(child.id, "Create", members),
            ChildKind::Change(members) => api_field_event(child.id, "Change", members),
        })
        .collect();
    json!({
        "id": a.id,
        "ticket_id": a.ticket_id,
        "created_at": rfc3339(a.timestamp),
        "author_id": a.updater_id,
        "metadata": {"system": {}, "custom": {}},
        "events": events,
        "via": via_object(a.via),
    })
}

/// `{"status": "open", "previous_value": "new"}` → `{"field_name": "status", "value": "open", ...}`;
/// a custom field's `{"custom_ticket_fields": {"<id>": v}}` → `field_name` "<id>".
fn api_field_event(id: u64, event_type: &str, members: &Map<String, Value>) -> Value {
    let (mut field_name, mut value) = members
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "previous_value" | "added_tags" | "removed_tags"))
        .map_or((String::new(), Value::Null), |(k, v)| (k.clone(), v.clone()));
    if field_name == "custom_ticket_fields" {
        if let Some((field_id, field_value)) = value.as_object().and_then(|o| o.iter().next()).map(|(k, v)| (k.clone(), v.clone())) {
            field_name = field_id;
            value = field_value;
        }
    }
    let as_id = |v: &Value| match v {
        Value::Number(n) if field_name.ends_with("_id") => json!(n.to_string()),
        other => other.clone(),
    };
    let mut event = json!({"id": id, "type": event_type, "value": as_id(&value), "field_name": field_name});
    if let (Some(event), Some(previous)) = (event.as_object_mut(), members.get("previous_value")) {
        event.insert("previous_value".to_string(), as_id(previous));
    }
    event
}

/// The `via` string of the ticket events export.
fn via_name(via: Via) -> &'static str {
    match via {
        Via::Web => "Web form",
        Via::Api => "Web service",
    }
}

fn via_object(via: Via) -> Value {
    let channel = match via {
        Via::Web => "web",
        Via::Api => "api",
    };
    json!({"channel": channel, "source": {"from": {}, "to": {}, "rel": null}})
}

fn render_child(child: &Child, via: Via, with_comments: bool) -> Value {
    let mut event = Map::new();
    event.insert("id".to_string(), json!(child.id));
    event.insert("via".to_string(), json!(via_name(via)));
    event.insert("via_reference_id".to_string(), Value::Null);
    let event_type = match &child.kind {
        ChildKind::Comment(c) if with_comments => {
            if let Value::Object(comment) = render_comment(c) {
                event.extend(comment.into_iter().filter(|(k, _)| k != "id" && k != "via" && k != "metadata"));
            }
            "Comment"
        }
        ChildKind::Comment(c) => {
            event.insert("comment_present".to_string(), json!(true));
            event.insert("comment_public".to_string(), json!(c.public));
            "Comment"
        }
        ChildKind::Create(members) => {
            event.extend(members.clone());
            "Create"
        }
        ChildKind::Change(members) => {
            event.extend(members.clone());
            "Change"
        }
    };
    event.insert("event_type".to_string(), json!(event_type));
    Value::Object(event)
}

pub(super) fn render_comment(c: &Comment) -> Value {
    json!({
        "id": c.id,
        "type": "Comment",
        "author_id": c.author_id,
        "body": c.body,
        "html_body": format!("<div class=\"zd-comment\" dir=\"auto\"><p dir=\"auto\">{}</p></div>", html_escape(&c.body)),
        "plain_body": c.body,
        "public": c.public,
        "attachments": [],
        "audit_id": c.audit_id,
        "via": via_object(c.via),
        "created_at": rfc3339(c.created_at),
        "metadata": {"system": {}, "custom": {}},
    })
}

/// Zendesk's UTC timestamp format, `2024-06-03T16:00:00Z`.
fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map_or_else(
        || "1970-01-01T00:00:00Z".to_string(),
        |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>"),
            _ => out.push(ch),
        }
    }
    out
}
