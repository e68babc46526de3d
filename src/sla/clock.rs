//! A ticket's facts and an instant → the state of each of its SLA clocks.
//!
//! Everything is re-derived from the ticket's facts on every evaluation: a
//! severity change, a reopen or a policy change needs no bookkeeping, and the
//! answer is the same whenever and however often it is asked.

use super::calendar::{CalendarError, Schedule};
use super::policy::{AppliedTarget, Customer, FirstResponseRules, Metric, Policy, ScheduleId, TargetKind, Threshold};
use super::time::{Duration, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A comment, as facts: the body itself is not kept (customer text at rest is a liability).
    Comment {
        at: Timestamp,
        author_id: u64,
        role: Role,
        public: bool,
        /// Characters in the trimmed body.
        length: u32,
        /// The body matched an acknowledgement pattern ("we are on it").
        acknowledgement: bool,
        /// A public comment linking to the documentation (`[report] docs_url_prefixes`).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        docs_link: bool,
    },
    /// Zendesk status, lower case (`new`, `open`, `pending`, `hold`, `solved`, `closed`,
    /// `deleted`, or one Zendesk adds later, which keeps clocks running).
    Status { at: Timestamp, status: String },
    /// The ticket's severity as mapped from its fields; None when it has none.
    Severity { at: Timestamp, severity: Option<String> },
}

impl Event {
    /// A comment's facts, read from its body under `rules`.
    pub fn comment(rules: &FirstResponseRules, at: Timestamp, author_id: u64, role: Role, public: bool, body: &str) -> Event {
        let (length, acknowledgement) = rules.read(body);
        Event::Comment {
            at,
            author_id,
            role,
            public,
            length,
            acknowledgement,
            docs_link: false,
        }
    }

    /// The comment, marked as linking to the documentation or not.
    pub fn with_docs_link(mut self, links: bool) -> Event {
        if let Event::Comment { docs_link, .. } = &mut self {
            *docs_link = links;
        }
        self
    }

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Counting at the instant evaluated: `elapsed` grows with the schedule's time from then on
    /// (a breached clock too, while its ticket waits for the answer).
    pub running: bool,
    /// Target minus elapsed; negative when overdue.
    pub remaining: i64,
    /// When the response or resolution came (or the clock stopped).
    pub completed_at: Option<Timestamp>,
    /// The clock ended without its response or resolution (solved unanswered, deleted):
    /// `completed_at` is when it stopped.
    pub stopped: bool,
    pub breached_at: Option<Timestamp>,
    /// First-response clocks: the first public acknowledgement, while no substantive reply came before it.
    pub acknowledged_at: Option<Timestamp>,
    /// Warnings and the breach, in order, crossed or not.
    pub alerts: Vec<AlertMark>,
    /// The next alert instant strictly after `now`, while the clock runs.
    pub next_alert: Option<(AlertPoint, Timestamp)>,
    /// Since when this target applies: the ticket's creation, or the severity change that set it.
    /// A point crossed before it is told as crossed at this instant (an upgrade already past its
    /// new target breaches at once).
    pub target_since: Timestamp,
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
    let mut solved_at = None;
    // While deleted, every clock stands still; a restore resumes it where it was.
    let mut deleted = false;
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
    let active = |t: &Timeline| t.started_at.is_some() && (metric == Metric::Resolution || t.completed_at.is_none());

    for event in facts.events.iter().filter(|e| e.at() <= now) {
        match event {
            Event::Status { at, status: new } => {
                let at = (*at).max(facts.created_at);
                if new == "deleted" {
                    close_run(&mut t, &mut run_from, at);
                    t.stopped_at = Some(at);
                    deleted = true;
                    continue;
                }
                if deleted {
                    // Restored: back to the status it had before, then on to `new`.
                    deleted = false;
                    t.stopped_at = None;
                    if active(&t) && counts(&status) {
                        run_from = Some(at);
                    }
                }
                if is_solved(new) && !is_solved(&status) {
                    solved_at = Some(at);
                } else if !is_solved(new) {
                    solved_at = None;
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
                if active(&t) {
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
                length,
                acknowledgement,
                ..
            } if metric == Metric::FirstResponse && *public && t.completed_at.is_none() && !deleted => {
                let at = (*at).max(facts.created_at);
                match t.started_at {
                    None if *role == Role::EndUser => {
                        t.started_at = Some(at);
                        if counts(&status) {
                            run_from = Some(at);
                        }
                    }
                    Some(_) if role.is_agent() && !rules.is_bot(*author_id) => {
                        if rules.is_substantive(*length, *acknowledgement) {
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
    if metric == Metric::FirstResponse && t.completed_at.is_none() && t.stopped_at.is_none() && t.running_since.is_none() {
        // Solved with no response: nothing left to respond to (a reopen resumes the clock).
        t.stopped_at = solved_at;
    }
    t
}

/// The severity in force at `now` (the last severity event over the whole history), and since
/// when: the instant it last changed, or the ticket's creation for the severity it started with.
fn severity_at(facts: &TicketFacts, now: Timestamp) -> (Option<&str>, Timestamp) {
    let mut current: Option<Option<&str>> = None;
    let mut since = facts.created_at;
    for event in facts.events.iter().filter(|e| e.at() <= now) {
        if let Event::Severity { at, severity } = event {
            let severity = severity.as_deref();
            if current.is_some_and(|c| c != severity) {
                since = (*at).max(facts.created_at);
            }
            current = Some(severity);
        }
    }
    (current.flatten(), since)
}

/// Whether the ticket's latest status by `now` is `deleted`.
fn is_deleted(facts: &TicketFacts, now: Timestamp) -> bool {
    facts
        .events
        .iter()
        .rev()
        .filter(|e| e.at() <= now)
        .find_map(|e| match e {
            Event::Status { status, .. } => Some(status == "deleted"),
            _ => None,
        })
        .unwrap_or(false)
}

/// Reminders follow a contractual breach; an internal goal's breach is told once.
fn reminders_for(policy: &Policy, target: &AppliedTarget) -> Option<Duration> {
    policy.reminder_every.filter(|_| target.kind == TargetKind::Contract)
}

/// Every clock of a ticket at `now`.
pub fn evaluate(policy: &Policy, facts: &TicketFacts, now: Timestamp) -> Result<TicketClocks, CalendarError> {
    if !facts.events.is_sorted_by_key(Event::at) {
        let mut sorted = facts.clone();
        sorted.events.sort_by_key(Event::at);
        return evaluate(policy, &sorted, now);
    }
    // A clock read a little before the ticket's creation (clock skew) reads as at its creation.
    let now = now.max(facts.created_at);
    let (raw_severity, severity_since) = severity_at(facts, now);
    let (severity, classified) = policy.severity(raw_severity);
    let tier = policy.tier_name(&facts.customer).to_string();
    let deleted = is_deleted(facts, now);
    let mut clocks = Vec::new();
    for metric in Metric::ALL {
        let timeline = timeline(policy, facts, metric, now);
        let targets = policy.targets(&facts.customer, severity, metric);
        if !targets.iter().any(|t| t.kind == TargetKind::Contract) {
            let schedule = policy.schedule(policy.customer_schedule(&facts.customer));
            clocks.push(not_applicable(metric, &timeline, schedule)?);
        }
        for target in targets {
            let schedule = policy.schedule(target.schedule);
            let mut clock = measure(&timeline, &target, schedule, reminders_for(policy, &target), now)?;
            clock.target_since = severity_since;
            clocks.push(clock);
        }
    }
    Ok(TicketClocks {
        tier,
        contract: facts.customer.contract.clone().filter(|c| policy.contracts.contains_key(c)),
        severity: severity.to_string(),
        classified,
        deleted,
        clocks,
    })
}

/// A metric without a contractual target: no deadline, but once its response or resolution
/// came, the time it took is counted on the customer's schedule (the reports' time to
/// resolution, in the clock's own time). Until then nothing is counted: nothing is owed, and a
/// figure growing with the time read would be a figure the status board must keep current.
fn not_applicable(metric: Metric, timeline: &Timeline, schedule: &Schedule) -> Result<MetricClock, CalendarError> {
    let mut elapsed = 0;
    if timeline.completed_at.is_some() {
        for &(from, to) in &timeline.runs {
            elapsed += schedule.elapsed(from, to)?;
        }
    }
    Ok(MetricClock {
        metric,
        kind: TargetKind::Contract,
        name: "contract".to_string(),
        schedule: None,
        target: None,
        state: ClockState::NotApplicable,
        started_at: timeline.started_at,
        deadline: None,
        elapsed,
        running: false,
        remaining: 0,
        completed_at: timeline.completed_at,
        stopped: false,
        breached_at: None,
        acknowledged_at: timeline.acknowledged_at,
        alerts: Vec::new(),
        next_alert: None,
        target_since: 0,
    })
}

/// Reminders listed at most, so a clock breached for years stays cheap to evaluate.
const MAX_REMINDERS: i64 = 100;

/// Measures a timeline against one target.
fn measure(
    timeline: &Timeline,
    target: &AppliedTarget,
    schedule: &Schedule,
    reminder_every: Option<Duration>,
    now: Timestamp,
) -> Result<MetricClock, CalendarError> {
    let goal = target.duration.0;
    let runs: Vec<(Timestamp, Timestamp)> = timeline
        .runs
        .iter()
        .copied()
        .chain(timeline.running_since.map(|a| (a, now)))
        .collect();
    let counted: Vec<i64> = runs
        .iter()
        .map(|&(from, to)| schedule.elapsed(from, to))
        .collect::<Result<_, _>>()?;
    let elapsed: i64 = counted.iter().sum();
    let running = timeline.running_since.is_some();

    let mut points: Vec<(AlertPoint, i64)> = target
        .thresholds
        .iter()
        .filter_map(|&t| t.mark(target.duration).map(|m| (AlertPoint::Warning(t), m)))
        .collect();
    points.push((AlertPoint::Breach, goal));
    points.sort_by_key(|&(_, mark)| mark);
    points.dedup_by_key(|&mut (_, mark)| mark);
    // Reminders already due are listed like any crossed threshold, and the next one while running,
    // so a restart can still see one it has not sent.
    let every = reminder_every.map(|r| r.0).filter(|&r| r > 0 && timeline.completed_at.is_none());
    if let Some(every) = every {
        let due = ((elapsed - goal) / every).clamp(0, MAX_REMINDERS);
        let listed = if running { due + 1 } else { due };
        for n in 1..=listed.min(MAX_REMINDERS) {
            points.push((AlertPoint::Reminder(n as u32), goal.saturating_add(n.saturating_mul(every))));
        }
    }

    // Walk the runs, noting when each mark was crossed.
    let mut crossed_at: Vec<Option<Timestamp>> = vec![None; points.len()];
    let mut before = 0i64;
    for (&(from, _), &count) in runs.iter().zip(&counted) {
        for (i, &(_, mark)) in points.iter().enumerate() {
            if crossed_at[i].is_none() && mark > before && mark <= before + count {
                crossed_at[i] = Some(schedule.deadline(from, Duration(mark - before))?);
            }
        }
        before += count;
    }
    // While running, a mark ahead falls where the current run reaches it; a projection past
    // the calendar's range is simply unknown.
    let project = |mark: i64| -> Option<Timestamp> {
        let from = timeline.running_since.filter(|_| mark > elapsed)?;
        let before_run = elapsed - counted.last().copied().unwrap_or(0);
        schedule.deadline(from, Duration(mark - before_run)).ok()
    };

    let breach_index = points.iter().position(|&(p, _)| p == AlertPoint::Breach).unwrap_or(0);
    let breached_at = crossed_at[breach_index].filter(|&at| timeline.completed_at.is_none_or(|done| done > at));
    let deadline = crossed_at[breach_index].or_else(|| project(goal));

    let state = if breached_at.is_some() {
        ClockState::Breached
    } else if timeline.completed_at.is_some() {
        ClockState::Met
    } else if timeline.stopped_at.is_some() {
        ClockState::Stopped
    } else if timeline.started_at.is_none() {
        ClockState::NotStarted
    } else if running {
        ClockState::Running
    } else {
        ClockState::Paused
    };

    let alerts: Vec<AlertMark> = points
        .iter()
        .zip(&crossed_at)
        .map(|(&(point, mark), crossed)| AlertMark {
            point,
            mark,
            at: crossed.or_else(|| project(mark)),
            crossed: crossed.is_some(),
        })
        .collect();
    let next_alert = alerts.iter().filter(|a| !a.crossed).find_map(|a| a.at.map(|at| (a.point, at)));

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
        running,
        remaining: goal - elapsed,
        completed_at: timeline.completed_at.or(timeline.stopped_at),
        stopped: timeline.completed_at.is_none() && timeline.stopped_at.is_some(),
        breached_at,
        acknowledged_at: timeline.acknowledged_at.filter(|_| timeline.completed_at.is_none()),
        alerts,
        next_alert,
        target_since: 0,
    })
}
