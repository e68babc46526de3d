//! What the store holds, as typed records: tickets (facts, not comment bodies), agents,
//! organizations, looked-up users, alerts with their deliveries, and the export cursors.

use serde::{Deserialize, Serialize};

use crate::sla::clock::Event;
use crate::sla::time::Timestamp;

/// One event of a ticket with the audit it came from, so re-delivered audits are applied once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    pub audit_id: u64,
    pub event: Event,
}

/// Everything slawatch keeps about a ticket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRecord {
    pub id: u64,
    pub subject: String,
    /// Zendesk's status as last exported (lower case; unknown values kept).
    pub status: String,
    pub created_at: Option<Timestamp>,
    /// As the ticket export (or a pushed change's read) last showed it; an alert's confirming
    /// read does not move it: the ticket's facts are complete once the events export, or a
    /// pushed change's read, has passed it.
    pub updated_at: Option<Timestamp>,
    pub requester_id: Option<u64>,
    pub submitter_id: Option<u64>,
    pub assignee_id: Option<u64>,
    pub group_id: Option<u64>,
    pub organization_id: Option<u64>,
    /// The severity mapped from the ticket's fields, tags or priority.
    pub severity: Option<String>,
    /// Seen in the ticket export (events can arrive first).
    pub exported: bool,
    /// Comments (as facts), status and severity changes, in order.
    pub events: Vec<StoredEvent>,
    /// The next alert instant of any of its clocks, as last evaluated.
    pub next_alert: Option<Timestamp>,
    /// Set while the ticket's facts wait for the events export to pass this instant (its
    /// `updated_at`): nothing is decided for it until then.
    #[serde(default)]
    pub awaiting_events: Option<Timestamp>,
    /// When slawatch first stored the ticket (None in stores written before this was kept).
    #[serde(default)]
    pub first_seen: Option<Timestamp>,
    /// How the ticket came in (`via.channel`: email, web, api...); unknown values kept as read.
    #[serde(default)]
    pub via_channel: Option<String>,
    /// Zendesk's satisfaction rating score (`good`, `bad`, `offered`, `unoffered`...).
    #[serde(default)]
    pub satisfaction: Option<String>,
    /// What the severity mapping reads, as the events export last left it (from the ticket's
    /// creation audit on): each change of it is a severity change at its own instant.
    #[serde(default)]
    pub severity_inputs: Option<SeverityInputs>,
    /// The ticket's tags, as the ticket export last showed them.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The values of the ticket fields escalation and reports read, by id.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<u64, String>,
    /// A help-request rule matched the ticket at some point: it counts as needing engineering
    /// even after the tag or field is gone.
    #[serde(default)]
    pub help_requested: bool,
    /// Why the ticket got the default severity, when it did (config drift: see engine::drift).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity_fallback: Option<crate::sla::policy::Fallback>,
    /// The ticket's `updated_at` as slawatch last read it whole (the ticket, then every audit)
    /// after Zendesk pushed a change: its history is known through then, whatever the events
    /// export says. Not the instant of the read: a change Zendesk had made but not yet shown
    /// to the read must still wait for the events export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_through: Option<Timestamp>,
    /// The ticket's KPI row is final (see `kpi::freeze`): evaluations leave it as it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub kpi_frozen: bool,
    /// The `updated_at` of the facts the stored KPI row was made from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi_row_of: Option<Timestamp>,
    /// What the next save does to the ticket's KPI row (kept in its own tree, not in here).
    #[serde(skip)]
    pub kpi: KpiChange,
}

impl TicketRecord {
    /// Open: seen in the ticket export, and not solved, closed or deleted. `status` and the
    /// page lists read these through the store's index of open tickets.
    pub fn is_open(&self) -> bool {
        self.exported && !matches!(self.status.as_str(), "solved" | "closed" | "deleted")
    }
}

/// What a save does to a ticket's KPI row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum KpiChange {
    /// Leave it as it is (the facts are not complete, or nothing was evaluated).
    #[default]
    Keep,
    Put(Box<crate::kpi::KpiRow>),
    /// The ticket was deleted: it counts nowhere.
    Remove {
        created_at: Timestamp,
    },
}

/// The fields a severity is mapped from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeverityInputs {
    /// Custom field values by field id (only the ones changes named).
    pub fields: std::collections::BTreeMap<u64, String>,
    pub tags: Vec<String>,
    pub priority: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    pub id: u64,
    pub name: String,
    pub role: String,
    /// Lower case; what `[people] slack_users` may name the agent by.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub email: String,
}

/// A user whose role was looked up live (an author the agent listing did not name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: u64,
    pub name: String,
    pub role: String,
    pub looked_up_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrganizationRecord {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Where an alert stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum AlertStatus {
    /// Decided; deliveries outstanding.
    Pending,
    /// Every channel has it.
    Delivered,
    /// Not sent: a later alert of the same clock went instead.
    Superseded,
    /// Not sent: crossed longer ago than the backfill window when first seen.
    TooOld,
    /// Not sent (or not to every channel): the clock was met, stopped or deleted first.
    Cancelled { reason: String },
    /// Decided, but no route sends it anywhere: recorded and shown only.
    Unrouted,
    /// A channel refused it for good (or kept failing): given up.
    Failed { reason: String },
}

impl AlertStatus {
    /// Whether the record stands whatever later facts say: something went out or is queued to.
    pub fn is_binding(&self) -> bool {
        matches!(self, AlertStatus::Pending | AlertStatus::Delivered | AlertStatus::Failed { .. })
    }
}

/// One channel's delivery of an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub channel: String,
    pub sent_at: Option<Timestamp>,
    pub attempts: u32,
    /// Milliseconds since the epoch: the next attempt, while unsent.
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    /// Refused for good, or failing too long: no more attempts.
    #[serde(default)]
    pub gave_up: bool,
    /// When the first failed attempt was made (ms): how long the channel has been unreachable.
    #[serde(default)]
    pub failing_since_ms: Option<i64>,
    /// Not sent, and no longer to be: the reason (moot, superseded).
    #[serde(default)]
    pub dropped: Option<String>,
    /// A page (PagerDuty, Opsgenie): its severity, as the route set it when decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pager_severity: Option<String>,
    /// A page's second duty: resolving (closing) it, owed once the alert's clock is met or
    /// stops; recorded before it is sent, retried like the page. Its `sent_at` is when the
    /// service took the resolve; `dropped` says why none was sent (no page went out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve: Option<Box<Delivery>>,
}

impl Delivery {
    pub fn new(channel: String, now_ms: i64) -> Delivery {
        Delivery {
            channel,
            sent_at: None,
            attempts: 0,
            next_attempt_ms: now_ms,
            last_error: None,
            gave_up: false,
            failing_since_ms: None,
            dropped: None,
            pager_severity: None,
            resolve: None,
        }
    }

    /// Still to be sent (now or later).
    pub fn is_outstanding(&self) -> bool {
        self.sent_at.is_none() && !self.gave_up && self.dropped.is_none()
    }

    /// The page's resolve, while it is still to be sent.
    pub fn resolve_owed(&self) -> Option<&Delivery> {
        self.resolve.as_deref().filter(|r| r.is_outstanding())
    }

    /// Something is still to be sent: the message (or page), or the page's resolve. What keeps
    /// the delivery in its channel's outbox.
    pub fn is_owed(&self) -> bool {
        self.is_outstanding() || self.resolve_owed().is_some()
    }

    /// When its next duty may be done (ms): the message's next attempt, else its resolve's.
    pub fn next_duty_ms(&self) -> Option<i64> {
        if self.is_outstanding() {
            return Some(self.next_attempt_ms);
        }
        self.resolve_owed().map(|r| r.next_attempt_ms)
    }

    /// A failed attempt (the `attempts`-th): when to try again, or given up when `permanent`.
    pub fn record_failure(&mut self, attempts: u32, next_attempt_ms: i64, permanent: bool, now_ms: i64, message: &str) {
        self.attempts = attempts;
        self.gave_up = permanent;
        self.next_attempt_ms = next_attempt_ms;
        self.failing_since_ms = self.failing_since_ms.or(Some(now_ms));
        self.last_error = Some(message.to_string());
    }

    /// Outstanding, and its next attempt has come.
    pub fn is_due(&self, now_ms: i64) -> bool {
        self.is_outstanding() && self.next_attempt_ms <= now_ms
    }
}

/// An alert decided for a ticket's clock: recorded before any delivery, so a restart
/// replays deliveries, never decisions. What it says is rendered at delivery, from the clock
/// as it is then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// `sla::alerting::AlertId::key`.
    pub key: String,
    pub ticket_id: u64,
    pub id: crate::sla::alerting::AlertId,
    /// A contractual target's alert, or an internal goal's.
    #[serde(default)]
    pub goal: bool,
    /// When the alert point was crossed.
    pub at: Timestamp,
    /// When it is told as crossed (later than `at` for a severity upgrade past its new target).
    #[serde(default)]
    pub effective_at: Timestamp,
    pub decided_at: Timestamp,
    #[serde(flatten)]
    pub status: AlertStatus,
    pub deliveries: Vec<Delivery>,
}

impl AlertRecord {
    /// The status once every delivery has settled; Pending while one is outstanding.
    pub fn settle(&mut self) {
        // A page never sent (dropped, or refused for good) has nothing to resolve.
        for delivery in self.deliveries.iter_mut().filter(|d| d.sent_at.is_none() && !d.is_outstanding()) {
            if let Some(resolve) = delivery.resolve.as_mut().filter(|r| r.is_outstanding()) {
                resolve.dropped = Some("no page was sent".into());
            }
        }
        if self.deliveries.iter().any(Delivery::is_outstanding) {
            self.status = AlertStatus::Pending;
            return;
        }
        let sent = self.deliveries.iter().any(|d| d.sent_at.is_some());
        // A resolve refused for good leaves the page open at the service: a failure to show.
        let failed = self.deliveries.iter().find_map(|d| {
            let resolve = d.resolve.as_deref().filter(|r| r.gave_up);
            match (d.gave_up, resolve) {
                (true, _) => Some(d.last_error.clone().unwrap_or_default()),
                (false, Some(r)) => Some(format!("resolve: {}", r.last_error.clone().unwrap_or_default())),
                (false, None) => None,
            }
        });
        self.status = if let Some(reason) = failed {
            AlertStatus::Failed { reason }
        } else if let (false, Some(reason)) = (sent, self.deliveries.iter().find_map(|d| d.dropped.clone())) {
            if reason.starts_with("superseded") {
                AlertStatus::Superseded
            } else {
                AlertStatus::Cancelled { reason }
            }
        } else {
            AlertStatus::Delivered
        };
    }
}

/// The export positions committed with the data they led to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursors {
    /// The ticket export's `after_cursor`; None until the first page.
    pub tickets: Option<String>,
    /// The events export's next `start_time`; None until the first page.
    pub events_start: Option<i64>,
    /// Every event up to and including this instant has been applied.
    #[serde(default)]
    pub events_through: Option<i64>,
}

/// A ticket's requests for engineering and the GitHub issues they filed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRecord {
    pub ticket_id: u64,
    /// Whether the ticket matched a rule when last evaluated: a new request is one that begins
    /// (the ticket starts to match) after the last issue closed.
    pub matching: bool,
    pub requests: Vec<RequestRecord>,
}

impl EscalationRecord {
    pub fn latest(&self) -> Option<&RequestRecord> {
        self.requests.last()
    }

    /// Requests with a step still to do.
    pub fn has_pending(&self) -> bool {
        self.requests.iter().any(RequestRecord::is_pending)
    }
}

/// One request: decided and stored before anything is filed; then the issue, once found or
/// created, is recorded; then the ticket is told (note and tag) and Slack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// 1, then 2 for a request after the first issue closed.
    pub number: u32,
    pub rule: String,
    /// `owner/name`.
    pub repository: String,
    pub decided_at: Timestamp,
    pub issue: Option<LinkedIssue>,
    /// The internal note (with the tag) is on the ticket.
    pub noted: bool,
    /// The Slack message went out (or there is no channel).
    pub announced: bool,
    /// When the next attempt of a pending step may be made (ms).
    pub next_attempt_ms: i64,
    pub attempts: u32,
    pub last_error: Option<String>,
    /// GitHub refused the issue for good (the repository gone, renamed or closed to issues):
    /// its answer. Not retried; the channel is told once (`announced`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// What the issue was filed without, and why (an assignee or label GitHub refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

impl RequestRecord {
    pub fn is_pending(&self) -> bool {
        match self.failed {
            Some(_) => !self.announced,
            None => self.issue.is_none() || !self.noted || !self.announced,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedIssue {
    pub number: u64,
    pub url: String,
    pub open: bool,
    /// The ETags of the issue and of its comments, for conditional reads.
    pub etag: Option<String>,
    pub comments_etag: Option<String>,
    /// The newest comment id already told to the ticket, and when it was written (RFC 3339):
    /// the next read asks for comments since then.
    pub seen_comment: u64,
    #[serde(default)]
    pub seen_comment_at: Option<String>,
    /// When the issue was last read (ms).
    #[serde(default)]
    pub synced_at_ms: i64,
    /// The customer's ticket being solved is decided as news for the issue (told, or owed).
    #[serde(default)]
    pub told_solved: bool,
    /// News of the issue Zendesk refused for good to note on the ticket (closed: 422; deleted:
    /// 404), with the reason: recorded, not retried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undeliverable: Vec<String>,
    /// How many times the issue was seen to close or reopen: each change's news is keyed by its
    /// number, which never changes (its `updated_at` does, with every edit).
    #[serde(default)]
    pub state_changes: u32,
    /// News decided and not yet told everywhere: recorded before anything is sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub news: Vec<News>,
    /// Reads that failed in a row (GitHub down, a token that lost access), and when the next
    /// may be made (ms): backed off like every other step, never once a pass.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed_reads: u32,
    #[serde(default, skip_serializing_if = "is_zero_ms")]
    pub read_again_at_ms: i64,
    /// GitHub answers for good that the issue is no more (deleted: 410; its repository gone or
    /// renamed away: 404), with its words: no longer read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_zero_ms(n: &i64) -> bool {
    *n == 0
}

/// One piece of an issue's news, told to the ticket (an internal note), to the ticket's channels
/// and, for the ticket's own news, to the issue (a comment). Decided and stored first; each
/// destination is marked once done; a note and a comment are looked for (by marker) before a
/// retry writes them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct News {
    /// What it is, by something that never changes: `comment 123`, `closed 1`, `reopened 2`,
    /// `ticket-solved`.
    pub key: String,
    pub what: NewsWhat,
    pub decided_at: Timestamp,
    pub note: Owed,
    pub channels: Vec<Delivery>,
    pub comment: Owed,
    pub attempts: u32,
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
}

impl News {
    pub fn is_done(&self) -> bool {
        !self.note.is_owed() && !self.comment.is_owed() && !self.channels.iter().any(Delivery::is_outstanding)
    }
}

/// What an issue's news is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NewsWhat {
    /// Engineering commented. The words are kept only until the note is written.
    Comment {
        id: u64,
        author: String,
        body: Option<String>,
    },
    Closed,
    Reopened,
    /// The customer's ticket was solved (told to the issue).
    TicketSolved,
}

/// One write a piece of news owes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owed {
    /// Not wanted here.
    No,
    Yes,
    Done,
    /// Refused for good, with the reason.
    Refused(String),
}

impl Owed {
    pub fn is_owed(&self) -> bool {
        matches!(self, Owed::Yes)
    }
}

/// The digest owed for one firing of `[report.digest] cron`: recorded before anything is sent,
/// so a restart sends it late rather than twice, and each channel's delivery is marked once done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestRecord {
    /// The firing: the end (exclusive) of the period reported.
    pub fired_at: Timestamp,
    /// The period's start (the firing before).
    pub from: Timestamp,
    /// The start of the period compared with (the firing before that).
    pub before: Timestamp,
    pub decided_at: Timestamp,
    pub deliveries: Vec<Delivery>,
}

impl DigestRecord {
    pub fn is_outstanding(&self) -> bool {
        self.deliveries.iter().any(Delivery::is_outstanding)
    }
}
