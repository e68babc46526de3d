//! Slack's Web API, for what an incoming webhook cannot do: finding a workspace member by the
//! e-mail address an agent has in Zendesk (`users.lookupByEmail`), so an alert can mention
//! the person. Needs a bot token with the `users:read.email` scope (`[slack] bot_token_env`).

use std::time::Duration;

use serde::Deserialize;

/// Why a lookup could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Slack answered `ok: false` with this error (`invalid_auth`, `missing_scope`, `ratelimited`…).
    #[error("Slack refused: {0}")]
    Refused(String),
    #[error("Slack could not be reached: {0}")]
    Unreachable(String),
}

impl SlackError {
    /// Worth trying again later: Slack unreachable, or asking to slow down.
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::Unreachable(_) => true,
            SlackError::Refused(error) => matches!(
                error.as_str(),
                "ratelimited" | "service_unavailable" | "fatal_error" | "internal_error" | "request_timeout"
            ),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    user: Option<Member>,
}

#[derive(Deserialize)]
struct Member {
    id: String,
}

pub struct SlackClient {
    http: reqwest::Client,
    api_url: String,
    token: String,
}

impl SlackClient {
    /// A client of the Web API at `api_url` (`https://slack.com/api`).
    pub fn new(api_url: &str, token: String, timeout: Duration) -> Result<SlackClient, reqwest::Error> {
        Ok(SlackClient {
            http: reqwest::Client::builder().timeout(timeout).build()?,
            api_url: api_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// Posts a message (Block Kit `body`: `text` and `blocks`) to `channel`: a member id sends
    /// it as a direct message from the app.
    pub async fn post_message(&self, channel: &str, body: &serde_json::Value) -> Result<(), SlackError> {
        let mut body = body.clone();
        body["channel"] = serde_json::Value::from(channel);
        let response = self
            .http
            .post(format!("{}/chat.postMessage", self.api_url))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| SlackError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(match status.as_u16() {
                429 => SlackError::Refused("ratelimited".into()),
                _ => SlackError::Unreachable(format!("HTTP {status}")),
            });
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| SlackError::Unreachable(format!("unreadable answer: {}", e.without_url())))?;
        match (answer.ok, answer.error) {
            (true, _) => Ok(()),
            (false, error) => Err(SlackError::Refused(error.unwrap_or_else(|| "no reason given".into()))),
        }
    }

    /// The member id of the workspace member with this e-mail address; None when there is none.
    pub async fn member_by_email(&self, email: &str) -> Result<Option<String>, SlackError> {
        let response = self
            .http
            .get(format!("{}/users.lookupByEmail", self.api_url))
            .bearer_auth(&self.token)
            .query(&[("email", email)])
            .send()
            .await
            .map_err(|e| SlackError::Unreachable(e.without_url().to_string()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(SlackError::Unreachable(format!("HTTP {status}")));
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| SlackError::Unreachable(format!("unreadable answer: {}", e.without_url())))?;
        match (answer.ok, answer.user, answer.error.as_deref()) {
            (true, Some(user), _) => Ok(Some(user.id)),
            (false, _, Some("users_not_found")) => Ok(None),
            (_, _, error) => Err(SlackError::Refused(error.unwrap_or("no user in the answer").to_string())),
        }
    }
}
