//! What an alert says, and how it reads in Slack (Block Kit), in a generic
//! webhook, and as an internal note on the ticket.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sla::time::{format_rfc3339, human, Timestamp};

/// The facts of one alert, fixed when it is decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub key: String,
    pub ticket_id: u64,
    pub ticket_url: String,
    pub subject: String,
    /// The organization's name, or empty.
    pub customer: String,
    pub tier: String,
    pub contract: Option<String>,
    pub severity: String,
    /// False when the ticket has no severity and the default applies.
    pub classified: bool,
    /// `first response` or `resolution`.
    pub metric: String,
    /// The goal's name, for an internal goal's alert; None for a contractual target.
    pub goal: Option<String>,
    pub kind: AlertKind,
    /// The target, e.g. `24h`, and the clock it runs on.
    pub target: String,
    pub schedule: String,
    pub deadline: Option<Timestamp>,
    /// Clock time left at the alert point, in seconds; negative when overdue.
    pub remaining: i64,
    pub assignee: Option<String>,
    pub group_id: Option<u64>,
    /// An acknowledgement was posted, but no substantive response yet.
    pub acknowledged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Warning,
    Breach,
    Reminder,
}

/// `2026-12-03 01:00 UTC`.
fn when(ts: Timestamp) -> String {
    let text = format_rfc3339(ts);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

/// Slack mrkdwn and link text must escape these three.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl AlertMessage {
    fn label(&self) -> String {
        match &self.goal {
            Some(goal) => format!("Goal {goal}"),
            None => "SLA".to_string(),
        }
    }

    pub fn time_text(&self) -> String {
        match self.remaining {
            r if r > 0 => format!("{} left", human(r)),
            0 => "due now".to_string(),
            r => format!("{} overdue", human(r)),
        }
    }

    /// One line, for notifications, logs of the demo and the text fallback.
    pub fn title(&self) -> String {
        let what = format!("{} on #{}", self.metric, self.ticket_id);
        match self.kind {
            AlertKind::Warning => format!("{} warning: {what}, {}", self.label(), self.time_text()),
            AlertKind::Breach => format!("{} breached: {what}", self.label()),
            AlertKind::Reminder => format!("{} still breached: {what}, {}", self.label(), self.time_text()),
        }
    }

    fn severity_text(&self) -> String {
        if self.classified {
            self.severity.clone()
        } else {
            format!("{} (unclassified)", self.severity)
        }
    }

    fn customer_text(&self) -> String {
        let name = if self.customer.is_empty() {
            "(no organization)".to_string()
        } else {
            self.customer.clone()
        };
        match &self.contract {
            Some(contract) => format!("{name} ({contract})"),
            None => name,
        }
    }

    /// `24h (contract, business-hours clock)`.
    fn target_text(&self) -> String {
        let kind = if self.goal.is_some() { "goal" } else { "contract" };
        format!("{} ({kind}, {} clock)", self.target, self.schedule)
    }

    /// A Slack incoming-webhook payload: Block Kit, with a text fallback.
    pub fn slack(&self) -> Value {
        let emoji = match self.kind {
            AlertKind::Warning => ":hourglass_flowing_sand:",
            AlertKind::Breach => ":rotating_light:",
            AlertKind::Reminder => ":repeat:",
        };
        let time_label = if self.remaining >= 0 { "Time left" } else { "Overdue" };
        let mut time = if self.remaining == 0 {
            "none: the deadline has passed".to_string()
        } else {
            human(self.remaining)
        };
        if self.acknowledged {
            time.push_str(" (acknowledged, no substantive response yet)");
        }
        let field = |name: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", escape(value))});
        let context = match self.deadline {
            Some(deadline) => format!("Deadline {} · slawatch", when(deadline)),
            None => "slawatch".to_string(),
        };
        json!({
            "text": format!("{emoji} {}", self.title()),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title(), "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("{emoji} *<{}|#{} {}>*", self.ticket_url, self.ticket_id, escape(&self.subject))}},
                {"type": "section", "fields": [
                    field("Customer", &self.customer_text()),
                    field("Tier", &self.tier),
                    field("Severity", &self.severity_text()),
                    field("Metric", &format!("{}, {}", self.metric, self.target_text())),
                    field(time_label, &time),
                    field("Assignee", self.assignee.as_deref().unwrap_or("unassigned")),
                ]},
                {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
            ]
        })
    }

    /// A generic JSON webhook payload: the facts, plus the title and text.
    pub fn webhook(&self) -> Value {
        json!({
            "event": "sla_alert",
            "title": self.title(),
            "text": self.note_text(),
            "alert": self,
        })
    }

    /// The marker that makes a note findable before it is written again.
    pub fn marker(&self) -> String {
        format!("[slawatch alert {}]", self.key)
    }

    /// An internal note on the ticket.
    pub fn note_text(&self) -> String {
        let deadline = self.deadline.map(|d| format!(" Deadline: {}.", when(d))).unwrap_or_default();
        format!(
            "slawatch: {}. Target: {}.{deadline}\n\n{}",
            self.title(),
            self.target_text(),
            self.marker()
        )
    }
}
