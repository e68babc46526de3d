//! What the KPIs need of one ticket, kept compactly beside it (and after it is solved, closed
//! or compacted away): its clock outcomes, when it was solved, its reply pattern, its
//! satisfaction rating and the values it is counted under.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::sla::clock::{ClockState, Event, MetricClock, TicketClocks};
use crate::sla::policy::{FirstResponseRules, Metric};
use crate::sla::time::Timestamp;

/// How a contractual clock stands, as far as attainment cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Met,
    Breached,
    /// Still counting (or paused, or waiting to start): breached once `deadline` has passed.
    Running {
        deadline: Option<Timestamp>,
    },
    /// No contractual target, or the clock stopped without one being owed (a ticket solved
    /// without a response).
    NotApplicable,
}

impl Outcome {
    /// The clock's outcome as far as the facts are known (`known`: they are complete through
    /// it). A clock evaluated as breached at an instant the facts do not reach yet (a restart
    /// after downtime evaluates at now, before the first poll) is still running as far as
    /// anyone knows: a reply just before its deadline may be on its way.
    fn of(clock: Option<&MetricClock>, known: Timestamp) -> Outcome {
        let Some(clock) = clock else { return Outcome::NotApplicable };
        match clock.state {
            ClockState::Met => Outcome::Met,
            ClockState::Breached => match clock.breached_at.or(clock.deadline) {
                Some(at) if at > known => Outcome::Running { deadline: Some(at) },
                _ => Outcome::Breached,
            },
            ClockState::Running => Outcome::Running { deadline: clock.deadline },
            ClockState::Paused | ClockState::NotStarted => Outcome::Running { deadline: None },
            ClockState::NotApplicable | ClockState::Stopped => Outcome::NotApplicable,
        }
    }

    /// The outcome as it stands at `now`: a running clock past its deadline has breached.
    pub fn at(self, now: Timestamp) -> Outcome {
        match self {
            Outcome::Running { deadline: Some(d) } if d <= now => Outcome::Breached,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Satisfaction {
    Good,
    Bad,
    /// Offered, unoffered, or not rated.
    Unrated,
}

/// The sum and number of waits of one side for the other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waits {
    pub seconds: i64,
    pub count: u32,
}

impl Waits {
    fn add(&mut self, seconds: i64) {
        self.seconds += seconds.max(0);
        self.count += 1;
    }
}

/// One ticket's contribution to the KPIs. Its names are `CompactString`s: short ones (all of a
/// policy's severities, tiers, types and product areas in practice) are kept inline, so a year's
/// report decodes a million rows without a heap allocation for them. They are stored as strings
/// are (postcard), so the stored shape is the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiRow {
    pub id: u64,
    pub created_at: Timestamp,
    pub severity: CompactString,
    /// False when the ticket had no severity and the default was used: reported as unclassified.
    pub classified: bool,
    pub tier: CompactString,
    /// The custom contract the ticket was judged under, if any.
    pub contract: Option<CompactString>,
    pub organization_id: Option<u64>,
    pub ticket_type: Option<CompactString>,
    pub product_area: Option<CompactString>,
    pub first_response: Outcome,
    pub resolution: Outcome,
    /// When the ticket last became solved (or closed), while it is.
    pub solved_at: Option<Timestamp>,
    /// The ticket asked engineering for help (a help-request rule matched it at some point).
    pub help_requested: bool,
    pub satisfaction: Satisfaction,
    /// Public comments after the opening one.
    pub replies: u32,
    /// From a customer's public comment (the first of a run) to the next public agent comment.
    pub support_waits: Waits,
    /// From an agent's public comment (the first of a run) to the customer's next public comment.
    pub customer_waits: Waits,
    /// A public agent comment linked to the documentation.
    pub docs_linked: bool,
    /// Clock time (business seconds on a business-hours clock) to the first substantive
    /// response, once it came.
    pub first_response_time: Option<i64>,
    /// Clock time to the solve (pauses left out), while the ticket is solved.
    pub resolution_time: Option<i64>,
}

/// What a row is made from, besides the clocks.
pub struct RowInputs<'a> {
    pub id: u64,
    pub created_at: Timestamp,
    pub organization_id: Option<u64>,
    /// The ticket's events with authors' roles as the directory knows them now.
    pub events: &'a [Event],
    pub rules: &'a FirstResponseRules,
    pub ticket_type: Option<String>,
    pub product_area: Option<String>,
    pub help_requested: bool,
    pub satisfaction: Option<&'a str>,
}

impl KpiRow {
    /// `known`: the instant the ticket's facts are complete through (the events export's
    /// position, or now right after a live read of the ticket).
    pub fn of(inputs: RowInputs, clocks: &TicketClocks, known: Timestamp) -> KpiRow {
        let mut replies = 0u32;
        let mut seen_public = false;
        let (mut support_waits, mut customer_waits) = (Waits::default(), Waits::default());
        let (mut customer_since, mut agent_since): (Option<Timestamp>, Option<Timestamp>) = (None, None);
        let mut solved_at = None;
        let mut docs_linked = false;
        for event in inputs.events {
            match event {
                Event::Comment {
                    at,
                    author_id,
                    role,
                    public: true,
                    ..
                } => {
                    if seen_public {
                        replies += 1;
                    }
                    seen_public = true;
                    if role.is_agent() && !inputs.rules.is_bot(*author_id) {
                        docs_linked |= matches!(event, Event::Comment { docs_link: true, .. });
                        if let Some(since) = customer_since.take() {
                            support_waits.add(at - since);
                        }
                        agent_since.get_or_insert(*at);
                    } else if *role == crate::sla::clock::Role::EndUser {
                        if let Some(since) = agent_since.take() {
                            customer_waits.add(at - since);
                        }
                        customer_since.get_or_insert(*at);
                    }
                }
                Event::Status { at, status } => {
                    let solved = matches!(status.as_str(), "solved" | "closed");
                    solved_at = match (solved, solved_at) {
                        (true, None) => Some(*at),
                        (true, kept) => kept,
                        (false, _) => None,
                    };
                }
                _ => {}
            }
        }
        let satisfaction = match inputs.satisfaction {
            Some("good") => Satisfaction::Good,
            Some("bad") => Satisfaction::Bad,
            _ => Satisfaction::Unrated,
        };
        // The time on the contractual clock (or, without a target, on the customer's schedule)
        // when its event came; a clock stopped without it has none.
        let time = |metric| {
            clocks
                .contract(metric)
                .filter(|c| c.completed_at.is_some() && !c.stopped)
                .map(|c| c.elapsed)
        };
        KpiRow {
            id: inputs.id,
            created_at: inputs.created_at,
            severity: clocks.severity.as_str().into(),
            classified: clocks.classified,
            tier: clocks.tier.as_str().into(),
            contract: clocks.contract.as_deref().map(CompactString::from),
            organization_id: inputs.organization_id,
            ticket_type: inputs.ticket_type.map(CompactString::from),
            product_area: inputs.product_area.map(CompactString::from),
            first_response: Outcome::of(clocks.contract(Metric::FirstResponse), known),
            resolution: Outcome::of(clocks.contract(Metric::Resolution), known),
            solved_at,
            help_requested: inputs.help_requested,
            satisfaction,
            replies,
            support_waits,
            customer_waits,
            docs_linked,
            first_response_time: time(Metric::FirstResponse),
            resolution_time: time(Metric::Resolution),
        }
    }
}
