//! `slawatch test-alert --channel NAME`: one clearly marked test message to one alert channel,
//! through the same post (and the same reading of the answer) as every alert, so an operator
//! knows before the first breach that the channel takes slawatch's messages. It is no alert: it
//! needs no store (the daemon may hold it), goes through no outbox, counts in no metric, and
//! names no ticket. The webhook URL is a secret: only its host is printed.

use std::path::Path;

use chrono::TimeZone;
use serde_json::{json, Value};

use crate::config::{ChannelKind, Config};
use crate::engine::POST_TIMEOUT;
use crate::notify::post::{self, Answer, PostError};
use crate::sla::time::{format_rfc3339, Timestamp};

/// Exit status: the channel accepted the test message.
pub const ACCEPTED: u8 = 0;
/// Exit status: the channel refused it, or could not be reached.
pub const NOT_DELIVERED: u8 = 1;
/// Exit status: nothing was sent: no such channel, or its URL is not set (or not a URL).
pub const NOT_CONFIGURED: u8 = 2;

/// Where and when the test is sent from, as the message tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub host: String,
    /// The configuration file, or `built-in defaults`.
    pub config: String,
    pub channel: String,
    pub sent_at: Timestamp,
    /// `sent_at` in `[notify] time_zone`: `Tue 1 Dec 2026 18:30:05 PST`.
    pub sent_at_local: String,
}

impl Origin {
    pub fn new(config: &Config, config_path: Option<&Path>, channel: &str, now: Timestamp) -> Origin {
        let zone = config.notify.time_zone;
        let sent_at_local = zone
            .timestamp_opt(now, 0)
            .single()
            .map_or_else(|| format_rfc3339(now), |t| t.format("%a %-d %b %Y %H:%M:%S %Z").to_string());
        Origin {
            host: host_name(),
            config: config_path.map_or_else(
                || "built-in defaults".to_string(),
                |p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string(),
            ),
            channel: channel.to_string(),
            sent_at: now,
            sent_at_local,
        }
    }

    /// What the message says, in plain text.
    pub fn text(&self) -> String {
        format!(
            "This is a test message from slawatch on {host} (config {config}), sent {local} ({utc}) to the channel {channel}. \
             No ticket is affected and nothing needs doing: it checks that slawatch's alerts reach this channel.",
            host = self.host,
            config = self.config,
            local = self.sent_at_local,
            utc = format_rfc3339(self.sent_at),
            channel = self.channel,
        )
    }
}

/// The test message as the channel's kind takes it: Slack Block Kit with a text fallback, or a
/// generic webhook's JSON (`"event": "slawatch_test"`, `"test": true`, no ticket).
pub fn message(kind: ChannelKind, origin: &Origin) -> Value {
    let title = format!("slawatch test message: no ticket is affected ({})", origin.channel);
    match kind {
        ChannelKind::Slack => json!({
            "text": format!(":white_check_mark: {title}"),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "slawatch test message (not an alert)", "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": escape(&origin.text())}},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": escape(&format!("slawatch test-alert · {} · {}", origin.host, origin.sent_at_local))},
                ]},
            ]
        }),
        ChannelKind::Webhook => json!({
            "event": "slawatch_test",
            "test": true,
            "title": title,
            "text": origin.text(),
            "channel": origin.channel,
            "host": origin.host,
            "config": origin.config,
            "sent_at": format_rfc3339(origin.sent_at),
            "sent_at_local": origin.sent_at_local,
        }),
    }
}

/// Sends the test message to `channel`, printing what happened; returns the exit status.
pub async fn run(config: &Config, config_path: Option<&Path>, channel: &str) -> u8 {
    if config.notify.pagers.contains_key(channel) {
        return super::test_page::run(config, config_path, channel).await;
    }
    let Some(settings) = config.notify.channels.get(channel) else {
        let names: Vec<&str> = config
            .notify
            .channels
            .keys()
            .chain(config.notify.pagers.keys())
            .map(String::as_str)
            .collect();
        if names.is_empty() {
            eprintln!("error: no channel {channel:?}: no channels are configured ([notify.channels] is empty)");
        } else {
            eprintln!(
                "error: no channel {channel:?} in [notify.channels]; the configured ones: {}",
                names.join(", ")
            );
        }
        return NOT_CONFIGURED;
    };
    let kind = settings.kind;
    let what = format!("channel {channel} ({})", kind_words(kind));
    let url = match std::env::var(&settings.url_env) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_string(),
        _ => {
            eprintln!(
                "error: {what}: the environment variable {} (named by notify.channels.{channel}.url_env) is not set",
                settings.url_env
            );
            return NOT_CONFIGURED;
        }
    };
    let host = match reqwest::Url::parse(&url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_some() => {
            parsed.host_str().unwrap_or_default().to_string()
        }
        _ => {
            eprintln!(
                "error: {what}: the environment variable {} does not hold an http(s) URL (its value is a secret: not shown)",
                settings.url_env
            );
            return NOT_CONFIGURED;
        }
    };
    crate::cli::write_stdout(&format!("sending a test message to {what} at {host}\n"));
    let origin = Origin::new(config, config_path, channel, crate::clock::Clock::system().now());
    let body = message(kind, &origin);
    let http = reqwest::Client::builder().timeout(POST_TIMEOUT).build().unwrap_or_default();
    let outcome = post::post(&http, channel, &url, &body, POST_TIMEOUT, origin.sent_at).await;
    let (lines, code) = report(kind, channel, &host, &outcome);
    match code {
        ACCEPTED => crate::cli::write_stdout(&lines),
        _ => eprint!("{lines}"),
    }
    code
}

/// What a person reads about the outcome, and the exit status.
pub fn report(kind: ChannelKind, channel: &str, host: &str, outcome: &Result<Answer, PostError>) -> (String, u8) {
    let service = match kind {
        ChannelKind::Slack => "Slack",
        ChannelKind::Webhook => "the webhook",
    };
    match outcome {
        Ok(answer) => (
            format!(
                "{service} answered {}\naccepted: the test message was posted to {channel}; alerts routed there will arrive\n",
                answer_words(answer)
            ),
            ACCEPTED,
        ),
        Err(error) => {
            let answered = error
                .answer
                .as_ref()
                .map(|a| format!("{service} answered {}\n", answer_words(a)))
                .unwrap_or_default();
            let verdict = if let Some(why) = &error.unreachable {
                format!(
                    "error: could not reach {host} ({why}): alerts to {channel} would wait in the outbox and be retried until it answers"
                )
            } else if error.permanent {
                let hint = error
                    .answer
                    .as_ref()
                    .and_then(|a| slack_hint(kind, a))
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                format!(
                    "error: refused for good{hint}: alerts to {channel} would be given up, not retried; check the webhook URL and the channel"
                )
            } else {
                let wait = error
                    .retry_after
                    .map(|w| format!(", asked to wait {}s", w.as_secs()))
                    .unwrap_or_default();
                format!(
                    "error: refused for now (a transient failure{wait}): alerts to {channel} would wait in the outbox and be retried; try again later"
                )
            };
            (format!("{answered}{verdict}\n"), NOT_DELIVERED)
        }
    }
}

/// `HTTP 404: no_service` (the body on one line, cut short; `(empty body)` when there is none).
fn answer_words(answer: &Answer) -> String {
    let body: String = answer.body.split_whitespace().collect::<Vec<_>>().join(" ");
    let body = if body.is_empty() {
        "(empty body)".to_string()
    } else if body.chars().count() > 300 {
        format!("{}…", body.chars().take(300).collect::<String>())
    } else {
        body
    };
    format!("HTTP {}: {body}", answer.status)
}

/// What Slack's incoming-webhook error codes mean, for the ones a configuration can cause.
fn slack_hint(kind: ChannelKind, answer: &Answer) -> Option<&'static str> {
    if kind != ChannelKind::Slack {
        return None;
    }
    Some(match answer.body.trim() {
        "no_service" | "no_service_id" | "no_team" => "Slack knows no webhook at this URL: it was removed, or the URL is wrong",
        "invalid_token" => "the webhook's token was revoked",
        "team_disabled" => "the Slack workspace is disabled",
        "channel_not_found" => "the Slack channel the webhook posts to was deleted",
        "channel_is_archived" => "the Slack channel the webhook posts to is archived",
        "action_prohibited" | "posting_to_general_channel_denied" => "a Slack admin restricted posting to that channel",
        "user_not_found" => "the user the webhook posts to is gone",
        "invalid_payload" | "invalid_blocks" | "no_text" | "too_many_attachments" => {
            "Slack refused the message's form: a slawatch bug, please report it"
        }
        _ => return None,
    })
}

fn kind_words(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Slack => "Slack incoming webhook",
        ChannelKind::Webhook => "generic JSON webhook",
    }
}

/// Slack mrkdwn must escape these three.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// This machine's name, as the message tells it.
fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|path| std::fs::read_to_string(path).ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "an unnamed host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: body.to_string(),
        }
    }

    fn refused(status: u16, body: &str) -> Result<Answer, PostError> {
        Err(PostError {
            message: format!("oncall: HTTP {status}"),
            retry_after: None,
            permanent: post::refused_for_good(status),
            answer: Some(answer(status, body)),
            unreachable: None,
        })
    }

    #[test]
    fn each_outcome_reads_as_what_it_means_for_alerts() {
        let (text, code) = report(ChannelKind::Slack, "oncall", "hooks.slack.com", &Ok(answer(200, "ok")));
        assert_eq!(code, ACCEPTED);
        assert!(text.starts_with("Slack answered HTTP 200: ok\naccepted"), "{text}");
        let (text, code) = report(ChannelKind::Slack, "oncall", "hooks.slack.com", &refused(404, "no_service"));
        assert_eq!(code, NOT_DELIVERED);
        assert!(
            text.contains("HTTP 404: no_service\nerror: refused for good (Slack knows no webhook"),
            "{text}"
        );
        let (text, _) = report(
            ChannelKind::Slack,
            "oncall",
            "hooks.slack.com",
            &refused(503, "service_unavailable"),
        );
        assert!(text.contains("error: refused for now (a transient failure)"), "{text}");
        let unreachable = Err(PostError {
            message: "oncall: error sending request".into(),
            retry_after: None,
            permanent: false,
            answer: None,
            unreachable: Some("could not connect: Connection refused (os error 111)".into()),
        });
        let (text, code) = report(ChannelKind::Webhook, "oncall", "chat.example", &unreachable);
        assert_eq!(code, NOT_DELIVERED);
        assert_eq!(
            text,
            "error: could not reach chat.example (could not connect: Connection refused (os error 111)): \
             alerts to oncall would wait in the outbox and be retried until it answers\n"
        );
    }

    #[test]
    fn the_message_says_it_is_a_test_and_names_no_ticket() {
        let origin = Origin {
            host: "support-1".into(),
            config: "/etc/slawatch/config.toml".into(),
            channel: "oncall".into(),
            sent_at: 1_796_178_605,
            sent_at_local: "Tue 1 Dec 2026 18:30:05 PST".into(),
        };
        let slack = message(ChannelKind::Slack, &origin);
        let all = slack.to_string();
        for words in [
            "test message",
            "support-1",
            "/etc/slawatch/config.toml",
            "18:30:05 PST",
            "No ticket is affected",
        ] {
            assert!(all.contains(words), "{words}: {all}");
        }
        assert!(!all.contains("agent/tickets"), "{all}");
        let webhook = message(ChannelKind::Webhook, &origin);
        assert_eq!(webhook["event"], "slawatch_test");
        assert_eq!(webhook["test"], true);
        assert_eq!(webhook["sent_at"], "2026-12-02T02:30:05Z");
    }
}
