//! Bringing a store of an older schema forward, in place.
//!
//! Version 1 kept comment bodies and each alert's message text; version 2 keeps a comment's
//! facts (length, acknowledgement) instead, renders messages at delivery, indexes tickets by
//! organization and by the events they wait for, and keeps one outbox entry per channel.

use serde_json::Value;

use super::{AlertRecord, ReadComment, Store, StoreError, TicketRecord};

pub(super) fn from_v1(store: &Store, read_comment: ReadComment) -> Result<(), StoreError> {
    tracing::info!(path = %store.path.display(), "migrating the store to schema 2: comment bodies become facts and are dropped");
    store.due.clear()?;
    let mut batch: Vec<TicketRecord> = Vec::new();
    for entry in store.tickets.iter() {
        let (key, bytes) = entry?;
        let id = key.as_ref().try_into().map(u64::from_be_bytes).unwrap_or(0);
        let ticket = serde_json::from_slice::<Value>(&bytes)
            .map(|mut value| {
                drop_bodies(&mut value, read_comment);
                value
            })
            .and_then(serde_json::from_value::<TicketRecord>);
        match ticket {
            Ok(ticket) => batch.push(ticket),
            Err(e) => store.skip_unreadable(&StoreError::Corrupt {
                key: format!("ticket {id}"),
                message: e.to_string(),
            }),
        }
        if batch.len() >= 1000 {
            store.save_tickets(&std::mem::take(&mut batch))?;
        }
    }
    store.save_tickets(&batch)?;

    store.outbox.clear()?;
    for entry in store.alerts.iter() {
        let (key, bytes) = entry?;
        let key = String::from_utf8_lossy(&key).into_owned();
        let alert = serde_json::from_slice::<Value>(&bytes)
            .map(|mut value| {
                if let Some(object) = value.as_object_mut() {
                    let goal = object.get("message").and_then(|m| m.get("goal")).is_some_and(|g| !g.is_null());
                    object.insert("goal".into(), Value::Bool(goal));
                    if let Some(at) = object.get("at").cloned() {
                        object.insert("effective_at".into(), at);
                    }
                    object.remove("message");
                }
                value
            })
            .and_then(serde_json::from_value::<AlertRecord>);
        match alert {
            Ok(alert) => {
                store.record_alerts(std::slice::from_ref(&alert), &[], None)?;
            }
            Err(e) => store.skip_unreadable(&StoreError::Corrupt {
                key,
                message: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// Replaces each stored comment's body with its facts.
fn drop_bodies(ticket: &mut Value, read_comment: ReadComment) {
    let Some(events) = ticket.get_mut("events").and_then(Value::as_array_mut) else {
        return;
    };
    for stored in events {
        let Some(event) = stored.get_mut("event").and_then(Value::as_object_mut) else {
            continue;
        };
        if let Some(Value::String(body)) = event.remove("body") {
            let (length, acknowledgement) = read_comment(&body);
            event.insert("length".into(), Value::from(length));
            event.insert("acknowledgement".into(), Value::Bool(acknowledgement));
        }
    }
}
