//! A ticket's facts and an instant → the state of each of its SLA clocks.
//!
//! Everything is re-derived from the ticket's facts on every evaluation: a
//! severity change, a reopen or a policy change needs no bookkeeping, and the
//! answer is the same whenever and however often it is asked.

use super::calendar::{CalendarError, Schedule};
use super::policy::{AppliedTarget, Customer, Metric, Policy, ScheduleId, TargetKind, Threshold};
use super::time::{Duration, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    EndUser,
    Agent,
    Admin,
    /// A role Zendesk may add later: neither customer nor agent.
    Other,
}

impl Role {
    pub fn is_agent(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

/// Something that happened on a ticket, as the clocks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Comment {
        at: Timestamp,
        author_id: u64,
        role: Role,
        public: bool,
        body: String,
    },
    /// Zendesk status, lower case (`new`, `open`, `pending`, `hold`, `solved`, `closed`,
    /// `deleted`, or one Zendesk adds later, which keeps clocks running).
    Status { at: Timestamp, status: String },
    /// The ticket's severity as mapped from its fields; None when it has none.
    Severity { at: Timestamp, severity: Option<String> },
}

impl Event {
    pub fn at(&self) -> Timestamp {
        match self {
            Event::Comment { at, .. } | Event::Status { at, .. } | Event::Severity { at, .. } => *at,
        }
    }
}

/// What the daemon knows of a ticket. Events are in the order they happened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TicketFacts {
    pub created_at: Timestamp,
    /// Opened by an agent on a customer's behalf: the response clock waits for the customer.
    pub opened_by_agent: bool,
    pub customer: Customer,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockState {
    /// Counting now.
    Running,
    /// Not counting now (a pausing status, or a solved ticket's response clock).
    Paused,
    /// Done within the target.
    Met,
    /// Past the target: still open, or done late.
    Breached,
    /// No target applies.
    NotApplicable,
    /// Waiting for its start: an agent-opened ticket before the customer's first comment.
    NotStarted,
    /// Stopped for good without being met: the ticket was deleted, or solved without a response.
    Stopped,
}

impl ClockState {
    pub fn key(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
            ClockState::NotApplicable => "not_applicable",
            ClockState::NotStarted => "not_started",
            ClockState::Stopped => "stopped",
        }
    }
}

/// An alert point of a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AlertPoint {
    Warning(Threshold),
    Breach,
    /// The n-th reminder after the breach (1-based).
    Reminder(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertMark {
    pub point: AlertPoint,
    /// Clock time into the target at which it falls.
    pub mark: i64,
    /// When it was (or, while running, will be) crossed; None while paused before it.
    pub at: Option<Timestamp>,
    pub crossed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricClock {
    pub metric: Metric,
    pub kind: TargetKind,
    /// `contract`, or the goal's name.
    pub name: String,
    pub schedule: Option<ScheduleId>,
    pub target: Option<Duration>,
    pub state: ClockState,
    pub started_at: Option<Timestamp>,
    /// When the target is (or was) used up: projected while running or met, actual once breached.
    pub deadline: Option<Timestamp>,
    /// Clock time counted so far.
    pub elapsed: i64,
    /// Target minus elapsed; negative when overdue.
    pub remaining: i64,
    /// When the response or resolution came (or the clock stopped).
    pub completed_at: Option<Timestamp>,
    pub breached_at: Option<Timestamp>,
    /// First-response clocks: the first public acknowledgement, while no substantive reply came before it.
    pub acknowledged_at: Option<Timestamp>,
    /// Warnings and the breach, in order, crossed or not.
    pub alerts: Vec<AlertMark>,
    /// The next alert instant strictly after `now`, while the clock runs.
    pub next_alert: Option<(AlertPoint, Timestamp)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketClocks {
    pub tier: String,
    pub contract: Option<String>,
    pub severity: String,
    /// False when the ticket has no severity and the default was used.
    pub classified: bool,
    pub deleted: bool,
    pub clocks: Vec<MetricClock>,
}

impl TicketClocks {
    /// The contractual clock for `metric` (present for every metric, possibly not applicable).
    pub fn contract(&self, metric: Metric) -> Option<&MetricClock> {
        self.clocks.iter().find(|c| c.metric == metric && c.kind == TargetKind::Contract)
    }

    /// The earliest next alert over all clocks.
    pub fn next_alert(&self) -> Option<Timestamp> {
        self.clocks.iter().filter_map(|c| c.next_alert.map(|(_, at)| at)).min()
    }
}

/// When a metric's clock counted: its start, its runs, and how it ended.
#[derive(Debug, Default)]
struct Timeline {
    started_at: Option<Timestamp>,
    /// Closed runs `[from, to)`, in order.
    runs: Vec<(Timestamp, Timestamp)>,
    /// The run still going at `now`.
    running_since: Option<Timestamp>,
    completed_at: Option<Timestamp>,
    stopped_at: Option<Timestamp>,
    acknowledged_at: Option<Timestamp>,
}

fn is_solved(status: &str) -> bool {
    matches!(status, "solved" | "closed")
}

/// Builds the timeline of one metric from the events up to `now`.
fn timeline(policy: &Policy, facts: &TicketFacts, metric: Metric, now: Timestamp) -> Timeline {
    let mut t = Timeline::default();
    let rules = &policy.first_response;
    let mut status = "new".to_string();
    if metric == Metric::Resolution || !facts.opened_by_agent {
        t.started_at = Some(facts.created_at);
    }
    let counts = |status: &str| !policy.is_paused(metric, status) && !is_solved(status) && status != "deleted";
    let mut run_from = t.started_at.filter(|_| counts(&status));
    let close_run = |t: &mut Timeline, run_from: &mut Option<Timestamp>, at: Timestamp| {
        if let Some(from) = run_from.take() {
            t.runs.push((from, at.max(from)));
        }
    };

    for event in facts.events.iter().filter(|e| e.at() <= now) {
        if t.stopped_at.is_some() {
            break;
        }
        match event {
            Event::Status { at, status: new } => {
                let at = (*at).max(facts.created_at);
                if new == "deleted" {
                    close_run(&mut t, &mut run_from, at);
                    t.stopped_at = Some(at);
                    break;
                }
                status = new.clone();
                if metric == Metric::Resolution {
                    if is_solved(&status) {
                        if t.completed_at.is_none() {
                            t.completed_at = Some(at);
                        }
                    } else {
                        t.completed_at = None;
                    }
                }
                if t.started_at.is_some() && (metric == Metric::Resolution || t.completed_at.is_none()) {
                    match (counts(&status), run_from.is_some()) {
                        (true, false) => run_from = Some(at),
                        (false, true) => close_run(&mut t, &mut run_from, at),
                        _ => {}
                    }
                }
            }
            Event::Comment {
                at,
                author_id,
                role,
                public,
                body,
            } if metric == Metric::FirstResponse && *public && t.completed_at.is_none() => {
                let at = (*at).max(facts.created_at);
                match t.started_at {
                    None if *role == Role::EndUser => {
                        t.started_at = Some(at);
                        if counts(&status) {
                            run_from = Some(at);
                        }
                    }
                    Some(_) if role.is_agent() && !rules.is_bot(*author_id) => {
                        if rules.is_substantive(body) {
                            close_run(&mut t, &mut run_from, at);
                            t.completed_at = Some(at);
                        } else if t.acknowledged_at.is_none() {
                            t.acknowledged_at = Some(at);
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    t.running_since = run_from;
    if metric == Metric::FirstResponse
        && t.completed_at.is_none()
        && t.stopped_at.is_none()
        && t.running_since.is_none()
        && is_solved(&status)
    {
        // Solved with no response: nothing left to respond to (a reopen resumes the clock).
        t.stopped_at = facts
            .events
            .iter()
            .rev()
            .find(|e| e.at() <= now && matches!(e, Event::Status { .. }))
            .map(Event::at);
    }
    t
}

/// The severity in force at `now`: the last severity event, over the whole history.
fn severity_at(facts: &TicketFacts, now: Timestamp) -> Option<&str> {
    facts
        .events
        .iter()
        .rev()
        .filter(|e| e.at() <= now)
        .find_map(|e| match e {
            Event::Severity { severity, .. } => Some(severity.as_deref()),
            _ => None,
        })
        .flatten()
}

/// Every clock of a ticket at `now`.
pub fn evaluate(policy: &Policy, facts: &TicketFacts, now: Timestamp) -> Result<TicketClocks, CalendarError> {
    let (severity, classified) = policy.severity(severity_at(facts, now));
    let tier = policy.tier_name(&facts.customer).to_string();
    let deleted = facts
        .events
        .iter()
        .any(|e| e.at() <= now && matches!(e, Event::Status { status, .. } if status == "deleted"));
    let mut clocks = Vec::new();
    for metric in Metric::ALL {
        let timeline = timeline(policy, facts, metric, now);
        let targets = policy.targets(&facts.customer, severity, metric);
        if !targets.iter().any(|t| t.kind == TargetKind::Contract) {
            clocks.push(not_applicable(metric, &timeline));
        }
        for target in targets {
            let schedule = policy.schedule(target.schedule);
            clocks.push(measure(&timeline, &target, schedule, policy.reminder_every, now)?);
        }
    }
    Ok(TicketClocks {
        tier,
        contract: facts.customer.contract.clone(),
        severity: severity.to_string(),
        classified,
        deleted,
        clocks,
    })
}

fn not_applicable(metric: Metric, timeline: &Timeline) -> MetricClock {
    MetricClock {
        metric,
        kind: TargetKind::Contract,
        name: "contract".to_string(),
        schedule: None,
        target: None,
        state: ClockState::NotApplicable,
        started_at: timeline.started_at,
        deadline: None,
        elapsed: 0,
        remaining: 0,
        completed_at: timeline.completed_at,
        breached_at: None,
        acknowledged_at: timeline.acknowledged_at,
        alerts: Vec::new(),
        next_alert: None,
    }
}

/// Measures a timeline against one target.
fn measure(
    timeline: &Timeline,
    target: &AppliedTarget,
    schedule: &Schedule,
    reminder_every: Option<Duration>,
    now: Timestamp,
) -> Result<MetricClock, CalendarError> {
    let goal = target.duration.0;
    let mut points: Vec<(AlertPoint, i64)> = target
        .thresholds
        .iter()
        .filter_map(|&t| t.mark(target.duration).map(|m| (AlertPoint::Warning(t), m)))
        .collect();
    points.push((AlertPoint::Breach, goal));
    points.sort_by_key(|&(_, mark)| mark);
    points.dedup_by_key(|&mut (_, mark)| mark);

    // Walk the runs, noting when each mark was crossed.
    let mut crossed_at: Vec<Option<Timestamp>> = vec![None; points.len()];
    let mut before = 0i64;
    let runs = timeline
        .runs
        .iter()
        .map(|&(a, b)| (a, b, false))
        .chain(timeline.running_since.map(|a| (a, now, true)));
    let mut last_run_start = None;
    let mut before_last_run = 0;
    for (from, to, _) in runs {
        let counted = schedule.elapsed(from, to)?;
        for (i, &(_, mark)) in points.iter().enumerate() {
            if crossed_at[i].is_none() && mark > before && mark <= before + counted {
                crossed_at[i] = Some(schedule.deadline(from, Duration(mark - before))?);
            }
        }
        last_run_start = Some(from);
        before_last_run = before;
        before += counted;
    }
    let elapsed = before;

    let running = timeline.running_since.is_some();
    let project = |mark: i64| -> Result<Option<Timestamp>, CalendarError> {
        match last_run_start {
            Some(from) if running || timeline.completed_at.is_some() => {
                Ok(Some(schedule.deadline(from, Duration(mark - before_last_run))?))
            }
            _ => Ok(None),
        }
    };
    let breach_index = points
        .iter()
        .position(|&(p, _)| p == AlertPoint::Breach)
        .unwrap_or(points.len() - 1);
    let breached_at = crossed_at[breach_index].filter(|&at| timeline.completed_at.is_none_or(|done| done > at));
    let deadline = match crossed_at[breach_index] {
        Some(at) => Some(at),
        None if elapsed < goal => project(goal)?,
        None => None,
    };

    let state = if timeline.started_at.is_none() {
        ClockState::NotStarted
    } else if breached_at.is_some() {
        ClockState::Breached
    } else if timeline.completed_at.is_some() {
        ClockState::Met
    } else if timeline.stopped_at.is_some() {
        ClockState::Stopped
    } else if running {
        ClockState::Running
    } else {
        ClockState::Paused
    };

    let mut alerts = Vec::with_capacity(points.len());
    for (i, &(point, mark)) in points.iter().enumerate() {
        let at = match crossed_at[i] {
            Some(at) => Some(at),
            None if running => project(mark)?,
            None => None,
        };
        alerts.push(AlertMark {
            point,
            mark,
            at,
            crossed: crossed_at[i].is_some(),
        });
    }

    let mut next_alert = None;
    if running {
        next_alert = alerts.iter().find(|a| !a.crossed).and_then(|a| a.at.map(|at| (a.point, at)));
        if let (None, Some(every)) = (next_alert, reminder_every.filter(|r| r.0 > 0)) {
            let n = (elapsed - goal) / every.0 + 1;
            let mark = goal + n * every.0;
            next_alert = project(mark)?.map(|at| (AlertPoint::Reminder(n as u32), at));
        }
    }

    Ok(MetricClock {
        metric: target.metric,
        kind: target.kind,
        name: target.name.clone(),
        schedule: Some(target.schedule),
        target: Some(target.duration),
        state,
        started_at: timeline.started_at,
        deadline,
        elapsed,
        remaining: goal - elapsed,
        completed_at: timeline.completed_at.or(timeline.stopped_at),
        breached_at,
        acknowledged_at: timeline.acknowledged_at.filter(|_| timeline.completed_at.is_none()),
        alerts,
        next_alert,
    })
}
