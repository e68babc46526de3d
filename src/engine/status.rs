//! Open tickets by urgency, as `slawatch status` and the admin `/status` show them.

use serde::{Deserialize, Serialize};

use super::apply::{clocks_of, Directory};
use crate::config::Config;
use crate::sla::clock::{ClockState, MetricClock, TicketClocks};
use crate::sla::policy::{Metric, TargetKind};
use crate::sla::time::{format_rfc3339, human, Timestamp};
use crate::store::{Store, StoreError, TicketRecord};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricStatus {
    pub state: String,
    /// RFC 3339 UTC, or null (paused, met, no target).
    pub deadline: Option<String>,
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
}

fn metric_status(clock: &MetricClock) -> MetricStatus {
    MetricStatus {
        state: clock.state.key().to_string(),
        deadline: clock
            .deadline
            .filter(|_| matches!(clock.state, ClockState::Running | ClockState::Breached))
            .map(format_rfc3339),
        target_seconds: clock.target.map(|t| t.0),
        elapsed_seconds: clock.elapsed,
        remaining_seconds: clock.remaining,
        acknowledged_at: clock.acknowledged_at.map(format_rfc3339),
    }
}

fn is_open(record: &TicketRecord) -> bool {
    record.exported && !matches!(record.status.as_str(), "solved" | "closed" | "deleted")
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

pub fn ticket_status(record: &TicketRecord, clocks: &TicketClocks) -> TicketStatus {
    let contract = |metric| {
        clocks.contract(metric).map(metric_status).unwrap_or(MetricStatus {
            state: ClockState::NotApplicable.key().to_string(),
            deadline: None,
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
                clock: metric_status(c),
            })
            .collect(),
    }
}

/// Every open ticket's clocks at `now`, most urgent first.
pub fn open_tickets(config: &Config, store: &Store, directory: &Directory, now: Timestamp) -> Result<Vec<TicketStatus>, StoreError> {
    let mut rows = Vec::new();
    for record in store.tickets() {
        let record = record?;
        if !is_open(&record) {
            continue;
        }
        if let Some(clocks) = clocks_of(config, &record, directory, now) {
            rows.push((urgency(&clocks), ticket_status(&record, &clocks)));
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.ticket_id.cmp(&b.1.ticket_id)));
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

fn describe(m: &MetricStatus) -> String {
    let deadline = m.deadline.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
    match m.state.as_str() {
        "running" if m.acknowledged_at.is_some() => format!("acknowledged, {} left{deadline}", human(m.remaining_seconds)),
        "running" => format!("{} left{deadline}", human(m.remaining_seconds)),
        "breached" => format!("BREACHED {} overdue{deadline}", human(m.remaining_seconds)),
        "paused" => format!("paused, {} left", human(m.remaining_seconds)),
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
    if rows.is_empty() {
        out.push_str("no open tickets\n");
    } else if rows.iter().any(|r| !r.classified) {
        out.push_str("? unclassified: the ticket has no severity; the default applies\n");
    }
    out
}
