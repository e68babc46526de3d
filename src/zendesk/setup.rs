//! What push mode needs created in the account (`slawatch webhook-setup`): a webhook pointed at
//! slawatch, subscribed to ticket events or connected to a trigger that fires on every ticket
//! change, and its signing secret. The bodies are Zendesk's Webhooks and Triggers APIs'.

use serde_json::{json, Value};

use super::client::{Pacing, ZendeskClient, ZendeskError};
use crate::config::WebhookMode;

/// The ticket events slawatch listens to: every change that can move a clock, an alert, an
/// escalation or a KPI row.
pub const TICKET_EVENTS: [&str; 12] = [
    "zen:event-type:ticket.created",
    "zen:event-type:ticket.comment_added",
    "zen:event-type:ticket.status_changed",
    "zen:event-type:ticket.custom_status_changed",
    "zen:event-type:ticket.priority_changed",
    "zen:event-type:ticket.tags_changed",
    "zen:event-type:ticket.custom_field_changed",
    "zen:event-type:ticket.agent_assignment_changed",
    "zen:event-type:ticket.group_assignment_changed",
    "zen:event-type:ticket.organization_changed",
    "zen:event-type:ticket.requester_changed",
    "zen:event-type:ticket.soft_deleted",
];

/// The name both the webhook and the trigger carry: how a second run finds them.
pub const NAME: &str = "slawatch push";

/// `POST /api/v2/webhooks`'s body.
pub fn webhook_body(endpoint: &str, mode: WebhookMode) -> Value {
    let subscriptions: Vec<&str> = match mode {
        WebhookMode::Events => TICKET_EVENTS.to_vec(),
        WebhookMode::Trigger => vec!["conditional_ticket_events"],
    };
    json!({"webhook": {
        "name": NAME,
        "description": "slawatch: each ticket change is read at once, so SLA clocks move within seconds",
        "status": "active",
        "endpoint": endpoint,
        "http_method": "POST",
        "request_format": "json",
        "subscriptions": subscriptions,
    }})
}

/// `POST /api/v2/triggers`'s body: on every ticket created or updated, the webhook `webhook_id`
/// posts the ticket's id.
pub fn trigger_body(webhook_id: &str) -> Value {
    json!({"trigger": {
        "title": NAME,
        "description": "Tells slawatch of every ticket change (slawatch webhook-setup)",
        "active": true,
        "conditions": {"all": [], "any": [
            {"field": "update_type", "operator": "is", "value": "Create"},
            {"field": "update_type", "operator": "is", "value": "Change"},
        ]},
        "actions": [{"field": "notification_webhook", "value": [webhook_id, "{\"ticket_id\": \"{{ticket.id}}\"}"]}],
    }})
}

impl ZendeskClient {
    /// The id of slawatch's webhook to `endpoint`, if the account has one.
    pub async fn find_webhook(&self, endpoint: &str) -> Result<Option<String>, ZendeskError> {
        let webhooks = self
            .list_all(
                "webhooks",
                "webhooks",
                "/api/v2/webhooks?filter%5Bname_contains%5D=slawatch&page%5Bsize%5D=100",
            )
            .await?;
        Ok(webhooks
            .iter()
            .find(|w| w.get("endpoint").and_then(Value::as_str) == Some(endpoint))
            .and_then(|w| w.get("id").and_then(Value::as_str))
            .map(str::to_string))
    }

    /// Creates a webhook; its id.
    pub async fn create_webhook(&self, body: &Value) -> Result<String, ZendeskError> {
        let created: Value = self
            .send("webhooks", reqwest::Method::POST, "/api/v2/webhooks", Some(body), 1, Pacing::Wait)
            .await?;
        created
            .pointer("/webhook/id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ZendeskError::Malformed {
                endpoint: "webhooks".into(),
                message: "the created webhook has no id".into(),
            })
    }

    /// The webhook's signing secret.
    pub async fn webhook_signing_secret(&self, id: &str) -> Result<String, ZendeskError> {
        let answer: Value = self
            .send(
                "webhook_signing_secret",
                reqwest::Method::GET,
                &format!("/api/v2/webhooks/{id}/signing_secret"),
                None,
                3,
                Pacing::Wait,
            )
            .await?;
        answer
            .pointer("/signing_secret/secret")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ZendeskError::Malformed {
                endpoint: "webhook_signing_secret".into(),
                message: "no signing_secret.secret".into(),
            })
    }

    /// Whether a trigger named as slawatch names its own exists already.
    pub async fn has_trigger(&self) -> Result<bool, ZendeskError> {
        let triggers = self
            .list_all("triggers", "triggers", "/api/v2/triggers.json?page%5Bsize%5D=100")
            .await?;
        Ok(triggers.iter().any(|t| t.get("title").and_then(Value::as_str) == Some(NAME)))
    }

    pub async fn create_trigger(&self, body: &Value) -> Result<(), ZendeskError> {
        self.send::<Value>(
            "triggers",
            reqwest::Method::POST,
            "/api/v2/triggers.json",
            Some(body),
            1,
            Pacing::Wait,
        )
        .await?;
        Ok(())
    }
}
