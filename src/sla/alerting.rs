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

/// What to do about one crossed alert point not yet recorded (or recorded and contradicted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Send it.
    Send,
    /// A later point of the same clock is crossed too: only the latest goes out.
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
    /// When it is told as crossed: `at`, or later when the target itself came into force later
    /// (a severity upgrade already past its new target breaches at the upgrade).
    pub effective_at: Timestamp,
    pub verdict: Verdict,
}

/// What the store holds of an alert decided earlier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recorded {
    /// When the point was crossed, by the facts it was decided on.
    pub at: Timestamp,
    /// Something went out, or is queued to: it stands whatever later facts say. A record that is
    /// not binding (superseded, too old, unrouted, cancelled) is decided again when later facts
    /// move its point, and voided when they say it was not crossed at all.
    pub binding: bool,
}

/// The outcome of deciding a ticket's alerts at an instant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions {
    pub decided: Vec<Decision>,
    /// Keys of non-binding records whose point the facts now say is not crossed: they are
    /// removed, so the point is decided afresh when (if) it is crossed.
    pub voided: Vec<String>,
}

fn is_live(clock: &MetricClock) -> bool {
    // Alerts are about a clock still unmet: running, or breached and still open.
    matches!(clock.state, ClockState::Running | ClockState::Paused) || (clock.state == ClockState::Breached && clock.completed_at.is_none())
}

/// How alerts are decided for one ticket.
#[derive(Debug, Clone, Copy)]
pub struct Sight {
    /// When slawatch first saw the ticket: points crossed before it were missed, not late.
    pub first_seen: Timestamp,
    /// A point missed at first sight longer ago than this is recorded, not sent.
    pub backfill: i64,
}

fn alert_id(ticket_id: u64, clock: &MetricClock, target: Duration, point: AlertPoint) -> AlertId {
    AlertId {
        ticket_id,
        metric: clock.metric,
        target_name: clock.name.clone(),
        target,
        point,
    }
}

/// Decides the alert points crossed by `now` that `recorded` does not hold (or holds, not
/// binding, at another instant: later facts moved them). Only the clock's latest crossed point
/// is sent; an earlier one is superseded; one missed at first sight longer ago than the backfill
/// window is kept quiet. A met, stopped or deleted clock raises nothing.
pub fn decide(
    ticket_id: u64,
    clocks: &TicketClocks,
    now: Timestamp,
    sight: Sight,
    recorded: impl Fn(&str) -> Option<Recorded>,
) -> Decisions {
    let mut out = Decisions::default();
    if clocks.deleted {
        return out;
    }
    for clock in &clocks.clocks {
        let Some(target) = clock.target else { continue };
        // Recorded points that the facts now say are not crossed (yet) go, whatever the clock's state.
        for mark in clock.alerts.iter().filter(|a| !a.crossed || a.at.is_none_or(|at| at > now)) {
            let key = alert_id(ticket_id, clock, target, mark.point).key();
            if recorded(&key).is_some_and(|r| !r.binding) {
                out.voided.push(key);
            }
        }
        // A breach answered late (or first seen after the answer) still happened, and is told;
        // the warnings and reminders of a clock no longer running are not.
        let answered_after_breach = clock.state == ClockState::Breached && clock.completed_at.is_some();
        if !is_live(clock) && !answered_after_breach {
            continue;
        }
        let crossed: Vec<(AlertPoint, i64, Timestamp)> = clock
            .alerts
            .iter()
            .filter(|a| a.crossed && (!answered_after_breach || a.point == AlertPoint::Breach))
            .filter_map(|a| a.at.filter(|&at| at <= now).map(|at| (a.point, a.mark, at)))
            .collect();
        let Some(latest) = crossed.iter().map(|&(_, mark, _)| mark).max() else {
            continue;
        };
        let effective = |at: Timestamp| at.max(clock.target_since);
        // Missed at first sight and older than the backfill window: told in status, not sent.
        // A breach that old keeps its reminders quiet too. Points crossed after the ticket was
        // first seen are late (the daemon was down), never too old: they are not lost.
        let missed_long_ago = |at: Timestamp| {
            let at = effective(at);
            at < sight.first_seen && now.saturating_sub(at) > sight.backfill
        };
        let old_breach = crossed
            .iter()
            .any(|&(point, _, at)| point == AlertPoint::Breach && missed_long_ago(at));
        let mut fresh: Vec<(AlertPoint, i64, Timestamp)> = crossed
            .into_iter()
            .filter(|&(point, _, at)| {
                let key = alert_id(ticket_id, clock, target, point).key();
                recorded(&key).is_none_or(|r| !r.binding && r.at != at)
            })
            .collect();
        fresh.sort_by_key(|&(point, mark, at)| (at, mark, point));
        for (point, mark, at) in fresh {
            let verdict = if mark < latest {
                Verdict::Superseded
            } else if missed_long_ago(at) || (old_breach && matches!(point, AlertPoint::Reminder(_))) {
                Verdict::TooOld
            } else {
                Verdict::Send
            };
            out.decided.push(Decision {
                id: alert_id(ticket_id, clock, target, point),
                kind: clock.kind,
                at,
                effective_at: effective(at),
                verdict,
            });
        }
    }
    out
}

/// When a ticket next needs the alert timer: its next alert instant, or at once (the earliest
/// such instant) when a crossed point is not recorded yet, as for a ticket first seen late
/// or after the daemon was down.
pub fn next_look(ticket_id: u64, clocks: &TicketClocks, recorded: impl Fn(&str) -> Option<Recorded>) -> Option<Timestamp> {
    let everything = Sight {
        first_seen: Timestamp::MIN,
        backfill: Timestamp::MAX,
    };
    let pending = decide(ticket_id, clocks, Timestamp::MAX, everything, recorded);
    let unrecorded = pending.decided.iter().map(|d| d.at).min();
    [unrecorded, clocks.next_alert()].into_iter().flatten().min()
}

/// What to do, at delivery time, with an alert decided earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtDelivery {
    Deliver,
    /// A later point of the same clock has been crossed since: it goes out instead.
    Superseded,
    /// The clock was met or stopped, the ticket deleted, or its target changed.
    Moot(&'static str),
    /// The facts now say the point was never crossed: the decision is void.
    Contradicted,
}

/// Whether an alert decided earlier should still go out, given the clock at `now`.
pub fn at_delivery(clocks: &TicketClocks, id: &AlertId, now: Timestamp) -> AtDelivery {
    if clocks.deleted {
        return AtDelivery::Moot("the ticket was deleted");
    }
    let Some(clock) = clocks
        .clocks
        .iter()
        .find(|c| c.metric == id.metric && c.name == id.target_name && c.target == Some(id.target))
    else {
        return AtDelivery::Moot("the ticket's target changed");
    };
    let Some(mark) = clock.alerts.iter().find(|a| a.point == id.point) else {
        return AtDelivery::Contradicted;
    };
    if !mark.crossed || mark.at.is_none_or(|at| at > now) {
        return AtDelivery::Contradicted;
    }
    match id.point {
        // A breach happened even if an answer came after it: it is still told.
        AlertPoint::Breach => AtDelivery::Deliver,
        _ if !is_live(clock) => AtDelivery::Moot("the clock was met or stopped"),
        _ => {
            let later = clock
                .alerts
                .iter()
                .any(|a| a.mark > mark.mark && a.crossed && a.at.is_some_and(|at| at <= now));
            if later {
                AtDelivery::Superseded
            } else {
                AtDelivery::Deliver
            }
        }
    }
}

/// Why the clock an alert is about no longer needs anyone, if it does not: met (even late),
/// stopped, the ticket deleted, or the target gone. A page about it is resolved then, and one
/// not sent yet is not sent. A paused clock still needs someone: its breach stands.
pub fn settled(clocks: &TicketClocks, id: &AlertId) -> Option<&'static str> {
    if clocks.deleted {
        return Some("the ticket was deleted");
    }
    let Some(clock) = clocks
        .clocks
        .iter()
        .find(|c| c.metric == id.metric && c.name == id.target_name && c.target == Some(id.target))
    else {
        return Some("the ticket's target changed");
    };
    match clock.state {
        _ if is_live(clock) => None,
        ClockState::Met => Some("the clock was met"),
        ClockState::Breached if clock.completed_at.is_some() => Some("the clock was met (or stopped) after the breach"),
        _ => Some("the clock stopped"),
    }
}
