//! Which alerts to raise for a ticket's clocks at an instant: pure
//! decisions, kept apart from storing and delivering them.
//!
//! Each alert has an identity that never repeats: (ticket, metric, target,
//! clock instance, alert point). The clock instance is the target's length,
//! so a reopen (same clock) never alerts twice, while a severity change that
//! sets a new target gets that target's alerts.

use super::clock::{AlertPoint, ClockState, MetricClock, TicketClocks};
use super::policy::{Metric, TargetKind, Threshold};
use super::time::{Duration, Timestamp};

/// The identity of one alert.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AlertId {
    pub ticket_id: u64,
    pub metric: Metric,
    /// `contract` or the goal's name.
    pub target_name: String,
    pub target: Duration,
    pub point: AlertPoint,
}

pub fn point_key(point: AlertPoint) -> String {
    match point {
        AlertPoint::Warning(Threshold::Percent(p)) => format!("{p}pct"),
        AlertPoint::Warning(Threshold::Before(d)) => format!("{}-before", d.0),
        AlertPoint::Breach => "breach".to_string(),
        AlertPoint::Reminder(n) => format!("reminder-{n}"),
    }
}

impl AlertId {
    /// Stable text key, ordered by ticket: `00000000000000000123/first_response/contract@86400/75pct`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.clock_key(), point_key(self.point))
    }

    /// The key prefix shared by every alert of this clock instance.
    pub fn clock_key(&self) -> String {
        clock_key(self.ticket_id, self.metric, &self.target_name, self.target)
    }
}

pub fn clock_key(ticket_id: u64, metric: Metric, target_name: &str, target: Duration) -> String {
    format!("{ticket_id:020}/{}/{target_name}@{}", metric.key(), target.0)
}

/// What to do about one crossed alert point not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// A later point of the same clock crossed too: only the latest goes out.
    Superseded,
    /// Crossed longer ago than the backfill window when first seen: recorded, shown, not sent.
    TooOld,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: AlertId,
    pub kind: TargetKind,
    /// When the point was crossed.
    pub at: Timestamp,
    pub verdict: Verdict,
}

fn is_live(clock: &MetricClock) -> bool {
    // Alerts are about a clock still unmet: running, or breached and still open.
    matches!(clock.state, ClockState::Running | ClockState::Paused) || (clock.state == ClockState::Breached && clock.completed_at.is_none())
}

/// Decides the alert points crossed by `now` that `known` (already recorded) does not have.
/// Of several new ones on a clock only the latest is sent; one older than `backfill` is kept
/// quiet. A met, stopped or deleted clock raises nothing.
/// How alerts are decided for one ticket.
#[derive(Debug, Clone, Copy)]
pub struct Sight {
    /// When slawatch first saw the ticket: points crossed before it were missed, not late.
    pub first_seen: Timestamp,
    /// A point missed at first sight longer ago than this is recorded, not sent.
    pub backfill: i64,
}

pub fn decide(ticket_id: u64, clocks: &TicketClocks, now: Timestamp, sight: Sight, known: impl Fn(&str) -> bool) -> Vec<Decision> {
    let mut out = Vec::new();
    if clocks.deleted {
        return out;
    }
    for clock in clocks.clocks.iter().filter(|c| is_live(c)) {
        let Some(target) = clock.target else { continue };
        let mut fresh: Vec<(AlertId, Timestamp)> = clock
            .alerts
            .iter()
            .filter(|a| a.crossed)
            .filter_map(|a| a.at.filter(|&at| at <= now).map(|at| (a.point, at)))
            .map(|(point, at)| {
                (
                    AlertId {
                        ticket_id,
                        metric: clock.metric,
                        target_name: clock.name.clone(),
                        target,
                        point,
                    },
                    at,
                )
            })
            .filter(|(id, _)| !known(&id.key()))
            .collect();
        fresh.sort_by_key(|(id, at)| (*at, id.point));
        let Some(last) = fresh.len().checked_sub(1) else { continue };
        // Missed at first sight and older than the backfill window: told in status, not sent.
        // A breach that old keeps its reminders quiet too. Points crossed after the ticket was
        // first seen are late (the daemon was down), never too old: they are not lost.
        let missed_long_ago = |at: Timestamp| at < sight.first_seen && now.saturating_sub(at) > sight.backfill;
        let old_breach = fresh.iter().any(|(id, at)| id.point == AlertPoint::Breach && missed_long_ago(*at));
        for (i, (id, at)) in fresh.into_iter().enumerate() {
            let verdict = if i < last {
                Verdict::Superseded
            } else if missed_long_ago(at) || (old_breach && matches!(id.point, AlertPoint::Reminder(_))) {
                Verdict::TooOld
            } else {
                Verdict::Send
            };
            out.push(Decision {
                id,
                kind: clock.kind,
                at,
                verdict,
            });
        }
    }
    out
}

/// When a ticket next needs the alert timer: its next alert instant, or at once (the earliest
/// such instant) when a crossed point is not recorded yet, as for a ticket first seen late
/// or after the daemon was down.
pub fn next_look(ticket_id: u64, clocks: &TicketClocks, known: impl Fn(&str) -> bool) -> Option<Timestamp> {
    let everything = Sight {
        first_seen: Timestamp::MIN,
        backfill: Timestamp::MAX,
    };
    let unrecorded = decide(ticket_id, clocks, Timestamp::MAX, everything, known)
        .into_iter()
        .map(|d| d.at)
        .min();
    [unrecorded, clocks.next_alert()].into_iter().flatten().min()
}

/// Whether an alert decided earlier should still go out, given the clock now.
pub fn still_due(clocks: &TicketClocks, id: &AlertId) -> bool {
    let Some(clock) = clocks
        .clocks
        .iter()
        .find(|c| c.metric == id.metric && c.name == id.target_name && c.target == Some(id.target))
    else {
        return false;
    };
    match id.point {
        // A breach happened even if an answer came after it: it is still told (a deleted
        // ticket excepted). Warnings and reminders are moot once the clock is done.
        AlertPoint::Breach => !clocks.deleted && clock.breached_at.is_some(),
        _ => !clocks.deleted && is_live(clock),
    }
}
