//! Open tickets by urgency, as `slawatch status` and the admin `/status` show them.

use serde::{Deserialize, Serialize};

use chrono_tz::Tz;

use super::apply::{clocks_of, facts_complete};
use super::directory::Directory;
use crate::config::Config;
use crate::notify::wording;
use crate::sla::calendar::Schedule;
use crate::sla::clock::{ClockState, MetricClock, TicketClocks};
use crate::sla::policy::{Metric, ScheduleId, TargetKind};
use crate::sla::time::{format_rfc3339, Timestamp};
use crate::store::{Store, StoreError, TicketRecord};

/// How a clock's times are shown: its schedule's name, whether it counts business time, and
/// the zone its deadlines are shown in (the schedule's; the display zone for the calendar).
pub struct ClockDisplay {
    pub name: String,
    pub business: bool,
    pub zone: Tz,
}

pub fn clock_display(config: &Config, schedule: Option<ScheduleId>) -> ClockDisplay {
    let Some(id) = schedule else {
        return ClockDisplay {
            name: String::new(),
            business: false,
            zone: config.notify.time_zone,
        };
    };
    let (business, zone) = match config.policy.schedule(id) {
        Schedule::Business(b) => (true, b.hours.zone),
        Schedule::Calendar => (false, config.notify.time_zone),
    };
    ClockDisplay {
        name: config.policy.schedule_name(id).to_string(),
        business,
        zone,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricStatus {
    pub state: String,
    /// RFC 3339 UTC, or null (paused, met, no target).
    pub deadline: Option<String>,
    /// The deadline in the schedule's zone: `Tue 1 Dec 18:30 PST`.
    pub deadline_local: Option<String>,
    /// Business hours of a schedule, or the calendar (`24x7`).
    pub business_clock: bool,
    pub target_seconds: Option<i64>,
    pub elapsed_seconds: i64,
    /// Negative when overdue.
    pub remaining_seconds: i64,
    pub acknowledged_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    pub first_response: MetricStatus,
    pub resolution: MetricStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalStatus {
    pub name: String,
    pub metric: String,
    #[serde(flatten)]
    pub clock: MetricStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketStatus {
    pub ticket_id: u64,
    pub subject: String,
    pub status: String,
    pub tier: String,
    pub contract: Option<String>,
    pub severity: String,
    /// False when the ticket has no severity and the default applies.
    pub classified: bool,
    pub assignee_id: Option<u64>,
    pub metrics: Metrics,
    pub goals: Vec<GoalStatus>,
    /// False while the events export has not passed the ticket's last change: the clocks shown
    /// may still move, and no alert is decided for it yet.
    pub facts_complete: bool,
    /// The GitHub issue of the ticket's latest request for engineering, once filed.
    #[serde(default)]
    pub engineering_issue: Option<String>,
    /// What went wrong for good with the latest request for engineering: GitHub refused its issue,
    /// the issue is gone, or Zendesk refused a note of its news.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engineering_failed: Option<String>,
}

fn metric_status(config: &Config, clock: &MetricClock) -> MetricStatus {
    let display = clock_display(config, clock.schedule);
    let deadline = clock
        .deadline
        .filter(|_| matches!(clock.state, ClockState::Running | ClockState::Breached));
    MetricStatus {
        state: clock.state.key().to_string(),
        deadline: deadline.map(format_rfc3339),
        deadline_local: deadline.map(|d| wording::local(d, display.zone)),
        business_clock: display.business,
        target_seconds: clock.target.map(|t| t.0),
        elapsed_seconds: clock.elapsed,
        remaining_seconds: clock.remaining,
        acknowledged_at: clock.acknowledged_at.map(format_rfc3339),
    }
}

/// Most urgent first: breached (longest overdue first), then running by deadline, then the rest.
fn urgency(clocks: &TicketClocks) -> (u8, i64) {
    let contract: Vec<&MetricClock> = clocks.clocks.iter().filter(|c| c.kind == TargetKind::Contract).collect();
    if let Some(overdue) = contract
        .iter()
        .filter(|c| c.state == ClockState::Breached && c.completed_at.is_none())
        .map(|c| c.remaining)
        .min()
    {
        return (0, overdue);
    }
    match contract
        .iter()
        .filter(|c| c.state == ClockState::Running)
        .filter_map(|c| c.deadline)
        .min()
    {
        Some(deadline) => (1, deadline),
        None => (2, 0),
    }
}

pub fn ticket_status(config: &Config, record: &TicketRecord, clocks: &TicketClocks, facts_complete: bool) -> TicketStatus {
    let contract = |metric| {
        clocks.contract(metric).map(|c| metric_status(config, c)).unwrap_or(MetricStatus {
            state: ClockState::NotApplicable.key().to_string(),
            deadline: None,
            deadline_local: None,
            business_clock: false,
            target_seconds: None,
            elapsed_seconds: 0,
            remaining_seconds: 0,
            acknowledged_at: None,
        })
    };
    TicketStatus {
        ticket_id: record.id,
        subject: record.subject.clone(),
        status: record.status.clone(),
        tier: clocks.tier.clone(),
        contract: clocks.contract.clone(),
        severity: clocks.severity.clone(),
        classified: clocks.classified,
        assignee_id: record.assignee_id,
        metrics: Metrics {
            first_response: contract(Metric::FirstResponse),
            resolution: contract(Metric::Resolution),
        },
        goals: clocks
            .clocks
            .iter()
            .filter(|c| c.kind == TargetKind::Goal)
            .map(|c| GoalStatus {
                name: c.name.clone(),
                metric: c.metric.key().to_string(),
                clock: metric_status(config, c),
            })
            .collect(),
        facts_complete,
        engineering_issue: None,
        engineering_failed: None,
    }
}

/// Every open ticket's clocks at `now`, most urgent first.
pub fn open_tickets(config: &Config, store: &Store, directory: &Directory, now: Timestamp) -> Result<Vec<TicketStatus>, StoreError> {
    let mut rows = Vec::new();
    let through = store.cursors()?.events_through;
    // The index of open tickets: a store of a million mostly closed tickets reads only the open.
    for id in store.open_ticket_ids()? {
        let record = match store.ticket(id) {
            Ok(Some(record)) => record,
            Ok(None) => continue,
            Err(StoreError::Corrupt { .. }) => {
                store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                continue;
            }
            Err(other) => return Err(other),
        };
        if !record.is_open() {
            continue;
        }
        if let Some(clocks) = clocks_of(config, &record, directory, now) {
            let complete = facts_complete(&record, through);
            let mut row = ticket_status(config, &record, &clocks, complete);
            if config.escalation.is_some() {
                (row.engineering_issue, row.engineering_failed) = engineering_issue(store, record.id)?;
            }
            rows.push((urgency(&clocks), row));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ticket_id.cmp(&b.1.ticket_id)));
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

/// The URL of the issue of the ticket's latest request for engineering, or why GitHub refused
/// it. An escalation record that cannot be read is counted and shown as no issue, as an
/// unreadable ticket is skipped: one bad record never breaks the page (the escalation worker's
/// passes log it).
pub(super) fn engineering_issue(store: &Store, ticket_id: u64) -> Result<(Option<String>, Option<String>), StoreError> {
    match store.escalation(ticket_id) {
        Ok(escalation) => {
            let latest = escalation.as_ref().and_then(|e| e.latest());
            let issue = latest.and_then(|r| r.issue.as_ref());
            let problem = latest.and_then(|r| r.failed.clone()).or_else(|| {
                let issue = issue?;
                match (&issue.gone, issue.undeliverable.last()) {
                    (Some(gone), _) => Some(format!("the issue is no more, news no longer followed: {gone}")),
                    (None, Some(refused)) => Some(format!("news not noted on the ticket: {refused}")),
                    (None, None) => None,
                }
            });
            Ok((issue.map(|i| i.url.clone()), problem))
        }
        Err(StoreError::Corrupt { .. }) => {
            store.stats.unreadable.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok((None, None))
        }
        Err(other) => Err(other),
    }
}

/// `51 business hours left, due Thu 10 Dec 12:59 PST`: clock time (business hours on a business
/// clock) beside the local deadline.
fn describe(m: &MetricStatus) -> String {
    let time = |seconds: i64| wording::clock_time(seconds, m.business_clock);
    let due = m.deadline_local.as_deref().map(|d| format!(", due {d}")).unwrap_or_default();
    match m.state.as_str() {
        "running" if m.acknowledged_at.is_some() => format!("acknowledged, {} left{due}", time(m.remaining_seconds)),
        "running" => format!("{} left{due}", time(m.remaining_seconds)),
        "breached" => {
            let at = m.deadline_local.as_deref().map(|d| format!(" (due {d})")).unwrap_or_default();
            format!("BREACHED {} overdue{at}", time(-m.remaining_seconds))
        }
        "paused" => format!("paused, {} left", time(m.remaining_seconds)),
        "not_applicable" => "no target".to_string(),
        "not_started" => "waiting for the customer".to_string(),
        other => other.replace('_', " "),
    }
}

/// The human table.
pub fn render_table(rows: &[TicketStatus]) -> String {
    let mut out = format!(
        "{:<8} {:<12} {:<6} {:<9} {:<56} {}\n",
        "TICKET", "TIER", "SEV", "STATUS", "FIRST RESPONSE", "RESOLUTION"
    );
    for r in rows {
        let severity = if r.classified {
            r.severity.clone()
        } else {
            format!("{}?", r.severity)
        };
        out.push_str(&format!(
            "{:<8} {:<12} {:<6} {:<9} {:<56} {}\n",
            format!("#{}", r.ticket_id),
            r.tier,
            severity,
            r.status,
            describe(&r.metrics.first_response),
            describe(&r.metrics.resolution)
        ));
    }
    for r in rows {
        if let Some(issue) = &r.engineering_issue {
            out.push_str(&format!("#{} engineering: {issue}\n", r.ticket_id));
        }
        if let Some(reason) = &r.engineering_failed {
            let what = if r.engineering_issue.is_none() { "NO ISSUE FILED, " } else { "" };
            out.push_str(&format!("#{} engineering: {what}{reason}\n", r.ticket_id));
        }
    }
    if rows.is_empty() {
        out.push_str("no open tickets\n");
    } else if rows.iter().any(|r| !r.classified) {
        out.push_str("? unclassified: the ticket has no severity; the default applies\n");
    }
    out
}

impl super::Engine {
    /// Every open ticket's row at now, most urgent first, from the status board: what
    /// `open_tickets` says, without evaluating each ticket again.
    pub fn status_rows(&self) -> Result<super::board::Snapshot, StoreError> {
        self.status_board.snapshot(&self.store, &self.directory())
    }

    /// Rows `offset..offset + limit` of `status_rows`, as JSON, and the version.
    pub fn status_json(&self, offset: usize, limit: usize) -> Result<(String, Vec<u8>), StoreError> {
        self.status_board.snapshot_json(&self.store, &self.directory(), offset, limit)
    }

    /// The rows changed and the tickets removed since a version the board gave.
    pub fn status_since(&self, since: &str) -> Result<super::board::Delta, StoreError> {
        self.status_board.since(&self.store, &self.directory(), since)
    }

    /// The board's version now (what `/status` gives as its ETag).
    pub fn status_version(&self) -> Result<String, StoreError> {
        self.status_board.version(&self.store, &self.directory())
    }
}
