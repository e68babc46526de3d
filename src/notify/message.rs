//! What an alert says, and how it reads in Slack (Block Kit), in a generic
//! webhook, and as an internal note on the ticket. A message is rendered at
//! delivery from the clock as it is then: the point that was crossed, then the
//! truth now (time left and the deadline in the schedule's zone, or how long ago
//! the breach was), and why it comes late when it does.

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::wording;
use crate::sla::clock::{AlertPoint, ClockState, MetricClock};
use crate::sla::policy::{Metric, Threshold};
use crate::sla::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    Warning,
    Breach,
    Reminder,
}

impl AlertKind {
    pub fn of(point: AlertPoint) -> AlertKind {
        match point {
            AlertPoint::Warning(_) => AlertKind::Warning,
            AlertPoint::Breach => AlertKind::Breach,
            AlertPoint::Reminder(_) => AlertKind::Reminder,
        }
    }
}

/// Which clock a target runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Business hours of a schedule: times are business time.
    Business,
    /// The calendar (24x7).
    Calendar,
}

/// The ticket an alert is about, as the engine knows it at delivery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketLine {
    pub id: u64,
    pub url: String,
    pub subject: String,
    /// The organization's name, or empty.
    pub customer: String,
    pub tier: String,
    pub contract: Option<String>,
    pub severity: String,
    /// False when the ticket has no severity and the default applies.
    pub classified: bool,
    pub assignee: Option<String>,
    /// Who Slack is to notify, as Slack writes it: the assignee (`<@U…>`) or, for a ticket
    /// nobody holds, its group's on-call handle (`<!subteam^S…>`); None without a `[people]`
    /// mapping for them.
    pub mention: Option<String>,
    pub group_id: Option<u64>,
}

/// Everything an alert's words are made from, at the moment they are read.
pub struct Render<'a> {
    pub key: &'a str,
    pub ticket: TicketLine,
    /// The clock instance the alert is about, evaluated now.
    pub clock: &'a MetricClock,
    pub point: AlertPoint,
    /// The goal's name, for an internal goal's alert.
    pub goal: Option<&'a str>,
    pub schedule: &'a str,
    pub business_clock: bool,
    /// Where deadlines are shown: the schedule's zone (the configured display zone for 24x7).
    pub zone: Tz,
    /// When the point was crossed, as told.
    pub crossed_at: Timestamp,
    pub now: Timestamp,
    /// Why it comes late, when it does.
    pub delayed: Option<String>,
}

/// An alert as rendered for delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertMessage {
    pub key: String,
    pub ticket_id: u64,
    pub ticket_url: String,
    pub subject: String,
    pub customer: String,
    pub tier: String,
    pub contract: Option<String>,
    pub severity: String,
    pub classified: bool,
    /// `first response` or `resolution`.
    pub metric: String,
    pub goal: Option<String>,
    pub kind: AlertKind,
    /// The point crossed: `90% of the 24h first-response target used`.
    pub point: String,
    /// The target, e.g. `24h`, and the schedule it runs on.
    pub target: String,
    pub schedule: String,
    pub clock: ClockKind,
    /// The clock's state now: running, paused, breached, met.
    pub state: String,
    /// The deadline (the breach instant once breached), UTC.
    pub deadline: Option<Timestamp>,
    /// The deadline in the schedule's zone: `Tue 1 Dec 18:30 PST`.
    pub deadline_local: Option<String>,
    /// Clock time left now (business seconds on a business clock); negative when overdue.
    pub time_left_seconds: i64,
    /// The truth now, in words: `29 min left`, `51 business hours left`, `breached 2h 10m ago`.
    pub time_text: String,
    /// When the point was crossed.
    pub crossed_at: Timestamp,
    /// Why the message comes late, when it does.
    pub delayed: Option<String>,
    pub assignee: Option<String>,
    /// Who Slack notifies (see `TicketLine::mention`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mention: Option<String>,
    pub group_id: Option<u64>,
    /// An acknowledgement was posted, but no substantive response yet.
    pub acknowledged: bool,
}

fn metric_words(metric: Metric) -> &'static str {
    match metric {
        Metric::FirstResponse => "first-response",
        Metric::Resolution => "resolution",
    }
}

/// `90% of the 24h first-response target used`.
fn point_words(point: AlertPoint, target: &str, metric: Metric, goal: Option<&str>) -> String {
    let what = match goal {
        Some(name) => format!("{target} {} goal ({name})", metric_words(metric)),
        None => format!("{target} {} target", metric_words(metric)),
    };
    match point {
        AlertPoint::Warning(Threshold::Percent(p)) => format!("{p}% of the {what} used"),
        AlertPoint::Warning(Threshold::Before(lead)) => format!("{lead} left of the {what}"),
        AlertPoint::Breach => format!("the {what} used up"),
        AlertPoint::Reminder(n) => format!("the {what} still breached (reminder {n})"),
    }
}

/// Slack mrkdwn and link text must escape these three.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

impl AlertMessage {
    /// The words of an alert from the clock as it is at `render.now`.
    pub fn render(render: Render) -> AlertMessage {
        let clock = render.clock;
        let target = clock.target.map(|t| t.to_string()).unwrap_or_default();
        let breached = clock.breached_at.filter(|_| clock.state == ClockState::Breached);
        let deadline = breached.or(clock.deadline.filter(|_| clock.state == ClockState::Running));
        let left = clock.remaining;
        let time_text = match (breached, clock.state) {
            (Some(at), _) => {
                let ago = render.now.saturating_sub(at);
                if ago < 60 {
                    "breached just now".to_string()
                } else {
                    format!("breached {} ago", wording::calendar(ago))
                }
            }
            (None, ClockState::Running) => format!("{} left", wording::clock_time(left, render.business_clock)),
            (None, ClockState::Paused) => format!("paused, {} left", wording::clock_time(left, render.business_clock)),
            (None, ClockState::Met) => "met".to_string(),
            (None, other) => other.key().replace('_', " "),
        };
        AlertMessage {
            key: render.key.to_string(),
            ticket_id: render.ticket.id,
            ticket_url: render.ticket.url,
            subject: render.ticket.subject,
            customer: render.ticket.customer,
            tier: render.ticket.tier,
            contract: render.ticket.contract,
            severity: render.ticket.severity,
            classified: render.ticket.classified,
            metric: clock.metric.to_string(),
            goal: render.goal.map(str::to_string),
            kind: AlertKind::of(render.point),
            point: point_words(render.point, &target, clock.metric, render.goal),
            target,
            schedule: render.schedule.to_string(),
            clock: if render.business_clock {
                ClockKind::Business
            } else {
                ClockKind::Calendar
            },
            state: clock.state.key().to_string(),
            deadline,
            deadline_local: deadline.map(|d| wording::local(d, render.zone)),
            time_left_seconds: left,
            time_text,
            crossed_at: render.crossed_at,
            delayed: render.delayed,
            assignee: render.ticket.assignee,
            mention: render.ticket.mention,
            group_id: render.ticket.group_id,
            acknowledged: clock.acknowledged_at.is_some(),
        }
    }

    fn label(&self) -> String {
        match &self.goal {
            Some(goal) => format!("Goal {goal}"),
            None => "SLA".to_string(),
        }
    }

    /// The truth now with the deadline: `29 min left, due Tue 1 Dec 18:30 PST`.
    pub fn truth(&self) -> String {
        match (&self.deadline_local, self.state.as_str()) {
            (Some(due), "breached") => format!("{} (due {due})", self.time_text),
            (Some(due), _) => format!("{}, due {due}", self.time_text),
            (None, _) => self.time_text.clone(),
        }
    }

    /// One line, for notifications, logs of the demo and the text fallback.
    pub fn title(&self) -> String {
        let what = format!("{} on #{}", self.metric, self.ticket_id);
        match self.kind {
            AlertKind::Warning => format!("{} warning: {what}, {}", self.label(), self.time_text),
            AlertKind::Breach => format!("{} breached: {what}", self.label()),
            AlertKind::Reminder => format!("{} still breached: {what}, {}", self.label(), self.time_text),
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

    /// What was crossed, then the truth now: `90% of the 24h first-response target used; 29 min
    /// left, due Tue 1 Dec 18:30 PST.`
    fn summary(&self) -> String {
        let mut text = format!("{}; {}.", capitalize(&self.point), self.truth());
        if self.acknowledged {
            text.push_str(" Acknowledged, no substantive response yet.");
        }
        text
    }

    /// A Slack incoming-webhook payload: Block Kit, with a text fallback.
    pub fn slack(&self) -> Value {
        let emoji = match self.kind {
            AlertKind::Warning => ":hourglass_flowing_sand:",
            AlertKind::Breach => ":rotating_light:",
            AlertKind::Reminder => ":repeat:",
        };
        let time_label = if self.state == "breached" { "Overdue" } else { "Time left" };
        let field = |name: &str, value: &str| json!({"type": "mrkdwn", "text": format!("*{name}*\n{}", escape(value))});
        let mut context = vec![json!({"type": "mrkdwn", "text": escape(&format!("Crossed: {}", self.point))})];
        if let Some(delayed) = &self.delayed {
            context.push(json!({"type": "mrkdwn", "text": format!(":warning: {}", escape(delayed))}));
        }
        context.push(json!({"type": "mrkdwn", "text": "slawatch"}));
        // The mention leads, in the notification's text too: it is what wakes the person.
        let mention = self.mention.as_deref().map(|m| format!("{m} ")).unwrap_or_default();
        let assignee = match (&self.assignee, &self.mention) {
            (Some(name), Some(mention)) => format!("{mention} ({})", escape(name)),
            (Some(name), None) => escape(name),
            (None, Some(on_call)) => format!("unassigned: {on_call}"),
            (None, None) => "unassigned".to_string(),
        };
        json!({
            "text": format!("{mention}{emoji} {}", self.title()),
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title(), "emoji": true}},
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("{emoji} {mention}*<{}|#{} {}>*", self.ticket_url, self.ticket_id, escape(&self.subject))}},
                {"type": "section", "text": {"type": "mrkdwn", "text": escape(&self.summary())}},
                {"type": "section", "fields": [
                    field("Customer", &self.customer_text()),
                    field("Tier", &self.tier),
                    field("Severity", &self.severity_text()),
                    field("Metric", &format!("{}, {}", self.metric, self.target_text())),
                    field(time_label, &self.truth()),
                    json!({"type": "mrkdwn", "text": format!("*Assignee*\n{assignee}")}),
                ]},
                {"type": "context", "elements": context},
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

    /// An internal note on the ticket (its marker is added as it is written).
    pub fn note_text(&self) -> String {
        let delayed = self.delayed.as_ref().map(|d| format!("\n{}.", capitalize(d))).unwrap_or_default();
        format!(
            "slawatch: {}.\n{}\nTarget: {}.{delayed}",
            self.title(),
            self.summary(),
            self.target_text(),
        )
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
