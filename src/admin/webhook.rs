//! `POST` to `[zendesk.webhook] path`: Zendesk's webhooks. Not behind the admin token: Zendesk's
//! signature is the proof, checked before anything else; an unverified request gets 401 and
//! changes nothing. A verified one queues a read of the ticket it names (200); a full queue
//! answers 429, and Zendesk retries.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::engine::push::Offer;
use crate::engine::Engine;
use crate::zendesk::webhook::{ticket_of, verify, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// When an unverified request was last logged (ms): a stranger's flood must not flood the log.
static LAST_WARNED_MS: AtomicI64 = AtomicI64::new(i64::MIN);

pub async fn receive(State(engine): State<Arc<Engine>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(push) = &engine.push else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Err(why) = verify(
        &push.secret,
        header(SIGNATURE_HEADER),
        header(TIMESTAMP_HEADER),
        &body,
        engine.clock.now(),
    ) {
        engine.metrics.webhook_event("unverified");
        let now_ms = engine.clock.now_ms();
        if now_ms.saturating_sub(LAST_WARNED_MS.load(Ordering::Relaxed)) >= 60_000 {
            LAST_WARNED_MS.store(now_ms, Ordering::Relaxed);
            tracing::warn!(%why, "a webhook request was refused (401); is zendesk.webhook.secret_env the webhook's signing secret?");
        }
        return (StatusCode::UNAUTHORIZED, format!("{why}\n")).into_response();
    }
    let Some(ticket) = ticket_of(&body) else {
        engine.metrics.webhook_event("ignored");
        return (StatusCode::OK, "verified; it names no ticket\n").into_response();
    };
    match push.queue.offer(ticket) {
        Offer::Queued => {
            engine.metrics.webhook_event("queued");
            tracing::debug!(ticket, "pushed change queued");
            (StatusCode::OK, "queued\n").into_response()
        }
        Offer::Coalesced => {
            engine.metrics.webhook_event("coalesced");
            (StatusCode::OK, "queued already\n").into_response()
        }
        Offer::Full => {
            engine.metrics.webhook_event("full");
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "30")],
                "too many tickets wait for a read; retry later\n",
            )
                .into_response()
        }
    }
}
