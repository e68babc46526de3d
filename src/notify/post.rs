//! Posting a message to a channel's webhook (Slack incoming webhook or generic JSON webhook), or
//! an event to a pager (PagerDuty, Opsgenie): the one way alerts, pages, digests and `slawatch
//! test-alert` reach a channel, and the one place the channel's answer is classified: accepted
//! (2xx; a pager's 202), refused for good (a 4xx other than 408 and 429: a removed webhook, a
//! revoked token, an archived channel, a pager's invalid event or key (400, 401, 403, 422) will
//! not change by waiting), or transient (5xx, 408, 429, timeouts, no connection: try again
//! later, after `Retry-After`).
//! The URL is a secret: it never appears in what this returns.

use std::time::Duration;

use serde_json::Value;

use crate::sla::time::Timestamp;

/// The most of an answer's body kept: enough for Slack's codes and a webhook's error text.
const MAX_ANSWER: usize = 4096;

/// What a channel answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// The body as text (Slack answers `ok`, `no_service`, `invalid_payload`...), cut at 4 KiB.
    pub body: String,
}

/// Why a post failed, and whether (and when) to try again.
#[derive(Debug, Clone)]
pub struct PostError {
    /// `{channel}: HTTP 503 Service Unavailable`, or `{channel}: <why it was not reached>`.
    pub message: String,
    /// The wait the channel asked for (`Retry-After`), if it did.
    pub retry_after: Option<Duration>,
    /// Refused for good: trying again will not help.
    pub permanent: bool,
    /// The channel's answer, when it answered.
    pub answer: Option<Answer>,
    /// Why the channel was not reached, when it was not (`timed out after 5s`, `connection
    /// refused (os error 111)`), for a person to read.
    pub unreachable: Option<String>,
}

/// Whether a refusal with `status` is for good: a 4xx other than a timeout or a rate limit.
pub fn refused_for_good(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 408 | 429)
}

/// Posts `body` as JSON to `url` (channel `channel`), waiting at most `timeout`; `now` reads
/// an HTTP-date `Retry-After`.
pub async fn post(
    http: &reqwest::Client,
    channel: &str,
    url: &str,
    body: &Value,
    timeout: Duration,
    now: Timestamp,
) -> Result<Answer, PostError> {
    post_with(http, channel, url, None, body, timeout, now).await
}

/// As [`post`], with an `Authorization` header (a pager's key: a secret, never in what this
/// returns).
pub async fn post_with(
    http: &reqwest::Client,
    channel: &str,
    url: &str,
    authorization: Option<&str>,
    body: &Value,
    timeout: Duration,
    now: Timestamp,
) -> Result<Answer, PostError> {
    let unreachable = |error: reqwest::Error| {
        let error = error.without_url();
        PostError {
            message: format!("{channel}: {error}"),
            retry_after: None,
            permanent: false,
            answer: None,
            unreachable: Some(why_unreachable(&error, timeout)),
        }
    };
    let mut request = http.post(url).timeout(timeout).json(body);
    if let Some(authorization) = authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let mut response = request.send().await.map_err(unreachable)?;
    let status = response.status();
    let retry_after = crate::retry::retry_after(response.headers(), now);
    let mut bytes = Vec::new();
    // The body matters for what a person reads (and Slack's codes live there); a channel that
    // stops answering halfway has still answered with its status.
    while bytes.len() < MAX_ANSWER {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(MAX_ANSWER);
    let answer = Answer {
        status: status.as_u16(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    if status.is_success() {
        return Ok(answer);
    }
    Err(PostError {
        message: format!("{channel}: HTTP {status}"),
        retry_after,
        permanent: refused_for_good(status.as_u16()),
        answer: Some(answer),
        unreachable: None,
    })
}

/// A transport error in words: what timed out or refused, from its innermost cause.
fn why_unreachable(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {}s", timeout.as_secs_f64());
    }
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let cause = innermost.to_string();
    if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        format!("the request failed: {cause}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_lasting_client_error_is_refused_for_good() {
        for status in [400, 403, 404, 410, 422] {
            assert!(refused_for_good(status), "{status}");
        }
        for status in [200, 408, 429, 500, 502, 503, 504] {
            assert!(!refused_for_good(status), "{status}");
        }
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_transient_and_names_no_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/services/T000/B000/secret-path");
        let error = post(
            &reqwest::Client::new(),
            "oncall",
            &url,
            &serde_json::json!({"text": "x"}),
            Duration::from_secs(2),
            0,
        )
        .await
        .unwrap_err();
        assert!(!error.permanent && error.answer.is_none());
        let why = error.unreachable.unwrap();
        assert!(why.starts_with("could not connect"), "{why}");
        assert!(
            !why.contains("secret-path") && !error.message.contains("secret-path"),
            "{why} / {}",
            error.message
        );
    }
}
