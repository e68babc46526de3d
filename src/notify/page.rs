//! What a page says, and its requests: PagerDuty's Events API v2 (`trigger` and `resolve`,
//! deduplicated by `dedup_key`) and Opsgenie's Alert API (create, and close by `alias`). The
//! alert's key is the dedup key and the alias, so a request sent twice (a crash between the
//! send and its record) opens one incident, and the resolve finds it. Pure: the requests are
//! sent by the engine through `post`.

use serde_json::{json, Value};

use super::message::{AlertKind, AlertMessage};
use crate::config::PagerSeverity;

/// Opsgenie cuts an alert's `message` at 130 characters; PagerDuty a `summary` at 1024.
const OPSGENIE_MESSAGE: usize = 130;
const PAGERDUTY_SUMMARY: usize = 1024;
/// The longest subject quoted in a page: the ticket is one click away.
const SUBJECT: usize = 120;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The instant that matters, in the schedule's zone: `breached Mon 30 Nov 10:00 PST`, or for a
/// warning `due Mon 30 Nov 10:00 PST`.
fn instant(message: &AlertMessage) -> Option<String> {
    let at = message.deadline_local.as_ref()?;
    Some(match message.kind {
        AlertKind::Warning => format!("due {at}"),
        AlertKind::Breach | AlertKind::Reminder => format!("breached {at}"),
    })
}

fn customer(message: &AlertMessage) -> String {
    if message.customer.is_empty() {
        "no organization".to_string()
    } else {
        message.customer.clone()
    }
}

/// One line an on-call engineer reads on a lock screen: `SLA breached: first_response on #123
/// · Acme · sev1 · breached Mon 30 Nov 10:00 PST · Connector crashes`.
pub fn summary(message: &AlertMessage) -> String {
    let mut parts = vec![message.title(), customer(message), message.severity.clone()];
    parts.extend(instant(message));
    parts.push(cut(&message.subject, SUBJECT));
    parts.join(" · ")
}

/// The facts, as both services show them beside the page.
fn details(message: &AlertMessage) -> Value {
    json!({
        "ticket": format!("#{}", message.ticket_id),
        "ticket_url": message.ticket_url,
        "subject": message.subject,
        "customer": customer(message),
        "tier": message.tier,
        "severity": message.severity,
        "metric": message.metric,
        "target": message.target,
        "crossed": message.point,
        "when": instant(message).unwrap_or_default(),
        "assignee": message.assignee.clone().unwrap_or_else(|| "unassigned".to_string()),
        "alert": message.key,
    })
}

/// PagerDuty `trigger`: the alert's key as `dedup_key`, the ticket as a link.
pub fn pagerduty_trigger(routing_key: &str, message: &AlertMessage, severity: PagerSeverity) -> Value {
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": message.key,
        "payload": {
            "summary": cut(&summary(message), PAGERDUTY_SUMMARY),
            "source": "slawatch",
            "severity": severity.key(),
            "timestamp": crate::sla::time::format_rfc3339(message.crossed_at),
            "component": customer(message),
            "group": message.tier,
            "class": message.metric,
            "custom_details": details(message),
        },
        "links": [{"href": message.ticket_url, "text": format!("Zendesk ticket #{}", message.ticket_id)}],
        "client": "slawatch",
        "client_url": message.ticket_url,
    })
}

/// PagerDuty `resolve` of the incident the alert's key opened.
pub fn pagerduty_resolve(routing_key: &str, alert_key: &str) -> Value {
    json!({"routing_key": routing_key, "event_action": "resolve", "dedup_key": alert_key})
}

/// Opsgenie's create-alert body: the alert's key as `alias`, the ticket's link first in the
/// description and in the details.
pub fn opsgenie_create(message: &AlertMessage, severity: PagerSeverity) -> Value {
    let details: serde_json::Map<String, Value> = details(message)
        .as_object()
        .into_iter()
        .flatten()
        // Opsgenie's details are a map of strings.
        .map(|(k, v)| (k.clone(), Value::String(v.as_str().map_or_else(|| v.to_string(), str::to_string))))
        .collect();
    json!({
        "message": cut(&message.title(), OPSGENIE_MESSAGE),
        "alias": message.key,
        "description": format!("{}\n\nTicket: {}\n\n{}", summary(message), message.ticket_url, message.note_text()),
        "source": "slawatch",
        "entity": format!("Zendesk ticket #{}", message.ticket_id),
        "priority": severity.opsgenie_priority(),
        "tags": ["slawatch", message.metric, message.severity],
        "details": details,
    })
}

/// A PagerDuty test event (`slawatch test-alert`): severity `info`, about no ticket.
pub fn pagerduty_test(routing_key: &str, key: &str, text: &str) -> Value {
    json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": key,
        "payload": {"summary": cut(text, PAGERDUTY_SUMMARY), "source": "slawatch", "severity": "info"},
        "client": "slawatch",
    })
}

/// An Opsgenie test alert (`slawatch test-alert`): the lowest priority, about no ticket.
pub fn opsgenie_test(key: &str, text: &str) -> Value {
    json!({
        "message": cut("slawatch test page: no ticket is affected", OPSGENIE_MESSAGE),
        "alias": key,
        "description": text,
        "source": "slawatch",
        "priority": "P5",
        "tags": ["slawatch", "test"],
    })
}

/// Opsgenie's close-alert body (the alias is in the path).
pub fn opsgenie_close(reason: &str) -> Value {
    json!({"source": "slawatch", "note": format!("Closed by slawatch: {reason}.")})
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> AlertMessage {
        AlertMessage {
            key: "00000000000000000007/first_response/contract@86400/breach".into(),
            ticket_id: 7,
            ticket_url: "https://acme.zendesk.com/agent/tickets/7".into(),
            subject: "Connector crashes".into(),
            customer: "Acme".into(),
            tier: "self-hosted".into(),
            contract: None,
            severity: "sev1".into(),
            classified: true,
            metric: "first_response".into(),
            goal: None,
            kind: AlertKind::Breach,
            point: "the 24h first-response target used up".into(),
            target: "24h".into(),
            schedule: "business hours".into(),
            clock: crate::notify::message::ClockKind::Business,
            state: "breached".into(),
            deadline: Some(0),
            deadline_local: Some("Tue 1 Dec 09:00 PST".into()),
            time_left_seconds: -60,
            time_text: "breached just now".into(),
            crossed_at: 1_764_608_400,
            delayed: None,
            assignee: Some("Avery Agent".into()),
            mention: None,
            group_id: None,
            acknowledged: false,
        }
    }

    #[test]
    fn a_trigger_carries_the_key_the_ticket_link_and_the_breach_instant() {
        let body = pagerduty_trigger("R0UTING", &message(), PagerSeverity::Critical);
        assert_eq!(body["dedup_key"], "00000000000000000007/first_response/contract@86400/breach");
        assert_eq!(body["payload"]["severity"], "critical");
        assert_eq!(body["payload"]["source"], "slawatch");
        assert_eq!(
            body["payload"]["summary"],
            "SLA breached: first_response on #7 · Acme · sev1 · breached Tue 1 Dec 09:00 PST · Connector crashes"
        );
        assert_eq!(body["links"][0]["href"], "https://acme.zendesk.com/agent/tickets/7");
        assert_eq!(body["payload"]["timestamp"], "2025-12-01T17:00:00Z");
    }

    #[test]
    fn opsgenie_maps_the_severity_to_a_priority_and_keeps_details_strings() {
        let body = opsgenie_create(&message(), PagerSeverity::Warning);
        assert_eq!(body["priority"], "P3");
        assert_eq!(body["alias"], message().key);
        assert!(body["details"].as_object().unwrap().values().all(Value::is_string));
        assert!(body["description"]
            .as_str()
            .unwrap()
            .contains("Ticket: https://acme.zendesk.com/agent/tickets/7"));
        assert!(body["message"].as_str().unwrap().chars().count() <= OPSGENIE_MESSAGE);
    }
}
