//! The simulated account's webhook: once [`super::SimZendesk::set_webhook`] names a URL and a
//! signing secret, every change to a ticket (its creation, each changed field or comment of an
//! update) is posted there as Zendesk posts it, signed as Zendesk signs it
//! (`X-Zendesk-Webhook-Signature`, `X-Zendesk-Webhook-Signature-Timestamp`, in world time).
//! Event-subscribed webhooks get Zendesk's ticket event (`type` `zen:event-type:ticket.*`,
//! `subject` `zen:ticket:N`, `detail.id`); trigger webhooks the body `webhook-setup`'s trigger
//! writes (`{"ticket_id": "N"}`). Posts go out in order from one task, each once (no retry), and
//! each is logged with the status it got ([`super::SimZendesk::webhook_log`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::{lock, State};

/// How the webhook is connected, which decides its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookShape {
    /// Subscribed to `zen:event-type:ticket.*` events.
    Events,
    /// Connected to a trigger, with slawatch's body.
    Trigger,
}

#[derive(Clone)]
pub(super) struct Target {
    pub url: String,
    pub secret: String,
    pub shape: WebhookShape,
}

/// One post of the webhook.
#[derive(Debug, Clone)]
pub struct Sent {
    pub ticket_id: u64,
    /// `zen:event-type:ticket.status_changed`...
    pub event_type: String,
    /// The status the endpoint answered; None when it did not answer.
    pub status: Option<u16>,
    /// Real time the post was sent, for latency measurements.
    pub sent_at: Instant,
    /// World time of the post (its signature's timestamp), Unix seconds.
    pub at: i64,
}

/// The body of one change, as the webhook's shape has it.
fn body(target: &Target, ticket_id: u64, event_type: &str, time: &str, sequence: u64) -> Vec<u8> {
    let value = match target.shape {
        WebhookShape::Events => json!({
            "account_id": 1,
            "detail": {"id": ticket_id.to_string()},
            "event": {},
            "id": format!("sim-{sequence:012}"),
            "subject": format!("zen:ticket:{ticket_id}"),
            "time": time,
            "type": event_type,
            "zendesk_event_version": "2022-11-06",
        }),
        WebhookShape::Trigger => json!({"ticket_id": ticket_id.to_string()}),
    };
    serde_json::to_vec(&value).unwrap_or_default()
}

/// Posts the world's changes as they come, until the simulator stops.
pub(super) async fn sender(state: Arc<State>, stop: tokio_util::sync::CancellationToken) {
    let http = reqwest::Client::new();
    let mut sequence = 0u64;
    loop {
        let changes = state.world().take_changed();
        for (ticket_id, event_type) in changes {
            let Some(target) = lock(&state.webhook).clone() else {
                continue;
            };
            sequence += 1;
            let at = state.now();
            let time = crate::sla::time::format_rfc3339(at);
            let payload = body(&target, ticket_id, event_type, &time, sequence);
            let signature = crate::zendesk::webhook::sign(&target.secret, &time, &payload);
            let sent_at = Instant::now();
            let answer = http
                .post(&target.url)
                .timeout(Duration::from_secs(5))
                .header("content-type", "application/json")
                .header(crate::zendesk::webhook::SIGNATURE_HEADER, signature)
                .header(crate::zendesk::webhook::TIMESTAMP_HEADER, time)
                .body(payload)
                .send()
                .await;
            let count = {
                let mut log = lock(&state.webhook_log);
                log.push(Sent {
                    ticket_id,
                    event_type: event_type.to_string(),
                    status: answer.ok().map(|r| r.status().as_u16()),
                    sent_at,
                    at,
                });
                log.len()
            };
            state.posted.send_replace(count);
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = state.changed.notified() => {}
        }
    }
}

/// Webhooks and triggers created through the API (`slawatch webhook-setup --apply`).
#[derive(Default)]
pub(super) struct Registry {
    webhooks: Vec<Registered>,
    triggers: Vec<serde_json::Value>,
}

struct Registered {
    id: String,
    name: String,
    endpoint: String,
    secret: String,
    subscriptions: Vec<String>,
}

impl Registered {
    fn json(&self) -> serde_json::Value {
        json!({
            "id": self.id, "name": self.name, "endpoint": self.endpoint, "status": "active",
            "http_method": "POST", "request_format": "json", "subscriptions": self.subscriptions,
        })
    }
}

/// Why the API refused: (status, Zendesk's error body).
pub(super) type Refusal = (u16, serde_json::Value);

fn invalid(description: &str) -> Refusal {
    (
        400,
        json!({"errors": [{"code": "InvalidInput", "title": "Invalid input", "detail": description}]}),
    )
}

impl State {
    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        lock(&self.registry)
    }

    /// Points the webhook's posts at `target` from now on.
    pub(super) fn listen(&self, target: Target) {
        *lock(&self.webhook) = Some(target);
        self.world().keep_changes(true);
    }

    /// `POST /api/v2/webhooks`: an event-subscribed webhook posts ticket events from now on; a
    /// trigger webhook waits for its trigger.
    pub(super) fn create_webhook(&self, body: &serde_json::Value) -> Result<serde_json::Value, Refusal> {
        let webhook = body
            .get("webhook")
            .ok_or_else(|| invalid("The body must be {\"webhook\": {...}}"))?;
        let text = |key: &str| webhook.get(key).and_then(serde_json::Value::as_str).map(str::to_string);
        let (Some(name), Some(endpoint)) = (text("name"), text("endpoint")) else {
            return Err(invalid("name and endpoint are required"));
        };
        if text("http_method").as_deref() != Some("POST") || text("request_format").as_deref() != Some("json") {
            return Err(invalid("http_method must be POST and request_format json"));
        }
        let subscriptions: Vec<String> = webhook
            .get("subscriptions")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect();
        let known = |s: &String| s == "conditional_ticket_events" || s.starts_with("zen:event-type:ticket.");
        if subscriptions.is_empty() || !subscriptions.iter().all(known) {
            return Err(invalid("subscriptions must be conditional_ticket_events or ticket event types"));
        }
        let mut registry = self.registry();
        let id = format!("01SIMWEBHOOK{:014}", registry.webhooks.len() + 1);
        let registered = Registered {
            secret: format!("sim-signing-secret-{id}"),
            id,
            name,
            endpoint,
            subscriptions,
        };
        let answer = json!({"webhook": registered.json()});
        if registered.subscriptions.iter().any(|s| s.starts_with("zen:event-type:")) {
            self.listen(Target {
                url: registered.endpoint.clone(),
                secret: registered.secret.clone(),
                shape: WebhookShape::Events,
            });
        }
        registry.webhooks.push(registered);
        Ok(answer)
    }

    /// `GET /api/v2/webhooks` (`filter[name_contains]`): one page holds them all.
    pub(super) fn list_webhooks(&self, name_contains: Option<&str>) -> serde_json::Value {
        let registry = self.registry();
        let webhooks: Vec<serde_json::Value> = registry
            .webhooks
            .iter()
            .filter(|w| name_contains.is_none_or(|n| w.name.to_lowercase().contains(&n.to_lowercase())))
            .map(Registered::json)
            .collect();
        json!({"webhooks": webhooks, "meta": {"has_more": false}, "links": {"next": null, "prev": null}})
    }

    /// `GET /api/v2/webhooks/{id}/signing_secret`.
    pub(super) fn signing_secret(&self, id: &str) -> Option<serde_json::Value> {
        let registry = self.registry();
        let webhook = registry.webhooks.iter().find(|w| w.id == id)?;
        Some(json!({"signing_secret": {"algorithm": "SHA256", "secret": webhook.secret}}))
    }

    /// `POST /api/v2/triggers.json`: a trigger whose action is a trigger webhook starts its posts.
    pub(super) fn create_trigger(&self, body: &serde_json::Value) -> Result<serde_json::Value, Refusal> {
        let trigger = body
            .get("trigger")
            .ok_or_else(|| invalid("The body must be {\"trigger\": {...}}"))?;
        let webhook_id = trigger
            .get("actions")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| a.get("field").and_then(serde_json::Value::as_str) == Some("notification_webhook"))
            .find_map(|a| a.pointer("/value/0").and_then(serde_json::Value::as_str).map(str::to_string))
            .ok_or_else(|| invalid("a notification_webhook action is required"))?;
        let mut registry = self.registry();
        let Some(webhook) = registry.webhooks.iter().find(|w| w.id == webhook_id) else {
            return Err((422, json!({"error": "RecordInvalid", "description": "the webhook does not exist"})));
        };
        let target = Target {
            url: webhook.endpoint.clone(),
            secret: webhook.secret.clone(),
            shape: WebhookShape::Trigger,
        };
        let mut stored = trigger.clone();
        stored["id"] = json!(registry.triggers.len() + 1);
        registry.triggers.push(stored.clone());
        drop(registry);
        self.listen(target);
        Ok(json!({"trigger": stored}))
    }

    pub(super) fn list_triggers(&self) -> serde_json::Value {
        json!({"triggers": self.registry().triggers, "meta": {"has_more": false}, "links": {"next": null, "prev": null}})
    }
}
