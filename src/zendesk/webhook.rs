//! Zendesk's webhooks, as Zendesk signs and shapes them: the signature is
//! `base64(HMAC-SHA256(secret, X-Zendesk-Webhook-Signature-Timestamp + raw body))`, and a
//! request is believed only when that matches (compared in constant time) and its timestamp
//! is within five minutes of now, so a captured request cannot be replayed later.
//! The body names the ticket: `detail.id` / `subject` `zen:ticket:N` of an event-subscribed
//! webhook (`zen:event-type:ticket.*`), or `ticket_id` of the trigger's body `webhook-setup`
//! writes.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::sla::time::{parse_rfc3339, Timestamp};

pub const SIGNATURE_HEADER: &str = "x-zendesk-webhook-signature";
pub const TIMESTAMP_HEADER: &str = "x-zendesk-webhook-signature-timestamp";

/// How far a request's timestamp may be from now, either way.
pub const REPLAY_WINDOW: Timestamp = 300;

/// Why a request was not believed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    #[error("no {SIGNATURE_HEADER} or {TIMESTAMP_HEADER} header")]
    Unsigned,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("the signature's timestamp {0:?} is not a time")]
    BadTimestamp(String),
    #[error("the signature's timestamp is {0}s from now (more than {REPLAY_WINDOW}s: a replay?)")]
    Stale(Timestamp),
}

/// The signature Zendesk sends for `body` at `timestamp` (as its header carries it).
pub fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(secret, timestamp, body).finalize().into_bytes())
}

fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.as_bytes());
    mac.update(body);
    mac
}

/// Whether a request with these headers and `body` came from Zendesk, at `now`.
pub fn verify(secret: &str, signature: Option<&str>, timestamp: Option<&str>, body: &[u8], now: Timestamp) -> Result<(), Unverified> {
    let (Some(signature), Some(timestamp)) = (signature, timestamp) else {
        return Err(Unverified::Unsigned);
    };
    let given = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .map_err(|_| Unverified::Mismatch)?;
    // `verify_slice` compares in constant time.
    mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| Unverified::Mismatch)?;
    // Checked after the signature, so an unsigned guess learns nothing about the window.
    let at = parse_rfc3339(timestamp.trim()).map_err(|_| Unverified::BadTimestamp(timestamp.to_string()))?;
    let off = at - now;
    if off.abs() > REPLAY_WINDOW {
        return Err(Unverified::Stale(off));
    }
    Ok(())
}

/// The ticket a webhook's body is about, in either shape; None when it names none (a test
/// request, an event about something else).
pub fn ticket_of(body: &[u8]) -> Option<u64> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let id = |v: &Value| match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    let subject = value
        .get("subject")
        .and_then(Value::as_str)
        .and_then(|s| s.strip_prefix("zen:ticket:"))
        .and_then(|s| s.parse().ok());
    let is_ticket_event = value
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| t.starts_with("zen:event-type:ticket."));
    subject
        .or_else(|| is_ticket_event.then(|| value.pointer("/detail/id").and_then(id)).flatten())
        .or_else(|| value.get("ticket_id").and_then(id))
        .or_else(|| value.pointer("/ticket/id").and_then(id))
        .filter(|&ticket| ticket > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "dGhpcyBpcyBhIHNpZ25pbmcgc2VjcmV0";
    const AT: &str = "2026-12-04T12:00:00Z";

    fn now() -> Timestamp {
        parse_rfc3339(AT).unwrap()
    }

    #[test]
    fn a_signed_body_verifies_and_any_change_does_not() {
        let body = br#"{"ticket_id":"42"}"#;
        let signature = sign(SECRET, AT, body);
        assert_eq!(verify(SECRET, Some(&signature), Some(AT), body, now()), Ok(()));
        assert_eq!(
            verify(SECRET, Some(&signature), Some(AT), br#"{"ticket_id":"43"}"#, now()),
            Err(Unverified::Mismatch)
        );
        assert_eq!(
            verify("another secret", Some(&signature), Some(AT), body, now()),
            Err(Unverified::Mismatch)
        );
        // The timestamp is signed too: moving it breaks the signature.
        assert_eq!(
            verify(SECRET, Some(&signature), Some("2026-12-04T12:00:01Z"), body, now()),
            Err(Unverified::Mismatch)
        );
        assert_eq!(
            verify(SECRET, Some("not base64!"), Some(AT), body, now()),
            Err(Unverified::Mismatch)
        );
        assert_eq!(verify(SECRET, None, Some(AT), body, now()), Err(Unverified::Unsigned));
    }

    #[test]
    fn the_signature_is_base64_of_hmac_sha256_over_timestamp_and_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?", split between
        // the timestamp and the body as Zendesk concatenates them.
        let signature = sign("Jefe", "what do ya want ", b"for nothing?");
        let expected =
            base64::engine::general_purpose::STANDARD.encode(hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
        assert_eq!(signature, expected);
    }

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn a_timestamp_more_than_five_minutes_away_is_a_replay() {
        let body = b"{}";
        let signature = sign(SECRET, AT, body);
        assert_eq!(verify(SECRET, Some(&signature), Some(AT), body, now() + 300), Ok(()));
        assert_eq!(verify(SECRET, Some(&signature), Some(AT), body, now() - 300), Ok(()));
        assert_eq!(
            verify(SECRET, Some(&signature), Some(AT), body, now() + 301),
            Err(Unverified::Stale(-301))
        );
        assert_eq!(
            verify(SECRET, Some(&signature), Some(AT), body, now() - 301),
            Err(Unverified::Stale(301))
        );
        let garbled = "yesterday";
        let signature = sign(SECRET, garbled, body);
        assert_eq!(
            verify(SECRET, Some(&signature), Some(garbled), body, now()),
            Err(Unverified::BadTimestamp(garbled.to_string()))
        );
    }

    #[test]
    fn the_ticket_is_read_from_either_shape() {
        let event = br#"{"type":"zen:event-type:ticket.comment_added","subject":"zen:ticket:5158","detail":{"id":"5158"}}"#;
        assert_eq!(ticket_of(event), Some(5158));
        let detail_only = br#"{"type":"zen:event-type:ticket.status_changed","detail":{"id":"77"}}"#;
        assert_eq!(ticket_of(detail_only), Some(77));
        assert_eq!(ticket_of(br#"{"ticket_id":"12"}"#), Some(12));
        assert_eq!(ticket_of(br#"{"ticket_id":12}"#), Some(12));
        // A user event's detail.id is a user, not a ticket.
        assert_eq!(ticket_of(br#"{"type":"zen:event-type:user.created","detail":{"id":"9"}}"#), None);
        assert_eq!(ticket_of(br#"{"ticket_id":"{{ticket.id}}"}"#), None);
        assert_eq!(ticket_of(b"not json"), None);
        assert_eq!(ticket_of(br#"{"ticket_id":"0"}"#), None);
    }
}
