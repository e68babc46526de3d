//! What a channel is told about engineering's issues: one filed, one GitHub refused, and an
//! issue's news (a comment, a close, a reopen). Pure: the facts in, the JSON posted out.

use serde_json::{json, Value};

use crate::config::ChannelKind;

/// An issue and its ticket, as a message names them.
#[derive(Debug, Clone)]
pub struct IssueRef<'a> {
    pub ticket_id: u64,
    pub repository: &'a str,
    pub number: u64,
    pub url: &'a str,
}

fn message(
    kind: ChannelKind,
    event: &str,
    emoji: &str,
    text: String,
    slack_text: String,
    issue: Option<&IssueRef>,
    ticket_id: u64,
) -> Value {
    match kind {
        ChannelKind::Slack => json!({
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": format!("{emoji} {slack_text}")}}],
        }),
        ChannelKind::Webhook => json!({
            "event": event,
            "text": text,
            "ticket_id": ticket_id,
            "issue_url": issue.map(|i| i.url),
        }),
    }
}

fn link(issue: &IssueRef) -> String {
    format!("<{}|{} #{}>", issue.url, issue.repository, issue.number)
}

/// An issue filed for a ticket.
pub fn filed(kind: ChannelKind, issue: &IssueRef) -> Value {
    let text = format!(
        "Engineering issue filed for ticket #{}: {} #{} {}",
        issue.ticket_id, issue.repository, issue.number, issue.url
    );
    let slack = format!("Engineering issue filed for ticket #{}: {}", issue.ticket_id, link(issue));
    message(
        kind,
        "escalation_filed",
        ":hammer_and_wrench:",
        text,
        slack,
        Some(issue),
        issue.ticket_id,
    )
}

/// A request GitHub refused for good: no issue will be filed until someone acts.
pub fn failed(kind: ChannelKind, ticket_id: u64, ticket_url: &str, repository: &str, reason: &str) -> Value {
    let text = format!(
        "No engineering issue could be filed for ticket #{ticket_id} in {repository}: {reason}. slawatch will not retry: file it by hand, or put the configuration right and remove and re-add the ticket's tag. {ticket_url}"
    );
    let slack = format!(
        "*No engineering issue could be filed* for ticket <{ticket_url}|#{ticket_id}> in {repository}: {}. slawatch will not retry: file it by hand, or put the configuration right and remove and re-add the ticket's tag.",
        slack_escape(reason)
    );
    message(kind, "escalation_failed", ":x:", text, slack, None, ticket_id)
}

/// What happened on an issue, for the ticket's channels.
#[derive(Debug, Clone, Copy)]
pub enum Happened<'a> {
    Commented { author: &'a str },
    Closed,
    Reopened,
}

pub fn news(kind: ChannelKind, issue: &IssueRef, happened: Happened) -> Value {
    let (what, emoji) = match happened {
        Happened::Commented { author } => (format!("{author} commented on"), ":speech_balloon:"),
        Happened::Closed => ("engineering closed".to_string(), ":white_check_mark:"),
        Happened::Reopened => ("engineering reopened".to_string(), ":arrows_counterclockwise:"),
    };
    let text = format!(
        "Ticket #{}: {what} {} #{} {}",
        issue.ticket_id, issue.repository, issue.number, issue.url
    );
    let slack = format!("Ticket #{}: {} {}", issue.ticket_id, slack_escape(&what), link(issue));
    message(kind, "escalation_update", emoji, text, slack, Some(issue), issue.ticket_id)
}

/// Slack's mrkdwn control characters, escaped as Slack asks.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
