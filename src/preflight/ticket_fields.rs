//! The ticket fields the config names: the severity dropdown and its option tags, the
//! report's type and product-area fields, escalation's fields and the request types its rules
//! match.

use super::suggest::{list, nearest};
use super::{Findings, Step};
use crate::zendesk::account::TicketField;

/// Zendesk's own fields (subject, status...): never what a config means by a field id.
fn is_system(field: &TicketField) -> bool {
    matches!(
        field.field_type.as_str(),
        "subject" | "description" | "status" | "custom_status" | "tickettype" | "priority" | "group" | "assignee" | "brand"
    )
}

/// Dropdowns: their values are option tags.
fn is_dropdown(field: &TicketField) -> bool {
    matches!(field.field_type.as_str(), "tagger" | "multiselect")
}

fn describe(field: &TicketField) -> String {
    format!("{} {:?}", field.id, field.title)
}

fn options(field: &TicketField) -> String {
    list(field.options.iter().map(|o| format!("{} ({:?})", o.value, o.name)), 12)
}

pub(super) fn check(out: &mut Findings) {
    let config = out.config;
    let severity = &config.severity;
    if let Some(id) = severity.field_id {
        let path = [Step::Key("severity"), Step::Key("field_id")];
        let tags: Vec<&str> = severity.field_values.keys().map(String::as_str).collect();
        if let Some(field) = field(out, &path, id, &["severity", "priority", "urgency", "impact"], &tags) {
            severity_values(out, field);
        }
    }
    let report = &config.report;
    for (key, id, words) in [
        ("type_field", report.type_field, &["type", "kind", "category"][..]),
        (
            "product_area_field",
            report.product_area_field,
            &["product", "area", "component"][..],
        ),
    ] {
        if let Some(id) = id {
            field(out, &[Step::Key("report"), Step::Key(key)], id, words, &[]);
        }
    }
    let Some(escalation) = &config.escalation else { return };
    for (key, id, words) in [
        ("team_field", escalation.team_field, &["team", "squad", "owner"][..]),
        ("version_field", escalation.version_field, &["version", "release"][..]),
        ("link_field", escalation.link_field, &["issue", "github", "link", "url"][..]),
    ] {
        if let Some(id) = id {
            field(out, &[Step::Key("escalation"), Step::Key(key)], id, words, &[]);
        }
    }
    if let Some(id) = escalation.request_type_field {
        let path = [Step::Key("escalation"), Step::Key("request_type_field")];
        let types: Vec<&str> = escalation.rules.iter().filter_map(|r| r.request_type.as_deref()).collect();
        if let Some(field) = field(out, &path, id, &["request", "type"], &types) {
            request_types(out, field);
        }
    }
}

/// The field `id` when the account has it active; else a mismatch naming the likeliest one
/// meant: a field whose options include `tags`, one whose id is a digit or two away, or one
/// whose title has one of `words`.
fn field<'a>(out: &mut Findings<'a>, path: &[Step], id: u64, words: &[&str], tags: &[&str]) -> Option<&'a TicketField> {
    let account = out.account;
    let fields = &account.ticket_fields;
    match fields.iter().find(|f| f.id == id) {
        Some(field) if field.active => return Some(field),
        Some(field) => {
            out.mismatch(
                path,
                format!(
                    "ticket field {} is inactive in {}: Zendesk no longer sets it on tickets",
                    describe(field),
                    account.url
                ),
            );
            return None;
        }
        None => {}
    }
    let active = || fields.iter().filter(|f| f.active && f.id != id && !is_system(f));
    let by_options = (!tags.is_empty())
        .then(|| active().find(|f| tags.iter().any(|t| f.options.iter().any(|o| o.value == *t))))
        .flatten();
    let text = id.to_string();
    let ids: Vec<(String, &TicketField)> = active().map(|f| (f.id.to_string(), f)).collect();
    let by_id = nearest(&text, ids.iter().map(|(i, f)| (i.as_str(), *f)));
    let by_title = || {
        active().find(|f| {
            let title = f.title.to_lowercase();
            words.iter().any(|w| title.contains(w))
        })
    };
    let hint = match by_options.or(by_id).or_else(by_title) {
        Some(f) if is_dropdown(f) => format!("; did you mean {} (options: {})?", describe(f), options(f)),
        Some(f) => format!("; did you mean {}?", describe(f)),
        None => format!("; its custom fields: {}", list(active().map(describe), 8)),
    };
    out.mismatch(path, format!("{id} is not a ticket field in {}{hint}", account.url));
    None
}

/// Each mapped option tag exists; each option the field has is mapped (a new one is a warning).
fn severity_values(out: &mut Findings, field: &TicketField) {
    let mapping = &out.config.severity;
    if !is_dropdown(field) {
        out.warning(
            &[Step::Key("severity"), Step::Key("field_id")],
            format!(
                "ticket field {} is a {} field, not a dropdown: severity.field_values keys are compared with its text as typed",
                describe(field),
                field.field_type
            ),
        );
        return;
    }
    for tag in mapping.field_values.keys() {
        if field.options.iter().any(|o| &o.value == tag) {
            continue;
        }
        let near = nearest(tag, field.options.iter().map(|o| (o.value.as_str(), o.value.as_str())))
            .map(|v| format!("did you mean {v:?}? "))
            .unwrap_or_default();
        out.mismatch(
            &[Step::Key("severity"), Step::Key("field_values"), Step::Key(tag)],
            format!(
                "{tag:?} is not an option tag of ticket field {}: {near}its options are {}",
                describe(field),
                options(field)
            ),
        );
    }
    let default = &out.config.policy.default_severity;
    if !field.options.iter().any(|o| mapping.field_values.contains_key(&o.value)) {
        out.mismatch(
            &[Step::Key("severity"), Step::Key("field_values")],
            format!(
                "none of ticket field {}'s options is mapped: every ticket would get the default severity, {default}; its options are {}",
                describe(field),
                options(field)
            ),
        );
        return;
    }
    for option in &field.options {
        if !mapping.field_values.contains_key(&option.value) {
            out.warning(
                &[Step::Key("severity"), Step::Key("field_values")],
                format!(
                    "ticket field {} has option {} ({:?}), which is not mapped: its tickets get the default severity, {default}",
                    describe(field),
                    option.value,
                    option.name
                ),
            );
        }
    }
}

/// Each rule's `request_type` is one of the request-type dropdown's option tags.
fn request_types(out: &mut Findings, field: &TicketField) {
    let Some(escalation) = &out.config.escalation else { return };
    if !is_dropdown(field) {
        return;
    }
    for (i, rule) in escalation.rules.iter().enumerate() {
        let Some(wanted) = rule.request_type.as_deref() else { continue };
        if field.options.iter().any(|o| o.value == wanted) {
            continue;
        }
        let near = nearest(wanted, field.options.iter().map(|o| (o.value.as_str(), o.value.as_str())))
            .map(|v| format!("did you mean {v:?}? "))
            .unwrap_or_default();
        out.mismatch(
            &[
                Step::Key("escalation"),
                Step::Key("rules"),
                Step::Index(i),
                Step::Key("request_type"),
            ],
            format!(
                "{wanted:?} is not an option tag of ticket field {}: rule {:?} would never file; {near}its options are {}",
                describe(field),
                rule.name,
                options(field)
            ),
        );
    }
}
